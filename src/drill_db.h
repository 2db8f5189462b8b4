/*
 * drill_db: one drill DB's state machine (start, advance, verify, record, delete), shared
 * by drill.c; what it knows of a drill is on the DB's tags and the copy's result tag.
 */
#ifndef SNAPFERRY_DRILL_DB_H
#define SNAPFERRY_DRILL_DB_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "rds.h"

struct aws_client;
struct session;
struct result;

/* The newest available copy of one source DB (production account, DB id). */
struct drill_group {
	char		 account[13];
	char		*db;
	enum rds_kind	 kind;
	time_t		 newest, oldest, last_pass;
	char		*copy_id, *engine, *version;
	char		*drill_id;	/* "<NAME_PREFIX>-drill-<db>" */
	int		 busy;		/* a DB of that name exists (ours or not) */
};

/* One drill run: the groups, the counters, the result's "drills" list. */
struct drill_ctx {
	struct session		*f;
	struct result		*r;
	struct aws_client	*bc;
	time_t			 now;
	char			 run_id[32];
	struct drill_group	*g;
	size_t			 ng, capg;
	unsigned		 in_flight, queued, passed, failed, matched;
	int			 enomem, stopped;
	cJSON			*items;
};

/** drill_db_item(d, g, state, id, seconds, reason): one entry of the result's "drills"
 *  list (${seconds} < 0: none; ${reason} may be NULL). */
void	drill_db_item(struct drill_ctx *d, const struct drill_group *g, const char *state,
	    const char *id, long seconds, const char *reason);
/** drill_db_advance(d, g): describe drill DB ${g}->drill_id and move it on (writer,
 *  verification, result, deletion); sets ${g}->busy when it exists.  0, or -1 when ${d}->r
 *  is failed and the run stops. */
int	drill_db_advance(struct drill_ctx *d, struct drill_group *g);
/** drill_db_start(d, g): restore ${g}'s newest copy into ${g}->drill_id (an Aurora cluster
 *  gets its writer); AWS refusing it is a failed drill, recorded on the copy.  0, or -1 when
 *  the run stops. */
int	drill_db_start(struct drill_ctx *d, struct drill_group *g);

/** drill_db_class(engine, configured): the instance class of a drill DB of ${engine}:
 *  ${configured} when set, else the smallest sensible class of the engine family
 *  (db.t3.micro for MySQL, MariaDB and PostgreSQL, db.t4g.medium for Aurora, ...), else NULL
 *  (instances: the snapshot's own class; Aurora: no writer can be added). */
const char *drill_db_class(const char *engine, const char *configured);

/** drill_db_tag_value(buf, n, passed, when, seconds): "passed 2026-01-02T03:04:05Z 842" into
 *  ${buf} (RDS refuses commas in tag values: the fields are separated by spaces). */
void	drill_db_tag_value(char *buf, size_t n, int passed, time_t when, long seconds);
/** drill_db_tag_parse(v, passed, when, seconds): read a drill-result value; 0, or -1 when it
 *  is not one. */
int	drill_db_tag_parse(const char *v, int *passed, time_t *when, long *seconds);

#endif

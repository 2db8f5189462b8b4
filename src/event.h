/*
 * event: parses an invocation payload (an EventBridge event from RDS or
 * the scheduler, or a manual action) and classifies it.  Matches RDS
 * events on EventID, never on the Message text.
 */
#ifndef SNAPFERRY_EVENT_H
#define SNAPFERRY_EVENT_H

#include <stddef.h>

#include "arn.h"

enum event_kind {
	EVENT_MALFORMED = 0,		/* not JSON, not an object, missing or mistyped fields */
	EVENT_UNKNOWN,			/* well-formed but not one snapferry acts on (see reason) */
	EVENT_SNAPSHOT_CREATED,		/* RDS DB Snapshot Event, RDS-EVENT-0042 / 0091 */
	EVENT_CLUSTER_SNAPSHOT_CREATED,	/* RDS DB Cluster Snapshot Event, RDS-EVENT-0075 / 0169 */
	EVENT_COPY_FINISHED,		/* RDS DB Snapshot Event, RDS-EVENT-0197 / 0060 */
	EVENT_SCHEDULED,		/* aws.events Scheduled Event */
	EVENT_MANUAL_SWEEP,		/* {"action":"sweep"} */
	EVENT_MANUAL_ADVANCE,		/* {"action":"advance","snapshot":...} */
	EVENT_MANUAL_RESTORE,		/* {"action":"restore","db":...[,"region":...]} */
	EVENT_MANUAL_INFLIGHT,		/* {"action":"inflight"} (inflight.h) */
	EVENT_MANUAL_DRILL,		/* {"action":"drill"[,"db":...][,"region":...]} (keeper) */
	EVENT_MANUAL_CHAIN		/* {"action":"chain"} (keeper, keeper_chain.h) */
};
/* The last kind: a new one goes before it, or becomes it (checks of the range use this). */
#define EVENT_KIND_LAST	EVENT_MANUAL_CHAIN

enum snap_kind {
	SNAP_NONE = 0,		/* the event names no snapshot */
	SNAP_INSTANCE,		/* DB instance snapshot (":snapshot:") */
	SNAP_CLUSTER		/* DB cluster snapshot (":cluster-snapshot:") */
};

struct event {
	enum event_kind	 kind;
	int		 invalid;	/* a manual action snapferry can't carry out as given */
	char		 reason[256];	/* why: unknown, malformed or invalid */

	/* EventBridge envelope (NULL when absent) */
	char	*id, *detail_type, *source, *account, *region, *time;
	/* detail */
	char	*source_arn, *source_identifier, *source_type, *event_id;

	/* The snapshot concerned (created, copied, or named by a manual advance). */
	enum snap_kind	 snap_kind;
	char		*snapshot;	/* its id, e.g. "rds:mydb-2024-05-01-00-05" */
	char		*snapshot_arn;	/* its ARN when known */
	struct arn	 arn;		/* snapshot_arn split (fields NULL when no ARN) */

	/* Manual actions */
	char	*action;		/* "sweep", "advance", "restore", "inflight" */
	char	*db;			/* restore: the source DB instance or cluster id */
	char	*target;		/* restore: the id of the new DB, or NULL */
	char	*db_account;		/* restore: the 12-digit production account whose copies
					 * of ${db} to restore, or NULL (see restore_db) */
	char	*drill_region;		/* drill: the Region named, or NULL (keeper checks it) */
	char	*restore_region;	/* restore: the Region named (a Region's shape), or NULL:
					 * where to restore (see restore_db) */
};

/** event_parse(json, len, ev): parse and classify ${json}; always fills ${ev}
 *  (EVENT_MALFORMED with a reason for bad input); -1 only on ENOMEM. */
int	event_parse(const char *json, size_t len, struct event *ev);
/** event_clean(ev): release the fields of ${ev}; safe on a zeroed or freed event. */
void	event_clean(struct event *ev);
/** event_kind_name(k): "snapshot-created", "copy-finished", "sweep", ... */
const char *event_kind_name(enum event_kind k);
/** event_snap_kind_name(k): "instance", "cluster" or NULL. */
const char *event_snap_kind_name(enum snap_kind k);
/** event_foreign(ev, account, region): 1 when ${ev} (its envelope or its snapshot ARN)
 *  belongs to another account or region; ${account} may be NULL (unknown: region only). */
int	event_foreign(const struct event *ev, const char *account, const char *region);

#endif

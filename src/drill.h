/*
 * drill: the keeper's restore drills.  A drill restores the newest backup copy of a source
 * DB into "<NAME_PREFIX>-drill-<db>", checks what AWS reports of it, records the result and
 * deletes it.  It is a state machine across invocations with no waiting, recorded on AWS
 * resources only (tags of the drill DB and the snapferry:drill-result tag of the copy), so
 * any invocation or the sweep can advance it and nothing is done twice:
 *   restoring -> verified (passed or failed) -> deleting -> gone.
 */
#ifndef SNAPFERRY_DRILL_H
#define SNAPFERRY_DRILL_H

#include <stddef.h>
#include <time.h>

struct session;
struct result;

/* Tags of a drill DB (and its Aurora writer), and the one tag the keeper puts on a copy. */
#define DRILL_TAG_RUN		"snapferry:drill"
#define DRILL_TAG_STARTED	"snapferry:drill-started"
#define DRILL_TAG_COPY		"snapferry:drill-copy"
#define DRILL_TAG_RESULT	"snapferry:drill-result"

/** drill_run(f, db, region, start, now, r): advance every drill in flight in the keeper's
 *  account and Region and, with ${start}, start drills of the newest copy of each selected
 *  source DB (DRILL_INCLUDE_PATTERN, and ${db} when not NULL) up to DRILL_CONCURRENCY in
 *  flight; ${region} (NULL = the keeper's) must be the keeper's own Region, else ${r} fails
 *  Event.Invalid.  Adds "drills" to ${r}'s extra members; with ${start} it also decides the
 *  outcome (pending while drills are in flight), without it (the sweep) it leaves it. */
void	drill_run(struct session *f, const char *db, const char *region, int start,
	    time_t now, struct result *r);

#endif

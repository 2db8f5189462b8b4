/*
 * keeper: the backup account's own deployment of snapferry (SNAPFERRY_MODE=keeper).  It
 * runs with its own role's credentials, never assumes a role and never reaches
 * production.  It is the only one of snapferry's principals that deletes or restores
 * backup copies, and every destructive decision rests on what AWS records about a copy
 * and nobody can change (SourceDBSnapshotIdentifier / SourceDBClusterSnapshotArn,
 * DBInstanceIdentifier / DBClusterIdentifier, OriginalSnapshotCreateTime /
 * SnapshotCreateTime), never on a tag: the lineage tags are only cross-checked.
 */
#ifndef SNAPFERRY_KEEPER_H
#define SNAPFERRY_KEEPER_H

#include <time.h>

#include "keeper_copy.h"
#include "rds.h"

struct event;
struct session;
struct result;

/* A sweep stops starting new work when less than this is left before the deadline. */
#define KEEPER_ITEM_MS		3000
/* At most this many entries per list of the result (mismatches, failed copies, DBs). */
#define KEEPER_MAX_ITEMS	50

/** keeper_run(f, ev, now, r): one event on the keeper: a sweep (scheduled or manual), a
 *  copy-finished event of one of snapferry's copies, or a manual restore; the rest are
 *  ignored with a reason. */
void	keeper_run(struct session *f, const struct event *ev, time_t now, struct result *r);

/** keeper_sweep(f, now, r): failed copies, retention (per production account, region and
 *  DB, never below KEEPER_MIN_RETENTION_DAYS nor the newest RETENTION_MIN_COPIES),
 *  freshness metrics, lineage cross-checks and, with RESTORE on, the restore of the
 *  newest copy of each DB not yet restored.  Listings page by page. */
void	keeper_sweep(struct session *f, time_t now, struct result *r);

/** keeper_restore_target(f, bc, kc, r): the automatic restore's target for copy ${kc}:
 *  "<prefix>-<db>", or names_restore_id_of's when available copies of that DB name come
 *  from more than one (production account, region) (the sweep decides alike).  malloc'd;
 *  NULL with ${r} failed. */
char	*keeper_restore_target(struct session *f, struct aws_client *bc,
	    const struct keeper_copy *kc, struct result *r);

#endif

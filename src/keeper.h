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

#include "rds.h"

struct event;
struct ferry;
struct result;

/* A sweep stops starting new work when less than this is left before the deadline. */
#define KEEPER_ITEM_MS		3000
/* At most this many entries per list of the result (mismatches, failed copies, DBs). */
#define KEEPER_MAX_ITEMS	50

/* What AWS records about a copy, and whether its lineage tags agree. */
struct keeper_copy {
	int		 ours;		/* one of snapferry's backup copies (prefix and tags) */
	int		 attributed;	/* account, region, db and time known from AWS */
	char		 account[13];	/* production account of the source ARN */
	char		 region[32];	/* region of the source ARN */
	const char	*db;		/* DBInstanceIdentifier / DBClusterIdentifier */
	time_t		 when;		/* OriginalSnapshotCreateTime, clusters SnapshotCreateTime */
	int		 available, failed;
	char		 mismatch[200];	/* why the tags disagree with AWS, "" when they agree */
};

/** keeper_classify(prefix, s, out): what AWS says about copy ${s} and whether its lineage
 *  tags (source ARN's account and region, source DB, source time) agree with it. */
void	keeper_classify(const char *prefix, const struct rds_snapshot *s,
	    struct keeper_copy *out);

/** keeper_run(f, ev, now, r): one event on the keeper: a sweep (scheduled or manual), a
 *  copy-finished event of one of snapferry's copies, or a manual restore; the rest are
 *  ignored with a reason. */
void	keeper_run(struct ferry *f, const struct event *ev, time_t now, struct result *r);

/** keeper_sweep(f, now, r): failed copies, retention (per production account, region and
 *  DB, never below KEEPER_MIN_RETENTION_DAYS nor the newest RETENTION_MIN_COPIES),
 *  freshness metrics, lineage cross-checks and, with RESTORE on, the restore of the
 *  newest copy of each DB not yet restored.  Listings page by page. */
void	keeper_sweep(struct ferry *f, time_t now, struct result *r);

#endif

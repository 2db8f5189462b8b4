/*
 * keeper_copy: what the keeper believes about a backup copy, from what AWS records about it
 * and nobody can change (SourceDBSnapshotIdentifier / SourceDBClusterSnapshotArn,
 * DBInstanceIdentifier / DBClusterIdentifier, OriginalSnapshotCreateTime /
 * SnapshotCreateTime), and whether its lineage tags agree with it.
 */
#ifndef SNAPFERRY_KEEPER_COPY_H
#define SNAPFERRY_KEEPER_COPY_H

#include <time.h>

#include "rds.h"

/*
 * A copy the keeper of one Region chained from the backup copy of another Region
 * (keeper_chain) carries this tag, the source copy's Region, besides the same lineage.
 * AWS records the source copy's ARN (this account, that Region) as its source.
 */
#define KEEPER_TAG_CHAINED_FROM	"snapferry:chained-from"

/* What AWS records about a copy, and whether its lineage tags agree. */
struct keeper_copy {
	int		 ours;		/* one of snapferry's backup copies (prefix and tags) */
	int		 chained;	/* copied by a keeper from this account's copy in another
					 * Region: account and region below are the lineage's,
					 * bound to AWS's record by the source copy's id */
	int		 attributed;	/* account, region, db and time known from AWS */
	char		 account[13];	/* production account of the source ARN */
	char		 region[32];	/* region of the source ARN */
	const char	*db;		/* DBInstanceIdentifier / DBClusterIdentifier */
	time_t		 when;		/* OriginalSnapshotCreateTime, clusters SnapshotCreateTime */
	int		 available, failed;
	char		 mismatch[200];	/* why the tags disagree with AWS, "" when they agree */
};

/** keeper_copy_classify(prefix, s, out): what AWS says about copy ${s} and whether its lineage
 *  tags (source ARN's account and region, source DB, source time) agree with it.  A chained
 *  copy (KEEPER_TAG_CHAINED_FROM) agrees when AWS records as its source a copy of this
 *  account in the Region that tag names, and that copy's id is the one snapferry gives the
 *  backup copy of the lineage's source (names_backup_id, or an attempt of it, retry_id). */
void	keeper_copy_classify(const char *prefix, const struct rds_snapshot *s,
	    struct keeper_copy *out);

#endif

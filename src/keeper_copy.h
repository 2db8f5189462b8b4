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

/** keeper_copy_classify(prefix, s, out): what AWS says about copy ${s} and whether its lineage
 *  tags (source ARN's account and region, source DB, source time) agree with it. */
void	keeper_copy_classify(const char *prefix, const struct rds_snapshot *s,
	    struct keeper_copy *out);

#endif

/*
 * restore: restoring snapferry's backup copies in the backup account — the
 * restore that finishes a ferry when RESTORE is on (an Aurora cluster with its
 * writer instance), and the disaster-day restore action {"action":"restore"}.
 */
#ifndef SNAPFERRY_RESTORE_H
#define SNAPFERRY_RESTORE_H

#include "rds.h"

struct aws_client;
struct config;
struct session;
struct result;

/** restore_writer_class(cfg, engine): the instance class of the writer of a restored Aurora
 *  cluster of ${engine}: RESTORE_INSTANCE_CLASS, else the engine family's default, else
 *  NULL (no default: the restore is refused). */
const char *restore_writer_class(const struct config *cfg, const char *engine);
/** restore_writer_id(cluster_id): the id of the writer instance snapferry adds to a restored
 *  cluster, "<cluster_id>-instance-1" capped like every DB id. malloc'd, NULL on ENOMEM. */
char	*restore_writer_id(const char *cluster_id);
/**
 * restore_copy(f, c, kind, snap_id, engine, version, target, s_arn, db, r): restore backup
 * copy ${snap_id} (of source ${s_arn}, DB ${db}; engine ${engine} at ${version}, both as
 * the copy reports them) into ${target} with client ${c} of the backup account, tagged
 * with its lineage; a cluster gets its writer instance.  Never over an
 * existing DB.  1 restored (or would, in a dry run), 0 not (target exists), -1 failure
 * in ${r}.
 */
int	restore_copy(struct session *f, struct aws_client *c, enum rds_kind kind,
	    const char *snap_id, const char *engine, const char *version, const char *target,
	    const char *s_arn, const char *db, struct result *r);
/**
 * restore_db(f, db_id, account, region, target, r): (restore_db.c) restore the newest
 * available backup copy of source DB ${db_id} into ${target} (NULL =
 * "<NAME_PREFIX>-<db_id>"), never over an existing DB, in Region ${region} of the backup
 * account.  ${region} NULL: under Lambda the keeper's own Region; on the CLI path
 * (f->local) the one Region of BACKUP_REGIONS (else AWS_REGION) with copies, several
 * failing Snapferry.Ambiguous (naming them).  Under Lambda, a ${region} other than the
 * keeper's own is Event.Invalid.  Among the copies whose lineage names a source of DB
 * ${db_id}: those of production account ${account}; NULL: this function's own account
 * when it can be learned and has copies, else the only production account with copies;
 * copies of several accounts, none of them ours, fail Snapferry.Ambiguous (naming them).
 * Of an account's copies, those of a source in the restore's Region, else of its one
 * other source Region (several: Snapferry.Ambiguous).
 */
void	restore_db(struct session *f, const char *db_id, const char *account,
	    const char *region, const char *target, struct result *r);

#endif

/*
 * restore: restoring snapferry's backup copies in the backup account.  Owns the
 * restore of one copy (never over an existing DB; an Aurora cluster gets its writer
 * instance); which copy the disaster-day restore action takes is restore_db.c's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "ferry.h"
#include "session.h"
#include "names.h"
#include "restore.h"
#include "result.h"
#include "sts.h"

/* snapferry:role of a DB restored from a backup copy. */
#define RESTORE_ROLE	"restore"

/* ---- restoring a backup copy ------------------------------------------------------ */

/*
 * The instance class of the writer of a restored Aurora cluster when
 * RESTORE_INSTANCE_CLASS is unset, per engine family: db.r5.large is the
 * smallest memory-optimised class that every supported Aurora MySQL and
 * Aurora PostgreSQL version offers in every commercial region (the Graviton
 * and burstable classes depend on version and region).  Another engine has
 * no default: the restore is refused until RESTORE_INSTANCE_CLASS is set,
 * rather than leaving a cluster nobody can connect to.
 */
static const struct {
	const char	*engine;
	const char	*instance_class;
} writer_classes[] = {
	{ "aurora-mysql", "db.r5.large" },
	{ "aurora-postgresql", "db.r5.large" },
	{ "aurora", "db.r5.large" },		/* Aurora MySQL 5.6-compatible */
};

const char *
restore_writer_class(const struct config *cfg, const char *engine)
{
	size_t i;

	if (cfg->restore_instance_class != NULL)
		return (cfg->restore_instance_class);
	for (i = 0; engine != NULL && i < sizeof(writer_classes) / sizeof(writer_classes[0]);
	    i++)
		if (strcmp(engine, writer_classes[i].engine) == 0)
			return (writer_classes[i].instance_class);
	return (NULL);
}

char *
restore_writer_id(const char *cluster_id)
{
	static const char suffix[] = "-instance-1";
	size_t n = strlen(cluster_id);
	char *raw, *s;

	if ((raw = malloc(n + sizeof(suffix))) == NULL)
		return (NULL);
	memcpy(raw, cluster_id, n);
	memcpy(raw + n, suffix, sizeof(suffix));
	s = names_sanitize(raw, NAMES_MAX_DB);
	free(raw);
	return (s);
}

/* The tags of a restored DB: who made it, from which source (its ARN in parts: ${at},
 * names_arn_tags_clean it). ${tags} has room for RESTORE_MAX_TAGS.  0, -1 ENOMEM. */
#define RESTORE_MAX_TAGS	(4 + NAMES_ARN_PARTS)
static int
restore_tags(const char *s_arn, const char *db, struct names_arn_tags *at,
    struct rds_tag *tags, size_t *n)
{
	size_t i = names_base_tags(RESTORE_ROLE, tags), k;

	memset(at, 0, sizeof(*at));
	if (s_arn != NULL) {
		if (names_arn_tags(s_arn, at) != 0)
			return (-1);
		for (k = 0; k < at->n; k++)
			tags[i++] = at->tag[k];
	}
	if (db != NULL) {
		tags[i].key = NAMES_TAG_SOURCE_DB;
		tags[i++].value = (char *)(uintptr_t)db;
	}
	*n = i;
	return (0);
}

/*
 * add_writer(f, c, cluster, engine, cls, tags, nt, r): the writer instance of a
 * restored Aurora cluster.  An instance of that id already in ${cluster} is
 * success.  0, or -1 with ${r} set.
 */
static int
add_writer(struct session *f, struct aws_client *c, const char *cluster, const char *engine,
    const char *cls, const struct rds_tag *tags, size_t nt, struct result *r)
{
	struct rds_instance_opts o;
	struct aws_error e;
	struct rds_db d;
	char *wid;
	int rc = -1;

	memset(&e, 0, sizeof(e));
	if ((wid = restore_writer_id(cluster)) == NULL) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		return (-1);
	}
	if (f->cfg->dry_run) {
		result_step(r, "would:CreateDBInstance %s in cluster %s class=%s", wid, cluster,
		    cls);
		free(wid);
		return (0);
	}
	memset(&o, 0, sizeof(o));
	o.db_id = wid;
	o.cluster_id = cluster;
	o.engine = engine;
	o.instance_class = cls;
	o.tags = tags;
	o.n_tags = nt;
	if (rds_create_cluster_instance(c, &o, &e) == 0) {
		result_step(r, "CreateDBInstance %s in cluster %s class=%s (writer)", wid,
		    cluster, cls);
		rc = 0;
		goto done;
	}
	if (!aws_error_has(&e, "AlreadyExists")) {
		session_fail_aws(f, r, &e, "CreateDBInstance", wid, "allow rds:CreateDBInstance "
		    "to BACKUP_ROLE_ARN (backup-account.yaml grants it with Restore=on) and check "
		    "RESTORE_INSTANCE_CLASS");
		goto done;
	}
	/* A concurrent invocation, or an earlier one, made it: fine if it is in ${cluster}. */
	aws_error_clear(&e);
	if ((rc = rds_describe_db(c, RDS_INSTANCE, wid, &d, &e)) == -1) {
		session_fail_aws(f, r, &e, "DescribeDBInstances", wid,
		    "allow rds:DescribeDBInstances to BACKUP_ROLE_ARN");
		goto done;
	}
	if (rc == 1 && d.cluster_id != NULL && strcmp(d.cluster_id, cluster) == 0) {
		result_step(r, "CreateDBInstance %s: already in cluster %s", wid, cluster);
		rc = 0;
	} else {
		session_count_metric(f, &f->counts.failed, "CopiesFailed");
		result_fail(r, "Snapferry.NameConflict", "DB instance %s already exists in the "
		    "backup account outside cluster %s; remove or rename it so that the "
		    "restored cluster gets its writer instance", wid, cluster);
		rc = -1;
	}
	rds_db_clean(&d);
done:
	aws_error_clear(&e);
	free(wid);
	return (rc);
}

/*
 * start_restore(f, c, kind, snap_id, engine, version, target, tags, nt, r): the
 * RestoreDB* call (or, in a dry run, the line saying it).  1 made, 0 the
 * target appeared meanwhile, -1 failure in ${r}.
 */
static int
start_restore(struct session *f, struct aws_client *c, enum rds_kind kind,
    const char *snap_id, const char *engine, const char *version, const char *target,
    const struct rds_tag *tags, size_t nt, struct result *r)
{
	const struct config *cfg = f->cfg;
	struct rds_restore_opts o;
	struct aws_error e;

	if (cfg->dry_run) {
		result_step(r, "would:%s %s -> %s", rds_op_name(kind, RDS_OP_RESTORE), snap_id, target);
		return (1);
	}
	memset(&e, 0, sizeof(e));
	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.snapshot = snap_id;
	o.db_id = target;
	o.engine = engine;
	o.engine_version = kind == RDS_CLUSTER ? version : NULL;
	/* A cluster takes none: RESTORE_INSTANCE_CLASS goes to its writer. */
	o.instance_class = kind == RDS_INSTANCE ? cfg->restore_instance_class : NULL;
	o.subnet_group = cfg->restore_subnet_group;
	o.sg_ids = cfg->restore_sg_ids;
	o.n_sg_ids = cfg->n_restore_sg_ids;
	o.tags = tags;
	o.n_tags = nt;
	if (rds_restore(c, &o, &e) != 0) {
		if (aws_error_has(&e, "AlreadyExists")) {
			/* A concurrent invocation restores it (and adds a cluster's writer). */
			result_step(r, "restore skipped: DB %s appeared meanwhile", target);
			aws_error_clear(&e);
			return (0);
		}
		session_fail_aws(f, r, &e, rds_op_name(kind, RDS_OP_RESTORE), snap_id,
		    "allow the restore (rds:RestoreDBInstanceFromDBSnapshot / "
		    "rds:RestoreDBClusterFromSnapshot, rds:CreateDBInstance for Aurora, "
		    "kms:CreateGrant on BACKUP_KMS_KEY_ID) to BACKUP_ROLE_ARN and check RESTORE_* "
		    "settings");
		return (-1);
	}
	result_step(r, "%s %s -> %s", rds_op_name(kind, RDS_OP_RESTORE), snap_id, target);
	return (1);
}

/*
 * restore_cluster(f, c, snap_id, engine, version, target, tags, nt, r): an Aurora cluster
 * and its writer instance (a cluster alone can't be connected to).  A cluster
 * that snapferry restored earlier but that has no instance yet gets its writer
 * now.  1 restored (or would), 0 not (target exists), -1 failure in ${r}.
 */
static int
restore_cluster(struct session *f, struct aws_client *c, const char *snap_id,
    const char *engine, const char *version, const char *target, const struct rds_tag *tags,
    size_t nt, struct result *r)
{
	const struct config *cfg = f->cfg;
	const char *cls = restore_writer_class(cfg, engine);
	struct aws_error e;
	struct rds_db d;
	int rc;

	memset(&e, 0, sizeof(e));
	if (cls == NULL) {
		session_count_metric(f, &f->counts.failed, "CopiesFailed");
		result_fail(r, "Snapferry.RestoreConfig", "restoring %s needs an instance class "
		    "for the writer of cluster %s, and engine %s has no default: set "
		    "RESTORE_INSTANCE_CLASS", snap_id, target, engine ? engine : "(unknown)");
		return (-1);
	}
	if ((rc = rds_describe_db(c, RDS_CLUSTER, target, &d, &e)) == -1) {
		session_fail_aws(f, r, &e, "DescribeDBClusters", target,
		    "allow rds:DescribeDBClusters to BACKUP_ROLE_ARN");
		return (-1);
	}
	if (rc == 1) {
		if (!names_is_snapferry(d.tags, d.n_tags, RESTORE_ROLE) ||
		    d.n_members > 0) {
			result_step(r, "restore skipped: DB cluster %s already exists in the "
			    "backup account (snapferry never restores over an existing DB)",
			    target);
			rds_db_clean(&d);
			return (0);
		}
		/* Ours, without an instance: an earlier restore stopped before its writer. */
		result_step(r, "DB cluster %s (restored by snapferry) has no instance yet",
		    target);
		if (d.engine != NULL)
			engine = d.engine;
	} else if ((rc = start_restore(f, c, RDS_CLUSTER, snap_id, engine, version, target,
	    tags, nt, r)) != 1)
		return (rc);
	/* When this fails, the next trigger finds the cluster without instance. */
	rc = add_writer(f, c, target, engine, cls, tags, nt, r);
	rds_db_clean(&d);
	if (rc != 0)
		return (-1);
	if (!cfg->dry_run)
		xstrdup_replace(&r->restored, target);
	return (1);
}

int
restore_copy(struct session *f, struct aws_client *c, enum rds_kind kind,
    const char *snap_id, const char *engine, const char *version, const char *target,
    const char *s_arn, const char *db, struct result *r)
{
	struct rds_tag tags[RESTORE_MAX_TAGS];
	struct names_arn_tags at;
	struct aws_error e;
	size_t nt;
	int rc;

	if (restore_tags(s_arn, db, &at, tags, &nt) != 0) {
		result_fail(r, "Snapferry.Internal", "out of memory, or source ARN over %d "
		    "characters", NAMES_ARN_PARTS * NAMES_TAG_VALUE_MAX);
		return (-1);
	}
	if (kind == RDS_CLUSTER) {
		rc = restore_cluster(f, c, snap_id, engine, version, target, tags, nt, r);
		goto done;
	}
	memset(&e, 0, sizeof(e));
	if ((rc = rds_db_exists(c, kind, target, &e)) == -1) {
		session_fail_rds(f, r, &e, kind, RDS_OP_DBS, target, SESSION_BACKUP_ROLE);
		goto done;
	}
	if (rc == 1) {
		result_step(r, "restore skipped: DB %s already exists in the backup account "
		    "(snapferry never restores over an existing DB)", target);
		rc = 0;
		goto done;
	}
	if ((rc = start_restore(f, c, kind, snap_id, engine, NULL, target, tags, nt, r)) == 1 &&
	    !f->cfg->dry_run)
		xstrdup_replace(&r->restored, target);
done:
	names_arn_tags_clean(&at);
	return (rc);
}

/*
 * rds: the RDS operations snapferry uses, for DB instance snapshots and
 * DB cluster snapshots alike (the kind selects the API family).
 */
#ifndef SNAPFERRY_RDS_H
#define SNAPFERRY_RDS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libxml/tree.h>

struct aws_client;
struct aws_error;

enum rds_kind { RDS_INSTANCE = 0, RDS_CLUSTER = 1 };

struct rds_tag {
	char	*key;
	char	*value;
};

struct rds_snapshot {
	enum rds_kind	 kind;
	char		*id;		/* DBSnapshotIdentifier / DBClusterSnapshotIdentifier */
	char		*arn;		/* DBSnapshotArn / DBClusterSnapshotArn */
	char		*db_id;		/* DBInstanceIdentifier / DBClusterIdentifier */
	char		*status;	/* "available", "creating", "copying", ... */
	char		*snapshot_type;	/* "manual", "automated", "shared", "awsbackup", ... */
	char		*engine;
	char		*engine_mode;	/* clusters only, may be NULL */
	char		*engine_version;
	char		*kms_key_id;	/* NULL when unencrypted */
	int		 encrypted;	/* Encrypted / StorageEncrypted */
	char		*option_group;	/* instances only, may be NULL */
	char		*tde_credential_arn; /* instances only, may be NULL */
	char		*storage_type;
	char		*source_arn;	/* SourceDBSnapshotIdentifier / SourceDBClusterSnapshotArn */
	char		*create_time;	/* SnapshotCreateTime as sent (ISO-8601) */
	time_t		 created;	/* parsed SnapshotCreateTime, 0 if absent */
	char		*original_time;	/* OriginalSnapshotCreateTime (instances), or NULL */
	int		 percent;	/* PercentProgress */
	struct rds_tag	*tags;		/* TagList when the response carried it */
	size_t		 n_tags;
	int		 has_tag_list;	/* 1: the answer had a TagList, even an empty one */
};

/** rds_snapshot_copy(dst, src): ${dst} a deep copy of ${src}; 0, or -1 (out of memory,
 *  ${dst} zeroed). */
int	rds_snapshot_copy(struct rds_snapshot *dst, const struct rds_snapshot *src);
/** rds_snapshot_clean(s): free the fields of ${s}. */
void	rds_snapshot_clean(struct rds_snapshot *s);
/** rds_tags_free(tags, n): free an array of tags. */
void	rds_tags_free(struct rds_tag *tags, size_t n);
/** rds_tag_get(tags, n, key): value of ${key} or NULL. */
const char *rds_tag_get(const struct rds_tag *tags, size_t n, const char *key);

/** rds_describe_snapshot(c, kind, id_or_arn, out, err): 1 found (${out} filled), 0 not found, -1 error.
 *  Finds manual, automated, awsbackup and (by ARN) shared snapshots. */
int	rds_describe_snapshot(struct aws_client *c, enum rds_kind kind,
	    const char *id_or_arn, struct rds_snapshot *out, struct aws_error *err);

struct rds_list_opts {
	const char	*snapshot_type;	/* NULL = automated + manual; or "manual", "automated", "shared", "awsbackup" */
	const char	*db_id;		/* NULL = all DBs */
	int		 include_shared;
	int		 max_records;	/* page size, 20..100; 0 = 100 */
	const char * const *ids;	/* with n_ids > 0: only these snapshot ids (a Filter) */
	size_t		 n_ids;
};
/** Callback for each snapshot of a page; return non-zero to stop the listing. */
typedef int (*rds_snapshot_cb)(const struct rds_snapshot *s, void *arg);
/** rds_list_snapshots(c, kind, opts, cb, arg, err): page through every match, Marker by Marker,
 *  keeping one page in memory; 0 (also when ${cb} stopped it), or -1 with ${err}. */
int	rds_list_snapshots(struct aws_client *c, enum rds_kind kind,
	    const struct rds_list_opts *opts, rds_snapshot_cb cb, void *arg,
	    struct aws_error *err);

/** rds_copy_snapshot(c, kind, source, target, kms_key_id, tags, n_tags, out, err):
 *  CopyDB(Cluster)Snapshot; ${kms_key_id} may be NULL; ${out} may be NULL. 0 or -1. */
int	rds_copy_snapshot(struct aws_client *c, enum rds_kind kind,
	    const char *source, const char *target, const char *kms_key_id,
	    const struct rds_tag *tags, size_t n_tags, struct rds_snapshot *out,
	    struct aws_error *err);

/** rds_modify_share(c, kind, id, account, add, err): add (${add}=1) or remove ${account}
 *  from the "restore" attribute. 0 or -1. */
int	rds_modify_share(struct aws_client *c, enum rds_kind kind, const char *id,
	    const char *account, int add, struct aws_error *err);
/** rds_shared_accounts(c, kind, id, accounts, n, err): the "restore" attribute values
 *  (NULL-free array of malloc'd strings). 0 or -1. */
int	rds_shared_accounts(struct aws_client *c, enum rds_kind kind, const char *id,
	    char ***accounts, size_t *n, struct aws_error *err);
/** rds_strv_free(v, n): free an array of strings. */
void	rds_strv_free(char **v, size_t n);

/** rds_delete_snapshot(c, kind, id, err): DeleteDB(Cluster)Snapshot. 0 or -1. */
int	rds_delete_snapshot(struct aws_client *c, enum rds_kind kind, const char *id,
	    struct aws_error *err);

/** rds_add_tags(c, arn, tags, n, err): AddTagsToResource. 0 or -1. */
int	rds_add_tags(struct aws_client *c, const char *arn, const struct rds_tag *tags,
	    size_t n, struct aws_error *err);
/** rds_list_tags(c, arn, tags, n, err): ListTagsForResource. 0 or -1. */
int	rds_list_tags(struct aws_client *c, const char *arn, struct rds_tag **tags,
	    size_t *n, struct aws_error *err);

struct rds_restore_opts {
	enum rds_kind	 kind;
	const char	*snapshot;	/* id or ARN */
	const char	*db_id;		/* new DB instance / cluster id */
	const char	*engine;	/* required for clusters */
	const char	*engine_version;	/* clusters: the snapshot's (NULL = not sent) */
	const char	*instance_class;	/* NULL = snapshot's */
	const char	*subnet_group;		/* NULL = default */
	char * const	*sg_ids;
	size_t		 n_sg_ids;
	const struct rds_tag *tags;
	size_t		 n_tags;
	const char	*backup_retention;	/* BackupRetentionPeriod, NULL = not sent */
	int		 no_deletion_protection;	/* 1: DeletionProtection=false */
	/* Always sent: PubliclyAccessible=false (instances). */
};
/** rds_restore(c, opts, err): RestoreDBInstanceFromDBSnapshot / RestoreDBClusterFromSnapshot. 0 or -1. */
int	rds_restore(struct aws_client *c, const struct rds_restore_opts *opts,
	    struct aws_error *err);

/** rds_db_exists(c, kind, db_id, err): DescribeDBInstances / DescribeDBClusters:
 *  1 exists, 0 not found, -1 error. */
int	rds_db_exists(struct aws_client *c, enum rds_kind kind, const char *db_id,
	    struct aws_error *err);

/* A DB instance or DB cluster as DescribeDBInstances / DescribeDBClusters report it. */
struct rds_db {
	enum rds_kind	 kind;
	char		*id;		/* DBInstanceIdentifier / DBClusterIdentifier */
	char		*status;	/* DBInstanceStatus / Status */
	char		*engine;
	char		*cluster_id;	/* instances: DBClusterIdentifier, NULL outside a cluster */
	char		**members;	/* clusters: the DBInstanceIdentifier of each DBClusterMember */
	size_t		 n_members;
	struct rds_tag	*tags;		/* TagList */
	size_t		 n_tags;
	char		*arn;		/* DBInstanceArn / DBClusterArn */
	char		*engine_version;
	char		*storage_type;	/* StorageType, may be NULL */
	char		*address;	/* Endpoint/Address (instances), Endpoint (clusters) */
	int		 port;		/* Endpoint/Port (instances), Port (clusters); 0 unknown */
};
/** rds_delete_db(c, kind, db_id, automated, err): DeleteDBInstance / DeleteDBCluster with
 *  SkipFinalSnapshot, and DeleteAutomatedBackups when ${automated}. 0 or -1. */
int	rds_delete_db(struct aws_client *c, enum rds_kind kind, const char *db_id,
	    int automated, struct aws_error *err);
/** rds_db_clean(d): free the fields of ${d}. */
void	rds_db_clean(struct rds_db *d);
/** rds_describe_db(c, kind, db_id, out, err): DescribeDBInstances / DescribeDBClusters of one
 *  id: 1 found (${out} filled), 0 not found, -1 error. */
int	rds_describe_db(struct aws_client *c, enum rds_kind kind, const char *db_id,
	    struct rds_db *out, struct aws_error *err);

struct rds_instance_opts {
	const char	*db_id;		/* new DB instance id */
	const char	*cluster_id;	/* the Aurora cluster it joins */
	const char	*engine;	/* the cluster's engine */
	const char	*instance_class;
	const struct rds_tag *tags;
	size_t		 n_tags;
	/* Always sent: PubliclyAccessible=false. */
};
/** rds_create_cluster_instance(c, opts, err): CreateDBInstance of an instance in an Aurora
 *  cluster (the cluster's first becomes its writer). 0 or -1. */
int	rds_create_cluster_instance(struct aws_client *c, const struct rds_instance_opts *opts,
	    struct aws_error *err);

/** rds_option_group_blocks_share(c, name, err): DescribeOptionGroups: 1 when an option
 *  keeps a snapshot from being shared (persistent or permanent, except Oracle's Timezone
 *  and OLS), 0 otherwise, -1 error. */
int	rds_option_group_blocks_share(struct aws_client *c, const char *name,
	    struct aws_error *err);
/** rds_option_group_blocking(c, name, blocking, err): rds_option_group_blocks_share, and
 *  when ${blocking} is non-NULL, *blocking gets the blocking options' names, ", "-separated
 *  (malloc'd; NULL when none blocks or on error). */
int	rds_option_group_blocking(struct aws_client *c, const char *name, char **blocking,
	    struct aws_error *err);

/* One account quota of DescribeAccountAttributes (AccountQuota: Used, Max). */
struct rds_quota {
	long long	 used, max;
	int		 found;		/* 0: the answer did not name it */
};
/* The manual-snapshot quotas of an account in a Region. */
struct rds_snapshot_quotas {
	struct rds_quota instance;	/* AccountQuotaName ManualSnapshots */
	struct rds_quota cluster;	/* AccountQuotaName ManualClusterSnapshots */
};
/** rds_snapshot_quotas(c, q, err): DescribeAccountAttributes: the account's manual
 *  snapshot quotas in ${c}'s Region. 0 or -1 with ${err}. */
int	rds_snapshot_quotas(struct aws_client *c, struct rds_snapshot_quotas *q,
	    struct aws_error *err);

/* ---- response parsers (exposed for the unit tests; no network) ---- */

/* The operations of the flow, named per kind by rds_op_name (for messages). */
enum rds_op {
	RDS_OP_DESCRIBE,	/* DescribeDBSnapshots / DescribeDBClusterSnapshots */
	RDS_OP_COPY,
	RDS_OP_SHARE,		/* Modify...SnapshotAttribute */
	RDS_OP_ATTRS,		/* Describe...SnapshotAttributes */
	RDS_OP_DELETE,
	RDS_OP_RESTORE,
	RDS_OP_DBS		/* DescribeDBInstances / DescribeDBClusters */
};
/** rds_op_name(kind, op): the name of operation ${op} for snapshots of ${kind}. */
const char *rds_op_name(enum rds_kind kind, enum rds_op op);
/** rds_op_iam(kind, op): the IAM actions ${op} needs for ${kind} ("rds:X and rds:Y"). */
const char *rds_op_iam(enum rds_kind kind, enum rds_op op);
/** rds_is_available(s): 1 when snapshot ${s} is "available". */
int	rds_is_available(const struct rds_snapshot *s);
/** rds_is_terminal(status): 1 when a snapshot in ${status} never becomes available. */
int	rds_is_terminal(const char *status);
/** rds_describe_tagged(c, kind, id, out, err): rds_describe_snapshot, then the tags through
 *  ListTagsForResource when the description carried no TagList (an empty one is an answer).  1 found, 0 not found, -1 error. */
int	rds_describe_tagged(struct aws_client *c, enum rds_kind kind, const char *id,
	    struct rds_snapshot *out, struct aws_error *err);
/** rds_describe_first(c, kind, ids, n, out, which, err): one describe (a Filter on the
 *  snapshot ids) for ${n} names of one snapshot of this account: the first of ${ids} that
 *  exists, with its tags, in ${out} and its index in ${which}.  1 found, 0 none, -1 error. */
int	rds_describe_first(struct aws_client *c, enum rds_kind kind, const char * const *ids,
	    size_t n, struct rds_snapshot *out, size_t *which, struct aws_error *err);
/** rds_shared_with(c, kind, id, account, err): 1 when snapshot ${id}'s "restore" attribute
 *  lists ${account}, 0 when not, -1 with ${err} (a missing snapshot included). */
int	rds_shared_with(struct aws_client *c, enum rds_kind kind, const char *id,
	    const char *account, struct aws_error *err);
enum rds_wait {
	RDS_WAIT_ERROR = -1,	/* in ${err} */
	RDS_WAIT_NOT_YET = 0,	/* budget spent, or a status that never ends "available" */
	RDS_WAIT_AVAILABLE = 1,
	RDS_WAIT_GONE = 2	/* the snapshot no longer exists */
};
/** rds_wait_available(c, kind, id, snap, budget_ms, err): poll snapshot ${id} (described in
 *  ${snap}, refreshed in place) for at most ${budget_ms}, backing off from 1 s to 10 s. */
enum rds_wait rds_wait_available(struct aws_client *c, enum rds_kind kind, const char *id,
	    struct rds_snapshot *snap, int64_t budget_ms, struct aws_error *err);

/** rds_xml_text(n, name): the text of child ${name} of ${n} (malloc'd), NULL when absent or
 *  empty. */
char	*rds_xml_text(xmlNodePtr n, const char *name);
/** rds_xml_is(n, name): 1 when ${n} is an element named ${name}. */
int	rds_xml_is(xmlNodePtr n, const char *name);
/** rds_parse_snapshot(n, kind, out): a DBSnapshot / DBClusterSnapshot element into ${out}.
 *  0, or -1 (ENOMEM, or the element lacks its identifier). */
int	rds_parse_snapshot(xmlNodePtr n, enum rds_kind kind, struct rds_snapshot *out);
/** rds_parse_snapshot_page(result, kind, cb, arg, marker, stopped): call ${cb} for every
 *  snapshot of one Describe*Snapshots result; ${marker} gets the next page's Marker
 *  (malloc'd) or NULL; ${stopped} 1 when ${cb} asked to stop. 0 or -1. */
int	rds_parse_snapshot_page(xmlNodePtr result, enum rds_kind kind, rds_snapshot_cb cb,
	    void *arg, char **marker, int *stopped);
/** rds_parse_tags(parent, tags, n): the Tag elements of ${parent}'s TagList child (or of
 *  ${parent} itself when it is a TagList). An absent list gives 0 tags. 0 or -1 (ENOMEM). */
int	rds_parse_tags(xmlNodePtr parent, struct rds_tag **tags, size_t *n);
/** rds_parse_restore_accounts(result, accounts, n): the values of the "restore" attribute in a
 *  DB(Cluster)SnapshotAttributesResult (or any ancestor of it). 0 or -1 (ENOMEM). */
int	rds_parse_restore_accounts(xmlNodePtr result, char ***accounts, size_t *n);
/** rds_parse_option_groups(result): 1 when an option of an OptionGroup under ${result}
 *  is Persistent or Permanent (but Timezone and OLS of an Oracle group), else 0. */
int	rds_parse_option_groups(xmlNodePtr result);
/** rds_parse_option_groups_named(result, blocking): the same, and with ${blocking}
 *  non-NULL, *blocking gets the blocking options' names, ", "-separated (malloc'd), NULL when none.
 *  1, 0, or -1 (ENOMEM). */
int	rds_parse_option_groups_named(xmlNodePtr result, char **blocking);
/** rds_parse_account_quotas(result, q): the ManualSnapshots and ManualClusterSnapshots
 *  AccountQuota elements under ${result} into ${q} (zeroed first; a quota not named keeps
 *  found 0). 0, or -1 when a named one has no valid non-negative Used or Max. */
int	rds_parse_account_quotas(xmlNodePtr result, struct rds_snapshot_quotas *q);
/** rds_parse_db(n, kind, out): a DBInstance / DBCluster element into ${out}.
 *  0, or -1 (ENOMEM, or the element lacks its identifier). */
int	rds_parse_db(xmlNodePtr n, enum rds_kind kind, struct rds_db *out);
/** rds_snapshot_not_found(kind, err): 1 when ${err} is the kind's snapshot-not-found code
 *  (DBSnapshotNotFound vs DBClusterSnapshotNotFoundFault). */
int	rds_snapshot_not_found(enum rds_kind kind, const struct aws_error *err);

#endif

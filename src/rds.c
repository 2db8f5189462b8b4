/*
 * rds: the RDS Query-API operations snapferry uses, for DB instance and DB
 * cluster snapshots alike, from one table of names per kind; the parsers of their
 * answers are rds_parse.c's.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/tree.h>

#include "aws.h"
#include "buf.h"
#include "arn.h"
#include "rds.h"

#define RDS_VERSION	"2014-10-31"
/* A full listing is bounded: 100 per page x 10000 pages is far beyond any account's quota. */
#define RDS_MAX_PAGES	10000

/* Element and parameter names that differ between the instance and cluster APIs. */
struct rds_names {
	const char	*describe;	/* action */
	const char	*describe_result;
	const char	*list;		/* list wrapper in a describe result */
	const char	*item;		/* one snapshot element */
	const char	*id_param;	/* snapshot id parameter */
	const char	*db_param;	/* DB id parameter (describe, restore) */
	const char	*copy;
	const char	*copy_result;
	const char	*copy_source;
	const char	*copy_target;
	const char	*modify_attr;
	const char	*describe_attr;
	const char	*describe_attr_result;
	const char	*delete;
	const char	*not_found[3];	/* codes of a missing snapshot, NULL-terminated */
	const char	*restore;
	const char	*db_describe;	/* DescribeDBInstances / DescribeDBClusters */
	const char	*db_result;
	const char	*db_list;
	const char	*db_item;
	const char	*db_not_found[2];
};

static const struct rds_names names[2] = {
	[RDS_INSTANCE] = {
		"DescribeDBSnapshots", "DescribeDBSnapshotsResult", "DBSnapshots",
		"DBSnapshot", "DBSnapshotIdentifier", "DBInstanceIdentifier",
		"CopyDBSnapshot", "CopyDBSnapshotResult",
		"SourceDBSnapshotIdentifier", "TargetDBSnapshotIdentifier",
		"ModifyDBSnapshotAttribute", "DescribeDBSnapshotAttributes",
		"DescribeDBSnapshotAttributesResult", "DeleteDBSnapshot",
		/* The wire code is DBSnapshotNotFound; DBSnapshotNotFoundFault is the
		 * model's shape name, which emulators built from the model may send. */
		{ "DBSnapshotNotFound", "DBSnapshotNotFoundFault", NULL },
		"RestoreDBInstanceFromDBSnapshot",
		"DescribeDBInstances", "DescribeDBInstancesResult", "DBInstances", "DBInstance",
		{ "DBInstanceNotFound", NULL }
	},
	[RDS_CLUSTER] = {
		"DescribeDBClusterSnapshots", "DescribeDBClusterSnapshotsResult",
		"DBClusterSnapshots", "DBClusterSnapshot",
		"DBClusterSnapshotIdentifier", "DBClusterIdentifier",
		"CopyDBClusterSnapshot", "CopyDBClusterSnapshotResult",
		"SourceDBClusterSnapshotIdentifier", "TargetDBClusterSnapshotIdentifier",
		"ModifyDBClusterSnapshotAttribute", "DescribeDBClusterSnapshotAttributes",
		"DescribeDBClusterSnapshotAttributesResult", "DeleteDBClusterSnapshot",
		{ "DBClusterSnapshotNotFoundFault", NULL, NULL },
		"RestoreDBClusterFromSnapshot",
		"DescribeDBClusters", "DescribeDBClustersResult", "DBClusters", "DBCluster",
		{ "DBClusterNotFoundFault", NULL }
	}
};

/* A local error for conditions found on our side (bad arguments, bad XML, ENOMEM). */
static int
fail(struct aws_error *err, const char *code, const char *msg)
{
	if (err != NULL)
		aws_error_set(err, code, msg);
	return (-1);
}

int
rds_parse_snapshot_page(xmlNodePtr result, enum rds_kind kind, rds_snapshot_cb cb,
    void *arg, char **marker, int *stopped)
{
	xmlNodePtr list, it;
	struct rds_snapshot s;
	int r;

	*marker = NULL;
	*stopped = 0;
	if ((list = xml_child(result, names[kind].list)) != NULL) {
		for (it = list->children; it != NULL; it = it->next) {
			if (!rds_xml_is(it, names[kind].item))
				continue;
			if (rds_parse_snapshot(it, kind, &s) != 0)
				return (-1);
			r = cb(&s, arg);
			rds_snapshot_clean(&s);
			if (r != 0) {
				*stopped = 1;
				return (0);
			}
		}
	}
	*marker = rds_xml_text(result, "Marker");
	return (0);
}

/* 1 when ${err}'s code is one of ${codes} (NULL-terminated; NULL: none). */
static int
error_in(const struct aws_error *err, const char * const *codes)
{
	for (; codes != NULL && *codes != NULL; codes++)
		if (aws_error_is(err, *codes))
			return (1);
	return (0);
}

int
rds_snapshot_not_found(enum rds_kind kind, const struct aws_error *err)
{
	return (error_in(err, names[kind].not_found));
}

/* ---- requests ---------------------------------------------------------- */

/* What an operation reads from its result element ${res}: >= 0, or -1 with ${err}. */
typedef int (*parse_fn)(xmlNodePtr res, void *arg, struct aws_error *err);

/* One operation: its action, and what its response means. */
struct rq {
	const char		*action;
	const char * const	*absent;	/* error codes meaning "not there" -> 0 */
	const char		*result;	/* the element ${parse} reads */
	parse_fn		 parse;		/* NULL: a success is all there is */
	void			*arg;
};

/*
 * call(c, rq, p, bad, err): the shape of every operation.  ${p} was built
 * (${bad} non-zero when that ran out of memory) and is cleaned here.  Sends
 * the Query; an error of ${rq}->absent answers 0 with ${err} cleared; then
 * ${rq}->parse's value for the result element, or 0 without a parser.
 * -1 with ${err} on failure.
 */
static int
call(struct aws_client *c, const struct rq *rq, struct aws_params *p, int bad,
    struct aws_error *err)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, res;
	char msg[128];
	int rc = -1;

	if (bad) {
		fail(err, "ClientError", "out of memory");
		goto done;
	}
	if (aws_query(c, RDS_VERSION, rq->action, p, &doc, err) != 0) {
		if (error_in(err, rq->absent)) {
			aws_error_clear(err);
			rc = 0;
		}
		goto done;
	}
	if (rq->parse == NULL) {
		rc = 0;
		goto done;
	}
	if ((root = xmlDocGetRootElement(doc)) == NULL ||
	    (res = xml_find(root, rq->result)) == NULL) {
		snprintf(msg, sizeof(msg), "no %s in the response", rq->result);
		fail(err, "MalformedResponse", msg);
		goto done;
	}
	rc = rq->parse(res, rq->arg, err);
done:
	if (doc != NULL)
		xmlFreeDoc(doc);
	aws_params_clean(p);
	return (rc);
}

static int
add_tags(struct aws_params *p, const struct rds_tag *tags, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (aws_params_addi(p, "Tags.Tag", i + 1, "Key", tags[i].key) != 0 ||
		    aws_params_addi(p, "Tags.Tag", i + 1, "Value",
		    tags[i].value != NULL ? tags[i].value : "") != 0)
			return (-1);
	}
	return (0);
}

/*
 * SnapshotType to send when describing ${kind} snapshot ${id}: required by AWS for
 * automated snapshots.  "awsbackup" is a type of DescribeDBSnapshots only ("The awsbackup
 * type does not apply to Aurora"): an AWS Backup cluster snapshot is described by its
 * identifier alone.
 */
static const char *
type_of_id(enum rds_kind kind, const char *id)
{
	if (strncmp(id, "rds:", 4) == 0)
		return ("automated");
	if (strncmp(id, "awsbackup:", 10) == 0)
		return (kind == RDS_INSTANCE ? "awsbackup" : NULL);
	/* Manual: leave SnapshotType out (the default covers manual and automated). */
	return (NULL);
}

/* The snapshot a describe or copy result holds. */
struct one_snap {
	enum rds_kind		 kind;
	const char		*want_arn;	/* describe: the one with this ARN, if given */
	struct rds_snapshot	*out;
};

/* The first snapshot of a describe result (with ARN ${want_arn} when given): 1 or 0. */
static int
parse_first(xmlNodePtr res, void *arg, struct aws_error *err)
{
	struct one_snap *o = arg;
	xmlNodePtr list, it;

	if ((list = xml_child(res, names[o->kind].list)) == NULL)
		return (0);
	for (it = list->children; it != NULL; it = it->next) {
		if (!rds_xml_is(it, names[o->kind].item))
			continue;
		if (rds_parse_snapshot(it, o->kind, o->out) != 0)
			return (fail(err, "MalformedResponse",
			    "bad snapshot element in the response"));
		if (o->want_arn == NULL || (o->out->arn != NULL &&
		    strcmp(o->out->arn, o->want_arn) == 0))
			return (1);
		rds_snapshot_clean(o->out);
	}
	return (0);
}

/* One DescribeDB(Cluster)Snapshots call by identifier: 1 found, 0 not found, -1 error. */
static int
describe_one(struct aws_client *c, enum rds_kind kind, const char *ident,
    const char *type, int include_shared, const char *want_arn,
    struct rds_snapshot *out, struct aws_error *err)
{
	struct one_snap o = { kind, want_arn, out };
	const struct rq rq = { names[kind].describe, names[kind].not_found,
	    names[kind].describe_result, parse_first, &o };
	struct aws_params p;
	int bad;

	aws_params_init(&p);
	bad = aws_params_add(&p, names[kind].id_param, ident);
	if (type != NULL)
		bad |= aws_params_add(&p, "SnapshotType", type);
	if (include_shared)
		bad |= aws_params_add(&p, "IncludeShared", "true");
	return (call(c, &rq, &p, bad, err));
}

int
rds_describe_snapshot(struct aws_client *c, enum rds_kind kind, const char *id_or_arn,
    struct rds_snapshot *out, struct aws_error *err)
{
	const char *res;
	int r;

	memset(out, 0, sizeof(*out));
	if (id_or_arn == NULL || id_or_arn[0] == '\0')
		return (fail(err, "InvalidParameterValue", "empty snapshot identifier"));
	if (strncmp(id_or_arn, "arn:", 4) != 0)
		return (describe_one(c, kind, id_or_arn, type_of_id(kind, id_or_arn), 0, NULL,
		    out, err));
	if ((res = arn_resource(id_or_arn)) == NULL)
		return (fail(err, "InvalidParameterValue", "malformed snapshot ARN"));
	/*
	 * An ARN may name one of our own snapshots or one another account shared
	 * with us, and the client does not know its own account.  So first look
	 * it up as our own, by its plain id (with the SnapshotType automated and
	 * AWS Backup ids require), keeping it only when the ARN matches; then as
	 * a shared snapshot: SnapshotType=shared with IncludeShared=true, by ARN,
	 * as AWS requires for snapshots owned by another account.  Either way
	 * only the snapshot whose ARN matches counts.
	 */
	if ((r = describe_one(c, kind, res, type_of_id(kind, res), 0, id_or_arn, out,
	    err)) != 0)
		return (r);
	return (describe_one(c, kind, id_or_arn, "shared", 1, id_or_arn, out, err));
}

/* One page of a listing: the callback's snapshots, and the next Marker. */
struct page {
	enum rds_kind	 kind;
	rds_snapshot_cb	 cb;
	void		*arg;
	char		*next;
	int		 stopped;
};

static int
parse_page(xmlNodePtr res, void *arg, struct aws_error *err)
{
	struct page *pg = arg;

	if (rds_parse_snapshot_page(res, pg->kind, pg->cb, pg->arg, &pg->next,
	    &pg->stopped) != 0)
		return (fail(err, "MalformedResponse", "bad DescribeDB*Snapshots response"));
	return (0);
}

/* FNV-1a, 64 bits: a listing remembers its Markers by hash (8 bytes a page, not the
 * Marker's size); a collision, about 1 in 10^11 at the page limit, would end it early. */
static uint64_t
marker_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (uint64_t)(unsigned char)*s) * 0x100000001b3ULL;
	return (h);
}

int
rds_list_snapshots(struct aws_client *c, enum rds_kind kind,
    const struct rds_list_opts *opts, rds_snapshot_cb cb, void *arg,
    struct aws_error *err)
{
	struct page pg = { kind, cb, arg, NULL, 0 };
	const struct rq rq = { names[kind].describe, NULL, names[kind].describe_result,
	    parse_page, &pg };
	struct aws_params p;
	char *marker = NULL, num[16];
	uint64_t *seen = NULL, h;	/* the hashes of the Markers followed so far */
	size_t i, nseen = 0, capseen = 0;
	int pages, rc = -1, max, bad;

	max = (opts != NULL && opts->max_records > 0) ? opts->max_records : 100;
	if (max < 20)
		max = 20;
	if (max > 100)
		max = 100;
	snprintf(num, sizeof(num), "%d", max);
	for (pages = 0; pages < RDS_MAX_PAGES; pages++) {
		aws_params_init(&p);
		bad = 0;
		if (opts != NULL && opts->snapshot_type != NULL)
			bad |= aws_params_add(&p, "SnapshotType", opts->snapshot_type);
		if (opts != NULL && opts->db_id != NULL)
			bad |= aws_params_add(&p, names[kind].db_param, opts->db_id);
		if (opts != NULL && opts->include_shared)
			bad |= aws_params_add(&p, "IncludeShared", "true");
		if (opts != NULL && opts->n_ids > 0)
			bad |= aws_params_add(&p, "Filters.Filter.1.Name", kind == RDS_INSTANCE ?
			    "db-snapshot-id" : "db-cluster-snapshot-id");
		for (i = 0; opts != NULL && i < opts->n_ids; i++)
			bad |= aws_params_addi(&p, "Filters.Filter.1.Values.Value", i + 1, NULL,
			    opts->ids[i]);
		bad |= aws_params_add(&p, "MaxRecords", num);
		if (marker != NULL)
			bad |= aws_params_add(&p, "Marker", marker);
		if (call(c, &rq, &p, bad, err) != 0)
			goto done;
		if (pg.stopped || pg.next == NULL) {
			rc = 0;
			goto done;
		}
		/* Any Marker seen before (A, B, A: not only A, A) would loop to the page limit. */
		h = marker_hash(pg.next);
		for (i = 0; i < nseen; i++)
			if (seen[i] == h) {
				fail(err, "MalformedResponse", "the service repeated a Marker "
				    "(a pagination cycle)");
				goto done;
			}
		if (nseen == capseen) {
			uint64_t *ns;

			if ((ns = buf_grow(seen, &capseen, sizeof(*ns), 16)) == NULL) {
				fail(err, "ClientError", "out of memory");
				goto done;
			}
			seen = ns;
		}
		seen[nseen++] = h;
		free(marker);
		marker = pg.next;
		pg.next = NULL;
	}
	fail(err, "ClientError", "listing exceeded the page limit");
done:
	free(seen);
	free(marker);
	free(pg.next);
	return (rc);
}

/* The DBSnapshot / DBClusterSnapshot of a copy result. */
static int
parse_copied(xmlNodePtr res, void *arg, struct aws_error *err)
{
	struct one_snap *o = arg;
	xmlNodePtr snap;

	if ((snap = xml_child(res, names[o->kind].item)) == NULL ||
	    rds_parse_snapshot(snap, o->kind, o->out) != 0)
		return (fail(err, "MalformedResponse", "bad CopyDB*Snapshot response"));
	return (0);
}

int
rds_copy_snapshot(struct aws_client *c, enum rds_kind kind, const char *source,
    const char *target, const char *kms_key_id, const struct rds_tag *tags,
    size_t n_tags, struct rds_snapshot *out, struct aws_error *err)
{
	struct one_snap o = { kind, NULL, out };
	const struct rq rq = { names[kind].copy, NULL, names[kind].copy_result,
	    out != NULL ? parse_copied : NULL, &o };
	struct aws_params p;
	int bad;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	aws_params_init(&p);
	/*
	 * Tags are passed explicitly and CopyTags is false: tags do not travel
	 * across accounts, and the copy carries exactly the lineage we give it.
	 */
	bad = aws_params_add(&p, names[kind].copy_source, source);
	bad |= aws_params_add(&p, names[kind].copy_target, target);
	if (kms_key_id != NULL)
		bad |= aws_params_add(&p, "KmsKeyId", kms_key_id);
	bad |= add_tags(&p, tags, n_tags);
	bad |= aws_params_add(&p, "CopyTags", "false");
	return (call(c, &rq, &p, bad, err));
}

int
rds_modify_share(struct aws_client *c, enum rds_kind kind, const char *id,
    const char *account, int add, struct aws_error *err)
{
	const struct rq rq = { names[kind].modify_attr, NULL, NULL, NULL, NULL };
	struct aws_params p;
	int bad;

	aws_params_init(&p);
	bad = aws_params_add(&p, names[kind].id_param, id);
	bad |= aws_params_add(&p, "AttributeName", "restore");
	bad |= aws_params_addi(&p, add ? "ValuesToAdd.AttributeValue" :
	    "ValuesToRemove.AttributeValue", 1, NULL, account);
	return (call(c, &rq, &p, bad, err));
}

/* A list that a parser fills: strings (accounts) or tags. */
struct list_out {
	void	*v;
	size_t	*n;
};

static int
parse_accounts(xmlNodePtr res, void *arg, struct aws_error *err)
{
	struct list_out *l = arg;

	if (rds_parse_restore_accounts(res, l->v, l->n) != 0)
		return (fail(err, "ClientError", "out of memory"));
	return (0);
}

int
rds_shared_accounts(struct aws_client *c, enum rds_kind kind, const char *id,
    char ***accounts, size_t *n, struct aws_error *err)
{
	struct list_out l = { accounts, n };
	const struct rq rq = { names[kind].describe_attr, NULL,
	    names[kind].describe_attr_result, parse_accounts, &l };
	struct aws_params p;

	*accounts = NULL;
	*n = 0;
	aws_params_init(&p);
	return (call(c, &rq, &p, aws_params_add(&p, names[kind].id_param, id), err));
}

int
rds_delete_snapshot(struct aws_client *c, enum rds_kind kind, const char *id,
    struct aws_error *err)
{
	const struct rq rq = { names[kind].delete, NULL, NULL, NULL, NULL };
	struct aws_params p;

	aws_params_init(&p);
	return (call(c, &rq, &p, aws_params_add(&p, names[kind].id_param, id), err));
}

int
rds_add_tags(struct aws_client *c, const char *arn, const struct rds_tag *tags,
    size_t n, struct aws_error *err)
{
	const struct rq rq = { "AddTagsToResource", NULL, NULL, NULL, NULL };
	struct aws_params p;
	int bad;

	aws_params_init(&p);
	bad = aws_params_add(&p, "ResourceName", arn);
	bad |= add_tags(&p, tags, n);
	return (call(c, &rq, &p, bad, err));
}

static int
parse_tag_list(xmlNodePtr res, void *arg, struct aws_error *err)
{
	struct list_out *l = arg;

	if (rds_parse_tags(res, l->v, l->n) != 0)
		return (fail(err, "ClientError", "out of memory"));
	return (0);
}

int
rds_list_tags(struct aws_client *c, const char *arn, struct rds_tag **tags, size_t *n,
    struct aws_error *err)
{
	struct list_out l = { tags, n };
	const struct rq rq = { "ListTagsForResource", NULL, "ListTagsForResourceResult",
	    parse_tag_list, &l };
	struct aws_params p;

	*tags = NULL;
	*n = 0;
	aws_params_init(&p);
	return (call(c, &rq, &p, aws_params_add(&p, "ResourceName", arn), err));
}

int
rds_restore(struct aws_client *c, const struct rds_restore_opts *o, struct aws_error *err)
{
	const struct rq rq = { names[o->kind].restore, NULL, NULL, NULL, NULL };
	struct aws_params p;
	size_t i;
	int bad = 0;

	if (o->snapshot == NULL || o->db_id == NULL)
		return (fail(err, "InvalidParameterValue", "restore needs a snapshot and a DB id"));
	if (o->kind == RDS_CLUSTER && o->engine == NULL)
		return (fail(err, "InvalidParameterValue", "restoring a cluster needs its engine"));
	aws_params_init(&p);
	bad |= aws_params_add(&p, names[o->kind].db_param, o->db_id);
	if (o->kind == RDS_INSTANCE) {
		bad |= aws_params_add(&p, "DBSnapshotIdentifier", o->snapshot);
		if (o->instance_class != NULL)
			bad |= aws_params_add(&p, "DBInstanceClass", o->instance_class);
		/* A restored copy of production data is never reachable from the internet. */
		bad |= aws_params_add(&p, "PubliclyAccessible", "false");
	} else {
		/*
		 * Aurora: the restored cluster has no instances yet (the caller adds
		 * them with rds_create_cluster_instance), and takes no instance class
		 * (DBClusterInstanceClass is for Multi-AZ DB clusters, whose snapshots
		 * can't be shared anyway).
		 */
		bad |= aws_params_add(&p, "SnapshotIdentifier", o->snapshot);
		bad |= aws_params_add(&p, "Engine", o->engine);
		/* Without it AWS restores the Region's default version of the engine,
		 * which may be another major version than the snapshot's data. */
		if (o->engine_version != NULL)
			bad |= aws_params_add(&p, "EngineVersion", o->engine_version);
	}
	if (o->subnet_group != NULL)
		bad |= aws_params_add(&p, "DBSubnetGroupName", o->subnet_group);
	for (i = 0; i < o->n_sg_ids; i++)
		bad |= aws_params_addi(&p, "VpcSecurityGroupIds.VpcSecurityGroupId", i + 1,
		    NULL, o->sg_ids[i]);
	if (o->backup_retention != NULL)
		bad |= aws_params_add(&p, "BackupRetentionPeriod", o->backup_retention);
	if (o->no_deletion_protection)
		bad |= aws_params_add(&p, "DeletionProtection", "false");
	bad |= add_tags(&p, o->tags, o->n_tags);
	return (call(c, &rq, &p, bad, err));
}

int
rds_delete_db(struct aws_client *c, enum rds_kind kind, const char *db_id, int automated,
    struct aws_error *err)
{
	const struct rq rq = { kind == RDS_CLUSTER ? "DeleteDBCluster" : "DeleteDBInstance",
	    NULL, NULL, NULL, NULL };
	struct aws_params p;
	int bad;

	aws_params_init(&p);
	bad = aws_params_add(&p, names[kind].db_param, db_id);
	bad |= aws_params_add(&p, "SkipFinalSnapshot", "true");
	if (automated)
		bad |= aws_params_add(&p, "DeleteAutomatedBackups", "true");
	return (call(c, &rq, &p, bad, err));
}

/* The DB of a DescribeDBInstances / DescribeDBClusters result: 1, or 0 for an empty list. */
struct one_db {
	enum rds_kind	 kind;
	struct rds_db	*out;
};

static int
parse_db(xmlNodePtr res, void *arg, struct aws_error *err)
{
	struct one_db *o = arg;
	xmlNodePtr list, it;

	list = xml_child(res, names[o->kind].db_list);
	for (it = list != NULL ? list->children : NULL; it != NULL; it = it->next) {
		if (!rds_xml_is(it, names[o->kind].db_item))
			continue;
		if (rds_parse_db(it, o->kind, o->out) != 0)
			return (fail(err, "MalformedResponse", "bad DB element in the response"));
		return (1);
	}
	return (0);
}

int
rds_describe_db(struct aws_client *c, enum rds_kind kind, const char *db_id,
    struct rds_db *out, struct aws_error *err)
{
	struct one_db o = { kind, out };
	const struct rq rq = { names[kind].db_describe, names[kind].db_not_found,
	    names[kind].db_result, parse_db, &o };
	struct aws_params p;

	memset(out, 0, sizeof(*out));
	aws_params_init(&p);
	return (call(c, &rq, &p, aws_params_add(&p, names[kind].db_param, db_id), err));
}

int
rds_db_exists(struct aws_client *c, enum rds_kind kind, const char *db_id,
    struct aws_error *err)
{
	struct rds_db d;
	int rc;

	rc = rds_describe_db(c, kind, db_id, &d, err);
	rds_db_clean(&d);
	return (rc);
}

int
rds_create_cluster_instance(struct aws_client *c, const struct rds_instance_opts *o,
    struct aws_error *err)
{
	const struct rq rq = { "CreateDBInstance", NULL, NULL, NULL, NULL };
	struct aws_params p;
	int bad;

	if (o->db_id == NULL || o->cluster_id == NULL || o->engine == NULL ||
	    o->instance_class == NULL)
		return (fail(err, "InvalidParameterValue", "an instance of a cluster needs "
		    "its id, the cluster, the engine and an instance class"));
	aws_params_init(&p);
	bad = aws_params_add(&p, "DBInstanceIdentifier", o->db_id);
	bad |= aws_params_add(&p, "DBClusterIdentifier", o->cluster_id);
	bad |= aws_params_add(&p, "Engine", o->engine);
	bad |= aws_params_add(&p, "DBInstanceClass", o->instance_class);
	/* A restored copy of production data is never reachable from the internet. */
	bad |= aws_params_add(&p, "PubliclyAccessible", "false");
	bad |= add_tags(&p, o->tags, o->n_tags);
	return (call(c, &rq, &p, bad, err));
}

static int
parse_option_groups(xmlNodePtr res, void *arg, struct aws_error *err)
{
	int r;

	if ((r = rds_parse_option_groups_named(res, arg)) < 0)
		return (fail(err, "ClientError", "out of memory"));
	return (r);
}

int
rds_option_group_blocking(struct aws_client *c, const char *name, char **blocking,
    struct aws_error *err)
{
	const struct rq rq = { "DescribeOptionGroups", NULL, "DescribeOptionGroupsResult",
	    parse_option_groups, blocking };
	struct aws_params p;

	if (blocking != NULL)
		*blocking = NULL;
	aws_params_init(&p);
	return (call(c, &rq, &p, aws_params_add(&p, "OptionGroupName", name), err));
}

int
rds_option_group_blocks_share(struct aws_client *c, const char *name,
    struct aws_error *err)
{
	return (rds_option_group_blocking(c, name, NULL, err));
}

static int
parse_quotas(xmlNodePtr res, void *arg, struct aws_error *err)
{
	if (rds_parse_account_quotas(res, arg) != 0)
		return (fail(err, "MalformedResponse", "bad AccountQuota in the response"));
	return (0);
}

int
rds_snapshot_quotas(struct aws_client *c, struct rds_snapshot_quotas *q,
    struct aws_error *err)
{
	const struct rq rq = { "DescribeAccountAttributes", NULL,
	    "DescribeAccountAttributesResult", parse_quotas, q };
	struct aws_params p;

	memset(q, 0, sizeof(*q));
	aws_params_init(&p);
	return (call(c, &rq, &p, 0, err));
}

/* ---- operations of the flow ------------------------------------------------ */

const char *
rds_op_name(enum rds_kind kind, enum rds_op op)
{
	const struct rds_names *n = &names[kind == RDS_CLUSTER ? RDS_CLUSTER : RDS_INSTANCE];

	switch (op) {
	case RDS_OP_DESCRIBE:
		return (n->describe);
	case RDS_OP_COPY:
		return (n->copy);
	case RDS_OP_SHARE:
		return (n->modify_attr);
	case RDS_OP_ATTRS:
		return (n->describe_attr);
	case RDS_OP_DELETE:
		return (n->delete);
	case RDS_OP_RESTORE:
		return (n->restore);
	case RDS_OP_DBS:
		return (n->db_describe);
	}
	return ("RDS");
}

/* The IAM actions each operation of the flow needs, per kind: the "To fix" hints. */
static const char *const op_iam[][2] = {
	[RDS_OP_DESCRIBE] = { "rds:DescribeDBSnapshots and rds:ListTagsForResource",
	    "rds:DescribeDBClusterSnapshots and rds:ListTagsForResource" },
	[RDS_OP_COPY] = { "rds:CopyDBSnapshot and rds:AddTagsToResource",
	    "rds:CopyDBClusterSnapshot and rds:AddTagsToResource" },
	[RDS_OP_SHARE] = { "rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute" },
	[RDS_OP_ATTRS] = { "rds:DescribeDBSnapshotAttributes",
	    "rds:DescribeDBClusterSnapshotAttributes" },
	[RDS_OP_DELETE] = { "rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot" },
	[RDS_OP_RESTORE] = { "rds:RestoreDBInstanceFromDBSnapshot and rds:AddTagsToResource",
	    "rds:RestoreDBClusterFromSnapshot, rds:CreateDBInstance and rds:AddTagsToResource" },
	[RDS_OP_DBS] = { "rds:DescribeDBInstances", "rds:DescribeDBClusters" },
};

const char *
rds_op_iam(enum rds_kind kind, enum rds_op op)
{
	if ((size_t)op >= sizeof(op_iam) / sizeof(op_iam[0]))
		return ("the RDS permissions snapferry's templates grant");
	return (op_iam[op][kind == RDS_CLUSTER ? 1 : 0]);
}


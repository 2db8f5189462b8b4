/*
 * rds_parse: the XML of RDS's answers into structs (snapshots, tags, shares, option
 * groups, DBs), and the structs' clean-up.  Exposed so that unit tests and fuzzers feed
 * them canned responses; the calls are rds.c's.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "aws.h"
#include "buf.h"
#include "rds.h"

/* String fields of struct rds_snapshot and their element names per kind (NULL: absent). */
static const struct {
	size_t		 off;
	const char	*name[2];
} str_fields[] = {
	{ offsetof(struct rds_snapshot, id),
	    { "DBSnapshotIdentifier", "DBClusterSnapshotIdentifier" } },
	{ offsetof(struct rds_snapshot, arn), { "DBSnapshotArn", "DBClusterSnapshotArn" } },
	{ offsetof(struct rds_snapshot, db_id),
	    { "DBInstanceIdentifier", "DBClusterIdentifier" } },
	{ offsetof(struct rds_snapshot, status), { "Status", "Status" } },
	{ offsetof(struct rds_snapshot, snapshot_type), { "SnapshotType", "SnapshotType" } },
	{ offsetof(struct rds_snapshot, engine), { "Engine", "Engine" } },
	{ offsetof(struct rds_snapshot, engine_mode), { NULL, "EngineMode" } },
	{ offsetof(struct rds_snapshot, engine_version), { "EngineVersion", "EngineVersion" } },
	{ offsetof(struct rds_snapshot, kms_key_id), { "KmsKeyId", "KmsKeyId" } },
	{ offsetof(struct rds_snapshot, option_group), { "OptionGroupName", NULL } },
	{ offsetof(struct rds_snapshot, tde_credential_arn), { "TdeCredentialArn", NULL } },
	{ offsetof(struct rds_snapshot, storage_type), { "StorageType", "StorageType" } },
	{ offsetof(struct rds_snapshot, source_arn),
	    { "SourceDBSnapshotIdentifier", "SourceDBClusterSnapshotArn" } },
	{ offsetof(struct rds_snapshot, create_time),
	    { "SnapshotCreateTime", "SnapshotCreateTime" } },
	/* Kept by AWS across copies; botocore's DBClusterSnapshot has no such member. */
	{ offsetof(struct rds_snapshot, original_time), { "OriginalSnapshotCreateTime", NULL } },
};

char *
rds_xml_text(xmlNodePtr n, const char *name)
{
	char *s;

	if ((s = xml_text(n, name)) != NULL && s[0] == '\0') {
		free(s);
		s = NULL;
	}
	return (s);
}

/* 1 when child ${name} reads "true". */
static int
child_true(xmlNodePtr n, const char *name)
{
	char *s;
	int r;

	s = xml_text(n, name);
	r = (s != NULL && strcmp(s, "true") == 0);
	free(s);
	return (r);
}

int
rds_xml_is(xmlNodePtr n, const char *name)
{
	return (n->type == XML_ELEMENT_NODE && n->name != NULL &&
	    strcmp((const char *)n->name, name) == 0);
}

void
rds_tags_free(struct rds_tag *tags, size_t n)
{
	size_t i;

	if (tags == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(tags[i].key);
		free(tags[i].value);
	}
	free(tags);
}

const char *
rds_tag_get(const struct rds_tag *tags, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tags[i].key != NULL && strcmp(tags[i].key, key) == 0)
			return (tags[i].value != NULL ? tags[i].value : "");
	return (NULL);
}

void
rds_snapshot_clean(struct rds_snapshot *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++)
		free(*(char **)(void *)((char *)s + str_fields[i].off));
	rds_tags_free(s->tags, s->n_tags);
	memset(s, 0, sizeof(*s));
}

int
rds_snapshot_copy(struct rds_snapshot *dst, const struct rds_snapshot *src)
{
	const char *from;
	size_t i;
	char **to;

	*dst = *src;
	for (i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++)
		*(char **)(void *)((char *)dst + str_fields[i].off) = NULL;
	dst->tags = NULL;
	dst->n_tags = 0;
	for (i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++) {
		from = *(char * const *)(const void *)((const char *)src + str_fields[i].off);
		to = (char **)(void *)((char *)dst + str_fields[i].off);
		if (from != NULL && (*to = strdup(from)) == NULL)
			goto err0;
	}
	if (src->n_tags > 0 && (dst->tags = calloc(src->n_tags, sizeof(*dst->tags))) == NULL)
		goto err0;
	for (i = 0; i < src->n_tags; i++) {
		dst->n_tags = i + 1;
		if ((dst->tags[i].key = strdup(src->tags[i].key)) == NULL ||
		    (dst->tags[i].value = strdup(src->tags[i].value != NULL ?
		    src->tags[i].value : "")) == NULL)
			goto err0;
	}
	return (0);
err0:
	rds_snapshot_clean(dst);
	return (-1);
}

void
rds_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
rds_parse_tags(xmlNodePtr parent, struct rds_tag **tags, size_t *n)
{
	xmlNodePtr list, t;
	struct rds_tag *v = NULL, *nv;
	size_t cnt = 0, cap = 0;

	*tags = NULL;
	*n = 0;
	list = rds_xml_is(parent, "TagList") ? parent : xml_child(parent, "TagList");
	if (list == NULL)
		return (0);
	for (t = list->children; t != NULL; t = t->next) {
		if (!rds_xml_is(t, "Tag"))
			continue;
		if (cnt == cap) {
			if ((nv = buf_grow(v, &cap, sizeof(*v), 8)) == NULL)
				goto err0;
			v = nv;
		}
		v[cnt].key = xml_text(t, "Key");
		v[cnt].value = xml_text(t, "Value");
		if (v[cnt].key == NULL) {
			/* A tag without a key is not a tag: skip it. */
			free(v[cnt].value);
			continue;
		}
		cnt++;
		if (v[cnt - 1].value == NULL && (v[cnt - 1].value = strdup("")) == NULL)
			goto err0;
	}
	*tags = v;
	*n = cnt;
	return (0);
err0:
	rds_tags_free(v, cnt);
	return (-1);
}

int
rds_parse_snapshot(xmlNodePtr n, enum rds_kind kind, struct rds_snapshot *out)
{
	size_t i;
	char *s;
	long pct;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	for (i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++) {
		if (str_fields[i].name[kind] == NULL)
			continue;
		*(char **)(void *)((char *)out + str_fields[i].off) =
		    rds_xml_text(n, str_fields[i].name[kind]);
	}
	if (out->id == NULL)
		goto err0;
	out->encrypted = child_true(n, kind == RDS_INSTANCE ? "Encrypted" : "StorageEncrypted");
	if (out->create_time != NULL && aws_parse_time(out->create_time, &out->created) != 0)
		out->created = 0;
	if ((s = xml_text(n, "PercentProgress")) != NULL) {
		errno = 0;
		pct = strtol(s, NULL, 10);
		out->percent = (errno == 0 && pct >= 0 && pct <= 100) ? (int)pct : 0;
		free(s);
	}
	if (rds_parse_tags(n, &out->tags, &out->n_tags) != 0)
		goto err0;
	out->has_tag_list = xml_child(n, "TagList") != NULL;
	return (0);
err0:
	rds_snapshot_clean(out);
	return (-1);
}

int
rds_parse_restore_accounts(xmlNodePtr result, char ***accounts, size_t *n)
{
	xmlNodePtr list, a, vals, v;
	char **out = NULL, **nv, *name, *s;
	size_t cnt = 0, cap = 0;

	*accounts = NULL;
	*n = 0;
	if ((list = xml_find(result, "DBSnapshotAttributes")) == NULL &&
	    (list = xml_find(result, "DBClusterSnapshotAttributes")) == NULL)
		return (0);
	for (a = list->children; a != NULL; a = a->next) {
		if (!rds_xml_is(a, "DBSnapshotAttribute") &&
		    !rds_xml_is(a, "DBClusterSnapshotAttribute"))
			continue;
		name = xml_text(a, "AttributeName");
		if (name == NULL || strcmp(name, "restore") != 0) {
			free(name);
			continue;
		}
		free(name);
		if ((vals = xml_child(a, "AttributeValues")) == NULL)
			continue;
		for (v = vals->children; v != NULL; v = v->next) {
			if (!rds_xml_is(v, "AttributeValue"))
				continue;
			s = (char *)xmlNodeGetContent(v);
			if (s == NULL)
				goto err0;
			if (s[0] == '\0') {
				xmlFree(s);
				continue;
			}
			if (cnt == cap) {
				if ((nv = buf_grow(out, &cap, sizeof(*out), 4)) == NULL) {
					xmlFree(s);
					goto err0;
				}
				out = nv;
			}
			out[cnt] = strdup(s);
			xmlFree(s);
			if (out[cnt] == NULL)
				goto err0;
			cnt++;
		}
	}
	*accounts = out;
	*n = cnt;
	return (0);
err0:
	rds_strv_free(out, cnt);
	return (-1);
}

/* 1 when ${opt} of an option group of engine ${engine} keeps a snapshot from being shared:
 * persistent or permanent, except Oracle's Timezone and OLS, which AWS lets Oracle
 * snapshots be shared with (RDS user guide, "Sharing a DB snapshot"). */
static int
option_blocks(xmlNodePtr opt, const char *engine, const char *name)
{
	if (!child_true(opt, "Persistent") && !child_true(opt, "Permanent"))
		return (0);
	if (engine != NULL && strncasecmp(engine, "oracle", 6) == 0 && name != NULL &&
	    (strcasecmp(name, "Timezone") == 0 || strcasecmp(name, "OLS") == 0))
		return (0);
	return (1);
}

/* Blocking option names kept for a skip reason: enough to name them, not a whole page. */
#define OPTION_NAMES_MAX	256

int
rds_parse_option_groups_named(xmlNodePtr result, char **blocking)
{
	xmlNodePtr list, g, opts, o;
	struct buf b;
	char *engine, *name;
	int blocks = 0, bad = 0;

	if (blocking != NULL)
		*blocking = NULL;
	if ((list = xml_find(result, "OptionGroupsList")) == NULL)
		return (0);
	buf_init(&b, OPTION_NAMES_MAX + 8);
	for (g = list->children; g != NULL && !bad; g = g->next) {
		if (!rds_xml_is(g, "OptionGroup"))
			continue;
		if ((opts = xml_child(g, "Options")) == NULL)
			continue;
		engine = rds_xml_text(g, "EngineName");
		for (o = opts->children; o != NULL && !bad; o = o->next) {
			if (!rds_xml_is(o, "Option"))
				continue;
			name = rds_xml_text(o, "OptionName");
			if (option_blocks(o, engine, name)) {
				blocks = 1;
				if (blocking != NULL && name != NULL &&
				    b.len + strlen(name) + 2 <= OPTION_NAMES_MAX)
					bad = (b.len > 0 && buf_append_str(&b, ", ") != 0) ||
					    buf_append_str(&b, name) != 0;
			}
			free(name);
		}
		free(engine);
	}
	if (bad) {
		buf_clean(&b);
		return (-1);
	}
	if (blocking != NULL && b.len > 0)
		*blocking = buf_steal(&b);
	buf_clean(&b);
	return (blocks);
}

int
rds_parse_option_groups(xmlNodePtr result)
{
	return (rds_parse_option_groups_named(result, NULL));
}

/* quota_number(n, name, out): child ${name} of ${n} as a non-negative integer. 0 or -1. */
static int
quota_number(xmlNodePtr n, const char *name, long long *out)
{
	char *s, *end;
	int rc = -1;

	if ((s = rds_xml_text(n, name)) == NULL)
		return (-1);
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno == 0 && end != s && *end == '\0' && *out >= 0)
		rc = 0;
	free(s);
	return (rc);
}

int
rds_parse_account_quotas(xmlNodePtr result, struct rds_snapshot_quotas *q)
{
	xmlNodePtr list, it;
	struct rds_quota *dst;
	char *name;

	memset(q, 0, sizeof(*q));
	if ((list = xml_find(result, "AccountQuotas")) == NULL)
		return (0);
	for (it = list->children; it != NULL; it = it->next) {
		if (!rds_xml_is(it, "AccountQuota"))
			continue;
		if ((name = rds_xml_text(it, "AccountQuotaName")) == NULL)
			continue;
		dst = strcmp(name, "ManualSnapshots") == 0 ? &q->instance :
		    strcmp(name, "ManualClusterSnapshots") == 0 ? &q->cluster : NULL;
		free(name);
		if (dst == NULL)
			continue;
		if (quota_number(it, "Used", &dst->used) != 0 ||
		    quota_number(it, "Max", &dst->max) != 0)
			return (-1);
		dst->found = 1;
	}
	return (0);
}

void
rds_db_clean(struct rds_db *d)
{
	if (d == NULL)
		return;
	free(d->id);
	free(d->status);
	free(d->engine);
	free(d->cluster_id);
	rds_strv_free(d->members, d->n_members);
	rds_tags_free(d->tags, d->n_tags);
	free(d->arn);
	free(d->engine_version);
	free(d->storage_type);
	free(d->address);
	memset(d, 0, sizeof(*d));
}

/* What a drill verifies of a DB: its ARN, version, storage and endpoint. */
static void
db_details(xmlNodePtr n, struct rds_db *out)
{
	xmlNodePtr ep = out->kind == RDS_INSTANCE ? xml_child(n, "Endpoint") : NULL;
	char *port;

	out->arn = rds_xml_text(n, out->kind == RDS_INSTANCE ? "DBInstanceArn" : "DBClusterArn");
	out->engine_version = rds_xml_text(n, "EngineVersion");
	out->storage_type = rds_xml_text(n, "StorageType");
	out->address = rds_xml_text(ep != NULL ? ep : n, ep != NULL ? "Address" : "Endpoint");
	port = rds_xml_text(ep != NULL ? ep : n, "Port");
	out->port = port != NULL ? atoi(port) : 0;
	free(port);
}

int
rds_parse_db(xmlNodePtr n, enum rds_kind kind, struct rds_db *out)
{
	xmlNodePtr list, m;
	char **nv, *id;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	if (kind == RDS_INSTANCE) {
		out->id = rds_xml_text(n, "DBInstanceIdentifier");
		out->status = rds_xml_text(n, "DBInstanceStatus");
		out->cluster_id = rds_xml_text(n, "DBClusterIdentifier");
	} else {
		out->id = rds_xml_text(n, "DBClusterIdentifier");
		out->status = rds_xml_text(n, "Status");
	}
	out->engine = rds_xml_text(n, "Engine");
	if (out->id == NULL)
		goto err0;
	db_details(n, out);
	list = kind == RDS_CLUSTER ? xml_child(n, "DBClusterMembers") : NULL;
	for (m = list != NULL ? list->children : NULL; m != NULL; m = m->next) {
		if (!rds_xml_is(m, "DBClusterMember") ||
		    (id = rds_xml_text(m, "DBInstanceIdentifier")) == NULL)
			continue;
		if (out->n_members == cap) {
			if ((nv = buf_grow(out->members, &cap, sizeof(*nv), 4)) == NULL) {
				free(id);
				goto err0;
			}
			out->members = nv;
		}
		out->members[out->n_members++] = id;
	}
	if (rds_parse_tags(n, &out->tags, &out->n_tags) != 0)
		goto err0;
	return (0);
err0:
	rds_db_clean(out);
	return (-1);
}

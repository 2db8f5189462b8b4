/*
 * fuzz_rds: RDS Query responses through the parsers rds.c applies to them:
 * Describe(DB|DBCluster)Snapshots pages (rds_parse_snapshot_page, with and
 * without the callback stopping), a single snapshot element, tag lists,
 * snapshot attributes ("restore" accounts), option groups and times.
 */
#include <time.h>

#include "fuzz.h"

#include "aws.h"
#include "rds.h"

struct page {
	enum rds_kind	kind;
	size_t		count;
	size_t		stop_after;	/* 0: never */
};

static void
check_tags(const struct rds_tag *tags, size_t n)
{
	size_t i;

	FUZZ_ASSERT(n == 0 || tags != NULL);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(tags[i].key != NULL && tags[i].value != NULL);
		FUZZ_ASSERT(rds_tag_get(tags, n, tags[i].key) != NULL);
		fuzz_touch(tags[i].value);
	}
}

static void
check_snapshot(const struct rds_snapshot *s, enum rds_kind kind)
{
	FUZZ_ASSERT(s->kind == kind);
	FUZZ_ASSERT(s->id != NULL);
	FUZZ_ASSERT(s->encrypted == 0 || s->encrypted == 1);
	FUZZ_ASSERT(s->percent >= 0 && s->percent <= 100);
	FUZZ_ASSERT(s->create_time != NULL || s->created == 0);
	if (kind == RDS_CLUSTER)
		FUZZ_ASSERT(s->option_group == NULL && s->tde_credential_arn == NULL);
	fuzz_touch(s->arn);
	fuzz_touch(s->db_id);
	fuzz_touch(s->status);
	fuzz_touch(s->snapshot_type);
	fuzz_touch(s->engine);
	fuzz_touch(s->engine_mode);
	fuzz_touch(s->engine_version);
	fuzz_touch(s->kms_key_id);
	fuzz_touch(s->storage_type);
	fuzz_touch(s->source_arn);
	check_tags(s->tags, s->n_tags);
}

static int
on_snapshot(const struct rds_snapshot *s, void *arg)
{
	struct page *p = arg;

	check_snapshot(s, p->kind);
	p->count++;
	return (p->stop_after != 0 && p->count >= p->stop_after);
}

static void
pages(xmlNodePtr root, enum rds_kind kind)
{
	static const char *const result[2] = {
		"DescribeDBSnapshotsResult", "DescribeDBClusterSnapshotsResult"
	};
	struct page p;
	xmlNodePtr res;
	char *marker;
	int stopped, rc;
	size_t all;

	if ((res = xml_find(root, result[kind])) == NULL)
		res = root;
	memset(&p, 0, sizeof(p));
	p.kind = kind;
	rc = rds_parse_snapshot_page(res, kind, on_snapshot, &p, &marker, &stopped);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT(rc != 0 || stopped == 0);
	free(marker);
	if (rc != 0 || p.count == 0)
		return;
	/* Stopped after the first: stopped set, no marker handed out. */
	all = p.count;
	p.count = 0;
	p.stop_after = 1;
	rc = rds_parse_snapshot_page(res, kind, on_snapshot, &p, &marker, &stopped);
	FUZZ_ASSERT(rc == 0 && stopped == 1 && marker == NULL && p.count == 1 && all >= 1);
}

static void
single(xmlNodePtr root, const char *name, enum rds_kind kind)
{
	struct rds_snapshot s;
	xmlNodePtr n;

	if ((n = xml_find(root, name)) == NULL)
		return;
	if (rds_parse_snapshot(n, kind, &s) == 0) {
		check_snapshot(&s, kind);
		rds_snapshot_clean(&s);
		FUZZ_ASSERT(s.id == NULL && s.tags == NULL);
	} else
		FUZZ_ASSERT(s.id == NULL && s.tags == NULL);
}

static void
tags(xmlNodePtr root)
{
	struct rds_tag *t;
	xmlNodePtr res;
	size_t n;

	if ((res = xml_find(root, "ListTagsForResourceResult")) == NULL)
		res = root;
	if (rds_parse_tags(res, &t, &n) == 0) {
		check_tags(t, n);
		rds_tags_free(t, n);
	}
}

static void
accounts(xmlNodePtr root)
{
	char **v;
	size_t n, i;

	if (rds_parse_restore_accounts(root, &v, &n) != 0)
		return;
	FUZZ_ASSERT(n == 0 || v != NULL);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(v[i] != NULL && v[i][0] != '\0');
	rds_strv_free(v, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlDocPtr d;
	xmlNodePtr root;
	time_t t;
	char *s;
	int r;

	/* The whole input as a SnapshotCreateTime / Expiration value. */
	s = fuzz_cstr(data, size);
	(void)aws_parse_time(s, &t);
	free(s);

	if ((d = aws_xml_parse((const char *)data, size)) == NULL)
		return (0);
	root = xmlDocGetRootElement(d);
	pages(root, RDS_INSTANCE);
	pages(root, RDS_CLUSTER);
	single(root, "DBSnapshot", RDS_INSTANCE);
	single(root, "DBClusterSnapshot", RDS_CLUSTER);
	tags(root);
	accounts(root);
	r = rds_parse_option_groups(root);
	FUZZ_ASSERT(r == 0 || r == 1);
	xmlFreeDoc(d);
	return (0);
}

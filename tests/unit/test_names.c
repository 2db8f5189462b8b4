/*
 * test_names: deterministic copy/restore ids (tables of input -> expected),
 * the length caps with their hash suffix, ARN parsing and lineage checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "unit.h"

static int
valid_id(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return (0);
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return (0);
	if (s[n - 1] == '-' || strstr(s, "--") != NULL)
		return (0);
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-'))
			return (0);
	return (1);
}

static void
test_copy_ids(void)
{
	static const struct {
		const char *prefix, *id;
		enum rds_kind kind;
		const char *want;
	} t[] = {
		{ "snapferry", "mysnap", RDS_INSTANCE, "snapferry-mysnap" },
		{ "snapferry", "rds:mydb-2024-05-01-00-05", RDS_INSTANCE,
		    "snapferry-mydb-2024-05-01-00-05" },
		{ "snapferry", "awsbackup:job-1234abcd", RDS_INSTANCE, "snapferry-job-1234abcd" },
		{ "snapferry", "rds:aurora-1-2024-05-01", RDS_CLUSTER,
		    "snapferry-aurora-1-2024-05-01" },
		{ "snapferry", "My_Snap.2024", RDS_INSTANCE, "snapferry-my-snap-2024" },
		{ "snapferry", "a--b", RDS_INSTANCE, "snapferry-a-b" },
		{ "snapferry", "trailing-", RDS_INSTANCE, "snapferry-trailing" },
		{ "snapferry", "x:::y", RDS_INSTANCE, "snapferry-x-y" },
		{ "dr", "Prod", RDS_INSTANCE, "dr-prod" },
		{ "9lives", "s", RDS_INSTANCE, "s9lives-s" },
		{ "snapferry-", "-x-", RDS_INSTANCE, "snapferry-x" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = names_copy_id(t[i].prefix, t[i].id, t[i].kind);
		CHECK_STR(s, t[i].want);
		if (s != NULL)
			CHECK(valid_id(s, 255));
		free(s);
	}
	CHECK(names_copy_id("snapferry", "rds:", RDS_INSTANCE) == NULL);
	CHECK(names_copy_id("snapferry", NULL, RDS_INSTANCE) == NULL);
	CHECK(names_sanitize("::", 255) == NULL);
}

static void
test_caps(void)
{
	char id[400], *a, *b, *c, *d;

	/* A 300-character id: capped at 255 for instances, with a hash suffix. */
	memset(id, 'a', 300);
	id[300] = '\0';
	a = names_copy_id("snapferry", id, RDS_INSTANCE);
	CHECK(a != NULL && strlen(a) == 255);
	CHECK(a != NULL && valid_id(a, 255));
	/* Deterministic. */
	b = names_copy_id("snapferry", id, RDS_INSTANCE);
	CHECK_STR(a, b);
	/* A different long id (differs only past the cut) gets another name. */
	id[299] = 'b';
	c = names_copy_id("snapferry", id, RDS_INSTANCE);
	CHECK(a != NULL && c != NULL && strcmp(a, c) != 0);
	CHECK(c != NULL && strncmp(a, c, 255 - 9) == 0);
	CHECK(c != NULL && c[255 - 9] == '-');
	free(a);
	free(b);
	free(c);

	/* Clusters: 63. */
	memset(id, 'x', 70);
	id[70] = '\0';
	d = names_copy_id("snapferry", id, RDS_CLUSTER);
	CHECK(d != NULL && strlen(d) == 63);
	CHECK(d != NULL && valid_id(d, 63));
	free(d);

	/* Exactly at the limit: no hash. 10 + 53 = 63 */
	memset(id, 'y', 53);
	id[53] = '\0';
	d = names_copy_id("snapferry", id, RDS_CLUSTER);
	CHECK(d != NULL && strlen(d) == 63 && strchr(d + 10, '-') == NULL);
	free(d);

	/* The cut never leaves "--" before the hash. */
	memset(id, 'z', 300);
	id[300] = '\0';
	id[244] = '-';
	id[245] = '-';
	a = names_copy_id("snapferry", id, RDS_INSTANCE);
	CHECK(a != NULL && valid_id(a, 255));
	free(a);
}

static void
test_restore_ids(void)
{
	char db[100], *s, *t, *u;

	s = names_restore_id("snapferry", "orders-db");
	CHECK_STR(s, "snapferry-orders-db");
	free(s);
	memset(db, 'q', 80);
	db[80] = '\0';
	s = names_restore_id("snapferry", db);
	CHECK(s != NULL && strlen(s) == 63 && valid_id(s, 63));
	free(s);
	CHECK(names_restore_id("snapferry", "") == NULL);
	/* Same-named DBs of a fleet: the hex of "<account>:<region>", as in the backup ids
	 * (SHA-256 of "444455556666:us-east-1", first 8 hex digits). */
	s = names_restore_id_of("snapferry", "orders", "444455556666", "us-east-1");
	t = names_backup_id("snapferry", "orders-m1", RDS_INSTANCE, "444455556666",
	    "us-east-1");
	CHECK(s != NULL && t != NULL && strncmp(s, "snapferry-orders-", 17) == 0 &&
	    strlen(s) == 25 && strcmp(s + 17, t + strlen(t) - 8) == 0);
	u = names_restore_id_of("snapferry", "orders", "777788889999", "us-east-1");
	CHECK(u != NULL && strcmp(s, u) != 0);
	free(s);
	free(t);
	free(u);
	/* Too long: cut to 63, still distinct per account, deterministic. */
	s = names_restore_id_of("snapferry", db, "444455556666", "us-east-1");
	t = names_restore_id_of("snapferry", db, "777788889999", "us-east-1");
	u = names_restore_id_of("snapferry", db, "444455556666", "us-east-1");
	CHECK(s != NULL && t != NULL && u != NULL && strlen(s) == 63 && valid_id(s, 63) &&
	    strlen(t) == 63 && strcmp(s, t) != 0 && strcmp(s, u) == 0);
	free(s);
	free(t);
	free(u);
	CHECK(names_restore_id_of("snapferry", "", "444455556666", "us-east-1") == NULL);
	CHECK(names_restore_id_of("snapferry", "orders", NULL, "us-east-1") == NULL);
}

static void
test_lineage(void)
{
	struct rds_tag t[] = {
		{ NAMES_TAG_CREATED_BY, "snapferry" },
		{ NAMES_TAG_SOURCE_ARN, "arn:aws:rds:eu-west-1:1:snapshot:s" },
		{ NAMES_TAG_ROLE, "transit" },
		{ "owner", "team" },
	};
	struct rds_tag u[] = {
		{ NAMES_TAG_SOURCE_ARN, "arn:aws:rds:eu-west-1:1:snapshot:s" },
	};

	static const struct {
		const char	*source;
		const char	*role;
		int		 want;
	} rows[] = {
		/* An unknown source matches nothing (it used to match any lineage). */
		{ NULL, NULL, 0 },
		{ NULL, "transit", 0 },
		{ "", NULL, 0 },
		{ "arn:aws:rds:eu-west-1:1:snapshot:s", NULL, 1 },
		{ "arn:aws:rds:eu-west-1:1:snapshot:s", "transit", 1 },
		{ "arn:aws:rds:eu-west-1:1:snapshot:s", "backup", 0 },
		/* Exact: another source, a prefix, an extension, case, another account. */
		{ "arn:aws:rds:eu-west-1:1:snapshot:other", NULL, 0 },
		{ "arn:aws:rds:eu-west-1:1:snapshot:", NULL, 0 },
		{ "arn:aws:rds:eu-west-1:1:snapshot:s2", NULL, 0 },
		{ "arn:aws:rds:eu-west-1:1:snapshot:S", NULL, 0 },
		{ "arn:aws:rds:eu-west-1:2:snapshot:s", NULL, 0 },
		{ "arn:aws:rds:eu-west-1:1:cluster-snapshot:s", NULL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (names_has_lineage(t, 4, rows[i].source, rows[i].role) != rows[i].want)
			fprintf(stderr, "row %zu: %s %s\n", i, rows[i].source ?
			    rows[i].source : "(null)", rows[i].role ? rows[i].role : "(null)");
		CHECK(names_has_lineage(t, 4, rows[i].source, rows[i].role) == rows[i].want);
	}
	CHECK(names_has_lineage(u, 1, "arn:aws:rds:eu-west-1:1:snapshot:s", NULL) == 0);
	CHECK(names_has_lineage(NULL, 0, "arn:aws:rds:eu-west-1:1:snapshot:s", NULL) == 0);
	/* "Any source" is its own function. */
	CHECK(names_is_snapferry(t, 4, NULL) == 1);
	CHECK(names_is_snapferry(t, 4, "transit") == 1);
	CHECK(names_is_snapferry(t, 4, "backup") == 0);
	CHECK(names_is_snapferry(u, 1, NULL) == 0);	/* no created-by */
	CHECK(names_is_snapferry(NULL, 0, NULL) == 0);
	CHECK_STR(names_strip_system_prefix("rds:x"), "x");
	CHECK_STR(names_strip_system_prefix("awsbackup:y"), "y");
	CHECK_STR(names_strip_system_prefix("z"), "z");
}

/* Issue 9, defect 3: the source ARN split over tags of at most 256 characters. */
static void
test_arn_tags(void)
{
	static const size_t lens[] = { 1, 60, 255, 256, 257, 511, 512, 513, 1024 };
	struct names_arn_tags at;
	struct rds_tag t[NAMES_ARN_PARTS + 1];
	struct arn_snapshot a;
	char *arn, *back;
	size_t i, k, len;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		len = lens[i];
		CHECK((arn = malloc(len + 1)) != NULL);
		for (k = 0; k < len; k++)
			arn[k] = (char)('a' + k % 26);
		arn[len] = '\0';
		CHECK(names_arn_tags(arn, &at) == 0);
		CHECK(at.n == (len + NAMES_TAG_VALUE_MAX - 1) / NAMES_TAG_VALUE_MAX);
		for (k = 0; k < at.n; k++) {
			CHECK(strlen(at.tag[k].value) <= NAMES_TAG_VALUE_MAX);
			CHECK(strlen(at.tag[k].key) <= 128);
		}
		CHECK_STR(at.tag[0].key, NAMES_TAG_SOURCE_ARN);
		CHECK((back = names_lineage_arn(at.tag, at.n)) != NULL);
		CHECK_STR(back, arn);
		free(back);
		names_arn_tags_clean(&at);
		free(arn);
	}
	CHECK((arn = malloc(1026)) != NULL);
	memset(arn, 'a', 1025);
	arn[1025] = '\0';
	CHECK(names_arn_tags(arn, &at) == -1);		/* over 4 parts */
	free(arn);
	CHECK(names_arn_tags("", &at) == -1);
	CHECK(names_arn_tags(NULL, &at) == -1);

	/* Malformed: a short first part followed by a second; a gap; nothing. */
	t[0].key = NAMES_TAG_SOURCE_ARN;
	t[0].value = "arn:aws:rds:eu-west-1:1:snapshot:";
	t[1].key = NAMES_TAG_SOURCE_ARN "-2";
	t[1].value = "abc";
	CHECK(names_lineage_arn(t, 2) == NULL);
	t[1].key = NAMES_TAG_SOURCE_ARN "-3";
	CHECK((back = names_lineage_arn(t, 2)) != NULL);	/* -3 without -2: not read */
	CHECK_STR(back, "arn:aws:rds:eu-west-1:1:snapshot:");
	free(back);
	CHECK(names_lineage_arn(t + 1, 1) == NULL);
	CHECK(names_lineage_arn(NULL, 0) == NULL);

	/* A real 255-character instance snapshot id: account and region come back exact. */
	CHECK((arn = malloc(400)) != NULL);
	k = (size_t)snprintf(arn, 400, "arn:aws-us-gov:rds:us-gov-west-1:111122223333:"
	    "snapshot:");
	memset(arn + k, 'q', 255);
	arn[k + 255] = '\0';
	CHECK(names_arn_tags(arn, &at) == 0 && at.n == 2);
	CHECK(names_lineage_source(at.tag, at.n, &a) == 0);
	CHECK_STR(a.account, "111122223333");
	CHECK_STR(a.region, "us-gov-west-1");
	CHECK(strlen(a.id) == 255);
	arn_snapshot_clean(&a);
	t[0].key = NAMES_TAG_CREATED_BY;
	t[0].value = "snapferry";
	t[1] = at.tag[0];
	t[2] = at.tag[1];
	CHECK(names_has_lineage(t, 3, arn, NULL) == 1);
	CHECK(names_has_lineage(t, 2, arn, NULL) == 0);	/* the first part alone */
	arn[k + 254] = 'r';
	CHECK(names_has_lineage(t, 3, arn, NULL) == 0);	/* differs in the last part */
	names_arn_tags_clean(&at);
	free(arn);
}

/* Issue 12: backup copy ids unique per (production account, region, source snapshot). */
static void
test_backup_ids(void)
{
	static const char *accts[] = { "111111111111", "222222222222", "333333333333" };
	char *id[3], *a, *b, *c, *t, longid[256];
	size_t i, j;

	/* Readable, deterministic; the suffix is SHA-256("<account>:<region>")'s start. */
	a = names_backup_id("snapferry", "orders-m1", RDS_INSTANCE, accts[0], "eu-west-1");
	CHECK_STR(a, "snapferry-orders-m1-a89711de");
	b = names_backup_id("snapferry", "orders-m1", RDS_INSTANCE, accts[0], "eu-west-1");
	CHECK_STR(a, b);
	free(b);
	b = names_backup_id("snapferry", "orders-m1", RDS_INSTANCE, accts[0], "us-east-1");
	CHECK_STR(b, "snapferry-orders-m1-191922d0");		/* another region */
	free(b);
	free(a);
	/* Three accounts, same DB and snapshot names: three ids. */
	for (i = 0; i < 3; i++)
		CHECK((id[i] = names_backup_id("snapferry", "orders-m1", RDS_INSTANCE, accts[i],
		    "eu-west-1")) != NULL);
	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++)
			CHECK(strcmp(id[i], id[j]) != 0);
	CHECK_STR(id[1], "snapferry-orders-m1-7c630def");
	for (i = 0; i < 3; i++)
		free(id[i]);
	/* Automated snapshots: "rds:" dropped, like the transit copy. */
	a = names_backup_id("snapferry", "rds:orders-2024-05-01-00-01", RDS_INSTANCE, accts[0],
	    "eu-west-1");
	CHECK_STR(a, "snapferry-orders-2024-05-01-00-01-a89711de");
	t = names_copy_id("snapferry", "rds:orders-2024-05-01-00-01", RDS_INSTANCE);
	CHECK_STR(t, "snapferry-orders-2024-05-01-00-01");	/* T keeps today's name */
	CHECK(strcmp(a, t) != 0);
	free(a);
	free(t);
	/* Both length limits, still distinct per account after the cut. */
	memset(longid, 'o', 255);
	longid[255] = '\0';
	a = names_backup_id("snapferry", longid, RDS_INSTANCE, accts[0], "eu-west-1");
	b = names_backup_id("snapferry", longid, RDS_INSTANCE, accts[1], "eu-west-1");
	CHECK(a != NULL && b != NULL && strlen(a) == 255 && strlen(b) == 255);
	CHECK(strcmp(a, b) != 0 && strncmp(a, "snapferry-ooo", 13) == 0);
	free(a);
	free(b);
	memset(longid, 'c', 63);
	longid[63] = '\0';
	a = names_backup_id("snapferry", longid, RDS_CLUSTER, accts[0], "eu-west-1");
	b = names_backup_id("snapferry", longid, RDS_CLUSTER, accts[1], "eu-west-1");
	c = names_backup_id("snapferry", "aurora1-snap", RDS_CLUSTER, accts[0], "eu-west-1");
	CHECK(a != NULL && b != NULL && strlen(a) == 63 && strlen(b) == 63);
	CHECK(strcmp(a, b) != 0);
	CHECK_STR(c, "snapferry-aurora1-snap-a89711de");
	free(a);
	free(b);
	free(c);
	CHECK(names_backup_id("snapferry", "rds:", RDS_INSTANCE, accts[0], "eu-west-1") == NULL);
	CHECK(names_backup_id("snapferry", "x", RDS_INSTANCE, NULL, "eu-west-1") == NULL);
}

int
main(void)
{
	test_copy_ids();
	test_caps();
	test_restore_ids();
	test_lineage();
	test_arn_tags();
	test_backup_ids();
	UNIT_DONE();
}

/*
 * test_ferry: the pure logic of the ferry — eligibility decisions (table),
 * the classification of AWS errors into outcomes, lineage tags, and the
 * result JSON.  No network: the configuration comes from config_load with
 * a table of variables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "aws.h"
#include "config.h"
#include "ferry.h"
#include "log.h"
#include "names.h"
#include "rds.h"
#include "result.h"
#include "unit.h"

static const char *env_include;
static const char *env_exclude;
static const char *env_over[4][2];	/* more variables, for one test */

static const char *
fake_env(const char *name)
{
	static const char *t[][2] = {
		{ "AWS_REGION", "eu-west-1" },
		{ "BACKUP_ACCOUNT_ID", "222222222222" },
		{ "BACKUP_ROLE_ARN", "arn:aws:iam::222222222222:role/snapferry-backup" },
		{ "SHARE_KMS_KEY_ID", "arn:aws:kms:eu-west-1:111111111111:key/"
		    "11111111-2222-3333-4444-555555555555" },
		{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:eu-west-1:222222222222:key/"
		    "66666666-7777-8888-9999-000000000000" },
	};
	size_t i;

	if (strcmp(name, "INCLUDE_PATTERN") == 0)
		return (env_include);
	if (strcmp(name, "EXCLUDE_PATTERN") == 0)
		return (env_exclude);
	for (i = 0; i < sizeof(env_over) / sizeof(env_over[0]); i++)
		if (env_over[i][0] != NULL && strcmp(name, env_over[i][0]) == 0)
			return (env_over[i][1]);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i][0]) == 0)
			return (t[i][1]);
	return (NULL);
}

#define SHARE_KEY	"arn:aws:kms:eu-west-1:111111111111:key/" \
	"11111111-2222-3333-4444-555555555555"

static void
test_decide(void)
{
	static const struct {
		const char *name;
		enum rds_kind kind;
		const char *id, *type, *db, *engine, *key, *km, *og, *tde;
		int og_blocks;
		enum ferry_plan want;
		int transit_share_key;	/* T with SHARE_KMS_KEY_ID */
		const char *reason_has;
	} t[] = {
		{ "manual unencrypted", RDS_INSTANCE, "s1", "manual", "orders", "postgres",
		    NULL, NULL, NULL, NULL, 0, FERRY_PLAN_SHARE_SOURCE, 0, "unencrypted" },
		{ "manual aws key", RDS_INSTANCE, "s2", "manual", "orders", "postgres",
		    "arn:k", "AWS", NULL, NULL, 0, FERRY_PLAN_TRANSIT, 1, "AWS managed" },
		/* The backup account trusts only the share key: a customer key's snapshot
		 * travels as a transit copy under it, manual or automated. */
		{ "manual customer key", RDS_INSTANCE, "s3", "manual", "orders", "mysql",
		    "arn:k", "CUSTOMER", NULL, NULL, 0, FERRY_PLAN_TRANSIT, 1,
		    "customer key arn:k, not SHARE_KMS_KEY_ID" },
		{ "automated customer key", RDS_INSTANCE, "rds:orders-2024", "automated",
		    "orders", "mysql", "arn:k", "CUSTOMER", NULL, NULL, 0, FERRY_PLAN_TRANSIT,
		    1, "transit copy with SHARE_KMS_KEY_ID" },
		{ "manual share key", RDS_INSTANCE, "s4", "manual", "orders", "mysql",
		    SHARE_KEY, NULL, NULL, NULL, 0, FERRY_PLAN_SHARE_SOURCE, 0,
		    "encrypted with SHARE_KMS_KEY_ID: shared directly" },
		/* Not shareable as it is: a transit copy that keeps the share key. */
		{ "automated share key", RDS_INSTANCE, "rds:orders-2025", "automated",
		    "orders", "mysql", SHARE_KEY, NULL, NULL, NULL, 0, FERRY_PLAN_TRANSIT, 0,
		    "automated" },
		{ "aurora customer key", RDS_CLUSTER, "cl-3", "manual", "aurora-db",
		    "aurora-mysql", "arn:k", "CUSTOMER", NULL, NULL, 0, FERRY_PLAN_TRANSIT, 1,
		    "customer key" },
		{ "aurora share key", RDS_CLUSTER, "cl-4", "manual", "aurora-db",
		    "aurora-mysql", SHARE_KEY, NULL, NULL, NULL, 0, FERRY_PLAN_SHARE_SOURCE, 0,
		    NULL },
		{ "automated aws key", RDS_INSTANCE, "rds:orders-2024", "automated", "orders",
		    "mysql", "arn:k", "AWS", NULL, NULL, 0, FERRY_PLAN_TRANSIT, 1, NULL },
		{ "automated unencrypted", RDS_INSTANCE, "rds:orders-2024", "automated",
		    "orders", "mysql", NULL, NULL, NULL, NULL, 0, FERRY_PLAN_TRANSIT, 0, NULL },
		{ "awsbackup", RDS_INSTANCE, "awsbackup:job-1", "awsbackup", "orders",
		    "mysql", NULL, NULL, NULL, NULL, 0, FERRY_PLAN_TRANSIT, 0, NULL },
		{ "aurora cluster", RDS_CLUSTER, "cl-1", "manual", "aurora-db",
		    "aurora-postgresql", "arn:k", "AWS", NULL, NULL, 0, FERRY_PLAN_TRANSIT, 1,
		    NULL },
		{ "multi-az cluster", RDS_CLUSTER, "cl-2", "manual", "maz-db", "postgres",
		    NULL, NULL, NULL, NULL, 0, FERRY_PLAN_SKIP, 0,
		    "Multi-AZ DB cluster snapshot (engine postgres): AWS does not support copying" },
		{ "tde", RDS_INSTANCE, "o1", "manual", "ora", "oracle-ee", NULL, NULL, NULL,
		    "arn:aws:rds:eu-west-1:1:tde", 0, FERRY_PLAN_SKIP, 0, "TDE" },
		{ "persistent option group", RDS_INSTANCE, "o2", "manual", "ora", "oracle-ee",
		    NULL, NULL, "ora-tde-og", NULL, 1, FERRY_PLAN_SKIP, 0,
		    "persistent or permanent" },
		{ "harmless option group", RDS_INSTANCE, "o3", "manual", "ora", "oracle-ee",
		    NULL, NULL, "ora-plain-og", NULL, 0, FERRY_PLAN_SHARE_SOURCE, 0, NULL },
		{ "default option group", RDS_INSTANCE, "o4", "manual", "ora", "oracle-ee",
		    NULL, NULL, "default:oracle-ee-19", NULL, -1, FERRY_PLAN_SHARE_SOURCE, 0,
		    NULL },
		{ "shared", RDS_INSTANCE, "arn:x", "shared", "x", "mysql", NULL, NULL, NULL,
		    NULL, 0, FERRY_PLAN_IGNORE, 0, "another account" },
		{ "filtered", RDS_INSTANCE, "t1", "manual", "tmp-scratch", "mysql", NULL,
		    NULL, NULL, NULL, 0, FERRY_PLAN_SKIP, 0, "INCLUDE_PATTERN" },
	};
	struct config cfg;
	struct config_error ce;
	struct ferry_decision d;
	struct rds_snapshot s;
	size_t i;

	env_include = NULL;
	env_exclude = "^tmp-";
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_load(&cfg, fake_env, &ce) == 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&s, 0, sizeof(s));
		s.kind = t[i].kind;
		s.id = (char *)(uintptr_t)t[i].id;
		s.snapshot_type = (char *)(uintptr_t)t[i].type;
		s.db_id = (char *)(uintptr_t)t[i].db;
		s.engine = (char *)(uintptr_t)t[i].engine;
		s.kms_key_id = (char *)(uintptr_t)t[i].key;
		s.encrypted = t[i].key != NULL;
		s.option_group = (char *)(uintptr_t)t[i].og;
		s.tde_credential_arn = (char *)(uintptr_t)t[i].tde;
		ferry_decide(&cfg, &s, t[i].km, t[i].og_blocks, &d);
		if (d.plan != t[i].want)
			fprintf(stderr, "case %s: plan %d, want %d (%s)\n", t[i].name,
			    d.plan, t[i].want, d.reason);
		CHECK(d.plan == t[i].want);
		CHECK(d.need_key_check == 0);
		if (t[i].transit_share_key)
			CHECK_STR(d.transit_key, cfg.share_kms_key_id);
		else
			CHECK(d.transit_key == NULL);
		if (t[i].reason_has != NULL)
			CHECK(strstr(d.reason, t[i].reason_has) != NULL);
	}

	/* The lookups are asked for only when they matter. */
	memset(&s, 0, sizeof(s));
	s.kind = RDS_INSTANCE;
	s.id = "s";
	s.snapshot_type = "manual";
	s.db_id = "orders";
	s.engine = "oracle-ee";
	s.kms_key_id = "arn:k";
	s.encrypted = 1;
	s.option_group = "custom";
	ferry_decide(&cfg, &s, NULL, -1, &d);
	CHECK(d.need_key_check == 1 && d.need_option_check == 1);
	s.option_group = "default:oracle-ee-19";
	s.kms_key_id = NULL;
	s.encrypted = 0;
	ferry_decide(&cfg, &s, NULL, -1, &d);
	CHECK(d.need_key_check == 0 && d.need_option_check == 0);
	/* A filtered DB costs no lookup. */
	s.db_id = "tmp-1";
	s.kms_key_id = "arn:k";
	ferry_decide(&cfg, &s, NULL, -1, &d);
	CHECK(d.plan == FERRY_PLAN_SKIP && d.need_key_check == 0);
	config_clean(&cfg);

	/* INCLUDE_PATTERN */
	env_include = "^(orders|billing)$";
	env_exclude = NULL;
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_load(&cfg, fake_env, &ce) == 0);
	s.kms_key_id = NULL;
	s.db_id = "billing";
	ferry_decide(&cfg, &s, NULL, -1, &d);
	CHECK(d.plan == FERRY_PLAN_SHARE_SOURCE);
	s.db_id = "billing2";
	ferry_decide(&cfg, &s, NULL, -1, &d);
	CHECK(d.plan == FERRY_PLAN_SKIP);
	config_clean(&cfg);
}

/* quiet_session(cfg, f): a session of an empty configuration that counts but emits no
 * metrics: what session_fail_aws needs, and no client. */
static void
quiet_session(struct config *cfg, struct session *f)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(f, 0, sizeof(*f));
	f->cfg = cfg;
	f->quiet_metrics = 1;
}

static void
test_errors(void)
{
	static const struct {
		const char *code;
		int retryable;
		enum result_outcome want;
		const char *type;
	} t[] = {
		{ "SnapshotQuotaExceeded", 0, RESULT_PENDING, NULL },
		{ "SharedSnapshotQuotaExceeded", 0, RESULT_PENDING, NULL },
		{ "Throttling", 1, RESULT_PENDING, NULL },
		{ "ThrottlingException", 0, RESULT_PENDING, NULL },
		{ "InternalFailure", 1, RESULT_PENDING, NULL },
		{ "InvalidDBSnapshotState", 0, RESULT_PENDING, NULL },
		{ "AccessDenied", 0, RESULT_FAILED, "Snapferry.AccessDenied" },
		{ "AccessDeniedException", 0, RESULT_FAILED, "Snapferry.AccessDenied" },
		{ "KMSKeyNotAccessibleFault", 0, RESULT_FAILED, "Snapferry.KMSKeyNotAccessible" },
		{ "InvalidClientTokenId", 0, RESULT_FAILED, "Snapferry.Credentials" },
		{ "DisabledException", 0, RESULT_FAILED, "Snapferry.KMSKey" },
		{ "InvalidParameterValue", 0, RESULT_FAILED, "Snapferry.AWSError" },
		/* Nothing answered, every retry: a function error (alarm), not pending forever. */
		{ "NetworkError", 1, RESULT_FAILED, "Snapferry.Network" },
		{ "Timeout", 1, RESULT_FAILED, "Snapferry.Network" },
		/* Out of time is not the network's fault. */
		{ "DeadlineExceeded", 1, RESULT_PENDING, NULL },
	};
	struct config cfg;
	struct session f;
	struct aws_error e;
	struct result r;
	size_t i;

	quiet_session(&cfg, &f);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&e, 0, sizeof(e));
		aws_error_set(&e, t[i].code, "message from AWS");
		e.retryable = t[i].retryable;
		CHECK(result_init(&r, "advance") == 0);
		session_fail_aws(&f, &r, &e, "CopyDBSnapshot", "snap-1", "grant X to Y");
		if (r.outcome != t[i].want)
			fprintf(stderr, "code %s: outcome %s\n", t[i].code,
			    result_outcome_name(r.outcome));
		CHECK(r.outcome == t[i].want);
		CHECK_STR(r.error_type, t[i].type);
		CHECK(r.reason != NULL && strstr(r.reason, t[i].code) != NULL);
		if (t[i].want == RESULT_FAILED && strcmp(t[i].code, "InvalidClientTokenId") != 0 &&
		    strcmp(t[i].type, "Snapferry.Network") != 0)
			CHECK(strstr(r.reason, "grant X to Y") != NULL);
		if (t[i].type != NULL && strcmp(t[i].type, "Snapferry.Network") == 0)
			CHECK(strstr(r.reason, "could not reach") != NULL);
		if (t[i].want == RESULT_PENDING && session_is_quota(t[i].code))
			CHECK(cJSON_GetArraySize(r.warnings) == 1);
		result_clean(&r);
		aws_error_clear(&e);
	}
	CHECK(f.counts.quota == 2);
	CHECK(f.counts.failed == 8);
	CHECK(f.counts.pending == 7);
	CHECK(session_is_quota("SnapshotQuotaExceeded") && !session_is_quota("Throttling"));
	CHECK(!session_is_quota(NULL));
}

/* A refusal of an available snapshot is "busy" for FERRY_REFUSAL_HOURS after it was taken,
 * then final. */
static void
test_refusal(void)
{
	static const struct {
		const char *code;
		time_t age;	/* seconds since the snapshot was taken; -1 = unknown */
		int want;
	} t[] = {
		{ "InvalidDBSnapshotState", 60, 0 },
		{ "InvalidDBSnapshotState", FERRY_REFUSAL_HOURS * 3600 - 1, 0 },
		{ "InvalidDBSnapshotState", FERRY_REFUSAL_HOURS * 3600 + 1, 1 },
		{ "InvalidDBClusterSnapshotStateFault", 3 * 86400, 1 },
		{ "InvalidDBClusterSnapshotStateFault", 600, 0 },
		{ "InvalidDBSnapshotState", -1, 0 },
		/* Only that refusal: other errors have their own classification. */
		{ "Throttling", 3 * 86400, 0 },
		{ "InvalidParameterCombination", 3 * 86400, 0 },
	};
	struct aws_error e;
	time_t now = 1764547200;	/* 2025-12-01T00:00:00Z */
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&e, 0, sizeof(e));
		aws_error_set(&e, t[i].code, "refused");
		CHECK(ferry_refusal_is_final(&e, t[i].age < 0 ? 0 : now - t[i].age, now) ==
		    t[i].want);
		aws_error_clear(&e);
	}
}

/* BACKUP_REGION != AWS_REGION: every snapshot goes, encrypted ones too (a single step,
 * cross-account and cross-Region); the plan is the same as within one Region. */
static void
test_cross_region(void)
{
	static const struct {
		const char *name, *id, *type, *key;
		int encrypted;
		enum ferry_plan want;
	} t[] = {
		{ "manual unencrypted", "s1", "manual", NULL, 0, FERRY_PLAN_SHARE_SOURCE },
		{ "automated unencrypted", "rds:db-1", "automated", NULL, 0, FERRY_PLAN_TRANSIT },
		{ "manual aws key", "s2", "manual", "arn:k", 1, FERRY_PLAN_SHARE_SOURCE },
		{ "automated encrypted", "rds:db-2", "automated", "arn:k", 1, FERRY_PLAN_TRANSIT },
		{ "encrypted, no key id", "s3", "manual", NULL, 1, FERRY_PLAN_SHARE_SOURCE },
	};
	struct config cfg;
	struct config_error ce;
	struct ferry_decision d;
	struct rds_snapshot s;
	size_t i, ix[16];
	int chained;

	env_include = env_exclude = NULL;
	env_over[0][0] = "BACKUP_REGION";
	env_over[0][1] = "us-east-1";
	env_over[1][0] = "BACKUP_KMS_KEY_ID";
	env_over[1][1] = "arn:aws:kms:us-east-1:222222222222:key/"
	    "66666666-7777-8888-9999-000000000000";
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_load(&cfg, fake_env, &ce) == 0);
	/* The one destination is another Region: a single step (ferry_destinations). */
	CHECK(ferry_destinations(&cfg, ix, 16, &chained) == 1 && chained == 0);
	CHECK(strcmp(cfg.backup_regions[ix[0]], cfg.region) != 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&s, 0, sizeof(s));
		s.kind = RDS_INSTANCE;
		s.id = (char *)(uintptr_t)t[i].id;
		s.snapshot_type = (char *)(uintptr_t)t[i].type;
		s.db_id = "orders";
		s.engine = "postgres";
		s.kms_key_id = (char *)(uintptr_t)t[i].key;
		s.encrypted = t[i].encrypted;
		ferry_decide(&cfg, &s, NULL, -1, &d);
		if (d.plan != t[i].want)
			fprintf(stderr, "cross-region case %s: plan %d (%s)\n", t[i].name,
			    d.plan, d.reason);
		CHECK(d.plan == t[i].want);
		/* An encrypted one's key is looked up, as within one Region. */
		CHECK(d.need_key_check == (t[i].key != NULL));
	}
	config_clean(&cfg);
	memset(env_over, 0, sizeof(env_over));

	/* Same region: the encrypted one goes (after its key lookup). */
	memset(&cfg, 0, sizeof(cfg));
	CHECK(config_load(&cfg, fake_env, &ce) == 0);
	CHECK(ferry_destinations(&cfg, ix, 16, &chained) == 1 && chained == 0);
	CHECK(strcmp(cfg.backup_regions[ix[0]], cfg.region) == 0);
	ferry_decide(&cfg, &s, NULL, -1, &d);
	CHECK(d.plan != FERRY_PLAN_SKIP);
	config_clean(&cfg);
}

/* SHARE_KMS_KEY_ID as the key ARN, the bare key id or an alias, against the ARN RDS reports. */
static void
test_share_key(void)
{
	static const struct {
		const char *share, *key;
		int want;
	} t[] = {
		{ SHARE_KEY, SHARE_KEY, 1 },
		{ SHARE_KEY, "arn:aws:kms:eu-west-1:111111111111:key/"
		    "99999999-2222-3333-4444-555555555555", 0 },
		{ SHARE_KEY, NULL, 0 },
		{ "11111111-2222-3333-4444-555555555555", SHARE_KEY, 1 },
		{ "11111111-2222-3333-4444-555555555555", "arn:aws:kms:eu-west-1:"
		    "111111111111:key/x11111111-2222-3333-4444-555555555555", 0 },
		{ "11111111-2222-3333-4444-555555555555", "11111111-2222-3333-4444-555555555555",
		    1 },
		/* An alias is not resolved: the snapshot gets a transit copy (safe). */
		{ "alias/snapferry-share", SHARE_KEY, 0 },
	};
	struct config cfg;
	struct config_error ce;
	struct ferry_decision d;
	struct rds_snapshot s;
	size_t i;

	env_include = env_exclude = NULL;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		env_over[0][0] = "SHARE_KMS_KEY_ID";
		env_over[0][1] = t[i].share;
		memset(&cfg, 0, sizeof(cfg));
		CHECK(config_load(&cfg, fake_env, &ce) == 0);
		if (ferry_is_share_key(&cfg, t[i].key) != t[i].want)
			fprintf(stderr, "share key case %zu\n", i);
		CHECK(ferry_is_share_key(&cfg, t[i].key) == t[i].want);
		/* A manual snapshot under the share key is shared without a key lookup. */
		memset(&s, 0, sizeof(s));
		s.kind = RDS_INSTANCE;
		s.id = "m1";
		s.snapshot_type = "manual";
		s.db_id = "orders";
		s.engine = "postgres";
		s.kms_key_id = (char *)(uintptr_t)t[i].key;
		s.encrypted = t[i].key != NULL;
		ferry_decide(&cfg, &s, NULL, -1, &d);
		if (t[i].key != NULL) {
			CHECK(d.need_key_check == !t[i].want);
			ferry_decide(&cfg, &s, "CUSTOMER", -1, &d);
			CHECK(d.plan == (t[i].want ? FERRY_PLAN_SHARE_SOURCE : FERRY_PLAN_TRANSIT));
			if (!t[i].want)
				CHECK_STR(d.transit_key, cfg.share_kms_key_id);
		}
		config_clean(&cfg);
	}
	memset(env_over, 0, sizeof(env_over));
}

static void
test_tags(void)
{
	struct rds_snapshot s;
	struct rds_tag t[NAMES_MAX_TAGS];
	struct names_arn_tags at;
	struct session f;
	size_t n, i;
	char id[256], *arn, *back;

	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	s.arn = "arn:aws:rds:eu-west-1:111111111111:snapshot:rds:orders-2024";
	s.db_id = "orders";
	s.kms_key_id = "arn:aws:kms:eu-west-1:111111111111:key/abc";
	s.create_time = "2024-05-01T00:05:00.123Z";
	CHECK(names_lineage_tags(&s, NAMES_ROLE_BACKUP, &at, t, &n) == 0);
	CHECK(n == 7);
	CHECK_STR(rds_tag_get(t, n, NAMES_TAG_SOURCE_ARN), s.arn);
	CHECK_STR(rds_tag_get(t, n, NAMES_TAG_SOURCE_DB), "orders");
	CHECK_STR(rds_tag_get(t, n, NAMES_TAG_ROLE), "backup");
	CHECK_STR(rds_tag_get(t, n, NAMES_TAG_CREATED_BY), "snapferry");
	CHECK_STR(rds_tag_get(t, n, NAMES_TAG_SOURCE_TIME), s.create_time);
	CHECK(names_has_lineage(t, n, s.arn, NAMES_ROLE_BACKUP));
	CHECK(!names_has_lineage(t, n, s.arn, NAMES_ROLE_TRANSIT));
	names_arn_tags_clean(&at);
	s.kms_key_id = NULL;
	s.create_time = NULL;
	CHECK(names_lineage_tags(&s, NAMES_ROLE_TRANSIT, &at, t, &n) == 0);
	CHECK(n == 6);
	CHECK_STR(rds_tag_get(t, n, NAMES_TAG_SOURCE_KEY), "none");
	names_arn_tags_clean(&at);

	/* Issue 9, defect 3: a 255-character id makes an ARN over 256 characters; every
	 * tag stays within AWS's limits and the lineage is exact. */
	memset(id, 'x', 255);
	id[255] = '\0';
	CHECK((arn = malloc(64 + 255)) != NULL);
	snprintf(arn, 64 + 255, "arn:aws:rds:eu-west-1:111111111111:snapshot:%s", id);
	s.arn = arn;
	s.kms_key_id = "arn:aws:kms:eu-west-1:111111111111:key/abc";
	s.create_time = "2024-05-01T00:05:00.123Z";
	CHECK(names_lineage_tags(&s, NAMES_ROLE_BACKUP, &at, t, &n) == 0);
	CHECK(n == 8);
	for (i = 0; i < n; i++) {
		CHECK(strlen(t[i].key) <= 128);
		CHECK(strlen(t[i].value) <= NAMES_TAG_VALUE_MAX);
	}
	CHECK(rds_tag_get(t, n, NAMES_TAG_SOURCE_ARN "-2") != NULL);
	CHECK((back = names_lineage_arn(t, n)) != NULL);
	CHECK_STR(back, arn);
	free(back);
	CHECK(names_has_lineage(t, n, arn, NAMES_ROLE_BACKUP));
	names_arn_tags_clean(&at);
	free(arn);
}

static void
test_result_json(void)
{
	struct result r;
	cJSON *o, *st;
	char *s;

	CHECK(result_init(&r, "advance") == 0);
	xstrdup_replace(&r.source, "arn:aws:rds:eu-west-1:1:snapshot:s");
	xstrdup_replace(&r.transit, "snapferry-s");
	xstrdup_replace(&r.backup, "snapferry-s");
	r.dry_run = 1;
	result_step(&r, "would:%s %s", "CopyDBSnapshot", "s -> snapferry-s");
	result_step(&r, "second");
	result_finish(&r, RESULT_PENDING, "copy %s is %s", "snapferry-s", "creating");
	s = result_print(&r);
	CHECK(s != NULL);
	o = cJSON_Parse(s);
	CHECK(o != NULL);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "outcome")), "pending");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "source")),
	    "arn:aws:rds:eu-west-1:1:snapshot:s");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "reason")),
	    "copy snapferry-s is creating");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "transit")), "snapferry-s");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(o, "dryRun")));
	st = cJSON_GetObjectItem(o, "steps");
	CHECK(cJSON_GetArraySize(st) == 2);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(st, 0)),
	    "would:CopyDBSnapshot s -> snapferry-s");
	CHECK(cJSON_GetObjectItem(o, "warnings") == NULL);
	CHECK(cJSON_GetObjectItem(o, "errorType") == NULL);
	cJSON_Delete(o);
	free(s);

	result_fail(&r, "Snapferry.AccessDenied", "denied: %d", 403);
	o = result_json(&r);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "outcome")), "failed");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "errorType")),
	    "Snapferry.AccessDenied");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "reason")), "denied: 403");
	cJSON_Delete(o);
	result_clean(&r);

	CHECK_STR(result_outcome_name(RESULT_DONE), "done");
	CHECK_STR(result_outcome_name(RESULT_IGNORED), "ignored");
	CHECK_STR(result_outcome_name(RESULT_SKIPPED), "skipped");
}

/* The "To fix" of a failed RDS call names the permission of the snapshot's kind, for the
 * role that made the call (a cluster's describe used to name rds:DescribeDBSnapshots). */
static void
test_fix_hints(void)
{
	static const struct {
		enum rds_kind	 kind;
		enum rds_op	 op;
		const char	*who, *name, *want, *not;
	} t[] = {
		{ RDS_CLUSTER, RDS_OP_DESCRIBE, SESSION_OWN_ROLE, "DescribeDBClusterSnapshots",
		    "allow rds:DescribeDBClusterSnapshots and rds:ListTagsForResource to the "
		    "function's role", "rds:DescribeDBSnapshots" },
		{ RDS_INSTANCE, RDS_OP_DESCRIBE, SESSION_BACKUP_ROLE, "DescribeDBSnapshots",
		    "allow rds:DescribeDBSnapshots and rds:ListTagsForResource to BACKUP_ROLE_ARN",
		    "Cluster" },
		{ RDS_CLUSTER, RDS_OP_SHARE, SESSION_OWN_ROLE, "ModifyDBClusterSnapshotAttribute",
		    "allow rds:ModifyDBClusterSnapshotAttribute to", "rds:ModifyDBSnapshotAttribute" },
		{ RDS_INSTANCE, RDS_OP_DELETE, "X", "DeleteDBSnapshot",
		    "allow rds:DeleteDBSnapshot to X", "Cluster" },
		{ RDS_CLUSTER, RDS_OP_DBS, SESSION_BACKUP_ROLE, "DescribeDBClusters",
		    "allow rds:DescribeDBClusters to BACKUP_ROLE_ARN", "Instances" },
		{ RDS_INSTANCE, RDS_OP_RESTORE, "X", "RestoreDBInstanceFromDBSnapshot",
		    "rds:RestoreDBInstanceFromDBSnapshot", "Cluster" },
	};
	struct config cfg;
	struct session f;
	struct aws_error e;
	struct result r;
	size_t i;

	quiet_session(&cfg, &f);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_STR(rds_op_name(t[i].kind, t[i].op), t[i].name);
		memset(&e, 0, sizeof(e));
		aws_error_set(&e, "AccessDenied", "not authorized");
		CHECK(result_init(&r, "advance") == 0);
		session_fail_rds(&f, &r, &e, t[i].kind, t[i].op, "snap-1", t[i].who);
		CHECK(e.code == NULL && e.message == NULL);	/* cleared */
		CHECK_STR(r.error_type, "Snapferry.AccessDenied");
		CHECK(r.reason != NULL && strstr(r.reason, t[i].want) != NULL);
		CHECK(r.reason != NULL && strstr(r.reason, t[i].name) != NULL);
		CHECK(r.reason != NULL && strstr(r.reason, t[i].not) == NULL);
		if (r.reason != NULL && strstr(r.reason, t[i].want) == NULL)
			fprintf(stderr, "reason: %s\n", r.reason);
		result_clean(&r);
	}
}

int
main(void)
{
	log_set_stream(stderr);
	log_set_level(LOG_ERROR);
	test_decide();
	test_errors();
	test_fix_hints();
	test_refusal();
	test_cross_region();
	test_share_key();
	test_tags();
	test_result_json();
	UNIT_DONE();
}

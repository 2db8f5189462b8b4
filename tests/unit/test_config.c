/*
 * test_config: every variable of the design's table, good and bad values
 * (table-driven), defaults, and the rule that an error names its variable
 * and never repeats the external id.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "unit.h"

#define ACCT	"444455556666"
#define KEY	"1234abcd-12ab-34cd-56ef-1234567890ab"

/* The environment a test case sees: the good base with one variable changed. */
static const char *const base[][2] = {
	{ "AWS_REGION", "us-east-1" },
	{ "BACKUP_ACCOUNT_ID", ACCT },
	{ "BACKUP_ROLE_ARN", "arn:aws:iam::" ACCT ":role/snapferry-backup" },
	{ "SHARE_KMS_KEY_ID", "alias/snapferry-share" },
	{ "BACKUP_KMS_KEY_ID", KEY },
};
/* The keeper's good base: its own region and mode, nothing of the ferry's. */
static const char *const keeper_base[][2] = {
	{ "AWS_REGION", "us-east-1" },
	{ "SNAPFERRY_MODE", "keeper" },
};
static int keeper;				/* 1: keeper_base instead of base */
static const char *over_name, *over_value;	/* the change; value NULL = unset */
static const char *over2_name, *over2_value;

static const char *
fake_getenv(const char *name)
{
	size_t i;

	if (over_name != NULL && strcmp(name, over_name) == 0)
		return (over_value);
	if (over2_name != NULL && strcmp(name, over2_name) == 0)
		return (over2_value);
	if (keeper) {
		for (i = 0; i < sizeof(keeper_base) / sizeof(keeper_base[0]); i++)
			if (strcmp(name, keeper_base[i][0]) == 0)
				return (keeper_base[i][1]);
		return (NULL);
	}
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (strcmp(name, base[i][0]) == 0)
			return (base[i][1]);
	return (NULL);
}

static const struct {
	const char	*var;
	const char	*value;		/* NULL: unset */
	int		 ok;
	const char	*words;		/* in the message when !ok */
} cases[] = {
	{ "AWS_REGION", "eu-central-2", 1, NULL },
	{ "AWS_REGION", "us-gov-west-1", 1, NULL },
	{ "AWS_REGION", "cn-north-1", 1, NULL },
	{ "AWS_REGION", NULL, 0, "is required" },
	{ "AWS_REGION", "", 0, "is required" },
	{ "AWS_REGION", "US-EAST-1", 0, "region" },
	{ "AWS_REGION", "useast1", 0, "region" },
	{ "AWS_REGION", "us-east-", 0, "region" },
	{ "BACKUP_ACCOUNT_ID", NULL, 0, "is required" },
	{ "BACKUP_ACCOUNT_ID", "12345678901", 0, "12 digits" },
	{ "BACKUP_ACCOUNT_ID", "1234567890123", 0, "12 digits" },
	{ "BACKUP_ACCOUNT_ID", "44445555666a", 0, "12 digits" },
	{ "BACKUP_ROLE_ARN", "arn:aws:iam::" ACCT ":role/path/to/snapferry+x=y,z.w@v_u-t", 1, NULL },
	{ "BACKUP_ROLE_ARN", "arn:aws-us-gov:iam::" ACCT ":role/r", 1, NULL },
	{ "BACKUP_ROLE_ARN", NULL, 0, "is required" },
	{ "BACKUP_ROLE_ARN", "arn:aws:iam::" ACCT ":user/bob", 0, "role ARN" },
	{ "BACKUP_ROLE_ARN", "arn:aws:iam::" ACCT ":role/", 0, "role ARN" },
	{ "BACKUP_ROLE_ARN", "arn:aws:iam:us-east-1:" ACCT ":role/r", 0, "role ARN" },
	{ "BACKUP_ROLE_ARN", "arn:aws:sts::" ACCT ":role/r", 0, "role ARN" },
	{ "BACKUP_ROLE_ARN", "arn:aws:iam::4444:role/r", 0, "role ARN" },
	{ "BACKUP_ROLE_ARN", "arn:aws:iam::" ACCT ":role/a b", 0, "role ARN" },
	{ "BACKUP_ROLE_ARN", "arn:azure:iam::" ACCT ":role/r", 0, "role ARN" },
	{ "BACKUP_ROLE_ARN", "arn:aws:iam::111122223333:role/r", 0, "BACKUP_ACCOUNT_ID" },
	{ "BACKUP_EXTERNAL_ID", "snapferry-2024/ext:id=1", 1, NULL },
	{ "BACKUP_EXTERNAL_ID", "x", 0, "2 to 1224" },
	{ "BACKUP_EXTERNAL_ID", "has space", 0, "character 4" },
	{ "SHARE_KMS_KEY_ID", KEY, 1, NULL },
	{ "SHARE_KMS_KEY_ID", "mrk-1234abcd12ab34cd56ef1234567890ab", 1, NULL },
	{ "SHARE_KMS_KEY_ID", "alias/snapferry-share", 1, NULL },
	{ "SHARE_KMS_KEY_ID", "arn:aws:kms:us-east-1:123456789012:alias/snapferry-share", 1, NULL },
	{ "SHARE_KMS_KEY_ID", NULL, 0, "is required" },
	{ "SHARE_KMS_KEY_ID", "alias/aws/rds", 0, "customer managed" },
	{ "SHARE_KMS_KEY_ID", "arn:aws:kms:us-east-1:123456789012:alias/aws/rds", 0, "customer managed" },
	{ "SHARE_KMS_KEY_ID", "1234ABCD-12ab-34cd-56ef-1234567890ab", 0, "KMS key" },
	{ "SHARE_KMS_KEY_ID", "arn:aws:kms:us-east-1:123456789012:key/nope", 0, "KMS key" },
	{ "SHARE_KMS_KEY_ID", "arn:aws:kms:eu-west-1:123456789012:key/" KEY, 0, "must be in us-east-1" },
	{ "SHARE_KMS_KEY_ID", "my-key", 0, "KMS key" },
	/* A key of the backup account as the share key: the function would run there. */
	{ "SHARE_KMS_KEY_ID", "arn:aws:kms:us-east-1:" ACCT ":key/" KEY, 0,
	    "is " ACCT ", this function's own account" },
	{ "SHARE_KMS_KEY_ID", "arn:aws:kms:us-east-1:" ACCT ":alias/snapferry-share", 0,
	    "must live in another account" },
	{ "BACKUP_KMS_KEY_ID", "alias/aws/rds", 1, NULL },	/* the backup account's own default key */
	{ "BACKUP_KMS_KEY_ID", NULL, 0, "is required" },
	{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:us-east-1:123456789012:key/" KEY, 0, "BACKUP_ACCOUNT_ID" },
	{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:us-west-2:" ACCT ":key/" KEY, 0, "must be in us-east-1" },
	{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:us-east-1:" ACCT ":key/" KEY, 1, NULL },
	{ "BACKUP_REGION", "eu-west-1", 1, NULL },
	{ "BACKUP_REGION", "nowhere", 0, "region" },
	{ "BACKUP_REGION", "us-east-1,eu-west-1", 0, "names one Region; list several in BACKUP_REGIONS" },
	{ "BACKUP_REGIONS", "us-east-1", 1, NULL },
	{ "BACKUP_REGIONS", " us-east-1 ", 1, NULL },
	{ "BACKUP_REGIONS", "us-east-1,us-east-1", 0, "lists us-east-1 twice" },
	{ "BACKUP_REGIONS", "us-east-1,", 0, "\"\" is not a region" },
	{ "BACKUP_REGIONS", "us-east-1,,eu-west-1", 0, "comma-separated list of Regions" },
	{ "BACKUP_REGIONS", "us-east-1;eu-west-1", 0, "is not a region" },
	{ "BACKUP_REGIONS", "a-1,b-1,c-1,d-1,e-1,f-1,g-1,h-1,i-1,j-1,k-1,l-1,m-1,n-1,o-1,p-1,q-1",
	    0, "at most 16" },
	/* Several destinations: BACKUP_KMS_KEY_ID must then name a key per Region. */
	{ "BACKUP_REGIONS", "us-east-1,eu-west-1", 0, "BACKUP_KMS_KEY_ID must list one key ARN "
	    "per Region of BACKUP_REGIONS" },
	{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:us-east-1:" ACCT ":key/" KEY ",arn:aws:kms:us-east-1:"
	    ACCT ":key/" KEY, 0, "has two keys in us-east-1" },
	{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:us-east-1:" ACCT ":key/" KEY ",", 0, "is not a key ARN" },
	{ "NAME_PREFIX", "sf-2", 1, NULL },
	{ "NAME_PREFIX", "a234567890123456789012345678901234567890", 1, NULL },
	{ "NAME_PREFIX", "a2345678901234567890123456789012345678901", 0, "at most 40" },
	{ "NAME_PREFIX", "2fast", 0, "start with a letter" },
	{ "NAME_PREFIX", "snap_ferry", 0, "letters, digits and hyphens" },
	{ "NAME_PREFIX", "snap-", 0, "hyphen" },
	{ "NAME_PREFIX", "snap--ferry", 0, "hyphen" },
	/* Upper case would not match the IAM ARNs of the templates (RDS lower-cases ids). */
	{ "NAME_PREFIX", "SnapFerry", 0, "must be lower case" },
	{ "NAME_PREFIX", "snapferrY", 0, "must be lower case" },
	{ "INCLUDE_PATTERN", "^(orders|billing)-", 1, NULL },
	{ "INCLUDE_PATTERN", "(unclosed", 0, "regular expression" },
	{ "EXCLUDE_PATTERN", "[z-a]", 0, "regular expression" },
	{ "TRANSIT_CLEANUP", "false", 1, NULL },
	{ "TRANSIT_CLEANUP", "NO", 1, NULL },
	{ "TRANSIT_CLEANUP", "maybe", 0, "true or false" },
	{ "DRY_RUN", "True", 1, NULL },
	{ "DRY_RUN", "2", 0, "true or false" },
	/* The keeper's variables on a ferry: an error naming who reads them. */
	{ "RESTORE", "on", 0, "is read by the keeper (SNAPFERRY_MODE=keeper)" },
	{ "RETENTION_DAYS", "35", 0, "is read by the keeper (SNAPFERRY_MODE=keeper) in the "
	    "backup account, not by the ferry" },
	{ "RETENTION_MIN_COPIES", "3", 0, "is read by the keeper" },
	{ "KEEPER_MIN_RETENTION_DAYS", "3", 0, "is read by the keeper" },
	{ "RESTORE_SUBNET_GROUP", "private", 0, "is read by the keeper" },
	{ "DRILL_CONCURRENCY", "3", 0, "is read by the keeper" },
	{ "DRILL_PROBE", "tcp", 0, "is read by the keeper" },
	{ "DRILL_INCLUDE_PATTERN", "^orders", 0, "is read by the keeper" },
	{ "SNAPFERRY_MODE", "ferry", 1, NULL },
	{ "SNAPFERRY_MODE", "Ferry", 1, NULL },
	{ "SNAPFERRY_MODE", "bunker", 0, "must be ferry (production) or keeper" },
	{ "WAIT_SECONDS", "840", 1, NULL },
	{ "WAIT_SECONDS", "841", 0, "between 0 and 840" },
	{ "WAIT_SECONDS", " 5", 0, "whole number" },
	{ "LOG_LEVEL", "debug", 1, NULL },
	{ "LOG_LEVEL", "verbose", 0, "debug, info, warn or error" },
	{ "AWS_ENDPOINT_URL", "http://127.0.0.1:5000", 1, NULL },
	{ "AWS_ENDPOINT_URL_RDS", "https://rds.example.test/path", 1, NULL },
	{ "AWS_ENDPOINT_URL_STS", "127.0.0.1:5000", 0, "http:// or https://" },
	{ "AWS_ENDPOINT_URL_KMS", "http://", 0, "host" },
};

/* The same, on the keeper (keeper_base). */
static const struct {
	const char	*var;
	const char	*value;
	int		 ok;
	const char	*words;
} keeper_cases[] = {
	{ "RESTORE", "on", 1, NULL },
	{ "RESTORE", "enabled", 0, "true or false" },
	{ "DRILL_INCLUDE_PATTERN", "^(orders|billing)$", 1, NULL },
	{ "DRILL_INCLUDE_PATTERN", "([", 0, "regular expression" },
	{ "DRILL_CONCURRENCY", "5", 1, NULL },
	{ "DRILL_CONCURRENCY", "0", 0, "from 1 to 20" },
	{ "DRILL_CONCURRENCY", "2x", 0, "whole number" },
	{ "DRILL_INSTANCE_CLASS", "db.r6g.large", 1, NULL },
	{ "DRILL_INSTANCE_CLASS", "r6g.large", 0, "db.t3.micro" },
	{ "DRILL_INSTANCE_CLASS", "db.t3;micro", 0, "db.t3.micro" },
	{ "DRILL_SUBNET_GROUP", "private drills", 1, NULL },
	{ "DRILL_SUBNET_GROUP", "a/b", 0, "subnet group" },
	{ "DRILL_SECURITY_GROUP_IDS", "sg-0123456789abcdef0,sg-12345678", 1, NULL },
	{ "DRILL_SECURITY_GROUP_IDS", "sg-XYZ", 0, "security group" },
	{ "DRILL_TIMEOUT_MINUTES", "60", 1, NULL },
	{ "DRILL_TIMEOUT_MINUTES", "5", 0, "from 10 to" },
	{ "DRILL_MAX_AGE_DAYS", "30", 1, NULL },
	{ "DRILL_MAX_AGE_DAYS", "0", 0, "from 1 to" },
	{ "DRILL_PROBE", "tcp", 1, NULL },
	{ "DRILL_PROBE", "OFF", 1, NULL },
	{ "DRILL_PROBE", "icmp", 0, "off or tcp" },
	{ "RETENTION_DAYS", "35", 1, NULL },
	{ "RETENTION_DAYS", "7", 1, NULL },
	{ "RETENTION_DAYS", "0", 1, NULL },
	{ "RETENTION_DAYS", "6", 0, "below KEEPER_MIN_RETENTION_DAYS 7" },
	{ "RETENTION_DAYS", "-1", 0, "between 0 and" },
	{ "RETENTION_DAYS", "7d", 0, "whole number" },
	{ "RETENTION_DAYS", "99999999999999999999", 0, "whole number" },
	{ "RETENTION_MIN_COPIES", "3", 1, NULL },
	{ "RETENTION_MIN_COPIES", "0", 0, "between 1 and" },
	{ "KEEPER_MIN_RETENTION_DAYS", "30", 1, NULL },
	{ "KEEPER_MIN_RETENTION_DAYS", "0", 0, "between 1 and" },
	{ "RESTORE_INSTANCE_CLASS", "db.r6g.2xlarge", 1, NULL },
	{ "RESTORE_INSTANCE_CLASS", "r6g.large", 0, "instance class" },
	{ "RESTORE_SUBNET_GROUP", "private subnets_1.a-b", 1, NULL },
	{ "RESTORE_SUBNET_GROUP", "bad/name", 0, "subnet group" },
	{ "RESTORE_SECURITY_GROUP_IDS", "sg-0123456789abcdef0, sg-12345678", 1, NULL },
	{ "RESTORE_SECURITY_GROUP_IDS", "sg-0123456789abcdef0,,sg-12345678", 0, "security group" },
	{ "RESTORE_SECURITY_GROUP_IDS", "sg-xyz", 0, "\"sg-xyz\"" },
	{ "NAME_PREFIX", "vault", 1, NULL },
	{ "NAME_PREFIX", "Vault", 0, "must be lower case" },
	{ "DRY_RUN", "true", 1, NULL },
	{ "LOG_LEVEL", "warn", 1, NULL },
	/* The ferry's variables on the keeper. */
	{ "BACKUP_ROLE_ARN", "arn:aws:iam::" ACCT ":role/snapferry-backup", 0,
	    "is read by the ferry (SNAPFERRY_MODE=ferry) in the production account, not by "
	    "the keeper" },
	{ "BACKUP_ACCOUNT_ID", ACCT, 0, "is read by the ferry" },
	{ "BACKUP_EXTERNAL_ID", "ext-id", 0, "is read by the ferry" },
	{ "SHARE_KMS_KEY_ID", KEY, 0, "is read by the ferry" },
	{ "BACKUP_REGION", "us-east-1", 0, "is read by the ferry" },
	/* Read by both: on the keeper, every destination Region and its own Region's key. */
	{ "BACKUP_REGIONS", "us-east-1", 1, NULL },
	{ "BACKUP_REGIONS", "eu-west-1", 0, "must list this keeper's own Region us-east-1" },
	{ "BACKUP_REGIONS", "us-east-1,us-east-1", 0, "lists us-east-1 twice" },
	{ "BACKUP_REGIONS", "us-east-1,eu-west", 0, "\"eu-west\" is not a region" },
	{ "BACKUP_KMS_KEY_ID", KEY, 1, NULL },
	{ "BACKUP_KMS_KEY_ID", "alias/snapferry-backup", 1, NULL },
	{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:us-east-1:" ACCT ":key/" KEY, 1, NULL },
	{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:eu-west-1:" ACCT ":key/mrk-1234abcd12ab34cd56ef1234567890ab", 1, NULL },
	{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:eu-west-1:" ACCT ":key/" KEY, 0,
	    "is a key in eu-west-1, but this keeper copies into its own Region us-east-1" },
	{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:eu-west-1:" ACCT ":alias/snapferry-backup", 0,
	    "is a key in eu-west-1" },
	{ "BACKUP_KMS_KEY_ID", KEY "," KEY, 0, "not a list" },
	{ "BACKUP_KMS_KEY_ID", "not a key", 0, "must be a KMS key id" },
	{ "INCLUDE_PATTERN", "x", 0, "is read by the ferry" },
	{ "EXCLUDE_PATTERN", "x", 0, "is read by the ferry" },
	{ "TRANSIT_CLEANUP", "off", 0, "is read by the ferry" },
	{ "WAIT_SECONDS", "5", 0, "is read by the ferry" },
};

static void
test_keeper_table(void)
{
	struct config_error err;
	struct config c;
	size_t i;
	int rc;

	keeper = 1;
	for (i = 0; i < sizeof(keeper_cases) / sizeof(keeper_cases[0]); i++) {
		over_name = keeper_cases[i].var;
		over_value = keeper_cases[i].value;
		rc = config_load(&c, fake_getenv, &err);
		if ((rc == 0) != keeper_cases[i].ok)
			fprintf(stderr, "keeper case %zu %s=%s: rc %d (%s)\n", i,
			    keeper_cases[i].var, keeper_cases[i].value, rc, err.msg);
		CHECK((rc == 0) == keeper_cases[i].ok);
		if (rc == 0) {
			CHECK(c.mode == CONFIG_MODE_KEEPER);
			config_clean(&c);
			continue;
		}
		if (keeper_cases[i].ok)
			continue;
		CHECK_STR(err.var, keeper_cases[i].var);
		if (strstr(err.msg, keeper_cases[i].words) == NULL)
			fprintf(stderr, "keeper case %zu: \"%s\" lacks \"%s\"\n", i, err.msg,
			    keeper_cases[i].words);
		CHECK(strstr(err.msg, keeper_cases[i].words) != NULL);
		CHECK(strstr(err.msg, err.var) == err.msg);
	}

	/* Defaults: no backup target, the floor at 7 days, keep one copy. */
	over_name = over_value = NULL;
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.mode == CONFIG_MODE_KEEPER);
	CHECK_STR(config_mode_name(c.mode), "keeper");
	CHECK(c.backup_account_id == NULL && c.backup_role_arn == NULL &&
	    c.backup_kms_key_id == NULL && c.share_kms_key_id == NULL);
	CHECK(c.keeper_min_retention_days == 7 && c.retention_days == 0 &&
	    c.retention_min_copies == 1 && c.restore == 0);
	/* Restore drills: every DB, two at once, three hours, fourteen days, no probe. */
	CHECK(c.drill.concurrency == 2 && c.drill.timeout_minutes == 180 &&
	    c.drill.max_age_days == 14 && c.drill.probe_tcp == 0 && !c.drill.has_include &&
	    c.drill.instance_class == NULL && c.drill.n_sg_ids == 0);
	CHECK(config_drill_selected(&c.drill, "anything") == 1);
	config_clean(&c);

	/* A lower floor admits a shorter RETENTION_DAYS. */
	over_name = "KEEPER_MIN_RETENTION_DAYS";
	over_value = "2";
	over2_name = "RETENTION_DAYS";
	over2_value = "3";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.retention_days == 3 && c.keeper_min_retention_days == 2);
	config_clean(&c);
	over_value = "4";
	CHECK(config_load(&c, fake_getenv, &err) == -1);
	CHECK_STR(err.var, "RETENTION_DAYS");
	over_name = over2_name = NULL;

	/* The chain's Regions and key: BACKUP_REGIONS with another Region and no key loads
	 * (the CLI restore reads BACKUP_REGIONS without a key; each chain run fails naming it). */
	over_name = "BACKUP_REGIONS";
	over_value = "eu-west-1, us-east-1";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.n_backup_regions == 2 && c.backup_kms_key_id == NULL);
	config_clean(&c);
	over2_name = "BACKUP_KMS_KEY_ID";
	over2_value = "arn:aws:kms:eu-west-1:" ACCT ":key/mrk-0123abcd12ab34cd56ef1234567890ab";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.n_backup_regions == 2);
	CHECK_STR(c.backup_regions[0], "eu-west-1");
	CHECK_STR(c.backup_regions[1], "us-east-1");
	CHECK_STR(c.backup_region, "us-east-1");
	/* The multi-Region key's replica in the keeper's own Region. */
	CHECK_STR(c.backup_kms_key_id, "arn:aws:kms:us-east-1:" ACCT ":key/mrk-0123abcd12ab34cd56ef1234567890ab");
	config_clean(&c);
	over2_value = "arn:aws:kms:eu-west-1:" ACCT ":key/" KEY;
	CHECK(config_load(&c, fake_getenv, &err) == -1);
	CHECK_STR(err.var, "BACKUP_KMS_KEY_ID");
	CHECK(strstr(err.msg, "eu-west-1") != NULL);
	/* Neither set: the keeper's own Region alone, no key, no chain. */
	over_name = over2_name = NULL;
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.n_backup_regions == 1 && c.backup_kms_key_id == NULL);
	CHECK_STR(c.backup_regions[0], "us-east-1");
	config_clean(&c);
	keeper = 0;
}

static void
test_table(void)
{
	struct config_error err;
	struct config c;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		over_name = cases[i].var;
		over_value = cases[i].value;
		rc = config_load(&c, fake_getenv, &err);
		if ((rc == 0) != cases[i].ok)
			fprintf(stderr, "case %zu %s=%s: rc %d (%s)\n", i, cases[i].var,
			    cases[i].value ? cases[i].value : "(unset)", rc, err.msg);
		CHECK((rc == 0) == cases[i].ok);
		if (rc == 0 || cases[i].ok) {
			if (rc == 0)
				config_clean(&c);
			continue;
		}
		/* The message names the variable at fault and says what is wrong. */
		CHECK(strstr(err.msg, cases[i].var) != NULL);
		if (strstr(err.msg, cases[i].words) == NULL)
			fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i, err.msg, cases[i].words);
		CHECK(strstr(err.msg, cases[i].words) != NULL);
		CHECK(err.var[0] != '\0' && strstr(err.msg, err.var) == err.msg);
	}
	over_name = over_value = NULL;
}

static void
test_defaults(void)
{
	struct config_error err;
	struct config c;

	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK_STR(c.region, "us-east-1");
	CHECK_STR(c.backup_region, "us-east-1");
	CHECK(c.n_backup_regions == 1);
	CHECK_STR(c.backup_regions[0], "us-east-1");
	CHECK_STR(c.backup_kms_keys[0], KEY);
	CHECK_STR(c.name_prefix, "snapferry");
	CHECK(c.account_id == NULL && c.backup_external_id == NULL);
	CHECK(c.transit_cleanup == 1 && c.dry_run == 0 && c.restore == 0);
	CHECK(c.retention_days == 0 && c.retention_min_copies == 1 && c.wait_seconds == 0);
	CHECK(c.log_level == LOG_INFO);
	CHECK(!c.has_include && !c.has_exclude && c.n_restore_sg_ids == 0);
	CHECK(c.restore_instance_class == NULL && c.restore_subnet_group == NULL);
	CHECK(config_db_selected(&c, "anything"));
	config_clean(&c);
	config_clean(&c);	/* twice is fine: zeroed */

	/* AWS_DEFAULT_REGION when AWS_REGION is unset; an empty value counts as unset. */
	over_name = "AWS_REGION";
	over_value = "";
	over2_name = "AWS_DEFAULT_REGION";
	over2_value = "us-east-1";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK_STR(c.region, "us-east-1");
	config_clean(&c);
	over2_value = "eu-west-3";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK_STR(c.region, "eu-west-3");
	CHECK_STR(c.backup_region, "eu-west-3");
	config_clean(&c);
	over2_value = "bad";
	CHECK(config_load(&c, fake_getenv, &err) == -1);
	CHECK_STR(err.var, "AWS_DEFAULT_REGION");
	over_name = over2_name = NULL;

	/* Values that are set. */
	over_name = "TRANSIT_CLEANUP";
	over_value = "off";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.transit_cleanup == 0 && c.mode == CONFIG_MODE_FERRY);
	config_clean(&c);
	keeper = 1;
	over_name = "RESTORE_SECURITY_GROUP_IDS";
	over_value = " sg-0123456789abcdef0 ,sg-12345678";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.n_restore_sg_ids == 2);
	if (c.n_restore_sg_ids == 2) {
		CHECK_STR(c.restore_sg_ids[0], "sg-0123456789abcdef0");
		CHECK_STR(c.restore_sg_ids[1], "sg-12345678");
	}
	config_clean(&c);
	keeper = 0;
	over_name = over2_name = NULL;
}

/* A key ARN must be in the region of its use. */
static void
test_key_regions(void)
{
	struct config_error err;
	struct config c;

	over_name = "BACKUP_REGION";
	over_value = "eu-west-1";
	over2_name = "BACKUP_KMS_KEY_ID";
	over2_value = "arn:aws:kms:us-east-1:" ACCT ":key/" KEY;
	CHECK(config_load(&c, fake_getenv, &err) == -1);
	CHECK_STR(err.var, "BACKUP_KMS_KEY_ID");
	CHECK(strstr(err.msg, "must be in eu-west-1 (BACKUP_REGION)") != NULL);
	over2_value = "arn:aws:kms:eu-west-1:" ACCT ":key/" KEY;
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK_STR(c.backup_region, "eu-west-1");
	config_clean(&c);
	over_name = "AWS_REGION";
	over_value = "ap-southeast-2";
	over2_name = "SHARE_KMS_KEY_ID";
	over2_value = "arn:aws:kms:us-east-1:123456789012:key/" KEY;
	CHECK(config_load(&c, fake_getenv, &err) == -1);
	CHECK(strstr(err.msg, "SHARE_KMS_KEY_ID is a key in us-east-1, but it must be in "
	    "ap-southeast-2 (AWS_REGION)") != NULL);
	over_name = over2_name = NULL;
}

#define MRK	"mrk-1234abcd12ab34cd56ef1234567890ab"
#define KARN(r)	"arn:aws:kms:" r ":" ACCT ":key/" KEY

/* BACKUP_REGIONS and its keys: one per Region (any order), or one multi-Region key. */
static void
test_destinations(void)
{
	static const struct {
		const char	*regions, *keys;
		const char	*var, *words;	/* var NULL: loads */
	} t[] = {
		{ "us-east-1,eu-west-1", KARN("eu-west-1") "," KARN("us-east-1"), NULL, NULL },
		{ "eu-west-1 , us-east-1", " " KARN("us-east-1") " , " KARN("eu-west-1"), NULL, NULL },
		{ "us-east-1,eu-west-1", "arn:aws:kms:ap-south-1:" ACCT ":key/" MRK, NULL, NULL },
		{ "us-east-1,eu-west-1", KARN("us-east-1") ",arn:aws:kms:eu-west-1:" ACCT
		    ":alias/aws/rds", NULL, NULL },
		{ "us-east-1,eu-west-1", KARN("us-east-1"), "BACKUP_KMS_KEY_ID",
		    "BACKUP_KMS_KEY_ID has no key in eu-west-1 (a Region of BACKUP_REGIONS)" },
		{ "us-east-1,eu-west-1", KARN("us-east-1") "," KARN("eu-west-1") "," KARN("ap-south-1"),
		    "BACKUP_KMS_KEY_ID", "has a key in ap-south-1, which is not a Region of "
		    "BACKUP_REGIONS" },
		{ "us-east-1,eu-west-1", KARN("us-east-1") ",arn:aws:kms:eu-west-1:123456789012:key/"
		    KEY, "BACKUP_KMS_KEY_ID", "must belong to BACKUP_ACCOUNT_ID " ACCT },
		{ "us-east-1,eu-west-1", "arn:aws:kms:us-east-1:123456789012:key/" MRK,
		    "BACKUP_KMS_KEY_ID", "must belong to BACKUP_ACCOUNT_ID" },
		{ "us-east-1,eu-west-1", MRK, "BACKUP_KMS_KEY_ID", "\"" MRK "\" is not a key ARN" },
		{ "us-east-1,eu-west-1", "alias/snapferry-backup", "BACKUP_KMS_KEY_ID",
		    "is not a key ARN" },
		{ "us-east-1,eu-west-1", NULL, "BACKUP_KMS_KEY_ID", "is required" },
		{ "eu-west-1", KARN("us-east-1"), "BACKUP_KMS_KEY_ID",
		    "is a key in us-east-1, but it must be in eu-west-1 (BACKUP_REGIONS)" },
		{ "eu-west-1", KARN("eu-west-1") "," KARN("us-east-1"), "BACKUP_KMS_KEY_ID",
		    "has a key in us-east-1, which is not a Region of BACKUP_REGIONS" },
	};
	struct config_error err;
	struct config c;
	size_t i;
	int rc;

	over_name = "BACKUP_REGIONS";
	over2_name = "BACKUP_KMS_KEY_ID";
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		over_value = t[i].regions;
		over2_value = t[i].keys;
		rc = config_load(&c, fake_getenv, &err);
		if ((rc == 0) != (t[i].var == NULL) || (rc != 0 &&
		    strstr(err.msg, t[i].words) == NULL))
			fprintf(stderr, "destinations %zu: rc %d (%s)\n", i, rc, err.msg);
		CHECK((rc == 0) == (t[i].var == NULL));
		if (rc == 0) {
			CHECK(c.n_backup_regions == 2 || i > 3);
			config_clean(&c);
			continue;
		}
		CHECK_STR(err.var, t[i].var);
		CHECK(strstr(err.msg, t[i].words) != NULL);
	}

	/* Each Region gets its own key; the ferry's destination is AWS_REGION's. */
	over_value = "eu-west-1,us-east-1";
	over2_value = KARN("us-east-1") "," KARN("eu-west-1");
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.n_backup_regions == 2);
	if (c.n_backup_regions == 2) {
		CHECK_STR(c.backup_regions[0], "eu-west-1");
		CHECK_STR(c.backup_kms_keys[0], KARN("eu-west-1"));
		CHECK_STR(c.backup_regions[1], "us-east-1");
		CHECK_STR(c.backup_kms_keys[1], KARN("us-east-1"));
	}
	CHECK_STR(c.backup_region, "us-east-1");
	CHECK_STR(c.backup_kms_key_id, KARN("us-east-1"));
	config_clean(&c);

	/* A multi-Region key: the replica ARN of each Region, same key id. */
	over_value = "eu-west-1,ap-south-1";
	over2_value = "arn:aws:kms:us-east-1:" ACCT ":key/" MRK;
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.n_backup_regions == 2);
	if (c.n_backup_regions == 2) {
		CHECK_STR(c.backup_kms_keys[0], "arn:aws:kms:eu-west-1:" ACCT ":key/" MRK);
		CHECK_STR(c.backup_kms_keys[1], "arn:aws:kms:ap-south-1:" ACCT ":key/" MRK);
	}
	CHECK_STR(c.backup_region, "eu-west-1");	/* AWS_REGION is not a destination */
	CHECK_STR(c.backup_kms_key_id, "arn:aws:kms:eu-west-1:" ACCT ":key/" MRK);
	config_clean(&c);

	/* The one-Region spelling, and both spellings at once. */
	over_name = "BACKUP_REGION";
	over_value = "eu-west-1";
	over2_value = "alias/snapferry-backup";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(c.n_backup_regions == 1);
	CHECK_STR(c.backup_regions[0], "eu-west-1");
	CHECK_STR(c.backup_kms_keys[0], "alias/snapferry-backup");
	config_clean(&c);
	over2_name = "BACKUP_REGIONS";
	over2_value = "eu-west-1";
	CHECK(config_load(&c, fake_getenv, &err) == -1);
	CHECK_STR(err.var, "BACKUP_REGION");
	CHECK(strstr(err.msg, "set only one of them") != NULL);
	over_name = over2_name = NULL;
}

static void
test_secret_not_echoed(void)
{
	struct config_error err;
	struct config c;

	over_name = "BACKUP_EXTERNAL_ID";
	over_value = "Sup3r secret!";
	CHECK(config_load(&c, fake_getenv, &err) == -1);
	CHECK_STR(err.var, "BACKUP_EXTERNAL_ID");
	CHECK(strstr(err.msg, "Sup3r") == NULL && strstr(err.msg, "secret") == NULL);
	over_value = "S";
	CHECK(config_load(&c, fake_getenv, &err) == -1);
	CHECK(strstr(err.msg, "\"S\"") == NULL);
	over_value = "Sup3r-secret";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK_STR(c.backup_external_id, "Sup3r-secret");
	config_clean(&c);
	over_name = NULL;
}

/* BACKUP_ACCOUNT_ID must not be the function's own account (function ARN or STS). */
static void
test_own_account(void)
{
	struct config_error err;
	struct config c;

	CHECK(config_load(&c, fake_getenv, &err) == 0);
	CHECK(config_check_own_account(&c, "123456789012", &err) == 0);
	CHECK(config_check_own_account(&c, NULL, &err) == 0);
	CHECK(config_check_own_account(&c, ACCT, &err) == -1);
	CHECK_STR(err.var, "BACKUP_ACCOUNT_ID");
	CHECK(strstr(err.msg, "BACKUP_ACCOUNT_ID is " ACCT ", this function's own account") !=
	    NULL);
	config_clean(&c);
}

static void
test_patterns(void)
{
	static const struct { const char *db; int want; } t[] = {
		{ "orders-db", 1 }, { "billing-aurora", 1 }, { "orders-db-test", 0 },
		{ "analytics", 0 }, { "", 0 },
	};
	struct config_error err;
	struct config c;
	size_t i;

	over_name = "INCLUDE_PATTERN";
	over_value = "^(orders|billing)-";
	over2_name = "EXCLUDE_PATTERN";
	over2_value = "-test$";
	CHECK(config_load(&c, fake_getenv, &err) == 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(config_db_selected(&c, t[i].db) == t[i].want);
	CHECK(config_db_selected(&c, NULL) == 0);
	config_clean(&c);
	over_name = over2_name = NULL;
}

int
main(void)
{
	test_table();
	test_keeper_table();
	test_defaults();
	test_key_regions();
	test_destinations();
	test_secret_not_echoed();
	test_own_account();
	test_patterns();
	UNIT_DONE();
}

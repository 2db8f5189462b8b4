/*
 * config: reads and validates every environment variable of the design's
 * table once at start-up.  Each error names the variable and says what is
 * wrong; BACKUP_EXTERNAL_ID's value is never repeated back.
 *
 * Conventions: an empty variable counts as unset (templates often pass "");
 * booleans are true/false, 1/0, yes/no or on/off in any case.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "config_shape.h"

#define NAME_PREFIX_MAX		40
#define RETENTION_DAYS_MAX	36500L
#define MIN_COPIES_MAX		10000L
#define WAIT_SECONDS_MAX	840L
#define KEEPER_MIN_RETENTION_DEFAULT	7L

/*
 * The variables only one mode reads.  One set on the other mode is an error, never
 * ignored: RETENTION_DAYS on a ferry would otherwise look like retention that runs.
 */
static const char *const ferry_only[] = { "BACKUP_ACCOUNT_ID", "BACKUP_ROLE_ARN",
    "BACKUP_EXTERNAL_ID", "SHARE_KMS_KEY_ID", "BACKUP_REGION", "INCLUDE_PATTERN",
    "EXCLUDE_PATTERN", "TRANSIT_CLEANUP", "WAIT_SECONDS", NULL };
/* BACKUP_REGIONS and BACKUP_KMS_KEY_ID are read by both: on the keeper they are every
 * destination Region and the key of its own Region (config_keeper_regions_load). */
static const char *const keeper_only[] = { "RETENTION_DAYS", "RETENTION_MIN_COPIES",
    "KEEPER_MIN_RETENTION_DAYS", "RESTORE", "RESTORE_INSTANCE_CLASS", "RESTORE_SUBNET_GROUP",
    "RESTORE_SECURITY_GROUP_IDS", "DRILL_INCLUDE_PATTERN", "DRILL_CONCURRENCY", "DRILL_PROBE",
    "DRILL_INSTANCE_CLASS", "DRILL_SUBNET_GROUP", "DRILL_SECURITY_GROUP_IDS",
    "DRILL_TIMEOUT_MINUTES", "DRILL_MAX_AGE_DAYS", NULL };

static const char *
env_get(const char *name)
{
	return (getenv(name));
}

/* The variable's value, NULL when unset or empty. */
static const char *
var(config_getenv_fn get, const char *name)
{
	const char *v = get(name);

	return ((v != NULL && *v != '\0') ? v : NULL);
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return (0);
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return (0);
		}
	}
	return (-1);
}

static int
get_bool(config_getenv_fn get, const char *name, int dflt, int *out,
    struct config_error *err)
{
	const char *v = var(get, name);
	char s[48];

	*out = dflt;
	if (v == NULL)
		return (0);
	if (parse_bool(v, out) != 0) {
		config_shown(s, v);
		return (config_fail(err, name, "must be true or false (also 1/0, yes/no, on/off), not \"%s\"", s));
	}
	return (0);
}

static int
get_long(config_getenv_fn get, const char *name, long dflt, long lo, long hi,
    long *out, struct config_error *err)
{
	const char *v = var(get, name);
	char s[48], *end;
	long n;

	*out = dflt;
	if (v == NULL)
		return (0);
	config_shown(s, v);
	errno = 0;
	n = strtol(v, &end, 10);
	if (!isdigit((unsigned char)v[v[0] == '-' || v[0] == '+']) || *end != '\0' || errno != 0)
		return (config_fail(err, name, "must be a whole number, not \"%s\"", s));
	if (n < lo || n > hi)
		return (config_fail(err, name, "must be between %ld and %ld, not %s", lo, hi, s));
	*out = n;
	return (0);
}

/* Copy of the variable (or of dflt when unset), NULL-or-error aware. */
static int
get_str(config_getenv_fn get, const char *name, const char *dflt, char **out,
    struct config_error *err)
{
	const char *v = var(get, name);

	*out = NULL;
	if (v == NULL)
		v = dflt;
	if (v == NULL)
		return (0);
	if ((*out = strdup(v)) == NULL)
		return (config_fail(err, name, "could not be stored (out of memory)"));
	return (0);
}

static int
required(config_getenv_fn get, const char *name, char **out, const char *what,
    struct config_error *err)
{
	if (get_str(get, name, NULL, out, err))
		return (-1);
	if (*out == NULL)
		return (config_fail(err, name, "is required: %s", what));
	return (0);
}

/*
 * NAME_PREFIX must start an RDS snapshot id: letter first, letters/digits/hyphens,
 * and lower case: RDS stores snapshot ids lower-cased while IAM compares resource ARNs
 * case-sensitively, so "SnapFerry" would match none of the templates' statements.
 */
static int
check_name_prefix(const char *v, struct config_error *err)
{
	char s[48];
	size_t i, n = strlen(v);

	config_shown(s, v);
	if (n > NAME_PREFIX_MAX)
		return (config_fail(err, "NAME_PREFIX", "must be at most %d characters, not %zu",
		    NAME_PREFIX_MAX, n));
	if (!isalpha((unsigned char)v[0]))
		return (config_fail(err, "NAME_PREFIX", "must start with a letter (\"%s\")", s));
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '-') || (unsigned char)v[i] > 0x7f)
			return (config_fail(err, "NAME_PREFIX",
			    "may hold only letters, digits and hyphens (\"%s\")", s));
	for (i = 0; i < n; i++)
		if (isupper((unsigned char)v[i]))
			return (config_fail(err, "NAME_PREFIX", "must be lower case (\"%s\"): RDS "
			    "stores snapshot ids in lower case and IAM compares ARNs "
			    "case-sensitively", s));
	if (v[n - 1] == '-' || strstr(v, "--") != NULL)
		return (config_fail(err, "NAME_PREFIX",
		    "must not end with a hyphen or hold two in a row (\"%s\")", s));
	return (0);
}

static int
get_regex(config_getenv_fn get, const char *name, regex_t *re, int *has,
    struct config_error *err)
{
	const char *v = var(get, name);
	char ebuf[128];
	int rc;

	*has = 0;
	if (v == NULL)
		return (0);
	if ((rc = regcomp(re, v, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, re, ebuf, sizeof(ebuf));
		return (config_fail(err, name, "is not a valid POSIX extended regular expression: %s", ebuf));
	}
	*has = 1;
	return (0);
}

/* RESTORE_SECURITY_GROUP_IDS: comma-separated sg-<8 or 17 hex>. */
static int
get_sg_ids(config_getenv_fn get, struct config *c, struct config_error *err)
{
	const char *name = "RESTORE_SECURITY_GROUP_IDS";

	return (config_sg_ids(name, var(get, name), &c->restore_sg_ids, &c->n_restore_sg_ids,
	    err));
}

static int
check_endpoint(config_getenv_fn get, const char *name, struct config_error *err)
{
	const char *v = var(get, name), *host;
	char s[48];

	if (v == NULL)
		return (0);
	config_shown(s, v);
	if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else
		return (config_fail(err, name, "must be an http:// or https:// URL, not \"%s\"", s));
	if (*host == '\0' || *host == '/' || strpbrk(v, " \t\r\n") != NULL)
		return (config_fail(err, name, "must name a host (\"%s\")", s));
	return (0);
}

/* SNAPFERRY_MODE, and no variable of the other mode. */
static int
get_mode(config_getenv_fn get, struct config *c, struct config_error *err)
{
	const char *v = var(get, "SNAPFERRY_MODE");
	const char *const *p;
	char s[48];
	int k;

	if (v != NULL && strcasecmp(v, "keeper") != 0 && strcasecmp(v, "ferry") != 0) {
		config_shown(s, v);
		return (config_fail(err, "SNAPFERRY_MODE", "must be ferry (production) or keeper (backup "
		    "account), not \"%s\"", s));
	}
	c->mode = (v != NULL && strcasecmp(v, "keeper") == 0) ? CONFIG_MODE_KEEPER :
	    CONFIG_MODE_FERRY;
	k = c->mode == CONFIG_MODE_FERRY;	/* 1: the other mode is the keeper */
	for (p = k ? keeper_only : ferry_only; *p != NULL; p++)
		if (var(get, *p) != NULL)
			return (config_fail(err, *p, "is read by the %s (SNAPFERRY_MODE=%s) in the %s, "
			    "not by the %s: remove it here", k ? "keeper" : "ferry", k ? "keeper" :
			    "ferry", k ? "backup account" : "production account", k ? "ferry" :
			    "keeper"));
	return (0);
}

int
config_load(struct config *c, config_getenv_fn get, struct config_error *err)
{
	const char *v;
	char s[48], acct[13], kregion[40], kacct[13];
	const char *alias;
	size_t i;

	memset(c, 0, sizeof(*c));
	memset(err, 0, sizeof(*err));
	if (get == NULL)
		get = env_get;

	/* Own region: AWS_REGION, which Lambda sets; AWS_DEFAULT_REGION for CLI use. */
	if ((v = var(get, "AWS_REGION")) == NULL)
		v = var(get, "AWS_DEFAULT_REGION");
	if (v == NULL) {
		config_fail(err, "AWS_REGION", "is required (Lambda sets it; set it, or AWS_DEFAULT_REGION, "
		    "for local runs)");
		goto fail;
	}
	config_shown(s, v);
	if (!config_region_ok(v)) {
		config_fail(err, var(get, "AWS_REGION") ? "AWS_REGION" : "AWS_DEFAULT_REGION",
		    "must be a region such as us-east-1, not \"%s\"", s);
		goto fail;
	}
	if ((c->region = strdup(v)) == NULL) {
		config_fail(err, "AWS_REGION", "could not be stored (out of memory)");
		goto fail;
	}

	c->log_level = LOG_INFO;
	if ((v = var(get, "LOG_LEVEL")) != NULL && log_parse_level(v, &c->log_level) != 0) {
		config_shown(s, v);
		config_fail(err, "LOG_LEVEL", "must be debug, info, warn or error, not \"%s\"", s);
		goto fail;
	}

	if (get_mode(get, c, err))
		goto fail;
	/* The keeper runs in the backup account with its own role: no backup target, only
	 * the other destination Regions it chains copies from (keeper_chain). */
	if (c->mode == CONFIG_MODE_KEEPER) {
		if (config_keeper_regions_load(c, get, err) != 0)
			goto fail;
		goto common;
	}

	if (required(get, "BACKUP_ACCOUNT_ID", &c->backup_account_id,
	    "the 12-digit id of the backup account", err))
		goto fail;
	if (!config_all_digits(c->backup_account_id, 12)) {
		config_shown(s, c->backup_account_id);
		config_fail(err, "BACKUP_ACCOUNT_ID", "must be exactly 12 digits, not \"%s\"", s);
		goto fail;
	}

	if (required(get, "BACKUP_ROLE_ARN", &c->backup_role_arn,
	    "the ARN of the role snapferry assumes in the backup account", err))
		goto fail;
	if (!config_role_arn_ok(c->backup_role_arn, acct)) {
		config_shown(s, c->backup_role_arn);
		config_fail(err, "BACKUP_ROLE_ARN", "must be an IAM role ARN "
		    "(arn:aws:iam::<12 digits>:role/<name>), not \"%s\"", s);
		goto fail;
	}
	if (strcmp(acct, c->backup_account_id) != 0) {
		config_fail(err, "BACKUP_ROLE_ARN", "is a role of account %s, but BACKUP_ACCOUNT_ID is %s",
		    acct, c->backup_account_id);
		goto fail;
	}

	/* The external id is a shared secret of sorts: check it, never show it. */
	if (get_str(get, "BACKUP_EXTERNAL_ID", NULL, &c->backup_external_id, err))
		goto fail;
	if (c->backup_external_id != NULL) {
		size_t n = strlen(c->backup_external_id);

		if (n < 2 || n > 1224) {
			config_fail(err, "BACKUP_EXTERNAL_ID", "must be 2 to 1224 characters long (it has %zu)", n);
			goto fail;
		}
		for (i = 0; i < n; i++) {
			if (!(isalnum((unsigned char)c->backup_external_id[i]) ||
			    strchr("+=,.@:/-_", c->backup_external_id[i]) != NULL) ||
			    (unsigned char)c->backup_external_id[i] > 0x7f) {
				config_fail(err, "BACKUP_EXTERNAL_ID", "may hold only letters, digits and "
				    "+=,.@:/-_ (character %zu is not one of them)", i + 1);
				goto fail;
			}
		}
	}

	if (required(get, "SHARE_KMS_KEY_ID", &c->share_kms_key_id,
	    "a customer managed KMS key in this account whose policy lets the backup account use it",
	    err))
		goto fail;
	if (config_check_kms("SHARE_KMS_KEY_ID", c->share_kms_key_id, c->region, "AWS_REGION",
	    NULL, 0, err))
		goto fail;
	/* The share key is this account's: an ARN names the own account before any call. */
	if (config_key_shape(c->share_kms_key_id, kregion, kacct, &alias) != CONFIG_KEY_BAD &&
	    kacct[0] != '\0' && config_check_own_account(c, kacct, err) != 0)
		goto fail;
	if (config_regions_load(c, get, err) != 0)
		goto fail;

common:
	if (get_str(get, "NAME_PREFIX", "snapferry", &c->name_prefix, err))
		goto fail;
	if (check_name_prefix(c->name_prefix, err))
		goto fail;

	if (get_regex(get, "INCLUDE_PATTERN", &c->include_re, &c->has_include, err) ||
	    get_regex(get, "EXCLUDE_PATTERN", &c->exclude_re, &c->has_exclude, err))
		goto fail;

	if (get_bool(get, "TRANSIT_CLEANUP", 1, &c->transit_cleanup, err) ||
	    get_bool(get, "DRY_RUN", 0, &c->dry_run, err) ||
	    get_bool(get, "RESTORE", 0, &c->restore, err))
		goto fail;
	if (get_long(get, "RETENTION_DAYS", 0, 0, RETENTION_DAYS_MAX, &c->retention_days, err) ||
	    get_long(get, "RETENTION_MIN_COPIES", 1, 1, MIN_COPIES_MAX,
	    &c->retention_min_copies, err) ||
	    get_long(get, "WAIT_SECONDS", 0, 0, WAIT_SECONDS_MAX, &c->wait_seconds, err) ||
	    get_long(get, "KEEPER_MIN_RETENTION_DAYS", KEEPER_MIN_RETENTION_DEFAULT, 1,
	    RETENTION_DAYS_MAX, &c->keeper_min_retention_days, err))
		goto fail;
	if (c->retention_days > 0 && c->retention_days < c->keeper_min_retention_days) {
		config_fail(err, "RETENTION_DAYS", "is %ld, below KEEPER_MIN_RETENTION_DAYS %ld: no "
		    "copy younger than that floor is ever deleted; raise RETENTION_DAYS", c->retention_days,
		    c->keeper_min_retention_days);
		goto fail;
	}

	if (get_str(get, "RESTORE_INSTANCE_CLASS", NULL, &c->restore_instance_class, err))
		goto fail;
	if ((v = c->restore_instance_class) != NULL) {
		int ok = strncmp(v, "db.", 3) == 0 && v[3] != '\0' && strlen(v) <= 64;

		for (i = 3; ok && v[i] != '\0'; i++)
			ok = (v[i] >= 'a' && v[i] <= 'z') || isdigit((unsigned char)v[i]) ||
			    v[i] == '.';
		if (!ok) {
			config_shown(s, v);
			config_fail(err, "RESTORE_INSTANCE_CLASS", "must be a DB instance class such as "
			    "db.t3.micro, not \"%s\"", s);
			goto fail;
		}
	}
	if (get_str(get, "RESTORE_SUBNET_GROUP", NULL, &c->restore_subnet_group, err))
		goto fail;
	if ((v = c->restore_subnet_group) != NULL) {
		int ok = strlen(v) <= 255;

		for (i = 0; ok && v[i] != '\0'; i++)
			ok = isalnum((unsigned char)v[i]) || strchr("._ -", v[i]) != NULL;
		if (!ok) {
			config_shown(s, v);
			config_fail(err, "RESTORE_SUBNET_GROUP", "must be a DB subnet group name (letters, "
			    "digits, periods, underscores, spaces, hyphens), not \"%s\"", s);
			goto fail;
		}
	}
	if (get_sg_ids(get, c, err) || config_drill_load(&c->drill, get, err))
		goto fail;

	if (check_endpoint(get, "AWS_ENDPOINT_URL", err) ||
	    check_endpoint(get, "AWS_ENDPOINT_URL_RDS", err) ||
	    check_endpoint(get, "AWS_ENDPOINT_URL_STS", err) ||
	    check_endpoint(get, "AWS_ENDPOINT_URL_KMS", err))
		goto fail;

	/* Which Regions the ferry fills itself and which the keepers chain (the rule of
	 * ferry_destinations, ferry_policy.c): one line at start-up, unless the one
	 * destination is AWS_REGION (nothing crosses a Region). */
	if (c->mode == CONFIG_MODE_FERRY && c->log_level <= LOG_INFO &&
	    (c->n_backup_regions > 1 || strcmp(c->backup_regions[0], c->region) != 0)) {
		cJSON *f = cJSON_CreateObject();
		cJSON *fills = cJSON_AddArrayToObject(f, "ferryCopiesTo");
		cJSON *chains = cJSON_AddArrayToObject(f, "keepersChainTo");
		int mine = 0;

		for (i = 0; i < c->n_backup_regions; i++)
			mine |= strcmp(c->backup_regions[i], c->region) == 0;
		for (i = 0; i < c->n_backup_regions; i++)
			cJSON_AddItemToArray(mine && strcmp(c->backup_regions[i], c->region) != 0 ?
			    chains : fills, cJSON_CreateString(c->backup_regions[i]));
		cJSON_AddStringToObject(f, "sourceRegion", c->region);
		log_info(mine ? "backup Regions: the ferry copies to AWS_REGION; the keepers "
		    "chain from there to the others" : "backup Regions: the ferry copies to each "
		    "in one step (AWS_REGION is not one of them)", f);
	}

	return (0);

fail:
	config_clean(c);
	return (-1);
}

const char *
config_mode_name(enum config_mode m)
{
	return (m == CONFIG_MODE_KEEPER ? "keeper" : "ferry");
}

int
config_check_own_account(const struct config *c, const char *account,
    struct config_error *err)
{
	if (account == NULL || c->backup_account_id == NULL ||
	    strcmp(account, c->backup_account_id) != 0)
		return (0);
	return (config_fail(err, "BACKUP_ACCOUNT_ID", "is %s, this function's own account (the "
	    "account of its ARN, of SHARE_KMS_KEY_ID or of its credentials): backup copies must "
	    "live in another account", account));
}

int
config_db_selected(const struct config *c, const char *db_id)
{
	if (db_id == NULL)
		return (0);
	if (c->has_include && regexec(&c->include_re, db_id, 0, NULL, 0) != 0)
		return (0);
	if (c->has_exclude && regexec(&c->exclude_re, db_id, 0, NULL, 0) == 0)
		return (0);
	return (1);
}

void
config_clean(struct config *c)
{
	size_t i;

	free(c->region);
	free(c->account_id);
	free(c->backup_account_id);
	free(c->backup_role_arn);
	free_secret(c->backup_external_id);
	free(c->share_kms_key_id);
	free(c->backup_kms_key_id);
	free(c->backup_region);
	for (i = 0; i < c->n_backup_regions; i++) {
		free(c->backup_regions[i]);
		if (c->backup_kms_keys != NULL)
			free(c->backup_kms_keys[i]);
	}
	free(c->backup_regions);
	free(c->backup_kms_keys);
	free(c->name_prefix);
	if (c->has_include)
		regfree(&c->include_re);
	if (c->has_exclude)
		regfree(&c->exclude_re);
	free(c->restore_instance_class);
	free(c->restore_subnet_group);
	for (i = 0; i < c->n_restore_sg_ids; i++)
		free(c->restore_sg_ids[i]);
	free(c->restore_sg_ids);
	config_drill_clean(&c->drill);
	memset(c, 0, sizeof(*c));
}

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
    "BACKUP_EXTERNAL_ID", "SHARE_KMS_KEY_ID", "BACKUP_KMS_KEY_ID", "BACKUP_REGION",
    "INCLUDE_PATTERN", "EXCLUDE_PATTERN", "TRANSIT_CLEANUP", "WAIT_SECONDS", NULL };
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

static int fail(struct config_error *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct config_error *err, const char *name, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err->var, sizeof(err->var), "%s", name);
	snprintf(err->msg, sizeof(err->msg), "%s %s", name, what);
	return (-1);
}

/* A printable, shortened copy of a (non-secret) value for messages. */
static void
shown(char out[48], const char *v)
{
	size_t i;

	for (i = 0; i < 40 && v[i] != '\0'; i++)
		out[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	if (v[i] != '\0') {
		out[i++] = '.';
		out[i++] = '.';
		out[i++] = '.';
	}
	out[i] = '\0';
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return (0);
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return (0);
	return (1);
}

/* us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1 */
static int
region_ok(const char *s)
{
	const char *p = s;
	int parts = 0;

	if (strlen(s) > 32)
		return (0);
	for (;;) {
		const char *q = p;

		while (*p >= 'a' && *p <= 'z')
			p++;
		if (p == q)
			break;
		parts++;
		if (*p != '-')
			return (0);
		p++;
	}
	if (parts < 2 || !isdigit((unsigned char)*p))
		return (0);
	while (isdigit((unsigned char)*p))
		p++;
	return (*p == '\0');
}

/* "aws", "aws-cn", "aws-us-gov", "aws-iso-b": the partition field of an ARN. */
static int
partition_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || strncmp(s, "aws", 3) != 0)
		return (0);
	for (i = 3; i < n; i++)
		if (!(s[i] == '-' || (s[i] >= 'a' && s[i] <= 'z')))
			return (0);
	return (n == 3 || (s[3] == '-' && s[n - 1] != '-'));
}

/* Split "arn:p:svc:region:acct:rest" (rest keeps its colons); 0 or -1. */
struct arn_parts {
	const char	*partition, *service, *region, *account, *rest;
	size_t		 partition_len, service_len, region_len, account_len;
};

static int
split_arn(const char *s, struct arn_parts *a)
{
	const char *f[4], *p, *q;
	size_t len[4];
	int i;

	if (strncmp(s, "arn:", 4) != 0)
		return (-1);
	for (p = s + 4, i = 0; i < 4; i++) {
		if ((q = strchr(p, ':')) == NULL)
			return (-1);
		f[i] = p;
		len[i] = (size_t)(q - p);
		p = q + 1;
	}
	a->partition = f[0];
	a->partition_len = len[0];
	a->service = f[1];
	a->service_len = len[1];
	a->region = f[2];
	a->region_len = len[2];
	a->account = f[3];
	a->account_len = len[3];
	a->rest = p;
	return (partition_ok(a->partition, a->partition_len) ? 0 : -1);
}

static int
field_is(const char *p, size_t n, const char *want)
{
	return (n == strlen(want) && strncmp(p, want, n) == 0);
}

static int
digits_n(const char *p, size_t n, size_t want)
{
	size_t i;

	if (n != want)
		return (0);
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return (0);
	return (1);
}

/* arn:aws[-x]:iam::<12 digits>:role/<path/>name; the account copied to acct[13]. */
static int
role_arn_ok(const char *s, char acct[13])
{
	struct arn_parts a;
	const char *name;
	size_t i;

	if (strlen(s) > 2048 || split_arn(s, &a) != 0)
		return (0);
	if (!field_is(a.service, a.service_len, "iam") || a.region_len != 0 ||
	    !digits_n(a.account, a.account_len, 12))
		return (0);
	if (strncmp(a.rest, "role/", 5) != 0)
		return (0);
	name = a.rest + 5;
	if (*name == '\0' || name[strlen(name) - 1] == '/')
		return (0);
	for (i = 0; name[i] != '\0'; i++)
		if (!(isalnum((unsigned char)name[i]) || strchr("+=,.@_-/", name[i]) != NULL))
			return (0);
	memcpy(acct, a.account, 12);
	acct[12] = '\0';
	return (1);
}

static int
hex_run(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]) || isupper((unsigned char)p[i]))
			return (0);
	return (1);
}

/* 1234abcd-12ab-34cd-56ef-1234567890ab or mrk-<32 hex> */
static int
key_uuid_ok(const char *s)
{
	if (strncmp(s, "mrk-", 4) == 0)
		return (strlen(s) == 36 && hex_run(s + 4, 32));
	return (strlen(s) == 36 && hex_run(s, 8) && s[8] == '-' &&
	    hex_run(s + 9, 4) && s[13] == '-' && hex_run(s + 14, 4) &&
	    s[18] == '-' && hex_run(s + 19, 4) && s[23] == '-' && hex_run(s + 24, 12));
}

/* alias/<name>: letters, digits, / _ - */
static int
alias_ok(const char *s)
{
	size_t i;

	if (strncmp(s, "alias/", 6) != 0 || s[6] == '\0' || strlen(s) > 256)
		return (0);
	for (i = 6; s[i] != '\0'; i++)
		if (!(isalnum((unsigned char)s[i]) || strchr("/_-", s[i]) != NULL))
			return (0);
	return (1);
}

enum key_shape { KEY_BAD, KEY_ID, KEY_ALIAS, KEY_ARN, KEY_ALIAS_ARN };

/* The shape of a KMS key reference; region/account of an ARN into the outputs. */
static enum key_shape
key_shape(const char *s, char region[40], char acct[13], const char **alias)
{
	struct arn_parts a;

	*alias = NULL;
	region[0] = acct[0] = '\0';
	if (key_uuid_ok(s))
		return (KEY_ID);
	if (alias_ok(s)) {
		*alias = s;
		return (KEY_ALIAS);
	}
	if (split_arn(s, &a) != 0 || !field_is(a.service, a.service_len, "kms") ||
	    !digits_n(a.account, a.account_len, 12) || a.region_len == 0 || a.region_len >= 40)
		return (KEY_BAD);
	memcpy(region, a.region, a.region_len);
	region[a.region_len] = '\0';
	memcpy(acct, a.account, 12);
	acct[12] = '\0';
	if (!region_ok(region))
		return (KEY_BAD);
	if (strncmp(a.rest, "key/", 4) == 0 && key_uuid_ok(a.rest + 4))
		return (KEY_ARN);
	if (alias_ok(a.rest)) {
		*alias = a.rest;
		return (KEY_ALIAS_ARN);
	}
	return (KEY_BAD);
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
		shown(s, v);
		return (fail(err, name, "must be true or false (also 1/0, yes/no, on/off), not \"%s\"", s));
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
	shown(s, v);
	errno = 0;
	n = strtol(v, &end, 10);
	if (!isdigit((unsigned char)v[v[0] == '-' || v[0] == '+']) || *end != '\0' || errno != 0)
		return (fail(err, name, "must be a whole number, not \"%s\"", s));
	if (n < lo || n > hi)
		return (fail(err, name, "must be between %ld and %ld, not %s", lo, hi, s));
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
		return (fail(err, name, "could not be stored (out of memory)"));
	return (0);
}

static int
required(config_getenv_fn get, const char *name, char **out, const char *what,
    struct config_error *err)
{
	if (get_str(get, name, NULL, out, err))
		return (-1);
	if (*out == NULL)
		return (fail(err, name, "is required: %s", what));
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

	shown(s, v);
	if (n > NAME_PREFIX_MAX)
		return (fail(err, "NAME_PREFIX", "must be at most %d characters, not %zu",
		    NAME_PREFIX_MAX, n));
	if (!isalpha((unsigned char)v[0]))
		return (fail(err, "NAME_PREFIX", "must start with a letter (\"%s\")", s));
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '-') || (unsigned char)v[i] > 0x7f)
			return (fail(err, "NAME_PREFIX",
			    "may hold only letters, digits and hyphens (\"%s\")", s));
	for (i = 0; i < n; i++)
		if (isupper((unsigned char)v[i]))
			return (fail(err, "NAME_PREFIX", "must be lower case (\"%s\"): RDS "
			    "stores snapshot ids in lower case and IAM compares ARNs "
			    "case-sensitively", s));
	if (v[n - 1] == '-' || strstr(v, "--") != NULL)
		return (fail(err, "NAME_PREFIX",
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
		return (fail(err, name, "is not a valid POSIX extended regular expression: %s", ebuf));
	}
	*has = 1;
	return (0);
}

static int
check_kms(const char *name, const char *v, const char *region, const char *region_var,
    const char *acct_want, int allow_aws_alias, struct config_error *err)
{
	char kregion[40], kacct[13], s[48];
	const char *alias;
	enum key_shape sh;

	shown(s, v);
	if ((sh = key_shape(v, kregion, kacct, &alias)) == KEY_BAD)
		return (fail(err, name, "must be a KMS key id, key ARN, alias/<name> or alias ARN, "
		    "not \"%s\"", s));
	if (!allow_aws_alias && alias != NULL && strncmp(alias, "alias/aws/", 10) == 0)
		return (fail(err, name, "must be a customer managed key: an AWS managed key "
		    "(%s) can't be shared with another account", alias));
	if (sh == KEY_ARN || sh == KEY_ALIAS_ARN) {
		if (strcmp(kregion, region) != 0)
			return (fail(err, name, "is a key in %s, but it must be in %s (%s)",
			    kregion, region, region_var));
		if (acct_want != NULL && strcmp(kacct, acct_want) != 0)
			return (fail(err, name, "is a key of account %s, but it must belong to "
			    "BACKUP_ACCOUNT_ID %s", kacct, acct_want));
	}
	return (0);
}

/* RESTORE_SECURITY_GROUP_IDS: comma-separated sg-<8 or 17 hex>. */
static int
get_sg_ids(config_getenv_fn get, struct config *c, struct config_error *err)
{
	const char *name = "RESTORE_SECURITY_GROUP_IDS", *v = var(get, name), *p, *e;
	size_t n = 1, i, len;
	char s[48];

	if (v == NULL)
		return (0);
	for (p = v; *p != '\0'; p++)
		if (*p == ',')
			n++;
	if (n > 64)
		return (fail(err, name, "lists %zu groups; at most 64", n));
	if ((c->restore_sg_ids = calloc(n, sizeof(char *))) == NULL)
		return (fail(err, name, "could not be stored (out of memory)"));
	for (p = v, i = 0; i < n; i++) {
		while (*p == ' ')
			p++;
		e = p + strcspn(p, ",");
		len = (size_t)(e - p);
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (!(len == 11 || len == 20) || strncmp(p, "sg-", 3) != 0 ||
		    !hex_run(p + 3, len - 3)) {
			snprintf(s, sizeof(s), "%.*s", (int)(len < 40 ? len : 40), p);
			shown(s, s);
			return (fail(err, name, "must be a comma-separated list of security group "
			    "ids (sg-0123456789abcdef0); \"%s\" is not one", s));
		}
		if ((c->restore_sg_ids[i] = strndup(p, len)) == NULL)
			return (fail(err, name, "could not be stored (out of memory)"));
		c->n_restore_sg_ids = i + 1;
		p = (*e == ',') ? e + 1 : e;
	}
	return (0);
}

static int
check_endpoint(config_getenv_fn get, const char *name, struct config_error *err)
{
	const char *v = var(get, name), *host;
	char s[48];

	if (v == NULL)
		return (0);
	shown(s, v);
	if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else
		return (fail(err, name, "must be an http:// or https:// URL, not \"%s\"", s));
	if (*host == '\0' || *host == '/' || strpbrk(v, " \t\r\n") != NULL)
		return (fail(err, name, "must name a host (\"%s\")", s));
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
		shown(s, v);
		return (fail(err, "SNAPFERRY_MODE", "must be ferry (production) or keeper (backup "
		    "account), not \"%s\"", s));
	}
	c->mode = (v != NULL && strcasecmp(v, "keeper") == 0) ? CONFIG_MODE_KEEPER :
	    CONFIG_MODE_FERRY;
	k = c->mode == CONFIG_MODE_FERRY;	/* 1: the other mode is the keeper */
	for (p = k ? keeper_only : ferry_only; *p != NULL; p++)
		if (var(get, *p) != NULL)
			return (fail(err, *p, "is read by the %s (SNAPFERRY_MODE=%s) in the %s, "
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
		fail(err, "AWS_REGION", "is required (Lambda sets it; set it, or AWS_DEFAULT_REGION, "
		    "for local runs)");
		goto fail;
	}
	shown(s, v);
	if (!region_ok(v)) {
		fail(err, var(get, "AWS_REGION") ? "AWS_REGION" : "AWS_DEFAULT_REGION",
		    "must be a region such as us-east-1, not \"%s\"", s);
		goto fail;
	}
	if ((c->region = strdup(v)) == NULL) {
		fail(err, "AWS_REGION", "could not be stored (out of memory)");
		goto fail;
	}

	c->log_level = LOG_INFO;
	if ((v = var(get, "LOG_LEVEL")) != NULL && log_parse_level(v, &c->log_level) != 0) {
		shown(s, v);
		fail(err, "LOG_LEVEL", "must be debug, info, warn or error, not \"%s\"", s);
		goto fail;
	}

	if (get_mode(get, c, err))
		goto fail;
	/* The keeper runs in the backup account with its own role: no backup target. */
	if (c->mode == CONFIG_MODE_KEEPER)
		goto common;

	if (required(get, "BACKUP_ACCOUNT_ID", &c->backup_account_id,
	    "the 12-digit id of the backup account", err))
		goto fail;
	if (!all_digits(c->backup_account_id, 12)) {
		shown(s, c->backup_account_id);
		fail(err, "BACKUP_ACCOUNT_ID", "must be exactly 12 digits, not \"%s\"", s);
		goto fail;
	}

	if (required(get, "BACKUP_ROLE_ARN", &c->backup_role_arn,
	    "the ARN of the role snapferry assumes in the backup account", err))
		goto fail;
	if (!role_arn_ok(c->backup_role_arn, acct)) {
		shown(s, c->backup_role_arn);
		fail(err, "BACKUP_ROLE_ARN", "must be an IAM role ARN "
		    "(arn:aws:iam::<12 digits>:role/<name>), not \"%s\"", s);
		goto fail;
	}
	if (strcmp(acct, c->backup_account_id) != 0) {
		fail(err, "BACKUP_ROLE_ARN", "is a role of account %s, but BACKUP_ACCOUNT_ID is %s",
		    acct, c->backup_account_id);
		goto fail;
	}

	/* The external id is a shared secret of sorts: check it, never show it. */
	if (get_str(get, "BACKUP_EXTERNAL_ID", NULL, &c->backup_external_id, err))
		goto fail;
	if (c->backup_external_id != NULL) {
		size_t n = strlen(c->backup_external_id);

		if (n < 2 || n > 1224) {
			fail(err, "BACKUP_EXTERNAL_ID", "must be 2 to 1224 characters long (it has %zu)", n);
			goto fail;
		}
		for (i = 0; i < n; i++) {
			if (!(isalnum((unsigned char)c->backup_external_id[i]) ||
			    strchr("+=,.@:/-_", c->backup_external_id[i]) != NULL) ||
			    (unsigned char)c->backup_external_id[i] > 0x7f) {
				fail(err, "BACKUP_EXTERNAL_ID", "may hold only letters, digits and "
				    "+=,.@:/-_ (character %zu is not one of them)", i + 1);
				goto fail;
			}
		}
	}

	if (get_str(get, "BACKUP_REGION", c->region, &c->backup_region, err))
		goto fail;
	if (!region_ok(c->backup_region)) {
		shown(s, c->backup_region);
		fail(err, "BACKUP_REGION", "must be a region such as eu-west-1, not \"%s\"", s);
		goto fail;
	}

	if (required(get, "SHARE_KMS_KEY_ID", &c->share_kms_key_id,
	    "a customer managed KMS key in this account whose policy lets the backup account use it",
	    err))
		goto fail;
	if (check_kms("SHARE_KMS_KEY_ID", c->share_kms_key_id, c->region, "AWS_REGION",
	    NULL, 0, err))
		goto fail;
	/* The share key is this account's: an ARN names the own account before any call. */
	if (key_shape(c->share_kms_key_id, kregion, kacct, &alias) != KEY_BAD &&
	    kacct[0] != '\0' && config_check_own_account(c, kacct, err) != 0)
		goto fail;
	if (required(get, "BACKUP_KMS_KEY_ID", &c->backup_kms_key_id,
	    "the KMS key of the backup account that encrypts the backup copies", err))
		goto fail;
	if (check_kms("BACKUP_KMS_KEY_ID", c->backup_kms_key_id, c->backup_region,
	    "BACKUP_REGION", c->backup_account_id, 1, err))
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
		fail(err, "RETENTION_DAYS", "is %ld, below KEEPER_MIN_RETENTION_DAYS %ld: no "
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
			shown(s, v);
			fail(err, "RESTORE_INSTANCE_CLASS", "must be a DB instance class such as "
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
			shown(s, v);
			fail(err, "RESTORE_SUBNET_GROUP", "must be a DB subnet group name (letters, "
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

	/*
	 * Valid, but half of the snapshots can't go there: AWS copies a shared
	 * encrypted snapshot only within its region (aws-facts §2.2), so only
	 * unencrypted ones are ferried across; ferry skips the others.
	 */
	if (c->backup_region != NULL && strcmp(c->backup_region, c->region) != 0 &&
	    c->log_level <= LOG_WARN) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "AWS_REGION", c->region);
		cJSON_AddStringToObject(f, "BACKUP_REGION", c->backup_region);
		log_warn("BACKUP_REGION differs from AWS_REGION: AWS copies a shared encrypted "
		    "snapshot only within its region, so only unencrypted snapshots are ferried "
		    "and encrypted ones are skipped", f);
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
	return (fail(err, "BACKUP_ACCOUNT_ID", "is %s, this function's own account (the "
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

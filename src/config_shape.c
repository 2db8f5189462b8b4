/*
 * config: reads and validates every environment variable of the design's
 * table once at start-up (config.c); this file holds the shapes of the values
 * (regions, ARNs, KMS key references) and the error helper both parts use.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_shape.h"

int
config_fail(struct config_error *err, const char *name, const char *fmt, ...)
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
void
config_shown(char out[48], const char *v)
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

int
config_all_digits(const char *s, size_t n)
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
int
config_region_ok(const char *s)
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
int
config_role_arn_ok(const char *s, char acct[13])
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

int
config_hex_run(const char *p, size_t n)
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
		return (strlen(s) == 36 && config_hex_run(s + 4, 32));
	return (strlen(s) == 36 && config_hex_run(s, 8) && s[8] == '-' &&
	    config_hex_run(s + 9, 4) && s[13] == '-' && config_hex_run(s + 14, 4) &&
	    s[18] == '-' && config_hex_run(s + 19, 4) && s[23] == '-' && config_hex_run(s + 24, 12));
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

/* The shape of a KMS key reference; region/account of an ARN into the outputs. */
enum config_key_shape
config_key_shape(const char *s, char region[40], char acct[13], const char **alias)
{
	struct arn_parts a;

	*alias = NULL;
	region[0] = acct[0] = '\0';
	if (key_uuid_ok(s))
		return (CONFIG_KEY_ID);
	if (alias_ok(s)) {
		*alias = s;
		return (CONFIG_KEY_ALIAS);
	}
	if (split_arn(s, &a) != 0 || !field_is(a.service, a.service_len, "kms") ||
	    !digits_n(a.account, a.account_len, 12) || a.region_len == 0 || a.region_len >= 40)
		return (CONFIG_KEY_BAD);
	memcpy(region, a.region, a.region_len);
	region[a.region_len] = '\0';
	memcpy(acct, a.account, 12);
	acct[12] = '\0';
	if (!config_region_ok(region))
		return (CONFIG_KEY_BAD);
	if (strncmp(a.rest, "key/", 4) == 0 && key_uuid_ok(a.rest + 4))
		return (CONFIG_KEY_ARN);
	if (alias_ok(a.rest)) {
		*alias = a.rest;
		return (CONFIG_KEY_ALIAS_ARN);
	}
	return (CONFIG_KEY_BAD);
}

int
config_check_kms(const char *name, const char *v, const char *region, const char *region_var,
    const char *acct_want, int allow_aws_alias, struct config_error *err)
{
	char kregion[40], kacct[13], s[48];
	const char *alias;
	enum config_key_shape sh;

	config_shown(s, v);
	if ((sh = config_key_shape(v, kregion, kacct, &alias)) == CONFIG_KEY_BAD)
		return (config_fail(err, name, "must be a KMS key id, key ARN, alias/<name> or alias ARN, "
		    "not \"%s\"", s));
	if (!allow_aws_alias && alias != NULL && strncmp(alias, "alias/aws/", 10) == 0)
		return (config_fail(err, name, "must be a customer managed key: an AWS managed key "
		    "(%s) can't be shared with another account", alias));
	if (sh == CONFIG_KEY_ARN || sh == CONFIG_KEY_ALIAS_ARN) {
		if (strcmp(kregion, region) != 0)
			return (config_fail(err, name, "is a key in %s, but it must be in %s (%s)",
			    kregion, region, region_var));
		if (acct_want != NULL && strcmp(kacct, acct_want) != 0)
			return (config_fail(err, name, "is a key of account %s, but it must belong to "
			    "BACKUP_ACCOUNT_ID %s", kacct, acct_want));
	}
	return (0);
}


char *
config_key_arn_in(const char *arn, const char *region)
{
	struct arn_parts a;
	char *out;
	size_t head, n;

	if (split_arn(arn, &a) != 0)
		return (NULL);
	head = (size_t)(a.region - arn);
	n = head + strlen(region) + strlen(a.region + a.region_len) + 1;
	if ((out = malloc(n)) == NULL)
		return (NULL);
	snprintf(out, n, "%.*s%s%s", (int)head, arn, region, a.region + a.region_len);
	return (out);
}

int
config_sg_ids(const char *name, const char *v, char ***ids, size_t *n_ids,
    struct config_error *err)
{
	const char *p, *e;
	size_t n = 1, i, len;
	char s[48];

	*ids = NULL;
	*n_ids = 0;
	if (v == NULL)
		return (0);
	for (p = v; *p != '\0'; p++)
		if (*p == ',')
			n++;
	if (n > 64)
		return (config_fail(err, name, "lists %zu groups; at most 64", n));
	if ((*ids = calloc(n, sizeof(char *))) == NULL)
		return (config_fail(err, name, "could not be stored (out of memory)"));
	for (p = v, i = 0; i < n; i++) {
		while (*p == ' ')
			p++;
		e = p + strcspn(p, ",");
		len = (size_t)(e - p);
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (!(len == 11 || len == 20) || strncmp(p, "sg-", 3) != 0 ||
		    !config_hex_run(p + 3, len - 3)) {
			snprintf(s, sizeof(s), "%.*s", (int)(len < 40 ? len : 40), p);
			config_shown(s, s);
			return (config_fail(err, name, "must be a comma-separated list of security group "
			    "ids (sg-0123456789abcdef0); \"%s\" is not one", s));
		}
		if (((*ids)[i] = strndup(p, len)) == NULL)
			return (config_fail(err, name, "could not be stored (out of memory)"));
		*n_ids = i + 1;
		p = (*e == ',') ? e + 1 : e;
	}
	return (0);
}

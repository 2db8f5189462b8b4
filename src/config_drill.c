/*
 * config_drill: the DRILL_* variables of the keeper's restore drills (drill.c), read and
 * checked once at start-up like the rest of config.c.  Only the keeper reads them:
 * config.c refuses them on the ferry.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_shape.h"

#define DRILL_CONCURRENCY_MAX	20L
#define DRILL_TIMEOUT_MAX	(7L * 24 * 60)
#define DRILL_AGE_MAX		3650L

/* The value, NULL when unset or empty (an empty variable counts as unset). */
static const char *
dvar(config_getenv_fn get, const char *name)
{
	const char *v = get(name);

	return ((v != NULL && *v != '\0') ? v : NULL);
}

static int
dlong(config_getenv_fn get, const char *name, long dflt, long lo, long hi, long *out,
    struct config_error *err)
{
	const char *v = dvar(get, name);
	char *end, s[48];
	long n;

	*out = dflt;
	if (v == NULL)
		return (0);
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
		config_shown(s, v);
		return (config_fail(err, name, "must be a whole number from %ld to %ld, not \"%s\"", lo,
		    hi, s));
	}
	*out = n;
	return (0);
}

static int
dstr(config_getenv_fn get, const char *name, const char *extra, size_t max, char **out,
    const char *what, struct config_error *err)
{
	const char *v = dvar(get, name);
	char s[48];
	size_t i;
	int ok;

	*out = NULL;
	if (v == NULL)
		return (0);
	ok = strlen(v) <= max;
	for (i = 0; ok && v[i] != '\0'; i++)
		ok = isalnum((unsigned char)v[i]) || strchr(extra, v[i]) != NULL;
	if (!ok) {
		config_shown(s, v);
		return (config_fail(err, name, "must be %s, not \"%s\"", what, s));
	}
	if ((*out = strdup(v)) == NULL)
		return (config_fail(err, name, "could not be stored (out of memory)"));
	return (0);
}

/* DRILL_SECURITY_GROUP_IDS: comma-separated sg-<8 or 17 hex>, like RESTORE_'s. */
static int
dsg_ids(config_getenv_fn get, struct config_drill *d, struct config_error *err)
{
	const char *name = "DRILL_SECURITY_GROUP_IDS";

	return (config_sg_ids(name, dvar(get, name), &d->sg_ids, &d->n_sg_ids, err));
}

int
config_drill_load(struct config_drill *d, config_getenv_fn get, struct config_error *err)
{
	const char *v;
	char s[48], ebuf[128];
	int rc;

	memset(d, 0, sizeof(*d));
	if ((v = dvar(get, "DRILL_INCLUDE_PATTERN")) != NULL) {
		if ((rc = regcomp(&d->include_re, v, REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(rc, &d->include_re, ebuf, sizeof(ebuf));
			return (config_fail(err, "DRILL_INCLUDE_PATTERN", "is not a valid POSIX extended "
			    "regular expression: %s", ebuf));
		}
		d->has_include = 1;
	}
	if (dlong(get, "DRILL_CONCURRENCY", 2, 1, DRILL_CONCURRENCY_MAX, &d->concurrency, err) ||
	    dlong(get, "DRILL_TIMEOUT_MINUTES", 180, 10, DRILL_TIMEOUT_MAX, &d->timeout_minutes,
	    err) ||
	    dlong(get, "DRILL_MAX_AGE_DAYS", 14, 1, DRILL_AGE_MAX, &d->max_age_days, err))
		return (-1);
	if (dstr(get, "DRILL_INSTANCE_CLASS", ".", 64, &d->instance_class, "a DB instance "
	    "class such as db.t3.micro", err) ||
	    dstr(get, "DRILL_SUBNET_GROUP", "._ -", 255, &d->subnet_group, "a DB subnet group "
	    "name (letters, digits, periods, underscores, spaces, hyphens)", err) ||
	    dsg_ids(get, d, err))
		return (-1);
	if (d->instance_class != NULL && (strncmp(d->instance_class, "db.", 3) != 0 ||
	    d->instance_class[3] == '\0')) {
		config_shown(s, d->instance_class);
		return (config_fail(err, "DRILL_INSTANCE_CLASS", "must be a DB instance class such as "
		    "db.t3.micro, not \"%s\"", s));
	}
	if ((v = dvar(get, "DRILL_PROBE")) != NULL) {
		if (strcasecmp(v, "tcp") == 0)
			d->probe_tcp = 1;
		else if (strcasecmp(v, "off") != 0) {
			config_shown(s, v);
			return (config_fail(err, "DRILL_PROBE", "must be off or tcp, not \"%s\"", s));
		}
	}
	return (0);
}

int
config_drill_selected(const struct config_drill *d, const char *db_id)
{
	if (db_id == NULL)
		return (0);
	return (!d->has_include || regexec(&d->include_re, db_id, 0, NULL, 0) == 0);
}

void
config_drill_clean(struct config_drill *d)
{
	size_t i;

	if (d->has_include)
		regfree(&d->include_re);
	free(d->instance_class);
	free(d->subnet_group);
	for (i = 0; i < d->n_sg_ids; i++)
		free(d->sg_ids[i]);
	free(d->sg_ids);
	memset(d, 0, sizeof(*d));
}

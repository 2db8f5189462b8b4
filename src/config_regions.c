/*
 * config: the destinations of the backup copies: BACKUP_REGIONS (or its
 * one-Region spelling BACKUP_REGION) and BACKUP_KMS_KEY_ID, one key per
 * destination Region (a list of key ARNs, or one multi-Region key ARN).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_shape.h"

#define REGIONS_MAX	16

static const char *
var(config_getenv_fn get, const char *name)
{
	const char *v = get(name);

	return ((v != NULL && *v != '\0') ? v : NULL);
}

/* The next comma-separated item of *p, spaces trimmed, as a copy (NULL: out of memory). */
static char *
next_item(const char **p)
{
	const char *s = *p, *e;
	size_t len;

	while (*s == ' ')
		s++;
	e = s + strcspn(s, ",");
	len = (size_t)(e - s);
	while (len > 0 && s[len - 1] == ' ')
		len--;
	*p = (*e == ',') ? e + 1 : NULL;
	return (strndup(s, len));
}

static size_t
count_items(const char *v)
{
	size_t n = 1;

	for (; *v != '\0'; v++)
		n += (*v == ',');
	return (n);
}

static int
find_region(const struct config *c, const char *r)
{
	size_t i;

	for (i = 0; i < c->n_backup_regions; i++)
		if (strcmp(c->backup_regions[i], r) == 0)
			return ((int)i);
	return (-1);
}

static int
load_regions(struct config *c, config_getenv_fn get, const char *name,
    struct config_error *err)
{
	const char *v = var(get, name), *p;
	char s[48], *item;
	size_t n;

	if (v == NULL)
		v = c->region;
	if ((n = count_items(v)) > 1 && strcmp(name, "BACKUP_REGION") == 0)
		return (config_fail(err, name, "names one Region; list several in BACKUP_REGIONS"));
	if (n > REGIONS_MAX)
		return (config_fail(err, name, "lists %zu Regions; at most %d", n, REGIONS_MAX));
	if ((c->backup_regions = calloc(n, sizeof(char *))) == NULL)
		return (config_fail(err, name, "could not be stored (out of memory)"));
	for (p = v; p != NULL; ) {
		if ((item = next_item(&p)) == NULL)
			return (config_fail(err, name, "could not be stored (out of memory)"));
		c->backup_regions[c->n_backup_regions++] = item;
		config_shown(s, item);
		if (!config_region_ok(item))
			return (config_fail(err, name, "must be a comma-separated list of Regions "
			    "(us-east-1,eu-west-1); \"%s\" is not a region such as eu-west-1", s));
		if (find_region(c, item) != (int)c->n_backup_regions - 1)
			return (config_fail(err, name, "lists %s twice", s));
	}
	return (0);
}

/* Several destinations (or a comma): key ARNs naming their Regions, or one mrk- key ARN. */
static int
load_key_list(struct config *c, const char *v, const char *rvar, struct config_error *err)
{
	const char *name = "BACKUP_KMS_KEY_ID", *p, *alias;
	char kregion[40], kacct[13], s[48], *item;
	enum config_key_shape sh;
	size_t i, n_items = count_items(v);
	int k;

	for (p = v; p != NULL; ) {
		if ((item = next_item(&p)) == NULL)
			return (config_fail(err, name, "could not be stored (out of memory)"));
		config_shown(s, item);
		sh = config_key_shape(item, kregion, kacct, &alias);
		if (sh != CONFIG_KEY_ARN && sh != CONFIG_KEY_ALIAS_ARN) {
			free(item);
			return (config_fail(err, name, "must list one key ARN per Region of %s, "
			    "or be one multi-Region key ARN (key/mrk-...); \"%s\" is not a key ARN",
			    rvar, s));
		}
		if (strcmp(kacct, c->backup_account_id) != 0) {
			free(item);
			return (config_fail(err, name, "has a key of account %s, but it must belong "
			    "to BACKUP_ACCOUNT_ID %s", kacct, c->backup_account_id));
		}
		/* A multi-Region key: the replica with the same id in every Region. */
		if (n_items == 1 && sh == CONFIG_KEY_ARN && strstr(item, ":key/mrk-") != NULL) {
			for (i = 0; i < c->n_backup_regions; i++)
				if ((c->backup_kms_keys[i] = config_key_arn_in(item,
				    c->backup_regions[i])) == NULL) {
					free(item);
					return (config_fail(err, name, "could not be stored "
					    "(out of memory)"));
				}
			free(item);
			return (0);
		}
		if ((k = find_region(c, kregion)) < 0) {
			free(item);
			return (config_fail(err, name, "has a key in %s, which is not a Region of "
			    "%s: one key per destination Region", kregion, rvar));
		}
		if (c->backup_kms_keys[k] != NULL) {
			free(item);
			return (config_fail(err, name, "has two keys in %s: one key per destination "
			    "Region", kregion));
		}
		c->backup_kms_keys[k] = item;
	}
	for (i = 0; i < c->n_backup_regions; i++)
		if (c->backup_kms_keys[i] == NULL)
			return (config_fail(err, name, "has no key in %s (a Region of %s): list one "
			    "key ARN per destination Region, or one multi-Region key ARN (key/mrk-...)",
			    c->backup_regions[i], rvar));
	return (0);
}

int
config_regions_load(struct config *c, config_getenv_fn get, struct config_error *err)
{
	const char *rvar, *v;
	size_t i, mine = 0;

	if (var(get, "BACKUP_REGIONS") != NULL && var(get, "BACKUP_REGION") != NULL)
		return (config_fail(err, "BACKUP_REGION", "is the one-Region spelling of "
		    "BACKUP_REGIONS: set only one of them"));
	rvar = var(get, "BACKUP_REGION") != NULL ? "BACKUP_REGION" : "BACKUP_REGIONS";
	if (load_regions(c, get, rvar, err) != 0)
		return (-1);

	if ((v = var(get, "BACKUP_KMS_KEY_ID")) == NULL)
		return (config_fail(err, "BACKUP_KMS_KEY_ID", "is required: the KMS key of the "
		    "backup account that encrypts the backup copies (one per Region of %s)", rvar));
	if ((c->backup_kms_keys = calloc(c->n_backup_regions, sizeof(char *))) == NULL)
		return (config_fail(err, "BACKUP_KMS_KEY_ID", "could not be stored (out of memory)"));
	if (c->n_backup_regions == 1 && strchr(v, ',') == NULL) {
		/* One destination: today's forms (key id, alias, ARN of that Region). */
		if (config_check_kms("BACKUP_KMS_KEY_ID", v, c->backup_regions[0], rvar,
		    c->backup_account_id, 1, err) != 0)
			return (-1);
		if ((c->backup_kms_keys[0] = strdup(v)) == NULL)
			return (config_fail(err, "BACKUP_KMS_KEY_ID", "could not be stored "
			    "(out of memory)"));
	} else if (load_key_list(c, v, rvar, err) != 0)
		return (-1);

	/* The destination in AWS_REGION when there is one, else the first listed. */
	for (i = 0; i < c->n_backup_regions; i++)
		if (strcmp(c->backup_regions[i], c->region) == 0)
			mine = i;
	if ((c->backup_region = strdup(c->backup_regions[mine])) == NULL ||
	    (c->backup_kms_key_id = strdup(c->backup_kms_keys[mine])) == NULL)
		return (config_fail(err, rvar, "could not be stored (out of memory)"));
	return (0);
}

/*
 * The keeper's: it copies into AWS_REGION only (from the other Regions of BACKUP_REGIONS,
 * keeper_chain), so BACKUP_KMS_KEY_ID is one key, of AWS_REGION.  Its account is checked
 * when the keeper first learns its own (from its credentials), not here.
 */
int
config_keeper_regions_load(struct config *c, config_getenv_fn get, struct config_error *err)
{
	const char *name = "BACKUP_KMS_KEY_ID", *v = var(get, name), *alias;
	char kregion[40], kacct[13], s[48];
	enum config_key_shape sh;

	if (load_regions(c, get, "BACKUP_REGIONS", err) != 0)
		return (-1);
	if (find_region(c, c->region) < 0)
		return (config_fail(err, "BACKUP_REGIONS", "must list this keeper's own Region %s "
		    "(AWS_REGION): deploy one keeper in each destination Region", c->region));
	if ((c->backup_region = strdup(c->region)) == NULL)
		return (config_fail(err, "BACKUP_REGIONS", "could not be stored (out of memory)"));
	/* Unset with other Regions listed: each chain run fails naming it (keeper_chain.c);
	 * the disaster-day restore of bootstrap --event reads BACKUP_REGIONS without a key. */
	if (v == NULL)
		return (0);
	config_shown(s, v);
	if (strchr(v, ',') != NULL)
		return (config_fail(err, name, "is, on the keeper, the one key of its own Region "
		    "%s (AWS_REGION), not a list (\"%s\"): each Region's keeper has its own",
		    c->region, s));
	if ((sh = config_key_shape(v, kregion, kacct, &alias)) == CONFIG_KEY_BAD)
		return (config_fail(err, name, "must be a KMS key id, key ARN, alias/<name> or "
		    "alias ARN of %s (AWS_REGION), not \"%s\"", c->region, s));
	/* A multi-Region key: its replica with the same id in this Region. */
	if (sh == CONFIG_KEY_ARN && strcmp(kregion, c->region) != 0 &&
	    strstr(v, ":key/mrk-") != NULL) {
		if ((c->backup_kms_key_id = config_key_arn_in(v, c->region)) == NULL)
			return (config_fail(err, name, "could not be stored (out of memory)"));
		return (0);
	}
	if ((sh == CONFIG_KEY_ARN || sh == CONFIG_KEY_ALIAS_ARN) &&
	    strcmp(kregion, c->region) != 0)
		return (config_fail(err, name, "is a key in %s, but this keeper copies into its "
		    "own Region %s (AWS_REGION): give the key of %s (or a multi-Region key "
		    "ARN, key/mrk-...)", kregion, c->region, c->region));
	if ((c->backup_kms_key_id = strdup(v)) == NULL)
		return (config_fail(err, name, "could not be stored (out of memory)"));
	return (0);
}

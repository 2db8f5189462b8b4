/*
 * names: deterministic copy and restore identifiers (the key to idempotence:
 * a second delivery of an event computes the same names and finds its own
 * work), lineage-tag checks and snapshot-ARN parsing.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "arn.h"
#include "names.h"

#define HASH_HEX	8

const char *
names_strip_system_prefix(const char *id)
{
	if (strncmp(id, "rds:", 4) == 0)
		return (id + 4);
	if (strncmp(id, "awsbackup:", 10) == 0)
		return (id + 10);
	return (id);
}

/* hash8(s, out): the first 8 lowercase hex digits of SHA-256(s). */
static int
hash8(const char *s, char out[HASH_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	const mbedtls_md_info_t *md;
	unsigned char d[32];
	size_t i;

	if ((md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256)) == NULL)
		return (-1);
	if (mbedtls_md(md, (const unsigned char *)s, strlen(s), d) != 0)
		return (-1);
	for (i = 0; i < HASH_HEX / 2; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0xf];
	}
	out[HASH_HEX] = '\0';
	return (0);
}

char *
names_sanitize(const char *raw, size_t max)
{
	size_t n, i, o;
	char *s, *r;
	char h[HASH_HEX + 1];

	if (raw == NULL || max < HASH_HEX + 3)
		return (NULL);
	n = strlen(raw);
	/* Room for a leading letter we may have to add. */
	if ((s = malloc(n + 2)) == NULL)
		return (NULL);
	o = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (isascii(c) && isalnum(c))
			c = (unsigned char)tolower(c);
		else
			c = '-';
		/* No "--", no leading '-'. */
		if (c == '-' && (o == 0 || s[o - 1] == '-'))
			continue;
		s[o++] = (char)c;
	}
	while (o > 0 && s[o - 1] == '-')
		o--;
	s[o] = '\0';
	if (o == 0) {
		free(s);
		return (NULL);
	}
	if (!isalpha((unsigned char)s[0])) {
		memmove(s + 1, s, o + 1);
		s[0] = 's';
		o++;
	}
	if (o <= max)
		return (s);

	/* Cut, and keep names distinct with a hash of the whole input. */
	if (hash8(raw, h) != 0) {
		free(s);
		return (NULL);
	}
	o = max - (HASH_HEX + 1);
	while (o > 0 && s[o - 1] == '-')
		o--;
	if ((r = malloc(o + 1 + HASH_HEX + 1)) == NULL) {
		free(s);
		return (NULL);
	}
	memcpy(r, s, o);
	r[o] = '-';
	memcpy(r + o + 1, h, HASH_HEX + 1);
	free(s);
	return (r);
}

/* joined(prefix, rest): malloc'd "<prefix>-<rest>". */
static char *
joined(const char *prefix, const char *rest)
{
	size_t lp = strlen(prefix), lr = strlen(rest);
	char *s;

	if ((s = malloc(lp + 1 + lr + 1)) == NULL)
		return (NULL);
	memcpy(s, prefix, lp);
	s[lp] = '-';
	memcpy(s + lp + 1, rest, lr + 1);
	return (s);
}

char *
names_copy_id(const char *prefix, const char *source_id, enum rds_kind kind)
{
	const char *id;
	char *raw, *s;

	if (prefix == NULL || source_id == NULL)
		return (NULL);
	id = names_strip_system_prefix(source_id);
	if (*id == '\0')
		return (NULL);
	if ((raw = joined(prefix, id)) == NULL)
		return (NULL);
	s = names_sanitize(raw, kind == RDS_CLUSTER ? NAMES_MAX_CLUSTER_SNAPSHOT :
	    NAMES_MAX_INSTANCE_SNAPSHOT);
	free(raw);
	return (s);
}

char *
names_backup_id(const char *prefix, const char *source_id, enum rds_kind kind,
    const char *account, const char *region)
{
	const char *id;
	char *who, *rest, *raw, *s;
	char h[HASH_HEX + 1];

	if (prefix == NULL || source_id == NULL || account == NULL || region == NULL)
		return (NULL);
	id = names_strip_system_prefix(source_id);
	if (*id == '\0' || (who = joined(account, region)) == NULL)
		return (NULL);
	who[strlen(account)] = ':';
	if (hash8(who, h) != 0) {
		free(who);
		return (NULL);
	}
	free(who);
	if ((rest = joined(id, h)) == NULL)
		return (NULL);
	raw = joined(prefix, rest);
	free(rest);
	if (raw == NULL)
		return (NULL);
	s = names_sanitize(raw, kind == RDS_CLUSTER ? NAMES_MAX_CLUSTER_SNAPSHOT :
	    NAMES_MAX_INSTANCE_SNAPSHOT);
	free(raw);
	return (s);
}

char *
names_restore_id(const char *prefix, const char *db_id)
{
	char *raw, *s;

	if (prefix == NULL || db_id == NULL || *db_id == '\0')
		return (NULL);
	if ((raw = joined(prefix, db_id)) == NULL)
		return (NULL);
	s = names_sanitize(raw, NAMES_MAX_DB);
	free(raw);
	return (s);
}

char *
names_restore_id_of(const char *prefix, const char *db_id, const char *account,
    const char *region)
{
	char *who, *rest, *raw, *s;
	char h[HASH_HEX + 1];

	if (prefix == NULL || db_id == NULL || *db_id == '\0' || account == NULL ||
	    region == NULL || (who = joined(account, region)) == NULL)
		return (NULL);
	who[strlen(account)] = ':';	/* as names_backup_id: "<account>:<region>" */
	if (hash8(who, h) != 0) {
		free(who);
		return (NULL);
	}
	free(who);
	if ((rest = joined(db_id, h)) == NULL)
		return (NULL);
	raw = joined(prefix, rest);
	free(rest);
	if (raw == NULL)
		return (NULL);
	s = names_sanitize(raw, NAMES_MAX_DB);
	free(raw);
	return (s);
}

/* Key of part ${i} (0-based) of the source ARN: "snapferry:source-arn", "...-2", ... */
static const char *
arn_part_key(size_t i)
{
	static const char * const k[NAMES_ARN_PARTS] = { NAMES_TAG_SOURCE_ARN,
	    NAMES_TAG_SOURCE_ARN "-2", NAMES_TAG_SOURCE_ARN "-3", NAMES_TAG_SOURCE_ARN "-4" };

	return (i < NAMES_ARN_PARTS ? k[i] : NULL);
}

void
names_arn_tags_clean(struct names_arn_tags *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->tag[i].value);
	memset(t, 0, sizeof(*t));
}

int
names_arn_tags(const char *arn, struct names_arn_tags *out)
{
	size_t len, off, take;

	memset(out, 0, sizeof(*out));
	if (arn == NULL || (len = strlen(arn)) == 0 ||
	    len > (size_t)NAMES_ARN_PARTS * NAMES_TAG_VALUE_MAX)
		return (-1);
	for (off = 0; off < len; off += take) {
		take = len - off < NAMES_TAG_VALUE_MAX ? len - off : NAMES_TAG_VALUE_MAX;
		out->tag[out->n].key = (char *)(uintptr_t)arn_part_key(out->n);
		if ((out->tag[out->n].value = strndup(arn + off, take)) == NULL) {
			names_arn_tags_clean(out);
			return (-1);
		}
		out->n++;
	}
	return (0);
}

char *
names_lineage_arn(const struct rds_tag *tags, size_t n)
{
	const char *part[NAMES_ARN_PARTS];
	size_t np = 0, len = 0, i, l;
	char *s;

	for (i = 0; i < NAMES_ARN_PARTS; i++) {
		if ((part[i] = rds_tag_get(tags, n, arn_part_key(i))) == NULL)
			break;
		np++;
	}
	if (np == 0 || *part[0] == '\0')
		return (NULL);
	/* Every part but the last is full: anything else was not written by snapferry. */
	for (i = 0; i < np; i++) {
		l = strlen(part[i]);
		if ((i + 1 < np && l != NAMES_TAG_VALUE_MAX) || l > NAMES_TAG_VALUE_MAX ||
		    l == 0)
			return (NULL);
		len += l;
	}
	if ((s = malloc(len + 1)) == NULL)
		return (NULL);
	for (i = 0, len = 0; i < np; i++) {
		l = strlen(part[i]);
		memcpy(s + len, part[i], l);
		len += l;
	}
	s[len] = '\0';
	return (s);
}

int
names_lineage_source(const struct rds_tag *tags, size_t n, struct arn_snapshot *out)
{
	char *arn;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((arn = names_lineage_arn(tags, n)) == NULL)
		return (-1);
	/* arn_rds_snapshot leaves ${out} zeroed when it fails. */
	rc = arn_rds_snapshot(arn, out);
	free(arn);
	return (rc);
}

int
names_is_snapferry(const struct rds_tag *tags, size_t n, const char *role)
{
	const char *v;

	if ((v = rds_tag_get(tags, n, NAMES_TAG_CREATED_BY)) == NULL ||
	    strcmp(v, "snapferry") != 0)
		return (0);
	if ((v = rds_tag_get(tags, n, NAMES_TAG_SOURCE_ARN)) == NULL || *v == '\0')
		return (0);
	if (role != NULL && ((v = rds_tag_get(tags, n, NAMES_TAG_ROLE)) == NULL ||
	    strcmp(v, role) != 0))
		return (0);
	return (1);
}

int
names_has_lineage(const struct rds_tag *tags, size_t n, const char *source_arn,
    const char *role)
{
	char *arn;
	int same;

	/* Unknown source: nothing can be shown to be its copy (a NULL used to match any). */
	if (source_arn == NULL || *source_arn == '\0')
		return (0);
	if (!names_is_snapferry(tags, n, role))
		return (0);
	if ((arn = names_lineage_arn(tags, n)) == NULL)
		return (0);
	same = strcmp(arn, source_arn) == 0;
	free(arn);
	return (same);
}

size_t
names_base_tags(const char *role, struct rds_tag *tags)
{
	size_t i = 0;

	tags[i].key = NAMES_TAG_CREATED_BY;
	tags[i++].value = "snapferry";
	tags[i].key = NAMES_TAG_VERSION;
	tags[i++].value = SNAPFERRY_VERSION;
	tags[i].key = NAMES_TAG_ROLE;
	tags[i++].value = (char *)(uintptr_t)role;
	return (i);
}

int
names_lineage_tags(const struct rds_snapshot *snap,
    const char *role, struct names_arn_tags *arn, struct rds_tag *tags, size_t *n)
{
	size_t i = names_base_tags(role, tags), k;

	*n = 0;
	if (names_arn_tags(snap->arn, arn) != 0)
		return (-1);
	for (k = 0; k < arn->n; k++)
		tags[i++] = arn->tag[k];
	if (snap->db_id != NULL) {
		tags[i].key = NAMES_TAG_SOURCE_DB;
		tags[i++].value = snap->db_id;
	}
	tags[i].key = NAMES_TAG_SOURCE_KEY;
	tags[i++].value = snap->kms_key_id ? snap->kms_key_id : "none";
	if (snap->create_time != NULL) {
		tags[i].key = NAMES_TAG_SOURCE_TIME;
		tags[i++].value = snap->create_time;
	}
	*n = i;
	return (0);
}

int
names_has_prefix(const char *prefix, const char *id)
{
	size_t n = strlen(prefix);

	return (id != NULL && strncmp(id, prefix, n) == 0 && id[n] == '-');
}

int
names_lineage_from(const struct rds_tag *tags, size_t n, const char *account,
    const char *region)
{
	struct arn_snapshot a;
	int yes;

	if (names_lineage_source(tags, n, &a) != 0)
		return (0);
	yes = strcmp(a.account, account) == 0 && strcmp(a.region, region) == 0;
	arn_snapshot_clean(&a);
	return (yes);
}

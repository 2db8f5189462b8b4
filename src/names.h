/*
 * names: the deterministic identifiers snapferry gives its transit and
 * backup copies and restored DBs, the lineage tags it writes on them, and
 * the parsing of RDS snapshot ARNs.
 */
#ifndef SNAPFERRY_NAMES_H
#define SNAPFERRY_NAMES_H

#include <stddef.h>

#include "arn.h"
#include "rds.h"

/* Lineage tag keys written on every transit copy (T) and backup copy (B). */
#define NAMES_TAG_SOURCE_ARN	"snapferry:source-arn"	/* ARN of S */
#define NAMES_TAG_SOURCE_DB	"snapferry:source-db"	/* DB instance / cluster id of S */
#define NAMES_TAG_SOURCE_KEY	"snapferry:source-key"	/* KMS key of S, "none" when unencrypted */
#define NAMES_TAG_SOURCE_TIME	"snapferry:source-time"	/* SnapshotCreateTime of S (age of the data) */
#define NAMES_TAG_ROLE		"snapferry:role"	/* "transit" or "backup" */
#define NAMES_TAG_SOURCE_REGION	"snapferry:source-region"	/* S's Region, on a copy made
							 * in another Region */
#define NAMES_TAG_VERSION	"snapferry:version"
#define NAMES_TAG_CREATED_BY	"snapferry:created-by"	/* always "snapferry" */

#define NAMES_ROLE_TRANSIT	"transit"
#define NAMES_ROLE_BACKUP	"backup"

/* Longest identifiers RDS accepts. */
#define NAMES_MAX_INSTANCE_SNAPSHOT	255
#define NAMES_MAX_CLUSTER_SNAPSHOT	63
#define NAMES_MAX_DB			63

/**
 * names_copy_id(prefix, source_id, kind): the id of the transit copy T of source
 * snapshot ${source_id} (and of its backup copy B before account-specific names):
 * "<prefix>-<id>" with "rds:"/"awsbackup:" dropped, lower case,
 * characters outside [a-z0-9-] turned into '-', no "--", no trailing '-',
 * first character a letter, capped at 255 (instances) or 63 (clusters)
 * characters with "-<8 hex of SHA-256 of the uncapped name>" when cut.
 * malloc'd, NULL on ENOMEM or empty input.
 */
char	*names_copy_id(const char *prefix, const char *source_id, enum rds_kind kind);

/**
 * names_backup_id(prefix, source_id, kind, account, region): the id of the backup copy B
 * of source snapshot ${source_id} of production ${account} in ${region}:
 * "<prefix>-<id>-<8 hex of SHA-256 of "<account>:<region>">" under names_copy_id's rules.
 * One backup account serves several production accounts (and regions), whose snapshot
 * names collide ("orders-m1", "rds:orders-2024-05-01-00-01"): the suffix tells them
 * apart; when the name is cut, the hash of the whole name (suffix included) does.
 * Copies made before (named like T) are still found by their lineage.  malloc'd.
 */
char	*names_backup_id(const char *prefix, const char *source_id, enum rds_kind kind,
	    const char *account, const char *region);

/** names_restore_id(prefix, db_id): the id of a DB restored from a backup copy of
 *  ${db_id}, same rules as names_copy_id, capped at 63. malloc'd. */
char	*names_restore_id(const char *prefix, const char *db_id);
/** names_restore_id_of(prefix, db_id, account, region): the automatic restore's id when
 *  copies of DB ${db_id} come from more than one production account (or region):
 *  "<prefix>-<db_id>-<8 hex>", the hex the same as in that account's and region's backup
 *  copy ids; same rules, capped at 63 (a cut keeps names distinct with a hash). malloc'd. */
char	*names_restore_id_of(const char *prefix, const char *db_id, const char *account,
	    const char *region);

/** names_sanitize(raw, max): the rules of names_copy_id applied to ${raw} as a whole. */
char	*names_sanitize(const char *raw, size_t max);


/**
 * names_has_lineage(tags, n, source_arn, role): 1 when the tags name snapferry as
 * creator, carry ${role} (NULL = any) and name exactly the source ${source_arn}.  A NULL
 * ${source_arn} (a source whose ARN is unknown) matches nothing: 0.
 */
int	names_has_lineage(const struct rds_tag *tags, size_t n, const char *source_arn,
	    const char *role);

/** names_is_snapferry(tags, n, role): 1 when the tags name snapferry as creator, carry
 *  ${role} (NULL = any) and some source ARN: one of snapferry's copies, of any source. */
int	names_is_snapferry(const struct rds_tag *tags, size_t n, const char *role);

/*
 * The source ARN in lineage tags.  AWS caps a tag value at 256 characters, and an
 * instance snapshot id alone may have 255: an ARN longer than 256 is cut, in order,
 * into snapferry:source-arn, snapferry:source-arn-2, ... (every part but the last
 * exactly 256 characters).  snapferry:source-arn always holds the start, so the
 * templates' condition on that tag still sees every copy.
 */
#define NAMES_TAG_VALUE_MAX	256
#define NAMES_ARN_PARTS		4	/* up to 1024 characters; RDS ARNs have < 330 */

struct names_arn_tags {
	struct rds_tag	 tag[NAMES_ARN_PARTS];
	size_t		 n;
};

/** names_arn_tags(arn, out): the lineage tags holding ${arn} (names_arn_tags_clean them);
 *  0, or -1 when ${arn} is empty, longer than NAMES_ARN_PARTS parts, or ENOMEM. */
int	names_arn_tags(const char *arn, struct names_arn_tags *out);
void	names_arn_tags_clean(struct names_arn_tags *t);

/** names_lineage_arn(tags, n): the source ARN the lineage tags hold, reassembled:
 *  malloc'd; NULL when absent, malformed or ENOMEM.  Every reader goes through it. */
char	*names_lineage_arn(const struct rds_tag *tags, size_t n);

/** names_lineage_source(tags, n, out): names_lineage_arn as an RDS snapshot ARN
 *  (arn_snapshot_clean ${out}); 0, or -1 when the tags hold none. */
int	names_lineage_source(const struct rds_tag *tags, size_t n, struct arn_snapshot *out);

/** names_strip_system_prefix(id): ${id} past a leading "rds:" or "awsbackup:". */
const char *names_strip_system_prefix(const char *id);
/** names_has_prefix(prefix, id): 1 when ${id} is "<prefix>-..." (only such ids can be
 *  snapferry's copies: NAME_PREFIX), else 0; NULL ${id} is 0. */
int	names_has_prefix(const char *prefix, const char *id);
/** names_lineage_from(tags, n, account, region): 1 when the lineage tags name a source of
 *  ${account} in ${region} (another production account's or Region's copies are its own
 *  business), else 0. */
int	names_lineage_from(const struct rds_tag *tags, size_t n, const char *account,
	    const char *region);

/** names_base_tags(role, tags): the tags of everything snapferry creates (who made it, which
 *  version, its ${role}) into ${tags}, which has room for 3; how many (3). */
size_t	names_base_tags(const char *role, struct rds_tag *tags);
/* Room for every tag of a copy: base 3, the source ARN's parts, db, key, time, shared. */
#define NAMES_MAX_TAGS	(7 + NAMES_ARN_PARTS)
/** names_lineage_tags(snap, role, arn, tags, n): the lineage tags for a copy of ${snap}
 *  (pointers into ${snap}, static strings and ${arn}, the parts of its ARN:
 *  names_arn_tags_clean it). ${tags} has room for NAMES_MAX_TAGS.  0, -1 when the ARN
 *  can't be tagged (ENOMEM, or longer than NAMES_ARN_PARTS tag values). */
int	names_lineage_tags(const struct rds_snapshot *snap, const char *role,
	    struct names_arn_tags *arn, struct rds_tag *tags, size_t *n);

#endif

/*
 * config: the environment-variable interface of ../shared/DESIGN.md,
 * parsed and validated once at start-up.
 */
#ifndef SNAPFERRY_CONFIG_H
#define SNAPFERRY_CONFIG_H

#include <regex.h>
#include <stddef.h>

#include "log.h"

/* SNAPFERRY_MODE: the ferry runs in production and only adds backup copies; the keeper
 * runs in the backup account and is the only one that deletes or restores them. */
enum config_mode { CONFIG_MODE_FERRY = 0, CONFIG_MODE_KEEPER = 1 };

/* Restore drills (keeper only): the DRILL_* variables. */
struct config_drill {
	int	 has_include;
	regex_t	 include_re;		/* DRILL_INCLUDE_PATTERN (POSIX ERE), default all */
	long	 concurrency;		/* DRILL_CONCURRENCY, default 2 */
	char	*instance_class;	/* DRILL_INSTANCE_CLASS, NULL = the family's smallest */
	char	*subnet_group;		/* DRILL_SUBNET_GROUP, NULL = default */
	char	**sg_ids;		/* DRILL_SECURITY_GROUP_IDS */
	size_t	 n_sg_ids;
	long	 timeout_minutes;	/* DRILL_TIMEOUT_MINUTES, default 180 */
	long	 max_age_days;		/* DRILL_MAX_AGE_DAYS, default 14 (the alarm's) */
	int	 probe_tcp;		/* DRILL_PROBE=tcp (default off) */
};

struct config {
	enum config_mode mode;		/* SNAPFERRY_MODE, default ferry */
	char	*region;		/* AWS_REGION (or AWS_DEFAULT_REGION) */
	char	*account_id;		/* own account, if known (from function ARN or STS); may be NULL */
	char	*backup_account_id;	/* BACKUP_ACCOUNT_ID, 12 digits */
	char	*backup_role_arn;	/* BACKUP_ROLE_ARN */
	char	*backup_external_id;	/* BACKUP_EXTERNAL_ID or NULL */
	char	*share_kms_key_id;	/* SHARE_KMS_KEY_ID */
	char	*backup_kms_key_id;	/* the key of backup_region */
	char	*backup_region;		/* the destination in region if listed, else the first */
	char	**backup_regions;	/* BACKUP_REGIONS (or BACKUP_REGION), default region */
	char	**backup_kms_keys;	/* BACKUP_KMS_KEY_ID: the key of backup_regions[i] */
	size_t	 n_backup_regions;
	char	*name_prefix;		/* NAME_PREFIX, default "snapferry" */
	int	 has_include, has_exclude;
	regex_t	 include_re, exclude_re;	/* INCLUDE_PATTERN / EXCLUDE_PATTERN (POSIX ERE) */
	int	 transit_cleanup;	/* TRANSIT_CLEANUP, default 1 */
	long	 retention_days;	/* RETENTION_DAYS, default 0 = keep all */
	long	 retention_min_copies;	/* RETENTION_MIN_COPIES, default 1 */
	long	 keeper_min_retention_days;	/* KEEPER_MIN_RETENTION_DAYS, default 7 (keeper) */
	int	 restore;		/* RESTORE on/off */
	char	*restore_instance_class;	/* or NULL = source's */
	char	*restore_subnet_group;		/* or NULL = default */
	char	**restore_sg_ids;		/* RESTORE_SECURITY_GROUP_IDS, comma separated */
	size_t	 n_restore_sg_ids;
	long	 wait_seconds;		/* WAIT_SECONDS, default 0 */
	struct config_drill drill;	/* DRILL_* (keeper), config_drill.c */
	int	 dry_run;		/* DRY_RUN */
	enum log_level log_level;	/* LOG_LEVEL */
};

struct config_error {
	char	var[64];	/* the variable at fault */
	char	msg[256];	/* what is wrong, naming the variable */
};

typedef const char *(*config_getenv_fn)(const char *name);

/** config_load(c, get, err): fill ${c} from ${get} (getenv when NULL); 0, or -1 with ${err}. */
int	config_load(struct config *c, config_getenv_fn get, struct config_error *err);
/** config_check_own_account(c, account, err): -1 with ${err} (naming BACKUP_ACCOUNT_ID) when
 *  ${account}, this function's own account, is the backup account; else 0. */
int	config_check_own_account(const struct config *c, const char *account,
	    struct config_error *err);
/** config_db_selected(c, db_id): 1 when INCLUDE/EXCLUDE_PATTERN let ${db_id} through. */
int	config_db_selected(const struct config *c, const char *db_id);
/** config_mode_name(m): "ferry" or "keeper". */
const char *config_mode_name(enum config_mode m);
/** config_drill_load(d, get, err): the DRILL_* variables into ${d} (zeroed first); 0, or
 *  -1 with ${err} naming the variable. */
int	config_drill_load(struct config_drill *d, config_getenv_fn get, struct config_error *err);
/** config_drill_selected(d, db_id): 1 when DRILL_INCLUDE_PATTERN lets ${db_id} through. */
int	config_drill_selected(const struct config_drill *d, const char *db_id);
/** config_drill_clean(d): release what config_drill_load allocated; safe on a zeroed struct. */
void	config_drill_clean(struct config_drill *d);
/** config_clean(c): release everything config_load allocated; safe on a zeroed struct. */
void	config_clean(struct config *c);

#endif

/*
 * config_shape: the shapes of configuration values (regions, ARNs, KMS key
 * references) and the error helper; private to the config module.
 */
#ifndef SNAPFERRY_CONFIG_SHAPE_H
#define SNAPFERRY_CONFIG_SHAPE_H

#include <stddef.h>

#include "config.h"

enum config_key_shape { CONFIG_KEY_BAD, CONFIG_KEY_ID, CONFIG_KEY_ALIAS, CONFIG_KEY_ARN,
	CONFIG_KEY_ALIAS_ARN };

/** config_fail(err, name, fmt, ...): fill ${err} with "${name} <what>"; returns -1. */
int	config_fail(struct config_error *err, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/** config_shown(out, v): a printable copy of ${v}, cut at 40 characters, into ${out}. */
void	config_shown(char out[48], const char *v);
/** config_all_digits(s, n): 1 when ${s} is exactly ${n} decimal digits. */
int	config_all_digits(const char *s, size_t n);
/** config_region_ok(s): 1 when ${s} has a Region's shape (us-east-1, us-gov-west-1). */
int	config_region_ok(const char *s);
/** config_role_arn_ok(s, acct): 1 when ${s} is an IAM role ARN; its account into ${acct}. */
int	config_role_arn_ok(const char *s, char acct[13]);
/** config_hex_run(p, n): 1 when the ${n} characters at ${p} are lower-case hex. */
int	config_hex_run(const char *p, size_t n);
/** config_sg_ids(name, v, ids, n_ids, err): ${v}, comma-separated security group ids
 *  (sg-<8 or 17 hex>, at most 64), into malloc'd ${ids} (the caller frees them, also after a
 *  failure: ${n_ids} counts those stored); NULL/0 for a NULL ${v}. 0, or -1 with ${err}. */
int	config_sg_ids(const char *name, const char *v, char ***ids, size_t *n_ids,
	    struct config_error *err);
/** config_key_shape(s, region, acct, alias): the shape of KMS key reference ${s}; an ARN's
 *  Region and account into ${region} and ${acct} (else ""), an alias into ${alias}. */
enum config_key_shape config_key_shape(const char *s, char region[40], char acct[13],
	    const char **alias);
/** config_check_kms(name, v, region, region_var, acct_want, allow_aws_alias, err): 0 when
 *  key reference ${v} of variable ${name} may serve ${region} (named by ${region_var}) for
 *  account ${acct_want} (NULL: any); else -1 with ${err}. */
int	config_check_kms(const char *name, const char *v, const char *region,
	    const char *region_var, const char *acct_want, int allow_aws_alias,
	    struct config_error *err);
/** config_key_arn_in(arn, region): a copy of key ARN ${arn} with its Region replaced by
 *  ${region} (a multi-Region key's replica), or NULL (out of memory, not an ARN). */
char	*config_key_arn_in(const char *arn, const char *region);
/** config_regions_load(c, get, err): BACKUP_REGIONS (or BACKUP_REGION, else AWS_REGION) and
 *  BACKUP_KMS_KEY_ID into ${c}'s backup_regions/backup_kms_keys, and backup_region/
 *  backup_kms_key_id (the destination in AWS_REGION, else the first listed); 0, or -1 with
 *  ${err}. ${c}'s region and backup_account_id must be set; config_clean frees the rest. */
int	config_regions_load(struct config *c, config_getenv_fn get, struct config_error *err);
/** config_keeper_regions_load(c, get, err): the keeper's BACKUP_REGIONS (every destination
 *  Region, AWS_REGION among them; default AWS_REGION alone) and BACKUP_KMS_KEY_ID (the key
 *  of AWS_REGION its chained copies are encrypted with: key id, alias or ARN of AWS_REGION,
 *  or a multi-Region key ARN whose replica in AWS_REGION is used), into ${c}'s
 *  backup_regions, backup_region (AWS_REGION) and backup_kms_key_id (NULL when unset).
 *  0, or -1 with ${err} naming the variable (and the Region at fault). */
int	config_keeper_regions_load(struct config *c, config_getenv_fn get,
	    struct config_error *err);

#endif

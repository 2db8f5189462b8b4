/*
 * ferry_policy: which snapshots snapferry ferries and how (ferry_decide, pure and
 * table-tested), and when AWS's refusal to share or copy one is final.  No I/O.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ferry.h"
#include "session.h"

int
ferry_refusal_is_final(const struct aws_error *e, time_t created, time_t now)
{
	return (session_is_invalid_state(e) && created > 0 &&
	    now - created > (time_t)FERRY_REFUSAL_HOURS * 3600);
}

size_t
ferry_destinations(const struct config *cfg, size_t *idx, size_t max, int *chained)
{
	size_t i, n = 0;

	*chained = 0;
	if (cfg->region == NULL)
		return (0);
	/* AWS_REGION is a destination: the ferry fills it alone, and every other Region's
	 * keeper chains its copy from there (inside the backup account: it needs nothing
	 * from production, so it completes even when production is lost). */
	for (i = 0; i < cfg->n_backup_regions; i++)
		if (strcmp(cfg->backup_regions[i], cfg->region) == 0) {
			idx[0] = i;
			*chained = cfg->n_backup_regions > 1;
			return (max > 0);
		}
	/* It is not: no copy in this Region to chain from, so the ferry copies to each
	 * Region in one step (cross-account and cross-Region). */
	for (i = 0; i < cfg->n_backup_regions && n < max; i++)
		idx[n++] = i;
	return (n);
}

void
ferry_decide(const struct config *cfg, const struct rds_snapshot *s,
    const char *key_manager, int og_blocks, struct ferry_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->plan = FERRY_PLAN_SHARE_SOURCE;
	if (s->snapshot_type != NULL && (strcmp(s->snapshot_type, "shared") == 0 ||
	    strcmp(s->snapshot_type, "public") == 0)) {
		d->plan = FERRY_PLAN_IGNORE;
		snprintf(d->reason, sizeof(d->reason), "%s snapshot of another account",
		    s->snapshot_type);
		return;
	}
	if (s->db_id != NULL && !config_db_selected(cfg, s->db_id)) {
		d->plan = FERRY_PLAN_SKIP;
		snprintf(d->reason, sizeof(d->reason), "DB %.80s is not selected by "
		    "INCLUDE_PATTERN / EXCLUDE_PATTERN", s->db_id);
		return;
	}
	if (s->kind == RDS_CLUSTER && (s->engine == NULL ||
	    strncmp(s->engine, "aurora", 6) != 0)) {
		d->plan = FERRY_PLAN_SKIP;
		/* AWS lets it be shared, but "Copying a snapshot of a Multi-AZ DB cluster" is
		 * not supported: no transit copy, and the backup account can't own a copy (a
		 * share alone keeps the data, and its key, in this account). */
		snprintf(d->reason, sizeof(d->reason), "Multi-AZ DB cluster snapshot (engine "
		    "%.40s): AWS does not support copying it, so the backup account can't hold "
		    "a copy of its own", s->engine ? s->engine : "unknown");
		return;
	}
	if (s->tde_credential_arn != NULL && *s->tde_credential_arn != '\0') {
		d->plan = FERRY_PLAN_SKIP;
		snprintf(d->reason, sizeof(d->reason), "TDE snapshot (TdeCredentialArn "
		    "%.120s): AWS does not allow sharing it", s->tde_credential_arn);
		return;
	}
	if (s->kind == RDS_INSTANCE && s->option_group != NULL &&
	    strncmp(s->option_group, "default:", 8) != 0) {
		if (og_blocks < 0) {
			d->need_option_check = 1;
		} else if (og_blocks > 0) {
			d->plan = FERRY_PLAN_SKIP;
			snprintf(d->reason, sizeof(d->reason), FERRY_OPTION_GROUP_REASON,
			    s->option_group, "", "", "");
			return;
		}
	}
	if ((s->snapshot_type != NULL && (strcmp(s->snapshot_type, "automated") == 0 ||
	    strcmp(s->snapshot_type, "awsbackup") == 0)) ||
	    (s->id != NULL && strcmp(names_strip_system_prefix(s->id), s->id) != 0)) {
		d->plan = FERRY_PLAN_TRANSIT;
		snprintf(d->reason, sizeof(d->reason), "%s snapshots can't be shared: "
		    "transit copy", s->snapshot_type ? s->snapshot_type : "automated");
	}
	d->encrypted = s->encrypted || s->kms_key_id != NULL;
	/*
	 * The backup account trusts exactly one key of this account, SHARE_KMS_KEY_ID: what
	 * it copies must be under that key.  So every other key, aws/rds (which can't be
	 * shared at all) and customer keys alike, costs a transit copy under the share key;
	 * no customer key's policy has to name the backup account.
	 */
	if (d->encrypted && s->kms_key_id != NULL &&
	    !ferry_is_share_key(cfg, s->kms_key_id)) {
		if (key_manager == NULL) {
			/* Only the reason depends on it: the plan is a transit copy either way. */
			d->need_key_check = 1;
		} else {
			d->plan = FERRY_PLAN_TRANSIT;
			d->transit_key = cfg->share_kms_key_id;
			if (strcmp(key_manager, "AWS") == 0)
				snprintf(d->reason, sizeof(d->reason), "encrypted with an AWS "
				    "managed key: transit copy with SHARE_KMS_KEY_ID");
			else
				snprintf(d->reason, sizeof(d->reason), "encrypted with customer "
				    "key %.120s, not SHARE_KMS_KEY_ID: transit copy with "
				    "SHARE_KMS_KEY_ID", s->kms_key_id);
		}
	}
	if (d->plan == FERRY_PLAN_SHARE_SOURCE)
		snprintf(d->reason, sizeof(d->reason), "%s: shared directly",
		    d->encrypted ? "encrypted with SHARE_KMS_KEY_ID" : "unencrypted");
}

int
ferry_is_share_key(const struct config *cfg, const char *key)
{
	const char *share = cfg->share_kms_key_id;
	size_t nk, ns;

	if (key == NULL || share == NULL)
		return (0);
	if (strcmp(key, share) == 0)
		return (1);
	/* RDS reports the key ARN; SHARE_KMS_KEY_ID may be the bare key id. */
	if (strncmp(share, "arn:", 4) == 0 || strncmp(share, "alias/", 6) == 0)
		return (0);
	nk = strlen(key);
	ns = strlen(share);
	return (nk > ns + 5 && strncmp(key, "arn:", 4) == 0 &&
	    strcmp(key + nk - ns, share) == 0 && strncmp(key + nk - ns - 5, ":key/", 5) == 0);
}

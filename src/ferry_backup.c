/*
 * ferry_backup: the backup copy B of S in one destination Region of the backup account:
 * observe it (and its retry attempts), share S or T and copy; and finish once every B is
 * available (un-share, T clean-up).  Which Regions, and when to finish: ferry_dest.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arn.h"
#include "buf.h"
#include "config.h"
#include "ferry.h"
#include "ferry_flow.h"
#include "kms.h"
#include "names.h"
#include "retry.h"
#include "transit_chain.h"

/* ferry_finish(f, fl, r): every B is available: un-share, keep T as the chain's newest,
 * done (restores are the keeper's). */
void
ferry_finish(struct session *f, struct flow *fl, struct result *r)
{
	const struct config *cfg = f->cfg;
	struct aws_error e;
	int worked = 0;

	memset(&e, 0, sizeof(e));
	if (fl->need_transit) {
		/* T stays as the base of the next incremental copy (transit_chain.h). */
		if ((worked = transit_chain_finish(f, fl, r)) < 0)
			return;
	} else if (fl->have_s && fl->shared_before) {
		result_step(r, "%s was shared with %s before snapferry: the share is left",
		    fl->s.id, cfg->backup_account_id);
	} else if (fl->have_s) {
		/* S itself was shared by snapferry: take the share back; S is never deleted. */
		if (ferry_unshare(f, fl->kind, fl->s.id, r) != 0)
			return;
	}
	if (worked)
		session_count_metric(f, &f->counts.completed, "CopiesCompleted");
	if (fl->n_dests > 1)
		result_finish(r, RESULT_DONE, "backup copy %s is available in account %s in "
		    "%zu Regions (see copies)", fl->dests[0].id, cfg->backup_account_id,
		    fl->n_dests);
	else
		result_finish(r, RESULT_DONE, "backup copy %s is available in account %s",
		    fl->n_dests == 1 ? fl->dests[0].id : fl->backup_id, cfg->backup_account_id);
}

/*
 * describe_b(fl, bc, r, e): B under its name; at the first attempt also under the name
 * used before issue 12, like T's ("<prefix>-<S id>", without the production account),
 * in the same describe (a Filter on both ids: one call, not two).  The new name wins.
 * A copy of the old name whose lineage names exactly S is S's backup copy: it is kept
 * (no second copy; retention finds it by its lineage).  One of another source (a
 * same-named snapshot of another account) is not ours: ignored.
 * 1 found (fl->b, fl->backup_id), 0 none, -1 error in ${e}.
 */
static int
describe_b(struct flow *fl, struct aws_client *bc, struct result *r, struct aws_error *e)
{
	const char *ids[2];
	size_t which = 0;
	int rc;

	if (fl->attempt > 1 || strcmp(fl->copy_id, fl->backup_id) == 0)
		return (rds_describe_tagged(bc, fl->kind, fl->backup_id, &fl->b, e));
	ids[0] = fl->backup_id;
	ids[1] = fl->copy_id;
	if ((rc = rds_describe_first(bc, fl->kind, ids, 2, &fl->b, &which, e)) != 1 ||
	    which == 0)
		return (rc);
	if (fl->b.arn == NULL || !names_has_lineage(fl->b.tags, fl->b.n_tags, fl->s_arn,
	    NAMES_ROLE_BACKUP)) {
		rds_snapshot_clean(&fl->b);
		memset(&fl->b, 0, sizeof(fl->b));
		return (0);
	}
	free(fl->backup_id);
	if ((fl->backup_id = strdup(fl->copy_id)) == NULL)
		return (-1);
	xstrdup_replace(&r->backup, fl->backup_id);
	result_step(r, "backup copy %s has the name used before account-specific names; "
	    "it is this source's copy and is kept", fl->backup_id);
	return (1);
}

/*
 * next_attempt(f, fl, bc, r): B, one of snapferry's, ended failed; AWS deletes only
 * available snapshots and the ferry deletes no copy: copy again under the next retry id
 * (retry.h), the same lineage.  0 go on to create it, -1 ${r} holds the outcome.
 */
static int
next_attempt(struct session *f, struct flow *fl, struct aws_client *bc, struct result *r)
{
	if (retry_next(f, r, fl->kind, &fl->first_id, &fl->backup_id, &fl->attempt,
	    fl->b.status, fl->s_arn) != 0)
		return (-1);
	rds_snapshot_clean(&fl->b);
	fl->have_b = 0;
	return (ferry_observe_b(f, fl, bc, r));
}

/*
 * ferry_observe_b(f, fl, bc, r): observe B in fl->dest_region (under its name, else under
 * the old name).  FERRY_COPY_ABSENT when the flow must go on to create B,
 * FERRY_COPY_PENDING / FERRY_COPY_AVAILABLE (fl->b), -1 when ${r} holds the outcome.
 */
int
ferry_observe_b(struct session *f, struct flow *fl, struct aws_client *bc, struct result *r)
{
	struct aws_error e;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = describe_b(fl, bc, r, &e)) == -1) {
		if (e.code == NULL) {
			result_fail(r, "Snapferry.Internal", "out of memory");
			return (-1);
		}
		session_fail_rds(f, r, &e, fl->kind, RDS_OP_DESCRIBE, fl->backup_id,
		    SESSION_BACKUP_ROLE);
		return (-1);
	}
	if (rc == 0)
		return (FERRY_COPY_ABSENT);
	fl->have_b = 1;
	if (rds_is_terminal(fl->b.status) && strcmp(fl->b.status, "deleting") != 0 &&
	    fl->b.arn != NULL && names_has_lineage(fl->b.tags, fl->b.n_tags, fl->s_arn,
	    NAMES_ROLE_BACKUP))
		return (next_attempt(f, fl, bc, r));
	if (ferry_vet_copy(f, bc, fl, &fl->b, NAMES_ROLE_BACKUP, r) != 0)
		return (-1);
	switch (rds_wait_available(bc, fl->kind, fl->backup_id, &fl->b, ferry_wait_budget_ms(f),
	    &e)) {
	case RDS_WAIT_AVAILABLE:
		return (FERRY_COPY_AVAILABLE);
	case RDS_WAIT_GONE:
		fl->have_b = 0;
		rds_snapshot_clean(&fl->b);
		/* An old-named copy that vanished: the next trigger copies under the new name. */
		if (strcmp(fl->backup_id, fl->copy_id) == 0) {
			PENDING(f, r, "backup copy %s disappeared", fl->backup_id);
			return (-1);
		}
		return (FERRY_COPY_ABSENT);
	case RDS_WAIT_ERROR:
		session_fail_rds(f, r, &e, fl->kind, RDS_OP_DESCRIBE, fl->backup_id,
		    SESSION_BACKUP_ROLE);
		return (-1);
	default:
		return (FERRY_COPY_PENDING);
	}
}

/* How AWS answers a single-step cross-account cross-Region copy of an encrypted snapshot
 * where it still applies the old rule (its code is not documented). */
static const char *const single_step_refusals[] = { "InvalidParameterValue",
    "InvalidParameterCombination" };

/* ferry_share(f, fl, ours, r): share S or T with the backup account (once, for every
 * Region); ${ours}: a B made earlier says the share of S is snapferry's, not the user's. */
int
ferry_share(struct session *f, struct flow *fl, int ours, struct result *r)
{
	const struct config *cfg = f->cfg;
	const struct rds_snapshot *sh = fl->need_transit ? &fl->t : &fl->s;
	const char *id = sh->id ? sh->id : fl->copy_id;
	struct aws_error e;
	int before = 0;

	memset(&e, 0, sizeof(e));
	/* S's own share: snapferry removes later only a share it added itself. */
	if (!fl->need_transit && !ours &&
	    (before = ferry_shared_with_backup(f, fl->kind, id, r)) == -1)
		return (-1);
	if (before) {
		result_step(r, "%s is already shared with %s (not by snapferry): it stays shared",
		    id, cfg->backup_account_id);
	} else if (cfg->dry_run) {
		result_step(r, "would:%s %s add %s", rds_op_name(fl->kind, RDS_OP_SHARE), id,
		    cfg->backup_account_id);
	} else if (rds_modify_share(&f->rds, fl->kind, id, cfg->backup_account_id, 1,
	    &e) != 0) {
		ferry_fail_refused(f, r, &e, rds_op_name(fl->kind, RDS_OP_SHARE), id,
		    "allow rds:ModifyDBSnapshotAttribute / rds:ModifyDBClusterSnapshotAttribute "
		    "to the function's role", sh);
		return (-1);
	} else {
		ferry_note_shared(f, fl->kind, id);
		result_step(r, "%s %s add %s", rds_op_name(fl->kind, RDS_OP_SHARE), id,
		    cfg->backup_account_id);
	}
	return (before);
}

/* ferry_copy_b(f, fl, bc, before, code, why, r): copy the shared S or T to B in
 * fl->dest_region. */
int
ferry_copy_b(struct session *f, struct flow *fl, struct aws_client *bc, int before,
    char **code, char **why, struct result *r)
{
	const struct config *cfg = f->cfg;
	const struct rds_snapshot *sh = fl->need_transit ? &fl->t : &fl->s;
	struct rds_tag tags[NAMES_MAX_TAGS + 2];	/* + shared-before, source-region */
	struct names_arn_tags at;
	struct aws_error e;
	const char *key;
	size_t nt;
	int rc, cross = strcmp(fl->dest_region, cfg->region) != 0;

	memset(&e, 0, sizeof(e));
	/* An unencrypted cluster snapshot copy refuses a KmsKeyId. */
	key = (fl->kind == RDS_CLUSTER && !fl->encrypted) ? NULL : fl->dest_key;
	if (cfg->dry_run) {
		result_step(r, "would:%s %s -> %s kms=%s (backup account %s, Region %s%s)",
		    rds_op_name(fl->kind, RDS_OP_COPY), sh->arn ? sh->arn : fl->copy_id,
		    fl->backup_id, key ? key : "(none)", cfg->backup_account_id,
		    fl->dest_region, cross ? ", single step across Regions" : "");
		return (0);
	}
	/* B's lineage names S, whether T or S was shared. */
	if (fl->have_s) {
		rc = names_lineage_tags(&fl->s, NAMES_ROLE_BACKUP, &at, tags, &nt);
	} else {
		struct rds_snapshot pseudo = fl->t;

		pseudo.arn = fl->s_arn;
		pseudo.db_id = fl->db_id;
		pseudo.kms_key_id = (char *)(uintptr_t)rds_tag_get(fl->t.tags, fl->t.n_tags,
		    NAMES_TAG_SOURCE_KEY);
		pseudo.create_time = (char *)(uintptr_t)rds_tag_get(fl->t.tags,
		    fl->t.n_tags, NAMES_TAG_SOURCE_TIME);
		rc = names_lineage_tags(&pseudo, NAMES_ROLE_BACKUP, &at, tags, &nt);
	}
	if (rc != 0) {
		ferry_lineage_too_long(f, fl, r);
		return (-1);
	}
	if (before) {
		tags[nt].key = FERRY_TAG_SHARED_BEFORE;
		tags[nt++].value = "true";
	}
	if (cross) {
		tags[nt].key = NAMES_TAG_SOURCE_REGION;
		tags[nt++].value = cfg->region;
	}
	rc = rds_copy_snapshot(bc, fl->kind, sh->arn, fl->backup_id, key, tags, nt, NULL, &e);
	names_arn_tags_clean(&at);
	if (rc == 0) {
		session_count_metric(f, &f->counts.started, "CopiesStarted");
		result_step(r, "%s %s -> %s (backup account %s, Region %s)",
		    rds_op_name(fl->kind, RDS_OP_COPY), sh->arn, fl->backup_id,
		    cfg->backup_account_id, fl->dest_region);
	} else if (aws_error_has(&e, "AlreadyExists")) {
		result_step(r, "%s %s: already exists in the backup account (Region %s)",
		    rds_op_name(fl->kind, RDS_OP_COPY), fl->backup_id, fl->dest_region);
		aws_error_clear(&e);
	} else if (fl->encrypted && cross && aws_str_in(e.code, single_step_refusals, 2)) {
		/* Final: the same request gets the same answer; the chain is the way. */
		result_warn(r, "%s %s -> %s in %s: refused as a single step (%s: %s)",
		    rds_op_name(fl->kind, RDS_OP_COPY), sh->arn, fl->backup_id,
		    fl->dest_region, e.code, e.message ? e.message : "");
		*code = strdup(e.code);
		*why = strdup(e.message ? e.message : "");
		aws_error_clear(&e);
		return (1);
	} else {
		ferry_fail_refused(f, r, &e, rds_op_name(fl->kind, RDS_OP_COPY), sh->arn,
		    "BACKUP_ROLE_ARN needs rds:CopyDBSnapshot / rds:CopyDBClusterSnapshot and "
		    "rds:AddTagsToResource, and kms:CreateGrant + kms:DescribeKey on "
		    "BACKUP_KMS_KEY_ID and SHARE_KMS_KEY_ID; the key policy of "
		    "SHARE_KMS_KEY_ID must grant the backup account kms:Decrypt, "
		    "kms:CreateGrant and kms:DescribeKey", sh);
		return (-1);
	}
	return (0);
}

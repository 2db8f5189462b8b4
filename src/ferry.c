/*
 * ferry: advance(S).  Each invocation observes S, its transit copy T (in
 * this account), the share, and its backup copy B (in the backup account),
 * and takes every step that is ready now; the deterministic names of
 * names.c and the lineage tags make every step safe to repeat.  The clients and
 * the classification of AWS errors are session.c's, the policy ferry_policy.c's,
 * the share and delete steps ferry_share.c's; restoring is the keeper's (restore.c).
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
#include "kms.h"
#include "names.h"
#include "retry.h"

#define SESSION_NAME	"snapferry"

/* What one call of advance learns about S and its copies. */
struct flow {
	enum rds_kind		 kind;
	struct rds_snapshot	 s, t, b;
	int			 have_s, have_t, have_b;
	char			*s_id;		/* id of S (from S, the reference or T's tags) */
	char			*s_arn;
	char			*db_id;
	int			 need_transit;
	const char		*transit_key;	/* KmsKeyId of T; NULL = S's own key */
	char			*copy_id;	/* name of T (and of B before issue 12) */
	char			*backup_id;	/* name of B: names_backup_id, or an old one */
	int			 attempt;	/* of B: 1, or the retry id's (retry.h) */
	char			*first_id;	/* B's id at attempt 1, once a retry is made */
	int			 encrypted;
};

/* wait_budget_ms(f): how long this invocation may poll a copy: WAIT_SECONDS, cut to the
 * time left; 0 in a dry run and in the sweep. */
static int64_t
wait_budget_ms(const struct session *f)
{
	int64_t w = (int64_t)f->cfg->wait_seconds * 1000, left;

	if (w <= 0 || f->cfg->dry_run || f->no_wait)
		return (0);
	left = session_time_left_ms(f);
	return (left < w ? left : w);
}

#define PENDING(f, r, ...) do {						\
	session_count_metric((f), &(f)->counts.pending, "CopiesPending");		\
	result_finish((r), RESULT_PENDING, __VA_ARGS__);			\
} while (0)

static void
flow_clean(struct flow *fl)
{
	if (fl->have_s)
		rds_snapshot_clean(&fl->s);
	if (fl->have_t)
		rds_snapshot_clean(&fl->t);
	if (fl->have_b)
		rds_snapshot_clean(&fl->b);
	free(fl->s_id);
	free(fl->s_arn);
	free(fl->db_id);
	free(fl->copy_id);
	free(fl->backup_id);
	free(fl->first_id);
	memset(fl, 0, sizeof(*fl));
}

/* A stand-in for S built from T's lineage when S itself is gone. */
static int
source_from_tags(struct flow *fl, const struct rds_snapshot *t)
{
	const char *db = rds_tag_get(t->tags, t->n_tags, NAMES_TAG_SOURCE_DB);
	struct arn_snapshot a;
	int same;

	/* Exactly S: the same id and kind (a copy of another source can share T's name). */
	if (names_lineage_source(t->tags, t->n_tags, &a) != 0)
		return (-1);
	same = strcmp(a.id, fl->s_id) == 0 && a.kind == fl->kind;
	arn_snapshot_clean(&a);
	free(fl->s_arn);
	if (!same || (fl->s_arn = names_lineage_arn(t->tags, t->n_tags)) == NULL)
		return (-1);
	if (db != NULL && xstrdup_replace(&fl->db_id, db) != 0)
		return (-1);
	return (0);
}

/* ---- the steps ------------------------------------------------------------------ */

/* lineage_too_long(f, fl, r): ${r} fails: S's ARN can't be written as lineage tags. */
static void
lineage_too_long(struct session *f, const struct flow *fl, struct result *r)
{
	session_count_metric(f, &f->counts.failed, "CopiesFailed");
	result_fail(r, "Snapferry.Internal", "the lineage of %s can't be tagged: out of "
	    "memory, or its ARN is over %d characters", fl->s_id ? fl->s_id : "(no id)",
	    NAMES_ARN_PARTS * NAMES_TAG_VALUE_MAX);
}

/* finish(f, fl, r): B is available: un-share, delete T, done (restores are the keeper's). */
static void
finish(struct session *f, struct flow *fl, struct result *r)
{
	const struct config *cfg = f->cfg;
	struct aws_error e;
	int worked = 0, rc;

	memset(&e, 0, sizeof(e));
	if (fl->need_transit) {
		if (!fl->have_t) {
			if ((rc = rds_describe_tagged(&f->rds, fl->kind, fl->copy_id, &fl->t,
			    &e)) == -1) {
				session_fail_rds(f, r, &e, fl->kind, RDS_OP_DESCRIBE, fl->copy_id,
				    SESSION_OWN_ROLE);
				return;
			}
			fl->have_t = (rc == 1);
		}
		if (fl->have_t && cfg->transit_cleanup) {
			if (!names_has_lineage(fl->t.tags, fl->t.n_tags, fl->s_arn,
			    NAMES_ROLE_TRANSIT)) {
				result_warn(r, "transit copy %s does not carry snapferry's "
				    "lineage for %s: left alone", fl->copy_id, fl->s_arn);
			} else {
				if (ferry_unshare(f, fl->kind, fl->t.id, r) != 0)
					return;
				if (ferry_delete_ours(f, &f->rds, fl->kind, &fl->t, fl->s_arn, r,
				    "transit copy") != 0)
					return;
				worked = 1;
			}
		}
	} else if (fl->have_s && fl->have_b && rds_tag_get(fl->b.tags, fl->b.n_tags,
	    FERRY_TAG_SHARED_BEFORE) != NULL) {
		result_step(r, "%s was shared with %s before snapferry: the share is left",
		    fl->s.id, cfg->backup_account_id);
	} else if (fl->have_s) {
		/* S itself was shared by snapferry: take the share back; S is never deleted. */
		if (ferry_unshare(f, fl->kind, fl->s.id, r) != 0)
			return;
	}
	if (worked)
		session_count_metric(f, &f->counts.completed, "CopiesCompleted");
	result_finish(r, RESULT_DONE, "backup copy %s is available in account %s",
	    fl->backup_id, cfg->backup_account_id);
}

/*
 * vet_copy(f, c, fl, snap, role, r): ${snap} holds the name of S's transit
 * copy (${role} "transit", in this account) or backup copy ("backup", in the
 * backup account).  It must carry snapferry's lineage for S; one that ended
 * badly is deleted so that the next trigger copies again.  0 usable (go on), -1 ${r}
 * holds the outcome.
 */
static int
vet_copy(struct session *f, struct aws_client *c, struct flow *fl,
    const struct rds_snapshot *snap, const char *role, struct result *r)
{
	const char *what = strcmp(role, NAMES_ROLE_BACKUP) == 0 ? "backup copy" :
	    "transit copy";
	const char *name = c == &f->rds ? fl->copy_id : fl->backup_id;

	if (snap->arn == NULL || fl->s_arn == NULL) {
		ferry_no_arn(f, fl->kind, snap->arn == NULL ? name : fl->s_id, r);
		return (-1);
	}
	if (!names_has_lineage(snap->tags, snap->n_tags, fl->s_arn, role)) {
		session_count_metric(f, &f->counts.failed, "CopiesFailed");
		result_fail(r, "Snapferry.NameConflict", "snapshot %s exists%s but does not "
		    "carry snapferry's lineage tags for %s; rename or delete it, or set "
		    "another NAME_PREFIX", name, c == &f->rds ? "" :
		    " in the backup account", fl->s_arn);
		return (-1);
	}
	if (!rds_is_terminal(snap->status))
		return (0);
	result_warn(r, "%s %s ended in state %s; deleting it so that the next trigger "
	    "copies again", what, name, snap->status);
	session_count_metric(f, &f->counts.failed, "CopiesFailed");
	if (strcmp(snap->status, "deleting") != 0 &&
	    ferry_delete_ours(f, c, fl->kind, snap, fl->s_arn, r, what) != 0)
		return (-1);
	PENDING(f, r, "%s %s was %s; copying again later", what, name, snap->status);
	return (-1);
}

/*
 * old_named_b(fl, bc, r, e): before issue 12, B was named like T ("<prefix>-<S id>",
 * without the production account).  A copy of that name whose lineage names exactly S
 * is S's backup copy: it is kept (no second copy; retention finds it by its lineage).
 * One of another source (same-named snapshot of another account) is not ours: ignored.
 * 1 adopted (fl->b, fl->backup_id), 0 none, -1 error in ${e}.
 */
static int
old_named_b(struct flow *fl, struct aws_client *bc, struct result *r, struct aws_error *e)
{
	int rc;

	if (strcmp(fl->copy_id, fl->backup_id) == 0)
		return (0);
	if ((rc = rds_describe_tagged(bc, fl->kind, fl->copy_id, &fl->b, e)) != 1)
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

static int observe_b(struct session *, struct flow *, struct aws_client *, struct result *);

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
	return (observe_b(f, fl, bc, r));
}

/*
 * observe_b(f, fl, bc, r): observe B (under its name, else under the old name).
 * 0 when the flow must go on to create B, -1 when ${r} holds the outcome.
 */
static int
observe_b(struct session *f, struct flow *fl, struct aws_client *bc, struct result *r)
{
	struct aws_error e;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = rds_describe_tagged(bc, fl->kind, fl->backup_id, &fl->b, &e)) == 0 &&
	    fl->attempt <= 1)
		rc = old_named_b(fl, bc, r, &e);
	if (rc == -1) {
		if (e.code == NULL) {
			result_fail(r, "Snapferry.Internal", "out of memory");
			return (-1);
		}
		session_fail_rds(f, r, &e, fl->kind, RDS_OP_DESCRIBE, fl->backup_id,
		    SESSION_BACKUP_ROLE);
		return (-1);
	}
	if (rc == 0)
		return (0);
	fl->have_b = 1;
	if (rds_is_terminal(fl->b.status) && strcmp(fl->b.status, "deleting") != 0 &&
	    fl->b.arn != NULL && names_has_lineage(fl->b.tags, fl->b.n_tags, fl->s_arn,
	    NAMES_ROLE_BACKUP))
		return (next_attempt(f, fl, bc, r));
	if (vet_copy(f, bc, fl, &fl->b, NAMES_ROLE_BACKUP, r) != 0)
		return (-1);
	switch (rds_wait_available(bc, fl->kind, fl->backup_id, &fl->b, wait_budget_ms(f),
	    &e)) {
	case RDS_WAIT_AVAILABLE:
		finish(f, fl, r);
		return (-1);
	case RDS_WAIT_GONE:
		fl->have_b = 0;
		rds_snapshot_clean(&fl->b);
		/* An old-named copy that vanished: the next trigger copies under the new name. */
		if (strcmp(fl->backup_id, fl->copy_id) == 0) {
			PENDING(f, r, "backup copy %s disappeared", fl->backup_id);
			return (-1);
		}
		return (0);
	case RDS_WAIT_ERROR:
		session_fail_rds(f, r, &e, fl->kind, RDS_OP_DESCRIBE, fl->backup_id,
		    SESSION_BACKUP_ROLE);
		return (-1);
	default:
		PENDING(f, r, "backup copy %s is %s (%d%%)%s", fl->backup_id,
		    fl->b.status ? fl->b.status : "not ready", fl->b.percent, retry_note(fl->attempt));
		return (-1);
	}
}

/*
 * make_t(f, fl, r): make sure the transit copy exists and is available.
 * 0 available (fl->t), -1 ${r} holds the outcome.
 */
static int
make_t(struct session *f, struct flow *fl, struct result *r)
{
	const struct config *cfg = f->cfg;
	struct rds_tag tags[NAMES_MAX_TAGS];
	struct names_arn_tags at;
	struct aws_error e;
	size_t nt;
	int rc;

	memset(&e, 0, sizeof(e));
	if (!fl->have_t) {
		if ((rc = rds_describe_tagged(&f->rds, fl->kind, fl->copy_id, &fl->t, &e)) == -1)
			goto fail;
		fl->have_t = (rc == 1);
	}
	if (!fl->have_t) {
		if (!fl->have_s) {
			result_finish(r, RESULT_SKIPPED, "source snapshot %s no longer exists",
			    fl->s_arn);
			return (-1);
		}
		if (cfg->dry_run) {
			result_step(r, "would:%s %s -> %s kms=%s",
			    rds_op_name(fl->kind, RDS_OP_COPY), fl->s.id, fl->copy_id,
			    fl->transit_key ? fl->transit_key : "(source key)");
			result_finish(r, RESULT_PENDING, "dry run: the transit copy %s would "
			    "be created", fl->copy_id);
			return (-1);
		}
		if (names_lineage_tags(&fl->s, NAMES_ROLE_TRANSIT, &at, tags, &nt) != 0) {
			lineage_too_long(f, fl, r);
			return (-1);
		}
		rc = rds_copy_snapshot(&f->rds, fl->kind, fl->s.id, fl->copy_id,
		    fl->transit_key, tags, nt, &fl->t, &e);
		names_arn_tags_clean(&at);
		if (rc == 0) {
			fl->have_t = 1;
			session_count_metric(f, &f->counts.transit_started, "TransitCopiesStarted");
			result_step(r, "%s %s -> %s", rds_op_name(fl->kind, RDS_OP_COPY), fl->s.id,
			    fl->copy_id);
			/* The copy's answer has no tags: read them back for the checks. */
			rds_snapshot_clean(&fl->t);
			fl->have_t = 0;
			if ((rc = rds_describe_tagged(&f->rds, fl->kind, fl->copy_id, &fl->t,
			    &e)) == -1)
				goto fail;
			if (rc == 0) {
				PENDING(f, r, "transit copy %s requested", fl->copy_id);
				return (-1);
			}
			fl->have_t = 1;
		} else if (aws_error_has(&e, "AlreadyExists")) {
			/* A concurrent invocation got there first. */
			aws_error_clear(&e);
			if ((rc = rds_describe_tagged(&f->rds, fl->kind, fl->copy_id, &fl->t,
			    &e)) == -1)
				goto fail;
			if (rc == 0) {
				PENDING(f, r, "transit copy %s is being replaced", fl->copy_id);
				return (-1);
			}
			fl->have_t = 1;
			result_step(r, "%s %s: already exists", rds_op_name(fl->kind, RDS_OP_COPY),
			    fl->copy_id);
		} else {
			ferry_fail_refused(f, r, &e, rds_op_name(fl->kind, RDS_OP_COPY), fl->s.id,
			    "allow rds:CopyDBSnapshot / rds:CopyDBClusterSnapshot and "
			    "rds:AddTagsToResource to the function's role; the key policy of "
			    "SHARE_KMS_KEY_ID must allow it kms:CreateGrant, kms:DescribeKey, "
			    "kms:Encrypt, kms:Decrypt, kms:ReEncrypt*, kms:GenerateDataKey*, and "
			    "the source snapshot's customer key must allow it kms:CreateGrant and "
			    "kms:Decrypt (its default key policy lets this account's IAM decide)",
			    &fl->s);
			return (-1);
		}
	}
	xstrdup_replace(&r->transit, fl->copy_id);
	if (vet_copy(f, &f->rds, fl, &fl->t, NAMES_ROLE_TRANSIT, r) != 0)
		return (-1);
	switch (rds_wait_available(&f->rds, fl->kind, fl->copy_id, &fl->t, wait_budget_ms(f),
	    &e)) {
	case RDS_WAIT_AVAILABLE:
		return (0);
	case RDS_WAIT_GONE:
		PENDING(f, r, "transit copy %s disappeared", fl->copy_id);
		return (-1);
	case RDS_WAIT_ERROR:
		goto fail;
	default:
		PENDING(f, r, "transit copy %s is %s (%d%%)", fl->copy_id,
		    fl->t.status ? fl->t.status : "not ready", fl->t.percent);
		return (-1);
	}

fail:
	session_fail_rds(f, r, &e, fl->kind, RDS_OP_DESCRIBE, fl->copy_id, SESSION_OWN_ROLE);
	return (-1);
}

/* How AWS answers a single-step cross-account cross-Region copy of an encrypted snapshot
 * where it still applies the old rule (its code is not documented). */
static const char *const single_step_refusals[] = { "InvalidParameterValue",
    "InvalidParameterCombination" };

/* share_and_copy(f, fl, bc, r): share S or T, copy it into the backup account (in
 * BACKUP_REGION: across Regions in one step when that is not AWS_REGION). */
static void
share_and_copy(struct session *f, struct flow *fl, struct aws_client *bc, struct result *r)
{
	const struct config *cfg = f->cfg;
	const struct rds_snapshot *sh = fl->need_transit ? &fl->t : &fl->s;
	struct rds_tag tags[NAMES_MAX_TAGS + 1];	/* + snapferry:source-region */
	struct names_arn_tags at;
	struct aws_error e;
	const char *key;
	size_t nt;
	int rc, before = 0;

	memset(&e, 0, sizeof(e));
	/* S's own share: snapferry removes later only a share it added itself. */
	if (!fl->need_transit && (before = ferry_shared_with_backup(f, fl->kind, sh->id, r)) == -1)
		return;
	if (before) {
		result_step(r, "%s is already shared with %s (not by snapferry): it stays shared",
		    sh->id, cfg->backup_account_id);
	} else if (cfg->dry_run) {
		result_step(r, "would:%s %s add %s", rds_op_name(fl->kind, RDS_OP_SHARE), sh->id,
		    cfg->backup_account_id);
	} else if (rds_modify_share(&f->rds, fl->kind, sh->id, cfg->backup_account_id, 1,
	    &e) != 0) {
		ferry_fail_refused(f, r, &e, rds_op_name(fl->kind, RDS_OP_SHARE), sh->id,
		    "allow rds:ModifyDBSnapshotAttribute / rds:ModifyDBClusterSnapshotAttribute "
		    "to the function's role", sh);
		return;
	} else {
		result_step(r, "%s %s add %s", rds_op_name(fl->kind, RDS_OP_SHARE), sh->id,
		    cfg->backup_account_id);
	}

	/* An unencrypted cluster snapshot copy refuses a KmsKeyId. */
	key = (fl->kind == RDS_CLUSTER && !fl->encrypted) ? NULL : cfg->backup_kms_key_id;
	if (cfg->dry_run) {
		result_step(r, "would:%s %s -> %s kms=%s (backup account %s, Region %s)",
		    rds_op_name(fl->kind, RDS_OP_COPY), sh->arn, fl->backup_id,
		    key ? key : "(none)", cfg->backup_account_id, cfg->backup_region);
		result_finish(r, RESULT_PENDING, "dry run: the backup copy %s would be "
		    "created", fl->backup_id);
		return;
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
		lineage_too_long(f, fl, r);
		return;
	}
	if (before) {
		tags[nt].key = FERRY_TAG_SHARED_BEFORE;
		tags[nt++].value = "true";
	}
	if (ferry_cross_region(cfg)) {
		tags[nt].key = NAMES_TAG_SOURCE_REGION;
		tags[nt++].value = cfg->region;
	}
	rc = rds_copy_snapshot(bc, fl->kind, sh->arn, fl->backup_id, key, tags, nt, NULL, &e);
	names_arn_tags_clean(&at);
	if (rc == 0) {
		session_count_metric(f, &f->counts.started, "CopiesStarted");
		result_step(r, "%s %s -> %s (backup account %s)",
		    rds_op_name(fl->kind, RDS_OP_COPY), sh->arn, fl->backup_id,
		    cfg->backup_account_id);
	} else if (aws_error_has(&e, "AlreadyExists")) {
		result_step(r, "%s %s: already exists in the backup account",
		    rds_op_name(fl->kind, RDS_OP_COPY), fl->backup_id);
		aws_error_clear(&e);
	} else if (fl->encrypted && ferry_cross_region(cfg) &&
	    aws_str_in(e.code, single_step_refusals, 2)) {
		/* Final: the same request gets the same answer; the chain is the way. */
		session_count_metric(f, &f->counts.failed, "CopiesFailed");
		result_fail(r, "Snapferry.CrossRegionRefused", FERRY_SINGLE_STEP_REASON,
		    fl->need_transit ? "transit copy" : "snapshot", sh->id, cfg->region,
		    cfg->backup_region, e.code, e.message ? e.message : "", cfg->region,
		    cfg->region, cfg->backup_region);
		aws_error_clear(&e);
		return;
	} else {
		ferry_fail_refused(f, r, &e, rds_op_name(fl->kind, RDS_OP_COPY), sh->arn,
		    "BACKUP_ROLE_ARN needs rds:CopyDBSnapshot / rds:CopyDBClusterSnapshot and "
		    "rds:AddTagsToResource, and kms:CreateGrant + kms:DescribeKey on "
		    "BACKUP_KMS_KEY_ID and SHARE_KMS_KEY_ID; the key policy of "
		    "SHARE_KMS_KEY_ID must grant the backup account kms:Decrypt, "
		    "kms:CreateGrant and kms:DescribeKey", sh);
		return;
	}
	if (observe_b(f, fl, bc, r) == 0)
		PENDING(f, r, "backup copy %s requested%s", fl->backup_id, retry_note(fl->attempt));
}

/* ---- advance ------------------------------------------------------------------ */

/* backup_id(fl, prefix, r): fl->backup_id for S, from the account and region of S's ARN
 *  (known in every path: S's own, or its transit copy's lineage).  0, or -1 with ${r}. */
static int
backup_id(struct flow *fl, const char *prefix, struct result *r)
{
	struct arn_snapshot a;

	if (fl->s_arn == NULL || arn_rds_snapshot(fl->s_arn, &a) != 0) {
		result_fail(r, "Snapferry.AWSError", "%s is not an RDS snapshot ARN: no "
		    "backup copy name", fl->s_arn ? fl->s_arn : "(no ARN)");
		return (-1);
	}
	fl->backup_id = names_backup_id(prefix, a.id, fl->kind, a.account, a.region);
	arn_snapshot_clean(&a);
	if (fl->backup_id == NULL) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		return (-1);
	}
	return (0);
}

/* eligible(f, fl, r): 0 when S can be ferried, -1 with ${r} holding why not. */
static int
eligible(struct session *f, struct flow *fl, struct result *r)
{
	const struct rds_snapshot *s = &fl->s;
	struct ferry_decision d;
	struct aws_error e;
	struct kms_key k;
	char *blocking = NULL;
	int og = -1;

	memset(&e, 0, sizeof(e));
	memset(&k, 0, sizeof(k));
	ferry_decide(f->cfg, s, NULL, og, &d);
	if (d.need_option_check && d.plan != FERRY_PLAN_IGNORE &&
	    d.plan != FERRY_PLAN_SKIP) {
		if ((og = rds_option_group_blocking(&f->rds, s->option_group, &blocking,
		    &e)) == -1) {
			session_fail_aws(f, r, &e, "DescribeOptionGroups", s->option_group,
			    "allow rds:DescribeOptionGroups to the function's role");
			return (-1);
		}
		ferry_decide(f->cfg, s, NULL, og, &d);
		if (d.plan == FERRY_PLAN_SKIP && og == 1 && blocking != NULL)
			snprintf(d.reason, sizeof(d.reason), FERRY_OPTION_GROUP_REASON,
			    s->option_group, " (", blocking, ")");
		free(blocking);
	}
	if (d.need_key_check && d.plan != FERRY_PLAN_IGNORE && d.plan != FERRY_PLAN_SKIP) {
		if (kms_describe_key(&f->kms, s->kms_key_id, &k, &e) != 0) {
			session_fail_aws(f, r, &e, "kms:DescribeKey", s->kms_key_id,
			    "allow kms:DescribeKey on the snapshot's key to the function's role");
			return (-1);
		}
		ferry_decide(f->cfg, s, k.key_manager ? k.key_manager : "CUSTOMER", og, &d);
		kms_key_clean(&k);
	}
	switch (d.plan) {
	case FERRY_PLAN_IGNORE:
		result_finish(r, RESULT_IGNORED, "%s", d.reason);
		return (-1);
	case FERRY_PLAN_SKIP:
		result_finish(r, RESULT_SKIPPED, "%s", d.reason);
		return (-1);
	case FERRY_PLAN_TRANSIT:
		fl->need_transit = 1;
		break;
	case FERRY_PLAN_SHARE_SOURCE:
		break;
	}
	fl->transit_key = d.transit_key;
	fl->encrypted = d.encrypted;
	result_step(r, "eligible: %s", d.reason);
	return (0);
}

/* find_source(f, fl, kind, id, r): describe S (instance then cluster for ANY).
 *  1 found, 0 not found, -1 ${r} holds the failure. */
static int
find_source(struct session *f, struct flow *fl, int kind, const char *id, struct result *r)
{
	struct aws_error e;
	int rc, k;

	memset(&e, 0, sizeof(e));
	for (k = RDS_INSTANCE; k <= RDS_CLUSTER; k++) {
		if (kind != FERRY_KIND_ANY && kind != k)
			continue;
		if ((rc = rds_describe_tagged(&f->rds, (enum rds_kind)k, id, &fl->s, &e)) == -1) {
			session_fail_rds(f, r, &e, (enum rds_kind)k, RDS_OP_DESCRIBE, id,
			    SESSION_OWN_ROLE);
			return (-1);
		}
		fl->kind = (enum rds_kind)k;
		if (rc == 1) {
			fl->have_s = 1;
			return (1);
		}
	}
	fl->kind = kind == FERRY_KIND_ANY ? RDS_INSTANCE : (enum rds_kind)kind;
	return (0);
}

/* own_arn(f, a, r): 0 when ARN ${a} is in this account and region; -1 with ${r} set. */
static int
own_arn(struct session *f, const struct arn_snapshot *a, struct result *r)
{
	const struct config *cfg = f->cfg;
	const char *acct;

	if ((acct = session_own_account(f, r)) == NULL)
		return (-1);
	if (strcmp(a->region, cfg->region) != 0 || strcmp(a->account, acct) != 0) {
		result_warn(r, "snapshot %s is in account %s region %s, not this function's "
		    "(%s, %s): not acting on it", a->id, a->account, a->region,
		    acct, cfg->region);
		result_finish(r, RESULT_IGNORED, "snapshot of another account or region");
		return (-1);
	}
	return (0);
}

static void
advance(struct session *f, int kind, const char *ref, struct result *r, int copied,
    int depth)
{
	const struct config *cfg = f->cfg;
	struct arn_snapshot a;
	struct aws_client *bc;
	struct aws_error e;
	struct flow fl;
	const char *id = ref, *src;
	int rc;

	memset(&fl, 0, sizeof(fl));
	memset(&e, 0, sizeof(e));
	r->dry_run = cfg->dry_run;
	rc = arn_is(ref);
	if (rc == 1 && arn_rds_snapshot(ref, &a) != 0) {
		result_finish(r, RESULT_IGNORED, "%s is not an RDS snapshot ARN", ref);
		return;
	}
	if (rc == 1) {
		if (own_arn(f, &a, r) != 0) {
			arn_snapshot_clean(&a);
			return;
		}
		kind = (int)a.kind;
		id = a.id;
	}
	fl.s_id = strdup(id);
	if (rc == 1)
		arn_snapshot_clean(&a);
	if (fl.s_id == NULL)
		goto nomem;
	id = fl.s_id;	/* ${a} is gone */

	if ((rc = find_source(f, &fl, kind, fl.s_id, r)) == -1)
		goto done;
	if (rc == 1 && fl.s.arn == NULL) {
		ferry_no_arn(f, fl.kind, fl.s_id, r);
		goto done;
	}
	if (rc == 1 && names_is_snapferry(fl.s.tags, fl.s.n_tags, NAMES_ROLE_TRANSIT)) {
		/* One of our transit copies: advance its source. */
		src = names_lineage_arn(fl.s.tags, fl.s.n_tags);
		if (depth > 0 || src == NULL) {
			free((void *)(uintptr_t)src);
			result_finish(r, RESULT_IGNORED, "transit copy %s names no usable "
			    "source", fl.s.id);
			goto done;
		}
		result_step(r, "%s is snapferry's transit copy of %s", fl.s.id, src);
		flow_clean(&fl);
		advance(f, FERRY_KIND_ANY, src, r, 0, depth + 1);
		free((void *)(uintptr_t)src);
		return;
	}
	if (rc == 1 && names_is_snapferry(fl.s.tags, fl.s.n_tags, NULL)) {
		/* A backup copy (this account is another's backup account) or a restore:
		 * ferrying it would copy copies ("<prefix>-<prefix>-..."). */
		src = rds_tag_get(fl.s.tags, fl.s.n_tags, NAMES_TAG_ROLE);
		result_finish(r, RESULT_IGNORED, "%s is a snapferry %s copy, never a source",
		    fl.s.id, src ? src : "(no role)");
		goto done;
	}
	if (copied) {
		result_finish(r, RESULT_IGNORED, "copy of %s finished, but it is not a "
		    "snapferry transit copy", id);
		goto done;
	}
	if (xstrdup_replace(&r->source, rc == 1 ? fl.s.arn : ref) != 0)
		goto nomem;

	if (rc == 1) {
		if (xstrdup_replace(&fl.s_arn, fl.s.arn) != 0 ||
		    xstrdup_replace(&fl.db_id, fl.s.db_id) != 0)
			goto nomem;
		xstrdup_replace(&r->source_db, fl.db_id);
		if (!rds_is_available(&fl.s)) {
			if (rds_is_terminal(fl.s.status))
				result_finish(r, RESULT_SKIPPED, "source snapshot is %s",
				    fl.s.status);
			else
				PENDING(f, r, "source snapshot %s is %s", fl.s.id,
				    fl.s.status ? fl.s.status : "not available");
			goto done;
		}
		if (eligible(f, &fl, r) != 0)
			goto done;
	} else {
		/* S is gone: its transit copy may still need finishing. */
		if ((fl.copy_id = names_copy_id(cfg->name_prefix, fl.s_id, fl.kind)) == NULL)
			goto nomem;
		if ((rc = rds_describe_tagged(&f->rds, fl.kind, fl.copy_id, &fl.t, &e)) == -1) {
			session_fail_rds(f, r, &e, fl.kind, RDS_OP_DESCRIBE, fl.copy_id,
			    SESSION_OWN_ROLE);
			goto done;
		}
		fl.have_t = (rc == 1);
		if (!fl.have_t || !names_is_snapferry(fl.t.tags, fl.t.n_tags,
		    NAMES_ROLE_TRANSIT) || source_from_tags(&fl, &fl.t) != 0) {
			result_finish(r, RESULT_SKIPPED, "source snapshot %s not found", ref);
			goto done;
		}
		result_warn(r, "source snapshot %s is gone; finishing from its transit copy",
		    fl.s_arn);
		xstrdup_replace(&r->source, fl.s_arn);
		xstrdup_replace(&r->source_db, fl.db_id);
		fl.need_transit = 1;
		fl.encrypted = fl.t.encrypted || fl.t.kms_key_id != NULL;
	}
	if (fl.copy_id == NULL &&
	    (fl.copy_id = names_copy_id(cfg->name_prefix, fl.have_s ? fl.s.id : fl.s_id,
	    fl.kind)) == NULL)
		goto nomem;
	if (backup_id(&fl, cfg->name_prefix, r) != 0)
		goto done;
	xstrdup_replace(&r->backup, fl.backup_id);
	if (fl.need_transit)
		xstrdup_replace(&r->transit, fl.copy_id);

	/* B first: after it is done, T is gone and must not come back. */
	if ((bc = session_backup(f, r)) == NULL)
		goto done;
	if (observe_b(f, &fl, bc, r) != 0)
		goto done;
	if (fl.need_transit && make_t(f, &fl, r) != 0)
		goto done;
	if (!fl.need_transit)
		xstrdup_replace(&r->transit, NULL);
	share_and_copy(f, &fl, bc, r);

done:
	flow_clean(&fl);
	return;

nomem:
	flow_clean(&fl);
	result_fail(r, "Snapferry.Internal", "out of memory");
}

void
ferry_advance(struct session *f, int kind, const char *ref, struct result *r)
{
	advance(f, kind, ref, r, 0, 0);
	if (r->outcome == RESULT_NONE)
		result_finish(r, RESULT_PENDING, "no decision");
}

void
ferry_advance_copied(struct session *f, int kind, const char *ref, struct result *r)
{
	advance(f, kind, ref, r, 1, 0);
	if (r->outcome == RESULT_NONE)
		result_finish(r, RESULT_PENDING, "no decision");
}

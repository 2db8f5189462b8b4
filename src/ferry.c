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
#include "ferry_flow.h"
#include "kms.h"
#include "names.h"
#include "retry.h"

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
		ferry_flow_clean(&fl);
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
		    NAMES_ROLE_TRANSIT) || ferry_source_from_tags(&fl, &fl.t) != 0) {
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

	/* B in every destination Region first: after they are done, T is gone and must
	 * not come back. */
	ferry_to_destinations(f, &fl, r);

done:
	ferry_flow_clean(&fl);
	return;

nomem:
	ferry_flow_clean(&fl);
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

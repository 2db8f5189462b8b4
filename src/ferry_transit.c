/*
 * ferry_transit: the transit copy T of S in this account, under SHARE_KMS_KEY_ID.
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

/*
 * sent_tags(t, tags, n): give ${t}, a copy's answer, the ${n} tags its request set when
 * the answer lists none.  The request's CopyTags is false: the copy carries exactly
 * these, so T need not be read again for them.  0, or -1 out of memory.
 */
static int
sent_tags(struct rds_snapshot *t, const struct rds_tag *tags, size_t n)
{
	size_t i;

	if (t->n_tags > 0)
		return (0);
	free(t->tags);
	t->tags = NULL;
	if (n == 0)
		return (0);
	if ((t->tags = calloc(n, sizeof(*t->tags))) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		t->tags[i].key = strdup(tags[i].key);
		t->tags[i].value = strdup(tags[i].value != NULL ? tags[i].value : "");
		t->n_tags = i + 1;
		if (t->tags[i].key == NULL || t->tags[i].value == NULL)
			return (-1);
	}
	t->has_tag_list = 1;
	return (0);
}

/*
 * ferry_make_t(f, fl, r): make sure the transit copy exists and is available.
 * 0 available (fl->t), -1 ${r} holds the outcome.
 */
int
ferry_make_t(struct session *f, struct flow *fl, struct result *r)
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
			ferry_lineage_too_long(f, fl, r);
			return (-1);
		}
		rc = rds_copy_snapshot(&f->rds, fl->kind, fl->s.id, fl->copy_id,
		    fl->transit_key, tags, nt, &fl->t, &e);
		/* T as AWS made it a moment ago, with the tags this request gave it. */
		if (rc == 0 && (fl->t.arn == NULL || fl->t.id == NULL ||
		    strcmp(fl->t.id, fl->copy_id) != 0 || rds_is_terminal(fl->t.status) ||
		    sent_tags(&fl->t, tags, nt) != 0)) {
			/* An answer without T's ARN, of another id, or ended already (what ends
			 * in a delete): read T back, as before: a delete rests on AWS's own
			 * record of T's lineage, never on the tags this request sent. */
			rds_snapshot_clean(&fl->t);
			rc = 1;
		}
		names_arn_tags_clean(&at);
		if (rc >= 0) {
			session_count_metric(f, &f->counts.transit_started, "TransitCopiesStarted");
			result_step(r, "%s %s -> %s", rds_op_name(fl->kind, RDS_OP_COPY), fl->s.id,
			    fl->copy_id);
		}
		if (rc == 0) {
			fl->have_t = 1;
		} else if (rc == 1) {
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
	if (ferry_vet_copy(f, &f->rds, fl, &fl->t, NAMES_ROLE_TRANSIT, r) != 0)
		return (-1);
	switch (rds_wait_available(&f->rds, fl->kind, fl->copy_id, &fl->t, ferry_wait_budget_ms(f),
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

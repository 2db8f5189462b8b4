/*
 * ferry_flow: the flow's life (clean-up, S from T's lineage) and the checks every copy
 * of S passes (vet_copy), shared by ferry's step files (ferry_flow.h).
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

/* ferry_wait_budget_ms(f): how long this invocation may poll a copy: WAIT_SECONDS, cut to the
 * time left; 0 in a dry run and in the sweep. */
int64_t
ferry_wait_budget_ms(const struct session *f)
{
	int64_t w = (int64_t)f->cfg->wait_seconds * 1000, left;

	if (w <= 0 || f->cfg->dry_run || f->no_wait)
		return (0);
	left = session_time_left_ms(f);
	return (left < w ? left : w);
}

void
ferry_flow_clean(struct flow *fl)
{
	size_t i;

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
	for (i = 0; i < fl->n_dests; i++) {
		free(fl->dests[i].id);
		free(fl->dests[i].first_id);
		free(fl->dests[i].status);
		free(fl->dests[i].why);
	}
	memset(fl, 0, sizeof(*fl));
}

/* A stand-in for S built from T's lineage when S itself is gone. */
int
ferry_source_from_tags(struct flow *fl, const struct rds_snapshot *t)
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

/* ferry_lineage_too_long(f, fl, r): ${r} fails: S's ARN can't be written as lineage tags. */
void
ferry_lineage_too_long(struct session *f, const struct flow *fl, struct result *r)
{
	session_count_metric(f, &f->counts.failed, "CopiesFailed");
	result_fail(r, "Snapferry.Internal", "the lineage of %s can't be tagged: out of "
	    "memory, or its ARN is over %d characters", fl->s_id ? fl->s_id : "(no id)",
	    NAMES_ARN_PARTS * NAMES_TAG_VALUE_MAX);
}

/*
 * ferry_vet_copy(f, c, fl, snap, role, r): ${snap} holds the name of S's transit
 * copy (${role} "transit", in this account) or backup copy ("backup", in the
 * backup account).  It must carry snapferry's lineage for S; one that ended
 * badly is deleted so that the next trigger copies again.  0 usable (go on), -1 ${r}
 * holds the outcome.
 */
int
ferry_vet_copy(struct session *f, struct aws_client *c, struct flow *fl,
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
		result_fail(r, "Snapferry.NameConflict", "snapshot %s exists%s%s%s but does "
		    "not carry snapferry's lineage tags for %s; rename or delete it, or set "
		    "another NAME_PREFIX", name, c == &f->rds ? "" : " in the backup account",
		    c == &f->rds || fl->dest_region == NULL ? "" : ", Region ",
		    c == &f->rds || fl->dest_region == NULL ? "" : fl->dest_region, fl->s_arn);
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

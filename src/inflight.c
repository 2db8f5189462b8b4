/*
 * inflight: see inflight.h.  Why a listing of manual snapshots: RDS has no filter on an id
 * prefix or a status (DescribeDBSnapshots filters on db-instance-id, db-snapshot-id,
 * dbi-resource-id, snapshot-type and engine only), but snapferry's transit copies are
 * manual snapshots of this account, and SnapshotType=manual leaves out the automated
 * and shared ones.  Idle, that is one page of instance snapshots and one of cluster
 * snapshots (100 each), plus sts:GetCallerIdentity when the account is not configured:
 * at most 3 calls.  Each listing answer carries the tags, so telling a transit copy of
 * this account and region from the user's snapshots costs nothing more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "ferry.h"
#include "inflight.h"
#include "log.h"
#include "names.h"
#include "rds.h"
#include "result.h"
#include "session.h"
#include "transit_chain.h"

struct inflight {
	struct session	*f;
	const char	*account;
	time_t		 now;
	unsigned	 transit, copying, advanced, kept, by_outcome[RESULT_FAILED + 1];
	int		 pruned;	/* superseded kept transit copies deleted */
	int		 stopped;
	char		*fail_type, *fail_reason;	/* first failure */
	struct transit_chain_set *chains;	/* kept T's per DB: the superseded ones go */
};


static int
transit_cb(const struct rds_snapshot *s, void *arg)
{
	struct inflight *in = arg;
	struct session *f = in->f;
	struct aws_error e;
	struct result ir;
	int shared;

	if (s->id == NULL || s->arn == NULL || !names_has_prefix(f->cfg->name_prefix, s->id) ||
	    !names_is_snapferry(s->tags, s->n_tags, NAMES_ROLE_TRANSIT) ||
	    !names_lineage_from(s->tags, s->n_tags, in->account, f->cfg->region))
		return (0);
	in->transit++;
	if (!rds_is_available(s)) {
		/* Still copying (its finished event, or the next check, takes the step); a
		 * failed one is the sweep's and advance's business, not in flight. */
		if (s->status == NULL || !rds_is_terminal(s->status))
			in->copying++;
		return (0);
	}
	if (f->cfg->transit_cleanup && transit_chain_is_kept(s)) {
		/* Its B is done: kept only as the base of the next incremental copy, until a
		 * newer kept one of its DB supersedes it (pruned after the listing). */
		in->kept++;
		return (in->chains != NULL && transit_chain_note(in->chains, s, 1) != 0);
	}
	if (!f->cfg->transit_cleanup) {
		/* Kept transit copies are not in flight once finish() has unshared them. */
		if (s->created != 0 && s->created < in->now - INFLIGHT_KEPT_HOURS * 3600) {
			in->kept++;
			return (0);
		}
		memset(&e, 0, sizeof(e));
		shared = rds_shared_with(&f->rds, s->kind, s->id, f->cfg->backup_account_id, &e);
		aws_error_clear(&e);
		if (shared == 0) {
			in->kept++;
			return (0);
		}
	}
	if (session_time_left_ms(f) < 3000) {
		in->stopped = 1;
		return (1);
	}
	if (result_init(&ir, "advance") != 0)
		return (1);
	in->advanced++;
	ferry_advance_copied(f, (int)s->kind, s->arn, &ir);
	in->by_outcome[ir.outcome]++;
	if (ir.outcome == RESULT_FAILED && in->fail_type == NULL) {
		in->fail_type = strdup(ir.error_type ? ir.error_type : "Snapferry.Failed");
		in->fail_reason = strdup(ir.reason ? ir.reason : "failed");
	}
	result_clean(&ir);
	return (0);
}

static void
report(struct inflight *in, struct result *r)
{
	cJSON *x, *c;

	if ((x = cJSON_CreateObject()) != NULL &&
	    (c = cJSON_AddObjectToObject(x, "counts")) != NULL) {
		cJSON_AddNumberToObject(c, "transitCopies", in->transit);
		cJSON_AddNumberToObject(c, "copying", in->copying);
		cJSON_AddNumberToObject(c, "advanced", in->advanced);
		cJSON_AddNumberToObject(c, "kept", in->kept);
		cJSON_AddNumberToObject(c, "pruned", in->pruned > 0 ? in->pruned : 0);
		cJSON_AddNumberToObject(c, "done", in->by_outcome[RESULT_DONE]);
		cJSON_AddNumberToObject(c, "pending", in->by_outcome[RESULT_PENDING]);
		cJSON_AddNumberToObject(c, "failed", in->by_outcome[RESULT_FAILED]);
	}
	cJSON_Delete(r->extra);
	r->extra = x;
	if (r->outcome != RESULT_NONE)
		return;		/* a listing failed */
	if (in->by_outcome[RESULT_FAILED] > 0)
		result_fail(r, in->fail_type, "%u transit cop%s need attention; first: %s",
		    in->by_outcome[RESULT_FAILED], in->by_outcome[RESULT_FAILED] == 1 ? "y" :
		    "ies", in->fail_reason ? in->fail_reason : "");
	else if (in->stopped)
		result_finish(r, RESULT_PENDING, "stopped before the deadline; the next check "
		    "continues");
	else if (in->copying > 0 || in->by_outcome[RESULT_PENDING] > 0)
		result_finish(r, RESULT_PENDING, "%u transit cop%s copying, %u waiting for "
		    "the backup copy", in->copying, in->copying == 1 ? "y" : "ies",
		    in->by_outcome[RESULT_PENDING]);
	else if (in->advanced > 0 || in->pruned > 0)
		result_finish(r, RESULT_DONE, "%u transit cop%s advanced, %d superseded one%s "
		    "deleted", in->advanced, in->advanced == 1 ? "y" : "ies", in->pruned,
		    in->pruned == 1 ? "" : "s");
	else
		result_finish(r, RESULT_DONE, "nothing in flight");
}

void
inflight_run(struct session *f, time_t now, struct result *r)
{
	struct rds_list_opts lo;
	struct aws_error e;
	struct inflight in;
	int k;

	memset(&in, 0, sizeof(in));
	memset(&lo, 0, sizeof(lo));
	memset(&e, 0, sizeof(e));
	in.f = f;
	in.now = now;
	if (f->cfg->transit_cleanup && (in.chains = transit_chain_set_new()) == NULL) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		return;
	}
	r->dry_run = f->cfg->dry_run;
	f->quiet_metrics = 1;
	f->no_wait = 1;
	if ((in.account = session_own_account(f, r)) == NULL)
		goto done;
	lo.snapshot_type = "manual";
	for (k = RDS_INSTANCE; k <= RDS_CLUSTER && !in.stopped; k++) {
		if (rds_list_snapshots(&f->rds, (enum rds_kind)k, &lo, transit_cb, &in,
		    &e) != 0) {
			session_fail_rds(f, r, &e, (enum rds_kind)k, RDS_OP_DESCRIBE,
			    "this account", SESSION_OWN_ROLE);
			goto done;
		}
	}
	/* Older kept transit copies that a newer kept one of their DB supersedes: deleted
	 * here, within minutes of the newer one's B, at no listing of their own. */
	if (!in.stopped && in.chains != NULL && (in.pruned = transit_chain_prune(f, in.chains,
	    r)) < 0)
		goto done;
	session_emit_counts(&f->counts);
done:
	report(&in, r);
	transit_chain_set_free(in.chains);
	free(in.fail_type);
	free(in.fail_reason);
}

/* ferry_region(cfg, region): the Region of BACKUP_REGIONS named ${region} when the ferry
 *  fills it itself (ferry_destinations: a copy finished there is one of its own), else NULL. */
static const char *
ferry_region(const struct config *cfg, const char *region)
{
	size_t idx[FERRY_DEST_MAX], n, i;
	int chained;

	if (region == NULL)
		return (NULL);
	n = ferry_destinations(cfg, idx, FERRY_DEST_MAX, &chained);
	for (i = 0; i < n; i++)
		if (strcmp(cfg->backup_regions[idx[i]], region) == 0)
			return (cfg->backup_regions[idx[i]]);
	return (NULL);
}

int
inflight_is_forwarded(const struct event *ev, const struct config *cfg)
{
	const char *b = cfg != NULL ? cfg->backup_account_id : NULL;
	const char *br = cfg != NULL ? ferry_region(cfg, ev->arn.region) : NULL;

	return (cfg != NULL && cfg->mode == CONFIG_MODE_FERRY && b != NULL && br != NULL &&
	    ev->kind == EVENT_COPY_FINISHED && ev->snapshot_arn != NULL &&
	    ev->account != NULL && strcmp(ev->account, b) == 0 &&
	    ev->arn.account != NULL && strcmp(ev->arn.account, b) == 0 &&
	    ev->arn.region != NULL && strcmp(ev->arn.region, br) == 0 &&
	    (ev->region == NULL || strcmp(ev->region, br) == 0) &&
	    names_has_prefix(cfg->name_prefix, ev->arn.id));
}

void
inflight_forwarded(struct session *f, const struct event *ev, struct result *r)
{
	struct rds_snapshot b;
	struct aws_client *bc;
	struct aws_error e;
	enum rds_kind kind = ev->snap_kind == SNAP_CLUSTER ? RDS_CLUSTER : RDS_INSTANCE;
	const char *own;
	char *src = NULL;
	int rc;

	memset(&b, 0, sizeof(b));
	memset(&e, 0, sizeof(e));
	r->dry_run = f->cfg->dry_run;
	/* The copy's own Region (inflight_is_forwarded let only the ferry's Regions in). */
	if ((own = session_own_account(f, r)) == NULL ||
	    (bc = session_backup_in(f, ev->arn.region, r)) == NULL)
		return;
	if ((rc = rds_describe_tagged(bc, kind, ev->arn.id, &b, &e)) == -1) {
		session_fail_rds(f, r, &e, kind, RDS_OP_DESCRIBE, ev->arn.id,
		    SESSION_BACKUP_ROLE);
		return;
	}
	if (rc == 0) {
		result_finish(r, RESULT_IGNORED, "backup copy %s is gone", ev->arn.id);
		goto done;
	}
	/* The event is only a hint: what counts is what the backup account holds. */
	if (!names_is_snapferry(b.tags, b.n_tags, NAMES_ROLE_BACKUP)) {
		result_finish(r, RESULT_IGNORED, "%s in the backup account is not a snapferry "
		    "backup copy", ev->arn.id);
		goto done;
	}
	if (!names_lineage_from(b.tags, b.n_tags, own, f->cfg->region) ||
	    (src = names_lineage_arn(b.tags, b.n_tags)) == NULL) {
		result_finish(r, RESULT_IGNORED, "backup copy %s is of another account's or "
		    "region's snapshot", ev->arn.id);
		goto done;
	}
	result_step(r, "backup copy %s finished (forwarded by the backup account): "
	    "advancing %s", ev->arn.id, src);
	ferry_advance(f, FERRY_KIND_ANY, src, r);
done:
	free(src);
	rds_snapshot_clean(&b);
}

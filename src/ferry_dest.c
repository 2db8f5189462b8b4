/*
 * ferry_dest: the destinations of one source S (ferry_destinations): observe B in each
 * Region the ferry fills, make T, share and copy where B is missing, and finish (un-share,
 * T clean-up) only once every copy that reads from the share is available.  The per-Region
 * state goes into the result's "copies".
 *
 * A Region that refuses the single step (AWS's old rule) makes the outcome failed, with
 * the fix (add AWS_REGION to BACKUP_REGIONS).  The other Regions' copies are still made and
 * kept: each is a usable backup of its own, and deleting a good copy because another
 * Region refused would lose protection the user has.  But the clean-up waits while a
 * refusal stands: the fix copies from the same share (and T) again, and deleting T would
 * make every later trigger (each sweep) re-create a full transit copy only to be refused
 * again.  Once the configuration is fixed, the next trigger copies and cleans up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "config.h"
#include "ferry.h"
#include "ferry_flow.h"
#include "retry.h"

/* load(fl, d): make ${d} the destination the flow's B fields describe. */
static void
load(struct flow *fl, struct ferry_dest *d)
{
	free(fl->backup_id);
	free(fl->first_id);
	fl->backup_id = d->id;
	fl->first_id = d->first_id;
	fl->attempt = d->attempt;
	d->id = d->first_id = NULL;
	fl->dest_region = d->region;
	fl->dest_key = d->key;
}

/* store(fl, d, state): give the flow's B fields back to ${d}, with what was learnt of B. */
static void
store(struct flow *fl, struct ferry_dest *d, int state)
{
	d->id = fl->backup_id;
	d->first_id = fl->first_id;
	d->attempt = fl->attempt;
	fl->backup_id = fl->first_id = NULL;
	if (state >= 0)
		d->state = (enum ferry_copy_state)state;
	if (fl->have_b) {
		free(d->status);
		d->status = fl->b.status ? strdup(fl->b.status) : NULL;
		d->percent = fl->b.percent;
		d->shared_before = rds_tag_get(fl->b.tags, fl->b.n_tags,
		    FERRY_TAG_SHARED_BEFORE) != NULL;
		rds_snapshot_clean(&fl->b);
		memset(&fl->b, 0, sizeof(fl->b));
		fl->have_b = 0;
	}
}

static const char *
state_name(const struct ferry_dest *d)
{
	switch (d->state) {
	case FERRY_COPY_AVAILABLE:
		return ("available");
	case FERRY_COPY_PENDING:
		return (d->status != NULL ? d->status : "requested");
	case FERRY_COPY_REFUSED:
		return ("refused");
	case FERRY_COPY_WOULD:
		return ("would-copy");
	default:
		return ("absent");
	}
}

/* report(fl, r, chained): the result's "backup" (the first destination's id) and "copies"
 * (one entry per Region the ferry fills; the chained ones are the keepers'). */
static void
report(const struct config *cfg, struct flow *fl, struct result *r, int chained)
{
	cJSON *x = r->extra, *a, *o;
	size_t i;

	if (fl->n_dests > 0 && fl->dests[0].id != NULL)
		xstrdup_replace(&r->backup, fl->dests[0].id);
	if (x == NULL && (x = r->extra = cJSON_CreateObject()) == NULL)
		return;
	cJSON_DeleteItemFromObject(x, "copies");
	if ((a = cJSON_AddArrayToObject(x, "copies")) == NULL)
		return;
	for (i = 0; i < fl->n_dests; i++) {
		const struct ferry_dest *d = &fl->dests[i];

		if ((o = cJSON_CreateObject()) == NULL)
			return;
		result_add_opt(o, "region", d->region);
		result_add_opt(o, "id", d->id);
		result_add_opt(o, "status", state_name(d));
		if (d->state == FERRY_COPY_PENDING)
			cJSON_AddNumberToObject(o, "percent", d->percent);
		result_add_opt(o, "by", strcmp(d->region, cfg->region) == 0 ? "ferry" :
		    "ferry-single-step");
		cJSON_AddItemToArray(a, o);
	}
	/* The Regions the keepers fill from AWS_REGION's copy: named, not observed here. */
	for (i = 0; chained && i < cfg->n_backup_regions; i++) {
		if (strcmp(cfg->backup_regions[i], cfg->region) == 0 ||
		    (o = cJSON_CreateObject()) == NULL)
			continue;
		result_add_opt(o, "region", cfg->backup_regions[i]);
		result_add_opt(o, "id", fl->n_dests > 0 ? fl->dests[0].id : NULL);
		result_add_opt(o, "status", "chained");
		result_add_opt(o, "by", "keeper");
		cJSON_AddItemToArray(a, o);
	}
}

/* join(fl, state, b): the Regions in ${state}, comma-separated, appended to ${b}. */
static const char *
join(const struct flow *fl, enum ferry_copy_state state, struct buf *b)
{
	size_t i;

	for (i = 0; i < fl->n_dests; i++)
		if (fl->dests[i].state == state)
			(void)((b->len > 0 && buf_append_str(b, ", ") != 0) ||
			    buf_append_str(b, fl->dests[i].region) != 0);
	return (b->data != NULL ? b->data : "");
}

/* pending_note(fl, b): "<id> in <region> is <status> (<pct>%)" for each copy in progress,
 * appended to ${b} (AWS's status is network data: no fixed-size buffer). */
static const char *
pending_note(const struct flow *fl, struct buf *b)
{
	char pct[32];
	size_t i;

	for (i = 0; i < fl->n_dests; i++) {
		const struct ferry_dest *d = &fl->dests[i];

		if (d->state != FERRY_COPY_PENDING)
			continue;
		snprintf(pct, sizeof(pct), " (%d%%)", d->percent);
		(void)((b->len > 0 && buf_append_str(b, "; ") != 0) ||
		    buf_append_str(b, d->id) != 0 || buf_append_str(b, " in ") != 0 ||
		    buf_append_str(b, d->region) != 0 || buf_append_str(b, " is ") != 0 ||
		    buf_append_str(b, state_name(d)) != 0 || buf_append_str(b, pct) != 0 ||
		    buf_append_str(b, retry_note(d->attempt)) != 0);
	}
	return (b->data != NULL ? b->data : "");
}

/* refused(f, fl, r, code, why): ${r} fails: the single step was refused in some Regions. */
static void
refused(struct session *f, struct flow *fl, struct result *r)
{
	const struct config *cfg = f->cfg;
	const struct ferry_dest *d = NULL;
	const struct rds_snapshot *sh = fl->need_transit ? &fl->t : &fl->s;
	struct buf regions;
	const char *rs;
	size_t i;

	for (i = 0; i < fl->n_dests && d == NULL; i++)
		if (fl->dests[i].state == FERRY_COPY_REFUSED)
			d = &fl->dests[i];
	if (d == NULL)
		return;
	buf_init(&regions, 4096);
	rs = join(fl, FERRY_COPY_REFUSED, &regions);
	session_count_metric(f, &f->counts.failed, "CopiesFailed");
	result_fail(r, "Snapferry.CrossRegionRefused", FERRY_SINGLE_STEP_REASON,
	    fl->need_transit ? "transit copy" : "snapshot", sh->id ? sh->id : fl->copy_id,
	    cfg->region, rs, d->status ? d->status : "", d->why ? d->why : "", cfg->region,
	    cfg->region, rs);
	buf_clean(&regions);
}

void
ferry_to_destinations(struct session *f, struct flow *fl, struct result *r)
{
	const struct config *cfg = f->cfg;
	size_t idx[FERRY_DEST_MAX], i, need = 0, avail = 0, pend = 0, nref = 0, would = 0;
	int asked[FERRY_DEST_MAX] = { 0 };
	struct ferry_dest *d;
	struct buf note;
	char *base = NULL;
	int chained, rc, before, ours, all_before = 1;

	buf_init(&note, 16384);
	fl->n_dests = ferry_destinations(cfg, idx, FERRY_DEST_MAX, &chained);
	if (fl->n_dests == 0 || (base = strdup(fl->backup_id)) == NULL) {
		result_fail(r, "Snapferry.Internal", "no destination Region (out of memory)");
		return;
	}
	if (chained)
		result_step(r, "AWS_REGION %s is a destination: the ferry copies there; the "
		    "keepers of the other Regions of BACKUP_REGIONS chain their copies from it",
		    cfg->region);
	for (i = 0; i < fl->n_dests; i++) {
		d = &fl->dests[i];
		d->region = cfg->backup_regions[idx[i]];
		d->key = cfg->backup_kms_keys[idx[i]];
		d->attempt = 1;
		if ((d->id = strdup(base)) == NULL) {
			result_fail(r, "Snapferry.Internal", "out of memory");
			goto out;
		}
		if ((d->bc = session_backup_in(f, d->region, r)) == NULL)
			goto out;
	}

	/* B first, in every Region: once all are done, T is gone and must not come back. */
	for (i = 0; i < fl->n_dests; i++) {
		d = &fl->dests[i];
		load(fl, d);
		rc = ferry_observe_b(f, fl, d->bc, r);
		store(fl, d, rc);
		if (rc == -1)
			goto out;
		need += (rc == FERRY_COPY_ABSENT);
	}
	if (need > 0) {
		if (fl->need_transit && ferry_make_t(f, fl, r) != 0) {
			/* In a dry run, the copies it would make next are named all the same. */
			if (!cfg->dry_run || fl->have_t || r->outcome != RESULT_PENDING)
				goto out;
		}
		if (!fl->need_transit)
			xstrdup_replace(&r->transit, NULL);
		/* A B made earlier without the shared-before tag: the share on S is ours. */
		for (i = 0, ours = 0; i < fl->n_dests; i++)
			ours |= fl->dests[i].state != FERRY_COPY_ABSENT &&
			    !fl->dests[i].shared_before;
		if ((before = ferry_share(f, fl, ours, r)) == -1)
			goto out;
		for (i = 0; i < fl->n_dests; i++) {
			d = &fl->dests[i];
			if (d->state != FERRY_COPY_ABSENT)
				continue;
			load(fl, d);
			free(d->status);
			free(d->why);
			d->status = d->why = NULL;
			rc = ferry_copy_b(f, fl, d->bc, before, &d->status, &d->why, r);
			asked[i] = rc == 0 && !cfg->dry_run;
			store(fl, d, rc == 0 ? (cfg->dry_run ? FERRY_COPY_WOULD : FERRY_COPY_PENDING) :
			    rc == 1 ? FERRY_COPY_REFUSED : -1);
			if (rc == -1)
				goto out;
		}
		/* Every copy is asked for before any is waited on (WAIT_SECONDS): they run
		 * side by side. */
		for (i = 0; i < fl->n_dests; i++) {
			if (!asked[i])
				continue;
			d = &fl->dests[i];
			load(fl, d);
			rc = ferry_observe_b(f, fl, d->bc, r);
			/* Not listed yet right after the request: in progress. */
			store(fl, d, rc == FERRY_COPY_ABSENT ? FERRY_COPY_PENDING : rc);
			if (rc == -1)
				goto out;
		}
	}
	for (i = 0; i < fl->n_dests; i++) {
		d = &fl->dests[i];
		avail += d->state == FERRY_COPY_AVAILABLE;
		pend += d->state == FERRY_COPY_PENDING;
		nref += d->state == FERRY_COPY_REFUSED;
		would += d->state == FERRY_COPY_WOULD;
		all_before &= d->shared_before;
	}
	if (would > 0) {
		result_finish(r, RESULT_PENDING, "dry run: the backup copy %s would be created "
		    "in %s", base, join(fl, FERRY_COPY_WOULD, &note));
	} else if (nref > 0) {
		/* No clean-up: see the comment at the top. */
		refused(f, fl, r);
	} else if (pend > 0 && fl->n_dests == 1) {
		/* One Region: the answer it always gave. */
		d = &fl->dests[0];
		if (d->status == NULL)
			PENDING(f, r, "backup copy %s requested%s", d->id, retry_note(d->attempt));
		else
			PENDING(f, r, "backup copy %s is %s (%d%%)%s", d->id, d->status,
			    d->percent, retry_note(d->attempt));
	} else if (pend > 0) {
		PENDING(f, r, "backup cop%s in progress: %s", pend == 1 ? "y" : "ies",
		    pending_note(fl, &note));
	} else if (avail == fl->n_dests) {
		/* The user's own share of S stays only when every copy says so. */
		fl->shared_before = all_before;
		ferry_finish(f, fl, r);
	}
out:
	report(cfg, fl, r, chained);
	buf_clean(&note);
	free(base);
}

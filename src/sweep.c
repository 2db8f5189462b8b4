/*
 * sweep: what makes snapferry converge when events are lost, reordered or
 * never sent (no event reaches this account when a copy finishes in the
 * backup account).  Three listings, each page by page:
 *   1. the backup account: snapferry's backup copies -> newest age per DB
 *      (metrics), the set of finished copies;
 *   2. this account: every source snapshot of the last SWEEP_LOOKBACK_DAYS
 *      and every transit copy still around -> advance;
 *   3. the backup account again, when this sweep advanced anything: the age of
 *      each DB's newest copy once this sweep's are in (production's own
 *      recovery-point metric).
 * A finished source that was shared directly is checked for a share left behind
 * in the backup account's listing of what is shared with it (one listing per
 * kind, on first need), not by one attribute read per source; across Regions,
 * where that listing can't see the share, by the read per source.
 * It deletes no backup copy: the ferry only adds; retention is the keeper's
 * (keeper_sweep.c), which decides on AWS's record of each copy, not its tags.
 * Memory: one page of a listing, plus 8 bytes per finished backup copy (16
 * when its source keeps a share its user made), 8 or 16 per source of this
 * account shared with the backup account, and a few bytes per source DB.
 * With TRANSIT_CLEANUP it also deletes the transit copies that a newer one of their DB,
 * its B available, supersedes (transit_chain.h: what a stopped invocation left), at most
 * TRANSIT_CHAIN_MAX_DELETES per sweep; one id per DB with a transit copy more in memory.
 * A backup account may hold the copies of several production accounts (or
 * regions): only copies whose lineage names a source of this function's own
 * account and region are counted or aged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arn.h"
#include "buf.h"
#include "config.h"
#include "ferry.h"
#include "session.h"
#include "log.h"
#include "names.h"
#include "rds.h"
#include "result.h"
#include "sweep.h"
#include "transit_chain.h"

/* Per source DB of this account and region (the copies of other accounts never get here,
 * so a DB id is the key: same-named DBs of other accounts are not merged in). */
struct dbage {
	char		*db;
	time_t		 newest;	/* source time of the newest available copy (listing 1) */
	time_t		 fresh;		/* the same, from listing 3 (after this sweep's copies) */
	unsigned	 copies;
};

/* A sorted set of copy_hash() values. */
struct hset {
	uint64_t	*v;
	size_t		 n, cap;
};

struct sweep {
	struct session	*f;
	struct result	*r;
	const char	*account;	/* this function's own account */
	time_t		 now, since, started;
	enum rds_kind	 kind;		/* of the listing under way */
	int		 stopped;	/* deadline reached */
	int		 error;		/* a listing failed: ${r} says why */
	unsigned	 seen, advanced, by_outcome[RESULT_FAILED + 1];
	cJSON		*items;
	unsigned	 items_left_off;
	unsigned	 unferryable;	/* skipped for what they are (not the filter) */
	char		*fail_type, *fail_reason;	/* first failure */

	/* Backup account */
	struct aws_client *bc;		/* the first ferry Region's client */
	struct hset	 done;		/* available backup copies (in every ferry Region) */
	struct hset	 kept;		/* ...of them, those whose S needs no share check */
	struct hset	 more_done, more_kept;	/* the same in one further ferry Region */
	int		 more;		/* listing a further ferry Region: into more_* */
	/* Sources of this account and region shared with the backup account, as the backup
	 * account lists them (per kind: 0 not listed yet, 1 listed, -1 listing failed). */
	struct hset	 shared;
	int		 shared_listed[2];
	int		 shared_oom;
	struct dbage	*dbs;
	size_t		 ndbs, capdbs;
	unsigned	 b_pending, b_total;
	int		 final_done;	/* listing 3 went through */

	/* This account: the done transit copies per DB, to delete the superseded ones
	 * (TRANSIT_CLEANUP=true; transit_chain.h) */
	struct transit_chain_set *chains;
};

/* FNV-1a, 64 bits, of "<kind>:<id>" (a source snapshot's ARN). */
static uint64_t
copy_hash(enum rds_kind kind, const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = (h ^ (uint64_t)('0' + kind)) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)':') * 0x100000001b3ULL;
	for (; *id != '\0'; id++)
		h = (h ^ (uint64_t)(unsigned char)*id) * 0x100000001b3ULL;
	return (h);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* hset_add(hs, h): append ${h} (hset_sort before looking up). */
static int
hset_add(struct hset *hs, uint64_t h)
{
	uint64_t *n;

	if (hs->n == hs->cap) {
		if ((n = buf_grow(hs->v, &hs->cap, sizeof(*n), 256)) == NULL)
			return (-1);
		hs->v = n;
	}
	hs->v[hs->n++] = h;
	return (0);
}

static void
hset_sort(struct hset *hs)
{
	if (hs->n > 1)
		qsort(hs->v, hs->n, sizeof(*hs->v), cmp_u64);
}

static int
hset_has(const struct hset *hs, uint64_t h)
{
	return (hs->n > 0 && bsearch(&h, hs->v, hs->n, sizeof(h), cmp_u64) != NULL);
}

static struct dbage *
db_get(struct sweep *sw, const char *db)
{
	struct dbage *n;
	size_t i;

	for (i = 0; i < sw->ndbs; i++)
		if (strcmp(sw->dbs[i].db, db) == 0)
			return (&sw->dbs[i]);
	if (sw->ndbs == sw->capdbs) {
		if ((n = buf_grow(sw->dbs, &sw->capdbs, sizeof(*n), 16)) == NULL)
			return (NULL);
		sw->dbs = n;
	}
	n = &sw->dbs[sw->ndbs];
	memset(n, 0, sizeof(*n));
	if ((n->db = strdup(db)) == NULL)
		return (NULL);
	sw->ndbs++;
	return (n);
}

/* copy_time(s, t): the age of the data in a copy: its source's time, else its own.
 *  -1 when neither parses: such a copy has no age, and is never the oldest. */
static int
copy_time(const struct rds_snapshot *s, time_t *t)
{
	const char *v = rds_tag_get(s->tags, s->n_tags, NAMES_TAG_SOURCE_TIME);

	if (v != NULL && aws_parse_time(v, t) == 0)
		return (0);
	return (aws_parse_time(s->create_time, t));
}

/* db_note(d, t): one more copy of ${d}, of time ${t}. */
static void
db_note(struct dbage *d, time_t t)
{
	d->copies++;
	if (t > d->newest)
		d->newest = t;
}

/* ours(sw, s, role): 1 when ${s} is one of snapferry's copies with ${role}, made from a
 *  source of this account and region. */
static int
ours(const struct sweep *sw, const struct rds_snapshot *s, const char *role)
{
	/* Without its own ARN (an incomplete answer) a copy is never acted on.  Another
	 * production account (or Region) sharing the backup account has copies with the
	 * same prefix and tags: they are its own business. */
	return (s->arn != NULL && names_has_prefix(sw->f->cfg->name_prefix, s->id) &&
	    names_is_snapferry(s->tags, s->n_tags, role) &&
	    names_lineage_from(s->tags, s->n_tags, sw->account, sw->f->cfg->region));
}

/* ---- 1. the backup account ------------------------------------------------------ */

static int
backup_cb(const struct rds_snapshot *s, void *arg)
{
	struct sweep *sw = arg;
	const char *db;
	struct dbage *d;
	time_t t;
	char *src;
	uint64_t h;
	int kept;

	if (!ours(sw, s, NAMES_ROLE_BACKUP))
		return (0);
	sw->b_total++;
	if (s->status == NULL || strcmp(s->status, "available") != 0) {
		/* A failed copy stays (AWS deletes only available ones): its retry id is
		 * copied by advance; the keeper reports it.  Not work in progress. */
		if (s->status == NULL || (strcmp(s->status, "failed") != 0 &&
		    strncmp(s->status, "incompatible-", 13) != 0))
			sw->b_pending++;
		return (0);
	}
	/* Keyed by the source (its lineage), not by B's name: copies named before
	 * account-specific names count as well. */
	if ((src = names_lineage_arn(s->tags, s->n_tags)) == NULL)
		return (0);
	h = copy_hash(s->kind, src);
	/*
	 * Nothing to check on S when its user made its share (finish() leaves it), or
	 * when B was copied from a transit copy: S itself was never shared then.
	 */
	kept = rds_tag_get(s->tags, s->n_tags, FERRY_TAG_SHARED_BEFORE) != NULL ||
	    (s->source_arn != NULL && strcmp(s->source_arn, src) != 0);
	free(src);
	if (sw->more) {
		/* A further Region only says which sources are done there too (the ages are
		 * the first Region's, as the recovery-point metric always was). */
		return (hset_add(&sw->more_done, h) != 0 || (kept &&
		    hset_add(&sw->more_kept, h) != 0));
	}
	if (hset_add(&sw->done, h) != 0 || (kept && hset_add(&sw->kept, h) != 0))
		return (1);
	if ((db = rds_tag_get(s->tags, s->n_tags, NAMES_TAG_SOURCE_DB)) == NULL)
		return (0);
	/* A copy without an age counts for no age. */
	if (copy_time(s, &t) != 0)
		return (0);
	if ((d = db_get(sw, db)) == NULL)
		return (1);
	db_note(d, t);
	return (0);
}

static int	list(struct sweep *, struct aws_client *, enum rds_kind, const char *,
		    rds_snapshot_cb, const char *);

/* keep_common(hs, other): keep in sorted ${hs} only what sorted ${other} holds too. */
static void
keep_common(struct hset *hs, const struct hset *other)
{
	size_t i, n = 0;

	for (i = 0; i < hs->n; i++)
		if (hset_has(other, hs->v[i]))
			hs->v[n++] = hs->v[i];
	hs->n = n;
}

/*
 * list_backups(sw, bc): listing 1 in every Region the ferry fills (ferry_destinations): a
 * source is done only when its copy is available in each (the copies the keepers chain
 * are theirs to watch).  ${bc} is the first Region's client, kept for listing 3.  0, or
 * -1 with ${sw->r} failed.
 */
static int
list_backups(struct sweep *sw, struct aws_client **bc)
{
	const struct config *cfg = sw->f->cfg;
	size_t idx[FERRY_DEST_MAX], nd, j;
	struct aws_client *c;
	int chained, k;

	if ((nd = ferry_destinations(cfg, idx, FERRY_DEST_MAX, &chained)) == 0) {
		result_fail(sw->r, "Snapferry.Internal", "no destination Region");
		return (-1);
	}
	for (j = 0; j < nd; j++) {
		if ((c = session_backup_in(sw->f, cfg->backup_regions[idx[j]], sw->r)) == NULL)
			return (-1);
		if (j == 0)
			*bc = c;
		sw->more = j > 0;
		sw->more_done.n = sw->more_kept.n = 0;
		for (k = RDS_INSTANCE; k <= RDS_CLUSTER; k++)
			if (list(sw, c, (enum rds_kind)k, "manual", backup_cb,
			    "the backup account") != 0)
				return (-1);
		if (j == 0) {
			hset_sort(&sw->done);
			hset_sort(&sw->kept);
			continue;
		}
		hset_sort(&sw->more_done);
		hset_sort(&sw->more_kept);
		keep_common(&sw->done, &sw->more_done);
		keep_common(&sw->kept, &sw->more_kept);
	}
	sw->more = 0;
	return (0);
}

/* ---- 3. the ages, once this sweep's copies are in ----------------------------------- */

static int
fresh_cb(const struct rds_snapshot *s, void *arg)
{
	struct sweep *sw = arg;
	struct dbage *d;
	const char *db;
	time_t t;

	if (session_time_left_ms(sw->f) < SWEEP_ITEM_MS) {
		sw->stopped = 1;
		return (1);
	}
	if (!ours(sw, s, NAMES_ROLE_BACKUP) || s->status == NULL ||
	    strcmp(s->status, "available") != 0 ||
	    (db = rds_tag_get(s->tags, s->n_tags, NAMES_TAG_SOURCE_DB)) == NULL ||
	    copy_time(s, &t) != 0)
		return (0);
	if ((d = db_get(sw, db)) == NULL)
		return (1);
	if (t > d->fresh)
		d->fresh = t;
	return (0);
}

/* ---- 2. the sources ---------------------------------------------------------------- */

/* add_item(sw, id, outcome, reason, error_type): one entry of the result's items, while
 * fewer than SWEEP_MAX_ITEMS are listed. */
static void
add_item(struct sweep *sw, const char *id, enum result_outcome outcome, const char *reason,
    const char *error_type)
{
	cJSON *o;

	if (cJSON_GetArraySize(sw->items) >= SWEEP_MAX_ITEMS) {
		sw->items_left_off++;
		return;
	}
	if ((o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "snapshot", id);
	cJSON_AddStringToObject(o, "outcome", result_outcome_name(outcome));
	if (reason != NULL)
		cJSON_AddStringToObject(o, "reason", reason);
	if (error_type != NULL)
		cJSON_AddStringToObject(o, "errorType", error_type);
	cJSON_AddItemToArray(sw->items, o);
}

/* note_skip(sw, id, reason): a snapshot that can't be ferried (TDE, Multi-AZ DB cluster,
 * option group, ...) is named in the items and in one log line, as the event path would;
 * the INCLUDE/EXCLUDE ones are only counted. */
static void
note_skip(struct sweep *sw, const char *id, const char *reason)
{
	cJSON *fl;

	sw->unferryable++;
	add_item(sw, id, RESULT_SKIPPED, reason, NULL);
	if ((fl = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(fl, "snapshot", id);
		cJSON_AddStringToObject(fl, "reason", reason ? reason : "");
	}
	log_info("sweep: snapshot skipped", fl);
}

static void
note_item(struct sweep *sw, const char *id, const struct result *ir)
{
	sw->by_outcome[ir->outcome]++;
	if (ir->outcome == RESULT_FAILED && sw->fail_type == NULL) {
		sw->fail_type = strdup(ir->error_type ? ir->error_type : "Snapferry.Failed");
		sw->fail_reason = strdup(ir->reason ? ir->reason : "failed");
	}
	if (ir->outcome == RESULT_SKIPPED) {
		note_skip(sw, id, ir->reason);
		return;
	}
	if (ir->outcome == RESULT_DONE || ir->outcome == RESULT_IGNORED)
		return;
	add_item(sw, id, ir->outcome, ir->reason, ir->error_type);
}

/* shared_cb: a snapshot shared with the backup account; the sources of this account and
 * region are remembered by their ARN.  Another account's snapshot is named by its ARN in
 * its identifier, and its ARN member: both are taken (one too many only costs the
 * advance of a source that turns out not shared; one missing would hide a share). */
static int
shared_cb(const struct rds_snapshot *s, void *arg)
{
	struct sweep *sw = arg;
	const char *names[2] = { s->arn, s->id };
	struct arn_snapshot a;
	size_t i;
	int here;

	for (i = 0; i < 2; i++) {
		if (names[i] == NULL || arn_is(names[i]) != 1 ||
		    arn_rds_snapshot(names[i], &a) != 0)
			continue;
		here = strcmp(a.account, sw->account) == 0 &&
		    strcmp(a.region, sw->f->cfg->region) == 0;
		arn_snapshot_clean(&a);
		if (here && hset_add(&sw->shared, copy_hash(s->kind, names[i])) != 0) {
			sw->shared_oom = 1;
			return (1);
		}
	}
	return (0);
}

/* list_shared(sw, kind): what the backup account sees shared with it, one listing per kind
 * and sweep instead of one attribute read per finished source.  Only where the backup
 * account looks in this Region (a share is seen in the snapshot's own Region); a failed
 * listing leaves the reads per source.  1 listed, -1 not. */
static int
list_shared(struct sweep *sw, enum rds_kind kind)
{
	struct rds_list_opts lo;
	struct aws_error e;
	size_t before = sw->shared.n;

	if (sw->shared_listed[kind] != 0)
		return (sw->shared_listed[kind]);
	sw->shared_listed[kind] = -1;
	if (sw->bc == NULL || sw->bc->region == NULL ||
	    strcmp(sw->bc->region, sw->f->cfg->region) != 0)
		return (-1);
	memset(&lo, 0, sizeof(lo));
	memset(&e, 0, sizeof(e));
	lo.snapshot_type = "shared";
	lo.include_shared = 1;
	/* An incomplete set would hide a share: all of it, or none. */
	if (rds_list_snapshots(sw->bc, kind, &lo, shared_cb, sw, &e) != 0 || sw->shared_oom) {
		aws_error_clear(&e);
		sw->shared.n = before;
		return (-1);
	}
	hset_sort(&sw->shared);
	sw->shared_listed[kind] = 1;
	return (1);
}

/* still_shared(sw, s): 1 when manual ${s} still lists the backup account (0 not, -1 error:
 *  advance finds out what it was). */
static int
still_shared(struct sweep *sw, const struct rds_snapshot *s)
{
	struct aws_error e;
	int shared;

	if (list_shared(sw, s->kind) == 1)
		return (hset_has(&sw->shared, copy_hash(s->kind, s->arn)));
	memset(&e, 0, sizeof(e));
	shared = rds_shared_with(&sw->f->rds, s->kind, s->id, sw->f->cfg->backup_account_id, &e);
	aws_error_clear(&e);
	return (shared);
}

static int
source_cb(const struct rds_snapshot *s, void *arg)
{
	struct sweep *sw = arg;
	struct session *f = sw->f;
	const struct config *cfg = f->cfg;
	struct ferry_decision d;
	struct result ir;
	uint64_t h;
	int transit, done;

	if (session_time_left_ms(f) < SWEEP_ITEM_MS) {
		sw->stopped = 1;
		return (1);
	}
	if (s->id == NULL || s->arn == NULL)
		return (0);
	sw->seen++;
	transit = ours(sw, s, NAMES_ROLE_TRANSIT);
	if (transit) {
		/* Made during this sweep: nothing to do yet.  (Within the sweep's first
		 * second it is advanced once more, which is harmless.) */
		if (s->created > sw->started)
			return (0);
		/* Without clean-up, old transit copies stay: only recent ones matter. */
		if (!cfg->transit_cleanup && s->created != 0 && s->created < sw->since)
			return (0);
		if (cfg->transit_cleanup && sw->chains != NULL) {
			/* Its B available (kept, or known from listing 1): it may supersede
			 * an older one, or be superseded; a kept one needs no advance. */
			char *src = names_lineage_arn(s->tags, s->n_tags);

			done = transit_chain_is_kept(s) || (src != NULL &&
			    hset_has(&sw->done, copy_hash(s->kind, src)));
			free(src);
			if (transit_chain_note(sw->chains, s, done) != 0)
				return (1);
			if (transit_chain_is_kept(s))
				return (0);
		}
	} else {
		if (s->created != 0 && s->created < sw->since)
			return (0);
		/* snapferry's backup copies (this account being another's backup account) and
		 * other copies of its own are never sources; ferry_advance says so too. */
		if (names_is_snapferry(s->tags, s->n_tags, NULL)) {
			sw->by_outcome[RESULT_IGNORED]++;
			return (0);
		}
		if (s->snapshot_type != NULL && (strcmp(s->snapshot_type, "shared") == 0 ||
		    strcmp(s->snapshot_type, "public") == 0))
			return (0);
		/* What the listing alone rules out costs no call. */
		ferry_decide(cfg, s, NULL, -1, &d);
		if (d.plan == FERRY_PLAN_SKIP || d.plan == FERRY_PLAN_IGNORE) {
			sw->by_outcome[d.plan == FERRY_PLAN_SKIP ? RESULT_SKIPPED :
			    RESULT_IGNORED]++;
			/* Left out by INCLUDE/EXCLUDE: a count; anything else is named. */
			if (d.plan == FERRY_PLAN_SKIP && (s->db_id == NULL ||
			    config_db_selected(cfg, s->db_id)))
				note_skip(sw, s->id, d.reason);
			return (0);
		}
		if (s->status == NULL || strcmp(s->status, "available") != 0) {
			/* Its created event will come, or the next sweep. */
			sw->by_outcome[RESULT_PENDING]++;
			return (0);
		}
		/* Finished before: only a share left on S itself could still be
		 * outstanding (restores are the keeper's). */
		h = copy_hash(s->kind, s->arn);
		done = hset_has(&sw->done, h);
		if (done) {
			/* A share snapferry added and an interrupted invocation left is taken
			 * back; S shared by its user or never shared (known from B) costs no call. */
			if (s->snapshot_type != NULL &&
			    strcmp(s->snapshot_type, "manual") == 0 && !hset_has(&sw->kept, h) &&
			    still_shared(sw, s) != 0)
				done = 0;
			if (done) {
				sw->by_outcome[RESULT_DONE]++;
				return (0);
			}
		}
	}
	if (result_init(&ir, "advance") != 0)
		return (1);
	sw->advanced++;
	if (transit)
		ferry_advance_copied(f, (int)s->kind, s->arn, &ir);
	else
		ferry_advance(f, (int)s->kind, s->arn, &ir);
	note_item(sw, s->id, &ir);
	result_clean(&ir);
	return (0);
}

/* ---- the sweep ------------------------------------------------------------------------- */

static int
list(struct sweep *sw, struct aws_client *c, enum rds_kind kind, const char *type,
    rds_snapshot_cb cb, const char *who)
{
	struct rds_list_opts lo;
	struct aws_error e;

	memset(&lo, 0, sizeof(lo));
	memset(&e, 0, sizeof(e));
	lo.snapshot_type = type;
	sw->kind = kind;
	if (rds_list_snapshots(c, kind, &lo, cb, sw, &e) == 0)
		return (0);
	/* Not every API takes every SnapshotType (clusters have no awsbackup). */
	if (type != NULL && strcmp(type, "awsbackup") == 0 &&
	    (aws_error_is(&e, "InvalidParameterValue") ||
	    aws_error_is(&e, "InvalidParameterCombination"))) {
		aws_error_clear(&e);
		return (0);
	}
	session_fail_rds(sw->f, sw->r, &e, kind, RDS_OP_DESCRIBE, who,
	    c == &sw->f->rds ? SESSION_OWN_ROLE : SESSION_BACKUP_ROLE);
	sw->error = 1;
	return (-1);
}

static void
emit_metrics(struct sweep *sw)
{
	double age, max = -1;
	size_t i;

	session_emit_counts(&sw->f->counts);
	log_metric("BackupCopiesPending", sw->b_pending, "Count", NULL, NULL);
	for (i = 0; i < sw->ndbs; i++) {
		time_t t = sw->final_done ? sw->dbs[i].fresh : sw->dbs[i].newest;

		if (t == 0)
			continue;
		age = (double)(sw->now - t);
		if (age < 0)
			age = 0;
		/* Region: the destination whose copies were measured (the keeper's metric
		 * carries the same); the Max below stays without dimensions, as
		 * template.yaml's recovery-point alarm reads it. */
		log_metric2("NewestBackupAgeSeconds", age, "Seconds", "SourceDb",
		    sw->dbs[i].db, "Region", sw->f->cfg->backup_region ?
		    sw->f->cfg->backup_region : sw->f->cfg->region);
		if (age > max)
			max = age;
	}
	if (max >= 0)
		log_metric("NewestBackupAgeSecondsMax", max, "Seconds", NULL, NULL);
}

static void
report(struct sweep *sw)
{
	struct result *r = sw->r;
	cJSON *x, *c;
	static const enum result_outcome o[] = { RESULT_DONE, RESULT_PENDING,
	    RESULT_SKIPPED, RESULT_IGNORED, RESULT_FAILED };
	size_t i;

	if ((x = cJSON_CreateObject()) == NULL)
		return;
	if ((c = cJSON_AddObjectToObject(x, "counts")) != NULL) {
		cJSON_AddNumberToObject(c, "listed", sw->seen);
		cJSON_AddNumberToObject(c, "advanced", sw->advanced);
		for (i = 0; i < sizeof(o) / sizeof(o[0]); i++)
			cJSON_AddNumberToObject(c, result_outcome_name(o[i]),
			    sw->by_outcome[o[i]]);
		cJSON_AddNumberToObject(c, "backupCopies", sw->b_total);
		cJSON_AddNumberToObject(c, "backupPending", sw->b_pending);
		cJSON_AddNumberToObject(c, "copiesStarted", sw->f->counts.started);
		cJSON_AddNumberToObject(c, "transitCopiesStarted",
		    sw->f->counts.transit_started);
		cJSON_AddNumberToObject(c, "copiesCompleted", sw->f->counts.completed);
		cJSON_AddNumberToObject(c, "quotaExceeded", sw->f->counts.quota);
	}
	cJSON_AddNumberToObject(x, "lookbackDays", SWEEP_LOOKBACK_DAYS);
	cJSON_AddItemToObject(x, "items", sw->items);
	sw->items = NULL;
	if (sw->items_left_off > 0)
		cJSON_AddNumberToObject(x, "itemsLeftOff", sw->items_left_off);
	cJSON_Delete(r->extra);
	r->extra = x;
	if (sw->error)
		return;
	if (sw->by_outcome[RESULT_FAILED] > 0)
		result_fail(r, sw->fail_type, "%u snapshot(s) need attention; first: %s",
		    sw->by_outcome[RESULT_FAILED], sw->fail_reason ? sw->fail_reason : "");
	else if (sw->stopped)
		result_finish(r, RESULT_PENDING, "stopped before the deadline after %u "
		    "snapshot(s); the next sweep continues", sw->seen);
	else if (sw->by_outcome[RESULT_PENDING] > 0 || sw->b_pending > 0)
		result_finish(r, RESULT_PENDING, "%u snapshot(s) and %u backup cop%s still "
		    "in progress", sw->by_outcome[RESULT_PENDING], sw->b_pending,
		    sw->b_pending == 1 ? "y" : "ies");
	else if (sw->unferryable > 0)
		result_finish(r, RESULT_DONE, "every recent eligible snapshot has its backup "
		    "copy; %u skipped (can't be ferried: see items)", sw->unferryable);
	else
		result_finish(r, RESULT_DONE, "every recent snapshot has its backup copy");
}

void
sweep_run(struct session *f, time_t now, struct result *r)
{
	const struct config *cfg = f->cfg;
	struct sweep sw;
	struct aws_client *bc;
	struct aws_error e;
	size_t i;
	int k;

	memset(&sw, 0, sizeof(sw));
	memset(&e, 0, sizeof(e));
	sw.f = f;
	sw.r = r;
	sw.now = now;
	sw.started = now;
	sw.since = now - (time_t)SWEEP_LOOKBACK_DAYS * 86400;
	r->dry_run = cfg->dry_run;
	f->quiet_metrics = 1;
	f->no_wait = 1;
	if ((sw.items = cJSON_CreateArray()) == NULL ||
	    (cfg->transit_cleanup && (sw.chains = transit_chain_set_new()) == NULL)) {
		cJSON_Delete(sw.items);
		result_fail(r, "Snapferry.Internal", "out of memory");
		return;
	}

	/* Whose copies are ours: without the own account, nothing may be deleted. */
	if ((sw.account = session_own_account(f, r)) == NULL) {
		sw.error = 1;
		goto done;
	}
	/* 1. What the backup account already holds, in each Region the ferry fills. */
	if (list_backups(&sw, &bc) != 0) {
		sw.error = 1;
		goto done;
	}
	sw.bc = bc;
	result_step(r, "backup account: %u snapferry copies (%u in progress) of %zu DBs",
	    sw.b_total, sw.b_pending, sw.ndbs);

	/* 2. The sources and transit copies of this account. */
	for (k = RDS_INSTANCE; k <= RDS_CLUSTER && !sw.stopped; k++)
		if (list(&sw, &f->rds, (enum rds_kind)k, NULL, source_cb,
		    "this account") != 0)
			goto done;
	if (!sw.stopped && list(&sw, &f->rds, RDS_INSTANCE, "awsbackup", source_cb,
	    "this account") != 0)
		goto done;

	/* The transit copies that a newer one, its B available, supersedes. */
	if (!sw.stopped && sw.chains != NULL && transit_chain_prune(f, sw.chains, r) < 0) {
		sw.error = 1;
		goto done;
	}

	/* 3. The ages of the newest copies once this sweep's are in.  A sweep that advanced
	 * nothing changed no copy: listing 1, moments old, holds the same ages. */
	for (k = RDS_INSTANCE; k <= RDS_CLUSTER && !sw.stopped && sw.advanced > 0; k++)
		if (list(&sw, bc, (enum rds_kind)k, "manual", fresh_cb,
		    "the backup account") != 0)
			goto done;
	sw.final_done = !sw.stopped && sw.advanced > 0;

done:
	emit_metrics(&sw);
	report(&sw);
	cJSON_Delete(sw.items);
	for (i = 0; i < sw.ndbs; i++) {
		free(sw.dbs[i].db);
	}
	free(sw.dbs);
	transit_chain_set_free(sw.chains);
	free(sw.done.v);
	free(sw.kept.v);
	free(sw.shared.v);
	free(sw.more_done.v);
	free(sw.more_kept.v);
	free(sw.fail_type);
	free(sw.fail_reason);
}

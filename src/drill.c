/*
 * drill: selection and bookkeeping of the keeper's restore drills.  One listing of the
 * backup copies, page by page, groups snapferry's available, consistent copies by
 * (production account, source DB) and keeps the newest of each and its last passed drill
 * (from the copies' snapferry:drill-result tags).  Then every drill DB in flight is
 * advanced (drill_db.c), new drills start up to DRILL_CONCURRENCY, and the metrics and
 * the result's "drills" list are written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "drill.h"
#include "drill_db.h"
#include "keeper.h"
#include "keeper_copy.h"
#include "log.h"
#include "names.h"
#include "rds.h"
#include "result.h"
#include "session.h"

static struct drill_group *
group_get(struct drill_ctx *d, const char *account, const char *db)
{
	struct drill_group *n;
	size_t i;

	for (i = 0; i < d->ng; i++)
		if (strcmp(d->g[i].account, account) == 0 && strcmp(d->g[i].db, db) == 0)
			return (&d->g[i]);
	if (d->ng == d->capg) {
		if ((n = buf_grow(d->g, &d->capg, sizeof(*n), 8)) == NULL)
			return (NULL);
		d->g = n;
	}
	n = &d->g[d->ng];
	memset(n, 0, sizeof(*n));
	snprintf(n->account, sizeof(n->account), "%s", account);
	if ((n->db = strdup(db)) == NULL)
		return (NULL);
	d->ng++;
	return (n);
}

/* One copy of the listing: its group, its drill record, and whether it is the newest. */
static int
on_copy(const struct rds_snapshot *s, void *arg)
{
	struct drill_ctx *d = arg;
	struct drill_group *g;
	struct keeper_copy kc;
	time_t when;
	long secs;
	int passed;

	keeper_copy_classify(d->f->cfg->name_prefix, s, &kc);
	/* A copy whose lineage disagrees with AWS is kept and reported by the sweep, and
	 * never drilled: what it holds is in doubt. */
	if (!kc.ours || !kc.attributed || kc.mismatch[0] != '\0')
		return (0);
	if ((g = group_get(d, kc.account, kc.db)) == NULL) {
		d->enomem = 1;
		return (1);
	}
	if (drill_db_tag_parse(rds_tag_get(s->tags, s->n_tags, DRILL_TAG_RESULT), &passed, &when,
	    &secs) == 0 && passed && when > g->last_pass)
		g->last_pass = when;
	if (!kc.available)
		return (0);
	if (g->oldest == 0 || kc.when < g->oldest)
		g->oldest = kc.when;
	if (g->copy_id != NULL && kc.when < g->newest)
		return (0);
	g->newest = kc.when;
	g->kind = s->kind;
	if (xstrdup_replace(&g->copy_id, s->id) != 0 ||
	    xstrdup_replace(&g->engine, s->engine) != 0 ||
	    xstrdup_replace(&g->version, s->engine_version) != 0) {
		d->enomem = 1;
		return (1);
	}
	return (0);
}

static void
groups_free(struct drill_ctx *d)
{
	size_t i;

	for (i = 0; i < d->ng; i++) {
		free(d->g[i].db);
		free(d->g[i].copy_id);
		free(d->g[i].engine);
		free(d->g[i].version);
		free(d->g[i].drill_id);
	}
	free(d->g);
}

/* LastGoodDrillAgeSeconds per selected DB, and its maximum without dimensions (the alarm's):
 * a DB never drilled counts from its oldest available copy. */
static void
age_metrics(struct drill_ctx *d)
{
	double worst = -1, age;
	time_t since;
	size_t i;

	for (i = 0; i < d->ng; i++) {
		if (!config_drill_selected(&d->f->cfg->drill, d->g[i].db) ||
		    d->g[i].copy_id == NULL)
			continue;
		since = d->g[i].last_pass ? d->g[i].last_pass : d->g[i].oldest;
		age = since > 0 && d->now > since ? (double)(d->now - since) : 0;
		log_metric2("LastGoodDrillAgeSeconds", age, "Seconds", "Account",
		    d->g[i].account, "SourceDb", d->g[i].db);
		if (age > (double)d->f->cfg->drill.max_age_days * 86400)
			result_warn(d->r, "no passed restore drill of %s (account %s) for %.0f days "
			    "(DRILL_MAX_AGE_DAYS %ld)", d->g[i].db, d->g[i].account, age / 86400,
			    d->f->cfg->drill.max_age_days);
		if (age > worst)
			worst = age;
	}
	if (worst >= 0)
		log_metric("LastGoodDrillAgeSeconds", worst, "Seconds", NULL, NULL);
}

static int
list_copies(struct drill_ctx *d)
{
	const struct rds_list_opts opts = { "manual", NULL, 0, 100, NULL, 0 };
	struct aws_error e;
	int k;

	memset(&e, 0, sizeof(e));
	for (k = RDS_INSTANCE; k <= RDS_CLUSTER; k++) {
		if (rds_list_snapshots(d->bc, (enum rds_kind)k, &opts, on_copy, d, &e) != 0) {
			session_fail_rds(d->f, d->r, &e, (enum rds_kind)k, RDS_OP_DESCRIBE,
			    "the backup copies", SESSION_OWN_ROLE);
			return (-1);
		}
		if (d->enomem) {
			result_fail(d->r, "Snapferry.Internal", "out of memory");
			return (-1);
		}
	}
	return (0);
}

/* Whether an earlier group already names drill DB ${id} (two production accounts may have
 * DBs of the same name: they share the drill DB's name and take turns). */
static int
seen_before(const struct drill_ctx *d, size_t upto, const char *id)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (d->g[i].drill_id != NULL && strcmp(d->g[i].drill_id, id) == 0)
			return (1);
	return (0);
}

void
drill_run(struct session *f, const char *db, const char *region, int start, time_t now,
    struct result *r)
{
	const struct config *cfg = f->cfg;
	struct drill_ctx d;
	struct drill_group *g;
	cJSON *x;
	size_t i;
	char *raw;

	if (region != NULL && strcmp(region, cfg->region) != 0) {
		result_fail(r, "Event.Invalid", "\"region\" is %s, but this keeper drills the "
		    "backup copies of %s only: invoke the keeper of %s", region, cfg->region,
		    region);
		return;
	}
	memset(&d, 0, sizeof(d));
	d.f = f;
	d.r = r;
	d.now = now;
	r->dry_run = cfg->dry_run;
	strftime(d.run_id, sizeof(d.run_id), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &(struct tm){0}));
	if ((d.items = cJSON_CreateArray()) == NULL) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		return;
	}
	if ((d.bc = session_backup(f, r)) == NULL || list_copies(&d) != 0)
		goto out;
	/* First every drill in flight, whatever the selection: a crashed run's DB is
	 * finished or deleted by the next run or sweep. */
	for (i = 0; i < d.ng; i++) {
		g = &d.g[i];
		if (g->copy_id == NULL)
			continue;
		if ((raw = malloc(strlen(g->db) + 7)) != NULL)
			snprintf(raw, strlen(g->db) + 7, "drill-%s", g->db);
		if (raw == NULL ||
		    (g->drill_id = names_restore_id(cfg->name_prefix, raw)) == NULL) {
			free(raw);
			result_fail(r, "Snapferry.Internal", "out of memory");
			goto out;
		}
		free(raw);
		if (seen_before(&d, i, g->drill_id)) {
			g->busy = 1;
			continue;
		}
		if (session_time_left_ms(f) < KEEPER_ITEM_MS) {
			d.stopped = 1;
			break;
		}
		if (drill_db_advance(&d, g) != 0)
			goto out;
	}
	/* Then new drills, up to DRILL_CONCURRENCY in flight. */
	for (i = 0; start && !d.stopped && i < d.ng; i++) {
		g = &d.g[i];
		if (g->copy_id == NULL || g->drill_id == NULL ||
		    !config_drill_selected(&cfg->drill, g->db) ||
		    (db != NULL && strcmp(db, g->db) != 0))
			continue;
		d.matched++;
		if (g->busy)
			continue;
		if (d.in_flight >= (unsigned)cfg->drill.concurrency) {
			drill_db_item(&d, g, "queued", g->drill_id, -1, "DRILL_CONCURRENCY drills "
			    "are in flight; the next run starts it");
			d.queued++;
			continue;
		}
		if (session_time_left_ms(f) < KEEPER_ITEM_MS) {
			d.stopped = 1;
			break;
		}
		if (drill_db_start(&d, g) != 0)
			goto out;
	}
	age_metrics(&d);
out:
	if ((x = r->extra) == NULL)
		x = r->extra = cJSON_CreateObject();
	if (x != NULL) {
		cJSON_AddItemToObject(x, "drills", d.items);
		d.items = NULL;
	}
	cJSON_Delete(d.items);
	groups_free(&d);
	if (!start || r->outcome == RESULT_FAILED)
		return;
	if (db != NULL && d.matched == 0)
		result_finish(r, RESULT_SKIPPED, "no available backup copy of %s selected for "
		    "drills (DRILL_INCLUDE_PATTERN) in %s", db, cfg->region);
	else if (d.in_flight > 0 || d.queued > 0 || d.stopped)
		result_finish(r, RESULT_PENDING, "%s%u drill(s) in flight, %u queued; the sweep "
		    "advances them", cfg->dry_run ? "dry run: " : "", d.in_flight, d.queued);
	else
		result_finish(r, RESULT_DONE, "%s%u drill(s) passed, %u failed",
		    cfg->dry_run ? "dry run: " : "", d.passed, d.failed);
}

/*
 * keeper_sweep: the keeper's scheduled work on snapferry's backup copies in its own
 * account and region.  Two listings, each page by page (one page in memory):
 *   1. every copy: classify it from AWS's record (keeper_classify); report lineage
 *      mismatches (kept) and failed copies (a delete is tried; AWS deletes only available
 *      snapshots, so it may refuse); group the available, consistent copies by
 *      (production account, region, DB) and keep per group the RETENTION_MIN_COPIES
 *      newest times and the newest copy;
 *   2. only when retention has work: delete the copies older than
 *      max(RETENTION_DAYS, KEEPER_MIN_RETENTION_DAYS) beyond each group's newest
 *      RETENTION_MIN_COPIES (DRY_RUN names them only).
 * Then the backup account's manual-snapshot quota usage (shared by the fleet), freshness
 * metrics per group and, with RESTORE on, the newest copy of each DB not yet restored.
 * Memory: a few bytes per group plus RETENTION_MIN_COPIES times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "ferry.h"
#include "session.h"
#include "keeper.h"
#include "log.h"
#include "names.h"
#include "rds.h"
#include "restore.h"
#include "result.h"

struct group {
	char		 account[13], region[32];
	char		*db;
	enum rds_kind	 kind;
	time_t		 newest;
	time_t		*top;		/* the RETENTION_MIN_COPIES newest, descending */
	size_t		 ntop;
	unsigned	 copies;
	char		*newest_id, *newest_engine, *newest_version, *newest_src;
};

struct ksweep {
	struct session	*f;
	struct result	*r;
	struct aws_client *bc;
	time_t		 now, cutoff;
	size_t		 keep;
	struct group	*g;
	size_t		 ng, capg;
	unsigned	 total, available, failed_left, failed_deleted, mismatches, deleted;
	unsigned	 would;
	int		 stopped, enomem;
	const char	*only_db;	/* keeper_restore_target: the DB whose sources count */
	double		 quota_pct;	/* BackupSnapshotQuotaUsedPercent; < 0: not read */
	cJSON		*mismatch_items, *failed_items;
};

static void
add_item(struct ksweep *ks, cJSON *list, const char *id, const char *k, const char *v)
{
	cJSON *o;

	if (list == NULL || cJSON_GetArraySize(list) >= KEEPER_MAX_ITEMS ||
	    (o = cJSON_CreateObject()) == NULL)
		return;
	(void)ks;
	cJSON_AddStringToObject(o, "snapshot", id);
	cJSON_AddStringToObject(o, k, v);
	cJSON_AddItemToArray(list, o);
}

static struct group *
group_get(struct ksweep *ks, const struct keeper_copy *kc, enum rds_kind kind)
{
	struct group *n;
	size_t i, cap;

	for (i = 0; i < ks->ng; i++)
		if (strcmp(ks->g[i].account, kc->account) == 0 &&
		    strcmp(ks->g[i].region, kc->region) == 0 && strcmp(ks->g[i].db, kc->db) == 0)
			return (&ks->g[i]);
	if (ks->ng == ks->capg) {
		cap = ks->capg ? ks->capg * 2 : 16;
		if ((n = realloc(ks->g, cap * sizeof(*n))) == NULL)
			return (NULL);
		ks->g = n;
		ks->capg = cap;
	}
	n = &ks->g[ks->ng];
	memset(n, 0, sizeof(*n));
	memcpy(n->account, kc->account, sizeof(n->account));
	memcpy(n->region, kc->region, sizeof(n->region));
	n->kind = kind;
	if ((n->db = strdup(kc->db)) == NULL ||
	    (ks->keep > 0 && (n->top = calloc(ks->keep, sizeof(*n->top))) == NULL)) {
		free(n->db);
		return (NULL);
	}
	ks->ng++;
	return (n);
}

static int
set_copy(char **dst, const char *v)
{
	free(*dst);
	*dst = NULL;
	return (v != NULL && (*dst = strdup(v)) == NULL ? -1 : 0);
}

/* note(ks, g, s, t): copy ${s} of group ${g} holds data of time ${t}. */
static int
note(struct ksweep *ks, struct group *g, const struct rds_snapshot *s, time_t t)
{
	size_t i;
	char *src;

	g->copies++;
	if (g->newest_id == NULL || t > g->newest) {
		g->newest = t;
		if ((src = names_lineage_arn(s->tags, s->n_tags)) == NULL)
			return (-1);
		free(g->newest_src);
		g->newest_src = src;
		g->kind = s->kind;
		if (set_copy(&g->newest_id, s->id) || set_copy(&g->newest_engine, s->engine) ||
		    set_copy(&g->newest_version, s->engine_version))
			return (-1);
	}
	if (ks->keep == 0 || (g->ntop == ks->keep && t <= g->top[ks->keep - 1]))
		return (0);
	i = g->ntop < ks->keep ? g->ntop++ : ks->keep - 1;
	while (i > 0 && g->top[i - 1] < t) {
		g->top[i] = g->top[i - 1];
		i--;
	}
	g->top[i] = t;
	return (0);
}

/* failed_copy(ks, s): a failed copy of snapferry's: try to delete it (the ferry has made
 *  its retry already, or makes it at its next trigger); AWS may refuse. */
static void
failed_copy(struct ksweep *ks, const struct rds_snapshot *s)
{
	const struct config *cfg = ks->f->cfg;
	struct aws_error e;
	char msg[300];

	if (cfg->dry_run) {
		result_step(ks->r, "would:%s %s (failed copy)", rds_op_name(s->kind, RDS_OP_DELETE),
		    s->id);
		ks->failed_left++;
		add_item(ks, ks->failed_items, s->id, "status", s->status);
		return;
	}
	memset(&e, 0, sizeof(e));
	if (rds_delete_snapshot(ks->bc, s->kind, s->id, &e) == 0) {
		ks->failed_deleted++;
		result_step(ks->r, "%s %s (failed copy)", rds_op_name(s->kind, RDS_OP_DELETE), s->id);
		return;
	}
	ks->failed_left++;
	snprintf(msg, sizeof(msg), "%s: %s", e.code ? e.code : "error",
	    e.message ? e.message : "");
	add_item(ks, ks->failed_items, s->id, "deleteRefused", msg);
	result_warn(ks->r, "failed copy %s (%s) stays: %s refused (%s)", s->id,
	    s->status ? s->status : "?", rds_op_name(s->kind, RDS_OP_DELETE), msg);
	aws_error_clear(&e);
}

static int
scan_cb(const struct rds_snapshot *s, void *arg)
{
	struct ksweep *ks = arg;
	struct keeper_copy kc;
	struct group *g;
	cJSON *fl;

	if (session_time_left_ms(ks->f) < KEEPER_ITEM_MS) {
		ks->stopped = 1;
		return (1);
	}
	keeper_copy_classify(ks->f->cfg->name_prefix, s, &kc);
	if (!kc.ours)
		return (0);
	ks->total++;
	if (kc.failed) {
		failed_copy(ks, s);
		return (0);
	}
	if (kc.mismatch[0] != '\0') {
		ks->mismatches++;
		add_item(ks, ks->mismatch_items, s->id, "reason", kc.mismatch);
		if ((fl = cJSON_CreateObject()) != NULL) {
			cJSON_AddStringToObject(fl, "snapshot", s->id);
			cJSON_AddStringToObject(fl, "reason", kc.mismatch);
		}
		log_warn("lineage mismatch: copy kept, never deleted", fl);
		return (0);
	}
	if (!kc.available)
		return (0);
	ks->available++;
	if ((g = group_get(ks, &kc, s->kind)) == NULL || note(ks, g, s, kc.when) != 0) {
		ks->enomem = 1;
		return (1);
	}
	return (0);
}

static int
retention_cb(const struct rds_snapshot *s, void *arg)
{
	struct ksweep *ks = arg;
	const struct config *cfg = ks->f->cfg;
	struct keeper_copy kc;
	struct aws_error e;
	struct group *g;

	if (session_time_left_ms(ks->f) < KEEPER_ITEM_MS) {
		ks->stopped = 1;
		return (1);
	}
	keeper_copy_classify(cfg->name_prefix, s, &kc);
	/* Only what the first listing counted: ours, available, consistent. */
	if (!kc.ours || !kc.available || kc.mismatch[0] != '\0' || kc.when >= ks->cutoff)
		return (0);
	if ((g = group_get(ks, &kc, s->kind)) == NULL) {
		ks->enomem = 1;
		return (1);
	}
	/* Never the group's newest, nor one of its newest RETENTION_MIN_COPIES (as counted
	 * by the first listing: a copy made since then keeps one more, never one less). */
	if (kc.when >= g->newest || (ks->keep > 0 && (g->ntop < ks->keep ||
	    kc.when >= g->top[ks->keep - 1])))
		return (0);
	if (cfg->dry_run) {
		ks->would++;
		result_step(ks->r, "would:%s %s (retention: DB %s of account %s, older than %ld "
		    "days)", rds_op_name(s->kind, RDS_OP_DELETE), s->id, kc.db, kc.account,
		    (long)((ks->now - ks->cutoff) / 86400));
		return (0);
	}
	memset(&e, 0, sizeof(e));
	if (rds_delete_snapshot(ks->bc, s->kind, s->id, &e) != 0) {
		if (!aws_error_has(&e, "NotFound"))
			result_warn(ks->r, "retention: deleting %s failed (%s: %s)", s->id,
			    e.code ? e.code : "?", e.message ? e.message : "");
		aws_error_clear(&e);
		return (0);
	}
	ks->deleted++;
	result_step(ks->r, "%s %s (retention: DB %s of account %s, older than %ld days)",
	    rds_op_name(s->kind, RDS_OP_DELETE), s->id, kc.db, kc.account,
	    (long)((ks->now - ks->cutoff) / 86400));
	return (0);
}

static int
list(struct ksweep *ks, rds_snapshot_cb cb)
{
	struct rds_list_opts lo;
	struct aws_error e;
	int k;

	memset(&lo, 0, sizeof(lo));
	lo.snapshot_type = "manual";
	for (k = RDS_INSTANCE; k <= RDS_CLUSTER && !ks->stopped && !ks->enomem; k++) {
		memset(&e, 0, sizeof(e));
		if (rds_list_snapshots(ks->bc, (enum rds_kind)k, &lo, cb, ks, &e) != 0) {
			session_fail_aws(ks->f, ks->r, &e, rds_op_name((enum rds_kind)k,
			    RDS_OP_DESCRIBE), "the backup account", "allow rds:DescribeDBSnapshots "
			    "and rds:DescribeDBClusterSnapshots to the keeper's role");
			return (-1);
		}
	}
	if (ks->enomem) {
		result_fail(ks->r, "Snapferry.Internal", "out of memory");
		return (-1);
	}
	return (0);
}

/* sources(ks, db): how many groups (production account, region) have copies of ${db}. */
static size_t
sources(const struct ksweep *ks, const char *db)
{
	size_t i, n = 0;

	for (i = 0; i < ks->ng; i++)
		if (ks->g[i].newest_id != NULL && strcmp(ks->g[i].db, db) == 0)
			n++;
	return (n);
}

/* auto_target(prefix, db, account, region, n): "<prefix>-<db>", or with the 8 hex of
 *  ${account} and ${region} when ${n} > 1 sources have copies of that DB name (same-named
 *  DBs of a fleet): one DB per source, never the second restored over the first's name. */
static char *
auto_target(const char *prefix, const char *db, const char *account, const char *region,
    size_t n)
{
	return (n > 1 ? names_restore_id_of(prefix, db, account, region) :
	    names_restore_id(prefix, db));
}

static int
sources_cb(const struct rds_snapshot *s, void *arg)
{
	struct ksweep *ks = arg;
	struct keeper_copy kc;
	struct group *g;

	keeper_copy_classify(ks->f->cfg->name_prefix, s, &kc);
	/* The copies the sweep groups: ours, available, consistent. */
	if (!kc.ours || !kc.available || kc.mismatch[0] != '\0' || kc.db == NULL ||
	    strcmp(kc.db, ks->only_db) != 0)
		return (0);
	if ((g = group_get(ks, &kc, s->kind)) == NULL || note(ks, g, s, kc.when) != 0) {
		ks->enomem = 1;
		return (1);
	}
	return (0);
}

static void
groups_free(struct ksweep *ks)
{
	size_t i;

	for (i = 0; i < ks->ng; i++) {
		free(ks->g[i].db);
		free(ks->g[i].top);
		free(ks->g[i].newest_id);
		free(ks->g[i].newest_engine);
		free(ks->g[i].newest_version);
		free(ks->g[i].newest_src);
	}
	free(ks->g);
	ks->g = NULL;
	ks->ng = ks->capg = 0;
}

char *
keeper_restore_target(struct session *f, struct aws_client *bc, const struct keeper_copy *kc,
    struct result *r)
{
	struct ksweep ks;
	char *t = NULL;

	memset(&ks, 0, sizeof(ks));
	ks.f = f;
	ks.r = r;
	ks.bc = bc;
	ks.keep = 1;
	ks.only_db = kc->db;
	if (list(&ks, sources_cb) == 0 && (t = auto_target(f->cfg->name_prefix, kc->db,
	    kc->account, kc->region, sources(&ks, kc->db))) == NULL)
		result_fail(r, "Snapferry.Internal", "out of memory");
	groups_free(&ks);
	return (t);
}

/* restore_newest(ks): RESTORE on: each group's newest copy into "<prefix>-<db>" (with the
 *  account's and region's 8-hex when several have copies of that DB name) unless that DB
 *  exists (restore_copy never restores over one).  -1 only on ENOMEM. */
static int
restore_newest(struct ksweep *ks)
{
	const struct config *cfg = ks->f->cfg;
	unsigned restored = 0;
	char *target;
	size_t i;
	int rc;

	for (i = 0; i < ks->ng; i++) {
		struct group *g = &ks->g[i];

		if (session_time_left_ms(ks->f) < KEEPER_ITEM_MS) {
			ks->stopped = 1;
			break;
		}
		if (g->newest_id == NULL)
			continue;
		if ((target = auto_target(cfg->name_prefix, g->db, g->account, g->region,
		    sources(ks, g->db))) == NULL)
			return (-1);
		rc = restore_copy(ks->f, ks->bc, g->kind, g->newest_id, g->newest_engine,
		    g->newest_version, target, g->newest_src, g->db, ks->r);
		free(target);
		/* Failed or under way (quota): ${r} says so; the next sweep goes on. */
		if (rc == -1)
			break;
		restored += (unsigned)rc;
	}
	if (restored > 0)
		result_step(ks->r, "restored the newest copy of %u DB(s)", restored);
	return (0);
}

/* quota(ks): the account's manual-snapshot quota usage in this Region, shared by every
 *  production account's copies (and anything else the backup account keeps): the higher
 *  of ManualSnapshots and ManualClusterSnapshots in percent.  Unreadable: a warning. */
static void
quota(struct ksweep *ks)
{
	struct rds_snapshot_quotas q;
	const struct rds_quota *v[2] = { &q.instance, &q.cluster };
	struct aws_error e;
	double pct;
	size_t i;

	memset(&e, 0, sizeof(e));
	if (rds_snapshot_quotas(ks->bc, &q, &e) != 0) {
		result_warn(ks->r, "snapshot quota not read: DescribeAccountAttributes failed "
		    "(%s: %s); allow rds:DescribeAccountAttributes to the keeper's role",
		    e.code ? e.code : "error", e.message ? e.message : "");
		aws_error_clear(&e);
		return;
	}
	for (i = 0; i < 2; i++) {
		if (!v[i]->found || v[i]->max <= 0)
			continue;
		pct = (double)v[i]->used * 100.0 / (double)v[i]->max;
		if (pct > ks->quota_pct)
			ks->quota_pct = pct;
	}
	if (ks->quota_pct < 0) {
		result_warn(ks->r, "snapshot quota not read: DescribeAccountAttributes named "
		    "neither ManualSnapshots nor ManualClusterSnapshots");
		return;
	}
	log_metric("BackupSnapshotQuotaUsedPercent", ks->quota_pct, "Percent", NULL, NULL);
}

static void
freshness(struct ksweep *ks, cJSON *x)
{
	cJSON *list = cJSON_AddArrayToObject(x, "freshness"), *o;
	double age, max = -1;
	size_t i;

	for (i = 0; i < ks->ng; i++) {
		/* A group first seen by the retention listing (a copy made in between) has
		 * no newest copy counted: no age from it. */
		if (ks->g[i].newest_id == NULL)
			continue;
		age = (double)(ks->now - ks->g[i].newest);
		if (age < 0)
			age = 0;
		/* Region: where the copies are (this keeper's), so that one dashboard or
		 * alarm per destination Region tells the Regions apart. */
		log_metric3("NewestBackupAgeSeconds", age, "Seconds", "Account",
		    ks->g[i].account, "SourceDb", ks->g[i].db, "Region", ks->f->cfg->region);
		if (age > max)
			max = age;
		if (list == NULL || i >= KEEPER_MAX_ITEMS || (o = cJSON_CreateObject()) == NULL)
			continue;
		cJSON_AddStringToObject(o, "account", ks->g[i].account);
		cJSON_AddStringToObject(o, "region", ks->g[i].region);
		cJSON_AddStringToObject(o, "db", ks->g[i].db);
		cJSON_AddNumberToObject(o, "copies", ks->g[i].copies);
		cJSON_AddStringToObject(o, "newest", ks->g[i].newest_id);
		cJSON_AddNumberToObject(o, "newestAgeSeconds", age);
		cJSON_AddItemToArray(list, o);
	}
	if (max >= 0)
		log_metric("NewestBackupAgeSecondsMax", max, "Seconds", "Region", ks->f->cfg->region);
}

static void
report(struct ksweep *ks, int listed)
{
	struct result *r = ks->r;
	cJSON *x, *c;

	log_metric("LineageMismatch", ks->mismatches, "Count", NULL, NULL);
	log_metric("FailedCopies", ks->failed_left, "Count", NULL, NULL);
	log_metric("RetentionDeleted", ks->deleted, "Count", NULL, NULL);
	if ((x = cJSON_CreateObject()) == NULL)
		return;
	if ((c = cJSON_AddObjectToObject(x, "counts")) != NULL) {
		cJSON_AddNumberToObject(c, "backupCopies", ks->total);
		cJSON_AddNumberToObject(c, "available", ks->available);
		cJSON_AddNumberToObject(c, "lineageMismatches", ks->mismatches);
		cJSON_AddNumberToObject(c, "failedCopies", ks->failed_left);
		cJSON_AddNumberToObject(c, "failedDeleted", ks->failed_deleted);
		cJSON_AddNumberToObject(c, "retentionDeleted", ks->deleted);
		if (ks->f->cfg->dry_run)
			cJSON_AddNumberToObject(c, "retentionWouldDelete", ks->would);
	}
	cJSON_AddNumberToObject(x, "retentionDays", (double)ks->f->cfg->retention_days);
	cJSON_AddNumberToObject(x, "minRetentionDays",
	    (double)ks->f->cfg->keeper_min_retention_days);
	if (listed)
		freshness(ks, x);
	if (ks->quota_pct >= 0)
		cJSON_AddNumberToObject(x, "snapshotQuotaUsedPercent", ks->quota_pct);
	cJSON_AddItemToObject(x, "lineageMismatches", ks->mismatch_items);
	cJSON_AddItemToObject(x, "failedCopies", ks->failed_items);
	ks->mismatch_items = ks->failed_items = NULL;
	cJSON_Delete(r->extra);
	r->extra = x;
	/* A restore that failed or is under way (restore_copy) says so itself. */
	if (r->outcome == RESULT_FAILED || r->outcome == RESULT_PENDING)
		return;
	if (ks->stopped)
		result_finish(r, RESULT_PENDING, "stopped before the deadline; the next sweep "
		    "continues");
	else
		result_finish(r, RESULT_DONE, "%u backup cop%s of %zu DB(s); %u deleted by "
		    "retention; %u failed cop%s left; %u lineage mismatch(es) kept", ks->total,
		    ks->total == 1 ? "y" : "ies", ks->ng, ks->deleted, ks->failed_left,
		    ks->failed_left == 1 ? "y" : "ies", ks->mismatches);
}

void
keeper_sweep(struct session *f, time_t now, struct result *r)
{
	const struct config *cfg = f->cfg;
	long days = cfg->retention_days;
	struct ksweep ks;
	size_t i;
	int listed = 0, work = 0;

	memset(&ks, 0, sizeof(ks));
	ks.f = f;
	ks.r = r;
	ks.now = now;
	ks.quota_pct = -1;
	ks.keep = cfg->retention_min_copies > 0 ? (size_t)cfg->retention_min_copies : 1;
	/* The floor wins over RETENTION_DAYS (config refuses a smaller one anyway). */
	if (days > 0 && days < cfg->keeper_min_retention_days)
		days = cfg->keeper_min_retention_days;
	ks.cutoff = now - (time_t)days * 86400;
	r->dry_run = cfg->dry_run;
	ks.mismatch_items = cJSON_CreateArray();
	ks.failed_items = cJSON_CreateArray();
	if ((ks.bc = session_backup(f, r)) == NULL)
		goto out;
	if (list(&ks, scan_cb) != 0)
		goto out;
	listed = !ks.stopped;
	result_step(r, "backup account: %u snapferry copies (%u available, %u failed left, "
	    "%u mismatched) of %zu DB(s)", ks.total, ks.available, ks.failed_left,
	    ks.mismatches, ks.ng);
	for (i = 0; i < ks.ng; i++)
		if (ks.g[i].copies > ks.keep)
			work = 1;
	if (days > 0 && work && !ks.stopped && list(&ks, retention_cb) != 0)
		goto out;
	if (!ks.stopped)
		quota(&ks);
	if (cfg->restore && !ks.stopped && restore_newest(&ks) != 0 &&
	    r->outcome != RESULT_FAILED)
		result_fail(r, "Snapferry.Internal", "out of memory");
out:
	report(&ks, listed);
	cJSON_Delete(ks.mismatch_items);
	cJSON_Delete(ks.failed_items);
	groups_free(&ks);
}

/*
 * keeper_chain: the keeper of Region r copies the backup copies of the other Regions of
 * BACKUP_REGIONS into r (see keeper_chain.h).  Per run:
 *   1. one paged listing of this Region: the lineage of every copy of snapferry's that is
 *      not failed (made, or being made: never a second), the ids of the prefix that are
 *      taken (AWS keeps a failed copy's id) and how many copies are in flight here;
 *   2. for each other Region q, one paged listing there: each available backup copy made
 *      in q from a source of q (AWS's record, keeper_copy_classify; never a chained copy),
 *      within the retention window, without a copy here, is copied by ARN under the same
 *      id (the first attempt id not taken: retry_id) with its lineage tags plus
 *      KEEPER_TAG_CHAINED_FROM and this keeper's key.
 * The keeper's own credentials only: nothing is read from, or needed of, production.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "config.h"
#include "keeper.h"
#include "keeper_chain.h"
#include "keeper_copy.h"
#include "log.h"
#include "names.h"
#include "rds.h"
#include "result.h"
#include "retry.h"
#include "session.h"

/* A growing set of strings (linear search: a few thousand copies at most per Region). */
struct strset {
	char	**v;
	size_t	 n, cap;
};

struct chain {
	struct session		*f;
	struct result		*r;
	struct aws_client	*bc;		/* this Region */
	const char		*from;		/* the Region being listed */
	time_t			 cutoff;	/* 0: no retention window */
	struct strset		 lineage;	/* sources with a copy here (not failed) */
	struct strset		 ids;		/* "<i|c>:<id>" of the prefix taken here */
	struct strset		 others;	/* those of them without snapferry's lineage */
	unsigned		 inflight;	/* copies of snapferry's in flight here */
	unsigned		 candidates, present, started, already, old, would, waiting;
	unsigned		 quota, exhausted, foreign;
	int			 stop;		/* start no more copies (quota, limit, failure) */
	int			 failed;	/* ${r} failed: stop listing too */
	int			 enomem;
	cJSON			*items;		/* names taken by others, attempts used up */
};

static int
set_has(const struct strset *s, const char *v)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return (1);
	return (0);
}

/* set_add_own(s, v): add malloc'd ${v} (taken over; freed on failure). 0 or -1. */
static int
set_add_own(struct strset *s, char *v)
{
	char **n;
	size_t cap;

	if (v == NULL)
		return (-1);
	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 64;
		if ((n = realloc(s->v, cap * sizeof(*n))) == NULL) {
			free(v);
			return (-1);
		}
		s->v = n;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return (0);
}

static void
set_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* kind_id(kind, id): "i:<id>" or "c:<id>" (the two kinds are separate namespaces). */
static char *
kind_id(enum rds_kind kind, const char *id)
{
	size_t n = strlen(id) + 3;
	char *out;

	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%c:%s", kind == RDS_CLUSTER ? 'c' : 'i', id);
	return (out);
}

static void
add_item(struct chain *c, const char *id, const char *why)
{
	cJSON *o;

	if (c->items == NULL || cJSON_GetArraySize(c->items) >= KEEPER_MAX_ITEMS ||
	    (o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "snapshot", id);
	cJSON_AddStringToObject(o, "from", c->from ? c->from : "");
	cJSON_AddStringToObject(o, "reason", why);
	cJSON_AddItemToArray(c->items, o);
}

/* ---- 1. this Region ----------------------------------------------------------------- */

static int
here_cb(const struct rds_snapshot *s, void *arg)
{
	struct chain *c = arg;
	const char *prefix = c->f->cfg->name_prefix;
	struct keeper_copy kc;
	char *arn;

	if (!names_has_prefix(prefix, s->id))
		return (0);
	if (set_add_own(&c->ids, kind_id(s->kind, s->id)) != 0)
		goto nomem;
	if (!names_is_snapferry(s->tags, s->n_tags, NAMES_ROLE_BACKUP))
		return (set_add_own(&c->others, kind_id(s->kind, s->id)) != 0 ?
		    (c->enomem = 1) : 0);
	if (s->status != NULL && rds_is_terminal(s->status))
		return (0);
	if (s->status != NULL && (strcmp(s->status, "creating") == 0 ||
	    strcmp(s->status, "copying") == 0 || strcmp(s->status, "pending") == 0))
		c->inflight++;
	/* Only a copy AWS's record agrees with stands for its source here: one whose tags
	 * merely claim a lineage (made by hand, or planted) never keeps the chain away. */
	keeper_copy_classify(prefix, s, &kc);
	if (kc.mismatch[0] != '\0')
		return (0);
	if ((arn = names_lineage_arn(s->tags, s->n_tags)) == NULL)
		return (0);
	if (!set_has(&c->lineage, arn))
		return (set_add_own(&c->lineage, arn) != 0 ? (c->enomem = 1) : 0);
	free(arn);
	return (0);
nomem:
	c->enomem = 1;
	return (1);
}

/* ---- 2. the other Regions ------------------------------------------------------------ */

/* chain_tags(s, from, tags, n): ${s}'s own lineage tags (snapferry:*, but a drill's result)
 *  and KEEPER_TAG_CHAINED_FROM=${from}; ${tags} has room for NAMES_MAX_TAGS + 1. */
static void
chain_tags(const struct rds_snapshot *s, const char *from, struct rds_tag *tags, size_t *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < s->n_tags && *n < NAMES_MAX_TAGS; i++) {
		if (strncmp(s->tags[i].key, "snapferry:", 10) != 0 ||
		    strcmp(s->tags[i].key, "snapferry:drill-result") == 0 ||
		    strcmp(s->tags[i].key, KEEPER_TAG_CHAINED_FROM) == 0)
			continue;
		tags[(*n)++] = s->tags[i];
	}
	tags[*n].key = KEEPER_TAG_CHAINED_FROM;
	tags[(*n)++].value = (char *)(uintptr_t)from;
}

/* already(c, s, id, lineage): CopyDB*Snapshot said ${id} exists here: one of ours of the
 *  same source (a concurrent keeper's) is success; anything else is never touched. */
static void
already(struct chain *c, const struct rds_snapshot *s, const char *id, const char *lineage)
{
	struct rds_snapshot t;
	struct aws_error e;
	int rc;

	memset(&t, 0, sizeof(t));
	memset(&e, 0, sizeof(e));
	rc = rds_describe_tagged(c->bc, s->kind, id, &t, &e);
	if (rc == 1 && names_has_lineage(t.tags, t.n_tags, lineage, NAMES_ROLE_BACKUP)) {
		c->already++;
		result_step(c->r, "%s exists already with the lineage of %s (chained by another "
		    "run)", id, s->id);
	} else if (rc == 1) {
		c->foreign++;
		add_item(c, id, "the name is taken by a snapshot without snapferry's lineage of "
		    "this source: never touched");
		result_warn(c->r, "chain: %s exists in %s without the lineage of %s: not "
		    "touched, not copied", id, c->f->cfg->region, s->id);
	} else {
		result_warn(c->r, "chain: %s was reported to exist but can't be read (%s)", id,
		    e.code ? e.code : "gone");
	}
	aws_error_clear(&e);
	rds_snapshot_clean(&t);
}

/* copy(c, s, id, lineage): CopyDB*Snapshot of ${s} (by ARN) into ${id} here. */
static void
copy(struct chain *c, const struct rds_snapshot *s, const char *id, const char *lineage)
{
	const struct config *cfg = c->f->cfg;
	struct rds_tag tags[NAMES_MAX_TAGS + 1];
	const char *key = s->encrypted ? cfg->backup_kms_key_id : NULL;
	struct aws_error e;
	size_t n;
	cJSON *fl;

	chain_tags(s, c->from, tags, &n);
	if (cfg->dry_run) {
		c->would++;
		result_step(c->r, "would:%s %s -> %s in %s (chain from %s, KmsKeyId %s)",
		    rds_op_name(s->kind, RDS_OP_COPY), s->arn, id, cfg->region, c->from,
		    key ? key : "none");
		return;
	}
	if (c->inflight >= KEEPER_CHAIN_MAX_INFLIGHT) {
		c->waiting++;
		return;
	}
	memset(&e, 0, sizeof(e));
	if (rds_copy_snapshot(c->bc, s->kind, s->arn, id, key, tags, n, NULL, &e) == 0) {
		c->started++;
		c->inflight++;
		result_step(c->r, "%s %s -> %s (chain from %s)", rds_op_name(s->kind,
		    RDS_OP_COPY), s->arn, id, c->from);
		if ((fl = cJSON_CreateObject()) != NULL) {
			cJSON_AddStringToObject(fl, "source", s->arn);
			cJSON_AddStringToObject(fl, "copy", id);
			cJSON_AddStringToObject(fl, "from", c->from);
		}
		log_info("chain copy started", fl);
		if (set_add_own(&c->lineage, strdup(lineage)) != 0)
			c->enomem = 1;
		return;
	}
	if (aws_error_has(&e, "AlreadyExists")) {
		aws_error_clear(&e);
		already(c, s, id, lineage);
		if (set_add_own(&c->lineage, strdup(lineage)) != 0)
			c->enomem = 1;
		return;
	}
	if (session_is_quota(e.code)) {
		/* Quota or copies in flight: the rest waits for the next run. */
		c->quota++;
		c->stop = 1;
		session_fail_aws(c->f, c->r, &e, rds_op_name(s->kind, RDS_OP_COPY), id, "");
		return;
	}
	if (session_is_invalid_state(&e) || rds_snapshot_not_found(s->kind, &e)) {
		/* The source changed since the listing (deleted by retention there, say). */
		result_warn(c->r, "chain: %s of %s refused (%s: %s); the next run looks again",
		    rds_op_name(s->kind, RDS_OP_COPY), s->arn, e.code ? e.code : "?",
		    e.message ? e.message : "");
		aws_error_clear(&e);
		return;
	}
	c->stop = c->failed = 1;
	session_fail_aws(c->f, c->r, &e, rds_op_name(s->kind, RDS_OP_COPY), id,
	    "allow the keeper's role rds:CopyDBSnapshot and rds:CopyDBClusterSnapshot from "
	    "the Regions of BACKUP_REGIONS into its own, and the use of the source Regions' "
	    "backup keys and of BACKUP_KMS_KEY_ID through RDS (templates/backup-account.yaml)");
}

static int
there_cb(const struct rds_snapshot *s, void *arg)
{
	struct chain *c = arg;
	const struct config *cfg = c->f->cfg;
	struct keeper_copy kc;
	char *lineage = NULL, *id = NULL, *k;
	int at, taken, foreign;

	if (session_time_left_ms(c->f) < KEEPER_ITEM_MS) {
		/* The rest of this listing waits for the next run. */
		c->stop = 1;
		c->waiting++;
		return (1);
	}
	keeper_copy_classify(cfg->name_prefix, s, &kc);
	/* A backup copy made in its source's Region, as AWS records it: a chained copy, or a
	 * copy of another Region's source, is never chained on. */
	if (!kc.ours || kc.chained || !kc.attributed || kc.mismatch[0] != '\0' ||
	    !kc.available || strcmp(kc.region, c->from) != 0 || s->arn == NULL)
		return (0);
	c->candidates++;
	/* Retention deleted what is older here: it must not come back. */
	if (c->cutoff != 0 && kc.when < c->cutoff) {
		c->old++;
		return (0);
	}
	if ((lineage = names_lineage_arn(s->tags, s->n_tags)) == NULL)
		goto nomem;
	if (set_has(&c->lineage, lineage)) {
		c->present++;
		goto out;
	}
	if (c->stop) {
		c->waiting++;
		goto out;
	}
	/* The same id as there (Regions are separate namespaces), unless a failed copy
	 * holds it here: then the next attempt's. */
	for (at = 1; at <= RETRY_ATTEMPTS; at++) {
		if ((id = retry_id(s->id, s->kind, at)) == NULL ||
		    (k = kind_id(s->kind, id)) == NULL)
			goto nomem;
		taken = set_has(&c->ids, k);
		foreign = set_has(&c->others, k);
		free(k);
		if (foreign) {
			/* Not ours: never touched, never worked around (a human decides). */
			c->foreign++;
			add_item(c, id, "the name is taken here by a snapshot without snapferry's "
			    "lineage: never touched, not copied");
			result_warn(c->r, "chain: %s exists in %s without snapferry's lineage: "
			    "not touched, %s not copied", id, cfg->region, s->id);
			goto out;
		}
		if (!taken)
			break;
		free(id);
		id = NULL;
	}
	if (id == NULL) {
		c->exhausted++;
		add_item(c, s->id, "every attempt id is held by a failed copy here: delete them "
		    "(or let the sweep do it once AWS allows)");
		goto out;
	}
	copy(c, s, id, lineage);
out:
	free(lineage);
	free(id);
	return (c->failed || c->enomem);
nomem:
	free(lineage);
	free(id);
	c->enomem = 1;
	return (1);
}

/* region(c, q): step 2 for Region ${q}. */
static void
region(struct chain *c, const char *q)
{
	struct rds_list_opts lo;
	struct aws_client qc;
	struct aws_error e;
	int k;

	if (aws_client_init(&qc, c->f->http, "rds", q, &c->f->creds) != 0) {
		c->enomem = 1;
		return;
	}
	qc.deadline_ms = c->f->deadline_ms;
	c->from = q;
	memset(&lo, 0, sizeof(lo));
	lo.snapshot_type = "manual";
	for (k = RDS_INSTANCE; k <= RDS_CLUSTER && !c->failed && !c->enomem; k++) {
		memset(&e, 0, sizeof(e));
		if (rds_list_snapshots(&qc, (enum rds_kind)k, &lo, there_cb, c, &e) == 0)
			continue;
		if (e.retryable || aws_error_is(&e, "NetworkError") ||
		    aws_error_is(&e, "Timeout")) {
			/* That Region may be the one lost: the others go on. */
			c->waiting++;
			result_warn(c->r, "chain: %s in %s failed (%s: %s); its copies are "
			    "chained when it answers again", rds_op_name((enum rds_kind)k,
			    RDS_OP_DESCRIBE), q, e.code ? e.code : "?", e.message ?
			    e.message : "");
			aws_error_clear(&e);
			break;
		}
		c->failed = 1;
		session_fail_aws(c->f, c->r, &e, rds_op_name((enum rds_kind)k, RDS_OP_DESCRIBE),
		    q, "allow rds:DescribeDBSnapshots and rds:DescribeDBClusterSnapshots in the "
		    "Regions of BACKUP_REGIONS to the keeper's role");
	}
	aws_client_clean(&qc);
}

/* key_account_ok(c): BACKUP_KMS_KEY_ID, when an ARN, is a key of this account (learnt
 *  from the keeper's credentials, which config could not know). */
static int
key_account_ok(struct chain *c)
{
	const char *key = c->f->cfg->backup_kms_key_id, *own, *p;
	size_t len;
	int i;

	if (key == NULL || strncmp(key, "arn:", 4) != 0)
		return (1);
	/* arn:<partition>:kms:<region>:<account>:key/<id> (config checked the shape). */
	for (p = key, i = 0; i < 4 && p != NULL; i++)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p == NULL || (len = strcspn(p, ":")) != 12)
		return (1);
	if ((own = session_own_account(c->f, c->r)) == NULL)
		return (0);
	if (strncmp(p, own, 12) == 0 && own[12] == '\0')
		return (1);
	result_fail(c->r, "Snapferry.Config", "BACKUP_KMS_KEY_ID is a key of account %.12s in "
	    "%s, but this keeper runs in account %s: give a key of account %s in %s", p,
	    c->f->cfg->region, own, own, c->f->cfg->region);
	return (0);
}

static void
report(struct chain *c, int alone, unsigned others)
{
	struct result *r = c->r;
	cJSON *x;

	if (r->extra == NULL)
		r->extra = cJSON_CreateObject();
	if (r->extra != NULL && (x = cJSON_AddObjectToObject(r->extra, "chain")) != NULL) {
		cJSON_AddNumberToObject(x, "regions", others);
		cJSON_AddNumberToObject(x, "sources", c->candidates);
		cJSON_AddNumberToObject(x, "present", c->present);
		cJSON_AddNumberToObject(x, "started", c->started);
		cJSON_AddNumberToObject(x, "alreadyMade", c->already);
		cJSON_AddNumberToObject(x, "outsideRetention", c->old);
		cJSON_AddNumberToObject(x, "waiting", c->waiting);
		cJSON_AddNumberToObject(x, "inFlight", c->inflight);
		cJSON_AddNumberToObject(x, "namesTaken", c->foreign);
		if (c->f->cfg->dry_run)
			cJSON_AddNumberToObject(x, "wouldCopy", c->would);
		cJSON_AddItemToObject(x, "notCopied", c->items);
		c->items = NULL;
	}
	log_metric("ChainCopiesStarted", c->started, "Count", NULL, NULL);
	log_metric("ChainCopiesWaiting", c->waiting, "Count", NULL, NULL);
	log_metric("ChainNamesTaken", c->foreign, "Count", NULL, NULL);
	if (r->outcome == RESULT_FAILED)
		return;
	if (c->enomem) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		return;
	}
	if (c->quota > 0)
		return;			/* session_fail_aws made it pending */
	if (c->waiting > 0) {
		result_finish(r, RESULT_PENDING, "chain: %u cop%s wait%s (%u in flight here, at "
		    "most %d; a quota, the deadline or a Region not answering); the next run "
		    "continues", c->waiting, c->waiting == 1 ? "y" : "ies", c->waiting == 1 ?
		    "s" : "", c->inflight, KEEPER_CHAIN_MAX_INFLIGHT);
		return;
	}
	if (alone)
		result_finish(r, RESULT_DONE, "chain: %s%u cop%s started from %u other Region(s); "
		    "%u already here", c->f->cfg->dry_run ? "dry run: " : "", c->f->cfg->dry_run ?
		    c->would : c->started, (c->f->cfg->dry_run ? c->would : c->started) == 1 ?
		    "y" : "ies", others, c->present + c->already);
}

void
keeper_chain(struct session *f, time_t now, int alone, struct result *r)
{
	const struct config *cfg = f->cfg;
	struct rds_list_opts lo;
	struct aws_error e;
	struct chain c;
	long days = cfg->retention_days;
	unsigned others = 0;
	size_t i;
	int k;

	for (i = 0; i < cfg->n_backup_regions; i++)
		others += strcmp(cfg->backup_regions[i], cfg->region) != 0;
	if (others == 0) {
		if (alone)
			result_finish(r, RESULT_IGNORED, "no chain: BACKUP_REGIONS lists no Region "
			    "but this keeper's own (%s)", cfg->region);
		return;
	}
	/* Not required at start-up: the disaster-day restore (bootstrap --event) reads
	 * BACKUP_REGIONS too, and needs no key. */
	if (cfg->backup_kms_key_id == NULL) {
		result_fail(r, "Snapferry.Config", "BACKUP_KMS_KEY_ID is required to chain the "
		    "copies of the other Regions of BACKUP_REGIONS into %s: the key of this "
		    "account in %s that encrypts them", cfg->region, cfg->region);
		return;
	}
	/* After a sweep that used the invocation up: the chain schedule comes soon. */
	if (session_time_left_ms(f) < KEEPER_ITEM_MS) {
		result_warn(r, "chain: not run, too close to the deadline; the next run does it");
		if (alone || r->outcome != RESULT_FAILED)
			result_finish(r, RESULT_PENDING, "chain: not run before the deadline");
		return;
	}
	memset(&c, 0, sizeof(c));
	c.f = f;
	c.r = r;
	c.items = cJSON_CreateArray();
	r->dry_run = cfg->dry_run;
	/* The sweep's window: the floor wins over a shorter RETENTION_DAYS. */
	if (days > 0 && days < cfg->keeper_min_retention_days)
		days = cfg->keeper_min_retention_days;
	c.cutoff = days > 0 ? now - (time_t)days * 86400 : 0;
	if (!key_account_ok(&c) || (c.bc = session_backup(f, r)) == NULL)
		goto out;

	memset(&lo, 0, sizeof(lo));
	lo.snapshot_type = "manual";
	for (k = RDS_INSTANCE; k <= RDS_CLUSTER && !c.enomem; k++) {
		memset(&e, 0, sizeof(e));
		if (rds_list_snapshots(c.bc, (enum rds_kind)k, &lo, here_cb, &c, &e) != 0) {
			session_fail_aws(f, r, &e, rds_op_name((enum rds_kind)k, RDS_OP_DESCRIBE),
			    "this Region's copies", "allow rds:DescribeDBSnapshots and "
			    "rds:DescribeDBClusterSnapshots to the keeper's role");
			goto out;
		}
	}
	for (i = 0; i < cfg->n_backup_regions && !c.failed && !c.enomem; i++)
		if (strcmp(cfg->backup_regions[i], cfg->region) != 0)
			region(&c, cfg->backup_regions[i]);
	if (c.inflight >= KEEPER_CHAIN_MAX_INFLIGHT && c.waiting > 0)
		session_count_metric(f, &f->counts.quota, "QuotaExceeded");
out:
	report(&c, alone, others);
	cJSON_Delete(c.items);
	set_free(&c.lineage);
	set_free(&c.ids);
	set_free(&c.others);
}

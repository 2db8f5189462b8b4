/*
 * restore_db: the disaster-day restore action {"action":"restore","db":...}: which
 * backup copy to restore — of which production account, from which source Region,
 * in which Region of the backup account — and with which RDS client.  The restore
 * itself (never over an existing DB, an Aurora cluster's writer) is restore.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arn.h"
#include "buf.h"
#include "config.h"
#include "names.h"
#include "restore.h"
#include "result.h"
#include "session.h"

/*
 * A backup account may hold the copies of several production accounts (and source
 * Regions), with the same prefix and tags, and DB ids are only unique within an account
 * and Region: the restore picks among the copies of one production account and one
 * source Region, in one Region of the backup account.  A Region's copies may come from
 * another source Region (the keeper's chain, or the ferry's single step: issue 10).
 */
struct candidate {
	char		*account;	/* the production account of the copies */
	char		*src_region;	/* the Region of their source, from the lineage */
	char		*id;		/* its newest available copy of the DB */
	char		*engine;
	char		*version;	/* its EngineVersion: a cluster is restored at it */
	char		*when;		/* ISO-8601: compares as text */
	char		*s_arn;		/* its source, from the lineage */
	enum rds_kind	 kind;
	unsigned	 copies;
};

struct newest {
	const char		*db;
	const char		*region;	/* the Region listed: the copies' and the restore's */
	struct candidate	*c;		/* one per (production account, source Region) */
	size_t			 n, cap;
	int			 enomem;
};

/* One Region of the backup account that the restore looks in. */
struct place {
	struct newest		 nw;
	struct aws_client	 own;		/* a client of another Region (the CLI path) */
	struct aws_client	*c;		/* the client listing and restoring there */
	int			 have_own;
	int			 listed;	/* 1: the listing went through */
};

static void
newest_clean(struct newest *nw)
{
	size_t i;

	for (i = 0; i < nw->n; i++) {
		free(nw->c[i].account);
		free(nw->c[i].src_region);
		free(nw->c[i].id);
		free(nw->c[i].engine);
		free(nw->c[i].version);
		free(nw->c[i].when);
		free(nw->c[i].s_arn);
	}
	free(nw->c);
	nw->c = NULL;
	nw->n = nw->cap = 0;
}

/* candidate_add(nw, account, src_region): its candidate, new when needed; NULL on ENOMEM. */
static struct candidate *
candidate_add(struct newest *nw, const char *account, const char *src_region)
{
	struct candidate *c;
	size_t i;

	for (i = 0; i < nw->n; i++)
		if (strcmp(nw->c[i].account, account) == 0 &&
		    strcmp(nw->c[i].src_region, src_region) == 0)
			return (&nw->c[i]);
	if (nw->n == nw->cap) {
		if ((c = buf_grow(nw->c, &nw->cap, sizeof(*c), 4)) == NULL)
			return (NULL);
		nw->c = c;
	}
	c = &nw->c[nw->n];
	memset(c, 0, sizeof(*c));
	c->account = strdup(account);
	c->src_region = strdup(src_region);
	nw->n++;	/* counted even half made: newest_clean frees what there is */
	if (c->account == NULL || c->src_region == NULL)
		return (NULL);
	return (c);
}

static int
newest_cb(const struct rds_snapshot *s, void *arg)
{
	struct newest *nw = arg;
	struct candidate *c;
	struct arn_snapshot a;
	const char *db, *when;
	char *arn = NULL;
	int rc = 0;

	if (s->arn == NULL || !names_is_snapferry(s->tags, s->n_tags, NAMES_ROLE_BACKUP) ||
	    !rds_is_available(s))
		return (0);
	if ((db = rds_tag_get(s->tags, s->n_tags, NAMES_TAG_SOURCE_DB)) == NULL ||
	    strcmp(db, nw->db) != 0)
		return (0);
	/* Whose copy it is: its lineage's source ARN (none: it can't be attributed). */
	if ((arn = names_lineage_arn(s->tags, s->n_tags)) == NULL)
		return (0);
	if (arn_rds_snapshot(arn, &a) != 0) {
		free(arn);
		return (0);
	}
	if ((c = candidate_add(nw, a.account, a.region)) == NULL)
		goto nomem;
	c->copies++;
	if ((when = rds_tag_get(s->tags, s->n_tags, NAMES_TAG_SOURCE_TIME)) == NULL)
		when = s->create_time ? s->create_time : "";
	if (c->id != NULL && strcmp(when, c->when) <= 0)
		goto done;
	free(c->id);
	free(c->engine);
	free(c->version);
	free(c->when);
	free(c->s_arn);
	c->id = strdup(s->id);
	c->engine = s->engine ? strdup(s->engine) : NULL;
	c->version = s->engine_version ? strdup(s->engine_version) : NULL;
	c->when = strdup(when);
	c->s_arn = arn;
	arn = NULL;
	c->kind = s->kind;
	if (c->id == NULL || c->when == NULL || c->s_arn == NULL ||
	    (s->engine != NULL && c->engine == NULL) ||
	    (s->engine_version != NULL && c->version == NULL))
		goto nomem;
done:
	free(arn);
	arn_snapshot_clean(&a);
	return (rc);
nomem:
	nw->enomem = 1;
	rc = 1;
	goto done;
}

static int
cmp_candidate(const void *x, const void *y)
{
	const struct candidate *a = x, *b = y;
	int d = strcmp(a->account, b->account);

	return (d != 0 ? d : strcmp(a->src_region, b->src_region));
}

/* listing(nw, b): "<account> (<n> copies, newest <copy>), ..." of every candidate (sorted),
 * "<account> from <source Region> (...)" for the copies of a source in another Region. */
static void
listing(const struct newest *nw, struct buf *b)
{
	char n[40];
	size_t i;

	for (i = 0; i < nw->n; i++) {
		const struct candidate *c = &nw->c[i];
		int remote = strcmp(c->src_region, nw->region) != 0;

		if ((i > 0 && buf_append_str(b, ", ") != 0) ||
		    buf_append_str(b, c->account) != 0 ||
		    (remote && (buf_append_str(b, " from ") != 0 ||
		    buf_append_str(b, c->src_region) != 0)) ||
		    snprintf(n, sizeof(n), " (%u cop%s, newest ", c->copies,
		    c->copies == 1 ? "y" : "ies") < 0 || buf_append_str(b, n) != 0 ||
		    buf_append_str(b, c->id) != 0 || buf_append_str(b, ")") != 0)
			break;
	}
}

/* n_accounts(nw): how many production accounts have copies (candidates sorted). */
static size_t
n_accounts(const struct newest *nw)
{
	size_t i, n = 0;

	for (i = 0; i < nw->n; i++)
		if (i == 0 || strcmp(nw->c[i].account, nw->c[i - 1].account) != 0)
			n++;
	return (n);
}

/*
 * of_account(nw, account, several): the candidate of ${account}: the copies of its source
 * in nw->region when there are any (a DB of that Region), else those of its one other
 * source Region.  NULL when it has none, or (*${several} = 1) when they come from several
 * other Regions: same-named DBs of different Regions, and snapferry never guesses.
 */
static struct candidate *
of_account(struct newest *nw, const char *account, int *several)
{
	struct candidate *one = NULL;
	size_t i, n = 0;

	*several = 0;
	for (i = 0; account != NULL && i < nw->n; i++) {
		if (strcmp(nw->c[i].account, account) != 0)
			continue;
		if (strcmp(nw->c[i].src_region, nw->region) == 0)
			return (&nw->c[i]);
		one = &nw->c[i];
		n++;
	}
	if (n > 1) {
		*several = 1;
		return (NULL);
	}
	return (one);
}

/*
 * pick(f, nw, db_id, account, r): the candidate to restore: that of ${account} when one
 * is asked for; else this function's own when it has copies; else the only account with
 * copies.  NULL with ${r} failed (no copy, or copies of several accounts, none of them
 * ours, or of several source Regions: snapferry never guesses which DB is meant).
 */
static struct candidate *
pick(struct session *f, struct newest *nw, const char *db_id, const char *account,
    struct result *r)
{
	const struct config *cfg = f->cfg;
	struct candidate *c = NULL;
	const char *own, *tried = account;
	size_t na = n_accounts(nw);
	int several = 0;
	struct buf b;

	if (account != NULL)
		c = of_account(nw, account, &several);
	else if (na == 1)	/* the own account's or not: the one there is */
		c = of_account(nw, tried = nw->c[0].account, &several);
	else if (na > 1 && (own = session_known_account(f)) != NULL) {
		if ((c = of_account(nw, tried = own, &several)) != NULL)
			result_step(r, "copies of DB %s come from %zu production accounts: "
			    "restoring those of this function's own account %s", db_id, na, own);
		else if (!several)
			tried = NULL;
	}
	if (c != NULL)
		return (c);
	buf_init(&b, 4096);
	listing(nw, &b);
	if (several)
		result_fail(r, "Snapferry.Ambiguous", "the backup copies of DB %s of production "
		    "account %s in %s come from several source Regions, none of them %s: %s; "
		    "they are different DBs and snapferry never guesses which one is meant: "
		    "restore the copy you mean by hand", db_id, tried, nw->region, nw->region,
		    b.data ? b.data : "(out of memory)");
	else if (account != NULL || nw->n == 0)
		result_fail(r, "Snapferry.NoBackup", "no available backup copy of DB %s "
		    "(tag %s)%s%s in %s of backup account %s%s%s", db_id,
		    NAMES_TAG_SOURCE_DB, account ? " from production account " : "",
		    account ? account : "", nw->region, cfg->backup_account_id ?
		    cfg->backup_account_id : "(the keeper's own)",
		    nw->n ? "; there are copies from " : "", nw->n && b.data ? b.data : "");
	else
		result_fail(r, "Snapferry.Ambiguous", "the backup account holds copies of DB %s "
		    "in %s from %zu production accounts: %s; add \"account\":\"<12-digit "
		    "production account id>\" to the restore payload to choose", db_id,
		    nw->region, na, b.data ? b.data : "(out of memory)");
	buf_clean(&b);
	return (NULL);
}

/* n_copies(nw, account): the available copies in ${nw} (of ${account}'s, when named). */
static unsigned
n_copies(const struct newest *nw, const char *account)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < nw->n; i++)
		if (account == NULL || strcmp(nw->c[i].account, account) == 0)
			n += nw->c[i].copies;
	return (n);
}

/*
 * look(f, p, region, r): list the copies of p->nw.db in ${region} of the backup account
 * into ${p}: with the session's client in the function's own Region, else (the CLI path)
 * with a client of that Region and the same credentials.  0, or -1 with the AWS error in
 * ${e} (the listing failed) or ${r} failed (out of memory).
 */
static int
look(struct session *f, struct place *p, const char *region, struct aws_error *e,
    struct result *r)
{
	struct rds_list_opts lo;
	int k;

	p->nw.region = region;
	if (strcmp(region, f->cfg->region) == 0) {
		if ((p->c = session_backup(f, r)) == NULL)
			return (-1);
	} else {
		if (aws_client_init(&p->own, f->http, "rds", region, &f->creds) != 0) {
			result_fail(r, "Snapferry.Internal", "out of memory");
			return (-1);
		}
		p->have_own = 1;
		p->own.deadline_ms = f->deadline_ms;
		p->c = &p->own;
	}
	memset(&lo, 0, sizeof(lo));
	lo.snapshot_type = "manual";
	for (k = RDS_INSTANCE; k <= RDS_CLUSTER && !p->nw.enomem; k++)
		if (rds_list_snapshots(p->c, (enum rds_kind)k, &lo, newest_cb, &p->nw, e) != 0)
			return (-1);
	if (p->nw.enomem) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		return (-1);
	}
	if (p->nw.n > 1)	/* (never qsort a NULL array: UBSan) */
		qsort(p->nw.c, p->nw.n, sizeof(*p->nw.c), cmp_candidate);
	p->listed = 1;
	return (0);
}

/*
 * where(f, places, regions, n, account, db_id, r): the one Region of ${regions} whose
 * listing holds copies (of ${account}'s when named); NULL with ${r} failed when none
 * does, or several do (Snapferry.Ambiguous naming them: add "region").
 */
static struct place *
where(struct place *places, const char *const *regions, size_t n, const char *account,
    const char *db_id, struct result *r)
{
	struct place *one = NULL;
	size_t i, found = 0;
	unsigned copies;
	char num[48];
	struct buf b;

	buf_init(&b, 4096);
	for (i = 0; i < n; i++) {
		if (!places[i].listed || (copies = n_copies(&places[i].nw, account)) == 0)
			continue;
		one = &places[i];
		snprintf(num, sizeof(num), " (%u cop%s)", copies, copies == 1 ? "y" : "ies");
		if ((found++ > 0 && buf_append_str(&b, ", ") != 0) ||
		    buf_append_str(&b, regions[i]) != 0 || buf_append_str(&b, num) != 0)
			break;
	}
	if (found == 1) {
		buf_clean(&b);
		return (one);
	}
	if (found > 1)
		result_fail(r, "Snapferry.Ambiguous", "the backup account holds copies of DB "
		    "%s%s%s in %zu Regions: %s; add \"region\":\"<Region>\" to the restore "
		    "payload to choose where to restore", db_id, account ? " of production "
		    "account " : "", account ? account : "", found,
		    b.data ? b.data : "(out of memory)");
	else {
		buf_clean(&b);
		for (i = 0; i < n; i++)
			if ((i > 0 && buf_append_str(&b, ", ") != 0) ||
			    buf_append_str(&b, regions[i]) != 0)
				break;
		result_fail(r, "Snapferry.NoBackup", "no available backup copy of DB %s "
		    "(tag %s)%s%s in the Regions looked in: %s (BACKUP_REGIONS; \"region\" "
		    "names another)", db_id, NAMES_TAG_SOURCE_DB, account ?
		    " from production account " : "", account ? account : "",
		    b.data ? b.data : "(out of memory)");
	}
	buf_clean(&b);
	return (NULL);
}

/*
 * regions_of(f, region, n): the Regions the restore looks in: ${region} when named; else,
 * on the CLI path, BACKUP_REGIONS when the keeper has them; else its own Region.
 */
static const char *const *
regions_of(struct session *f, const char **region, size_t *n)
{
	const struct config *cfg = f->cfg;

	if (*region != NULL) {
		*n = 1;
		return (region);
	}
	if (f->local && cfg->n_backup_regions > 0) {
		*n = cfg->n_backup_regions;
		return ((const char *const *)cfg->backup_regions);
	}
	*n = 1;
	return ((const char *const *)&cfg->region);
}

void
restore_db(struct session *f, const char *db_id, const char *account, const char *region,
    const char *target, struct result *r)
{
	const struct config *cfg = f->cfg;
	const char *const *regions;
	struct place *places = NULL, *p;
	struct candidate *c;
	struct aws_error e;
	size_t i, n, listed = 0;
	char *tgt = NULL, what[64];

	memset(&e, 0, sizeof(e));
	r->dry_run = cfg->dry_run;
	xstrdup_replace(&r->source_db, db_id);
	if (cfg->mode != CONFIG_MODE_KEEPER) {
		result_fail(r, "Event.Invalid", "restores run on the keeper "
		    "(SNAPFERRY_MODE=keeper) in the backup account, not on the ferry");
		return;
	}
	/*
	 * Under Lambda, a keeper restores in its own Region only: its role, its key and its
	 * RESTORE_SUBNET_GROUP / RESTORE_SECURITY_GROUP_IDS are that Region's, and with a
	 * Region lost, the keeper of a Region that stands is the one to invoke.  The CLI
	 * path (bootstrap --event) runs with the operator's credentials and settings.
	 */
	if (region != NULL && strcmp(region, cfg->region) != 0 && !f->local) {
		result_fail(r, "Event.Invalid", "\"region\" is %s, but this keeper restores in "
		    "its own Region %s only: invoke the keeper of %s, or run bootstrap --event "
		    "with SNAPFERRY_MODE=keeper and the backup account's credentials", region,
		    cfg->region, region);
		return;
	}
	regions = regions_of(f, &region, &n);
	if ((places = calloc(n, sizeof(*places))) == NULL) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		places[i].nw.db = db_id;
		if (look(f, &places[i], regions[i], &e, r) == 0) {
			listed++;
			continue;
		}
		if (r->outcome == RESULT_FAILED)	/* out of memory */
			goto done;
		if (n == 1 || (i == n - 1 && listed == 0)) {
			snprintf(what, sizeof(what), "the backup account in %s", regions[i]);
			session_fail_rds(f, r, &e, RDS_INSTANCE, RDS_OP_DESCRIBE, what,
			    "the keeper's role (or the credentials of bootstrap --event)");
			goto done;
		}
		/* On disaster day a Region may be the one lost: look in the others. */
		result_warn(r, "the backup copies in %s could not be listed (%s: %s): that "
		    "Region is not considered", regions[i], e.code ? e.code : "error",
		    e.message ? e.message : "");
		aws_error_clear(&e);
	}
	if (n == 1)
		p = &places[0];
	else if ((p = where(places, regions, n, account, db_id, r)) == NULL)
		goto done;
	else
		result_step(r, "copies of DB %s found in %s only, of the Regions %zu looked in",
		    db_id, p->nw.region, n);
	if ((c = pick(f, &p->nw, db_id, account, r)) == NULL)
		goto done;
	xstrdup_replace(&r->backup, c->id);
	xstrdup_replace(&r->source, c->s_arn);
	result_step(r, "newest backup copy of %s from account %s (source Region %s) in %s: "
	    "%s (%s)", db_id, c->account, c->src_region, p->nw.region, c->id, c->when);
	if (target != NULL)
		tgt = strdup(target);
	else
		tgt = names_restore_id(cfg->name_prefix, db_id);
	if (tgt == NULL) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		goto done;
	}
	switch (restore_copy(f, p->c, c->kind, c->id, c->engine, c->version, tgt, c->s_arn,
	    db_id, r)) {
	case 1:
		xstrdup_replace(&r->restored, tgt);
		result_finish(r, RESULT_DONE, "%s%s restored in %s from %s",
		    cfg->dry_run ? "dry run: " : "", tgt, p->nw.region, c->id);
		break;
	case 0:
		result_fail(r, "Snapferry.TargetExists", "DB %s already exists in %s of the "
		    "backup account; snapferry never restores over an existing DB: pass "
		    "\"target\":\"<new id>\" or remove it", tgt, p->nw.region);
		break;
	default:
		break;
	}
done:
	aws_error_clear(&e);
	free(tgt);
	for (i = 0; i < n; i++) {
		newest_clean(&places[i].nw);
		if (places[i].have_own)
			aws_client_clean(&places[i].own);
	}
	free(places);
}

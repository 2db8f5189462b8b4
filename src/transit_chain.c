/*
 * transit_chain: see transit_chain.h.  Owns when a transit copy is kept and when it is
 * superseded; the deletes go through ferry_delete_ours (lineage checked once more).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arn.h"
#include "aws.h"
#include "buf.h"
#include "config.h"
#include "ferry.h"
#include "ferry_flow.h"
#include "names.h"
#include "transit_chain.h"

/* A superseded transit copy to delete. */
struct cand {
	enum rds_kind	 kind;
	char		*id;
	char		*db;
};

/* Per DB (kind + source-db tag): its newest done transit copy. */
struct chain {
	enum rds_kind	 kind;
	char		*db;
	char		*id;
	time_t		 t;
};

struct transit_chain_set {
	struct chain	*c;
	size_t		 n, cap;
	struct cand	 del[TRANSIT_CHAIN_MAX_DELETES];
	size_t		 ndel;
	unsigned	 left_off;	/* superseded, beyond TRANSIT_CHAIN_MAX_DELETES */
};

int
transit_chain_is_kept(const struct rds_snapshot *t)
{
	return (rds_tag_get(t->tags, t->n_tags, TRANSIT_CHAIN_TAG_KEPT) != NULL);
}

/* data_time(t): the age of T's data: its source's time (lineage), else its own. */
static time_t
data_time(const struct rds_snapshot *t)
{
	const char *v = rds_tag_get(t->tags, t->n_tags, NAMES_TAG_SOURCE_TIME);
	time_t x;

	if (v != NULL && aws_parse_time(v, &x) == 0)
		return (x);
	return (t->created);
}

/* later(ta, ida, tb, idb): 1 when (${ta}, ${ida}) comes after (${tb}, ${idb}). */
static int
later(time_t ta, const char *ida, time_t tb, const char *idb)
{
	if (ta != tb)
		return (ta > tb);
	return (strcmp(ida, idb) > 0);
}

int
transit_chain_newer(const struct rds_snapshot *a, const struct rds_snapshot *b)
{
	return (later(data_time(a), a->id ? a->id : "", data_time(b), b->id ? b->id : ""));
}

/*
 * delete_superseded(f, kind, id, db, r): read transit copy ${id} again and delete it when
 * it is still one of snapferry's transit copies of DB ${db}, available.  1 deleted, 0 left
 * (it changed, or is not ours), -1 ${r} holds a failure.
 */
static int
delete_superseded(struct session *f, enum rds_kind kind, const char *id, const char *db,
    struct result *r)
{
	struct rds_snapshot s;
	struct aws_error e;
	const char *sdb;
	char *src = NULL;
	int rc;

	memset(&s, 0, sizeof(s));
	memset(&e, 0, sizeof(e));
	if ((rc = rds_describe_tagged(&f->rds, kind, id, &s, &e)) == -1) {
		if (aws_error_has(&e, "NotFound")) {
			aws_error_clear(&e);
			return (0);
		}
		session_fail_rds(f, r, &e, kind, RDS_OP_DESCRIBE, id, SESSION_OWN_ROLE);
		return (-1);
	}
	if (rc == 0)
		return (0);
	rc = 0;
	if (!rds_is_available(&s) || !names_is_snapferry(s.tags, s.n_tags, NAMES_ROLE_TRANSIT) ||
	    (sdb = rds_tag_get(s.tags, s.n_tags, NAMES_TAG_SOURCE_DB)) == NULL ||
	    strcmp(sdb, db) != 0 || (src = names_lineage_arn(s.tags, s.n_tags)) == NULL)
		goto done;
	if (ferry_delete_ours(f, &f->rds, kind, &s, src, r,
	    "superseded transit copy") != 0)
		rc = -1;
	else
		rc = 1;
done:
	free(src);
	rds_snapshot_clean(&s);
	return (rc);
}


int
transit_chain_finish(struct session *f, struct flow *fl, struct result *r)
{
	const struct config *cfg = f->cfg;
	struct rds_tag kept = { TRANSIT_CHAIN_TAG_KEPT, "true" };
	struct aws_error e;
	int rc;

	memset(&e, 0, sizeof(e));
	if (!fl->have_t) {
		if ((rc = rds_describe_tagged(&f->rds, fl->kind, fl->copy_id, &fl->t,
		    &e)) == -1) {
			session_fail_rds(f, r, &e, fl->kind, RDS_OP_DESCRIBE, fl->copy_id,
			    SESSION_OWN_ROLE);
			return (-1);
		}
		fl->have_t = (rc == 1);
	}
	if (!fl->have_t || !cfg->transit_cleanup)
		return (0);
	if (!names_has_lineage(fl->t.tags, fl->t.n_tags, fl->s_arn, NAMES_ROLE_TRANSIT)) {
		result_warn(r, "transit copy %s does not carry snapferry's lineage for %s: "
		    "left alone", fl->copy_id, fl->s_arn);
		return (0);
	}
	/* Done before (a duplicate event): nothing more; what a stopped invocation left
	 * is the sweep's. */
	if (transit_chain_is_kept(&fl->t))
		return (0);
	if (ferry_unshare(f, fl->kind, fl->t.id, r) != 0)
		return (-1);
	if (cfg->dry_run) {
		result_step(r, "would:AddTagsToResource %s %s=true (kept for the next "
		    "incremental copy)", fl->t.id, TRANSIT_CHAIN_TAG_KEPT);
		return (1);
	}
	if (fl->t.arn == NULL || rds_add_tags(&f->rds, fl->t.arn, &kept, 1, &e) != 0) {
		if (fl->t.arn == NULL) {
			result_warn(r, "transit copy %s: its ARN is unknown; kept untagged",
			    fl->t.id);
			return (1);
		}
		session_fail_aws(f, r, &e, "AddTagsToResource", fl->t.id, "allow "
		    "rds:AddTagsToResource on snapferry's transit copies to the function's role "
		    "(it marks the kept one)");
		return (-1);
	}
	/* The older kept copies of its DB are pruned by the next in-flight check (5 minutes)
	 * or sweep, from the listing they make anyway: no listing of the DB here. */
	result_step(r, "transit copy %s kept (un-shared) as the base of the next incremental "
	    "copy", fl->t.id);
	return (1);
}

/* ---- the sweep's set ------------------------------------------------------------------ */

struct transit_chain_set *
transit_chain_set_new(void)
{
	return (calloc(1, sizeof(struct transit_chain_set)));
}

/* add_cand(cs, kind, id, db): one more superseded transit copy, while there is room. */
static int
add_cand(struct transit_chain_set *cs, enum rds_kind kind, const char *id, const char *db)
{
	struct cand *c;

	if (cs->ndel == TRANSIT_CHAIN_MAX_DELETES) {
		cs->left_off++;
		return (0);
	}
	c = &cs->del[cs->ndel];
	if ((c->id = strdup(id)) == NULL)
		return (-1);
	if ((c->db = strdup(db)) == NULL) {
		free(c->id);
		return (-1);
	}
	c->kind = kind;
	cs->ndel++;
	return (0);
}

int
transit_chain_note(struct transit_chain_set *cs, const struct rds_snapshot *t, int done)
{
	struct chain *c, *n;
	const char *db;
	char *id;
	time_t tt;
	size_t i;

	/* Only a done copy supersedes or is superseded: an older T whose B is still being
	 * copied is its source, and stays. */
	if (!done || t->id == NULL || !rds_is_available(t) ||
	    (db = rds_tag_get(t->tags, t->n_tags, NAMES_TAG_SOURCE_DB)) == NULL)
		return (0);
	tt = data_time(t);
	for (i = 0; i < cs->n; i++)
		if (cs->c[i].kind == t->kind && strcmp(cs->c[i].db, db) == 0)
			break;
	if (i == cs->n) {
		if (cs->n == cs->cap) {
			if ((n = buf_grow(cs->c, &cs->cap, sizeof(*n), 16)) == NULL)
				return (-1);
			cs->c = n;
		}
		c = &cs->c[cs->n];
		memset(c, 0, sizeof(*c));
		if ((c->db = strdup(db)) == NULL || (c->id = strdup(t->id)) == NULL) {
			free(c->db);
			return (-1);
		}
		c->kind = t->kind;
		c->t = tt;
		cs->n++;
		return (0);
	}
	c = &cs->c[i];
	/* The older of the two is superseded by the newer, whose B is available. */
	if (!later(tt, t->id, c->t, c->id))
		return (add_cand(cs, t->kind, t->id, db));
	if (add_cand(cs, c->kind, c->id, db) != 0 || (id = strdup(t->id)) == NULL)
		return (-1);
	free(c->id);
	c->id = id;
	c->t = tt;
	return (0);
}

const char *
transit_chain_superseded(const struct transit_chain_set *cs, size_t i)
{
	return (i < cs->ndel ? cs->del[i].id : NULL);
}

int
transit_chain_prune(struct session *f, struct transit_chain_set *cs, struct result *r)
{
	size_t i;
	int n = 0, rc;

	for (i = 0; i < cs->ndel; i++) {
		if (session_time_left_ms(f) < 3000)
			break;
		if ((rc = delete_superseded(f, cs->del[i].kind, cs->del[i].id, cs->del[i].db,
		    r)) == -1)
			return (-1);
		n += rc;
	}
	if (cs->left_off > 0 || i < cs->ndel)
		result_step(r, "%u superseded transit cop%s left for the next sweep",
		    cs->left_off + (unsigned)(cs->ndel - i),
		    cs->left_off + cs->ndel - i == 1 ? "y" : "ies");
	return (n);
}

void
transit_chain_set_free(struct transit_chain_set *cs)
{
	size_t i;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->n; i++) {
		free(cs->c[i].db);
		free(cs->c[i].id);
	}
	for (i = 0; i < cs->ndel; i++) {
		free(cs->del[i].id);
		free(cs->del[i].db);
	}
	free(cs->c);
	free(cs);
}

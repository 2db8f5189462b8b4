/*
 * rds_state: what state a snapshot is in — available, never to be, shared with an
 * account — and waiting, within a budget, for it to become available.
 */
#include <stdint.h>
#include <string.h>

#include "aws.h"
#include "millis.h"
#include "rds.h"

int
rds_describe_tagged(struct aws_client *c, enum rds_kind kind, const char *id,
    struct rds_snapshot *out, struct aws_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rds_describe_snapshot(c, kind, id, out, err)) != 1)
		return (rc);
	/* RDS's describe answers carry the TagList (DBSnapshot / DBClusterSnapshot), empty
	 * when there are no tags: only an answer without one costs ListTagsForResource. */
	if (!out->has_tag_list && out->n_tags == 0 && out->arn != NULL) {
		rds_tags_free(out->tags, out->n_tags);
		out->tags = NULL;
		out->n_tags = 0;
		if (rds_list_tags(c, out->arn, &out->tags, &out->n_tags, err) != 0) {
			rds_snapshot_clean(out);
			return (-1);
		}
	}
	return (1);
}

/* What rds_describe_first keeps: the snapshot of the earliest id of ${ids} seen so far. */
struct first_of {
	const char * const	*ids;
	size_t			 n, best;	/* best == n: none yet */
	struct rds_snapshot	*out;
	int			 nomem;
};

static int
first_cb(const struct rds_snapshot *s, void *arg)
{
	struct first_of *fo = arg;
	size_t i;

	for (i = 0; i < fo->best; i++) {
		if (s->id == NULL || strcmp(s->id, fo->ids[i]) != 0)
			continue;
		rds_snapshot_clean(fo->out);
		if (rds_snapshot_copy(fo->out, s) != 0) {
			fo->nomem = 1;
			return (1);
		}
		fo->best = i;
		break;
	}
	return (0);
}

int
rds_describe_first(struct aws_client *c, enum rds_kind kind, const char * const *ids,
    size_t n, struct rds_snapshot *out, size_t *which, struct aws_error *err)
{
	struct first_of fo = { ids, n, n, out, 0 };
	struct rds_list_opts lo;

	memset(out, 0, sizeof(*out));
	memset(&lo, 0, sizeof(lo));
	lo.ids = ids;
	lo.n_ids = n;
	lo.max_records = 20;	/* AWS's least; a filter by ids matches at most ${n} */
	if (rds_list_snapshots(c, kind, &lo, first_cb, &fo, err) != 0 || fo.nomem) {
		if (fo.nomem)
			aws_error_set(err, "ClientError", "out of memory");
		rds_snapshot_clean(out);
		return (-1);
	}
	if (fo.best == n)
		return (0);
	*which = fo.best;
	if (!out->has_tag_list && out->n_tags == 0 && out->arn != NULL &&
	    rds_list_tags(c, out->arn, &out->tags, &out->n_tags, err) != 0) {
		rds_snapshot_clean(out);
		return (-1);
	}
	return (1);
}

int
rds_is_terminal(const char *status)
{
	static const char * const t[] = { "failed", "deleted", "deleting",
	    "incompatible-restore", "incompatible-parameters", "incompatible-network",
	    "unavailable" };

	return (aws_str_in(status, t, sizeof(t) / sizeof(t[0])));
}

int
rds_is_available(const struct rds_snapshot *s)
{
	return (s->status != NULL && strcmp(s->status, "available") == 0);
}

int
rds_shared_with(struct aws_client *c, enum rds_kind kind, const char *id,
    const char *account, struct aws_error *err)
{
	char **acc = NULL;
	size_t n = 0, i;
	int shared = 0;

	if (rds_shared_accounts(c, kind, id, &acc, &n, err) != 0)
		return (-1);
	for (i = 0; i < n; i++)
		if (strcmp(acc[i], account) == 0)
			shared = 1;
	rds_strv_free(acc, n);
	return (shared);
}

enum rds_wait
rds_wait_available(struct aws_client *c, enum rds_kind kind, const char *id,
    struct rds_snapshot *snap, int64_t budget_ms, struct aws_error *err)
{
	int64_t end, left, step = 1000;
	struct rds_snapshot n;
	int rc;

	if (rds_is_available(snap))
		return (RDS_WAIT_AVAILABLE);
	if (budget_ms <= 0)
		return (RDS_WAIT_NOT_YET);
	end = millis_mono() + budget_ms;
	for (;;) {
		if ((left = end - millis_mono()) <= 0)
			return (RDS_WAIT_NOT_YET);
		millis_sleep(step < left ? step : left);
		if (step < 10000)
			step *= 2;
		if ((rc = rds_describe_tagged(c, kind, id, &n, err)) == -1)
			return (RDS_WAIT_ERROR);
		if (rc == 0)
			return (RDS_WAIT_GONE);
		rds_snapshot_clean(snap);
		*snap = n;
		if (rds_is_available(snap))
			return (RDS_WAIT_AVAILABLE);
		if (rds_is_terminal(snap->status))
			return (RDS_WAIT_NOT_YET);
	}
}

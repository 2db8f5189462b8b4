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

/*
 * keeper: the event dispatch of SNAPFERRY_MODE=keeper, the classification of a backup
 * copy from AWS's immutable record of it (keeper_classify), and the copy-finished
 * event of one of snapferry's copies (a restore when RESTORE is on).  The sweep is in
 * keeper_sweep.c; restores are restore.c's, with the keeper's own RDS client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "ferry.h"
#include "keeper.h"
#include "log.h"
#include "names.h"
#include "rds.h"
#include "restore.h"
#include "result.h"

/*
 * Slack when a source-time tag is compared with AWS's times: the tag holds the source's
 * SnapshotCreateTime, AWS's OriginalSnapshotCreateTime the time of the CreateDBSnapshot
 * operation; they are not documented to be equal to the second.
 */
#define KEEPER_TIME_SLACK	300

static int
is_failed_status(const char *st)
{
	return (st != NULL && (strcmp(st, "failed") == 0 ||
	    strncmp(st, "incompatible-", 13) == 0));
}

/* starts_with_prefix(id, prefix): 1 when ${id} is "<prefix>-...": only such ids can
 *  have been made by the ferry (its role may create nothing else). */
static int
starts_with_prefix(const char *id, const char *prefix)
{
	size_t n = strlen(prefix);

	return (id != NULL && strncmp(id, prefix, n) == 0 && id[n] == '-');
}

void
keeper_classify(const char *prefix, const struct rds_snapshot *s, struct keeper_copy *out)
{
	const char *db_tag, *time_tag;
	struct names_arn src, tag;
	time_t tt;
	int have_src = 0;

	memset(out, 0, sizeof(*out));
	out->ours = starts_with_prefix(s->id, prefix) &&
	    names_is_snapferry(s->tags, s->n_tags, NAMES_ROLE_BACKUP);
	if (!out->ours)
		return;
	out->available = s->status != NULL && strcmp(s->status, "available") == 0;
	out->failed = is_failed_status(s->status);

	/* AWS's record: whose snapshot it was copied from, of which DB, taken when. */
	if (s->source_arn != NULL && names_parse_arn(s->source_arn, &src) == 1) {
		have_src = 1;
		if (strlen(src.account) == 12 && strlen(src.region) < sizeof(out->region)) {
			memcpy(out->account, src.account, 13);
			snprintf(out->region, sizeof(out->region), "%s", src.region);
		}
	}
	out->db = s->db_id;
	if (s->original_time == NULL || rds_parse_time(s->original_time, &out->when) != 0)
		out->when = s->created;
	out->attributed = out->account[0] != '\0' && out->db != NULL && out->when != 0;
	if (!out->attributed) {
		snprintf(out->mismatch, sizeof(out->mismatch), "AWS reports no %s for it",
		    !have_src ? (s->kind == RDS_CLUSTER ? "SourceDBClusterSnapshotArn" :
		    "SourceDBSnapshotIdentifier") : out->db == NULL ? "DB identifier" :
		    "snapshot time");
		goto out;
	}

	/* The tags, cross-checked against it. */
	if (names_lineage_source(s->tags, s->n_tags, &tag) != 1) {
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag is no snapshot ARN",
		    NAMES_TAG_SOURCE_ARN);
		goto out;
	}
	if (strcmp(tag.account, out->account) != 0 || strcmp(tag.region, out->region) != 0)
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag names account %.12s "
		    "region %.31s, AWS records a copy from account %s region %s",
		    NAMES_TAG_SOURCE_ARN, tag.account, tag.region, out->account, out->region);
	names_arn_clean(&tag);
	if (out->mismatch[0] != '\0')
		goto out;
	db_tag = rds_tag_get(s->tags, s->n_tags, NAMES_TAG_SOURCE_DB);
	if (db_tag == NULL || strcmp(db_tag, out->db) != 0) {
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag is %.63s, AWS records "
		    "DB %.63s", NAMES_TAG_SOURCE_DB, db_tag ? db_tag : "(none)", out->db);
		goto out;
	}
	/* The data can be no older than AWS's original time (instances) and no newer
	 * than the copy itself. */
	time_tag = rds_tag_get(s->tags, s->n_tags, NAMES_TAG_SOURCE_TIME);
	if (time_tag == NULL || rds_parse_time(time_tag, &tt) != 0 ||
	    (s->original_time != NULL && tt < out->when - KEEPER_TIME_SLACK) ||
	    (s->created != 0 && tt > s->created + KEEPER_TIME_SLACK))
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag (%.40s) disagrees "
		    "with AWS's %s (%.40s)", NAMES_TAG_SOURCE_TIME, time_tag ? time_tag :
		    "none", s->original_time ? "OriginalSnapshotCreateTime" :
		    "SnapshotCreateTime", s->original_time ? s->original_time :
		    (s->create_time ? s->create_time : "?"));
out:
	if (have_src)
		names_arn_clean(&src);
}

/* A copy-finished event: restore the copy when RESTORE is on and it is one of snapferry's,
 * in this account, with a lineage that agrees with AWS's record. */
static void
copied(struct ferry *f, int kind, const char *ref, struct result *r)
{
	const struct config *cfg = f->cfg;
	struct rds_snapshot s;
	struct keeper_copy kc;
	struct aws_client *bc;
	struct aws_error e;
	char *target, *s_arn;
	int k, rc = 0;

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	if ((bc = ferry_backup(f, r)) == NULL)
		return;
	for (k = kind == FERRY_KIND_ANY ? RDS_INSTANCE : kind; k <= (kind == FERRY_KIND_ANY ?
	    RDS_CLUSTER : kind) && rc == 0; k++)
		rc = rds_describe_snapshot(bc, (enum rds_kind)k, ref, &s, &e);
	if (rc == -1) {
		ferry_fail_aws(f, r, &e, ferry_op(kind == RDS_CLUSTER ? RDS_CLUSTER :
		    RDS_INSTANCE, "describe"), ref, "allow rds:DescribeDBSnapshots and "
		    "rds:DescribeDBClusterSnapshots to the keeper's role");
		aws_error_clear(&e);
		return;
	}
	if (rc == 0) {
		result_finish(r, RESULT_IGNORED, "snapshot %s no longer exists", ref);
		return;
	}
	if (s.n_tags == 0 && s.arn != NULL &&
	    rds_list_tags(bc, s.arn, &s.tags, &s.n_tags, &e) != 0) {
		ferry_fail_aws(f, r, &e, "ListTagsForResource", s.arn,
		    "allow rds:ListTagsForResource to the keeper's role");
		aws_error_clear(&e);
		goto out;
	}
	result_set_str(&r->backup, s.id);
	keeper_classify(cfg->name_prefix, &s, &kc);
	if (!kc.ours) {
		result_finish(r, RESULT_IGNORED, "%s is not one of snapferry's backup copies "
		    "(NAME_PREFIX %s and lineage tags)", s.id, cfg->name_prefix);
		goto out;
	}
	if (kc.mismatch[0] != '\0') {
		result_warn(r, "lineage mismatch on %s: %s; kept, not restored", s.id,
		    kc.mismatch);
		log_metric("LineageMismatch", 1, "Count", NULL, NULL);
		result_finish(r, RESULT_IGNORED, "the lineage tags of %s disagree with AWS's "
		    "record of it: kept and reported, never acted on", s.id);
		goto out;
	}
	if (!kc.available) {
		result_finish(r, RESULT_IGNORED, "%s is %s, not available", s.id,
		    s.status ? s.status : "in an unknown state");
		goto out;
	}
	if (!cfg->restore) {
		result_finish(r, RESULT_IGNORED, "RESTORE is off: backup copy %s is kept; restore "
		    "it on demand with {\"action\":\"restore\",\"db\":\"%s\"}", s.id, kc.db);
		goto out;
	}
	if ((target = names_restore_id(cfg->name_prefix, kc.db)) == NULL ||
	    (s_arn = names_lineage_arn(s.tags, s.n_tags)) == NULL) {
		free(target);
		result_fail(r, "Snapferry.Internal", "out of memory");
		goto out;
	}
	result_set_str(&r->source, s_arn);
	result_set_str(&r->source_db, kc.db);
	r->dry_run = cfg->dry_run;
	switch (restore_copy(f, bc, s.kind, s.id, s.engine, s.engine_version, target, s_arn,
	    kc.db, r)) {
	case 1:
		result_set_str(&r->restored, target);
		result_finish(r, RESULT_DONE, "%s%s restored from %s", cfg->dry_run ?
		    "dry run: " : "", target, s.id);
		break;
	case 0:
		result_finish(r, RESULT_DONE, "DB %s already exists: not restored over (%s is "
		    "kept)", target, s.id);
		break;
	default:
		break;
	}
	free(target);
	free(s_arn);
out:
	rds_snapshot_clean(&s);
}

static int
snap_kind(enum snap_kind k)
{
	return (k == SNAP_INSTANCE ? RDS_INSTANCE : k == SNAP_CLUSTER ? RDS_CLUSTER :
	    FERRY_KIND_ANY);
}

void
keeper_run(struct ferry *f, const struct event *ev, time_t now, struct result *r)
{
	const char *ref = ev->snapshot_arn ? ev->snapshot_arn : ev->snapshot;

	switch (ev->kind) {
	case EVENT_SCHEDULED:
	case EVENT_MANUAL_SWEEP:
		keeper_sweep(f, now, r);
		break;
	case EVENT_MANUAL_RESTORE:
		restore_db(f, ev->db, ev->db_account, ev->target, r);
		break;
	case EVENT_COPY_FINISHED:
		if (ref == NULL) {
			result_finish(r, RESULT_IGNORED, "the event names no snapshot");
			break;
		}
		copied(f, snap_kind(ev->snap_kind), ref, r);
		break;
	default:
		result_finish(r, RESULT_IGNORED, "event %s: the keeper does not ferry (snapshot "
		    "events and advance go to the ferry in production)",
		    event_kind_name(ev->kind));
		break;
	}
}

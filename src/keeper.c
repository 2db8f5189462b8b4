/*
 * keeper: the event dispatch of SNAPFERRY_MODE=keeper, the classification of a backup
 * copy from AWS's immutable record of it (keeper_classify), and the copy-finished
 * event of one of snapferry's copies (a restore when RESTORE is on).  The sweep is in
 * keeper_sweep.c; restores are restore.c's, with the keeper's own RDS client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arn.h"
#include "buf.h"
#include "config.h"
#include "drill.h"
#include "event.h"
#include "ferry.h"
#include "session.h"
#include "keeper.h"
#include "keeper_chain.h"
#include "log.h"
#include "names.h"
#include "rds.h"
#include "restore.h"
#include "result.h"

/* A copy-finished event: restore the copy when RESTORE is on and it is one of snapferry's,
 * in this account, with a lineage that agrees with AWS's record. */
static void
copied(struct session *f, int kind, const char *ref, struct result *r)
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
	if ((bc = session_backup(f, r)) == NULL)
		return;
	for (k = kind == FERRY_KIND_ANY ? RDS_INSTANCE : kind; k <= (kind == FERRY_KIND_ANY ?
	    RDS_CLUSTER : kind) && rc == 0; k++)
		rc = rds_describe_snapshot(bc, (enum rds_kind)k, ref, &s, &e);
	if (rc == -1) {
		session_fail_aws(f, r, &e, rds_op_name(kind == RDS_CLUSTER ? RDS_CLUSTER :
		    RDS_INSTANCE, RDS_OP_DESCRIBE), ref, "allow rds:DescribeDBSnapshots and "
		    "rds:DescribeDBClusterSnapshots to the keeper's role");
		return;
	}
	if (rc == 0) {
		result_finish(r, RESULT_IGNORED, "snapshot %s no longer exists", ref);
		return;
	}
	if (s.n_tags == 0 && s.arn != NULL &&
	    rds_list_tags(bc, s.arn, &s.tags, &s.n_tags, &e) != 0) {
		session_fail_aws(f, r, &e, "ListTagsForResource", s.arn,
		    "allow rds:ListTagsForResource to the keeper's role");
		goto out;
	}
	xstrdup_replace(&r->backup, s.id);
	keeper_copy_classify(cfg->name_prefix, &s, &kc);
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
	if ((target = keeper_restore_target(f, bc, &kc, r)) == NULL)
		goto out;
	if ((s_arn = names_lineage_arn(s.tags, s.n_tags)) == NULL) {
		free(target);
		result_fail(r, "Snapferry.Internal", "out of memory");
		goto out;
	}
	xstrdup_replace(&r->source, s_arn);
	xstrdup_replace(&r->source_db, kc.db);
	r->dry_run = cfg->dry_run;
	switch (restore_copy(f, bc, s.kind, s.id, s.engine, s.engine_version, target, s_arn,
	    kc.db, r)) {
	case 1:
		xstrdup_replace(&r->restored, target);
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
keeper_run(struct session *f, const struct event *ev, time_t now, struct result *r)
{
	const char *ref = ev->snapshot_arn ? ev->snapshot_arn : ev->snapshot;

	switch (ev->kind) {
	case EVENT_SCHEDULED:
	case EVENT_MANUAL_SWEEP:
		keeper_sweep(f, now, r);
		/* The copies of the other Regions not here yet (the chain action's work too). */
		if (r->outcome != RESULT_FAILED)
			keeper_chain(f, now, 0, r);
		/* The sweep advances the drills in flight; it starts none. */
		if (r->outcome != RESULT_FAILED)
			drill_run(f, NULL, NULL, 0, now, r);
		break;
	case EVENT_MANUAL_CHAIN:
		keeper_chain(f, now, 1, r);
		break;
	case EVENT_MANUAL_DRILL:
		drill_run(f, ev->db, ev->drill_region, 1, now, r);
		break;
	case EVENT_MANUAL_RESTORE:
		restore_db(f, ev->db, ev->db_account, ev->restore_region, ev->target, r);
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

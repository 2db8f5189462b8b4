/*
 * ferry_share: the steps of the flow that share, un-share and delete: each answers 0 (go
 * on) or -1 (stop: ${r} holds the outcome), and never touches what snapferry did not make.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "ferry.h"
#include "names.h"
#include "session.h"

void
ferry_fail_refused(struct session *f, struct result *r, struct aws_error *e, const char *op,
    const char *what, const char *fix, const struct rds_snapshot *snap)
{
	if (!ferry_refusal_is_final(e, snap->created, time(NULL))) {
		session_fail_aws(f, r, e, op, what, fix);
		return;
	}
	session_count_metric(f, &f->counts.failed, "CopiesFailed");
	result_fail(r, "Snapferry.Refused", "%s on %s: AWS still refuses it (%s: %s) although "
	    "%s is available and was taken at %s, over %d hours ago: AWS does not let this "
	    "snapshot be shared or copied. To fix: check the snapshot against AWS's rules "
	    "for sharing and copying snapshots; snapferry tries again on the next trigger",
	    op, what, e->code ? e->code : "", e->message ? e->message : "", snap->id,
	    snap->create_time ? snap->create_time : "?", FERRY_REFUSAL_HOURS);
	aws_error_clear(e);
}

void
ferry_no_arn(struct session *f, enum rds_kind kind, const char *id, struct result *r)
{
	session_count_metric(f, &f->counts.failed, "CopiesFailed");
	result_fail(r, "Snapferry.AWSError", "%s answered for %s without %s: snapferry "
	    "never acts on a snapshot whose ARN is unknown; the next trigger or sweep "
	    "tries again", rds_op_name(kind, RDS_OP_DESCRIBE), id ? id : "(no id)",
	    kind == RDS_CLUSTER ? "DBClusterSnapshotArn" : "DBSnapshotArn");
}

int
ferry_delete_ours(struct session *f, struct aws_client *c, enum rds_kind kind,
    const struct rds_snapshot *snap, const char *s_arn, struct result *r,
    const char *what)
{
	struct aws_error e;

	/* Unknown ARNs (an answer without DBSnapshotArn) prove nothing: never delete then. */
	if (s_arn == NULL || snap->arn == NULL || snap->id == NULL) {
		result_warn(r, "not deleting %s %s: the ARN of %s is unknown", what,
		    snap->id ? snap->id : "(no id)", s_arn == NULL ? "its source" : "it");
		return (0);
	}
	if (!names_has_lineage(snap->tags, snap->n_tags, s_arn, NULL) ||
	    strcmp(snap->arn, s_arn) == 0) {
		result_warn(r, "not deleting %s %s: it does not carry snapferry's lineage",
		    what, snap->id);
		return (0);
	}
	if (f->cfg->dry_run) {
		result_step(r, "would:%s %s", rds_op_name(kind, RDS_OP_DELETE), snap->id);
		return (0);
	}
	memset(&e, 0, sizeof(e));
	if (rds_delete_snapshot(c, kind, snap->id, &e) != 0) {
		if (aws_error_has(&e, "NotFound") || aws_error_is(&e, "InvalidDBSnapshotState") ||
		    aws_error_is(&e, "InvalidDBClusterSnapshotStateFault")) {
			/* Gone or already being deleted by a concurrent invocation. */
			result_step(r, "%s %s: already gone (%s)", rds_op_name(kind, RDS_OP_DELETE),
			    snap->id, e.code);
			aws_error_clear(&e);
			return (0);
		}
		session_fail_rds(f, r, &e, kind, RDS_OP_DELETE, snap->id,
		    "the role that owns snapferry's copies");
		return (-1);
	}
	result_step(r, "%s %s", rds_op_name(kind, RDS_OP_DELETE), snap->id);
	return (0);
}

int
ferry_shared_with_backup(struct session *f, enum rds_kind kind, const char *id, struct result *r)
{
	struct aws_error e;
	int shared;

	memset(&e, 0, sizeof(e));
	if ((shared = rds_shared_with(&f->rds, kind, id, f->cfg->backup_account_id,
	    &e)) != -1)
		return (shared);
	if (aws_error_has(&e, "NotFound")) {
		aws_error_clear(&e);
		return (0);
	}
	session_fail_rds(f, r, &e, kind, RDS_OP_ATTRS, id, SESSION_OWN_ROLE);
	return (-1);
}

void
ferry_note_shared(struct session *f, enum rds_kind kind, const char *id)
{
	/* Out of memory only costs the attribute read the note would have saved. */
	(void)xstrdup_replace(&f->shared_here, id);
	f->shared_here_kind = kind;
}

int
ferry_unshare(struct session *f, enum rds_kind kind, const char *id, struct result *r)
{
	const struct config *cfg = f->cfg;
	struct aws_error e;
	int shared, shared_here;

	memset(&e, 0, sizeof(e));
	/* Shared by this very invocation: no need to read the attribute to know it. */
	shared_here = f->shared_here != NULL && f->shared_here_kind == kind &&
	    strcmp(f->shared_here, id) == 0;
	if (shared_here)
		shared = 1;
	else if ((shared = ferry_shared_with_backup(f, kind, id, r)) != 1)
		return (shared);
	if (cfg->dry_run) {
		result_step(r, "would:%s %s remove %s", rds_op_name(kind, RDS_OP_SHARE), id,
		    cfg->backup_account_id);
		return (0);
	}
	if (rds_modify_share(&f->rds, kind, id, cfg->backup_account_id, 0, &e) != 0) {
		if (aws_error_has(&e, "NotFound")) {
			aws_error_clear(&e);
			return (0);
		}
		session_fail_rds(f, r, &e, kind, RDS_OP_SHARE, id, SESSION_OWN_ROLE);
		return (-1);
	}
	result_step(r, "%s %s remove %s", rds_op_name(kind, RDS_OP_SHARE), id, cfg->backup_account_id);
	if (shared_here) {
		free(f->shared_here);
		f->shared_here = NULL;
	}
	return (0);
}

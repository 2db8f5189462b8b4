/*
 * handler: one invocation, with no knowledge of the Runtime API.  Parses
 * and classifies the event, refuses foreign and malformed ones, then hands
 * it to dispatch(), which runs the snapshot flow (ferry/sweep/restore) and turns a
 * failure that needs a human into a function error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "config.h"
#include "event.h"
#include "ferry.h"
#include "handler.h"
#include "inflight.h"
#include "keeper.h"
#include "log.h"
#include "rds.h"
#include "restore.h"
#include "result.h"
#include "sweep.h"
#include "utf8.h"

/* set_error(out, type, msg): the function error ${out} reports.  Not logged here: each
 * caller logs what it detected, once (the runtime loop logs nothing more). */
static int
set_error(struct handler_result *out, const char *type, const char *msg)
{
	out->error_type = strdup(type);
	/* Whatever a message was built from, what leaves is UTF-8. */
	if ((out->error_message = strdup(msg)) != NULL)
		utf8_scrub(out->error_message);
	return (-1);
}

/* oom(out, what): log and report running out of memory while ${what}. */
static int
oom(struct handler_result *out, const char *what)
{
	char msg[96];
	cJSON *f;

	snprintf(msg, sizeof(msg), "out of memory %s", what);
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "errorType", "Runtime.OutOfMemory");
		cJSON_AddStringToObject(f, "errorMessage", msg);
	}
	log_error("invocation failed", f);
	return (set_error(out, "Runtime.OutOfMemory", msg));
}

/* The classification as a JSON object (the base of every result). */
static cJSON *
describe(const struct event *ev, const char *outcome, int foreign)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL)
		return (NULL);
	cJSON_AddStringToObject(o, "outcome", outcome);
	cJSON_AddStringToObject(o, "event", event_kind_name(ev->kind));
	result_add_opt(o, "eventId", ev->event_id);
	result_add_opt(o, "detailType", ev->detail_type);
	result_add_opt(o, "kind", event_snap_kind_name(ev->snap_kind));
	result_add_opt(o, "snapshot", ev->snapshot);
	result_add_opt(o, "snapshotArn", ev->snapshot_arn);
	result_add_opt(o, "db", ev->db);
	result_add_opt(o, "target", ev->target);
	result_add_opt(o, "dbAccount", ev->db_account);
	result_add_opt(o, "restoreRegion", ev->restore_region);
	result_add_opt(o, "account", ev->account);
	result_add_opt(o, "region", ev->region);
	if (foreign)
		cJSON_AddTrueToObject(o, "foreign");
	if (ev->reason[0] != '\0')
		cJSON_AddStringToObject(o, "reason", ev->reason);
	return (o);
}

static int
snap_kind(enum snap_kind k)
{
	return (k == SNAP_INSTANCE ? RDS_INSTANCE : k == SNAP_CLUSTER ? RDS_CLUSTER :
	    FERRY_KIND_ANY);
}

/*
 * dispatch: hand a classified event to the snapshot flow (ferry/sweep).
 * 0 with ${result}; 1 when the flow failed in a way a human must fix
 * (${out} holds the function error); -1 on ENOMEM.
 */
static int
dispatch(const struct handler_ctx *ctx, const struct event *ev, cJSON **result,
    struct handler_result *out)
{
	const char *ref = ev->snapshot_arn ? ev->snapshot_arn : ev->snapshot;
	struct aws_error e;
	struct session f;
	struct result r;
	cJSON *f2;
	int rc = 0;

	*result = NULL;
	memset(&e, 0, sizeof(e));
	if (result_init(&r, ev->action ? ev->action : event_kind_name(ev->kind)) != 0)
		return (-1);
	if (session_init(&f, ctx->cfg, ctx->http, ctx->role_cache, ctx->deadline_ms,
	    &e) != 0) {
		result_fail(&r, "Snapferry.Credentials", "cannot build AWS clients: %s",
		    e.message ? e.message : "unknown error");
		aws_error_clear(&e);
		goto report;
	}
	f.local = ctx->local;
	/* Outside Lambda the account is not known before STS says it (the handler's check
	 * saw only the region): an event naming another account is refused here, and one
	 * whose account can't be checked is a failure, never acted on. */
	if (inflight_is_forwarded(ev, ctx->cfg)) {
		/* The backup account's copy finished: the one event of another account the
		 * ferry takes, and only as a hint (inflight_forwarded reads the copy). */
		inflight_forwarded(&f, ev, &r);
		goto done;
	}
	if (ev->kind != EVENT_UNKNOWN && (session_foreign_account(&f, ev->account, &r) != 0 ||
	    session_foreign_account(&f, ev->arn.account, &r) != 0))
		goto done;
	if (ctx->cfg->mode == CONFIG_MODE_KEEPER) {
		keeper_run(&f, ev, time(NULL), &r);
		goto done;
	}
	switch (ev->kind) {
	case EVENT_SNAPSHOT_CREATED:
	case EVENT_CLUSTER_SNAPSHOT_CREATED:
	case EVENT_MANUAL_ADVANCE:
		if (ref == NULL) {
			result_finish(&r, RESULT_IGNORED, "the event names no snapshot");
			break;
		}
		ferry_advance(&f, snap_kind(ev->snap_kind), ref, &r);
		break;
	case EVENT_COPY_FINISHED:
		if (ref == NULL) {
			result_finish(&r, RESULT_IGNORED, "the event names no snapshot");
			break;
		}
		ferry_advance_copied(&f, snap_kind(ev->snap_kind), ref, &r);
		break;
	case EVENT_SCHEDULED:
	case EVENT_MANUAL_SWEEP:
		sweep_run(&f, time(NULL), &r);
		break;
	case EVENT_MANUAL_INFLIGHT:
		inflight_run(&f, time(NULL), &r);
		break;
	case EVENT_MANUAL_RESTORE:
		restore_db(&f, ev->db, ev->db_account, ev->restore_region, ev->target, &r);
		break;
	default:
		result_finish(&r, RESULT_IGNORED, "event %s: nothing to do",
		    event_kind_name(ev->kind));
		break;
	}
done:
	session_clean(&f);
report:
	if ((*result = result_json(&r)) == NULL) {
		result_clean(&r);
		return (-1);
	}
	cJSON_AddStringToObject(*result, "event", event_kind_name(ev->kind));
	result_add_opt(*result, "eventId", ev->event_id);
	if (r.outcome == RESULT_FAILED) {
		/* A human must act: make it a function error (alarms, DLQ), logged in full. */
		if ((f2 = cJSON_CreateObject()) != NULL) {
			cJSON_AddStringToObject(f2, "errorType", r.error_type ? r.error_type :
			    "Snapferry.Failed");
			cJSON_AddItemToObject(f2, "result", cJSON_Duplicate(*result, 1));
		}
		log_error("invocation failed", f2);
		set_error(out, r.error_type ? r.error_type : "Snapferry.Failed",
		    r.reason ? r.reason : "failed");
		cJSON_Delete(*result);
		*result = NULL;
		rc = 1;
	} else {
		if ((f2 = cJSON_CreateObject()) != NULL)
			cJSON_AddItemToObject(f2, "result", cJSON_Duplicate(*result, 1));
		log_info("result", f2);
	}
	result_clean(&r);
	return (rc);
}

int
handler_invoke(const struct handler_ctx *ctx, const char *event, size_t len,
    struct handler_result *out)
{
	const struct config *cfg = ctx->cfg;
	cJSON *res = NULL, *f;
	struct event ev;
	const char *trace;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((trace = getenv("_X_AMZN_TRACE_ID")) != NULL) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "traceId", trace);
		cJSON_AddNumberToObject(f, "bytes", (double)len);
		log_debug("invocation", f);
	}
	if (event_parse(event, len, &ev) != 0)
		return (oom(out, "parsing the event"));

	if (ev.kind == EVENT_MALFORMED) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "errorType", "Event.Malformed");
		cJSON_AddStringToObject(f, "reason", ev.reason);
		log_warn("malformed event", f);
		rc = set_error(out, "Event.Malformed", ev.reason);
		goto done;
	}
	if (ev.invalid) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "errorType", "Event.Invalid");
		cJSON_AddStringToObject(f, "reason", ev.reason);
		result_add_opt(f, "action", ev.action);
		log_warn("invalid manual action", f);
		rc = set_error(out, "Event.Invalid", ev.reason);
		goto done;
	}
	if (ev.kind == EVENT_MANUAL_CHAIN && cfg != NULL && cfg->mode == CONFIG_MODE_FERRY) {
		rc = set_error(out, "Event.Invalid", "the cross-Region chain runs on the keeper "
		    "(SNAPFERRY_MODE=keeper) of each destination Region, not on the ferry");
		goto done;
	}
	if (ev.kind == EVENT_MANUAL_DRILL && cfg != NULL && cfg->mode == CONFIG_MODE_FERRY) {
		rc = set_error(out, "Event.Invalid", "restore drills run on the keeper "
		    "(SNAPFERRY_MODE=keeper) in the backup account, not on the ferry");
		goto done;
	}
	if (ev.kind == EVENT_MANUAL_RESTORE && cfg != NULL && cfg->mode == CONFIG_MODE_FERRY) {
		/* The production account may be the one lost, and its function must not be
		 * able to touch the backup account's DBs: restores belong to the keeper. */
		rc = set_error(out, "Event.Invalid", "restores run on the keeper "
		    "(SNAPFERRY_MODE=keeper) in the backup account, not on the ferry: invoke the "
		    "keeper function, or run bootstrap --event with SNAPFERRY_MODE=keeper and "
		    "the backup account's credentials");
		log_warn("restore refused on the ferry", NULL);
		goto done;
	}
	if (ev.kind == EVENT_UNKNOWN) {
		res = describe(&ev, "ignored", 0);
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "reason", ev.reason);
		result_add_opt(f, "detailType", ev.detail_type);
		result_add_opt(f, "eventId", ev.event_id);
		log_info("event ignored", f);
	} else if (!inflight_is_forwarded(&ev, cfg) &&
	    event_foreign(&ev, cfg ? cfg->account_id : NULL, cfg ? cfg->region : NULL)) {
		/* Never act on another account's or region's resources. */
		snprintf(ev.reason, sizeof(ev.reason), "event of account %s, region %s; this "
		    "function runs in account %s, region %s",
		    ev.account ? ev.account : (ev.arn.account ? ev.arn.account : "?"),
		    ev.region ? ev.region : (ev.arn.region ? ev.arn.region : "?"),
		    (cfg && cfg->account_id) ? cfg->account_id : "?",
		    (cfg && cfg->region) ? cfg->region : "?");
		res = describe(&ev, "ignored", 1);
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "reason", ev.reason);
		log_warn("foreign event refused", f);
	} else {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "event", event_kind_name(ev.kind));
		result_add_opt(f, "snapshot", ev.snapshot);
		log_info("event classified", f);
		if ((rc = dispatch(ctx, &ev, &res, out)) == 1) {
			rc = -1;
			goto done;
		}
		if (rc != 0)
			goto nomem;
	}
	if (res != NULL && cfg != NULL && !cJSON_HasObjectItem(res, "mode"))
		cJSON_AddStringToObject(res, "mode", config_mode_name(cfg->mode));
	if (res == NULL || (out->payload = cJSON_PrintUnformatted(res)) == NULL)
		goto nomem;
	utf8_scrub(out->payload);
	rc = 0;
	goto done;
nomem:
	rc = oom(out, "building the result");
done:
	cJSON_Delete(res);
	event_clean(&ev);
	return (rc);
}

void
handler_result_clean(struct handler_result *r)
{
	free(r->payload);
	free(r->error_type);
	free(r->error_message);
	memset(r, 0, sizeof(*r));
}

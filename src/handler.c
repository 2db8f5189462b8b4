/*
 * handler: one invocation, with no knowledge of the Runtime API.  Parses
 * and classifies the event, then hands it to dispatch() — the one place
 * where the snapshot flow plugs in.  Until then it reports the
 * classification and takes no action.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "event.h"
#include "handler.h"
#include "log.h"

static int
set_error(struct handler_result *out, const char *type, const char *msg)
{
	out->error_type = strdup(type);
	out->error_message = strdup(msg);
	return (-1);
}

static void
add_opt(cJSON *o, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, key, v);
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
	add_opt(o, "eventId", ev->event_id);
	add_opt(o, "detailType", ev->detail_type);
	add_opt(o, "kind", event_snap_kind_name(ev->snap_kind));
	add_opt(o, "snapshot", ev->snapshot);
	add_opt(o, "snapshotArn", ev->snapshot_arn);
	add_opt(o, "db", ev->db);
	add_opt(o, "target", ev->target);
	add_opt(o, "account", ev->account);
	add_opt(o, "region", ev->region);
	if (foreign)
		cJSON_AddTrueToObject(o, "foreign");
	if (ev->reason[0] != '\0')
		cJSON_AddStringToObject(o, "reason", ev->reason);
	return (o);
}

/*
 * dispatch: what to do with a classified event.  The snapshot flow
 * (ferry/sweep) replaces the body of this function; today it only
 * reports what it would be asked to act on.
 */
static int
dispatch(const struct handler_ctx *ctx, const struct event *ev, cJSON **result)
{
	(void)ctx;
	*result = describe(ev, "classified", 0);
	return (*result != NULL) ? 0 : -1;
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
		return (set_error(out, "Runtime.OutOfMemory", "out of memory parsing the event"));

	if (ev.kind == EVENT_MALFORMED) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "reason", ev.reason);
		log_warn("malformed event", f);
		rc = set_error(out, "Event.Malformed", ev.reason);
		goto done;
	}
	if (ev.invalid) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "reason", ev.reason);
		add_opt(f, "action", ev.action);
		log_warn("invalid manual action", f);
		rc = set_error(out, "Event.Invalid", ev.reason);
		goto done;
	}
	if (ev.kind == EVENT_UNKNOWN) {
		res = describe(&ev, "ignored", 0);
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "reason", ev.reason);
		add_opt(f, "detailType", ev.detail_type);
		add_opt(f, "eventId", ev.event_id);
		log_info("event ignored", f);
	} else if (event_foreign(&ev, cfg ? cfg->account_id : NULL, cfg ? cfg->region : NULL)) {
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
		if (dispatch(ctx, &ev, &res) != 0)
			goto nomem;
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "event", event_kind_name(ev.kind));
		add_opt(f, "snapshot", ev.snapshot);
		log_info("event classified", f);
	}
	if (res == NULL || (out->payload = cJSON_PrintUnformatted(res)) == NULL)
		goto nomem;
	rc = 0;
	goto done;
nomem:
	rc = set_error(out, "Runtime.OutOfMemory", "out of memory building the result");
done:
	cJSON_Delete(res);
	event_free(&ev);
	return (rc);
}

void
handler_result_free(struct handler_result *r)
{
	free(r->payload);
	free(r->error_type);
	free(r->error_message);
	memset(r, 0, sizeof(*r));
}

/*
 * event: turns an invocation payload into a struct event.  Owns the
 * knowledge of the EventBridge envelope, RDS's snapshot EventIDs and the
 * manual action payloads; decides nothing about what to do with them.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arn.h"
#include "config_shape.h"
#include "event.h"
#include "utf8.h"

/* "%.*s" arguments: at most ${max} bytes of ${s}, never half a UTF-8 character. */
#define CUT(s, max)	(int)utf8_cut((s), (max)), (s)

/* What a field check found. */
#define F_OK		0
#define F_BAD		1	/* reason set: malformed or invalid */
#define F_NOMEM		(-1)

static const struct {
	const char	*id;
	enum event_kind	 kind;
} instance_ids[] = {
	{ "RDS-EVENT-0042", EVENT_SNAPSHOT_CREATED },	/* manual snapshot created */
	{ "RDS-EVENT-0091", EVENT_SNAPSHOT_CREATED },	/* automated snapshot created */
	{ "RDS-EVENT-0197", EVENT_COPY_FINISHED },	/* local copy finished */
	{ "RDS-EVENT-0060", EVENT_COPY_FINISHED },	/* cross-Region copy finished */
}, cluster_ids[] = {
	{ "RDS-EVENT-0075", EVENT_CLUSTER_SNAPSHOT_CREATED },	/* manual */
	{ "RDS-EVENT-0169", EVENT_CLUSTER_SNAPSHOT_CREATED },	/* automated */
};

const char *
event_kind_name(enum event_kind k)
{
	switch (k) {
	case EVENT_MALFORMED:			return ("malformed");
	case EVENT_UNKNOWN:			return ("unknown");
	case EVENT_SNAPSHOT_CREATED:		return ("snapshot-created");
	case EVENT_CLUSTER_SNAPSHOT_CREATED:	return ("cluster-snapshot-created");
	case EVENT_COPY_FINISHED:		return ("copy-finished");
	case EVENT_SCHEDULED:			return ("scheduled");
	case EVENT_MANUAL_SWEEP:		return ("sweep");
	case EVENT_MANUAL_ADVANCE:		return ("advance");
	case EVENT_MANUAL_RESTORE:		return ("restore");
	case EVENT_MANUAL_INFLIGHT:		return ("inflight");
	case EVENT_MANUAL_DRILL:		return ("drill");
	case EVENT_MANUAL_CHAIN:		return ("chain");
	}
	return ("unknown");
}

const char *
event_snap_kind_name(enum snap_kind k)
{
	switch (k) {
	case SNAP_INSTANCE:	return ("instance");
	case SNAP_CLUSTER:	return ("cluster");
	case SNAP_NONE:		break;
	}
	return (NULL);
}

/* ---- field helpers ------------------------------------------------------------- */

static int bad(struct event *, enum event_kind, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static int
bad(struct event *ev, enum event_kind kind, int invalid, const char *fmt, ...)
{
	va_list ap;

	ev->kind = kind;
	ev->invalid = invalid;
	va_start(ap, fmt);
	vsnprintf(ev->reason, sizeof(ev->reason), fmt, ap);
	va_end(ap);
	/* Cut short by the buffer: not in the middle of a character. */
	ev->reason[utf8_cut(ev->reason, sizeof(ev->reason) - 1)] = '\0';
	return (F_BAD);
}

/* Optional string member: absent or null leaves *dst NULL; another type is malformed. */
static int
opt_str(const cJSON *o, const char *key, char **dst, struct event *ev, const char *where)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	if (it == NULL || cJSON_IsNull(it))
		return (F_OK);
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return (bad(ev, EVENT_MALFORMED, 0, "%s\"%s\" must be a string", where, key));
	if ((*dst = strdup(it->valuestring)) == NULL)
		return (F_NOMEM);
	return (F_OK);
}

/* Identifier characters of snapshot ids, including "rds:" / "awsbackup:" prefixes. */
static int
snapshot_id_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 512)
		return (0);
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || strchr(":-_.", s[i]) != NULL))
			return (0);
	return (1);
}

/* DB instance / cluster identifier: letter first, letters, digits, hyphens, <= 63. */
static int
db_id_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || !isalpha((unsigned char)s[0]) || s[n - 1] == '-' ||
	    strstr(s, "--") != NULL)
		return (0);
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-') || (unsigned char)s[i] > 0x7f)
			return (0);
	return (1);
}

/* An AWS account id: exactly 12 digits. */
static int
account_ok(const char *s)
{
	size_t i;

	for (i = 0; i < 12; i++)
		if (!isdigit((unsigned char)s[i]))
			return (0);
	return (s[12] == '\0');
}

static enum snap_kind
kind_of_type(const char *type)
{
	if (strcmp(type, "snapshot") == 0)
		return (SNAP_INSTANCE);
	if (strcmp(type, "cluster-snapshot") == 0)
		return (SNAP_CLUSTER);
	return (SNAP_NONE);
}

/* Fill ev->snapshot* from an ARN; F_BAD (kind set by caller's choice) when it is no snapshot ARN. */
static int
take_snapshot_arn(struct event *ev, const char *arn, enum event_kind bad_kind, int invalid)
{
	if (arn_parse(arn, &ev->arn) != 0 && errno == ENOMEM)
		return (F_NOMEM);
	if (ev->arn.service == NULL || strcmp(ev->arn.service, "rds") != 0 ||
	    kind_of_type(ev->arn.type) == SNAP_NONE)
		return (bad(ev, bad_kind, invalid, "\"%.*s\" is not an RDS snapshot or cluster "
		    "snapshot ARN", CUT(arn, 120)));
	ev->snap_kind = kind_of_type(ev->arn.type);
	if ((ev->snapshot_arn = strdup(arn)) == NULL ||
	    (ev->snapshot = strdup(ev->arn.id)) == NULL)
		return (F_NOMEM);
	return (F_OK);
}

/* ---- manual actions --------------------------------------------------------------- */

static int
parse_kind(const cJSON *root, enum snap_kind *out, struct event *ev)
{
	char *k = NULL;
	int rc;

	*out = SNAP_NONE;
	if ((rc = opt_str(root, "kind", &k, ev, "")) != F_OK)
		return (rc);
	if (k == NULL)
		return (F_OK);
	if (strcmp(k, "instance") == 0)
		*out = SNAP_INSTANCE;
	else if (strcmp(k, "cluster") == 0)
		*out = SNAP_CLUSTER;
	else
		rc = bad(ev, ev->kind, 1, "\"kind\" must be \"instance\" or \"cluster\", not \"%.*s\"",
		    CUT(k, 40));
	free(k);
	return (rc);
}

static int
parse_manual(const cJSON *root, struct event *ev)
{
	enum snap_kind kind;
	int rc;

	if ((rc = opt_str(root, "action", &ev->action, ev, "")) != F_OK)
		return (rc);
	if (ev->action == NULL)
		return (bad(ev, EVENT_MALFORMED, 0, "\"action\" must be a string"));

	if (strcmp(ev->action, "sweep") == 0) {
		ev->kind = EVENT_MANUAL_SWEEP;
		return (F_OK);
	}
	if (strcmp(ev->action, "inflight") == 0) {
		ev->kind = EVENT_MANUAL_INFLIGHT;
		return (F_OK);
	}
	if (strcmp(ev->action, "chain") == 0) {
		ev->kind = EVENT_MANUAL_CHAIN;
		return (F_OK);
	}
	if (strcmp(ev->action, "advance") == 0) {
		char *snap = NULL;

		ev->kind = EVENT_MANUAL_ADVANCE;
		if ((rc = opt_str(root, "snapshot", &snap, ev, "")) != F_OK)
			return (rc);
		if (snap == NULL || *snap == '\0') {
			free(snap);
			return (bad(ev, ev->kind, 1, "advance needs \"snapshot\": the id or ARN "
			    "of a DB snapshot or DB cluster snapshot"));
		}
		if ((rc = parse_kind(root, &kind, ev)) != F_OK) {
			free(snap);
			return (rc);
		}
		if (strncmp(snap, "arn:", 4) == 0) {
			rc = take_snapshot_arn(ev, snap, ev->kind, 1);
			free(snap);
			if (rc != F_OK)
				return (rc);
			if (kind != SNAP_NONE && kind != ev->snap_kind)
				return (bad(ev, ev->kind, 1, "\"kind\" is \"%s\" but the ARN names a %s "
				    "snapshot", event_snap_kind_name(kind),
				    event_snap_kind_name(ev->snap_kind)));
			return (F_OK);
		}
		if (!snapshot_id_ok(snap)) {
			rc = bad(ev, ev->kind, 1, "\"snapshot\" is neither a snapshot id nor an ARN "
			    "(\"%.*s\")", CUT(snap, 80));
			free(snap);
			return (rc);
		}
		ev->snapshot = snap;
		/* A plain id says nothing of its kind: instance unless told otherwise. */
		ev->snap_kind = (kind != SNAP_NONE) ? kind : SNAP_INSTANCE;
		return (F_OK);
	}
	if (strcmp(ev->action, "restore") == 0) {
		ev->kind = EVENT_MANUAL_RESTORE;
		const cJSON *acct = cJSON_GetObjectItemCaseSensitive(root, "account");

		if ((rc = opt_str(root, "db", &ev->db, ev, "")) != F_OK ||
		    (rc = opt_str(root, "target", &ev->target, ev, "")) != F_OK)
			return (rc);
		if (ev->db == NULL || *ev->db == '\0')
			return (bad(ev, ev->kind, 1, "restore needs \"db\": the id of the source "
			    "DB instance or cluster whose newest backup copy to restore"));
		if (!db_id_ok(ev->db))
			return (bad(ev, ev->kind, 1, "\"db\" is not a DB instance or cluster id "
			    "(\"%.*s\")", CUT(ev->db, 80)));
		if (ev->target != NULL && !db_id_ok(ev->target))
			return (bad(ev, ev->kind, 1, "\"target\" is not a valid DB identifier "
			    "(letter first, letters, digits, single hyphens, at most 63): \"%.*s\"",
			    CUT(ev->target, 80)));
		/* Which production account's copies of ${db} (a backup account may hold those
		 * of several): a number would lose nothing here, but say how to write it. */
		if (acct != NULL && !cJSON_IsNull(acct)) {
			if (!cJSON_IsString(acct) || acct->valuestring == NULL ||
			    !account_ok(acct->valuestring))
				return (bad(ev, ev->kind, 1, "\"account\" must be the 12-digit id "
				    "of the production account whose backup copies of %.*s to "
				    "restore, as a string (\"account\":\"123456789012\")",
				    CUT(ev->db, 63)));
			if ((ev->db_account = strdup(acct->valuestring)) == NULL)
				return (F_NOMEM);
		}
		/* Where to restore: a Region of the backup account (restore_db decides whether
		 * this keeper may restore there); its shape is checked as BACKUP_REGIONS' is. */
		if ((rc = opt_str(root, "region", &ev->restore_region, ev, "")) != F_OK)
			return (rc);
		if (ev->restore_region != NULL && !config_region_ok(ev->restore_region))
			return (bad(ev, ev->kind, 1, "\"region\" must be the Region of the backup "
			    "account to restore in, such as eu-central-1, not \"%.*s\"",
			    CUT(ev->restore_region, 40)));
		if ((rc = parse_kind(root, &kind, ev)) != F_OK)
			return (rc);
		ev->snap_kind = (kind != SNAP_NONE) ? kind : SNAP_INSTANCE;
		return (F_OK);
	}
	if (strcmp(ev->action, "drill") == 0) {
		ev->kind = EVENT_MANUAL_DRILL;
		if ((rc = opt_str(root, "db", &ev->db, ev, "")) != F_OK ||
		    (rc = opt_str(root, "region", &ev->drill_region, ev, "")) != F_OK)
			return (rc);
		if (ev->db != NULL && !db_id_ok(ev->db))
			return (bad(ev, ev->kind, 1, "\"db\" is not a DB instance or cluster id "
			    "(\"%.*s\")", CUT(ev->db, 80)));
		return (F_OK);
	}
	return (bad(ev, EVENT_UNKNOWN, 1, "unknown action \"%.*s\" (expected sweep, inflight, "
	    "advance, restore, drill or chain)", CUT(ev->action, 60)));
}

/* ---- EventBridge ------------------------------------------------------------------- */

static int
parse_rds(const cJSON *root, struct event *ev, int cluster)
{
	const cJSON *detail, *res;
	size_t i, n;
	int rc;

	detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
	if (!cJSON_IsObject(detail))
		return (bad(ev, EVENT_MALFORMED, 0, "an \"%s\" needs a \"detail\" object",
		    ev->detail_type));
	if ((rc = opt_str(detail, "SourceArn", &ev->source_arn, ev, "detail.")) != F_OK ||
	    (rc = opt_str(detail, "SourceIdentifier", &ev->source_identifier, ev, "detail.")) != F_OK ||
	    (rc = opt_str(detail, "SourceType", &ev->source_type, ev, "detail.")) != F_OK ||
	    (rc = opt_str(detail, "EventID", &ev->event_id, ev, "detail.")) != F_OK)
		return (rc);
	/* Some documented samples carry no EventID; the Message is not a contract. */
	if (ev->event_id == NULL)
		return (bad(ev, EVENT_UNKNOWN, 0, "no detail.EventID: can't tell what happened "
		    "(the Message text is not relied on)"));

	n = cluster ? sizeof(cluster_ids) / sizeof(cluster_ids[0]) :
	    sizeof(instance_ids) / sizeof(instance_ids[0]);
	for (i = 0; i < n; i++) {
		if (strcmp(ev->event_id, cluster ? cluster_ids[i].id : instance_ids[i].id) == 0) {
			ev->kind = cluster ? cluster_ids[i].kind : instance_ids[i].kind;
			break;
		}
	}
	if (i == n)
		return (bad(ev, EVENT_UNKNOWN, 0, "%.*s is not an event snapferry acts on "
		    "(%s: %s)", CUT(ev->event_id, 40), ev->detail_type,
		    cluster ? "RDS-EVENT-0075, 0169" : "RDS-EVENT-0042, 0091, 0197, 0060"));

	/* The snapshot: SourceArn, else resources[0], else SourceIdentifier. */
	if (ev->source_arn != NULL) {
		rc = take_snapshot_arn(ev, ev->source_arn, EVENT_MALFORMED, 0);
	} else if (cJSON_IsArray(res = cJSON_GetObjectItemCaseSensitive(root, "resources")) &&
	    cJSON_IsString(cJSON_GetArrayItem(res, 0))) {
		rc = take_snapshot_arn(ev, cJSON_GetArrayItem(res, 0)->valuestring, EVENT_MALFORMED, 0);
	} else if (ev->source_identifier != NULL && snapshot_id_ok(ev->source_identifier)) {
		if ((ev->snapshot = strdup(ev->source_identifier)) == NULL)
			return (F_NOMEM);
		ev->snap_kind = cluster ? SNAP_CLUSTER : SNAP_INSTANCE;
		rc = F_OK;
	} else
		return (bad(ev, EVENT_MALFORMED, 0, "%s names no snapshot (no detail.SourceArn, "
		    "resources or detail.SourceIdentifier)", ev->event_id));
	if (rc != F_OK)
		return (rc);
	if (ev->snap_kind != (cluster ? SNAP_CLUSTER : SNAP_INSTANCE))
		return (bad(ev, EVENT_MALFORMED, 0, "an \"%s\" about a %s snapshot (%.*s)",
		    ev->detail_type, event_snap_kind_name(ev->snap_kind),
		    CUT(ev->snapshot_arn, 120)));
	return (F_OK);
}

static int
parse_eventbridge(const cJSON *root, struct event *ev)
{
	int rc;

	if ((rc = opt_str(root, "detail-type", &ev->detail_type, ev, "")) != F_OK ||
	    (rc = opt_str(root, "source", &ev->source, ev, "")) != F_OK ||
	    (rc = opt_str(root, "id", &ev->id, ev, "")) != F_OK ||
	    (rc = opt_str(root, "account", &ev->account, ev, "")) != F_OK ||
	    (rc = opt_str(root, "region", &ev->region, ev, "")) != F_OK ||
	    (rc = opt_str(root, "time", &ev->time, ev, "")) != F_OK)
		return (rc);
	if (ev->detail_type == NULL || ev->source == NULL)
		return (bad(ev, EVENT_MALFORMED, 0, "an EventBridge event needs \"source\" and "
		    "\"detail-type\""));

	if (strcmp(ev->source, "aws.events") == 0) {
		if (strcmp(ev->detail_type, "Scheduled Event") == 0) {
			ev->kind = EVENT_SCHEDULED;
			return (F_OK);
		}
		return (bad(ev, EVENT_UNKNOWN, 0, "detail-type \"%.*s\" of aws.events is not "
		    "handled (only \"Scheduled Event\")", CUT(ev->detail_type, 80)));
	}
	if (strcmp(ev->source, "aws.rds") != 0)
		return (bad(ev, EVENT_UNKNOWN, 0, "source \"%.*s\" is not handled (aws.rds, "
		    "aws.events)", CUT(ev->source, 80)));
	if (strcmp(ev->detail_type, "RDS DB Snapshot Event") == 0)
		return (parse_rds(root, ev, 0));
	if (strcmp(ev->detail_type, "RDS DB Cluster Snapshot Event") == 0)
		return (parse_rds(root, ev, 1));
	return (bad(ev, EVENT_UNKNOWN, 0, "detail-type \"%.*s\" is not handled (RDS DB Snapshot "
	    "Event, RDS DB Cluster Snapshot Event)", CUT(ev->detail_type, 80)));
}

/*
 * nul_at(json, len, at): 1 when a string (member name or value) of a payload cJSON
 * accepted holds a NUL, raw or as \u0000; 2 for a raw NUL outside the strings (cJSON
 * skips it as white space); 0 for neither.  ${at}: the byte offset.  cJSON's strings
 * end at their first NUL, so "abc\u0000def" would be read as "abc": refused instead.
 */
static int
nul_at(const char *json, size_t len, size_t *at)
{
	size_t i;
	int in = 0;

	for (i = 0; i < len; i++) {
		*at = i;
		if (json[i] == '\0')
			return (in ? 1 : 2);
		if (!in)
			in = (json[i] == '"');
		else if (json[i] == '"')
			in = 0;
		else if (json[i] == '\\' && i + 1 < len) {
			/* The escaped character is skipped: \" and \\ end nothing. */
			if (json[++i] == 'u' && len - i > 4 && memcmp(json + i + 1, "0000", 4) == 0)
				return (1);
		}
	}
	return (0);
}

int
event_parse(const char *json, size_t len, struct event *ev)
{
	const char *end = NULL;
	cJSON *root;
	size_t nul_off, bad_at;
	int rc, nul;

	memset(ev, 0, sizeof(*ev));
	ev->kind = EVENT_MALFORMED;
	if (json == NULL || len == 0) {
		bad(ev, EVENT_MALFORMED, 0, "empty payload");
		return (0);
	}
	/* JSON is UTF-8 (RFC 8259, 8.1), and cJSON copies any bytes into its strings:
	 * refused here, nothing but UTF-8 reaches a reason, a result or a log line. */
	if ((bad_at = utf8_valid(json, len)) != len) {
		bad(ev, EVENT_MALFORMED, 0, "not valid UTF-8 (at byte %zu of %zu)", bad_at, len);
		return (0);
	}
	/* cJSON's own trailing check wants the NUL inside len: check by hand. */
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (root != NULL) {
		while (end < json + len && (*end == ' ' || *end == '\t' || *end == '\r' ||
		    *end == '\n'))
			end++;
		if (end != json + len) {
			cJSON_Delete(root);
			root = NULL;
		}
	}
	if (root == NULL) {
		size_t at = (end != NULL && end >= json && end <= json + len) ?
		    (size_t)(end - json) : 0;

		bad(ev, EVENT_MALFORMED, 0, "not valid JSON (at byte %zu of %zu)", at, len);
		return (0);
	}
	if ((nul = nul_at(json, len, &nul_off)) == 2) {
		bad(ev, EVENT_MALFORMED, 0, "not valid JSON (a NUL byte at byte %zu)", nul_off);
		rc = F_OK;
	} else if (nul == 1) {
		rc = bad(ev, EVENT_UNKNOWN, 1, "a string holds a NUL character (at byte %zu): "
		    "refused, as it would cut the string short", nul_off);
	} else if (!cJSON_IsObject(root)) {
		bad(ev, EVENT_MALFORMED, 0, "not a JSON object");
		rc = F_OK;
	} else if (cJSON_HasObjectItem(root, "action") &&
	    !cJSON_HasObjectItem(root, "detail-type") && !cJSON_HasObjectItem(root, "source")) {
		rc = parse_manual(root, ev);
	} else if (cJSON_HasObjectItem(root, "detail-type") || cJSON_HasObjectItem(root, "source")) {
		rc = parse_eventbridge(root, ev);
	} else {
		rc = bad(ev, EVENT_MALFORMED, 0, "neither an EventBridge event (\"source\", "
		    "\"detail-type\") nor a manual action (\"action\")");
	}
	cJSON_Delete(root);
	if (rc == F_NOMEM) {
		event_clean(ev);
		return (-1);
	}
	return (0);
}

void
event_clean(struct event *ev)
{
	free(ev->id);
	free(ev->detail_type);
	free(ev->source);
	free(ev->account);
	free(ev->region);
	free(ev->time);
	free(ev->source_arn);
	free(ev->source_identifier);
	free(ev->source_type);
	free(ev->event_id);
	free(ev->snapshot);
	free(ev->snapshot_arn);
	arn_clean(&ev->arn);
	free(ev->action);
	free(ev->drill_region);
	free(ev->restore_region);
	free(ev->db);
	free(ev->target);
	free(ev->db_account);
	memset(ev, 0, sizeof(*ev));
}

static int
differs(const char *mine, const char *theirs)
{
	return (mine != NULL && *mine != '\0' && theirs != NULL && *theirs != '\0' &&
	    strcmp(mine, theirs) != 0);
}

int
event_foreign(const struct event *ev, const char *account, const char *region)
{
	return (differs(account, ev->account) || differs(region, ev->region) ||
	    differs(account, ev->arn.account) || differs(region, ev->arn.region));
}

/*
 * test_event: classification of every sample in events/ and of AWS's
 * documented samples in ../shared/reference/events/, malformed and invalid
 * payloads, ARN splitting and the foreign-event check.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "event.h"
#include "inflight.h"
#include "utf8.h"
#include "unit.h"

#define OWN_ACCT	"123456789012"
#define OWN_REGION	"us-east-1"

struct expect {
	const char	*file;
	enum event_kind	 kind;
	int		 invalid;
	enum snap_kind	 snap;
	const char	*snapshot;
	int		 foreign;	/* for a function in OWN_ACCT / OWN_REGION */
};

static const struct expect samples[] = {
	{ "snapshot-created-manual.json", EVENT_SNAPSHOT_CREATED, 0, SNAP_INSTANCE,
	    "orders-db-before-migration", 0 },
	{ "snapshot-created-automated.json", EVENT_SNAPSHOT_CREATED, 0, SNAP_INSTANCE,
	    "rds:orders-db-2024-05-01-03-05", 0 },
	{ "cluster-snapshot-created-manual.json", EVENT_CLUSTER_SNAPSHOT_CREATED, 0, SNAP_CLUSTER,
	    "billing-aurora-before-upgrade", 0 },
	{ "cluster-snapshot-created-automated.json", EVENT_CLUSTER_SNAPSHOT_CREATED, 0, SNAP_CLUSTER,
	    "rds:billing-aurora-2024-05-01-04-10", 0 },
	{ "copy-finished-local.json", EVENT_COPY_FINISHED, 0, SNAP_INSTANCE,
	    "snapferry-orders-db-2024-05-01-03-05", 0 },
	{ "copy-finished-cross-region.json", EVENT_COPY_FINISHED, 0, SNAP_INSTANCE,
	    "snapferry-orders-db-before-migration", 0 },
	{ "scheduled-sweep.json", EVENT_SCHEDULED, 0, SNAP_NONE, NULL, 0 },
	{ "manual-sweep.json", EVENT_MANUAL_SWEEP, 0, SNAP_NONE, NULL, 0 },
	{ "manual-advance-id.json", EVENT_MANUAL_ADVANCE, 0, SNAP_INSTANCE,
	    "orders-db-before-migration", 0 },
	{ "manual-advance-arn.json", EVENT_MANUAL_ADVANCE, 0, SNAP_INSTANCE,
	    "rds:orders-db-2024-05-01-03-05", 0 },
	{ "manual-advance-cluster.json", EVENT_MANUAL_ADVANCE, 0, SNAP_CLUSTER,
	    "billing-aurora-before-upgrade", 0 },
	{ "manual-restore.json", EVENT_MANUAL_RESTORE, 0, SNAP_INSTANCE, NULL, 0 },
	{ "manual-restore-target.json", EVENT_MANUAL_RESTORE, 0, SNAP_CLUSTER, NULL, 0 },
	{ "manual-restore-account.json", EVENT_MANUAL_RESTORE, 0, SNAP_INSTANCE, NULL, 0 },
	{ "invalid-advance-no-snapshot.json", EVENT_MANUAL_ADVANCE, 1, SNAP_NONE, NULL, 0 },
	{ "negative-snapshot-deleted.json", EVENT_UNKNOWN, 0, SNAP_NONE, NULL, 0 },
	{ "negative-cluster-snapshot-creating.json", EVENT_UNKNOWN, 0, SNAP_NONE, NULL, 0 },
	{ "negative-instance-event.json", EVENT_UNKNOWN, 0, SNAP_NONE, NULL, 0 },
	{ "negative-other-account.json", EVENT_SNAPSHOT_CREATED, 0, SNAP_INSTANCE,
	    "partner-db-manual-1", 1 },
	{ "negative-other-region.json", EVENT_SNAPSHOT_CREATED, 0, SNAP_INSTANCE,
	    "orders-db-eu-replica-manual", 1 },
	/* The keeper's, in the backup account 210987654321: foreign to a production function. */
	{ "keeper-scheduled-sweep.json", EVENT_SCHEDULED, 0, SNAP_NONE, NULL, 1 },
	{ "keeper-copy-finished.json", EVENT_COPY_FINISHED, 0, SNAP_INSTANCE,
	    "snapferry-orders-db-2024-05-01-03-05-1fd162ee", 1 },
	{ "keeper-manual-restore.json", EVENT_MANUAL_RESTORE, 0, SNAP_INSTANCE, NULL, 0 },
	{ "restore-region.json", EVENT_MANUAL_RESTORE, 0, SNAP_INSTANCE, NULL, 0 },
	/* Forwarded to production's bus: still the backup account's (foreign); the ferry
	 * takes it through inflight_is_forwarded only. */
	{ "copy-finished-forwarded.json", EVENT_COPY_FINISHED, 0, SNAP_INSTANCE,
	    "snapferry-orders-db-2024-05-01-03-05-1fd162ee", 1 },
	{ "manual-inflight.json", EVENT_MANUAL_INFLIGHT, 0, SNAP_NONE, NULL, 0 },
	{ "manual-drill.json", EVENT_MANUAL_DRILL, 0, SNAP_NONE, NULL, 0 },
	{ "manual-drill-db.json", EVENT_MANUAL_DRILL, 0, SNAP_NONE, NULL, 0 },
	{ "keeper-chain.json", EVENT_MANUAL_CHAIN, 0, SNAP_NONE, NULL, 0 },
};

/* AWS's documented samples (../shared/reference/events/). */
static const struct expect reference[] = {
	{ "event-db-snapshot-deleted-RDS-EVENT-0041.json", EVENT_UNKNOWN, 0, SNAP_NONE, NULL, 0 },
	{ "event-db-cluster-snapshot-creating-RDS-EVENT-0074.json", EVENT_UNKNOWN, 0, SNAP_NONE, NULL, 0 },
	{ "event-db-instance-failover-RDS-EVENT-0049.json", EVENT_UNKNOWN, 0, SNAP_NONE, NULL, 0 },
	{ "event-db-instance-stopped-RDS-EVENT-0087.json", EVENT_UNKNOWN, 0, SNAP_NONE, NULL, 1 },
	{ "event-db-snapshot-automated-created-RDS-EVENT-0091.community.json", EVENT_SNAPSHOT_CREATED,
	    0, SNAP_INSTANCE, "rds:snapshot-replica-2018-10-06-12-24", 0 },
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (f == NULL)
		return (NULL);
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (s = malloc((size_t)n + 1)) != NULL) {
		*len = fread(s, 1, (size_t)n, f);
		s[*len] = '\0';
	}
	fclose(f);
	return (s);
}

static const struct expect *
find(const struct expect *t, size_t n, const char *file)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].file, file) == 0)
			return (&t[i]);
	return (NULL);
}

/* Classify every *.json in dir against the table; returns the number checked, -1 if no dir. */
static int
check_dir(const char *dir, const struct expect *t, size_t n)
{
	char path[4096];
	struct dirent *d;
	const struct expect *e;
	struct event ev;
	size_t len, seen = 0;
	DIR *dp;
	char *s;

	if ((dp = opendir(dir)) == NULL)
		return (-1);
	while ((d = readdir(dp)) != NULL) {
		len = strlen(d->d_name);
		if (len < 5 || strcmp(d->d_name + len - 5, ".json") != 0)
			continue;
		/* Every sample must have an expectation: a new file needs a row here. */
		e = find(t, n, d->d_name);
		if (e == NULL)
			fprintf(stderr, "%s/%s: no expected classification in test_event.c\n",
			    dir, d->d_name);
		CHECK(e != NULL);
		if (e == NULL)
			continue;
		seen++;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		s = slurp(path, &len);
		CHECK(s != NULL);
		if (s == NULL)
			continue;
		CHECK(event_parse(s, len, &ev) == 0);
		if (ev.kind != e->kind || ev.invalid != e->invalid)
			fprintf(stderr, "%s: got %s invalid=%d (%s)\n", d->d_name,
			    event_kind_name(ev.kind), ev.invalid, ev.reason);
		CHECK(ev.kind == e->kind);
		CHECK(ev.invalid == e->invalid);
		CHECK(ev.snap_kind == e->snap);
		CHECK_STR(ev.snapshot, e->snapshot);
		CHECK(event_foreign(&ev, OWN_ACCT, OWN_REGION) == e->foreign);
		/* Unknown and invalid events always say why; others need no reason. */
		CHECK((ev.reason[0] != '\0') == (ev.kind == EVENT_UNKNOWN || ev.invalid));
		if (ev.kind == EVENT_SNAPSHOT_CREATED || ev.kind == EVENT_CLUSTER_SNAPSHOT_CREATED ||
		    ev.kind == EVENT_COPY_FINISHED) {
			CHECK(ev.snapshot_arn != NULL && strstr(ev.snapshot_arn, ev.snapshot) != NULL);
			CHECK(ev.event_id != NULL && ev.source_identifier != NULL);
			CHECK(ev.id != NULL && ev.time != NULL && ev.account != NULL && ev.region != NULL);
			CHECK_STR(ev.source, "aws.rds");
		}
		event_clean(&ev);
		free(s);
	}
	closedir(dp);
	CHECK(seen == n);	/* and every row has its file */
	return ((int)seen);
}

static void
test_samples(const char *root)
{
	char dir[4096];
	int n;

	snprintf(dir, sizeof(dir), "%s/events", root);
	n = check_dir(dir, samples, sizeof(samples) / sizeof(samples[0]));
	CHECK(n > 0);
	printf("events/: %d samples classified\n", n);
	snprintf(dir, sizeof(dir), "%s/../shared/reference/events", root);
	n = check_dir(dir, reference, sizeof(reference) / sizeof(reference[0]));
	if (n < 0)
		printf("SKIP AWS reference samples: %s not found (no ../shared beside the "
		    "repository)\n", dir);
	else
		printf("../shared/reference/events/: %d AWS samples classified\n", n);
}

#define ENV(dt, detail) "{\"version\":\"0\",\"id\":\"e1\",\"detail-type\":\"" dt "\"," \
	"\"source\":\"aws.rds\",\"account\":\"" OWN_ACCT "\",\"time\":\"2024-05-01T00:00:00Z\"," \
	"\"region\":\"" OWN_REGION "\",\"resources\":[],\"detail\":" detail "}"
#define SNAP_EV(detail)		ENV("RDS DB Snapshot Event", detail)
#define CLUSTER_EV(detail)	ENV("RDS DB Cluster Snapshot Event", detail)
#define ARN_S(id)	"arn:aws:rds:us-east-1:" OWN_ACCT ":snapshot:" id
#define ARN_C(id)	"arn:aws:rds:us-east-1:" OWN_ACCT ":cluster-snapshot:" id

/* Runs of 'a' for the rows that put a multi-byte character at a reason's cut point. */
#define A9	"aaaaaaaaa"
#define A10	"aaaaaaaaaa"
#define A39	A10 A10 A10 A9
#define A59	A10 A10 A10 A10 A10 A9
#define A78	A39 A39
#define A79	A78 "a"
#define A101	A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 "a"
#define E_ACUTE	"\xc3\xa9"		/* 2 bytes */
#define EURO	"\xe2\x82\xac"		/* 3 bytes */
#define SMILE	"\xf0\x9f\x98\x80"	/* 4 bytes */

static const struct {
	const char	*name;
	const char	*json;
	enum event_kind	 kind;
	int		 invalid;
	const char	*words;		/* in the reason; NULL = no check */
	const char	*snapshot;
} payloads[] = {
	{ "empty", "", EVENT_MALFORMED, 0, "empty payload", NULL },
	{ "whitespace", "  \n", EVENT_MALFORMED, 0, "not valid JSON", NULL },
	{ "truncated", "{\"action\":\"sw", EVENT_MALFORMED, 0, "not valid JSON", NULL },
	{ "trailing garbage", "{\"action\":\"sweep\"} x", EVENT_MALFORMED, 0, "at byte 19", NULL },
	{ "trailing newline", "{\"action\":\"sweep\"}\r\n", EVENT_MANUAL_SWEEP, 0, NULL, NULL },
	{ "array", "[{\"action\":\"sweep\"}]", EVENT_MALFORMED, 0, "not a JSON object", NULL },
	{ "string", "\"sweep\"", EVENT_MALFORMED, 0, "not a JSON object", NULL },
	{ "null", "null", EVENT_MALFORMED, 0, "not a JSON object", NULL },
	{ "empty object", "{}", EVENT_MALFORMED, 0, "neither", NULL },
	{ "action not a string", "{\"action\":1}", EVENT_MALFORMED, 0, "\"action\" must be a string", NULL },
	{ "action null", "{\"action\":null}", EVENT_MALFORMED, 0, "\"action\" must be a string", NULL },
	{ "unknown action", "{\"action\":\"nuke\"}", EVENT_UNKNOWN, 1, "unknown action \"nuke\"", NULL },
	{ "advance, empty snapshot", "{\"action\":\"advance\",\"snapshot\":\"\"}", EVENT_MANUAL_ADVANCE, 1,
	    "needs \"snapshot\"", NULL },
	{ "advance, snapshot a number", "{\"action\":\"advance\",\"snapshot\":7}", EVENT_MALFORMED, 0,
	    "\"snapshot\" must be a string", NULL },
	{ "advance, odd id", "{\"action\":\"advance\",\"snapshot\":\"a b\"}", EVENT_MANUAL_ADVANCE, 1,
	    "neither a snapshot id nor an ARN", NULL },
	{ "advance, not a snapshot ARN", "{\"action\":\"advance\",\"snapshot\":\"arn:aws:rds:us-east-1:"
	    OWN_ACCT ":db:orders\"}", EVENT_MANUAL_ADVANCE, 1, "not an RDS snapshot", NULL },
	{ "advance, short ARN", "{\"action\":\"advance\",\"snapshot\":\"arn:aws:rds:us-east-1\"}",
	    EVENT_MANUAL_ADVANCE, 1, "not an RDS snapshot", NULL },
	{ "advance, kind conflicts with ARN", "{\"action\":\"advance\",\"kind\":\"instance\",\"snapshot\":\""
	    ARN_C("c1") "\"}", EVENT_MANUAL_ADVANCE, 1, "\"kind\" is \"instance\"", NULL },
	{ "advance, bad kind", "{\"action\":\"advance\",\"kind\":\"aurora\",\"snapshot\":\"s1\"}",
	    EVENT_MANUAL_ADVANCE, 1, "\"instance\" or \"cluster\"", NULL },
	{ "advance, kind not a string", "{\"action\":\"advance\",\"kind\":1,\"snapshot\":\"s1\"}",
	    EVENT_MALFORMED, 0, "\"kind\" must be a string", NULL },
	{ "advance, cluster ARN", "{\"action\":\"advance\",\"snapshot\":\"" ARN_C("rds:c-2024") "\"}",
	    EVENT_MANUAL_ADVANCE, 0, NULL, "rds:c-2024" },
	{ "advance, awsbackup id", "{\"action\":\"advance\",\"snapshot\":\"awsbackup:job-1a2b\"}",
	    EVENT_MANUAL_ADVANCE, 0, NULL, "awsbackup:job-1a2b" },
	{ "drill, bad db", "{\"action\":\"drill\",\"db\":\"1db\"}", EVENT_MANUAL_DRILL, 1,
	    "not a DB instance or cluster id", NULL },
	{ "drill, region a number", "{\"action\":\"drill\",\"region\":5}", EVENT_MALFORMED, 0,
	    "\"region\" must be a string", NULL },
	{ "restore without db", "{\"action\":\"restore\"}", EVENT_MANUAL_RESTORE, 1, "needs \"db\"", NULL },
	{ "restore, region not a Region", "{\"action\":\"restore\",\"db\":\"db1\","
	    "\"region\":\"Frankfurt\"}", EVENT_MANUAL_RESTORE, 1, "\"region\" must be the Region", NULL },
	{ "restore, region upper case", "{\"action\":\"restore\",\"db\":\"db1\","
	    "\"region\":\"EU-CENTRAL-1\"}", EVENT_MANUAL_RESTORE, 1, "not \"EU-CENTRAL-1\"", NULL },
	{ "restore, region empty", "{\"action\":\"restore\",\"db\":\"db1\",\"region\":\"\"}",
	    EVENT_MANUAL_RESTORE, 1, "\"region\" must be the Region", NULL },
	{ "restore, region a number", "{\"action\":\"restore\",\"db\":\"db1\",\"region\":1}",
	    EVENT_MALFORMED, 0, "\"region\" must be a string", NULL },
	{ "restore, bad db", "{\"action\":\"restore\",\"db\":\"1db\"}", EVENT_MANUAL_RESTORE, 1,
	    "not a DB instance or cluster id", NULL },
	{ "restore, bad target", "{\"action\":\"restore\",\"db\":\"db1\",\"target\":\"x--y\"}",
	    EVENT_MANUAL_RESTORE, 1, "\"target\"", NULL },
	{ "restore, target a number", "{\"action\":\"restore\",\"db\":\"db1\",\"target\":5}",
	    EVENT_MALFORMED, 0, "\"target\" must be a string", NULL },
	{ "restore, account of 11 digits", "{\"action\":\"restore\",\"db\":\"db1\","
	    "\"account\":\"12345678901\"}", EVENT_MANUAL_RESTORE, 1, "12-digit", NULL },
	{ "restore, account of 13 digits", "{\"action\":\"restore\",\"db\":\"db1\","
	    "\"account\":\"1234567890123\"}", EVENT_MANUAL_RESTORE, 1, "12-digit", NULL },
	{ "restore, account not digits", "{\"action\":\"restore\",\"db\":\"db1\","
	    "\"account\":\"12345678901x\"}", EVENT_MANUAL_RESTORE, 1, "12-digit", NULL },
	{ "restore, account empty", "{\"action\":\"restore\",\"db\":\"db1\",\"account\":\"\"}",
	    EVENT_MANUAL_RESTORE, 1, "12-digit", NULL },
	{ "restore, account a number", "{\"action\":\"restore\",\"db\":\"db1\","
	    "\"account\":123456789012}", EVENT_MANUAL_RESTORE, 1, "as a string", NULL },
	{ "restore, account null", "{\"action\":\"restore\",\"db\":\"db1\",\"account\":null}",
	    EVENT_MANUAL_RESTORE, 0, NULL, NULL },
	{ "EventBridge without source", "{\"detail-type\":\"Scheduled Event\"}", EVENT_MALFORMED, 0,
	    "needs \"source\" and \"detail-type\"", NULL },
	{ "source not a string", "{\"source\":[\"aws.rds\"],\"detail-type\":\"x\"}", EVENT_MALFORMED, 0,
	    "\"source\" must be a string", NULL },
	{ "account not a string", "{\"source\":\"aws.events\",\"detail-type\":\"Scheduled Event\","
	    "\"account\":123}", EVENT_MALFORMED, 0, "\"account\" must be a string", NULL },
	{ "action beside source is EventBridge", "{\"action\":\"sweep\",\"source\":\"aws.events\","
	    "\"detail-type\":\"Scheduled Event\"}", EVENT_SCHEDULED, 0, NULL, NULL },
	{ "other aws.events detail-type", "{\"source\":\"aws.events\",\"detail-type\":\"Other\"}",
	    EVENT_UNKNOWN, 0, "\"Other\"", NULL },
	{ "other source", "{\"source\":\"aws.ec2\",\"detail-type\":\"EC2 Instance State-change "
	    "Notification\"}", EVENT_UNKNOWN, 0, "aws.ec2", NULL },
	{ "CloudTrail API call", "{\"source\":\"aws.rds\",\"detail-type\":\"AWS API Call via CloudTrail\","
	    "\"detail\":{}}", EVENT_UNKNOWN, 0, "AWS API Call via CloudTrail", NULL },
	{ "no detail", "{\"source\":\"aws.rds\",\"detail-type\":\"RDS DB Snapshot Event\"}",
	    EVENT_MALFORMED, 0, "\"detail\" object", NULL },
	{ "detail an array", SNAP_EV("[]"), EVENT_MALFORMED, 0, "\"detail\" object", NULL },
	{ "no EventID", SNAP_EV("{\"SourceArn\":\"" ARN_S("s1") "\",\"Message\":\"Manual snapshot created\"}"),
	    EVENT_UNKNOWN, 0, "no detail.EventID", NULL },
	{ "EventID a number", SNAP_EV("{\"EventID\":42}"), EVENT_MALFORMED, 0,
	    "detail.\"EventID\" must be a string", NULL },
	{ "Message is never matched", SNAP_EV("{\"EventID\":\"RDS-EVENT-0040\",\"SourceArn\":\""
	    ARN_S("s1") "\",\"Message\":\"Manual snapshot created\"}"), EVENT_UNKNOWN, 0,
	    "RDS-EVENT-0040", NULL },
	{ "cluster EventID under the instance detail-type", SNAP_EV("{\"EventID\":\"RDS-EVENT-0075\","
	    "\"SourceArn\":\"" ARN_C("c1") "\"}"), EVENT_UNKNOWN, 0, "RDS-EVENT-0075", NULL },
	{ "copy finished under the cluster detail-type", CLUSTER_EV("{\"EventID\":\"RDS-EVENT-0197\"}"),
	    EVENT_UNKNOWN, 0, "RDS-EVENT-0197", NULL },
	{ "created, only resources", SNAP_EV("{\"EventID\":\"RDS-EVENT-0042\"}") , EVENT_MALFORMED, 0,
	    "names no snapshot", NULL },
	{ "created, only SourceIdentifier", SNAP_EV("{\"EventID\":\"RDS-EVENT-0091\","
	    "\"SourceIdentifier\":\"rds:db-2024-01-01-00-00\"}"), EVENT_SNAPSHOT_CREATED, 0, NULL,
	    "rds:db-2024-01-01-00-00" },
	{ "created, SourceArn of a DB", SNAP_EV("{\"EventID\":\"RDS-EVENT-0042\",\"SourceArn\":"
	    "\"arn:aws:rds:us-east-1:" OWN_ACCT ":db:orders\"}"), EVENT_MALFORMED, 0,
	    "not an RDS snapshot", NULL },
	{ "created, cluster ARN in an instance event", SNAP_EV("{\"EventID\":\"RDS-EVENT-0042\","
	    "\"SourceArn\":\"" ARN_C("c1") "\"}"), EVENT_MALFORMED, 0, "about a cluster snapshot", NULL },
	{ "SourceArn wins over SourceIdentifier", SNAP_EV("{\"EventID\":\"RDS-EVENT-0042\","
	    "\"SourceArn\":\"" ARN_S("from-arn") "\",\"SourceIdentifier\":\"from-id\"}"),
	    EVENT_SNAPSHOT_CREATED, 0, NULL, "from-arn" },
	/* A NUL ends cJSON's string: "abc\u0000def" must not be acted on as "abc". */
	{ "NUL in SourceArn", SNAP_EV("{\"EventID\":\"RDS-EVENT-0042\",\"SourceArn\":\""
	    ARN_S("abc") "\\u0000def\"}"), EVENT_UNKNOWN, 1, "NUL character", NULL },
	{ "NUL after detail-type", "{\"source\":\"aws.rds\",\"detail-type\":\"RDS DB Snapshot "
	    "Event\\u0000junk\",\"detail\":{\"EventID\":\"RDS-EVENT-0042\",\"SourceArn\":\""
	    ARN_S("s1") "\"}}", EVENT_UNKNOWN, 1, "NUL character (at byte 56)", NULL },
	{ "NUL in a member name", "{\"action\\u0000x\":\"sweep\"}", EVENT_UNKNOWN, 1,
	    "NUL character", NULL },
	{ "NUL in a manual snapshot", "{\"action\":\"advance\",\"snapshot\":\"s1\\u0000x\"}",
	    EVENT_UNKNOWN, 1, "NUL character", NULL },
	{ "NUL in an unread member", "{\"action\":\"sweep\",\"note\":[\"\\u0000\"]}",
	    EVENT_UNKNOWN, 1, "NUL character", NULL },
	{ "escaped backslash before u0000 is text", "{\"action\":\"advance\",\"snapshot\":"
	    "\"s1\",\"note\":\"\\\\u0000\"}", EVENT_MANUAL_ADVANCE, 0, NULL, "s1" },
	{ "escaped quote keeps the string open", "{\"action\":\"sweep\",\"note\":"
	    "\"\\\"\\u0000\"}", EVENT_UNKNOWN, 1, "NUL character", NULL },
	/* A character across a reason's cut point is left out whole, never split. */
	{ "action cut at 60", "{\"action\":\"" A59 E_ACUTE "\"}", EVENT_UNKNOWN, 1,
	    "unknown action \"" A59 "\" (expected", NULL },
	{ "action of 60 bytes kept whole", "{\"action\":\"" A10 A10 A10 A10 A9 A9 E_ACUTE "\"}",
	    EVENT_UNKNOWN, 1, "\"" A10 A10 A10 A10 A9 A9 E_ACUTE "\" (expected", NULL },
	{ "kind cut at 40", "{\"action\":\"advance\",\"snapshot\":\"s1\",\"kind\":\"" A39
	    EURO "\"}", EVENT_MANUAL_ADVANCE, 1, "not \"" A39 "\"", NULL },
	{ "snapshot cut at 80", "{\"action\":\"advance\",\"snapshot\":\"" A79 SMILE "\"}",
	    EVENT_MANUAL_ADVANCE, 1, "(\"" A79 "\")", NULL },
	{ "source cut at 80", "{\"source\":\"" A78 EURO "\",\"detail-type\":\"x\"}",
	    EVENT_UNKNOWN, 0, "source \"" A78 "\" is not", NULL },
	{ "ARN cut at 120", "{\"action\":\"advance\",\"snapshot\":\"arn:aws:ec2:x:y:z:" A101
	    E_ACUTE "\"}", EVENT_MANUAL_ADVANCE, 1, "\"arn:aws:ec2:x:y:z:" A101 "\" is not", NULL },
	{ "EventID cut at 40", SNAP_EV("{\"EventID\":\"RDS-EVENT-" A10 A10 A9 E_ACUTE "\"}"),
	    EVENT_UNKNOWN, 0, "RDS-EVENT-" A10 A10 A9 " is not an event", NULL },
	/* JSON is UTF-8: cJSON would copy any bytes into the strings, and on to the logs. */
	{ "not UTF-8: FF", "{\"action\":\"\xff\"}", EVENT_MALFORMED, 0,
	    "not valid UTF-8 (at byte 11 of 14)", NULL },
	{ "not UTF-8: lone lead", "{\"action\":\"sweep\xc3\"}", EVENT_MALFORMED, 0,
	    "not valid UTF-8 (at byte 16", NULL },
	{ "not UTF-8: overlong slash", "{\"action\":\"\xc0\xaf\"}", EVENT_MALFORMED, 0,
	    "not valid UTF-8", NULL },
	{ "not UTF-8: surrogate", "{\"action\":\"\xed\xa0\x80\"}", EVENT_MALFORMED, 0,
	    "not valid UTF-8", NULL },
	{ "u0001 is no NUL", "{\"action\":\"sweep\",\"note\":\"\\u0001\"}",
	    EVENT_MANUAL_SWEEP, 0, NULL, NULL },
};

static void
test_payloads(void)
{
	struct event ev;
	size_t i;

	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		CHECK(event_parse(payloads[i].json, strlen(payloads[i].json), &ev) == 0);
		if (ev.kind != payloads[i].kind || ev.invalid != payloads[i].invalid ||
		    (payloads[i].words != NULL && strstr(ev.reason, payloads[i].words) == NULL))
			fprintf(stderr, "case \"%s\": got %s invalid=%d reason \"%s\"\n",
			    payloads[i].name, event_kind_name(ev.kind), ev.invalid, ev.reason);
		CHECK(ev.kind == payloads[i].kind);
		CHECK(ev.invalid == payloads[i].invalid);
		CHECK(payloads[i].words == NULL || strstr(ev.reason, payloads[i].words) != NULL);
		/* Every reason is valid UTF-8, whatever was cut. */
		CHECK(utf8_valid(ev.reason, strlen(ev.reason)) == strlen(ev.reason));
		if (payloads[i].snapshot != NULL)
			CHECK_STR(ev.snapshot, payloads[i].snapshot);
		event_clean(&ev);
	}
	/* Nesting far beyond cJSON's limit: refused, no stack overflow. */
	{
		size_t n = 100000, k;
		char *deep = malloc(2 * n + 1);

		for (k = 0; k < n; k++) {
			deep[k] = '[';
			deep[n + k] = ']';
		}
		deep[2 * n] = '\0';
		CHECK(event_parse(deep, 2 * n, &ev) == 0);
		CHECK(ev.kind == EVENT_MALFORMED && strstr(ev.reason, "not valid JSON") != NULL);
		event_clean(&ev);
		free(deep);
	}
	/* A raw NUL byte: in a string as \u0000 is; between tokens not JSON (cJSON skips it). */
	{
		static const char in_str[] = "{\"action\":\"advance\",\"snapshot\":\"abc\0def\"}";
		static const char between[] = "{\"action\":\0\"sweep\"}";

		CHECK(event_parse(in_str, sizeof(in_str) - 1, &ev) == 0);
		CHECK(ev.kind == EVENT_UNKNOWN && ev.invalid == 1 && ev.snapshot == NULL &&
		    strstr(ev.reason, "NUL character (at byte 35)") != NULL);
		event_clean(&ev);
		CHECK(event_parse(between, sizeof(between) - 1, &ev) == 0);
		CHECK(ev.kind == EVENT_MALFORMED && strstr(ev.reason, "NUL byte at byte 10") != NULL);
		event_clean(&ev);
	}
	/* Only len bytes are parsed. */
	CHECK(event_parse("{\"action\":\"sweep\"}GARBAGE", 18, &ev) == 0);
	CHECK(ev.kind == EVENT_MANUAL_SWEEP);
	event_clean(&ev);
	CHECK(event_parse(NULL, 0, &ev) == 0 && ev.kind == EVENT_MALFORMED);
	event_clean(&ev);
	event_clean(&ev);	/* twice: zeroed */
}

static void
test_foreign(void)
{
	struct event ev;
	const char *other = "{\"action\":\"advance\",\"snapshot\":\"arn:aws:rds:eu-west-1:"
	    "210987654321:snapshot:s1\"}";

	CHECK(event_parse(other, strlen(other), &ev) == 0);
	CHECK(event_foreign(&ev, OWN_ACCT, OWN_REGION) == 1);		/* both differ */
	CHECK(event_foreign(&ev, NULL, "eu-west-1") == 0);		/* account unknown */
	CHECK(event_foreign(&ev, "210987654321", "eu-west-1") == 0);
	CHECK(event_foreign(&ev, OWN_ACCT, "eu-west-1") == 1);
	CHECK(event_foreign(&ev, NULL, NULL) == 0);
	event_clean(&ev);
	CHECK(event_parse("{\"action\":\"sweep\"}", 18, &ev) == 0);
	CHECK(event_foreign(&ev, OWN_ACCT, OWN_REGION) == 0);		/* says nothing of either */
	event_clean(&ev);
}

/* A copy-finished event forwarded by the backup account: the only event of another
 * account the ferry takes, and only for a copy with its prefix in BACKUP_REGION. */
static void
test_forwarded(void)
{
	static const char fmt[] = "{\"source\":\"aws.rds\",\"detail-type\":\"RDS DB Snapshot "
	    "Event\",\"account\":\"%s\",\"region\":\"us-east-1\",\"detail\":{\"EventID\":"
	    "\"%s\",\"SourceArn\":\"arn:aws:rds:us-east-1:%s:snapshot:%s\"}}";
	struct config cfg;
	struct event ev;
	char buf[512];
	static const struct {
		const char *account, *event_id, *arn_account, *id;
		int mode, want;
	} c[] = {
		{ "210987654321", "RDS-EVENT-0197", "210987654321", "snapferry-a-1fd162ee",
		    CONFIG_MODE_FERRY, 1 },
		{ "210987654321", "RDS-EVENT-0060", "210987654321", "snapferry-a-1fd162ee",
		    CONFIG_MODE_FERRY, 1 },
		{ "210987654321", "RDS-EVENT-0197", "210987654321", "snapferry-a",
		    CONFIG_MODE_KEEPER, 0 },			/* the keeper's own */
		{ "210987654321", "RDS-EVENT-0197", "210987654321", "user-copy",
		    CONFIG_MODE_FERRY, 0 },			/* not snapferry's name */
		{ "210987654321", "RDS-EVENT-0197", "210987654321", "snapferryx-a",
		    CONFIG_MODE_FERRY, 0 },
		{ "444455556666", "RDS-EVENT-0197", "444455556666", "snapferry-a",
		    CONFIG_MODE_FERRY, 0 },			/* another account */
		{ "210987654321", "RDS-EVENT-0197", "444455556666", "snapferry-a",
		    CONFIG_MODE_FERRY, 0 },			/* ARN of another account */
		{ "210987654321", "RDS-EVENT-0042", "210987654321", "snapferry-a",
		    CONFIG_MODE_FERRY, 0 },			/* not copy-finished */
	};
	char *one[] = { "us-east-1" }, *other[] = { "eu-west-1" };
	char *two[] = { "eu-west-1", "us-east-1" };
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.backup_account_id = (char *)(uintptr_t)"210987654321";
	cfg.region = (char *)(uintptr_t)"us-east-1";
	cfg.backup_region = (char *)(uintptr_t)"us-east-1";
	cfg.backup_regions = one;
	cfg.n_backup_regions = 1;
	cfg.name_prefix = (char *)(uintptr_t)"snapferry";
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(buf, sizeof(buf), fmt, c[i].account, c[i].event_id, c[i].arn_account,
		    c[i].id);
		CHECK(event_parse(buf, strlen(buf), &ev) == 0);
		cfg.mode = c[i].mode;
		if (inflight_is_forwarded(&ev, &cfg) != c[i].want)
			fprintf(stderr, "forwarded case %zu\n", i);
		CHECK(inflight_is_forwarded(&ev, &cfg) == c[i].want);
		event_clean(&ev);
	}
	cfg.backup_region = (char *)(uintptr_t)"eu-west-1";		/* not BACKUP_REGION */
	cfg.backup_regions = other;
	snprintf(buf, sizeof(buf), fmt, c[0].account, c[0].event_id, c[0].arn_account, c[0].id);
	CHECK(event_parse(buf, strlen(buf), &ev) == 0);
	CHECK(inflight_is_forwarded(&ev, &cfg) == 0);
	/* Two Regions the ferry fills in one step (AWS_REGION not one): either one's copy. */
	cfg.region = (char *)(uintptr_t)"ca-central-1";
	cfg.backup_regions = two;
	cfg.n_backup_regions = 2;
	CHECK(inflight_is_forwarded(&ev, &cfg) == 1);
	/* AWS_REGION one of them: us-east-1's copy is the keeper's chain, not the ferry's. */
	cfg.region = (char *)(uintptr_t)"eu-west-1";
	CHECK(inflight_is_forwarded(&ev, &cfg) == 0);
	CHECK(inflight_is_forwarded(&ev, NULL) == 0);
	event_clean(&ev);
}

/* The restore's "account" names whose backup copies to restore: kept apart from the
 * envelope's account, so it never makes the payload foreign. */
static void
test_restore_account(void)
{
	static const char with[] = "{\"action\":\"restore\",\"db\":\"orders-db\","
	    "\"account\":\"210987654321\"}";
	static const char without[] = "{\"action\":\"restore\",\"db\":\"orders-db\"}";
	struct event ev;

	CHECK(event_parse(with, strlen(with), &ev) == 0);
	CHECK(ev.kind == EVENT_MANUAL_RESTORE && !ev.invalid);
	CHECK_STR(ev.db, "orders-db");
	CHECK_STR(ev.db_account, "210987654321");
	CHECK(ev.account == NULL);
	CHECK(event_foreign(&ev, OWN_ACCT, OWN_REGION) == 0);
	event_clean(&ev);
	CHECK(ev.db_account == NULL);
	CHECK(event_parse(without, strlen(without), &ev) == 0);
	CHECK(ev.kind == EVENT_MANUAL_RESTORE && !ev.invalid && ev.db_account == NULL);
	CHECK(ev.restore_region == NULL);
	event_clean(&ev);
}

/* "region" of a restore (issue 10): where to restore, not the envelope's region, so a
 * restore naming another Region is no foreign event (restore_db decides). */
static void
test_restore_region(void)
{
	static const char with[] = "{\"action\":\"restore\",\"db\":\"orders-db\","
	    "\"region\":\"eu-central-1\",\"account\":\"210987654321\"}";
	static const char gov[] = "{\"action\":\"restore\",\"db\":\"orders-db\","
	    "\"region\":\"us-gov-west-1\"}";
	struct event ev;

	CHECK(event_parse(with, strlen(with), &ev) == 0);
	CHECK(ev.kind == EVENT_MANUAL_RESTORE && !ev.invalid);
	CHECK_STR(ev.restore_region, "eu-central-1");
	CHECK_STR(ev.db_account, "210987654321");
	CHECK(ev.region == NULL && ev.drill_region == NULL);
	CHECK(event_foreign(&ev, OWN_ACCT, OWN_REGION) == 0);
	event_clean(&ev);
	CHECK(ev.restore_region == NULL);
	CHECK(event_parse(gov, strlen(gov), &ev) == 0);
	CHECK(!ev.invalid);
	CHECK_STR(ev.restore_region, "us-gov-west-1");
	event_clean(&ev);
}

static void
test_names(void)
{
	static const enum event_kind all[] = { EVENT_MALFORMED, EVENT_UNKNOWN, EVENT_SNAPSHOT_CREATED,
	    EVENT_CLUSTER_SNAPSHOT_CREATED, EVENT_COPY_FINISHED, EVENT_SCHEDULED, EVENT_MANUAL_SWEEP,
	    EVENT_MANUAL_ADVANCE, EVENT_MANUAL_RESTORE, EVENT_MANUAL_INFLIGHT };
	size_t i, j, n = sizeof(all) / sizeof(all[0]);

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			CHECK(strcmp(event_kind_name(all[i]), event_kind_name(all[j])) != 0);
	CHECK_STR(event_kind_name(EVENT_SNAPSHOT_CREATED), "snapshot-created");
	CHECK_STR(event_kind_name(EVENT_COPY_FINISHED), "copy-finished");
	CHECK_STR(event_snap_kind_name(SNAP_INSTANCE), "instance");
	CHECK_STR(event_snap_kind_name(SNAP_CLUSTER), "cluster");
	CHECK(event_snap_kind_name(SNAP_NONE) == NULL);
}

int
main(void)
{
	const char *root = getenv("SNAPFERRY_ROOT");
	struct stat st;

	/* Run from the repository root (make test), or say where it is. */
	if (root == NULL)
		root = ".";
	if (stat("events", &st) != 0 && getenv("SNAPFERRY_ROOT") == NULL)
		fprintf(stderr, "run from the repository root or set SNAPFERRY_ROOT\n");
	test_samples(root);
	test_payloads();
	test_foreign();
	test_restore_account();
	test_restore_region();
	test_forwarded();
	test_names();
	UNIT_DONE();
}

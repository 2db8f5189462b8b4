/*
 * fuzz_flow: the flow, not a parser.  ferry_advance() (src/ferry.c) and
 * sweep_run() (src/sweep.c) run against a fake AWS whose every answer is
 * made from the fuzzer's input: snapshots with members missing, odd states,
 * right or wrong lineage tags, other accounts' ARNs, unparseable times,
 * pagination markers, AWS errors, transport failures, raw bytes.  The fake
 * sits behind http.c's transport hook, so no network is used.  (A home-made
 * responder: no real component answers with arbitrary AWS states.)
 *
 * Input: byte 0 picks the operation (advance by instance ARN, by cluster ARN,
 * by plain id, a copy-finished event for a transit copy, or a sweep) and one
 * of four configurations (a ferry; a keeper with retention and restore, whose
 * operations are its sweep and its disaster-day restore; TRANSIT_CLEANUP=false;
 * dry run).  Then each request takes what it needs: a mode byte (transport
 * failure, AWS error, raw body, or a structured answer for its action) and
 * the bytes that shape the answer.  An exhausted input fails every further
 * request, so each run is bounded by its input.
 *
 * SNAPFERRY_FUZZ_FLOW_AVOID=null-arn keeps every snapshot's ARN member in the
 * answers: tests/test_fuzz.py sets it for its brief run while issue 8's defect 1
 * (delete_ours on a source whose ARN is unknown: NULL passed to strcmp) is being
 * fixed; its reproducer is tests/fuzz/repro/flow-defect1-null-source-arn.
 * `make fuzz` does not set it.
 *
 * Properties checked besides ASan/UBSan: the outcome is one of the known
 * ones; a failed result names its error type; snapferry deletes only
 * snapshots it was shown carrying its lineage (created-by snapferry, a source
 * ARN in its own account); it shares only with the backup account.
 */
#include "assume.h"
#include "fuzz.h"

#include <strings.h>
#include <time.h>

#include "aws.h"
#include "millis.h"
#include "buf.h"
#include "config.h"
#include "credentials.h"
#include "ferry.h"
#include "http.h"
#include "keeper.h"
#include "log.h"
#include "rds.h"
#include "restore.h"
#include "result.h"
#include "sweep.h"

#define OWN		"111111111111"
#define BACKUP		"222222222222"
#define OTHER		"333333333333"
#define REGION		"eu-west-1"
#define MAX_OURS	64

/* The input, consumed by the fake one byte at a time. */
static const uint8_t *in_p;
static size_t in_n;
static int in_out;	/* 1 once the input is exhausted */

/* Snapshot ids the fake showed with snapferry's lineage (of the own account). */
static char *ours[MAX_OURS];
static size_t n_ours;
static int last_tags_ours;	/* the last TagList built was snapferry's own lineage */
/* The run is a keeper's: every production account's copies are its own to keep. */
static int keeper_flow;
static int keep_arns;		/* SNAPFERRY_FUZZ_FLOW_AVOID=null-arn (see above) */
static int trace;		/* SNAPFERRY_FUZZ_FLOW_TRACE set: every exchange on stderr */

static int
next(void)
{
	if (in_n == 0) {
		in_out = 1;
		return (0);
	}
	in_n--;
	return (*in_p++);
}

static const char *
pick(const char *const *t, size_t n)
{
	return (t[(size_t)next() % n]);
}
#define PICK(t)	pick((t), sizeof(t) / sizeof((t)[0]))

/* ---- what the answers are made of ------------------------------------------ */

struct entity {
	const char	*id;
	const char	*arn;
};

static const struct entity instances[] = {
	{ "src-1", "arn:aws:rds:" REGION ":" OWN ":snapshot:src-1" },
	{ "snapferry-src-1", "arn:aws:rds:" REGION ":" OWN ":snapshot:snapferry-src-1" },
	{ "snapferry-src-1", "arn:aws:rds:" REGION ":" BACKUP ":snapshot:snapferry-src-1" },
	{ "rds:src-db-2024-05-01-10-15",
	  "arn:aws:rds:" REGION ":" OWN ":snapshot:rds:src-db-2024-05-01-10-15" },
	{ "snapferry-src-db-2024-05-01-10-15",
	  "arn:aws:rds:" REGION ":" BACKUP ":snapshot:snapferry-src-db-2024-05-01-10-15" },
	{ "users-own", "arn:aws:rds:" REGION ":" BACKUP ":snapshot:users-own" },
	{ "snapferry-elsewhere", "arn:aws:rds:" REGION ":" BACKUP ":snapshot:snapferry-elsewhere" },
	{ "src-2", "arn:aws:rds:" REGION ":" OTHER ":snapshot:src-2" },
};

static const struct entity clusters[] = {
	{ "csrc-1", "arn:aws:rds:" REGION ":" OWN ":cluster-snapshot:csrc-1" },
	{ "snapferry-csrc-1", "arn:aws:rds:" REGION ":" OWN ":cluster-snapshot:snapferry-csrc-1" },
	{ "snapferry-csrc-1", "arn:aws:rds:" REGION ":" BACKUP ":cluster-snapshot:snapferry-csrc-1" },
	{ "rds:aurora-2024-05-01-10-15",
	  "arn:aws:rds:" REGION ":" OWN ":cluster-snapshot:rds:aurora-2024-05-01-10-15" },
	{ "snapferry-elsewhere", "arn:aws:rds:" REGION ":" BACKUP ":cluster-snapshot:snapferry-elsewhere" },
};

static const char *const source_arns[] = {
	"arn:aws:rds:" REGION ":" OWN ":snapshot:src-1",
	"arn:aws:rds:" REGION ":" OWN ":cluster-snapshot:csrc-1",
	"arn:aws:rds:" REGION ":" OWN ":snapshot:rds:src-db-2024-05-01-10-15",
	"arn:aws:rds:" REGION ":" OWN ":snapshot:src-9",
	"arn:aws:rds:" REGION ":" OTHER ":snapshot:src-1",
	"arn:aws:rds:us-east-1:" OWN ":snapshot:src-1",
	"",
	"not-an-arn",
};

static const char *const statuses[] = {
	"available", "creating", "copying", "failed", "incompatible-restore", "deleted",
	"", "pending",
};
static const char *const types[] = { "manual", "automated", "shared", "awsbackup" };
static const char *const times[] = {
	"2024-05-01T10:15:22.412Z", "2024-05-01T10:15:22Z", "2024-04-01T00:00:00Z",
	"2024-05-02T23:59:59.999Z", "garbage", "2024-02-31T00:00:00Z", "", "1970-01-01T00:00:00Z",
};
static const char *const keys[] = {
	"arn:aws:kms:" REGION ":" OWN ":key/aaaaaaaa-0000-0000-0000-000000000001",
	"arn:aws:kms:" REGION ":" OWN ":key/11111111-2222-3333-4444-555555555555",
	"arn:aws:kms:" REGION ":" BACKUP ":key/66666666-7777-8888-9999-000000000000",
	"arn:aws:kms:" REGION ":" OTHER ":key/bbbbbbbb-0000-0000-0000-000000000002",
	"alias/aws/rds", "",
};
static const char *const engines[] = {
	"postgres", "mysql", "aurora-postgresql", "aurora-mysql", "oracle-ee", "sqlserver-ee", "",
};
static const char *const dbs[] = { "src-db", "aurora", "other-db", "", "snapferry-src-db" };
static const char *const accounts[] = { OWN, BACKUP, OTHER, "all", "" };
static const char *const markers[] = { "m1", "m2", "m1", "" };

static const struct {
	const char	*code;
	long		 status;
} errors[] = {
	{ "DBSnapshotNotFound", 404 }, { "DBSnapshotNotFoundFault", 404 },
	{ "DBClusterSnapshotNotFoundFault", 404 }, { "DBSnapshotAlreadyExists", 400 },
	{ "DBClusterSnapshotAlreadyExistsFault", 400 }, { "InvalidDBSnapshotState", 400 },
	{ "InvalidDBClusterSnapshotStateFault", 400 }, { "SnapshotQuotaExceeded", 400 },
	{ "SharedSnapshotQuotaExceeded", 400 }, { "AccessDenied", 403 },
	{ "KMSKeyNotAccessibleFault", 400 }, { "InvalidParameterValue", 400 },
	{ "Throttling", 400 }, { "InternalFailure", 500 }, { "ExpiredToken", 403 },
	{ "NotFoundException", 400 }, { "DBInstanceAlreadyExists", 400 },
	{ "DBInstanceNotFound", 404 }, { "DBClusterNotFoundFault", 404 },
	{ "CopyConcurrencyLimit", 400 }, { "Oops", 418 },
};

/* ---- building answers -------------------------------------------------------- */

static void
put(struct buf *b, const char *s)
{
	(void)buf_append_str(b, s);
}

static void
elem(struct buf *b, const char *name, const char *value)
{
	put(b, "<");
	put(b, name);
	put(b, ">");
	put(b, value);
	put(b, "</");
	put(b, name);
	put(b, ">");
}

static void
tag(struct buf *b, const char *k, const char *v)
{
	put(b, "<Tag>");
	elem(b, "Key", k);
	elem(b, "Value", v);
	put(b, "</Tag>");
}

/* True when ${arn} names a snapshot of the function's own account (any region, as the
 * code under test may be stricter but never looser). */
static int
own_arn(const char *arn)
{
	return (strncmp(arn, "arn:aws:rds:", 12) == 0 && strstr(arn, ":" OWN ":") != NULL);
}

static void
mark_ours(const char *id)
{
	size_t i;

	last_tags_ours = 1;
	if (id == NULL || *id == '\0')
		return;
	for (i = 0; i < n_ours; i++)
		if (strcmp(ours[i], id) == 0)
			return;
	if (n_ours < MAX_OURS && (ours[n_ours] = strdup(id)) != NULL)
		n_ours++;
}

/* A TagList: a lineage preset, or a few tags picked one by one.  ${id}: whose tags they
 * are (NULL: unknown), marked as ours when they are snapferry's full lineage. */
static void
taglist(struct buf *b, const char *id)
{
	const char *src;
	int preset = next() % 8, i, n;

	last_tags_ours = 0;
	put(b, "<TagList>");
	src = PICK(source_arns);
	switch (preset) {
	case 0:
		break;
	case 1:
	case 2:
	case 3:
		tag(b, "snapferry:created-by", "snapferry");
		tag(b, "snapferry:version", "0.1.0");
		tag(b, "snapferry:role", preset == 1 ? "transit" : "backup");
		tag(b, "snapferry:source-arn", preset == 3 ? src : source_arns[0]);
		tag(b, "snapferry:source-db", "src-db");
		tag(b, "snapferry:source-key", keys[0]);
		tag(b, "snapferry:source-time", PICK(times));
		if (own_arn(preset == 3 ? src : source_arns[0]) || keeper_flow)
			mark_ours(id);
		break;
	case 4:		/* snapferry's tags but not its creation mark */
		tag(b, "snapferry:role", "backup");
		tag(b, "snapferry:source-arn", source_arns[0]);
		break;
	case 5:
		tag(b, "snapferry:created-by", "snapferry");
		tag(b, "snapferry:role", "backup");
		tag(b, "snapferry:source-arn", src);
		tag(b, "snapferry:shared-before", "true");
		if (own_arn(src) || keeper_flow)
			mark_ours(id);
		break;
	default:
		n = next() % 4;
		for (i = 0; i < n; i++) {
			static const char *const k[] = {
				"snapferry:created-by", "snapferry:role", "snapferry:source-arn",
				"snapferry:source-time", "snapferry:source-db", "env",
			};
			static const char *const v[] = {
				"snapferry", "transit", "backup", "2024-05-01T10:15:22Z", "",
			};
			const char *kk = PICK(k);

			tag(b, kk, strcmp(kk, "snapferry:source-arn") == 0 ? src : PICK(v));
		}
		/* Picked one by one: never counted as snapferry's (they may lack a piece). */
		break;
	}
	put(b, "</TagList>");
}

/* One DBSnapshot / DBClusterSnapshot element, members present or not by the input. */
static void
snapshot(struct buf *b, int cluster)
{
	const struct entity *e = cluster ?
	    &clusters[(size_t)next() % (sizeof(clusters) / sizeof(clusters[0]))] :
	    &instances[(size_t)next() % (sizeof(instances) / sizeof(instances[0]))];
	int bits = next() | next() << 8;
	const char *item = cluster ? "DBClusterSnapshot" : "DBSnapshot";

	put(b, "<");
	put(b, item);
	put(b, ">");
	if (!(bits & 1))
		elem(b, cluster ? "DBClusterSnapshotIdentifier" : "DBSnapshotIdentifier", e->id);
	if (!(bits & 2) || keep_arns)
		elem(b, cluster ? "DBClusterSnapshotArn" : "DBSnapshotArn",
		    (bits & 4) ? PICK(source_arns) : e->arn);
	if (!(bits & 8))
		elem(b, "Status", PICK(statuses));
	if (!(bits & 16))
		elem(b, "SnapshotType", PICK(types));
	if (!(bits & 32))
		elem(b, "SnapshotCreateTime", PICK(times));
	if (!(bits & 64))
		elem(b, cluster ? "DBClusterIdentifier" : "DBInstanceIdentifier", PICK(dbs));
	/* What AWS records of a copy, which the keeper decides on. */
	if (bits & 2)
		elem(b, cluster ? "SourceDBClusterSnapshotArn" : "SourceDBSnapshotIdentifier",
		    PICK(source_arns));
	if (!cluster && (bits & 32))
		elem(b, "OriginalSnapshotCreateTime", PICK(times));
	if (!(bits & 128))
		elem(b, "Engine", PICK(engines));
	if (bits & 256)
		elem(b, "EngineMode", (bits & 512) ? "provisioned" : "serverless");
	elem(b, cluster ? "StorageEncrypted" : "Encrypted", (bits & 1024) ? "false" : "true");
	if (!(bits & 2048))
		elem(b, "KmsKeyId", PICK(keys));
	if (bits & 4096)
		elem(b, "OptionGroupName", (bits & 8192) ? "default:postgres-16" : "og-tde");
	if (bits & 16384)
		elem(b, "PercentProgress", (bits & 32768) ? "100" : "-7");
	/* Tags shown with an identifier are that snapshot's, whatever its ARN says. */
	taglist(b, (bits & 1) ? NULL : e->id);
	put(b, "</");
	put(b, item);
	put(b, ">");
}

/* ---- the fake AWS ------------------------------------------------------------- */

/* The value of form parameter ${key} in ${body} (URL-decoded, malloc'd) or NULL. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

static char *
param(const char *body, size_t len, const char *key)
{
	size_t kl = strlen(key), i = 0, j;
	char *out, *o;

	while (i < len) {
		if (len - i > kl && strncmp(body + i, key, kl) == 0 && body[i + kl] == '=') {
			i += kl + 1;
			for (j = i; j < len && body[j] != '&'; j++)
				;
			if ((out = malloc(j - i + 1)) == NULL)
				abort();
			for (o = out; i < j; i++) {
				if (body[i] == '%' && i + 2 < j && hexval(body[i + 1]) >= 0 &&
				    hexval(body[i + 2]) >= 0) {
					*o++ = (char)(hexval(body[i + 1]) * 16 + hexval(body[i + 2]));
					i += 2;
				} else
					*o++ = body[i] == '+' ? ' ' : body[i];
			}
			*o = '\0';
			return (out);
		}
		while (i < len && body[i] != '&')
			i++;
		i++;
	}
	return (NULL);
}

static int
is_ours(const char *ref)
{
	const char *id = ref, *p;
	size_t i;

	/* An ARN: the id follows ":snapshot:" or ":cluster-snapshot:". */
	if (strncmp(ref, "arn:", 4) == 0 && (p = strstr(ref, "snapshot:")) != NULL)
		id = p + strlen("snapshot:");
	for (i = 0; i < n_ours; i++)
		if (strcmp(ours[i], id) == 0)
			return (1);
	return (0);
}

static void
check_request(const char *action, const char *body, size_t len)
{
	char *v;
	char key[64];
	int i;

	if (strcmp(action, "DeleteDBSnapshot") == 0 ||
	    strcmp(action, "DeleteDBClusterSnapshot") == 0) {
		v = param(body, len, action[8] == 'C' ? "DBClusterSnapshotIdentifier" :
		    "DBSnapshotIdentifier");
		FUZZ_ASSERT(v != NULL);
		if (!is_ours(v))
			fprintf(stderr, "deleting %s, never shown with snapferry's lineage\n", v);
		FUZZ_ASSERT(is_ours(v));
		free(v);
	}
	if (strncmp(action, "Modify", 6) == 0) {
		for (i = 1; i <= 4; i++) {
			snprintf(key, sizeof(key), "ValuesToAdd.AttributeValue.%d", i);
			if ((v = param(body, len, key)) == NULL)
				break;
			FUZZ_ASSERT(strcmp(v, BACKUP) == 0);
			free(v);
		}
	}
}

static int
fail_transport(struct http_response *resp, enum http_fail why)
{
	resp->fail = why;
	snprintf(resp->errstr, sizeof(resp->errstr), "fuzz: transport failure");
	return (-1);
}

static void
query_answer(struct buf *b, const char *action)
{
	int cluster = strstr(action, "Cluster") != NULL, i, n;

	put(b, "<");
	put(b, action);
	put(b, "Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><");
	put(b, action);
	put(b, "Result>");
	if (strcmp(action, "DescribeDBSnapshots") == 0 ||
	    strcmp(action, "DescribeDBClusterSnapshots") == 0) {
		put(b, cluster ? "<DBClusterSnapshots>" : "<DBSnapshots>");
		n = next() % 4;
		for (i = 0; i < n; i++)
			snapshot(b, cluster);
		put(b, cluster ? "</DBClusterSnapshots>" : "</DBSnapshots>");
		if (next() & 1)
			elem(b, "Marker", PICK(markers));
	} else if (strncmp(action, "Copy", 4) == 0 || strncmp(action, "Delete", 6) == 0) {
		if (!(next() & 1))
			snapshot(b, cluster);
	} else if (strstr(action, "SnapshotAttributes") != NULL) {
		put(b, cluster ? "<DBClusterSnapshotAttributesResult><DBClusterSnapshotAttributes>"
		    "<DBClusterSnapshotAttribute>" : "<DBSnapshotAttributesResult>"
		    "<DBSnapshotAttributes><DBSnapshotAttribute>");
		elem(b, "AttributeName", (next() & 7) ? "restore" : "other");
		put(b, "<AttributeValues>");
		n = next() % 3;
		for (i = 0; i < n; i++)
			elem(b, "AttributeValue", PICK(accounts));
		put(b, "</AttributeValues>");
		put(b, cluster ? "</DBClusterSnapshotAttribute></DBClusterSnapshotAttributes>"
		    "</DBClusterSnapshotAttributesResult>" : "</DBSnapshotAttribute>"
		    "</DBSnapshotAttributes></DBSnapshotAttributesResult>");
	} else if (strcmp(action, "DescribeOptionGroups") == 0) {
		put(b, "<OptionGroupsList><OptionGroup><OptionGroupName>og</OptionGroupName>"
		    "<Options><Option>");
		elem(b, "OptionName", (next() & 1) ? "TDE" : "Timezone");
		elem(b, "Persistent", (next() & 1) ? "true" : "false");
		elem(b, "Permanent", (next() & 1) ? "true" : "false");
		put(b, "</Option></Options></OptionGroup></OptionGroupsList>");
	} else if (strcmp(action, "DescribeDBInstances") == 0 ||
	    strcmp(action, "DescribeDBClusters") == 0 || strncmp(action, "Restore", 7) == 0 ||
	    strcmp(action, "CreateDBInstance") == 0) {
		n = next() % 2;
		put(b, cluster ? "<DBClusters>" : "<DBInstances>");
		for (i = 0; i < n; i++) {
			put(b, cluster ? "<DBCluster>" : "<DBInstance>");
			elem(b, cluster ? "DBClusterIdentifier" : "DBInstanceIdentifier",
			    (next() & 1) ? "snapferry-src-db" : "src-db");
			elem(b, cluster ? "Status" : "DBInstanceStatus", PICK(statuses));
			elem(b, "Engine", PICK(engines));
			taglist(b, NULL);
			put(b, cluster ? "</DBCluster>" : "</DBInstance>");
		}
		put(b, cluster ? "</DBClusters>" : "</DBInstances>");
	} else if (strcmp(action, "ListTagsForResource") == 0) {
		taglist(b, NULL);	/* the caller marks the resource */
	}
	put(b, "</");
	put(b, action);
	put(b, "Result><ResponseMetadata><RequestId>fuzz</RequestId></ResponseMetadata></");
	put(b, action);
	put(b, "Response>");
}

static int
fake_aws(const struct http_request *req, struct http_response *resp)
{
	const char *target = NULL, *body = req->body ? req->body : "";
	size_t len = req->body ? req->body_len : 0, i;
	char *action = NULL, *res;
	int mode, rc = 0;

	for (i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, "X-Amz-Target") == 0)
			target = req->headers[i].value;
	FUZZ_ASSERT(strncmp(req->url, "http://127.0.0.1:9/", 19) == 0);
	if (target != NULL) {
		const char *dot = strrchr(target, '.');

		action = strdup(dot ? dot + 1 : target);
	} else
		action = param(body, len, "Action");
	if (action == NULL)
		abort();
	resp->request_id = strdup("fuzz-request-id");
	/* The role is always assumed (the AssumeRole answer has its own harness). */
	if (strcmp(action, "AssumeRole") == 0) {
		resp->status = 200;
		put(&resp->body, "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/"
		    "2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIAFUZZ</AccessKeyId>"
		    "<SecretAccessKey>fuzzsecret</SecretAccessKey><SessionToken>fuzztoken"
		    "</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
		    "</AssumeRoleResult></AssumeRoleResponse>");
		goto out;
	}
	check_request(action, body, len);
	mode = next();
	if (in_out) {
		rc = fail_transport(resp, HTTP_FAIL_CONNECT);
		goto out;
	}
	switch (mode % 16) {
	case 0:
		rc = fail_transport(resp, (next() & 1) ? HTTP_FAIL_IO : HTTP_FAIL_TIMEOUT);
		goto out;
	case 1: {
		size_t e = (size_t)next() % (sizeof(errors) / sizeof(errors[0]));

		resp->status = errors[e].status;
		if (target != NULL) {
			put(&resp->body, "{\"__type\":\"");
			put(&resp->body, errors[e].code);
			put(&resp->body, "\",\"message\":\"fuzz\"}");
		} else {
			put(&resp->body, "<ErrorResponse><Error><Type>Sender</Type><Code>");
			put(&resp->body, errors[e].code);
			put(&resp->body, "</Code><Message>fuzz</Message></Error>"
			    "<RequestId>fuzz</RequestId></ErrorResponse>");
		}
		goto out;
	}
	case 2: {
		size_t n = (size_t)next();

		resp->status = 200;
		if (n > in_n)
			n = in_n;
		(void)buf_append(&resp->body, in_p, n);
		in_p += n;
		in_n -= n;
		goto out;
	}
	default:
		break;
	}
	resp->status = 200;
	if (strcmp(action, "DescribeKey") == 0) {
		static const char *const managers[] = { "AWS", "CUSTOMER", "", "OTHER" };

		put(&resp->body, "{\"KeyMetadata\":{\"KeyId\":\"k\",\"Arn\":\"");
		put(&resp->body, PICK(keys));
		put(&resp->body, "\",\"KeyManager\":\"");
		put(&resp->body, PICK(managers));
		put(&resp->body, (next() & 1) ? "\",\"KeyState\":\"Enabled\",\"Enabled\":true}}" :
		    "\",\"KeyState\":\"PendingDeletion\",\"Enabled\":false}}");
	} else if (strcmp(action, "GetCallerIdentity") == 0) {
		put(&resp->body, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>");
		put(&resp->body, PICK(accounts));
		put(&resp->body, "</Account></GetCallerIdentityResult></GetCallerIdentityResponse>");
	} else if (target != NULL) {
		put(&resp->body, "{}");
	} else {
		query_answer(&resp->body, action);
		/* Tags listed for a resource are that resource's. */
		if (strcmp(action, "ListTagsForResource") == 0 && last_tags_ours &&
		    (res = param(body, len, "ResourceName")) != NULL) {
			const char *p = strstr(res, "snapshot:");

			mark_ours(p ? p + strlen("snapshot:") : res);
			free(res);
		}
	}
out:
	if (trace)
		fprintf(stderr, "fuzz_flow: %s %.*s\n  -> %ld %.*s\n", action, (int)len, body,
		    resp->status, (int)resp->body.len, resp->body.data ? resp->body.data : "");
	free(action);
	return (rc);
}

/* ---- one run ------------------------------------------------------------------ */

static const char *cfg_extra[4][2];

static const char *
fake_env(const char *name)
{
	static const char *const t[][2] = {
		{ "AWS_REGION", REGION },
		{ "BACKUP_ACCOUNT_ID", BACKUP },
		{ "BACKUP_ROLE_ARN", "arn:aws:iam::" BACKUP ":role/snapferry-backup" },
		{ "SHARE_KMS_KEY_ID", "arn:aws:kms:" REGION ":" OWN ":key/"
		    "11111111-2222-3333-4444-555555555555" },
		{ "BACKUP_KMS_KEY_ID", "arn:aws:kms:" REGION ":" BACKUP ":key/"
		    "66666666-7777-8888-9999-000000000000" },
		{ "LOG_LEVEL", "error" },
	};
	size_t i;
	int keeper = 0;

	for (i = 0; i < 4; i++)
		if (cfg_extra[i][0] != NULL && strcmp(name, cfg_extra[i][0]) == 0)
			return (cfg_extra[i][1]);
	for (i = 0; i < 4; i++)
		if (cfg_extra[i][0] != NULL && strcmp(cfg_extra[i][0], "SNAPFERRY_MODE") == 0)
			keeper = 1;
	/* The keeper reads none of the ferry's backup target. */
	if (keeper && (strncmp(name, "BACKUP_", 7) == 0 || strncmp(name, "SHARE_", 6) == 0))
		return (NULL);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i][0]) == 0)
			return (t[i][1]);
	return (NULL);
}

static struct config cfgs[4];
static struct http_client *http;

static void
setup(void)
{
	static const char *const variants[4][4][2] = {
		{ { NULL, NULL } },
		{ { "SNAPFERRY_MODE", "keeper" }, { "RETENTION_DAYS", "3" },
		  { "KEEPER_MIN_RETENTION_DAYS", "1" }, { "RESTORE", "on" } },
		{ { "TRANSIT_CLEANUP", "false" } },
		{ { "DRY_RUN", "true" }, { "INCLUDE_PATTERN", "^src" } },
	};
	struct config_error ce;
	const char *avoid = getenv("SNAPFERRY_FUZZ_FLOW_AVOID");
	FILE *devnull;
	int i;

	keep_arns = avoid != NULL && strcmp(avoid, "null-arn") == 0;
	trace = getenv("SNAPFERRY_FUZZ_FLOW_TRACE") != NULL;

	/* The fake answers every request; this endpoint is never connected to. */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAFUZZFUZZFUZZFUZZ", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "fuzz-secret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	for (i = 0; i < 4; i++) {
		memcpy(cfg_extra, variants[i], sizeof(cfg_extra));
		memset(&ce, 0, sizeof(ce));
		if (config_load(&cfgs[i], fake_env, &ce) != 0)
			abort();
		cfgs[i].account_id = strdup(cfgs[i].mode == CONFIG_MODE_KEEPER ? BACKUP : OWN);
	}
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	log_set_stream(devnull);
	log_set_level(LOG_ERROR);
	http_set_transport_hook(fake_aws);
	if ((http = http_client_new()) == NULL)
		abort();
}

static int
known_outcome(const char *o)
{
	static const char *const k[] = { "done", "pending", "skipped", "ignored", "failed" };
	size_t i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (strcmp(o, k[i]) == 0)
			return (1);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static const char *const refs[] = {
		"arn:aws:rds:" REGION ":" OWN ":snapshot:src-1",
		"arn:aws:rds:" REGION ":" OWN ":cluster-snapshot:csrc-1",
		"src-1",
		"arn:aws:rds:" REGION ":" OWN ":snapshot:snapferry-src-1",
	};
	struct assume_cache *cache;
	struct aws_error err;
	struct result r;
	struct session f;
	char *json;
	int op, cv;
	size_t i;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1)
		return (0);
	op = data[0] % 5;
	cv = (data[0] / 5) % 4;
	in_p = data + 1;
	in_n = size - 1;
	in_out = 0;
	n_ours = 0;
	keeper_flow = cfgs[cv].mode == CONFIG_MODE_KEEPER;

	if ((cache = assume_cache_new()) == NULL)
		abort();
	memset(&err, 0, sizeof(err));
	if (session_init(&f, &cfgs[cv], http, cache, millis_now() + 600000, &err) != 0)
		abort();
	if (result_init(&r, op == 4 ? "sweep" : "advance") != 0)
		abort();
	/* One attempt per call: a retry would only sleep (aws.c's back-off), and the
	 * fake's next answer is as likely a success as the retry's. */
	f.rds.max_attempts = f.kms.max_attempts = f.sts.max_attempts = 1;
	FUZZ_ASSERT(session_backup(&f, &r) != NULL);
	f.backup_rds.max_attempts = 1;
	if (cfgs[cv].mode == CONFIG_MODE_KEEPER) {
		/* 2024-05-03T00:00:00Z, as the sweep below. */
		if (op == 3)
			restore_db(&f, "src", NULL, NULL, NULL, &r);
		else
			keeper_sweep(&f, (time_t)1714694400, &r);
		goto check;
	}
	switch (op) {
	case 0:
		ferry_advance(&f, RDS_INSTANCE, refs[0], &r);
		break;
	case 1:
		ferry_advance(&f, RDS_CLUSTER, refs[1], &r);
		break;
	case 2:
		ferry_advance(&f, FERRY_KIND_ANY, refs[2], &r);
		break;
	case 3:
		ferry_advance_copied(&f, RDS_INSTANCE, refs[3], &r);
		break;
	default:
		/* 2024-05-03T00:00:00Z: the fake's snapshot times are within the look-back. */
		sweep_run(&f, (time_t)1714694400, &r);
		break;
	}
check:
	FUZZ_ASSERT(known_outcome(result_outcome_name(r.outcome)));
	if (r.outcome == RESULT_FAILED)
		FUZZ_ASSERT(r.error_type != NULL && r.reason != NULL);
	json = result_print(&r);
	FUZZ_ASSERT(json != NULL);
	free(json);
	result_clean(&r);
	session_clean(&f);
	assume_cache_free(cache);
	aws_error_clear(&err);
	for (i = 0; i < n_ours; i++)
		free(ours[i]);
	n_ours = 0;
	return (0);
}

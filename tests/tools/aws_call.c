/*
 * aws_call: one raw AWS call through the project's client (aws_query or
 * aws_json) with environment credentials; prints the outcome as JSON.  The
 * fault-injection tests and the benchmark drive it.
 *
 *   aws_call query <service> <version> <action> [key=value ...]
 *   aws_call json  <service> <target> [json-body]
 *   aws_call assume <role-arn> <external-id|-> <times>   (creds_assume through a cache;
 *            prints the access key ids obtained, which are not secret)
 *   aws_call backup <role-arn> <times>   (session_backup's client of the backup account,
 *            then <times> DescribeDBSnapshots on it; prints the access key id that
 *            signed each call: assumed-role credentials must be fresh for every call)
 *
 * Environment: AWS_REGION (default us-east-1), AWS_ACCESS_KEY_ID/..., the
 * AWS_ENDPOINT_URL* overrides, AWS_CALL_DEADLINE_MS (deadline, ms from now),
 * AWS_CALL_ATTEMPT_TIMEOUT_MS, AWS_CALL_MARGIN_MS, AWS_CALL_MAX_RESPONSE,
 * AWS_CALL_REPEAT (calls on one kept-alive client; prints calls/s), LOG_LEVEL.
 * Exit: 0 success, 1 AWS or transport error, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "assume.h"
#include "aws.h"
#include "millis.h"
#include "config.h"
#include "credentials.h"
#include "ferry.h"
#include "http.h"
#include "log.h"
#include "result.h"

static long
envl(const char *name, long dflt)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0' ? strtol(v, NULL, 10) : dflt);
}

static void
print_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s != NULL) {
		printf("%s\n", s);
		free(s);
	}
	cJSON_Delete(o);
}

static void
print_error(const struct aws_error *e)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddFalseToObject(o, "ok");
	cJSON_AddStringToObject(o, "code", e->code ? e->code : "");
	cJSON_AddStringToObject(o, "message", e->message ? e->message : "");
	if (e->request_id)
		cJSON_AddStringToObject(o, "request_id", e->request_id);
	cJSON_AddNumberToObject(o, "http_status", (double)e->http_status);
	cJSON_AddBoolToObject(o, "retryable", e->retryable);
	print_json(o);
}

/* creds_assume ${times} times through one cache, then once for another external id. */
static int
assume(struct aws_client *sts, const char *role, const char *ext, long times)
{
	struct assume_cache *cc = assume_cache_new();
	struct aws_error err;
	struct aws_creds out;
	cJSON *o, *keys;
	long i;
	int rc = 0;

	memset(&err, 0, sizeof(err));
	o = cJSON_CreateObject();
	keys = cJSON_AddArrayToObject(o, "keys");
	for (i = 0; i <= times && rc == 0; i++) {
		/* The last round asks with a different external id: its own entry. */
		const char *x = i < times ? (strcmp(ext, "-") ? ext : NULL) : "other-external-id";

		if (assume_role(cc, sts, role, "snapferry", x, 900, &out, &err) != 0) {
			print_error(&err);
			rc = 1;
			break;
		}
		cJSON_AddItemToArray(keys, cJSON_CreateString(out.access_key_id));
		creds_clean(&out);
	}
	if (rc == 0) {
		cJSON_AddTrueToObject(o, "ok");
		print_json(o);
	} else
		cJSON_Delete(o);
	aws_error_clear(&err);
	assume_cache_free(cc);
	return (rc);
}

/* ${times} calls through session_backup's client, as one long invocation makes them. */
static int
backup(struct http_client *http, const char *region, const char *role, long times)
{
	struct assume_cache *cc = assume_cache_new();
	struct config cfg;
	struct session f;
	struct result r;
	struct aws_error err;
	struct aws_client *bc;
	cJSON *o, *keys;
	long i;
	int rc = 1;

	memset(&cfg, 0, sizeof(cfg));
	memset(&err, 0, sizeof(err));
	memset(&r, 0, sizeof(r));
	cfg.region = (char *)(uintptr_t)region;
	cfg.backup_role_arn = (char *)(uintptr_t)role;
	o = cJSON_CreateObject();
	keys = cJSON_AddArrayToObject(o, "keys");
	if (cc == NULL || result_init(&r, "advance") != 0 ||
	    session_init(&f, &cfg, http, cc, 0, &err) != 0)
		goto out;
	if ((bc = session_backup(&f, &r)) == NULL) {
		aws_error_set(&err, r.error_type ? r.error_type : "Failed",
		    r.reason ? r.reason : "session_backup failed");
		goto done;
	}
	for (i = 0; i < times; i++) {
		struct aws_params p;
		xmlDocPtr doc = NULL;

		aws_params_init(&p);
		aws_params_add(&p, "DBSnapshotIdentifier", "my-snap");
		rc = aws_query(bc, "2014-10-31", "DescribeDBSnapshots", &p, &doc, &err);
		aws_params_clean(&p);
		xmlFreeDoc(doc);
		if (rc != 0)
			goto done;
		cJSON_AddItemToArray(keys, cJSON_CreateString(bc->creds->access_key_id));
	}
	rc = 0;
done:
	session_clean(&f);
out:
	result_clean(&r);
	if (rc == 0) {
		cJSON_AddTrueToObject(o, "ok");
		print_json(o);
	} else {
		cJSON_Delete(o);
		print_error(&err);
	}
	aws_error_clear(&err);
	assume_cache_free(cc);
	return (rc);
}

static int
one_call(struct aws_client *c, int argc, char **argv, int quiet)
{
	struct aws_error err;
	int rc = 1, i;

	memset(&err, 0, sizeof(err));
	if (strcmp(argv[1], "query") == 0) {
		struct aws_params p;
		xmlDocPtr doc = NULL;

		aws_params_init(&p);
		for (i = 5; i < argc; i++) {
			char *eq = strchr(argv[i], '=');

			if (eq == NULL)
				continue;
			*eq = '\0';
			aws_params_add(&p, argv[i], eq + 1);
			*eq = '=';
		}
		if (aws_query(c, argv[3], argv[4], &p, &doc, &err) == 0) {
			if (!quiet) {
				cJSON *o = cJSON_CreateObject();
				xmlNodePtr root = xmlDocGetRootElement(doc);
				char *rid = xml_text(xml_find(root, "ResponseMetadata"), "RequestId");

				cJSON_AddTrueToObject(o, "ok");
				cJSON_AddStringToObject(o, "root", (const char *)root->name);
				if (rid != NULL)
					cJSON_AddStringToObject(o, "request_id", rid);
				free(rid);
				print_json(o);
			}
			xmlFreeDoc(doc);
			rc = 0;
		}
		aws_params_clean(&p);
	} else {
		cJSON *body = argc > 4 ? cJSON_Parse(argv[4]) : NULL, *out = NULL;

		if (aws_json(c, argv[3], body, &out, &err) == 0) {
			if (!quiet) {
				cJSON *o = cJSON_CreateObject();

				cJSON_AddTrueToObject(o, "ok");
				cJSON_AddItemToObject(o, "result", out);
				out = NULL;
				print_json(o);
			}
			rc = 0;
		}
		cJSON_Delete(out);
		cJSON_Delete(body);
	}
	if (rc != 0)
		print_error(&err);
	aws_error_clear(&err);
	return (rc);
}

int
main(int argc, char **argv)
{
	struct http_client *http = NULL;
	struct aws_creds cr;
	struct aws_client c;
	enum log_level lvl = LOG_WARN;
	const char *region = getenv("AWS_REGION");
	long repeat = envl("AWS_CALL_REPEAT", 1), i, dl;
	int64_t t0;
	int rc = 1;

	const char *svc = argc > 2 ? argv[2] : "";

	if (argc < 4 || ((strcmp(argv[1], "query") == 0 || strcmp(argv[1], "assume") == 0) &&
	    argc < 5) || (strcmp(argv[1], "query") != 0 && strcmp(argv[1], "json") != 0 &&
	    strcmp(argv[1], "assume") != 0 && strcmp(argv[1], "backup") != 0)) {
		fprintf(stderr, "usage: aws_call query <service> <version> <action> [k=v ...]\n"
		    "       aws_call json <service> <target> [json-body]\n"
		    "       aws_call assume <role-arn> <external-id|-> <times>\n"
		    "       aws_call backup <role-arn> <times>\n");
		return (2);
	}
	log_set_stream(stderr);
	if (getenv("LOG_LEVEL") != NULL)
		log_parse_level(getenv("LOG_LEVEL"), &lvl);
	log_set_level(lvl);
	if (creds_from_env(&cr) != 0) {
		fprintf(stderr, "aws_call: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required\n");
		return (2);
	}
	if ((http = http_client_new()) == NULL ||
	    aws_client_init(&c, http, strcmp(argv[1], "assume") == 0 ? "sts" : svc,
	    region ? region : "us-east-1", &cr) != 0) {
		fprintf(stderr, "aws_call: out of memory\n");
		creds_clean(&cr);
		http_client_free(http);
		return (1);
	}
	/* ${c} borrows ${cr}: freed after the client, below. */
	if ((dl = envl("AWS_CALL_DEADLINE_MS", 0)) > 0)
		c.deadline_ms = millis_now() + dl;
	c.attempt_timeout_ms = envl("AWS_CALL_ATTEMPT_TIMEOUT_MS", c.attempt_timeout_ms);
	c.margin_ms = envl("AWS_CALL_MARGIN_MS", c.margin_ms);
	c.max_response = (size_t)envl("AWS_CALL_MAX_RESPONSE", (long)c.max_response);
	t0 = millis_now();
	if (strcmp(argv[1], "assume") == 0) {
		rc = assume(&c, argv[2], argv[3], strtol(argv[4], NULL, 10));
		repeat = 0;
	} else if (strcmp(argv[1], "backup") == 0) {
		rc = backup(http, region ? region : "us-east-1", argv[2], strtol(argv[3], NULL, 10));
		repeat = 0;
	}
	for (i = 0; i < repeat; i++)
		if ((rc = one_call(&c, argc, argv, repeat > 1)) != 0)
			break;
	if (repeat > 1 && rc == 0) {
		int64_t ms = millis_now() - t0;

		printf("{\"ok\":true,\"calls\":%ld,\"ms\":%lld,\"per_s\":%.1f}\n", repeat,
		    (long long)ms, ms > 0 ? (double)repeat * 1000.0 / (double)ms : 0.0);
	}
	aws_client_clean(&c);
	creds_clean(&cr);
	http_client_free(http);
	return (rc);
}

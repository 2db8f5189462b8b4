/*
 * test_aws: the offline parts of the AWS client -- form encoding, list
 * parameter names, XML and JSON error parsing, the retry classification,
 * endpoint precedence, environment credentials and request signing.
 */
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "credentials.h"
#include "sts.h"
#include "unit.h"

static void
test_form(void)
{
	struct aws_params p;
	struct buf b;

	aws_params_init(&p);
	CHECK(aws_params_add(&p, "DBSnapshotIdentifier", "my-snap") == 0);
	CHECK(aws_params_addi(&p, "ValuesToAdd.AttributeValue", 1, NULL, "444455556666") == 0);
	CHECK(aws_params_addi(&p, "Tags.Tag", 1, "Key", "owner") == 0);
	CHECK(aws_params_addi(&p, "Tags.Tag", 1, "Value", "Ana Lu\xc3\xads / ops=1&2") == 0);
	CHECK(aws_params_addi(&p, "Filters.Filter", 1, "Values.Value.1", "a~b_c.d-e") == 0);
	CHECK(aws_params_add(&p, "Marker", "") == 0);
	CHECK(aws_params_add(&p, "SourceDBSnapshotIdentifier",
	    "arn:aws:rds:eu-west-1:111122223333:snapshot:rds:db-2024-01-01") == 0);
	buf_init(&b, 4096);
	CHECK(aws_form_encode(&b, "CopyDBSnapshot", "2014-10-31", &p) == 0);
	CHECK_STR(b.data, "Action=CopyDBSnapshot&Version=2014-10-31"
	    "&DBSnapshotIdentifier=my-snap"
	    "&ValuesToAdd.AttributeValue.1=444455556666"
	    "&Tags.Tag.1.Key=owner"
	    "&Tags.Tag.1.Value=Ana+Lu%C3%ADs+%2F+ops%3D1%262"
	    "&Filters.Filter.1.Values.Value.1=a~b_c.d-e"
	    "&Marker="
	    "&SourceDBSnapshotIdentifier=arn%3Aaws%3Ards%3Aeu-west-1%3A111122223333%3A"
	    "snapshot%3Ards%3Adb-2024-01-01");
	buf_clean(&b);
	/* A bound too small fails cleanly. */
	buf_init(&b, 16);
	CHECK(aws_form_encode(&b, "CopyDBSnapshot", "2014-10-31", &p) == -1);
	buf_clean(&b);
	aws_params_clean(&p);
	CHECK(p.n == 0 && p.kv == NULL);
}

static void
test_xml_error(void)
{
	static const struct {
		const char *body;
		long status;
		const char *code, *message, *rid;
		int retry;
	} t[] = {
		{ "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error>"
		  "<Type>Sender</Type><Code>DBSnapshotNotFound</Code><Message>DBSnapshot mysnap "
		  "not found.</Message></Error><RequestId>5e5a8d5c-1</RequestId></ErrorResponse>",
		  404, "DBSnapshotNotFound", "DBSnapshot mysnap not found.", "5e5a8d5c-1", 0 },
		/* A namespace prefix on every element. */
		{ "<?xml version=\"1.0\"?><a:ErrorResponse xmlns:a=\"urn:x\"><a:Error><a:Code>"
		  "Throttling</a:Code><a:Message>Rate exceeded</a:Message></a:Error>"
		  "<a:RequestId>r-2</a:RequestId></a:ErrorResponse>",
		  400, "Throttling", "Rate exceeded", "r-2", 1 },
		/* Response/Errors/Error nesting (EC2 style). */
		{ "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow down"
		  "</Message></Error></Errors><RequestID>r-3</RequestID></Response>",
		  503, "RequestLimitExceeded", "slow down", "r-3", 1 },
		{ "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>",
		  403, "SignatureDoesNotMatch", NULL, "hdr-id", 0 },
		{ "<ErrorResponse><Error><Code>InternalFailure</Code></Error></ErrorResponse>",
		  500, "InternalFailure", NULL, "hdr-id", 1 },
		/* Not XML at all: named by status. */
		{ "<html>Bad gateway", 502, "InternalFailure", "HTTP 502 with no parsable XML error body",
		  "hdr-id", 1 },
		{ "", 400, "HttpError", "HTTP 400 with no parsable XML error body", "hdr-id", 0 },
		/* A DOCTYPE (entity games) is refused, never expanded. */
		{ "<!DOCTYPE x [<!ENTITY e \"Throttling\">]><ErrorResponse><Error><Code>&e;</Code>"
		  "</Error></ErrorResponse>", 400, "HttpError",
		  "HTTP 400 with no parsable XML error body", "hdr-id", 0 },
	};
	struct aws_error e;
	size_t i;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		aws_parse_error(t[i].body, strlen(t[i].body), t[i].status, 0, "hdr-id", &e);
		CHECK_STR(e.code, t[i].code);
		CHECK_STR(e.message, t[i].message);
		CHECK_STR(e.request_id, t[i].rid);
		CHECK(e.http_status == t[i].status);
		CHECK(e.retryable == t[i].retry);
		aws_error_clear(&e);
	}
	CHECK(e.code == NULL && e.http_status == 0);
}

static void
test_json_error(void)
{
	static const struct {
		const char *body;
		long status;
		const char *code, *message;
		int retry;
	} t[] = {
		{ "{\"__type\":\"NotFoundException\",\"message\":\"Invalid keyId absent-key\"}",
		  400, "NotFoundException", "Invalid keyId absent-key", 0 },
		{ "{\"__type\":\"com.amazonaws.kms#KMSInternalException\",\"Message\":\"boom\"}",
		  500, "KMSInternalException", "boom", 1 },
		{ "{\"__type\":\"a#b#ThrottlingException\"}", 400, "ThrottlingException", NULL, 1 },
		{ "{\"__type\":\"ValidationException:http://internal.amazon.com/x\",\"message\":\"m\"}",
		  400, "ValidationException", "m", 0 },
		{ "{\"__type\":\"DependencyTimeoutException\"}", 400, "DependencyTimeoutException",
		  NULL, 1 },
		{ "{\"message\":\"no type\"}", 400, "HttpError",
		  "HTTP 400 with no parsable JSON error body", 0 },
		{ "{\"__type\":", 503, "InternalFailure", "HTTP 503 with no parsable JSON error body", 1 },
		{ "[1,2]", 429, "TooManyRequestsException",
		  "HTTP 429 with no parsable JSON error body", 1 },
	};
	struct aws_error e;
	size_t i;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		aws_parse_error(t[i].body, strlen(t[i].body), t[i].status, 1, "rid", &e);
		CHECK_STR(e.code, t[i].code);
		CHECK_STR(e.message, t[i].message);
		CHECK_STR(e.request_id, "rid");
		CHECK(e.retryable == t[i].retry);
		aws_error_clear(&e);
	}
}

static void
test_retry_table(void)
{
	static const struct { const char *code; long status; int want; } t[] = {
		{ "Throttling", 400, 1 }, { "ThrottlingException", 400, 1 },
		{ "RequestLimitExceeded", 400, 1 }, { "TooManyRequestsException", 400, 1 },
		{ "ProvisionedThroughputExceededException", 400, 1 }, { "SlowDown", 503, 1 },
		{ "RequestThrottled", 400, 1 }, { "EC2ThrottledException", 400, 1 },
		{ "RequestTimeout", 400, 1 }, { "RequestTimeoutException", 408, 1 },
		{ "PriorRequestNotComplete", 400, 1 },
		{ "InternalFailure", 500, 1 }, { "ServiceUnavailable", 503, 1 },
		{ "Anything", 502, 1 }, { "Anything", 504, 1 }, { "Anything", 501, 0 },
		{ "NetworkError", 0, 1 }, { "Timeout", 0, 1 },
		{ "DBSnapshotNotFound", 404, 0 }, { "AccessDenied", 403, 0 },
		{ "SignatureDoesNotMatch", 403, 0 }, { "InvalidParameterValue", 400, 0 },
		{ "ExpiredToken", 400, 0 }, { "ResponseTooLarge", 0, 0 },
		{ "MalformedResponse", 200, 0 }, { NULL, 429, 1 }, { NULL, 400, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int got = aws_retryable(t[i].code, t[i].status);

		if (got != t[i].want)
			fprintf(stderr, "retry table: %s/%ld\n", t[i].code ? t[i].code : "-",
			    t[i].status);
		CHECK(got == t[i].want);
	}
	CHECK(aws_is_throttle("Throttling") && !aws_is_throttle("InternalFailure"));
}

static void
unset_endpoint_env(void)
{
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_RDS");
	unsetenv("AWS_ENDPOINT_URL_STS");
	unsetenv("AWS_ENDPOINT_URL_KMS");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
}

static void
test_endpoints(void)
{
	static const struct {
		const char *global, *rds, *sts, *ignore;
		const char *svc, *region, *want;
	} t[] = {
		{ NULL, NULL, NULL, NULL, "rds", "eu-west-1", "https://rds.eu-west-1.amazonaws.com" },
		{ NULL, NULL, NULL, NULL, "sts", "us-east-1", "https://sts.us-east-1.amazonaws.com" },
		{ NULL, NULL, NULL, NULL, "kms", "cn-north-1", "https://kms.cn-north-1.amazonaws.com.cn" },
		{ NULL, NULL, NULL, NULL, "sts", "cn-northwest-1",
		  "https://sts.cn-northwest-1.amazonaws.com.cn" },
		{ NULL, NULL, NULL, NULL, "rds", "us-gov-west-1",
		  "https://rds.us-gov-west-1.amazonaws.com" },
		{ NULL, NULL, NULL, NULL, "rds", "us-iso-east-1", "https://rds.us-iso-east-1.c2s.ic.gov" },
		{ "http://127.0.0.1:5000", NULL, NULL, NULL, "rds", "eu-west-1", "http://127.0.0.1:5000" },
		{ "http://127.0.0.1:5000", "http://127.0.0.1:6000", NULL, NULL, "rds", "eu-west-1",
		  "http://127.0.0.1:6000" },
		/* The RDS override does not leak into STS. */
		{ "http://g:1", "http://r:2", NULL, NULL, "sts", "eu-west-1", "http://g:1" },
		{ NULL, "http://r:2", NULL, NULL, "sts", "eu-west-1", "https://sts.eu-west-1.amazonaws.com" },
		{ "http://g:1", NULL, "http://s:3/base", NULL, "sts", "eu-west-1", "http://s:3/base" },
		{ "http://g:1", "http://r:2", NULL, "true", "rds", "eu-west-1",
		  "https://rds.eu-west-1.amazonaws.com" },
		{ "http://g:1", "http://r:2", NULL, "TRUE", "rds", "eu-west-1",
		  "https://rds.eu-west-1.amazonaws.com" },
		{ "http://g:1", "http://r:2", NULL, "false", "rds", "eu-west-1", "http://r:2" },
		{ "", NULL, NULL, NULL, "kms", "eu-west-1", "https://kms.eu-west-1.amazonaws.com" },
		/* Schemes are case-insensitive: normalised, the rest kept as written. */
		{ "HTTP://127.0.0.1:5000/Base", NULL, NULL, NULL, "rds", "eu-west-1",
		  "http://127.0.0.1:5000/Base" },
		{ NULL, NULL, "HttpS://S:3", NULL, "sts", "eu-west-1", "https://S:3" },
	};
	size_t i;
	char *got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unset_endpoint_env();
		if (t[i].global)
			setenv("AWS_ENDPOINT_URL", t[i].global, 1);
		if (t[i].rds)
			setenv("AWS_ENDPOINT_URL_RDS", t[i].rds, 1);
		if (t[i].sts)
			setenv("AWS_ENDPOINT_URL_STS", t[i].sts, 1);
		if (t[i].ignore)
			setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", t[i].ignore, 1);
		got = aws_endpoint(t[i].svc, t[i].region);
		CHECK_STR(got, t[i].want);
		free(got);
	}
	unset_endpoint_env();
}

static void
test_env_creds(void)
{
	struct aws_creds c, d;

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	CHECK(creds_from_env(&c) == -1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	CHECK(creds_from_env(&c) == -1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	CHECK(creds_from_env(&c) == 0);
	CHECK_STR(c.access_key_id, "AKIDEXAMPLE");
	CHECK(c.session_token == NULL);
	creds_clean(&c);
	/* Read afresh each time: a rotated token is picked up. */
	setenv("AWS_SESSION_TOKEN", "tok1", 1);
	CHECK(creds_from_env(&c) == 0);
	CHECK_STR(c.session_token, "tok1");
	CHECK(creds_copy(&d, &c) == 0);
	CHECK_STR(d.session_token, "tok1");
	CHECK(d.session_token != c.session_token);
	creds_clean(&c);
	creds_clean(&d);
	CHECK(c.secret_access_key == NULL && d.session_token == NULL);
	creds_clean(&d);	/* twice is fine */
	unsetenv("AWS_SESSION_TOKEN");
}

static void
test_sign(void)
{
	struct aws_creds c = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0 };
	struct aws_signed s;
	size_t i;
	int auth = 0;

	/* The suite's post-x-www-form-urlencoded case, through aws_sign; 2015-08-30T12:36:00Z. */
	CHECK(aws_sign(&c, "us-east-1", "service", 1440938160, "POST",
	    "https://example.amazonaws.com/", "application/x-www-form-urlencoded", NULL,
	    "Param1=value1", 13, &s) == 0);
	for (i = 0; i < s.n; i++)
		if (strcmp(s.h[i].name, "Authorization") == 0) {
			auth = 1;
			CHECK_STR(s.h[i].value, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
			    "us-east-1/service/aws4_request, SignedHeaders=content-type;host;"
			    "x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
		}
	CHECK(auth);
	aws_signed_clean(&s);
	/* With a token and a target: both signed. */
	c.session_token = "tok";
	CHECK(aws_sign(&c, "eu-west-1", "kms", 1440938160, "POST",
	    "http://127.0.0.1:5000", "application/x-amz-json-1.1", "TrentService.DescribeKey",
	    "{}", 2, &s) == 0);
	CHECK(s.n == 6);
	CHECK_STR(s.h[0].value, "127.0.0.1:5000");
	CHECK(strstr(s.h[5].value, "SignedHeaders=content-type;host;x-amz-date;"
	    "x-amz-security-token;x-amz-target, ") != NULL);
	aws_signed_clean(&s);
	c.secret_access_key = NULL;
	CHECK(aws_sign(&c, "eu-west-1", "kms", 0, "POST", "http://x", NULL, NULL, "", 0, &s) == -1);
}

/* aws-facts 6.3: botocore's ModifyDBSnapshotAttribute vector, body built by us. */
static void
test_vector_modify_attr(void)
{
	struct aws_creds c = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0 };
	struct aws_params p;
	struct aws_signed s;
	struct buf b;

	aws_params_init(&p);
	aws_params_add(&p, "DBSnapshotIdentifier", "my-snap");
	aws_params_add(&p, "AttributeName", "restore");
	aws_params_addi(&p, "ValuesToAdd.AttributeValue", 1, NULL, "444455556666");
	aws_params_addi(&p, "ValuesToAdd.AttributeValue", 2, NULL, "777788889999");
	buf_init(&b, 4096);
	CHECK(aws_form_encode(&b, "ModifyDBSnapshotAttribute", "2014-10-31", &p) == 0);
	CHECK(aws_sign(&c, "us-east-1", "rds", 1440938160, "POST",
	    "https://rds.us-east-1.amazonaws.com/", "application/x-www-form-urlencoded; charset=utf-8",
	    NULL, b.data, b.len, &s) == 0);
	CHECK(s.n == 4 && strstr(s.h[3].value,
	    "Signature=30b0ad06f9938123c8ba77b53eccfe44b603f58909a799e9375de472e2b306bd") != NULL);
	aws_signed_clean(&s);
	buf_clean(&b);
	aws_params_clean(&p);
}

static void
test_xml_helpers(void)
{
	const char *x = "<r:A xmlns:r=\"urn:r\"><r:B><r:C>one</r:C></r:B><D/><C>two</C>"
	    "<E><![CDATA[x&y]]></E></r:A>";
	xmlDocPtr d = aws_xml_parse(x, strlen(x));
	xmlNodePtr root;
	char *s;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	root = xmlDocGetRootElement(d);
	CHECK(xml_child(root, "B") != NULL);
	CHECK(xml_child(root, "Z") == NULL);
	s = xml_text(xml_find(root, "B"), "C");
	CHECK_STR(s, "one");
	free(s);
	s = xml_text(root, "C");	/* child, not the deeper one */
	CHECK_STR(s, "two");
	free(s);
	s = xml_text(root, "D");
	CHECK_STR(s, "");
	free(s);
	s = xml_text(root, "E");
	CHECK_STR(s, "x&y");
	free(s);
	CHECK(xml_text(root, "Missing") == NULL);
	CHECK(xml_find(NULL, "x") == NULL && xml_child(NULL, "x") == NULL);
	xmlFreeDoc(d);
	CHECK(aws_xml_parse("<a><b></a>", 10) == NULL);
	CHECK(aws_xml_parse("", 0) == NULL);
}

/* When assumed-role credentials count as expiring; an epoch Expiration is no answer. */
/* buf_grow: doubles from its first size, refuses a size that would overflow and leaves
 * the array as it was. */
static void
test_grow(void)
{
	size_t cap = 0, big = SIZE_MAX / 2 + 1, i;
	int *v = NULL, *nv;

	for (i = 0; i < 100; i++) {
		if (i == cap) {
			CHECK((nv = buf_grow(v, &cap, sizeof(*v), 4)) != NULL);
			if (nv == NULL)
				break;
			v = nv;
		}
		v[i] = (int)i;
	}
	CHECK(cap == 128 && v[99] == 99);
	CHECK(buf_grow(v, &big, 1, 4) == NULL && big == SIZE_MAX / 2 + 1);
	big = SIZE_MAX / 8 + 1;
	CHECK(buf_grow(v, &big, 8, 4) == NULL && big == SIZE_MAX / 8 + 1);
	CHECK(v[99] == 99);	/* untouched */
	free(v);
}

/* A client borrows its credentials: one copy of the secret per owner, not one per client. */
static void
test_client_borrows(void)
{
	struct aws_creds cr = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0 };
	struct aws_client a, b;

	CHECK(aws_client_init(&a, NULL, "rds", "eu-west-1", &cr) == 0);
	CHECK(aws_client_init(&b, NULL, "kms", "eu-west-1", &cr) == 0);
	CHECK(a.creds == &cr && b.creds == &cr);
	CHECK(a.renewed.secret_access_key == NULL);
	aws_client_clean(&a);
	aws_client_clean(&b);
	CHECK(a.creds == NULL);
	CHECK_STR(cr.secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
}

static void
test_creds_expiry(void)
{
	static const char epoch[] = "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
	    "<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
	    "<SessionToken>T</SessionToken><Expiration>1970-01-01T00:00:00Z</Expiration>"
	    "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
	struct aws_creds c;
	xmlDocPtr d;

	memset(&c, 0, sizeof(c));
	CHECK(creds_expiring(&c, 1000) == 0);		/* environment keys: no expiry */
	c.expiration = 10000;
	CHECK(creds_expiring(&c, 10000 - 301) == 0);
	CHECK(creds_expiring(&c, 10000 - 300) == 1);	/* within the margin: renew */
	CHECK(creds_expiring(&c, 20000) == 1);
	d = aws_xml_parse(epoch, sizeof(epoch) - 1);
	CHECK(d != NULL);
	CHECK(sts_parse_credentials(xmlDocGetRootElement(d), &c) == -1);
	CHECK(c.access_key_id == NULL && c.expiration == 0);
	xmlFreeDoc(d);
}

/* The node budget: '<' counted before any tree is built (a flood of <x/> was ~290 MB). */
static void
test_xml_budget(void)
{
	size_t n = AWS_XML_MAX_TAGS + 1, i;
	char *flood = malloc(4 * n + 1);

	CHECK(flood != NULL);
	if (flood == NULL)
		return;
	for (i = 0; i < n; i++)
		memcpy(flood + 4 * i, "<x/>", 4);
	CHECK(aws_xml_too_big(flood, 4 * (n - 1)) == 0);	/* exactly the budget */
	CHECK(aws_xml_too_big(flood, 4 * n) == 1);
	CHECK(aws_xml_parse(flood, 4 * n) == NULL);
	CHECK(aws_xml_too_big("text only", 9) == 0);
	free(flood);
}

/* One parser for many answers: each parsed as alone, a bad one leaves none behind, a
 * DOCTYPE is refused, and documents outlive the parser. */
static void
test_xml_reuse(void)
{
	const char *a = "<R xmlns=\"urn:x\"><Id>first</Id><N>1</N></R>";
	const char *b = "<Q><Id>second-answer-with-a-longer-text</Id></Q>";
	const char *bad = "<R><Id>x</R>";
	const char *dtd = "<!DOCTYPE R [<!ENTITY e \"boom\">]><R>&e;</R>";
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr d1, d2, d3, d4;
	struct buf big;
	char *t;
	int i;

	d1 = aws_xml_parse_reuse(&ctxt, a, strlen(a));
	CHECK(d1 != NULL && ctxt != NULL);
	CHECK(aws_xml_parse_reuse(&ctxt, bad, strlen(bad)) == NULL);
	CHECK(aws_xml_parse_reuse(&ctxt, dtd, strlen(dtd)) == NULL);
	CHECK(aws_xml_parse_reuse(&ctxt, "", 0) == NULL);
	d2 = aws_xml_parse_reuse(&ctxt, b, strlen(b));
	CHECK(d2 != NULL);
	/* Many more on the same parser: it stays usable. */
	for (i = 0, d3 = NULL; i < 50; i++) {
		xmlFreeDoc(d3);
		d3 = aws_xml_parse_reuse(&ctxt, a, strlen(a));
	}
	CHECK(d3 != NULL);
	/* A large answer (20,000 elements) parses on the reused parser too. */
	buf_init(&big, 1u << 20);
	CHECK(buf_append_str(&big, "<L>") == 0);
	for (i = 0; i < 20000 && buf_append_str(&big, "<x/>") == 0; i++)
		;
	CHECK(i == 20000);
	CHECK(buf_append_str(&big, "</L>") == 0);
	d4 = aws_xml_parse_reuse(&ctxt, big.data, big.len);
	CHECK(d4 != NULL);
	xmlFreeDoc(d4);
	buf_clean(&big);
	xmlFreeParserCtxt(ctxt);
	t = d1 ? xml_text(xmlDocGetRootElement(d1), "Id") : NULL;
	CHECK_STR(t, "first");
	free(t);
	t = d2 ? xml_text(xmlDocGetRootElement(d2), "Id") : NULL;
	CHECK_STR(t, "second-answer-with-a-longer-text");
	free(t);
	t = d3 ? xml_text(xmlDocGetRootElement(d3), "N") : NULL;
	CHECK_STR(t, "1");
	free(t);
	xmlFreeDoc(d1);
	xmlFreeDoc(d2);
	xmlFreeDoc(d3);
}

/* Parameters keep each key and value, in order, values may be empty or NULL. */
static void
test_params_block(void)
{
	struct aws_params p;
	struct buf b;

	aws_params_init(&p);
	CHECK(aws_params_add(&p, "A", "1") == 0 && aws_params_add(&p, "B", NULL) == 0 &&
	    aws_params_add(&p, "C", "x y") == 0 && aws_params_add(&p, NULL, "v") == -1);
	CHECK(p.n == 3);
	CHECK_STR(p.kv[0], "A");
	CHECK_STR(p.kv[1], "1");
	CHECK_STR(p.kv[3], "");
	CHECK_STR(p.kv[5], "x y");
	buf_init(&b, 1024);
	CHECK(aws_form_encode(&b, "Act", "v1", &p) == 0);
	CHECK_STR(b.data, "Action=Act&Version=v1&A=1&B=&C=x+y");
	buf_clean(&b);
	aws_params_clean(&p);
	CHECK(p.n == 0 && p.kv == NULL);
}

int
main(void)
{
	test_form();
	test_xml_error();
	test_json_error();
	test_retry_table();
	test_endpoints();
	test_env_creds();
	test_client_borrows();
	test_grow();
	test_sign();
	test_vector_modify_attr();
	test_xml_helpers();
	test_creds_expiry();
	test_xml_budget();
	test_xml_reuse();
	test_params_block();
	UNIT_DONE();
}

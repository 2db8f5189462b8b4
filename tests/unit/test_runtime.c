/*
 * test_runtime: Runtime API header parsing and the error document
 * (JSON escaping, UTF-8 repair).  The HTTP side runs against AWS's emulator
 * in tests/integration/test_runtime_rie.py.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "runtime.h"
#include "unit.h"

enum field { F_NONE, F_ID, F_DEADLINE, F_ARN, F_TRACE, F_CTX, F_COGNITO, F_TENANT };

static const struct {
	const char	*name;
	const char	*line;
	enum field	 field;
	const char	*want;		/* string fields; NULL = stays unset */
	long long	 want_ms;	/* F_DEADLINE */
} headers[] = {
	{ "canonical", "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n",
	    F_ID, "8476a536-e9f4-11e8-9739-2dfe598c3fcd", 0 },
	{ "lower case, no space", "lambda-runtime-aws-request-id:abc\r\n", F_ID, "abc", 0 },
	{ "upper case, tabs and spaces", "LAMBDA-RUNTIME-AWS-REQUEST-ID: \t x y \t\r\n", F_ID, "x y", 0 },
	{ "no CR", "Lambda-Runtime-Aws-Request-Id: id-2\n", F_ID, "id-2", 0 },
	{ "space before colon", "Lambda-Runtime-Aws-Request-Id : id-3\r\n", F_ID, "id-3", 0 },
	{ "empty value", "Lambda-Runtime-Aws-Request-Id:\r\n", F_ID, NULL, 0 },
	{ "blank value", "Lambda-Runtime-Aws-Request-Id:   \r\n", F_ID, NULL, 0 },
	{ "longer name", "Lambda-Runtime-Aws-Request-Id-Extra: z\r\n", F_ID, NULL, 0 },
	{ "prefixed name", "X-Lambda-Runtime-Aws-Request-Id: z\r\n", F_ID, NULL, 0 },
	{ "status line", "HTTP/1.1 200 OK\r\n", F_ID, NULL, 0 },
	{ "end of headers", "\r\n", F_ID, NULL, 0 },
	{ "deadline", "Lambda-Runtime-Deadline-Ms: 1542409706888\r\n", F_DEADLINE, NULL, 1542409706888LL },
	{ "deadline lower", "lambda-runtime-deadline-ms:1\r\n", F_DEADLINE, NULL, 1 },
	{ "deadline not a number", "Lambda-Runtime-Deadline-Ms: soon\r\n", F_DEADLINE, NULL, 0 },
	{ "deadline negative", "Lambda-Runtime-Deadline-Ms: -5\r\n", F_DEADLINE, NULL, 0 },
	{ "deadline trailing junk", "Lambda-Runtime-Deadline-Ms: 15x\r\n", F_DEADLINE, NULL, 0 },
	{ "deadline overflow", "Lambda-Runtime-Deadline-Ms: 99999999999999999999\r\n", F_DEADLINE, NULL, 0 },
	{ "deadline empty", "Lambda-Runtime-Deadline-Ms:\r\n", F_DEADLINE, NULL, 0 },
	{ "function ARN keeps its colons",
	    "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:snapferry\r\n",
	    F_ARN, "arn:aws:lambda:us-east-1:123456789012:function:snapferry", 0 },
	{ "trace", "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n",
	    F_TRACE, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1", 0 },
	{ "client context", "Lambda-Runtime-Client-Context: {\"custom\":{\"a\":\"b\"}}\r\n",
	    F_CTX, "{\"custom\":{\"a\":\"b\"}}", 0 },
	{ "cognito", "lambda-runtime-cognito-identity: {\"cognitoIdentityId\":\"x\"}\r\n",
	    F_COGNITO, "{\"cognitoIdentityId\":\"x\"}", 0 },
	{ "tenant", "Lambda-Runtime-Aws-Tenant-Id: tenant-7\r\n", F_TENANT, "tenant-7", 0 },
	{ "other header", "Content-Type: application/json\r\n", F_ID, NULL, 0 },
};

static const char *
field_of(const struct rt_invocation *inv, enum field f)
{
	switch (f) {
	case F_ID:	return (inv->request_id);
	case F_ARN:	return (inv->function_arn);
	case F_TRACE:	return (inv->trace_id);
	case F_CTX:	return (inv->client_context);
	case F_COGNITO:	return (inv->cognito_identity);
	case F_TENANT:	return (inv->tenant_id);
	case F_NONE:
	case F_DEADLINE:
		break;
	}
	return (NULL);
}

static void
test_headers(void)
{
	struct rt_invocation inv;
	size_t i;

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		rt_invocation_init(&inv);
		CHECK(rt_parse_header(&inv, headers[i].line, strlen(headers[i].line)) == 0);
		if (headers[i].field == F_DEADLINE) {
			if (inv.deadline_ms != headers[i].want_ms)
				fprintf(stderr, "case %s: deadline %lld\n", headers[i].name,
				    (long long)inv.deadline_ms);
			CHECK(inv.deadline_ms == headers[i].want_ms);
		} else {
			if ((field_of(&inv, headers[i].field) == NULL) != (headers[i].want == NULL))
				fprintf(stderr, "case %s\n", headers[i].name);
			CHECK_STR(field_of(&inv, headers[i].field), headers[i].want);
		}
		rt_invocation_clean(&inv);
	}

	/* A repeated header: the last one wins (and the first is freed: ASan/valgrind). */
	rt_invocation_init(&inv);
	rt_parse_header(&inv, "Lambda-Runtime-Aws-Request-Id: one\r\n", 36);
	rt_parse_header(&inv, "Lambda-Runtime-Aws-Request-Id: two\r\n", 36);
	CHECK_STR(inv.request_id, "two");
	/* A NUL inside the line: not trusted, ignored. */
	rt_parse_header(&inv, "Lambda-Runtime-Trace-Id: a\0b\r\n", 30);
	CHECK(inv.trace_id == NULL);
	/* Only len bytes are read: the value ends where the caller says. */
	rt_parse_header(&inv, "Lambda-Runtime-Aws-Tenant-Id: abcdef", 33);
	CHECK_STR(inv.tenant_id, "abc");
	rt_invocation_clean(&inv);
	CHECK(inv.request_id == NULL && inv.tenant_id == NULL && inv.deadline_ms == 0);
	CHECK(inv.event.max == RT_EVENT_MAX && inv.event.len == 0);
}

/* Parse an error document and check its three members. */
static void
check_doc(const char *json, const char *want_type, const char *want_msg)
{
	cJSON *o = cJSON_Parse(json), *st;

	CHECK(o != NULL);
	if (o == NULL) {
		fprintf(stderr, "not JSON: %s\n", json);
		return;
	}
	CHECK(cJSON_GetArraySize(o) == 3);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "errorType")), want_type);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "errorMessage")), want_msg);
	st = cJSON_GetObjectItemCaseSensitive(o, "stackTrace");
	CHECK(cJSON_IsArray(st) && cJSON_GetArraySize(st) == 0);
	cJSON_Delete(o);
}

static const struct {
	const char	*name;
	const char	*msg;
	const char	*raw;		/* must appear in the serialised document */
	const char	*decoded;	/* errorMessage after parsing */
} escapes[] = {
	{ "quotes", "say \"hi\"", "say \\\"hi\\\"", "say \"hi\"" },
	{ "backslash", "C:\\dir", "C:\\\\dir", "C:\\dir" },
	{ "newline and tab", "a\nb\tc\r", "a\\nb\\tc\\r", "a\nb\tc\r" },
	{ "control characters", "x\x01y\x1f", "x\\u0001y\\u001f", "x\x01y\x1f" },
	{ "UTF-8 kept as is", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "invalid byte", "a\xff" "b", "a\xef\xbf\xbd" "b", "a\xef\xbf\xbd" "b" },
	{ "truncated sequence", "end\xe2\x82", "end\xef\xbf\xbd\xef\xbf\xbd", "end\xef\xbf\xbd\xef\xbf\xbd" },
	{ "overlong slash", "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "surrogate", "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "beyond U+10FFFF", "\xf4\x90\x80\x80", NULL, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "empty", "", "\"errorMessage\":\"\"", "" },
};

static void
test_error_json(void)
{
	char *j;
	size_t i;

	for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		j = rt_error_json("Event.Malformed", escapes[i].msg);
		CHECK(j != NULL);
		if (j == NULL)
			continue;
		if (escapes[i].raw != NULL && strstr(j, escapes[i].raw) == NULL)
			fprintf(stderr, "case %s: %s\n", escapes[i].name, j);
		CHECK(escapes[i].raw == NULL || strstr(j, escapes[i].raw) != NULL);
		/* A single line: nothing raw below 0x20 in the document. */
		CHECK(strpbrk(j, "\n\r\t\x01\x1f") == NULL);
		check_doc(j, "Event.Malformed", escapes[i].decoded);
		free(j);
	}
	/* Defaults and the exact shape. */
	j = rt_error_json(NULL, NULL);
	CHECK_STR(j, "{\"errorMessage\":\"\",\"errorType\":\"Runtime.UnknownReason\",\"stackTrace\":[]}");
	free(j);
	j = rt_error_json("Runtime.ConfigInvalid", "BACKUP_ACCOUNT_ID must be exactly 12 digits");
	CHECK_STR(j, "{\"errorMessage\":\"BACKUP_ACCOUNT_ID must be exactly 12 digits\","
	    "\"errorType\":\"Runtime.ConfigInvalid\",\"stackTrace\":[]}");
	free(j);
	/* The type is escaped too. */
	j = rt_error_json("Bad\"Type\n", "m");
	check_doc(j, "Bad\"Type\n", "m");
	free(j);
}

static void
test_utf8_clean(void)
{
	static const struct { const char *in, *out; } t[] = {
		{ "plain ascii", "plain ascii" },
		{ "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },
		{ "\x80", "\xef\xbf\xbd" },
		{ "\xc3", "\xef\xbf\xbd" },
		{ "\xc3(", "\xef\xbf\xbd(" },
		{ "\xe0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong 3-byte */
		{ "\xf0\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xef\xbf\xbf", "\xef\xbf\xbf" },				/* U+FFFF is valid */
		{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },			/* U+10FFFF */
		{ "", "" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = rt_utf8_clean(t[i].in);
		CHECK_STR(s, t[i].out);
		free(s);
	}
}

int
main(void)
{
	test_headers();
	test_error_json();
	test_utf8_clean();
	UNIT_DONE();
}

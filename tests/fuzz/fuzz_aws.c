/*
 * fuzz_aws: AWS response bodies through aws.c: error documents in both
 * protocols (aws_parse_error, Query XML and JSON 1.1) under any HTTP status,
 * and Query responses through aws_xml_parse and the xml_* walkers every
 * service module uses.  The first input byte picks the protocol and status.
 */
#include "fuzz.h"

#include "aws.h"

static const long statuses[8] = { 400, 403, 404, 429, 500, 502, 503, 200 };

static void
error_body(const char *body, size_t len, int json, long status)
{
	struct aws_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = aws_parse_error(body, len, status, json, "fallback-request-id", &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	/* Always a code, a request id and the status, parsed or not. */
	FUZZ_ASSERT(err.code != NULL);
	FUZZ_ASSERT(err.request_id != NULL);
	FUZZ_ASSERT(err.http_status == status);
	FUZZ_ASSERT(err.retryable == aws_retryable(err.code, status));
	FUZZ_ASSERT(aws_error_is(&err, err.code));
	if (rc == 0 && json) {
		/* botocore's rule: no namespace ('#') and no suffix (':') left. */
		FUZZ_ASSERT(err.code[0] != '\0');
		FUZZ_ASSERT(strchr(err.code, '#') == NULL && strchr(err.code, ':') == NULL);
	}
	if (rc != 0)
		FUZZ_ASSERT(err.message != NULL);
	fuzz_touch(err.message);
	aws_error_clear(&err);
	FUZZ_ASSERT(err.code == NULL && err.message == NULL && err.request_id == NULL);
	aws_error_clear(&err);
}

static void
query_response(const char *body, size_t len)
{
	static const char *const names[] = {
		"RequestId", "ResponseMetadata", "Error", "Code", "Message", "Marker",
		"DBSnapshot", "Credentials", "Account", "Arn",
	};
	xmlDocPtr d;
	xmlNodePtr root, n;
	size_t i;
	char *t;

	if ((d = aws_xml_parse(body, len)) == NULL)
		return;
	root = xmlDocGetRootElement(d);
	FUZZ_ASSERT(root != NULL);
	FUZZ_ASSERT(d->intSubset == NULL);	/* no DOCTYPE gets through */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((n = xml_find(root, names[i])) != NULL) {
			FUZZ_ASSERT(n->type == XML_ELEMENT_NODE);
			FUZZ_ASSERT(strcmp((const char *)n->name, names[i]) == 0);
			if (n->parent != NULL) {
				t = xml_text(n->parent, names[i]);
				FUZZ_ASSERT(t != NULL);
				free(t);
			}
		}
		FUZZ_ASSERT(xml_child(root, names[i]) == NULL || n != NULL);
		free(xml_text(root, names[i]));
	}
	xmlFreeDoc(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body;
	size_t len;
	char *copy;

	if (size < 1)
		return (0);
	body = (const char *)data + 1;
	len = size - 1;
	/* Exact-size copy: the parsers get a length, never a terminator to lean on. */
	if ((copy = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(copy, body, len);
	error_body(copy, len, data[0] & 1, statuses[(data[0] >> 1) & 7]);
	if (!(data[0] & 1))
		query_response(copy, len);
	free(copy);
	return (0);
}

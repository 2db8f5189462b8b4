/*
 * fuzz_runtime: what the Runtime API sends besides the event: the header
 * lines of /invocation/next, one exact-size buffer per line as libcurl hands
 * them over (rt_parse_header), and the UTF-8 cleaning and JSON of the error
 * documents built from messages that may quote AWS's own words.
 */
#include <cjson/cJSON.h>

#include "fuzz.h"

#include "runtime.h"

/* A header value as stored: non-empty, no NUL, nothing trimmable at either end. */
static void
check_value(const char *v)
{
	size_t n;

	if (v == NULL)
		return;
	n = strlen(v);
	FUZZ_ASSERT(n > 0);
	FUZZ_ASSERT(v[0] != ' ' && v[0] != '\t');
	FUZZ_ASSERT(v[n - 1] != ' ' && v[n - 1] != '\t' && v[n - 1] != '\r' &&
	    v[n - 1] != '\n');
}

static void
headers(const uint8_t *data, size_t size)
{
	struct rt_invocation inv;
	const uint8_t *p = data, *e = data + size, *nl;
	size_t n;
	char *line;

	rt_invocation_init(&inv);
	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(e - p);
		/* Its own allocation, not NUL-terminated: a read past the line is caught. */
		if ((line = malloc(n)) == NULL)
			abort();
		memcpy(line, p, n);
		FUZZ_ASSERT(rt_parse_header(&inv, line, n) == 0);
		free(line);
		p += n;
	}
	FUZZ_ASSERT(inv.deadline_ms >= 0);
	check_value(inv.request_id);
	check_value(inv.function_arn);
	check_value(inv.trace_id);
	check_value(inv.client_context);
	check_value(inv.cognito_identity);
	check_value(inv.tenant_id);
	rt_invocation_clean(&inv);
}

static void
error_document(const char *s)
{
	char *clean, *again, *json;
	cJSON *doc, *m, *t;

	clean = rt_utf8_clean(s);
	FUZZ_ASSERT(clean != NULL);
	FUZZ_ASSERT(strlen(clean) <= 3 * strlen(s));
	/* Cleaned text is valid UTF-8: cleaning it again changes nothing. */
	again = rt_utf8_clean(clean);
	FUZZ_ASSERT(again != NULL && strcmp(clean, again) == 0);
	free(again);

	json = rt_error_json(s, s);
	FUZZ_ASSERT(json != NULL);
	doc = cJSON_Parse(json);
	FUZZ_ASSERT(cJSON_IsObject(doc));
	m = cJSON_GetObjectItemCaseSensitive(doc, "errorMessage");
	t = cJSON_GetObjectItemCaseSensitive(doc, "errorType");
	FUZZ_ASSERT(cJSON_IsString(m) && strcmp(m->valuestring, clean) == 0);
	FUZZ_ASSERT(cJSON_IsString(t) && strcmp(t->valuestring, clean) == 0);
	FUZZ_ASSERT(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "stackTrace")));
	cJSON_Delete(doc);
	free(json);
	free(clean);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	headers(data, size);
	s = fuzz_cstr(data, size);
	error_document(s);
	free(s);
	return (0);
}

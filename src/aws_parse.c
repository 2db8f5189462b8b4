/*
 * aws_parse: what AWS answers, read safely: struct aws_error and which codes are worth
 * a retry, XML bounded before it is parsed, error documents of both protocols, and
 * ISO-8601 time stamps.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "aws.h"
#include "buf.h"

/* ---- errors --------------------------------------------------------------- */

void
aws_error_clear(struct aws_error *e)
{
	if (e == NULL)
		return;
	free(e->code);
	free(e->message);
	free(e->request_id);
	memset(e, 0, sizeof(*e));
}

int
aws_error_has(const struct aws_error *e, const char *part)
{
	return (e != NULL && e->code != NULL && strstr(e->code, part) != NULL);
}

int
aws_error_is(const struct aws_error *e, const char *code)
{
	return (e != NULL && e->code != NULL && code != NULL && strcmp(e->code, code) == 0);
}

void
aws_error_set(struct aws_error *e, const char *code, const char *message)
{
	char *c = xstrdup(code), *m = xstrdup(message);

	aws_error_clear(e);
	e->code = c;
	e->message = m;
}

static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	/* KMS marks these as server faults. */
	"KMSInternalException", "DependencyTimeoutException",
	/* Our own transport codes. */
	"NetworkError", "Timeout", "InternalFailure", "ServiceUnavailable",
};

int
aws_str_in(const char *code, const char *const *l, size_t n)
{
	size_t i;

	if (code == NULL)
		return (0);
	for (i = 0; i < n; i++)
		if (strcmp(code, l[i]) == 0)
			return (1);
	return (0);
}

int
aws_is_throttle(const char *code)
{
	return (aws_str_in(code, throttle_codes, sizeof(throttle_codes) / sizeof(throttle_codes[0])));
}

int
aws_retryable(const char *code, long status)
{
	if (aws_is_throttle(code) ||
	    aws_str_in(code, transient_codes, sizeof(transient_codes) / sizeof(transient_codes[0])))
		return (1);
	/* 5xx except 501 (not implemented will not get better); 429 is throttling. */
	return (status == 429 || (status >= 500 && status <= 599 && status != 501));
}

/* ---- XML ------------------------------------------------------------------ */

/*
 * A tree costs ~140 bytes a node whatever the bytes: 8 MiB of "<x/>" became
 * ~290 MB, enough to kill a 128 MB function.  Every element, comment or PI starts
 * with a '<' (a '<' in text must be escaped), and text nodes lie between them, so
 * counting '<' bounds the nodes before any is built.  The largest AWS answer
 * snapferry reads (100 snapshots with 50 tags each) holds ~45,000.
 */
int
aws_xml_too_big(const char *data, size_t len)
{
	const char *p = data, *e = data + len;
	size_t n = 0;

	while (p < e && (p = memchr(p, '<', (size_t)(e - p))) != NULL) {
		if (++n > AWS_XML_MAX_TAGS)
			return (1);
		p++;
	}
	return (0);
}

/* The parse options: no XML_PARSE_NOENT (no entity substitution), no DTD loading, no
 * network; COMPACT keeps short text inside its node instead of a block of its own. */
#define AWS_XML_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
	XML_PARSE_NOCDATA | XML_PARSE_COMPACT)
/* Names a reused parser's dictionary may hold before it is replaced: AWS answers
 * use a few hundred element names; a server inventing names can't grow it for good. */
#define AWS_XML_DICT_MAX	4096

/* AWS never sends a DOCTYPE; refuse one rather than reason about entities. */
static xmlDocPtr
checked(xmlDocPtr d)
{
	if (d != NULL && (d->intSubset != NULL || xmlDocGetRootElement(d) == NULL)) {
		xmlFreeDoc(d);
		return (NULL);
	}
	return (d);
}

xmlDocPtr
aws_xml_parse(const char *data, size_t len)
{
	if (data == NULL || len == 0 || len > (size_t)0x7fffffff ||
	    aws_xml_too_big(data, len))
		return (NULL);
	/* No base URL: a name would only be copied and parsed as a URI on every call. */
	return (checked(xmlReadMemory(data, (int)len, NULL, NULL, AWS_XML_OPTIONS)));
}

xmlDocPtr
aws_xml_parse_reuse(xmlParserCtxtPtr *ctxt, const char *data, size_t len)
{
	xmlDocPtr d;

	if (data == NULL || len == 0 || len > (size_t)0x7fffffff ||
	    aws_xml_too_big(data, len))
		return (NULL);
	if (*ctxt != NULL && (*ctxt)->dict != NULL &&
	    xmlDictSize((*ctxt)->dict) > AWS_XML_DICT_MAX) {
		xmlFreeParserCtxt(*ctxt);
		*ctxt = NULL;
	}
	if (*ctxt == NULL && (*ctxt = xmlNewParserCtxt()) == NULL)
		return (NULL);
	/* Not a static input buffer (no copy of the answer): libxml2 2.9 fails on large
	 * static inputs; the copy is wiped when freed, right below. */
	d = xmlCtxtReadMemory(*ctxt, data, (int)len, NULL, NULL, AWS_XML_OPTIONS);
	/* Release the input now (the hooks wipe it): it may be an answer with a secret key. */
	xmlCtxtReset(*ctxt);
	return (checked(d));
}

xmlNodePtr
xml_child(xmlNodePtr n, const char *name)
{
	xmlNodePtr c;

	if (n == NULL)
		return (NULL);
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return (c);
	return (NULL);
}

xmlNodePtr
xml_find(xmlNodePtr n, const char *name)
{
	xmlNodePtr c, f;

	if (n == NULL)
		return (NULL);
	for (c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)c->name, name) == 0)
			return (c);
		if ((f = xml_find(c, name)) != NULL)
			return (f);
	}
	return (NULL);
}

char *
xml_text(xmlNodePtr n, const char *name)
{
	xmlNodePtr c = xml_child(n, name);
	xmlChar *t;
	char *s;

	if (c == NULL)
		return (NULL);
	if ((t = xmlNodeGetContent(c)) == NULL)
		return (xstrdup(""));
	s = xstrdup((const char *)t);
	/* The text may be a secret (SecretAccessKey, SessionToken). */
	wipe(t, strlen((const char *)t));
	xmlFree(t);
	return (s);
}

/* ---- error responses ------------------------------------------------------ */

static int
parse_xml_error(const char *body, size_t len, struct aws_error *err)
{
	xmlDocPtr d;
	xmlNodePtr root, e;

	if ((d = aws_xml_parse(body, len)) == NULL)
		return (-1);
	root = xmlDocGetRootElement(d);
	/* ErrorResponse/Error, Response/Errors/Error, or a bare Error root. */
	if (strcmp((const char *)root->name, "Error") == 0)
		e = root;
	else
		e = xml_find(root, "Error");
	if (e == NULL) {
		xmlFreeDoc(d);
		return (-1);
	}
	err->code = xml_text(e, "Code");
	err->message = xml_text(e, "Message");
	if ((err->request_id = xml_text(root, "RequestId")) == NULL &&
	    (err->request_id = xml_text(root, "RequestID")) == NULL) {
		xmlNodePtr rid = xml_find(root, "RequestId");

		if (rid != NULL && rid->parent != NULL)
			err->request_id = xml_text(rid->parent, "RequestId");
	}
	xmlFreeDoc(d);
	return (err->code != NULL ? 0 : -1);
}

static int
parse_json_error(const char *body, size_t len, struct aws_error *err)
{
	cJSON *j, *t, *m;
	const char *code, *p;
	size_t n;

	if ((j = cJSON_ParseWithLength(body, len)) == NULL)
		return (-1);
	t = cJSON_GetObjectItemCaseSensitive(j, "__type");
	if (!cJSON_IsString(t) || t->valuestring[0] == '\0') {
		cJSON_Delete(j);
		return (-1);
	}
	/* botocore: cut at ':' first, then keep what follows the last '#'. */
	code = t->valuestring;
	n = strcspn(code, ":");
	if ((p = memchr(code, '#', n)) != NULL) {
		const char *q;

		while ((q = memchr(p + 1, '#', n - (size_t)(p + 1 - code))) != NULL)
			p = q;
		n -= (size_t)(p + 1 - code);
		code = p + 1;
	}
	if ((err->code = malloc(n + 1)) != NULL) {
		memcpy(err->code, code, n);
		err->code[n] = '\0';
	}
	m = cJSON_GetObjectItemCaseSensitive(j, "message");
	if (!cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(j, "Message");
	if (cJSON_IsString(m))
		err->message = xstrdup(m->valuestring);
	cJSON_Delete(j);
	return (err->code != NULL && err->code[0] != '\0' ? 0 : -1);
}

int
aws_parse_error(const char *body, size_t len, long status, int json,
    const char *request_id, struct aws_error *err)
{
	char msg[96];
	int rc;

	aws_error_clear(err);
	rc = (body == NULL || len == 0) ? -1 :
	    json ? parse_json_error(body, len, err) : parse_xml_error(body, len, err);
	if (rc != 0) {
		aws_error_clear(err);
		snprintf(msg, sizeof(msg), "HTTP %ld with no parsable %s error body",
		    status, json ? "JSON" : "XML");
		/* An unparsable error body: name it by status, as botocore does. */
		err->code = xstrdup(status >= 500 ? "InternalFailure" :
		    status == 429 ? "TooManyRequestsException" : "HttpError");
		err->message = xstrdup(msg);
	}
	if (err->request_id == NULL && request_id != NULL)
		err->request_id = xstrdup(request_id);
	err->http_status = status;
	err->retryable = aws_retryable(err->code, status);
	return (rc);
}

/* ---- time stamps ---------------------------------------------------------------- */

/* digits(p, n, out): the ${n} ASCII digits at ${p} (no sign, no space) into ${out}. 0 or -1. */
static int
digits(const char *p, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return (-1);
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return (0);
}

static int
days_in_month(int y, int mo)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return (29);
	return (days[mo - 1]);
}

/* Exactly the forms AWS returns: every field its fixed number of digits (sscanf would take
 * signs and spaces), a real calendar date (timegm would roll 31 February into March); no
 * zone reads as UTC, as botocore does. */
int
aws_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, nf;
	const char *p;
	time_t t;

	if (s == NULL)
		return (-1);
	/* Each test stops at the first mismatch, so none reads past the NUL. */
	if (digits(s, 4, &y) != 0 || s[4] != '-' || digits(s + 5, 2, &mo) != 0 ||
	    s[7] != '-' || digits(s + 8, 2, &d) != 0 || s[10] != 'T' ||
	    digits(s + 11, 2, &h) != 0 || s[13] != ':' || digits(s + 14, 2, &mi) != 0 ||
	    s[16] != ':' || digits(s + 17, 2, &sec) != 0)
		return (-1);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return (-1);
	p = s + 19;
	if (*p == '.') {
		for (p++, nf = 0; *p >= '0' && *p <= '9'; p++)
			nf++;
		if (nf < 1 || nf > 9)
			return (-1);
	}
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = (*p == '-') ? -1 : 1;
		if (digits(p + 1, 2, &oh) != 0 || p[3] != ':' || digits(p + 4, 2, &om) != 0 ||
		    oh > 23 || om > 59)
			return (-1);
		p += 6;
	}
	if (*p != '\0')
		return (-1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return (-1);
	*out = t - sign * (time_t)(oh * 3600 + om * 60);
	return (0);
}

/*
 * runtime: the Lambda Runtime API client.  One libcurl easy handle keeps
 * the connection to AWS_LAMBDA_RUNTIME_API alive across invocations; the
 * event body is read into a bounded buffer, anything larger is drained.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "log.h"
#include "millis.h"
#include "runtime.h"

#define RT_PREFIX	"/2018-06-01"
#define RT_RESP_MAX	((size_t)64 * 1024)	/* Runtime API answers are tiny JSON */
#define RT_NEXT_TRIES	3			/* transport failures before giving up */

struct rt_client {
	CURL				*curl;
	char				*base;		/* http://host:port/2018-06-01 */
	const volatile sig_atomic_t	*stop;
	int				 in_next;	/* the stop flag may abort this request */
	long				 last_status;
	struct rt_invocation		*inv;		/* target of the GET callbacks */
	struct buf			 resp;		/* body of POST answers */
	char				 errbuf[CURL_ERROR_SIZE];
};

/* ---- helpers exposed for tests ------------------------------------------ */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 when invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

char *
rt_utf8_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;
	struct buf b;

	buf_init(&b, n * 3 + 1);
	if (buf_append(&b, "", 0))
		return (NULL);
	while (i < n) {
		if ((k = utf8_seq(p + i, n - i)) == 0) {
			if (buf_append(&b, "\xef\xbf\xbd", 3))
				goto err0;
			i++;
			continue;
		}
		if (buf_append(&b, p + i, k))
			goto err0;
		i += k;
	}
	return (buf_steal(&b));
err0:
	buf_clean(&b);
	return (NULL);
}

char *
rt_error_json(const char *type, const char *msg)
{
	cJSON *o;
	char *ct = NULL, *cm = NULL, *out = NULL;

	if ((ct = rt_utf8_clean(type ? type : "Runtime.UnknownReason")) == NULL)
		return (NULL);
	if ((cm = rt_utf8_clean(msg ? msg : "")) == NULL)
		goto done;
	if ((o = cJSON_CreateObject()) == NULL)
		goto done;
	if (cJSON_AddStringToObject(o, "errorMessage", cm) == NULL ||
	    cJSON_AddStringToObject(o, "errorType", ct) == NULL ||
	    cJSON_AddArrayToObject(o, "stackTrace") == NULL) {
		cJSON_Delete(o);
		goto done;
	}
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
done:
	free(ct);
	free(cm);
	return (out);
}

/* Replace *dst with a copy of v[0..n), NULL when empty. */
static int
set_field(char **dst, const char *v, size_t n)
{
	char *s = NULL;

	if (n > 0) {
		if ((s = malloc(n + 1)) == NULL)
			return (-1);
		memcpy(s, v, n);
		s[n] = '\0';
	}
	free(*dst);
	*dst = s;
	return (0);
}

/* Epoch milliseconds from decimal digits; 0 when not a plain positive number. */
static int64_t
parse_ms(const char *v, size_t n)
{
	int64_t ms = 0;
	size_t i;

	if (n == 0 || n > 18)
		return (0);
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return (0);
		ms = ms * 10 + (v[i] - '0');
	}
	return (ms);
}

int
rt_parse_header(struct rt_invocation *inv, const char *line, size_t len)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} fields[] = {
		{ "lambda-runtime-aws-request-id", offsetof(struct rt_invocation, request_id) },
		{ "lambda-runtime-invoked-function-arn", offsetof(struct rt_invocation, function_arn) },
		{ "lambda-runtime-trace-id", offsetof(struct rt_invocation, trace_id) },
		{ "lambda-runtime-client-context", offsetof(struct rt_invocation, client_context) },
		{ "lambda-runtime-cognito-identity", offsetof(struct rt_invocation, cognito_identity) },
		{ "lambda-runtime-aws-tenant-id", offsetof(struct rt_invocation, tenant_id) },
	};
	const char *colon, *v, *end;
	size_t nlen, i;

	/* Header values with NUL bytes are not trusted. */
	if (memchr(line, '\0', len) != NULL)
		return (0);
	if ((colon = memchr(line, ':', len)) == NULL)
		return (0);		/* status line, blank line */
	nlen = (size_t)(colon - line);
	while (nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
		nlen--;
	v = colon + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;

	if (nlen == strlen("lambda-runtime-deadline-ms") &&
	    strncasecmp(line, "lambda-runtime-deadline-ms", nlen) == 0) {
		inv->deadline_ms = parse_ms(v, (size_t)(end - v));
		return (0);
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (nlen == strlen(fields[i].name) &&
		    strncasecmp(line, fields[i].name, nlen) == 0)
			return (set_field((char **)(void *)((char *)inv + fields[i].off),
			    v, (size_t)(end - v)));
	}
	return (0);
}

/* ---- invocations ----------------------------------------------------------- */

void
rt_invocation_init(struct rt_invocation *inv)
{
	memset(inv, 0, sizeof(*inv));
	buf_init(&inv->event, RT_EVENT_MAX);
}

void
rt_invocation_clean(struct rt_invocation *inv)
{
	free(inv->request_id);
	free(inv->function_arn);
	free(inv->trace_id);
	free(inv->client_context);
	free(inv->cognito_identity);
	free(inv->tenant_id);
	buf_clean(&inv->event);
	rt_invocation_init(inv);
}

/* ---- libcurl callbacks ------------------------------------------------------ */

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct rt_client *c = arg;

	if (c->inv != NULL && rt_parse_header(c->inv, p, n) != 0)
		return (0);	/* ENOMEM: fail the transfer */
	(void)size;
	return (n);
}

static size_t
on_event(char *p, size_t size, size_t n, void *arg)
{
	struct rt_invocation *inv = ((struct rt_client *)arg)->inv;

	(void)size;
	inv->event_size += n;
	if (!inv->too_large && buf_append(&inv->event, p, n) == 0)
		return (n);
	if (!inv->too_large) {
		/* Over the bound (or out of memory): keep reading, keep nothing. */
		inv->too_large = 1;
		buf_clean(&inv->event);
	}
	if (inv->event_size > RT_DRAIN_MAX) {
		inv->truncated_drain = 1;
		return (0);	/* give up on this connection */
	}
	return (n);
}

static size_t
on_resp(char *p, size_t size, size_t n, void *arg)
{
	struct rt_client *c = arg;

	(void)size;
	/* Keep what fits; the rest of an odd answer is not worth failing for. */
	(void)buf_append(&c->resp, p, n);
	return (n);
}

static size_t
on_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)size;
	(void)arg;
	return (n);
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct rt_client *c = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return (c->in_next && c->stop != NULL && *c->stop) ? 1 : 0;
}

/* ---- the client -------------------------------------------------------------- */

/* Turning proxies off succeeded, or libcurl was built without proxy support. */
static int
no_proxy_ok(CURLcode rc)
{
	return (rc == CURLE_OK || rc == CURLE_NOT_BUILT_IN || rc == CURLE_UNKNOWN_OPTION);
}

struct rt_client *
rt_client_new(const char *api, const volatile sig_atomic_t *stop)
{
	struct rt_client *c;
	size_t n;

	if (api == NULL || *api == '\0')
		return (NULL);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto err0;
	c->stop = stop;
	buf_init(&c->resp, RT_RESP_MAX);
	n = strlen("http://") + strlen(api) + strlen(RT_PREFIX) + 1;
	if ((c->base = malloc(n)) == NULL)
		goto err1;
	snprintf(c->base, n, "http://%s%s", api, RT_PREFIX);
	if ((c->curl = curl_easy_init()) == NULL)
		goto err2;

	/* Settings of AWS's own C++ runtime client: never a proxy, no signals,
	 * a short connect timeout and no overall timeout. */
	if (curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L) ||
	    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L) ||
	    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 0L) ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) ||
	    !no_proxy_ok(curl_easy_setopt(c->curl, CURLOPT_PROXY, "")) ||
	    !no_proxy_ok(curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*")) ||
	    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf) ||
	    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L) ||
	    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress) ||
	    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c) ||
	    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c) ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c))
		goto err3;
#if LIBCURL_VERSION_NUM >= 0x075500
	if (curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http"))
		goto err3;
#endif

	/* Success! */
	return (c);

err3:
	curl_easy_cleanup(c->curl);
err2:
	free(c->base);
err1:
	free(c);
err0:
	/* Failure! */
	return (NULL);
}

void
rt_client_free(struct rt_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	buf_clean(&c->resp);
	free(c->base);
	free(c);
}

long
rt_last_status(const struct rt_client *c)
{
	return (c->last_status);
}

/* Classify an HTTP status of the Runtime API. */
static enum rt_status
status_of(long st)
{
	if (st >= 200 && st < 300)
		return (RT_OK);
	if (st >= 400 && st < 500)
		return (RT_REJECTED);
	return (RT_FATAL);
}

/* base + path, malloc'd. */
static char *
make_url(const struct rt_client *c, const char *path)
{
	size_t n = strlen(c->base) + strlen(path) + 1;
	char *u;

	if ((u = malloc(n)) != NULL)
		snprintf(u, n, "%s%s", c->base, path);
	return (u);
}

/* A log line for a transport failure. */
static void
log_curl(enum log_level l, const char *msg, const struct rt_client *c, CURLcode rc)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "error", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	log_msg(l, msg, f);
}

enum rt_status
rt_next(struct rt_client *c, struct rt_invocation *inv)
{
	CURLcode rc = CURLE_OK;
	char *url;
	int tries;

	rt_invocation_clean(inv);
	if ((url = make_url(c, "/runtime/invocation/next")) == NULL)
		return (RT_FATAL);
	for (tries = 1; ; tries++) {
		rt_invocation_clean(inv);
		c->inv = inv;
		c->in_next = 1;
		c->errbuf[0] = '\0';
		c->last_status = 0;
		if (curl_easy_setopt(c->curl, CURLOPT_URL, url) ||
		    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L) ||
		    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL) ||
		    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header) ||
		    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_event)) {
			rc = CURLE_FAILED_INIT;
			break;
		}
		rc = curl_easy_perform(c->curl);
		c->in_next = 0;
		c->inv = NULL;
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->last_status);
		/* An oversized body we stopped draining still has its headers. */
		if (rc == CURLE_WRITE_ERROR && inv->truncated_drain)
			rc = CURLE_OK;
		if (rc == CURLE_OK || rc == CURLE_ABORTED_BY_CALLBACK ||
		    (c->stop != NULL && *c->stop) || tries >= RT_NEXT_TRIES)
			break;
		log_curl(LOG_WARN, "runtime API unreachable, retrying", c, rc);
		millis_sleep(100L * tries);
	}
	free(url);
	if (rc != CURLE_OK) {
		if (rc != CURLE_ABORTED_BY_CALLBACK)
			log_curl(LOG_ERROR, "runtime API next failed", c, rc);
		return (RT_FATAL);
	}
	if (c->last_status != 200) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddNumberToObject(f, "status", (double)c->last_status);
		log_msg(LOG_ERROR, "runtime API next answered with an error", f);
		return (RT_FATAL);
	}
	if (inv->request_id == NULL) {
		log_msg(LOG_ERROR, "runtime API next sent no request id", NULL);
		return (RT_FATAL);
	}
	return (RT_OK);
}

/* POST body to path with the extra header (or NULL). */
static enum rt_status
post(struct rt_client *c, const char *path, const char *body, size_t len,
    const char *extra)
{
	struct curl_slist *h = NULL, *t;
	enum rt_status st = RT_FATAL;
	CURLcode rc;
	char *url;

	if ((url = make_url(c, path)) == NULL)
		goto err0;
	if ((t = curl_slist_append(h, "Content-Type: application/json")) == NULL)
		goto err1;
	h = t;
	/* No "Expect: 100-continue" round trip, no chunked encoding. */
	if ((t = curl_slist_append(h, "Expect:")) == NULL)
		goto err1;
	h = t;
	if ((t = curl_slist_append(h, "Transfer-Encoding:")) == NULL)
		goto err1;
	h = t;
	if (extra != NULL) {
		if ((t = curl_slist_append(h, extra)) == NULL)
			goto err1;
		h = t;
	}
	buf_reset(&c->resp);
	c->errbuf[0] = '\0';
	c->last_status = 0;
	if (curl_easy_setopt(c->curl, CURLOPT_URL, url) ||
	    curl_easy_setopt(c->curl, CURLOPT_POST, 1L) ||
	    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "") ||
	    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0)) ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h) ||
	    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_discard) ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_resp))
		goto err2;
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->last_status);
	if (rc != CURLE_OK) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "path", path);
		cJSON_AddStringToObject(f, "error", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		log_msg(LOG_ERROR, "runtime API request failed", f);
		goto err2;
	}
	st = status_of(c->last_status);
	if (st != RT_OK) {
		cJSON *f = cJSON_CreateObject();
		char *a = rt_utf8_clean(c->resp.data ? c->resp.data : "");

		cJSON_AddStringToObject(f, "path", path);
		cJSON_AddNumberToObject(f, "status", (double)c->last_status);
		cJSON_AddStringToObject(f, "answer", a ? a : "");
		free(a);
		log_msg(LOG_ERROR, "runtime API refused a request", f);
	}

err2:
	/* The list must not outlive this call: detach it from the handle. */
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
err1:
	curl_slist_free_all(h);
	free(url);
err0:
	return (st);
}

/* "/runtime/invocation/<escaped id>/<what>", malloc'd. */
static char *
invocation_path(struct rt_client *c, const char *request_id, const char *what)
{
	char *esc, *p = NULL;
	size_t n;

	if ((esc = curl_easy_escape(c->curl, request_id, 0)) == NULL)
		return (NULL);
	n = strlen("/runtime/invocation/") + strlen(esc) + strlen(what) + 2;
	if ((p = malloc(n)) != NULL)
		snprintf(p, n, "/runtime/invocation/%s/%s", esc, what);
	curl_free(esc);
	return (p);
}

enum rt_status
rt_respond(struct rt_client *c, const char *request_id, const char *body, size_t len)
{
	enum rt_status st;
	char *path;

	if ((path = invocation_path(c, request_id, "response")) == NULL)
		return (RT_FATAL);
	st = post(c, path, body, len, NULL);
	free(path);
	return (st);
}

/* POST an error document to path. */
static enum rt_status
post_error(struct rt_client *c, const char *path, const char *type, const char *msg)
{
	enum rt_status st = RT_FATAL;
	char *json, *hdr = NULL, *ctype;
	size_t i, n;

	if ((json = rt_error_json(type, msg)) == NULL)
		return (RT_FATAL);
	/* The header value: printable ASCII only (a header can't carry CR/LF). */
	if ((ctype = strdup(type ? type : "Runtime.UnknownReason")) == NULL)
		goto done;
	for (i = 0; ctype[i] != '\0'; i++)
		if ((unsigned char)ctype[i] < 0x21 || (unsigned char)ctype[i] > 0x7e)
			ctype[i] = '_';
	n = strlen("Lambda-Runtime-Function-Error-Type: ") + strlen(ctype) + 1;
	if ((hdr = malloc(n)) == NULL)
		goto done;
	snprintf(hdr, n, "Lambda-Runtime-Function-Error-Type: %s", ctype);
	st = post(c, path, json, strlen(json), hdr);
done:
	free(hdr);
	free(ctype);
	free(json);
	return (st);
}

enum rt_status
rt_error(struct rt_client *c, const char *request_id, const char *type, const char *msg)
{
	enum rt_status st;
	char *path;

	if ((path = invocation_path(c, request_id, "error")) == NULL)
		return (RT_FATAL);
	st = post_error(c, path, type, msg);
	free(path);
	return (st);
}

enum rt_status
rt_init_error(struct rt_client *c, const char *type, const char *msg)
{
	return (post_error(c, "/runtime/init/error", type, msg));
}

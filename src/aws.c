/*
 * aws: one service client -- endpoint resolution, the Query (form/XML) and
 * JSON 1.1 protocols, signing each attempt, SDK standard-mode retries bounded
 * by the invocation deadline, and the single aws_error type.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "aws.h"
#include "buf.h"
#include "http.h"
#include "log.h"
#include "millis.h"
#include "sigv4.h"

#define AWS_BACKOFF_BASE_MS	100L
#define AWS_BACKOFF_CAP_MS	20000L
#define AWS_BODY_MAX		(16u * 1024 * 1024)

/* ---- process set-up ------------------------------------------------------- */

int
aws_global_init(void)
{
	/* libxml2 holds the secret key and session token of an AssumeRole answer in
	 * blocks of its own (input buffers, text): wipe each one it frees. */
	if (xmlMemSetup(buf_wipe_free, malloc, buf_wipe_realloc, strdup) != 0)
		return (-1);
	xmlInitParser();
	return (http_global_init());
}

void
aws_global_cleanup(void)
{
	http_global_cleanup();
}

/* ---- endpoints ------------------------------------------------------------ */

static int
env_true(const char *name)
{
	const char *v = getenv(name);

	return (v != NULL && strcasecmp(v, "true") == 0);
}

/*
 * A configured endpoint, its scheme lower-cased: URL schemes are
 * case-insensitive (RFC 3986 3.1), so "HTTP://host" means "http://host", and
 * the signer and libcurl then see the one spelling they parse.
 */
static char *
endpoint_dup(const char *v)
{
	char *s = xstrdup(v), *p;

	if (s != NULL && (p = strstr(s, "://")) != NULL)
		for (; p > s; p--)
			p[-1] = (char)tolower((unsigned char)p[-1]);
	return (s);
}

char *
aws_endpoint(const char *service, const char *region)
{
	static const struct { const char *prefix, *suffix; } parts[] = {
		{ "cn-", "amazonaws.com.cn" },
		{ "us-isob-", "sc2s.sgov.gov" },
		{ "us-isof-", "csp.hci.ic.gov" },
		{ "us-iso-", "c2s.ic.gov" },
		{ "eu-isoe-", "cloud.adc-e.uk" },
	};
	const char *suffix = "amazonaws.com", *v;
	char var[64], *url;
	size_t i, n;

	if (!env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
		/* AWS_ENDPOINT_URL_<SERVICE ID upper-cased, spaces and dashes as '_'>. */
		n = (size_t)snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", service);
		if (n < sizeof(var)) {
			for (i = strlen("AWS_ENDPOINT_URL_"); var[i]; i++) {
				if (var[i] == ' ' || var[i] == '-')
					var[i] = '_';
				else
					var[i] = (char)toupper((unsigned char)var[i]);
			}
			if ((v = getenv(var)) != NULL && *v != '\0')
				return (endpoint_dup(v));
		}
		if ((v = getenv("AWS_ENDPOINT_URL")) != NULL && *v != '\0')
			return (endpoint_dup(v));
	}
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strncmp(region, parts[i].prefix, strlen(parts[i].prefix)) == 0) {
			suffix = parts[i].suffix;
			break;
		}
	/* aws-us-gov shares the amazonaws.com suffix; STS is regional everywhere. */
	n = strlen("https://") + strlen(service) + 1 + strlen(region) + 1 + strlen(suffix) + 1;
	if ((url = malloc(n)) == NULL)
		return (NULL);
	snprintf(url, n, "https://%s.%s.%s", service, region, suffix);
	return (url);
}

int
aws_client_init(struct aws_client *c, struct http_client *http,
    const char *service, const char *region, const struct aws_creds *creds)
{
	memset(c, 0, sizeof(*c));
	c->http = http;
	c->creds = creds;
	c->max_attempts = 3;
	c->attempt_timeout_ms = AWS_ATTEMPT_TIMEOUT_MS;
	c->margin_ms = AWS_DEADLINE_MARGIN_MS;
	c->max_response = AWS_MAX_RESPONSE;
	sigv4_cache_init(&c->sig);
	buf_init(&c->body, AWS_BODY_MAX);
	buf_init(&c->signed_mem, AWS_BODY_MAX);
	if ((c->service = xstrdup(service)) == NULL ||
	    (c->region = xstrdup(region)) == NULL ||
	    (c->endpoint = aws_endpoint(service, region)) == NULL) {
		aws_client_clean(c);
		return (-1);
	}
	return (0);
}

void
aws_client_clean(struct aws_client *c)
{
	if (c == NULL)
		return;
	creds_clean(&c->renewed);
	c->creds = NULL;
	free(c->service);
	free(c->region);
	free(c->endpoint);
	c->service = c->region = c->endpoint = NULL;
	sigv4_cache_clean(&c->sig);
	free(c->url);
	c->url = NULL;
	if (c->xml != NULL)
		xmlFreeParserCtxt(c->xml);
	c->xml = NULL;
	buf_clean(&c->body);
	buf_clean(&c->signed_mem);
}

/* ---- Query parameters ----------------------------------------------------- */

void
aws_params_init(struct aws_params *p)
{
	p->kv = NULL;
	p->n = p->cap = 0;
}

int
aws_params_add(struct aws_params *p, const char *key, const char *value)
{
	char *kv, **nkv;
	size_t kl, vl;

	if (key == NULL)
		return (-1);
	if (value == NULL)
		value = "";
	if (p->n == p->cap) {
		/* Two pointers (key, value) per parameter. */
		if ((nkv = buf_grow(p->kv, &p->cap, 2 * sizeof(*nkv), 8)) == NULL)
			return (-1);
		p->kv = nkv;
	}
	/* Key and value share one block "key\0value\0": one allocation a parameter. */
	kl = strlen(key);
	vl = strlen(value);
	if (kl > ((size_t)-1) / 2 - 2 || vl > ((size_t)-1) / 2 || (kv = malloc(kl + vl + 2)) == NULL)
		return (-1);
	memcpy(kv, key, kl + 1);
	memcpy(kv + kl + 1, value, vl + 1);
	p->kv[2 * p->n] = kv;
	p->kv[2 * p->n + 1] = kv + kl + 1;
	p->n++;
	return (0);
}

int
aws_params_addi(struct aws_params *p, const char *prefix, size_t i,
    const char *suffix, const char *value)
{
	size_t n = strlen(prefix) + 24 + (suffix ? strlen(suffix) : 0);
	char *k;
	int rc;

	if ((k = malloc(n)) == NULL)
		return (-1);
	if (suffix != NULL && *suffix != '\0')
		snprintf(k, n, "%s.%zu.%s", prefix, i, suffix);
	else
		snprintf(k, n, "%s.%zu", prefix, i);
	rc = aws_params_add(p, k, value);
	free(k);
	return (rc);
}

void
aws_params_clean(struct aws_params *p)
{
	size_t i;
	char *kv;

	for (i = 0; i < p->n; i++) {
		/* Values may be secrets (e.g. a token code): wipe key and value. */
		kv = p->kv[2 * i];
		wipe(kv, (size_t)(p->kv[2 * i + 1] - kv) + strlen(p->kv[2 * i + 1]));
		free(kv);
	}
	free(p->kv);
	aws_params_init(p);
}

/*
 * One form value as botocore puts it on the wire (urlencode/quote_plus):
 * A-Za-z0-9-_.~ kept, space as '+', every other byte as %XX.
 */
static int
form_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[3];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			if (buf_append(b, s, 1) != 0)
				return (-1);
		} else if (c == ' ') {
			if (buf_append(b, "+", 1) != 0)
				return (-1);
		} else {
			enc[0] = '%';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			if (buf_append(b, enc, 3) != 0)
				return (-1);
		}
	}
	return (0);
}

static int
form_append(struct buf *b, const char *k, const char *v)
{
	if ((b->len > 0 && buf_append(b, "&", 1) != 0) || form_escape(b, k) != 0 ||
	    buf_append(b, "=", 1) != 0 || form_escape(b, v) != 0)
		return (-1);
	return (0);
}

int
aws_form_encode(struct buf *out, const char *action, const char *version,
    const struct aws_params *params)
{
	size_t i;

	if (form_append(out, "Action", action) != 0 ||
	    form_append(out, "Version", version) != 0)
		return (-1);
	for (i = 0; params != NULL && i < params->n; i++)
		if (form_append(out, params->kv[2 * i], params->kv[2 * i + 1]) != 0)
			return (-1);
	return (0);
}

/* ---- signing -------------------------------------------------------------- */

void
aws_signed_clean(struct aws_signed *s)
{
	if (s == NULL)
		return;
	/* The signature authenticates requests for minutes; the rest points into mem. */
	buf_clean(&s->mem);
	memset(s, 0, sizeof(*s));
}

/* aws_sign_cached into ${out}, whose (empty) ${mem} may come with storage to reuse. */
static int
sign_into(struct sigv4_cache *cache, const struct aws_creds *creds,
    const char *region, const char *service, time_t t, const char *method,
    const char *url, const char *content_type, const char *target, const void *body,
    size_t len, struct aws_signed *out)
{
	struct sigv4_signer sg;
	struct sigv4_request r;
	struct sigv4_url u;
	size_t n = 0, path_off, query_off = 0, auth_off;

	if (creds == NULL || creds->access_key_id == NULL || creds->secret_access_key == NULL)
		return (-1);
	memset(&sg, 0, sizeof(sg));
	sg.access_key_id = creds->access_key_id;
	sg.secret_access_key = creds->secret_access_key;
	sg.session_token = creds->session_token;
	sg.region = region;
	sg.service = service;
	sigv4_amz_date(t, sg.amz_date);
	memcpy(out->date, sg.amz_date, sizeof(out->date));
	/* One block for the host, path and query (NUL-terminated copies) and the
	 * Authorization value; the pointers into it are set once it stops growing. */
	if (sigv4_url_parts(url, &u) != 0 ||
	    buf_append(&out->mem, u.host, u.host_len) || buf_append(&out->mem, "", 1))
		goto fail;
	path_off = out->mem.len;
	if ((u.path_len == 0 ? buf_append(&out->mem, "/", 1) :
	    buf_append(&out->mem, u.path, u.path_len)) || buf_append(&out->mem, "", 1))
		goto fail;
	if (u.query != NULL) {
		query_off = out->mem.len;
		if (buf_append(&out->mem, u.query, u.query_len) || buf_append(&out->mem, "", 1))
			goto fail;
	}
	auth_off = out->mem.len;
	/* Only headers libcurl sends unchanged are signed (never User-Agent,
	 * Expect, Content-Length or Transfer-Encoding). */
	out->h[n].name = "Host";
	out->h[n++].value = out->mem.data;
	out->h[n].name = "X-Amz-Date";
	out->h[n++].value = out->date;
	if (creds->session_token != NULL) {
		out->h[n].name = "X-Amz-Security-Token";
		out->h[n++].value = creds->session_token;
	}
	if (content_type != NULL) {
		out->h[n].name = "Content-Type";
		out->h[n++].value = content_type;
	}
	if (target != NULL) {
		out->h[n].name = "X-Amz-Target";
		out->h[n++].value = target;
	}
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = out->mem.data + path_off;
	r.query = u.query != NULL ? out->mem.data + query_off : NULL;
	r.headers = out->h;
	r.n_headers = n;
	r.body = body;
	r.body_len = len;
	/* sigv4_authorize writes mem (which may move) only after reading r. */
	if (sigv4_authorize(&sg, &r, cache, &out->mem) != 0)
		goto fail;
	out->host = out->mem.data;
	out->auth = out->mem.data + auth_off;
	out->h[0].value = out->host;
	out->h[n].name = "Authorization";
	out->h[n].value = out->auth;
	out->n = n + 1;
	return (0);
fail:
	aws_signed_clean(out);
	return (-1);
}

int
aws_sign_cached(struct sigv4_cache *cache, const struct aws_creds *creds,
    const char *region, const char *service, time_t t, const char *method,
    const char *url, const char *content_type, const char *target, const void *body,
    size_t len, struct aws_signed *out)
{
	memset(out, 0, sizeof(*out));
	buf_init(&out->mem, AWS_BODY_MAX);
	return (sign_into(cache, creds, region, service, t, method, url, content_type, target,
	    body, len, out));
}

/* signed_take(c, s), signed_give(c, s): a request's aws_signed on the client's reused,
 * wiped block. */
static void
signed_take(struct aws_client *c, struct aws_signed *s)
{
	memset(s, 0, sizeof(*s));
	if (c->signed_mem.max == 0)
		buf_init(&c->signed_mem, AWS_BODY_MAX);
	s->mem = c->signed_mem;
	buf_init(&c->signed_mem, AWS_BODY_MAX);
}

static void
signed_give(struct aws_client *c, struct aws_signed *s)
{
	buf_reset(&s->mem);	/* the signature authenticates requests for minutes */
	buf_clean(&c->signed_mem);
	c->signed_mem = s->mem;
	memset(s, 0, sizeof(*s));
}

int
aws_sign(const struct aws_creds *creds, const char *region, const char *service,
    time_t t, const char *method, const char *url, const char *content_type,
    const char *target, const void *body, size_t len, struct aws_signed *out)
{
	return (aws_sign_cached(NULL, creds, region, service, t, method, url, content_type,
	    target, body, len, out));
}

/* Redact the secret and the token should a server echo them in a message. */
static void
redact(char *msg, const struct aws_creds *cr)
{
	const char *secrets[2];
	size_t i, n;
	char *p;

	if (msg == NULL || cr == NULL)
		return;
	secrets[0] = cr->secret_access_key;
	secrets[1] = cr->session_token;
	for (i = 0; i < 2; i++) {
		if (secrets[i] == NULL || (n = strlen(secrets[i])) < 8)
			continue;
		while ((p = strstr(msg, secrets[i])) != NULL)
			memset(p, '*', n);
	}
}

/* ---- the request loop ----------------------------------------------------- */

/* xorshift64*: jitter only, no security role. */
static uint64_t
jitter_next(void)
{
	static uint64_t s;

	if (s == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
		    ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ULL;
	}
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (s * 0x2545F4914F6CDD1DULL);
}

/* Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]. */
static long
backoff_ms(int attempt)
{
	long ceil = AWS_BACKOFF_BASE_MS;
	int i;

	for (i = 1; i < attempt && ceil < AWS_BACKOFF_CAP_MS; i++)
		ceil *= 2;
	if (ceil > AWS_BACKOFF_CAP_MS)
		ceil = AWS_BACKOFF_CAP_MS;
	return ((long)(jitter_next() % (uint64_t)(ceil + 1)));
}

/* Milliseconds left before the deadline minus the margin; LONG_MAX-ish when none. */
static long
time_left(const struct aws_client *c)
{
	int64_t left;

	if (c->deadline_ms <= 0)
		return (0x7fffffffL);
	left = c->deadline_ms - c->margin_ms - millis_now();
	if (left <= 0)
		return (0);
	return (left > 0x7fffffffL ? 0x7fffffffL : (long)left);
}

static void
deadline_error(struct aws_error *err, const char *action, const char *last)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "%s: no time left before the invocation deadline%s%s%s",
	    action, last ? " (last error: " : "", last ? last : "", last ? ")" : "");
	aws_error_set(err, "DeadlineExceeded", msg);
	err->retryable = 1;
}

static void
transport_error(struct aws_error *err, const struct http_response *r, const char *action)
{
	char msg[200];
	const char *code;

	switch (r->fail) {
	case HTTP_FAIL_CONNECT:
	case HTTP_FAIL_IO:
		code = "NetworkError";
		break;
	case HTTP_FAIL_TIMEOUT:
		code = "Timeout";
		break;
	case HTTP_FAIL_TOO_LARGE:
		code = "ResponseTooLarge";
		break;
	default:
		code = "HttpError";
		break;
	}
	snprintf(msg, sizeof(msg), "%s: %s", action, r->errstr);
	aws_error_set(err, code, msg);
	err->http_status = 0;
	err->retryable = (r->fail == HTTP_FAIL_CONNECT || r->fail == HTTP_FAIL_IO ||
	    r->fail == HTTP_FAIL_TIMEOUT);
}

static void
log_attempt(const struct aws_client *c, const char *action, int attempt, long status,
    const char *code, int64_t ms)
{
	cJSON *f;

	/* Every attempt passes here: build the fields only when the line is written. */
	if (!log_enabled(LOG_DEBUG))
		return;
	if ((f = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(f, "service", c->service);
		cJSON_AddStringToObject(f, "action", action);
		cJSON_AddNumberToObject(f, "attempt", attempt);
		cJSON_AddNumberToObject(f, "status", (double)status);
		cJSON_AddNumberToObject(f, "ms", (double)ms);
		if (code != NULL)
			cJSON_AddStringToObject(f, "code", code);
	}
	log_debug("aws call attempt", f);
}

/* Say which of the causes of a signing failure it was: a wrong hint sends the reader astray. */
static void
sign_error(struct aws_error *err, const struct aws_client *c, const char *action,
    const char *url)
{
	char msg[300], *h = NULL, *p = NULL, *q = NULL;

	if (c->creds == NULL || c->creds->access_key_id == NULL ||
	    c->creds->secret_access_key == NULL)
		snprintf(msg, sizeof(msg), "%s: no credentials to sign the request with", action);
	else if (sigv4_url_split(url, &h, &p, &q) != 0)
		snprintf(msg, sizeof(msg), "%s: the endpoint \"%.120s\" is not an http:// or "
		    "https:// URL with a host (AWS_ENDPOINT_URL*)", action, url);
	else
		snprintf(msg, sizeof(msg), "%s: could not sign the request (out of memory)", action);
	free(h);
	free(p);
	free(q);
	aws_error_set(err, "SigningFailed", msg);
}

/*
 * send_with_retries(c, action, content_type, target, body, len, json, resp, err):
 * 0 with a 2xx ${resp} (caller frees), or -1 with ${err}.
 */
static int
send_with_retries(struct aws_client *c, const char *action, const char *content_type,
    const char *target, const char *body, size_t len, int json,
    struct http_response *resp, struct aws_error *err)
{
	struct http_request req;
	struct aws_signed sg;
	const char *p, *url;
	int attempt, max = c->max_attempts > 0 ? c->max_attempts : 3;
	long left, tmo;
	int64_t t0;
	size_t n;

	aws_error_clear(err);
	/* A client set up by hand (zeroed) gets its cache here. */
	if (c->sig.work.max == 0)
		sigv4_cache_init(&c->sig);
	/* Query and JSON calls POST to the endpoint's path, "/" when it has none; built
	 * once per client. */
	if (c->url == NULL) {
		p = strstr(c->endpoint, "://");
		p = p ? p + 3 : c->endpoint;
		n = strlen(c->endpoint) + 2;
		if ((c->url = malloc(n)) == NULL) {
			aws_error_set(err, "OutOfMemory", "out of memory");
			return (-1);
		}
		snprintf(c->url, n, "%s%s", c->endpoint, strchr(p, '/') ? "" : "/");
	}
	url = c->url;

	for (attempt = 1; ; attempt++) {
		if ((left = time_left(c)) <= 0) {
			deadline_error(err, action, err->code);
			break;
		}
		tmo = c->attempt_timeout_ms > 0 ? c->attempt_timeout_ms : AWS_ATTEMPT_TIMEOUT_MS;
		if (tmo > left)
			tmo = left;
		/* Assumed-role credentials: renewed before an attempt could outlive them. */
		if (c->refresh != NULL && c->creds != NULL && creds_expiring(c->creds, time(NULL))) {
			struct aws_creds fresh;

			if (c->refresh(c->refresh_arg, &fresh, err) != 0) {
				char msg[300];

				/* Say it was the renewal, not ${action}, that failed. */
				snprintf(msg, sizeof(msg), "%s: renewing the expiring credentials "
				    "(sts:AssumeRole) failed: %s", action,
				    err->message ? err->message : "");
				free(err->message);
				err->message = xstrdup(msg);
				break;
			}
			creds_clean(&c->renewed);
			c->renewed = fresh;
			c->creds = &c->renewed;
		}
		signed_take(c, &sg);
		if (sign_into(&c->sig, c->creds, c->region, c->service, time(NULL), "POST",
		    url, content_type, target, body, len, &sg) != 0) {
			sign_error(err, c, action, url);
			break;
		}
		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.url = url;
		req.headers = sg.h;
		req.n_headers = sg.n;
		req.body = body;
		req.body_len = len;
		req.timeout_ms = tmo;
		req.max_response = c->max_response ? c->max_response : AWS_MAX_RESPONSE;
		t0 = millis_mono();
		if (http_perform(c->http, &req, resp) != 0) {
			signed_give(c, &sg);
			/* A timeout that the deadline forced is the deadline's fault. */
			if (resp->fail == HTTP_FAIL_TIMEOUT && tmo == left)
				deadline_error(err, action, "Timeout");
			else
				transport_error(err, resp, action);
			if (resp->request_id != NULL)
				err->request_id = xstrdup(resp->request_id);
		} else {
			signed_give(c, &sg);
			if (resp->status >= 200 && resp->status < 300) {
				log_attempt(c, action, attempt, resp->status, NULL, millis_mono() - t0);
				return (0);
			}
			aws_parse_error(resp->body.data, resp->body.len, resp->status, json,
			    resp->request_id, err);
			redact(err->message, c->creds);
		}
		log_attempt(c, action, attempt, resp->status, err->code, millis_mono() - t0);
		http_response_clean(resp);
		if (!err->retryable || attempt >= max || aws_error_is(err, "DeadlineExceeded"))
			break;
		tmo = backoff_ms(attempt);
		if ((left = time_left(c)) <= tmo) {
			char *last = xstrdup(err->code);

			deadline_error(err, action, last);
			free(last);
			break;
		}
		millis_sleep(tmo);
	}
	return (-1);
}

/* malformed(err, resp, what): a 2xx body we can't read, with its status and request id. */
static void
malformed(struct aws_error *err, const struct http_response *resp, const char *what)
{
	aws_error_set(err, "MalformedResponse", what);
	err->http_status = resp->status;
	if (resp->request_id != NULL)
		err->request_id = xstrdup(resp->request_id);
}

int
aws_query(struct aws_client *c, const char *version, const char *action,
    const struct aws_params *params, xmlDocPtr *out, struct aws_error *err)
{
	struct http_response resp;
	struct buf *body = &c->body;
	int rc = -1;

	*out = NULL;
	/* A client set up by hand (zeroed) gets its buffer here. */
	if (body->max == 0)
		buf_init(body, AWS_BODY_MAX);
	buf_reset(body);
	if (aws_form_encode(body, action, version, params) != 0) {
		aws_error_set(err, "RequestTooLarge", "could not encode the request parameters");
		goto done;
	}
	if (send_with_retries(c, action, "application/x-www-form-urlencoded; charset=utf-8",
	    NULL, body->data, body->len, 0, &resp, err) != 0)
		goto done;
	if (aws_xml_too_big(resp.body.data, resp.body.len)) {
		malformed(err, &resp, "the response holds more XML elements than any AWS "
		    "answer snapferry reads (refused unparsed, to bound memory)");
	} else if ((*out = aws_xml_parse_reuse(&c->xml, resp.body.data, resp.body.len)) == NULL) {
		malformed(err, &resp, "the response is not well-formed XML");
	} else
		rc = 0;
	http_response_clean(&resp);
done:
	buf_reset(body);	/* wiped: parameters may be secrets */
	return (rc);
}

int
aws_json(struct aws_client *c, const char *target, const cJSON *body,
    cJSON **out, struct aws_error *err)
{
	struct http_response resp;
	const char *action;
	char *text;
	int rc = -1;

	*out = NULL;
	text = body != NULL ? cJSON_PrintUnformatted(body) : xstrdup("{}");
	if (text == NULL) {
		aws_error_set(err, "OutOfMemory", "could not encode the JSON request");
		return (-1);
	}
	action = strrchr(target, '.');
	action = action ? action + 1 : target;
	if (send_with_retries(c, action, "application/x-amz-json-1.1", target, text,
	    strlen(text), 1, &resp, err) != 0)
		goto done;
	if (resp.body.len == 0)
		*out = cJSON_CreateObject();
	else
		*out = cJSON_ParseWithLength(resp.body.data, resp.body.len);
	if (*out == NULL || !cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		malformed(err, &resp, "the response is not a JSON object");
	} else
		rc = 0;
	http_response_clean(&resp);
done:
	free_secret(text);
	return (rc);
}

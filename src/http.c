/*
 * http: the libcurl wrapper behind every AWS call.  One easy handle per
 * client, reused so libcurl keeps connections alive per host; bounded
 * response bodies; time limits; curl errors mapped to enum http_fail.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"

#define HTTP_DEFAULT_MAX	(1024u * 1024)
#define HTTP_CONNECT_MS		10000L

struct http_client {
	CURL	*easy;
	char	 errbuf[CURL_ERROR_SIZE];
	char	*noproxy;	/* NO_PROXY plus loopback, read once */
	char	*url;		/* the URL last set on ${easy} (libcurl copies each one set) */
	void	*hdr;		/* the header list's block, reused; wiped after each request */
	size_t	 hdr_cap;
	int	 configured;	/* the options every request shares are set */
};

/* Set only by the flow fuzzer (tests/fuzz/fuzz_flow.c); NULL in the bootstrap. */
static http_transport_fn transport_hook;

void
http_set_transport_hook(http_transport_fn fn)
{
	transport_hook = fn;
}

/* What the callbacks fill in while one request runs. */
struct http_ctx {
	struct http_response	*resp;
	int			 too_large;
};

int
http_global_init(void)
{
	/* malloc, calloc and strdup blocks all end in buf_wipe_free. */
	return (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, buf_wipe_free,
	    buf_wipe_realloc, strdup, calloc) == CURLE_OK ? 0 : -1);
}

void
http_global_cleanup(void)
{
	curl_global_cleanup();
}

struct http_client *
http_client_new(void)
{
	struct http_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	if ((c->easy = curl_easy_init()) == NULL) {
		free(c);
		return (NULL);
	}
	return (c);
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->easy);
	free(c->noproxy);
	free(c->url);
	buf_wipe_free(c->hdr);
	free(c);
}

const char *
http_ca_bundle(void)
{
	static const char *const fixed[] = {
		"/etc/pki/tls/certs/ca-bundle.crt",	/* Amazon Linux (Lambda) */
		"/etc/ssl/certs/ca-certificates.crt",	/* Debian */
	};
	const char *e = getenv("SSL_CERT_FILE");
	size_t i;

	if (e != NULL && *e != '\0' && access(e, R_OK) == 0)
		return (e);
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (access(fixed[i], R_OK) == 0)
			return (fixed[i]);
	return (NULL);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_ctx *x = arg;
	size_t len = size * n;

	if (buf_append(&x->resp->body, p, len) != 0) {
		x->too_large = 1;
		return (0);	/* aborts the transfer with CURLE_WRITE_ERROR */
	}
	return (len);
}

static int
header_is(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);

	return (len > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0);
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_ctx *x = arg;
	size_t len = size * n, nl;
	const char *v, *e;
	char *id;

	if (header_is(p, len, "x-amzn-RequestId"))
		nl = strlen("x-amzn-RequestId");
	else if (header_is(p, len, "x-amz-request-id"))
		nl = strlen("x-amz-request-id");
	else
		return (len);
	for (v = p + nl + 1, e = p + len; v < e && (*v == ' ' || *v == '\t'); v++)
		;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	/* A request id is short; ignore anything absurd rather than keep it. */
	if (e == v || e - v > 256)
		return (len);
	if ((id = malloc((size_t)(e - v) + 1)) == NULL)
		return (len);
	memcpy(id, v, (size_t)(e - v));
	id[e - v] = '\0';
	free(x->resp->request_id);
	x->resp->request_id = id;
	return (len);
}

static enum http_fail
map_fail(CURLcode rc, int too_large)
{
	if (too_large)
		return (HTTP_FAIL_TOO_LARGE);
	switch (rc) {
	case CURLE_OK:
		return (HTTP_OK);
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return (HTTP_FAIL_CONNECT);
	case CURLE_OPERATION_TIMEDOUT:
		return (HTTP_FAIL_TIMEOUT);
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		return (HTTP_FAIL_IO);
	default:
		return (HTTP_FAIL_OTHER);
	}
}

/*
 * Proxies: like the AWS SDKs we honour the standard HTTPS_PROXY / HTTP_PROXY
 * / NO_PROXY variables (libcurl reads them; a VPC egress proxy needs this),
 * but loopback is never proxied so local emulators work in any environment.
 */
static char *
noproxy_list(void)
{
	const char *e = getenv("NO_PROXY");
	const char *loop = "127.0.0.1,localhost,::1";
	size_t n;
	char *s;

	if (e == NULL)
		e = getenv("no_proxy");
	if (e == NULL || *e == '\0')
		e = "";
	n = strlen(e) + 1 + strlen(loop) + 1;
	if ((s = malloc(n)) == NULL)
		return (NULL);
	snprintf(s, n, "%s%s%s", e, *e ? "," : "", loop);
	return (s);
}

/*
 * The header list libcurl reads, built here rather than with curl_slist_append
 * (which allocates twice a line): the nodes and every line in one block, wiped
 * when freed, since lines carry the session token and the signature.
 */
static struct curl_slist *
headers_new(struct http_client *c, const struct http_request *req, size_t *size)
{
	static const char expect[] = "Expect:";
	struct curl_slist *hl;
	size_t i, n, total, lens[2];
	char *p;

	/* One node more for "Expect:": no 100-continue round trip; we never sign Expect. */
	total = (req->n_headers + 1) * sizeof(*hl) + sizeof(expect);
	for (i = 0; i < req->n_headers; i++) {
		n = strlen(req->headers[i].name) + 2 + strlen(req->headers[i].value) + 1;
		if (total > ((size_t)-1) - n)
			return (NULL);
		total += n;
	}
	if (total > c->hdr_cap) {
		buf_wipe_free(c->hdr);
		c->hdr_cap = 0;
		if ((c->hdr = malloc(total)) == NULL)
			return (NULL);
		c->hdr_cap = total;
	}
	hl = c->hdr;
	*size = total;
	p = (char *)(hl + req->n_headers + 1);
	for (i = 0; i < req->n_headers; i++) {
		lens[0] = strlen(req->headers[i].name);
		lens[1] = strlen(req->headers[i].value);
		hl[i].data = p;
		memcpy(p, req->headers[i].name, lens[0]);
		p += lens[0];
		*p++ = ':';
		*p++ = ' ';
		memcpy(p, req->headers[i].value, lens[1]);
		p += lens[1];
		*p++ = '\0';
		hl[i].next = &hl[i + 1];
	}
	hl[i].data = p;
	memcpy(p, expect, sizeof(expect));
	hl[i].next = NULL;
	return (hl);
}

/*
 * The options every request of a client shares, set once: curl_easy_reset
 * before each request would free and copy them all again.  Connections stay
 * alive per host either way.  0 or -1 (ENOMEM).
 */
static int
configure(struct http_client *c)
{
	const char *ca;
	CURL *e = c->easy;

	if (c->configured)
		return (0);
	if (c->noproxy == NULL && (c->noproxy = noproxy_list()) == NULL)
		return (-1);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_NOPROXY, c->noproxy);
	if ((ca = http_ca_bundle()) != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "snapferry/" SNAPFERRY_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	c->configured = 1;
	return (0);
}

int
http_perform(struct http_client *c, const struct http_request *req,
    struct http_response *resp)
{
	struct curl_slist *hl = NULL;
	struct http_ctx x;
	size_t hl_size = 0;
	CURLcode rc;
	CURL *e = c->easy;

	memset(resp, 0, sizeof(resp[0]));
	buf_init(&resp->body, req->max_response ? req->max_response : HTTP_DEFAULT_MAX);
	x.resp = resp;
	x.too_large = 0;
	if (transport_hook != NULL)
		return (transport_hook(req, resp));

	if (configure(c) != 0 || (hl = headers_new(c, req, &hl_size)) == NULL)
		goto nomem;

	/* What differs between requests is set on every one, so nothing of the last
	 * request carries over. */
	c->errbuf[0] = '\0';
	/* The same URL again (an AWS client's) is not copied and set again. */
	if (c->url == NULL || strcmp(c->url, req->url) != 0) {
		free(c->url);
		if ((c->url = xstrdup(req->url)) == NULL ||
		    curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK) {
			free(c->url);
			c->url = NULL;
			goto nomem;
		}
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms > 0 &&
	    req->timeout_ms < HTTP_CONNECT_MS ? req->timeout_ms : HTTP_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		if (strcmp(req->method, "GET") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);

	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	/* Drop our pointers from the handle before they go away. */
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
	wipe(hl, hl_size);
	if (rc != CURLE_OK || x.too_large) {
		resp->fail = map_fail(rc, x.too_large);
		if (x.too_large)
			snprintf(resp->errstr, sizeof(resp->errstr),
			    "response body larger than %zu bytes", resp->body.max);
		else
			snprintf(resp->errstr, sizeof(resp->errstr), "%.*s",
			    (int)sizeof(resp->errstr) - 1,
			    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		return (-1);
	}
	return (0);
nomem:
	if (hl != NULL)
		wipe(hl, hl_size);
	resp->fail = HTTP_FAIL_OTHER;
	snprintf(resp->errstr, sizeof(resp->errstr), "out of memory");
	return (-1);
}

void
http_response_clean(struct http_response *r)
{
	if (r == NULL)
		return;
	buf_clean(&r->body);
	free(r->request_id);
	r->request_id = NULL;
	r->status = 0;
}

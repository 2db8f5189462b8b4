/*
 * sigv4: AWS Signature Version 4 (header and presigned-query forms) on the
 * mbedTLS message-digest API.  Canonicalisation follows the specification
 * and botocore's SigV4Auth/SigV4QueryAuth; derived keys are wiped after use.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/md.h>

#include "buf.h"
#include "sigv4.h"

/* Canonical strings are built from our own requests; bound them generously. */
#define SIGV4_MAX	(64u * 1024 * 1024)

static const char hexu[] = "0123456789ABCDEF";
static const char hexl[] = "0123456789abcdef";

static int
unreserved(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~');
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

void
sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int
encode_into(struct buf *b, const char *s, size_t n, int keep_slash)
{
	char enc[3];
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			if (buf_append(b, &s[i], 1) != 0)
				return (-1);
			continue;
		}
		enc[0] = '%';
		enc[1] = hexu[c >> 4];
		enc[2] = hexu[c & 15];
		if (buf_append(b, enc, 3) != 0)
			return (-1);
	}
	return (0);
}

char *
sigv4_uri_encode(const char *s, size_t n, int keep_slash)
{
	struct buf b;

	buf_init(&b, SIGV4_MAX);
	if (encode_into(&b, s, n, keep_slash) != 0) {
		buf_clean(&b);
		return (NULL);
	}
	return (buf_steal(&b));
}

char *
sigv4_uri_decode(const char *s, size_t n)
{
	char *d;
	size_t i, j;

	if ((d = malloc(n + 1)) == NULL)
		return (NULL);
	for (i = j = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			d[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			d[j++] = s[i];
	}
	d[j] = '\0';
	return (d);
}

char *
sigv4_canonical_path(const char *path, int s3)
{
	const char **seg = NULL;
	size_t *seglen = NULL, nseg = 0, i, plen;
	const char *p, *e;
	struct buf b;
	char *norm = NULL, *out = NULL;

	if (path == NULL || *path == '\0')
		return (strndup("/", 1));
	plen = strlen(path);
	if (s3)
		return (strndup(path, plen));

	/* RFC 3986 5.2.4 plus collapsing of empty segments, as botocore does. */
	if ((seg = calloc(plen + 1, sizeof(*seg))) == NULL ||
	    (seglen = calloc(plen + 1, sizeof(*seglen))) == NULL)
		goto done;
	for (p = path; ; p = e + 1) {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		if (e > p && !(e - p == 1 && p[0] == '.')) {
			if (e - p == 2 && p[0] == '.' && p[1] == '.') {
				if (nseg > 0)
					nseg--;
			} else {
				seg[nseg] = p;
				seglen[nseg++] = (size_t)(e - p);
			}
		}
		if (*e == '\0')
			break;
	}
	buf_init(&b, SIGV4_MAX);
	if (path[0] == '/' && buf_append(&b, "/", 1) != 0)
		goto fail;
	for (i = 0; i < nseg; i++) {
		if (i > 0 && buf_append(&b, "/", 1) != 0)
			goto fail;
		if (buf_append(&b, seg[i], seglen[i]) != 0)
			goto fail;
	}
	if (path[plen - 1] == '/' && nseg > 0 && buf_append(&b, "/", 1) != 0)
		goto fail;
	norm = buf_steal(&b);
	if (norm == NULL)
		goto done;
	/* The path is already encoded once on the wire; encode it again. */
	out = sigv4_uri_encode(norm, strlen(norm), 1);
	goto done;
fail:
	buf_clean(&b);
done:
	free(norm);
	free(seg);
	free(seglen);
	return (out);
}

struct qpair {
	char	*k;
	char	*v;
};

static int
qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c;

	if ((c = strcmp(x->k, y->k)) != 0)
		return (c);
	return (strcmp(x->v, y->v));
}

/*
 * One name or value of a URL's query as botocore signs it: as it goes on the
 * wire, byte for byte ('+', '=', '/', "%7E" and "%2f" stay as written, since the
 * service reads the same bytes); only what can't travel raw in a URL (space,
 * control and non-ASCII bytes, '"<>\\^`{|}', a '%' that starts no escape) is
 * percent-encoded, as an HTTP client would before sending it.
 */
static int
wire_component(const char *s, size_t n, char **out)
{
	static const char unsafe[] = "\"<>\\^`{|}";
	struct buf b;
	char enc[3];
	size_t i;

	buf_init(&b, SIGV4_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int raw = c > 0x20 && c < 0x7f && strchr(unsafe, c) == NULL;

		if (c == '%' && (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0))
			raw = 0;
		if (raw) {
			if (buf_append(&b, &s[i], 1) != 0)
				goto fail;
			continue;
		}
		enc[0] = '%';
		enc[1] = hexu[c >> 4];
		enc[2] = hexu[c & 15];
		if (buf_append(&b, enc, 3) != 0)
			goto fail;
	}
	if ((*out = buf_steal(&b)) == NULL)
		return (-1);
	return (0);
fail:
	buf_clean(&b);
	return (-1);
}

char *
sigv4_canonical_query(const char *q)
{
	struct qpair *pairs = NULL;
	size_t n = 0, cap = 0, i;
	const char *p, *e, *eq;
	struct buf b;
	char *out = NULL;

	if (q == NULL || *q == '\0')
		return (strndup("", 0));
	for (p = q; ; p = e + 1) {
		e = strchr(p, '&');
		if (e == NULL)
			e = p + strlen(p);
		if (e > p) {
			if (n == cap) {
				struct qpair *np;

				if ((np = buf_grow(pairs, &cap, sizeof(*np), 16)) == NULL)
					goto done;
				pairs = np;
			}
			eq = memchr(p, '=', (size_t)(e - p));
			pairs[n].k = pairs[n].v = NULL;
			if (wire_component(p, (size_t)((eq ? eq : e) - p),
			    &pairs[n].k) != 0) {
				n++;
				goto done;
			}
			if (wire_component(eq ? eq + 1 : e,
			    eq ? (size_t)(e - eq - 1) : 0, &pairs[n].v) != 0) {
				n++;
				goto done;
			}
			n++;
		}
		if (*e == '\0')
			break;
	}
	if (n > 1)
		qsort(pairs, n, sizeof(*pairs), qpair_cmp);
	buf_init(&b, SIGV4_MAX);
	for (i = 0; i < n; i++) {
		if ((i > 0 && buf_append(&b, "&", 1) != 0) ||
		    buf_append_str(&b, pairs[i].k) != 0 ||
		    buf_append(&b, "=", 1) != 0 ||
		    buf_append_str(&b, pairs[i].v) != 0) {
			buf_clean(&b);
			goto done;
		}
	}
	out = buf_steal(&b);
done:
	for (i = 0; i < n; i++) {
		free(pairs[i].k);
		free(pairs[i].v);
	}
	free(pairs);
	return (out);
}

static void
tohex(const unsigned char *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexl[d[i] >> 4];
		out[2 * i + 1] = hexl[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int
sigv4_sha256_hex(const void *p, size_t n, char out[65])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	unsigned char d[32];

	if (md == NULL || mbedtls_md(md, p ? p : (const void *)"", n, d) != 0)
		return (-1);
	tohex(d, 32, out);
	return (0);
}

static int
hmac(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

	if (md == NULL)
		return (-1);
	return (mbedtls_md_hmac(md, key, klen, msg, mlen, out) == 0 ? 0 : -1);
}

/* One header as canonicalised: lowercase name, trimmed and collapsed value. */
struct chdr {
	char	*name;
	char	*value;
	size_t	 order;
};

static int
chdr_cmp(const void *a, const void *b)
{
	const struct chdr *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return (c);
	return (x->order < y->order ? -1 : x->order > y->order);
}

static int
isws(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

static char *
collapse(const char *v)
{
	size_t n = strlen(v), i, j = 0;
	char *d;
	int sp = 0;

	if ((d = malloc(n + 1)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (isws(v[i])) {
			sp = 1;
			continue;
		}
		if (sp && j > 0)
			d[j++] = ' ';
		sp = 0;
		d[j++] = v[i];
	}
	d[j] = '\0';
	return (d);
}

char *
sigv4_canonical_request(const struct sigv4_request *r, char **signed_headers)
{
	struct chdr *h = NULL;
	struct buf b, sh;
	char *cpath = NULL, *cquery = NULL, *out = NULL;
	char phash[65];
	size_t i, k, n = r->n_headers;

	buf_init(&b, SIGV4_MAX);
	buf_init(&sh, SIGV4_MAX);
	if (signed_headers != NULL)
		*signed_headers = NULL;
	if ((h = calloc(n ? n : 1, sizeof(*h))) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		size_t nl = strlen(r->headers[i].name);

		if ((h[i].name = strndup(r->headers[i].name, nl)) == NULL ||
		    (h[i].value = collapse(r->headers[i].value)) == NULL)
			goto done;
		for (k = 0; k < nl; k++)
			if (h[i].name[k] >= 'A' && h[i].name[k] <= 'Z')
				h[i].name[k] = (char)(h[i].name[k] - 'A' + 'a');
		h[i].order = i;
	}
	qsort(h, n, sizeof(*h), chdr_cmp);

	if ((cpath = sigv4_canonical_path(r->path, r->s3)) == NULL ||
	    (cquery = sigv4_canonical_query(r->query)) == NULL)
		goto done;
	if (r->payload_hash != NULL && strlen(r->payload_hash) == 64)
		memcpy(phash, r->payload_hash, 65);
	else if (sigv4_sha256_hex(r->body, r->body_len, phash) != 0)
		goto done;

	if (buf_append_str(&b, r->method) || buf_append(&b, "\n", 1) ||
	    buf_append_str(&b, cpath) || buf_append(&b, "\n", 1) ||
	    buf_append_str(&b, cquery) || buf_append(&b, "\n", 1))
		goto done;
	/* Repeated headers: one line, values joined with ',' in the order sent. */
	for (i = 0; i < n; i++) {
		int first = (i == 0 || strcmp(h[i].name, h[i - 1].name) != 0);
		int last = (i + 1 == n || strcmp(h[i].name, h[i + 1].name) != 0);

		if (first) {
			if ((sh.len > 0 && buf_append(&sh, ";", 1)) ||
			    buf_append_str(&sh, h[i].name) ||
			    buf_append_str(&b, h[i].name) || buf_append(&b, ":", 1))
				goto done;
		} else if (buf_append(&b, ",", 1))
			goto done;
		if (buf_append_str(&b, h[i].value))
			goto done;
		if (last && buf_append(&b, "\n", 1))
			goto done;
	}
	if (buf_append(&b, "\n", 1) || buf_append(&b, sh.data ? sh.data : "", sh.len) ||
	    buf_append(&b, "\n", 1) || buf_append_str(&b, phash))
		goto done;
	out = buf_steal(&b);
	if (signed_headers != NULL && (*signed_headers = buf_steal(&sh)) == NULL) {
		free(out);
		out = NULL;
	}
done:
	buf_clean(&b);
	buf_clean(&sh);
	if (h != NULL)
		for (i = 0; i < n; i++) {
			free(h[i].name);
			free_secret(h[i].value);	/* may be the session token */
		}
	free(h);
	free(cpath);
	free(cquery);
	return (out);
}

char *
sigv4_scope(const struct sigv4_signer *s)
{
	size_t n = 8 + 1 + strlen(s->region) + 1 + strlen(s->service) + 1 + 12 + 1;
	char *d;

	if ((d = malloc(n)) == NULL)
		return (NULL);
	snprintf(d, n, "%.8s/%s/%s/aws4_request", s->amz_date, s->region, s->service);
	return (d);
}

char *
sigv4_string_to_sign(const struct sigv4_signer *s, const char *creq)
{
	char h[65], *scope, *d = NULL;
	size_t n;

	if (sigv4_sha256_hex(creq, strlen(creq), h) != 0 ||
	    (scope = sigv4_scope(s)) == NULL)
		return (NULL);
	n = 16 + 1 + 16 + 1 + strlen(scope) + 1 + 64 + 1;
	if ((d = malloc(n)) != NULL)
		snprintf(d, n, "AWS4-HMAC-SHA256\n%s\n%s\n%s", s->amz_date, scope, h);
	free(scope);
	return (d);
}

int
sigv4_signature(const struct sigv4_signer *s, const char *sts, char out[65])
{
	unsigned char k1[32], k2[32];
	size_t slen = strlen(s->secret_access_key);
	char *kinit;
	int rc = -1;

	if ((kinit = malloc(slen + 5)) == NULL)
		return (-1);
	memcpy(kinit, "AWS4", 4);
	memcpy(kinit + 4, s->secret_access_key, slen + 1);
	if (hmac(kinit, slen + 4, s->amz_date, 8, k1) != 0 ||
	    hmac(k1, 32, s->region, strlen(s->region), k2) != 0 ||
	    hmac(k2, 32, s->service, strlen(s->service), k1) != 0 ||
	    hmac(k1, 32, "aws4_request", 12, k2) != 0 ||
	    hmac(k2, 32, sts, strlen(sts), k1) != 0)
		goto done;
	tohex(k1, 32, out);
	rc = 0;
done:
	wipe(k1, sizeof(k1));
	wipe(k2, sizeof(k2));
	free_secret(kinit);
	return (rc);
}

char *
sigv4_authorization(const struct sigv4_signer *s, const struct sigv4_request *r)
{
	char *creq = NULL, *sh = NULL, *sts = NULL, *scope = NULL, *out = NULL;
	char sig[65];
	size_t n;

	if ((creq = sigv4_canonical_request(r, &sh)) == NULL ||
	    (sts = sigv4_string_to_sign(s, creq)) == NULL ||
	    sigv4_signature(s, sts, sig) != 0 || (scope = sigv4_scope(s)) == NULL)
		goto done;
	n = 64 + strlen(s->access_key_id) + strlen(scope) + strlen(sh) + 64 + 1;
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		    s->access_key_id, scope, sh, sig);
done:
	free_secret(creq);
	free(sh);
	free(sts);
	free(scope);
	return (out);
}

int
sigv4_url_split(const char *url, char **host, char **path, char **query)
{
	const char *p, *hs, *he, *ps, *qs;
	size_t hl;
	int https;

	*host = *path = *query = NULL;
	/* Schemes are case-insensitive (RFC 3986 3.1). */
	if (strncasecmp(url, "https://", 8) == 0) {
		https = 1;
		hs = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		https = 0;
		hs = url + 7;
	} else
		return (-1);
	for (p = hs; *p && *p != '/' && *p != '?' && *p != '#'; p++)
		;
	he = p;
	if (he == hs)
		return (-1);
	hl = (size_t)(he - hs);
	/* botocore drops the scheme's default port from the signed host. */
	if (https && hl > 4 && memcmp(he - 4, ":443", 4) == 0)
		hl -= 4;
	else if (!https && hl > 3 && memcmp(he - 3, ":80", 3) == 0)
		hl -= 3;
	if ((*host = strndup(hs, hl)) == NULL)
		goto fail;
	ps = he;
	for (p = ps; *p && *p != '?' && *p != '#'; p++)
		;
	if (p == ps)
		*path = strndup("/", 1);
	else
		*path = strndup(ps, (size_t)(p - ps));
	if (*path == NULL)
		goto fail;
	if (*p == '?') {
		qs = p + 1;
		for (p = qs; *p && *p != '#'; p++)
			;
		if ((*query = strndup(qs, (size_t)(p - qs))) == NULL)
			goto fail;
	}
	return (0);
fail:
	free(*host);
	free(*path);
	*host = *path = NULL;
	return (-1);
}

static int
append_param(struct buf *b, const char *k, const char *v)
{
	if (b->len > 0 && buf_append(b, "&", 1) != 0)
		return (-1);
	if (encode_into(b, k, strlen(k), 0) != 0 || buf_append(b, "=", 1) != 0)
		return (-1);
	return (encode_into(b, v, strlen(v), 0));
}

char *
sigv4_presign(const struct sigv4_signer *s, const char *method, const char *url,
    long expires_s)
{
	char *host = NULL, *path = NULL, *query = NULL, *scope = NULL, *cred = NULL;
	char *creq = NULL, *sts = NULL, *out = NULL, *base;
	struct http_header hh;
	struct sigv4_request r;
	struct buf q, u;
	char exp[24], sig[65];
	size_t n;

	buf_init(&q, SIGV4_MAX);
	buf_init(&u, SIGV4_MAX);
	if (sigv4_url_split(url, &host, &path, &query) != 0 ||
	    (scope = sigv4_scope(s)) == NULL)
		goto done;
	n = strlen(s->access_key_id) + 1 + strlen(scope) + 1;
	if ((cred = malloc(n)) == NULL)
		goto done;
	snprintf(cred, n, "%s/%s", s->access_key_id, scope);
	snprintf(exp, sizeof(exp), "%ld", expires_s);
	/* Operation parameters first, then the auth parameters (botocore's order). */
	if (query != NULL && *query != '\0' && buf_append_str(&q, query) != 0)
		goto done;
	if (append_param(&q, "X-Amz-Algorithm", "AWS4-HMAC-SHA256") ||
	    append_param(&q, "X-Amz-Credential", cred) ||
	    append_param(&q, "X-Amz-Date", s->amz_date) ||
	    append_param(&q, "X-Amz-Expires", exp) ||
	    append_param(&q, "X-Amz-SignedHeaders", "host") ||
	    (s->session_token != NULL &&
	    append_param(&q, "X-Amz-Security-Token", s->session_token)))
		goto done;
	hh.name = "host";
	hh.value = host;
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = path;
	r.query = q.data;
	r.headers = &hh;
	r.n_headers = 1;
	if ((creq = sigv4_canonical_request(&r, NULL)) == NULL ||
	    (sts = sigv4_string_to_sign(s, creq)) == NULL ||
	    sigv4_signature(s, sts, sig) != 0)
		goto done;
	/* The URL up to (not including) any '?' or '#'. */
	base = strpbrk(strstr(url, "://") + 3, "?#");
	if (buf_append(&u, url, base ? (size_t)(base - url) : strlen(url)) ||
	    buf_append(&u, "?", 1) || buf_append(&u, q.data, q.len) ||
	    buf_append_str(&u, "&X-Amz-Signature=") || buf_append_str(&u, sig))
		goto done;
	out = buf_steal(&u);
done:
	buf_clean(&q);
	buf_clean(&u);
	free(host);
	free(path);
	free(query);
	free(scope);
	free(cred);
	free_secret(creq);
	free(sts);
	return (out);
}

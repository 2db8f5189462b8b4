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
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "buf.h"
#include "sigv4.h"

/* Canonical strings are built from our own requests; bound them generously. */
#define SIGV4_MAX	(64u * 1024 * 1024)

/* mbedTLS 3 dropped the _ret suffix of the SHA-256 streaming calls. */
#if MBEDTLS_VERSION_MAJOR >= 3
#define sha256_starts(c)	mbedtls_sha256_starts((c), 0)
#define sha256_update		mbedtls_sha256_update
#define sha256_finish		mbedtls_sha256_finish
#else
#define sha256_starts(c)	mbedtls_sha256_starts_ret((c), 0)
#define sha256_update		mbedtls_sha256_update_ret
#define sha256_finish		mbedtls_sha256_finish_ret
#endif

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

/*
 * HMAC-SHA256 (RFC 2104) on a SHA-256 context on the stack: mbedtls_md_hmac allocates
 * two contexts a call, and a request makes two to five calls.  Pads and contexts
 * hold key material and are wiped.
 */
static int
hmac(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
	mbedtls_sha256_context c;
	unsigned char k[64], pad[64], inner[32];
	size_t i;
	int rc = -1;

	memset(k, 0, sizeof(k));
	mbedtls_sha256_init(&c);
	if (klen > sizeof(k)) {
		if (sha256_starts(&c) != 0 || sha256_update(&c, key, klen) != 0 ||
		    sha256_finish(&c, k) != 0)
			goto done;
	} else if (klen > 0)
		memcpy(k, key, klen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = (unsigned char)(k[i] ^ 0x36);
	if (sha256_starts(&c) != 0 || sha256_update(&c, pad, sizeof(pad)) != 0 ||
	    (mlen > 0 && sha256_update(&c, msg, mlen) != 0) || sha256_finish(&c, inner) != 0)
		goto done;
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = (unsigned char)(k[i] ^ 0x5c);
	if (sha256_starts(&c) != 0 || sha256_update(&c, pad, sizeof(pad)) != 0 ||
	    sha256_update(&c, inner, sizeof(inner)) != 0 || sha256_finish(&c, out) != 0)
		goto done;
	rc = 0;
done:
	mbedtls_sha256_free(&c);
	wipe(&c, sizeof(c));
	wipe(k, sizeof(k));
	wipe(pad, sizeof(pad));
	wipe(inner, sizeof(inner));
	return (rc);
}

static int
isws(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* Header names compared as their lower-case forms are. */
static int
name_cmp(const char *a, const char *b)
{
	for (; *a != '\0' && lower((unsigned char)*a) == lower((unsigned char)*b); a++, b++)
		;
	return (lower((unsigned char)*a) - lower((unsigned char)*b));
}

/* A header name, lower-cased, onto ${b}. */
static int
append_lower(struct buf *b, const char *s)
{
	char c;

	for (; *s != '\0'; s++) {
		c = (char)lower((unsigned char)*s);
		if (buf_append(b, &c, 1) != 0)
			return (-1);
	}
	return (0);
}

/* A header value onto ${b}: trimmed, inner runs of white space as one ' '. */
static int
append_collapsed(struct buf *b, const char *v)
{
	const char *run;
	int first = 1;

	while (*v != '\0') {
		while (isws(*v))
			v++;
		if (*v == '\0')
			break;
		for (run = v; *v != '\0' && !isws(*v); v++)
			;
		if ((!first && buf_append(b, " ", 1) != 0) ||
		    buf_append(b, run, (size_t)(v - run)) != 0)
			return (-1);
		first = 0;
	}
	return (0);
}

/* 1 when RFC 3986 dot-segment removal and '//' collapsing leave ${path} as it is. */
static int
path_is_normal(const char *path)
{
	const char *p, *e;

	for (p = path; ; p = e + 1) {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		/* An empty segment is fine only before the first '/' or after the last. */
		if (e == p && p != path && *e != '\0')
			return (0);
		if ((e - p == 1 && p[0] == '.') || (e - p == 2 && p[0] == '.' && p[1] == '.'))
			return (0);
		if (*e == '\0')
			return (1);
	}
}

/*
 * The canonical request onto ${b}, and where in ${b} its signed-header list
 * ("a;b;c") starts and how long it is.  Written straight into ${b}: headers
 * are ordered through an index, not copied, and the common path ("/", or one
 * that needs no normalisation) and empty query need no allocation.
 */
static int
creq_into(struct buf *b, const struct sigv4_request *r, size_t *sh_off, size_t *sh_len)
{
	size_t small[16], *idx = small, n = r->n_headers, i, j, t;
	char phash[65], *part = NULL;
	int rc = -1;

	if (n > sizeof(small) / sizeof(small[0]) && (idx = calloc(n, sizeof(*idx))) == NULL)
		return (-1);
	/* Insertion sort by lower-case name, stable: repeated headers keep the order sent. */
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && name_cmp(r->headers[idx[j - 1]].name,
		    r->headers[i].name) > 0; j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
	}
	if (buf_append_str(b, r->method) || buf_append(b, "\n", 1))
		goto done;
	if (r->path == NULL || *r->path == '\0') {
		if (buf_append(b, "/", 1))
			goto done;
	} else if (r->s3) {
		if (buf_append_str(b, r->path))
			goto done;
	} else if (path_is_normal(r->path)) {
		/* The path is already encoded once on the wire; encode it again. */
		if (encode_into(b, r->path, strlen(r->path), 1))
			goto done;
	} else if ((part = sigv4_canonical_path(r->path, 0)) == NULL ||
	    buf_append_str(b, part))
		goto done;
	free(part);
	part = NULL;
	if (buf_append(b, "\n", 1))
		goto done;
	if (r->query != NULL && *r->query != '\0' &&
	    ((part = sigv4_canonical_query(r->query)) == NULL || buf_append_str(b, part)))
		goto done;
	if (buf_append(b, "\n", 1))
		goto done;
	/* Repeated headers: one line, values joined with ',' in the order sent. */
	for (i = 0; i < n; i++) {
		const struct http_header *h = &r->headers[idx[i]];

		if (i == 0 || name_cmp(r->headers[idx[i - 1]].name, h->name) != 0) {
			if ((i > 0 && buf_append(b, "\n", 1)) || append_lower(b, h->name) ||
			    buf_append(b, ":", 1))
				goto done;
		} else if (buf_append(b, ",", 1))
			goto done;
		if (append_collapsed(b, h->value))
			goto done;
	}
	if ((n > 0 && buf_append(b, "\n", 1)) || buf_append(b, "\n", 1))
		goto done;
	*sh_off = b->len;
	for (i = 0; i < n; i++) {
		t = idx[i];
		if (i > 0 && name_cmp(r->headers[idx[i - 1]].name, r->headers[t].name) == 0)
			continue;
		if ((i > 0 && buf_append(b, ";", 1)) || append_lower(b, r->headers[t].name))
			goto done;
	}
	*sh_len = b->len - *sh_off;
	if (r->payload_hash != NULL && strlen(r->payload_hash) == 64)
		memcpy(phash, r->payload_hash, 65);
	else if (sigv4_sha256_hex(r->body, r->body_len, phash) != 0)
		goto done;
	if (buf_append(b, "\n", 1) || buf_append(b, phash, 64))
		goto done;
	rc = 0;
done:
	free_secret(part);
	if (idx != small)
		free(idx);
	return (rc);
}

char *
sigv4_canonical_request(const struct sigv4_request *r, char **signed_headers)
{
	struct buf b;
	size_t off = 0, len = 0;
	char *out;

	if (signed_headers != NULL)
		*signed_headers = NULL;
	buf_init(&b, SIGV4_MAX);
	if (creq_into(&b, r, &off, &len) != 0) {
		buf_clean(&b);
		return (NULL);
	}
	if (signed_headers != NULL && (*signed_headers = strndup(b.data + off, len)) == NULL) {
		buf_clean(&b);
		return (NULL);
	}
	out = buf_steal(&b);
	if (out == NULL && signed_headers != NULL) {
		free(*signed_headers);
		*signed_headers = NULL;
	}
	return (out);
}

/* "YYYYMMDD/<region>/<service>/aws4_request" onto ${b}. */
static int
scope_into(struct buf *b, const struct sigv4_signer *s)
{
	return (buf_append(b, s->amz_date, 8) || buf_append(b, "/", 1) ||
	    buf_append_str(b, s->region) || buf_append(b, "/", 1) ||
	    buf_append_str(b, s->service) || buf_append_str(b, "/aws4_request") ? -1 : 0);
}

char *
sigv4_scope(const struct sigv4_signer *s)
{
	struct buf b;

	buf_init(&b, SIGV4_MAX);
	if (scope_into(&b, s) != 0) {
		buf_clean(&b);
		return (NULL);
	}
	return (buf_steal(&b));
}

/* The string to sign for the ${n} bytes of canonical request at ${creq}, onto ${b}. */
static int
sts_into(struct buf *b, const struct sigv4_signer *s, const char *creq, size_t n)
{
	char h[65];

	if (sigv4_sha256_hex(creq, n, h) != 0)
		return (-1);
	return (buf_append_str(b, "AWS4-HMAC-SHA256\n") || buf_append(b, s->amz_date, 16) ||
	    buf_append(b, "\n", 1) || scope_into(b, s) || buf_append(b, "\n", 1) ||
	    buf_append(b, h, 64) ? -1 : 0);
}

char *
sigv4_string_to_sign(const struct sigv4_signer *s, const char *creq)
{
	struct buf b;

	buf_init(&b, SIGV4_MAX);
	if (sts_into(&b, s, creq, strlen(creq)) != 0) {
		buf_clean(&b);
		return (NULL);
	}
	return (buf_steal(&b));
}

/* The signing key: HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request". */
static int
derive_key(const struct sigv4_signer *s, unsigned char key[32])
{
	unsigned char k1[32], k2[32];
	size_t slen = strlen(s->secret_access_key);
	struct buf kinit;
	int rc = -1;

	buf_init(&kinit, SIGV4_MAX);
	if (buf_append(&kinit, "AWS4", 4) || buf_append(&kinit, s->secret_access_key, slen) ||
	    hmac(kinit.data, kinit.len, s->amz_date, 8, k1) != 0 ||
	    hmac(k1, 32, s->region, strlen(s->region), k2) != 0 ||
	    hmac(k2, 32, s->service, strlen(s->service), k1) != 0 ||
	    hmac(k1, 32, "aws4_request", 12, key) != 0)
		goto done;
	rc = 0;
done:
	wipe(k1, sizeof(k1));
	wipe(k2, sizeof(k2));
	buf_clean(&kinit);
	return (rc);
}

void
sigv4_cache_init(struct sigv4_cache *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->work, SIGV4_MAX);
}

/* Forget the cached key (wiped); the work buffer stays. */
static void
cache_drop(struct sigv4_cache *c)
{
	wipe(c->key, sizeof(c->key));
	wipe(c->secret_fp, sizeof(c->secret_fp));
	wipe(c->date, sizeof(c->date));
	free(c->region_service);
	c->region_service = NULL;
	c->valid = 0;
}

void
sigv4_cache_clean(struct sigv4_cache *c)
{
	if (c == NULL)
		return;
	cache_drop(c);
	buf_clean(&c->work);
	c->derivations = 0;
}

/*
 * The signing key for ${s}, from ${c} when it was derived for the same date,
 * Region, service and secret, else derived and kept there.  The secret is told
 * apart by its SHA-256 (no copy of it is kept), so a renewed credential -- an
 * assumed role's next session -- never signs with the key of the last one.
 */
static int
cached_key(struct sigv4_cache *c, const struct sigv4_signer *s, unsigned char key[32])
{
	unsigned char fp[32];
	size_t rl = strlen(s->region), sl = strlen(s->service);
	int rc = -1;

	if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
	    (const unsigned char *)s->secret_access_key, strlen(s->secret_access_key), fp) != 0)
		goto done;
	if (c->valid && memcmp(c->date, s->amz_date, 8) == 0 &&
	    memcmp(c->secret_fp, fp, sizeof(fp)) == 0 &&
	    strncmp(c->region_service, s->region, rl) == 0 && c->region_service[rl] == '\n' &&
	    strcmp(c->region_service + rl + 1, s->service) == 0) {
		memcpy(key, c->key, 32);
		rc = 0;
		goto done;
	}
	cache_drop(c);
	if (derive_key(s, key) != 0)
		goto done;
	c->derivations++;
	/* Kept only when it can be told apart next time; a failed copy just isn't cached. */
	if ((c->region_service = malloc(rl + 1 + sl + 1)) != NULL) {
		memcpy(c->region_service, s->region, rl);
		c->region_service[rl] = '\n';
		memcpy(c->region_service + rl + 1, s->service, sl + 1);
		memcpy(c->key, key, 32);
		memcpy(c->secret_fp, fp, sizeof(fp));
		memcpy(c->date, s->amz_date, 8);
		c->valid = 1;
	}
	rc = 0;
done:
	wipe(fp, sizeof(fp));
	return (rc);
}

/* hex HMAC of ${n} bytes at ${sts} under the signing key (from ${c} when non-NULL). */
static int
signature_of(const struct sigv4_signer *s, struct sigv4_cache *c, const char *sts,
    size_t n, char out[65])
{
	unsigned char key[32], d[32];
	int rc = -1;

	if ((c != NULL ? cached_key(c, s, key) : derive_key(s, key)) != 0 ||
	    hmac(key, 32, sts, n, d) != 0)
		goto done;
	tohex(d, 32, out);
	rc = 0;
done:
	wipe(key, sizeof(key));
	wipe(d, sizeof(d));
	return (rc);
}

int
sigv4_signature(const struct sigv4_signer *s, const char *sts, char out[65])
{
	return (signature_of(s, NULL, sts, strlen(sts), out));
}

int
sigv4_authorize(const struct sigv4_signer *s, const struct sigv4_request *r,
    struct sigv4_cache *c, struct buf *out)
{
	struct buf local, *w;
	size_t sh_off = 0, sh_len = 0, creq_len;
	char sig[65];
	int rc = -1;

	buf_init(&local, SIGV4_MAX);
	w = c != NULL ? &c->work : &local;
	buf_reset(w);
	if (creq_into(w, r, &sh_off, &sh_len) != 0)
		goto done;
	creq_len = w->len;
	if (sts_into(w, s, w->data, creq_len) != 0 ||
	    signature_of(s, c, w->data + creq_len, w->len - creq_len, sig) != 0)
		goto done;
	/* ${out} is written only now: ${r}'s strings may live in it. */
	if (buf_append_str(out, "AWS4-HMAC-SHA256 Credential=") ||
	    buf_append_str(out, s->access_key_id) || buf_append(out, "/", 1) ||
	    scope_into(out, s) || buf_append_str(out, ", SignedHeaders=") ||
	    buf_append(out, w->data + sh_off, sh_len) ||
	    buf_append_str(out, ", Signature=") || buf_append(out, sig, 64))
		goto done;
	rc = 0;
done:
	/* The canonical request carries the session token. */
	buf_reset(w);
	buf_clean(&local);
	wipe(sig, sizeof(sig));
	return (rc);
}

char *
sigv4_authorization(const struct sigv4_signer *s, const struct sigv4_request *r)
{
	struct buf out;

	buf_init(&out, SIGV4_MAX);
	if (sigv4_authorize(s, r, NULL, &out) != 0) {
		buf_clean(&out);
		return (NULL);
	}
	return (buf_steal(&out));
}

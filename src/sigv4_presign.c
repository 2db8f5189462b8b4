/*
 * sigv4_presign: the URL side of SigV4 -- splitting an http(s) URL into what is
 * signed, and presigned query URLs (botocore's SigV4QueryAuth), on the signing
 * steps of sigv4.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "sigv4.h"

#define SIGV4_MAX	(64u * 1024 * 1024)

int
sigv4_url_parts(const char *url, struct sigv4_url *u)
{
	const char *p, *hs, *he, *ps;
	int https;

	memset(u, 0, sizeof(*u));
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
	u->host = hs;
	u->host_len = (size_t)(he - hs);
	/* botocore drops the scheme's default port from the signed host. */
	if (https && u->host_len > 4 && memcmp(he - 4, ":443", 4) == 0)
		u->host_len -= 4;
	else if (!https && u->host_len > 3 && memcmp(he - 3, ":80", 3) == 0)
		u->host_len -= 3;
	ps = he;
	for (p = ps; *p && *p != '?' && *p != '#'; p++)
		;
	u->path = ps;
	u->path_len = (size_t)(p - ps);
	if (*p == '?') {
		u->query = p + 1;
		for (p = u->query; *p && *p != '#'; p++)
			;
		u->query_len = (size_t)(p - u->query);
	}
	return (0);
}

int
sigv4_url_split(const char *url, char **host, char **path, char **query)
{
	struct sigv4_url u;

	*host = *path = *query = NULL;
	if (sigv4_url_parts(url, &u) != 0)
		return (-1);
	if ((*host = strndup(u.host, u.host_len)) == NULL)
		goto fail;
	if (u.path_len == 0)
		*path = strndup("/", 1);
	else
		*path = strndup(u.path, u.path_len);
	if (*path == NULL)
		goto fail;
	if (u.query != NULL && (*query = strndup(u.query, u.query_len)) == NULL)
		goto fail;
	return (0);
fail:
	free(*host);
	free(*path);
	*host = *path = NULL;
	return (-1);
}

/* "&k=v" (no '&' first), each percent-encoded; the value may be the session token. */
static int
append_param(struct buf *b, const char *k, const char *v)
{
	char *ek = NULL, *ev = NULL;
	int rc = -1;

	if ((ek = sigv4_uri_encode(k, strlen(k), 0)) == NULL ||
	    (ev = sigv4_uri_encode(v, strlen(v), 0)) == NULL)
		goto done;
	if ((b->len > 0 && buf_append(b, "&", 1) != 0) || buf_append_str(b, ek) != 0 ||
	    buf_append(b, "=", 1) != 0 || buf_append_str(b, ev) != 0)
		goto done;
	rc = 0;
done:
	free(ek);
	free_secret(ev);
	return (rc);
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

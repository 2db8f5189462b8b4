/*
 * sigv4: AWS Signature Version 4 on mbedTLS SHA-256/HMAC -- canonical
 * request, string to sign, signing key, Authorization header and presigned
 * query URLs.  The intermediate steps are exported so tests compare them.
 */
#ifndef SNAPFERRY_SIGV4_H
#define SNAPFERRY_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "http.h"

/* What is being signed: the request as it will go on the wire. */
struct sigv4_request {
	const char		*method;	/* "GET", "POST" */
	const char		*path;		/* URL path as sent (percent-encoded form), "" = "/" */
	const char		*query;		/* URL query without '?', or NULL */
	const struct http_header *headers;	/* every header to sign (host, x-amz-date, ...) */
	size_t			 n_headers;
	const void		*body;
	size_t			 body_len;
	const char		*payload_hash;	/* hex SHA-256 of the body, or NULL to compute */
	int			 s3;		/* 1: no path normalisation, single encoding */
};

/* Who signs, where and when. */
struct sigv4_signer {
	const char	*access_key_id;
	const char	*secret_access_key;
	const char	*session_token;	/* NULL for long-term keys */
	const char	*region;
	const char	*service;
	char		 amz_date[17];	/* "YYYYMMDDTHHMMSSZ" */
};

/*
 * What signing many requests can keep between them, as the AWS SDKs do: the
 * derived signing key, which changes only with the date, Region, service or
 * secret (so one HMAC a request instead of five), and a work buffer for the
 * canonical request and string to sign.  Owned by one signer at a time.
 */
struct sigv4_cache {
	unsigned char	 key[32];	/* secret: wiped when replaced or cleaned */
	unsigned char	 secret_fp[32];	/* SHA-256 of the secret the key is for */
	char		 date[8];	/* "YYYYMMDD" the key is for */
	char		*region_service;	/* "<region>\n<service>" the key is for */
	int		 valid;
	unsigned long	 derivations;	/* keys derived so far (tests, bench) */
	struct buf	 work;		/* wiped after each use: holds the token */
};

/** sigv4_cache_init(c): an empty cache. */
void	sigv4_cache_init(struct sigv4_cache *c);
/** sigv4_cache_clean(c): wipe the key and the work buffer, release. */
void	sigv4_cache_clean(struct sigv4_cache *c);
/** sigv4_authorize(s, r, c, out): append the Authorization value for ${r} to ${out},
 *  with the key cached in ${c} (NULL: derived afresh).  ${out} is written only after
 *  ${r} is read, so ${r}'s strings may live in it.  0 or -1. */
int	sigv4_authorize(const struct sigv4_signer *s, const struct sigv4_request *r,
	    struct sigv4_cache *c, struct buf *out);

/** sigv4_amz_date(t, out): format ${t} (UTC) as "YYYYMMDDTHHMMSSZ" into ${out}. */
void	sigv4_amz_date(time_t t, char out[17]);
/** sigv4_uri_encode(s, n, keep_slash): percent-encode all but A-Za-z0-9-_.~ (and '/'
 *  when ${keep_slash}), uppercase hex; malloc'd or NULL on ENOMEM. */
char	*sigv4_uri_encode(const char *s, size_t n, int keep_slash);
/** sigv4_uri_decode(s, n): percent-decode (no '+' rule); malloc'd, NULL on ENOMEM. */
char	*sigv4_uri_decode(const char *s, size_t n);
/** sigv4_canonical_path(path, s3): RFC 3986 dot-segment removal, '//' collapsed and
 *  each segment encoded again (not for S3); malloc'd. */
char	*sigv4_canonical_path(const char *path, int s3);
/** sigv4_canonical_query(q): the pairs of ${q} as sent (split at the first '='), bytes a URL
 *  can't carry raw percent-encoded, sorted by name then value (botocore's rule); malloc'd. */
char	*sigv4_canonical_query(const char *q);
/** sigv4_sha256_hex(p, n, out): lowercase hex SHA-256 of ${n} bytes at ${p}; 0 or -1. */
int	sigv4_sha256_hex(const void *p, size_t n, char out[65]);
/** sigv4_canonical_request(r, signed_headers): the canonical request; also the
 *  "a;b;c" signed header list in ${signed_headers} when non-NULL. malloc'd. */
char	*sigv4_canonical_request(const struct sigv4_request *r, char **signed_headers);
/** sigv4_scope(s): "YYYYMMDD/<region>/<service>/aws4_request"; malloc'd. */
char	*sigv4_scope(const struct sigv4_signer *s);
/** sigv4_string_to_sign(s, creq): "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256(creq)>". */
char	*sigv4_string_to_sign(const struct sigv4_signer *s, const char *creq);
/** sigv4_signature(s, sts, out): hex HMAC of ${sts} under the derived key (wiped); 0 or -1. */
int	sigv4_signature(const struct sigv4_signer *s, const char *sts, char out[65]);
/** sigv4_authorization(s, r): the Authorization header value for ${r}, which must
 *  already carry host and x-amz-date (and x-amz-security-token if used); malloc'd. */
char	*sigv4_authorization(const struct sigv4_signer *s, const struct sigv4_request *r);
/**
 * sigv4_presign(s, method, url, expires_s): ${url} with the X-Amz-* query
 * authentication parameters and X-Amz-Signature appended (only "host" is
 * signed, payload hash of the empty body as botocore's SigV4QueryAuth does
 * for GET); malloc'd, NULL on a bad URL or ENOMEM.
 */
char	*sigv4_presign(const struct sigv4_signer *s, const char *method,
	    const char *url, long expires_s);
/* The parts of an http(s) URL, pointing into it (not NUL-terminated). */
struct sigv4_url {
	const char	*host;		/* host[:port], the scheme's default port dropped */
	size_t		 host_len;
	const char	*path;		/* "" when the URL has none */
	size_t		 path_len;
	const char	*query;		/* after '?', or NULL */
	size_t		 query_len;
};
/** sigv4_url_parts(url, u): split ${url} without copying; 0, or -1 when it is not an
 *  http(s) URL with a host. */
int	sigv4_url_parts(const char *url, struct sigv4_url *u);
/** sigv4_url_split(url, host, path, query): malloc'd host[:port], path ("/" if empty)
 *  and query (NULL if none) of an http(s) URL; 0 or -1. */
int	sigv4_url_split(const char *url, char **host, char **path, char **query);

#endif

/*
 * http: the libcurl wrapper.  One client keeps its connections alive and
 * reuses them across requests and invocations; every response body is
 * read into a bounded buffer; every request has a time limit.
 */
#ifndef SNAPFERRY_HTTP_H
#define SNAPFERRY_HTTP_H

#include <stddef.h>

#include "buf.h"

struct http_client;

/** http_global_init(): libcurl's global set-up, with allocator hooks that wipe every
 *  block libcurl frees (its request buffers hold the session token); before any other
 *  http_ call.  0 or -1. */
int	http_global_init(void);
/** http_global_cleanup(): libcurl's global clean-up. */
void	http_global_cleanup(void);

struct http_header {
	const char	*name;
	const char	*value;
};

struct http_request {
	const char		*method;	/* "GET", "POST" */
	const char		*url;
	const struct http_header *headers;
	size_t			 n_headers;
	const char		*body;
	size_t			 body_len;
	long			 timeout_ms;	/* whole request; 0 = none */
	size_t			 max_response;	/* body bound; 0 = 1 MiB */
};

enum http_fail {
	HTTP_OK = 0,
	HTTP_FAIL_CONNECT,	/* refused, DNS, TLS handshake */
	HTTP_FAIL_TIMEOUT,
	HTTP_FAIL_IO,		/* reset, truncated body */
	HTTP_FAIL_TOO_LARGE,	/* body exceeded max_response */
	HTTP_FAIL_OTHER
};

struct http_response {
	long		 status;
	struct buf	 body;
	char		*request_id;	/* x-amzn-RequestId / x-amz-request-id, or NULL */
	enum http_fail	 fail;
	char		 errstr[128];	/* transport error text, when fail != HTTP_OK */
};

/** http_client_new(): a client with its own kept-alive connections; NULL on ENOMEM. */
struct http_client *http_client_new(void);
/** http_client_free(c): close connections; NULL is fine. */
void	http_client_free(struct http_client *c);
/** http_perform(c, req, resp): 0 with any HTTP status in ${resp}, -1 on transport failure (resp->fail). */
int	http_perform(struct http_client *c, const struct http_request *req,
	    struct http_response *resp);
/** http_response_clean(r): release the body and request id. */
void	http_response_clean(struct http_response *r);
/* A stand-in for the network, for the flow fuzzer (tests/fuzz/fuzz_flow.c) only: when set,
 * http_perform hands every request to it instead of libcurl. */
typedef int (*http_transport_fn)(const struct http_request *req, struct http_response *resp);
/** http_set_transport_hook(fn): route every request to ${fn} (NULL: libcurl again). */
void	http_set_transport_hook(http_transport_fn fn);
/** http_ca_bundle(): the CA bundle used (SSL_CERT_FILE, Lambda's, Debian's), or NULL. */
const char *http_ca_bundle(void);

#endif

/*
 * aws: a client for one service in one region: endpoint resolution, the
 * Query (form/XML) and JSON 1.1 protocols, SigV4 signing, retries with
 * backoff bounded by the invocation's deadline, and one error type.
 */
#ifndef SNAPFERRY_AWS_H
#define SNAPFERRY_AWS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libxml/tree.h>

#include "credentials.h"
#include "http.h"
#include "sigv4.h"

struct http_client;

/** aws_global_init(): process set-up of libcurl and libxml2 with allocators that wipe
 *  what they free (their copies of tokens and signatures); first thing, once.  0 or -1. */
int	aws_global_init(void);
/** aws_global_cleanup(): the matching clean-up, last thing. */
void	aws_global_cleanup(void);

struct aws_error {
	char	*code;		/* e.g. "DBSnapshotNotFound", "Throttling", "NetworkError" */
	char	*message;
	char	*request_id;
	long	 http_status;	/* 0 for transport failures */
	int	 retryable;	/* throttling, 5xx, transport */
};

/** aws_error_clear(e): free the fields, zero the struct. */
void	aws_error_clear(struct aws_error *e);
/** aws_error_is(e, code): 1 when ${e}->code equals ${code}. */
int	aws_error_is(const struct aws_error *e, const char *code);
/** aws_error_has(e, part): 1 when ${e}->code contains ${part} (e.g. "NotFound" matches
 *  both DBSnapshotNotFound and DBClusterSnapshotNotFoundFault). */
int	aws_error_has(const struct aws_error *e, const char *part);
/** aws_str_in(s, list, n): 1 when ${s} is one of the ${n} strings of ${list}; 0, also for
 *  NULL (error codes, statuses). */
int	aws_str_in(const char *s, const char *const *list, size_t n);
/** aws_error_set(e, code, message): replace ${e}'s contents (for local errors). */
void	aws_error_set(struct aws_error *e, const char *code, const char *message);

/** aws_parse_time(s, out): ISO-8601 "YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z|+hh:mm|-hh:mm]" to ${out};
 *  fixed-width digits and a real calendar date, nothing else. 0 or -1. */
int	aws_parse_time(const char *s, time_t *out);

struct aws_client {
	struct http_client	*http;		/* not owned */
	/* Borrowed: the caller's, which outlive the client, until a refresh points it at
	 * ${renewed}.  One copy of a secret per owner, not one per client. */
	const struct aws_creds	*creds;
	struct aws_creds	 renewed;	/* owned: what ${refresh} fetched last */
	char			*service;	/* signing name: "rds", "sts", "kms" */
	char			*region;
	char			*endpoint;	/* "https://rds.eu-west-1.amazonaws.com" or override */
	int64_t			 deadline_ms;	/* epoch ms; 0 = none */
	int			 max_attempts;	/* default 3 (SDK standard mode) */
	long			 attempt_timeout_ms;	/* per attempt; default AWS_ATTEMPT_TIMEOUT_MS */
	long			 margin_ms;	/* kept before deadline_ms; default AWS_DEADLINE_MARGIN_MS */
	size_t			 max_response;	/* response body bound; default AWS_MAX_RESPONSE */
	/* Fresh credentials before any attempt the held ones could expire during
	 * (creds_expiring); NULL for credentials that are never refreshed. */
	int			(*refresh)(void *arg, struct aws_creds *out, struct aws_error *err);
	void			*refresh_arg;
	/* Kept across requests: the signing key (per date, Region, service and secret, so a
	 * refresh never reuses the last credential's key), the signing work buffer and the
	 * request URL. */
	struct sigv4_cache	 sig;
	char			*url;
	xmlParserCtxtPtr	 xml;	/* the response parser, reused */
	struct buf		 body;	/* the Query request body, reused; wiped after each */
	struct buf		 signed_mem;	/* aws_signed's block, reused; wiped after each */
};

#define AWS_ATTEMPT_TIMEOUT_MS	30000L
#define AWS_DEADLINE_MARGIN_MS	2000L
#define AWS_MAX_RESPONSE	(8u * 1024 * 1024)

/** aws_endpoint(service, region): endpoint URL honouring AWS_ENDPOINT_URL_<SVC> > AWS_ENDPOINT_URL
 *  > regional endpoint of the partition (aws, aws-cn, aws-us-gov); malloc'd. */
char	*aws_endpoint(const char *service, const char *region);
/** aws_client_init(c, http, service, region, creds): a client that borrows ${creds} (they
 *  must outlive it).  0 or -1 (ENOMEM). */
int	aws_client_init(struct aws_client *c, struct http_client *http,
	    const char *service, const char *region, const struct aws_creds *creds);
/** aws_client_clean(c): release, and wipe the renewed credentials. */
void	aws_client_clean(struct aws_client *c);

/* Query protocol parameters, form-encoded in the order added. */
struct aws_params {
	char	**kv;	/* key0, value0, key1, ...; a value shares its key's block */
	size_t	 n;	/* number of pairs */
	size_t	 cap;
};
void	aws_params_init(struct aws_params *p);
/** aws_params_add(p, key, value): copies both; -1 on ENOMEM. */
int	aws_params_add(struct aws_params *p, const char *key, const char *value);
/** aws_params_addi(p, prefix, i, suffix, value): key "<prefix>.<i>[.<suffix>]", e.g.
 *  ("Tags.Tag", 1, "Key", "owner") -> "Tags.Tag.1.Key=owner". */
int	aws_params_addi(struct aws_params *p, const char *prefix, size_t i,
	    const char *suffix, const char *value);
void	aws_params_clean(struct aws_params *p);

/** aws_query(c, version, action, params, out, err): POST a Query request; on
 *  success 0 and ${out} the parsed XML document (xmlFreeDoc it), else -1 with ${err}. */
int	aws_query(struct aws_client *c, const char *version, const char *action,
	    const struct aws_params *params, xmlDocPtr *out, struct aws_error *err);
/** aws_json(c, target, body, out, err): POST a JSON 1.1 request (X-Amz-Target ${target});
 *  0 with ${out} (cJSON_Delete it), or -1 with ${err}. */
int	aws_json(struct aws_client *c, const char *target, const cJSON *body,
	    cJSON **out, struct aws_error *err);

/** aws_form_encode(out, action, version, params): the Query body
 *  "Action=..&Version=..&k=v.." with the unreserved set; 0 or -1. */
struct buf;
int	aws_form_encode(struct buf *out, const char *action, const char *version,
	    const struct aws_params *params);

/* The signed headers of one request (Host, X-Amz-Date, token, type, target, Authorization). */
struct aws_signed {
	struct http_header	 h[6];
	size_t			 n;
	char			*host;	/* in ${mem} */
	char			*auth;	/* in ${mem} */
	char			 date[17];
	struct buf		 mem;	/* host, path, query, Authorization; wiped when cleaned */
};
/** aws_sign(creds, region, service, t, method, url, content_type, target, body, len, out):
 *  the headers to send for this request, signed at ${t}; ${content_type} and
 *  ${target} may be NULL.  0 or -1; aws_signed_clean(out) after. */
int	aws_sign(const struct aws_creds *creds, const char *region, const char *service,
	    time_t t, const char *method, const char *url, const char *content_type,
	    const char *target, const void *body, size_t len, struct aws_signed *out);
/** aws_sign_cached(cache, ...): aws_sign with the signing key and work buffer of
 *  ${cache} (a client's). */
int	aws_sign_cached(struct sigv4_cache *cache, const struct aws_creds *creds,
	    const char *region, const char *service, time_t t, const char *method,
	    const char *url, const char *content_type, const char *target, const void *body,
	    size_t len, struct aws_signed *out);
void	aws_signed_clean(struct aws_signed *s);

/** aws_is_throttle(code): 1 for the SDKs' throttling error codes. */
int	aws_is_throttle(const char *code);
/** aws_retryable(code, status): 1 when an error with ${code} and HTTP ${status} is retried. */
int	aws_retryable(const char *code, long status);
/** aws_parse_error(body, len, status, json, request_id, err): fill ${err} from an error
 *  response (XML ErrorResponse/Error or Errors/Error; JSON __type/message); 0 or -1. */
int	aws_parse_error(const char *body, size_t len, long status, int json,
	    const char *request_id, struct aws_error *err);
/* Markup ('<') allowed in one XML response: bounds the parsed tree (~140 B a node). */
#define AWS_XML_MAX_TAGS	200000u
/** aws_xml_too_big(data, len): 1 when ${data} holds more than AWS_XML_MAX_TAGS '<'. */
int	aws_xml_too_big(const char *data, size_t len);
/** aws_xml_parse(data, len): a document parsed without network, DTDs or entity
 *  expansion; NULL when malformed or over AWS_XML_MAX_TAGS. */
xmlDocPtr aws_xml_parse(const char *data, size_t len);
/** aws_xml_parse_reuse(ctxt, data, len): aws_xml_parse with the parser *${ctxt}, created
 *  when NULL and kept for the next call (its name dictionary, bounded, too); release it
 *  with xmlFreeParserCtxt. */
xmlDocPtr aws_xml_parse_reuse(xmlParserCtxtPtr *ctxt, const char *data, size_t len);

/* XML helpers that ignore namespace prefixes. */
/** xml_child(n, name): first element child of ${n} with local name ${name}, or NULL. */
xmlNodePtr xml_child(xmlNodePtr n, const char *name);
/** xml_find(n, name): first descendant element (depth first) with local name ${name}. */
xmlNodePtr xml_find(xmlNodePtr n, const char *name);
/** xml_text(n, name): malloc'd text of child ${name} of ${n}, or NULL when absent. */
char	*xml_text(xmlNodePtr n, const char *name);

#endif

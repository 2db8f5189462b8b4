/*
 * runtime: the Lambda Runtime API client (2018-06-01) over one kept-alive
 * libcurl handle: next invocation, response, invocation error, init error.
 * Knows nothing about snapshots; bootstrap.c drives it.
 */
#ifndef SNAPFERRY_RUNTIME_H
#define SNAPFERRY_RUNTIME_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Largest event accepted: Lambda's synchronous invocation payload quota
 * (6 MiB; asynchronous events such as EventBridge's are smaller still).
 * Nothing larger can reach a function through Lambda; the emulator
 * truncates larger requests to 6 MiB + 100 bytes, which this rejects.
 */
#define RT_EVENT_MAX		((size_t)6 * 1024 * 1024)
/* Past this, an oversized body is no longer drained but the connection dropped. */
#define RT_DRAIN_MAX		((size_t)64 * 1024 * 1024)

/* What rt_respond/rt_error/rt_init_error/rt_next report. */
enum rt_status {
	RT_OK = 0,		/* 2xx */
	RT_REJECTED,		/* 4xx: this request was refused (e.g. 413, 400); the loop goes on */
	RT_FATAL		/* 500 or transport failure: exit promptly */
};

struct rt_invocation {
	char		*request_id;		/* Lambda-Runtime-Aws-Request-Id */
	int64_t		 deadline_ms;		/* Lambda-Runtime-Deadline-Ms; 0 when absent/invalid */
	char		*function_arn;		/* Lambda-Runtime-Invoked-Function-Arn */
	char		*trace_id;		/* Lambda-Runtime-Trace-Id */
	char		*client_context;	/* Lambda-Runtime-Client-Context */
	char		*cognito_identity;	/* Lambda-Runtime-Cognito-Identity */
	char		*tenant_id;		/* Lambda-Runtime-Aws-Tenant-Id */
	struct buf	 event;			/* body, bounded by RT_EVENT_MAX */
	size_t		 event_size;		/* bytes the API sent (> event.len when too large) */
	int		 too_large;		/* the body exceeded RT_EVENT_MAX and was discarded */
	int		 truncated_drain;	/* ...and exceeded RT_DRAIN_MAX: event_size is a lower bound */
};

struct rt_client;

/** rt_client_new(api, stop): a client for http://${api}/2018-06-01 (host:port);
 *  a blocked rt_next gives up within about a second once *${stop} is set. NULL on error. */
struct rt_client *rt_client_new(const char *api, const volatile sig_atomic_t *stop);
/** rt_client_free(c): close the connection; NULL is fine. */
void	rt_client_free(struct rt_client *c);

/** rt_invocation_init(inv): an empty invocation. */
void	rt_invocation_init(struct rt_invocation *inv);
/** rt_invocation_clean(inv): release the fields; ${inv} may be reused after. */
void	rt_invocation_clean(struct rt_invocation *inv);

/** rt_next(c, inv): wait (no timeout) for the next invocation into ${inv} (cleaned first).
 *  RT_OK: ${inv} holds a request id (the body may be too large: see too_large);
 *  RT_FATAL: the Runtime API failed or the stop flag was set. */
enum rt_status rt_next(struct rt_client *c, struct rt_invocation *inv);
/** rt_respond(c, request_id, body, len): POST the result of ${request_id}. */
enum rt_status rt_respond(struct rt_client *c, const char *request_id,
	    const char *body, size_t len);
/** rt_error(c, request_id, type, msg): POST an invocation error for ${request_id}. */
enum rt_status rt_error(struct rt_client *c, const char *request_id,
	    const char *type, const char *msg);
/** rt_init_error(c, type, msg): POST /runtime/init/error (the caller exits after). */
enum rt_status rt_init_error(struct rt_client *c, const char *type, const char *msg);
/** rt_last_status(c): HTTP status of the last request, 0 when it failed in transport. */
long	rt_last_status(const struct rt_client *c);

/* Exposed for unit tests. */

/** rt_parse_header(inv, line, len): take one raw header line ("Name: value\r\n") into ${inv}
 *  when it is a Lambda-Runtime-* header (name matched without regard to case); 0, -1 on ENOMEM. */
int	rt_parse_header(struct rt_invocation *inv, const char *line, size_t len);
/** rt_error_json(type, msg): the {"errorMessage","errorType","stackTrace":[]} body, with
 *  invalid UTF-8 replaced by U+FFFD; malloc'd, NULL on ENOMEM. */
char	*rt_error_json(const char *type, const char *msg);
/** rt_utf8_clean(s): copy of ${s} with each invalid UTF-8 sequence replaced by U+FFFD. */
char	*rt_utf8_clean(const char *s);

#endif

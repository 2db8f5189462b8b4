/*
 * handler: one invocation, independent of the Runtime API, so that the
 * same code runs under Lambda and from the command line (--event FILE).
 */
#ifndef SNAPFERRY_HANDLER_H
#define SNAPFERRY_HANDLER_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct http_client;

struct handler_ctx {
	const struct config	*cfg;
	struct http_client	*http;		/* kept-alive connections, reused across invocations */
	struct assume_cache	*role_cache;	/* assumed-role credentials, reused across invocations */
	const char		*request_id;
	const char		*function_arn;	/* may be NULL (CLI) */
	int64_t			 deadline_ms;	/* epoch ms; the handler keeps a margin to report */
	int			 local;		/* 1: bootstrap --event (the CLI path), not Lambda */
};

struct handler_result {
	char	*payload;	/* JSON result on success (malloc'd) */
	char	*error_type;	/* on failure: e.g. "Event.Malformed", "Snapshot.AccessDenied" */
	char	*error_message;	/* on failure: what to fix */
};

/** handler_invoke(ctx, event, len, out): 0 with ${out}->payload, or -1 with the error fields
 *  (the failure is logged, once). */
int	handler_invoke(const struct handler_ctx *ctx, const char *event, size_t len,
	    struct handler_result *out);
/** handler_result_clean(r): release the fields of ${r}. */
void	handler_result_clean(struct handler_result *r);

#endif

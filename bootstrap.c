/*
 * bootstrap: snapferry's entry point.  Loads the configuration, then
 * either serves invocations from the Lambda Runtime API until SIGTERM or
 * a fatal Runtime API error, or runs one local invocation (--event FILE).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "arn.h"
#include "assume.h"
#include "aws.h"
#include "buf.h"
#include "config.h"
#include "credentials.h"
#include "event.h"
#include "handler.h"
#include "http.h"
#include "log.h"
#include "millis.h"
#include "runtime.h"

#ifndef SNAPFERRY_VERSION
#define SNAPFERRY_VERSION "unknown"
#endif

#define EXIT_HANDLER	1	/* the handler failed, or the runtime must stop */
#define EXIT_USAGE	2	/* bad arguments or configuration */
#define LOCAL_TIMEOUT_MS (15LL * 60 * 1000)	/* Lambda's longest invocation */

static volatile sig_atomic_t stop;

/* Kept across invocations: AWS connections and assumed-role credentials. */
struct shared {
	struct http_client	*http;
	struct assume_cache	*roles;
};

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bootstrap                 serve the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API)\n"
	    "       bootstrap --event FILE    run one invocation of the event in FILE ('-' = stdin);\n"
	    "                                 the result JSON goes to stdout, logs to stderr;\n"
	    "                                 exit 0 on success, 1 when the handler fails, 2 on a\n"
	    "                                 usage or configuration error\n"
	    "       bootstrap --probe-url URL GET URL (TLS verified) and print the status;\n"
	    "                                 exit 0 on 2xx (checks DNS, TLS and the CA bundle)\n"
	    "       bootstrap --version | --help\n"
	    "\n"
	    "snapferry copies every RDS snapshot to a backup account.  It is configured by\n"
	    "environment variables (BACKUP_ACCOUNT_ID, BACKUP_ROLE_ARN, SHARE_KMS_KEY_ID,\n"
	    "BACKUP_KMS_KEY_ID, AWS_REGION, ...): see README.md.\n");
}

/* Read FILE ("-" = stdin) into b (bounded); 0, -1 with errno (EFBIG when too large). */
static int
read_event(const char *path, struct buf *b)
{
	char chunk[16384];
	FILE *f;
	size_t n;
	int rc = 0;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "rb")) == NULL)
		return (-1);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(b, chunk, n) != 0) {
			errno = (b->len + n > b->max) ? EFBIG : ENOMEM;
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		errno = EIO;
		rc = -1;
	}
	if (f != stdin)
		fclose(f);
	return (rc);
}

/* Print an error document for a failed local invocation. */
static void
print_error(const char *type, const char *msg)
{
	char *j = rt_error_json(type, msg);

	if (j != NULL) {
		puts(j);
		free(j);
	}
}

static int
run_local(const char *path, struct shared *sh)
{
	struct handler_result res;
	struct handler_ctx ctx;
	struct config_error err;
	struct config cfg;
	struct buf ev;
	char msg[256];
	int rc;

	log_set_stream(stderr);
	if (config_load(&cfg, NULL, &err) != 0) {
		fprintf(stderr, "snapferry: configuration error: %s\n", err.msg);
		return (EXIT_USAGE);
	}
	log_set_level(cfg.log_level);
	log_set_mode(config_mode_name(cfg.mode));
	buf_init(&ev, RT_EVENT_MAX);
	if (read_event(path, &ev) != 0) {
		if (errno == EFBIG) {
			snprintf(msg, sizeof(msg), "event of more than %zu bytes exceeds the "
			    "limit of %zu bytes", (size_t)RT_EVENT_MAX, (size_t)RT_EVENT_MAX);
			print_error("Event.TooLarge", msg);
			rc = EXIT_HANDLER;
		} else {
			fprintf(stderr, "snapferry: can't read the event %s: %s\n",
			    strcmp(path, "-") == 0 ? "from standard input" : path, strerror(errno));
			rc = EXIT_USAGE;
		}
		goto done;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &cfg;
	ctx.http = sh->http;
	ctx.role_cache = sh->roles;
	ctx.request_id = "local";
	ctx.local = 1;
	ctx.deadline_ms = millis_now() + LOCAL_TIMEOUT_MS;
	log_set_request_id("local");
	if (handler_invoke(&ctx, ev.data ? ev.data : "", ev.len, &res) == 0) {
		puts(res.payload);
		rc = 0;
	} else {
		print_error(res.error_type, res.error_message);
		rc = EXIT_HANDLER;
	}
	handler_result_clean(&res);
	log_set_request_id(NULL);
done:
	fflush(stdout);
	buf_clean(&ev);
	config_clean(&cfg);
	return (rc);
}

/* --probe-url: one verified GET through the same HTTP client as the AWS calls. */
static int
run_probe(const char *url, struct shared *sh)
{
	struct http_request req;
	struct http_response resp;
	const char *ca = http_ca_bundle();
	int rc;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = "GET";
	req.url = url;
	req.timeout_ms = 15000;
	if (http_perform(sh->http, &req, &resp) != 0) {
		fprintf(stderr, "snapferry: %s: %s (CA bundle: %s)\n", url,
		    resp.errstr[0] ? resp.errstr : "request failed", ca ? ca : "none found");
		http_response_clean(&resp);
		return (EXIT_HANDLER);
	}
	printf("%ld %s\n", resp.status, url);
	rc = (resp.status >= 200 && resp.status < 300) ? 0 : EXIT_HANDLER;
	http_response_clean(&resp);
	return (rc);
}

/* The account of the function ARN, when the configuration does not know its own yet.
 * BACKUP_ACCOUNT_ID equal to it is logged here, once; every invocation then fails with
 * Snapferry.Config (session_own_account): the Runtime API has no init error after init. */
static void
learn_account(struct config *cfg, const char *function_arn)
{
	struct config_error err;
	struct arn a;
	cJSON *f;

	/* The keeper acts in the account its own credentials reach, learnt from STS when
	 * needed (ferry_own_account): it never takes an account from elsewhere. */
	if (cfg->account_id != NULL || function_arn == NULL || cfg->mode == CONFIG_MODE_KEEPER)
		return;
	if (arn_parse(function_arn, &a) == 0 && strlen(a.account) == 12) {
		cfg->account_id = a.account;
		a.account = NULL;
		if (config_check_own_account(cfg, cfg->account_id, &err) != 0) {
			f = cJSON_CreateObject();
			cJSON_AddStringToObject(f, "variable", err.var);
			cJSON_AddStringToObject(f, "error", err.msg);
			log_error("configuration invalid", f);
		}
	}
	arn_clean(&a);
}

/* One invocation: the handler's result or error goes back to the Runtime API. */
static enum rt_status
serve_one(struct rt_client *rt, struct config *cfg, struct shared *sh,
    struct rt_invocation *inv)
{
	struct handler_result res;
	struct handler_ctx ctx;
	enum rt_status st;
	char msg[256];
	cJSON *f;

	log_set_request_id(inv->request_id);
	/* The X-Ray trace header, for this invocation only. */
	if (inv->trace_id != NULL)
		setenv("_X_AMZN_TRACE_ID", inv->trace_id, 1);
	else
		unsetenv("_X_AMZN_TRACE_ID");
	learn_account(cfg, inv->function_arn);

	if (inv->too_large) {
		snprintf(msg, sizeof(msg), "event of %s%zu bytes exceeds the limit of %zu bytes",
		    inv->truncated_drain ? "more than " : "", inv->event_size, (size_t)RT_EVENT_MAX);
		f = cJSON_CreateObject();
		cJSON_AddNumberToObject(f, "bytes", (double)inv->event_size);
		log_error("event too large", f);
		st = rt_error(rt, inv->request_id, "Event.TooLarge", msg);
		goto done;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.http = sh->http;
	ctx.role_cache = sh->roles;
	ctx.request_id = inv->request_id;
	ctx.function_arn = inv->function_arn;
	ctx.deadline_ms = inv->deadline_ms;
	if (handler_invoke(&ctx, inv->event.data ? inv->event.data : "", inv->event.len, &res) == 0) {
		st = rt_respond(rt, inv->request_id, res.payload, strlen(res.payload));
		if (st == RT_REJECTED) {
			/* e.g. 413: the result was too large; say so rather than vanish. */
			snprintf(msg, sizeof(msg), "the Runtime API refused the result (HTTP %ld)",
			    rt_last_status(rt));
			st = rt_error(rt, inv->request_id, "Runtime.ResponseRejected", msg);
		}
	} else {
		/* handler_invoke logged the failure where it found it. */
		st = rt_error(rt, inv->request_id, res.error_type, res.error_message);
	}
	handler_result_clean(&res);
done:
	log_set_request_id(NULL);
	return (st);
}

static int
run_runtime(const char *api, struct shared *sh)
{
	struct rt_invocation inv;
	struct config_error err;
	struct rt_client *rt;
	struct config cfg;
	enum rt_status st = RT_OK;
	unsigned long served = 0;
	cJSON *f;

	if ((rt = rt_client_new(api, &stop)) == NULL) {
		fprintf(stderr, "snapferry: can't set up the Runtime API client for %s\n", api);
		return (EXIT_HANDLER);
	}
	if (config_load(&cfg, NULL, &err) != 0) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "variable", err.var);
		cJSON_AddStringToObject(f, "error", err.msg);
		log_error("configuration invalid", f);
		rt_init_error(rt, "Runtime.ConfigInvalid", err.msg);
		rt_client_free(rt);
		return (EXIT_HANDLER);
	}
	log_set_level(cfg.log_level);
	log_set_mode(config_mode_name(cfg.mode));
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "version", SNAPFERRY_VERSION);
	cJSON_AddNumberToObject(f, "pid", (double)getpid());
	cJSON_AddStringToObject(f, "region", cfg.region);
	cJSON_AddBoolToObject(f, "dryRun", cfg.dry_run);
	log_info("runtime started", f);

	rt_invocation_init(&inv);
	while (!stop) {
		if ((st = rt_next(rt, &inv)) != RT_OK)
			break;
		if ((st = serve_one(rt, &cfg, sh, &inv)) == RT_FATAL)
			break;
		served++;
	}
	rt_invocation_clean(&inv);
	unsetenv("_X_AMZN_TRACE_ID");

	f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "invocations", (double)served);
	cJSON_AddStringToObject(f, "cause", stop ? "signal" : "runtime API failure");
	log_info("runtime stopping", f);
	config_clean(&cfg);
	rt_client_free(rt);
	return ((st == RT_FATAL && !stop) ? EXIT_HANDLER : 0);
}

int
main(int argc, char **argv)
{
	const char *event_path = NULL, *probe = NULL, *api;
	struct shared sh = { NULL, NULL };
	struct sigaction sa;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return (0);
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("snapferry %s\n", SNAPFERRY_VERSION);
			return (0);
		} else if (strcmp(argv[i], "--event") == 0 && i + 1 < argc) {
			event_path = argv[++i];
		} else if (strncmp(argv[i], "--event=", 8) == 0 && argv[i][8] != '\0') {
			event_path = argv[i] + 8;
		} else if (strcmp(argv[i], "--probe-url") == 0 && i + 1 < argc) {
			probe = argv[++i];
		} else {
			fprintf(stderr, "snapferry: %s: %s\n", argv[i],
			    strcmp(argv[i], "--event") == 0 ? "needs a FILE (or -)" :
			    strcmp(argv[i], "--probe-url") == 0 ? "needs a URL" : "unknown argument");
			usage(stderr);
			return (EXIT_USAGE);
		}
	}
	api = getenv("AWS_LAMBDA_RUNTIME_API");
	if (event_path != NULL && probe != NULL) {
		fprintf(stderr, "snapferry: --event and --probe-url don't go together\n");
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (event_path == NULL && probe == NULL && (api == NULL || *api == '\0')) {
		fprintf(stderr, "snapferry: AWS_LAMBDA_RUNTIME_API is not set, so this is not "
		    "running inside Lambda; to run one event locally, use --event FILE.\n\n");
		usage(stderr);
		return (EXIT_USAGE);
	}

	/* No SA_RESTART: a blocked wait for the next event notices the flag. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (aws_global_init() != 0) {
		fprintf(stderr, "snapferry: libcurl or libxml2 failed to initialise\n");
		return (EXIT_HANDLER);
	}
	if ((sh.http = http_client_new()) == NULL || (sh.roles = assume_cache_new()) == NULL) {
		fprintf(stderr, "snapferry: out of memory\n");
		rc = EXIT_HANDLER;
		goto done;
	}
	if (probe != NULL)
		rc = run_probe(probe, &sh);
	else if (event_path != NULL)
		rc = run_local(event_path, &sh);
	else
		rc = run_runtime(api, &sh);
done:
	log_set_request_id(NULL);
	assume_cache_free(sh.roles);
	http_client_free(sh.http);
	aws_global_cleanup();
	return (rc);
}

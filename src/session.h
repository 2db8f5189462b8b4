/*
 * session: what one invocation works with — the configuration, the AWS clients of the
 * production account and (on first use) of the backup account, the deadline, the own
 * account, the counters — and the classification of AWS errors into outcomes.
 */
#ifndef SNAPFERRY_SESSION_H
#define SNAPFERRY_SESSION_H

#include <stdint.h>

#include "assume.h"
#include "aws.h"
#include "credentials.h"
#include "rds.h"
#include "result.h"

struct config;
struct assume_cache;
struct http_client;

/* Time kept free before the deadline to report the result. */
#define SESSION_MARGIN_MS	5000

/* Counters a sweep sums up into one set of metrics. */
struct session_counts {
	unsigned	started;	/* backup copies started */
	unsigned	transit_started;
	unsigned	completed;	/* backup copies found available and cleaned up */
	unsigned	pending;
	unsigned	failed;
	unsigned	quota;		/* quota / concurrency limits hit */
};

struct session {
	const struct config	*cfg;
	struct http_client	*http;
	struct assume_cache	*role_cache;
	int64_t			 deadline_ms;	/* epoch ms, 0 = none */
	int			 quiet_metrics;	/* 1: count only (the sweep emits totals) */
	int			 no_wait;	/* 1: never poll a copy (the sweep) */
	int			 local;		/* 1: one invocation from the CLI (bootstrap
						 * --event), not under Lambda (the handler) */
	struct session_counts	 counts;
	struct aws_creds	 creds;		/* the function's own, from the environment */
	struct aws_client	 rds, kms, sts;	/* production account, own region */
	struct aws_client	 backup_rds;	/* backup account, BACKUP_REGION; see session_backup */
	struct aws_creds	 backup_creds;	/* what backup_rds borrows until it renews them */
	struct assume_source	 backup_src;	/* backup_rds's credentials, renewed near expiry */
	int			 have_backup_rds;
	int			 have_backup_creds;	/* BACKUP_ROLE_ARN assumed (once) */
	/* The other destination Regions' clients (cfg->backup_regions[i]), made on first use
	 * with the same credentials: one AssumeRole serves every Region. */
	struct aws_client	*backup_in;
	unsigned char		*have_backup_in;
	char			*account;	/* own account from STS, when the config lacks it */
	/* The snapshot this invocation last shared with the backup account (ferry_share.c):
	 * un-sharing it needs no read of its attribute first. */
	char			*shared_here;
	enum rds_kind		 shared_here_kind;
};

/** session_init(ses, cfg, http, role_cache, deadline_ms, err): clients for the production
 *  account from the environment's credentials. 0, or -1 with ${err}. */
int	session_init(struct session *ses, const struct config *cfg, struct http_client *http,
	    struct assume_cache *role_cache, int64_t deadline_ms, struct aws_error *err);
/** session_clean(ses): release the clients and wipe the credentials. */
void	session_clean(struct session *ses);
/** session_backup(ses, r): the RDS client of the backup account (assumes BACKUP_ROLE_ARN
 *  with BACKUP_EXTERNAL_ID on first use); NULL with the failure and its fix recorded in ${r}. */
struct aws_client *session_backup(struct session *ses, struct result *r);
/** session_backup_in(ses, region, r): the backup account's RDS client in ${region}, one of
 *  BACKUP_REGIONS (session_backup's for the primary destination, cfg->backup_region); the
 *  role is assumed once for all of them.  NULL with the failure recorded in ${r}. */
struct aws_client *session_backup_in(struct session *ses, const char *region,
	    struct result *r);

/** session_own_account(ses, r): this function's account: the configuration's (from the
 *  function ARN), else sts:GetCallerIdentity once per ${ses}.  NULL with ${r} failed when it
 *  can't be learned (never act on a snapshot that may be another account's). */
const char *session_own_account(struct session *ses, struct result *r);
/** session_known_account(ses): the own account when it can be learned, else NULL.  Unlike
 *  session_own_account, not knowing it is no failure, and it may be the backup account
 *  (on disaster day, run with its credentials). */
const char *session_known_account(struct session *ses);
/** session_foreign_account(ses, account, r): 1 (${r} "ignored", with a warning) when
 *  ${account} (NULL = none named) is not this function's own; 0 when it is or none is named;
 *  -1 with ${r} failed when the own account can't be learned. */
int	session_foreign_account(struct session *ses, const char *account, struct result *r);

/** session_time_left_ms(ses): ms before the deadline minus SESSION_MARGIN_MS (INT64_MAX
 *  without one). */
int64_t	session_time_left_ms(const struct session *ses);

/** session_fail_aws(ses, r, e, op, what, fix): classify AWS error ${e} of ${op} on ${what}
 *  into ${r}: quota/retryable -> pending, needs-a-human -> failed (${fix} says what to do).
 *  Clears ${e}. */
void	session_fail_aws(struct session *ses, struct result *r, struct aws_error *e,
	    const char *op, const char *what, const char *fix);
/** session_fail_rds(ses, r, e, kind, op, what, who): session_fail_aws for RDS operation
 *  ${op} on ${what}, its "To fix" naming the IAM actions ${op} needs for ${kind}, to be
 *  allowed to ${who} (SESSION_OWN_ROLE, SESSION_BACKUP_ROLE).  Clears ${e}. */
void	session_fail_rds(struct session *ses, struct result *r, struct aws_error *e,
	    enum rds_kind kind, enum rds_op op, const char *what, const char *who);
#define SESSION_OWN_ROLE	"the function's role"
#define SESSION_BACKUP_ROLE	"BACKUP_ROLE_ARN"
/** session_is_quota(code): 1 for quota and copy-concurrency error codes. */
int	session_is_quota(const char *code);
/** session_is_invalid_state(e): 1 for AWS's "the snapshot is not in a valid state". */
int	session_is_invalid_state(const struct aws_error *e);
/** session_count_metric(ses, counter, name): count one in ${counter}, and emit metric ${name}
 *  unless the sweep sums the counters up. */
void	session_count_metric(struct session *ses, unsigned *counter, const char *name);
/** session_emit_counts(c): one EMF record for each of the six counters of ${c}, zeros
 *  included (a sweep's metrics have a data point every run). */
void	session_emit_counts(const struct session_counts *c);

#endif

/*
 * session: the clients, credentials, deadline, own account and counters of one
 * invocation, and the classification of AWS errors into outcomes (session_fail_aws).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assume.h"
#include "config.h"
#include "credentials.h"
#include "log.h"
#include "millis.h"
#include "session.h"
#include "sts.h"

#define SESSION_NAME	"snapferry"

int64_t
session_time_left_ms(const struct session *ses)
{
	if (ses->deadline_ms == 0)
		return (INT64_MAX);
	return (ses->deadline_ms - SESSION_MARGIN_MS - millis_now());
}

int
session_is_quota(const char *code)
{
	static const char * const q[] = {
		"SnapshotQuotaExceeded", "SnapshotQuotaExceededFault",
		"SharedSnapshotQuotaExceeded", "SharedSnapshotQuotaExceededFault",
		"InstanceQuotaExceeded", "InstanceQuotaExceededFault",
		"StorageQuotaExceeded", "StorageQuotaExceededFault",
		"DBClusterQuotaExceededFault", "ResourceLimitExceeded",
		"LimitExceededException",
	};

	return (aws_str_in(code, q, sizeof(q) / sizeof(q[0])));
}

/* AWS's "the snapshot is not in a valid state" for this call (wire code of the DB
 * snapshot fault, shape name of the cluster one). */
int
session_is_invalid_state(const struct aws_error *e)
{
	return (aws_error_is(e, "InvalidDBSnapshotState") ||
	    aws_error_is(e, "InvalidDBSnapshotStateFault") ||
	    aws_error_is(e, "InvalidDBClusterSnapshotStateFault"));
}


static int
is_access_denied(const struct aws_error *e)
{
	return (aws_error_is(e, "AccessDenied") || aws_error_is(e, "AccessDeniedException") ||
	    aws_error_is(e, "UnauthorizedOperation") || aws_error_is(e, "NotAuthorized") ||
	    aws_error_is(e, "AuthorizationError"));
}

void
session_count_metric(struct session *ses, unsigned *counter, const char *name)
{
	(*counter)++;
	if (!ses->quiet_metrics)
		log_metric(name, 1, "Count", NULL, NULL);
}

/* is_transport(e): the endpoint could not be reached (no answer at all), after the retries. */
static int
is_transport(const struct aws_error *e)
{
	return (aws_error_is(e, "NetworkError") || aws_error_is(e, "Timeout"));
}

/* The endpoint an operation went to: by its "sts:"/"kms:" prefix, else RDS (this account's,
 * or the backup account's when the two differ and the backup client is in use). */
static const char *
endpoint_of(const struct session *ses, const char *opname, const char **other)
{
	*other = NULL;
	if (strncmp(opname, "sts:", 4) == 0)
		return (ses->sts.endpoint);
	if (strncmp(opname, "kms:", 4) == 0)
		return (ses->kms.endpoint);
	if (ses->have_backup_rds && ses->backup_rds.endpoint != NULL && ses->rds.endpoint != NULL &&
	    strcmp(ses->backup_rds.endpoint, ses->rds.endpoint) != 0)
		*other = ses->backup_rds.endpoint;
	return (ses->rds.endpoint);
}

static void
classify(struct session *ses, struct result *r, const struct aws_error *e,
    const char *opname, const char *what, const char *fix)
{
	const char *code = e->code ? e->code : "Unknown";
	const char *msg = e->message ? e->message : "";
	const char *ep, *ep2;

	if (is_transport(e)) {
		/* Not throttling or a 5xx: nothing answered, every retry.  A wrong endpoint or
		 * no network would otherwise be "pending" forever; as a function error the
		 * Errors alarm fires, and the sweep converges once the network is back. */
		ep = endpoint_of(ses, opname, &ep2);
		session_count_metric(ses, &ses->counts.failed, "CopiesFailed");
		result_fail(r, "Snapferry.Network", "%s on %s: could not reach %s%s%s%s after "
		    "retries (%s: %s). To fix: check the network path (VPC subnets, NAT or VPC "
		    "endpoints, security groups) and AWS_ENDPOINT_URL*", opname, what,
		    ep ? ep : "the endpoint", ep2 ? " (backup account: " : "", ep2 ? ep2 : "",
		    ep2 ? ")" : "", code, msg);
		return;
	}
	if (session_is_quota(code)) {
		result_warn(r, "%s on %s hit a quota (%s: %s); snapferry retries on the "
		    "next trigger", opname, what, code, msg);
		session_count_metric(ses, &ses->counts.quota, "QuotaExceeded");
		session_count_metric(ses, &ses->counts.pending, "CopiesPending");
		result_finish(r, RESULT_PENDING, "quota: %s (%s)", code, opname);
		return;
	}
	if (e->retryable || aws_error_has(e, "Throttl") || aws_error_is(e, "RequestExpired")) {
		result_warn(r, "%s on %s kept failing (%s: %s); the next trigger or sweep "
		    "continues", opname, what, code, msg);
		session_count_metric(ses, &ses->counts.pending, "CopiesPending");
		result_finish(r, RESULT_PENDING, "transient AWS error %s on %s", code, opname);
		return;
	}
	if (session_is_invalid_state(e)) {
		session_count_metric(ses, &ses->counts.pending, "CopiesPending");
		result_finish(r, RESULT_PENDING, "%s on %s: snapshot busy (%s: %s)", opname,
		    what, code, msg);
		return;
	}
	session_count_metric(ses, &ses->counts.failed, "CopiesFailed");
	if (is_access_denied(e))
		result_fail(r, "Snapferry.AccessDenied", "%s on %s was denied (%s: %s). "
		    "To fix: %s", opname, what, code, msg, fix);
	else if (aws_error_is(e, "KMSKeyNotAccessibleFault") ||
	    aws_error_is(e, "KMSKeyNotAccessible"))
		result_fail(r, "Snapferry.KMSKeyNotAccessible", "%s on %s: a KMS key is not "
		    "accessible (%s: %s). To fix: %s", opname, what, code, msg, fix);
	else if (aws_error_is(e, "InvalidClientTokenId") ||
	    aws_error_is(e, "SignatureDoesNotMatch") ||
	    aws_error_is(e, "UnrecognizedClientException") ||
	    aws_error_has(e, "ExpiredToken"))
		result_fail(r, "Snapferry.Credentials", "%s on %s: the credentials were "
		    "refused (%s: %s)", opname, what, code, msg);
	else if (aws_error_is(e, "NotFoundException") || aws_error_is(e, "DisabledException") ||
	    aws_error_is(e, "KMSInvalidStateException"))
		result_fail(r, "Snapferry.KMSKey", "%s on %s: %s: %s. To fix: %s", opname,
		    what, code, msg, fix);
	else
		result_fail(r, "Snapferry.AWSError", "%s on %s failed (%s: %s). To fix: %s",
		    opname, what, code, msg, fix);
}

void
session_fail_aws(struct session *ses, struct result *r, struct aws_error *e,
    const char *opname, const char *what, const char *fix)
{
	classify(ses, r, e, opname, what, fix);
	aws_error_clear(e);
}

void
session_fail_rds(struct session *ses, struct result *r, struct aws_error *e,
    enum rds_kind kind, enum rds_op op, const char *what, const char *who)
{
	char fix[256];

	snprintf(fix, sizeof(fix), "allow %s to %s", rds_op_iam(kind, op), who);
	session_fail_aws(ses, r, e, rds_op_name(kind, op), what, fix);
}

/* ---- clients --------------------------------------------------------------- */

int
session_init(struct session *ses, const struct config *cfg, struct http_client *http,
    struct assume_cache *role_cache, int64_t deadline_ms, struct aws_error *err)
{
	memset(ses, 0, sizeof(*ses));
	ses->cfg = cfg;
	ses->http = http;
	ses->role_cache = role_cache;
	ses->deadline_ms = deadline_ms;
	if (creds_from_env(&ses->creds) != 0) {
		aws_error_set(err, "MissingCredentials", "AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY are not set");
		goto err0;
	}
	if (aws_client_init(&ses->rds, http, "rds", cfg->region, &ses->creds) != 0)
		goto err1;
	if (aws_client_init(&ses->kms, http, "kms", cfg->region, &ses->creds) != 0)
		goto err2;
	if (aws_client_init(&ses->sts, http, "sts", cfg->region, &ses->creds) != 0)
		goto err3;
	ses->rds.deadline_ms = ses->kms.deadline_ms = ses->sts.deadline_ms = deadline_ms;

	/* Success! */
	return (0);

err3:
	aws_client_clean(&ses->kms);
err2:
	aws_client_clean(&ses->rds);
err1:
	aws_error_set(err, "ENOMEM", "out of memory");
	creds_clean(&ses->creds);
err0:
	/* Failure! */
	return (-1);
}

void
session_clean(struct session *ses)
{
	size_t i;

	if (ses->cfg == NULL)
		return;
	if (ses->have_backup_rds)
		aws_client_clean(&ses->backup_rds);
	for (i = 0; ses->have_backup_in != NULL && i < ses->cfg->n_backup_regions; i++)
		if (ses->have_backup_in[i])
			aws_client_clean(&ses->backup_in[i]);
	free(ses->backup_in);
	free(ses->have_backup_in);
	aws_client_clean(&ses->sts);
	aws_client_clean(&ses->kms);
	aws_client_clean(&ses->rds);
	/* After the clients: they borrow these. */
	creds_clean(&ses->backup_creds);
	creds_clean(&ses->creds);
	free(ses->account);
	free(ses->shared_here);
	memset(ses, 0, sizeof(*ses));
}

/* backup_creds(ses, r): the credentials of the backup account, BACKUP_ROLE_ARN assumed
 *  once per session (the keeper's own).  NULL with ${r} failed. */
static const struct aws_creds *
backup_creds(struct session *ses, struct result *r)
{
	const struct config *cfg = ses->cfg;
	struct aws_error e;

	/* The keeper runs in the backup account with its own role: it assumes none. */
	if (cfg->mode == CONFIG_MODE_KEEPER)
		return (&ses->creds);
	if (ses->have_backup_creds)
		return (&ses->backup_creds);
	memset(&e, 0, sizeof(e));
	ses->backup_src.cache = ses->role_cache;
	ses->backup_src.sts = &ses->sts;
	ses->backup_src.role_arn = cfg->backup_role_arn;
	ses->backup_src.session = SESSION_NAME;
	ses->backup_src.external_id = cfg->backup_external_id;
	if (assume_source_fetch(&ses->backup_src, &ses->backup_creds, &e) != 0) {
		session_fail_aws(ses, r, &e, "sts:AssumeRole", cfg->backup_role_arn,
		    "the function's role needs sts:AssumeRole on BACKUP_ROLE_ARN, and that "
		    "role's trust policy must trust it (with sts:ExternalId equal to "
		    "BACKUP_EXTERNAL_ID when set)");
		return (NULL);
	}
	ses->have_backup_creds = 1;
	return (&ses->backup_creds);
}

/* backup_client(ses, c, region, r): ${c}, the backup account's RDS client in ${region}.
 *  0, or -1 with ${r} failed. */
static int
backup_client(struct session *ses, struct aws_client *c, const char *region, struct result *r)
{
	const struct aws_creds *cr;

	if ((cr = backup_creds(ses, r)) == NULL)
		return (-1);
	if (aws_client_init(c, ses->http, "rds", region, cr) != 0) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		return (-1);
	}
	c->deadline_ms = ses->deadline_ms;
	if (ses->cfg->mode != CONFIG_MODE_KEEPER) {
		/* An invocation may outlast them (WAIT_SECONDS): each call renews them if
		 * needed. */
		c->refresh = assume_source_fetch;
		c->refresh_arg = &ses->backup_src;
	}
	return (0);
}

struct aws_client *
session_backup(struct session *ses, struct result *r)
{
	const struct config *cfg = ses->cfg;
	const char *region;

	if (ses->have_backup_rds)
		return (&ses->backup_rds);
	/* The keeper's client is in its own Region. */
	region = (cfg->mode == CONFIG_MODE_KEEPER || cfg->backup_region == NULL) ?
	    cfg->region : cfg->backup_region;
	if (backup_client(ses, &ses->backup_rds, region, r) != 0)
		return (NULL);
	ses->have_backup_rds = 1;
	return (&ses->backup_rds);
}

struct aws_client *
session_backup_in(struct session *ses, const char *region, struct result *r)
{
	const struct config *cfg = ses->cfg;
	size_t i;

	if (region == NULL || cfg->mode == CONFIG_MODE_KEEPER || cfg->backup_region == NULL ||
	    strcmp(region, cfg->backup_region) == 0)
		return (session_backup(ses, r));
	for (i = 0; i < cfg->n_backup_regions; i++)
		if (strcmp(cfg->backup_regions[i], region) == 0)
			break;
	if (i == cfg->n_backup_regions) {
		result_fail(r, "Snapferry.Internal", "%s is not a Region of BACKUP_REGIONS",
		    region);
		return (NULL);
	}
	if (ses->backup_in == NULL) {
		ses->backup_in = calloc(cfg->n_backup_regions, sizeof(*ses->backup_in));
		ses->have_backup_in = calloc(cfg->n_backup_regions, 1);
		if (ses->backup_in == NULL || ses->have_backup_in == NULL) {
			free(ses->backup_in);
			free(ses->have_backup_in);
			ses->backup_in = NULL;
			ses->have_backup_in = NULL;
			result_fail(r, "Snapferry.Internal", "out of memory");
			return (NULL);
		}
	}
	if (!ses->have_backup_in[i]) {
		if (backup_client(ses, &ses->backup_in[i], region, r) != 0)
			return (NULL);
		ses->have_backup_in[i] = 1;
	}
	return (&ses->backup_in[i]);
}

/* ---- the own account ------------------------------------------------------------ */

/* checked_account(ses, acct, r): ${acct}, unless it is BACKUP_ACCOUNT_ID (NULL, ${r} failed). */
static const char *
checked_account(struct session *ses, const char *acct, struct result *r)
{
	struct config_error ce;

	if (config_check_own_account(ses->cfg, acct, &ce) == 0)
		return (acct);
	/* Same account and region: every sweep would ferry the backup copies again. */
	session_count_metric(ses, &ses->counts.failed, "CopiesFailed");
	result_fail(r, "Snapferry.Config", "%s", ce.msg);
	return (NULL);
}

/* cached_account(ses): ses->account from the process's earlier answer for these
 * credentials; 0, or -1 when there is none (or no memory for it). */
static int
cached_account(struct session *ses)
{
	const char *a = assume_cache_account(ses->role_cache, ses->creds.access_key_id);

	if (a == NULL || (ses->account = strdup(a)) == NULL)
		return (-1);
	return (0);
}

const char *
session_own_account(struct session *ses, struct result *r)
{
	struct aws_error e;

	if (ses->cfg->account_id != NULL)
		return (checked_account(ses, ses->cfg->account_id, r));
	if (ses->account != NULL || cached_account(ses) == 0)
		return (checked_account(ses, ses->account, r));
	/* Outside Lambda (no function ARN) the account is not configured: ask STS once
	 * per process (the keeper, a local run). */
	memset(&e, 0, sizeof(e));
	if (sts_caller_identity(&ses->sts, &ses->account, NULL, &e) == 0 &&
	    ses->account != NULL) {
		assume_cache_set_account(ses->role_cache, ses->creds.access_key_id, ses->account);
		return (checked_account(ses, ses->account, r));
	}
	if (is_transport(&e)) {
		session_fail_aws(ses, r, &e, "sts:GetCallerIdentity", "the own account", "");
		return (NULL);
	}
	/* Fail closed: without it, a foreign snapshot could not be told from our own. */
	session_count_metric(ses, &ses->counts.failed, "CopiesFailed");
	result_fail(r, "Snapferry.Credentials", "cannot determine own account: "
	    "sts:GetCallerIdentity failed (%s: %s); snapferry acts only on snapshots of its "
	    "own account", e.code ? e.code : "no account in the answer",
	    e.message ? e.message : "");
	aws_error_clear(&e);
	return (NULL);
}

const char *
session_known_account(struct session *ses)
{
	struct aws_error e;

	if (ses->cfg->account_id != NULL)
		return (ses->cfg->account_id);
	if (ses->account != NULL || cached_account(ses) == 0)
		return (ses->account);
	memset(&e, 0, sizeof(e));
	if (sts_caller_identity(&ses->sts, &ses->account, NULL, &e) != 0) {
		free(ses->account);
		ses->account = NULL;
	}
	aws_error_clear(&e);
	assume_cache_set_account(ses->role_cache, ses->creds.access_key_id, ses->account);
	return (ses->account);
}

int
session_foreign_account(struct session *ses, const char *account, struct result *r)
{
	const char *acct;

	if (account == NULL)
		return (0);
	if ((acct = session_own_account(ses, r)) == NULL)
		return (-1);
	if (strcmp(account, acct) == 0)
		return (0);
	result_warn(r, "account %s is not this function's (%s): not acting on it", account,
	    acct);
	result_finish(r, RESULT_IGNORED, "event or snapshot of another account");
	return (1);
}


void
session_emit_counts(const struct session_counts *c)
{
	log_metric("CopiesStarted", c->started, "Count", NULL, NULL);
	log_metric("TransitCopiesStarted", c->transit_started, "Count", NULL, NULL);
	log_metric("CopiesCompleted", c->completed, "Count", NULL, NULL);
	log_metric("CopiesPending", c->pending, "Count", NULL, NULL);
	log_metric("CopiesFailed", c->failed, "Count", NULL, NULL);
	log_metric("QuotaExceeded", c->quota, "Count", NULL, NULL);
}

/*
 * assume: credentials of another role (sts:AssumeRole), cached until shortly before they
 * expire, and the source a client renews them from.
 */
#ifndef SNAPFERRY_ASSUME_H
#define SNAPFERRY_ASSUME_H

#include "credentials.h"

struct aws_client;
struct aws_error;

struct assume_cache;
/** assume_cache_new(): an empty cache of assumed-role credentials. */
struct assume_cache *assume_cache_new(void);
/** assume_cache_free(cc): wipe everything; NULL is fine. */
void	assume_cache_free(struct assume_cache *cc);
/** assume_cache_account(cc, key_id): the account sts:GetCallerIdentity answered earlier in
 *  this process for the credentials of access key ${key_id}, or NULL.  An access key belongs
 *  to one account for its whole life, so the answer never goes stale. */
const char *assume_cache_account(const struct assume_cache *cc, const char *key_id);
/** assume_cache_set_account(cc, key_id, account): remember it (one entry: a process runs with
 *  one set of its own credentials).  Out of memory only forgets. */
void	assume_cache_set_account(struct assume_cache *cc, const char *key_id,
	    const char *account);
/**
 * assume_role(cc, sts, role_arn, session, external_id, duration_s, out, err):
 * credentials for ${role_arn} from the cache, or from sts:AssumeRole through
 * ${sts} when absent or within a few minutes of expiry.  ${out} is a copy
 * the caller frees with creds_clean.  0, or -1 with ${err}.
 */
int	assume_role(struct assume_cache *cc, struct aws_client *sts,
	    const char *role_arn, const char *session, const char *external_id,
	    int duration_s, struct aws_creds *out, struct aws_error *err);

/*
 * Where a client's assumed-role credentials come from, so that it can fetch fresh
 * ones itself before a call that would outlive them.  Every pointer is borrowed.
 */
struct assume_source {
	struct assume_cache	*cache;
	struct aws_client	*sts;
	const char		*role_arn;
	const char		*session;
	const char		*external_id;	/* NULL when none */
	int			 duration_s;	/* 0: STS's default */
};
/** assume_source_fetch(src, out, err): assume_role for the assume_source ${src}; the shape
 *  of aws_client's refresh hook.  0, or -1 with ${err}. */
int	assume_source_fetch(void *src, struct aws_creds *out, struct aws_error *err);

#endif

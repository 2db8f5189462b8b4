/*
 * credentials: AWS credentials from the environment (read afresh for each
 * invocation) and assumed-role credentials cached until shortly before
 * they expire.  Secrets are wiped when freed and never logged.
 */
#ifndef SNAPFERRY_CREDENTIALS_H
#define SNAPFERRY_CREDENTIALS_H

#include <time.h>

struct aws_client;
struct aws_error;

struct aws_creds {
	char	*access_key_id;
	char	*secret_access_key;
	char	*session_token;		/* NULL for long-term keys */
	time_t	 expiration;		/* 0 = does not expire */
};

/** creds_from_env(c): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; -1 if missing. */
int	creds_from_env(struct aws_creds *c);
/** creds_copy(dst, src): deep copy; -1 on ENOMEM. */
int	creds_copy(struct aws_creds *dst, const struct aws_creds *src);
/** creds_free(c): wipe and free the fields; safe on a zeroed struct. */
void	creds_free(struct aws_creds *c);

/** creds_expiring(c, now): 1 when ${c} expire within the refresh margin (a few minutes)
 *  of ${now}, so that a call started now could outlive them; 0 for credentials without
 *  an expiry (environment keys). */
int	creds_expiring(const struct aws_creds *c, time_t now);

struct creds_cache;
/** creds_cache_new(): an empty cache of assumed-role credentials. */
struct creds_cache *creds_cache_new(void);
/** creds_cache_free(cc): wipe everything; NULL is fine. */
void	creds_cache_free(struct creds_cache *cc);
/**
 * creds_assume(cc, sts, role_arn, session, external_id, duration_s, out, err):
 * credentials for ${role_arn} from the cache, or from sts:AssumeRole through
 * ${sts} when absent or within a few minutes of expiry.  ${out} is a copy
 * the caller frees with creds_free.  0, or -1 with ${err}.
 */
int	creds_assume(struct creds_cache *cc, struct aws_client *sts,
	    const char *role_arn, const char *session, const char *external_id,
	    int duration_s, struct aws_creds *out, struct aws_error *err);

/*
 * Where a client's assumed-role credentials come from, so that it can fetch fresh
 * ones itself before a call that would outlive them.  Every pointer is borrowed.
 */
struct creds_source {
	struct creds_cache	*cache;
	struct aws_client	*sts;
	const char		*role_arn;
	const char		*session;
	const char		*external_id;	/* NULL when none */
	int			 duration_s;	/* 0: STS's default */
};
/** creds_source_fetch(src, out, err): creds_assume for the creds_source ${src}; the shape
 *  of aws_client's refresh hook.  0, or -1 with ${err}. */
int	creds_source_fetch(void *src, struct aws_creds *out, struct aws_error *err);

#endif

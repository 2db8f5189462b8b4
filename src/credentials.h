/*
 * credentials: AWS credentials from the environment (read afresh for each
 * invocation), copied and wiped.  Secrets are wiped when freed and never logged.
 * Assumed-role credentials are assume.h's.
 */
#ifndef SNAPFERRY_CREDENTIALS_H
#define SNAPFERRY_CREDENTIALS_H

#include <time.h>

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
/** creds_clean(c): wipe and free the fields; safe on a zeroed struct. */
void	creds_clean(struct aws_creds *c);

/** creds_expiring(c, now): 1 when ${c} expire within the refresh margin (a few minutes)
 *  of ${now}, so that a call started now could outlive them; 0 for credentials without
 *  an expiry (environment keys). */
int	creds_expiring(const struct aws_creds *c, time_t now);

#endif

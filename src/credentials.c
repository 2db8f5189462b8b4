/*
 * credentials: environment credentials, read afresh on each call, copied and wiped.
 * Secrets are wiped on free.  (Assumed-role credentials and their cache: assume.c.)
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "credentials.h"

/* Refresh assumed-role credentials this long before Expiration. */
#define CREDS_REFRESH_S	300

int
creds_from_env(struct aws_creds *c)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tk = getenv("AWS_SESSION_TOKEN");

	memset(c, 0, sizeof(*c));
	if (ak == NULL || *ak == '\0' || sk == NULL || *sk == '\0')
		return (-1);
	if ((c->access_key_id = xstrdup(ak)) == NULL ||
	    (c->secret_access_key = xstrdup(sk)) == NULL ||
	    (tk != NULL && *tk != '\0' && (c->session_token = xstrdup(tk)) == NULL)) {
		creds_clean(c);
		return (-1);
	}
	return (0);
}

int
creds_copy(struct aws_creds *dst, const struct aws_creds *src)
{
	memset(dst, 0, sizeof(*dst));
	if ((src->access_key_id != NULL &&
	    (dst->access_key_id = xstrdup(src->access_key_id)) == NULL) ||
	    (src->secret_access_key != NULL &&
	    (dst->secret_access_key = xstrdup(src->secret_access_key)) == NULL) ||
	    (src->session_token != NULL &&
	    (dst->session_token = xstrdup(src->session_token)) == NULL)) {
		creds_clean(dst);
		return (-1);
	}
	dst->expiration = src->expiration;
	return (0);
}

void
creds_clean(struct aws_creds *c)
{
	if (c == NULL)
		return;
	free_secret(c->access_key_id);
	free_secret(c->secret_access_key);
	free_secret(c->session_token);
	memset(c, 0, sizeof(*c));
}

int
creds_expiring(const struct aws_creds *c, time_t now)
{
	return (c->expiration != 0 && now >= c->expiration - CREDS_REFRESH_S);
}

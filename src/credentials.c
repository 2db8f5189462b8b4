/*
 * credentials: environment credentials, read afresh on each call, and a
 * cache of sts:AssumeRole credentials keyed by role ARN and external id,
 * refreshed a few minutes before they expire.  Secrets are wiped on free.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "buf.h"
#include "credentials.h"
#include "sts.h"

/* Refresh assumed-role credentials this long before Expiration. */
#define CREDS_REFRESH_S	300

struct creds_entry {
	char			*role_arn;
	char			*external_id;	/* NULL when none */
	struct aws_creds	 creds;
	struct creds_entry	*next;
};

struct creds_cache {
	struct creds_entry	*head;
};

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
		creds_free(c);
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
		creds_free(dst);
		return (-1);
	}
	dst->expiration = src->expiration;
	return (0);
}

void
creds_free(struct aws_creds *c)
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

struct creds_cache *
creds_cache_new(void)
{
	return (calloc(1, sizeof(struct creds_cache)));
}

static void
entry_free(struct creds_entry *e)
{
	free(e->role_arn);
	free_secret(e->external_id);
	creds_free(&e->creds);
	free(e);
}

void
creds_cache_free(struct creds_cache *cc)
{
	struct creds_entry *e, *n;

	if (cc == NULL)
		return;
	for (e = cc->head; e != NULL; e = n) {
		n = e->next;
		entry_free(e);
	}
	free(cc);
}

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

int
creds_assume(struct creds_cache *cc, struct aws_client *sts,
    const char *role_arn, const char *session, const char *external_id,
    int duration_s, struct aws_creds *out, struct aws_error *err)
{
	struct creds_entry *e, **pp;
	struct aws_creds fresh;

	memset(out, 0, sizeof(*out));
	for (pp = &cc->head; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->role_arn, role_arn) == 0 && same(e->external_id, external_id))
			break;
	/* Every entry came from STS with an Expiration: none is "never". */
	if (e != NULL && !creds_expiring(&e->creds, time(NULL))) {
		if (creds_copy(out, &e->creds) != 0) {
			aws_error_set(err, "OutOfMemory", "could not copy cached credentials");
			return (-1);
		}
		return (0);
	}
	/* Absent or about to expire: drop the stale entry, ask STS. */
	if (e != NULL) {
		*pp = e->next;
		entry_free(e);
	}
	if (sts_assume_role(sts, role_arn, session, external_id, duration_s, &fresh, err) != 0)
		return (-1);
	if (fresh.expiration <= time(NULL)) {
		creds_free(&fresh);
		aws_error_set(err, "MalformedResponse", "AssumeRole answered credentials that "
		    "have expired already (check the clock)");
		return (-1);
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->role_arn = xstrdup(role_arn)) == NULL ||
	    (external_id != NULL && (e->external_id = xstrdup(external_id)) == NULL) ||
	    creds_copy(out, &fresh) != 0) {
		if (e != NULL)
			entry_free(e);
		creds_free(&fresh);
		creds_free(out);
		aws_error_set(err, "OutOfMemory", "could not cache assumed-role credentials");
		return (-1);
	}
	e->creds = fresh;	/* the entry owns ${fresh} now */
	e->next = cc->head;
	cc->head = e;
	return (0);
}

int
creds_source_fetch(void *src, struct aws_creds *out, struct aws_error *err)
{
	const struct creds_source *cs = src;

	return (creds_assume(cs->cache, cs->sts, cs->role_arn, cs->session, cs->external_id,
	    cs->duration_s, out, err));
}

/*
 * assume: sts:AssumeRole credentials, cached by role ARN and external id until a few
 * minutes before they expire, and the refresh hook of a client that holds them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assume.h"
#include "aws.h"
#include "buf.h"
#include "sts.h"

struct assume_entry {
	char			*role_arn;
	char			*external_id;	/* NULL when none */
	struct aws_creds	 creds;
	struct assume_entry	*next;
};

struct assume_cache {
	struct assume_entry	*head;
	char			*own_key_id;	/* the process's own access key id... */
	char			*own_account;	/* ...and its account (GetCallerIdentity) */
};

struct assume_cache *
assume_cache_new(void)
{
	return (calloc(1, sizeof(struct assume_cache)));
}

static void
entry_free(struct assume_entry *e)
{
	free(e->role_arn);
	free_secret(e->external_id);
	creds_clean(&e->creds);
	free(e);
}

void
assume_cache_free(struct assume_cache *cc)
{
	struct assume_entry *e, *n;

	if (cc == NULL)
		return;
	for (e = cc->head; e != NULL; e = n) {
		n = e->next;
		entry_free(e);
	}
	free(cc->own_key_id);
	free(cc->own_account);
	free(cc);
}

const char *
assume_cache_account(const struct assume_cache *cc, const char *key_id)
{
	if (cc == NULL || key_id == NULL || cc->own_key_id == NULL ||
	    strcmp(cc->own_key_id, key_id) != 0)
		return (NULL);
	return (cc->own_account);
}

void
assume_cache_set_account(struct assume_cache *cc, const char *key_id, const char *account)
{
	if (cc == NULL || key_id == NULL || account == NULL)
		return;
	free(cc->own_key_id);
	free(cc->own_account);
	cc->own_key_id = xstrdup(key_id);
	cc->own_account = xstrdup(account);
	if (cc->own_key_id == NULL || cc->own_account == NULL) {
		free(cc->own_key_id);
		free(cc->own_account);
		cc->own_key_id = cc->own_account = NULL;
	}
}

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

int
assume_role(struct assume_cache *cc, struct aws_client *sts,
    const char *role_arn, const char *session, const char *external_id,
    int duration_s, struct aws_creds *out, struct aws_error *err)
{
	struct assume_entry *e, **pp;
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
		creds_clean(&fresh);
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
		creds_clean(&fresh);
		creds_clean(out);
		aws_error_set(err, "OutOfMemory", "could not cache assumed-role credentials");
		return (-1);
	}
	e->creds = fresh;	/* the entry owns ${fresh} now */
	e->next = cc->head;
	cc->head = e;
	return (0);
}

int
assume_source_fetch(void *src, struct aws_creds *out, struct aws_error *err)
{
	const struct assume_source *cs = src;

	return (assume_role(cs->cache, cs->sts, cs->role_arn, cs->session, cs->external_id,
	    cs->duration_s, out, err));
}

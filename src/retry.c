/*
 * retry: ids of the further attempts at a backup copy (see retry.h).  The suffix is
 * added to the final B id, whatever rules made it, so every attempt of one source
 * shares its prefix and the keeper can tell them apart only by their immutable
 * attributes and lineage, never by parsing the name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "names.h"
#include "result.h"
#include "retry.h"
#include "session.h"

char *
retry_id(const char *backup_id, enum rds_kind kind, int attempt)
{
	size_t max = kind == RDS_CLUSTER ? NAMES_MAX_CLUSTER_SNAPSHOT :
	    NAMES_MAX_INSTANCE_SNAPSHOT, n;
	char suffix[16], *out;
	int sl;

	if (backup_id == NULL || *backup_id == '\0' || attempt < 1 || attempt > 99)
		return (NULL);
	if (attempt == 1)
		return (strdup(backup_id));
	sl = snprintf(suffix, sizeof(suffix), "-r%d", attempt);
	if (sl < 0 || (size_t)sl >= sizeof(suffix))
		return (NULL);
	n = strlen(backup_id);
	if (n + (size_t)sl > max)
		n = max - (size_t)sl;
	/* RDS ids never end with a hyphen nor hold two in a row. */
	while (n > 0 && backup_id[n - 1] == '-')
		n--;
	if (n == 0 || (out = malloc(n + (size_t)sl + 1)) == NULL)
		return (NULL);
	memcpy(out, backup_id, n);
	memcpy(out + n, suffix, (size_t)sl + 1);
	return (out);
}

int
retry_next(struct session *ses, struct result *r, enum rds_kind kind, char **first_id,
    char **backup_id, int *attempt, const char *status, const char *s_arn)
{
	int at = *attempt > 1 ? *attempt : 1;
	char *next;

	session_count_metric(ses, &ses->counts.failed, "CopiesFailed");
	if (at >= RETRY_ATTEMPTS) {
		result_fail(r, "Snapferry.CopyFailed", "backup copy %s ended in state %s, "
		    "attempt %d of %d: AWS could not copy %s into the backup account; look at "
		    "the backup account's RDS events for %s", *backup_id, status, at,
		    RETRY_ATTEMPTS, s_arn, *backup_id);
		return (-1);
	}
	/* Retry ids derive from the first attempt's id, never from another retry id. */
	if ((*first_id == NULL && (*first_id = strdup(*backup_id)) == NULL) ||
	    (next = retry_id(*first_id, kind, at + 1)) == NULL) {
		result_fail(r, "Snapferry.Internal", "out of memory");
		return (-1);
	}
	result_warn(r, "backup copy %s ended in state %s; AWS deletes only available "
	    "snapshots and the ferry deletes none: copying again as %s (attempt %d of %d)",
	    *backup_id, status, next, at + 1, RETRY_ATTEMPTS);
	free(*backup_id);
	*backup_id = next;
	*attempt = at + 1;
	xstrdup_replace(&r->backup, next);
	return (0);
}

const char *
retry_note(int attempt)
{
	return (attempt > 1 ? " (a retry: an earlier copy ended failed; the keeper reports "
	    "it)" : "");
}

/*
 * retry: ids of the further attempts at a backup copy (see retry.h).  The suffix is
 * added to the final B id, whatever rules made it, so every attempt of one source
 * shares its prefix and the keeper can tell them apart only by their immutable
 * attributes and lineage, never by parsing the name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "retry.h"

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

/*
 * retry: the deterministic ids of the further attempts at a backup copy.  AWS deletes
 * only available snapshots ("The DB snapshot must be in the available state to be
 * deleted"), so a copy that ended failed keeps its id; and the ferry may not delete
 * copies anyway (the backup account is add-only for it).  Attempt n > 1 goes to
 * "<B id>-r<n>", within RDS's id limits.
 */
#ifndef SNAPFERRY_RETRY_H
#define SNAPFERRY_RETRY_H

#include "rds.h"

struct result;
struct session;

/* Attempts at a backup copy in all: the first under its own id, then -r2, -r3. */
#define RETRY_ATTEMPTS	3

/** retry_id(backup_id, kind, attempt): the id of attempt ${attempt} (1 = ${backup_id}
 *  itself) at backup copy ${backup_id}: "<backup_id>-r<attempt>", ${backup_id} cut
 *  (and any trailing '-' dropped) so that the whole fits RDS's limit for ${kind}.
 *  malloc'd; NULL on ENOMEM or a bad argument. */
char	*retry_id(const char *backup_id, enum rds_kind kind, int attempt);

/**
 * retry_next(ses, r, kind, first_id, backup_id, attempt, status, s_arn): backup copy
 * *${backup_id} (attempt *${attempt}, 0 counting as 1) of source ${s_arn} ended in
 * ${status}: count it in CopiesFailed; while attempts are left, warn in ${r}, remember
 * the first id in *${first_id}, and move *${backup_id} (and ${r}'s backup) to the next
 * retry id: 0.  After RETRY_ATTEMPTS, or on ENOMEM, ${r} fails: -1.
 */
int	retry_next(struct session *ses, struct result *r, enum rds_kind kind, char **first_id,
	    char **backup_id, int *attempt, const char *status, const char *s_arn);
/** retry_note(attempt): what a pending answer adds while B is a retry ("" at attempt 1). */
const char *retry_note(int attempt);

#endif

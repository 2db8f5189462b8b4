/*
 * keeper_chain: the keeper of Region r pulls the backup copies made in the other Regions
 * of BACKUP_REGIONS into r (issue 10, "chain"): a same-account cross-Region copy B_q -> B_r
 * inside the backup account, needing nothing from production.
 */
#ifndef SNAPFERRY_KEEPER_CHAIN_H
#define SNAPFERRY_KEEPER_CHAIN_H

#include <time.h>

struct session;
struct result;

/* AWS: "up to 20 copy requests in progress to a single destination Region per account"
 * (USER_CopySnapshot): the chain starts no copy beyond that many in flight here. */
#define KEEPER_CHAIN_MAX_INFLIGHT	20

/** keeper_chain(f, now, alone, r): for each other Region q of BACKUP_REGIONS, copy into
 *  this Region every available backup copy made in q of a source of Region q (a chained
 *  copy is never chained again) that has no copy here yet and is within the retention
 *  window: same id, same lineage tags plus KEEPER_TAG_CHAINED_FROM, BACKUP_KMS_KEY_ID.
 *  Listings are paged; a quota or the in-flight limit leaves the rest pending.  ${alone}:
 *  the invocation's own outcome (the chain action), else only a failure or pending
 *  changes ${r}'s (the sweep's).  Adds "chain" to ${r}'s extra members. */
void	keeper_chain(struct session *f, time_t now, int alone, struct result *r);

#endif

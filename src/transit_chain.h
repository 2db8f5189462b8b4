/*
 * transit_chain: the transit copies T of each source DB kept as a chain, so that the next
 * T (and the backup copy B made from it) can be incremental: AWS copies incrementally only
 * while an earlier copy of the same DB, under the same key, is still in the destination.
 * With TRANSIT_CLEANUP=true (the default) the newest T of each DB stays (un-shared once
 * its B is available, tagged TRANSIT_CHAIN_TAG_KEPT); an older T of that DB is deleted
 * once a newer one's B is available.  TRANSIT_CLEANUP=false keeps every T, as before.
 * A DB is the kind (instance / cluster) and the snapferry:source-db lineage tag of T.
 */
#ifndef SNAPFERRY_TRANSIT_CHAIN_H
#define SNAPFERRY_TRANSIT_CHAIN_H

#include <stddef.h>

#include "rds.h"
#include "result.h"
#include "session.h"

struct flow;

/* On T once its B was available and T was un-shared: T is done, kept only as the base of
 * the next incremental copy.  The listings carry tags, so the in-flight check and the
 * sweep tell a kept T from one in flight without a call. */
#define TRANSIT_CHAIN_TAG_KEPT		"snapferry:transit-kept"
/* Superseded transit copies deleted per invocation at most (the rest: the next one). */
#define TRANSIT_CHAIN_MAX_DELETES	20

/** transit_chain_is_kept(t): 1 when ${t} carries TRANSIT_CHAIN_TAG_KEPT. */
int	transit_chain_is_kept(const struct rds_snapshot *t);

/** transit_chain_newer(a, b): 1 when transit copy ${a} holds newer data than ${b} (the
 *  source's time from the lineage, else the copy's own; then the id), else 0. */
int	transit_chain_newer(const struct rds_snapshot *a, const struct rds_snapshot *b);

/**
 * transit_chain_finish(f, fl, r): B of ${fl} is available.  With TRANSIT_CLEANUP, T (when
 * it carries snapferry's lineage for S) is un-shared, tagged kept, and the older kept
 * transit copies of its DB are deleted.  1 when T was un-shared now, 0 nothing to do (no
 * T, TRANSIT_CLEANUP=false, already kept, not ours), -1 ${r} holds the outcome.
 */
int	transit_chain_finish(struct session *f, struct flow *fl, struct result *r);

/* The sweep's view of the transit copies, listing page by page: per DB the newest done T
 * (its B available), and up to TRANSIT_CHAIN_MAX_DELETES older done ones. */
struct transit_chain_set;

/** transit_chain_set_new(): an empty set, NULL on ENOMEM. */
struct transit_chain_set *transit_chain_set_new(void);
/** transit_chain_note(cs, t, done): one of snapferry's transit copies of this account and
 *  region from a listing; ${done}: its B is available.  0, -1 on ENOMEM. */
int	transit_chain_note(struct transit_chain_set *cs, const struct rds_snapshot *t, int done);
/** transit_chain_superseded(cs, i): the id of the ${i}-th superseded transit copy ${cs}
 *  holds, NULL past the end. */
const char *transit_chain_superseded(const struct transit_chain_set *cs, size_t i);
/** transit_chain_prune(f, cs, r): delete the superseded transit copies ${cs} noted (each
 *  read again first); how many were deleted, -1 when ${r} holds a failure. */
int	transit_chain_prune(struct session *f, struct transit_chain_set *cs, struct result *r);
/** transit_chain_set_free(cs): free ${cs}; NULL does nothing. */
void	transit_chain_set_free(struct transit_chain_set *cs);

#endif

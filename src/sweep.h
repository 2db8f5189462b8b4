/*
 * sweep: the ferry's scheduled catch-up.  Advances every recent source snapshot
 * and every transit copy still around, and reports how old the newest backup
 * of each DB is; it deletes no backup copy (retention is the keeper's).
 */
#ifndef SNAPFERRY_SWEEP_H
#define SNAPFERRY_SWEEP_H

#include <time.h>

struct session;
struct result;

/* Source snapshots created within this many days are advanced by a sweep. */
#define SWEEP_LOOKBACK_DAYS	7
/* A sweep stops starting new work when less than this is left before the deadline
 * (on top of SESSION_MARGIN_MS). */
#define SWEEP_ITEM_MS		3000
/* At most this many per-snapshot entries are listed in the result. */
#define SWEEP_MAX_ITEMS		50

/** sweep_run(f, now, r): one sweep at time ${now}; outcome "done", "pending" (work
 *  under way or cut short by the deadline) or "failed" (some snapshot needs a human). */
void	sweep_run(struct session *f, time_t now, struct result *r);

#endif

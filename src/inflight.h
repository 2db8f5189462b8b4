/*
 * inflight: the ferry's next step within minutes.  Two triggers that look only at
 * snapferry's own copies still under way, never at the 7-day source listing:
 *   - inflight_run: a short schedule ({"action":"inflight"}), listing this account's
 *     manual snapshots (one page each for instances and clusters when idle) and
 *     advancing each transit copy of this account and region still in flight;
 *   - inflight_forwarded: a copy-finished event of a backup copy, forwarded by the
 *     backup account's event bus, which advances the source its lineage names.
 * The hourly sweep (sweep.h) stays the safety net.
 */
#ifndef SNAPFERRY_INFLIGHT_H
#define SNAPFERRY_INFLIGHT_H

#include <time.h>

struct config;
struct event;
struct result;
struct session;

/* With TRANSIT_CLEANUP=false transit copies stay: only those younger than this, still
 * shared with the backup account, are in flight (one attribute call each). */
#define INFLIGHT_KEPT_HOURS	24

/** inflight_run(f, now, r): one in-flight check at ${now}; outcome "done" (nothing in
 *  flight, or every step taken), "pending" (copies still under way) or "failed". */
void	inflight_run(struct session *f, time_t now, struct result *r);

/** inflight_is_forwarded(ev, cfg): 1 when ${ev} is a copy-finished event that the backup
 *  account forwarded: its account and snapshot ARN are BACKUP_ACCOUNT_ID's, in
 *  BACKUP_REGION, and the snapshot id has snapferry's prefix.  Only such an event of
 *  another account is accepted by the ferry (the copy itself is checked by
 *  inflight_forwarded). */
int	inflight_is_forwarded(const struct event *ev, const struct config *cfg);

/** inflight_forwarded(f, ev, r): read the backup copy ${ev} names through the backup role
 *  and, when it is snapferry's backup copy of a source of this account and region,
 *  advance that source; otherwise "ignored" with the reason. */
void	inflight_forwarded(struct session *f, const struct event *ev, struct result *r);

#endif

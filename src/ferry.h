/*
 * ferry: advance(S) — move one source snapshot S one or more steps along
 * transit copy -> share -> backup copy -> clean-up -> restore (restore.h), deciding
 * each step from what AWS reports now (no local state), and the eligibility policy
 * (ferry_decide).  The clients and the error classification are session.h's.
 */
#ifndef SNAPFERRY_FERRY_H
#define SNAPFERRY_FERRY_H

#include <stdint.h>
#include <time.h>

#include "aws.h"
#include "names.h"
#include "rds.h"
#include "result.h"
#include "session.h"

struct config;
struct rds_tag;

/* Destinations of one source, at most (config_regions.c's REGIONS_MAX). */
#define FERRY_DEST_MAX	16

/* Kind hint for a reference that is a plain id: try instance, then cluster. */
#define FERRY_KIND_ANY	(-1)

/*
 * On B, when S itself was shared (no transit copy) and S already listed the backup
 * account before snapferry came: the share is the user's, and finish() leaves it.
 * Recorded on B, not on S, so that S is never modified; B is created with it atomically.
 * (Were an invocation to stop between adding the share and copying, the next one would
 * take snapferry's share for the user's and leave it: a share kept, never one revoked.)
 * The sweep reads it from the backup listing: such an S needs no share check.
 */
#define FERRY_TAG_SHARED_BEFORE	"snapferry:shared-before"

/*
 * How long AWS may refuse to share or copy an available snapshot as "not in a valid
 * state" (InvalidDBSnapshotState, InvalidDBClusterSnapshotStateFault) before the refusal
 * counts as permanent: measured from the refused snapshot's SnapshotCreateTime (S, or the
 * transit copy, made at the first attempt), so no state of snapferry's is needed.  AWS
 * does not document which codes mean "this snapshot can't be shared"; a busy snapshot is
 * busy for minutes, not a day.
 */
#define FERRY_REFUSAL_HOURS	24

/* Why a single-step cross-account cross-Region copy ended failed: AWS refused it the old
 * way (an encrypted snapshot shared by another account copied only within its Region). */
#define FERRY_SINGLE_STEP_REASON "AWS refused the single-step copy of the encrypted %s %s " \
	"from AWS_REGION %s into the backup account in %s (%s: %s). To fix: add %s to " \
	"BACKUP_REGIONS (deploy the backup stack and a keeper there), so that the copy is " \
	"made in %s and the keeper of %s pulls it from there"

/* Why S is skipped for its option group; the %s triple is " (", the blocking options, ")"
 * once DescribeOptionGroups has named them. */
#define FERRY_OPTION_GROUP_REASON "option group %.64s has persistent or permanent options%s%.80s%s: " \
	"AWS does not allow sharing the snapshot"

/**
 * ferry_advance(f, kind, ref, r): advance source snapshot ${ref} (ARN or id;
 * ${kind} RDS_INSTANCE, RDS_CLUSTER or FERRY_KIND_ANY) as far as AWS's state
 * allows now, recording steps and the outcome in ${r}.  A transit copy given
 * as ${ref} advances its source instead.
 */
void	ferry_advance(struct session *f, int kind, const char *ref, struct result *r);
/**
 * ferry_advance_copied(f, kind, ref, r): a copy-finished event for ${ref}:
 * when it is a snapferry transit copy, advance the source named by its
 * lineage tag; otherwise the result is "ignored".
 */
void	ferry_advance_copied(struct session *f, int kind, const char *ref, struct result *r);
enum ferry_plan {
	FERRY_PLAN_SHARE_SOURCE = 0,	/* share S itself */
	FERRY_PLAN_TRANSIT,		/* copy S to a transit copy T, share T */
	FERRY_PLAN_SKIP,		/* not shareable or filtered out */
	FERRY_PLAN_IGNORE		/* not this account's snapshot */
};

struct ferry_decision {
	enum ferry_plan	 plan;
	const char	*transit_key;	/* KmsKeyId for T; NULL = keep S's key */
	int		 encrypted;
	int		 need_option_check;	/* call again with og_blocks from AWS */
	int		 need_key_check;	/* call again with the key's KeyManager (S is
					   encrypted with a key other than the share key) */
	char		 reason[256];
};

/**
 * ferry_decide(cfg, s, key_manager, og_blocks, d): the eligibility rules, with
 * no I/O: ${key_manager} is KMS's KeyManager for S's key (NULL = not looked
 * up yet), ${og_blocks} 1/0 whether S's option group has persistent or
 * permanent options (-1 = not looked up).  ${d} says what still has to be
 * looked up, or the plan and why.
 */
void	ferry_decide(const struct config *cfg, const struct rds_snapshot *s,
	    const char *key_manager, int og_blocks, struct ferry_decision *d);
/** ferry_is_share_key(cfg, key): 1 when KMS key ARN ${key} (as RDS reports it) is
 *  SHARE_KMS_KEY_ID, given as that ARN or as the bare key id; 0 otherwise (an alias is
 *  not resolved: such a snapshot gets a transit copy, which is safe). */
int	ferry_is_share_key(const struct config *cfg, const char *key);
/** ferry_destinations(cfg, idx, max, chained): the Regions the ferry itself copies S into,
 *  as indexes into cfg->backup_regions written to ${idx} (at most ${max}); their number.
 *  AWS_REGION in BACKUP_REGIONS: only AWS_REGION, and *${chained} = 1 when there are others
 *  (the keepers there chain their copies from it).  Otherwise every Region of
 *  BACKUP_REGIONS, each a single-step cross-Region copy, and *${chained} = 0.  No I/O. */
size_t	ferry_destinations(const struct config *cfg, size_t *idx, size_t max, int *chained);
/** ferry_refusal_is_final(e, created, now): 1 when ${e} is AWS's "snapshot not in a valid
 *  state" refusal and the snapshot it names, taken at ${created} (0 = unknown), is more than
 *  FERRY_REFUSAL_HOURS older than ${now}: a permanent refusal, no longer "pending". */
int	ferry_refusal_is_final(const struct aws_error *e, time_t created, time_t now);
/* ---- the share and delete steps of the flow (ferry_share.c) ---------------------- */

/** ferry_fail_refused(f, r, e, op, what, fix, snap): session_fail_aws (clearing ${e}), but a
 *  refusal of ${op} on available snapshot ${snap} that has lasted past FERRY_REFUSAL_HOURS
 *  ends "failed" with AWS's message instead of "pending" for ever. */
void	ferry_fail_refused(struct session *f, struct result *r, struct aws_error *e,
	    const char *op, const char *what, const char *fix, const struct rds_snapshot *snap);
/** ferry_no_arn(f, kind, id, r): ${r} fails: a Describe answer for ${id} carried no ARN, so
 *  its lineage and ownership can't be checked, and snapferry does not act on it. */
void	ferry_no_arn(struct session *f, enum rds_kind kind, const char *id, struct result *r);
/** ferry_delete_ours(f, c, kind, snap, s_arn, r, what): delete ${snap} when it carries
 *  snapferry's lineage for ${s_arn}; never the source.  0 done or nothing to do, -1 with
 *  ${r} set. */
int	ferry_delete_ours(struct session *f, struct aws_client *c, enum rds_kind kind,
	    const struct rds_snapshot *snap, const char *s_arn, struct result *r,
	    const char *what);
/** ferry_shared_with_backup(f, kind, id, r): 1 when ${id}'s "restore" attribute lists the
 *  backup account, 0 when not (or ${id} is gone), -1 with ${r} set. */
int	ferry_shared_with_backup(struct session *f, enum rds_kind kind, const char *id,
	    struct result *r);
/** ferry_note_shared(f, kind, id): this invocation shared ${id} with the backup account
 *  (so ferry_unshare knows it is shared without reading its attribute). */
void	ferry_note_shared(struct session *f, enum rds_kind kind, const char *id);
/** ferry_unshare(f, kind, id, r): remove the backup account from ${id}'s "restore"
 *  attribute.  0, or -1 with ${r} set. */
int	ferry_unshare(struct session *f, enum rds_kind kind, const char *id, struct result *r);

#endif

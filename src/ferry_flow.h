/*
 * ferry_flow: what one call of ferry's advance(S) learns about S and its copies (struct
 * flow), shared by the files that take the steps: ferry.c (S, eligibility),
 * ferry_transit.c (T), ferry_backup.c (B, the share, the clean-up).  Internal to ferry.
 */
#ifndef SNAPFERRY_FERRY_FLOW_H
#define SNAPFERRY_FERRY_FLOW_H

#include <stdint.h>

#include "rds.h"
#include "result.h"
#include "session.h"

/* What one call of advance learns about S and its copies. */
struct flow {
	enum rds_kind		 kind;
	struct rds_snapshot	 s, t, b;
	int			 have_s, have_t, have_b;
	char			*s_id;		/* id of S (from S, the reference or T's tags) */
	char			*s_arn;
	char			*db_id;
	int			 need_transit;
	const char		*transit_key;	/* KmsKeyId of T; NULL = S's own key */
	char			*copy_id;	/* name of T (and of B before issue 12) */
	char			*backup_id;	/* name of B: names_backup_id, or an old one */
	int			 attempt;	/* of B: 1, or the retry id's (retry.h) */
	char			*first_id;	/* B's id at attempt 1, once a retry is made */
	int			 encrypted;
};

#define PENDING(f, r, ...) do {						\
	session_count_metric((f), &(f)->counts.pending, "CopiesPending");		\
	result_finish((r), RESULT_PENDING, __VA_ARGS__);			\
} while (0)

/* ferry_wait_budget_ms(f): how long this invocation may poll a copy: WAIT_SECONDS, cut to
 * the time left; 0 in a dry run and in the sweep. */
int64_t	ferry_wait_budget_ms(const struct session *f);
/* ferry_flow_clean(fl): free what ${fl} holds and zero it. */
void	ferry_flow_clean(struct flow *fl);
/* ferry_source_from_tags(fl, t): a stand-in for S (fl->s_arn, fl->db_id) from T's
 * lineage when S itself is gone; 0, or -1 when T is not a copy of exactly S. */
int	ferry_source_from_tags(struct flow *fl, const struct rds_snapshot *t);
/* ferry_lineage_too_long(f, fl, r): ${r} fails: S's ARN can't be written as lineage tags. */
void	ferry_lineage_too_long(struct session *f, const struct flow *fl, struct result *r);
/* ferry_vet_copy(f, c, fl, snap, role, r): ${snap} is S's transit copy (${role}
 * "transit") or backup copy ("backup"): it must carry snapferry's lineage for S; one
 * that ended badly is deleted.  0 usable, -1 ${r} holds the outcome. */
int	ferry_vet_copy(struct session *f, struct aws_client *c, struct flow *fl,
	    const struct rds_snapshot *snap, const char *role, struct result *r);
/* ferry_make_t(f, fl, r): make sure the transit copy exists and is available:
 * 0 available (fl->t), -1 ${r} holds the outcome.  (ferry_transit.c) */
int	ferry_make_t(struct session *f, struct flow *fl, struct result *r);
/* ferry_observe_b(f, fl, bc, r): observe B; when available, finish (un-share, clean up).
 * 0 when the flow must go on to create B, -1 when ${r} holds the outcome. (ferry_backup.c) */
int	ferry_observe_b(struct session *f, struct flow *fl, struct aws_client *bc,
	    struct result *r);
/* ferry_share_and_copy(f, fl, bc, r): share S or T and copy it into the backup account. */
void	ferry_share_and_copy(struct session *f, struct flow *fl, struct aws_client *bc,
	    struct result *r);

#endif

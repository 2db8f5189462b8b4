/*
 * ferry_flow: what one call of ferry's advance(S) learns about S and its copies (struct
 * flow), shared by the files that take the steps: ferry.c (S, eligibility),
 * ferry_transit.c (T), ferry_backup.c (B, the share, the clean-up).  Internal to ferry.
 */
#ifndef SNAPFERRY_FERRY_FLOW_H
#define SNAPFERRY_FERRY_FLOW_H

#include <stdint.h>

#include "ferry.h"
#include "rds.h"
#include "result.h"
#include "session.h"

/* What the ferry knows of B in one destination Region (ferry_dest.c). */
enum ferry_copy_state {
	FERRY_COPY_ABSENT = 0,	/* not there (yet): to be copied */
	FERRY_COPY_PENDING,	/* creating (or just requested) */
	FERRY_COPY_AVAILABLE,
	FERRY_COPY_REFUSED,	/* AWS refused the single step the old way */
	FERRY_COPY_WOULD	/* dry run: would be copied */
};

struct ferry_dest {
	const char		*region;	/* cfg->backup_regions[i] (borrowed) */
	const char		*key;		/* cfg->backup_kms_keys[i] (borrowed) */
	struct aws_client	*bc;		/* session_backup_in(region) */
	char			*id;		/* B's id there: names_backup_id, a retry id or an
						   old name */
	char			*first_id;	/* B's id at attempt 1, once a retry is made */
	int			 attempt;
	enum ferry_copy_state	 state;
	char			*status;	/* AWS's status, or the refusal's code */
	char			*why;		/* the refusal's message */
	int			 percent;
	int			 shared_before;	/* B carries FERRY_TAG_SHARED_BEFORE */
};

/* What one call of advance learns about S and its copies.  The B fields (b, backup_id,
 * attempt, first_id, dest_*) are those of the destination being worked on; ferry_dest.c
 * moves them in and out of dests[]. */
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
	const char		*dest_region;	/* B's Region (borrowed from the config) */
	const char		*dest_key;	/* B's KmsKeyId there */
	struct ferry_dest	 dests[FERRY_DEST_MAX];
	size_t			 n_dests;
	int			 shared_before;	/* every B carries FERRY_TAG_SHARED_BEFORE */
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
/* ferry_observe_b(f, fl, bc, r): observe B in fl->dest_region (client ${bc}), and its retry
 * attempts.  FERRY_COPY_ABSENT when it must be created, FERRY_COPY_PENDING or
 * FERRY_COPY_AVAILABLE (fl->b), -1 when ${r} holds the outcome. (ferry_backup.c) */
int	ferry_observe_b(struct session *f, struct flow *fl, struct aws_client *bc,
	    struct result *r);
/* ferry_share(f, fl, ours, r): share S or T (fl->need_transit) with the backup account, once
 * for every destination.  1 when S was shared before snapferry (it stays shared), 0 shared by
 * snapferry (or would be, in a dry run), -1 ${r} holds the outcome.  ${ours} 1: a B of an
 * earlier invocation lacks FERRY_TAG_SHARED_BEFORE, so a share found on S is snapferry's own
 * (not checked, added again). (ferry_backup.c) */
int	ferry_share(struct session *f, struct flow *fl, int ours, struct result *r);
/* ferry_copy_b(f, fl, bc, before, r): copy the shared S or T into the backup account in
 * fl->dest_region with fl->dest_key (cross-Region in one step when that is not AWS_REGION),
 * with B's lineage tags.  0 requested or already there, 1 AWS refused the single step the
 * old way (code and message in *${code}, *${why}, malloc'd), -1 ${r} holds the outcome. */
int	ferry_copy_b(struct session *f, struct flow *fl, struct aws_client *bc, int before,
	    char **code, char **why, struct result *r);
/* ferry_finish(f, fl, r): every B is available: un-share, delete T, done. (ferry_backup.c) */
void	ferry_finish(struct session *f, struct flow *fl, struct result *r);
/* ferry_to_destinations(f, fl, r): observe B in every destination of the ferry, make T,
 * share and copy where B is missing, and clean up once every copy is available.
 * (ferry_dest.c) */
void	ferry_to_destinations(struct session *f, struct flow *fl, struct result *r);

#endif

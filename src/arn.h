/*
 * arn: Amazon Resource Names.  The one parser of "arn:partition:service:region:account:
 * type:id" (split on its first six colons: an automated snapshot id keeps its own), and the
 * RDS snapshot ARN every snapshot reference is checked against.
 */
#ifndef SNAPFERRY_ARN_H
#define SNAPFERRY_ARN_H

#include "rds.h"

struct arn {
	char	*partition, *service, *region, *account, *type, *id;
};

/** arn_is(s): 1 when ${s} has the form of an ARN ("arn:..."), 0 for a plain id or NULL. */
int	arn_is(const char *s);
/** arn_parse(s, out): split ARN ${s} into ${out} (arn_clean it); the partition, service,
 *  type and id are not empty.  0, or -1 with ${out} zeroed and errno EINVAL (not such an
 *  ARN) or ENOMEM. */
int	arn_parse(const char *s, struct arn *out);
/** arn_clean(a): free the fields of ${a} and zero it; a zeroed ${a} is fine. */
void	arn_clean(struct arn *a);
/** arn_resource(s): the resource id inside ARN ${s} (after the sixth colon), or NULL. */
const char *arn_resource(const char *s);

/* An RDS snapshot ARN: arn:<partition>:rds:<region>:<account>:snapshot|cluster-snapshot:<id>. */
struct arn_snapshot {
	char		*region;
	char		*account;
	char		*id;		/* the snapshot id, "rds:..." kept */
	enum rds_kind	 kind;
};

/** arn_rds_snapshot(s, out): ${s} as an RDS snapshot ARN with a region, an account and an
 *  id (arn_snapshot_clean ${out}).  0, or -1 with errno EINVAL (not one) or ENOMEM. */
int	arn_rds_snapshot(const char *s, struct arn_snapshot *out);
/** arn_snapshot_clean(a): free the fields of ${a} and zero it. */
void	arn_snapshot_clean(struct arn_snapshot *a);

#endif

/*
 * sts: AssumeRole and GetCallerIdentity.
 */
#ifndef SNAPFERRY_STS_H
#define SNAPFERRY_STS_H

#include <libxml/tree.h>

struct aws_client;
struct aws_error;
struct aws_creds;

/** sts_assume_role(c, role_arn, session, external_id, duration_s, out, err): ${external_id}
 *  may be NULL, ${duration_s} 0 = default. 0 with ${out} (creds_clean it) or -1. */
int	sts_assume_role(struct aws_client *c, const char *role_arn, const char *session,
	    const char *external_id, int duration_s, struct aws_creds *out,
	    struct aws_error *err);
/** sts_caller_identity(c, account, arn, err): malloc'd account id and ARN (either may be NULL). */
int	sts_caller_identity(struct aws_client *c, char **account, char **arn,
	    struct aws_error *err);

/** sts_parse_credentials(result, out): the Credentials of an AssumeRoleResult (or an ancestor)
 *  into ${out}; the secret key and session token are then wiped in the document.
 *  0, or -1 when a member is missing or the expiration is unreadable. */
int	sts_parse_credentials(xmlNodePtr result, struct aws_creds *out);

#endif

/*
 * kms: DescribeKey, to tell AWS-managed keys (aws/rds) from customer keys.
 */
#ifndef SNAPFERRY_KMS_H
#define SNAPFERRY_KMS_H

#include <cjson/cJSON.h>

struct aws_client;
struct aws_error;

struct kms_key {
	char	*key_id;
	char	*arn;
	char	*account;
	char	*key_manager;	/* "AWS" or "CUSTOMER" */
	char	*key_state;	/* "Enabled", ... */
	int	 enabled;
};

/** kms_describe_key(c, key_id, out, err): 0 with ${out} or -1. */
int	kms_describe_key(struct aws_client *c, const char *key_id, struct kms_key *out,
	    struct aws_error *err);
/** kms_key_clean(k): free the fields. */
void	kms_key_clean(struct kms_key *k);

/** kms_parse_key(resp, out): the KeyMetadata of a DescribeKey response into ${out}.
 *  0, or -1 when KeyMetadata or its KeyId is missing (or ENOMEM). */
int	kms_parse_key(const cJSON *resp, struct kms_key *out);

#endif

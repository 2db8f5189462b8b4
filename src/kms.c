/*
 * kms: DescribeKey over the KMS JSON 1.1 protocol, to tell AWS-managed keys
 * (aws/rds, which can't be shared) from customer-managed ones.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "kms.h"

static int
dup_member(const cJSON *o, const char *name, char **out)
{
	const cJSON *v;

	*out = NULL;
	v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return (0);
	if ((*out = strdup(v->valuestring)) == NULL)
		return (-1);
	return (0);
}

void
kms_key_clean(struct kms_key *k)
{
	if (k == NULL)
		return;
	free(k->key_id);
	free(k->arn);
	free(k->account);
	free(k->key_manager);
	free(k->key_state);
	memset(k, 0, sizeof(*k));
}

int
kms_parse_key(const cJSON *resp, struct kms_key *out)
{
	const cJSON *md;

	memset(out, 0, sizeof(*out));
	md = cJSON_GetObjectItemCaseSensitive(resp, "KeyMetadata");
	if (!cJSON_IsObject(md))
		return (-1);
	if (dup_member(md, "KeyId", &out->key_id) != 0 || out->key_id == NULL ||
	    dup_member(md, "Arn", &out->arn) != 0 ||
	    dup_member(md, "AWSAccountId", &out->account) != 0 ||
	    dup_member(md, "KeyManager", &out->key_manager) != 0 ||
	    dup_member(md, "KeyState", &out->key_state) != 0)
		goto err0;
	out->enabled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(md, "Enabled"));
	return (0);
err0:
	kms_key_clean(out);
	return (-1);
}

int
kms_describe_key(struct aws_client *c, const char *key_id, struct kms_key *out,
    struct aws_error *err)
{
	cJSON *body, *resp = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (key_id == NULL || key_id[0] == '\0') {
		aws_error_set(err, "InvalidParameterValue", "DescribeKey needs a key id");
		return (-1);
	}
	if ((body = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(body, "KeyId", key_id) == NULL) {
		aws_error_set(err, "ClientError", "out of memory");
		goto done;
	}
	if (aws_json(c, "TrentService.DescribeKey", body, &resp, err) != 0)
		goto done;
	if (kms_parse_key(resp, out) != 0) {
		aws_error_set(err, "MalformedResponse", "DescribeKey response without KeyMetadata.KeyId");
		goto done;
	}
	rc = 0;
done:
	cJSON_Delete(resp);
	cJSON_Delete(body);
	return (rc);
}

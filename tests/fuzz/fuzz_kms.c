/*
 * fuzz_kms: DescribeKey response bodies as aws_json takes them (a JSON
 * object, else MalformedResponse) through kms_parse_key.
 */
#include <cjson/cJSON.h>

#include "fuzz.h"

#include "kms.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kms_key k;
	cJSON *j;

	j = cJSON_ParseWithLength((const char *)data, size);
	if (j == NULL || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return (0);
	}
	if (kms_parse_key(j, &k) == 0) {
		FUZZ_ASSERT(k.key_id != NULL);
		FUZZ_ASSERT(k.enabled == 0 || k.enabled == 1);
		fuzz_touch(k.arn);
		fuzz_touch(k.account);
		fuzz_touch(k.key_manager);
		fuzz_touch(k.key_state);
		kms_key_clean(&k);
		FUZZ_ASSERT(k.key_id == NULL && k.arn == NULL);
	} else
		FUZZ_ASSERT(k.key_id == NULL && k.arn == NULL && k.account == NULL &&
		    k.key_manager == NULL && k.key_state == NULL);
	kms_key_clean(&k);
	cJSON_Delete(j);
	return (0);
}

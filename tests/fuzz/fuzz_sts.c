/*
 * fuzz_sts: AssumeRole responses through sts_parse_credentials: complete
 * credentials or none, and the secret and token wiped from the document.
 */
#include <time.h>

#include "fuzz.h"

#include "aws.h"
#include "credentials.h"
#include "sts.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_creds c;
	xmlDocPtr d;
	xmlNodePtr root, res;
	char *acct;

	if ((d = aws_xml_parse((const char *)data, size)) == NULL)
		return (0);
	root = xmlDocGetRootElement(d);
	if (sts_parse_credentials(root, &c) == 0) {
		/* All three members, non-empty, and a readable expiration. */
		FUZZ_ASSERT(c.access_key_id != NULL && c.access_key_id[0] != '\0');
		FUZZ_ASSERT(c.secret_access_key != NULL && c.secret_access_key[0] != '\0');
		FUZZ_ASSERT(c.session_token != NULL && c.session_token[0] != '\0');
		creds_clean(&c);
	} else
		FUZZ_ASSERT(c.access_key_id == NULL && c.secret_access_key == NULL &&
		    c.session_token == NULL);
	/* GetCallerIdentity reads its result the same way. */
	if ((res = xml_find(root, "GetCallerIdentityResult")) != NULL) {
		acct = xml_text(res, "Account");
		free(acct);
	}
	xmlFreeDoc(d);
	return (0);
}

/*
 * sts: AssumeRole and GetCallerIdentity over the STS Query API.  The secret
 * key and session token are copied out of the response and then wiped in the
 * parsed document, so only the caller's aws_creds hold them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/dict.h>

#include "aws.h"
#include "buf.h"
#include "credentials.h"
#include "rds.h"
#include "sts.h"

#define STS_VERSION	"2011-06-15"

/* Wipe the text of element ${name} under ${n} in place (the parsed copy of a secret). */
static void
wipe_text(xmlDocPtr doc, xmlNodePtr n, const char *name)
{
	xmlNodePtr e, t;

	if ((e = xml_child(n, name)) == NULL)
		return;
	for (t = e->children; t != NULL; t = t->next) {
		if ((t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE) ||
		    t->content == NULL)
			continue;
		/* Interned strings belong to the document's dictionary: leave those. */
		if (doc != NULL && doc->dict != NULL && xmlDictOwns(doc->dict, t->content))
			continue;
		wipe(t->content, strlen((const char *)t->content));
	}
}

int
sts_parse_credentials(xmlNodePtr result, struct aws_creds *out)
{
	xmlNodePtr cr;
	char *exp = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((cr = xml_find(result, "Credentials")) == NULL)
		return (-1);
	out->access_key_id = xml_text(cr, "AccessKeyId");
	out->secret_access_key = xml_text(cr, "SecretAccessKey");
	out->session_token = xml_text(cr, "SessionToken");
	exp = xml_text(cr, "Expiration");
	wipe_text(cr->doc, cr, "SecretAccessKey");
	wipe_text(cr->doc, cr, "SessionToken");
	if (out->access_key_id == NULL || out->access_key_id[0] == '\0' ||
	    out->secret_access_key == NULL || out->secret_access_key[0] == '\0' ||
	    out->session_token == NULL || out->session_token[0] == '\0' ||
	    aws_parse_time(exp, &out->expiration) != 0 ||
	    out->expiration <= 0)	/* 0 means "never" to us; STS never says that */
		goto done;
	rc = 0;
done:
	free(exp);
	if (rc != 0)
		creds_clean(out);
	return (rc);
}

int
sts_assume_role(struct aws_client *c, const char *role_arn, const char *session,
    const char *external_id, int duration_s, struct aws_creds *out,
    struct aws_error *err)
{
	struct aws_params p;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	char num[16];
	int bad = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (role_arn == NULL || session == NULL) {
		aws_error_set(err, "InvalidParameterValue", "AssumeRole needs a role ARN and a session name");
		return (-1);
	}
	aws_params_init(&p);
	bad |= aws_params_add(&p, "RoleArn", role_arn);
	bad |= aws_params_add(&p, "RoleSessionName", session);
	if (external_id != NULL)
		bad |= aws_params_add(&p, "ExternalId", external_id);
	if (duration_s > 0) {
		snprintf(num, sizeof(num), "%d", duration_s);
		bad |= aws_params_add(&p, "DurationSeconds", num);
	}
	if (bad) {
		aws_error_set(err, "ClientError", "out of memory");
		goto done;
	}
	if (aws_query(c, STS_VERSION, "AssumeRole", &p, &doc, err) != 0)
		goto done;
	if ((root = xmlDocGetRootElement(doc)) == NULL ||
	    sts_parse_credentials(root, out) != 0) {
		aws_error_set(err, "MalformedResponse", "AssumeRole response without usable Credentials");
		goto done;
	}
	rc = 0;
done:
	if (doc != NULL)
		xmlFreeDoc(doc);
	aws_params_clean(&p);
	return (rc);
}

int
sts_caller_identity(struct aws_client *c, char **account, char **arn,
    struct aws_error *err)
{
	struct aws_params p;
	xmlDocPtr doc = NULL;
	xmlNodePtr res;
	int rc = -1;

	if (account != NULL)
		*account = NULL;
	if (arn != NULL)
		*arn = NULL;
	aws_params_init(&p);
	if (aws_query(c, STS_VERSION, "GetCallerIdentity", &p, &doc, err) != 0)
		goto done;
	if ((res = xml_find(xmlDocGetRootElement(doc), "GetCallerIdentityResult")) == NULL) {
		aws_error_set(err, "MalformedResponse", "no GetCallerIdentityResult");
		goto done;
	}
	if (account != NULL && (*account = xml_text(res, "Account")) == NULL) {
		aws_error_set(err, "MalformedResponse", "GetCallerIdentity without Account");
		goto done;
	}
	if (arn != NULL && (*arn = xml_text(res, "Arn")) == NULL) {
		aws_error_set(err, "MalformedResponse", "GetCallerIdentity without Arn");
		goto done;
	}
	rc = 0;
done:
	if (rc != 0) {
		if (account != NULL) {
			free(*account);
			*account = NULL;
		}
		if (arn != NULL) {
			free(*arn);
			*arn = NULL;
		}
	}
	if (doc != NULL)
		xmlFreeDoc(doc);
	aws_params_clean(&p);
	return (rc);
}

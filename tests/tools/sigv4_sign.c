/*
 * sigv4_sign: signs one request described as JSON on stdin with the
 * project's own code (aws_form_encode, aws_sign, sigv4_presign) and prints
 * the result as JSON, so tests compare it with botocore byte for byte.
 *
 * Input:  {"method","url","region","service","time" (epoch s),
 *          "access_key","secret_key","token"?, "content_type"?, "target"?,
 *          "body"? | ("action","version","params":[[k,v],...]),
 *          "presign"?: true, "expires"?: 3600}
 * Output: {"body", "headers": {name: value}, "canonical_request",
 *          "string_to_sign"} or {"url"} for presign.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "buf.h"
#include "sigv4.h"

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return (cJSON_IsString(v) ? v->valuestring : NULL);
}

static int
run(const cJSON *in, cJSON *out)
{
	struct aws_creds cr;
	struct aws_signed sg;
	struct aws_params p;
	struct sigv4_request r;
	struct sigv4_signer s;
	struct buf body;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(in, "time"), *pl, *kv;
	const char *method = str(in, "method"), *url = str(in, "url");
	char *host = NULL, *path = NULL, *query = NULL, *creq = NULL, *sts = NULL;
	cJSON *hdrs;
	size_t i;
	int rc = -1;

	memset(&cr, 0, sizeof(cr));
	cr.access_key_id = (char *)(uintptr_t)str(in, "access_key");
	cr.secret_access_key = (char *)(uintptr_t)str(in, "secret_key");
	cr.session_token = (char *)(uintptr_t)str(in, "token");
	if (method == NULL || url == NULL || !cJSON_IsNumber(t) || str(in, "region") == NULL ||
	    str(in, "service") == NULL || cr.access_key_id == NULL || cr.secret_access_key == NULL) {
		fprintf(stderr, "sigv4_sign: missing method/url/time/region/service/keys\n");
		return (-1);
	}
	memset(&s, 0, sizeof(s));
	s.access_key_id = cr.access_key_id;
	s.secret_access_key = cr.secret_access_key;
	s.session_token = cr.session_token;
	s.region = str(in, "region");
	s.service = str(in, "service");
	sigv4_amz_date((time_t)t->valuedouble, s.amz_date);

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "presign"))) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(in, "expires");
		char *u = sigv4_presign(&s, method, url, cJSON_IsNumber(e) ? (long)e->valuedouble : 3600);

		if (u == NULL)
			return (-1);
		cJSON_AddStringToObject(out, "url", u);
		free(u);
		return (0);
	}

	buf_init(&body, 64u << 20);
	aws_params_init(&p);
	if (str(in, "action") != NULL) {
		pl = cJSON_GetObjectItemCaseSensitive(in, "params");
		cJSON_ArrayForEach(kv, pl) {
			const cJSON *k = cJSON_GetArrayItem(kv, 0), *v = cJSON_GetArrayItem(kv, 1);

			if (!cJSON_IsString(k) || !cJSON_IsString(v) ||
			    aws_params_add(&p, k->valuestring, v->valuestring) != 0)
				goto done;
		}
		if (aws_form_encode(&body, str(in, "action"), str(in, "version"), &p) != 0)
			goto done;
	} else if (str(in, "body") != NULL && buf_append_str(&body, str(in, "body")) != 0)
		goto done;

	if (aws_sign(&cr, s.region, s.service, (time_t)t->valuedouble, method, url,
	    str(in, "content_type"), str(in, "target"), body.data, body.len, &sg) != 0)
		goto done;
	/* Recompute the intermediate steps over the same headers (less Authorization). */
	if (sigv4_url_split(url, &host, &path, &query) != 0)
		goto done2;
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = path;
	r.query = query;
	r.headers = sg.h;
	r.n_headers = sg.n - 1;
	r.body = body.data;
	r.body_len = body.len;
	if ((creq = sigv4_canonical_request(&r, NULL)) == NULL ||
	    (sts = sigv4_string_to_sign(&s, creq)) == NULL)
		goto done2;
	cJSON_AddStringToObject(out, "body", body.data ? body.data : "");
	hdrs = cJSON_AddObjectToObject(out, "headers");
	for (i = 0; i < sg.n; i++)
		cJSON_AddStringToObject(hdrs, sg.h[i].name, sg.h[i].value);
	cJSON_AddStringToObject(out, "canonical_request", creq);
	cJSON_AddStringToObject(out, "string_to_sign", sts);
	rc = 0;
done2:
	aws_signed_clean(&sg);
done:
	free(host);
	free(path);
	free(query);
	free(creq);
	free(sts);
	aws_params_clean(&p);
	buf_clean(&body);
	return (rc);
}

int
main(void)
{
	struct buf in;
	char tmp[4096], *s;
	cJSON *j, *out;
	size_t n;
	int rc;

	buf_init(&in, 64u << 20);
	while ((n = fread(tmp, 1, sizeof(tmp), stdin)) > 0)
		if (buf_append(&in, tmp, n) != 0) {
			fprintf(stderr, "sigv4_sign: input too large\n");
			return (2);
		}
	j = cJSON_ParseWithLength(in.data ? in.data : "", in.len);
	buf_clean(&in);
	if (j == NULL) {
		fprintf(stderr, "sigv4_sign: input is not JSON\n");
		return (2);
	}
	out = cJSON_CreateObject();
	rc = run(j, out);
	if (rc == 0 && (s = cJSON_Print(out)) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	cJSON_Delete(out);
	cJSON_Delete(j);
	return (rc == 0 ? 0 : 1);
}

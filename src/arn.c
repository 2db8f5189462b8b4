/*
 * arn: split an ARN on its first six colons, and check one for an RDS snapshot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arn.h"

int
arn_is(const char *s)
{
	return (s != NULL && strncmp(s, "arn:", 4) == 0);
}

void
arn_clean(struct arn *a)
{
	free(a->partition);
	free(a->service);
	free(a->region);
	free(a->account);
	free(a->type);
	free(a->id);
	memset(a, 0, sizeof(*a));
}

const char *
arn_resource(const char *s)
{
	const char *p = s;
	int i;

	if (s == NULL)
		return (NULL);
	for (i = 0; i < 6; i++) {
		if ((p = strchr(p, ':')) == NULL)
			return (NULL);
		p++;
	}
	return (*p != '\0' ? p : NULL);
}

int
arn_parse(const char *s, struct arn *out)
{
	char **dst[5];
	const char *p, *q, *id;
	int i;

	memset(out, 0, sizeof(*out));
	dst[0] = &out->partition;
	dst[1] = &out->service;
	dst[2] = &out->region;
	dst[3] = &out->account;
	dst[4] = &out->type;
	if (!arn_is(s) || (id = arn_resource(s)) == NULL)
		goto einval;
	for (p = s + 4, i = 0; i < 5; i++) {
		q = strchr(p, ':');
		if ((*dst[i] = strndup(p, (size_t)(q - p))) == NULL)
			goto nomem;
		p = q + 1;
	}
	if ((out->id = strdup(id)) == NULL)
		goto nomem;
	if (*out->partition == '\0' || *out->service == '\0' || *out->type == '\0') {
		arn_clean(out);
		goto einval;
	}

	/* Success! */
	return (0);

nomem:
	arn_clean(out);
	errno = ENOMEM;
	return (-1);
einval:
	errno = EINVAL;
	return (-1);
}

void
arn_snapshot_clean(struct arn_snapshot *a)
{
	free(a->region);
	free(a->account);
	free(a->id);
	memset(a, 0, sizeof(*a));
}

int
arn_rds_snapshot(const char *s, struct arn_snapshot *out)
{
	struct arn a;

	memset(out, 0, sizeof(*out));
	if (arn_parse(s, &a) != 0)
		return (-1);
	if (strcmp(a.service, "rds") != 0 || *a.region == '\0' || *a.account == '\0')
		goto einval;
	if (strcmp(a.type, "snapshot") == 0)
		out->kind = RDS_INSTANCE;
	else if (strcmp(a.type, "cluster-snapshot") == 0)
		out->kind = RDS_CLUSTER;
	else
		goto einval;
	/* The parts ${out} keeps change hands; arn_clean frees the rest. */
	out->region = a.region;
	out->account = a.account;
	out->id = a.id;
	a.region = a.account = a.id = NULL;
	arn_clean(&a);
	return (0);

einval:
	arn_clean(&a);
	errno = EINVAL;
	return (-1);
}

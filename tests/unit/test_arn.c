/*
 * test_arn: the one ARN parser (tables of ARN -> parts) and the RDS snapshot ARN check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arn.h"
#include "unit.h"

static void
test_parse(void)
{
	static const struct {
		const char *arn;
		int rc;
		const char *partition, *service, *region, *account, *type, *id;
	} t[] = {
		{ "arn:aws:rds:us-east-1:123456789012:snapshot:rds:my-db-2024-05-01-00-05", 0,
		    "aws", "rds", "us-east-1", "123456789012", "snapshot", "rds:my-db-2024-05-01-00-05" },
		{ "arn:aws-cn:rds:cn-north-1:123456789012:cluster-snapshot:awsbackup:job-x:y", 0,
		    "aws-cn", "rds", "cn-north-1", "123456789012", "cluster-snapshot", "awsbackup:job-x:y" },
		{ "arn:aws:lambda:us-east-1:123456789012:function:snapferry", 0,
		    "aws", "lambda", "us-east-1", "123456789012", "function", "snapferry" },
		{ "arn:aws:iam::123456789012:role/r", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ "arn:aws:rds:us-east-1:123456789012:snapshot:", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ "arn::rds:us-east-1:1:snapshot:x", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ "urn:aws:rds:us-east-1:1:snapshot:x", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ "", -1, NULL, NULL, NULL, NULL, NULL, NULL },
	};
	struct arn a;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(arn_parse(t[i].arn, &a) == t[i].rc);
		if (t[i].rc == -1)
			CHECK(errno == EINVAL);
		CHECK_STR(a.partition, t[i].partition);
		CHECK_STR(a.service, t[i].service);
		CHECK_STR(a.region, t[i].region);
		CHECK_STR(a.account, t[i].account);
		CHECK_STR(a.type, t[i].type);
		CHECK_STR(a.id, t[i].id);
		arn_clean(&a);
	}
	CHECK(arn_parse(NULL, &a) == -1);
	CHECK(!arn_is(NULL) && !arn_is("my-snap") && arn_is("arn:x"));
	CHECK_STR(arn_resource("arn:aws:rds:r:1:snapshot:rds:a:b"), "rds:a:b");
	CHECK(arn_resource("arn:aws:rds:r:1:snapshot:") == NULL);
}

static void
test_rds_snapshot(void)
{
	struct arn_snapshot a;

	CHECK(arn_rds_snapshot("arn:aws:rds:eu-west-1:111122223333:snapshot:rds:db-2024-05-01",
	    &a) == 0);
	CHECK_STR(a.region, "eu-west-1");
	CHECK_STR(a.account, "111122223333");
	CHECK_STR(a.id, "rds:db-2024-05-01");
	CHECK(a.kind == RDS_INSTANCE);
	arn_snapshot_clean(&a);

	CHECK(arn_rds_snapshot("arn:aws-us-gov:rds:us-gov-west-1:111122223333:"
	    "cluster-snapshot:my-cl", &a) == 0);
	CHECK(a.kind == RDS_CLUSTER);
	CHECK_STR(a.id, "my-cl");
	CHECK_STR(a.region, "us-gov-west-1");
	arn_snapshot_clean(&a);

	CHECK(arn_rds_snapshot("my-snap", &a) == -1);
	CHECK(arn_rds_snapshot("rds:my-snap", &a) == -1);
	CHECK(arn_rds_snapshot("arn:aws:rds:eu-west-1:111122223333:db:mydb", &a) == -1);
	CHECK(arn_rds_snapshot("arn:aws:s3:::bucket", &a) == -1);
	CHECK(arn_rds_snapshot("arn:aws:rds:eu-west-1:111122223333:snapshot:", &a) == -1);
	CHECK(arn_rds_snapshot("arn:aws:rds::111122223333:snapshot:x", &a) == -1);
	CHECK(arn_rds_snapshot("arn:aws:rds:eu-west-1::snapshot:x", &a) == -1);
	CHECK(a.id == NULL);
}

int
main(void)
{
	test_parse();
	test_rds_snapshot();
	UNIT_DONE();
}

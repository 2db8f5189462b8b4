/*
 * test_rds: the RDS, STS and KMS response parsers fed canned responses (the
 * AWS samples of aws-facts and responses shaped by the service models), with
 * and without namespace prefixes, plus the error codes each API uses.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "credentials.h"
#include "kms.h"
#include "rds.h"
#include "sts.h"
#include "unit.h"

#define NS "http://rds.amazonaws.com/doc/2014-10-31/"

static xmlDocPtr
parse(const char *xml)
{
	return (aws_xml_parse(xml, strlen(xml)));
}

/* ---- times --------------------------------------------------------------- */

static const struct {
	const char	*in;
	int		 ok;
	time_t		 want;
} times[] = {
	{ "2021-05-11T06:02:03.422Z", 1, 1620712923 },
	{ "2019-11-09T13:34:41Z", 1, 1573306481 },
	{ "1970-01-01T00:00:00Z", 1, 0 },
	{ "2024-02-29T23:59:59.999999Z", 1, 1709251199 },
	{ "2021-05-11T08:02:03.422+02:00", 1, 1620712923 },
	{ "2021-05-11T01:02:03-05:00", 1, 1620712923 },
	{ "2021-05-11T06:02:03", 1, 1620712923 },	/* no zone: UTC */
	{ "2021-05-11 06:02:03Z", 0, 0 },
	{ "2021-13-11T06:02:03Z", 0, 0 },
	{ "2021-05-11T06:02:03.Z", 0, 0 },
	{ "2021-05-11T06:02:03Zjunk", 0, 0 },
	{ "1571767572.317", 0, 0 },
	{ "", 0, 0 },
	/* Exactly AWS's forms: sscanf's signs, spaces and short fields, and timegm's
	 * rolling of impossible dates, are all refused. */
	{ "2024-+5-01T10:15:22Z", 0, 0 },
	{ "2024- 5-01T10:15:22Z", 0, 0 },
	{ "2024-5-01T10:15:22Z", 0, 0 },
	{ " 2024-05-01T10:15:22Z", 0, 0 },
	{ "+024-05-01T10:15:22Z", 0, 0 },
	{ "2024-05-01T10:15:+2Z", 0, 0 },
	{ "2024-05-01T1:15:22Z", 0, 0 },
	{ "2024-02-31T10:15:22Z", 0, 0 },
	{ "2023-02-29T10:15:22Z", 0, 0 },
	{ "2100-02-29T10:15:22Z", 0, 0 },
	{ "2024-04-31T10:15:22Z", 0, 0 },
	{ "2024-05-00T10:15:22Z", 0, 0 },
	{ "2024-05-01T24:00:00Z", 0, 0 },
	{ "2024-05-01T10:60:22Z", 0, 0 },
	{ "2024-05-01T10:15:60Z", 0, 0 },
	{ "2024-05-01T10:15:22+-5:00", 0, 0 },
	{ "2024-05-01T10:15:22- 5:00", 0, 0 },
	{ "2024-05-01T10:15:22+5:00", 0, 0 },
	{ "2024-05-01T10:15:22+05:0", 0, 0 },
	{ "2024-05-01T10:15:22+0500", 0, 0 },
	{ "2024-05-01T10:15:22+24:00", 0, 0 },
	{ "2024-05-01T10:15:22.1234567890Z", 0, 0 },
	{ "2024-05-01T10:15:22z", 0, 0 },
	{ "1969-12-31T23:59:59Z", 0, 0 },
	{ "2024-05-01T10:15:22Z", 1, 1714558522 },
	{ "2024-05-01T10:15:22.412Z", 1, 1714558522 },
	{ "2024-05-01T10:15:22+00:00", 1, 1714558522 },
	{ "2024-05-01T10:15:22.412+00:00", 1, 1714558522 },
	{ "2024-05-01T10:15:22.123456789Z", 1, 1714558522 },
	{ "2000-02-29T00:00:00Z", 1, 951782400 },
	{ "2024-12-31T23:59:59Z", 1, 1735689599 },
};

static void
test_times(void)
{
	size_t i;
	time_t t;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		t = 12345;
		if (times[i].ok) {
			CHECK(aws_parse_time(times[i].in, &t) == 0);
			CHECK(t == times[i].want);
			if (t != times[i].want)
				fprintf(stderr, "  %s -> %lld\n", times[i].in, (long long)t);
		} else
			CHECK(aws_parse_time(times[i].in, &t) == -1);
	}
	CHECK(aws_parse_time(NULL, &t) == -1);
}

/* ---- snapshots ------------------------------------------------------------- */

struct want_snap {
	const char	*id, *arn, *db_id, *status, *type, *engine, *engine_mode, *kms;
	int		 encrypted;
	time_t		 created;
	int		 percent;
	const char	*source_arn, *option_group, *tde;
	size_t		 n_tags;
	const char	*tag_key, *tag_value;	/* one tag checked with rds_tag_get */
};

static const struct {
	const char	*name;
	enum rds_kind	 kind;
	const char	*xml;
	const char	*result;	/* result element name */
	const char	*marker;	/* expected next marker */
	size_t		 count;
	struct want_snap first;
} snaps[] = {
	{ "instance, default namespace, encrypted manual, tags", RDS_INSTANCE,
	    "<DescribeDBSnapshotsResponse xmlns=\"" NS "\"><DescribeDBSnapshotsResult>"
	    "<DBSnapshots><DBSnapshot>"
	    "<Port>3306</Port><OptionGroupName>default:mysql-8-0</OptionGroupName>"
	    "<Engine>mysql</Engine><Status>available</Status><SnapshotType>manual</SnapshotType>"
	    "<LicenseModel>general-public-license</LicenseModel><EngineVersion>8.0.35</EngineVersion>"
	    "<DBInstanceIdentifier>mydb</DBInstanceIdentifier>"
	    "<DBSnapshotIdentifier>mysqldb-copy</DBSnapshotIdentifier>"
	    "<SnapshotCreateTime>2021-05-11T06:02:03.422Z</SnapshotCreateTime>"
	    "<OriginalSnapshotCreateTime>2021-04-27T08:16:05.356Z</OriginalSnapshotCreateTime>"
	    "<AvailabilityZone>us-east-1f</AvailabilityZone><StorageType>gp2</StorageType>"
	    "<PercentProgress>100</PercentProgress><Encrypted>true</Encrypted>"
	    "<KmsKeyId>arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab</KmsKeyId>"
	    "<DBSnapshotArn>arn:aws:rds:us-east-1:123456789012:snapshot:mysqldb-copy</DBSnapshotArn>"
	    "<TagList><Tag><Key>snapferry:source-db</Key><Value>mydb</Value></Tag>"
	    "<Tag><Key>owner</Key><Value>team a</Value></Tag></TagList>"
	    "</DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult>"
	    "<ResponseMetadata><RequestId>2928d60e-beb6-11d3-8e5c-3ccda5460c46</RequestId>"
	    "</ResponseMetadata></DescribeDBSnapshotsResponse>",
	    "DescribeDBSnapshotsResult", NULL, 1,
	    { "mysqldb-copy", "arn:aws:rds:us-east-1:123456789012:snapshot:mysqldb-copy", "mydb",
	      "available", "manual", "mysql", NULL,
	      "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
	      1, 1620712923, 100, NULL, "default:mysql-8-0", NULL, 2, "owner", "team a" } },
	{ "instance, prefixed namespace, automated, unencrypted, marker", RDS_INSTANCE,
	    "<rds:DescribeDBSnapshotsResponse xmlns:rds=\"" NS "\"><rds:DescribeDBSnapshotsResult>"
	    "<rds:Marker>page-2-token</rds:Marker><rds:DBSnapshots><rds:DBSnapshot>"
	    "<rds:DBSnapshotIdentifier>rds:mydb-2024-01-02-03-04</rds:DBSnapshotIdentifier>"
	    "<rds:DBInstanceIdentifier>mydb</rds:DBInstanceIdentifier>"
	    "<rds:SnapshotType>automated</rds:SnapshotType><rds:Status>creating</rds:Status>"
	    "<rds:Engine>postgres</rds:Engine><rds:Encrypted>false</rds:Encrypted>"
	    "<rds:PercentProgress>42</rds:PercentProgress>"
	    "<rds:DBSnapshotArn>arn:aws:rds:eu-west-1:123456789012:snapshot:rds:mydb-2024-01-02-03-04</rds:DBSnapshotArn>"
	    "</rds:DBSnapshot><rds:DBSnapshot><rds:DBSnapshotIdentifier>second</rds:DBSnapshotIdentifier>"
	    "</rds:DBSnapshot></rds:DBSnapshots></rds:DescribeDBSnapshotsResult>"
	    "</rds:DescribeDBSnapshotsResponse>",
	    "DescribeDBSnapshotsResult", "page-2-token", 2,
	    { "rds:mydb-2024-01-02-03-04",
	      "arn:aws:rds:eu-west-1:123456789012:snapshot:rds:mydb-2024-01-02-03-04", "mydb",
	      "creating", "automated", "postgres", NULL, NULL, 0, 0, 42, NULL, NULL, NULL, 0,
	      NULL, NULL } },
	{ "instance, no namespace, shared copy with source ARN, TDE, empty tag value",
	    RDS_INSTANCE,
	    "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><Marker></Marker><DBSnapshots>"
	    "<DBSnapshot><DBSnapshotIdentifier>snapferry-mydb-1</DBSnapshotIdentifier>"
	    "<SnapshotType>shared</SnapshotType><Engine>oracle-ee</Engine>"
	    "<TdeCredentialArn>arn:aws:rds:us-east-1:123456789012:tde:x</TdeCredentialArn>"
	    "<SourceDBSnapshotIdentifier>arn:aws:rds:us-east-1:111122223333:snapshot:snapferry-mydb-1</SourceDBSnapshotIdentifier>"
	    "<KmsKeyId></KmsKeyId><SnapshotCreateTime>not a time</SnapshotCreateTime>"
	    "<TagList><Tag><Key>empty</Key><Value/></Tag><Tag><Value>no key</Value></Tag>"
	    "<Tag><Key>\xc3\xa9t\xc3\xa9</Key><Value>\xe2\x82\xac 5</Value></Tag></TagList>"
	    "</DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>",
	    "DescribeDBSnapshotsResult", NULL, 1,
	    { "snapferry-mydb-1", NULL, NULL, NULL, "shared", "oracle-ee", NULL, NULL, 0, 0, 0,
	      "arn:aws:rds:us-east-1:111122223333:snapshot:snapferry-mydb-1", NULL,
	      "arn:aws:rds:us-east-1:123456789012:tde:x", 2, "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac 5" } },
	{ "cluster, default namespace, StorageEncrypted, awsbackup", RDS_CLUSTER,
	    "<DescribeDBClusterSnapshotsResponse xmlns=\"" NS "\"><DescribeDBClusterSnapshotsResult>"
	    "<DBClusterSnapshots><DBClusterSnapshot>"
	    "<AvailabilityZones><AvailabilityZone>us-east-1a</AvailabilityZone></AvailabilityZones>"
	    "<DBClusterSnapshotIdentifier>awsbackup:job-1234</DBClusterSnapshotIdentifier>"
	    "<DBClusterIdentifier>aurora1</DBClusterIdentifier>"
	    "<SnapshotCreateTime>2023-06-01T00:00:00.000Z</SnapshotCreateTime>"
	    "<Engine>aurora-postgresql</Engine><EngineMode>provisioned</EngineMode>"
	    "<Status>available</Status><SnapshotType>awsbackup</SnapshotType>"
	    "<StorageEncrypted>true</StorageEncrypted><Encrypted>false</Encrypted>"
	    "<KmsKeyId>arn:aws:kms:us-east-1:123456789012:key/k</KmsKeyId>"
	    "<DBClusterSnapshotArn>arn:aws:rds:us-east-1:123456789012:cluster-snapshot:awsbackup:job-1234</DBClusterSnapshotArn>"
	    "<SourceDBClusterSnapshotArn>arn:aws:rds:us-east-1:123456789012:cluster-snapshot:src</SourceDBClusterSnapshotArn>"
	    "<OptionGroupName>ignored-for-clusters</OptionGroupName>"
	    "<TagList/></DBClusterSnapshot></DBClusterSnapshots></DescribeDBClusterSnapshotsResult>"
	    "</DescribeDBClusterSnapshotsResponse>",
	    "DescribeDBClusterSnapshotsResult", NULL, 1,
	    { "awsbackup:job-1234",
	      "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:awsbackup:job-1234", "aurora1",
	      "available", "awsbackup", "aurora-postgresql", "provisioned",
	      "arn:aws:kms:us-east-1:123456789012:key/k", 1, 1685577600, 0,
	      "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:src", NULL, NULL, 0, NULL,
	      NULL } },
	{ "cluster, prefixed, empty list", RDS_CLUSTER,
	    "<a:DescribeDBClusterSnapshotsResponse xmlns:a=\"" NS "\"><a:DescribeDBClusterSnapshotsResult>"
	    "<a:DBClusterSnapshots/></a:DescribeDBClusterSnapshotsResult>"
	    "</a:DescribeDBClusterSnapshotsResponse>",
	    "DescribeDBClusterSnapshotsResult", NULL, 0, { NULL, NULL, NULL, NULL, NULL, NULL,
	      NULL, NULL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL } },
	{ "instance parser does not see cluster elements", RDS_INSTANCE,
	    "<DescribeDBSnapshotsResponse xmlns=\"" NS "\"><DescribeDBSnapshotsResult>"
	    "<DBClusterSnapshots><DBClusterSnapshot><DBClusterSnapshotIdentifier>c</DBClusterSnapshotIdentifier>"
	    "</DBClusterSnapshot></DBClusterSnapshots></DescribeDBSnapshotsResult>"
	    "</DescribeDBSnapshotsResponse>",
	    "DescribeDBSnapshotsResult", NULL, 0, { NULL, NULL, NULL, NULL, NULL, NULL,
	      NULL, NULL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL } },
};

struct collect {
	size_t			 count;
	size_t			 stop_after;	/* 0: never */
	struct rds_snapshot	 first;
	int			 have_first;
};

static int
collect_cb(const struct rds_snapshot *s, void *arg)
{
	struct collect *c = arg;
	struct rds_snapshot dup;
	size_t i;

	/* Keep a deep copy of the first: the page's copy is freed after the callback. */
	if (!c->have_first) {
		memset(&dup, 0, sizeof(dup));
		dup = *s;
#define D(f) dup.f = s->f ? strdup(s->f) : NULL
		D(id); D(arn); D(db_id); D(status); D(snapshot_type); D(engine);
		D(engine_mode); D(engine_version); D(kms_key_id); D(option_group);
		D(tde_credential_arn); D(storage_type); D(source_arn); D(create_time);
		D(original_time);
#undef D
		dup.tags = s->n_tags ? calloc(s->n_tags, sizeof(*dup.tags)) : NULL;
		for (i = 0; i < s->n_tags; i++) {
			dup.tags[i].key = strdup(s->tags[i].key);
			dup.tags[i].value = strdup(s->tags[i].value);
		}
		c->first = dup;
		c->have_first = 1;
	}
	c->count++;
	return (c->stop_after != 0 && c->count >= c->stop_after);
}

static void
test_snapshots(void)
{
	size_t i;
	xmlDocPtr doc;
	xmlNodePtr res;
	struct collect col;
	const struct want_snap *w;
	char *marker;
	int stopped;

	for (i = 0; i < sizeof(snaps) / sizeof(snaps[0]); i++) {
		fprintf(stderr, "snapshot case: %s\n", snaps[i].name);
		doc = parse(snaps[i].xml);
		CHECK(doc != NULL);
		if (doc == NULL)
			continue;
		res = xml_find(xmlDocGetRootElement(doc), snaps[i].result);
		CHECK(res != NULL);
		memset(&col, 0, sizeof(col));
		marker = (char *)"sentinel";
		CHECK(rds_parse_snapshot_page(res, snaps[i].kind, collect_cb, &col, &marker,
		    &stopped) == 0);
		CHECK(stopped == 0);
		CHECK_STR(marker, snaps[i].marker);
		free(marker);
		CHECK(col.count == snaps[i].count);
		w = &snaps[i].first;
		if (snaps[i].count > 0 && col.have_first) {
			CHECK(col.first.kind == snaps[i].kind);
			CHECK_STR(col.first.id, w->id);
			CHECK_STR(col.first.arn, w->arn);
			CHECK_STR(col.first.db_id, w->db_id);
			CHECK_STR(col.first.status, w->status);
			CHECK_STR(col.first.snapshot_type, w->type);
			CHECK_STR(col.first.engine, w->engine);
			CHECK_STR(col.first.engine_mode, w->engine_mode);
			CHECK_STR(col.first.kms_key_id, w->kms);
			CHECK(col.first.encrypted == w->encrypted);
			CHECK(col.first.created == w->created);
			CHECK(col.first.percent == w->percent);
			CHECK_STR(col.first.source_arn, w->source_arn);
			CHECK_STR(col.first.option_group, w->option_group);
			CHECK_STR(col.first.tde_credential_arn, w->tde);
			CHECK(col.first.n_tags == w->n_tags);
			if (w->tag_key != NULL)
				CHECK_STR(rds_tag_get(col.first.tags, col.first.n_tags,
				    w->tag_key), w->tag_value);
			CHECK(rds_tag_get(col.first.tags, col.first.n_tags, "absent") == NULL);
			/* OriginalSnapshotCreateTime: what the keeper ages an instance copy by. */
			if (strcmp(w->id, "mysqldb-copy") == 0)
				CHECK_STR(col.first.original_time, "2021-04-27T08:16:05.356Z");
			else if (snaps[i].kind == RDS_CLUSTER)
				CHECK(col.first.original_time == NULL);
		}
		rds_snapshot_clean(&col.first);
		CHECK(col.first.id == NULL && col.first.tags == NULL);

		/* The callback can stop a page after its first snapshot. */
		if (snaps[i].count > 1) {
			memset(&col, 0, sizeof(col));
			col.stop_after = 1;
			CHECK(rds_parse_snapshot_page(res, snaps[i].kind, collect_cb, &col,
			    &marker, &stopped) == 0);
			CHECK(stopped == 1 && col.count == 1 && marker == NULL);
			rds_snapshot_clean(&col.first);
		}
		xmlFreeDoc(doc);
	}
}

static void
test_snapshot_element(void)
{
	xmlDocPtr doc;
	struct rds_snapshot s;

	/* A snapshot element without its identifier is refused. */
	doc = parse("<DBSnapshot xmlns=\"" NS "\"><Status>available</Status></DBSnapshot>");
	CHECK(doc != NULL);
	CHECK(rds_parse_snapshot(xmlDocGetRootElement(doc), RDS_INSTANCE, &s) == -1);
	CHECK(s.status == NULL);
	xmlFreeDoc(doc);

	/* CopyDBClusterSnapshot result: the cluster copy in "copying". */
	doc = parse("<CopyDBClusterSnapshotResponse xmlns=\"" NS "\"><CopyDBClusterSnapshotResult>"
	    "<DBClusterSnapshot><DBClusterSnapshotIdentifier>t</DBClusterSnapshotIdentifier>"
	    "<Status>copying</Status><PercentProgress>250</PercentProgress></DBClusterSnapshot>"
	    "</CopyDBClusterSnapshotResult></CopyDBClusterSnapshotResponse>");
	CHECK(rds_parse_snapshot(xml_find(xmlDocGetRootElement(doc), "DBClusterSnapshot"),
	    RDS_CLUSTER, &s) == 0);
	CHECK_STR(s.id, "t");
	CHECK_STR(s.status, "copying");
	CHECK(s.percent == 0);	/* out of range: ignored */
	rds_snapshot_clean(&s);
	xmlFreeDoc(doc);
}

/* ---- attributes, tags, option groups ---------------------------------------- */

static const struct {
	const char	*name;
	const char	*xml;
	size_t		 n;
	const char	*first, *last;
} attrs[] = {
	/* The AWS API reference sample, verbatim. */
	{ "ModifyDBSnapshotAttribute AWS sample",
	    "<ModifyDBSnapshotAttributeResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n"
	    "  <ModifyDBSnapshotAttributeResult>\n"
	    "    <DBSnapshotAttributesResult>\n"
	    "      <DBSnapshotAttributes>\n"
	    "        <DBSnapshotAttribute>\n"
	    "          <AttributeName>restore</AttributeName>\n"
	    "          <AttributeValues>\n"
	    "            <AttributeValue>123451234512</AttributeValue>\n"
	    "            <AttributeValue>123456789012</AttributeValue>\n"
	    "          </AttributeValues>\n"
	    "        </DBSnapshotAttribute>\n"
	    "      </DBSnapshotAttributes>\n"
	    "      <DBSnapshotIdentifier>manual-snapshot1</DBSnapshotIdentifier>\n"
	    "    </DBSnapshotAttributesResult>\n"
	    "  </ModifyDBSnapshotAttributeResult>\n"
	    "  <ResponseMetadata>\n"
	    "    <RequestId>0122a108-2276-11e5-9cc3-0f535cff56aa</RequestId>\n"
	    "  </ResponseMetadata>\n"
	    "</ModifyDBSnapshotAttributeResponse>\n",
	    2, "123451234512", "123456789012" },
	{ "unshared: empty AttributeValues",
	    "<DescribeDBSnapshotAttributesResponse xmlns=\"" NS "\"><DescribeDBSnapshotAttributesResult>"
	    "<DBSnapshotAttributesResult><DBSnapshotAttributes><DBSnapshotAttribute>"
	    "<AttributeName>restore</AttributeName><AttributeValues/></DBSnapshotAttribute>"
	    "</DBSnapshotAttributes></DBSnapshotAttributesResult></DescribeDBSnapshotAttributesResult>"
	    "</DescribeDBSnapshotAttributesResponse>", 0, NULL, NULL },
	{ "cluster, prefixed, other attribute ignored",
	    "<x:DescribeDBClusterSnapshotAttributesResponse xmlns:x=\"" NS "\">"
	    "<x:DescribeDBClusterSnapshotAttributesResult><x:DBClusterSnapshotAttributesResult>"
	    "<x:DBClusterSnapshotAttributes><x:DBClusterSnapshotAttribute>"
	    "<x:AttributeName>other</x:AttributeName><x:AttributeValues>"
	    "<x:AttributeValue>999999999999</x:AttributeValue></x:AttributeValues>"
	    "</x:DBClusterSnapshotAttribute><x:DBClusterSnapshotAttribute>"
	    "<x:AttributeName>restore</x:AttributeName><x:AttributeValues>"
	    "<x:AttributeValue>444455556666</x:AttributeValue></x:AttributeValues>"
	    "</x:DBClusterSnapshotAttribute></x:DBClusterSnapshotAttributes>"
	    "</x:DBClusterSnapshotAttributesResult></x:DescribeDBClusterSnapshotAttributesResult>"
	    "</x:DescribeDBClusterSnapshotAttributesResponse>", 1, "444455556666", "444455556666" },
	{ "no attributes at all",
	    "<DescribeDBSnapshotAttributesResponse><DescribeDBSnapshotAttributesResult/>"
	    "</DescribeDBSnapshotAttributesResponse>", 0, NULL, NULL },
};

static void
test_attributes(void)
{
	size_t i, n;
	char **v;
	xmlDocPtr doc;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		fprintf(stderr, "attribute case: %s\n", attrs[i].name);
		doc = parse(attrs[i].xml);
		CHECK(doc != NULL);
		if (doc == NULL)
			continue;
		CHECK(rds_parse_restore_accounts(xmlDocGetRootElement(doc), &v, &n) == 0);
		CHECK(n == attrs[i].n);
		if (n > 0 && n == attrs[i].n) {
			CHECK_STR(v[0], attrs[i].first);
			CHECK_STR(v[n - 1], attrs[i].last);
		}
		rds_strv_free(v, n);
		xmlFreeDoc(doc);
	}
}

static void
test_tags(void)
{
	xmlDocPtr doc;
	struct rds_tag *t;
	size_t n;

	doc = parse("<ListTagsForResourceResponse xmlns=\"" NS "\"><ListTagsForResourceResult>"
	    "<TagList><Tag><Key>snapferry:source-arn</Key>"
	    "<Value>arn:aws:rds:us-east-1:123456789012:snapshot:rds:db-2024</Value></Tag>"
	    "<Tag><Key>a b</Key><Value>x=y/z</Value></Tag></TagList></ListTagsForResourceResult>"
	    "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
	    "</ListTagsForResourceResponse>");
	CHECK(rds_parse_tags(xml_find(xmlDocGetRootElement(doc), "ListTagsForResourceResult"),
	    &t, &n) == 0);
	CHECK(n == 2);
	CHECK_STR(rds_tag_get(t, n, "snapferry:source-arn"),
	    "arn:aws:rds:us-east-1:123456789012:snapshot:rds:db-2024");
	CHECK_STR(rds_tag_get(t, n, "a b"), "x=y/z");
	rds_tags_free(t, n);
	/* The TagList element itself is accepted too. */
	CHECK(rds_parse_tags(xml_find(xmlDocGetRootElement(doc), "TagList"), &t, &n) == 0);
	CHECK(n == 2);
	rds_tags_free(t, n);
	xmlFreeDoc(doc);

	doc = parse("<ListTagsForResourceResponse><ListTagsForResourceResult/>"
	    "</ListTagsForResourceResponse>");
	CHECK(rds_parse_tags(xml_find(xmlDocGetRootElement(doc), "ListTagsForResourceResult"),
	    &t, &n) == 0);
	CHECK(n == 0 && t == NULL);
	xmlFreeDoc(doc);
}

#define OPT(name, pers, perm) "<Option><OptionName>" name "</OptionName><Persistent>" \
	pers "</Persistent><Permanent>" perm "</Permanent></Option>"

static const struct {
	const char	*name;
	const char	*engine;	/* EngineName, NULL = absent */
	const char	*options;
	int		 want;
	const char	*names;		/* the blocking options named, NULL = none */
} ogs[] = {
	{ "no options", "mysql", "<Options/>", 0, NULL },
	{ "plain option", "mysql", "<Options><Option><OptionName>MEMCACHED</OptionName>"
	    "<Persistent>false</Persistent><Permanent>false</Permanent></Option></Options>", 0,
	    NULL },
	{ "persistent (TDE), no engine", NULL, "<Options><Option><OptionName>MEMCACHED"
	    "</OptionName></Option><Option><OptionName>TDE</OptionName><Persistent>true"
	    "</Persistent><Permanent>false</Permanent></Option></Options>", 1, "TDE" },
	{ "permanent", NULL, "<Options><Option><OptionName>TDE</OptionName>"
	    "<Permanent>true</Permanent></Option></Options>", 1, "TDE" },
	/* AWS shares Oracle snapshots whose only persistent/permanent options are Timezone
	 * and OLS (RDS user guide, "Sharing a DB snapshot"). */
	{ "oracle Timezone only", "oracle-ee", "<Options>" OPT("Timezone", "true", "true")
	    "</Options>", 0, NULL },
	{ "oracle OLS + Timezone", "oracle-ee-cdb", "<Options>" OPT("OLS", "true", "true")
	    OPT("Timezone", "true", "true") "</Options>", 0, NULL },
	{ "oracle TDE", "oracle-ee", "<Options>" OPT("Timezone", "true", "true")
	    OPT("TDE", "true", "true") "</Options>", 1, "TDE" },
	{ "oracle TDE + OLS + another", "oracle-se2", "<Options>" OPT("OLS", "true", "true")
	    OPT("TDE", "true", "false") OPT("STATSPACK", "false", "false")
	    OPT("NATIVE_NETWORK_ENCRYPTION", "false", "true") "</Options>", 1,
	    "TDE, NATIVE_NETWORK_ENCRYPTION" },
	{ "sqlserver TDE persistent", "sqlserver-ee", "<Options>"
	    OPT("TDE", "true", "false") "</Options>", 1, "TDE" },
	/* The exception is Oracle's only: Timezone elsewhere blocks. */
	{ "sqlserver Timezone persistent", "sqlserver-ee", "<Options>"
	    OPT("Timezone", "true", "false") "</Options>", 1, "Timezone" },
};

static void
test_option_groups(void)
{
	size_t i;
	char xml[2048], eng[64], *names;
	xmlDocPtr doc;

	for (i = 0; i < sizeof(ogs) / sizeof(ogs[0]); i++) {
		fprintf(stderr, "option group case: %s\n", ogs[i].name);
		eng[0] = '\0';
		if (ogs[i].engine != NULL)
			snprintf(eng, sizeof(eng), "<EngineName>%s</EngineName>", ogs[i].engine);
		snprintf(xml, sizeof(xml),
		    "<DescribeOptionGroupsResponse xmlns=\"%s\"><DescribeOptionGroupsResult>"
		    "<OptionGroupsList><OptionGroup><OptionGroupName>og</OptionGroupName>%s%s"
		    "</OptionGroup></OptionGroupsList></DescribeOptionGroupsResult>"
		    "</DescribeOptionGroupsResponse>", NS, eng, ogs[i].options);
		doc = parse(xml);
		CHECK(doc != NULL);
		CHECK(rds_parse_option_groups(xmlDocGetRootElement(doc)) == ogs[i].want);
		names = (char *)"unset";
		CHECK(rds_parse_option_groups_named(xmlDocGetRootElement(doc), &names) ==
		    ogs[i].want);
		if (ogs[i].names == NULL)
			CHECK(names == NULL);
		else
			CHECK_STR(names, ogs[i].names);
		free(names);
		xmlFreeDoc(doc);
	}
}

/* ---- DescribeAccountAttributes: the manual-snapshot quotas ------------------------ */

#define QUOTA(n, u, m) "<AccountQuota><AccountQuotaName>" n "</AccountQuotaName><Used>" u \
	"</Used><Max>" m "</Max></AccountQuota>"

static void
test_account_quotas(void)
{
	struct rds_snapshot_quotas q;
	xmlDocPtr doc;
	char xml[2048];
	size_t i;
	static const struct {
		const char	*name, *quotas;
		int		 rc, ifound, cfound;
		long long	 iused, imax, cused, cmax;
	} qs[] = {
		{ "both, among others", QUOTA("DBInstances", "4", "40")
		    QUOTA("ManualSnapshots", "87", "100")
		    QUOTA("ManualClusterSnapshots", "3", "100"), 0, 1, 1, 87, 100, 3, 100 },
		{ "instances only", QUOTA("ManualSnapshots", "0", "500"), 0, 1, 0, 0, 500, 0, 0 },
		{ "none named", QUOTA("AllocatedStorage", "40", "100000"), 0, 0, 0, 0, 0, 0, 0 },
		{ "empty list", "", 0, 0, 0, 0, 0, 0, 0 },
		{ "Used not a number", QUOTA("ManualSnapshots", "x1", "100"), -1, 0, 0, 0, 0, 0, 0 },
		{ "negative Max", QUOTA("ManualClusterSnapshots", "1", "-5"), -1, 0, 0, 0, 0, 0,
		    0 },
		{ "Max missing", "<AccountQuota><AccountQuotaName>ManualSnapshots"
		    "</AccountQuotaName><Used>1</Used></AccountQuota>", -1, 0, 0, 0, 0, 0, 0 },
	};

	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		fprintf(stderr, "account quota case: %s\n", qs[i].name);
		snprintf(xml, sizeof(xml), "<DescribeAccountAttributesResponse xmlns=\"%s\">"
		    "<DescribeAccountAttributesResult><AccountQuotas>%s</AccountQuotas>"
		    "</DescribeAccountAttributesResult></DescribeAccountAttributesResponse>", NS,
		    qs[i].quotas);
		doc = parse(xml);
		CHECK(doc != NULL);
		CHECK(rds_parse_account_quotas(xmlDocGetRootElement(doc), &q) == qs[i].rc);
		if (qs[i].rc == 0) {
			CHECK(q.instance.found == qs[i].ifound && q.cluster.found == qs[i].cfound);
			CHECK(q.instance.used == qs[i].iused && q.instance.max == qs[i].imax);
			CHECK(q.cluster.used == qs[i].cused && q.cluster.max == qs[i].cmax);
		}
		xmlFreeDoc(doc);
	}
}

/* ---- DB instances and clusters (the restore's existence checks) ------------- */

static void
test_dbs(void)
{
	xmlDocPtr doc;
	struct rds_db d;

	/* An Aurora cluster with its writer, tagged as snapferry's restore (as moto and
	 * the DBCluster shape of the model send it). */
	doc = parse("<DescribeDBClustersResponse xmlns=\"" NS "\"><DescribeDBClustersResult>"
	    "<DBClusters><DBCluster><DBClusterIdentifier>snapferry-orders</DBClusterIdentifier>"
	    "<Status>creating</Status><Engine>aurora-postgresql</Engine>"
	    "<DBClusterMembers><DBClusterMember><DBInstanceIdentifier>snapferry-orders-"
	    "instance-1</DBInstanceIdentifier><IsClusterWriter>true</IsClusterWriter>"
	    "</DBClusterMember><DBClusterMember><DBInstanceIdentifier>reader-2"
	    "</DBInstanceIdentifier></DBClusterMember><DBClusterMember/></DBClusterMembers>"
	    "<TagList><Tag><Key>snapferry:role</Key><Value>restore</Value></Tag></TagList>"
	    "</DBCluster></DBClusters></DescribeDBClustersResult></DescribeDBClustersResponse>");
	CHECK(rds_parse_db(xml_find(xmlDocGetRootElement(doc), "DBCluster"), RDS_CLUSTER,
	    &d) == 0);
	CHECK_STR(d.id, "snapferry-orders");
	CHECK_STR(d.status, "creating");
	CHECK_STR(d.engine, "aurora-postgresql");
	CHECK(d.cluster_id == NULL);
	CHECK(d.n_members == 2);
	if (d.n_members == 2) {
		CHECK_STR(d.members[0], "snapferry-orders-instance-1");
		CHECK_STR(d.members[1], "reader-2");
	}
	CHECK_STR(rds_tag_get(d.tags, d.n_tags, "snapferry:role"), "restore");
	rds_db_clean(&d);
	CHECK(d.id == NULL && d.members == NULL);
	xmlFreeDoc(doc);

	/* A cluster without instances yet: no members. */
	doc = parse("<DBCluster><DBClusterIdentifier>c</DBClusterIdentifier><DBClusterMembers/>"
	    "<TagList/></DBCluster>");
	CHECK(rds_parse_db(xmlDocGetRootElement(doc), RDS_CLUSTER, &d) == 0);
	CHECK(d.n_members == 0 && d.members == NULL && d.n_tags == 0);
	rds_db_clean(&d);
	xmlFreeDoc(doc);

	/* An instance in a cluster, and one outside any. */
	doc = parse("<DBInstance><DBInstanceIdentifier>w</DBInstanceIdentifier>"
	    "<DBInstanceStatus>available</DBInstanceStatus><Engine>aurora-mysql</Engine>"
	    "<DBClusterIdentifier>c</DBClusterIdentifier></DBInstance>");
	CHECK(rds_parse_db(xmlDocGetRootElement(doc), RDS_INSTANCE, &d) == 0);
	CHECK_STR(d.id, "w");
	CHECK_STR(d.status, "available");
	CHECK_STR(d.cluster_id, "c");
	CHECK(d.n_members == 0);
	rds_db_clean(&d);
	xmlFreeDoc(doc);
	doc = parse("<DBInstance><DBInstanceIdentifier>solo</DBInstanceIdentifier>"
	    "<DBClusterIdentifier></DBClusterIdentifier></DBInstance>");
	CHECK(rds_parse_db(xmlDocGetRootElement(doc), RDS_INSTANCE, &d) == 0);
	CHECK(d.cluster_id == NULL);
	rds_db_clean(&d);
	xmlFreeDoc(doc);

	/* No identifier: not a DB. */
	doc = parse("<DBCluster><Status>available</Status></DBCluster>");
	CHECK(rds_parse_db(xmlDocGetRootElement(doc), RDS_CLUSTER, &d) == -1);
	CHECK(d.status == NULL);
	xmlFreeDoc(doc);
}

/* ---- errors: each API family's not-found code ------------------------------ */

static const struct {
	const char	*name;
	const char	*xml;
	long		 status;
	const char	*code;
	int		 instance_nf, cluster_nf;
} errs[] = {
	{ "DBSnapshotNotFound (AWS)",
	    "<ErrorResponse xmlns=\"" NS "\"><Error><Type>Sender</Type>"
	    "<Code>DBSnapshotNotFound</Code><Message>DBSnapshot mysnap not found.</Message>"
	    "</Error><RequestId>5e5a8d5c-1</RequestId></ErrorResponse>",
	    404, "DBSnapshotNotFound", 1, 0 },
	{ "DBSnapshotNotFoundFault (the model's shape name)",
	    "<ErrorResponse><Error><Code>DBSnapshotNotFoundFault</Code>"
	    "<Message>DBSnapshot x not found.</Message></Error><RequestId>r</RequestId>"
	    "</ErrorResponse>", 404, "DBSnapshotNotFoundFault", 1, 0 },
	{ "DBClusterSnapshotNotFoundFault, prefixed",
	    "<e:ErrorResponse xmlns:e=\"" NS "\"><e:Error><e:Type>Sender</e:Type>"
	    "<e:Code>DBClusterSnapshotNotFoundFault</e:Code><e:Message>m</e:Message></e:Error>"
	    "<e:RequestId>r2</e:RequestId></e:ErrorResponse>",
	    404, "DBClusterSnapshotNotFoundFault", 0, 1 },
	{ "Throttling is no not-found",
	    "<ErrorResponse xmlns=\"" NS "\"><Error><Type>Sender</Type><Code>Throttling</Code>"
	    "<Message>Rate exceeded</Message></Error><RequestId>r3</RequestId></ErrorResponse>",
	    400, "Throttling", 0, 0 },
};

static void
test_errors(void)
{
	size_t i;
	struct aws_error e;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		fprintf(stderr, "error case: %s\n", errs[i].name);
		memset(&e, 0, sizeof(e));
		CHECK(aws_parse_error(errs[i].xml, strlen(errs[i].xml), errs[i].status, 0, NULL,
		    &e) == 0);
		CHECK_STR(e.code, errs[i].code);
		CHECK(e.http_status == errs[i].status);
		CHECK(rds_snapshot_not_found(RDS_INSTANCE, &e) == errs[i].instance_nf);
		CHECK(rds_snapshot_not_found(RDS_CLUSTER, &e) == errs[i].cluster_nf);
		aws_error_clear(&e);
	}
}

/* ---- STS and KMS ------------------------------------------------------------ */

/* The STS API reference AssumeRole sample, verbatim. */
static const char assume_sample[] =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleResult>\n"
    "  <SourceIdentity>Alice</SourceIdentity>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>\n"
    "      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
    "      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW...==</SessionToken>\n"
    "      <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
    "    </Credentials>\n"
    "    <PackedPolicySize>6</PackedPolicySize>\n"
    "  </AssumeRoleResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleResponse>\n";

static void
test_sts(void)
{
	xmlDocPtr doc;
	struct aws_creds cr;
	xmlNodePtr credn;
	xmlChar *left;

	doc = parse(assume_sample);
	CHECK(doc != NULL);
	CHECK(sts_parse_credentials(xmlDocGetRootElement(doc), &cr) == 0);
	CHECK_STR(cr.access_key_id, "ASIAIOSFODNN7EXAMPLE");
	CHECK_STR(cr.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	CHECK_STR(cr.session_token,
	    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW...==");
	CHECK(cr.expiration == 1573306481);
	creds_clean(&cr);
	/* The secrets are gone from the parsed document; the key id is not. */
	credn = xml_find(xmlDocGetRootElement(doc), "Credentials");
	left = xmlNodeGetContent(xml_child(credn, "SecretAccessKey"));
	CHECK(left != NULL && left[0] == '\0');
	xmlFree(left);
	left = xmlNodeGetContent(xml_child(credn, "SessionToken"));
	CHECK(left != NULL && left[0] == '\0');
	xmlFree(left);
	left = xmlNodeGetContent(xml_child(credn, "AccessKeyId"));
	CHECK(left != NULL && strcmp((char *)left, "ASIAIOSFODNN7EXAMPLE") == 0);
	xmlFree(left);
	xmlFreeDoc(doc);

	/* Missing token or bad expiration: refused, nothing left allocated. */
	doc = parse("<AssumeRoleResponse><AssumeRoleResult><Credentials>"
	    "<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
	    "<Expiration>2019-11-09T13:34:41Z</Expiration></Credentials></AssumeRoleResult>"
	    "</AssumeRoleResponse>");
	CHECK(sts_parse_credentials(xmlDocGetRootElement(doc), &cr) == -1);
	CHECK(cr.access_key_id == NULL && cr.secret_access_key == NULL);
	xmlFreeDoc(doc);
	doc = parse("<AssumeRoleResponse><AssumeRoleResult><Credentials>"
	    "<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
	    "<SessionToken>T</SessionToken><Expiration>soon</Expiration></Credentials>"
	    "</AssumeRoleResult></AssumeRoleResponse>");
	CHECK(sts_parse_credentials(xmlDocGetRootElement(doc), &cr) == -1);
	xmlFreeDoc(doc);
}

static const struct {
	const char	*name;
	const char	*json;
	int		 ok;
	const char	*key_id, *manager, *account, *state;
	int		 enabled;
} keys[] = {
	{ "customer key",
	    "{\"KeyMetadata\":{\"AWSAccountId\":\"111122223333\","
	    "\"KeyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\","
	    "\"Arn\":\"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\","
	    "\"CreationDate\":1571767572.317,\"Enabled\":true,\"KeyUsage\":\"ENCRYPT_DECRYPT\","
	    "\"KeyState\":\"Enabled\",\"Origin\":\"AWS_KMS\",\"KeyManager\":\"CUSTOMER\"}}",
	    1, "1234abcd-12ab-34cd-56ef-1234567890ab", "CUSTOMER", "111122223333", "Enabled", 1 },
	{ "aws/rds key, disabled",
	    "{\"KeyMetadata\":{\"KeyId\":\"k2\",\"KeyManager\":\"AWS\",\"Enabled\":false,"
	    "\"KeyState\":\"Disabled\",\"Description\":\"Default key that protects my RDS "
	    "database volumes when no other key is defined\"}}",
	    1, "k2", "AWS", NULL, "Disabled", 0 },
	{ "no KeyMetadata", "{\"Other\":{}}", 0, NULL, NULL, NULL, NULL, 0 },
	{ "KeyId not a string", "{\"KeyMetadata\":{\"KeyId\":5}}", 0, NULL, NULL, NULL, NULL, 0 },
};

static void
test_kms(void)
{
	size_t i;
	cJSON *j;
	struct kms_key k;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fprintf(stderr, "kms case: %s\n", keys[i].name);
		j = cJSON_Parse(keys[i].json);
		CHECK(j != NULL);
		CHECK(kms_parse_key(j, &k) == (keys[i].ok ? 0 : -1));
		CHECK_STR(k.key_id, keys[i].key_id);
		CHECK_STR(k.key_manager, keys[i].manager);
		CHECK_STR(k.account, keys[i].account);
		CHECK_STR(k.key_state, keys[i].state);
		CHECK(k.enabled == keys[i].enabled);
		kms_key_clean(&k);
		cJSON_Delete(j);
	}
}

int
main(void)
{
	test_times();
	test_snapshots();
	test_snapshot_element();
	test_attributes();
	test_tags();
	test_option_groups();
	test_account_quotas();
	test_dbs();
	test_errors();
	test_sts();
	test_kms();
	xmlCleanupParser();
	UNIT_DONE();
}

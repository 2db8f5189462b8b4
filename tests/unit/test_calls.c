/*
 * test_calls: the parts of "fewer calls per event" (issue 11) that need no AWS: an empty
 * TagList is an answer (no ListTagsForResource), a missing one is not; a snapshot record
 * copies deeply; the own account is remembered per access key id for the process.
 */
#include <stdlib.h>
#include <string.h>

#include "assume.h"
#include "aws.h"
#include "rds.h"
#include "unit.h"

#define NS "http://rds.amazonaws.com/doc/2014-10-31/"

static void
parse_one(const char *xml, struct rds_snapshot *s)
{
	xmlDocPtr doc = aws_xml_parse(xml, strlen(xml));

	CHECK(doc != NULL);
	memset(s, 0, sizeof(*s));
	if (doc == NULL)
		return;
	CHECK(rds_parse_snapshot(xmlDocGetRootElement(doc), RDS_INSTANCE, s) == 0);
	xmlFreeDoc(doc);
}

static void
test_tag_list_presence(void)
{
	struct rds_snapshot s;

	/* AWS (and the emulator) send <TagList/> for a snapshot without tags. */
	parse_one("<DBSnapshot xmlns=\"" NS "\"><DBSnapshotIdentifier>s</DBSnapshotIdentifier>"
	    "<DBSnapshotArn>arn:aws:rds:eu-west-1:111111111111:snapshot:s</DBSnapshotArn>"
	    "<TagList/></DBSnapshot>", &s);
	CHECK(s.has_tag_list == 1 && s.n_tags == 0);
	rds_snapshot_clean(&s);
	/* No TagList at all: the tags are unknown, ListTagsForResource still asks. */
	parse_one("<DBSnapshot xmlns=\"" NS "\"><DBSnapshotIdentifier>s</DBSnapshotIdentifier>"
	    "</DBSnapshot>", &s);
	CHECK(s.has_tag_list == 0 && s.n_tags == 0);
	rds_snapshot_clean(&s);
	parse_one("<DBSnapshot xmlns=\"" NS "\"><DBSnapshotIdentifier>s</DBSnapshotIdentifier>"
	    "<TagList><Tag><Key>k</Key><Value>v</Value></Tag></TagList></DBSnapshot>", &s);
	CHECK(s.has_tag_list == 1 && s.n_tags == 1);
	CHECK_STR(rds_tag_get(s.tags, s.n_tags, "k"), "v");
	rds_snapshot_clean(&s);
}

static void
test_snapshot_copy(void)
{
	struct rds_snapshot s, c;

	parse_one("<DBSnapshot xmlns=\"" NS "\"><DBSnapshotIdentifier>s</DBSnapshotIdentifier>"
	    "<DBSnapshotArn>arn:aws:rds:eu-west-1:111111111111:snapshot:s</DBSnapshotArn>"
	    "<Status>available</Status><Encrypted>true</Encrypted><PercentProgress>40"
	    "</PercentProgress><SnapshotCreateTime>2026-05-01T03:05:00Z</SnapshotCreateTime>"
	    "<TagList><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value/></Tag>"
	    "</TagList></DBSnapshot>", &s);
	CHECK(rds_snapshot_copy(&c, &s) == 0);
	CHECK_STR(c.id, "s");
	CHECK_STR(c.status, "available");
	CHECK(c.id != s.id && c.arn != s.arn && c.tags != s.tags);
	CHECK(c.encrypted == 1 && c.percent == 40 && c.created == s.created && c.created > 0);
	CHECK(c.n_tags == 2 && c.has_tag_list == 1);
	CHECK_STR(rds_tag_get(c.tags, c.n_tags, "a"), "1");
	CHECK_STR(rds_tag_get(c.tags, c.n_tags, "b"), "");
	rds_snapshot_clean(&s);		/* the copy owns its own memory */
	CHECK_STR(c.arn, "arn:aws:rds:eu-west-1:111111111111:snapshot:s");
	rds_snapshot_clean(&c);
}

static void
test_own_account_per_key(void)
{
	struct assume_cache *cc = assume_cache_new();

	CHECK(cc != NULL);
	CHECK(assume_cache_account(cc, "AKIDONE") == NULL);
	assume_cache_set_account(cc, "AKIDONE", "111111111111");
	CHECK_STR(assume_cache_account(cc, "AKIDONE"), "111111111111");
	/* Other credentials (another key id) are another question. */
	CHECK(assume_cache_account(cc, "AKIDTWO") == NULL);
	CHECK(assume_cache_account(cc, NULL) == NULL);
	assume_cache_set_account(cc, "AKIDTWO", "222222222222");
	CHECK_STR(assume_cache_account(cc, "AKIDTWO"), "222222222222");
	CHECK(assume_cache_account(cc, "AKIDONE") == NULL);
	CHECK(assume_cache_account(NULL, "AKIDTWO") == NULL);
	assume_cache_free(cc);
}

int
main(void)
{
	test_tag_list_presence();
	test_snapshot_copy();
	test_own_account_per_key();
	UNIT_DONE();
}

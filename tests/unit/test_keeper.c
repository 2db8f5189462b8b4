/*
 * test_keeper: the ids of the further attempts at a failed backup copy (retry.c), and
 * keeper_copy_classify: what the keeper believes about a copy comes from AWS's record
 * (source ARN, DB id, original time); the lineage tags are only cross-checked, and any
 * disagreement is reported, never acted on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keeper_copy.h"
#include "names.h"
#include "retry.h"
#include "unit.h"

static void
test_retry_id(void)
{
	char long_id[300], *s;

	s = retry_id("snapferry-orders-m1-1a2b3c4d", RDS_INSTANCE, 2);
	CHECK_STR(s, "snapferry-orders-m1-1a2b3c4d-r2");
	free(s);
	s = retry_id("snapferry-orders-m1-1a2b3c4d", RDS_INSTANCE, 1);
	CHECK_STR(s, "snapferry-orders-m1-1a2b3c4d");
	free(s);
	CHECK(retry_id("x", RDS_INSTANCE, 0) == NULL);
	CHECK(retry_id("", RDS_INSTANCE, 2) == NULL);
	CHECK(retry_id(NULL, RDS_INSTANCE, 2) == NULL);

	/* At the limit: cut to fit, never ending with a hyphen before the suffix. */
	memset(long_id, 'a', 255);
	long_id[255] = '\0';
	long_id[251] = '-';
	s = retry_id(long_id, RDS_INSTANCE, 3);
	CHECK(s != NULL && strlen(s) <= 255);
	CHECK(s != NULL && strcmp(s + strlen(s) - 3, "-r3") == 0);
	CHECK(s != NULL && strstr(s, "--") == NULL);
	free(s);
	memset(long_id, 'b', 63);
	long_id[63] = '\0';
	s = retry_id(long_id, RDS_CLUSTER, 2);
	CHECK(s != NULL && strlen(s) == 63);
	free(s);
	/* Different attempts, different ids. */
	s = retry_id(long_id, RDS_CLUSTER, 3);
	CHECK(s != NULL && strcmp(s + 60, "-r3") == 0);
	free(s);
}

#define SRC	"arn:aws:rds:us-east-1:111122223333:snapshot:orders-m1"

/* A copy as the ferry makes it: tags at creation, AWS's record of its source. */
static void
copy_of(struct rds_snapshot *s, struct rds_tag *t, const char *src_tag, const char *db_tag,
    const char *time_tag)
{
	memset(s, 0, sizeof(*s));
	s->kind = RDS_INSTANCE;
	s->id = (char *)(uintptr_t)"snapferry-orders-m1-1a2b3c4d";
	s->db_id = (char *)(uintptr_t)"orders";
	s->status = (char *)(uintptr_t)"available";
	s->source_arn = (char *)(uintptr_t)"arn:aws:rds:us-east-1:111122223333:snapshot:"
	    "snapferry-orders-m1";	/* a transit copy of the same account and region */
	s->original_time = (char *)(uintptr_t)"2024-05-01T10:00:00Z";
	s->create_time = (char *)(uintptr_t)"2024-05-01T11:00:00Z";
	s->created = 1714561200;
	t[0].key = (char *)(uintptr_t)NAMES_TAG_CREATED_BY;
	t[0].value = (char *)(uintptr_t)"snapferry";
	t[1].key = (char *)(uintptr_t)NAMES_TAG_ROLE;
	t[1].value = (char *)(uintptr_t)NAMES_ROLE_BACKUP;
	t[2].key = (char *)(uintptr_t)NAMES_TAG_SOURCE_ARN;
	t[2].value = (char *)(uintptr_t)src_tag;
	t[3].key = (char *)(uintptr_t)NAMES_TAG_SOURCE_DB;
	t[3].value = (char *)(uintptr_t)db_tag;
	t[4].key = (char *)(uintptr_t)NAMES_TAG_SOURCE_TIME;
	t[4].value = (char *)(uintptr_t)time_tag;
	s->tags = t;
	s->n_tags = 5;
}

static void
test_classify(void)
{
	struct rds_snapshot s;
	struct rds_tag t[5];
	struct keeper_copy kc;

	copy_of(&s, t, SRC, "orders", "2024-05-01T10:00:00.000Z");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(kc.ours && kc.attributed && kc.available && !kc.failed);
	CHECK_STR(kc.account, "111122223333");
	CHECK_STR(kc.region, "us-east-1");
	CHECK_STR(kc.db, "orders");
	CHECK(kc.when == 1714557600);	/* OriginalSnapshotCreateTime, not the copy's time */
	CHECK_STR(kc.mismatch, "");

	/* Another prefix: not one of this keeper's copies. */
	keeper_copy_classify("vault", &s, &kc);
	CHECK(!kc.ours);

	/* A source-arn tag naming another account. */
	copy_of(&s, t, "arn:aws:rds:us-east-1:999988887777:snapshot:orders-m1", "orders",
	    "2024-05-01T10:00:00Z");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(kc.ours && strstr(kc.mismatch, "account 999988887777") != NULL);

	/* Another region. */
	copy_of(&s, t, "arn:aws:rds:eu-west-1:111122223333:snapshot:orders-m1", "orders",
	    "2024-05-01T10:00:00Z");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(strstr(kc.mismatch, "eu-west-1") != NULL);

	/* Another DB. */
	copy_of(&s, t, SRC, "billing", "2024-05-01T10:00:00Z");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(strstr(kc.mismatch, NAMES_TAG_SOURCE_DB) != NULL);

	/* A source time older than AWS's original time: would make it look old. */
	copy_of(&s, t, SRC, "orders", "2023-01-01T00:00:00Z");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(strstr(kc.mismatch, NAMES_TAG_SOURCE_TIME) != NULL);
	/* ...or newer than the copy itself. */
	copy_of(&s, t, SRC, "orders", "2024-06-01T00:00:00Z");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(strstr(kc.mismatch, NAMES_TAG_SOURCE_TIME) != NULL);
	/* A few minutes apart (the create operation vs the snapshot time) agree. */
	copy_of(&s, t, SRC, "orders", "2024-05-01T10:02:00Z");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK_STR(kc.mismatch, "");

	/* No source ARN from AWS: can't be attributed. */
	copy_of(&s, t, SRC, "orders", "2024-05-01T10:00:00Z");
	s.source_arn = NULL;
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(!kc.attributed && strstr(kc.mismatch, "SourceDBSnapshotIdentifier") != NULL);

	/* A cluster copy: aged by its own SnapshotCreateTime (no original time). */
	copy_of(&s, t, "arn:aws:rds:us-east-1:111122223333:cluster-snapshot:orders-c1",
	    "orders", "2024-05-01T10:00:00Z");
	s.kind = RDS_CLUSTER;
	s.original_time = NULL;
	s.source_arn = (char *)(uintptr_t)"arn:aws:rds:us-east-1:111122223333:"
	    "cluster-snapshot:orders-c1";
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(kc.attributed && kc.when == 1714561200);
	CHECK_STR(kc.mismatch, "");

	/* Failed. */
	copy_of(&s, t, SRC, "orders", "2024-05-01T10:00:00Z");
	s.status = (char *)(uintptr_t)"failed";
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(kc.failed && !kc.available);
}

/*
 * A chained copy (issue 10): the keeper of eu-west-1 copied the backup copy B_s of
 * us-east-1 (this backup account, 444455556666) into its Region; AWS records B_s as its
 * source; its tags are B_s's lineage plus snapferry:chained-from.
 */
static void
chained_copy(struct rds_snapshot *s, struct rds_tag *t, char *b_arn, size_t n,
    const char *b_id, const char *from)
{
	copy_of(s, t, SRC, "orders", "2024-05-01T10:00:00Z");
	s->id = (char *)(uintptr_t)b_id;
	s->arn = (char *)(uintptr_t)"arn:aws:rds:eu-west-1:444455556666:snapshot:chained";
	snprintf(b_arn, n, "arn:aws:rds:us-east-1:444455556666:snapshot:%s", b_id);
	s->source_arn = b_arn;
	t[5].key = (char *)(uintptr_t)KEEPER_TAG_CHAINED_FROM;
	t[5].value = (char *)(uintptr_t)from;
	s->n_tags = 6;
}

static void
test_classify_chained(void)
{
	struct rds_snapshot s;
	struct rds_tag t[6];
	struct keeper_copy kc;
	char *b, *b2, arn[300];

	b = names_backup_id("snapferry", "orders-m1", RDS_INSTANCE, "111122223333", "us-east-1");
	b2 = retry_id(b, RDS_INSTANCE, 2);
	CHECK(b != NULL && b2 != NULL);

	/* Attributed to the lineage's production account and source Region. */
	chained_copy(&s, t, arn, sizeof(arn), b, "us-east-1");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(kc.ours && kc.chained && kc.attributed && kc.available);
	CHECK_STR(kc.mismatch, "");
	CHECK_STR(kc.account, "111122223333");
	CHECK_STR(kc.region, "us-east-1");
	CHECK(kc.when == 1714557600);

	/* A chained copy of a retry of B_s is one too. */
	chained_copy(&s, t, arn, sizeof(arn), b2, "us-east-1");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK_STR(kc.mismatch, "");

	/* AWS's source is not the backup id of that lineage: e.g. the tags name another
	 * production account than the one hashed into the source copy's id. */
	chained_copy(&s, t, arn, sizeof(arn), "snapferry-orders-m1-00000000", "us-east-1");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(kc.chained && strstr(kc.mismatch, "AWS's source") != NULL);
	CHECK(kc.account[0] == '\0');

	/* chained-from names another Region than AWS's source. */
	chained_copy(&s, t, arn, sizeof(arn), b, "ap-south-1");
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(strstr(kc.mismatch, KEEPER_TAG_CHAINED_FROM) != NULL);

	/* The source copy in another account: a chain never leaves the backup account. */
	chained_copy(&s, t, arn, sizeof(arn), b, "us-east-1");
	snprintf(arn, sizeof(arn), "arn:aws:rds:us-east-1:999988887777:snapshot:%s", b);
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(strstr(kc.mismatch, "account 999988887777") != NULL);

	/* The same copy without the chained-from tag: AWS's source account (the backup
	 * account) disagrees with the lineage's, as for any copy. */
	chained_copy(&s, t, arn, sizeof(arn), b, "us-east-1");
	s.n_tags = 5;
	keeper_copy_classify("snapferry", &s, &kc);
	CHECK(!kc.chained && strstr(kc.mismatch, "account 444455556666") != NULL);
	free(b);
	free(b2);
}

int
main(void)
{
	test_retry_id();
	test_classify();
	test_classify_chained();
	UNIT_DONE();
}

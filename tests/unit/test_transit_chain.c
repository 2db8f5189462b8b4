/*
 * test_transit_chain: which transit copies the sweep finds superseded (transit_chain.h):
 * per DB (kind + snapferry:source-db) only done copies count, the newest is never among
 * the superseded, whatever the listing's order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "transit_chain.h"
#include "unit.h"

static struct rds_tag tagsets[16][3];

/* snap(i, id, kind, db, time, status): a listed transit copy with a source time. */
static struct rds_snapshot
snap(int i, const char *id, enum rds_kind kind, const char *db, const char *time,
    const char *status)
{
	struct rds_snapshot s;

	memset(&s, 0, sizeof(s));
	s.id = (char *)(uintptr_t)id;
	s.kind = kind;
	s.status = (char *)(uintptr_t)status;
	tagsets[i][0].key = NAMES_TAG_SOURCE_DB;
	tagsets[i][0].value = (char *)(uintptr_t)db;
	tagsets[i][1].key = NAMES_TAG_SOURCE_TIME;
	tagsets[i][1].value = (char *)(uintptr_t)time;
	s.tags = tagsets[i];
	s.n_tags = db != NULL ? 2 : 0;
	return (s);
}

static int
has(const struct transit_chain_set *cs, const char *id)
{
	const char *x;
	size_t i;

	for (i = 0; (x = transit_chain_superseded(cs, i)) != NULL; i++)
		if (strcmp(x, id) == 0)
			return (1);
	return (0);
}

static size_t
count(const struct transit_chain_set *cs)
{
	size_t i = 0;

	while (transit_chain_superseded(cs, i) != NULL)
		i++;
	return (i);
}

int
main(void)
{
	struct transit_chain_set *cs;
	struct rds_snapshot a, b, c, d, e, f, g, h;

	a = snap(0, "t-a-1", RDS_INSTANCE, "a", "2026-11-01T00:00:00Z", "available");
	b = snap(1, "t-a-3", RDS_INSTANCE, "a", "2026-11-03T00:00:00Z", "available");
	c = snap(2, "t-a-2", RDS_INSTANCE, "a", "2026-11-02T00:00:00Z", "available");
	d = snap(3, "t-b-1", RDS_INSTANCE, "b", "2026-11-01T00:00:00Z", "available");
	e = snap(4, "t-a-c", RDS_CLUSTER, "a", "2026-10-01T00:00:00Z", "available");
	f = snap(5, "t-a-4", RDS_INSTANCE, "a", "2026-11-04T00:00:00Z", "creating");
	g = snap(6, "t-nodb", RDS_INSTANCE, NULL, NULL, "available");
	h = snap(7, "t-a-0", RDS_INSTANCE, "a", "2026-10-30T00:00:00Z", "available");

	CHECK(transit_chain_newer(&b, &a) == 1 && transit_chain_newer(&a, &b) == 0);
	CHECK(transit_chain_newer(&a, &a) == 0);

	/* Listing order a, b, c (newest in the middle): a and c superseded, never b. */
	CHECK((cs = transit_chain_set_new()) != NULL);
	CHECK(transit_chain_note(cs, &a, 1) == 0);
	CHECK(transit_chain_note(cs, &b, 1) == 0);
	CHECK(transit_chain_note(cs, &c, 1) == 0);
	/* Another DB, another kind of the same DB id, a copy still creating, no DB tag:
	 * none superseded, none superseding. */
	CHECK(transit_chain_note(cs, &d, 1) == 0);
	CHECK(transit_chain_note(cs, &e, 1) == 0);
	CHECK(transit_chain_note(cs, &f, 1) == 0);
	CHECK(transit_chain_note(cs, &g, 1) == 0);
	/* Not done (its B still copying): older, but it stays. */
	CHECK(transit_chain_note(cs, &h, 0) == 0);
	CHECK(count(cs) == 2);
	CHECK(has(cs, "t-a-1") && has(cs, "t-a-2"));
	CHECK(!has(cs, "t-a-3") && !has(cs, "t-b-1") && !has(cs, "t-a-c") &&
	    !has(cs, "t-a-4") && !has(cs, "t-a-0"));
	transit_chain_set_free(cs);

	/* Newest first: the same answer. */
	CHECK((cs = transit_chain_set_new()) != NULL);
	CHECK(transit_chain_note(cs, &b, 1) == 0);
	CHECK(transit_chain_note(cs, &c, 1) == 0);
	CHECK(transit_chain_note(cs, &a, 1) == 0);
	CHECK(count(cs) == 2 && !has(cs, "t-a-3"));
	transit_chain_set_free(cs);

	/* A single copy of a DB is never superseded. */
	CHECK((cs = transit_chain_set_new()) != NULL);
	CHECK(transit_chain_note(cs, &d, 1) == 0);
	CHECK(count(cs) == 0);
	transit_chain_set_free(cs);
	transit_chain_set_free(NULL);
	UNIT_DONE();
}

/*
 * test_drill: the drill's pure parts: the default instance class per engine family, and
 * the snapferry:drill-result tag value (written with spaces: RDS refuses commas in tag
 * values) read back.
 */
#include <string.h>
#include <time.h>

#include "drill_db.h"
#include "unit.h"

static void
test_class(void)
{
	CHECK_STR(drill_db_class("mysql", NULL), "db.t3.micro");
	CHECK_STR(drill_db_class("postgres", NULL), "db.t3.micro");
	CHECK_STR(drill_db_class("mariadb", NULL), "db.t3.micro");
	CHECK_STR(drill_db_class("aurora-postgresql", NULL), "db.t4g.medium");
	CHECK_STR(drill_db_class("aurora-mysql", NULL), "db.t4g.medium");
	CHECK_STR(drill_db_class("oracle-se2", NULL), "db.t3.small");
	CHECK_STR(drill_db_class("sqlserver-ex", NULL), "db.t3.small");
	CHECK_STR(drill_db_class("sqlserver-se", NULL), "db.m5.large");
	CHECK_STR(drill_db_class("db2-se", NULL), NULL);
	CHECK_STR(drill_db_class(NULL, NULL), NULL);
	CHECK_STR(drill_db_class("mysql", "db.r6g.large"), "db.r6g.large");
}

static void
test_tag(void)
{
	char v[80];
	time_t when;
	long secs;
	int passed;

	drill_db_tag_value(v, sizeof(v), 1, (time_t)1777777777, 842);
	CHECK_STR(v, "passed 2026-05-03T03:09:37Z 842");
	CHECK(strchr(v, ',') == NULL);
	CHECK(drill_db_tag_parse(v, &passed, &when, &secs) == 0);
	CHECK(passed == 1 && when == (time_t)1777777777 && secs == 842);
	drill_db_tag_value(v, sizeof(v), 0, (time_t)0, 0);
	CHECK(drill_db_tag_parse(v, &passed, &when, &secs) == 0 && passed == 0 && secs == 0);
	CHECK(drill_db_tag_parse("passed,2026-05-03T03:09:37Z,842", &passed, &when, &secs) == -1);
	CHECK(drill_db_tag_parse("maybe 2026-05-03T03:09:37Z 1", &passed, &when, &secs) == -1);
	CHECK(drill_db_tag_parse("passed yesterday 1", &passed, &when, &secs) == -1);
	CHECK(drill_db_tag_parse("passed 2026-05-03T03:09:37Z", &passed, &when, &secs) == -1);
	CHECK(drill_db_tag_parse("passed 2026-05-03T03:09:37Z 12x", &passed, &when, &secs) == -1);
	CHECK(drill_db_tag_parse("", &passed, &when, &secs) == -1);
	CHECK(drill_db_tag_parse(NULL, &passed, &when, &secs) == -1);
}

int
main(void)
{
	test_class();
	test_tag();
	UNIT_DONE();
}

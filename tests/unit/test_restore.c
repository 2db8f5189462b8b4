/*
 * test_restore: the pure parts of restoring a backup copy — the instance class and
 * the id of the writer instance snapferry adds to a restored Aurora cluster.  The
 * restores themselves run against moto in tests/integration/test_ferry.py.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "names.h"
#include "restore.h"
#include "unit.h"

/* The class of the writer: the engine family's default, or RESTORE_INSTANCE_CLASS
 * (parsed and validated by config.c, see test_config). */
static void
test_writer_class(void)
{
	char cls[] = "db.r6g.xlarge";
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	CHECK_STR(restore_writer_class(&cfg, "aurora-postgresql"), "db.r5.large");
	CHECK_STR(restore_writer_class(&cfg, "aurora-mysql"), "db.r5.large");
	CHECK_STR(restore_writer_class(&cfg, "aurora"), "db.r5.large");
	/* No default for an engine outside the Aurora families: the restore is refused. */
	CHECK(restore_writer_class(&cfg, "neptune") == NULL);
	CHECK(restore_writer_class(&cfg, "aurora-postgresql-limitless") == NULL);
	CHECK(restore_writer_class(&cfg, NULL) == NULL);

	cfg.restore_instance_class = cls;
	CHECK_STR(restore_writer_class(&cfg, "aurora-mysql"), "db.r6g.xlarge");
	CHECK_STR(restore_writer_class(&cfg, "neptune"), "db.r6g.xlarge");
}

/* The id of the writer: "<cluster>-instance-1", capped like every DB id. */
static void
test_writer_id(void)
{
	char *id, long_id[80];

	id = restore_writer_id("snapferry-orders");
	CHECK_STR(id, "snapferry-orders-instance-1");
	free(id);
	/* A 63-character cluster id: the writer id is capped at 63 too, deterministically. */
	memset(long_id, 'a', 63);
	long_id[63] = '\0';
	id = restore_writer_id(long_id);
	CHECK(id != NULL && strlen(id) <= NAMES_MAX_DB);
	if (id != NULL) {
		char *again = restore_writer_id(long_id);

		CHECK_STR(id, again);
		CHECK(strncmp(id, long_id, 40) == 0);
		free(again);
	}
	free(id);
}

int
main(void)
{
	test_writer_class();
	test_writer_id();
	UNIT_DONE();
}

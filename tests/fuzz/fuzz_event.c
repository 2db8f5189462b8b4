/*
 * fuzz_event: invocation payloads (EventBridge events, manual actions) as the
 * Runtime API hands them over, through event_parse, the foreign-event check
 * and the names derived from the snapshot and DB ids an event carries.
 */
#include "fuzz.h"

#include "arn.h"
#include "config_shape.h"
#include "event.h"
#include "names.h"
#include "utf8.h"

static void
check_arn(const char *s)
{
	struct arn a;
	struct arn_snapshot n;
	int r;

	if (s == NULL)
		return;
	r = arn_parse(s, &a);
	FUZZ_ASSERT(r == 0 || r == -1);
	if (r == 0) {
		/* Six colons split off: the parts are non-empty where required. */
		FUZZ_ASSERT(a.partition != NULL && *a.partition != '\0');
		FUZZ_ASSERT(a.id != NULL && *a.id != '\0');
		fuzz_touch(a.region);
		fuzz_touch(a.account);
	} else
		FUZZ_ASSERT(a.partition == NULL && a.id == NULL);
	arn_clean(&a);
	r = arn_rds_snapshot(s, &n);
	FUZZ_ASSERT(r == 0 || r == -1);
	if (r == 0) {
		FUZZ_ASSERT(n.id != NULL && *n.id != '\0');
		FUZZ_ASSERT(n.region != NULL && n.account != NULL);
		FUZZ_ASSERT(n.kind == RDS_INSTANCE || n.kind == RDS_CLUSTER);
	} else
		FUZZ_ASSERT(n.id == NULL);
	arn_snapshot_clean(&n);
}

static void
check_name(char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return;
	/* names_* promise an RDS-valid identifier: [a-z][a-z0-9-]*, no "--", no trailing '-'. */
	n = strlen(s);
	FUZZ_ASSERT(n > 0 && n <= max);
	FUZZ_ASSERT(s[0] >= 'a' && s[0] <= 'z');
	FUZZ_ASSERT(s[n - 1] != '-');
	FUZZ_ASSERT(strstr(s, "--") == NULL);
	FUZZ_ASSERT(strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event ev;
	const char *name;

	if (event_parse((const char *)data, size, &ev) != 0)
		return (0);	/* ENOMEM: ev is already freed */
	FUZZ_ASSERT(ev.kind >= EVENT_MALFORMED && ev.kind <= EVENT_KIND_LAST);
	FUZZ_ASSERT(memchr(ev.reason, '\0', sizeof(ev.reason)) != NULL);
	/* Whatever the input, a reason is valid UTF-8 (it reaches results and logs). */
	FUZZ_ASSERT(utf8_valid(ev.reason, strlen(ev.reason)) == strlen(ev.reason));
	name = event_kind_name(ev.kind);
	FUZZ_ASSERT(name != NULL);
	fuzz_touch(name);
	fuzz_touch(event_snap_kind_name(ev.snap_kind));
	(void)event_foreign(&ev, "123456789012", "eu-west-1");
	(void)event_foreign(&ev, NULL, "us-east-1");
	check_arn(ev.snapshot_arn);
	check_arn(ev.source_arn);
	if (ev.snapshot != NULL) {
		char *a, *b;

		fuzz_touch(names_strip_system_prefix(ev.snapshot));
		/* Idempotence rests on it: a redelivered event names the same copy. */
		a = names_copy_id("snapferry", ev.snapshot, RDS_INSTANCE);
		b = names_copy_id("snapferry", ev.snapshot, RDS_INSTANCE);
		FUZZ_ASSERT((a == NULL) == (b == NULL));
		FUZZ_ASSERT(a == NULL || strcmp(a, b) == 0);
		free(a);
		free(b);
		check_name(names_copy_id("snapferry", ev.snapshot, RDS_INSTANCE),
		    NAMES_MAX_INSTANCE_SNAPSHOT);
		check_name(names_copy_id("snapferry", ev.snapshot, RDS_CLUSTER),
		    NAMES_MAX_CLUSTER_SNAPSHOT);
	}
	if (ev.db != NULL)
		check_name(names_restore_id("restored", ev.db), NAMES_MAX_DB);
	if (ev.target != NULL)
		check_name(names_sanitize(ev.target, NAMES_MAX_DB), NAMES_MAX_DB);
	/* A restore's Region reaches an RDS client's endpoint and the credential scope: an
	 * accepted one always has a Region's shape (issue 10). */
	if (ev.kind == EVENT_MANUAL_RESTORE && !ev.invalid && ev.restore_region != NULL)
		FUZZ_ASSERT(config_region_ok(ev.restore_region));
	event_clean(&ev);
	/* Freeing twice is allowed: event_clean zeroes what it freed. */
	event_clean(&ev);
	return (0);
}

/*
 * test_log: JSON log lines (shape, level filter, field merge) and the
 * CloudWatch Embedded Metric Format records, read back from a temp file.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "utf8.h"
#include "unit.h"

static FILE *out;

/* Everything written since the last call, as one string (malloc'd). */
static char *
drain(void)
{
	long n;
	char *s;

	fflush(out);
	n = ftell(out);
	s = calloc(1, (size_t)n + 1);
	rewind(out);
	if (n > 0 && fread(s, 1, (size_t)n, out) != (size_t)n)
		s[0] = '\0';
	rewind(out);
	if (ftruncate(fileno(out), 0) != 0)
		perror("ftruncate");
	return (s);
}

/* The single line written since the last call, parsed. */
static cJSON *
one_line(void)
{
	char *s = drain(), *nl;
	cJSON *o = NULL;

	nl = strchr(s, '\n');
	CHECK(nl != NULL && nl[1] == '\0');	/* exactly one line, newline-terminated */
	if (nl != NULL)
		o = cJSON_Parse(s);
	CHECK(o != NULL);
	free(s);
	return (o);
}

static const char *
str(const cJSON *o, const char *k)
{
	return (cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k)));
}

static int
timestamp_ok(const char *t)
{
	/* 2024-05-01T12:34:56.789Z */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (t == NULL || strlen(t) != sizeof(shape) - 1)
		return (0);
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != shape[i])
			return (0);
	return (1);
}

static void
test_levels(void)
{
	static const struct { const char *s; int ok; enum log_level l; } t[] = {
		{ "debug", 1, LOG_DEBUG }, { "INFO", 1, LOG_INFO }, { "Warn", 1, LOG_WARN },
		{ "warning", 1, LOG_WARN }, { "error", 1, LOG_ERROR }, { "trace", 0, LOG_INFO },
		{ "", 0, LOG_INFO }, { "info ", 0, LOG_INFO },
	};
	enum log_level l;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		l = LOG_INFO;
		CHECK((log_parse_level(t[i].s, &l) == 0) == t[i].ok);
		CHECK(l == t[i].l);
	}
	CHECK(log_parse_level(NULL, &l) == -1);
}

static void
test_lines(void)
{
	cJSON *o, *f;
	char *s;

	log_set_level(LOG_INFO);
	log_set_request_id(NULL);
	log_info("hello", NULL);
	o = one_line();
	CHECK(timestamp_ok(str(o, "timestamp")));
	CHECK_STR(str(o, "level"), "info");
	CHECK_STR(str(o, "message"), "hello");
	CHECK(cJSON_GetObjectItemCaseSensitive(o, "requestId") == NULL);
	CHECK(cJSON_GetArraySize(o) == 3);
	cJSON_Delete(o);

	/* Fields are merged; they can't overwrite the core members. */
	log_set_request_id("req-1");
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "snapshot", "rds:db-1");
	cJSON_AddNumberToObject(f, "attempt", 2);
	cJSON_AddStringToObject(f, "level", "forged");
	cJSON_AddStringToObject(f, "message", "forged");
	log_warn("multi\nline \"message\"", f);
	o = one_line();
	CHECK_STR(str(o, "level"), "warn");
	CHECK_STR(str(o, "requestId"), "req-1");
	CHECK_STR(str(o, "message"), "multi\nline \"message\"");
	CHECK_STR(str(o, "snapshot"), "rds:db-1");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "attempt")) == 2);
	CHECK(cJSON_GetArraySize(o) == 6);
	cJSON_Delete(o);

	/* A non-object "fields" is kept under "detail". */
	log_error("bare", cJSON_CreateString("x"));
	o = one_line();
	CHECK_STR(str(o, "detail"), "x");
	CHECK_STR(str(o, "level"), "error");
	cJSON_Delete(o);

	/* Below the level: nothing written, fields still freed (ASan would tell). */
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "k", "v");
	log_debug("hidden", f);
	s = drain();
	CHECK_STR(s, "");
	free(s);
	log_set_level(LOG_DEBUG);
	log_debug("shown", NULL);
	o = one_line();
	CHECK_STR(str(o, "level"), "debug");
	cJSON_Delete(o);
	log_set_level(LOG_ERROR);
	log_warn("hidden", NULL);
	s = drain();
	CHECK_STR(s, "");
	free(s);
	log_set_request_id(NULL);
}

static void
test_metrics(void)
{
	cJSON *o, *aws, *d, *dims, *m;

	/* EMF records are not filtered by LOG_LEVEL. */
	log_set_level(LOG_ERROR);
	log_set_request_id("req-2");
	log_metric("CopiesStarted", 1, "Count", "SourceDb", "orders-db");
	o = one_line();
	aws = cJSON_GetObjectItemCaseSensitive(o, "_aws");
	CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(aws, "Timestamp")));
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(aws, "Timestamp")) > 1.6e12);
	d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(aws, "CloudWatchMetrics"), 0);
	CHECK_STR(str(d, "Namespace"), "snapferry");
	dims = cJSON_GetObjectItemCaseSensitive(d, "Dimensions");
	CHECK(cJSON_GetArraySize(dims) == 1 && cJSON_GetArraySize(cJSON_GetArrayItem(dims, 0)) == 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetArrayItem(dims, 0), 0)), "SourceDb");
	m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "Metrics"), 0);
	CHECK_STR(str(m, "Name"), "CopiesStarted");
	CHECK_STR(str(m, "Unit"), "Count");
	CHECK_STR(str(o, "SourceDb"), "orders-db");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "CopiesStarted")) == 1);
	CHECK_STR(str(o, "requestId"), "req-2");
	cJSON_Delete(o);

	/* Without a dimension: an empty dimension set, no dimension member. */
	log_set_request_id(NULL);
	log_metric("NewestBackupAgeSeconds", 3600.5, "Seconds", NULL, NULL);
	o = one_line();
	d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o,
	    "_aws"), "CloudWatchMetrics"), 0);
	dims = cJSON_GetObjectItemCaseSensitive(d, "Dimensions");
	CHECK(cJSON_GetArraySize(dims) == 1 && cJSON_GetArraySize(cJSON_GetArrayItem(dims, 0)) == 0);
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "NewestBackupAgeSeconds")) == 3600.5);
	CHECK(cJSON_GetArraySize(o) == 2);
	cJSON_Delete(o);

	/* Three dimensions (the keeper's freshness, issue 10): one set of three keys, each a
	 * string member of the root; a NULL third name gives a set of two. */
	log_metric3("NewestBackupAgeSeconds", 60, "Seconds", "Account", "111111111111",
	    "SourceDb", "orders-db", "Region", "eu-central-1");
	o = one_line();
	d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o,
	    "_aws"), "CloudWatchMetrics"), 0);
	dims = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "Dimensions"), 0);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "Dimensions")) == 1);
	CHECK(cJSON_GetArraySize(dims) == 3);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(dims, 0)), "Account");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(dims, 1)), "SourceDb");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(dims, 2)), "Region");
	CHECK_STR(str(o, "Account"), "111111111111");
	CHECK_STR(str(o, "SourceDb"), "orders-db");
	CHECK_STR(str(o, "Region"), "eu-central-1");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "NewestBackupAgeSeconds")) == 60);
	cJSON_Delete(o);
	log_metric3("NewestBackupAgeSeconds", 1, "Seconds", "SourceDb", "db1", "Region",
	    "eu-west-1", NULL, "ignored");
	o = one_line();
	d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o,
	    "_aws"), "CloudWatchMetrics"), 0);
	CHECK(cJSON_GetArraySize(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d,
	    "Dimensions"), 0)) == 2);
	CHECK_STR(str(o, "Region"), "eu-west-1");
	CHECK(cJSON_GetObjectItemCaseSensitive(o, "ignored") == NULL);
	cJSON_Delete(o);
	log_set_level(LOG_INFO);
}

/* A field that is not UTF-8 (a lone lead byte, as a byte-wise cut leaves): the line stays
 * valid UTF-8, the bad bytes become '?', a whole character is kept. */
static void
test_utf8(void)
{
	cJSON *f, *o;
	char *line;

	log_set_level(LOG_DEBUG);
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "reason", "caf\xc3\xa9 and \xc3");
	cJSON_AddStringToObject(f, "other", "\xff\xfe\"");
	log_msg(LOG_WARN, "bad \xe2\x82 bytes", f);
	line = drain();
	CHECK(utf8_valid(line, strlen(line)) == strlen(line));
	CHECK(strstr(line, "\"reason\":\"caf\xc3\xa9 and ?\"") != NULL);
	CHECK(strstr(line, "\"other\":\"??\\\"\"") != NULL);
	CHECK(strstr(line, "\"message\":\"bad ?? bytes\"") != NULL);
	/* Still one JSON object. */
	o = cJSON_Parse(line);
	CHECK(o != NULL);
	cJSON_Delete(o);
	free(line);
	log_metric("Copies", 1, "Count", "SourceDb", "db\xc3");
	line = drain();
	CHECK(utf8_valid(line, strlen(line)) == strlen(line));
	CHECK(strstr(line, "\"SourceDb\":\"db?\"") != NULL);
	free(line);
}

int
main(void)
{
	if ((out = tmpfile()) == NULL) {
		perror("tmpfile");
		return (1);
	}
	log_set_stream(out);
	test_levels();
	test_lines();
	test_metrics();
	test_utf8();
	log_set_stream(NULL);
	fclose(out);
	UNIT_DONE();
}

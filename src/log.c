/*
 * log: JSON log lines (one object per line, filtered by level) and
 * CloudWatch Embedded Metric Format records, written with one fwrite each
 * so that lines never interleave.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "millis.h"
#include "utf8.h"

static enum log_level	 log_level = LOG_INFO;
static FILE		*log_stream;
static char		*log_request_id;
static const char	*log_mode;	/* "ferry" / "keeper": which deployment wrote the line */

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int
log_parse_level(const char *s, enum log_level *out)
{
	size_t i;

	if (s == NULL)
		return (-1);
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return (0);
		}
	}
	/* "warning" is what people type. */
	if (strcasecmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return (0);
	}
	return (-1);
}

void
log_set_level(enum log_level l)
{
	log_level = l;
}

void
log_set_stream(FILE *f)
{
	log_stream = f;
}

void
log_set_mode(const char *mode)
{
	log_mode = mode;
}

void
log_set_request_id(const char *id)
{
	free(log_request_id);
	log_request_id = (id != NULL) ? strdup(id) : NULL;
}

/* Print o as one line and free it. */
static void
emit(cJSON *o)
{
	FILE *f = log_stream ? log_stream : stdout;
	char *s;
	size_t n;

	if (o == NULL)
		return;
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return;
	/* cJSON copies bytes as they are: a line is valid UTF-8 whatever a field held
	 * (bytes outside strings are ASCII, so '?' can only land inside one). */
	utf8_scrub(s);
	n = strlen(s);
	s[n] = '\n';	/* replaces the NUL: fwrite knows the length */
	fwrite(s, 1, n + 1, f);
	fflush(f);
	free(s);
}

/* "2024-05-01T12:34:56.789Z" into out[64]; ms = epoch milliseconds. */
static void
iso8601(char out[64], long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, 64, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int
log_enabled(enum log_level l)
{
	return (l >= log_level && l <= LOG_ERROR);
}

void
log_msg(enum log_level l, const char *msg, cJSON *fields)
{
	char ts[64];
	cJSON *o, *it;

	if (l < log_level || l > LOG_ERROR) {
		cJSON_Delete(fields);
		return;
	}
	if ((o = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(fields);
		return;
	}
	iso8601(ts, millis_now());
	cJSON_AddStringToObject(o, "timestamp", ts);
	cJSON_AddStringToObject(o, "level", level_names[l]);
	if (log_mode != NULL)
		cJSON_AddStringToObject(o, "mode", log_mode);
	if (log_request_id != NULL)
		cJSON_AddStringToObject(o, "requestId", log_request_id);
	cJSON_AddStringToObject(o, "message", msg ? msg : "");
	/* Merge the fields; they never overwrite the four above. */
	if (cJSON_IsObject(fields)) {
		while ((it = fields->child) != NULL) {
			cJSON_DetachItemViaPointer(fields, it);
			if (it->string == NULL ||
			    cJSON_GetObjectItemCaseSensitive(o, it->string) != NULL) {
				cJSON_Delete(it);
				continue;
			}
			/* it->string moves with the item. */
			cJSON_AddItemToObject(o, it->string, it);
		}
	} else if (fields != NULL) {
		/* A bare value: keep it rather than lose it. */
		cJSON_AddItemToObject(o, "detail", fields);
		fields = NULL;
	}
	cJSON_Delete(fields);
	emit(o);
}

void
log_metric(const char *name, double value, const char *unit,
    const char *dim, const char *dimval)
{
	log_metric2(name, value, unit, dim, dimval, NULL, NULL);
}

void
log_metric2(const char *name, double value, const char *unit, const char *dim,
    const char *dimval, const char *dim2, const char *dimval2)
{
	log_metric3(name, value, unit, dim, dimval, dim2, dimval2, NULL, NULL);
}

void
log_metric3(const char *name, double value, const char *unit, const char *dim,
    const char *dimval, const char *dim2, const char *dimval2, const char *dim3,
    const char *dimval3)
{
	/* One dimension set; a NULL name ends it (EMF allows up to 30 keys in a set). */
	const char *keys[3] = { dim, dim2, dim3 }, *vals[3] = { dimval, dimval2, dimval3 };
	cJSON *o, *aws, *cwm, *dir, *dims, *set, *metrics, *m;
	size_t i, n;

	for (n = 0; n < 3 && keys[n] != NULL; n++)
		;
	if (name == NULL || (o = cJSON_CreateObject()) == NULL)
		return;
	if ((aws = cJSON_AddObjectToObject(o, "_aws")) == NULL)
		goto fail;
	cJSON_AddNumberToObject(aws, "Timestamp", (double)millis_now());
	if ((cwm = cJSON_AddArrayToObject(aws, "CloudWatchMetrics")) == NULL ||
	    (dir = cJSON_CreateObject()) == NULL)
		goto fail;
	cJSON_AddItemToArray(cwm, dir);
	cJSON_AddStringToObject(dir, "Namespace", "snapferry");
	if ((dims = cJSON_AddArrayToObject(dir, "Dimensions")) == NULL ||
	    (set = cJSON_CreateArray()) == NULL)
		goto fail;
	cJSON_AddItemToArray(dims, set);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(set, cJSON_CreateString(keys[i]));
	if ((metrics = cJSON_AddArrayToObject(dir, "Metrics")) == NULL ||
	    (m = cJSON_CreateObject()) == NULL)
		goto fail;
	cJSON_AddItemToArray(metrics, m);
	cJSON_AddStringToObject(m, "Name", name);
	cJSON_AddStringToObject(m, "Unit", unit ? unit : "None");
	/* Every dimension is a target member of the root, a string (EMF: else the record
	 * yields no metric). */
	for (i = 0; i < n; i++)
		cJSON_AddStringToObject(o, keys[i], vals[i] ? vals[i] : "");
	if (log_mode != NULL)
		cJSON_AddStringToObject(o, "mode", log_mode);
	cJSON_AddNumberToObject(o, name, value);
	if (log_request_id != NULL && cJSON_GetObjectItemCaseSensitive(o, "requestId") == NULL)
		cJSON_AddStringToObject(o, "requestId", log_request_id);
	emit(o);
	return;
fail:
	cJSON_Delete(o);
}

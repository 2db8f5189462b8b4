/*
 * result: the per-invocation result document.  Every step and warning is
 * also written as one JSON log line, so the log tells the same story as
 * the result.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "result.h"

static char *vfmt(const char *, va_list) __attribute__((format(printf, 1, 0)));

/* vfmt(fmt, ap): malloc'd formatted string, NULL on ENOMEM. */
static char *
vfmt(const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return (NULL);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return (s);
}

int
result_init(struct result *r, const char *action)
{
	memset(r, 0, sizeof(*r));
	if ((r->steps = cJSON_CreateArray()) == NULL)
		goto err0;
	if ((r->warnings = cJSON_CreateArray()) == NULL)
		goto err0;
	if (action != NULL && (r->action = strdup(action)) == NULL)
		goto err0;

	/* Success! */
	return (0);

err0:
	/* Failure! */
	result_clean(r);
	return (-1);
}

void
result_clean(struct result *r)
{
	free(r->action);
	free(r->source);
	free(r->source_db);
	free(r->transit);
	free(r->backup);
	free(r->restored);
	free(r->reason);
	free(r->error_type);
	cJSON_Delete(r->steps);
	cJSON_Delete(r->warnings);
	cJSON_Delete(r->extra);
	memset(r, 0, sizeof(*r));
}

const char *
result_outcome_name(enum result_outcome o)
{
	switch (o) {
	case RESULT_DONE:
		return ("done");
	case RESULT_PENDING:
		return ("pending");
	case RESULT_SKIPPED:
		return ("skipped");
	case RESULT_IGNORED:
		return ("ignored");
	case RESULT_FAILED:
		return ("failed");
	case RESULT_NONE:
		break;
	}
	return ("none");
}

/* log_fields(r, key, text): fields of a step/warning log line. */
static cJSON *
log_fields(const struct result *r, const char *key, const char *text)
{
	cJSON *f;

	if ((f = cJSON_CreateObject()) == NULL)
		return (NULL);
	cJSON_AddStringToObject(f, key, text);
	if (r->source != NULL)
		cJSON_AddStringToObject(f, "source", r->source);
	if (r->dry_run)
		cJSON_AddBoolToObject(f, "dryRun", 1);
	return (f);
}

static void note(struct result *, cJSON *, enum log_level, const char *, const char *,
    va_list) __attribute__((format(printf, 5, 0)));

/* note(r, arr, lvl, key, fmt, ap): append a step or warning to ${arr} and log it. */
static void
note(struct result *r, cJSON *arr, enum log_level lvl, const char *key,
    const char *fmt, va_list ap)
{
	char *s;

	if ((s = vfmt(fmt, ap)) == NULL)
		return;
	cJSON_AddItemToArray(arr, cJSON_CreateString(s));
	log_msg(lvl, key, log_fields(r, key, s));
	free(s);
}

void
result_step(struct result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note(r, r->steps, LOG_INFO, "step", fmt, ap);
	va_end(ap);
}

void
result_warn(struct result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note(r, r->warnings, LOG_WARN, "warning", fmt, ap);
	va_end(ap);
}

void
result_finish(struct result *r, enum result_outcome outcome, const char *fmt, ...)
{
	va_list ap;

	r->outcome = outcome;
	free(r->reason);
	va_start(ap, fmt);
	r->reason = vfmt(fmt, ap);
	va_end(ap);
}

void
result_fail(struct result *r, const char *error_type, const char *fmt, ...)
{
	va_list ap;

	r->outcome = RESULT_FAILED;
	xstrdup_replace(&r->error_type, error_type);
	free(r->reason);
	va_start(ap, fmt);
	r->reason = vfmt(fmt, ap);
	va_end(ap);
}

void
result_add_opt(cJSON *o, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, key, v);
}

cJSON *
result_json(const struct result *r)
{
	cJSON *o, *it;

	if ((o = cJSON_CreateObject()) == NULL)
		return (NULL);
	cJSON_AddStringToObject(o, "outcome", result_outcome_name(r->outcome));
	result_add_opt(o, "action", r->action);
	result_add_opt(o, "source", r->source);
	result_add_opt(o, "sourceDb", r->source_db);
	result_add_opt(o, "transit", r->transit);
	result_add_opt(o, "backup", r->backup);
	result_add_opt(o, "restored", r->restored);
	result_add_opt(o, "reason", r->reason);
	result_add_opt(o, "errorType", r->error_type);
	if (r->dry_run)
		cJSON_AddBoolToObject(o, "dryRun", 1);
	cJSON_AddItemToObject(o, "steps", r->steps ? cJSON_Duplicate(r->steps, 1) :
	    cJSON_CreateArray());
	if (r->warnings != NULL && cJSON_GetArraySize(r->warnings) > 0)
		cJSON_AddItemToObject(o, "warnings", cJSON_Duplicate(r->warnings, 1));
	if (r->extra != NULL) {
		cJSON_ArrayForEach(it, r->extra) {
			if (it->string != NULL && !cJSON_HasObjectItem(o, it->string))
				cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
		}
	}
	return (o);
}

char *
result_print(const struct result *r)
{
	cJSON *o;
	char *s;

	if ((o = result_json(r)) == NULL)
		return (NULL);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return (s);
}

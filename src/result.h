/*
 * result: the JSON result of one invocation (outcome, source, steps,
 * reason, transit/backup ids), built step by step as the ferry works, and
 * the function error it becomes when a human has to fix something.
 */
#ifndef SNAPFERRY_RESULT_H
#define SNAPFERRY_RESULT_H

#include <cjson/cJSON.h>

enum result_outcome {
	RESULT_NONE = 0,	/* not decided yet */
	RESULT_DONE,		/* the backup copy exists and the clean-up is done */
	RESULT_PENDING,		/* work under way or postponed; a later trigger continues */
	RESULT_SKIPPED,		/* not eligible (reason says why) */
	RESULT_IGNORED,		/* not ours to act on (reason says why) */
	RESULT_FAILED		/* needs a human: error_type and reason say what to fix */
};

struct result {
	enum result_outcome	 outcome;
	char			*action;	/* "advance", "sweep", "restore", ... */
	char			*source;	/* ARN of S */
	char			*source_db;
	char			*transit;	/* id of T, when one is used */
	char			*backup;	/* id of B */
	char			*restored;	/* id of a restored DB */
	char			*reason;
	char			*error_type;	/* "Snapferry.AccessDenied", ... when FAILED */
	int			 dry_run;
	cJSON			*steps;		/* array of strings */
	cJSON			*warnings;	/* array of strings */
	cJSON			*extra;		/* object merged into the JSON (sweep counters) */
};

/** result_init(r, action): empty result; 0 or -1 (ENOMEM). */
int	result_init(struct result *r, const char *action);
/** result_clean(r): free everything; safe on a zeroed struct. */
void	result_clean(struct result *r);
/** result_outcome_name(o): "done", "pending", ... */
const char *result_outcome_name(enum result_outcome o);
/** result_step(r, fmt, ...): append a step and log it as a JSON line at info. */
void	result_step(struct result *r, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/** result_warn(r, fmt, ...): append a warning and log it at warn. */
void	result_warn(struct result *r, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/** result_finish(r, outcome, fmt, ...): set the outcome and reason (the last call wins). */
void	result_finish(struct result *r, enum result_outcome outcome, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/** result_fail(r, error_type, fmt, ...): outcome FAILED with ${error_type} and reason. */
void	result_fail(struct result *r, const char *error_type, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/** result_add_opt(o, key, v): add string member ${key} to ${o} when ${v} is set (the one
 *  helper of every JSON document snapferry builds). */
void	result_add_opt(cJSON *o, const char *key, const char *v);
/** result_json(r): the result as a new cJSON object (cJSON_Delete it); NULL on ENOMEM. */
cJSON	*result_json(const struct result *r);
/** result_print(r): result_json printed unformatted; malloc'd. */
char	*result_print(const struct result *r);

#endif

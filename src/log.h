/*
 * log: one JSON object per line (timestamp, level, requestId, message,
 * fields), filtered by LOG_LEVEL, and CloudWatch Embedded Metric Format
 * records.  Never pass a secret to these functions.
 */
#ifndef SNAPFERRY_LOG_H
#define SNAPFERRY_LOG_H

#include <stdio.h>
#include <cjson/cJSON.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/** log_parse_level(s, out): "debug"|"info"|"warn"|"error" (any case); -1 otherwise. */
int	log_parse_level(const char *s, enum log_level *out);
/** log_set_level(l): drop lines below ${l}. */
void	log_set_level(enum log_level l);
/** log_set_stream(f): where lines go (stdout by default; stderr for CLI runs). */
void	log_set_stream(FILE *f);
/** log_set_mode(mode): "mode" stamped on each line and metric record (a static string). */
void	log_set_mode(const char *mode);
/** log_set_request_id(id): request id stamped on each line; NULL clears it. */
void	log_set_request_id(const char *id);
/** log_enabled(l): 1 when lines of level ${l} are written (skip building fields otherwise). */
int	log_enabled(enum log_level l);
/** log_msg(l, msg, fields): write a line; takes ownership of ${fields} (object or NULL). */
void	log_msg(enum log_level l, const char *msg, cJSON *fields);
/** log_metric(name, value, unit, dim, dimval): one EMF record in namespace "snapferry";
 *  ${dim} may be NULL for a metric without dimensions. */
void	log_metric(const char *name, double value, const char *unit,
	    const char *dim, const char *dimval);
/** log_metric2(name, value, unit, dim, dimval, dim2, dimval2): log_metric with a second
 *  dimension ${dim2} (ignored when NULL). */
void	log_metric2(const char *name, double value, const char *unit, const char *dim,
	    const char *dimval, const char *dim2, const char *dimval2);
/** log_metric3(name, value, unit, dim, dimval, dim2, dimval2, dim3, dimval3): one EMF record
 *  with up to three dimensions in one dimension set; a NULL ${dim2} or ${dim3} ends it. */
void	log_metric3(const char *name, double value, const char *unit, const char *dim,
	    const char *dimval, const char *dim2, const char *dimval2, const char *dim3,
	    const char *dimval3);

#define log_debug(msg, f)	log_msg(LOG_DEBUG, (msg), (f))
#define log_info(msg, f)	log_msg(LOG_INFO, (msg), (f))
#define log_warn(msg, f)	log_msg(LOG_WARN, (msg), (f))
#define log_error(msg, f)	log_msg(LOG_ERROR, (msg), (f))

#endif

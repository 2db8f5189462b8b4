/*
 * unit.h: the few macros every C unit test uses.  A test binary prints
 * "N passed, N failed" and exits non-zero when anything failed.
 */
#ifndef SNAPFERRY_UNIT_H
#define SNAPFERRY_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_pass, unit_fail;

#define CHECK(cond) do {						\
	if (cond) unit_pass++;						\
	else { unit_fail++;						\
	    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) unit_pass++; \
	else if (g_ == NULL && w_ == NULL) unit_pass++;			\
	else { unit_fail++;						\
	    fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
	        g_ ? g_ : "(null)", w_ ? w_ : "(null)"); }		\
} while (0)

#define UNIT_DONE() do {						\
	printf("%s: %d passed, %d failed\n", __FILE__, unit_pass, unit_fail); \
	return (unit_fail ? 1 : 0);					\
} while (0)

#endif

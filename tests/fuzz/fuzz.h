/*
 * fuzz.h: what every libFuzzer harness in tests/fuzz/ shares: the entry
 * point's prototype, a NUL-terminated copy of the input, a quiet libxml2,
 * and FUZZ_ASSERT, which aborts (a crash libFuzzer reports) when a property
 * of the parsed result does not hold.
 */
#ifndef SNAPFERRY_FUZZ_H
#define SNAPFERRY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* A malloc'd, NUL-terminated copy of the input (the parsers under test take C strings). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return (s);
}

static inline void
fuzz_xml_silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* Every harness: libxml2 initialised once, before the first input, and kept quiet
 * (each harness includes this header once, so this is its only definition). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, fuzz_xml_silent);
	return (0);
}

/* Touch every byte of a string so ASan sees a read past its end. */
static inline size_t
fuzz_touch(const char *s)
{
	return (s != NULL ? strlen(s) : 0);
}

#endif

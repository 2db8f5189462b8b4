/*
 * utf8: UTF-8 validation, cutting on character boundaries, and scrubbing.
 * JSON carries any bytes cJSON is given: these keep what snapferry writes
 * valid UTF-8 (the well-formed byte sequences of RFC 3629, section 4).
 */
#include <string.h>

#include "utf8.h"

/*
 * seq(p, n): the length (1-4) of the well-formed character at ${p}, of which ${n} bytes
 * (>= 1) are there; 0 when it is not well-formed; -1 when it is well-formed as far as
 * the ${n} bytes go but needs more (cut short).
 */
static int
seq(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	int len, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		len = 3;
		if (p[0] == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (p[0] == 0xED)
			hi = 0x9F;	/* surrogates */
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		len = 4;
		if (p[0] == 0xF0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xF4)
			hi = 0x8F;	/* past U+10FFFF */
	} else
		return (0);
	for (i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return (-1);
		if (p[i] < lo || p[i] > hi)
			return (0);
		lo = 0x80;
		hi = 0xBF;
	}
	return (len);
}

size_t
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int l;

	while (i < n) {
		if ((l = seq(p + i, n - i)) <= 0)
			return (i);
		i += (size_t)l;
	}
	return (n);
}

size_t
utf8_cut(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int l;

	while (p[i] != '\0') {
		/* A NUL is no continuation byte: a character it cuts short is -1. */
		if ((l = seq(p + i, strnlen(s + i, 4))) < 0)
			break;
		if (l == 0)
			l = 1;	/* not UTF-8 at all: a byte is a byte (utf8_scrub's business) */
		if (i + (size_t)l > max)
			break;
		i += (size_t)l;
	}
	return (i);
}

size_t
utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t i = 0, n = 0;
	int l;

	while (p[i] != '\0') {
		if ((l = seq(p + i, strnlen(s + i, 4))) <= 0) {
			p[i++] = '?';
			n++;
		} else
			i += (size_t)l;
	}
	return (n);
}

/*
 * utf8: the UTF-8 checks that keep every result document and log line valid
 * UTF-8: validating input, cutting text on character boundaries, and
 * replacing what is not UTF-8 on the way out.
 */
#ifndef SNAPFERRY_UTF8_H
#define SNAPFERRY_UTF8_H

#include <stddef.h>

/** utf8_valid(s, n): the length of the longest prefix of the ${n} bytes at ${s} that is
 *  valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): ${n} when all
 *  of it is. */
size_t	utf8_valid(const char *s, size_t n);

/** utf8_cut(s, max): the length of the longest prefix of string ${s}, at most ${max} bytes,
 *  that does not end inside a character (nor with a character the string itself cuts
 *  short).  For "%.*s" in place of "%.<max>s". */
size_t	utf8_cut(const char *s, size_t max);

/** utf8_scrub(s): replace each byte of string ${s} that is not part of a valid UTF-8
 *  character with '?', in place.  The number of bytes replaced. */
size_t	utf8_scrub(char *s);

#endif

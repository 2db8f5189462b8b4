/*
 * test_utf8: validation (overlong forms, surrogates, past U+10FFFF, cut
 * short), cutting on character boundaries, and scrubbing, as tables.
 */
#include <string.h>

#include "utf8.h"
#include "unit.h"

static const struct {
	const char	*name;
	const char	*in;
	size_t		 valid;		/* utf8_valid over strlen(in) */
} valids[] = {
	{ "empty", "", 0 },
	{ "ASCII", "snapshot", 8 },
	{ "2, 3 and 4 bytes", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9 },
	{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 4 },
	{ "lone continuation", "a\x80", 1 },
	{ "lone lead at the end", "ab\xc3", 2 },
	{ "lead then ASCII", "\xc3" "a", 0 },
	{ "3-byte cut short", "x\xe2\x82", 1 },
	{ "overlong 2 bytes", "\xc0\xaf", 0 },
	{ "overlong 2 bytes, C1", "\xc1\xbf", 0 },
	{ "overlong 3 bytes", "\xe0\x80\xaf", 0 },
	{ "overlong 4 bytes", "\xf0\x80\x80\xaf", 0 },
	{ "surrogate", "ok\xed\xa0\x80", 2 },
	{ "past U+10FFFF", "\xf4\x90\x80\x80", 0 },
	{ "F5 lead", "\xf5\x80\x80\x80", 0 },
	{ "FF", "\xff", 0 },
};

static const struct {
	const char	*name;
	const char	*in;
	size_t		 max;
	size_t		 cut;
} cuts[] = {
	{ "shorter than max", "abc", 10, 3 },
	{ "ASCII at max", "abcdef", 4, 4 },
	{ "2 bytes across max", "abc\xc3\xa9", 4, 3 },
	{ "2 bytes up to max", "abc\xc3\xa9", 5, 5 },
	{ "3 bytes across max, 1 in", "ab\xe2\x82\xac", 3, 2 },
	{ "3 bytes across max, 2 in", "ab\xe2\x82\xac", 4, 2 },
	{ "4 bytes across max", "a\xf0\x9f\x98\x80z", 4, 1 },
	{ "4 bytes up to max", "a\xf0\x9f\x98\x80z", 5, 5 },
	{ "max 0", "\xc3\xa9", 0, 0 },
	{ "the string cuts it short", "ab\xe2\x82", 10, 2 },
	{ "a byte that is no UTF-8 counts as one", "a\xff" "b", 2, 2 },
};

static const struct {
	const char	*name;
	const char	*in;
	const char	*out;
	size_t		 n;
} scrubs[] = {
	{ "valid is left alone", "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac", 0 },
	{ "lone lead", "ab\xc3", "ab?", 1 },
	{ "lone lead before ASCII", "\xc3\"x", "?\"x", 1 },
	{ "cut 3-byte", "\xe2\x82", "??", 2 },
	{ "overlong", "\xc0\xaf.", "??.", 2 },
	{ "surrogate", "\xed\xa0\x80", "???", 3 },
	{ "FF FE", "\xff\xfe", "??", 2 },
};

int
main(void)
{
	char buf[64];
	size_t i, n;

	for (i = 0; i < sizeof(valids) / sizeof(valids[0]); i++) {
		n = utf8_valid(valids[i].in, strlen(valids[i].in));
		if (n != valids[i].valid)
			fprintf(stderr, "valid \"%s\": %zu, want %zu\n", valids[i].name, n,
			    valids[i].valid);
		CHECK(n == valids[i].valid);
	}
	/* The length given, not the NUL, bounds it: an embedded NUL is U+0000. */
	CHECK(utf8_valid("a\0b", 3) == 3);
	CHECK(utf8_valid("\xc3\xa9", 1) == 0);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		n = utf8_cut(cuts[i].in, cuts[i].max);
		if (n != cuts[i].cut)
			fprintf(stderr, "cut \"%s\": %zu, want %zu\n", cuts[i].name, n,
			    cuts[i].cut);
		CHECK(n == cuts[i].cut);
	}
	for (i = 0; i < sizeof(scrubs) / sizeof(scrubs[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", scrubs[i].in);
		n = utf8_scrub(buf);
		CHECK_STR(buf, scrubs[i].out);
		CHECK(n == scrubs[i].n);
		CHECK(utf8_valid(buf, strlen(buf)) == strlen(buf));
	}
	UNIT_DONE();
}

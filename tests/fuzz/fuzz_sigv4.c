/*
 * fuzz_sigv4: SigV4 canonicalisation of arbitrary URLs and headers.  Input:
 * a URL line, then "Name: value" header lines up to an empty line, then the
 * body.  The URL goes through sigv4_url_split, the canonical path and query,
 * a canonical request, the Authorization header, presigning and aws_sign.
 */
#include <time.h>

#include "fuzz.h"

#include "aws.h"
#include "credentials.h"
#include "sigv4.h"

#define MAX_HEADERS	16

static const struct sigv4_signer signer0 = {
	"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token",
	"eu-west-1", "rds", "20150830T123600Z"
};

static int
canonical_char(char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '.' || c == '~' || c == '%');
}

/* A canonical path: encoded, no empty, "." or ".." segment. */
static void
check_path(const char *p)
{
	const char *s, *e;

	FUZZ_ASSERT(p != NULL && p[0] != '\0');
	for (s = p; *s; s++)
		FUZZ_ASSERT(canonical_char(*s) || *s == '/');
	FUZZ_ASSERT(strstr(p, "//") == NULL);
	for (s = p; ; s = e + 1) {
		if ((e = strchr(s, '/')) == NULL)
			e = s + strlen(s);
		FUZZ_ASSERT(!(e - s == 1 && s[0] == '.'));
		FUZZ_ASSERT(!(e - s == 2 && s[0] == '.' && s[1] == '.'));
		if (*e == '\0')
			break;
	}
}

static int
hex_char(char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
}

/*
 * A canonical query: k=v pairs as sent (botocore's rule), so only bytes a URL carries
 * raw (printable ASCII but space and "<>\\^`{|}), every '%' an escape; sorted,
 * stable under a second pass.
 */
static void
check_query(const char *q)
{
	char *again;
	const char *s;

	FUZZ_ASSERT(q != NULL);
	for (s = q; *s; s++) {
		FUZZ_ASSERT(*s > 0x20 && *s < 0x7f && strchr("\"<>\\^`{|}", *s) == NULL);
		if (*s == '%')
			FUZZ_ASSERT(hex_char(s[1]) && hex_char(s[2]));
	}
	again = sigv4_canonical_query(q);
	FUZZ_ASSERT(again != NULL && strcmp(again, q) == 0);
	free(again);
}

static void
roundtrip(const char *s, size_t n)
{
	char *enc, *dec;
	const char *p;

	enc = sigv4_uri_encode(s, n, 0);
	FUZZ_ASSERT(enc != NULL);
	for (p = enc; *p; p++)
		FUZZ_ASSERT(canonical_char(*p));
	dec = sigv4_uri_decode(enc, strlen(enc));
	FUZZ_ASSERT(dec != NULL && memcmp(dec, s, n) == 0);
	free(dec);
	free(enc);
	/* Decoding never grows the text. */
	dec = sigv4_uri_decode(s, n);
	FUZZ_ASSERT(dec != NULL && strlen(dec) <= n);
	free(dec);
}

/* Signed header names: lower case, strictly sorted (names holding ';' aside). */
static void
check_signed(const char *sh, char *const *names, size_t n_headers)
{
	const char *s, *e, *prev = NULL;
	size_t plen = 0, len, count = 0, i;
	int c;

	FUZZ_ASSERT(sh != NULL);
	for (s = sh; *s; s++)
		FUZZ_ASSERT(!(*s >= 'A' && *s <= 'Z'));
	for (i = 0; i < n_headers; i++)
		if (strchr(names[i], ';') != NULL)
			return;
	if (n_headers == 0) {
		FUZZ_ASSERT(*sh == '\0');
		return;
	}
	for (s = sh; ; s = e + 1) {
		if ((e = strchr(s, ';')) == NULL)
			e = s + strlen(s);
		len = (size_t)(e - s);
		if (prev != NULL) {
			c = memcmp(prev, s, plen < len ? plen : len);
			FUZZ_ASSERT(c < 0 || (c == 0 && plen < len));
		}
		prev = s;
		plen = len;
		count++;
		if (*e == '\0')
			break;
	}
	FUZZ_ASSERT(count <= n_headers);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_header h[MAX_HEADERS];
	char *line[1 + MAX_HEADERS], *names[MAX_HEADERS];
	const uint8_t *p = data, *e = data + size, *nl;
	struct sigv4_request r;
	struct aws_signed sg;
	struct aws_creds cr;
	char *host, *path, *query, *cp, *cq, *creq, *sh, *auth, *pre, *colon;
	size_t nlines = 0, nh = 0, i, n;
	int split;

	/* URL and header lines up to the first empty line; the rest is the body. */
	while (p < e && nlines < 1 + MAX_HEADERS) {
		nl = memchr(p, '\n', (size_t)(e - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(e - p);
		if (nlines > 0 && n == 0) {
			p += 1;
			break;
		}
		line[nlines++] = fuzz_cstr(p, n);
		p += n + (nl != NULL);
	}
	if (nlines == 0)
		return (0);
	for (i = 1; i < nlines; i++) {
		if ((colon = strchr(line[i], ':')) != NULL) {
			*colon = '\0';
			h[nh].value = colon + 1;
		} else
			h[nh].value = "";
		names[nh] = line[i];
		h[nh].name = names[nh];
		nh++;
	}

	roundtrip(line[0], strlen(line[0]));
	/* Raw, as a path that never went through sigv4_url_split. */
	cp = sigv4_canonical_path(line[0], 0);
	FUZZ_ASSERT(cp != NULL);
	if (line[0][0] == '/')
		check_path(cp);
	free(cp);

	split = sigv4_url_split(line[0], &host, &path, &query);
	if (split == 0) {
		FUZZ_ASSERT(host != NULL && host[0] != '\0' && path != NULL && path[0] == '/');
		FUZZ_ASSERT(query == NULL || strchr(query, '#') == NULL);
		cp = sigv4_canonical_path(path, 1);
		FUZZ_ASSERT(cp != NULL && strcmp(cp, path) == 0);
		free(cp);
		cp = sigv4_canonical_path(path, 0);
		check_path(cp);
		free(cp);
		cq = sigv4_canonical_query(query);
		check_query(cq);
		free(cq);

		memset(&r, 0, sizeof(r));
		r.method = "POST";
		r.path = path;
		r.query = query;
		r.headers = h;
		r.n_headers = nh;
		r.body = p;
		r.body_len = (size_t)(e - p);
		creq = sigv4_canonical_request(&r, &sh);
		FUZZ_ASSERT(creq != NULL && strncmp(creq, "POST\n/", 6) == 0);
		check_signed(sh, names, nh);
		free(sh);
		free(creq);
		auth = sigv4_authorization(&signer0, &r);
		FUZZ_ASSERT(auth != NULL && strncmp(auth, "AWS4-HMAC-SHA256 Credential=", 28) == 0);
		free(auth);
		free(host);
		free(path);
		free(query);
	} else
		FUZZ_ASSERT(host == NULL && path == NULL && query == NULL);

	pre = sigv4_presign(&signer0, "GET", line[0], 900);
	FUZZ_ASSERT((pre != NULL) == (split == 0));
	if (pre != NULL) {
		n = strlen(pre);
		FUZZ_ASSERT(n > 64 && strspn(pre + n - 64, "0123456789abcdef") == 64);
		free(pre);
	}

	memset(&cr, 0, sizeof(cr));
	cr.access_key_id = (char *)(uintptr_t)"AKIDEXAMPLE";
	cr.secret_access_key = (char *)(uintptr_t)"secret";
	cr.session_token = nh > 0 ? (char *)(uintptr_t)h[0].value : NULL;
	FUZZ_ASSERT(aws_sign(&cr, "eu-west-1", "rds", (time_t)1700000000, "POST", line[0],
	    nh > 1 ? h[1].value : NULL, nh > 2 ? h[2].value : NULL, p, (size_t)(e - p),
	    &sg) == (split == 0 ? 0 : -1));
	if (split == 0)
		FUZZ_ASSERT(sg.auth != NULL && sg.n >= 3);
	aws_signed_clean(&sg);

	for (i = 0; i < nlines; i++)
		free(line[i]);
	return (0);
}

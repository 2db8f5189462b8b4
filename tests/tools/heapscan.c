/*
 * heapscan: signed calls with the environment's session token, an AssumeRole,
 * then every clean-up; then it reads its own writable anonymous memory ([heap]
 * and anonymous mappings, not the stack, where the environment lives) through
 * /proc/self/mem and counts the secrets still there.  Freed blocks count: a
 * token left in freed heap is what a core dump or a later bug would expose.
 *
 *   heapscan <calls>        (HEAPSCAN_LIVE=1: also scan before the clean-up)
 *
 * Environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_REGION, AWS_ENDPOINT_URL_RDS (answers DescribeDBSnapshots) and
 * AWS_ENDPOINT_URL_STS (answers AssumeRole with a session token starting
 * "assumedTOKEN").  Prints {"when":"after","hits":{...},"bytes_scanned":n}.  Exit 0, or 1 when
 * a call failed, 2 on usage.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "assume.h"
#include "aws.h"
#include "credentials.h"
#include "http.h"

#define SCAN_CHUNK	(1u << 20)

static const char *const *scan_pats;
static int scan_and_print(const char *, const char *const [4]);

/* The calls, each client and credential cleaned up afterwards.  0 or -1. */
static int
run_calls(long calls)
{
	struct http_client *http = NULL;
	struct assume_cache *cc = NULL;
	struct aws_client rds, sts;
	struct aws_creds cr, ar;
	struct aws_error err;
	const char *region = getenv("AWS_REGION");
	long i;
	int rc = -1;

	memset(&err, 0, sizeof(err));
	memset(&rds, 0, sizeof(rds));
	memset(&sts, 0, sizeof(sts));
	if (region == NULL)
		region = "us-east-1";
	if (creds_from_env(&cr) != 0)
		return (-1);
	if ((http = http_client_new()) == NULL || (cc = assume_cache_new()) == NULL ||
	    aws_client_init(&rds, http, "rds", region, &cr) != 0 ||
	    aws_client_init(&sts, http, "sts", region, &cr) != 0)
		goto done;
	for (i = 0; i < calls; i++) {
		struct aws_params p;
		xmlDocPtr doc = NULL;
		int bad;

		aws_params_init(&p);
		aws_params_add(&p, "DBSnapshotIdentifier", "my-snap");
		bad = aws_query(&rds, "2014-10-31", "DescribeDBSnapshots", &p, &doc, &err);
		aws_params_clean(&p);
		xmlFreeDoc(doc);
		if (bad != 0)
			goto done;
	}
	if (assume_role(cc, &sts, "arn:aws:iam::444455556666:role/snapferry-backup",
	    "snapferry", NULL, 900, &ar, &err) != 0)
		goto done;
	creds_clean(&ar);
	rc = 0;
	/* What the libraries still hold while the clients live (a warm function's state). */
	if (getenv("HEAPSCAN_LIVE") != NULL && scan_and_print("live", scan_pats) != 0)
		rc = -1;
done:
	if (rc != 0)
		fprintf(stderr, "heapscan: %s: %s\n", err.code ? err.code : "setup",
		    err.message ? err.message : "");
	aws_error_clear(&err);
	aws_client_clean(&sts);
	aws_client_clean(&rds);
	assume_cache_free(cc);
	http_client_free(http);
	creds_clean(&cr);
	return (rc);
}

static size_t
count_in(const unsigned char *p, size_t n, const char *pat)
{
	size_t pl = strlen(pat), hits = 0;
	const unsigned char *q, *e = p + n;

	for (q = p; pl > 0 && (size_t)(e - q) >= pl; q++)
		if (*q == (unsigned char)pat[0] && memcmp(q, pat, pl) == 0)
			hits++;
	return (hits);
}

/* Count each of ${pats} in writable anonymous memory and [heap]; print the counts. */
static int
scan_and_print(const char *when, const char *const pats[4])
{
	static const char *const names[4] = { "session_token", "secret_key", "assumed_token",
	    "authorization" };
	size_t hits[4] = { 0, 0, 0, 0 }, scanned = 0, i;
	unsigned char *chunk;
	char line[512];
	FILE *maps;
	int mem;

	/* The scan buffer is a mapping of its own, skipped: it holds what it read. */
	chunk = mmap(NULL, SCAN_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (chunk == MAP_FAILED)
		return (-1);
	if ((mem = open("/proc/self/mem", O_RDONLY)) < 0) {
		munmap(chunk, SCAN_CHUNK);
		return (-1);
	}
	if ((maps = fopen("/proc/self/maps", "r")) == NULL) {
		close(mem);
		munmap(chunk, SCAN_CHUNK);
		return (-1);
	}
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long lo, hi, off;
		char perms[8], path[256] = "";

		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %255s", &lo, &hi, perms, &off, path) < 4)
			continue;
		if (perms[0] != 'r' || perms[1] != 'w')
			continue;
		if (path[0] != '\0' && strcmp(path, "[heap]") != 0)
			continue;	/* the stack, files, [vvar]... */
		if (lo == (unsigned long)(uintptr_t)chunk)
			continue;
		/* Chunks overlap by 256 bytes so that no secret is split unseen. */
		for (; lo < hi; lo += SCAN_CHUNK - 256) {
			size_t want = hi - lo < SCAN_CHUNK ? hi - lo : SCAN_CHUNK;
			ssize_t got = pread(mem, chunk, want, (off_t)lo);

			if (got <= 0)
				break;
			scanned += (size_t)got;
			for (i = 0; i < 4; i++)
				hits[i] += count_in(chunk, (size_t)got, pats[i]);
			if (want < SCAN_CHUNK)
				break;
		}
	}
	fclose(maps);
	close(mem);
	memset(chunk, 0, SCAN_CHUNK);
	munmap(chunk, SCAN_CHUNK);
	printf("{\"when\":\"%s\",\"hits\":{", when);
	for (i = 0; i < 4; i++)
		printf("%s\"%s\":%zu", i ? "," : "", names[i], hits[i]);
	printf("},\"bytes_scanned\":%zu}\n", scanned);
	fflush(stdout);
	return (0);
}

int
main(int argc, char **argv)
{
	/* Patterns: the environment's copies (on the stack, never scanned) and literals. */
	const char *pats[4];

	if (argc != 2 || getenv("AWS_SESSION_TOKEN") == NULL) {
		fprintf(stderr, "usage: heapscan <calls> (with AWS_SESSION_TOKEN set)\n");
		return (2);
	}
	pats[0] = getenv("AWS_SESSION_TOKEN");
	pats[1] = getenv("AWS_SECRET_ACCESS_KEY");
	pats[2] = "assumedTOKEN";
	pats[3] = "Authorization: AWS4-HMAC-SHA256";
	scan_pats = pats;
	if (aws_global_init() != 0)
		return (1);
	if (run_calls(strtol(argv[1], NULL, 10)) != 0)
		return (1);
	aws_global_cleanup();
	return (scan_and_print("after", pats) == 0 ? 0 : 1);
}

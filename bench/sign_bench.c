/*
 * sign_bench: how fast the project signs one request shaped like a real
 * CopyDBSnapshot call (form encoding + SigV4 with a session token), and the
 * bare signature over a fixed body: with the signing key derived for every
 * request (aws_sign) and with it cached as a client does (aws_sign_cached).
 * A benchmark, not a test: prints JSON.
 *
 *   sign_bench [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "buf.h"
#include "credentials.h"
#include "sigv4.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
build_params(struct aws_params *p)
{
	aws_params_init(p);
	return (aws_params_add(p, "SourceDBSnapshotIdentifier",
	    "arn:aws:rds:eu-west-1:111122223333:snapshot:rds:prod-db-2024-05-01-03-10") ||
	    aws_params_add(p, "TargetDBSnapshotIdentifier", "snapferry-prod-db-2024-05-01-03-10") ||
	    aws_params_add(p, "KmsKeyId",
	    "arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab") ||
	    aws_params_addi(p, "Tags.Tag", 1, "Key", "snapferry:source-db") ||
	    aws_params_addi(p, "Tags.Tag", 1, "Value", "prod db") ? -1 : 0);
}

int
main(int argc, char **argv)
{
	struct aws_creds c = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW==", 0 };
	const char *url = "https://rds.eu-west-1.amazonaws.com/";
	const char *ct = "application/x-www-form-urlencoded; charset=utf-8";
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000, i;
	struct aws_params p;
	struct aws_signed s;
	struct sigv4_cache cache;
	struct buf b;
	double t0, full, bare, cached;

	if (n <= 0 || build_params(&p) != 0)
		return (1);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		buf_init(&b, 1u << 20);
		if (aws_form_encode(&b, "CopyDBSnapshot", "2014-10-31", &p) != 0 ||
		    aws_sign(&c, "eu-west-1", "rds", 1440938160, "POST", url, ct, NULL,
		    b.data, b.len, &s) != 0)
			return (1);
		aws_signed_clean(&s);
		buf_clean(&b);
	}
	full = now_s() - t0;
	buf_init(&b, 1u << 20);
	aws_form_encode(&b, "CopyDBSnapshot", "2014-10-31", &p);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (aws_sign(&c, "eu-west-1", "rds", 1440938160, "POST", url, ct, NULL,
		    b.data, b.len, &s) != 0)
			return (1);
		aws_signed_clean(&s);
	}
	bare = now_s() - t0;
	sigv4_cache_init(&cache);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (aws_sign_cached(&cache, &c, "eu-west-1", "rds", 1440938160, "POST", url, ct,
		    NULL, b.data, b.len, &s) != 0)
			return (1);
		aws_signed_clean(&s);
	}
	cached = now_s() - t0;
	if (cache.derivations != 1)
		return (1);	/* the key must have been derived once, then reused */
	sigv4_cache_clean(&cache);
	buf_clean(&b);
	aws_params_clean(&p);
	printf("{\"iterations\":%ld,\"encode_and_sign_per_s\":%.0f,\"sign_per_s\":%.0f,"
	    "\"sign_cached_key_per_s\":%.0f}\n", n, (double)n / full, (double)n / bare,
	    (double)n / cached);
	return (0);
}

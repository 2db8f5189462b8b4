/*
 * test_ferry_dest: ferry_destinations, the rule of which backup Regions the ferry fills
 * itself: only AWS_REGION when it is one of BACKUP_REGIONS (the keepers chain the others
 * from it), else every Region in one step.  The configuration comes from config_load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ferry.h"
#include "log.h"
#include "unit.h"

static const char *env_region, *env_regions, *env_keys;

static const char *
fake_env(const char *name)
{
	if (strcmp(name, "AWS_REGION") == 0)
		return (env_region);
	if (strcmp(name, "BACKUP_REGIONS") == 0)
		return (env_regions);
	if (strcmp(name, "BACKUP_KMS_KEY_ID") == 0)
		return (env_keys);
	if (strcmp(name, "BACKUP_ACCOUNT_ID") == 0)
		return ("222222222222");
	if (strcmp(name, "BACKUP_ROLE_ARN") == 0)
		return ("arn:aws:iam::222222222222:role/snapferry-backup");
	if (strcmp(name, "SHARE_KMS_KEY_ID") == 0)
		return ("11111111-2222-3333-4444-555555555555");
	if (strcmp(name, "LOG_LEVEL") == 0)
		return ("error");
	return (NULL);
}

#define MRK	"arn:aws:kms:us-east-1:222222222222:key/mrk-1234abcd12ab34cd56ef1234567890ab"
#define K(r)	"arn:aws:kms:" r ":222222222222:key/66666666-7777-8888-9999-000000000000"

static void
test_table(void)
{
	static const struct {
		const char *name, *region, *regions, *keys;
		const char *want;	/* the ferry's Regions, comma-joined */
		int chained;
	} t[] = {
		{ "one, the source's", "eu-west-1", NULL, K("eu-west-1"), "eu-west-1", 0 },
		{ "one, another", "eu-west-1", "us-east-1", K("us-east-1"), "us-east-1", 0 },
		{ "two, source first", "eu-west-1", "eu-west-1,us-east-1",
		    K("eu-west-1") "," K("us-east-1"), "eu-west-1", 1 },
		{ "two, source second", "us-east-1", "eu-west-1,us-east-1",
		    K("eu-west-1") "," K("us-east-1"), "us-east-1", 1 },
		{ "two, source not one", "eu-central-1", "eu-west-1,us-east-1",
		    K("us-east-1") "," K("eu-west-1"), "eu-west-1,us-east-1", 0 },
		{ "three, source not one, mrk", "ap-south-1",
		    "us-east-1,eu-west-1,sa-east-1", MRK,
		    "us-east-1,eu-west-1,sa-east-1", 0 },
		{ "three, source one, mrk", "sa-east-1", "us-east-1,eu-west-1,sa-east-1", MRK,
		    "sa-east-1", 1 },
	};
	struct config cfg;
	struct config_error ce;
	size_t i, j, n, ix[16];
	char got[256];
	int chained;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		env_region = t[i].region;
		env_regions = t[i].regions;
		env_keys = t[i].keys;
		memset(&cfg, 0, sizeof(cfg));
		if (config_load(&cfg, fake_env, &ce) != 0) {
			fprintf(stderr, "case %s: %s: %s\n", t[i].name, ce.var, ce.msg);
			CHECK(0);
			continue;
		}
		n = ferry_destinations(&cfg, ix, 16, &chained);
		got[0] = '\0';
		for (j = 0; j < n; j++) {
			if (j > 0)
				strncat(got, ",", sizeof(got) - strlen(got) - 1);
			strncat(got, cfg.backup_regions[ix[j]], sizeof(got) - strlen(got) - 1);
		}
		if (strcmp(got, t[i].want) != 0 || chained != t[i].chained)
			fprintf(stderr, "case %s: got %s chained %d\n", t[i].name, got, chained);
		CHECK(strcmp(got, t[i].want) == 0);
		CHECK(chained == t[i].chained);
		/* Each destination is served with its own Region's key. */
		for (j = 0; j < n; j++)
			CHECK(strstr(cfg.backup_kms_keys[ix[j]], cfg.backup_regions[ix[j]]) != NULL);
		/* ${max} bounds what is written. */
		CHECK(ferry_destinations(&cfg, ix, 1, &chained) == 1);
		CHECK(ferry_destinations(&cfg, ix, 0, &chained) == 0);
		config_clean(&cfg);
	}
}

int
main(void)
{
	log_set_stream(stderr);
	log_set_level(LOG_ERROR);
	test_table();
	UNIT_DONE();
}

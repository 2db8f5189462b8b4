/*
 * keeper_copy: the classification of a backup copy from AWS's immutable record of it; the
 * lineage tags are only cross-checked, and a disagreement is reported, never acted on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arn.h"
#include "aws.h"
#include "keeper_copy.h"
#include "names.h"
#include "rds.h"
#include "retry.h"

/*
 * Slack when a source-time tag is compared with AWS's times: the tag holds the source's
 * SnapshotCreateTime, AWS's OriginalSnapshotCreateTime the time of the CreateDBSnapshot
 * operation; they are not documented to be equal to the second.
 */
#define KEEPER_COPY_TIME_SLACK	300

static int
is_failed_status(const char *st)
{
	return (st != NULL && (strcmp(st, "failed") == 0 ||
	    strncmp(st, "incompatible-", 13) == 0));
}

/*
 * source_id_ok(prefix, id, kind, tag): 1 when ${id}, the id AWS records for the source of a
 * chained copy, is one snapferry gives a backup copy of the source ${tag} names: its
 * names_backup_id, a retry of it, or the id copies had before (names_copy_id).  The id is
 * AWS's record and can't change; it binds the lineage's account and Region (hashed into
 * it) to the copy.
 */
static int
source_id_ok(const char *prefix, const char *id, enum rds_kind kind,
    const struct arn_snapshot *tag)
{
	char *b, *x;
	int at, ok = 0;

	if ((b = names_backup_id(prefix, tag->id, kind, tag->account, tag->region)) == NULL)
		return (0);
	for (at = 1; at <= RETRY_ATTEMPTS && !ok; at++) {
		if ((x = retry_id(b, kind, at)) == NULL)
			break;
		ok = strcmp(x, id) == 0;
		free(x);
	}
	free(b);
	if (!ok && (x = names_copy_id(prefix, tag->id, kind)) != NULL) {
		ok = strcmp(x, id) == 0;
		free(x);
	}
	return (ok);
}

/* chained(prefix, s, src, from, out): copy ${s} says it was chained from Region ${from};
 *  AWS records ${src} as its source.  The lineage's account and region into ${out} when
 *  AWS's record agrees, else ${out}'s mismatch says why. */
static void
chained(const char *prefix, const struct rds_snapshot *s, const struct arn_snapshot *src,
    const char *from, struct keeper_copy *out)
{
	struct arn_snapshot self, tag;

	out->chained = 1;
	memset(&self, 0, sizeof(self));
	memset(&tag, 0, sizeof(tag));
	if (s->arn == NULL || arn_rds_snapshot(s->arn, &self) != 0) {
		snprintf(out->mismatch, sizeof(out->mismatch), "AWS reports no ARN for it");
		return;
	}
	if (strcmp(src->account, self.account) != 0 || strcmp(src->region, from) != 0 ||
	    strcmp(src->region, self.region) == 0) {
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag is %.31s, AWS records "
		    "a copy from account %s region %s", KEEPER_TAG_CHAINED_FROM, from,
		    src->account, src->region);
		goto out;
	}
	if (names_lineage_source(s->tags, s->n_tags, &tag) != 0) {
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag is no snapshot ARN",
		    NAMES_TAG_SOURCE_ARN);
		goto out;
	}
	if (strcmp(tag.region, from) != 0 || strlen(tag.account) != 12 ||
	    strlen(tag.region) >= sizeof(out->region) ||
	    !source_id_ok(prefix, src->id, s->kind, &tag)) {
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag (%.12s, "
		    "%.20s) is not the lineage of %.50s, AWS's source", NAMES_TAG_SOURCE_ARN, tag.account, tag.region, src->id);
		goto out;
	}
	memcpy(out->account, tag.account, 13);
	snprintf(out->region, sizeof(out->region), "%s", tag.region);
out:
	arn_snapshot_clean(&tag);
	arn_snapshot_clean(&self);
}

void
keeper_copy_classify(const char *prefix, const struct rds_snapshot *s, struct keeper_copy *out)
{
	const char *db_tag, *time_tag, *from;
	struct arn_snapshot src, tag;
	time_t tt;
	int have_src = 0;

	memset(out, 0, sizeof(*out));
	out->ours = names_has_prefix(prefix, s->id) &&
	    names_is_snapferry(s->tags, s->n_tags, NAMES_ROLE_BACKUP);
	if (!out->ours)
		return;
	out->available = s->status != NULL && strcmp(s->status, "available") == 0;
	out->failed = is_failed_status(s->status);

	/* AWS's record: whose snapshot it was copied from, of which DB, taken when. */
	from = rds_tag_get(s->tags, s->n_tags, KEEPER_TAG_CHAINED_FROM);
	if (s->source_arn != NULL && arn_rds_snapshot(s->source_arn, &src) == 0) {
		have_src = 1;
		if (from != NULL) {
			chained(prefix, s, &src, from, out);
			if (out->mismatch[0] != '\0')
				goto out;
		} else if (strlen(src.account) == 12 &&
		    strlen(src.region) < sizeof(out->region)) {
			memcpy(out->account, src.account, 13);
			snprintf(out->region, sizeof(out->region), "%s", src.region);
		}
	}
	out->db = s->db_id;
	if (s->original_time == NULL || aws_parse_time(s->original_time, &out->when) != 0)
		out->when = s->created;
	out->attributed = out->account[0] != '\0' && out->db != NULL && out->when != 0;
	if (!out->attributed) {
		snprintf(out->mismatch, sizeof(out->mismatch), "AWS reports no %s for it",
		    !have_src ? (s->kind == RDS_CLUSTER ? "SourceDBClusterSnapshotArn" :
		    "SourceDBSnapshotIdentifier") : out->db == NULL ? "DB identifier" :
		    "snapshot time");
		goto out;
	}

	/* The tags, cross-checked against it. */
	if (names_lineage_source(s->tags, s->n_tags, &tag) != 0) {
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag is no snapshot ARN",
		    NAMES_TAG_SOURCE_ARN);
		goto out;
	}
	if (strcmp(tag.account, out->account) != 0 || strcmp(tag.region, out->region) != 0)
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag names account %.12s "
		    "region %.31s, AWS records a copy from account %s region %s",
		    NAMES_TAG_SOURCE_ARN, tag.account, tag.region, out->account, out->region);
	arn_snapshot_clean(&tag);
	if (out->mismatch[0] != '\0')
		goto out;
	db_tag = rds_tag_get(s->tags, s->n_tags, NAMES_TAG_SOURCE_DB);
	if (db_tag == NULL || strcmp(db_tag, out->db) != 0) {
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag is %.63s, AWS records "
		    "DB %.63s", NAMES_TAG_SOURCE_DB, db_tag ? db_tag : "(none)", out->db);
		goto out;
	}
	/* The data can be no older than AWS's original time (instances) and no newer
	 * than the copy itself. */
	time_tag = rds_tag_get(s->tags, s->n_tags, NAMES_TAG_SOURCE_TIME);
	if (time_tag == NULL || aws_parse_time(time_tag, &tt) != 0 ||
	    (s->original_time != NULL && tt < out->when - KEEPER_COPY_TIME_SLACK) ||
	    (s->created != 0 && tt > s->created + KEEPER_COPY_TIME_SLACK))
		snprintf(out->mismatch, sizeof(out->mismatch), "its %s tag (%.40s) disagrees "
		    "with AWS's %s (%.40s)", NAMES_TAG_SOURCE_TIME, time_tag ? time_tag :
		    "none", s->original_time ? "OriginalSnapshotCreateTime" :
		    "SnapshotCreateTime", s->original_time ? s->original_time :
		    (s->create_time ? s->create_time : "?"));
out:
	if (have_src)
		arn_snapshot_clean(&src);
}

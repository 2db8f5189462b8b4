/*
 * drill_db: one restore drill's DB across invocations, with no waiting.  Its state is on
 * AWS only: the drill DB's tags (snapferry:drill, -started, -copy and, once decided,
 * -result) and its status; the copy gets snapferry:drill-result once decided.  Safety: only
 * a DB named "<NAME_PREFIX>-drill-*" that carries snapferry:drill is ever changed or
 * deleted; any other DB of that name is reported and left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "config.h"
#include "drill.h"
#include "drill_db.h"
#include "keeper_copy.h"
#include "log.h"
#include "names.h"
#include "rds.h"
#include "restore.h"
#include "result.h"
#include "session.h"

#define DRILL_ROLE		"drill"
#define DRILL_PROBE_MS		3000

/* Statuses of a DB that never become "available" by themselves. */
static const char *const dead[] = { "failed", "incompatible-parameters",
    "incompatible-restore", "incompatible-network", "incompatible-option-group",
    "incompatible-credentials", "inaccessible-encryption-credentials",
    "inaccessible-encryption-credentials-recoverable", "storage-full", "stopped" };

/*
 * The smallest sensible class per engine family when DRILL_INSTANCE_CLASS is unset: the
 * burstable classes every current version of the engine offers in commercial Regions.
 * Aurora's smallest burstable class for current MySQL 3 and PostgreSQL versions is
 * db.t4g.medium; SQL Server Standard/Enterprise start at db.m5.large.  An engine not
 * listed: instances keep the snapshot's class, Aurora needs DRILL_INSTANCE_CLASS.
 */
static const struct {
	const char	*prefix;
	const char	*instance_class;
} classes[] = {
	{ "aurora", "db.t4g.medium" },		/* aurora, aurora-mysql, aurora-postgresql */
	{ "mysql", "db.t3.micro" },
	{ "mariadb", "db.t3.micro" },
	{ "postgres", "db.t3.micro" },
	{ "oracle-", "db.t3.small" },
	{ "sqlserver-ex", "db.t3.small" },
	{ "sqlserver-web", "db.t3.small" },
	{ "sqlserver-", "db.m5.large" },
};

const char *
drill_db_class(const char *engine, const char *configured)
{
	size_t i;

	if (configured != NULL)
		return (configured);
	for (i = 0; engine != NULL && i < sizeof(classes) / sizeof(classes[0]);
	    i++)
		if (strncmp(engine, classes[i].prefix, strlen(classes[i].prefix)) == 0)
			return (classes[i].instance_class);
	return (NULL);
}

void
drill_db_tag_value(char *buf, size_t n, int passed, time_t when, long seconds)
{
	struct tm tm;
	char t[32];

	gmtime_r(&when, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, n, "%s %s %ld", passed ? "passed" : "failed", t, seconds);
}

int
drill_db_tag_parse(const char *v, int *passed, time_t *when, long *seconds)
{
	char word[8], t[32], *end;
	const char *p;

	if (v == NULL || sscanf(v, "%7s %31s", word, t) != 2)
		return (-1);
	if (strcmp(word, "passed") == 0)
		*passed = 1;
	else if (strcmp(word, "failed") == 0)
		*passed = 0;
	else
		return (-1);
	if (aws_parse_time(t, when) != 0)
		return (-1);
	if ((p = strrchr(v, ' ')) == NULL)
		return (-1);
	*seconds = strtol(p + 1, &end, 10);
	return (*end == '\0' && end != p + 1 ? 0 : -1);
}

static int
is_dead(const char *status)
{
	return (status != NULL && aws_str_in(status, dead, sizeof(dead) / sizeof(dead[0])));
}

static int
is(const char *status, const char *want)
{
	return (status != NULL && strcmp(status, want) == 0);
}

void
drill_db_item(struct drill_ctx *d, const struct drill_group *g, const char *state,
    const char *id, long seconds, const char *reason)
{
	cJSON *o;

	if (d->items == NULL || cJSON_GetArraySize(d->items) >= 50 ||
	    (o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "db", g->db);
	cJSON_AddStringToObject(o, "account", g->account);
	result_add_opt(o, "copy", g->copy_id);
	result_add_opt(o, "drillDb", id);
	cJSON_AddStringToObject(o, "state", state);
	if (seconds >= 0)
		cJSON_AddNumberToObject(o, "seconds", (double)seconds);
	result_add_opt(o, "reason", reason);
	cJSON_AddItemToArray(d->items, o);
}

/* A mutating call: named as a step; in a dry run only named.  1: make it, 0: dry run. */
static int
named(struct drill_ctx *d, const char *op, const char *what)
{
	if (d->f->cfg->dry_run) {
		result_step(d->r, "would:%s %s", op, what);
		return (0);
	}
	result_step(d->r, "%s %s", op, what);
	return (1);
}

/* DRILL_PROBE=tcp: a TCP connect to ${host}:${port} within DRILL_PROBE_MS. 0, or -1 with
 * the reason in ${why}. */
static int
probe(const char *host, int port, char *why, size_t n)
{
	struct addrinfo hints, *ai = NULL, *a;
	struct pollfd pfd;
	char ps[16];
	int fd = -1, rc = -1, err, gai;
	socklen_t len = sizeof(err);

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((gai = getaddrinfo(host, ps, &hints, &ai)) != 0) {
		snprintf(why, n, "TCP probe: %s does not resolve (%s)", host, gai_strerror(gai));
		return (-1);
	}
	snprintf(why, n, "TCP probe: no address of %s accepted a connection on port %d "
	    "within %d ms", host, port, DRILL_PROBE_MS);
	for (a = ai; a != NULL && rc != 0; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol)) < 0)
			continue;
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			rc = 0;
		else if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, DRILL_PROBE_MS) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
				rc = 0;
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return (rc);
}

/* The drill-result tags and metrics of a decided drill, then its deletion. */
static int drop(struct drill_ctx *d, const struct rds_db *db);

static int
decide(struct drill_ctx *d, struct drill_group *g, const struct rds_db *db,
    const char *copy_arn, int passed, long secs, const char *reason)
{
	struct rds_tag t = { DRILL_TAG_RESULT, NULL };
	struct aws_error e;
	char v[80];

	memset(&e, 0, sizeof(e));
	drill_db_tag_value(v, sizeof(v), passed, d->now, secs);
	t.value = v;
	/* On the DB first: a run that dies after it only deletes the DB next time. */
	if (db != NULL && db->arn != NULL && named(d, "AddTagsToResource", db->id) &&
	    rds_add_tags(d->bc, db->arn, &t, 1, &e) != 0) {
		session_fail_aws(d->f, d->r, &e, "AddTagsToResource", db->id, "allow "
		    "rds:AddTagsToResource on DBs tagged snapferry:drill to the keeper's role");
		return (-1);
	}
	if (copy_arn != NULL && named(d, "AddTagsToResource", g->copy_id) &&
	    rds_add_tags(d->bc, copy_arn, &t, 1, &e) != 0) {
		/* The drill still counts; only its record on the copy is missing. */
		result_warn(d->r, "drill result of %s not recorded on %s: %s", g->db, g->copy_id,
		    e.message ? e.message : e.code ? e.code : "error");
		aws_error_clear(&e);
	}
	if (passed) {
		d->passed++;
		g->last_pass = d->now;
		log_metric2("RestoreDrillSeconds", (double)secs, "Seconds", "Account", g->account,
		    "SourceDb", g->db);
	} else
		d->failed++;
	log_metric2("RestoreDrillFailed", passed ? 0 : 1, "Count", "Account", g->account,
	    "SourceDb", g->db);
	drill_db_item(d, g, passed ? "passed" : "failed", g->drill_id, secs, reason);
	return (db != NULL ? drop(d, db) : 0);
}

/* Delete what the drill made: an instance at once; a cluster's writer first, the cluster
 * once it has no member left. */
static int
drop(struct drill_ctx *d, const struct rds_db *db)
{
	struct aws_error e;
	struct rds_db w;
	char *wid = NULL;
	int rc, ret = 0;

	memset(&e, 0, sizeof(e));
	memset(&w, 0, sizeof(w));
	d->in_flight++;
	if (db->kind == RDS_CLUSTER && db->n_members > 0) {
		if ((wid = restore_writer_id(db->id)) == NULL) {
			result_fail(d->r, "Snapferry.Internal", "out of memory");
			return (-1);
		}
		rc = rds_describe_db(d->bc, RDS_INSTANCE, wid, &w, &e);
		if (rc == 1 && !is(w.status, "deleting") &&
		    rds_tag_get(w.tags, w.n_tags, DRILL_TAG_RUN) != NULL &&
		    is(w.cluster_id, db->id) && named(d, "DeleteDBInstance", wid) &&
		    rds_delete_db(d->bc, RDS_INSTANCE, wid, 0, &e) != 0)
			rc = -1;
		if (rc == -1)
			goto refused;
		goto out;
	}
	if (is(db->status, "deleting"))
		goto out;
	if (named(d, db->kind == RDS_CLUSTER ? "DeleteDBCluster" : "DeleteDBInstance",
	    db->id) && rds_delete_db(d->bc, db->kind, db->id, 1, &e) != 0)
		goto refused;
	goto out;
refused:
	/* The result stays on the DB's tags: the next run or sweep tries again. */
	result_warn(d->r, "drill DB %s not deleted yet: %s", wid ? wid : db->id,
	    e.message ? e.message : e.code ? e.code : "error");
	aws_error_clear(&e);
out:
	rds_db_clean(&w);
	free(wid);
	return (ret);
}

/* The cluster's writer: created when missing (the restore made the cluster, the run
 * stopped before the writer); 1 when it is available, 0 not yet, -1 stop. */
static int
writer(struct drill_ctx *d, const struct rds_db *db,
    struct rds_db *w, char *why, size_t n)
{
	struct rds_instance_opts io;
	struct rds_tag tags[6];
	struct aws_error e;
	char *wid;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((wid = restore_writer_id(db->id)) == NULL) {
		result_fail(d->r, "Snapferry.Internal", "out of memory");
		return (-1);
	}
	rc = rds_describe_db(d->bc, RDS_INSTANCE, wid, w, &e);
	if (rc == -1) {
		session_fail_aws(d->f, d->r, &e, "DescribeDBInstances", wid, "allow "
		    "rds:DescribeDBInstances to the keeper's role");
		free(wid);
		return (-1);
	}
	if (rc == 1) {
		free(wid);
		if (is_dead(w->status))
			snprintf(why, n, "writer %s is %s", w->id, w->status);
		return (is(w->status, "available"));
	}
	tags[0].key = DRILL_TAG_RUN;
	tags[0].value = (char *)(uintptr_t)rds_tag_get(db->tags, db->n_tags, DRILL_TAG_RUN);
	memset(&io, 0, sizeof(io));
	io.db_id = wid;
	io.cluster_id = db->id;
	io.engine = db->engine;
	io.instance_class = drill_db_class(db->engine, d->f->cfg->drill.instance_class);
	io.tags = tags;
	io.n_tags = 1 + names_base_tags(DRILL_ROLE, tags + 1);
	if (io.instance_class == NULL)
		snprintf(why, n, "no default instance class for engine %s: set "
		    "DRILL_INSTANCE_CLASS", db->engine ? db->engine : "?");
	else if (named(d, "CreateDBInstance", wid) &&
	    rds_create_cluster_instance(d->bc, &io, &e) != 0) {
		if (e.retryable || session_is_quota(e.code))
			aws_error_clear(&e);
		else
			snprintf(why, n, "CreateDBInstance %s refused: %s%s%s", wid,
			    e.code ? e.code : "error", e.message ? ": " : "",
			    e.message ? e.message : "");
		aws_error_clear(&e);
	}
	free(wid);
	return (0);
}

/* Verified: engine, version and storage as the copy reports them, an endpoint, and with
 * DRILL_PROBE=tcp a TCP connect to it.  0 passed, or -1 with ${why}. */
static int
verify(struct drill_ctx *d, const struct rds_db *db, const struct rds_snapshot *s,
    char *why, size_t n)
{
	if (s->engine != NULL && (db->engine == NULL || strcmp(s->engine, db->engine) != 0))
		snprintf(why, n, "engine %s, but the copy's is %s", db->engine ? db->engine :
		    "unknown", s->engine);
	else if (s->engine_version != NULL && (db->engine_version == NULL ||
	    strcmp(s->engine_version, db->engine_version) != 0))
		snprintf(why, n, "engine version %s, but the copy's is %s", db->engine_version ?
		    db->engine_version : "unknown", s->engine_version);
	else if (db->kind == RDS_INSTANCE && s->storage_type != NULL &&
	    db->storage_type != NULL && strcmp(s->storage_type, db->storage_type) != 0)
		snprintf(why, n, "storage type %s, but the copy's is %s", db->storage_type,
		    s->storage_type);
	else if (db->address == NULL)
		snprintf(why, n, "available without an endpoint");
	else if (d->f->cfg->drill.probe_tcp && db->port > 0 &&
	    probe(db->address, db->port, why, n) != 0)
		;
	else
		return (0);
	return (-1);
}

int
drill_db_advance(struct drill_ctx *d, struct drill_group *g)
{
	const struct config *cfg = d->f->cfg;
	struct rds_snapshot s;
	struct rds_db db, w;
	struct aws_error e;
	struct keeper_copy kc;
	const char *started, *copy;
	char why[300] = "";
	long secs;
	int rc, ready, ret = 0;

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	memset(&w, 0, sizeof(w));
	rc = rds_describe_db(d->bc, g->kind, g->drill_id, &db, &e);
	if (rc == -1) {
		session_fail_rds(d->f, d->r, &e, g->kind, RDS_OP_DBS, g->drill_id,
		    SESSION_OWN_ROLE);
		return (-1);
	}
	if (rc == 0)
		return (0);
	g->busy = 1;
	if (rds_tag_get(db.tags, db.n_tags, DRILL_TAG_RUN) == NULL) {
		result_warn(d->r, "%s is not a drill DB (no %s tag): never touched; no drill "
		    "of %s while it exists", g->drill_id, DRILL_TAG_RUN, g->db);
		drill_db_item(d, g, "blocked", g->drill_id, -1, "a DB of that name exists "
		    "without the snapferry:drill tag");
		goto out;
	}
	started = rds_tag_get(db.tags, db.n_tags, DRILL_TAG_STARTED);
	secs = started != NULL ? (long)(d->now - (time_t)strtoll(started, NULL, 10)) : 0;
	if (secs < 0)
		secs = 0;
	if (rds_tag_get(db.tags, db.n_tags, DRILL_TAG_RESULT) != NULL ||
	    is(db.status, "deleting")) {
		drill_db_item(d, g, "deleting", g->drill_id, -1, NULL);
		ret = drop(d, &db);
		goto out;
	}
	ready = is(db.status, "available");
	if (is_dead(db.status))
		snprintf(why, sizeof(why), "%s is %s", db.id, db.status);
	else if (g->kind == RDS_CLUSTER && ready) {
		if ((rc = writer(d, &db, &w, why, sizeof(why))) < 0) {
			ret = -1;
			goto out;
		}
		ready = rc;
	}
	if (why[0] == '\0' && !ready) {
		if (secs <= cfg->drill.timeout_minutes * 60) {
			d->in_flight++;
			drill_db_item(d, g, "restoring", g->drill_id, secs, db.status);
			goto out;
		}
		snprintf(why, sizeof(why), "timed out: still %s after %ld minutes "
		    "(DRILL_TIMEOUT_MINUTES %ld)", db.status ? db.status : "unknown", secs / 60,
		    cfg->drill.timeout_minutes);
	}
	/* Decided: read the copy it was restored from (its engine, version and ARN). */
	copy = rds_tag_get(db.tags, db.n_tags, DRILL_TAG_COPY);
	if (copy != NULL && (rc = rds_describe_tagged(d->bc, g->kind, copy, &s, &e)) == -1) {
		session_fail_rds(d->f, d->r, &e, g->kind, RDS_OP_DESCRIBE, copy,
		    SESSION_OWN_ROLE);
		ret = -1;
		goto out;
	}
	keeper_copy_classify(cfg->name_prefix, &s, &kc);
	if (why[0] == '\0' && (copy == NULL || rc == 0 || !kc.ours))
		snprintf(why, sizeof(why), "the backup copy %s it was restored from is gone",
		    copy ? copy : "(untagged)");
	if (why[0] == '\0')
		(void)verify(d, &db, &s, why, sizeof(why));
	/* The result belongs to the copy the DB was restored from. */
	if (copy != NULL && xstrdup_replace(&g->copy_id, copy) != 0) {
		result_fail(d->r, "Snapferry.Internal", "out of memory");
		ret = -1;
		goto out;
	}
	if (why[0] != '\0')
		result_warn(d->r, "restore drill of %s failed: %s", g->db, why);
	ret = decide(d, g, &db, kc.ours ? s.arn : NULL, why[0] == '\0', secs,
	    why[0] ? why : NULL);
out:
	rds_snapshot_clean(&s);
	rds_db_clean(&db);
	rds_db_clean(&w);
	return (ret);
}

int
drill_db_start(struct drill_ctx *d, struct drill_group *g)
{
	const struct config *cfg = d->f->cfg;
	struct rds_restore_opts o;
	struct rds_instance_opts io;
	struct rds_snapshot s;
	struct rds_tag tags[8];
	struct aws_error e;
	char started[24], why[300] = "", *wid = NULL;
	size_t nt;
	int ret = 0;

	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	snprintf(started, sizeof(started), "%lld", (long long)d->now);
	tags[0].key = DRILL_TAG_RUN;
	tags[0].value = d->run_id;
	tags[1].key = DRILL_TAG_STARTED;
	tags[1].value = started;
	tags[2].key = DRILL_TAG_COPY;
	tags[2].value = g->copy_id;
	nt = 3 + names_base_tags(DRILL_ROLE, tags + 3);
	memset(&o, 0, sizeof(o));
	o.kind = g->kind;
	o.snapshot = g->copy_id;
	o.db_id = g->drill_id;
	o.engine = g->engine;
	o.subnet_group = cfg->drill.subnet_group;
	o.sg_ids = cfg->drill.sg_ids;
	o.n_sg_ids = cfg->drill.n_sg_ids;
	o.tags = tags;
	o.n_tags = nt;
	o.no_deletion_protection = 1;
	if (g->kind == RDS_INSTANCE) {
		o.instance_class = drill_db_class(g->engine, cfg->drill.instance_class);
		o.backup_retention = "0";	/* no automated backups */
	} else {
		o.engine_version = g->version;
		/* Aurora keeps at least one day; DeleteAutomatedBackups removes them. */
		o.backup_retention = "1";
	}
	if (g->kind == RDS_CLUSTER && drill_db_class(g->engine, cfg->drill.instance_class) == NULL)
		snprintf(why, sizeof(why), "no default instance class for engine %s: set "
		    "DRILL_INSTANCE_CLASS", g->engine ? g->engine : "?");
	else if (named(d, g->kind == RDS_CLUSTER ? "RestoreDBClusterFromSnapshot" :
	    "RestoreDBInstanceFromDBSnapshot", g->drill_id) && rds_restore(d->bc, &o, &e) != 0) {
		if (e.retryable || session_is_quota(e.code)) {
			drill_db_item(d, g, "queued", g->drill_id, -1, e.code);
			d->queued++;
			aws_error_clear(&e);
			return (0);
		}
		snprintf(why, sizeof(why), "%s refused: %s%s%s", rds_op_name(g->kind,
		    RDS_OP_RESTORE), e.code ? e.code : "error", e.message ? ": " : "",
		    e.message ? e.message : "");
		aws_error_clear(&e);
	}
	if (why[0] != '\0') {
		result_warn(d->r, "restore drill of %s failed: %s", g->db, why);
		/* No DB: the result goes on the copy only. */
		if (rds_describe_snapshot(d->bc, g->kind, g->copy_id, &s, &e) != 1)
			aws_error_clear(&e);
		ret = decide(d, g, NULL, s.arn, 0, 0, why);
		goto out;
	}
	d->in_flight++;
	g->busy = 1;
	drill_db_item(d, g, cfg->dry_run ? "would-restore" : "restoring", g->drill_id, 0,
	    NULL);
	if (g->kind == RDS_CLUSTER) {
		/* The writer at once, as the disaster-day restore does: the drill measures the
		 * time until both are available. */
		if ((wid = restore_writer_id(g->drill_id)) == NULL) {
			result_fail(d->r, "Snapferry.Internal", "out of memory");
			return (-1);
		}
		memset(&io, 0, sizeof(io));
		io.db_id = wid;
		io.cluster_id = g->drill_id;
		io.engine = g->engine;
		io.instance_class = drill_db_class(g->engine, cfg->drill.instance_class);
		io.tags = tags;
		io.n_tags = nt;
		/* Refused now (the cluster not ready yet): the next run adds it. */
		if (named(d, "CreateDBInstance", wid) &&
		    rds_create_cluster_instance(d->bc, &io, &e) != 0) {
			result_warn(d->r, "writer %s not created yet: %s", wid,
			    e.code ? e.code : "error");
			aws_error_clear(&e);
		}
		free(wid);
	}
out:
	rds_snapshot_clean(&s);
	return (ret);
}

/*
 * awsop: performs one RDS, STS or KMS operation through snapferry's own
 * client (environment credentials, or a role assumed first) and prints the
 * result as one JSON object.  The live test suites drive it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "credentials.h"
#include "http.h"
#include "kms.h"
#include "log.h"
#include "rds.h"
#include "sts.h"

#define MAX_LIST	64	/* repeated options (--tag, --sg) */

static const char usage_text[] =
"usage: awsop [--region R] [--role ARN [--external-id X] [--session S] [--duration N]] OP ARGS\n"
"  describe-snapshot KIND ID|ARN\n"
"  list-snapshots KIND [--type T] [--db ID] [--include-shared] [--max-records N] [--limit N]\n"
"  copy-snapshot KIND SOURCE TARGET [--kms KEY] [--tag K=V]...\n"
"  share KIND ID ACCOUNT | unshare KIND ID ACCOUNT | shared-accounts KIND ID\n"
"  delete-snapshot KIND ID\n"
"  add-tags ARN K=V... | list-tags ARN\n"
"  restore KIND SNAPSHOT DB_ID [--engine E] [--class C] [--subnet-group G] [--sg ID]... [--tag K=V]...\n"
"  db-exists KIND DB_ID | option-group-blocks NAME\n"
"  assume-role ROLE_ARN SESSION [--external-id X] [--duration N] | caller-identity\n"
"  describe-key KEY\n"
"KIND is instance or cluster.  Prints {\"ok\":true,\"result\":...} or {\"ok\":false,\"error\":...}.\n";

struct opts {
	char		*pos[8];
	size_t		 n_pos;
	const char	*type, *db, *kms, *engine, *klass, *subnet, *external_id, *session;
	int		 include_shared, max_records, limit, duration;
	struct rds_tag	 tags[MAX_LIST];
	size_t		 n_tags;
	char		*sgs[MAX_LIST];
	size_t		 n_sgs;
};

static void
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "awsop: %s\n", why);
	fputs(usage_text, stderr);
	exit(2);
}

/* "K=V" into a tag pointing into ${s} (which is modified). */
static void
split_tag(char *s, struct rds_tag *t)
{
	char *eq = strchr(s, '=');

	if (eq == NULL)
		usage("a tag is K=V");
	*eq = '\0';
	t->key = s;
	t->value = eq + 1;
}

static void
parse_opts(int argc, char **argv, int i, struct opts *o)
{
	for (; i < argc; i++) {
		const char *a = argv[i];

#define ARG() (i + 1 < argc ? argv[++i] : (usage("missing option value"), (char *)NULL))
		if (strcmp(a, "--type") == 0)
			o->type = ARG();
		else if (strcmp(a, "--db") == 0)
			o->db = ARG();
		else if (strcmp(a, "--kms") == 0)
			o->kms = ARG();
		else if (strcmp(a, "--engine") == 0)
			o->engine = ARG();
		else if (strcmp(a, "--class") == 0)
			o->klass = ARG();
		else if (strcmp(a, "--subnet-group") == 0)
			o->subnet = ARG();
		else if (strcmp(a, "--external-id") == 0)
			o->external_id = ARG();
		else if (strcmp(a, "--include-shared") == 0)
			o->include_shared = 1;
		else if (strcmp(a, "--max-records") == 0)
			o->max_records = atoi(ARG());
		else if (strcmp(a, "--limit") == 0)
			o->limit = atoi(ARG());
		else if (strcmp(a, "--duration") == 0)
			o->duration = atoi(ARG());
		else if (strcmp(a, "--tag") == 0) {
			if (o->n_tags == MAX_LIST)
				usage("too many tags");
			split_tag(ARG(), &o->tags[o->n_tags++]);
		} else if (strcmp(a, "--sg") == 0) {
			if (o->n_sgs == MAX_LIST)
				usage("too many security groups");
			o->sgs[o->n_sgs++] = ARG();
		} else if (strncmp(a, "--", 2) == 0)
			usage("unknown option");
		else {
			if (o->n_pos == sizeof(o->pos) / sizeof(o->pos[0]))
				usage("too many arguments");
			o->pos[o->n_pos++] = argv[i];
		}
#undef ARG
	}
}

static enum rds_kind
kind_of(const char *s)
{
	if (s != NULL && strcmp(s, "instance") == 0)
		return (RDS_INSTANCE);
	if (s != NULL && strcmp(s, "cluster") == 0)
		return (RDS_CLUSTER);
	usage("KIND is instance or cluster");
	return (RDS_INSTANCE);
}

static void
need(const struct opts *o, size_t n)
{
	if (o->n_pos != n)
		usage("wrong number of arguments");
}

static void
add_str(cJSON *o, const char *k, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *
tags_json(const struct rds_tag *t, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddStringToObject(o, t[i].key, t[i].value != NULL ? t[i].value : "");
	return (o);
}

static cJSON *
snapshot_json(const struct rds_snapshot *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", s->kind == RDS_INSTANCE ? "instance" : "cluster");
	add_str(o, "id", s->id);
	add_str(o, "arn", s->arn);
	add_str(o, "db_id", s->db_id);
	add_str(o, "status", s->status);
	add_str(o, "snapshot_type", s->snapshot_type);
	add_str(o, "engine", s->engine);
	add_str(o, "engine_mode", s->engine_mode);
	add_str(o, "engine_version", s->engine_version);
	add_str(o, "kms_key_id", s->kms_key_id);
	cJSON_AddBoolToObject(o, "encrypted", s->encrypted);
	add_str(o, "option_group", s->option_group);
	add_str(o, "tde_credential_arn", s->tde_credential_arn);
	add_str(o, "storage_type", s->storage_type);
	add_str(o, "source_arn", s->source_arn);
	add_str(o, "create_time", s->create_time);
	cJSON_AddNumberToObject(o, "created", (double)s->created);
	cJSON_AddNumberToObject(o, "percent", s->percent);
	if (s->n_tags > 0 || s->tags != NULL)
		cJSON_AddItemToObject(o, "tags", tags_json(s->tags, s->n_tags));
	return (o);
}

struct list_arg {
	cJSON	*ids;
	int	 limit;
	int	 count;
};

static int
list_cb(const struct rds_snapshot *s, void *arg)
{
	struct list_arg *la = arg;

	cJSON_AddItemToArray(la->ids, cJSON_CreateString(s->id));
	la->count++;
	return (la->limit > 0 && la->count >= la->limit);
}

/* Print the outcome; the process exits with 0 on success, 1 on an AWS error. */
static int
emit(cJSON *result, const struct aws_error *err, int failed)
{
	cJSON *o = cJSON_CreateObject(), *e;
	char *s;

	cJSON_AddBoolToObject(o, "ok", !failed);
	if (!failed)
		cJSON_AddItemToObject(o, "result", result != NULL ? result : cJSON_CreateNull());
	else {
		cJSON_Delete(result);
		e = cJSON_AddObjectToObject(o, "error");
		add_str(e, "code", err->code);
		add_str(e, "message", err->message);
		add_str(e, "request_id", err->request_id);
		cJSON_AddNumberToObject(e, "http_status", (double)err->http_status);
		cJSON_AddBoolToObject(e, "retryable", err->retryable);
	}
	s = cJSON_PrintUnformatted(o);
	if (s != NULL)
		puts(s);
	free(s);
	cJSON_Delete(o);
	return (failed ? 1 : 0);
}

static int
run(const char *op, struct opts *o, struct aws_client *rds, struct aws_client *sts,
    struct aws_client *kms, struct aws_error *err)
{
	cJSON *r = NULL;
	struct rds_snapshot s;
	int rc;

	memset(&s, 0, sizeof(s));
	if (strcmp(op, "describe-snapshot") == 0) {
		need(o, 2);
		rc = rds_describe_snapshot(rds, kind_of(o->pos[0]), o->pos[1], &s, err);
		if (rc >= 0) {
			r = cJSON_CreateObject();
			cJSON_AddBoolToObject(r, "found", rc == 1);
			if (rc == 1)
				cJSON_AddItemToObject(r, "snapshot", snapshot_json(&s));
		}
		rds_snapshot_clean(&s);
		return (emit(r, err, rc < 0));
	}
	if (strcmp(op, "list-snapshots") == 0) {
		struct rds_list_opts lo = { o->type, o->db, o->include_shared, o->max_records,
		    NULL, 0 };
		struct list_arg la;

		need(o, 1);
		la.ids = cJSON_CreateArray();
		la.limit = o->limit;
		la.count = 0;
		rc = rds_list_snapshots(rds, kind_of(o->pos[0]), &lo, list_cb, &la, err);
		r = cJSON_CreateObject();
		cJSON_AddNumberToObject(r, "count", la.count);
		cJSON_AddItemToObject(r, "ids", la.ids);
		return (emit(r, err, rc != 0));
	}
	if (strcmp(op, "copy-snapshot") == 0) {
		need(o, 3);
		rc = rds_copy_snapshot(rds, kind_of(o->pos[0]), o->pos[1], o->pos[2], o->kms,
		    o->tags, o->n_tags, &s, err);
		if (rc == 0)
			r = snapshot_json(&s);
		rds_snapshot_clean(&s);
		return (emit(r, err, rc != 0));
	}
	if (strcmp(op, "share") == 0 || strcmp(op, "unshare") == 0) {
		need(o, 3);
		rc = rds_modify_share(rds, kind_of(o->pos[0]), o->pos[1], o->pos[2],
		    strcmp(op, "share") == 0, err);
		return (emit(NULL, err, rc != 0));
	}
	if (strcmp(op, "shared-accounts") == 0) {
		char **v;
		size_t n, i;

		need(o, 2);
		rc = rds_shared_accounts(rds, kind_of(o->pos[0]), o->pos[1], &v, &n, err);
		if (rc == 0) {
			r = cJSON_CreateArray();
			for (i = 0; i < n; i++)
				cJSON_AddItemToArray(r, cJSON_CreateString(v[i]));
			rds_strv_free(v, n);
		}
		return (emit(r, err, rc != 0));
	}
	if (strcmp(op, "delete-snapshot") == 0) {
		need(o, 2);
		rc = rds_delete_snapshot(rds, kind_of(o->pos[0]), o->pos[1], err);
		return (emit(NULL, err, rc != 0));
	}
	if (strcmp(op, "add-tags") == 0) {
		size_t i;

		if (o->n_pos < 2)
			usage("add-tags ARN K=V...");
		for (i = 1; i < o->n_pos && o->n_tags < MAX_LIST; i++)
			split_tag(o->pos[i], &o->tags[o->n_tags++]);
		rc = rds_add_tags(rds, o->pos[0], o->tags, o->n_tags, err);
		return (emit(NULL, err, rc != 0));
	}
	if (strcmp(op, "list-tags") == 0) {
		struct rds_tag *t;
		size_t n;

		need(o, 1);
		rc = rds_list_tags(rds, o->pos[0], &t, &n, err);
		if (rc == 0) {
			r = tags_json(t, n);
			rds_tags_free(t, n);
		}
		return (emit(r, err, rc != 0));
	}
	if (strcmp(op, "restore") == 0) {
		struct rds_restore_opts ro;

		need(o, 3);
		memset(&ro, 0, sizeof(ro));
		ro.kind = kind_of(o->pos[0]);
		ro.snapshot = o->pos[1];
		ro.db_id = o->pos[2];
		ro.engine = o->engine;
		ro.instance_class = o->klass;
		ro.subnet_group = o->subnet;
		ro.sg_ids = o->sgs;
		ro.n_sg_ids = o->n_sgs;
		ro.tags = o->tags;
		ro.n_tags = o->n_tags;
		rc = rds_restore(rds, &ro, err);
		return (emit(NULL, err, rc != 0));
	}
	if (strcmp(op, "db-exists") == 0) {
		need(o, 2);
		rc = rds_db_exists(rds, kind_of(o->pos[0]), o->pos[1], err);
		return (emit(rc >= 0 ? cJSON_CreateBool(rc) : NULL, err, rc < 0));
	}
	if (strcmp(op, "option-group-blocks") == 0) {
		need(o, 1);
		rc = rds_option_group_blocks_share(rds, o->pos[0], err);
		return (emit(rc >= 0 ? cJSON_CreateBool(rc) : NULL, err, rc < 0));
	}
	if (strcmp(op, "assume-role") == 0) {
		struct aws_creds cr;
		struct aws_client probe;
		char *acct = NULL, *arn = NULL;

		need(o, 2);
		rc = sts_assume_role(sts, o->pos[0], o->pos[1], o->external_id, o->duration,
		    &cr, err);
		if (rc == 0) {
			/* Prove the keys work: who are we now?  Never print the secrets. */
			if (aws_client_init(&probe, sts->http, "sts", sts->region, &cr) != 0) {
				aws_error_set(err, "ClientError", "out of memory");
				rc = -1;
			} else {
				rc = sts_caller_identity(&probe, &acct, &arn, err);
				aws_client_clean(&probe);
			}
			if (rc == 0) {
				r = cJSON_CreateObject();
				add_str(r, "access_key_id", cr.access_key_id);
				cJSON_AddNumberToObject(r, "expiration", (double)cr.expiration);
				cJSON_AddBoolToObject(r, "has_secret", cr.secret_access_key != NULL);
				cJSON_AddBoolToObject(r, "has_token", cr.session_token != NULL);
				add_str(r, "account", acct);
				add_str(r, "arn", arn);
			}
			free(acct);
			free(arn);
			creds_clean(&cr);
		}
		return (emit(r, err, rc != 0));
	}
	if (strcmp(op, "caller-identity") == 0) {
		char *acct = NULL, *arn = NULL;

		need(o, 0);
		rc = sts_caller_identity(sts, &acct, &arn, err);
		if (rc == 0) {
			r = cJSON_CreateObject();
			add_str(r, "account", acct);
			add_str(r, "arn", arn);
		}
		free(acct);
		free(arn);
		return (emit(r, err, rc != 0));
	}
	if (strcmp(op, "describe-key") == 0) {
		struct kms_key k;

		need(o, 1);
		rc = kms_describe_key(kms, o->pos[0], &k, err);
		if (rc == 0) {
			r = cJSON_CreateObject();
			add_str(r, "key_id", k.key_id);
			add_str(r, "arn", k.arn);
			add_str(r, "account", k.account);
			add_str(r, "key_manager", k.key_manager);
			add_str(r, "key_state", k.key_state);
			cJSON_AddBoolToObject(r, "enabled", k.enabled);
			kms_key_clean(&k);
		}
		return (emit(r, err, rc != 0));
	}
	usage("unknown operation");
	return (2);
}

int
main(int argc, char **argv)
{
	const char *region, *role = NULL, *role_external = NULL, *role_session = "awsop";
	int i = 1, role_duration = 0, rc = 1;
	struct opts o;
	struct aws_creds base, cr;
	struct aws_client rds, sts, kms;
	struct aws_error err;
	struct http_client *http;
	enum log_level lvl;

	memset(&o, 0, sizeof(o));
	memset(&err, 0, sizeof(err));
	memset(&base, 0, sizeof(base));
	memset(&cr, 0, sizeof(cr));
	log_set_stream(stderr);
	if (log_parse_level(getenv("LOG_LEVEL") != NULL ? getenv("LOG_LEVEL") : "warn", &lvl) == 0)
		log_set_level(lvl);
	if ((region = getenv("AWS_REGION")) == NULL &&
	    (region = getenv("AWS_DEFAULT_REGION")) == NULL)
		region = "us-east-1";
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (i + 1 >= argc)
			usage("missing option value");
		if (strcmp(argv[i], "--region") == 0)
			region = argv[++i];
		else if (strcmp(argv[i], "--role") == 0)
			role = argv[++i];
		else if (strcmp(argv[i], "--external-id") == 0)
			role_external = argv[++i];
		else if (strcmp(argv[i], "--session") == 0)
			role_session = argv[++i];
		else if (strcmp(argv[i], "--duration") == 0)
			role_duration = atoi(argv[++i]);
		else
			usage("unknown global option");
	}
	if (i >= argc)
		usage(NULL);
	parse_opts(argc, argv, i + 1, &o);
	if (creds_from_env(&base) != 0) {
		fprintf(stderr, "awsop: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required\n");
		return (2);
	}
	if ((http = http_client_new()) == NULL)
		goto err0;
	if (aws_client_init(&sts, http, "sts", region, &base) != 0)
		goto err1;
	if (role != NULL) {
		if (sts_assume_role(&sts, role, role_session, role_external, role_duration,
		    &cr, &err) != 0) {
			rc = emit(NULL, &err, 1);
			goto err2;
		}
		/* Everything from here on acts as the role, STS included. */
		aws_client_clean(&sts);
		if (aws_client_init(&sts, http, "sts", region, &cr) != 0)
			goto err1;
	}
	if (aws_client_init(&rds, http, "rds", region, role != NULL ? &cr : &base) != 0)
		goto err2;
	if (aws_client_init(&kms, http, "kms", region, role != NULL ? &cr : &base) != 0)
		goto err3;
	rc = run(argv[i], &o, &rds, &sts, &kms, &err);
	aws_client_clean(&kms);
err3:
	aws_client_clean(&rds);
err2:
	aws_client_clean(&sts);
err1:
	http_client_free(http);
err0:
	aws_error_clear(&err);
	creds_clean(&cr);
	creds_clean(&base);
	return (rc);
}

"""Helpers of the ferry and sweep suites: run the bootstrap on one event (`--event -`, the
same handler the Runtime API loop calls), build RDS EventBridge events in AWS's envelope,
and look at both accounts through boto3."""
import json
import os
import subprocess
import uuid

from harness.paths import binary

VARIANT = os.environ.get("SNAPFERRY_VARIANT", "dev")


def bootstrap_path(variant=VARIANT):
    p = binary(variant)
    if not p.exists():
        import pytest
        pytest.skip(f"{p} is not built (make BUILD=... {variant})")
    return p


def run_event(world, event, variant=VARIANT, timeout=120, **overrides):
    """One invocation: (exit code, result or error JSON, log lines as dicts)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LOG_LEVEL": "debug"}
    env.update(world.env(**overrides))
    if variant == "asan":
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    p = subprocess.run([str(bootstrap_path(variant)), "--event", "-"],
                       input=json.dumps(event).encode(), capture_output=True,
                       env=env, timeout=timeout)
    out = p.stdout.decode(errors="replace").strip()
    logs = []
    for line in p.stderr.decode(errors="replace").splitlines():
        try:
            logs.append(json.loads(line))
        except ValueError:
            logs.append({"raw": line})
    res = json.loads(out) if out else None
    if variant == "asan":
        assert "ERROR: AddressSanitizer" not in p.stderr.decode(errors="replace")
        assert "ERROR: LeakSanitizer" not in p.stderr.decode(errors="replace")
        assert "runtime error:" not in p.stderr.decode(errors="replace")
    return p.returncode, res, logs


def snapshot_event(world, snapshot_id, event_id="RDS-EVENT-0042", cluster=False,
                   account=None, region=None):
    """An EventBridge RDS snapshot event as AWS sends it (aws-facts.md §1.1)."""
    account = account or world.prod_account
    region = region or world.region
    kind = "cluster-snapshot" if cluster else "snapshot"
    arn = f"arn:aws:rds:{region}:{account}:{kind}:{snapshot_id}"
    messages = {
        "RDS-EVENT-0042": ("creation", "Manual snapshot created"),
        "RDS-EVENT-0091": ("creation", "Automated snapshot created"),
        "RDS-EVENT-0197": ("notification", f"Finished copy of snapshot {snapshot_id}"),
        "RDS-EVENT-0075": ("backup", "Manual cluster snapshot created"),
        "RDS-EVENT-0169": ("backup", "Automated cluster snapshot created"),
    }
    cat, msg = messages[event_id]
    return {
        "version": "0", "id": str(uuid.uuid4()),
        "detail-type": "RDS DB Cluster Snapshot Event" if cluster else "RDS DB Snapshot Event",
        "source": "aws.rds", "account": account, "time": "2024-05-01T10:15:22Z",
        "region": region, "resources": [arn],
        "detail": {"EventCategories": [cat],
                   "SourceType": "CLUSTER_SNAPSHOT" if cluster else "SNAPSHOT",
                   "SourceArn": arn, "Date": "2024-05-01T10:15:22.412Z", "Message": msg,
                   "SourceIdentifier": snapshot_id, "EventID": event_id},
    }


SWEEP = {"action": "sweep"}
SCHEDULED = {
    "version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
    "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
    "time": "2024-05-01T11:00:00Z", "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/snapferry-sweep"], "detail": {},
}


def tags_of(client, arn):
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(
        ResourceName=arn)["TagList"]}


def instance_snapshots(world, account, snapshot_type="manual"):
    rds = world.admin("rds", account)
    kw = {"SnapshotType": snapshot_type} if snapshot_type else {}
    return {s["DBSnapshotIdentifier"]: s for s in rds.describe_db_snapshots(
        **kw)["DBSnapshots"]}


def cluster_snapshots(world, account, snapshot_type="manual"):
    rds = world.admin("rds", account)
    kw = {"SnapshotType": snapshot_type} if snapshot_type else {}
    return {s["DBClusterSnapshotIdentifier"]: s for s in rds.describe_db_cluster_snapshots(
        **kw)["DBClusterSnapshots"]}


def shared_with(world, snapshot_id, cluster=False):
    rds = world.admin("rds", "prod")
    if cluster:
        r = rds.describe_db_cluster_snapshot_attributes(
            DBClusterSnapshotIdentifier=snapshot_id)["DBClusterSnapshotAttributesResult"]
        attrs = r["DBClusterSnapshotAttributes"]
    else:
        r = rds.describe_db_snapshot_attributes(
            DBSnapshotIdentifier=snapshot_id)["DBSnapshotAttributesResult"]
        attrs = r["DBSnapshotAttributes"]
    for a in attrs:
        if a["AttributeName"] == "restore":
            return a.get("AttributeValues", [])
    return []


def metrics(logs):
    """EMF records in the log: [(name, value, dimensions dict)]."""
    out = []
    for l in logs:
        aws = l.get("_aws")
        if not aws:
            continue
        for d in aws.get("CloudWatchMetrics", []):
            dims = {k: l.get(k) for group in d.get("Dimensions", []) for k in group}
            for m in d.get("Metrics", []):
                out.append((m["Name"], l.get(m["Name"]), dims))
    return out


def _sanitize(raw, cap):
    """names_sanitize (src/names.c): lower case, [a-z0-9-], no "--", no leading/trailing
    '-', a letter first; over `cap`: cut, then "-<8 hex of SHA-256 of raw>"."""
    import hashlib
    out = []
    for ch in raw:
        c = ch.lower() if ch.isascii() and ch.isalnum() else "-"
        if c == "-" and (not out or out[-1] == "-"):
            continue
        out.append(c)
    s = "".join(out).rstrip("-")
    if not s[0].isalpha():
        s = "s" + s
    if len(s) <= cap:
        return s
    return s[:cap - 9].rstrip("-") + "-" + hashlib.sha256(raw.encode()).hexdigest()[:8]


def backup_id(snapshot_id, account, region, cluster=False, prefix="snapferry"):
    """The backup copy's id (names_backup_id): "<prefix>-<id>-<8 hex of SHA-256 of
    '<account>:<region>'>", under the same rules as the transit copy's name."""
    import hashlib
    sid = snapshot_id
    for p in ("rds:", "awsbackup:"):
        if sid.startswith(p):
            sid = sid[len(p):]
    h = hashlib.sha256(f"{account}:{region}".encode()).hexdigest()[:8]
    return _sanitize(f"{prefix}-{sid}-{h}", 63 if cluster else 255)


def transit_id(snapshot_id, cluster=False, prefix="snapferry"):
    """The transit copy's id (names_copy_id), also the backup copy's before issue 12."""
    sid = snapshot_id
    for p in ("rds:", "awsbackup:"):
        if sid.startswith(p):
            sid = sid[len(p):]
    return _sanitize(f"{prefix}-{sid}", 63 if cluster else 255)


def bid(world, snapshot_id, cluster=False, prefix="snapferry"):
    """backup_id for a snapshot of the world's production account and region."""
    return backup_id(snapshot_id, world.prod_account, world.region, cluster, prefix)


def release(aws, status="available", **where):
    """Release held snapshots into `status`: "available", or a state a copy can end in
    ("failed", or "incompatible-*" for DB snapshots only; the fidelity layer's release route
    takes it). AWS deletes no failed snapshot: its name stays taken."""
    body = {k: v for k, v in where.items() if v}
    body["status"] = status
    return aws._req("POST", "/_fidelity/release", body)["released"]


def iso_days_ago(days_ago):
    import datetime
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def foreign_copy(world, copy_from, copy_id, account, region, days_ago, db="proddb"):
    """A backup copy of DB `db` of another production account (or region), as that
    account's snapferry leaves it in the shared backup account: same prefix, same tags.
    (Made by copying `copy_from` inside the backup account and tagging it: there is no
    third account's snapferry in the tests.)"""
    rds = world.admin("rds", "backup")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=copy_from,
                         TargetDBSnapshotIdentifier=copy_id)
    arn = instance_snapshots(world, "backup")[copy_id]["DBSnapshotArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[
        {"Key": "snapferry:created-by", "Value": "snapferry"},
        {"Key": "snapferry:role", "Value": "backup"},
        {"Key": "snapferry:source-arn",
         "Value": f"arn:aws:rds:{region}:{account}:snapshot:{copy_id[len('snapferry-'):]}"},
        {"Key": "snapferry:source-db", "Value": db},
        {"Key": "snapferry:source-time", "Value": iso_days_ago(days_ago)}])
    return arn


def add_production_account(world, account, db="orders", snapshot="orders-m1"):
    """Another production account ferrying into the world's backup account, built like
    build_world's: the function's IAM user (the bootstrap learns the account from its
    credentials through STS), a share key whose policy grants the backup account, an
    aws/rds-encrypted DB `db` and its manual snapshot `snapshot`; the backup role's trust
    policy is extended to that user (same ExternalId). Returns a World for it."""
    import dataclasses
    from fidelity.world import admin_client, key_policy_for_backup
    iam = admin_client(world.endpoint, "iam", account, world.region)
    user_arn = iam.create_user(UserName=world.function_user)["User"]["Arn"]
    iam.put_user_policy(UserName=world.function_user, PolicyName="snapferry",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": ["rds:*", "kms:*"], "Resource": "*"},
                            {"Effect": "Allow", "Action": "sts:AssumeRole",
                             "Resource": world.role_arn}]}))
    key = iam.create_access_key(UserName=world.function_user)["AccessKey"]
    share = admin_client(world.endpoint, "kms", account, world.region).create_key(
        Description="snapferry share key",
        Policy=key_policy_for_backup(account, world.backup_account))["KeyMetadata"]
    biam = world.admin("iam", "backup")
    trust = biam.get_role(RoleName=world.role_name)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    stmt = dict(trust["Statement"][0])
    stmt["Principal"] = {"AWS": user_arn}
    trust["Statement"].append(stmt)
    biam.update_assume_role_policy(RoleName=world.role_name, PolicyDocument=json.dumps(trust))
    w = dataclasses.replace(world, prod_account=account, access_key_id=key["AccessKeyId"],
                            secret_access_key=key["SecretAccessKey"],
                            share_key_id=share["KeyId"], share_key_arn=share["Arn"],
                            function_user_arn=user_arn, db_id=db, _clients={})
    d = w.create_db(db)
    snap = w.create_snapshot(db, snapshot)
    return dataclasses.replace(w, db_arn=d["DBInstanceArn"], rds_default_key_arn=d["KmsKeyId"],
                               snapshot_id=snapshot, snapshot_arn=snap["DBSnapshotArn"],
                               _clients={})


def backup_account_credentials(world, user="disaster-operator"):
    """Credentials of an IAM user of the backup account: the disaster-day run of
    `bootstrap --event` outside the lost production account. BACKUP_ROLE_ARN's trust
    policy is extended to that user (with the same ExternalId condition)."""
    iam = world.admin("iam", "backup")
    user_arn = iam.create_user(UserName=user)["User"]["Arn"]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    trust = iam.get_role(RoleName=world.role_name)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    stmt = dict(trust["Statement"][0])
    stmt["Principal"] = {"AWS": user_arn}
    trust["Statement"].append(stmt)
    iam.update_assume_role_policy(RoleName=world.role_name, PolicyDocument=json.dumps(trust))
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def keeper_env(world, **overrides):
    """The keeper's environment (SNAPFERRY_MODE=keeper): the backup account's own
    credentials (an IAM user standing for the keeper's role; it assumes no role), its
    region, nothing of the ferry's."""
    iam = world.admin("iam", "backup")
    user = "snapferry-keeper-" + uuid.uuid4().hex[:8]
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    creds = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
             "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    env = {"AWS_ENDPOINT_URL": world.endpoint, "AWS_REGION": world.region,
           "AWS_DEFAULT_REGION": world.region, "SNAPFERRY_MODE": "keeper"}
    env.update(creds)
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def run_env(env, event, variant=VARIANT, timeout=120):
    """run_event with a whole environment: (exit code, result or error JSON, log lines)."""
    class _World:
        def env(self, **_):
            return env
    return run_event(_World(), event, variant=variant, timeout=timeout)

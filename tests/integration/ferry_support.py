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

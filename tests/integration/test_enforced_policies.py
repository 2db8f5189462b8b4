"""The enforced-policy run: both templates rendered (SAM transform, intrinsics resolved with
concrete parameters), their exact role, trust and key policies loaded into the fidelity
world, the evaluator of tests/fidelity/policy.py switched on, and the real bootstrap run
under AWS's Runtime Interface Emulator with the function role's credentials.

Every scenario must end as the allow-all suites' do (test_ferry.py, test_sweep.py) with
zero denials; the negative controls prove the run can fail: one grant removed, or one
condition broken, and the denial names the call and the statement.

The emulator reports the function ARN in account 012345678912 (fixed), so production is
that account here, as in scripts/demo.py.

Issue 15 (the bunker): the ferry-facing role in the backup account may only add. The attacker
tests below hold the production function's credentials and the ExternalId, as whoever owns
the production account does, assume that role and try everything that would remove, alter,
share out or read a backup copy: each is denied by the evaluator, naming the statement (or its
absence). Retention and restores moved to the keeper (the same bootstrap, SNAPFERRY_MODE=keeper,
with the keeper role's credentials, in the backup account): its runs are here too.
"""
import json
import re

import boto3
import pytest
from botocore.exceptions import ClientError

import ferry_support as fs
from ferry_support import snapshot_event, SCHEDULED

PROD = "012345678912"
# What the zero-denial runs of this session were allowed, with the statements that allowed
# it: test_docs_name_the_call_for_every_permission (last in this file) checks it against
# docs/permissions.md.
NEEDED = []


def _policy(aws):
    return aws._req("GET", "/_fidelity/policy")


class Enforced:
    """One enforced world and its emulator."""

    def __init__(self, aws, start_rie, **kw):
        from fidelity.render import build_enforced_world
        self.aws = aws
        self.world = build_enforced_world(aws, PROD, **kw)
        w = self.world
        env = dict(w.env())
        env.update(w.template_env)      # the configuration the template gives the function
        env.update({"AWS_ENDPOINT_URL": w.endpoint, "AWS_ACCESS_KEY_ID": w.access_key_id,
                    "AWS_SECRET_ACCESS_KEY": w.secret_access_key,
                    "AWS_SESSION_TOKEN": w.session_token, "LOG_LEVEL": "debug"})
        if "BACKUP_REGIONS" in w.template_env and "BACKUP_REGION" not in w.template_env:
            env.pop("BACKUP_REGION", None)   # the template sets one spelling, not both
        self.env = env
        self.start_rie = start_rie
        self.rie = start_rie(fs.bootstrap_path(), env)

    def invoke(self, event):
        status, res = self.rie.invoke_json(event)
        out = self.rie.new_output()
        for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert bad not in out, out[-4000:]     # SNAPFERRY_VARIANT=asan
        assert status == 200, (status, res)
        return Result(res, self)

    def event(self, snapshot_id, event_id="RDS-EVENT-0042", cluster=False):
        return self.invoke(snapshot_event(self.world, snapshot_id, event_id, cluster=cluster))

    def keeper(self):
        """The keeper of this world: the same bootstrap under its own emulator, configured
        by the backup template's KeeperFunction environment (SNAPFERRY_MODE=keeper) and
        holding the keeper role's credentials. It never assumes a role. (The emulator
        reports every function ARN in 012345678912, the production account here: the keeper
        learns its own account from its credentials, as it must anyway.)"""
        return Keeper(self, self.start_rie)

    def record(self):
        return _policy(self.aws)

    def assert_no_denials(self):
        rec = self.record()
        assert rec["enabled"]
        assert rec["errors"] == [], json.dumps(rec["errors"], indent=1)
        assert rec["denials"] == [], json.dumps(rec["denials"], indent=1)
        assert rec["evaluated"], "the evaluator saw no call: is it hooked in?"
        NEEDED.extend(rec["evaluated"])
        return rec


class Keeper:
    def __init__(self, e, start_rie):
        w = e.world
        self.e = e
        c = w.keeper_credentials
        env = {"AWS_ENDPOINT_URL": w.endpoint, "AWS_REGION": w.region,
               "AWS_DEFAULT_REGION": w.region, "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
               "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
               "AWS_SESSION_TOKEN": c["SessionToken"]}
        env.update(w.keeper_env)
        env["LOG_LEVEL"] = "debug"
        assert env["SNAPFERRY_MODE"] == "keeper"
        self.env = env
        self.rie = start_rie(fs.bootstrap_path(), env)

    def invoke(self, event):
        status, res = self.rie.invoke_json(event)
        out = self.rie.new_output()
        self.output = out
        for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert bad not in out, out[-4000:]
        assert status == 200, (status, res, out[-3000:])
        assert res.get("mode") == "keeper", res
        return Result(res, self.e)

    def sweep(self):
        return self.invoke(dict(SCHEDULED, account=self.e.world.backup_account))


class Result(dict):
    """The function's answer; its repr (in assertion messages) adds the denials."""

    def __init__(self, res, e):
        super().__init__(res or {})
        self._e = e

    def __repr__(self):
        rec = self._e.record()
        return (json.dumps(dict(self), indent=1) + "\ndenials: " +
                json.dumps(rec["denials"], indent=1) + "\nerrors: " +
                json.dumps(rec["errors"], indent=1))


def _ferried(world, snapshot_id, cluster=False):
    from test_ferry import assert_ferried
    return assert_ferried(world, snapshot_id, cluster=cluster)


@pytest.fixture
def enforced(aws, start_rie):
    from fidelity.render import SAM_PYTHON
    from harness.rie_fixtures import skip_or_fail
    if not SAM_PYTHON.exists():
        skip_or_fail(f"{SAM_PYTHON} is missing: the SAM transform needs SAM CLI's venv "
                     "(make setup)")

    def make(**kw):
        return Enforced(aws, start_rie, **kw)   # start_rie stops the emulator at teardown
    return make


# ---- the flows, with zero denials -----------------------------------------------------------

@pytest.mark.parametrize("pinned", [True, False], ids=["pinned", "unpinned"])
def test_every_snapshot_kind_and_sweep(enforced, pinned):
    """The whole ferry flow under the add-only role: aws/rds, unencrypted, automated,
    Aurora, the sweep; zero denials."""
    e = enforced(pinned=pinned)
    w = e.world
    # aws/rds manual snapshot: transit copy under the share key, shared, copied, cleaned
    res = e.event(w.snapshot_id)
    assert res.get("outcome") == "done", res
    b, tags = _ferried(w, w.snapshot_id)
    assert tags["snapferry:source-key"] == w.rds_default_key_arn
    # unencrypted
    w.create_db("plaindb", encrypted=False)
    w.create_snapshot("plaindb", "plaindb-snap")
    res = e.event("plaindb-snap")
    assert res.get("outcome") == "done", res
    assert fs.instance_snapshots(w, "backup")[fs.bid(w, "plaindb-snap")]["KmsKeyId"] == \
        w.backup_key_arn
    # automated (aws/rds)
    snap = e.aws.automated_snapshot(w.prod_account, w.region, w.db_id)
    res = e.event(snap["id"], "RDS-EVENT-0091")
    assert res.get("outcome") == "done", res
    _ferried(w, snap["id"])
    # Aurora
    w.create_cluster("aurora1")
    w.create_cluster_snapshot("aurora1", "aurora1-snap")
    res = e.event("aurora1-snap", "RDS-EVENT-0075", cluster=True)
    assert res.get("outcome") == "done", res
    _ferried(w, "aurora1-snap", cluster=True)
    # the sweep: what no event announced (moto's automated snapshots made with the DBs)
    res = e.invoke(dict(SCHEDULED, account=w.prod_account))
    assert res.get("outcome") == "done", res
    # the in-flight check (every 5 minutes): deletes the kept transit copies a newer kept
    # one of their DB supersedes, under DeleteOwnTransitCopies.
    res = e.invoke({"action": "inflight"})
    assert res.get("outcome") == "done", res
    # One transit copy per DB stays: the newest, un-shared, kept for the next incremental
    # copy (transit_chain.h), tagged under the function role's TagOwnCopies.
    kept = {k: v for k, v in fs.instance_snapshots(w, "prod").items()
            if k.startswith("snapferry-")}
    dbs = [v["DBInstanceIdentifier"] for v in kept.values()]
    assert len(dbs) == len(set(dbs)), kept
    for k, v in kept.items():
        assert fs.tags_of(w.admin("rds"), v["DBSnapshotArn"]).get(
            "snapferry:transit-kept") == "true", k
    # every backup copy carries the lineage written at creation, under the add-only role
    for bid, snap in fs.instance_snapshots(w, "backup").items():
        tags = fs.tags_of(w.admin("rds", "backup"), snap["DBSnapshotArn"])
        assert tags["snapferry:created-by"] == "snapferry", (bid, tags)
        assert tags["snapferry:role"] == "backup", (bid, tags)
    rec = e.assert_no_denials()
    # the run exercised the share key's policy from the backup account
    assert any(x["action"] == "kms:CreateGrant" and x["resource"] == w.share_key_arn
               for x in rec["evaluated"])


def _customer_key_case(enforced, pinned):
    from fidelity.world import key_policy_for_backup
    e = enforced(pinned=pinned)
    w = e.world
    # A customer key whose policy grants the backup account (AWS's pattern for sharing
    # encrypted snapshots): what an unpinned backup stack needs of a customer key.
    key = w.create_key(policy=key_policy_for_backup(w.prod_account, w.backup_account))
    w.create_db("cmkdb", kms_key_id=key["Arn"])
    w.create_snapshot("cmkdb", "cmkdb-snap")
    res = e.event("cmkdb-snap")
    assert res.get("outcome") == "done", res
    b = fs.instance_snapshots(w, "backup")[fs.bid(w, "cmkdb-snap")]
    assert b["KmsKeyId"] == w.backup_key_arn
    assert fs.shared_with(w, "cmkdb-snap") == []
    auto = e.aws.automated_snapshot(w.prod_account, w.region, "cmkdb")
    res = e.event(auto["id"], "RDS-EVENT-0091")
    assert res.get("outcome") == "done", res
    e.assert_no_denials()


def test_customer_key_unpinned(enforced):
    _customer_key_case(enforced, pinned=False)


def test_customer_key_pinned(enforced):
    _customer_key_case(enforced, pinned=True)


# ---- the keeper: retention and restores, in the backup account, with its own role -----------

def test_keeper_retention(enforced):
    """RETENTION_DAYS=7 from the backup template: a copy 30 days old (by what AWS records,
    its tags agreeing) goes, the newest stays; the keeper's sweep reports the freshness
    metric per production account and DB; zero denials for ferry and keeper."""
    e = enforced(pinned=True, backup_parameters={"RetentionDays": 7,
                                                 "KeeperMinRetentionDays": 7})
    w = e.world
    old = fs.iso_days_ago(30)
    e.aws.snapshot_time(w.prod_account, w.region, w.snapshot_id, old)
    res = e.event(w.snapshot_id)
    assert res.get("outcome") == "done", res
    e.aws.snapshot_time(w.backup_account, w.region, fs.bid(w, "proddb-manual-1"), old)
    w.create_snapshot(w.db_id, "proddb-manual-2")
    res = e.event("proddb-manual-2")
    assert res.get("outcome") == "done", res
    k = e.keeper()
    res = k.sweep()
    assert res.get("outcome") == "done", res
    assert res["counts"]["retentionDeleted"] == 1, res
    backups = fs.instance_snapshots(w, "backup")
    assert fs.bid(w, "proddb-manual-1") not in backups
    assert fs.bid(w, "proddb-manual-2") in backups
    from harness.rie_fixtures import json_lines
    m = fs.metrics(json_lines(k.output))
    assert any(n == "NewestBackupAgeSecondsMax" and dims == {"Region": w.region}
               for n, _v, dims in m), m
    assert any(n == "NewestBackupAgeSeconds" and dims == {
        "Account": w.prod_account, "SourceDb": w.db_id, "Region": w.region}
        for n, _v, dims in m), m
    e.assert_no_denials()


def test_keeper_restore_on_and_manual_restore(enforced):
    """RESTORE=on in the backup template: the keeper restores a new copy when RDS announces
    it finished (an event of the backup account) and, for Aurora (no copy event), on its
    sweep; the disaster-day restore into a new target runs on the keeper. The ferry itself
    restores nothing."""
    e = enforced(pinned=True, backup_parameters={"Restore": "on"})
    w = e.world
    res = e.event(w.snapshot_id)
    assert res.get("outcome") == "done", res
    assert "restored" not in res, res
    k = e.keeper()
    res = k.invoke(snapshot_event(w, fs.bid(w, "proddb-manual-1"), "RDS-EVENT-0197",
                                  account=w.backup_account))
    assert res.get("outcome") == "done", res
    assert res["restored"] == "snapferry-proddb", res
    dbs = w.admin("rds", "backup").describe_db_instances()["DBInstances"]
    assert [d["DBInstanceIdentifier"] for d in dbs] == ["snapferry-proddb"]
    w.create_cluster("aurora1")
    w.create_cluster_snapshot("aurora1", "aurora1-snap")
    res = e.event("aurora1-snap", "RDS-EVENT-0075", cluster=True)
    assert res.get("outcome") == "done", res
    res = k.sweep()
    assert res.get("outcome") == "done", res
    clusters = w.admin("rds", "backup").describe_db_clusters()["DBClusters"]
    assert "snapferry-aurora1" in [c["DBClusterIdentifier"] for c in clusters]
    # the manual restore, into a new target
    w.create_snapshot(w.db_id, "proddb-manual-2")
    res = e.event("proddb-manual-2")
    assert res.get("outcome") == "done", res
    res = k.invoke({"action": "restore", "db": "proddb", "account": w.prod_account,
                    "target": "proddb-dr-2"})
    assert res["outcome"] == "done" and res["restored"] == "proddb-dr-2", res
    assert res["backup"] == fs.bid(w, "proddb-manual-2")
    e.assert_no_denials()


def test_keeper_disaster_day_restore_with_restore_off(enforced):
    """RESTORE=off (the default) decides only automatic restores: the disaster-day restore
    on the keeper works without production, with the keeper role alone."""
    e = enforced(pinned=True)
    w = e.world
    res = e.event(w.snapshot_id)
    assert res.get("outcome") == "done", res
    k = e.keeper()
    res = k.invoke(snapshot_event(w, fs.bid(w, "proddb-manual-1"), "RDS-EVENT-0197",
                                  account=w.backup_account))
    assert "restored" not in res, res
    res = k.invoke({"action": "restore", "db": "proddb", "target": "orders-dr"})
    assert res["outcome"] == "done" and res["restored"] == "orders-dr", res
    e.assert_no_denials()


def test_keeper_restore_drill(enforced):
    """A restore drill of an instance and of an Aurora cluster under the rendered KeeperRole:
    restore into <prefix>-drill-*, verify, tag the result on the DB and the copy, delete the
    writer, then the cluster: zero denials (issue 13)."""
    e = enforced(pinned=True)
    w = e.world
    res = e.event(w.snapshot_id)
    assert res.get("outcome") == "done", res
    w.create_cluster("aurora1")
    w.create_cluster_snapshot("aurora1", "aurora1-snap")
    res = e.event("aurora1-snap", "RDS-EVENT-0075", cluster=True)
    assert res.get("outcome") == "done", res
    k = e.keeper()
    res = k.invoke({"action": "drill"})
    assert sorted(d["state"] for d in res["drills"]) == ["restoring", "restoring"], res
    res = k.sweep()
    states = {d["db"]: d["state"] for d in res["drills"]}
    assert states == {"proddb": "passed", "aurora1": "passed"}, res
    res = k.sweep()                       # the cluster, once its writer is gone
    rds = w.admin("rds", "backup")
    assert not [c for c in rds.describe_db_clusters()["DBClusters"]
                if c["DBClusterIdentifier"].startswith("snapferry-drill")]
    assert not [d for d in rds.describe_db_instances()["DBInstances"]
                if d["DBInstanceIdentifier"].startswith("snapferry-drill")]
    e.assert_no_denials()


def test_keeper_role_drill_limits(enforced):
    """What the drill statements do not allow the keeper's role: another tag on a copy than
    snapferry:drill-result, and the delete of a DB without the snapferry:drill tag (even one
    named <prefix>-drill-*, and a RESTORE=on / disaster-day restore)."""
    e = enforced(pinned=True)
    w = e.world
    res = e.event(w.snapshot_id)
    assert res.get("outcome") == "done", res
    b = fs.bid(w, "proddb-manual-1")
    admin = w.admin("rds", "backup")
    admin.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="snapferry-drill-x",
                                               DBSnapshotIdentifier=b)
    admin.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="snapferry-proddb",
                                               DBSnapshotIdentifier=b)
    c = w.keeper_credentials
    rds = boto3.client("rds", endpoint_url=w.endpoint, region_name=w.region,
                       aws_access_key_id=c["AccessKeyId"],
                       aws_secret_access_key=c["SecretAccessKey"],
                       aws_session_token=c["SessionToken"])
    arn = fs.instance_snapshots(w, "backup")[b]["DBSnapshotArn"]
    e.aws._req("POST", "/_fidelity/policy", {"enabled": True})
    rds.add_tags_to_resource(ResourceName=arn, Tags=[
        {"Key": "snapferry:drill-result", "Value": "passed 2026-01-01T00:00:00Z 1"}])
    for tags in ([{"Key": "snapferry:source-db", "Value": "other"}],
                 [{"Key": "snapferry:drill-result", "Value": "x"},
                  {"Key": "snapferry:role", "Value": "none"}]):
        with pytest.raises(ClientError) as ei:
            rds.add_tags_to_resource(ResourceName=arn, Tags=tags)
        assert ei.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")
    for db in ("snapferry-drill-x", "snapferry-proddb"):
        with pytest.raises(ClientError) as ei:
            rds.delete_db_instance(DBInstanceIdentifier=db, SkipFinalSnapshot=True)
        assert ei.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")
    assert {"snapferry-drill-x", "snapferry-proddb"} <= {
        d["DBInstanceIdentifier"] for d in admin.describe_db_instances()["DBInstances"]}


# ---- the attacker: production's credentials and the ExternalId against the bunker ------------

def _as_ferry_facing_role(w, session="attacker"):
    """What whoever owns production can do: take the function's credentials (or become the
    function: its role's trust policy and its code are theirs), read the ExternalId from
    its configuration, and assume the ferry-facing role. Returns a client factory."""
    kw = dict(endpoint_url=w.endpoint, region_name=w.region)
    sts = boto3.client("sts", aws_access_key_id=w.access_key_id,
                       aws_secret_access_key=w.secret_access_key,
                       aws_session_token=w.session_token, **kw)
    c = sts.assume_role(RoleArn=w.role_arn, RoleSessionName=session,
                        ExternalId=w.external_id)["Credentials"]
    assert c["AccessKeyId"]

    def client(service):
        return boto3.client(service, aws_access_key_id=c["AccessKeyId"],
                            aws_secret_access_key=c["SecretAccessKey"],
                            aws_session_token=c["SessionToken"], **kw)
    return client


def _ferried_copies(e):
    """Run the ferry (zero denials) so that the backup account holds real copies of
    an instance and an Aurora snapshot, written by the add-only role; plus a DB there (as
    a restore leaves it). Returns (instance copy, cluster copy, DB id) descriptions."""
    w = e.world
    res = e.event(w.snapshot_id)
    assert res.get("outcome") == "done", res
    w.create_cluster("aurora1")
    w.create_cluster_snapshot("aurora1", "aurora1-snap")
    res = e.event("aurora1-snap", "RDS-EVENT-0075", cluster=True)
    assert res.get("outcome") == "done", res
    e.assert_no_denials()
    b = fs.instance_snapshots(w, "backup")[fs.bid(w, "proddb-manual-1")]
    bc = fs.cluster_snapshots(w, "backup")[fs.bid(w, "aurora1-snap", cluster=True)]
    w.create_db("orders-dr", account="backup")
    return b, bc, "orders-dr"


LINEAGE = [{"Key": "snapferry:created-by", "Value": "snapferry"},
           {"Key": "snapferry:role", "Value": "backup"}]


def _attacks(w, b, bc, db):
    """(name, service, operation, parameters, IAM action the denial names, resource)."""
    b_arn, bc_arn = b["DBSnapshotArn"], bc["DBClusterSnapshotArn"]
    db_arn = f"arn:aws:rds:{w.region}:{w.backup_account}:db:{db}"
    key = w.backup_key_arn
    return [
        ("delete a backup copy", "rds", "delete_db_snapshot",
         {"DBSnapshotIdentifier": b["DBSnapshotIdentifier"]}, "rds:DeleteDBSnapshot", b_arn),
        ("delete an Aurora backup copy", "rds", "delete_db_cluster_snapshot",
         {"DBClusterSnapshotIdentifier": bc["DBClusterSnapshotIdentifier"]},
         "rds:DeleteDBClusterSnapshot", bc_arn),
        ("share a backup copy out", "rds", "modify_db_snapshot_attribute",
         {"DBSnapshotIdentifier": b["DBSnapshotIdentifier"], "AttributeName": "restore",
          "ValuesToAdd": ["999999999999"]}, "rds:ModifyDBSnapshotAttribute", b_arn),
        ("share an Aurora backup copy out", "rds", "modify_db_cluster_snapshot_attribute",
         {"DBClusterSnapshotIdentifier": bc["DBClusterSnapshotIdentifier"],
          "AttributeName": "restore", "ValuesToAdd": ["all"]},
         "rds:ModifyDBClusterSnapshotAttribute", bc_arn),
        # every condition of TagNewCopiesAtCreation met but the one that the copy carries
        # no lineage yet: a lineage change on an existing copy (what retention would read)
        ("change a lineage tag of a copy", "rds", "add_tags_to_resource",
         {"ResourceName": b_arn, "Tags": LINEAGE + [
             {"Key": "snapferry:source-time", "Value": "2000-01-01T00:00:00.000Z"}]},
         "rds:AddTagsToResource", b_arn),
        ("add a tag to a copy", "rds", "add_tags_to_resource",
         {"ResourceName": b_arn, "Tags": LINEAGE + [
             {"Key": "snapferry:note", "Value": "x"}]}, "rds:AddTagsToResource", b_arn),
        ("add a tag to an Aurora copy", "rds", "add_tags_to_resource",
         {"ResourceName": bc_arn, "Tags": [{"Key": "expire", "Value": "now"}]},
         "rds:AddTagsToResource", bc_arn),
        ("remove the lineage of a copy", "rds", "remove_tags_from_resource",
         {"ResourceName": b_arn, "TagKeys": ["snapferry:created-by"]},
         "rds:RemoveTagsFromResource", b_arn),
        ("restore a copy into a DB", "rds", "restore_db_instance_from_db_snapshot",
         {"DBInstanceIdentifier": "exfil", "DBSnapshotIdentifier": b_arn,
          "PubliclyAccessible": True}, "rds:RestoreDBInstanceFromDBSnapshot", b_arn),
        ("restore an Aurora copy into a cluster", "rds", "restore_db_cluster_from_snapshot",
         {"DBClusterIdentifier": "exfil", "SnapshotIdentifier": bc_arn,
          "Engine": "aurora-postgresql"}, "rds:RestoreDBClusterFromSnapshot", bc_arn),
        ("delete a DB of the backup account", "rds", "delete_db_instance",
         {"DBInstanceIdentifier": db, "SkipFinalSnapshot": True}, "rds:DeleteDBInstance",
         db_arn),
        ("modify a DB of the backup account", "rds", "modify_db_instance",
         {"DBInstanceIdentifier": db, "MasterUserPassword": "attacker-pass-1",
          "ApplyImmediately": True}, "rds:ModifyDBInstance", db_arn),
        # the backup key: nothing but what RDS needs to encrypt a new copy
        ("decrypt with the backup key", "kms", "decrypt",
         {"CiphertextBlob": "CIPHERTEXT"}, "kms:Decrypt", key),
        ("re-encrypt from the backup key", "kms", "re_encrypt",
         {"CiphertextBlob": "CIPHERTEXT", "DestinationKeyId": w.share_key_arn},
         "kms:ReEncryptFrom", key),
        ("generate a data key outside RDS", "kms", "generate_data_key",
         {"KeyId": key, "KeySpec": "AES_256"}, "kms:GenerateDataKey", key),
        ("schedule the backup key's deletion", "kms", "schedule_key_deletion",
         {"KeyId": key, "PendingWindowInDays": 7}, "kms:ScheduleKeyDeletion", key),
        ("replace the backup key's policy", "kms", "put_key_policy",
         {"KeyId": key, "PolicyName": "default", "Policy": json.dumps({
             "Version": "2012-10-17", "Statement": [{
                 "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*",
                 "Resource": "*"}]})}, "kms:PutKeyPolicy", key),
        ("disable the backup key", "kms", "disable_key", {"KeyId": key}, "kms:DisableKey",
         key),
        ("grant the backup key to production", "kms", "create_grant",
         {"KeyId": key, "GranteePrincipal": w.function_user_arn,
          "Operations": ["Decrypt"]}, "kms:CreateGrant", key),
    ]


def test_attacker_with_production_credentials_can_only_add(enforced):
    """Issue 15: each destructive call on the bunker is denied by the evaluator, naming the
    action and the copy/DB/key, with no statement of the ferry-facing role allowing it; the
    copies, their tags, the DB and the key are unchanged afterwards."""
    e = enforced(pinned=True)
    w = e.world
    b, bc, db = _ferried_copies(e)
    kms_b = w.admin("kms", "backup")
    blob = kms_b.encrypt(KeyId=w.backup_key_arn, Plaintext=b"a data key")["CiphertextBlob"]
    tags_before = fs.tags_of(w.admin("rds", "backup"), b["DBSnapshotArn"])
    client = _as_ferry_facing_role(w)
    e.aws._req("POST", "/_fidelity/policy", {"enabled": True})     # a fresh record
    failures = []
    for name, service, op, params, action, resource in _attacks(w, b, bc, db):
        params = {k: (blob if v == "CIPHERTEXT" else v) for k, v in params.items()}
        try:
            getattr(client(service), op)(**params)
        except ClientError as ex:
            err = ex.response["Error"]
            want = "AccessDenied" if service == "rds" else "AccessDeniedException"
            if err["Code"] != want or action not in err["Message"]:
                failures.append(f"{name}: {err['Code']} {err['Message']}")
            continue
        failures.append(f"{name}: ALLOWED ({service}:{op})")
    rec = e.record()
    assert rec["errors"] == [], json.dumps(rec["errors"], indent=1)
    assert not failures, "\n".join(failures)
    denials = rec["denials"]
    assert len(denials) == len(_attacks(w, b, bc, db)), json.dumps(denials, indent=1)
    for d, (name, _s, _o, _p, action, resource) in zip(denials, _attacks(w, b, bc, db)):
        assert d["principal"] == (f"arn:aws:sts::{w.backup_account}:assumed-role/"
                                  f"{w.role_name}/attacker"), (name, d)
        assert (d["action"], d["resource"]) == (action, resource), (name, d)
        # nothing of the role allowed it: every statement considered says why not
        assert not any(": allows" in s for s in d["statements"]
                       if s.startswith(("snapferry-backup-", "key-policy"))
                       and "/AccountAdministers" not in s), (name, d["statements"])
    by_name = {n: d for d, (n, *_r) in zip(denials, _attacks(w, b, bc, db))}
    # the tag change is refused by the creation-only condition itself, not by chance
    st = by_name["change a lineage tag of a copy"]["statements"]
    assert any("snapferry-backup-rds/TagNewCopiesAtCreation: condition not met: Null "
               "aws:ResourceTag/snapferry:created-by=true" in s for s in st), st
    st = by_name["decrypt with the backup key"]["statements"]
    assert any("BackupRoleEncryptsNewCopies: action does not match" in s for s in st), st
    st = by_name["generate a data key outside RDS"]["statements"]
    assert any("BackupRoleEncryptsNewCopies: condition not met: StringEquals "
               "kms:ViaService" in s for s in st), st
    st = by_name["grant the backup key to production"]["statements"]
    assert any("BackupRoleGrantsForRds: condition not met: Bool "
               "kms:GrantIsForAWSResource" in s for s in st), st
    # and nothing changed
    assert fs.bid(w, "proddb-manual-1") in fs.instance_snapshots(w, "backup")
    assert fs.bid(w, "aurora1-snap", cluster=True) in fs.cluster_snapshots(w, "backup")
    assert fs.tags_of(w.admin("rds", "backup"), b["DBSnapshotArn"]) == tags_before
    assert [x["DBInstanceIdentifier"] for x in
            w.admin("rds", "backup").describe_db_instances()["DBInstances"]] == [db]
    meta = kms_b.describe_key(KeyId=w.backup_key_arn)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["Enabled"]


def test_attacker_copy_of_a_copy_cannot_read_it(enforced):
    """The one write the add-only role keeps inside the backup account: CopyDBSnapshot's
    source and target may both match <prefix>-* there (IAM can't tell a copy's source from
    its target). Copying a backup copy under another key needs the backup key's Decrypt,
    which the role lacks: RDS is refused the key."""
    e = enforced(pinned=True)
    w = e.world
    b, _bc, _db = _ferried_copies(e)
    client = _as_ferry_facing_role(w)
    e.aws._req("POST", "/_fidelity/policy", {"enabled": True})
    with pytest.raises(ClientError) as ei:
        client("rds").copy_db_snapshot(
            SourceDBSnapshotIdentifier=b["DBSnapshotArn"],
            TargetDBSnapshotIdentifier="snapferry-exfil", KmsKeyId=w.share_key_arn,
            Tags=LINEAGE)
    assert ei.value.response["Error"]["Code"] == "KMSKeyNotAccessibleFault"
    d = _denial(e, "rds:CopyDBSnapshot", "kms:Decrypt")
    assert d["resource"] == w.backup_key_arn
    assert "snapferry-exfil" not in fs.instance_snapshots(w, "backup")


def test_control_tags_on_existing_copies_need_the_creation_condition(enforced):
    """Negative control of the creation-only condition: without its Null clause, the same
    lineage change on an existing copy goes through: the condition is what denies it."""
    def edit(t):
        for st in _statements(t, "BackupRole"):
            if st.get("Sid") == "TagNewCopiesAtCreation":
                del st["Condition"]["Null"]
    e = enforced(pinned=True, edit_backup=edit)
    w = e.world
    b, _bc, _db = _ferried_copies(e)
    client = _as_ferry_facing_role(w)
    client("rds").add_tags_to_resource(ResourceName=b["DBSnapshotArn"], Tags=LINEAGE + [
        {"Key": "snapferry:source-time", "Value": "2000-01-01T00:00:00.000Z"}])
    tags = fs.tags_of(w.admin("rds", "backup"), b["DBSnapshotArn"])
    assert tags["snapferry:source-time"] == "2000-01-01T00:00:00.000Z"


# ---- negative controls: the run fails, naming the call and the statement --------------------

def _statements(template, lid):
    props = template["Resources"][lid]["Properties"]
    if "KeyPolicy" in props:
        return props["KeyPolicy"]["Statement"]
    if "PolicyDocument" in props:
        return props["PolicyDocument"]["Statement"]
    return props["Policies"][0]["PolicyDocument"]["Statement"]


def _drop(lid, sid):
    def edit(t):
        st = _statements(t, lid)
        before = len(st)
        st[:] = [s for s in st if not (isinstance(s, dict) and s.get("Sid") == sid)]
        assert len(st) == before - 1, f"{lid} has no statement {sid}"
    return edit


def _denial(e, call, action=None):
    rec = e.record()
    assert rec["errors"] == [], rec["errors"]
    found = [d for d in rec["denials"] if d["call"] == call and
             (action is None or d["action"] == action)]
    assert found, json.dumps(rec["denials"], indent=1)
    return found[0]


def test_control_share_key_without_backup_grants(enforced):
    """The share key's grant statement for the backup account removed: the backup role's
    CopyDBSnapshot of the shared transit copy is refused the key."""
    e = enforced(pinned=True, edit_prod=_drop("ShareKey", "BackupAccountGrantsForRds"))
    res = e.event(e.world.snapshot_id)
    assert res.get("outcome") != "done", res
    d = _denial(e, "rds:CopyDBSnapshot", "kms:CreateGrant")
    assert d["resource"] == e.world.share_key_arn
    assert d["principal"].startswith(f"arn:aws:sts::{e.world.backup_account}:assumed-role/")
    assert d["code"] == "KMSKeyNotAccessibleFault"
    assert any("BackupAccountUsesKey: action does not match" in s for s in d["statements"])


def test_control_backup_role_without_tagging(enforced):
    e = enforced(pinned=True, edit_backup=_drop("BackupRole", "TagNewCopiesAtCreation"))
    res = e.event(e.world.snapshot_id)
    assert res.get("errorType") == "Snapferry.AccessDenied", res
    d = _denial(e, "rds:CopyDBSnapshot", "rds:AddTagsToResource")
    assert d["resource"].startswith(
        f"arn:aws:rds:us-east-1:{e.world.backup_account}:snapshot:snapferry-")
    assert any("snapferry-backup-rds/CopySharedSnapshots: action does not match" in s
               for s in d["statements"]), d["statements"]


def test_control_trust_condition_broken(enforced):
    """The trust policy's aws:PrincipalArn names another role: AssumeRole is refused."""
    def edit(t):
        (st,) = t["Resources"]["BackupRole"]["Properties"]["AssumeRolePolicyDocument"][
            "Statement"]
        st = st["Fn::If"][2]     # single-account mode (organization mode: test_org.py)
        st["Condition"]["ArnEquals"]["aws:PrincipalArn"] = f"arn:aws:iam::{PROD}:role/other"
    e = enforced(pinned=True, edit_backup=edit)
    res = e.event(e.world.snapshot_id)
    assert res.get("outcome") != "done", res
    d = _denial(e, "sts:AssumeRole")
    assert any("condition not met: ArnEquals aws:PrincipalArn" in s for s in d["statements"])


def test_control_via_service_condition_broken(enforced):
    """kms:ViaService of the backup role's key statement names another region: RDS in the
    backup account can't use the production share key (another account's key: its key
    policy AND the role's IAM policy must allow) for the backup copy."""
    def edit(t):
        for st in _statements(t, "BackupRoleKmsPolicy"):
            if isinstance(st, dict) and st.get("Sid") == "ReadShareKeyThroughRds":
                st["Condition"]["StringEquals"]["kms:ViaService"] = {
                    "Fn::Sub": "rds.eu-west-1.amazonaws.com"}
    e = enforced(pinned=True, edit_backup=edit)
    res = e.event(e.world.snapshot_id)
    assert res.get("outcome") != "done", res
    d = _denial(e, "rds:CopyDBSnapshot")
    assert d["resource"] == e.world.share_key_arn
    assert d["principal"].startswith(f"arn:aws:sts::{e.world.backup_account}:assumed-role/")
    assert any("snapferry-backup-kms/ReadShareKeyThroughRds: condition not met: StringEquals "
               "kms:ViaService" in s for s in d["statements"]), d["statements"]


def test_control_grant_condition_broken(enforced):
    """The share key's grant statement for the backup account asks for grants that are NOT
    for an AWS resource: RDS's grant (always for an AWS resource) is refused."""
    def edit(t):
        for st in _statements(t, "ShareKey"):
            if st["Sid"] == "BackupAccountGrantsForRds":
                st["Condition"]["Bool"]["kms:GrantIsForAWSResource"] = "false"
    e = enforced(pinned=False, edit_prod=edit)
    res = e.event(e.world.snapshot_id)
    assert res.get("outcome") != "done", res
    d = _denial(e, "rds:CopyDBSnapshot", "kms:CreateGrant")
    assert any("/BackupAccountGrantsForRds: condition not met: Bool "
               "kms:GrantIsForAWSResource" in s for s in d["statements"]), d["statements"]


def test_control_upper_case_name_prefix_is_refused_by_both_templates():
    """Issue 9 defect 2: RDS stores ids in lower case and IAM compares ARNs
    case-sensitively, so an upper-case NamePrefix would grant nothing: the templates refuse
    it."""
    from fidelity.render import RenderError, load, BACKUP_TEMPLATE, PROD_TEMPLATE, Stack
    for path, params in ((BACKUP_TEMPLATE, {"ProductionFunctionRoleArn":
                                            f"arn:aws:iam::{PROD}:role/snapferry-function",
                                            "ExternalId": "ext-1"}),
                         (PROD_TEMPLATE, {"BackupAccountId": "210987654321",
                                          "BackupRoleArn":
                                              "arn:aws:iam::210987654321:role/b",
                                          "BackupKmsKeyId":
                                              "arn:aws:kms:us-east-1:210987654321:key/k"})):
        t = load(path)
        Stack(t, dict(params, NamePrefix="snap-ferry2"), PROD, "us-east-1")
        with pytest.raises(RenderError, match="NamePrefix"):
            Stack(t, dict(params, NamePrefix="SnapFerry"), PROD, "us-east-1")


def test_upper_case_prefix_would_be_denied(enforced):
    """Why defect 2 matters, shown by the evaluator: with the old pattern's upper-case
    prefix in the policies, the lower-case ids RDS stores are not granted."""
    def lower_to_upper(t):
        t["Parameters"]["NamePrefix"]["AllowedPattern"] = "^[a-zA-Z][a-zA-Z0-9-]*$"
    e = enforced(pinned=True, edit_backup=lower_to_upper,
                 backup_parameters={"NamePrefix": "SnapFerry"},
                 prod_parameters={"NamePrefix": "snapferry"})
    res = e.event(e.world.snapshot_id)
    assert res.get("outcome") != "done", res
    d = _denial(e, "rds:CopyDBSnapshot")
    assert ":snapshot:snapferry-" in d["resource"], d


# ---- the evaluator itself -------------------------------------------------------------------

def test_evaluator_rules():
    from fidelity import policy as p
    allow = {"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "rds:Copy*",
                            "Resource": "arn:aws:rds:*:1:snapshot:snapferry-*"}]}
    d, _ = p.evaluate([("x", allow)], "rds:CopyDBSnapshot",
                      "arn:aws:rds:us-east-1:1:snapshot:snapferry-a", {})
    assert d == "allow"
    d, why = p.evaluate([("x", allow)], "rds:CopyDBSnapshot",
                        "arn:aws:rds:us-east-1:1:snapshot:SnapFerry-a", {})
    assert d == "none" and "does not match" in why[0]      # ARNs are case-sensitive
    d, _ = p.evaluate([("x", allow)], "RDS:copydbsnapshot",
                      "arn:aws:rds:us-east-1:1:snapshot:snapferry-a", {})
    assert d == "allow"                                     # action names are not
    deny = {"Statement": allow["Statement"] + [
        {"Sid": "D", "Effect": "Deny", "NotAction": "rds:Describe*", "Resource": "*"}]}
    d, why = p.evaluate([("x", deny)], "rds:CopyDBSnapshot",
                        "arn:aws:rds:us-east-1:1:snapshot:snapferry-a", {})
    assert d == "deny" and why[-1] == "x/D: explicit Deny"
    notres = {"Statement": [{"Effect": "Allow", "Action": "*",
                             "NotResource": "arn:aws:rds:*:1:db:*"}]}
    assert p.evaluate([("x", notres)], "rds:X", "arn:aws:rds:r:1:db:a", {})[0] == "none"
    assert p.evaluate([("x", notres)], "rds:X", "arn:aws:rds:r:1:snapshot:a", {})[0] == \
        "allow"
    ok, _ = p.condition_holds({"ForAllValues:StringLike": {"aws:TagKeys": "snapferry:*"}},
                              {"aws:tagkeys": ["snapferry:role", "snapferry:source-arn"]})
    assert ok
    ok, _ = p.condition_holds({"ForAnyValue:StringEquals": {"aws:TagKeys": "x"}},
                              {"aws:tagkeys": ["a"]})
    assert not ok
    ok, _ = p.condition_holds({"Null": {"aws:ResourceTag/snapferry:source-arn": "false"}},
                              {})
    assert not ok
    ok, _ = p.condition_holds({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, {})
    assert not ok                        # a key the request lacks never matches
    for bad in ({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}},
                {"StringEquals": {"aws:SourceIp": "1.2.3.4"}},
                {"StringEqualsIfExists": {"kms:ViaService": "x"}}):
        with pytest.raises(p.PolicyError):
            p.condition_holds(bad, {})


def test_enforcement_is_per_world(aws):
    """Off by default and after a reset: the allow-all worlds of the other suites are not
    evaluated; on, a call the caller's policy doesn't grant is refused in AWS's shape."""
    from fidelity.world import build_world
    w = build_world(aws.endpoint)
    assert _policy(aws)["enabled"] is False
    w.prod("rds").describe_db_snapshots()
    aws._req("POST", "/_fidelity/policy", {"enabled": True})
    w.admin("iam").put_user_policy(
        UserName=w.function_user, PolicyName="snapferry", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Sid": "OnlyDescribe", "Effect": "Allow", "Action": "rds:DescribeDBSnapshots",
                 "Resource": "*"}]}))
    w.prod("rds").describe_db_snapshots()
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as ei:
        w.prod("rds").delete_db_snapshot(DBSnapshotIdentifier=w.snapshot_id)
    err = ei.value.response
    assert err["Error"]["Code"] == "AccessDenied"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert (f"User: {w.function_user_arn} is not authorized to perform: rds:DeleteDBSnapshot "
            f"on resource: {w.snapshot_arn}") in err["Error"]["Message"]
    (d,) = _policy(aws)["denials"]
    assert d["call"] == "rds:DeleteDBSnapshot" and d["resource"] == w.snapshot_arn
    assert d["statements"] == ["snapferry/OnlyDescribe: action does not match"]
    assert w.snapshot_id in fs.instance_snapshots(w, "prod")
    aws.reset()
    assert _policy(aws)["enabled"] is False


# ---- docs/permissions.md: for each permission, the call that needed it ----------------------

# ---- issue 10: the keeper's chain, with the backup stack in two Regions ---------------------

CHAIN_REGION = "eu-west-1"


def test_keeper_chain_across_regions(enforced, start_rie):
    """BackupRegions lists both Regions; the backup stack is deployed in each (its role
    names carry the Region). The ferry makes B_s in the source Region; the keeper of the
    other Region, with its rendered role and environment, copies B_s -> B_r: zero
    denials, and the chain's permissions are the ones docs/permissions.md lists."""
    from fidelity.render import add_enforced_backup_region
    regions = f"us-east-1,{CHAIN_REGION}"
    e = enforced(pinned=True, backup_parameters={"BackupRegions": regions})
    w = e.world
    assert w.role_name == "snapferry-backup-us-east-1"
    assert w.keeper_env["BACKUP_REGIONS"] == regions
    assert w.keeper_env["BACKUP_KMS_KEY_ID"] == w.backup_key_arn
    res = e.event(w.snapshot_id)
    assert res.get("outcome") == "done", res
    b = fs.bid(w, w.snapshot_id)

    r = add_enforced_backup_region(e.aws, w, CHAIN_REGION)
    assert r["keeper_role_arn"].endswith(f":role/snapferry-keeper-{CHAIN_REGION}")
    assert r["keeper_env"]["BACKUP_KMS_KEY_ID"] == r["key_arn"]
    c = r["keeper_credentials"]
    env = {"AWS_ENDPOINT_URL": w.endpoint, "AWS_REGION": CHAIN_REGION,
           "AWS_DEFAULT_REGION": CHAIN_REGION, "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
           "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
           "AWS_SESSION_TOKEN": c["SessionToken"], "LOG_LEVEL": "debug"}
    env.update(r["keeper_env"])
    rie = start_rie(fs.bootstrap_path(), env)
    status, res = rie.invoke_json({"action": "chain"})
    assert status == 200 and res.get("outcome") == "done", (res, e.record()["denials"])
    assert res["chain"]["started"] == 1, res
    from fidelity.world import admin_client
    rds_r = admin_client(w.endpoint, "rds", w.backup_account, CHAIN_REGION)
    (copy,) = rds_r.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert copy["DBSnapshotIdentifier"] == b and copy["KmsKeyId"] == r["key_arn"]
    # The keeper of r's sweep, the chain in it, under the same policies.
    status, res = rie.invoke_json(dict(SCHEDULED, account=w.backup_account,
                                       region=CHAIN_REGION))
    assert status == 200 and res.get("outcome") == "done", res
    assert res["counts"]["lineageMismatches"] == 0 and res["chain"]["present"] == 1, res
    e.assert_no_denials()


def test_keeper_chain_needs_its_statements(enforced, start_rie):
    """Negative control: the second Region's keeper without ChainCopyIntoThisRegion is
    denied the copy, naming the call."""
    from fidelity.render import add_enforced_backup_region, load, BACKUP_TEMPLATE
    regions = f"us-east-1,{CHAIN_REGION}"
    e = enforced(pinned=True, backup_parameters={"BackupRegions": regions})
    w = e.world
    assert e.event(w.snapshot_id).get("outcome") == "done"
    r = add_enforced_backup_region(e.aws, w, CHAIN_REGION)
    from fidelity.world import admin_client
    iam = admin_client(w.endpoint, "iam", w.backup_account, CHAIN_REGION)
    role = r["keeper_role_arn"].rsplit("/", 1)[-1]
    for name, doc in r["rendered"]["keeper_role"]:
        if name == "snapferry-keeper-rds":
            doc = dict(doc, Statement=[st for st in doc["Statement"]
                                       if st.get("Sid") != "ChainCopyIntoThisRegion"])
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(doc))
    c = r["keeper_credentials"]
    env = {"AWS_ENDPOINT_URL": w.endpoint, "AWS_REGION": CHAIN_REGION,
           "AWS_DEFAULT_REGION": CHAIN_REGION, "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
           "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
           "AWS_SESSION_TOKEN": c["SessionToken"]}
    env.update(r["keeper_env"])
    rie = start_rie(fs.bootstrap_path(), env)
    status, res = rie.invoke_json({"action": "chain"})
    assert res.get("errorType") == "Snapferry.AccessDenied", res
    denials = e.record()["denials"]
    assert any(d["action"] == "rds:CopyDBSnapshot" for d in denials), denials
    assert load(BACKUP_TEMPLATE)    # the template itself is untouched


# ---- issue 10: the single step, the production Region not among BackupRegions ----------------

SINGLE = ("eu-west-1", "us-west-2")     # production is us-east-1 (the world's Region)


def _single_step(enforced, pinned=True, **kw):
    """The backup stack deployed in both Regions of BackupRegions (SINGLE), production in
    us-east-1 with the same BackupRegions and a key per Region; BACKUP_ROLE_ARN names the
    first Region's role (docs/deployment.md)."""
    regions = ",".join(SINGLE)
    e = enforced(pinned=pinned, backup_region=SINGLE[0], more_backup_regions=SINGLE[1:],
                 backup_parameters={"BackupRegions": regions},
                 prod_parameters={"BackupRegions": regions}, **kw)
    w = e.world
    assert w.role_name == f"snapferry-backup-{SINGLE[0]}"
    assert e.env["BACKUP_REGIONS"] == regions and "BACKUP_REGION" not in e.env
    keys = {SINGLE[0]: w.backup_key_arn, SINGLE[1]: w.more_backup[SINGLE[1]]["key_arn"]}
    assert sorted(e.env["BACKUP_KMS_KEY_ID"].split(",")) == sorted(keys.values())
    return e, keys


def _copies_in(w, region, cluster=False):
    from fidelity.world import admin_client
    rds = admin_client(w.endpoint, "rds", w.backup_account, region)
    if cluster:
        return {s["DBClusterSnapshotIdentifier"]: s for s in rds.describe_db_cluster_snapshots(
            SnapshotType="manual")["DBClusterSnapshots"]}
    return {s["DBSnapshotIdentifier"]: s for s in rds.describe_db_snapshots(
        SnapshotType="manual")["DBSnapshots"]}


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned", "unpinned"])
def test_single_step_into_two_regions(enforced, pinned):
    """The ferry in us-east-1 copies S (aws/rds, through T under the share key) and an
    Aurora snapshot straight into eu-west-1 AND us-west-2, cross-account and cross-Region,
    under the one rendered role of eu-west-1's stack: each copy under its Region's backup
    key (us-west-2's found by its tag), with the lineage; zero denials. Pinned: the share
    key through the listed Regions' RDS (and its own Region's); unpinned: RDS of any Region."""
    e, keys = _single_step(enforced, pinned)
    w = e.world
    res = e.event(w.snapshot_id)
    assert res.get("outcome") == "done", res
    assert {c["region"] for c in res["copies"]} == set(SINGLE), res
    w.create_cluster("aurora1")
    w.create_cluster_snapshot("aurora1", "aurora1-snap")
    res = e.event("aurora1-snap", "RDS-EVENT-0075", cluster=True)
    assert res.get("outcome") == "done", res
    from fidelity.world import admin_client
    for r in SINGLE:
        for snap, cluster in ((w.snapshot_id, False), ("aurora1-snap", True)):
            b = _copies_in(w, r, cluster)[fs.bid(w, snap, cluster)]
            assert b["KmsKeyId"] == keys[r], (r, b)
            arn = b["DBClusterSnapshotArn" if cluster else "DBSnapshotArn"]
            t = fs.tags_of(admin_client(w.endpoint, "rds", w.backup_account, r), arn)
            assert t["snapferry:role"] == "backup" and t["snapferry:source-region"] == w.region
    assert not _copies_in(w, w.region), "no copy in the production Region"
    rec = e.assert_no_denials()
    # The second Region went through the single-step statements: its copy, its tags, its
    # key (by tag), the share key through its RDS endpoint.
    by = {}
    for x in rec["evaluated"]:
        for st in x["allowed_by"]:
            by.setdefault(st.split("/", 1)[-1], set()).add((x["action"], x["resource"]))
    r2 = f":{SINGLE[1]}:{w.backup_account}:"
    assert any(a == "rds:CopyDBSnapshot" and r2 in res_
               for a, res_ in by["SingleStepCopyIntoListedRegions"])
    assert any(a == "rds:AddTagsToResource" and r2 in res_
               for a, res_ in by["SingleStepTagNewCopiesAtCreation"])
    assert ("kms:GenerateDataKey", keys[SINGLE[1]]) in by["SingleStepEncryptWithListedBackupKeys"]
    assert ("kms:CreateGrant", keys[SINGLE[1]]) in by["SingleStepBackupKeyGrantsForRds"]
    assert ("kms:Decrypt", w.share_key_arn) in by["SingleStepReadShareKeyThroughRds"]


def _without_single_step(t):
    """The backup template as it was before the single step had its statements: only the
    Region of the stack in its role's policies."""
    for lid in ("BackupRole", "BackupRoleKmsPolicy"):
        st = _statements(t, lid)
        before = len(st)
        st[:] = [s for s in st if not (isinstance(s, dict) and "Fn::If" in s and
                                       s["Fn::If"][1].get("Sid", "").startswith("SingleStep"))]
        assert len(st) < before, lid


def test_single_step_control_one_region_role(enforced):
    """Negative control: the role of one Region's stack without the single-step statements
    (the template before them) is denied the copy into the other Region."""
    e, _keys = _single_step(enforced, edit_backup=_without_single_step)
    w = e.world
    res = e.event(w.snapshot_id)
    assert res.get("outcome") != "done", res
    denials = e.record()["denials"]
    assert denials and all(f":{SINGLE[1]}:" in d["resource"] for d in denials), denials
    assert all(d["principal"].startswith(
        f"arn:aws:sts::{w.backup_account}:assumed-role/snapferry-backup-{SINGLE[0]}/")
        for d in denials), denials
    assert not _copies_in(w, SINGLE[1])


def test_single_step_control_untagged_key(enforced):
    """Negative control: the other Region's backup key without the tag the stacks put on it
    is refused to RDS for the new copy (the tag condition is what lets it in)."""
    def untagged(t):
        t["Resources"]["BackupKey"]["Properties"].pop("Tags")
    e, keys = _single_step(enforced, edit_backup=untagged)
    w = e.world
    res = e.event(w.snapshot_id)
    assert res.get("outcome") != "done", res
    d = _denial(e, "rds:CopyDBSnapshot", "kms:DescribeKey")   # RDS's first use of the key
    assert d["resource"] == keys[SINGLE[1]], d
    assert any("SingleStepEncryptWithListedBackupKeys: condition not met" in s
               for s in d["statements"]), d["statements"]
    assert fs.bid(w, w.snapshot_id) in _copies_in(w, SINGLE[0])


def needed_table(evaluated):
    """{(principal role name, permission): (sorted statements, sorted calls)} of the
    allowed requests; the role's own `sts:AssumeRole` call is its caller's."""
    out = {}
    for x in evaluated:
        role = x["principal"].rsplit("/", 1)[-1]
        # with several BackupRegions the role names carry the Region (issue 10): one row
        # per role of the template, whatever its Region
        role = re.sub(r"-[a-z]{2}(-[a-z]+)+-[0-9]+$", "", role)
        k = (role, x["action"])
        st, calls = out.setdefault(k, (set(), set()))
        # a customer key's id is the test's own: "customer key" in the docs
        st.update(re.sub(r"key-policy\([0-9a-f-]{36}\)", "key-policy(customer key)", s)
                  for s in x["allowed_by"])
        calls.add(x["call"])
    return {k: (sorted(v[0]), sorted(v[1])) for k, v in sorted(out.items())}


def doc_rows():
    """The rows of docs/permissions.md's enforced-run table: {(role, permission): calls}."""
    from harness.paths import ROOT
    text = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    part = text.split("## In the enforced run", 1)
    assert len(part) == 2, "docs/permissions.md has no '## In the enforced run' section"
    rows = {}
    for line in part[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("role", "") and not cells[0].startswith("-"):
            calls = {c.strip().strip("`") for c in cells[3].split(",")}
            rows[(cells[0], cells[1])] = (cells[2], calls)
    return rows


def test_docs_name_the_call_for_every_permission():
    """Runs last: every permission the zero-denial runs above were allowed is in the docs'
    table with each call that needed it, and the table lists nothing that was not needed."""
    if not NEEDED:
        pytest.skip("run with the enforced flows above (the whole file)")
    table = needed_table(NEEDED)
    for (role, perm), (stmts, calls) in table.items():
        print(f"\n| {role} | `{perm}` | {', '.join(stmts)} | "
              f"{', '.join('`%s`' % c for c in calls)} |")
    rows = doc_rows()
    missing = {k: v for k, v in table.items() if k not in rows}
    assert not missing, f"not in docs/permissions.md: {missing}"
    for k, (stmts, calls) in table.items():
        assert set(calls) <= rows[k][1], (k, calls, rows[k])
    extra = set(rows) - set(table)
    assert not extra, f"docs/permissions.md lists permissions no call needed: {extra}"

"""advance(S) end to end, against moto with the fidelity layer (two accounts, AssumeRole,
aws/rds with KeyManager AWS, AWS's sharing rules, copies held in `creating`), through the
bootstrap's `--event` path (the handler the Runtime API loop runs) and, for the happy path
and a function error, under AWS's Runtime Interface Emulator."""
import concurrent.futures
import json
import os
import subprocess

import pytest

import ferry_support as fs
from ferry_support import run_event, snapshot_event, SWEEP

MUTATING = {"CopyDBSnapshot", "CopyDBClusterSnapshot", "ModifyDBSnapshotAttribute",
            "ModifyDBClusterSnapshotAttribute", "DeleteDBSnapshot", "DeleteDBClusterSnapshot",
            "RestoreDBInstanceFromDBSnapshot", "RestoreDBClusterFromSnapshot",
            "AddTagsToResource"}


def calls_of(aws, action, account=None):
    return [c for c in aws.calls(action=action, account=account)]


def assert_ferried(world, snapshot_id, copy_id=None, cluster=False):
    """The backup account holds exactly one copy, encrypted with the backup key, with the
    lineage tags; a transit copy is left only kept and un-shared; S is untouched and not
    shared."""
    copy_id = copy_id or fs.bid(world, snapshot_id, cluster)
    listing = fs.cluster_snapshots if cluster else fs.instance_snapshots
    backup = listing(world, "backup")
    assert copy_id in backup, list(backup)
    src_type = "cluster-snapshot" if cluster else "snapshot"
    src_arn = f"arn:aws:rds:{world.region}:{world.prod_account}:{src_type}:{snapshot_id}"
    # Exactly one copy of this source (a sweep may also ferry moto's automated snapshot).
    of_source = [k for k, v in backup.items() if fs.tags_of(
        world.admin("rds", "backup"), v["DBClusterSnapshotArn" if cluster else
                                        "DBSnapshotArn"]).get("snapferry:source-arn") == src_arn]
    assert of_source == [copy_id]
    b = backup[copy_id]
    assert b["Status"] == "available"
    assert b["KmsKeyId"] == world.backup_key_arn
    arn = b["DBClusterSnapshotArn" if cluster else "DBSnapshotArn"]
    tags = fs.tags_of(world.admin("rds", "backup"), arn)
    assert tags["snapferry:source-arn"] == src_arn
    assert tags["snapferry:role"] == "backup"
    assert tags["snapferry:created-by"] == "snapferry"
    assert "snapferry:source-db" in tags
    prod = listing(world, "prod", None if snapshot_id.startswith("rds:") else "manual")
    tid = fs.transit_id(snapshot_id, cluster)
    if tid in prod:
        # Kept, un-shared, as the base of the DB's next incremental copy (transit_chain.h).
        assert fs.shared_with(world, tid, cluster) == [], "the kept transit copy is shared"
        t_arn = prod[tid]["DBClusterSnapshotArn" if cluster else "DBSnapshotArn"]
        assert fs.tags_of(world.admin("rds"), t_arn).get("snapferry:transit-kept") == "true"
    if not snapshot_id.startswith("rds:"):
        assert snapshot_id in prod, "the source snapshot must be untouched"
        assert fs.shared_with(world, snapshot_id, cluster) == []
    return b, tags


# ---- the happy path ----------------------------------------------------------------------

def test_end_to_end_aws_key(world, aws):
    rc, res, logs = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0, res
    assert res["outcome"] == "done"
    assert res["source"] == world.snapshot_arn
    assert res["transit"] == "snapferry-proddb-manual-1"
    assert res["backup"] == fs.bid(world, "proddb-manual-1")
    assert any(s.startswith("CopyDBSnapshot proddb-manual-1") for s in res["steps"])
    b, tags = assert_ferried(world, world.snapshot_id)
    assert tags["snapferry:source-db"] == "proddb"
    assert tags["snapferry:source-key"] == world.rds_default_key_arn
    # The transit copy was made with the share key, in production.
    copies = calls_of(aws, "CopyDBSnapshot")
    assert [c["account"] for c in copies] == [world.prod_account, world.backup_account]
    assert copies[0]["params"]["KmsKeyId"] == world.share_key_arn
    assert copies[1]["params"]["KmsKeyId"] == world.backup_key_arn
    names = {m[0] for m in fs.metrics(logs)}
    assert {"CopiesStarted", "CopiesCompleted"} <= names
    # A JSON log line per step.
    assert sum(1 for l in logs if l.get("msg", l.get("message")) == "step") >= len(res["steps"])


RIE_ACCOUNT = "012345678912"   # the account of the emulator's function ARN


def test_end_to_end_under_rie(aws, start_rie):
    from fidelity.world import build_world
    world = build_world(aws.endpoint, prod_account=RIE_ACCOUNT)
    rie = start_rie(fs.bootstrap_path(), world.env())
    status, res = rie.invoke_json(snapshot_event(world, world.snapshot_id))
    assert status == 200
    assert res["outcome"] == "done", json.dumps(res)
    assert_ferried(world, world.snapshot_id)
    # A human-needed failure is a function error with a type and a fix.
    world.create_snapshot(world.db_id, "proddb-manual-2")
    aws.inject("CopyDBSnapshot", "AccessDenied", status=403, account=world.prod_account,
               message="User is not authorized to perform: rds:CopyDBSnapshot")
    status, res = rie.invoke_json(snapshot_event(world, "proddb-manual-2"))
    assert status == 200
    assert res["errorType"] == "Snapferry.AccessDenied"
    assert "rds:CopyDBSnapshot" in res["errorMessage"]


# ---- the asynchronous path ------------------------------------------------------------------

def test_async_path_hold_release(world, aws):
    aws.hold(True)
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    assert "transit copy snapferry-proddb-manual-1 is creating" in res["reason"]
    assert fs.instance_snapshots(world, "backup") == {}
    aws.release(account=world.prod_account)
    # RDS says the transit copy finished: the event names T.
    rc, res, _ = run_event(world, snapshot_event(world, "snapferry-proddb-manual-1",
                                                 "RDS-EVENT-0197"))
    assert rc == 0 and res["outcome"] == "pending", res
    assert res["source"] == world.snapshot_arn
    assert any("ModifyDBSnapshotAttribute" in s for s in res["steps"])
    assert f"backup copy {fs.bid(world, 'proddb-manual-1')} is creating" in res["reason"]
    assert fs.shared_with(world, "snapferry-proddb-manual-1") == [world.backup_account]
    aws.release(account=world.backup_account)
    aws.hold(False)
    # No event reaches production when B finishes: the sweep finishes the job.
    rc, res, _ = run_event(world, fs.SCHEDULED)
    assert rc == 0 and res["outcome"] == "done", res
    assert_ferried(world, world.snapshot_id)


def test_failed_backup_copy_is_replaced(world, aws):
    """A backup copy that ends `failed` stays (AWS deletes only available snapshots, and the
    ferry may delete no copy): the ferry copies again under the next retry id
    (<B id>-r2), with the same lineage, and answers pending with the reason; the keeper
    reports the failed one (test_keeper.py)."""
    first = fs.bid(world, "proddb-manual-1")
    aws.hold(True, accounts=[world.backup_account])
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    assert f"backup copy {first} is creating" in res["reason"]
    (gone,) = fs.release(aws, "failed", account=world.backup_account)
    assert gone["id"] == first
    assert fs.instance_snapshots(world, "backup")[first]["Status"] == "failed"
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    assert any(f"{first} ended in state failed" in w and f"copying again as {first}-r2" in w
               for w in res["warnings"]), res
    assert res["backup"] == f"{first}-r2"
    assert f"backup copy {first}-r2" in res["reason"] and "earlier copy ended failed" in \
        res["reason"], res
    assert not calls_of(aws, "DeleteDBSnapshot", world.backup_account)
    (fs.release(aws, "available", account=world.backup_account))
    aws.hold(False)
    # The next trigger finds the retry available: done, from the transit copy still there.
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "done" and res["backup"] == f"{first}-r2", res
    assert len(calls_of(aws, "CopyDBSnapshot", world.backup_account)) == 2
    assert len(calls_of(aws, "CopyDBSnapshot", world.prod_account)) == 1
    assert first in fs.instance_snapshots(world, "backup")     # the failed one stays
    # A sweep counts the source done (its retry is available), not pending for ever.
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res


def test_unknown_arn_or_foreign_lineage_is_never_acted_on(world, aws):
    """Issue 8, defect 1: a Describe answer without DBSnapshotArn left the source ARN NULL,
    which matched any lineage: the failed backup copy of *another* source passed as ours
    and delete_ours crashed on it (strcmp on NULL). Now: a clear failure, nothing deleted;
    with the ARN back, the other source's copy is still not ours."""
    aws.hold(True, accounts=[world.backup_account])
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    (b,) = fs.release(aws, "failed", account=world.backup_account)
    aws.hold(False)
    b_arn = fs.instance_snapshots(world, "backup")[b["id"]]["DBSnapshotArn"]
    other = f"arn:aws:rds:{world.region}:{world.prod_account}:snapshot:another-snapshot"
    world.admin("rds", "backup").add_tags_to_resource(
        ResourceName=b_arn, Tags=[{"Key": "snapferry:source-arn", "Value": other}])
    aws.strip("DescribeDBSnapshots", "DBSnapshotArn", count=20, account=world.prod_account,
              match={"DBSnapshotIdentifier": world.snapshot_id})
    mark = max(c["seq"] for c in aws.calls())
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 1, (rc, res)
    assert res["errorType"] == "Snapferry.AWSError", res
    assert "without DBSnapshotArn" in res["errorMessage"]
    assert not [c for c in aws.calls(since=mark) if c["action"] in MUTATING], \
        "nothing may be changed for a snapshot whose ARN is unknown"
    assert fs.instance_snapshots(world, "backup")[b["id"]]["Status"] == "failed"
    # The ARN is back: the failed copy names another source, so it is not ours to delete.
    aws.reset()
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert not calls_of(aws, "DeleteDBSnapshot", world.backup_account), res
    assert fs.tags_of(world.admin("rds", "backup"), b_arn)["snapferry:source-arn"] == other
    assert rc == 1 and res["errorType"] == "Snapferry.NameConflict", res


def test_longest_snapshot_id_keeps_exact_lineage_within_tag_limits(world, aws):
    """Issue 9, defect 3: an instance snapshot id of 255 characters makes a source ARN over
    256 characters, which AWS refuses as one tag value (the fidelity layer enforces the
    limits). The ARN is split over snapferry:source-arn, -2; the flow, the sweep and its
    retention scoping read it back exactly."""
    long_id = "orders-" + "x" * 248
    assert len(long_id) == 255
    world.create_snapshot(world.db_id, long_id)
    src_arn = f"arn:aws:rds:{world.region}:{world.prod_account}:snapshot:{long_id}"
    assert len(src_arn) > 256
    rc, res, _ = run_event(world, snapshot_event(world, long_id))
    assert rc == 0 and res["outcome"] == "done", res
    brds = world.admin("rds", "backup")
    (b,) = [v for k, v in fs.instance_snapshots(world, "backup").items()]
    assert b["DBSnapshotIdentifier"] == res["backup"] and len(res["backup"]) <= 255
    tags = fs.tags_of(brds, b["DBSnapshotArn"])
    assert all(len(k) <= 128 and len(v) <= 256 for k, v in tags.items()), tags
    assert tags["snapferry:source-arn"] + tags["snapferry:source-arn-2"] == src_arn
    assert len(tags["snapferry:source-arn"]) == 256
    # The sweep recognises it as this account's copy of that source: nothing new to do.
    backup_id = b["DBSnapshotIdentifier"]
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    assert res["counts"]["backupCopies"] == 1, res
    assert len([c for c in calls_of(aws, "CopyDBSnapshot", world.backup_account)
                if c["params"]["TargetDBSnapshotIdentifier"] == backup_id]) == 1


def test_copy_finished_for_foreign_copy_is_ignored(world, aws):
    # A copy the user made: no lineage tags -> ignored, nothing touched.
    world.admin("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                                        TargetDBSnapshotIdentifier="users-own-copy")
    rc, res, _ = run_event(world, snapshot_event(world, "users-own-copy", "RDS-EVENT-0197"))
    assert rc == 0 and res["outcome"] == "ignored", res
    assert "not a snapferry transit copy" in res["reason"]
    assert not [c for c in aws.calls() if c["action"] in MUTATING and
                c["account"] != world.prod_account or c["action"] == "AssumeRole"]


# ---- the kinds of source --------------------------------------------------------------------

def test_automated_snapshot(world, aws):
    snap = aws.automated_snapshot(world.prod_account, world.region, world.db_id)
    sid = snap.get("id") or snap.get("DBSnapshotIdentifier") or snap["snapshot"]
    assert sid.startswith("rds:")
    rc, res, _ = run_event(world, snapshot_event(world, sid, "RDS-EVENT-0091"))
    assert rc == 0 and res["outcome"] == "done", res
    assert res["transit"] == "snapferry-" + sid[4:]
    assert_ferried(world, sid)
    assert sid in fs.instance_snapshots(world, "prod", "automated")


def test_customer_key_snapshot_travels_under_the_share_key(world, aws):
    """The backup account trusts one production key, the share key: a snapshot under a
    customer key whose policy does not name the backup account (the default key policy)
    goes as a transit copy under the share key; nothing is shared under the customer key."""
    key = world.create_key()          # default policy: the production account only
    world.create_db("cmkdb", kms_key_id=key["Arn"])
    world.create_snapshot("cmkdb", "cmkdb-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "cmkdb-snap"))
    assert rc == 0 and res["outcome"] == "done", res
    assert res["transit"] == "snapferry-cmkdb-snap"
    assert any("customer key" in s and "transit copy with SHARE_KMS_KEY_ID" in s
               for s in res["steps"]), res["steps"]
    copies = calls_of(aws, "CopyDBSnapshot")
    assert [c["account"] for c in copies] == [world.prod_account, world.backup_account]
    assert copies[0]["params"]["KmsKeyId"] == world.share_key_arn
    # Only the transit copy was shared, never the customer key's snapshot.
    shares = calls_of(aws, "ModifyDBSnapshotAttribute")
    assert {c["params"]["DBSnapshotIdentifier"] for c in shares} == {"snapferry-cmkdb-snap"}
    b, tags = assert_ferried(world, "cmkdb-snap")
    assert tags["snapferry:source-key"] == key["Arn"]


def test_automated_customer_key_snapshot_travels_under_the_share_key(world, aws):
    key = world.create_key()
    world.create_db("cmkdb", kms_key_id=key["Arn"])
    snap = aws.automated_snapshot(world.prod_account, world.region, "cmkdb")
    sid = snap.get("id") or snap["DBSnapshotIdentifier"]
    rc, res, _ = run_event(world, snapshot_event(world, sid, "RDS-EVENT-0091"))
    assert rc == 0 and res["outcome"] == "done", res
    copies = calls_of(aws, "CopyDBSnapshot")
    assert copies[0]["account"] == world.prod_account
    assert copies[0]["params"]["KmsKeyId"] == world.share_key_arn
    assert_ferried(world, sid)


def test_share_key_snapshot_shared_directly(world, aws):
    """A manual snapshot already under the share key needs no transit copy (and no key
    lookup): it is shared, copied, and un-shared."""
    world.create_db("sharedb", kms_key_id=world.share_key_arn)
    world.create_snapshot("sharedb", "sharedb-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "sharedb-snap"))
    assert rc == 0 and res["outcome"] == "done", res
    assert "transit" not in res
    assert not calls_of(aws, "DescribeKey")
    copies = calls_of(aws, "CopyDBSnapshot")
    assert [c["account"] for c in copies] == [world.backup_account], "no transit copy"
    assert copies[0]["params"]["SourceDBSnapshotIdentifier"].endswith(":snapshot:sharedb-snap")
    # Shared for the copy, un-shared after.
    shares = calls_of(aws, "ModifyDBSnapshotAttribute")
    assert [list(k for k in c["params"] if k.startswith("Values"))[0].split(".")[0]
            for c in shares] == ["ValuesToAdd", "ValuesToRemove"]
    b = fs.instance_snapshots(world, "backup")[fs.bid(world, "sharedb-snap")]
    assert b["KmsKeyId"] == world.backup_key_arn
    assert fs.shared_with(world, "sharedb-snap") == []


def test_users_own_share_of_the_source_is_kept(world, aws):
    """S shared directly: snapferry removes the share only when it added it. A share the user
    made (S listed the backup account before) stays; S itself is never modified: the fact is
    recorded on the backup copy (snapferry:shared-before)."""
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "users-shared")
    world.create_snapshot("plaindb", "not-shared")
    world.admin("rds").modify_db_snapshot_attribute(
        DBSnapshotIdentifier="users-shared", AttributeName="restore",
        ValuesToAdd=[world.backup_account])
    mark = max(c["seq"] for c in aws.calls())
    rc, res, _ = run_event(world, snapshot_event(world, "users-shared"))
    assert rc == 0 and res["outcome"] == "done", res
    assert fs.shared_with(world, "users-shared") == [world.backup_account]
    assert not aws.calls(action="ModifyDBSnapshotAttribute", since=mark)
    assert not aws.calls(action="AddTagsToResource", account=world.prod_account, since=mark)
    b = fs.instance_snapshots(world, "backup")[fs.bid(world, "users-shared")]
    assert fs.tags_of(world.admin("rds", "backup"),
                      b["DBSnapshotArn"])["snapferry:shared-before"] == "true"
    # Events and sweeps again: the share stays, and nothing is copied twice.
    rc, res, _ = run_event(world, snapshot_event(world, "users-shared"))
    assert rc == 0 and res["outcome"] == "done", res
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    assert fs.shared_with(world, "users-shared") == [world.backup_account]
    assert len([c for c in calls_of(aws, "CopyDBSnapshot", world.backup_account)
                if c["params"]["SourceDBSnapshotIdentifier"].endswith("users-shared")]) == 1
    # The share snapferry added itself is taken back.
    assert fs.shared_with(world, "not-shared") == []
    b = fs.instance_snapshots(world, "backup")[fs.bid(world, "not-shared")]
    assert "snapferry:shared-before" not in fs.tags_of(world.admin("rds", "backup"),
                                                       b["DBSnapshotArn"])
    mine = [c["params"]["DBSnapshotIdentifier"] for c in aws.calls(
        action="ModifyDBSnapshotAttribute", since=mark)]
    assert [i for i in mine if i in ("users-shared", "not-shared")] == ["not-shared"] * 2


def test_unencrypted_snapshot(world, aws):
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "plaindb-snap"))
    assert rc == 0 and res["outcome"] == "done", res
    assert "unencrypted" in " ".join(res["steps"])
    assert not calls_of(aws, "DescribeKey")
    b = fs.instance_snapshots(world, "backup")[fs.bid(world, "plaindb-snap")]
    assert b["Encrypted"] and b["KmsKeyId"] == world.backup_key_arn
    assert fs.shared_with(world, "plaindb-snap") == []


def test_aurora_cluster_snapshot(world, aws):
    world.create_cluster("aurora1")
    world.create_cluster_snapshot("aurora1", "aurora1-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "aurora1-snap", "RDS-EVENT-0075",
                                                 cluster=True))
    assert rc == 0 and res["outcome"] == "done", res
    assert_ferried(world, "aurora1-snap", cluster=True)
    assert calls_of(aws, "CopyDBClusterSnapshot")


def test_multi_az_cluster_snapshot_skipped(world, aws):
    world.create_cluster("maz1", engine="postgres")
    world.create_cluster_snapshot("maz1", "maz1-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "maz1-snap", "RDS-EVENT-0075",
                                                 cluster=True))
    assert rc == 0 and res["outcome"] == "skipped", res
    # AWS shares it but can't copy it: the reason says so (not "can't be shared").
    assert "Multi-AZ DB cluster" in res["reason"]
    assert "does not support copying" in res["reason"], res["reason"]
    assert not [c for c in aws.calls() if c["action"] in MUTATING | {"AssumeRole"}]
    assert not [c for c in aws.calls() if c["action"] in MUTATING]


def test_filtered_db_skipped(world, aws):
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id),
                           EXCLUDE_PATTERN="^prod")
    assert rc == 0 and res["outcome"] == "skipped", res
    assert "EXCLUDE_PATTERN" in res["reason"]
    assert not [c for c in aws.calls() if c["action"] in MUTATING]
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id),
                           INCLUDE_PATTERN="^proddb$")
    assert res["outcome"] == "done", res


# ---- duplicates, order, concurrency, foreign events -------------------------------------

def test_duplicate_and_late_events(world, aws):
    ev = snapshot_event(world, world.snapshot_id)
    for _ in range(3):
        rc, res, _ = run_event(world, ev)
        assert rc == 0 and res["outcome"] == "done", res
    assert len(calls_of(aws, "CopyDBSnapshot")) == 2    # one T, one B, ever
    # A late copy-finished event for the (kept) transit copy changes nothing.
    rc, res, _ = run_event(world, snapshot_event(world, "snapferry-proddb-manual-1",
                                                 "RDS-EVENT-0197"))
    assert rc == 0 and res["outcome"] == "done", res
    assert len(calls_of(aws, "CopyDBSnapshot")) == 2
    assert_ferried(world, world.snapshot_id)


def test_concurrent_invocations(world, aws):
    aws.hold(True)
    ev = snapshot_event(world, world.snapshot_id)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: run_event(world, ev), range(4)))
    assert all(rc == 0 for rc, _, _ in results), results
    assert {r["outcome"] for _, r, _ in results} == {"pending"}
    assert len(fs.instance_snapshots(world, "prod")) == 2   # S and one T
    aws.release()
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: run_event(world, ev), range(4)))
    assert all(rc == 0 for rc, _, _ in results), [r for _, r, _ in results]
    assert len(fs.instance_snapshots(world, "backup")) == 1
    aws.release()
    rc, res, _ = run_event(world, ev)
    assert res["outcome"] == "done", res
    assert_ferried(world, world.snapshot_id)


@pytest.mark.parametrize("where", ["account", "region"])
def test_foreign_event_ignored(world, aws, where):
    kw = {"account": "999999999999"} if where == "account" else {"region": "eu-central-1"}
    mark = max(c["seq"] for c in aws.calls())
    rc, res, logs = run_event(world, snapshot_event(world, world.snapshot_id, **kw))
    assert rc == 0 and res["outcome"] == "ignored", res
    assert any(l.get("level") == "warn" for l in logs)
    # Outside Lambda the function learns its account from STS; nothing else is called.
    assert [c["action"] for c in aws.calls(since=mark)] in ([], ["GetCallerIdentity"])


@pytest.mark.parametrize("how", ["event", "manual-arn"])
def test_own_account_unknown_fails_closed(world, aws, how):
    """Outside Lambda the account comes from sts:GetCallerIdentity; when that fails, an
    event or ARN that may be another account's is a function error, never acted on."""
    aws.inject("GetCallerIdentity", "AccessDenied", status=403, count=1,
               account=world.prod_account)
    mark = max(c["seq"] for c in aws.calls())
    ev = snapshot_event(world, world.snapshot_id) if how == "event" else \
        {"action": "advance", "snapshot": world.snapshot_arn}
    rc, res, _ = run_event(world, ev)
    assert rc == 1, res
    assert res["errorType"] == "Snapferry.Credentials"
    assert "cannot determine own account" in res["errorMessage"]
    assert "AccessDenied" in res["errorMessage"]
    assert [c["action"] for c in aws.calls(since=mark)] == ["GetCallerIdentity"]
    # Once STS answers, an event of another account is refused, ours is ferried.
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id,
                                                 account="999999999999"))
    assert rc == 0 and res["outcome"] == "ignored", res
    rc, res, _ = run_event(world, ev)
    assert rc == 0 and res["outcome"] == "done", res


def test_backup_account_equal_to_own_account_is_refused(world, aws):
    same = {"BACKUP_ACCOUNT_ID": world.prod_account,
            "BACKUP_ROLE_ARN": f"arn:aws:iam::{world.prod_account}:role/snapferry-backup",
            "BACKUP_KMS_KEY_ID": world.share_key_arn}
    mark = max(c["seq"] for c in aws.calls())
    # The share key's ARN names the own account: refused at start-up, before any call.
    rc, res, logs = run_event(world, snapshot_event(world, world.snapshot_id), **same)
    assert rc != 0 and res is None
    assert any("BACKUP_ACCOUNT_ID is 123456789012, this function's own account"
               in l.get("raw", "") for l in logs), logs
    assert aws.calls(since=mark) == []
    # An alias says nothing: the account from STS is checked before anything is done.
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id),
                           SHARE_KMS_KEY_ID="alias/snapferry-share", **same)
    assert rc == 1 and res["errorType"] == "Snapferry.Config", res
    assert "own account" in res["errorMessage"]
    rc, res, _ = run_event(world, SWEEP, SHARE_KMS_KEY_ID="alias/snapferry-share", **same)
    assert rc == 1 and res["errorType"] == "Snapferry.Config", res
    assert {c["action"] for c in aws.calls(since=mark)} == {"GetCallerIdentity"}


def test_backup_account_equal_to_function_arn_account_under_rie(aws, start_rie):
    from fidelity.world import build_world
    world = build_world(aws.endpoint, prod_account=RIE_ACCOUNT)
    mark = max(c["seq"] for c in aws.calls())
    rie = start_rie(fs.bootstrap_path(), world.env(
        BACKUP_ACCOUNT_ID=RIE_ACCOUNT, SHARE_KMS_KEY_ID="alias/snapferry-share",
        BACKUP_ROLE_ARN=f"arn:aws:iam::{RIE_ACCOUNT}:role/snapferry-backup",
        BACKUP_KMS_KEY_ID=world.share_key_arn))
    status, res = rie.invoke_json(dict(fs.SCHEDULED, account=RIE_ACCOUNT))
    assert status == 200 and res["errorType"] == "Snapferry.Config", res
    assert f"BACKUP_ACCOUNT_ID is {RIE_ACCOUNT}, this function's own account" in \
        res["errorMessage"]
    assert any(l.get("message") == "configuration invalid" for l in rie.log_json())
    assert aws.calls(since=mark) == []     # the account came from the function ARN


def snapferry_copy_in_prod(world, copy_id, role):
    """A snapshot in this account that snapferry made: a backup copy of another production
    account's DB (this account is its backup account), or a restore's."""
    rds = world.admin("rds")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                         TargetDBSnapshotIdentifier=copy_id)
    arn = fs.instance_snapshots(world, "prod")[copy_id]["DBSnapshotArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[
        {"Key": "snapferry:created-by", "Value": "snapferry"},
        {"Key": "snapferry:role", "Value": role},
        {"Key": "snapferry:source-arn",
         "Value": f"arn:aws:rds:{world.region}:111122223333:snapshot:xdb-1"},
        {"Key": "snapferry:source-db", "Value": "xdb"}])
    return arn


def test_snapferry_copies_are_never_sources(world, aws):
    b_arn = snapferry_copy_in_prod(world, "snapferry-xdb-1", "backup")
    snapferry_copy_in_prod(world, "snapferry-xdb-restored", "restore")
    for ref in (b_arn, "snapferry-xdb-restored"):
        rc, res, _ = run_event(world, {"action": "advance", "snapshot": ref})
        assert rc == 0 and res["outcome"] == "ignored", res
        assert "never a source" in res["reason"]
    rc, res, _ = run_event(world, snapshot_event(world, "snapferry-xdb-1"))
    assert rc == 0 and res["outcome"] == "ignored", res
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    backup = fs.instance_snapshots(world, "backup")
    assert not [k for k in backup if k.startswith("snapferry-snapferry-")], list(backup)
    assert fs.bid(world, "proddb-manual-1") in backup
    prod = fs.instance_snapshots(world, "prod")
    assert {"snapferry-xdb-1", "snapferry-xdb-restored"} <= set(prod)
    assert not [k for k in prod if k.startswith("snapferry-snapferry-")]


def test_manual_advance_by_id_and_unknown_snapshot(world, aws):
    rc, res, _ = run_event(world, {"action": "advance", "snapshot": world.snapshot_id})
    assert rc == 0 and res["outcome"] == "done", res
    rc, res, _ = run_event(world, {"action": "advance", "snapshot": "no-such-snapshot"})
    assert rc == 0 and res["outcome"] == "skipped" and "not found" in res["reason"], res


# ---- no restore on the ferry, dry run (restores: test_restore.py, test_keeper.py) ------------

def test_restore_off(world, aws):
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert res["outcome"] == "done"
    assert world.admin("rds", "backup").describe_db_instances()["DBInstances"] == []


def test_dry_run(world, aws):
    rc, res, logs = run_event(world, snapshot_event(world, world.snapshot_id), DRY_RUN="true")
    assert rc == 0 and res["dryRun"] is True, res
    assert res["outcome"] == "pending"
    assert any(s.startswith("would:CopyDBSnapshot proddb-manual-1 -> "
                            "snapferry-proddb-manual-1") for s in res["steps"])
    assert not [c for c in aws.calls() if c["action"] in MUTATING]


def test_name_conflict_is_a_failure(world, aws):
    # Someone else's snapshot already has the transit copy's name.
    world.admin("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                                        TargetDBSnapshotIdentifier="snapferry-proddb-manual-1")
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 1 and res["errorType"] == "Snapferry.NameConflict", res
    assert "lineage" in res["errorMessage"]
    assert "snapferry-proddb-manual-1" in fs.instance_snapshots(world, "prod")


# ---- BACKUP_REGION != AWS_REGION: the single step -------------------------------------------
# AWS's current CopyDBSnapshot / CopyDBClusterSnapshot reference allows a source "in a
# different account and a different AWS Region": the backup role copies the shared S or T
# straight into the backup Region (source by ARN, KmsKeyId a key of that Region). Where AWS
# refuses that the old way (the fidelity switch), the outcome is failed with the fix: add the
# source Region to BACKUP_REGIONS. moto is one process: the second region is a name in it.

CROSS_REGION = "eu-west-1"


def cross_region_env(world):
    from fidelity.world import admin_client
    kms = admin_client(world.endpoint, "kms", world.backup_account, CROSS_REGION)
    key = kms.create_key(Description="snapferry backup key, second region")["KeyMetadata"]
    return {"BACKUP_REGION": CROSS_REGION, "BACKUP_KMS_KEY_ID": key["Arn"]}


def snapshots_in(world, account, region, cluster=False):
    from fidelity.world import admin_client
    rds = admin_client(world.endpoint, "rds", account, region)
    if cluster:
        return {s["DBClusterSnapshotIdentifier"]: s for s in rds.describe_db_cluster_snapshots(
            SnapshotType="manual")["DBClusterSnapshots"]}
    return {s["DBSnapshotIdentifier"]: s for s in rds.describe_db_snapshots(
        SnapshotType="manual")["DBSnapshots"]}


def region_warning(logs):
    return [l for l in logs if l.get("level") == "warn" and "BACKUP_REGION" in
            l.get("msg", l.get("message", ""))]


def assert_single_step(world, aws, env, snap, cluster=False):
    b = snapshots_in(world, world.backup_account, CROSS_REGION, cluster)[
        fs.bid(world, snap, cluster=cluster) if cluster else fs.bid(world, snap)]
    assert b["Status"] == "available" and b["KmsKeyId"] == env["BACKUP_KMS_KEY_ID"]
    if not cluster:
        assert b["SourceRegion"] == world.region
    assert not snapshots_in(world, world.backup_account, world.region, cluster)
    op = "CopyDBClusterSnapshot" if cluster else "CopyDBSnapshot"
    (copy,) = calls_of(aws, op, world.backup_account)
    assert copy["region"] == CROSS_REGION
    src = copy["params"]["SourceDBClusterSnapshotIdentifier" if cluster else
                         "SourceDBSnapshotIdentifier"]
    assert src.startswith(f"arn:aws:rds:{world.region}:{world.prod_account}:")
    from fidelity.world import admin_client
    arn = b["DBClusterSnapshotArn" if cluster else "DBSnapshotArn"]
    tags = {t["Key"]: t["Value"] for t in admin_client(
        world.endpoint, "rds", world.backup_account, CROSS_REGION).list_tags_for_resource(
        ResourceName=arn)["TagList"]}
    assert tags["snapferry:source-region"] == world.region, tags
    assert tags["snapferry:role"] == "backup", tags
    return copy


def test_cross_region_unencrypted_snapshot_is_ferried(world, aws):
    env = cross_region_env(world)
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    rc, res, logs = run_event(world, snapshot_event(world, "plaindb-snap"), **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert not region_warning(logs)         # nothing to warn about any more
    assert_single_step(world, aws, env, "plaindb-snap")
    assert fs.shared_with(world, "plaindb-snap") == []


def test_cross_region_encrypted_snapshot_single_step(world, aws):
    """aws/rds: a transit copy under the share key, copied in one step to the other
    Region, then un-shared (and kept for the next incremental copy)."""
    env = cross_region_env(world)
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    assert rc == 0 and res["outcome"] == "done", res
    copy = assert_single_step(world, aws, env, world.snapshot_id)
    assert copy["params"]["KmsKeyId"] == env["BACKUP_KMS_KEY_ID"]
    assert fs.shared_with(world, "snapferry-proddb-manual-1") == [], "kept, un-shared"


def test_cross_region_customer_key_and_automated_single_step(world, aws):
    env = cross_region_env(world)
    key = world.create_key()
    world.create_db("cmkdb", kms_key_id=key["Arn"])
    world.create_snapshot("cmkdb", "cmkdb-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "cmkdb-snap"), **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert_single_step(world, aws, env, "cmkdb-snap")
    # The sweep takes the rest (moto's automated snapshot of proddb, the manual one).
    rc, res, _ = run_event(world, SWEEP, **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert res["counts"].get("skipped", 0) == 0, res["counts"]
    there = snapshots_in(world, world.backup_account, CROSS_REGION)
    assert len(there) >= 3 and all(s["Status"] == "available" for s in there.values()), there


def test_cross_region_aurora_single_step(world, aws):
    env = cross_region_env(world)
    world.create_cluster("aurxr")
    world.create_cluster_snapshot("aurxr", "aurxr-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "aurxr-snap", "RDS-EVENT-0075",
                                                 cluster=True), **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert_single_step(world, aws, env, "aurxr-snap", cluster=True)


def test_cross_region_single_step_refused_fails_with_the_fix(world, aws):
    """Where AWS still applies the old rule, the copy is refused: failed (a function error
    the alarm sees), saying to add the source Region to BACKUP_REGIONS; one attempt, no
    retry loop; once AWS allows it, the next trigger completes."""
    env = cross_region_env(world)
    aws.rules(refuse_shared_encrypted_cross_region=True)
    try:
        rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    finally:
        aws.rules(refuse_shared_encrypted_cross_region=False)
    assert rc == 1, res
    assert res["errorType"] == "Snapferry.CrossRegionRefused", res
    msg = res["errorMessage"]
    assert f"add {world.region} to BACKUP_REGIONS" in msg and CROSS_REGION in msg, msg
    assert len(calls_of(aws, "CopyDBSnapshot", world.backup_account)) == 1
    assert not snapshots_in(world, world.backup_account, CROSS_REGION)
    # The unencrypted one still goes across with the old rule on.
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    aws.rules(refuse_shared_encrypted_cross_region=True)
    try:
        rc, res, _ = run_event(world, snapshot_event(world, "plaindb-snap"), **env)
    finally:
        aws.rules(refuse_shared_encrypted_cross_region=False)
    assert rc == 0 and res["outcome"] == "done", res
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    assert rc == 0 and res["outcome"] == "done", res


def test_cross_region_held_duplicate_and_concurrent(world, aws):
    """Copies held `creating` in the backup Region: pending, concurrent and repeated
    triggers make one T and one B (in the backup Region) ever; T goes once B is available."""
    env = cross_region_env(world)
    aws.hold(True)
    ev = snapshot_event(world, world.snapshot_id)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: run_event(world, ev, **env), range(4)))
    assert {r["outcome"] for _, r, _ in results} == {"pending"}, results
    aws.release(region=world.region)        # T, in the production Region
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: run_event(world, ev, **env), range(4)))
    assert all(rc == 0 for rc, _, _ in results), [r for _, r, _ in results]
    assert {r["outcome"] for _, r, _ in results} == {"pending"}, results
    (b,) = snapshots_in(world, world.backup_account, CROSS_REGION).values()
    assert b["Status"] == "creating"
    assert "snapferry-proddb-manual-1" in fs.instance_snapshots(world, "prod")  # T waits
    assert [h["region"] for h in aws.status()["held"]] == [CROSS_REGION]
    aws.release(region=CROSS_REGION)
    aws.hold(False)
    for _ in range(2):
        rc, res, _ = run_event(world, ev, **env)
        assert rc == 0 and res["outcome"] == "done", res
    # Concurrent requests race to AlreadyExists: one copy each, whatever the calls.
    (b,) = snapshots_in(world, world.backup_account, CROSS_REGION).values()
    assert b["Status"] == "available" and b["SourceRegion"] == world.region
    assert not snapshots_in(world, world.backup_account, world.region)
    n = len(calls_of(aws, "CopyDBSnapshot", world.backup_account))
    rc, res, _ = run_event(world, ev, **env)     # done: no further copy
    assert rc == 0 and res["outcome"] == "done", res
    assert len(calls_of(aws, "CopyDBSnapshot", world.backup_account)) == n
    assert fs.shared_with(world, "snapferry-proddb-manual-1") == [], "kept, un-shared"


def test_cross_region_single_step_under_rie(aws, start_rie):
    """The single step, and its refusal the old way, under the Runtime Interface Emulator."""
    from fidelity.world import build_world
    world = build_world(aws.endpoint, prod_account=RIE_ACCOUNT)
    env = cross_region_env(world)
    rie = start_rie(fs.bootstrap_path(), world.env(**env))
    world.create_snapshot(world.db_id, "proddb-manual-2")
    aws.rules(refuse_shared_encrypted_cross_region=True)
    try:
        status, res = rie.invoke_json(snapshot_event(world, "proddb-manual-2"))
    finally:
        aws.rules(refuse_shared_encrypted_cross_region=False)
    assert status == 200
    assert res["errorType"] == "Snapferry.CrossRegionRefused", res
    assert f"add {world.region} to BACKUP_REGIONS" in res["errorMessage"]
    status, res = rie.invoke_json(snapshot_event(world, world.snapshot_id))
    assert status == 200 and res["outcome"] == "done", json.dumps(res)
    b = snapshots_in(world, world.backup_account, CROSS_REGION)[fs.bid(world, world.snapshot_id)]
    assert b["Status"] == "available" and b["KmsKeyId"] == env["BACKUP_KMS_KEY_ID"]
    assert b["SourceRegion"] == world.region


def test_cross_region_dry_run_names_the_region(world, aws):
    env = cross_region_env(world)
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "plaindb-snap"), DRY_RUN="true", **env)
    assert rc == 0, res
    assert any(s.startswith("would:CopyDBSnapshot") and f"Region {CROSS_REGION}" in s
               for s in res["steps"]), res["steps"]


def test_cross_region_encrypted_transit_copy_is_finished(world, aws):
    # A transit copy made while both regions were the same; its source is gone since.
    aws.hold(True)
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert res["outcome"] == "pending", res
    aws.release()
    aws.hold(False)
    world.admin("rds").delete_db_snapshot(DBSnapshotIdentifier=world.snapshot_id)
    env = cross_region_env(world)
    rc, res, _ = run_event(world, snapshot_event(world, "snapferry-proddb-manual-1",
                                                 "RDS-EVENT-0197"), **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert_single_step(world, aws, env, world.snapshot_id)


def test_same_region_says_nothing(world, aws):
    rc, res, logs = run_event(world, snapshot_event(world, world.snapshot_id))
    assert res["outcome"] == "done", res
    assert not region_warning(logs)


def refusing_endpoint():
    """http://127.0.0.1:<port> where nothing listens (the port was free a moment ago)."""
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("service", ["RDS", "STS"])
def test_unreachable_endpoint_is_a_function_error(world, aws, service):
    """A wrong endpoint or no network: after the retries, a function error naming the
    endpoint (Lambda's Errors alarm fires), not `pending` forever; once the network is
    back, the sweep converges."""
    dead = refusing_endpoint()
    env = {f"AWS_ENDPOINT_URL_{service}": dead}
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    assert rc == 1, res
    assert res["errorType"] == "Snapferry.Network", res
    assert f"could not reach {dead}" in res["errorMessage"]
    assert "NetworkError" in res["errorMessage"]
    rc, res, _ = run_event(world, SWEEP, **env)
    assert rc == 1 and res["errorType"] == "Snapferry.Network", res
    assert dead in res["errorMessage"]
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    assert_ferried(world, world.snapshot_id)


# ---- an error at each step: the right outcome now, convergence on the next sweep ---------

INJECT = [
    # (action, code, status, count, account, expected outcome, errorType)
    ("DescribeDBSnapshots", "Throttling", 400, 3, "prod", "pending", None),
    ("DescribeKey", "AccessDeniedException", 400, 1, "prod", "failed",
     "Snapferry.AccessDenied"),
    ("AssumeRole", "AccessDenied", 403, 1, "prod", "failed", "Snapferry.AccessDenied"),
    ("CopyDBSnapshot", "InternalFailure", 500, 3, "prod", "pending", None),
    ("CopyDBSnapshot", "SnapshotQuotaExceeded", 400, 1, "prod", "pending", None),
    ("CopyDBSnapshot", "KMSKeyNotAccessibleFault", 400, 1, "prod", "failed",
     "Snapferry.KMSKeyNotAccessible"),
    ("ModifyDBSnapshotAttribute", "SharedSnapshotQuotaExceeded", 400, 1, "prod", "pending",
     None),
    ("CopyDBSnapshot", "KMSKeyNotAccessibleFault", 400, 1, "backup", "failed",
     "Snapferry.KMSKeyNotAccessible"),
    ("CopyDBSnapshot", "AccessDenied", 403, 1, "backup", "failed", "Snapferry.AccessDenied"),
    # T is kept, tagged, once B is available (transit_chain.h): no delete in one flow.
    ("AddTagsToResource", "Throttling", 400, 3, "prod", "pending", None),
    # DescribeDBSnapshotAttributes is no longer called in this (aws/rds) flow: the invocation
    # that shares T un-shares it without reading the attribute. A directly shared source
    # still reads it: test_calls.py::test_attribute_read_fails_then_sweep_converges.
]


@pytest.mark.parametrize("action,code,status,count,acct,outcome,etype", INJECT,
                         ids=[f"{i[0]}-{i[1]}-{i[4]}" for i in INJECT])
def test_error_injected_then_sweep_converges(world, aws, action, code, status, count, acct,
                                             outcome, etype):
    account = world.prod_account if acct == "prod" else world.backup_account
    aws.inject(action, code, status=status, count=count, account=account)
    rc, res, logs = run_event(world, snapshot_event(world, world.snapshot_id))
    assert res is not None
    if outcome == "failed":
        assert rc == 1, res
        assert res["errorType"] == etype
        assert "To fix" in res["errorMessage"] or code in res["errorMessage"]
    else:
        assert rc == 0, res
        assert res["outcome"] == outcome, res
        assert res.get("warnings"), res
        if "Quota" in code:
            assert "QuotaExceeded" in {m[0] for m in fs.metrics(logs)}
    # The injection is used up: the next sweep finishes the job.
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0, res
    if res["outcome"] != "done":   # a copy finished between two steps: one more sweep
        rc, res, _ = run_event(world, SWEEP)
    assert res["outcome"] == "done", res
    assert_ferried(world, world.snapshot_id)


# ---- WAIT_SECONDS, TRANSIT_CLEANUP=false, reordered events ---------------------------------

def test_wait_seconds_polls_until_the_copies_finish(world, aws):
    """WAIT_SECONDS > 0: one invocation polls the held copies; another thread releases them
    during the wait (first T, then B once it exists) -> `done` in that one invocation."""
    import threading
    import time
    aws.hold(True)
    stop = threading.Event()
    released = []

    def releaser():
        time.sleep(1.0)
        while not stop.is_set() and len(released) < 2:
            released.extend(aws.release())
            time.sleep(0.3)

    th = threading.Thread(target=releaser)
    th.start()
    t0 = time.monotonic()
    try:
        rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id),
                               WAIT_SECONDS="25", timeout=60)
    finally:
        stop.set()
        th.join(10)
    elapsed = time.monotonic() - t0
    assert rc == 0 and res["outcome"] == "done", res
    assert [r["account"] for r in released] == [world.prod_account, world.backup_account]
    assert elapsed < 25, elapsed
    assert_ferried(world, world.snapshot_id)


def test_wait_seconds_without_release_ends_pending(world, aws):
    import time
    aws.hold(True)
    t0 = time.monotonic()
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), WAIT_SECONDS="3",
                           timeout=60)
    elapsed = time.monotonic() - t0
    assert rc == 0 and res["outcome"] == "pending", res
    assert "transit copy snapferry-proddb-manual-1 is creating" in res["reason"]
    assert 3 <= elapsed < 10, elapsed
    # It polled: several descriptions of the transit copy, no second copy.
    polls = [c for c in calls_of(aws, "DescribeDBSnapshots", world.prod_account)
             if c["params"].get("DBSnapshotIdentifier") == "snapferry-proddb-manual-1"]
    assert len(polls) >= 3, polls
    assert len(calls_of(aws, "CopyDBSnapshot")) == 1


def test_transit_cleanup_false_keeps_the_transit_copy(world, aws):
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id),
                           TRANSIT_CLEANUP="false")
    assert rc == 0 and res["outcome"] == "done", res
    prod = fs.instance_snapshots(world, "prod")
    assert "snapferry-proddb-manual-1" in prod, "TRANSIT_CLEANUP=false keeps T"
    tags = fs.tags_of(world.admin("rds"), prod["snapferry-proddb-manual-1"]["DBSnapshotArn"])
    assert tags["snapferry:role"] == "transit"
    assert not calls_of(aws, "DeleteDBSnapshot")
    assert fs.bid(world, "proddb-manual-1") in fs.instance_snapshots(world, "backup")
    # A sweep (and a late event) find the work done: no copy, no delete.
    rc, res, _ = run_event(world, SWEEP, TRANSIT_CLEANUP="false", EXCLUDE_PATTERN="^proddb$")
    assert rc == 0 and res["outcome"] == "done", res
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id),
                           TRANSIT_CLEANUP="false")
    assert rc == 0 and res["outcome"] == "done", res
    assert len(calls_of(aws, "CopyDBSnapshot")) == 2
    assert not calls_of(aws, "DeleteDBSnapshot")
    assert "snapferry-proddb-manual-1" in fs.instance_snapshots(world, "prod")


def test_reordered_events(world, aws):
    """copy-finished before created: for a T that does not exist yet it does nothing; for a
    T still copying it is pending; the created event delivered late continues the flow."""
    t_event = snapshot_event(world, "snapferry-proddb-manual-1", "RDS-EVENT-0197")
    mark = max(c["seq"] for c in aws.calls())
    rc, res, _ = run_event(world, t_event)
    assert rc == 0 and res["outcome"] in ("ignored", "skipped"), res
    assert not [c for c in aws.calls(since=mark) if c["action"] in MUTATING]
    aws.hold(True)
    # The created event (delivered now) starts T; a copy-finished event arrives early.
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    rc, res, _ = run_event(world, t_event)
    assert rc == 0 and res["outcome"] == "pending", res
    assert "is creating" in res["reason"]
    aws.release()
    # The created event again (a late duplicate), before T's own copy-finished event.
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    assert f"backup copy {fs.bid(world, 'proddb-manual-1')} is creating" in res["reason"]
    aws.release()
    aws.hold(False)
    rc, res, _ = run_event(world, t_event)
    assert rc == 0 and res["outcome"] == "done", res
    assert len(calls_of(aws, "CopyDBSnapshot")) == 2
    assert_ferried(world, world.snapshot_id)


@pytest.mark.parametrize("where", ["SourceArn", "detail-type", "resources"])
def test_nul_in_an_event_string_is_refused(world, aws, where):
    """cJSON's strings end at a NUL: "...:snapshot:proddb-manual-1\\u0000def" would be acted
    on as proddb-manual-1. Any string holding a NUL makes the event Event.Invalid, before
    any call."""
    ev = snapshot_event(world, world.snapshot_id)
    if where == "SourceArn":
        ev["detail"]["SourceArn"] += "\x00def"
    elif where == "detail-type":
        ev["detail-type"] += "\x00junk"
    else:
        del ev["detail"]["SourceArn"]
        ev["resources"][0] += "\x00def"
    mark = max((c["seq"] for c in aws.calls()), default=0)
    rc, res, logs = run_event(world, ev)
    assert rc == 1 and res["errorType"] == "Event.Invalid", res
    assert "NUL character" in res["errorMessage"]
    assert not aws.calls(since=mark)
    assert "snapferry-" + world.snapshot_id not in fs.instance_snapshots(world, "backup")


def run_raw(world, payload, **overrides):
    """run_event with the payload's bytes as given (json.dumps would escape them)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LOG_LEVEL": "debug"}
    env.update(world.env(**overrides))
    p = subprocess.run([str(fs.bootstrap_path()), "--event", "-"], input=payload,
                       capture_output=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


A59 = "a" * 59


@pytest.mark.parametrize("payload,error_type,words", [
    # A 2-byte character across the 60-byte cut of the reason: left out whole.
    ('{"action":"%s\u00e9"}' % A59, "Event.Invalid", 'unknown action "%s" (expected' % A59),
    # A 4-byte one across the 120-byte cut of an ARN.
    ('{"action":"advance","snapshot":"arn:aws:ec2:x:y:z:%s\U0001F600"}' % ("a" * 101),
     "Event.Invalid", '"arn:aws:ec2:x:y:z:%s" is not' % ("a" * 101)),
    # Bytes that are no UTF-8 never reach a reason, a result or a log line.
    (b'{"action":"sweep\xc3"}', "Event.Malformed", "not valid UTF-8 (at byte 16 of 19)"),
    (b'{"action":"\xff\xfe"}', "Event.Malformed", "not valid UTF-8 (at byte 11 of 15)"),
])
def test_results_and_logs_are_utf8(world, aws, payload, error_type, words):
    if isinstance(payload, str):
        payload = payload.encode()
    rc, out, err = run_raw(world, payload)
    # Strict decoding: a lone lead byte or a stray byte fails here.
    out, err = out.decode("utf-8"), err.decode("utf-8")
    res = json.loads(out.strip())
    assert rc == 1 and res["errorType"] == error_type, res
    assert words in res["errorMessage"], res
    lines = [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")]
    assert [ln for ln in lines if ln.get("reason") == res["errorMessage"]], lines


def test_aws_backup_cluster_snapshot(world, aws):
    """AWS Backup's Aurora snapshots (awsbackup:...) are looked up by identifier: the
    awsbackup SnapshotType does not apply to DescribeDBClusterSnapshots."""
    world.create_cluster("aurbk")
    world.create_cluster_snapshot("aurbk", "awsbackup:job-c1")
    rc, res, _ = run_event(world, {"action": "advance", "snapshot": "awsbackup:job-c1",
                                   "kind": "cluster"})
    assert rc == 0 and res["outcome"] == "done", res
    assert res["transit"] == "snapferry-job-c1"
    assert res["backup"] == fs.bid(world, "awsbackup:job-c1", cluster=True)
    assert_ferried(world, "awsbackup:job-c1", cluster=True)
    sent = [c["params"].get("SnapshotType") for c in calls_of(aws, "DescribeDBClusterSnapshots")]
    assert "awsbackup" not in sent, sent
    # By ARN, and the sweep, find it done.
    arn = f"arn:aws:rds:{world.region}:{world.prod_account}:cluster-snapshot:awsbackup:job-c1"
    rc, res, _ = run_event(world, {"action": "advance", "snapshot": arn})
    assert rc == 0 and res["outcome"] == "done", res
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    sent = [c["params"].get("SnapshotType") for c in calls_of(aws, "DescribeDBClusterSnapshots")]
    assert "awsbackup" not in sent, sent


# ---- a refusal that does not pass --------------------------------------------------------

REFUSAL = "The snapshot cannot be shared (a refusal AWS does not document)."


def test_refusal_is_pending_at_first_then_failed_with_awss_message(world, aws):
    """InvalidDBSnapshotState on an available snapshot reads as "busy" — for
    FERRY_REFUSAL_HOURS (24) after the refused snapshot was taken, measured on AWS's
    SnapshotCreateTime (no state of snapferry's); then it is a failure with AWS's message."""
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "refused-snap")
    aws.inject("ModifyDBSnapshotAttribute", "InvalidDBSnapshotState", count=10,
               message=REFUSAL, account=world.prod_account)
    rc, res, _ = run_event(world, snapshot_event(world, "refused-snap"))
    assert rc == 0 and res["outcome"] == "pending", res
    assert "busy" in res["reason"], res
    aws.snapshot_time(world.prod_account, world.region, "refused-snap", fs.iso_days_ago(2))
    rc, res, logs = run_event(world, snapshot_event(world, "refused-snap"))
    assert rc == 1 and res["errorType"] == "Snapferry.Refused", res
    assert REFUSAL in res["errorMessage"] and "24 hours" in res["errorMessage"], res
    assert "CopiesFailed" in {m[0] for m in fs.metrics(logs)}
    assert not calls_of(aws, "CopyDBSnapshot"), "nothing copied"


def test_refusal_of_a_transit_copy_counts_from_the_transit_copy(world, aws):
    """An old source whose transit copy is refused: the transit copy's own age counts
    (it is made at the first attempt)."""
    aws.snapshot_time(world.prod_account, world.region, world.snapshot_id, fs.iso_days_ago(3))
    aws.inject("CopyDBSnapshot", "InvalidDBSnapshotState", count=10, message=REFUSAL,
               account=world.backup_account)
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    assert REFUSAL in res["reason"] or "busy" in res["reason"], res
    aws.snapshot_time(world.prod_account, world.region, "snapferry-proddb-manual-1",
                      fs.iso_days_ago(2))
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 1 and res["errorType"] == "Snapferry.Refused", res
    assert REFUSAL in res["errorMessage"], res
# ---- one backup account, several production accounts (issue 12) ------------------------------
# Backup copy ids carry a suffix of the production account and region: same-named DBs and
# snapshots of different accounts no longer collide in the shared backup account.

FLEET = ("111111111111", "222222222222", "333333333333")


def backup_copies_of(world, source_arn, cluster=False):
    listing = fs.cluster_snapshots if cluster else fs.instance_snapshots
    arn_key = "DBClusterSnapshotArn" if cluster else "DBSnapshotArn"
    brds = world.admin("rds", "backup")
    out = []
    for k, v in listing(world, "backup").items():
        t = fs.tags_of(brds, v[arn_key])
        if t.get("snapferry:source-arn", "") + t.get("snapferry:source-arn-2", "") == \
                source_arn:
            out.append(k)
    return out


def test_three_production_accounts_same_names_one_backup_account(world, aws):
    """Three accounts, each with DB `orders`, snapshot `orders-m1` and an automated snapshot
    `rds:orders-<date>`, all ferrying into one backup account: every source arrives, once,
    under its own id. A copy named the old way (`snapferry-orders-m1`) by a fourth account
    is someone else's: no NameConflict, left alone."""
    old = fs.foreign_copy
    # The fourth account's old-named copy needs something to copy in the backup account.
    world.create_db("seed", account="backup", encrypted=False)
    world.create_snapshot("seed", "seed-1", account="backup")
    old(world, "seed-1", "snapferry-orders-m1", "444444444444", world.region, 1, "orders")
    fleet = [fs.add_production_account(world, a) for a in FLEET]
    for w in fleet:
        rc, res, _ = run_event(w, snapshot_event(w, "orders-m1"))
        assert rc == 0 and res["outcome"] == "done", res
        assert res["backup"] == fs.bid(w, "orders-m1"), res
        assert res["transit"] == "snapferry-orders-m1"
    ids = [fs.bid(w, "orders-m1") for w in fleet]
    assert len(set(ids)) == 3 and all(i.startswith("snapferry-orders-m1-") for i in ids)
    for w in fleet:
        assert backup_copies_of(world, f"arn:aws:rds:{w.region}:{w.prod_account}:snapshot:"
                                       "orders-m1") == [fs.bid(w, "orders-m1")]
    assert "snapferry-orders-m1" in fs.instance_snapshots(world, "backup")
    # The automated snapshots (same names in every account) arrive with the sweeps.
    for w in fleet:
        rc, res, _ = run_event(w, SWEEP)
        if res["outcome"] != "done":
            rc, res, _ = run_event(w, SWEEP)
        assert rc == 0 and res["outcome"] == "done", res
    for w in fleet:
        autos = fs.instance_snapshots(w, "prod", "automated")
        assert autos
        for sid, s in autos.items():
            assert sid.startswith("rds:orders-")
            assert backup_copies_of(world, s["DBSnapshotArn"]) == [fs.bid(w, sid)]
    # Nothing of one account was deleted or copied twice by another.
    copies = [c["params"]["TargetDBSnapshotIdentifier"]
              for c in calls_of(aws, "CopyDBSnapshot", world.backup_account)]
    assert len(copies) == len(set(copies))
    assert not calls_of(aws, "DeleteDBSnapshot", world.backup_account)


def test_backup_ids_within_rds_limits(world, aws):
    """The longest ids: a 255-character instance snapshot id and a 63-character cluster
    snapshot id give backup ids of at most 255 and 63 characters (the suffix kept distinct
    by the hash of the whole name)."""
    long_id = "orders-" + "m" * 248
    world.create_snapshot(world.db_id, long_id)
    rc, res, _ = run_event(world, snapshot_event(world, long_id))
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == fs.bid(world, long_id) and len(res["backup"]) == 255
    world.create_cluster("aurora1")
    cid = "aurora1-" + "c" * 55
    assert len(cid) == 63
    world.create_cluster_snapshot("aurora1", cid)
    rc, res, _ = run_event(world, snapshot_event(world, cid, "RDS-EVENT-0075", cluster=True))
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == fs.bid(world, cid, cluster=True) and len(res["backup"]) == 63
    assert res["backup"] in fs.cluster_snapshots(world, "backup")


def make_old_named_copy(world, snapshot_id, days_ago=None):
    """Ferry `snapshot_id`, then leave its backup copy as snapferry made it before issue 12:
    named like the transit copy (`snapferry-<id>`), same lineage tags."""
    rc, res, _ = run_event(world, snapshot_event(world, snapshot_id))
    assert rc == 0 and res["outcome"] == "done", res
    brds = world.admin("rds", "backup")
    new = fs.instance_snapshots(world, "backup")[res["backup"]]
    old_id = fs.transit_id(snapshot_id)
    brds.copy_db_snapshot(SourceDBSnapshotIdentifier=res["backup"],
                          TargetDBSnapshotIdentifier=old_id)
    tags = fs.tags_of(brds, new["DBSnapshotArn"])
    if days_ago is not None:
        tags["snapferry:source-time"] = fs.iso_days_ago(days_ago)
    brds.add_tags_to_resource(
        ResourceName=fs.instance_snapshots(world, "backup")[old_id]["DBSnapshotArn"],
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    brds.delete_db_snapshot(DBSnapshotIdentifier=res["backup"])
    return old_id


def test_old_named_backup_copy_is_recognised(world, aws):
    old_id = make_old_named_copy(world, world.snapshot_id, days_ago=30)
    mark = max(c["seq"] for c in aws.calls())
    # An event again: the old copy is this source's: no second copy.
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == old_id, res
    assert not [c for c in aws.calls(since=mark) if c["action"] == "CopyDBSnapshot"]
    # The sweep counts it as done (it ferries only moto's automated snapshot).
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    targets = [c["params"]["TargetDBSnapshotIdentifier"] for c in aws.calls(since=mark)
               if c["action"] == "CopyDBSnapshot"]
    assert fs.bid(world, world.snapshot_id) not in targets, targets
    assert backup_copies_of(world, world.snapshot_arn) == [old_id]

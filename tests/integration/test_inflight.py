"""The next step within minutes (issue 11, section 2): the in-flight check
({"action":"inflight"}, every 5 minutes in template.yaml) and the backup account's
copy-finished events forwarded to production's event bus, against moto with the fidelity
layer (copies held in `creating` until released, the call log)."""
import json
import pathlib
import time

import ferry_support as fs
from ferry_support import run_event, snapshot_event

INFLIGHT = {"action": "inflight"}
EVENTS = pathlib.Path(__file__).resolve().parents[2] / "events"


def since(aws, mark):
    return [c for c in aws.calls(since=mark)]


def mark_of(aws):
    calls = aws.calls()
    return max(c["seq"] for c in calls) if calls else 0


def forwarded(world, copy_id, event_id="RDS-EVENT-0197"):
    """A copy-finished event of the backup account, as its rule forwards it to production's
    default bus: EventBridge keeps the envelope, so account and ARN are the backup
    account's."""
    return snapshot_event(world, copy_id, event_id, account=world.backup_account)


def test_idle_check_costs_at_most_three_calls(world, aws):
    """Nothing in flight (a finished ferry and a user snapshot around): ≤ 3 calls, none
    of them mutating, and none in the backup account."""
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "done", res
    world.create_cluster("aur1")
    world.create_cluster_snapshot("aur1", "aur1-user")
    mark = mark_of(aws)
    rc, res, _ = run_event(world, INFLIGHT)
    assert rc == 0 and res["outcome"] == "done", res
    assert res["reason"] == "nothing in flight", res
    calls = since(aws, mark)
    print(f"in-flight check, idle: {len(calls)} calls: {[c['action'] for c in calls]}")
    assert len(calls) <= 3, [c["action"] for c in calls]
    assert {c["action"] for c in calls} <= {"DescribeDBSnapshots",
                                            "DescribeDBClusterSnapshots",
                                            "GetCallerIdentity"}, calls
    assert all(c["account"] == world.prod_account for c in calls), calls


def test_held_copies_released_next_step_by_the_check(world, aws):
    """Held transit and backup copies: each release is followed by the next step at the
    next check (one check, not the hourly sweep), timed."""
    aws.hold(True)
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    transit = fs.transit_id(world.snapshot_id)
    # While T is copying the check only looks.
    rc, res, _ = run_event(world, INFLIGHT)
    assert rc == 0 and res["outcome"] == "pending" and res["counts"]["copying"] == 1, res
    assert fs.instance_snapshots(world, "backup") == {}

    fs.release(aws, account=world.prod_account)
    t0 = time.monotonic()
    rc, res, _ = run_event(world, INFLIGHT)
    share_s = time.monotonic() - t0
    assert rc == 0 and res["outcome"] == "pending", res
    assert res["counts"]["advanced"] == 1 and res["counts"]["pending"] == 1, res
    assert fs.shared_with(world, transit) == [world.backup_account]
    assert fs.bid(world, world.snapshot_id) in fs.instance_snapshots(world, "backup")

    fs.release(aws, account=world.backup_account)
    aws.hold(False)
    t0 = time.monotonic()
    rc, res, _ = run_event(world, INFLIGHT)
    finish_s = time.monotonic() - t0
    assert rc == 0 and res["outcome"] == "done", res
    assert res["counts"]["done"] == 1, res
    # The step after B: T unshared and kept as the chain's newest (TRANSIT_CLEANUP=true),
    # no sweep involved.
    assert fs.shared_with(world, transit) == []
    assert fs.tags_of(world.admin("rds"), fs.instance_snapshots(world, "prod")[transit][
        "DBSnapshotArn"]).get("snapferry:transit-kept") == "true"
    assert fs.instance_snapshots(world, "backup")[fs.bid(world, world.snapshot_id)][
        "Status"] == "available"
    # One check after each release is enough; the schedule's period (5 minutes) bounds
    # the delay in AWS, the check's own run time is seconds.
    assert share_s < 60 and finish_s < 60, (share_s, finish_s)
    print(f"in-flight check: share step {share_s:.2f}s, finish step {finish_s:.2f}s")
    # Idle again: the next check does nothing.
    rc, res, _ = run_event(world, INFLIGHT)
    assert rc == 0 and res["reason"] == "nothing in flight", res


def test_aurora_without_copy_event_is_finished_by_the_check(world, aws):
    """Aurora sends no copy-finished event: the check takes each step of a cluster
    snapshot's transit copy."""
    world.create_cluster("aurora1")
    world.create_cluster_snapshot("aurora1", "aurora1-snap")
    aws.hold(True)
    rc, res, _ = run_event(world, snapshot_event(world, "aurora1-snap", "RDS-EVENT-0075",
                                                 cluster=True))
    assert rc == 0 and res["outcome"] == "pending", res
    fs.release(aws, account=world.prod_account)
    rc, res, _ = run_event(world, INFLIGHT)
    assert rc == 0 and res["outcome"] == "pending" and res["counts"]["advanced"] == 1, res
    fs.release(aws, account=world.backup_account)
    aws.hold(False)
    rc, res, _ = run_event(world, INFLIGHT)
    assert rc == 0 and res["outcome"] == "done", res
    t = fs.transit_id("aurora1-snap", cluster=True)
    assert fs.shared_with(world, t, cluster=True) == []
    assert fs.tags_of(world.admin("rds"), fs.cluster_snapshots(world, "prod")[t][
        "DBClusterSnapshotArn"]).get("snapferry:transit-kept") == "true"


def test_forwarded_copy_finished_event_takes_the_next_step(world, aws):
    """B finishes in the backup account; its event, forwarded to production, makes the
    ferry unshare (and keep) T at once."""
    aws.hold(True, accounts=[world.backup_account])
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    b = fs.bid(world, world.snapshot_id)
    transit = fs.transit_id(world.snapshot_id)
    assert fs.shared_with(world, transit) == [world.backup_account]
    fs.release(aws, account=world.backup_account)
    aws.hold(False)
    rc, res, _ = run_event(world, forwarded(world, b))
    assert rc == 0 and res["outcome"] == "done", res
    assert res["source"] == world.snapshot_arn, res
    assert any("forwarded by the backup account" in s for s in res["steps"]), res
    assert fs.shared_with(world, transit) == [], "un-shared, kept for the next copy"


def refused(res):
    """Refused as another account's: by the handler (own account known, under Lambda) or
    by dispatch once STS named the own account (here)."""
    return res["outcome"] == "ignored" and (res.get("foreign") or
                                            "of another account" in res["reason"])


def test_forwarded_events_that_are_not_ours_are_refused_or_ignored(world, aws):
    """Only the backup account's snapferry copies pass: another account's event stays
    foreign, a backup-account snapshot that is no snapferry copy (or a copy of another
    account's source) is ignored, and nothing is changed."""
    other = snapshot_event(world, "snapferry-x", "RDS-EVENT-0197", account="444455556666")
    rc, res, _ = run_event(world, other)
    assert rc == 0 and refused(res), res
    # Not prefixed: refused as foreign, as before.
    rc, res, _ = run_event(world, forwarded(world, "user-copy"))
    assert rc == 0 and refused(res), res
    # Prefixed, but no snapferry lineage in the backup account.
    bk = world.admin("rds", "backup")
    bk.create_db_instance(DBInstanceIdentifier="bdb", DBInstanceClass="db.t3.micro",
                          Engine="postgres", MasterUsername="u", MasterUserPassword="p4ssw0rd!",
                          AllocatedStorage=20)
    bk.create_db_snapshot(DBInstanceIdentifier="bdb", DBSnapshotIdentifier="snapferry-fake")
    rc, res, _ = run_event(world, forwarded(world, "snapferry-fake"))
    assert rc == 0 and res["outcome"] == "ignored", res
    assert "not a snapferry backup copy" in res["reason"], res
    # Lineage naming another production account's source.
    arn = bk.describe_db_snapshots(DBSnapshotIdentifier="snapferry-fake")["DBSnapshots"][0][
        "DBSnapshotArn"]
    bk.add_tags_to_resource(ResourceName=arn, Tags=[
        {"Key": "snapferry:created-by", "Value": "snapferry"},
        {"Key": "snapferry:role", "Value": "backup"},
        {"Key": "snapferry:source-arn",
         "Value": f"arn:aws:rds:{world.region}:444455556666:snapshot:theirs"}])
    mark = mark_of(aws)
    rc, res, _ = run_event(world, forwarded(world, "snapferry-fake"))
    assert rc == 0 and res["outcome"] == "ignored", res
    assert "another account's or region's snapshot" in res["reason"], res
    assert not [c for c in since(aws, mark) if c["action"] in {
        "CopyDBSnapshot", "ModifyDBSnapshotAttribute", "DeleteDBSnapshot",
        "AddTagsToResource"}]


def test_sample_forwarded_event_is_classified(world, aws):
    """events/copy-finished-forwarded.json: a copy-finished event of the backup account;
    with this world's accounts substituted, the ferry takes it (not foreign)."""
    doc = json.loads((EVENTS / "copy-finished-forwarded.json").read_text())
    assert doc["detail"]["EventID"] in ("RDS-EVENT-0197", "RDS-EVENT-0060")
    text = json.dumps(doc).replace(doc["account"], world.backup_account).replace(
        doc["region"], world.region)
    rc, res, _ = run_event(world, json.loads(text))
    assert rc == 0 and not refused(res), res
    assert res["outcome"] == "ignored" and "is gone" in res["reason"], res

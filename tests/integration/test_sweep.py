"""The ferry's sweep against moto with the fidelity layer: lost events, the
NewestBackupAgeSeconds metrics production's own alarm uses, and the scheduled event under
the Runtime Interface Emulator.  Retention moved to the keeper (test_keeper.py): the ferry
deletes no backup copy."""
import datetime
import json

import ferry_support as fs
from ferry_support import run_event, snapshot_event, SWEEP, SCHEDULED


def iso(days_ago):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_lost_events_sweep_catches_up(world, aws):
    world.create_db("otherdb", encrypted=False)
    world.create_snapshot("otherdb", "otherdb-snap")
    world.create_snapshot(world.db_id, "proddb-manual-2")
    # No event at all: the scheduled sweep finds every recent snapshot.
    rc, res, logs = run_event(world, SCHEDULED)
    assert rc == 0 and res["outcome"] == "done", res
    backup = fs.instance_snapshots(world, "backup")
    for s in ("proddb-manual-1", "proddb-manual-2", "otherdb-snap"):
        assert fs.bid(world, s) in backup
    # moto's automated snapshots of both DBs were ferried too.
    assert sum(1 for k in backup if k.startswith("snapferry-proddb-20") or
               k.startswith("snapferry-otherdb-20")) >= 1
    names = {m[0] for m in fs.metrics(logs)}
    assert {"CopiesStarted", "CopiesCompleted", "CopiesPending", "CopiesFailed",
            "NewestBackupAgeSeconds", "NewestBackupAgeSecondsMax"} <= names
    per_db = {m[2].get("SourceDb") for m in fs.metrics(logs)
              if m[0] == "NewestBackupAgeSeconds"}
    assert per_db == {"proddb", "otherdb"}
    # A second sweep has nothing to do and makes no copy.
    n = len(aws.calls(action="CopyDBSnapshot"))
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    assert len(aws.calls(action="CopyDBSnapshot")) == n
    assert res["counts"]["advanced"] == 0
    # The first sweep made and kept a transit copy per source; the second, from its listing,
    # deleted those a newer kept one of their DB supersedes.
    # One transit copy per DB left in production: the newest, kept un-shared as the base
    # of the next incremental copy (transit_chain.h).
    kept = {k: v for k, v in fs.instance_snapshots(world, "prod").items()
            if k.startswith("snapferry-")}
    assert sorted(v["DBInstanceIdentifier"] for v in kept.values()) == ["otherdb", "proddb"]
    assert "snapferry-proddb-manual-2" in kept or "snapferry-proddb-manual-1" not in kept
    for k, v in kept.items():
        assert fs.shared_with(world, k) == []
        assert fs.tags_of(world.admin("rds"), v["DBSnapshotArn"]).get(
            "snapferry:transit-kept") == "true"


def test_sweep_pending_while_copies_run(world, aws):
    aws.hold(True)
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "pending", res
    assert res["items"] and all(i["outcome"] == "pending" for i in res["items"])
    aws.release()
    rc, res, _ = run_event(world, SWEEP)   # shares and starts the backup copies
    aws.release()
    aws.hold(False)
    rc, res, _ = run_event(world, SWEEP)
    assert res["outcome"] == "done", res
    assert fs.bid(world, "proddb-manual-1") in fs.instance_snapshots(world, "backup")


def test_sweep_reports_failures_as_function_error(world, aws):
    aws.inject("CopyDBSnapshot", "AccessDenied", status=403, count=50,
               account=world.backup_account)
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 1, res
    assert res["errorType"] == "Snapferry.AccessDenied"
    assert "need attention" in res["errorMessage"]


def test_scheduled_sweep_under_rie(aws, start_rie):
    from fidelity.world import build_world
    world = build_world(aws.endpoint, prod_account="012345678912")
    rie = start_rie(fs.bootstrap_path(), world.env())
    ev = dict(SCHEDULED, account=world.prod_account)
    status, res = rie.invoke_json(ev)
    assert status == 200 and res["outcome"] == "done", res
    assert fs.bid(world, "proddb-manual-1") in fs.instance_snapshots(world, "backup")


def transit_copies(world):
    """snapferry's transit copies in production (every page of the listing)."""
    pages = world.admin("rds").get_paginator("describe_db_snapshots").paginate(
        SnapshotType="manual")
    return [s["DBSnapshotIdentifier"] for p in pages for s in p["DBSnapshots"]
            if s["DBSnapshotIdentifier"].startswith("snapferry-")]


def test_sweep_stops_before_the_deadline_under_rie(aws, start_rie):
    """A sweep with more work than time: under the emulator with a 9 s function timeout
    (AWS_LAMBDA_FUNCTION_TIMEOUT, which the emulator turns into the invocation's deadline),
    it stops starting work SESSION_MARGIN_MS + SWEEP_ITEM_MS (8 s) before the deadline,
    answers `pending` well in time, and the next sweep picks up what remains."""
    import time
    from fidelity.world import build_world
    timeout_s, n = 9, 200
    world = build_world(aws.endpoint, prod_account="012345678912")
    aws.bulk_snapshots(world.prod_account, world.region, world.db_id, n, prefix="bulk")
    aws.hold(True)      # every transit copy stays `creating`: each snapshot ends pending
    rie = start_rie(fs.bootstrap_path(), world.env(AWS_LAMBDA_FUNCTION_TIMEOUT=str(timeout_s)))
    t0 = time.monotonic()
    status, res = rie.invoke_json(dict(SCHEDULED, account=world.prod_account),
                                  timeout=timeout_s + 20)
    elapsed = time.monotonic() - t0
    assert status == 200, res
    assert res.get("outcome") == "pending", res
    assert "stopped before the deadline" in res["reason"], res["reason"]
    # Reported well before the deadline: the time left for reporting was kept.
    assert elapsed < timeout_s - 3, elapsed
    done_now = res["counts"]["advanced"]
    assert 1 <= done_now < n, res["counts"]
    assert res["items"] and all(i["outcome"] == "pending" for i in res["items"])
    assert len(transit_copies(world)) == done_now
    # What remains is left for the next sweep (here without a deadline: --event).
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "pending", res
    assert "stopped" not in res["reason"]
    assert len(transit_copies(world)) == n + 2   # + proddb-manual-1, moto's automated one
    # The snapshots of the first sweep were not copied twice.
    copies = [c for c in aws.calls(action="CopyDBSnapshot", account=world.prod_account)
              if c["status"] == 200]
    assert len(copies) == n + 2      # + proddb-manual-1 and moto's automated snapshot


OTHER_ACCOUNT = "111122223333"


def test_sweep_picks_up_a_cluster_transit_copy(world, aws):
    """RDS sends no copy-finished event for a cluster snapshot copy: the sweep finds the
    transit copy itself. Its source is backdated out of the look-back, so only T brings the
    flow forward."""
    world.create_cluster("aurora1")
    world.create_cluster_snapshot("aurora1", "aurora1-snap")
    aws.hold(True)
    rc, res, _ = run_event(world, snapshot_event(world, "aurora1-snap", "RDS-EVENT-0075",
                                                 cluster=True))
    assert rc == 0 and res["outcome"] == "pending", res
    assert res["transit"] == "snapferry-aurora1-snap", res
    aws.snapshot_time(world.prod_account, world.region, "aurora1-snap", iso(30),
                      kind="cluster")
    aws.release()
    only_aurora = {"EXCLUDE_PATTERN": "^proddb$"}
    rc, res, _ = run_event(world, SWEEP, **only_aurora)
    assert rc == 0 and res["outcome"] == "pending", res
    # (moto's automated snapshot of aurora1 is recent: the sweep starts its transit copy.)
    (item,) = [i for i in res["items"] if i["snapshot"].endswith("aurora1-snap")]
    assert item["snapshot"] == "snapferry-aurora1-snap", res["items"]
    b_id = fs.bid(world, "aurora1-snap", cluster=True)
    assert item["reason"].startswith(f"backup copy {b_id} is copying")
    assert fs.shared_with(world, "snapferry-aurora1-snap", cluster=True) == \
        [world.backup_account]
    assert b_id in fs.cluster_snapshots(world, "backup")
    aws.release()
    aws.hold(False)
    rc, res, _ = run_event(world, SWEEP, **only_aurora)
    assert rc == 0 and res["outcome"] == "done", res
    b = fs.cluster_snapshots(world, "backup")[b_id]
    assert b["Status"] == "available" and b["KmsKeyId"] == world.backup_key_arn
    # T stays, un-shared, as the newest of its DB (transit_chain.h).
    assert fs.shared_with(world, "snapferry-aurora1-snap", cluster=True) == []
    copies = [c for c in aws.calls(action="CopyDBClusterSnapshot")
              if c["params"]["TargetDBClusterSnapshotIdentifier"] in
              ("snapferry-aurora1-snap", b_id)]
    assert [c["account"] for c in copies] == [world.prod_account, world.backup_account]


def test_users_own_share_costs_a_steady_sweep_no_call(world, aws):
    """S shared with the backup account by its user before snapferry came: the share is
    kept (snapferry:shared-before on the backup copy). A steady-state sweep knows that from
    the backup listing's tags: it makes no call on S (no attribute check, no advance), while
    a share snapferry left behind on another S is still found and taken back."""
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "users-shared")
    world.create_snapshot("plaindb", "left-shared")
    world.admin("rds").modify_db_snapshot_attribute(
        DBSnapshotIdentifier="users-shared", AttributeName="restore",
        ValuesToAdd=[world.backup_account])
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    b = fs.instance_snapshots(world, "backup")[fs.bid(world, "users-shared")]
    assert fs.tags_of(world.admin("rds", "backup"),
                      b["DBSnapshotArn"])["snapferry:shared-before"] == "true"
    # A share of left-shared that an interrupted invocation of snapferry left behind.
    world.admin("rds").modify_db_snapshot_attribute(
        DBSnapshotIdentifier="left-shared", AttributeName="restore",
        ValuesToAdd=[world.backup_account])

    def on(snapshot_id, since):
        return [c["action"] for c in aws.calls(since=since)
                if snapshot_id in json.dumps(c.get("params", {}))]

    for _ in range(2):
        mark = max(c["seq"] for c in aws.calls())
        rc, res, _ = run_event(world, SWEEP)
        assert rc == 0 and res["outcome"] == "done", res
        assert on("users-shared", mark) == [], on("users-shared", mark)
        assert fs.shared_with(world, "users-shared") == [world.backup_account]
    # The leftover share was taken back by the first of the two sweeps, and only then
    # was left-shared advanced.
    assert fs.shared_with(world, "left-shared") == []
    assert res["counts"]["advanced"] == 0, res["counts"]


def test_never_shared_source_costs_a_steady_sweep_no_call(world, aws):
    """S encrypted with aws/rds went through a transit copy: S itself was never shared.
    The steady-state sweep knows it from the backup copy (copied from T, not from S) and
    makes no call on S at all, not even an attribute check; a source that was shared
    directly (unencrypted) is still checked, in the backup account's listing of what is
    shared with it (one call for every such source, not an attribute read each)."""
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plain-snap")
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    b = fs.instance_snapshots(world, "backup")
    assert fs.bid(world, "proddb-manual-1") in b and fs.bid(world, "plain-snap") in b

    mark = max(c["seq"] for c in aws.calls())
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    checked = [c["params"].get("DBSnapshotIdentifier") for c in aws.calls(since=mark)
               if c["action"] == "DescribeDBSnapshotAttributes"]
    assert "proddb-manual-1" not in checked, checked
    assert checked == [], checked
    shared_listings = [c for c in aws.calls(since=mark, account=world.backup_account)
                       if c["action"] == "DescribeDBSnapshots"
                       and c["params"].get("SnapshotType") == "shared"]
    assert len(shared_listings) == 1, shared_listings
    assert res["counts"]["advanced"] == 0, res["counts"]


def test_sweep_names_unferryable_snapshots_but_only_counts_filtered_ones(world, aws):
    """A Multi-AZ DB cluster snapshot can't be copied: the sweep lists it in `items` as
    skipped with its reason and logs it, and its reason says how many were skipped. A DB
    left out by EXCLUDE_PATTERN is only counted."""
    world.create_cluster("maz1", engine="postgres")
    world.create_cluster_snapshot("maz1", "maz1-snap")
    world.create_db("scratch1", encrypted=False)
    world.create_snapshot("scratch1", "scratch1-snap")
    rc, res, logs = run_event(world, SWEEP, EXCLUDE_PATTERN="^scratch")
    assert rc == 0 and res["outcome"] == "done", res
    skipped = [i for i in res["items"] if i["outcome"] == "skipped"]
    maz = [i for i in skipped if "maz1" in i["snapshot"]]
    assert "maz1-snap" in [i["snapshot"] for i in maz], res["items"]
    assert all("Multi-AZ DB cluster" in i["reason"] for i in maz), maz
    assert skipped == maz, skipped                    # scratch1: a count, not an item
    assert not [i for i in res["items"] if "scratch1" in i["snapshot"]], res["items"]
    assert res["counts"]["skipped"] > len(maz), res["counts"]   # + scratch1's snapshots
    assert f"{len(maz)} skipped" in res["reason"], res["reason"]
    assert "every recent eligible snapshot" in res["reason"], res["reason"]
    logged = [l for l in logs if l.get("message") == "sweep: snapshot skipped"]
    assert len(logged) == len(maz), logged
    assert "maz1-snap" in json.dumps(logged)
    # Without anything unferryable the reason is the plain one.
    rc, res, _ = run_event(world, SWEEP, EXCLUDE_PATTERN="^(scratch|maz)")
    assert rc == 0 and res["outcome"] == "done", res
    assert res["reason"] == "every recent snapshot has its backup copy", res["reason"]
    assert not [i for i in res["items"] if i["outcome"] == "skipped"], res["items"]

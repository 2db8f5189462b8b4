"""The keeper (SNAPFERRY_MODE=keeper) in the backup account, under AWS's Runtime Interface
Emulator, against moto with the fidelity layer; the ferry (production) runs as
`bootstrap --event -` to make the copies the keeper keeps.

The emulator's function ARN is always in account 012345678912: in these tests that is the
backup account (the keeper's own), as scripts/demo.py makes it the production account.

What the keeper decides rests on what AWS records about a copy (SourceDBSnapshotIdentifier
for the production account and region, DBInstanceIdentifier, OriginalSnapshotCreateTime),
never on a tag: retention per (production account, region, DB) with the floor, failed
copies, freshness per account, restores on a copy-finished event and on disaster day, and
lineage tags that disagree with AWS kept and reported."""
import datetime
import json

import pytest

import ferry_support as fs
from ferry_support import run_event, snapshot_event, SWEEP, SCHEDULED

RIE_ACCOUNT = "012345678912"        # the account of the emulator's function ARN
OTHER_PROD = "444455556666"         # a second production account sharing the backup account


def days_ago(days):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def kworld(aws):
    """The two-account world with the backup account as the emulator's account."""
    from fidelity.world import build_world
    return build_world(aws.endpoint, backup_account=RIE_ACCOUNT)


def start_keeper(start_rie, world, **env):
    return start_rie(fs.bootstrap_path(), fs.keeper_env(world, **env))


def invoke(rie, event):
    status, res = rie.invoke_json(event)
    log = rie.log()
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert bad not in log, log[-4000:]         # SNAPFERRY_VARIANT=asan
    assert status == 200, (status, res)
    return res


def keeper_logs(rie):
    return rie.log_json()


def scheduled(world):
    return dict(SCHEDULED, account=world.backup_account,
                resources=[f"arn:aws:events:{world.region}:{world.backup_account}:rule/"
                           "snapferry-keeper"])


def copy_finished(world, copy_id):
    """RDS-EVENT-0197 of a copy in the backup account (its copy finished there)."""
    return snapshot_event(world, copy_id, "RDS-EVENT-0197", account=world.backup_account)


def ferry_backdated(world, aws, snapshot_id, days, db=None):
    """A snapshot of `db` taken `days` ago in world's production account, ferried."""
    if db is not None or snapshot_id != world.snapshot_id:
        world.create_snapshot(db or world.db_id, snapshot_id)
    aws.snapshot_time(world.prod_account, world.region, snapshot_id, days_ago(days))
    rc, res, _ = run_event(world, snapshot_event(world, snapshot_id))
    assert rc == 0 and res["outcome"] == "done" and res["mode"] == "ferry", res
    return fs.backup_id(snapshot_id, world.prod_account, world.region)


def age_metrics(logs):
    return {(m[2].get("Account"), m[2].get("SourceDb")): m[1]
            for m in fs.metrics(logs) if m[0] == "NewestBackupAgeSeconds"}


# ---- retention: the floor and per-account scoping ----------------------------------------

def test_retention_per_account_region_and_db_with_the_floor(kworld, aws, start_rie):
    w = kworld
    # This production account: proddb copies of data 40, 20, 8 and 3 days old.
    b40 = ferry_backdated(w, aws, w.snapshot_id, 40)
    b20 = ferry_backdated(w, aws, "proddb-manual-2", 20, db="proddb")
    b8 = ferry_backdated(w, aws, "proddb-manual-3", 8, db="proddb")
    b3 = ferry_backdated(w, aws, "proddb-manual-4", 3, db="proddb")
    # Another production account, DB of the same name, one copy 40 days old: the newest of
    # its own (account, region, DB), so it stays whatever this account's copies are.
    w2 = fs.add_production_account(w, OTHER_PROD, db="proddb", snapshot="proddb-b1")
    aws.snapshot_time(OTHER_PROD, w.region, "proddb-b1", days_ago(40))
    rc, res, _ = run_event(w2, snapshot_event(w2, "proddb-b1"))
    assert rc == 0 and res["outcome"] == "done", res
    other = fs.backup_id("proddb-b1", OTHER_PROD, w.region)
    assert set(fs.instance_snapshots(w, "backup")) >= {b40, b20, b8, b3, other}
    # The copies say nothing else than AWS: same DB id, from two accounts.
    snaps = fs.instance_snapshots(w, "backup")
    assert snaps[other]["SourceDBSnapshotIdentifier"].split(":")[4] == OTHER_PROD
    assert snaps[b40]["SourceDBSnapshotIdentifier"].split(":")[4] == w.prod_account

    # Dry run (RETENTION_DAYS=5 is below the floor: refused at start-up, see the config
    # test; 10 here): names what it would delete, deletes nothing.
    dry = start_keeper(start_rie, w, RETENTION_DAYS="10", DRY_RUN="true")
    res = invoke(dry, scheduled(w))
    assert res["outcome"] == "done" and res["mode"] == "keeper" and res["dryRun"], res
    would = sorted(s.split()[1] for s in res["steps"] if s.startswith("would:DeleteDBSnapshot"))
    assert would == sorted([b40, b20]), res["steps"]
    assert not aws.calls(action="DeleteDBSnapshot", account=w.backup_account)

    # For real.
    keeper = start_keeper(start_rie, w, RETENTION_DAYS="10", RETENTION_MIN_COPIES="1")
    res = invoke(keeper, scheduled(w))
    assert res["outcome"] == "done", res
    assert res["counts"]["retentionDeleted"] == 2, res
    left = fs.instance_snapshots(w, "backup")
    assert b40 not in left and b20 not in left
    assert {b8, b3, other} <= set(left)          # the other account's only copy stays
    ages = age_metrics(keeper_logs(keeper))
    assert 3 * 86400 - 600 < ages[(w.prod_account, "proddb")] < 3 * 86400 + 600, ages
    assert ages[(OTHER_PROD, "proddb")] > 39 * 86400, ages
    fresh = {(f["account"], f["db"]): f for f in res["freshness"]}
    assert fresh[(OTHER_PROD, "proddb")]["newest"] == other
    assert fresh[(w.prod_account, "proddb")]["newest"] == b3

    # RETENTION_MIN_COPIES=3 and a floor of 30 days: nothing more goes (8 and 3 days old).
    keeper2 = start_keeper(start_rie, w, RETENTION_DAYS="30", KEEPER_MIN_RETENTION_DAYS="30",
                           RETENTION_MIN_COPIES="3")
    res = invoke(keeper2, scheduled(w))
    assert res["outcome"] == "done" and res["counts"]["retentionDeleted"] == 0, res
    # Only the keeper deleted, and only in the backup account.
    assert sorted(c["params"]["DBSnapshotIdentifier"] for c in aws.calls(
        action="DeleteDBSnapshot", account=w.backup_account)) == sorted([b40, b20])


def test_retention_keeps_the_newest_min_copies_and_copies_not_ours(kworld, aws, start_rie):
    w = kworld
    b = [ferry_backdated(w, aws, w.snapshot_id, 50)]
    for i, days in ((2, 40), (3, 30)):
        b.append(ferry_backdated(w, aws, f"proddb-manual-{i}", days, db="proddb"))
    # A snapshot of the prefix that snapferry did not make (no lineage): never touched.
    rds_b = w.admin("rds", "backup")
    rds_b.copy_db_snapshot(SourceDBSnapshotIdentifier=b[0],
                           TargetDBSnapshotIdentifier="snapferry-not-ours")
    rds_b.remove_tags_from_resource(
        ResourceName=fs.instance_snapshots(w, "backup")["snapferry-not-ours"]["DBSnapshotArn"],
        TagKeys=["snapferry:created-by", "snapferry:source-arn", "snapferry:role"])
    keeper = start_keeper(start_rie, w, RETENTION_DAYS="7", RETENTION_MIN_COPIES="2")
    res = invoke(keeper, scheduled(w))
    assert res["outcome"] == "done" and res["counts"]["retentionDeleted"] == 1, res
    left = fs.instance_snapshots(w, "backup")
    assert b[0] not in left and b[1] in left and b[2] in left
    assert "snapferry-not-ours" in left


# ---- failed copies: the ferry copies again under the retry id, the keeper reports -------

def test_failed_copy_retried_by_the_ferry_and_reported_by_the_keeper(kworld, aws, start_rie):
    w = kworld
    first = fs.bid(w, w.snapshot_id)
    aws.hold(True, accounts=[w.backup_account])
    rc, res, _ = run_event(w, snapshot_event(w, w.snapshot_id))
    assert rc == 0 and res["outcome"] == "pending", res
    (gone,) = fs.release(aws, "failed", account=w.backup_account)
    assert gone["id"] == first
    aws.hold(False)

    # The keeper: tries to delete it; AWS refuses (only available snapshots can be
    # deleted): reported, counted in FailedCopies.
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, {"action": "sweep"})
    assert res["outcome"] == "done", res
    assert res["counts"]["failedCopies"] == 1, res
    (item,) = res["failedCopies"]
    assert item["snapshot"] == first and "InvalidDBSnapshotState" in item["deleteRefused"]
    assert ("FailedCopies", 1, {}) in fs.metrics(keeper_logs(keeper))
    assert first in fs.instance_snapshots(w, "backup")

    # The ferry: copies again under <B>-r2 with the same lineage, answers pending, and
    # never deletes nor tags nor shares anything in the backup account.
    mark = max(c["seq"] for c in aws.calls())
    rc, res, _ = run_event(w, snapshot_event(w, w.snapshot_id))
    assert res["outcome"] in ("pending", "done"), res
    assert any(f"copying again as {first}-r2" in x for x in res["warnings"]), res
    rc, res, _ = run_event(w, snapshot_event(w, w.snapshot_id))
    assert rc == 0 and res["outcome"] == "done" and res["backup"] == f"{first}-r2", res
    backup = fs.instance_snapshots(w, "backup")
    rds_b = w.admin("rds", "backup")
    t1 = fs.tags_of(rds_b, backup[first]["DBSnapshotArn"])
    t2 = fs.tags_of(rds_b, backup[f"{first}-r2"]["DBSnapshotArn"])
    assert t1 == t2
    for action in ("DeleteDBSnapshot", "AddTagsToResource", "RemoveTagsFromResource",
                   "ModifyDBSnapshotAttribute"):
        assert not aws.calls(action=action, account=w.backup_account, since=mark), action

    # The keeper's next sweep: the failed one is still reported, the retry is the newest.
    res = invoke(keeper, {"action": "sweep"})
    assert res["counts"]["failedCopies"] == 1, res
    (fresh,) = res["freshness"]
    assert fresh["newest"] == f"{first}-r2"


def test_failed_copy_three_times_is_a_failure(world, aws):
    first = fs.bid(world, world.snapshot_id)
    aws.hold(True, accounts=[world.backup_account])
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    for attempt in (2, 3):
        fs.release(aws, "failed", account=world.backup_account)
        rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
        assert rc == 0 and res["outcome"] == "pending", res
        assert res["backup"] == f"{first}-r{attempt}", res
    fs.release(aws, "failed", account=world.backup_account)
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 1 and res["errorType"] == "Snapferry.CopyFailed", res
    assert "attempt 3 of 3" in res["errorMessage"], res
    assert len(aws.calls(action="CopyDBSnapshot", account=world.backup_account)) == 3
    assert not aws.calls(action="DeleteDBSnapshot", account=world.backup_account)


# ---- restores -------------------------------------------------------------------------

def test_copy_finished_event_restores_when_restore_is_on(kworld, aws, start_rie):
    w = kworld
    b = ferry_backdated(w, aws, w.snapshot_id, 0)
    off = start_keeper(start_rie, w)
    res = invoke(off, copy_finished(w, b))
    assert res["outcome"] == "ignored" and "RESTORE is off" in res["reason"], res
    assert res["mode"] == "keeper"
    on = start_keeper(start_rie, w, RESTORE="on")
    # Not one of snapferry's copies: ignored.
    w.create_db("localdb", account="backup", encrypted=False)
    w.create_snapshot("localdb", "localdb-snap", account="backup")
    res = invoke(on, copy_finished(w, "localdb-snap"))
    assert res["outcome"] == "ignored" and "not one of snapferry's" in res["reason"], res
    # Another account's event: refused, nothing described nor restored (the keeper
    # learns its own account from its credentials).
    mark = max(c["seq"] for c in aws.calls())
    res = invoke(on, snapshot_event(w, b, "RDS-EVENT-0197", account=w.prod_account))
    assert res["outcome"] == "ignored" and "another account" in res["reason"], res
    assert {c["action"] for c in aws.calls(since=mark)} <= {"GetCallerIdentity"}
    res = invoke(on, copy_finished(w, b))
    assert res["outcome"] == "done" and res["restored"] == "snapferry-proddb", res
    (restore,) = aws.calls(action="RestoreDBInstanceFromDBSnapshot")
    assert restore["params"]["DBSnapshotIdentifier"] == b
    assert restore["params"]["PubliclyAccessible"] == "false"
    # Again: never over the DB that exists.
    res = invoke(on, copy_finished(w, b))
    assert res["outcome"] == "done" and "already exists" in res["reason"], res
    assert len(aws.calls(action="RestoreDBInstanceFromDBSnapshot")) == 1


def test_sweep_restores_the_newest_copy_of_each_db_when_restore_is_on(kworld, aws, start_rie):
    w = kworld
    ferry_backdated(w, aws, w.snapshot_id, 2)
    newest = ferry_backdated(w, aws, "proddb-manual-2", 1, db="proddb")
    keeper = start_keeper(start_rie, w, RESTORE="on")
    res = invoke(keeper, scheduled(w))
    assert res["outcome"] == "done", res
    (restore,) = aws.calls(action="RestoreDBInstanceFromDBSnapshot")
    assert restore["params"]["DBSnapshotIdentifier"] == newest
    res = invoke(keeper, scheduled(w))        # restored already: nothing more
    assert res["outcome"] == "done", res
    assert len(aws.calls(action="RestoreDBInstanceFromDBSnapshot")) == 1


def test_disaster_day_restore_on_the_keeper_and_from_the_cli(kworld, aws, start_rie):
    w = kworld
    ferry_backdated(w, aws, w.snapshot_id, 2)
    newest = ferry_backdated(w, aws, "proddb-manual-2", 1, db="proddb")
    mark = max(c["seq"] for c in aws.calls())
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, {"action": "restore", "db": "proddb"})
    assert res["outcome"] == "done" and res["backup"] == newest, res
    assert res["restored"] == "snapferry-proddb" and res["mode"] == "keeper"
    # The CLI path: SNAPFERRY_MODE=keeper ./bootstrap --event - with the backup
    # account's credentials, on the day production is gone.
    rc, res, logs = fs.run_env(fs.keeper_env(w), {"action": "restore", "db": "proddb",
                                                  "target": "proddb-dr"})
    assert rc == 0 and res["restored"] == "proddb-dr" and res["backup"] == newest, res
    assert all(l.get("mode") == "keeper" for l in logs if "message" in l)
    # Nothing asked of production, no role assumed.
    calls = aws.calls(since=mark)
    assert {c["account"] for c in calls} == {w.backup_account}
    assert not [c for c in calls if c["action"] == "AssumeRole"]
    # Never over an existing DB.
    res = invoke(keeper, {"action": "restore", "db": "proddb"})
    assert res["errorType"] == "Snapferry.TargetExists", res


def test_restore_on_the_ferry_is_refused(world, aws):
    rc, res, _ = run_event(world, {"action": "restore", "db": "proddb"})
    assert rc == 1 and res["errorType"] == "Event.Invalid", res
    assert "restores run on the keeper" in res["errorMessage"]
    assert not aws.calls(action="RestoreDBInstanceFromDBSnapshot")


# ---- freshness and lineage ------------------------------------------------------------

def test_freshness_of_a_production_account_that_stops(kworld, aws, start_rie):
    """NewestBackupAgeSeconds per (Account, SourceDb), from AWS's record of the copies:
    the account that keeps ferrying stays fresh, the one that went silent ages."""
    w = kworld
    ferry_backdated(w, aws, w.snapshot_id, 0)
    w2 = fs.add_production_account(w, OTHER_PROD, db="orders", snapshot="orders-1")
    aws.snapshot_time(OTHER_PROD, w.region, "orders-1", days_ago(2))
    rc, res, _ = run_event(w2, snapshot_event(w2, "orders-1"))
    assert res["outcome"] == "done", res
    keeper = start_keeper(start_rie, w)
    invoke(keeper, scheduled(w))
    first = age_metrics(keeper_logs(keeper))
    assert first[(w.prod_account, "proddb")] < 600, first
    assert 2 * 86400 - 600 < first[(OTHER_PROD, "orders")] < 2 * 86400 + 600, first
    # This account goes on (a new snapshot, ferried); OTHER_PROD has stopped.
    ferry_backdated(w, aws, "proddb-manual-2", 0, db="proddb")
    keeper.new_output()
    invoke(keeper, scheduled(w))
    second = age_metrics(json.loads(l) for l in keeper.new_output().splitlines()
                         if l.startswith("{"))
    assert second[(w.prod_account, "proddb")] < 600
    assert second[(OTHER_PROD, "orders")] >= first[(OTHER_PROD, "orders")]
    assert max(m[1] for m in fs.metrics(keeper_logs(keeper))
               if m[0] == "NewestBackupAgeSecondsMax") >= 2 * 86400 - 600


def test_lineage_mismatch_is_kept_and_reported(kworld, aws, start_rie):
    """A copy whose tags disagree with AWS's record (here its source-db tag re-tagged, as
    only the backup account's admins could) is kept, reported, alarmed on: never deleted,
    even when retention would delete it."""
    w = kworld
    old = ferry_backdated(w, aws, w.snapshot_id, 30)
    ferry_backdated(w, aws, "proddb-manual-2", 1, db="proddb")
    rds_b = w.admin("rds", "backup")
    rds_b.add_tags_to_resource(
        ResourceName=fs.instance_snapshots(w, "backup")[old]["DBSnapshotArn"],
        Tags=[{"Key": "snapferry:source-db", "Value": "otherdb"}])
    keeper = start_keeper(start_rie, w, RETENTION_DAYS="7")
    res = invoke(keeper, scheduled(w))
    assert res["outcome"] == "done" and res["counts"]["retentionDeleted"] == 0, res
    (mm,) = res["lineageMismatches"]
    assert mm["snapshot"] == old and "snapferry:source-db" in mm["reason"], mm
    assert old in fs.instance_snapshots(w, "backup")
    logs = keeper_logs(keeper)
    assert ("LineageMismatch", 1, {}) in fs.metrics(logs)
    assert any(l.get("message", "").startswith("lineage mismatch") and
               l.get("level") == "warn" for l in logs)
    # The source-time tag made older than AWS's original time: the same.
    rds_b.add_tags_to_resource(
        ResourceName=fs.instance_snapshots(w, "backup")[old]["DBSnapshotArn"],
        Tags=[{"Key": "snapferry:source-db", "Value": "proddb"},
              {"Key": "snapferry:source-time", "Value": "2001-01-01T00:00:00Z"}])
    res = invoke(keeper, scheduled(w))
    assert "snapferry:source-time" in res["lineageMismatches"][0]["reason"], res
    assert old in fs.instance_snapshots(w, "backup")


# ---- configuration ----------------------------------------------------------------------

@pytest.mark.parametrize("mode,var,value,words", [
    ("keeper", "BACKUP_ROLE_ARN", "arn:aws:iam::444455556666:role/snapferry-backup",
     "is read by the ferry (SNAPFERRY_MODE=ferry)"),
    ("keeper", "RETENTION_DAYS", "3", "below KEEPER_MIN_RETENTION_DAYS 7"),
    ("keeper", "RETENTION_MIN_COPIES", "0", "between 1 and"),
    ("keeper", "SNAPFERRY_MODE", "bunker", "must be ferry (production) or keeper"),
    ("ferry", "RETENTION_DAYS", "35", "is read by the keeper (SNAPFERRY_MODE=keeper) in the "
     "backup account, not by the ferry"),
    ("ferry", "RESTORE", "on", "is read by the keeper"),
])
def test_configuration_errors_of_both_modes(kworld, start_rie, mode, var, value, words):
    env = fs.keeper_env(kworld) if mode == "keeper" else kworld.env()
    env[var] = value
    rie = start_rie(fs.bootstrap_path(), env)
    status, body = rie.invoke({"action": "sweep"})
    assert status == 502, body
    doc = json.loads(body)
    assert doc["errorType"] == "Runtime.ConfigInvalid", doc
    assert doc["errorMessage"].startswith(var) and words in doc["errorMessage"], doc

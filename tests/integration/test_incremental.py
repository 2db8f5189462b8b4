"""Incremental copy chains (issue 11, part 1): the real bootstrap against moto + the
fidelity layer, whose copy log (GET /_fidelity/copies) records whether each copy was
incremental-eligible when it started (fidelity.patches.incremental_eligible).

Several days of snapshots of two DBs that travel through a transit copy T: an instance
under aws/rds and an Aurora cluster under a customer key.  With TRANSIT_CLEANUP=true (the
default) the newest T of each DB is kept un-shared, so every T and every backup copy B
after the first of its chain is incremental-eligible, and one T per DB stays (two while the
next is under way).  TRANSIT_CLEANUP=false keeps every T.  Nothing without snapferry's
lineage is deleted."""
import datetime

import pytest

import ferry_support as fs
from ferry_support import SWEEP, run_event, snapshot_event

pytest.importorskip("botocore")

KEPT = "snapferry:transit-kept"
INFLIGHT = {"action": "inflight"}
CROSS_REGION = "eu-west-1"


def day_time(days_ago):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Fleet:
    """The production DBs of these tests and one snapshot per DB per day."""

    def __init__(self, world, aws, days=5):
        self.world, self.aws, self.days = world, aws, days
        cmk = world.create_key(description="aurora customer key")["Arn"]
        world.create_db("daily1")           # aws/rds
        world.create_cluster("aur1", kms_key_id=cmk)
        self.dbs = [("daily1", False), ("aur1", True)]
        # moto takes an automated snapshot of a new DB: out of the sweep's look-back, so
        # the days of these tests are the only snapshots of the DBs that travel.
        rds = world.admin("rds")
        for a in rds.describe_db_snapshots(DBInstanceIdentifier="daily1",
                                           SnapshotType="automated")["DBSnapshots"]:
            aws.snapshot_time(world.prod_account, world.region, a["DBSnapshotIdentifier"],
                              day_time(30))
        for a in rds.describe_db_cluster_snapshots(
                DBClusterIdentifier="aur1", SnapshotType="automated")["DBClusterSnapshots"]:
            aws.snapshot_time(world.prod_account, world.region,
                              a["DBClusterSnapshotIdentifier"], day_time(30), "cluster")

    def snapshot(self, db, cluster, day):
        """The snapshot of ${db} on ${day} (1-based), dated as if taken that day."""
        sid = f"{db}-day-{day}"
        w = self.world
        if cluster:
            w.create_cluster_snapshot(db, sid)
        else:
            w.create_snapshot(db, sid)
        self.aws.snapshot_time(w.prod_account, w.region, sid, day_time(self.days + 1 - day),
                               "cluster" if cluster else "instance")
        return sid

    def event(self, sid, cluster):
        return snapshot_event(self.world, sid, "RDS-EVENT-0075" if cluster else
                              "RDS-EVENT-0042", cluster=cluster)

    def ferry_day(self, day, inflight=True, **env):
        """The day's snapshot of every DB and its event; then, as the 5-minute schedule
        does, the in-flight check (which deletes the T's a newer kept one supersedes)."""
        out = {}
        for db, cluster in self.dbs:
            sid = self.snapshot(db, cluster, day)
            rc, res, _ = run_event(self.world, self.event(sid, cluster), **env)
            assert rc == 0, res
            out[db] = (sid, res)
        if inflight:
            rc, res, _ = run_event(self.world, INFLIGHT, **env)
            assert rc == 0 and res["outcome"] in ("done", "pending"), res
        return out


def transit_copies(world, db, cluster):
    """snapferry's transit copies of ${db} in production: id -> tags."""
    rds = world.admin("rds")
    listing = fs.cluster_snapshots if cluster else fs.instance_snapshots
    out = {}
    for k, s in listing(world, "prod").items():
        arn = s["DBClusterSnapshotArn" if cluster else "DBSnapshotArn"]
        tags = fs.tags_of(rds, arn)
        if tags.get("snapferry:role") == "transit" and tags.get("snapferry:source-db") == db:
            out[k] = tags
    return out


def copies_of(aws, world, db, account=None, region=None):
    """The copy log's entries of ${db}'s chains (the world's own proddb travels too when a
    sweep runs)."""
    return [c for c in aws.copies(account=account, region=region)
            if c["source_db"] == f"{world.prod_account}:{world.region}:{db}"]


def chains(copies):
    """The copy log grouped by chain (account, region, source DB, kind of copy)."""
    out = {}
    for c in copies:
        out.setdefault((c["account"], c["region"], c["source_db"]), []).append(c)
    return out


def assert_incremental_after_first(copies):
    for chain, cs in chains(copies).items():
        assert cs[0]["incremental_eligible"] is False, (chain, cs[0])
        later = [c for c in cs[1:] if not c["incremental_eligible"]]
        assert not later, (chain, later)


# ---- steady state -----------------------------------------------------------------------

def test_steady_state_every_copy_after_the_first_is_incremental(world, aws):
    fleet = Fleet(world, aws, days=5)
    for day in range(1, 6):
        for db, (sid, res) in fleet.ferry_day(day).items():
            assert res["outcome"] == "done", res
        for db, cluster in fleet.dbs:
            ts = transit_copies(world, db, cluster)
            # One T per DB: the newest, kept, un-shared.
            assert list(ts) == [fs.transit_id(f"{db}-day-{day}", cluster)], (day, ts)
            (tid, tags), = ts.items()
            assert tags.get(KEPT) == "true"
            assert fs.shared_with(world, tid, cluster) == []
    copies = aws.copies()
    prod = [c for c in copies if c["account"] == world.prod_account]
    backup = [c for c in copies if c["account"] == world.backup_account]
    assert not [c for c in copies if c["source_db"].endswith(":proddb")]
    assert len(prod) == len(backup) == 2 * 5, copies     # one T and one B per DB per day
    assert_incremental_after_first(prod)
    assert_incremental_after_first(backup)
    # Two chains in each account: one per DB.
    assert len(chains(prod)) == len(chains(backup)) == 2
    # Keys are stable along a chain: SHARE_KMS_KEY_ID for T, BACKUP_KMS_KEY_ID for B.
    assert {c["kms_key"] for c in prod} == {world.share_key_arn}
    assert {c["kms_key"] for c in backup} == {world.backup_key_arn}
    # Every backup copy is still there (the ferry deletes none).
    assert len(fs.instance_snapshots(world, "backup")) == 5
    assert len(fs.cluster_snapshots(world, "backup")) == 5
    # A sweep in steady state changes nothing.
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    for db, cluster in fleet.dbs:
        assert len(transit_copies(world, db, cluster)) == 1


def test_without_the_kept_copy_the_next_is_full(world, aws):
    """The regression this guards: deleting T at the end (the old behaviour) makes every
    next T full.  Deleting the kept T by hand shows the fidelity layer sees it."""
    fleet = Fleet(world, aws, days=3)
    fleet.dbs = [("daily1", False)]
    fleet.ferry_day(1)
    world.admin("rds").delete_db_snapshot(DBSnapshotIdentifier=fs.transit_id("daily1-day-1"))
    fleet.ferry_day(2)
    fleet.ferry_day(3)
    prod = [c["incremental_eligible"]
            for c in copies_of(aws, world, "daily1", world.prod_account)]
    assert prod == [False, False, True]


# ---- a held B keeps the older T -----------------------------------------------------------

def test_held_backup_copy_keeps_the_older_transit_copy(world, aws):
    fleet = Fleet(world, aws, days=3)
    fleet.dbs = [("daily1", False)]
    fleet.ferry_day(1)
    t1, t2 = fs.transit_id("daily1-day-1"), fs.transit_id("daily1-day-2")
    aws.hold(True, accounts=[world.backup_account])
    (sid, res), = fleet.ferry_day(2).values()
    assert res["outcome"] == "pending", res
    # Two T's while the next is under way; T1 stays while B2 is copying, also through a
    # sweep and an in-flight check.
    assert set(transit_copies(world, "daily1", False)) == {t1, t2}
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0, res
    rc, res, _ = run_event(world, {"action": "inflight"})
    assert rc == 0, res
    assert set(transit_copies(world, "daily1", False)) == {t1, t2}
    fs.release(aws, account=world.backup_account)
    aws.hold(False)
    rc, res, _ = run_event(world, fleet.event(sid, False))
    assert rc == 0 and res["outcome"] == "done", res
    # The finish keeps T2 and lists nothing; the next in-flight check deletes T1.
    assert set(transit_copies(world, "daily1", False)) == {t1, t2}
    rc, res, _ = run_event(world, INFLIGHT)
    assert rc == 0 and res["outcome"] == "done", res
    assert any("DeleteDBSnapshot " + t1 in s for s in res["steps"]), res["steps"]
    assert res["counts"]["pruned"] == 1, res
    assert list(transit_copies(world, "daily1", False)) == [t2]
    backup = copies_of(aws, world, "daily1", world.backup_account)
    assert [c["incremental_eligible"] for c in backup] == [False, True]


def test_reordered_finish_deletes_the_older_never_the_newer(world, aws):
    """B of day 2 finishes before B of day 1: day 2's T is kept; when day 1's B finishes,
    day 1's T (older, superseded by a kept newer one) is deleted, never day 2's."""
    fleet = Fleet(world, aws, days=3)
    fleet.dbs = [("daily1", False)]
    aws.hold(True, accounts=[world.backup_account])
    (s1, r1), = fleet.ferry_day(1).values()
    assert r1["outcome"] == "pending", r1
    b1 = fs.bid(world, s1)
    aws.hold(False)
    (s2, r2), = fleet.ferry_day(2).values()
    assert r2["outcome"] == "done", r2
    t1, t2 = fs.transit_id(s1), fs.transit_id(s2)
    # Day 1's T is still the source of its B: kept while that copies.
    assert set(transit_copies(world, "daily1", False)) == {t1, t2}
    fs.release(aws, id=b1)
    rc, res, _ = run_event(world, fleet.event(s1, False))
    assert rc == 0 and res["outcome"] == "done", res
    rc, res, _ = run_event(world, INFLIGHT)
    assert rc == 0 and res["outcome"] == "done", res
    assert any("DeleteDBSnapshot " + t1 in s for s in res["steps"]), res["steps"]
    assert list(transit_copies(world, "daily1", False)) == [t2]
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    assert list(transit_copies(world, "daily1", False)) == [t2]


# ---- a stopped invocation ------------------------------------------------------------------

def test_sweep_deletes_the_superseded_copy_the_inflight_check_left(world, aws):
    """The in-flight check did not run (its schedule off, or it failed): the hourly sweep
    deletes the superseded T from its own listing."""
    fleet = Fleet(world, aws, days=3)
    fleet.dbs = [("daily1", False)]
    fleet.ferry_day(1, inflight=False)
    (sid, res), = fleet.ferry_day(2, inflight=False).values()
    assert res["outcome"] == "done", res
    t1, t2 = fs.transit_id("daily1-day-1"), fs.transit_id(sid)
    ts = transit_copies(world, "daily1", False)
    assert set(ts) == {t1, t2} and ts[t1].get(KEPT) == ts[t2].get(KEPT) == "true"
    # A failing in-flight check deletes nothing and loses nothing.
    aws.inject("DescribeDBSnapshots", "InternalFailure", status=500, count=10,
               account=world.prod_account)
    rc, res, _ = run_event(world, INFLIGHT)
    assert res["outcome"] == "pending" and "InternalFailure" in res["reason"], res
    aws.reset()     # the fault is over
    assert set(transit_copies(world, "daily1", False)) == {t1, t2}
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    assert any("DeleteDBSnapshot " + t1 in s for s in res["steps"]), res["steps"]
    assert list(transit_copies(world, "daily1", False)) == [t2]


# ---- TRANSIT_CLEANUP=false ------------------------------------------------------------------

def test_transit_cleanup_false_keeps_every_transit_copy(world, aws):
    fleet = Fleet(world, aws, days=3)
    for day in (1, 2, 3):
        for _, (sid, res) in fleet.ferry_day(day, TRANSIT_CLEANUP="false").items():
            assert res["outcome"] == "done", res
    rc, res, _ = run_event(world, SWEEP, TRANSIT_CLEANUP="false")
    assert rc == 0, res
    for db, cluster in fleet.dbs:
        ts = transit_copies(world, db, cluster)
        assert len(ts) == 3, ts
        assert not any(KEPT in tags for tags in ts.values())
    assert_incremental_after_first([c for c in aws.copies()
                                    if not c["source_db"].endswith(":proddb")])
    assert not aws.calls(action="DeleteDBSnapshot")
    assert not aws.calls(action="DeleteDBClusterSnapshot")


# ---- never what is not snapferry's ----------------------------------------------------------

def test_never_deletes_a_transit_copy_without_lineage(world, aws):
    """A user's copy named like snapferry's, tagged with a role, the DB and even the kept
    tag but without snapferry's lineage, older than every T: never deleted; neither is a
    kept T of another production account's source."""
    fleet = Fleet(world, aws, days=4)
    fleet.dbs = [("daily1", False)]
    rds = world.admin("rds")
    world.create_snapshot("daily1", "user-snap")
    aws.snapshot_time(world.prod_account, world.region, "user-snap", day_time(10))
    fake = "snapferry-daily1-user"
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="user-snap", TargetDBSnapshotIdentifier=fake,
                         Tags=[{"Key": "snapferry:role", "Value": "transit"},
                               {"Key": "snapferry:source-db", "Value": "daily1"},
                               {"Key": KEPT, "Value": "true"}])
    other_src = "arn:aws:rds:us-east-1:999999999999:snapshot:proddb-old"
    foreign = "snapferry-daily1-foreign"
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="user-snap",
                         TargetDBSnapshotIdentifier=foreign,
                         Tags=[{"Key": "snapferry:role", "Value": "transit"},
                               {"Key": "snapferry:created-by", "Value": "snapferry"},
                               {"Key": "snapferry:source-arn", "Value": other_src},
                               {"Key": "snapferry:source-db", "Value": "daily1"},
                               {"Key": "snapferry:source-time", "Value": day_time(9)},
                               {"Key": KEPT, "Value": "true"}])
    # Out of the look-back: the sweep does not take the user's copy for a source.
    for sid in (fake, foreign):
        aws.snapshot_time(world.prod_account, world.region, sid, day_time(10))
    for day in (1, 2, 3):
        fleet.ferry_day(day)
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0, res
    prod = fs.instance_snapshots(world, "prod")
    assert fake in prod and foreign in prod and "user-snap" in prod
    assert fs.transit_id("daily1-day-3") in prod
    assert fs.transit_id("daily1-day-1") not in prod
    assert fs.transit_id("daily1-day-2") not in prod


# ---- keys and Regions --------------------------------------------------------------------

def test_a_key_change_restarts_the_chain(world, aws):
    """B under another BACKUP_KMS_KEY_ID is a full copy (not eligible); the chain goes on
    incrementally under the new key from the next day."""
    new_key = world.create_key(account="backup", description="new backup key")["Arn"]
    fleet = Fleet(world, aws, days=4)
    fleet.dbs = [("daily1", False)]
    fleet.ferry_day(1)
    fleet.ferry_day(2)
    fleet.ferry_day(3, BACKUP_KMS_KEY_ID=new_key)
    fleet.ferry_day(4, BACKUP_KMS_KEY_ID=new_key)
    b = copies_of(aws, world, "daily1", world.backup_account)
    assert [c["kms_key"] for c in b] == [world.backup_key_arn] * 2 + [new_key] * 2
    assert [c["incremental_eligible"] for c in b] == [False, True, False, True]
    # T's key (SHARE_KMS_KEY_ID) did not change: its chain stayed incremental.
    t = copies_of(aws, world, "daily1", world.prod_account)
    assert [c["incremental_eligible"] for c in t] == [False, True, True, True]


def test_cross_region_copies_are_incremental_after_the_first(world, aws):
    from fidelity.world import admin_client
    kms = admin_client(world.endpoint, "kms", world.backup_account, CROSS_REGION)
    key = kms.create_key(Description="snapferry backup key, second Region")["KeyMetadata"]
    env = {"BACKUP_REGION": CROSS_REGION, "BACKUP_KMS_KEY_ID": key["Arn"]}
    fleet = Fleet(world, aws, days=3)
    for day in (1, 2, 3):
        for _, (sid, res) in fleet.ferry_day(day, **env).items():
            assert res["outcome"] == "done", res
    remote = aws.copies(account=world.backup_account, region=CROSS_REGION)
    assert len(remote) == 6 and not aws.copies(account=world.backup_account,
                                               region=world.region)
    assert_incremental_after_first(remote)
    assert_incremental_after_first(aws.copies(account=world.prod_account))
    for db, cluster in fleet.dbs:
        assert len(transit_copies(world, db, cluster)) == 1

"""Restores, freshness metrics and drills with backup copies in two Regions of the backup
account (issue 10), against moto with the fidelity layer.

The copies are real ones: the ferry copies the same source to the backup account twice,
once in its own Region (BACKUP_REGION = AWS_REGION) and once in a second Region (the single
step: BACKUP_REGION = R2, a key of R2), so each Region holds a copy with snapferry's lineage
tags and AWS's own record of its source.  The disaster-day restore runs as
`bootstrap --event -` (the CLI path, the backup account's credentials); the keeper function
runs under AWS's Runtime Interface Emulator."""
import pytest

import ferry_support as fs
from ferry_support import run_event, snapshot_event, SWEEP
from test_keeper import kworld, start_keeper, invoke  # noqa: F401

R2 = "eu-central-1"        # the second Region of the backup account (moto: a name)
DRILL = {"action": "drill"}


def r2_env(world):
    """The ferry's variables for a copy into R2: BACKUP_REGION and a key of R2."""
    from fidelity.world import admin_client
    kms = admin_client(world.endpoint, "kms", world.backup_account, R2)
    key = kms.create_key(Description="snapferry backup key, second Region")["KeyMetadata"]
    return {"BACKUP_REGION": R2, "BACKUP_KMS_KEY_ID": key["Arn"]}


def ferry(world, snapshot_id, regions):
    """Ferry `snapshot_id` into each of `regions` of the backup account (world.region and/or
    R2); the backup copy's id is the same in both."""
    for r in regions:
        env = {} if r == world.region else r2_env(world)
        rc, res, _ = run_event(world, snapshot_event(world, snapshot_id), **env)
        assert rc == 0 and res["outcome"] == "done", (r, res)
    return fs.bid(world, snapshot_id)


def rds_in(world, region):
    from fidelity.world import admin_client
    return admin_client(world.endpoint, "rds", world.backup_account, region)


def dbs_in(world, region):
    return {d["DBInstanceIdentifier"] for d in
            rds_in(world, region).describe_db_instances()["DBInstances"]}


def keeper_cli(world, event, **env):
    """The disaster-day CLI path: SNAPFERRY_MODE=keeper ./bootstrap --event - with the
    backup account's own credentials, AWS_REGION = world.region unless given."""
    return fs.run_env(fs.keeper_env(world, **env), event)


def restores(aws, since=0):
    return [c for c in aws.calls(action="RestoreDBInstanceFromDBSnapshot", since=since)]


def last_seq(aws):
    return max(c["seq"] for c in aws.calls())


# ---- the CLI path: "region", the one Region with copies, Snapferry.Ambiguous --------------

def test_restore_in_a_chosen_region_with_copies_in_two_regions(world, aws):
    b = ferry(world, world.snapshot_id, (world.region, R2))
    both = f"{world.region},{R2}"
    # Without "region": copies in both Regions it knows -> Ambiguous naming both, no restore.
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "proddb"}, BACKUP_REGIONS=both)
    assert rc == 1 and res["errorType"] == "Snapferry.Ambiguous", res
    msg = res["errorMessage"]
    assert f"{world.region} (1 copy)" in msg and f"{R2} (1 copy)" in msg, msg
    assert '"region"' in msg, msg
    assert not restores(aws)

    # "region": R2 -> the copy of R2, restored in R2 by a client of R2.
    mark = last_seq(aws)
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "proddb", "region": R2},
                            BACKUP_REGIONS=both)
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == b and res["restored"] == "snapferry-proddb", res
    assert res["source"] == world.snapshot_arn, res
    (call,) = restores(aws, mark)
    assert call["region"] == R2 and call["account"] == world.backup_account, call
    assert call["params"]["DBSnapshotIdentifier"] == b
    assert call["params"]["PubliclyAccessible"] == "false"
    # Every call of that run was the backup account's, in R2 only.
    assert {(c["account"], c["region"]) for c in aws.calls(since=mark)
            if c["service"] == "rds"} == {(world.backup_account, R2)}
    assert "snapferry-proddb" in dbs_in(world, R2)
    assert "snapferry-proddb" not in dbs_in(world, world.region)

    # "region": the first Region -> restored there, with or without BACKUP_REGIONS.
    mark = last_seq(aws)
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "proddb",
                                    "region": world.region})
    assert rc == 0 and res["outcome"] == "done", res
    (call,) = restores(aws, mark)
    assert call["region"] == world.region
    assert "snapferry-proddb" in dbs_in(world, world.region)
    # Never over an existing DB, in the Region named.
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "proddb", "region": R2})
    assert rc == 1 and res["errorType"] == "Snapferry.TargetExists", res
    assert R2 in res["errorMessage"], res


def test_one_region_with_copies_is_the_default(world, aws):
    """Copies only in R2 (the source Region is not a destination): without "region" the
    CLI path looks in the Regions of BACKUP_REGIONS and restores in the one with copies; a
    copy whose source is in another Region is a candidate there."""
    b = ferry(world, world.snapshot_id, (R2,))
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "proddb"},
                            BACKUP_REGIONS=f"{world.region},{R2}")
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == b and res["source"] == world.snapshot_arn, res
    assert any(f"found in {R2} only" in s for s in res["steps"]), res["steps"]
    assert restores(aws)[-1]["region"] == R2
    assert "snapferry-proddb" in dbs_in(world, R2)

    # Without BACKUP_REGIONS the CLI path knows its own Region only: no copy there.
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "proddb", "target": "dr-2"})
    assert rc == 1 and res["errorType"] == "Snapferry.NoBackup", res
    assert world.region in res["errorMessage"], res
    # A production account without copies in any Region: NoBackup naming the Regions.
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "proddb",
                                    "account": "999988887777"},
                            BACKUP_REGIONS=f"{world.region},{R2}")
    assert rc == 1 and res["errorType"] == "Snapferry.NoBackup", res
    assert world.region in res["errorMessage"] and R2 in res["errorMessage"], res
    assert len(restores(aws)) == 1


def test_copies_of_two_other_source_regions_are_ambiguous(world, aws):
    """In one Region, copies of the same production account's same-named DB from two other
    source Regions are two different DBs: the restore never guesses; a copy of a source in
    the restore's own Region is preferred over the others."""
    b = ferry(world, world.snapshot_id, (world.region,))
    fs.foreign_copy(world, b, "snapferry-twin-west", world.prod_account, "eu-west-1", 1, "twin")
    fs.foreign_copy(world, b, "snapferry-twin-south", world.prod_account, "ap-south-1", 1,
                    "twin")
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "twin"})
    assert rc == 1 and res["errorType"] == "Snapferry.Ambiguous", res
    msg = res["errorMessage"]
    assert "from eu-west-1 (1 copy, newest snapferry-twin-west)" in msg, msg
    assert "from ap-south-1 (1 copy, newest snapferry-twin-south)" in msg, msg
    assert not restores(aws)
    fs.foreign_copy(world, b, "snapferry-twin-here", world.prod_account, world.region, 2,
                    "twin")
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "twin"})
    assert rc == 0 and res["backup"] == "snapferry-twin-here", res


@pytest.mark.parametrize("bad", ["Frankfurt", "EU-CENTRAL-1", "", "eu-central-1 ",
                                 "eu-central", "eu-central-1,us-east-1"])
def test_an_invalid_region_is_refused_before_any_call(world, aws, bad):
    ferry(world, world.snapshot_id, (world.region,))
    mark = last_seq(aws)
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "proddb", "region": bad})
    assert rc == 1 and res["errorType"] == "Event.Invalid", res
    assert '"region" must be the Region' in res["errorMessage"], res
    assert not [c for c in aws.calls(since=mark) if c["service"] == "rds"]


def test_a_region_that_cannot_be_listed_is_skipped_with_a_warning(world, aws):
    """Disaster day: one Region of BACKUP_REGIONS answers nothing but errors (here: every
    DescribeDBSnapshots there refused); the restore goes on in the Region that stands."""
    b = ferry(world, world.snapshot_id, (world.region,))
    aws.inject(action="DescribeDBSnapshots", region=R2, code="InternalFailure",
               message="the Region is down", status=500, count=50)
    rc, res, _ = keeper_cli(world, {"action": "restore", "db": "proddb"},
                            BACKUP_REGIONS=f"{world.region},{R2}")
    assert rc == 0 and res["backup"] == b, res
    assert any(R2 in w and "not considered" in w for w in res["warnings"]), res
    assert restores(aws)[-1]["region"] == world.region


# ---- the keeper function (under the emulator): its own Region only ------------------------

def test_keeper_function_restores_in_its_own_region_only(kworld, aws, start_rie):
    w = kworld
    b = ferry(w, w.snapshot_id, (w.region, R2))
    keeper = start_keeper(start_rie, w, BACKUP_REGIONS=f"{w.region},{R2}")
    res = invoke(keeper, {"action": "restore", "db": "proddb", "region": R2})
    assert res["errorType"] == "Event.Invalid", res
    assert f"invoke the keeper of {R2}" in res["errorMessage"], res
    assert not restores(aws)
    # Without "region": its own Region's copy, though R2 holds one too.
    res = invoke(keeper, {"action": "restore", "db": "proddb"})
    assert res["outcome"] == "done" and res["backup"] == b, res
    (call,) = restores(aws)
    assert call["region"] == w.region
    assert "snapferry-proddb" not in dbs_in(w, R2)
    # Its own Region named: the same as none.
    res = invoke(keeper, {"action": "restore", "db": "proddb", "region": w.region,
                          "target": "proddb-dr"})
    assert res["outcome"] == "done" and res["restored"] == "proddb-dr", res


def test_keeper_of_the_second_region_restores_there(kworld, aws, start_rie):
    w = kworld
    b = ferry(w, w.snapshot_id, (w.region, R2))
    keeper = start_keeper(start_rie, w, AWS_REGION=R2, AWS_DEFAULT_REGION=R2)
    res = invoke(keeper, {"action": "restore", "db": "proddb"})
    assert res["outcome"] == "done" and res["backup"] == b, res
    (call,) = restores(aws)
    assert call["region"] == R2
    assert "snapferry-proddb" in dbs_in(w, R2)
    assert "snapferry-proddb" not in dbs_in(w, w.region)


# ---- metrics: the Region dimension -------------------------------------------------------

def test_freshness_metrics_carry_the_region(world, aws):
    ferry(world, world.snapshot_id, (world.region, R2))
    for region in (world.region, R2):
        rc, res, logs = keeper_cli(world, SWEEP, AWS_REGION=region, AWS_DEFAULT_REGION=region)
        assert rc == 0, res
        m = fs.metrics(logs)
        per_db = [dims for n, _v, dims in m if n == "NewestBackupAgeSeconds"]
        assert per_db == [{"Account": world.prod_account, "SourceDb": "proddb",
                           "Region": region}], (region, m)
        assert [dims for n, _v, dims in m if n == "NewestBackupAgeSecondsMax"] == [
            {"Region": region}], (region, m)
    # The ferry's sweep: per DB with the Region of the copies it measured; the Max stays
    # without dimensions (template.yaml's recovery-point alarm reads it so).
    rc, res, logs = run_event(world, SWEEP)
    m = fs.metrics(logs)
    assert {"SourceDb": "proddb", "Region": world.region} in [
        dims for n, _v, dims in m if n == "NewestBackupAgeSeconds"], m
    assert [dims for n, _v, dims in m if n == "NewestBackupAgeSecondsMax"] == [{}], m


# ---- drills: each Region's keeper drills the copies of its own Region ---------------------

def test_the_keeper_of_a_region_drills_only_its_regions_copies(kworld, aws, start_rie):
    w = kworld
    b = ferry(w, w.snapshot_id, (w.region, R2))
    mark = last_seq(aws)
    k2 = start_keeper(start_rie, w, AWS_REGION=R2, AWS_DEFAULT_REGION=R2)
    res = invoke(k2, DRILL)
    (d,) = res["drills"]
    assert d["state"] == "restoring" and d["copy"] == b, res
    (call,) = restores(aws, mark)
    assert call["region"] == R2 and call["params"]["DBSnapshotIdentifier"] == b
    assert call["params"]["DBInstanceIdentifier"] == "snapferry-drill-proddb"
    assert {c["region"] for c in aws.calls(since=mark) if c["service"] == "rds"} == {R2}
    assert "snapferry-drill-proddb" in dbs_in(w, R2)
    assert "snapferry-drill-proddb" not in dbs_in(w, w.region)
    # It names the other Region: refused, that Region's keeper drills it.
    res = invoke(k2, {"action": "drill", "region": w.region})
    assert res["errorType"] == "Event.Invalid" and w.region in res["errorMessage"], res
    # The first Region's keeper drills its own copy, in its own Region.
    mark = last_seq(aws)
    k1 = start_keeper(start_rie, w)
    res = invoke(k1, DRILL)
    (d,) = res["drills"]
    assert d["state"] == "restoring", res
    (call,) = restores(aws, mark)
    assert call["region"] == w.region
    assert "snapferry-drill-proddb" in dbs_in(w, w.region)

"""Snapshots AWS does not let an account share, end to end through the bootstrap's
`--event` path against moto with the fidelity layer: a TDE snapshot (TdeCredentialArn on
the snapshot) and one whose option group has persistent or permanent options (the layer
reports AWS's Persistent/Permanent flags and refuses to share such snapshots, so a wrong
decision would show as a failed share). Each ends `skipped` with its reason after the
checks alone (call log); the scheduled sweep skips them without counting them as failed,
and ferries an ordinary snapshot beside them."""
import json

import pytest

import ferry_support as fs
from ferry_support import run_event, snapshot_event, SCHEDULED, SWEEP

# An example key-store ARN (opaque to snapferry and to the fidelity layer).
TDE_ARN = "arn:aws:rds:us-east-1:123456789012:tde:oracle-tde-keystore-1"

MUTATING = {"CopyDBSnapshot", "CopyDBClusterSnapshot", "ModifyDBSnapshotAttribute",
            "ModifyDBClusterSnapshotAttribute", "DeleteDBSnapshot", "DeleteDBClusterSnapshot",
            "RestoreDBInstanceFromDBSnapshot", "RestoreDBClusterFromSnapshot",
            "AddTagsToResource", "CreateDBInstance"}
# What deciding on S may cost: the own account (STS), S and its tags, S's option group.
CHECKS = {"GetCallerIdentity", "DescribeDBSnapshots", "ListTagsForResource"}


def mark(aws):
    return max(c["seq"] for c in aws.calls())


def names(c):
    return json.dumps(c.get("params", {}))


def automated_id(world, db):
    ids = [k for k in fs.instance_snapshots(world, "prod", "automated")
           if k.startswith(f"rds:{db}-")]
    assert len(ids) == 1, ids
    return ids[0]


def tde_db(world, db="oratde", engine="oracle-ee"):
    """A TDE instance encrypted with aws/rds (so a key check would be one more call) and
    its manual snapshot; moto made an automated one with the DB."""
    world.create_db(db, engine=engine, tde_credential_arn=TDE_ARN)
    world.create_snapshot(db, f"{db}-snap")
    return f"{db}-snap"


def option_db(world, db, og, engine, major, options):
    world.create_option_group(og, engine, major, options)
    world.create_db(db, engine=engine, option_group=og)
    world.create_snapshot(db, f"{db}-snap")
    return f"{db}-snap"


def assert_untouched(world, aws, since, *snapshot_ids):
    """No mutating call and no call in the backup account since `since`; no copy of the
    snapshots anywhere; the sources are not shared."""
    calls = aws.calls(since=since)
    assert not [c for c in calls if c["action"] in MUTATING], calls
    assert not [c for c in calls if c["account"] == world.backup_account], calls
    assert not [c for c in calls if c["action"] in ("AssumeRole", "DescribeKey")], calls
    prod = fs.instance_snapshots(world, "prod", None)
    backup = fs.instance_snapshots(world, "backup", None)
    for sid in snapshot_ids:
        plain = sid.replace("rds:", "")
        assert f"snapferry-{plain}" not in prod and fs.bid(world, sid) not in backup
        if not sid.startswith("rds:"):
            assert fs.shared_with(world, sid) == []


# ---- the event path ---------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["oracle-ee", "sqlserver-ee"])
@pytest.mark.parametrize("automated", [False, True], ids=["manual", "automated"])
def test_tde_snapshot_skipped_after_describing_it(world, aws, engine, automated):
    sid = tde_db(world, "tdedb", engine)
    if automated:
        sid = automated_id(world, "tdedb")
    since = mark(aws)
    ev = snapshot_event(world, sid, "RDS-EVENT-0091" if automated else "RDS-EVENT-0042")
    rc, res, logs = run_event(world, ev)
    assert rc == 0 and res["outcome"] == "skipped", res
    assert res["source"] == f"arn:aws:rds:{world.region}:{world.prod_account}:snapshot:{sid}"
    assert res["reason"].startswith("TDE snapshot"), res
    assert TDE_ARN in res["reason"] and "does not allow sharing" in res["reason"]
    assert [l for l in logs if l.get("message") == "result" and
            l["result"]["reason"] == res["reason"]], "the reason must be in the log"
    # The checks and nothing else: TDE is seen on the snapshot itself.
    acts = [c["action"] for c in aws.calls(since=since)]
    assert set(acts) <= CHECKS and "DescribeDBSnapshots" in acts, acts
    assert_untouched(world, aws, since, sid)


@pytest.mark.parametrize("engine,major,options", [
    ("sqlserver-ee", "15.00", ["TDE"]),            # persistent, not permanent
    ("oracle-ee", "19", ["OEM", "TDE"]),           # TDE persistent and permanent
], ids=["sqlserver-tde-option", "oracle-tde-option"])
@pytest.mark.parametrize("automated", [False, True], ids=["manual", "automated"])
def test_persistent_option_snapshot_skipped_after_the_option_check(world, aws, engine, major,
                                                                  options, automated):
    sid = option_db(world, "ogdb", "og-persist", engine, major, options)
    if automated:
        sid = automated_id(world, "ogdb")
    # What AWS says of the option group, as snapferry reads it.
    listed = world.admin("rds").describe_option_groups(
        OptionGroupName="og-persist")["OptionGroupsList"][0]["Options"]
    assert any(o["Persistent"] or o["Permanent"] for o in listed), listed
    since = mark(aws)
    ev = snapshot_event(world, sid, "RDS-EVENT-0091" if automated else "RDS-EVENT-0042")
    rc, res, logs = run_event(world, ev)
    assert rc == 0 and res["outcome"] == "skipped", res
    assert "option group og-persist" in res["reason"], res
    assert "persistent or permanent options (TDE)" in res["reason"], res
    assert "does not allow sharing" in res["reason"]
    assert [l for l in logs if l.get("message") == "result" and
            l["result"]["reason"] == res["reason"]], "the reason must be in the log"
    calls = aws.calls(since=since)
    acts = [c["action"] for c in calls]
    assert set(acts) <= CHECKS | {"DescribeOptionGroups"}, acts
    og_checks = [c for c in calls if c["action"] == "DescribeOptionGroups"]
    assert [c["params"].get("OptionGroupName") for c in og_checks] == ["og-persist"]
    assert_untouched(world, aws, since, sid)


def test_manual_advance_of_an_unshareable_snapshot_is_skipped(world, aws):
    tde = tde_db(world)
    og = option_db(world, "sqldb", "sql-tde", "sqlserver-ee", "15.00", ["TDE"])
    for sid, why in ((tde, "TDE snapshot"), (og, "option group sql-tde")):
        since = mark(aws)
        arn = f"arn:aws:rds:{world.region}:{world.prod_account}:snapshot:{sid}"
        rc, res, _ = run_event(world, {"action": "advance", "snapshot": arn})
        assert rc == 0 and res["outcome"] == "skipped" and why in res["reason"], res
        assert_untouched(world, aws, since, sid)


def test_default_option_group_costs_no_option_check(world, aws):
    """An ordinary snapshot reports its engine's default option group (default:*, which
    can't hold options added by a user): ferried, with no DescribeOptionGroups."""
    snap = fs.instance_snapshots(world, "prod")[world.snapshot_id]
    assert snap["OptionGroupName"].startswith("default:"), snap
    since = mark(aws)
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "done", res
    assert not aws.calls(action="DescribeOptionGroups", since=since)


# ---- the sweep --------------------------------------------------------------------------

def unshareable_world(world):
    """Beside the world's proddb (aws/rds, manual + automated snapshot): an Oracle TDE DB
    and a SQL Server DB with the TDE option, each with a manual and an automated snapshot,
    and an unencrypted DB with a manual snapshot."""
    tde = tde_db(world)
    og = option_db(world, "sqldb", "sql-tde", "sqlserver-ee", "15.00", ["TDE"])
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    return [tde, automated_id(world, "oratde"), og, automated_id(world, "sqldb")]


def test_sweep_skips_unshareable_snapshots_and_ferries_the_rest(world, aws):
    unshareable = unshareable_world(world)
    since = mark(aws)
    rc, res, logs = run_event(world, SCHEDULED)
    assert rc == 0 and res["outcome"] == "done", res
    counts = res["counts"]
    assert counts["skipped"] == len(unshareable), counts
    assert counts["failed"] == 0 and counts["pending"] == 0, counts
    assert not [m for m in fs.metrics(logs) if m[0] == "CopiesFailed" and m[1]], \
        fs.metrics(logs)
    # The ordinary snapshots beside them are ferried...
    backup = fs.instance_snapshots(world, "backup")
    for sid in (world.snapshot_id, automated_id(world, world.db_id), "plaindb-snap"):
        assert fs.bid(world, sid) in backup, list(backup)
    # ...and nothing was done to the unshareable ones: no copy, no share, no key lookup.
    calls = aws.calls(since=since)
    on_them = [c for c in calls if any(s in names(c) for s in unshareable) or
               any(g in names(c) for g in ("sql-tde",))]
    assert not [c for c in on_them if c["action"] in MUTATING | {"DescribeKey"}], on_them
    assert not [c for c in calls if c["action"] in MUTATING and
                ("oratde" in names(c) or "sqldb" in names(c))]
    assert not [k for k in backup if "oratde" in k or "sqldb" in k], list(backup)
    assert not [k for k in fs.instance_snapshots(world, "prod", None)
                if k.startswith("snapferry-") and ("oratde" in k or "sqldb" in k)]
    for sid in unshareable:
        if not sid.startswith("rds:"):
            assert fs.shared_with(world, sid) == []
    # TDE is in the listing: the TDE snapshots cost the sweep no call of their own. The
    # option-group ones are looked at (S, its tags, its option group) and nothing more.
    assert not [c for c in on_them if "oratde" in names(c)], on_them
    assert {c["action"] for c in on_them} <= CHECKS | {"DescribeOptionGroups"}, on_them
    print(f"sweep over 3 ferried + {len(unshareable)} unshareable snapshots: "
          f"{len(calls)} calls, {len(on_them)} on the unshareable ones")

    # The next sweep: the same skips, still nothing failed, nothing copied again.
    copies = len(aws.calls(action="CopyDBSnapshot"))
    since = mark(aws)
    rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    assert res["counts"]["skipped"] == len(unshareable) and res["counts"]["failed"] == 0
    assert len(aws.calls(action="CopyDBSnapshot")) == copies
    again = [c for c in aws.calls(since=since) if any(s in names(c) for s in unshareable)
             or "sql-tde" in names(c)]
    assert {c["action"] for c in again} <= CHECKS | {"DescribeOptionGroups"}, again
    print(f"steady sweep: {len(again)} calls on the unshareable snapshots")


def test_sweep_names_each_unshareable_snapshot_with_its_reason(world, aws):
    """DESIGN.md: a skip has a clear reason in the result and the log; the sweep does not
    claim every recent snapshot has its backup copy when some can't have one."""
    unshareable = unshareable_world(world)
    rc, res, logs = run_event(world, SCHEDULED)
    assert rc == 0, res
    text = json.dumps(res.get("items", [])) + "\n".join(
        json.dumps(l) for l in logs if l.get("message") != "aws call attempt")
    for sid in unshareable:
        assert sid in text, f"{sid} is named nowhere in the sweep's result or log"
    assert "TDE snapshot" in text and "option group sql-tde" in text
    assert "every recent snapshot has its backup copy" not in res["reason"], res["reason"]
    # Each one: an item `skipped` with its reason, and one log line.
    items = {i["snapshot"]: i for i in res["items"]}
    for sid in unshareable:
        assert items[sid]["outcome"] == "skipped", items[sid]
        why = "TDE snapshot" if "oratde" in sid else "options (TDE)"
        assert why in items[sid]["reason"], items[sid]
        lines = [l for l in logs if l.get("message") == "sweep: snapshot skipped" and
                 l.get("snapshot", l.get("fields", {}).get("snapshot")) == sid]
        assert len(lines) == 1, (sid, lines)
    assert not [i for i in res["items"] if i["outcome"] == "skipped" and
                i["snapshot"] not in unshareable], res["items"]
    assert res["outcome"] == "done" and f"{len(unshareable)} skipped" in res["reason"], res


# ---- AWS's exception: Oracle's Timezone and OLS options ----------------------------------

def test_oracle_timezone_and_ols_options_do_not_block_the_ferry(world, aws):
    sid = option_db(world, "oratz", "ora-tz", "oracle-ee", "19", ["Timezone", "OLS"])
    rc, res, _ = run_event(world, snapshot_event(world, sid))
    assert rc == 0 and res["outcome"] == "done", res
    assert fs.bid(world, sid) in fs.instance_snapshots(world, "backup")

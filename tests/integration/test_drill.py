"""Restore drills on the keeper (SNAPFERRY_MODE=keeper), under AWS's Runtime Interface
Emulator, against moto with the fidelity layer.  A drill is a state machine across
invocations with no waiting: restore -> available -> verified -> deleted, recorded only on
AWS resources (the drill DB's tags, the copy's snapferry:drill-result tag)."""
import pytest

import ferry_support as fs
from test_keeper import (kworld, start_keeper, invoke, ferry_backdated,  # noqa: F401
                         scheduled, keeper_logs)

DRILL = {"action": "drill"}


def drills(res):
    return {d["db"]: d for d in res.get("drills", [])}


def db_instances(w):
    c = w.admin("rds", "backup")
    return {d["DBInstanceIdentifier"]: d for d in c.describe_db_instances()["DBInstances"]}


def copy_tags(w, copy_id):
    c = w.admin("rds", "backup")
    arn = c.describe_db_snapshots(DBSnapshotIdentifier=copy_id)["DBSnapshots"][0]["DBSnapshotArn"]
    return {t["Key"]: t["Value"] for t in c.list_tags_for_resource(ResourceName=arn)["TagList"]}


def drill_metrics(rie, name):
    return [m for m in fs.metrics(keeper_logs(rie)) if m[0] == name]


def test_full_drill_across_invocations(kworld, aws, start_rie):
    w = kworld
    b = ferry_backdated(w, aws, w.snapshot_id, 1)
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, DRILL)
    print(res)
    d = drills(res)["proddb"]
    assert d["state"] == "restoring" and d["drillDb"] == "snapferry-drill-proddb", res
    assert res["outcome"] == "pending", res
    (rq,) = aws.calls(action="RestoreDBInstanceFromDBSnapshot")
    p = rq["params"]
    assert p["DBSnapshotIdentifier"] == b and p["DBInstanceIdentifier"] == "snapferry-drill-proddb"
    assert p["PubliclyAccessible"] == "false" and p["DeletionProtection"] == "false"
    assert p["BackupRetentionPeriod"] == "0" and p["DBInstanceClass"] == "db.t3.micro"
    res = invoke(keeper, scheduled(w))
    print(res)
    d = drills(res)["proddb"]
    assert d["state"] == "passed", res
    assert aws.calls(action="DeleteDBInstance")
    tag = copy_tags(w, b)["snapferry:drill-result"]
    assert tag.startswith("passed "), tag
    secs = drill_metrics(keeper, "RestoreDrillSeconds")
    assert secs and secs[-1][2]["SourceDb"] == "proddb", secs


def test_held_restore_then_incompatible_parameters(kworld, aws, start_rie):
    w = kworld
    b = ferry_backdated(w, aws, w.snapshot_id, 1)
    aws.hold(actions=["RestoreDBInstanceFromDBSnapshot"])
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, DRILL)
    assert drills(res)["proddb"]["state"] == "restoring", res
    res = invoke(keeper, scheduled(w))
    assert drills(res)["proddb"]["state"] == "restoring", res
    assert db_instances(w)["snapferry-drill-proddb"]["DBInstanceStatus"] == "creating"
    fs.release(aws, status="incompatible-parameters", id="snapferry-drill-proddb")
    res = invoke(keeper, scheduled(w))
    d = drills(res)["proddb"]
    assert d["state"] == "failed" and "incompatible-parameters" in d["reason"], res
    assert "snapferry-drill-proddb" not in db_instances(w)
    assert copy_tags(w, b)["snapferry:drill-result"].startswith("failed "), res

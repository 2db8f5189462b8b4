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
    d = drills(res)["proddb"]
    assert d["state"] == "restoring" and d["drillDb"] == "snapferry-drill-proddb", res
    assert res["outcome"] == "pending", res
    (rq,) = aws.calls(action="RestoreDBInstanceFromDBSnapshot")
    p = rq["params"]
    assert p["DBSnapshotIdentifier"] == b and p["DBInstanceIdentifier"] == "snapferry-drill-proddb"
    assert p["PubliclyAccessible"] == "false" and p["DeletionProtection"] == "false"
    assert p["BackupRetentionPeriod"] == "0" and p["DBInstanceClass"] == "db.t3.micro"
    res = invoke(keeper, scheduled(w))
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


def aurora_copy(w):
    """An Aurora cluster snapshot of production, ferried to the backup account."""
    w.create_cluster("aurora1")
    w.create_cluster_snapshot("aurora1", "aurora1-snap")
    rc, res, _ = fs.run_event(w, fs.snapshot_event(w, "aurora1-snap", "RDS-EVENT-0075",
                                                   cluster=True))
    assert rc == 0 and res["outcome"] == "done", res
    return res["backup"]


def test_aurora_drill_cluster_and_writer(kworld, aws, start_rie):
    w = kworld
    b = aurora_copy(w)
    aws.hold(actions=["CreateDBInstance"])
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, {"action": "drill", "db": "aurora1"})
    assert drills(res)["aurora1"]["state"] == "restoring", res
    (rq,) = aws.calls(action="RestoreDBClusterFromSnapshot", account=w.backup_account)
    assert rq["params"]["DBClusterIdentifier"] == "snapferry-drill-aurora1"
    assert rq["params"]["DeletionProtection"] == "false"
    (cr,) = aws.calls(action="CreateDBInstance", account=w.backup_account)
    assert cr["params"]["DBInstanceIdentifier"] == "snapferry-drill-aurora1-instance-1"
    assert cr["params"]["DBInstanceClass"] == "db.t4g.medium"
    # The cluster is available, its writer not yet: still restoring.
    res = invoke(keeper, scheduled(w))
    assert drills(res)["aurora1"]["state"] == "restoring", res
    fs.release(aws, id="snapferry-drill-aurora1-instance-1")
    res = invoke(keeper, scheduled(w))
    assert drills(res)["aurora1"]["state"] == "passed", res
    # The writer goes first, the cluster once it has no member.
    assert [c["params"]["DBInstanceIdentifier"] for c in aws.calls(
        action="DeleteDBInstance")] == ["snapferry-drill-aurora1-instance-1"]
    res = invoke(keeper, scheduled(w))
    (dc,) = aws.calls(action="DeleteDBCluster")
    assert dc["params"]["SkipFinalSnapshot"] == "true"
    assert dc["params"]["DeleteAutomatedBackups"] == "true"
    c = w.admin("rds", "backup")
    assert not [x for x in c.describe_db_clusters()["DBClusters"]
                if x["DBClusterIdentifier"].startswith("snapferry-drill")]
    arn = c.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=b)[
        "DBClusterSnapshots"][0]["DBClusterSnapshotArn"]
    assert fs.tags_of(c, arn)["snapferry:drill-result"].startswith("passed ")


def backdate_drill(w, db_id, minutes):
    c = w.admin("rds", "backup")
    arn = c.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]["DBInstanceArn"]
    import time
    c.add_tags_to_resource(ResourceName=arn, Tags=[{
        "Key": "snapferry:drill-started", "Value": str(int(time.time()) - minutes * 60)}])


def test_timeout_fails_and_still_deletes(kworld, aws, start_rie):
    w = kworld
    b = ferry_backdated(w, aws, w.snapshot_id, 1)
    aws.hold(actions=["RestoreDBInstanceFromDBSnapshot"])
    keeper = start_keeper(start_rie, w, DRILL_TIMEOUT_MINUTES="10")
    invoke(keeper, DRILL)
    backdate_drill(w, "snapferry-drill-proddb", 11)
    res = invoke(keeper, scheduled(w))
    d = drills(res)["proddb"]
    assert d["state"] == "failed" and "timed out" in d["reason"], res
    assert "snapferry-drill-proddb" not in db_instances(w)
    assert copy_tags(w, b)["snapferry:drill-result"].startswith("failed ")
    failed = drill_metrics(keeper, "RestoreDrillFailed")
    assert failed[-1][1] == 1 and failed[-1][2]["SourceDb"] == "proddb", failed


def test_a_crashed_run_is_finished_by_the_next(kworld, aws, start_rie):
    """A run that recorded the result on the drill DB and died before deleting it: the next
    sweep deletes it, and counts no second result."""
    w = kworld
    ferry_backdated(w, aws, w.snapshot_id, 1)
    aws.hold(actions=["RestoreDBInstanceFromDBSnapshot"])
    keeper = start_keeper(start_rie, w)
    invoke(keeper, DRILL)
    c = w.admin("rds", "backup")
    arn = c.describe_db_instances(DBInstanceIdentifier="snapferry-drill-proddb")[
        "DBInstances"][0]["DBInstanceArn"]
    c.add_tags_to_resource(ResourceName=arn, Tags=[{
        "Key": "snapferry:drill-result", "Value": "passed 2026-01-01T00:00:00Z 60"}])
    res = invoke(keeper, scheduled(w))
    assert drills(res)["proddb"]["state"] == "deleting", res
    assert "snapferry-drill-proddb" not in db_instances(w)
    assert not drill_metrics(keeper, "RestoreDrillSeconds")


def test_dbs_not_made_by_the_drill_are_never_touched(kworld, aws, start_rie):
    """A DB named like a drill DB without the drill tag, and a RESTORE=on restore."""
    w = kworld
    b = ferry_backdated(w, aws, w.snapshot_id, 1)
    c = w.admin("rds", "backup")
    c.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="snapferry-drill-proddb",
                                           DBSnapshotIdentifier=b)
    restorer = start_keeper(start_rie, w, RESTORE="on")
    invoke(restorer, {"action": "restore", "db": "proddb"})
    assert {"snapferry-drill-proddb", "snapferry-proddb"} <= set(db_instances(w))
    keeper = start_keeper(start_rie, w)
    mark = max(x["seq"] for x in aws.calls())
    res = invoke(keeper, DRILL)
    assert drills(res)["proddb"]["state"] == "blocked", res
    res = invoke(keeper, scheduled(w))
    made = {x["action"] for x in aws.calls(since=mark)}
    assert not made & {"DeleteDBInstance", "AddTagsToResource", "ModifyDBInstance",
                       "RestoreDBInstanceFromDBSnapshot", "DeleteDBCluster"}, made
    assert {"snapferry-drill-proddb", "snapferry-proddb"} <= set(db_instances(w))


def test_concurrency_dry_run_and_age_metric(kworld, aws, start_rie):
    w = kworld
    ferry_backdated(w, aws, w.snapshot_id, 3)
    for db in ("orders", "billing"):
        w.create_db(db)
        ferry_backdated(w, aws, f"{db}-m1", 2, db=db)
    aws.hold(actions=["RestoreDBInstanceFromDBSnapshot"])
    dry = start_keeper(start_rie, w, DRY_RUN="true")
    res = invoke(dry, DRILL)
    assert res["dryRun"] and sum(s.startswith("would:RestoreDBInstanceFromDBSnapshot")
                                 for s in res["steps"]) == 2, res
    assert not aws.calls(action="RestoreDBInstanceFromDBSnapshot")
    keeper = start_keeper(start_rie, w, DRILL_CONCURRENCY="2")
    res = invoke(keeper, DRILL)
    states = sorted(d["state"] for d in res["drills"])
    assert states == ["queued", "restoring", "restoring"], res
    assert len(aws.calls(action="RestoreDBInstanceFromDBSnapshot")) == 2
    res = invoke(keeper, DRILL)                 # still two in flight: none more
    assert len(aws.calls(action="RestoreDBInstanceFromDBSnapshot")) == 2
    # Never drilled: the age counts from the oldest copy (about two or three days).
    ages = {m[2].get("SourceDb"): m[1] for m in drill_metrics(keeper, "LastGoodDrillAgeSeconds")}
    assert ages["proddb"] > 2.9 * 86400 and ages[None] >= ages["proddb"], ages
    fs.release(aws)
    res = invoke(keeper, scheduled(w))
    assert sorted(d["state"] for d in res["drills"]) == ["passed", "passed"], res
    ages = {m[2].get("SourceDb"): m[1] for m in drill_metrics(keeper, "LastGoodDrillAgeSeconds")}
    passed = {d["db"] for d in res["drills"]}
    assert all(ages[db] < 600 for db in passed), ages


def test_region_and_ferry_refusals(kworld, aws, start_rie):
    w = kworld
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, {"action": "drill", "region": "eu-west-3"})
    assert res["errorType"] == "Event.Invalid" and "eu-west-3" in res["errorMessage"], res
    rc, res, _ = fs.run_event(w, DRILL)
    assert rc == 1 and res["errorType"] == "Event.Invalid", res
    # A DRILL_ variable on the ferry: a configuration error at start-up (exit 2).
    rc, res, logs = fs.run_event(w, {"action": "sweep"}, DRILL_CONCURRENCY="3")
    assert rc == 2 and "DRILL_CONCURRENCY is read by the keeper" in str(logs), (rc, res, logs)


def test_measured_seconds_across_several_invocations(kworld, aws, start_rie):
    """Held `creating` over three sweeps; the restore started 7 minutes ago (backdated):
    the time recorded on the copy and in RestoreDrillSeconds is the restore's start to the
    invocation that found it available."""
    w = kworld
    b = ferry_backdated(w, aws, w.snapshot_id, 1)
    aws.hold(actions=["RestoreDBInstanceFromDBSnapshot"])
    keeper = start_keeper(start_rie, w)
    invoke(keeper, DRILL)
    for _ in range(3):
        res = invoke(keeper, scheduled(w))
        assert drills(res)["proddb"]["state"] == "restoring", res
        assert not aws.calls(action="DeleteDBInstance")
    backdate_drill(w, "snapferry-drill-proddb", 7)
    fs.release(aws, id="snapferry-drill-proddb")
    res = invoke(keeper, scheduled(w))
    d = drills(res)["proddb"]
    assert d["state"] == "passed" and 420 <= d["seconds"] < 480, res
    word, _when, secs = copy_tags(w, b)["snapferry:drill-result"].split(" ")
    assert word == "passed" and int(secs) == d["seconds"]
    (m,) = drill_metrics(keeper, "RestoreDrillSeconds")
    assert m[1] == d["seconds"] and m[2] == {"Account": w.prod_account, "SourceDb": "proddb"}
    # Nothing done twice: the next sweep finds nothing in flight.
    res = invoke(keeper, scheduled(w))
    assert drills(res) == {} and len(aws.calls(action="DeleteDBInstance")) == 1, res
    assert len(aws.calls(action="RestoreDBInstanceFromDBSnapshot")) == 1


def test_tcp_probe_that_cannot_connect_fails_the_drill(kworld, aws, start_rie):
    """DRILL_PROBE=tcp: moto's endpoint is a name nobody serves; the probe (bounded to 3 s)
    can't connect, so the drill fails with the probe's reason and its DB is still deleted."""
    w = kworld
    b = ferry_backdated(w, aws, w.snapshot_id, 1)
    keeper = start_keeper(start_rie, w, DRILL_PROBE="tcp")
    invoke(keeper, DRILL)
    res = invoke(keeper, scheduled(w))
    d = drills(res)["proddb"]
    assert d["state"] == "failed" and d["reason"].startswith("TCP probe"), res
    assert "snapferry-drill-proddb" not in db_instances(w)
    assert copy_tags(w, b)["snapferry:drill-result"].startswith("failed ")


def test_restore_refused_by_aws_is_a_failed_drill_with_its_reason(kworld, aws, start_rie):
    """AWS refuses the restore (here InsufficientDBInstanceCapacity, not retried): the drill
    fails with AWS's code and message, recorded on the copy; no DB was made. A restore
    refused for a quota is only queued."""
    w = kworld
    b = ferry_backdated(w, aws, w.snapshot_id, 1)
    keeper = start_keeper(start_rie, w)
    aws.inject("RestoreDBInstanceFromDBSnapshot", "InstanceQuotaExceeded", status=400)
    res = invoke(keeper, DRILL)
    assert drills(res)["proddb"]["state"] == "queued", res
    assert "snapferry:drill-result" not in copy_tags(w, b)
    aws.inject("RestoreDBInstanceFromDBSnapshot", "InsufficientDBInstanceCapacity",
               message="Cannot create a db.t3.micro instance now")
    res = invoke(keeper, DRILL)
    d = drills(res)["proddb"]
    assert d["state"] == "failed" and "InsufficientDBInstanceCapacity" in d["reason"], d
    assert "db.t3.micro instance now" in d["reason"]
    assert copy_tags(w, b)["snapferry:drill-result"].startswith("failed ")
    assert "snapferry-drill-proddb" not in db_instances(w)
    assert res["outcome"] == "done", res

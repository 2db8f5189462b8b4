"""Restores on the keeper (SNAPFERRY_MODE=keeper), moved from test_ferry.py (issue 14) and
then to the keeper (issue 15): the ferry (production) no longer restores; the keeper restores with its own credentials in the backup
account, automatically (RESTORE=on: the newest copy of each DB, on a sweep or a
copy-finished event) and on disaster day ({"action":"restore",...}).  Here through
`bootstrap --event -` (the CLI path of disaster day); test_keeper.py runs the keeper under
the Runtime Interface Emulator."""
import pytest  # noqa: F401

import ferry_support as fs
from ferry_support import run_event, snapshot_event, SWEEP

MUTATING = {"CopyDBSnapshot", "CopyDBClusterSnapshot", "ModifyDBSnapshotAttribute",
            "ModifyDBClusterSnapshotAttribute", "DeleteDBSnapshot", "DeleteDBClusterSnapshot",
            "AddTagsToResource", "RestoreDBInstanceFromDBSnapshot",
            "RestoreDBClusterFromSnapshot"}


def calls_of(aws, action, account=None):
    return [c for c in aws.calls(action=action, account=account)]


def keeper(world, event, **env):
    """One keeper invocation with the backup account's own credentials."""
    return fs.run_env(fs.keeper_env(world, **env), event)


def ferry_then_keeper(world, event, **env):
    """The ferry ferries `event`'s snapshot; then a keeper sweep (RESTORE=on in ${env})
    restores the newest copy of each DB: what the ferry did alone before the bunker."""
    rc, res, _ = run_event(world, event)
    assert rc == 0 and res["outcome"] == "done", res
    return keeper(world, SWEEP, **env)


def test_restore_on(world, aws):
    rc, res, _ = ferry_then_keeper(world, snapshot_event(world, world.snapshot_id), RESTORE="on")
    assert rc == 0 and res["outcome"] == "done", res
    assert res["restored"] == "snapferry-proddb"
    dbs = world.admin("rds", "backup").describe_db_instances()["DBInstances"]
    assert [d["DBInstanceIdentifier"] for d in dbs] == ["snapferry-proddb"]
    restores = calls_of(aws, "RestoreDBInstanceFromDBSnapshot")
    assert restores[0]["params"]["PubliclyAccessible"] == "false"
    # A second snapshot never restores over the existing DB.
    world.create_snapshot(world.db_id, "proddb-manual-2")
    rc, res, _ = ferry_then_keeper(world, snapshot_event(world, "proddb-manual-2"), RESTORE="on")
    assert rc == 0 and res["outcome"] == "done", res
    assert any("already exists" in s for s in res["steps"])
    assert len(calls_of(aws, "RestoreDBInstanceFromDBSnapshot")) == 1


def test_manual_restore(world, aws):
    run_event(world, snapshot_event(world, world.snapshot_id))
    world.create_snapshot(world.db_id, "proddb-manual-2")
    run_event(world, snapshot_event(world, "proddb-manual-2"))
    rc, res, _ = keeper(world, {"action": "restore", "db": "proddb"})
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == fs.bid(world, "proddb-manual-2")   # the newest
    assert res["restored"] == "snapferry-proddb"
    # Never publicly accessible (moto 5.2.5 does not apply the flag: check the request).
    restores = calls_of(aws, "RestoreDBInstanceFromDBSnapshot")
    assert restores[-1]["params"]["PubliclyAccessible"] == "false"
    assert restores[-1]["params"]["DBSnapshotIdentifier"] == fs.bid(world, "proddb-manual-2")
    # Never over an existing DB: a function error that says what to do.
    rc, res, _ = keeper(world, {"action": "restore", "db": "proddb"})
    assert rc == 1 and res["errorType"] == "Snapferry.TargetExists", res
    assert "target" in res["errorMessage"]
    rc, res, _ = keeper(world, {"action": "restore", "db": "proddb",
                                   "target": "proddb-dr-2"})
    assert rc == 0 and res["restored"] == "proddb-dr-2", res
    rc, res, _ = keeper(world, {"action": "restore", "db": "nosuchdb"})
    assert rc == 1 and res["errorType"] == "Snapferry.NoBackup", res
    assert "(null)" not in res["errorMessage"], res     # no BACKUP_ACCOUNT_ID on a keeper


# ---- the manual restore when several production accounts share the backup account ----------

ACCOUNT_A, ACCOUNT_B = "111122223333", "444455556666"


def restored_from(aws):
    return calls_of(aws, "RestoreDBInstanceFromDBSnapshot")[-1]["params"]["DBSnapshotIdentifier"]


def test_manual_restore_of_a_db_named_alike_in_two_accounts(world, aws):
    """Two other production accounts each have a DB "lostdb" with copies in the backup
    account, and this function's account has none: the restore never guesses (a function
    error naming both accounts and saying to add "account"); with "account" it restores the
    newest copy of that account, even when the other account's copy is newer."""
    run_event(world, snapshot_event(world, world.snapshot_id))
    src = fs.bid(world, "proddb-manual-1")
    fs.foreign_copy(world, src, "snapferry-lostdb-a-old", ACCOUNT_A, world.region, 5, "lostdb")
    fs.foreign_copy(world, src, "snapferry-lostdb-a", ACCOUNT_A, world.region, 2, "lostdb")
    fs.foreign_copy(world, src, "snapferry-lostdb-b", ACCOUNT_B, world.region, 1, "lostdb")
    # A copy here of this very account's lostdb of another source Region is a candidate
    # too since issue 10 (the keeper's chain brings such copies), named with its Region.
    fs.foreign_copy(world, src, "snapferry-lostdb-west", world.prod_account, "eu-west-1", 0,
                    "lostdb")
    rc, res, _ = keeper(world, {"action": "restore", "db": "lostdb"})
    assert rc == 1 and res["errorType"] == "Snapferry.Ambiguous", res
    msg = res["errorMessage"]
    assert f"{ACCOUNT_A} (2 copies, newest snapferry-lostdb-a)" in msg, msg
    assert f"{ACCOUNT_B} (1 copy, newest snapferry-lostdb-b)" in msg, msg
    assert (f"{world.prod_account} from eu-west-1 (1 copy, newest snapferry-lostdb-west)"
            in msg), msg
    assert '"account"' in msg, msg
    assert not calls_of(aws, "RestoreDBInstanceFromDBSnapshot")

    rc, res, _ = keeper(world, {"action": "restore", "db": "lostdb", "account": ACCOUNT_A})
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == "snapferry-lostdb-a", res
    assert res["restored"] == "snapferry-lostdb"
    assert res["source"] == f"arn:aws:rds:{world.region}:{ACCOUNT_A}:snapshot:lostdb-a"
    assert restored_from(aws) == "snapferry-lostdb-a"
    db = world.admin("rds", "backup").describe_db_instances(
        DBInstanceIdentifier="snapferry-lostdb")["DBInstances"][0]
    assert fs.tags_of(world.admin("rds", "backup"), db["DBInstanceArn"])[
        "snapferry:source-arn"].split(":")[4] == ACCOUNT_A

    rc, res, _ = keeper(world, {"action": "restore", "db": "lostdb", "account": ACCOUNT_B,
                                   "target": "lostdb-b"})
    assert rc == 0 and res["backup"] == "snapferry-lostdb-b", res
    assert restored_from(aws) == "snapferry-lostdb-b"
    # An account without copies of it: no backup, and the message says whose there are.
    rc, res, _ = keeper(world, {"action": "restore", "db": "lostdb",
                                   "account": "999988887777"})
    assert rc == 1 and res["errorType"] == "Snapferry.NoBackup", res
    assert ACCOUNT_A in res["errorMessage"] and ACCOUNT_B in res["errorMessage"], res
    # An account that is not 12 digits is refused before any call.
    mark = max(c["seq"] for c in aws.calls())
    rc, res, _ = keeper(world, {"action": "restore", "db": "lostdb", "account": "12345"})
    assert rc == 1 and res["errorType"] == "Event.Invalid", res
    assert not [c for c in aws.calls(since=mark) if c["service"] != "iam"]


def test_manual_restore_on_disaster_day_with_the_backup_accounts_credentials(world, aws):
    """The production account is lost: `bootstrap --event` runs with credentials of the
    backup account, whose own account has no copies. The copies of the DB come from one
    production account: they are restored. Once a second account's same-named DB has
    copies too, the restore asks for "account", and restores the one named."""
    run_event(world, snapshot_event(world, world.snapshot_id))
    world.create_snapshot(world.db_id, "proddb-manual-2")
    run_event(world, snapshot_event(world, "proddb-manual-2"))
    creds = fs.backup_account_credentials(world)
    mark = max(c["seq"] for c in aws.calls())
    rc, res, _ = keeper(world, {"action": "restore", "db": "proddb"})
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == fs.bid(world, "proddb-manual-2"), res
    assert res["restored"] == "snapferry-proddb"
    assert restored_from(aws) == fs.bid(world, "proddb-manual-2")
    # Nothing asked of the lost production account: every call was the backup account's.
    assert {c["account"] for c in aws.calls(since=mark)} == {world.backup_account}

    fs.foreign_copy(world, fs.bid(world, "proddb-manual-1"), "snapferry-proddb-other",
                    ACCOUNT_A, world.region, 3)
    rc, res, _ = keeper(world, {"action": "restore", "db": "proddb", "target": "dr-2"},
)
    assert rc == 1 and res["errorType"] == "Snapferry.Ambiguous", res
    assert ACCOUNT_A in res["errorMessage"] and world.prod_account in res["errorMessage"]
    rc, res, _ = keeper(world, {"action": "restore", "db": "proddb", "target": "dr-2",
                                   "account": world.prod_account})
    assert rc == 0 and res["backup"] == fs.bid(world, "proddb-manual-2"), res
    assert res["restored"] == "dr-2"


# ---- Aurora restores: the cluster and its writer instance --------------------------------

AURORA_EVENT = ("aurora1-snap", "RDS-EVENT-0075")


def aurora_world(world):
    world.create_cluster("aurora1")
    world.create_cluster_snapshot("aurora1", "aurora1-snap")
    return snapshot_event(world, *AURORA_EVENT, cluster=True)


def cluster_and_writer(world, cluster_id):
    """(the restored cluster, its members' ids, the writer instance or None)."""
    rds = world.admin("rds", "backup")
    (cl,) = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    members = [m["DBInstanceIdentifier"] for m in cl.get("DBClusterMembers", [])]
    writer = None
    if members:
        (writer,) = rds.describe_db_instances(DBInstanceIdentifier=members[0])["DBInstances"]
    return cl, members, writer


def test_restore_on_aurora_cluster_adds_its_writer(world, aws):
    ev = aurora_world(world)
    rc, res, _ = ferry_then_keeper(world, ev, RESTORE="on")
    assert rc == 0 and res["outcome"] == "done", res
    assert res["restored"] == "snapferry-aurora1"
    cl, members, w = cluster_and_writer(world, "snapferry-aurora1")
    assert members == ["snapferry-aurora1-instance-1"]
    assert w["DBClusterIdentifier"] == "snapferry-aurora1"
    assert w["Engine"] == cl["Engine"] == "aurora-postgresql"
    # RESTORE_INSTANCE_CLASS unset: the documented default of the engine family.
    assert w["DBInstanceClass"] == "db.r5.large"
    assert w["PubliclyAccessible"] is False
    (create,) = calls_of(aws, "CreateDBInstance", world.backup_account)
    assert create["params"]["PubliclyAccessible"] == "false"
    assert create["params"]["DBClusterIdentifier"] == "snapferry-aurora1"
    assert create["params"]["Engine"] == "aurora-postgresql"
    # The restored cluster says where it comes from.
    tags = {t["Key"]: t["Value"] for t in cl["TagList"]}
    assert tags["snapferry:role"] == "restore"
    assert tags["snapferry:source-db"] == "aurora1"
    assert tags["snapferry:source-arn"].endswith(":cluster-snapshot:aurora1-snap")
    # Again: the cluster exists with its writer; nothing is created twice.
    rc, res, _ = ferry_then_keeper(world, ev, RESTORE="on")
    assert rc == 0 and res["outcome"] == "done", res
    assert any("already exists" in s for s in res["steps"]), res["steps"]
    assert len(calls_of(aws, "RestoreDBClusterFromSnapshot")) == 1
    assert len(calls_of(aws, "CreateDBInstance", world.backup_account)) == 1


def test_restore_cluster_writer_failure_is_completed_later(world, aws):
    ev = aurora_world(world)
    aws.inject("CreateDBInstance", "InstanceQuotaExceeded", status=400,
               account=world.backup_account)
    rc, res, logs = ferry_then_keeper(world, ev, RESTORE="on", RESTORE_INSTANCE_CLASS="db.r6g.large")
    assert rc == 0 and res["outcome"] == "pending", res
    assert "InstanceQuotaExceeded" in res["reason"]
    assert "QuotaExceeded" in {m[0] for m in fs.metrics(logs)}
    _, members, _ = cluster_and_writer(world, "snapferry-aurora1")
    assert members == []          # the cluster alone, nobody can connect to it yet
    # The next sweep finds snapferry's cluster without an instance and adds the writer.
    rc, res, _ = keeper(world, SWEEP, RESTORE="on", RESTORE_INSTANCE_CLASS="db.r6g.large")
    assert rc == 0 and res["outcome"] == "done", res
    _, members, w = cluster_and_writer(world, "snapferry-aurora1")
    assert members == ["snapferry-aurora1-instance-1"]
    assert w["DBInstanceClass"] == "db.r6g.large"
    assert len(calls_of(aws, "RestoreDBClusterFromSnapshot")) == 1


def test_restore_cluster_writer_name_taken_is_a_failure(world, aws):
    ev = aurora_world(world)
    world.create_db("snapferry-aurora1-instance-1", account="backup", encrypted=False)
    rc, res, _ = ferry_then_keeper(world, ev, RESTORE="on")
    assert rc == 1 and res["errorType"] == "Snapferry.NameConflict", res
    assert "snapferry-aurora1-instance-1" in res["errorMessage"]
    assert "outside cluster snapferry-aurora1" in res["errorMessage"]


def test_restore_never_adds_a_writer_to_someone_elses_cluster(world, aws):
    ev = aurora_world(world)
    # A cluster of that name that snapferry did not restore, without instances.
    world.create_cluster("snapferry-aurora1", account="backup")
    rc, res, _ = ferry_then_keeper(world, ev, RESTORE="on")
    assert rc == 0 and res["outcome"] == "done", res
    assert any("already exists" in s for s in res["steps"]), res["steps"]
    assert not calls_of(aws, "CreateDBInstance", world.backup_account)
    assert not calls_of(aws, "RestoreDBClusterFromSnapshot")


def test_manual_restore_of_a_cluster(world, aws):
    rc, res, _ = run_event(world, aurora_world(world))
    assert res["outcome"] == "done", res
    mark = max(c["seq"] for c in aws.calls())
    rc, res, _ = keeper(world, {"action": "restore", "db": "aurora1"}, DRY_RUN="true")
    assert rc == 0 and res["outcome"] == "done", res
    assert any(s.startswith(f"would:RestoreDBClusterFromSnapshot "
                            f"{fs.bid(world, 'aurora1-snap', cluster=True)} -> "
                            "snapferry-aurora1") for s in res["steps"]), res["steps"]
    assert any(s.startswith("would:CreateDBInstance snapferry-aurora1-instance-1 in cluster "
                            "snapferry-aurora1 class=db.r5.large") for s in res["steps"])
    assert not [c for c in aws.calls(since=mark) if c["action"] in MUTATING |
                {"CreateDBInstance"}]
    rc, res, _ = keeper(world, {"action": "restore", "db": "aurora1"})
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == fs.bid(world, "aurora1-snap", cluster=True)
    assert res["restored"] == "snapferry-aurora1"
    _, members, w = cluster_and_writer(world, "snapferry-aurora1")
    assert members == ["snapferry-aurora1-instance-1"] and w["PubliclyAccessible"] is False
    # Never over an existing cluster; another target gets its own writer.
    rc, res, _ = keeper(world, {"action": "restore", "db": "aurora1"})
    assert rc == 1 and res["errorType"] == "Snapferry.TargetExists", res
    rc, res, _ = keeper(world, {"action": "restore", "db": "aurora1",
                                   "target": "aurora1-dr"})
    assert rc == 0 and res["restored"] == "aurora1-dr", res
    _, members, w = cluster_and_writer(world, "aurora1-dr")
    assert members == ["aurora1-dr-instance-1"]
    assert [c["params"]["DBInstanceIdentifier"] for c in calls_of(aws, "CreateDBInstance",
                                                                  world.backup_account)] \
        == ["snapferry-aurora1-instance-1", "aurora1-dr-instance-1"]
def test_restore_on_aurora_cluster_keeps_the_engine_version(world, aws):
    """AWS restores a cluster snapshot at the Region's default engine version unless
    EngineVersion is given: the restore passes the backup copy's version."""
    world.create_cluster("aurora2", engine_version="15.4")
    world.create_cluster_snapshot("aurora2", "aurora2-snap")
    ev = snapshot_event(world, "aurora2-snap", "RDS-EVENT-0075", cluster=True)
    rc, res, _ = ferry_then_keeper(world, ev, RESTORE="on")
    assert rc == 0 and res["outcome"] == "done", res
    (b,) = [s for s in world.admin("rds", "backup").describe_db_cluster_snapshots(
        DBClusterSnapshotIdentifier=fs.bid(world, "aurora2-snap", cluster=True))["DBClusterSnapshots"]]
    assert b["EngineVersion"] == "15.4"
    (restore,) = calls_of(aws, "RestoreDBClusterFromSnapshot")
    assert restore["params"]["EngineVersion"] == "15.4"
    cl, members, w = cluster_and_writer(world, "snapferry-aurora2")
    assert cl["EngineVersion"] == "15.4"
    # The disaster-day restore too.
    rc, res, _ = keeper(world, {"action": "restore", "db": "aurora2",
                                   "target": "aurora2-dr"})
    assert rc == 0 and res["outcome"] == "done", res
    assert calls_of(aws, "RestoreDBClusterFromSnapshot")[-1]["params"]["EngineVersion"] == \
        "15.4"
    cl, _, _ = cluster_and_writer(world, "aurora2-dr")
    assert cl["EngineVersion"] == "15.4"


"""Issue 12 at fleet size, on the keeper's side: three production accounts ferry into one
backup account; the keeper (SNAPFERRY_MODE=keeper) runs in the backup account under AWS's
Runtime Interface Emulator, against moto with the fidelity layer. The ferries run as
`bootstrap --event -` with each production account's own credentials (test_org.py runs
them under the emulator; here they only make the copies the keeper works on).

The emulator's function ARN is always in account 012345678912: here that is the backup
account (the keeper's own), as in test_keeper.py.

What is proved: the snapshot-quota metric (DescribeAccountAttributes) counts every
account's copies; a quota refusal in the backup account leaves a ferry `pending` with its
metric; retention never crosses accounts with same-named DBs; a restore picks the named
account's copy, or answers Snapferry.Ambiguous; RESTORE=on restores same-named DBs of two
accounts into two distinct targets."""
import pytest

import ferry_support as fs
from ferry_support import run_event, snapshot_event, SWEEP
from test_keeper import RIE_ACCOUNT, days_ago, invoke, keeper_logs, scheduled, start_keeper

OTHERS = ("444455556666", "777788889999")


@pytest.fixture
def fleet(aws):
    """[World] of three production accounts, each with DB `proddb` (build_world's) and
    its snapshot `proddb-manual-1`, all ferrying into the one backup account."""
    from fidelity.world import build_world
    w = build_world(aws.endpoint, backup_account=RIE_ACCOUNT)
    return [w] + [fs.add_production_account(w, a, db="proddb", snapshot=w.snapshot_id)
                  for a in OTHERS]


def ferry(w, snapshot_id):
    rc, res, logs = run_event(w, snapshot_event(w, snapshot_id))
    assert rc == 0, res
    return res, logs


def quota_metrics(logs):
    return [(m[1], m[2]) for m in fs.metrics(logs) if m[0] == "BackupSnapshotQuotaUsedPercent"]


def test_quota_metric_counts_every_accounts_copies(fleet, aws, start_rie):
    w = fleet[0]
    aws.snapshot_quota(w.backup_account, w.region, 8)
    for p in fleet:
        res, _ = ferry(p, p.snapshot_id)
        assert res["outcome"] == "done", res
    # One Aurora copy too: ManualClusterSnapshots is a quota of its own.
    w.create_cluster("prodcl")
    w.create_cluster_snapshot("prodcl", "prodcl-manual-1")
    rc, res, _ = run_event(w, snapshot_event(w, "prodcl-manual-1", "RDS-EVENT-0075", cluster=True))
    assert rc == 0 and res["outcome"] == "done", res
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, scheduled(w))
    assert res["outcome"] == "done", res
    # 3 of 8 instance copies (every account's), 1 of 8 cluster copies: the higher, 37.5 %.
    assert res["snapshotQuotaUsedPercent"] == pytest.approx(37.5), res
    assert quota_metrics(keeper_logs(keeper)) == [(pytest.approx(37.5), {})]
    (call,) = aws.calls(action="DescribeAccountAttributes")
    assert call["account"] == w.backup_account
    # What the fidelity layer answers is what AWS documents (AccountQuotas, Used/Max).
    q = {x["AccountQuotaName"]: x for x in
         w.backup("rds").describe_account_attributes()["AccountQuotas"]}
    assert (q["ManualSnapshots"]["Used"], q["ManualSnapshots"]["Max"]) == (3, 8)
    assert (q["ManualClusterSnapshots"]["Used"], q["ManualClusterSnapshots"]["Max"]) == (1, 8)


def test_unreadable_quota_is_a_warning_not_a_failed_sweep(fleet, aws, start_rie):
    w = fleet[0]
    res, _ = ferry(w, w.snapshot_id)
    assert res["outcome"] == "done", res
    aws.inject("DescribeAccountAttributes", "AccessDenied", status=403,
               account=w.backup_account)
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, scheduled(w))
    assert res["outcome"] == "done", res
    assert "snapshotQuotaUsedPercent" not in res
    assert any("DescribeAccountAttributes" in x and "AccessDenied" in x
               for x in res["warnings"]), res
    assert not quota_metrics(keeper_logs(keeper))
    # The next sweep reads it again.
    res = invoke(keeper, scheduled(w))
    assert res["snapshotQuotaUsedPercent"] == pytest.approx(1.0), res


def test_quota_refusal_in_the_backup_account_stays_pending(fleet, aws, start_rie):
    w = fleet[0]
    aws.snapshot_quota(w.backup_account, w.region, 2)
    for p in fleet[:2]:
        res, _ = ferry(p, p.snapshot_id)
        assert res["outcome"] == "done", res
    third = fleet[2]
    res, logs = ferry(third, third.snapshot_id)
    assert res["outcome"] == "pending", res
    assert "SnapshotQuotaExceeded" in res["reason"], res
    assert "QuotaExceeded" in {m[0] for m in fs.metrics(logs)}
    bid = fs.backup_id(third.snapshot_id, third.prod_account, w.region)
    assert bid not in fs.instance_snapshots(w, "backup")
    # The keeper shows the full quota.
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, scheduled(w))
    assert res["snapshotQuotaUsedPercent"] == pytest.approx(100.0), res
    # Raised: the next trigger ferries it.
    aws.snapshot_quota(w.backup_account, w.region, 100)
    res, _ = ferry(third, third.snapshot_id)
    assert res["outcome"] == "done", res
    assert bid in fs.instance_snapshots(w, "backup")


def test_retention_never_crosses_accounts_at_fleet_size(fleet, aws, start_rie):
    """3 accounts x 2 same-named DBs x 4 copies 40, 30, 20 and 10 days old;
    RETENTION_DAYS=7 and RETENTION_MIN_COPIES=1: each (account, DB) keeps its newest."""
    w = fleet[0]
    newest, old = {}, set()
    for p in fleet:
        p.create_db("orders")
        for db in ("proddb", "orders"):
            for i, age in enumerate((40, 30, 20, 10)):
                sid = f"{db}-fleet-{i}"
                p.create_snapshot(db, sid)
                aws.snapshot_time(p.prod_account, w.region, sid, days_ago(age))
                res, _ = ferry(p, sid)
                assert res["outcome"] == "done", res
                b = fs.backup_id(sid, p.prod_account, w.region)
                if age == 10:
                    newest[(p.prod_account, db)] = b
                else:
                    old.add(b)
    before = fs.instance_snapshots(w, "backup")
    assert set(newest.values()) | old <= set(before)
    keeper = start_keeper(start_rie, w, RETENTION_DAYS="7", RETENTION_MIN_COPIES="1")
    res = invoke(keeper, scheduled(w))
    assert res["outcome"] == "done", res
    left = fs.instance_snapshots(w, "backup")
    assert not old & set(left), sorted(old & set(left))
    for (account, db), b in newest.items():
        assert b in left, (account, db)
        assert left[b]["SourceDBSnapshotIdentifier"].split(":")[4] == account
        assert left[b]["DBInstanceIdentifier"] == db
    groups = {(f["account"], f["db"]) for f in res["freshness"]}
    assert groups >= set(newest), res["freshness"]
    assert res["counts"]["retentionDeleted"] >= len(old), res


def test_restore_picks_the_named_accounts_copy_or_is_ambiguous(fleet, aws, start_rie):
    copies = {}
    for p in fleet[:2]:
        res, _ = ferry(p, p.snapshot_id)
        assert res["outcome"] == "done", res
        copies[p.prod_account] = fs.backup_id(p.snapshot_id, p.prod_account, p.region)
    w = fleet[0]
    keeper = start_keeper(start_rie, w)
    res = invoke(keeper, {"action": "restore", "db": "proddb"})
    assert res["errorType"] == "Snapferry.Ambiguous", res
    for a in OTHERS[:1]:
        assert a in res["errorMessage"], res
    assert not aws.calls(action="RestoreDBInstanceFromDBSnapshot")
    res = invoke(keeper, {"action": "restore", "db": "proddb", "account": OTHERS[0],
                          "target": "proddb-from-other"})
    assert res["outcome"] == "done", res
    assert res["backup"] == copies[OTHERS[0]] and res["restored"] == "proddb-from-other"
    (call,) = aws.calls(action="RestoreDBInstanceFromDBSnapshot")
    assert call["params"]["DBSnapshotIdentifier"] == copies[OTHERS[0]]


def restore_id(db, account, region, prefix="snapferry"):
    """names_restore_id_of: "<prefix>-<db>-<8 hex of SHA-256 of '<account>:<region>'>",
    the same hex as that account's and region's backup copy ids."""
    import hashlib
    h = hashlib.sha256(f"{account}:{region}".encode()).hexdigest()[:8]
    return fs._sanitize(f"{prefix}-{db}-{h}", 63)


def test_restore_on_with_same_named_dbs_of_two_accounts(fleet, aws, start_rie):
    """RESTORE=on: two accounts' `proddb` restore into two DBs, each named with its
    account's hex; one account alone keeps "<prefix>-<db>"; the manual restore's
    "target" still wins."""
    w, other = fleet[0], fleet[1]
    copies = {}
    for p in (w, other):
        res, _ = ferry(p, p.snapshot_id)
        assert res["outcome"] == "done", res
        copies[p.prod_account] = fs.backup_id(p.snapshot_id, p.prod_account, p.region)
    # A DB name only one account has: no suffix.
    w.create_db("solo")
    w.create_snapshot("solo", "solo-1")
    res, _ = ferry(w, "solo-1")
    assert res["outcome"] == "done", res
    keeper = start_keeper(start_rie, w, RESTORE="on")
    # The copy-finished event of the other account's copy: its own target.
    res = invoke(keeper, snapshot_event(w, copies[other.prod_account], "RDS-EVENT-0197",
                                        account=w.backup_account))
    want_other = restore_id("proddb", other.prod_account, w.region)
    assert res["outcome"] == "done" and res["restored"] == want_other, res
    # The sweep: the first account's copy into its own, not over the other's.
    res = invoke(keeper, scheduled(w))
    assert res["outcome"] == "done", res
    restores = {c["params"]["DBSnapshotIdentifier"]: c["params"]["DBInstanceIdentifier"]
                for c in aws.calls(action="RestoreDBInstanceFromDBSnapshot")}
    want_own = restore_id("proddb", w.prod_account, w.region)
    assert restores == {copies[other.prod_account]: want_other,
                        copies[w.prod_account]: want_own,
                        fs.backup_id("solo-1", w.prod_account, w.region): "snapferry-solo"}
    assert want_own != want_other and len(want_own) <= 63
    assert want_own.endswith(copies[w.prod_account].rsplit("-", 1)[1])
    # The manual restore keeps "target".
    res = invoke(keeper, {"action": "restore", "db": "proddb", "account": w.prod_account,
                          "target": "proddb-dr"})
    assert res["outcome"] == "done" and res["restored"] == "proddb-dr", res


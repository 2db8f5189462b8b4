"""AWS API calls per event (issue 11, section 3), counted from the fidelity layer's call log:
upper bounds per case, so that a call coming back fails here, and the behaviour each cut
relies on. Counts, not timings. The events are served as Lambda serves them: one runtime
process under AWS's Runtime Interface Emulator (the own account from the function ARN, the
backup role's credentials cached for the process), as `make bench` counts them."""
import collections
import json

import pytest

import ferry_support as fs
from ferry_support import run_event, snapshot_event, SWEEP

RIE_ACCOUNT = "012345678912"    # the emulator's function ARN is in this account


def mark_of(aws):
    calls = aws.calls()
    return max(c["seq"] for c in calls) if calls else 0


def counted(aws, fn):
    """(what fn returns, the calls it caused)."""
    mark = mark_of(aws)
    res = fn()
    return res, aws.calls(since=mark)


def actions(calls):
    return collections.Counter(c["action"] for c in calls)


@pytest.fixture
def rie_world(aws):
    from fidelity.world import build_world
    return build_world(aws.endpoint, prod_account=RIE_ACCOUNT)


@pytest.fixture
def runtime(rie_world, start_rie):
    """One warm runtime process for rie_world's ferry: invoke(event) -> result."""
    emu = start_rie(fs.bootstrap_path(), rie_world.env())

    def invoke(event):
        status, res = emu.invoke_json(event)
        assert status == 200, res
        return res
    return invoke


def test_whole_flow_duplicate_and_automated_within_bounds(rie_world, aws, runtime):
    """aws/rds manual snapshot, whole flow: ≤ 10 calls warm (11 with the process's first
    AssumeRole); the same event again ≤ 4; an automated snapshot ≤ 10. Never a
    GetCallerIdentity (the function ARN names the account), never ListTagsForResource (the
    describe answers carry their TagList), one AssumeRole for the process."""
    w = rie_world
    res, cold = counted(aws, lambda: runtime(snapshot_event(w, w.snapshot_id)))
    assert res["outcome"] == "done", res
    assert len(cold) <= 11, actions(cold)
    assert actions(cold)["AssumeRole"] == 1, actions(cold)

    w.create_snapshot(w.db_id, "proddb-manual-2")
    res, warm = counted(aws, lambda: runtime(snapshot_event(w, "proddb-manual-2")))
    assert res["outcome"] == "done", res
    assert len(warm) <= 10, actions(warm)
    # T re-read after its copy, B's old name, T's attribute: none of them any more.
    assert actions(warm)["DescribeDBSnapshots"] <= 4, actions(warm)
    assert actions(warm)["DescribeDBSnapshotAttributes"] == 0, actions(warm)

    res, dup = counted(aws, lambda: runtime(snapshot_event(w, w.snapshot_id)))
    assert res["outcome"] == "done", res
    assert len(dup) <= 4, actions(dup)

    w.create_db("plaindb", encrypted=False)
    snap = aws.automated_snapshot(w.prod_account, w.region, "plaindb")
    res, auto = counted(aws, lambda: runtime(snapshot_event(w, snap["id"], "RDS-EVENT-0091")))
    assert res["outcome"] == "done", res
    assert len(auto) <= 10, actions(auto)

    every = cold + warm + dup + auto
    assert not [c for c in every if c["action"] in ("GetCallerIdentity", "ListTagsForResource")]
    assert actions(every)["AssumeRole"] == 1
    # Still the whole flow: B exists, T is kept un-shared (the base of the next incremental
    # copy, transit_chain.h), nothing left shared.
    for sid in (w.snapshot_id, "proddb-manual-2"):
        assert fs.bid(w, sid) in fs.instance_snapshots(w, "backup")
        t = fs.instance_snapshots(w, "prod")[fs.transit_id(sid)]
        assert fs.tags_of(w.admin("rds"), t["DBSnapshotArn"]).get("snapferry:transit-kept") == "true"
        assert fs.shared_with(w, fs.transit_id(sid), False) == []


def test_local_event_adds_only_sts(world, aws):
    """`--event` (a process of its own, no function ARN): the same flow plus one
    GetCallerIdentity and one AssumeRole, ≤ 12."""
    (rc, res, _), calls = counted(aws, lambda: run_event(
        world, snapshot_event(world, world.snapshot_id)))
    assert rc == 0 and res["outcome"] == "done", res
    assert len(calls) <= 12, actions(calls)
    assert actions(calls)["GetCallerIdentity"] == 1 and actions(calls)["AssumeRole"] == 1


def test_transit_copy_built_from_the_copy_answer_is_vetted(world, aws):
    """T is no longer read back after CopyDBSnapshot: the record comes from the answer and
    the tags the request set. The lineage check still runs on it: the result names T and
    the flow finishes; T, while it lived, carried exactly those lineage tags."""
    aws.hold(True)
    (rc, res, _), calls = counted(aws, lambda: run_event(
        world, snapshot_event(world, world.snapshot_id)))
    assert rc == 0 and res["outcome"] == "pending", res
    copy = [i for i, c in enumerate(calls) if c["action"] == "CopyDBSnapshot"]
    assert len(copy) == 1
    after = calls[copy[0] + 1:]
    assert not [c for c in after if c["action"] == "DescribeDBSnapshots"
                and c["params"].get("DBSnapshotIdentifier") == fs.transit_id(world.snapshot_id)]
    t = fs.instance_snapshots(world, "prod")[fs.transit_id(world.snapshot_id)]
    tags = fs.tags_of(world.admin("rds"), t["DBSnapshotArn"])
    assert tags["snapferry:role"] == "transit" and tags["snapferry:source-arn"] == \
        world.snapshot_arn, tags
    aws.release()
    aws.hold(False)
    rc, res, _ = run_event(world, SWEEP)
    if res.get("outcome") != "done":
        rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res


def test_new_name_wins_over_the_old_name_in_one_describe(world, aws):
    """Both B names exist (a copy under the name used before account-specific ids, and
    the current one): the one describe that asks for both takes the current one, and the
    event copies nothing."""
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id))
    assert rc == 0 and res["outcome"] == "done", res
    brds = world.admin("rds", "backup")
    old_id = fs.transit_id(world.snapshot_id)
    brds.copy_db_snapshot(SourceDBSnapshotIdentifier=res["backup"],
                          TargetDBSnapshotIdentifier=old_id)
    (rc, res, _), calls = counted(aws, lambda: run_event(
        world, snapshot_event(world, world.snapshot_id)))
    assert rc == 0 and res["outcome"] == "done", res
    assert res["backup"] == fs.bid(world, world.snapshot_id), res
    in_backup = [c for c in calls if c["account"] == world.backup_account
                 and c["action"] == "DescribeDBSnapshots"]
    assert len(in_backup) == 1, in_backup
    assert not [c for c in calls if c["action"] == "CopyDBSnapshot"]


def test_attribute_read_fails_then_sweep_converges(world, aws):
    """A directly shared source (unencrypted) still reads its share attribute before it
    is shared (a share its user made stays): that read failing is `pending`, and the next
    sweep finishes."""
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plain-snap")
    aws.inject("DescribeDBSnapshotAttributes", "ServiceUnavailable", status=503, count=3,
               account=world.prod_account)
    rc, res, _ = run_event(world, snapshot_event(world, "plain-snap"))
    assert rc == 0 and res["outcome"] == "pending", res
    rc, res, _ = run_event(world, SWEEP)
    if res.get("outcome") != "done":
        rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    assert fs.shared_with(world, "plain-snap") == []
    assert fs.bid(world, "plain-snap") in fs.instance_snapshots(world, "backup")


def test_steady_sweep_reads_no_attribute_per_source(world, aws):
    """60 finished sources shared directly (unencrypted): the steady-state sweep checks
    them for a share left behind in one listing of the backup account (SnapshotType
    shared), not 60 attribute reads; with one share left behind it takes it back. Bound:
    the listings' pages plus a constant."""
    world.create_db("plaindb", encrypted=False)
    aws.bulk_snapshots(world.prod_account, world.region, "plaindb", 60, prefix="plain")
    rc, res, _ = run_event(world, SWEEP)
    if res.get("outcome") != "done":
        rc, res, _ = run_event(world, SWEEP)
    assert rc == 0 and res["outcome"] == "done", res
    plain = sorted(s for s in fs.instance_snapshots(world, "prod") if s.startswith("plain"))
    assert len(plain) == 60
    left = plain[7]
    world.admin("rds").modify_db_snapshot_attribute(
        DBSnapshotIdentifier=left, AttributeName="restore", ValuesToAdd=[world.backup_account])
    (rc, res, _), calls = counted(aws, lambda: run_event(world, SWEEP))
    assert rc == 0 and res["outcome"] == "done", res
    a = actions(calls)
    assert a["DescribeDBSnapshotAttributes"] <= 1, a    # the left-behind one, in its advance
    shared = [c for c in calls if c["action"] == "DescribeDBSnapshots"
              and c["params"].get("SnapshotType") == "shared"]
    assert len(shared) == 1, shared
    assert fs.shared_with(world, left) == []
    assert res["counts"]["advanced"] == 1, res["counts"]
    # Steady: nothing left, nothing advanced; at most 2 + 1 + 1 + 1 listings + STS.
    (rc, res, _), calls = counted(aws, lambda: run_event(world, SWEEP))
    assert rc == 0 and res["outcome"] == "done" and res["counts"]["advanced"] == 0, res
    assert not [c for c in calls if c["action"] in ("DescribeDBSnapshotAttributes",
                                                     "ModifyDBSnapshotAttribute")]
    assert len(calls) <= 9, actions(calls)


def test_keeper_learns_its_account_once_per_process(world, aws, start_rie):
    """The keeper (no function ARN account: it acts in the account its credentials reach)
    asks STS once per runtime process, not once per invocation."""
    env = fs.keeper_env(world)
    env["LOG_LEVEL"] = "warn"
    emu = start_rie(fs.bootstrap_path(), env)
    ev = snapshot_event(world, fs.bid(world, world.snapshot_id), "RDS-EVENT-0197",
                        account=world.backup_account)
    mark = mark_of(aws)
    for _ in range(3):
        status, res = emu.invoke_json(ev)
        assert status == 200, res
        assert res.get("outcome") in ("ignored", "skipped", "done"), res
    calls = aws.calls(since=mark)
    assert actions(calls)["GetCallerIdentity"] == 1, actions(calls)
    assert json.dumps(res)    # a result document each time

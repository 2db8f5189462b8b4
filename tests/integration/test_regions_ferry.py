"""The ferry's side of several backup Regions (issue 10), against moto with the fidelity layer
(two accounts, AssumeRole, AWS's cross-Region rules, copies held `creating` per Region) through
the bootstrap's `--event` path, and under AWS's Runtime Interface Emulator.

When AWS_REGION is not one of BACKUP_REGIONS, the ferry copies the shared S or T to every Region
in one step (cross-account and cross-Region, each with that Region's key), and cleans up only
when every copy is available. When it is one of them, the ferry makes only that Region's copy:
the keepers of the others chain theirs from it (tests/integration for the keeper)."""
import concurrent.futures
import json

import ferry_support as fs
from ferry_support import run_event, snapshot_event, SWEEP

R1, R2 = "eu-west-1", "ap-southeast-2"   # the remote backup Regions (moto: names in one process)


def region_keys(world, regions):
    from fidelity.world import admin_client
    keys = {}
    for r in regions:
        kms = admin_client(world.endpoint, "kms", world.backup_account, r)
        keys[r] = kms.create_key(Description=f"snapferry backup key {r}")["KeyMetadata"]["Arn"]
    return keys


def regions_env(world, regions=(R1, R2), keys=None):
    """BACKUP_REGIONS with one key ARN per Region (world.env sets BACKUP_REGION: unset it)."""
    keys = keys or region_keys(world, [r for r in regions if r != world.region])
    if world.region in regions and world.region not in keys:
        keys[world.region] = world.backup_key_arn
    return {"BACKUP_REGION": "", "BACKUP_REGIONS": ",".join(regions),
            "BACKUP_KMS_KEY_ID": ",".join(keys[r] for r in regions)}, keys


def snaps(world, region, cluster=False, account=None):
    from fidelity.world import admin_client
    rds = admin_client(world.endpoint, "rds", account or world.backup_account, region)
    if cluster:
        return {s["DBClusterSnapshotIdentifier"]: s for s in rds.describe_db_cluster_snapshots(
            SnapshotType="manual")["DBClusterSnapshots"]}
    return {s["DBSnapshotIdentifier"]: s for s in rds.describe_db_snapshots(
        SnapshotType="manual")["DBSnapshots"]}


def tags(world, region, arn):
    from fidelity.world import admin_client
    return fs.tags_of(admin_client(world.endpoint, "rds", world.backup_account, region), arn)


def copies_by_region(res):
    return {c["region"]: c for c in res.get("copies", [])}


def backup_copies(aws, world, cluster=False, target=None):
    """The copy requests in the backup account (of B ${target} only, when given: a sweep
    also ferries moto's automated snapshot)."""
    op = "CopyDBClusterSnapshot" if cluster else "CopyDBSnapshot"
    key = "TargetDBClusterSnapshotIdentifier" if cluster else "TargetDBSnapshotIdentifier"
    return [c for c in aws.calls(action=op, account=world.backup_account)
            if target is None or c["params"].get(key) == target]


def assert_in_both(world, aws, keys, snap, cluster=False, regions=(R1, R2)):
    """One available B per Region, same deterministic id, that Region's key, the lineage and
    snapferry:source-region; none in the source Region; each a single step by ARN."""
    bid = fs.bid(world, snap, cluster)
    for r in regions:
        there = snaps(world, r, cluster)
        assert list(there) == [bid], (r, list(there))
        b = there[bid]
        assert b["Status"] == "available", b
        if b.get("StorageEncrypted", b.get("Encrypted")):
            assert b["KmsKeyId"] == keys[r], (r, b["KmsKeyId"])
        t = tags(world, r, b["DBClusterSnapshotArn" if cluster else "DBSnapshotArn"])
        assert t["snapferry:role"] == "backup" and t["snapferry:source-region"] == world.region
        assert t["snapferry:source-arn"].startswith(
            f"arn:aws:rds:{world.region}:{world.prod_account}:")
    assert not snaps(world, world.region, cluster), "no copy in the source Region"
    calls = backup_copies(aws, world, cluster)
    assert sorted(c["region"] for c in calls) == sorted(regions), calls
    src = "SourceDBClusterSnapshotIdentifier" if cluster else "SourceDBSnapshotIdentifier"
    assert all(c["params"][src].startswith("arn:aws:rds:") for c in calls), calls
    return bid


def assert_t_cleaned_up(world, t):
    """T after clean-up: un-shared and kept (tagged) as the base of the DB's next incremental
    copy (transit_chain.h), not deleted."""
    snap = fs.instance_snapshots(world, "prod").get(t)
    assert snap is not None, f"{t} is gone: the newest T of a DB is kept"
    assert fs.shared_with(world, t) == []
    assert fs.tags_of(world.admin("rds"), snap["DBSnapshotArn"]).get(
        "snapferry:transit-kept") == "true"


def assert_done_two(res, bid, regions=(R1, R2)):
    assert res["outcome"] == "done", res
    assert res["backup"] == bid, res
    by = copies_by_region(res)
    assert set(by) == set(regions), res.get("copies")
    assert all(by[r]["id"] == bid and by[r]["status"] == "available" for r in regions), by


# ---- every kind of source, two remote Regions, single step ------------------------------

def test_aws_rds_key_reaches_two_regions(world, aws):
    env, keys = regions_env(world)
    rc, res, logs = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    assert rc == 0, res
    bid = assert_in_both(world, aws, keys, world.snapshot_id)
    assert_done_two(res, bid)
    # One T (under the share key), shared once, un-shared and kept once both copies are in.
    prod_copies = [c for c in aws.calls(action="CopyDBSnapshot", account=world.prod_account)]
    assert len(prod_copies) == 1 and prod_copies[0]["params"]["KmsKeyId"] == world.share_key_arn
    assert_t_cleaned_up(world, fs.transit_id(world.snapshot_id))
    # The role is assumed once for both Regions.
    assert len(aws.calls(action="AssumeRole")) == 1
    # The start-up line names the Regions the ferry fills.
    (line,) = [l for l in logs if "ferryCopiesTo" in l]
    assert line["ferryCopiesTo"] == [R1, R2] and line["keepersChainTo"] == []
    assert not [l for l in logs if "copies only to" in l.get("message", "")]


def test_customer_key_reaches_two_regions(world, aws):
    env, keys = regions_env(world)
    key = world.create_key()
    world.create_db("cmkdb", kms_key_id=key["Arn"])
    world.create_snapshot("cmkdb", "cmkdb-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "cmkdb-snap"), **env)
    assert rc == 0, res
    assert_done_two(res, assert_in_both(world, aws, keys, "cmkdb-snap"))


def test_unencrypted_reaches_two_regions_and_is_unshared(world, aws):
    env, keys = regions_env(world)
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "plaindb-snap"), **env)
    assert rc == 0, res
    assert_done_two(res, assert_in_both(world, aws, keys, "plaindb-snap"))
    assert fs.shared_with(world, "plaindb-snap") == []
    # Shared once for both copies.
    shares = [c for c in aws.calls(action="ModifyDBSnapshotAttribute")
              if "ValuesToAdd.AttributeValue.1" in c["params"] or
              any(k.startswith("ValuesToAdd") for k in c["params"])]
    assert len(shares) == 1, shares


def test_automated_reaches_two_regions(world, aws):
    env, keys = regions_env(world)
    snap = aws.automated_snapshot(world.prod_account, world.region, world.db_id)
    sid = snap.get("id") or snap.get("DBSnapshotIdentifier") or snap["snapshot"]
    rc, res, _ = run_event(world, snapshot_event(world, sid, "RDS-EVENT-0091"), **env)
    assert rc == 0, res
    assert_done_two(res, assert_in_both(world, aws, keys, sid))
    assert res["transit"] == "snapferry-" + sid[4:]


def test_aurora_reaches_two_regions(world, aws):
    env, keys = regions_env(world)
    world.create_cluster("aurxr")
    world.create_cluster_snapshot("aurxr", "aurxr-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "aurxr-snap", "RDS-EVENT-0075",
                                                 cluster=True), **env)
    assert rc == 0, res
    assert_done_two(res, assert_in_both(world, aws, keys, "aurxr-snap", cluster=True))


# ---- the source Region is a destination: the chain is the keepers' ---------------------

def test_source_region_a_destination_makes_only_its_copy(world, aws):
    env, keys = regions_env(world, regions=(R1, world.region))
    rc, res, logs = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    assert rc == 0 and res["outcome"] == "done", res
    bid = fs.bid(world, world.snapshot_id)
    assert list(snaps(world, world.region)) == [bid]
    assert snaps(world, world.region)[bid]["KmsKeyId"] == world.backup_key_arn
    assert not snaps(world, R1), "R1's copy is the keeper's chain, not the ferry's"
    assert [c["region"] for c in backup_copies(aws, world)] == [world.region]
    assert any("chain" in s and world.region in s for s in res["steps"]), res["steps"]
    by = copies_by_region(res)
    assert by[world.region]["status"] == "available" and by[world.region]["by"] == "ferry"
    assert by[R1]["status"] == "chained" and by[R1]["by"] == "keeper", by
    (line,) = [l for l in logs if "ferryCopiesTo" in l]
    assert line["ferryCopiesTo"] == [world.region] and line["keepersChainTo"] == [R1]
    # The sweep is done with it: it does not look for the chained copy.
    rc, res, _ = run_event(world, SWEEP, **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert not snaps(world, R1)


# ---- one Region refuses the single step ---------------------------------------------------

def test_one_region_refused_fails_keeps_the_other_and_the_share(world, aws):
    """R2 refuses the single step the old way (AWS's code for it): failed, naming R2 and the
    fix; R1's copy is made and kept; T and its share stay while the refusal stands (the fix
    copies from them); one attempt per trigger, no loop.  Once R2 accepts, the next trigger
    copies there and cleans up."""
    env, keys = regions_env(world)
    aws.inject("CopyDBSnapshot", "InvalidParameterCombination", count=1,
               account=world.backup_account, region=R2,
               message="Cross-account cross-Region copy of an encrypted snapshot is not supported")
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    assert rc == 1, res
    assert res["errorType"] == "Snapferry.CrossRegionRefused", res
    msg = res["errorMessage"]
    assert f"add {world.region} to BACKUP_REGIONS" in msg and R2 in msg and R1 not in msg, msg
    bid = fs.bid(world, world.snapshot_id)
    assert snaps(world, R1)[bid]["Status"] == "available"
    assert not snaps(world, R2)
    t = fs.transit_id(world.snapshot_id)
    assert t in fs.instance_snapshots(world, "prod"), "T stays while a refusal stands"
    assert fs.shared_with(world, t) == [world.backup_account]
    assert len(backup_copies(aws, world)) == 2
    # AWS accepts now: the next trigger copies to R2 only (no second T), then cleans up.
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    assert rc == 0, res
    assert_done_two(res, bid)
    assert len(backup_copies(aws, world)) == 3
    assert len(aws.calls(action="CopyDBSnapshot", account=world.prod_account)) == 1
    assert_t_cleaned_up(world, t)


def test_share_of_an_earlier_invocation_is_not_taken_for_the_users(world, aws):
    """S (unencrypted) is shared by snapferry and copied to R1, but R2's copy fails; the next
    trigger finds S shared: R1's copy (without snapferry:shared-before) says the share is
    snapferry's, so R2's copy gets no shared-before tag either, and the share is taken back."""
    env, keys = regions_env(world)
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    aws.inject("CopyDBSnapshot", "InvalidParameterValue", count=1,
               account=world.backup_account, region=R2, message="injected")
    rc, res, _ = run_event(world, snapshot_event(world, "plaindb-snap"), **env)
    assert rc == 1 and res["errorType"] == "Snapferry.AWSError", res
    assert fs.shared_with(world, "plaindb-snap") == [world.backup_account]
    rc, res, _ = run_event(world, snapshot_event(world, "plaindb-snap"), **env)
    assert rc == 0, res
    bid = fs.bid(world, "plaindb-snap")
    assert_done_two(res, bid)
    for r in (R1, R2):
        b = snaps(world, r)[bid]
        assert "snapferry:shared-before" not in tags(world, r, b["DBSnapshotArn"]), r
    assert fs.shared_with(world, "plaindb-snap") == []
    assert not any("not by snapferry" in s for s in res["steps"]), res["steps"]


def test_name_conflict_in_one_region_names_it(world, aws):
    """A snapshot of B's name without snapferry's lineage in R2: failed (NameConflict)
    naming R2, never touched; the share and T stay (no clean-up before every copy is in)."""
    from fidelity.world import admin_client
    env, keys = regions_env(world)
    rds = admin_client(world.endpoint, "rds", world.backup_account, R2)
    rds.create_db_instance(DBInstanceIdentifier="someone", DBInstanceClass="db.t3.micro",
                           Engine="postgres", AllocatedStorage=20, MasterUsername="u",
                           MasterUserPassword="not-a-secret-1")
    bid = fs.bid(world, world.snapshot_id)
    rds.create_db_snapshot(DBInstanceIdentifier="someone", DBSnapshotIdentifier=bid)
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    assert rc == 1 and res["errorType"] == "Snapferry.NameConflict", res
    assert f"Region {R2}" in res["errorMessage"], res["errorMessage"]
    assert bid in snaps(world, R2) and not backup_copies(aws, world, target=bid)
    assert not [c for c in aws.calls(action="DeleteDBSnapshot", account=world.backup_account)]


def test_old_rule_refuses_both_regions_unencrypted_still_goes(world, aws):
    env, keys = regions_env(world)
    aws.rules(refuse_shared_encrypted_cross_region=True)
    try:
        rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), **env)
        assert rc == 1 and res["errorType"] == "Snapferry.CrossRegionRefused", res
        assert f"{R1}, {R2}" in res["errorMessage"], res["errorMessage"]
        assert len(backup_copies(aws, world)) == 2          # one attempt per Region
        world.create_db("plaindb", encrypted=False)
        world.create_snapshot("plaindb", "plaindb-snap")
        rc, res, _ = run_event(world, snapshot_event(world, "plaindb-snap"), **env)
        assert rc == 0 and res["outcome"] == "done", res
    finally:
        aws.rules(refuse_shared_encrypted_cross_region=False)


# ---- held copies, duplicates, concurrency, clean-up ------------------------------------------

def test_held_in_one_region_pending_no_cleanup_until_released(world, aws):
    env, keys = regions_env(world)
    aws.hold(True, accounts=[world.backup_account], regions=[R2])
    ev = snapshot_event(world, world.snapshot_id)
    rc, res, _ = run_event(world, ev, **env)
    assert rc == 0 and res["outcome"] == "pending", res
    bid = fs.bid(world, world.snapshot_id)
    assert f"{bid} is creating" in res["reason"] or f"{bid} in {R2}" in res["reason"], res
    assert R2 in res["reason"] and R1 not in res["reason"], res["reason"]
    by = copies_by_region(res)
    assert by[R1]["status"] == "available" and by[R2]["status"] == "creating", by
    t = fs.transit_id(world.snapshot_id)
    for _ in range(2):                  # repeated triggers: no clean-up, no second copy
        rc, res, _ = run_event(world, ev, **env)
        assert rc == 0 and res["outcome"] == "pending", res
        assert t in fs.instance_snapshots(world, "prod")
        assert fs.shared_with(world, t) == [world.backup_account]
    assert len(backup_copies(aws, world, target=bid)) == 2
    # The sweep agrees: not done while R2's copy is creating.
    rc, res, _ = run_event(world, SWEEP, **env)
    assert rc == 0 and res["outcome"] == "pending", res
    aws.release(region=R2)
    aws.hold(False)
    rc, res, _ = run_event(world, ev, **env)
    assert rc == 0, res
    assert_done_two(res, bid)
    assert_t_cleaned_up(world, t)
    assert len(backup_copies(aws, world, target=bid)) == 2


def test_failed_copy_in_one_region_is_retried_there_only(world, aws):
    """B ends failed in R2: the retry id (<B id>-r2) is copied in R2 only; R1's copy keeps
    its id; clean-up waits for the retry; the sweep then counts the source done."""
    env, keys = regions_env(world)
    aws.hold(True, accounts=[world.backup_account])
    ev = snapshot_event(world, world.snapshot_id)
    rc, res, _ = run_event(world, ev, **env)
    assert rc == 0 and res["outcome"] == "pending", res
    first = fs.bid(world, world.snapshot_id)
    fs.release(aws, "failed", account=world.backup_account, region=R2)
    fs.release(aws, "available", account=world.backup_account, region=R1)
    rc, res, _ = run_event(world, ev, **env)
    assert rc == 0 and res["outcome"] == "pending", res
    by = copies_by_region(res)
    assert by[R1] == {**by[R1], "id": first, "status": "available"}, by
    assert by[R2]["id"] == f"{first}-r2" and by[R2]["status"] == "creating", by
    assert res["backup"] == first and f"{first}-r2 in {R2}" in res["reason"], res
    assert fs.transit_id(world.snapshot_id) in fs.instance_snapshots(world, "prod")
    assert sorted((c["region"], c["params"]["TargetDBSnapshotIdentifier"])
                  for c in backup_copies(aws, world)) == sorted(
        [(R1, first), (R2, first), (R2, f"{first}-r2")])
    fs.release(aws, "available", account=world.backup_account, region=R2)
    aws.hold(False)
    rc, res, _ = run_event(world, ev, **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert copies_by_region(res)[R2]["id"] == f"{first}-r2"
    assert_t_cleaned_up(world, fs.transit_id(world.snapshot_id))
    assert not [c for c in aws.calls(action="DeleteDBSnapshot", account=world.backup_account)]


def test_wait_seconds_asks_for_every_copy_before_waiting(world, aws):
    """With WAIT_SECONDS, every Region's copy is requested before the invocation waits on
    any: they run side by side (held here, so the wait runs out: pending)."""
    env, keys = regions_env(world)
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    aws.hold(True, accounts=[world.backup_account])
    rc, res, _ = run_event(world, snapshot_event(world, "plaindb-snap"), WAIT_SECONDS="3",
                           **env)
    assert rc == 0 and res["outcome"] == "pending", res
    calls = {c["region"]: c for c in backup_copies(aws, world)}
    assert set(calls) == {R1, R2}, calls
    assert abs(calls[R2]["time"] - calls[R1]["time"]) < 1.5, calls


def test_duplicate_and_concurrent_events_make_one_copy_per_region(world, aws):
    env, keys = regions_env(world)
    aws.hold(True)
    ev = snapshot_event(world, world.snapshot_id)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: run_event(world, ev, **env), range(4)))
    assert {r["outcome"] for _, r, _ in results} == {"pending"}, results
    aws.release(region=world.region)        # T
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: run_event(world, ev, **env), range(4)))
    assert all(rc == 0 for rc, _, _ in results), [r for _, r, _ in results]
    assert {r["outcome"] for _, r, _ in results} == {"pending"}, results
    for r in (R1, R2):
        (b,) = snaps(world, r).values()
        assert b["Status"] == "creating"
    aws.release(region=R1)
    aws.release(region=R2)
    aws.hold(False)
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        results = list(ex.map(lambda _: run_event(world, ev, **env), range(3)))
    assert all(rc == 0 and r["outcome"] == "done" for rc, r, _ in results), results
    bid = fs.bid(world, world.snapshot_id)
    for r in (R1, R2):
        assert list(snaps(world, r)) == [bid]
    n = len(backup_copies(aws, world))
    rc, res, _ = run_event(world, ev, **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert len(backup_copies(aws, world)) == n


def test_sweep_is_done_only_with_every_region(world, aws):
    """The sweep reads B in every Region the ferry fills: a source with its copy in R1 only is
    advanced, and gets its R2 copy; then every source is done and nothing more is copied."""
    env1, keys = regions_env(world, regions=(R1,))
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    rc, res, _ = run_event(world, snapshot_event(world, "plaindb-snap"), **env1)
    assert rc == 0 and res["outcome"] == "done", res
    keys.update(region_keys(world, [R2]))
    env, _ = regions_env(world, keys=keys)
    rc, res, _ = run_event(world, SWEEP, **env)
    assert rc == 0 and res["outcome"] == "done", res
    bid = fs.bid(world, "plaindb-snap")
    assert bid in snaps(world, R2) and snaps(world, R2)[bid]["Status"] == "available"
    n = len(backup_copies(aws, world))
    rc, res, _ = run_event(world, SWEEP, **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert len(backup_copies(aws, world)) == n
    assert res["counts"]["advanced"] == 0, res["counts"]


def test_forwarded_copy_finished_event_of_either_region(world, aws):
    """A forwarded copy-finished event from either Region the ferry fills advances the
    source (the in-flight path reads B in the event's Region)."""
    env, keys = regions_env(world)
    aws.hold(True, accounts=[world.backup_account])
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), **env)
    assert res["outcome"] == "pending", res
    aws.release(account=world.backup_account)
    aws.hold(False)
    bid = fs.bid(world, world.snapshot_id)
    ev = snapshot_event(world, bid, "RDS-EVENT-0197", account=world.backup_account, region=R2)
    rc, res, _ = run_event(world, ev, **env)
    assert rc == 0 and res["outcome"] == "done", res
    assert any("forwarded" in s for s in res["steps"]), res["steps"]


# ---- DRY_RUN ---------------------------------------------------------------------------------

def test_dry_run_names_each_region(world, aws):
    env, keys = regions_env(world)
    rc, res, _ = run_event(world, snapshot_event(world, world.snapshot_id), DRY_RUN="true",
                           **env)
    assert rc == 0 and res["outcome"] == "pending", res
    would = [s for s in res["steps"] if s.startswith("would:CopyDBSnapshot")]
    assert any(f"Region {R1}" in s for s in would) and any(f"Region {R2}" in s for s in would), would
    assert any(keys[R1] in s for s in would) and any(keys[R2] in s for s in would), would
    assert R1 in res["reason"] and R2 in res["reason"], res["reason"]
    assert not backup_copies(aws, world)
    assert not [c for c in aws.calls(action="CopyDBSnapshot")], "a dry run copies nothing"


# ---- under the Runtime Interface Emulator ----------------------------------------------------

RIE_ACCOUNT = "012345678912"   # the account of the emulator's function ARN


def test_two_regions_under_rie(aws, start_rie):
    from fidelity.world import build_world
    world = build_world(aws.endpoint, prod_account=RIE_ACCOUNT)
    env, keys = regions_env(world)
    rie = start_rie(fs.bootstrap_path(), world.env(**env))
    aws.hold(True, accounts=[world.backup_account], regions=[R1])
    status, res = rie.invoke_json(snapshot_event(world, world.snapshot_id))
    assert status == 200 and res["outcome"] == "pending", json.dumps(res)
    assert copies_by_region(res)[R1]["status"] == "creating"
    aws.release(region=R1)
    aws.hold(False)
    status, res = rie.invoke_json(snapshot_event(world, world.snapshot_id))
    assert status == 200, res
    assert_done_two(res, assert_in_both(world, aws, keys, world.snapshot_id))

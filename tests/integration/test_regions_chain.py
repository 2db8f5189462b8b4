"""Issue 10, the chain: BACKUP_REGIONS lists the source Region s and another Region r. The
ferry (production) makes B_s in the backup account in s; the keeper of r (SNAPFERRY_MODE=
keeper, deployed in r with BACKUP_REGIONS and its own Region's key) copies B_s -> B_r, a
same-account cross-Region copy inside the backup account that needs nothing of production.

moto with the fidelity layer is one process: the second Region is a name in it. The keeper
runs under AWS's Runtime Interface Emulator (whose function ARN is in 012345678912, the
backup account here, as in test_keeper.py) or as `bootstrap --event -`.
"""
import concurrent.futures
import datetime
import json

import pytest

import ferry_support as fs
from ferry_support import run_event, run_env, snapshot_event

RIE_ACCOUNT = "012345678912"
R = "eu-west-1"                 # the keeper's Region (the source Region is world.region)
CHAIN = {"action": "chain"}


@pytest.fixture
def kworld(aws):
    from fidelity.world import build_world
    return build_world(aws.endpoint, backup_account=RIE_ACCOUNT)


class Two:
    """The two-Region backup account: the backup key of r, and both keepers' setup."""

    def __init__(self, w):
        from fidelity.world import admin_client
        self.w = w
        self.kms_r = admin_client(w.endpoint, "kms", w.backup_account, R)
        self.key_r = self.kms_r.create_key(Description="snapferry backup key, r")["KeyMetadata"]
        self.rds_r = admin_client(w.endpoint, "rds", w.backup_account, R)
        self.regions = f"{w.region},{R}"

    def ferry_env(self, **kw):
        """The ferry in s: BACKUP_REGIONS names both, a key per Region."""
        env = dict(BACKUP_REGION="", BACKUP_REGIONS=self.regions,
                   BACKUP_KMS_KEY_ID=f"{self.w.backup_key_arn},{self.key_r['Arn']}")
        env.update(kw)
        return env

    def keeper_env(self, **kw):
        env = fs.keeper_env(self.w, AWS_REGION=R, AWS_DEFAULT_REGION=R,
                            BACKUP_REGIONS=self.regions, BACKUP_KMS_KEY_ID=self.key_r["Arn"],
                            LOG_LEVEL="debug")
        env.update({k: str(v) for k, v in kw.items()})
        return env

    def ferry(self, snapshot_id, event_id="RDS-EVENT-0042", cluster=False):
        rc, res, _ = run_event(self.w, snapshot_event(self.w, snapshot_id, event_id,
                                                      cluster=cluster), **self.ferry_env())
        assert rc == 0 and res["outcome"] == "done", res
        return res["backup"]

    def chain(self, env=None, event=CHAIN):
        rc, res, logs = run_env(env or self.keeper_env(), event)
        assert rc == 0, res
        assert res["mode"] == "keeper", res
        return res, logs

    def snaps(self, region, cluster=False):
        rds = self.rds_r if region == R else self.w.admin("rds", "backup")
        if cluster:
            return {s["DBClusterSnapshotIdentifier"]: s for s in
                    rds.describe_db_cluster_snapshots(SnapshotType="manual")[
                        "DBClusterSnapshots"]}
        return {s["DBSnapshotIdentifier"]: s for s in
                rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}

    def tags(self, region, arn):
        rds = self.rds_r if region == R else self.w.admin("rds", "backup")
        return fs.tags_of(rds, arn)


def copies_in(aws, account, region, since=0):
    return [c for c in aws.calls(account=account, since=since)
            if c["action"] in ("CopyDBSnapshot", "CopyDBClusterSnapshot")
            and c["region"] == region]


def days_ago(days):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_chained(two, b_id, cluster=False, encrypted=True):
    """B_r: same id, AWS's source is B_s (this account, Region s), the same lineage tags
    plus snapferry:chained-from, the key of r."""
    w = two.w
    arn_key = "DBClusterSnapshotArn" if cluster else "DBSnapshotArn"
    src_key = "SourceDBClusterSnapshotArn" if cluster else "SourceDBSnapshotIdentifier"
    b_s = two.snaps(w.region, cluster)[b_id]
    b_r = two.snaps(R, cluster)[b_id]
    assert b_r["Status"] == "available", b_r
    assert b_r[src_key] == b_s[arn_key]
    if not cluster:
        assert b_r["SourceRegion"] == w.region
    if encrypted:
        assert b_r["KmsKeyId"] == two.key_r["Arn"]
    t_s, t_r = two.tags(w.region, b_s[arn_key]), two.tags(R, b_r[arn_key])
    assert t_r.pop("snapferry:chained-from") == w.region
    assert t_r == t_s
    assert t_s["snapferry:source-arn"].split(":")[3] == w.region
    return b_r


# ---- every kind of source reaches both Regions -----------------------------------------------

def test_chain_every_kind_of_snapshot(kworld, aws, start_rie):
    w = kworld
    two = Two(w)
    key = w.create_key()
    w.create_db("cmkdb", kms_key_id=key["Arn"])
    w.create_snapshot("cmkdb", "cmkdb-snap")
    w.create_db("plaindb", encrypted=False)
    w.create_snapshot("plaindb", "plaindb-snap")
    auto = aws.automated_snapshot(w.prod_account, w.region, w.db_id)
    auto_id = auto.get("id") or auto.get("DBSnapshotIdentifier") or auto["snapshot"]
    w.create_cluster("aurora1")
    w.create_cluster_snapshot("aurora1", "aurora1-snap")
    w.create_cluster("plainaurora", encrypted=False)
    w.create_cluster_snapshot("plainaurora", "plainaurora-snap")

    made = [two.ferry(w.snapshot_id), two.ferry("cmkdb-snap"), two.ferry("plaindb-snap"),
            two.ferry(auto_id, "RDS-EVENT-0091")]
    cmade = [two.ferry("aurora1-snap", "RDS-EVENT-0075", cluster=True),
             two.ferry("plainaurora-snap", "RDS-EVENT-0075", cluster=True)]
    # The ferry made B_s only, in s; nothing in r yet (its keeper's work).
    assert set(made) <= set(two.snaps(w.region)) and not two.snaps(R)
    assert not copies_in(aws, w.backup_account, R)

    # The keeper of r, under the emulator: {"action":"chain"}.
    mark = max(c["seq"] for c in aws.calls())
    keeper = start_rie(fs.bootstrap_path(), two.keeper_env())
    status, res = keeper.invoke_json(CHAIN)
    assert status == 200 and res["outcome"] == "done" and res["mode"] == "keeper", res
    assert res["chain"]["started"] == 6 and res["chain"]["sources"] == 6, res
    for b in made:
        assert_chained(two, b)
    assert_chained(two, cmade[0], cluster=True)
    assert_chained(two, cmade[1], cluster=True, encrypted=False)
    # Only the backup account acted, only its own copies were read, sources by ARN.
    calls = aws.calls(since=mark)
    assert {c["account"] for c in calls} <= {w.backup_account}
    for c in copies_in(aws, w.backup_account, R, mark):
        src = c["params"].get("SourceDBSnapshotIdentifier") or c["params"][
            "SourceDBClusterSnapshotIdentifier"]
        assert src.startswith(f"arn:aws:rds:{w.region}:{w.backup_account}:")
    encrypted = [c for c in copies_in(aws, w.backup_account, R, mark)
                 if c["params"].get("KmsKeyId")]
    assert {c["params"]["KmsKeyId"] for c in encrypted} == {two.key_r["Arn"]}

    # Again: nothing more to copy.
    mark = max(c["seq"] for c in aws.calls())
    status, res = keeper.invoke_json(CHAIN)
    assert res["outcome"] == "done" and res["chain"]["started"] == 0, res
    assert res["chain"]["present"] == 6, res
    assert not copies_in(aws, w.backup_account, R, mark)

    # The keeper of r's sweep groups the chained copies by their lineage (production
    # account, source Region s, DB), no lineage mismatch; the keeper of s never chains
    # the chained copies back (they are r's, and a chain copy is never chained again).
    status, res = keeper.invoke_json({"action": "sweep"})
    assert res["outcome"] == "done", res
    assert res["counts"]["lineageMismatches"] == 0 and res["counts"]["available"] == 6, res
    fresh = {(f["account"], f["region"], f["db"]) for f in res["freshness"]}
    assert fresh == {(w.prod_account, w.region, db) for db in
                     (w.db_id, "cmkdb", "plaindb", "aurora1", "plainaurora")}
    mark = max(c["seq"] for c in aws.calls())
    rc, res_s, _ = run_env(fs.keeper_env(w, BACKUP_REGIONS=two.regions,
                                         BACKUP_KMS_KEY_ID=w.backup_key_arn), CHAIN)
    assert rc == 0 and res_s["outcome"] == "done" and res_s["chain"]["started"] == 0, res_s
    assert res_s["chain"]["sources"] == 0, res_s      # every copy in r is a chained one
    assert not copies_in(aws, w.backup_account, w.region, mark)
    log = keeper.log()
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert bad not in log, log[-4000:]         # SNAPFERRY_VARIANT=asan


# ---- AWS refusing the single step the old way ------------------------------------------------

def test_single_step_refused_the_chain_still_works(kworld, aws):
    """Where AWS still refuses a cross-account cross-Region copy of an encrypted shared
    snapshot (fidelity switch), the chain is the way: B_s is a same-Region copy, B_r a
    same-account one, and both are made."""
    w = kworld
    two = Two(w)
    aws.rules(refuse_shared_encrypted_cross_region=True)
    try:
        b = two.ferry(w.snapshot_id)
        res, _ = two.chain()
        assert res["outcome"] == "done" and res["chain"]["started"] == 1, res
        assert_chained(two, b)
    finally:
        aws.rules(refuse_shared_encrypted_cross_region=False)


# ---- production gone after B_s exists --------------------------------------------------------

def test_production_gone_the_keeper_still_completes(kworld, aws):
    w = kworld
    two = Two(w)
    b = two.ferry(w.snapshot_id)
    aws.gone([w.prod_account])
    # Production is gone: its function can do nothing any more ...
    rc, res, _ = run_event(w, snapshot_event(w, w.snapshot_id), **two.ferry_env())
    assert res is None or res.get("outcome") != "done", res
    # ... the keeper of r completes B_r on its own.
    res, _ = two.chain()
    assert res["outcome"] == "done" and res["chain"]["started"] == 1, res
    assert_chained(two, b)
    aws.gone([w.prod_account], gone=False)


def test_gone_switch_refuses_everything_production_signs(kworld, aws):
    """The fidelity switch itself: every call production signs is refused, and its shared
    snapshots are out of the backup account's reach."""
    from botocore.exceptions import ClientError
    w = kworld
    aws.gone([w.prod_account])
    with pytest.raises(ClientError) as e:
        w.prod("rds").describe_db_snapshots()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        w.admin("rds", "backup").copy_db_snapshot(
            SourceDBSnapshotIdentifier=w.snapshot_arn, TargetDBSnapshotIdentifier="x-copy",
            KmsKeyId=w.backup_key_arn)
    assert "NotFound" in e.value.response["Error"]["Code"]
    assert aws.gone([w.prod_account], gone=False) == []
    assert w.prod("rds").describe_db_snapshots()["DBSnapshots"]


# ---- held copies, duplicate and concurrent runs ----------------------------------------------

def test_held_copy_duplicate_and_concurrent_runs_make_one_copy(kworld, aws):
    w = kworld
    two = Two(w)
    b = two.ferry(w.snapshot_id)
    aws.hold(True, accounts=[w.backup_account], regions=[R])
    env = two.keeper_env()
    # Three keepers of r at once (a schedule overlapping a manual run).
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        results = list(ex.map(lambda _: run_env(env, CHAIN), range(3)))
    for rc, res, _ in results:
        assert rc == 0 and res["outcome"] == "done", res
    assert sum(res["chain"]["started"] for _, res, _ in results) == 1, results
    ok = [c for c in copies_in(aws, w.backup_account, R) if c["status"] == 200]
    assert len(ok) == 1
    assert two.snaps(R)[b]["Status"] == "creating"
    # Held: the next runs see the copy in flight and make no second one.
    mark = max(c["seq"] for c in aws.calls())
    res, _ = two.chain()
    assert res["chain"]["started"] == 0 and res["chain"]["present"] == 1, res
    assert res["chain"]["inFlight"] == 1, res
    assert not copies_in(aws, w.backup_account, R, mark)
    fs.release(aws, account=w.backup_account, region=R)
    aws.hold(False)
    assert_chained(two, b)


def test_failed_chained_copy_is_copied_again_under_the_next_attempt_id(kworld, aws):
    w = kworld
    two = Two(w)
    b = two.ferry(w.snapshot_id)
    aws.hold(True, accounts=[w.backup_account], regions=[R])
    res, _ = two.chain()
    assert res["chain"]["started"] == 1, res
    (gone,) = fs.release(aws, "failed", account=w.backup_account, region=R)
    assert gone["id"] == b
    aws.hold(False)
    # AWS deletes no failed snapshot: its id stays taken; the chain copies as <b>-r2.
    res, _ = two.chain()
    assert res["outcome"] == "done" and res["chain"]["started"] == 1, res
    assert any(f"-> {b}-r2 (chain from {w.region})" in s for s in res["steps"]), res
    snaps = two.snaps(R)
    assert snaps[b]["Status"] == "failed" and snaps[f"{b}-r2"]["Status"] == "available"
    # The retry is a chained copy like the first: same lineage, attributed, no mismatch.
    rc, res, _ = run_env(two.keeper_env(), {"action": "sweep"})
    assert res["counts"]["lineageMismatches"] == 0, res
    (fresh,) = res["freshness"]
    assert fresh["newest"] == f"{b}-r2" and fresh["region"] == w.region


# ---- names and tags that are not ours --------------------------------------------------------

def test_name_taken_without_our_lineage_is_never_touched(kworld, aws):
    w = kworld
    two = Two(w)
    b = two.ferry(w.snapshot_id)
    # Someone else's snapshot under that name in r (no lineage).
    two.rds_r.copy_db_snapshot(SourceDBSnapshotIdentifier=two.snaps(w.region)[b]["DBSnapshotArn"],
                               TargetDBSnapshotIdentifier=b, KmsKeyId=two.key_r["Arn"])
    mark = max(c["seq"] for c in aws.calls())
    res, _ = two.chain()
    # Its name is not in our lineage set: the copy is tried, AlreadyExists, and the
    # snapshot there is reported, never deleted nor tagged.
    assert res["chain"]["started"] == 0, res
    (item,) = res["chain"]["notCopied"]
    assert item["snapshot"] == b and "never touched" in item["reason"], res
    for action in ("DeleteDBSnapshot", "AddTagsToResource", "RemoveTagsFromResource"):
        assert not aws.calls(action=action, since=mark), action


def test_forged_chained_tag_is_a_lineage_mismatch(kworld, aws):
    """A copy in r claiming snapferry:chained-from with a lineage its AWS-recorded source
    does not have (the source id is not that lineage's backup id) is kept and reported."""
    w = kworld
    two = Two(w)
    b = two.ferry(w.snapshot_id)
    src = two.snaps(w.region)[b]
    tags = two.tags(w.region, src["DBSnapshotArn"])
    tags["snapferry:chained-from"] = w.region
    tags["snapferry:source-arn"] = tags["snapferry:source-arn"].replace(
        w.prod_account, "444455556666")
    two.rds_r.copy_db_snapshot(SourceDBSnapshotIdentifier=src["DBSnapshotArn"],
                               TargetDBSnapshotIdentifier="snapferry-forged",
                               KmsKeyId=two.key_r["Arn"],
                               Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    # A copy claiming B_s's very lineage, which AWS's record does not back (its source is
    # the backup account's B_s, no chained-from): it does not stand for the source here.
    two.rds_r.copy_db_snapshot(SourceDBSnapshotIdentifier=src["DBSnapshotArn"],
                               TargetDBSnapshotIdentifier="snapferry-planted",
                               KmsKeyId=two.key_r["Arn"],
                               Tags=[{"Key": k, "Value": v} for k, v in
                                     two.tags(w.region, src["DBSnapshotArn"]).items()])
    rc, res, _ = run_env(two.keeper_env(RETENTION_DAYS="7"), {"action": "sweep"})
    assert res["counts"]["lineageMismatches"] == 2, res
    reasons = {m["snapshot"]: m["reason"] for m in res["lineageMismatches"]}
    assert "AWS's source" in reasons["snapferry-forged"], reasons
    assert "account 012345678912" in reasons["snapferry-planted"], reasons
    # ... so the chain of that sweep made the real B_r, and kept both.
    assert res["chain"]["started"] == 1, res
    assert {"snapferry-forged", "snapferry-planted", b} <= set(two.snaps(R))
    assert_chained(two, b)


# ---- retention per Region --------------------------------------------------------------------

def test_retention_per_region_and_no_resurrection(kworld, aws):
    w = kworld
    two = Two(w)
    made = {}
    for sid, days in ((w.snapshot_id, 40), ("proddb-m2", 20), ("proddb-m3", 3)):
        if sid != w.snapshot_id:
            w.create_snapshot(w.db_id, sid)
        aws.snapshot_time(w.prod_account, w.region, sid, days_ago(days))
        made[days] = two.ferry(sid)
    # Retention of r: 30 days. The chain copies what is within the window only: the copy
    # of data 40 days old never reaches r (retention there would delete it at once).
    res, _ = two.chain(two.keeper_env(RETENTION_DAYS="30"))
    assert res["chain"]["started"] == 2 and res["chain"]["outsideRetention"] == 1, res
    assert set(two.snaps(R)) == {made[20], made[3]}

    # RETENTION_DAYS=10 with RETENTION_MIN_COPIES=2 in r: the minimum is per Region, both
    # stay (the 40-day copy in s is not r's to count).
    rc, res, _ = run_env(two.keeper_env(RETENTION_DAYS="10", RETENTION_MIN_COPIES="2"),
                         {"action": "sweep"})
    assert res["outcome"] == "done" and res["counts"]["retentionDeleted"] == 0, res
    assert set(two.snaps(R)) == {made[20], made[3]}

    # RETENTION_MIN_COPIES=1: the 20-day copy goes in r; the same sweep's chain does not
    # bring it back (outside the window), nor a later chain run.
    rc, res, _ = run_env(two.keeper_env(RETENTION_DAYS="10"), {"action": "sweep"})
    assert res["outcome"] == "done" and res["counts"]["retentionDeleted"] == 1, res
    assert res["chain"]["started"] == 0 and res["chain"]["outsideRetention"] == 2, res
    res, _ = two.chain(two.keeper_env(RETENTION_DAYS="10"))
    assert res["chain"]["started"] == 0, res
    assert set(two.snaps(R)) == {made[3]}
    # Region s untouched by r's keeper.
    assert {made[40], made[20], made[3]} <= set(two.snaps(w.region))
    assert not [c for c in aws.calls(action="DeleteDBSnapshot", account=w.backup_account)
                if c["region"] == w.region]


# ---- quota and the in-flight limit: pending, never a crash loop -----------------------------

def test_quota_in_r_is_pending_with_a_metric(kworld, aws):
    w = kworld
    two = Two(w)
    b = two.ferry(w.snapshot_id)
    aws.snapshot_quota(w.backup_account, R, 0)
    res, logs = two.chain()
    assert res["outcome"] == "pending" and "SnapshotQuotaExceeded" in res["reason"], res
    assert ("QuotaExceeded", 1, {}) in fs.metrics(logs)
    assert b not in two.snaps(R)
    # The quota raised: the next run completes.
    aws.snapshot_quota(w.backup_account, R, 100)
    res, _ = two.chain()
    assert res["outcome"] == "done" and res["chain"]["started"] == 1, res


def test_in_flight_limit_leaves_the_rest_pending(kworld, aws):
    """AWS allows 20 copies in flight per destination Region: the chain starts none
    beyond that and answers pending with ChainCopiesWaiting."""
    w = kworld
    two = Two(w)
    aws.bulk_snapshots(w.prod_account, w.region, w.db_id, 21, prefix="bulk")
    ids = [s for s in fs.instance_snapshots(w, "prod") if s.startswith("bulk")]
    assert len(ids) == 21
    for sid in ids:
        two.ferry(sid)
    aws.hold(True, accounts=[w.backup_account], regions=[R])
    res, logs = two.chain()
    assert res["outcome"] == "pending" and res["chain"]["started"] == 20, res
    assert res["chain"]["waiting"] == 1, res
    assert ("ChainCopiesWaiting", 1, {}) in fs.metrics(logs)
    fs.release(aws, account=w.backup_account, region=R)
    aws.hold(False)
    res, _ = two.chain()
    assert res["outcome"] == "done" and res["chain"]["started"] == 1, res


def test_fidelity_models_the_cross_region_in_flight_limit(kworld, aws):
    """The fidelity rule the chain's cap rests on: the 21st cross-Region copy in flight to
    one destination Region is refused (AWS: up to 20 copy requests in progress to a single
    destination Region per account); same-Region copies don't count."""
    from botocore.exceptions import ClientError
    w = kworld
    two = Two(w)
    b = two.ferry(w.snapshot_id)
    src = two.snaps(w.region)[b]["DBSnapshotArn"]
    aws.hold(True, accounts=[w.backup_account], regions=[R])
    for i in range(20):
        two.rds_r.copy_db_snapshot(SourceDBSnapshotIdentifier=src,
                                   TargetDBSnapshotIdentifier=f"x-{i}",
                                   KmsKeyId=two.key_r["Arn"])
    with pytest.raises(ClientError) as e:
        two.rds_r.copy_db_snapshot(SourceDBSnapshotIdentifier=src,
                                   TargetDBSnapshotIdentifier="x-20", KmsKeyId=two.key_r["Arn"])
    assert e.value.response["Error"]["Code"] == "SnapshotQuotaExceeded"
    # One finished: a 20th may start; a same-Region copy (held too) is not counted.
    fs.release(aws, id="x-0", account=w.backup_account, region=R)
    two.rds_r.copy_db_snapshot(SourceDBSnapshotIdentifier="x-0", TargetDBSnapshotIdentifier="y")
    two.rds_r.copy_db_snapshot(SourceDBSnapshotIdentifier=src, TargetDBSnapshotIdentifier="x-20",
                               KmsKeyId=two.key_r["Arn"])
    with pytest.raises(ClientError) as e:
        two.rds_r.copy_db_snapshot(SourceDBSnapshotIdentifier=src,
                                   TargetDBSnapshotIdentifier="x-21", KmsKeyId=two.key_r["Arn"])
    assert e.value.response["Error"]["Code"] == "SnapshotQuotaExceeded"
    aws.hold(False)


# ---- DRY_RUN -----------------------------------------------------------------------------------

def test_dry_run_names_each_cross_region_copy(kworld, aws):
    w = kworld
    two = Two(w)
    b = two.ferry(w.snapshot_id)
    mark = max(c["seq"] for c in aws.calls())
    res, _ = two.chain(two.keeper_env(DRY_RUN="true"))
    assert res["outcome"] == "done" and res["dryRun"] and res["chain"]["wouldCopy"] == 1, res
    (step,) = [s for s in res["steps"] if s.startswith("would:CopyDBSnapshot")]
    assert f"-> {b} in {R} (chain from {w.region}" in step and two.key_r["Arn"] in step
    assert not copies_in(aws, w.backup_account, R, mark)


# ---- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize("var,value,words", [
    ("BACKUP_REGIONS", "us-east-1,eu-west-1,us-east-1", "lists us-east-1 twice"),
    ("BACKUP_REGIONS", "us-east-1", f"must list this keeper's own Region {R}"),
    ("BACKUP_REGIONS", "us-east-1,eu-west", "\"eu-west\" is not a region"),
    ("BACKUP_KMS_KEY_ID", "arn:aws:kms:us-east-1:012345678912:key/1234abcd-12ab-34cd-56ef-"
     "1234567890ab", f"is a key in us-east-1, but this keeper copies into its own Region {R}"),
])
def test_bad_keeper_regions_or_key_is_an_init_error(kworld, start_rie, var, value, words):
    two = Two(kworld)
    env = two.keeper_env()
    env[var] = value
    rie = start_rie(fs.bootstrap_path(), env)
    status, body = rie.invoke(CHAIN)
    assert status == 502, body
    doc = json.loads(body)
    assert doc["errorType"] == "Runtime.ConfigInvalid", doc
    assert doc["errorMessage"].startswith(var) and words in doc["errorMessage"], doc
    # The same at `bootstrap --event` (exit 2, the message on stderr).
    rc, res, logs = run_env(env, CHAIN)
    assert rc == 2 and res is None
    assert any(words in l.get("raw", "") for l in logs), logs


def test_key_of_another_account_fails_naming_the_variable(kworld, aws):
    """The keeper learns its account from its credentials, after start-up: a key ARN of
    another account fails the chain with Snapferry.Config naming BACKUP_KMS_KEY_ID."""
    two = Two(kworld)
    two.ferry(kworld.snapshot_id)
    env = two.keeper_env(BACKUP_KMS_KEY_ID=f"arn:aws:kms:{R}:444455556666:key/"
                         "1234abcd-12ab-34cd-56ef-1234567890ab")
    rc, res, _ = run_env(env, CHAIN)
    assert res["errorType"] == "Snapferry.Config", res
    assert res["errorMessage"].startswith("BACKUP_KMS_KEY_ID is a key of account 444455556666")
    assert R in res["errorMessage"] and kworld.backup_account in res["errorMessage"]
    assert not copies_in(aws, kworld.backup_account, R)


def test_chain_without_a_key_fails_naming_it(kworld, aws):
    """BACKUP_REGIONS with another Region and no BACKUP_KMS_KEY_ID starts (the disaster-day
    restore reads BACKUP_REGIONS without a key), but each chain run fails naming the key
    and copies nothing."""
    two = Two(kworld)
    two.ferry(kworld.snapshot_id)
    env = two.keeper_env()
    env.pop("BACKUP_KMS_KEY_ID")
    rc, res, _ = run_env(env, CHAIN)
    assert res["errorType"] == "Snapferry.Config", res
    assert res["errorMessage"].startswith("BACKUP_KMS_KEY_ID is required to chain"), res
    assert not copies_in(aws, kworld.backup_account, R)


def test_chain_action_on_the_ferry_is_invalid(kworld):
    rc, res, _ = run_event(kworld, CHAIN)
    assert res["errorType"] == "Event.Invalid" and "keeper" in res["errorMessage"], res


def test_no_other_region_no_chain(kworld, aws):
    env = fs.keeper_env(kworld)
    rc, res, _ = run_env(env, CHAIN)
    assert rc == 0 and res["outcome"] == "ignored" and "no chain" in res["reason"], res
    rc, res, _ = run_env(env, {"action": "sweep"})
    assert res["outcome"] == "done" and "chain" not in res, res


# ---- the backup template, rendered per Region ------------------------------------------------

def _render(regions, region):
    from fidelity.render import SAM_PYTHON, render_backup
    from harness.rie_fixtures import skip_or_fail
    if not SAM_PYTHON.exists():
        skip_or_fail(f"{SAM_PYTHON} is missing: the SAM transform needs SAM CLI's venv")
    acct = "210987654321"
    params = {"ProductionFunctionRoleArn": "arn:aws:iam::123456789012:role/snapferry-function",
              "ExternalId": "snapferry-ext-7f3a", "BackupRegions": regions}
    return render_backup(params, acct, region,
                         f"arn:aws:kms:{region}:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab")


def _statements(stack, role):
    return {st["Sid"]: st for _, doc in stack.role_policies(role)
            for st in doc["Statement"]}


def test_backup_template_in_each_region():
    """Three Regions, the stack of ap-south-1: its roles' names carry the Region; the keeper
    reads the listed Regions only, copies into its own, uses keys through each listed
    Region's RDS endpoint; its env names every Region and its own key; the chain schedule
    sends {"action":"chain"}. One Region: none of it, today's names."""
    regions = "us-east-1,eu-west-1,ap-south-1"
    st = _render(regions, "ap-south-1")
    assert st.resource("KeeperRole")["RoleName"] == "snapferry-keeper-ap-south-1"
    assert st.resource("BackupRole")["RoleName"] == "snapferry-backup-ap-south-1"
    k = _statements(st, "KeeperRole")
    assert k["ChainReadOtherRegions"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": regions.split(",")}}
    assert k["ChainCopyIntoThisRegion"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": "ap-south-1"}}
    via = [f"rds.{r}.amazonaws.com" for r in regions.split(",")]
    assert k["ChainKeysThroughRds"]["Condition"]["StringEquals"]["kms:ViaService"] == via
    assert k["ChainGrantsForRdsOnly"]["Condition"]["StringEquals"]["kms:ViaService"] == via
    assert k["ChainGrantsForRdsOnly"]["Condition"]["Bool"] == {
        "kms:GrantIsForAWSResource": "true"}
    assert k["ChainTagNewCopiesAtCreation"]["Condition"]["Null"] == {
        "aws:ResourceTag/snapferry:created-by": "true"}
    env = st.resolve(st.t["Resources"]["KeeperFunction"]["Properties"])["Environment"][
        "Variables"]
    assert env["BACKUP_REGIONS"] == regions
    assert env["BACKUP_KMS_KEY_ID"].startswith("arn:aws:kms:ap-south-1:")
    rule = st.resource("ChainScheduleRule")
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["Targets"][0]["Input"] == json.dumps(CHAIN, separators=(",", ":"))

    one = _render("", "us-east-1")
    assert one.resource("KeeperRole")["RoleName"] == "snapferry-keeper"
    assert one.resource("BackupRole")["RoleName"] == "snapferry-backup"
    assert not [s for s in _statements(one, "KeeperRole") if s.startswith("Chain")]
    assert one.resource("ChainScheduleRule") is None
    env = one.resolve(one.t["Resources"]["KeeperFunction"]["Properties"])["Environment"][
        "Variables"]
    assert "BACKUP_REGIONS" not in env and "BACKUP_KMS_KEY_ID" not in env
    # BackupRegions naming only this Region: the keeper gets it, no chain.
    own = _render("us-east-1", "us-east-1")
    assert own.resource("KeeperRole")["RoleName"] == "snapferry-keeper"
    assert own.resource("ChainScheduleRule") is None

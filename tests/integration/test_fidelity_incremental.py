"""The fidelity layer's copy log (GET /_fidelity/copies): each CopyDBSnapshot /
CopyDBClusterSnapshot records whether it was incremental-eligible when it started, under
AWS's documented conditions (fidelity.patches.incremental_eligible): an earlier copy of the
same source DB still present in the destination account + Region, under the same key."""

import pytest

pytest.importorskip("botocore")


def _copy(world, src, target, key=None, account="prod"):
    rds = world.admin("rds", account)
    kw = {"SourceDBSnapshotIdentifier": src, "TargetDBSnapshotIdentifier": target}
    if key:
        kw["KmsKeyId"] = key
    return rds.copy_db_snapshot(**kw)["DBSnapshot"]


def _log(aws, world, target):
    [entry] = [c for c in aws.copies() if c["id"] == target]
    return entry


def test_first_copy_is_full_second_incremental(world, aws):
    world.create_snapshot(world.db_id, "day-2")
    _copy(world, world.snapshot_id, "t-1", world.share_key_arn)
    first = _log(aws, world, "t-1")
    assert first["incremental_eligible"] is False and first["previous"] is None
    assert first["source_db"] == f"{world.prod_account}:{world.region}:{world.db_id}"
    assert first["kms_key"] == world.share_key_arn
    assert first["account"] == world.prod_account and first["kind"] == "instance"
    _copy(world, "day-2", "t-2", world.share_key_arn)
    second = _log(aws, world, "t-2")
    assert second["incremental_eligible"] is True and second["previous"] == "t-1"


def test_deleting_the_previous_copy_makes_the_next_full(world, aws):
    """AWS Backup: "deleting previous copies first will cause full snapshot copies"."""
    world.create_snapshot(world.db_id, "day-2")
    _copy(world, world.snapshot_id, "t-1", world.share_key_arn)
    world.admin("rds").delete_db_snapshot(DBSnapshotIdentifier="t-1")
    _copy(world, "day-2", "t-2", world.share_key_arn)
    assert _log(aws, world, "t-2")["incremental_eligible"] is False


def test_another_key_makes_the_copy_full(world, aws):
    """RDS UG: incremental "when ... encrypted using the same KMS key as the initial full
    snapshot"."""
    other = world.create_key(description="another key")["Arn"]
    world.create_snapshot(world.db_id, "day-2")
    world.create_snapshot(world.db_id, "day-3")
    _copy(world, world.snapshot_id, "t-1", world.share_key_arn)
    _copy(world, "day-2", "t-2", other)
    assert _log(aws, world, "t-2")["incremental_eligible"] is False
    _copy(world, "day-3", "t-3", world.share_key_arn)
    e = _log(aws, world, "t-3")
    assert e["incremental_eligible"] is True and e["previous"] == "t-1"


def test_another_db_or_a_copy_still_creating_does_not_count(world, aws):
    world.create_db("otherdb")
    world.create_snapshot("otherdb", "other-1")
    world.create_snapshot(world.db_id, "day-2")
    _copy(world, "other-1", "o-1", world.share_key_arn)
    _copy(world, world.snapshot_id, "t-1", world.share_key_arn)
    assert _log(aws, world, "t-1")["incremental_eligible"] is False, "another DB's copy"
    aws.hold(True)
    _copy(world, "day-2", "t-2", world.share_key_arn)
    world.create_snapshot(world.db_id, "day-3")
    _copy(world, "day-3", "t-3", world.share_key_arn)
    e = _log(aws, world, "t-3")
    # t-1 (available) makes t-3 eligible; t-2 (still creating) does not count.
    assert e["incremental_eligible"] is True and e["previous"] == "t-1"
    aws.release()


def test_the_db_own_snapshots_are_not_earlier_copies(world, aws):
    """An earlier snapshot of the DB in the same account is not a copy: the first copy
    is still full (the condition is about the destination's previous copy)."""
    world.create_snapshot(world.db_id, "day-2")
    _copy(world, world.snapshot_id, "t-1")      # no key: the source's own
    assert _log(aws, world, "t-1")["incremental_eligible"] is False


def test_cross_account_chain_keeps_the_origin_db(world, aws):
    """A copy of a copy (B made from the transit copy T) counts for T's source DB: the
    backup account's second copy of the DB is eligible, another account's is not mixed in."""
    rds = world.admin("rds")
    world.create_snapshot(world.db_id, "day-2")
    for day, src in ((1, world.snapshot_id), (2, "day-2")):
        t = _copy(world, src, f"t-{day}", world.share_key_arn)
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=f"t-{day}",
                                         AttributeName="restore",
                                         ValuesToAdd=[world.backup_account])
        world.backup("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=t["DBSnapshotArn"],
                                             TargetDBSnapshotIdentifier=f"b-{day}",
                                             KmsKeyId=world.backup_key_arn)
    b1, b2 = _log(aws, world, "b-1"), _log(aws, world, "b-2")
    assert b1["account"] == world.backup_account
    assert b1["source_db"] == b2["source_db"] == \
        f"{world.prod_account}:{world.region}:{world.db_id}"
    assert b1["incremental_eligible"] is False
    assert b2["incremental_eligible"] is True and b2["previous"] == "b-1"
    assert [c["id"] for c in aws.copies(account=world.backup_account)] == ["b-1", "b-2"]


def test_cluster_copies_are_logged(world, aws):
    world.create_cluster("aur")
    world.create_cluster_snapshot("aur", "aur-1")
    world.create_cluster_snapshot("aur", "aur-2")
    rds = world.admin("rds")
    for i in (1, 2):
        rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=f"aur-{i}",
                                     TargetDBClusterSnapshotIdentifier=f"c-{i}",
                                     KmsKeyId=world.share_key_arn)
    c1, c2 = _log(aws, world, "c-1"), _log(aws, world, "c-2")
    assert c1["kind"] == "cluster" and c1["incremental_eligible"] is False
    assert c2["incremental_eligible"] is True
    aws.reset()
    assert aws.copies() == [], "reset clears the copy log"

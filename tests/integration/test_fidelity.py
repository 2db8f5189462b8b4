"""The fidelity layer against boto3: each moto gap of DESIGN.md is closed with AWS's
behaviour, moto's own behaviour is otherwise intact, and the control API (hold/release,
error injection, call log, automated snapshots) works; signature checking still works."""

import pytest

botocore_exc = pytest.importorskip("botocore.exceptions")
ClientError = botocore_exc.ClientError


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status_of(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def share(world, snapshot_id="share-src", db=None):
    """A manual snapshot encrypted with the share CMK (a transit copy), shared with the
    backup account; returns its ARN."""
    rds = world.prod("rds")
    t = rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier=snapshot_id,
                             KmsKeyId=world.share_key_arn)["DBSnapshot"]
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=snapshot_id, AttributeName="restore",
                                     ValuesToAdd=[world.backup_account])
    return t["DBSnapshotArn"]


# ---- server ----------------------------------------------------------------------------

def test_server_is_pinned_and_starts_fast(fidelity_server, aws):
    st = aws.status()
    assert st["ready"] is True and st["moto_version"] == "5.2.5"
    print(f"fidelity server start-up: {fidelity_server.startup_seconds:.2f}s")
    assert fidelity_server.startup_seconds < 20


def test_refuses_other_moto_version(monkeypatch):
    import importlib.metadata
    import fidelity
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "5.0.0")
    with pytest.raises(fidelity.FidelityVersionError, match=r"moto==5\.2\.5.*found 5\.0\.0"):
        fidelity.require_pinned_moto()


def test_control_api_rejects_bad_requests(aws):
    from fidelity.client import ControlError
    with pytest.raises(ControlError, match="HTTP 400"):
        aws.inject("CopyDBSnapshot", "Throttling", count=0)
    with pytest.raises(ControlError, match="HTTP 404"):
        aws._req("POST", "/_fidelity/nope", {})
    with pytest.raises(ControlError, match="HTTP 400"):
        aws.hold(True, actions=["DeleteDBSnapshot"])


# ---- 2. aws/rds ------------------------------------------------------------------------

def test_default_key_is_the_aws_managed_aws_rds_key(world):
    kms = world.prod("kms")
    alias_key = kms.describe_key(KeyId="alias/aws/rds")["KeyMetadata"]
    assert world.rds_default_key_arn == alias_key["Arn"]
    assert alias_key["KeyManager"] == "AWS"
    assert alias_key["AWSAccountId"] == world.prod_account
    assert alias_key["Description"].startswith("Default key that protects my RDS")
    by_arn = kms.describe_key(KeyId=world.rds_default_key_arn)["KeyMetadata"]
    assert by_arn["KeyManager"] == "AWS"
    assert kms.describe_key(KeyId=world.share_key_arn)["KeyMetadata"]["KeyManager"] == \
        "CUSTOMER"
    snap = world.prod("rds").describe_db_snapshots(
        DBSnapshotIdentifier=world.snapshot_id)["DBSnapshots"][0]
    assert snap["Encrypted"] is True
    assert snap["KmsKeyId"] == world.rds_default_key_arn
    # each account has its own aws/rds key
    other = world.backup("kms").describe_key(KeyId="alias/aws/rds")["KeyMetadata"]
    assert other["AWSAccountId"] == world.backup_account
    assert other["Arn"] != world.rds_default_key_arn and other["KeyManager"] == "AWS"


def test_explicit_key_recorded_as_arn_and_unencrypted_has_none(world):
    db = world.create_db("cmkdb", kms_key_id="alias/snapferry-share")
    assert db["StorageEncrypted"] is True and db["KmsKeyId"] == world.share_key_arn
    plain = world.create_db("plaindb", encrypted=False)
    assert plain["StorageEncrypted"] is False and "KmsKeyId" not in plain
    snap = world.create_snapshot("plaindb", "plain-1")
    assert snap["Encrypted"] is False and "KmsKeyId" not in snap


# ---- 3. sharing rules ------------------------------------------------------------------

def test_default_key_snapshot_cannot_be_shared(world):
    rds = world.prod("rds")
    with pytest.raises(ClientError) as e:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=world.snapshot_id,
                                         AttributeName="restore",
                                         ValuesToAdd=[world.backup_account])
    assert code_of(e) == "InvalidParameterValue" and status_of(e) == 400
    assert "default" in e.value.response["Error"]["Message"]
    attrs = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=world.snapshot_id)
    assert attrs["DBSnapshotAttributesResult"]["DBSnapshotAttributes"][0][
        "AttributeValues"] == []


def test_encrypted_snapshot_cannot_be_public_but_can_be_shared_by_id(world):
    rds = world.prod("rds")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                         TargetDBSnapshotIdentifier="cmk-copy", KmsKeyId=world.share_key_arn)
    with pytest.raises(ClientError) as e:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="cmk-copy",
                                         AttributeName="restore", ValuesToAdd=["all"])
    assert code_of(e) == "InvalidParameterValue"
    out = rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="cmk-copy",
                                           AttributeName="restore",
                                           ValuesToAdd=[world.backup_account])
    vals = out["DBSnapshotAttributesResult"]["DBSnapshotAttributes"][0]["AttributeValues"]
    assert vals == [world.backup_account]
    # moto's own behaviour kept: an unencrypted snapshot may be public; removing works
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plain-1")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="plain-1", AttributeName="restore",
                                     ValuesToAdd=["all"])
    out = rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="cmk-copy",
                                           AttributeName="restore",
                                           ValuesToRemove=[world.backup_account])
    assert out["DBSnapshotAttributesResult"]["DBSnapshotAttributes"][0][
        "AttributeValues"] == []


def test_automated_snapshots_cannot_be_shared(world, aws):
    auto = aws.automated_snapshot(world.prod_account, world.region, world.db_id)
    assert auto["id"].startswith(f"rds:{world.db_id}-")
    with pytest.raises(ClientError) as e:
        world.prod("rds").modify_db_snapshot_attribute(
            DBSnapshotIdentifier=auto["id"], AttributeName="restore",
            ValuesToAdd=[world.backup_account])
    assert code_of(e) == "InvalidDBSnapshotState"
    world.create_cluster("aur", engine="aurora-postgresql", encrypted=False)
    cauto = aws.automated_snapshot(world.prod_account, world.region, "aur", kind="cluster")
    with pytest.raises(ClientError) as e:
        world.prod("rds").modify_db_cluster_snapshot_attribute(
            DBClusterSnapshotIdentifier=cauto["id"], AttributeName="restore",
            ValuesToAdd=[world.backup_account])
    assert code_of(e) == "InvalidDBClusterSnapshotStateFault"


# ---- 1./4. cross-account copies and restores -------------------------------------------

def test_copy_of_unshared_snapshot_by_arn_is_not_found(world):
    with pytest.raises(ClientError) as e:
        world.backup("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_arn,
                                             TargetDBSnapshotIdentifier="stolen",
                                             KmsKeyId=world.backup_key_arn)
    assert code_of(e) == "DBSnapshotNotFound" and status_of(e) == 404


def test_shared_encrypted_copy_needs_kms_key_and_records_its_arn(world):
    arn = share(world)
    brds = world.backup("rds")
    with pytest.raises(ClientError) as e:
        brds.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="b1")
    assert code_of(e) == "KMSKeyNotAccessibleFault"
    c = brds.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="b1",
                              KmsKeyId="alias/snapferry-backup",
                              Tags=[{"Key": "snapferry:source-arn", "Value": arn}])["DBSnapshot"]
    assert c["DBSnapshotArn"] == f"arn:aws:rds:{world.region}:{world.backup_account}:snapshot:b1"
    assert c["Encrypted"] is True and c["KmsKeyId"] == world.backup_key_arn
    assert c["SourceDBSnapshotIdentifier"] == arn
    assert c["SnapshotType"] == "manual" and c["Status"] == "available"
    tags = brds.list_tags_for_resource(ResourceName=c["DBSnapshotArn"])["TagList"]
    assert {"Key": "snapferry:source-arn", "Value": arn} in tags
    # the source stays in production, untouched
    src = world.prod("rds").describe_db_snapshots(DBSnapshotIdentifier="share-src")[
        "DBSnapshots"][0]
    assert src["KmsKeyId"] == world.share_key_arn
    # unshared again: the ARN is no longer visible to the backup account
    world.prod("rds").modify_db_snapshot_attribute(
        DBSnapshotIdentifier="share-src", AttributeName="restore",
        ValuesToRemove=[world.backup_account])
    with pytest.raises(ClientError) as e:
        brds.copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="b2",
                              KmsKeyId=world.backup_key_arn)
    assert code_of(e) == "DBSnapshotNotFound"


def test_shared_copy_needs_key_policy_granting_the_backup_account(world):
    rds = world.prod("rds")
    lonely = world.create_key(description="no grant for backup")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                         TargetDBSnapshotIdentifier="lonely", KmsKeyId=lonely["Arn"])
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="lonely", AttributeName="restore",
                                     ValuesToAdd=[world.backup_account])
    arn = f"arn:aws:rds:{world.region}:{world.prod_account}:snapshot:lonely"
    with pytest.raises(ClientError) as e:
        world.backup("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                             TargetDBSnapshotIdentifier="b1",
                                             KmsKeyId=world.backup_key_arn)
    assert code_of(e) == "KMSKeyNotAccessibleFault"


def test_unknown_or_disabled_target_key_is_not_accessible(world):
    rds = world.prod("rds")
    with pytest.raises(ClientError) as e:
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="x1", KmsKeyId="alias/nope")
    assert code_of(e) == "KMSKeyNotAccessibleFault"
    k = world.create_key()
    world.admin("kms").disable_key(KeyId=k["KeyId"])
    with pytest.raises(ClientError) as e:
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="x2", KmsKeyId=k["Arn"])
    assert code_of(e) == "KMSKeyNotAccessibleFault"


def test_same_account_copy_keeps_moto_behaviour(world):
    rds = world.prod("rds")
    c = rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="same", CopyTags=True)["DBSnapshot"]
    assert c["KmsKeyId"] == world.rds_default_key_arn and c["Encrypted"] is True
    assert "SourceDBSnapshotIdentifier" not in c
    with pytest.raises(ClientError) as e:
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="same")
    assert code_of(e) == "DBSnapshotAlreadyExists"
    by_arn = rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_arn,
                                  TargetDBSnapshotIdentifier="same-by-arn")["DBSnapshot"]
    assert by_arn["Status"] == "available"


def test_restore_from_shared_snapshot_by_arn(world):
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plain-1")
    arn = f"arn:aws:rds:{world.region}:{world.prod_account}:snapshot:plain-1"
    brds = world.backup("rds")
    with pytest.raises(ClientError) as e:
        brds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="r1",
                                                  DBSnapshotIdentifier=arn)
    assert code_of(e) == "DBSnapshotNotFound"
    world.prod("rds").modify_db_snapshot_attribute(DBSnapshotIdentifier="plain-1",
                                                   AttributeName="restore",
                                                   ValuesToAdd=[world.backup_account])
    db = brds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="r1",
                                                   DBSnapshotIdentifier=arn,
                                                   PubliclyAccessible=False)["DBInstance"]
    assert db["DBInstanceArn"].split(":")[4] == world.backup_account
    assert brds.describe_db_instances(DBInstanceIdentifier="r1")["DBInstances"]
    assert not world.prod("rds").describe_db_instances(
        Filters=[{"Name": "db-instance-id", "Values": ["r1"]}])["DBInstances"]


# ---- 6. IncludeShared and ARNs ---------------------------------------------------------

def test_include_shared_and_snapshot_type_shared(world):
    arn = share(world)
    brds = world.backup("rds")
    assert brds.describe_db_snapshots()["DBSnapshots"] == []
    for kw in ({"IncludeShared": True}, {"SnapshotType": "shared"}):
        snaps = brds.describe_db_snapshots(**kw)["DBSnapshots"]
        assert [(s["DBSnapshotIdentifier"], s["SnapshotType"], s["DBSnapshotArn"])
                for s in snaps] == [(arn, "shared", arn)]
        assert snaps[0]["KmsKeyId"] == world.share_key_arn
    one = brds.describe_db_snapshots(DBSnapshotIdentifier=arn, IncludeShared=True)
    assert one["DBSnapshots"][0]["DBSnapshotArn"] == arn
    with pytest.raises(ClientError) as e:
        brds.describe_db_snapshots(DBSnapshotIdentifier=arn)
    assert code_of(e) == "DBSnapshotNotFound"
    # the owner still sees its own snapshot as manual, by id
    own = world.prod("rds").describe_db_snapshots(DBSnapshotIdentifier="share-src")[
        "DBSnapshots"][0]
    assert own["DBSnapshotIdentifier"] == "share-src" and own["SnapshotType"] == "manual"
    # the production account has nothing shared with it
    assert world.prod("rds").describe_db_snapshots(SnapshotType="shared")["DBSnapshots"] == []


def test_own_arns_accepted_by_describe_modify_attributes_delete(world):
    rds = world.prod("rds")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                         TargetDBSnapshotIdentifier="own", KmsKeyId=world.share_key_arn)
    arn = f"arn:aws:rds:{world.region}:{world.prod_account}:snapshot:own"
    assert rds.describe_db_snapshots(DBSnapshotIdentifier=arn)["DBSnapshots"][0][
        "DBSnapshotIdentifier"] == "own"
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=arn, AttributeName="restore",
                                     ValuesToAdd=[world.backup_account])
    got = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=arn)
    assert got["DBSnapshotAttributesResult"]["DBSnapshotAttributes"][0][
        "AttributeValues"] == [world.backup_account]
    # another account can't delete or modify it, even though it is shared with it
    brds = world.backup("rds")
    with pytest.raises(ClientError) as e:
        brds.delete_db_snapshot(DBSnapshotIdentifier=arn)
    assert code_of(e) == "DBSnapshotNotFound"
    with pytest.raises(ClientError) as e:
        brds.modify_db_snapshot_attribute(DBSnapshotIdentifier=arn, AttributeName="restore",
                                          ValuesToAdd=["111122223333"])
    assert code_of(e) == "DBSnapshotNotFound"
    rds.delete_db_snapshot(DBSnapshotIdentifier=arn)
    with pytest.raises(ClientError) as e:
        rds.describe_db_snapshots(DBSnapshotIdentifier="own")
    assert code_of(e) == "DBSnapshotNotFound"


def test_describe_paginates_like_aws(world):
    rds = world.admin("rds")
    for i in range(44):
        rds.create_db_snapshot(DBInstanceIdentifier=world.db_id,
                               DBSnapshotIdentifier=f"page-{i:02d}")
    seen, marker, pages = [], None, 0
    while True:
        kw = {"MaxRecords": 20, "SnapshotType": "manual"}
        if marker:
            kw["Marker"] = marker
        out = world.prod("rds").describe_db_snapshots(**kw)
        pages += 1
        seen += [s["DBSnapshotIdentifier"] for s in out["DBSnapshots"]]
        marker = out.get("Marker")
        if not marker:
            break
        assert pages < 10
    assert pages == 3 and len(seen) == 45 and len(set(seen)) == 45
    with pytest.raises(ClientError) as e:
        world.prod("rds").describe_db_snapshots(MaxRecords=10)
    assert code_of(e) == "InvalidParameterValue"
    assert len(world.prod("rds").describe_db_snapshots()["DBSnapshots"]) == 46  # +automated


# ---- 5. hold / release -----------------------------------------------------------------

def test_hold_and_release_copies(world, aws):
    aws.hold(True)
    rds = world.prod("rds")
    t = rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="held",
                             KmsKeyId=world.share_key_arn)["DBSnapshot"]
    assert t["Status"] == "creating" and t["PercentProgress"] == 0
    got = rds.describe_db_snapshots(DBSnapshotIdentifier="held")["DBSnapshots"][0]
    assert got["Status"] == "creating"
    assert [h["id"] for h in aws.status()["held"]] == ["held"]
    # a creating snapshot can't be copied or shared yet
    with pytest.raises(ClientError) as e:
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier="held", TargetDBSnapshotIdentifier="x")
    assert code_of(e) == "InvalidDBSnapshotState"
    with pytest.raises(ClientError) as e:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="held", AttributeName="restore",
                                         ValuesToAdd=[world.backup_account])
    assert code_of(e) == "InvalidDBSnapshotState"
    # source snapshots made by CreateDBSnapshot are not held by default
    assert world.create_snapshot(world.db_id, "fresh")["Status"] == "available"
    released = aws.release(id="held")
    assert [(r["id"], r["account"]) for r in released] == [("held", world.prod_account)]
    got = rds.describe_db_snapshots(DBSnapshotIdentifier="held")["DBSnapshots"][0]
    assert got["Status"] == "available" and got["PercentProgress"] == 100
    assert aws.release() == []


def test_deleting_a_copy_in_progress_cancels_it(world, aws):
    aws.hold(True)
    rds = world.prod("rds")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                         TargetDBSnapshotIdentifier="cancel-me",
                         KmsKeyId=world.share_key_arn)
    rds.delete_db_snapshot(DBSnapshotIdentifier="cancel-me")
    with pytest.raises(ClientError) as e:
        rds.describe_db_snapshots(DBSnapshotIdentifier="cancel-me")
    assert code_of(e) == "DBSnapshotNotFound"
    assert aws.release() == []


def _release(aws, status, **where):
    body = {k: v for k, v in where.items() if v}
    body["status"] = status
    return aws._req("POST", "/_fidelity/release", body)["released"]


@pytest.mark.parametrize("status", ["failed", "incompatible-restore"])
def test_failed_copy_cannot_be_deleted_and_keeps_its_name(world, aws, status):
    """AWS: "The DB snapshot must be in the available state to be deleted" (a copy in
    progress excepted: deleting it terminates the copy). A copy that ended failed stays, and
    its identifier with it."""
    aws.hold(True)
    rds = world.prod("rds")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                         TargetDBSnapshotIdentifier="doomed", KmsKeyId=world.share_key_arn)
    (r,) = _release(aws, status, id="doomed")
    assert r["id"] == "doomed"
    aws.hold(False)
    with pytest.raises(ClientError) as e:
        rds.delete_db_snapshot(DBSnapshotIdentifier="doomed")
    assert code_of(e) == "InvalidDBSnapshotState"
    got = rds.describe_db_snapshots(DBSnapshotIdentifier="doomed")["DBSnapshots"][0]
    assert got["Status"] == status
    with pytest.raises(ClientError) as e:
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="doomed",
                             KmsKeyId=world.share_key_arn)
    assert code_of(e) == "DBSnapshotAlreadyExists"


def test_cluster_snapshot_failure_states_are_not_db_instance_states(world, aws):
    """A DB cluster snapshot is available, copying or creating: the DB-instance states
    incompatible-* don't exist for it; a failed cluster copy can't be deleted either."""
    from fidelity.client import ControlError
    world.create_cluster("aurf")
    world.create_cluster_snapshot("aurf", "aurf-1")
    aws.hold(True)
    rds = world.prod("rds")
    c = rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="aurf-1",
                                     TargetDBClusterSnapshotIdentifier="aurf-c",
                                     KmsKeyId=world.share_key_arn)["DBClusterSnapshot"]
    assert c["Status"] == "copying"
    for bad in ("incompatible-restore", "incompatible-parameters", "incompatible-network"):
        with pytest.raises(ControlError, match="HTTP 400"):
            _release(aws, bad, id="aurf-c")
    assert [h["status"] for h in aws.status()["held"]] == ["copying"]   # unchanged
    (r,) = _release(aws, "failed", id="aurf-c")
    aws.hold(False)
    with pytest.raises(ClientError) as e:
        rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier="aurf-c")
    assert code_of(e) == "InvalidDBClusterSnapshotStateFault"


def test_hold_scoped_to_an_account_and_held_create(world, aws):
    aws.hold(True, accounts=[world.backup_account])
    arn = share(world)   # the transit copy in production is not held
    b = world.backup("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                             TargetDBSnapshotIdentifier="b1",
                                             KmsKeyId=world.backup_key_arn)["DBSnapshot"]
    assert b["Status"] == "creating"
    assert aws.release(account=world.prod_account) == []
    assert [r["id"] for r in aws.release(account=world.backup_account)] == ["b1"]
    aws.hold(True, actions=["CreateDBSnapshot"])
    s = world.create_snapshot(world.db_id, "slow-source")
    assert s["Status"] == "creating"
    with pytest.raises(ClientError) as e:   # AWS: the source of a copy must be available
        world.prod("rds").copy_db_snapshot(SourceDBSnapshotIdentifier="slow-source",
                                           TargetDBSnapshotIdentifier="t")
    assert code_of(e) == "InvalidDBSnapshotState"
    with pytest.raises(ClientError) as e:   # and a snapshot being created can't be deleted
        world.prod("rds").delete_db_snapshot(DBSnapshotIdentifier="slow-source")
    assert code_of(e) == "InvalidDBSnapshotState"
    aws.hold(False)
    assert world.create_snapshot(world.db_id, "quick")["Status"] == "available"


# ---- 8. clusters -----------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_multi_az_db_cluster_and_snapshot(world, engine):
    c = world.create_cluster(f"maz-{engine}", engine=engine)
    assert c["Engine"] == engine and c["StorageEncrypted"] is True
    assert c["KmsKeyId"] == world.rds_default_key_arn
    s = world.create_cluster_snapshot(f"maz-{engine}", f"maz-{engine}-1")
    assert s["Engine"] == engine and s["StorageEncrypted"] is True
    assert s["KmsKeyId"] == world.rds_default_key_arn and s["SnapshotType"] == "manual"


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_multi_az_db_cluster_snapshot_can_be_shared_not_copied(world, engine):
    """AWS: a manual Multi-AZ DB cluster snapshot can be shared, but "Copying a snapshot of
    a Multi-AZ DB cluster" is not supported — neither in its account nor from a share."""
    world.create_cluster(f"mazp-{engine}", engine=engine, encrypted=False)
    world.create_cluster_snapshot(f"mazp-{engine}", f"mazp-{engine}-1")
    rds = world.prod("rds")
    for key in (None, world.share_key_arn):
        kw = {"KmsKeyId": key} if key else {}
        with pytest.raises(ClientError) as e:
            rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=f"mazp-{engine}-1",
                                         TargetDBClusterSnapshotIdentifier="mazp-t", **kw)
        assert code_of(e) == "InvalidParameterCombination"
        assert "Multi-AZ DB cluster" in e.value.response["Error"]["Message"]
    rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier=f"mazp-{engine}-1",
                                             AttributeName="restore",
                                             ValuesToAdd=[world.backup_account])
    arn = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=f"mazp-{engine}-1")[
        "DBClusterSnapshots"][0]["DBClusterSnapshotArn"]
    with pytest.raises(ClientError) as e:
        world.backup("rds").copy_db_cluster_snapshot(
            SourceDBClusterSnapshotIdentifier=arn, TargetDBClusterSnapshotIdentifier="mazp-b")
    assert code_of(e) == "InvalidParameterCombination"


@pytest.mark.parametrize("engine", ["aurora-mysql", "aurora-postgresql"])
def test_aurora_cluster_snapshot_shared_and_copied_cross_account(world, aws, engine):
    world.create_cluster("aur", engine=engine)
    rds = world.prod("rds")
    src = world.create_cluster_snapshot("aur", "aur-1")
    assert src["KmsKeyId"] == world.rds_default_key_arn
    with pytest.raises(ClientError) as e:
        rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier="aur-1",
                                                 AttributeName="restore",
                                                 ValuesToAdd=[world.backup_account])
    assert code_of(e) == "InvalidParameterValue"
    aws.hold(True)
    t = rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="aur-1",
                                     TargetDBClusterSnapshotIdentifier="aur-t",
                                     KmsKeyId=world.share_key_arn)["DBClusterSnapshot"]
    assert t["Status"] == "copying" and t["KmsKeyId"] == world.share_key_arn
    aws.release(id="aur-t")
    rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier="aur-t",
                                             AttributeName="restore",
                                             ValuesToAdd=[world.backup_account])
    brds = world.backup("rds")
    shared = brds.describe_db_cluster_snapshots(IncludeShared=True)["DBClusterSnapshots"]
    assert [s["SnapshotType"] for s in shared] == ["shared"]
    arn = shared[0]["DBClusterSnapshotArn"]
    assert shared[0]["DBClusterSnapshotIdentifier"] == arn
    with pytest.raises(ClientError) as e:
        brds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=arn,
                                      TargetDBClusterSnapshotIdentifier="aur-b")
    assert code_of(e) == "KMSKeyNotAccessibleFault"
    b = brds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=arn,
                                      TargetDBClusterSnapshotIdentifier="aur-b",
                                      KmsKeyId=world.backup_key_arn)["DBClusterSnapshot"]
    assert b["Status"] == "copying" and b["KmsKeyId"] == world.backup_key_arn
    assert b["StorageEncrypted"] is True and b["SourceDBClusterSnapshotArn"] == arn
    brds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier="aur-b")  # cancel
    assert brds.describe_db_cluster_snapshots()["DBClusterSnapshots"] == []


def test_automated_snapshot_control(world, aws):
    a = aws.automated_snapshot(world.prod_account, world.region, world.db_id)
    b = aws.automated_snapshot(world.prod_account, world.region, world.db_id)
    assert a["id"] != b["id"]
    snaps = world.prod("rds").describe_db_snapshots(SnapshotType="automated")["DBSnapshots"]
    ids = {s["DBSnapshotIdentifier"] for s in snaps}
    assert {a["id"], b["id"]} <= ids
    s = [x for x in snaps if x["DBSnapshotIdentifier"] == a["id"]][0]
    assert s["SnapshotType"] == "automated" and s["KmsKeyId"] == world.rds_default_key_arn
    assert s["DBSnapshotArn"] == a["arn"]
    from fidelity.client import ControlError
    with pytest.raises(ControlError):
        aws.automated_snapshot(world.prod_account, world.region, "no-such-db")


# ---- 7. injection and the call log -----------------------------------------------------

def test_injected_query_errors_then_normal_service(world, aws):
    aws.inject("CopyDBSnapshot", "Throttling", count=2, account=world.prod_account)
    rds = world.prod("rds")
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                                 TargetDBSnapshotIdentifier="t1",
                                 KmsKeyId=world.share_key_arn)
        assert code_of(e) == "Throttling" and status_of(e) == 400
        assert e.value.response["Error"]["Message"] == "Rate exceeded"
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                         TargetDBSnapshotIdentifier="t1", KmsKeyId=world.share_key_arn)
    calls = aws.calls(account=world.prod_account, action="CopyDBSnapshot")
    assert [(c["status"], c["error"], c["injected"]) for c in calls] == [
        (400, "Throttling", True), (400, "Throttling", True), (200, None, False)]


def test_stripped_answer_loses_one_element(world, aws):
    aws.strip("DescribeDBSnapshots", "DBSnapshotArn", count=1, account=world.prod_account,
              match={"DBSnapshotIdentifier": world.snapshot_id})
    rds = world.prod("rds")
    (s,) = rds.describe_db_snapshots(DBSnapshotIdentifier=world.snapshot_id)["DBSnapshots"]
    assert "DBSnapshotArn" not in s and s["DBSnapshotIdentifier"] == world.snapshot_id
    (s,) = rds.describe_db_snapshots(DBSnapshotIdentifier=world.snapshot_id)["DBSnapshots"]
    assert s["DBSnapshotArn"] == world.snapshot_arn


# AWS's tag limits (botocore's RDS model, shape Tag; RDS User Guide: 50 per resource).
@pytest.mark.parametrize("key,value,ok", [
    ("k" * 128, "v" * 256, True),
    ("k" * 129, "v", False),
    ("k", "v" * 257, False),
])
def test_tag_limits_on_copy_create_and_add_tags(world, key, value, ok):
    rds = world.prod("rds")
    tags = [{"Key": key, "Value": value}]
    calls = [
        lambda: rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                                     TargetDBSnapshotIdentifier="tag-copy",
                                     KmsKeyId=world.share_key_arn, Tags=tags),
        lambda: rds.create_db_snapshot(DBInstanceIdentifier=world.db_id,
                                       DBSnapshotIdentifier="tag-create", Tags=tags),
        lambda: rds.add_tags_to_resource(ResourceName=world.snapshot_arn, Tags=tags),
    ]
    for call in calls:
        if ok:
            call()
            continue
        with pytest.raises(ClientError) as e:
            call()
        assert code_of(e) == "InvalidParameterValue" and status_of(e) == 400
    have = {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(
        ResourceName=world.snapshot_arn)["TagList"]}
    assert (have.get(key) == value) is ok


def test_at_most_50_tags_per_resource(world):
    rds = world.prod("rds")
    rds.add_tags_to_resource(ResourceName=world.snapshot_arn,
                             Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    rds.add_tags_to_resource(ResourceName=world.snapshot_arn,     # replacing: still 50
                             Tags=[{"Key": "k0", "Value": "w"}])
    with pytest.raises(ClientError) as e:
        rds.add_tags_to_resource(ResourceName=world.snapshot_arn,
                                 Tags=[{"Key": "k50", "Value": "v"}])
    assert code_of(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="many-tags",
                             KmsKeyId=world.share_key_arn,
                             Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert code_of(e) == "InvalidParameterValue"


def test_injection_scoped_by_account_and_parameters(world, aws):
    aws.inject("DescribeDBSnapshots", "AccessDenied", status=403,
               account=world.backup_account)
    aws.inject("ModifyDBSnapshotAttribute", "SharedSnapshotQuotaExceeded",
               match={"DBSnapshotIdentifier": "quota"})
    rds = world.prod("rds")
    rds.describe_db_snapshots()          # production is not affected
    with pytest.raises(ClientError) as e:
        world.backup("rds").describe_db_snapshots()
    assert code_of(e) == "AccessDenied" and status_of(e) == 403
    world.backup("rds").describe_db_snapshots()   # count 1: served again
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                         TargetDBSnapshotIdentifier="quota", KmsKeyId=world.share_key_arn)
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                         TargetDBSnapshotIdentifier="other", KmsKeyId=world.share_key_arn)
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="other", AttributeName="restore",
                                     ValuesToAdd=[world.backup_account])
    with pytest.raises(ClientError) as e:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="quota", AttributeName="restore",
                                         ValuesToAdd=[world.backup_account])
    assert code_of(e) == "SharedSnapshotQuotaExceeded"


def test_injected_server_errors_and_kms_json_errors(world, aws):
    aws.inject("CopyDBSnapshot", "SnapshotQuotaExceeded")
    aws.inject("DescribeKey", "KMSInternalException", status=500)
    aws.inject("DescribeDBSnapshots", "ServiceUnavailable", status=503)
    with pytest.raises(ClientError) as e:
        world.prod("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                                           TargetDBSnapshotIdentifier="q")
    assert code_of(e) == "SnapshotQuotaExceeded"
    with pytest.raises(ClientError) as e:
        world.prod("kms").describe_key(KeyId="alias/aws/rds")
    assert code_of(e) == "KMSInternalException" and status_of(e) == 500
    with pytest.raises(ClientError) as e:
        world.prod("rds").describe_db_snapshots()
    assert code_of(e) == "ServiceUnavailable" and status_of(e) == 503
    assert world.prod("kms").describe_key(KeyId="alias/aws/rds")["KeyMetadata"]
    aws.inject("AssumeRole", "AccessDenied", status=403)
    with pytest.raises(ClientError) as e:
        world.prod("sts").assume_role(RoleArn=world.role_arn, RoleSessionName="snapferry-test",
                                      ExternalId=world.external_id)
    assert code_of(e) == "AccessDenied"
    aws.inject("*", "Throttling")
    aws.reset()   # clears injections
    world.prod("rds").describe_db_snapshots()


def test_call_log_counts_calls_per_account_without_secrets(world, aws):
    aws.reset()
    share(world)
    world.backup("rds").describe_db_snapshots(IncludeShared=True)
    prod = aws.calls(account=world.prod_account)
    assert [c["action"] for c in prod] == ["CopyDBSnapshot", "ModifyDBSnapshotAttribute",
                                           "AssumeRole"]
    assert prod[0]["service"] == "rds" and prod[0]["region"] == world.region
    assert prod[0]["params"]["TargetDBSnapshotIdentifier"] == "share-src"
    assert prod[2]["params"]["ExternalId"] == world.external_id
    backup = aws.calls(account=world.backup_account)
    assert [(c["action"], c["params"].get("IncludeShared")) for c in backup] == [
        ("DescribeDBSnapshots", "true")]
    last = backup[-1]["seq"]
    world.create_db("pw", encrypted=False)
    new = aws.calls(since=last)
    assert [c["action"] for c in new] == ["CreateDBInstance"]
    assert "MasterUserPassword" not in new[0]["params"]
    assert new[0]["params"]["DBInstanceIdentifier"] == "pw"


# ---- STS trust and signatures ----------------------------------------------------------

def test_assume_role_checks_trust_and_external_id(world):
    sts = world.prod("sts")
    for kw in ({}, {"ExternalId": "wrong-external-id"}):
        with pytest.raises(ClientError) as e:
            sts.assume_role(RoleArn=world.role_arn, RoleSessionName="snapferry-test", **kw)
        assert code_of(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{world.backup_account}:role/absent",
                        RoleSessionName="snapferry-test", ExternalId=world.external_id)
    assert code_of(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:   # the trust names the function, not any caller
        world.admin("sts").assume_role(RoleArn=world.role_arn, RoleSessionName="snapferry-test",
                                       ExternalId=world.external_id)
    assert code_of(e) == "AccessDenied"
    ident = world.backup("sts").get_caller_identity()
    assert ident["Account"] == world.backup_account
    assert f"assumed-role/{world.role_name}/" in ident["Arn"]


def test_signature_checking_still_works(world, aws):
    import boto3
    aws.reset_auth(0)
    # the function's real credentials are accepted, and so is the assumed role
    assert world.prod("rds").describe_db_snapshots()["DBSnapshots"]
    assert world.backup("rds").describe_db_snapshots()["DBSnapshots"] == []
    bad = boto3.client("rds", endpoint_url=world.endpoint, region_name=world.region,
                       aws_access_key_id=world.access_key_id,
                       aws_secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as e:
        bad.describe_db_snapshots()
    assert code_of(e) == "SignatureDoesNotMatch"
    unknown = boto3.client("rds", endpoint_url=world.endpoint, region_name=world.region,
                           aws_access_key_id="AKIAUNKNOWN000000000",
                           aws_secret_access_key="x")
    with pytest.raises(ClientError) as e:
        unknown.describe_db_snapshots()
    assert code_of(e) == "InvalidClientTokenId"
    # the patched paths still run under signature checking
    arn = share(world, "signed-share")
    b = world.backup("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                             TargetDBSnapshotIdentifier="signed-b",
                                             KmsKeyId=world.backup_key_arn)["DBSnapshot"]
    assert b["KmsKeyId"] == world.backup_key_arn


# ---- helpers for look-back, retention and benchmarks -----------------------------------

def test_backdate_and_bulk_snapshots(world, aws):
    import datetime
    out = aws.snapshot_time(world.prod_account, world.region, world.snapshot_id,
                            "2020-01-02T03:04:05Z")
    assert out["id"] == world.snapshot_id
    s = world.prod("rds").describe_db_snapshots(DBSnapshotIdentifier=world.snapshot_id)[
        "DBSnapshots"][0]
    assert s["SnapshotCreateTime"] == datetime.datetime(2020, 1, 2, 3, 4, 5,
                                                        tzinfo=datetime.timezone.utc)
    res = aws.bulk_snapshots(world.prod_account, world.region, world.db_id, 30,
                             type="automated", spacing_minutes=60)
    assert res["count"] == 30 and res["first"].startswith(f"rds:{world.db_id}-")
    autos = world.prod("rds").describe_db_snapshots(SnapshotType="automated",
                                                    MaxRecords=100)["DBSnapshots"]
    assert len(autos) == 31   # + the one moto makes at creation
    times = sorted(a["SnapshotCreateTime"] for a in autos)
    assert times[-1] - times[0] >= datetime.timedelta(hours=29)
    assert len({a["DBSnapshotIdentifier"] for a in autos}) == 31
    res = aws.bulk_snapshots(world.prod_account, world.region, world.db_id, 25,
                             prefix="bench")
    assert (res["first"], res["last"]) == ("bench-00000", "bench-00024")


# ---- unshareable snapshots: TDE and option groups with persistent/permanent options -----
# An example key-store ARN: the layer treats TdeCredentialArn as opaque, as RDS reports it.
TDE_ARN = "arn:aws:rds:us-east-1:123456789012:tde:oracle-tde-keystore-1"


def restore_values(world, snapshot_id):
    attrs = world.admin("rds").describe_db_snapshot_attributes(
        DBSnapshotIdentifier=snapshot_id)["DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
    return [v for a in attrs if a["AttributeName"] == "restore"
            for v in a.get("AttributeValues", [])]


def test_tde_credential_arn_on_instance_and_every_snapshot(world, aws):
    world.create_db("oratde", engine="oracle-ee", encrypted=False,
                    tde_credential_arn=TDE_ARN)
    rds = world.admin("rds")
    db = rds.describe_db_instances(DBInstanceIdentifier="oratde")["DBInstances"][0]
    assert db["TdeCredentialArn"] == TDE_ARN
    world.create_snapshot("oratde", "oratde-manual")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="oratde-manual",
                         TargetDBSnapshotIdentifier="oratde-copy")
    snaps = {s["DBSnapshotIdentifier"]: s for s in rds.describe_db_snapshots(
        DBInstanceIdentifier="oratde")["DBSnapshots"]}
    # the manual snapshot, moto's automated one (made with the DB) and the copy
    assert {"oratde-manual", "oratde-copy"} <= set(snaps) and len(snaps) == 3, list(snaps)
    assert {s.get("TdeCredentialArn") for s in snaps.values()} == {TDE_ARN}
    # ...and an instance without TDE reports none.
    plain = rds.describe_db_snapshots(DBSnapshotIdentifier=world.snapshot_id)["DBSnapshots"]
    assert "TdeCredentialArn" not in plain[0]
    # The password went to the server but is in no log entry and no answer.
    creates = aws.calls(action="CreateDBInstance")
    assert any(c["params"].get("TdeCredentialArn") == TDE_ARN for c in creates)
    assert "not-a-secret-tde-1" not in repr(aws.calls())
    assert "not-a-secret-tde-1" not in repr(db)


def test_snapshot_records_its_option_group(world):
    world.create_option_group("ora-tz", "oracle-ee", "19", ["Timezone"])
    world.create_db("oradb", engine="oracle-ee", option_group="ora-tz")
    s = world.create_snapshot("oradb", "oradb-snap")
    assert s["OptionGroupName"] == "ora-tz"
    # A DB created without one records its engine's default option group (AWS: default:*).
    plain = world.admin("rds").describe_db_snapshots(
        DBSnapshotIdentifier=world.snapshot_id)["DBSnapshots"][0]
    assert plain["OptionGroupName"].startswith("default:postgres")


@pytest.mark.parametrize("engine,major,option,flags", [
    ("oracle-ee", "19", "TDE", (True, True)),
    ("oracle-ee", "19", "Timezone", (True, True)),
    ("oracle-ee", "19", "OLS", (True, True)),
    ("oracle-ee", "19", "OEM", (False, False)),
    ("sqlserver-ee", "15.00", "TDE", (True, False)),
    ("sqlserver-se", "15.00", "TDE", (True, False)),
    ("mysql", "8.0", "MARIADB_AUDIT_PLUGIN", (False, False)),
])
def test_describe_option_groups_reports_persistent_and_permanent(world, engine, major,
                                                                  option, flags):
    """AWS's table (USER_ShareSnapshot.html): TDE of Oracle EE persistent and permanent,
    TDE of SQL Server persistent only, Oracle's Timezone/OLS persistent and permanent."""
    out = world.create_option_group("og-flags", engine, major, [option])
    assert [(o["OptionName"], o["Persistent"], o["Permanent"]) for o in out["Options"]] == \
        [(option, *flags)]
    listed = world.admin("rds").describe_option_groups(
        OptionGroupName="og-flags")["OptionGroupsList"][0]["Options"]
    assert [(o["OptionName"], o["Persistent"], o["Permanent"]) for o in listed] == \
        [(option, *flags)]


def test_tde_snapshot_cannot_be_shared(world):
    world.create_db("oratde", engine="oracle-ee", encrypted=False,
                    tde_credential_arn=TDE_ARN)
    world.create_snapshot("oratde", "oratde-manual")
    rds = world.admin("rds")
    with pytest.raises(ClientError) as e:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="oratde-manual",
                                         AttributeName="restore",
                                         ValuesToAdd=[world.backup_account])
    assert code_of(e) == "InvalidParameterCombination" and status_of(e) == 400
    assert "Transparent Data Encryption" in e.value.response["Error"]["Message"]
    assert restore_values(world, "oratde-manual") == []
    # A copy is TDE as well (its key store goes with the data): refused too.
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="oratde-manual",
                         TargetDBSnapshotIdentifier="oratde-copy")
    with pytest.raises(ClientError) as e:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="oratde-copy",
                                         AttributeName="restore", ValuesToAdd=["all"])
    assert code_of(e) == "InvalidParameterCombination"
    # Removing a share is never refused.
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="oratde-manual",
                                     AttributeName="restore",
                                     ValuesToRemove=[world.backup_account])
    # The backup account sees nothing of it.
    arn = f"arn:aws:rds:{world.region}:{world.prod_account}:snapshot:oratde-manual"
    with pytest.raises(ClientError) as e:
        world.admin("rds", "backup").describe_db_snapshots(DBSnapshotIdentifier=arn,
                                                           IncludeShared=True)
    assert code_of(e) == "DBSnapshotNotFound"


@pytest.mark.parametrize("engine,major,options,shareable", [
    ("oracle-ee", "19", ["TDE"], False),               # persistent + permanent
    ("oracle-ee", "19", ["OEM", "TDE"], False),
    ("sqlserver-ee", "15.00", ["TDE"], False),         # persistent only
    ("oracle-ee", "19", ["Timezone", "OLS"], True),    # AWS's Oracle exception
    ("oracle-ee", "19", ["OEM"], True),                # neither
])
def test_snapshot_with_persistent_or_permanent_options_cannot_be_shared(
        world, engine, major, options, shareable):
    world.create_option_group("og-share", engine, major, options)
    world.create_db("ogdb", engine=engine, encrypted=False, option_group="og-share")
    world.create_snapshot("ogdb", "ogdb-snap")
    rds = world.admin("rds")
    if shareable:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="ogdb-snap",
                                         AttributeName="restore",
                                         ValuesToAdd=[world.backup_account])
        assert restore_values(world, "ogdb-snap") == [world.backup_account]
        return
    with pytest.raises(ClientError) as e:
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="ogdb-snap",
                                         AttributeName="restore",
                                         ValuesToAdd=[world.backup_account])
    assert code_of(e) == "InvalidParameterCombination" and status_of(e) == 400
    msg = e.value.response["Error"]["Message"]
    assert "og-share" in msg and "persistent or permanent" in msg
    assert "TDE" in msg and "OEM" not in msg
    assert restore_values(world, "ogdb-snap") == []


def test_cluster_snapshot_type_awsbackup_is_refused(world):
    """awsbackup is a SnapshotType of DescribeDBSnapshots only ("does not apply to
    Aurora"); an AWS Backup cluster snapshot is found by its identifier."""
    world.create_cluster("aurbk")
    world.create_cluster_snapshot("aurbk", "awsbackup:job-c1")
    rds = world.prod("rds")
    with pytest.raises(ClientError) as e:
        rds.describe_db_cluster_snapshots(SnapshotType="awsbackup")
    assert code_of(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="awsbackup:job-c1",
                                          SnapshotType="awsbackup")
    assert code_of(e) == "InvalidParameterValue"
    (s,) = rds.describe_db_cluster_snapshots(
        DBClusterSnapshotIdentifier="awsbackup:job-c1")["DBClusterSnapshots"]
    assert s["DBClusterSnapshotIdentifier"] == "awsbackup:job-c1"
    # DB snapshots keep the type.
    assert rds.describe_db_snapshots(SnapshotType="awsbackup")["DBSnapshots"] == []


# ---- cross-Region copies -----------------------------------------------------------------

OTHER_REGION = "eu-central-1"


def test_cross_region_copy_rules(world, aws):
    """A copy is made in the caller's Region: a source of another Region is given by ARN;
    an encrypted one needs KmsKeyId, a key of the destination Region; the copy records its
    SourceRegion. An encrypted snapshot shared by another account is copied across Regions
    in one step (AWS's current CopyDBSnapshot reference); the rules switch restores the old
    refusal."""
    from fidelity.world import admin_client
    src_arn = world.snapshot_arn            # encrypted with aws/rds, in world.region
    there = admin_client(world.endpoint, "rds", world.prod_account, OTHER_REGION)
    kms_there = admin_client(world.endpoint, "kms", world.prod_account, OTHER_REGION)
    key_there = kms_there.create_key(Description="destination key")["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as e:   # a plain id names a snapshot of this Region
        there.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                               TargetDBSnapshotIdentifier="x1", KmsKeyId=key_there)
    assert code_of(e) == "DBSnapshotNotFound"
    with pytest.raises(ClientError) as e:
        there.copy_db_snapshot(SourceDBSnapshotIdentifier=src_arn,
                               TargetDBSnapshotIdentifier="x2")
    assert code_of(e) == "InvalidParameterValue" and "KmsKeyId" in str(e.value)
    with pytest.raises(ClientError) as e:   # the source Region's key is not the destination's
        there.copy_db_snapshot(SourceDBSnapshotIdentifier=src_arn,
                               TargetDBSnapshotIdentifier="x3", KmsKeyId=world.share_key_arn)
    assert code_of(e) == "KMSKeyNotAccessibleFault"
    c = there.copy_db_snapshot(SourceDBSnapshotIdentifier=src_arn,
                               TargetDBSnapshotIdentifier="x4",
                               KmsKeyId=key_there)["DBSnapshot"]
    assert c["KmsKeyId"] == key_there and c["DBSnapshotArn"].split(":")[3] == OTHER_REGION
    assert c["SourceRegion"] == world.region and c["SourceDBSnapshotIdentifier"] == src_arn
    # Another account's shared encrypted snapshot: one step, with a key of the destination.
    arn = share(world, "xr-shared")
    b_there = world.backup("rds", region=OTHER_REGION)
    bkms_there = admin_client(world.endpoint, "kms", world.backup_account, OTHER_REGION)
    bkey_there = bkms_there.create_key(Description="backup key there")["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as e:   # the backup key of the source Region won't do
        b_there.copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                 TargetDBSnapshotIdentifier="xr-b0",
                                 KmsKeyId=world.backup_key_arn)
    assert code_of(e) == "KMSKeyNotAccessibleFault"
    c = b_there.copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                 TargetDBSnapshotIdentifier="xr-b",
                                 KmsKeyId=bkey_there)["DBSnapshot"]
    assert c["KmsKeyId"] == bkey_there and c["SourceRegion"] == world.region
    assert c["SourceDBSnapshotIdentifier"] == arn
    # The old rule, switched on: refused, naming the share; switched off again: allowed.
    assert aws.rules(refuse_shared_encrypted_cross_region=True) == {
        "refuse_shared_encrypted_cross_region": True}
    try:
        with pytest.raises(ClientError) as e:
            b_there.copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                     TargetDBSnapshotIdentifier="xr-b2", KmsKeyId=bkey_there)
        assert code_of(e) == "InvalidParameterValue" and "shared" in str(e.value)
        # within one Region, and across Regions within one account, nothing changes
        world.backup("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                             TargetDBSnapshotIdentifier="xr-same",
                                             KmsKeyId=world.backup_key_arn)
        there.copy_db_snapshot(SourceDBSnapshotIdentifier=src_arn,
                               TargetDBSnapshotIdentifier="x5", KmsKeyId=key_there)
    finally:
        aws.rules(refuse_shared_encrypted_cross_region=False)
    assert aws.status()["rules"]["refuse_shared_encrypted_cross_region"] is False
    b_there.copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                             TargetDBSnapshotIdentifier="xr-b3", KmsKeyId=bkey_there)
    # Unencrypted: across Regions either way.
    world.create_db("xrplain", encrypted=False)
    world.create_snapshot("xrplain", "xrplain-1")
    rds = world.prod("rds")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="xrplain-1", AttributeName="restore",
                                     ValuesToAdd=[world.backup_account])
    plain_arn = rds.describe_db_snapshots(
        DBSnapshotIdentifier="xrplain-1")["DBSnapshots"][0]["DBSnapshotArn"]
    aws.rules(refuse_shared_encrypted_cross_region=True)
    try:
        c = b_there.copy_db_snapshot(SourceDBSnapshotIdentifier=plain_arn,
                                     TargetDBSnapshotIdentifier="xrplain-b")["DBSnapshot"]
    finally:
        aws.rules(refuse_shared_encrypted_cross_region=False)
    assert c["DBSnapshotArn"].split(":")[3] == OTHER_REGION
    assert c["SourceRegion"] == world.region
    with pytest.raises(Exception):      # an unknown rule is refused, not ignored
        aws._req("POST", "/_fidelity/rules", {"nope": True})


def test_cross_region_cluster_copy_single_step(world, aws):
    """An Aurora cluster snapshot shared by another account is copied across Regions in one
    step (source by ARN, a key of the destination); the switch refuses it the old way."""
    from fidelity.world import admin_client
    world.create_cluster("auxr", kms_key_id=world.share_key_arn)
    world.create_cluster_snapshot("auxr", "auxr-1")
    rds = world.prod("rds")
    rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier="auxr-1",
                                             AttributeName="restore",
                                             ValuesToAdd=[world.backup_account])
    arn = rds.describe_db_cluster_snapshots(
        DBClusterSnapshotIdentifier="auxr-1")["DBClusterSnapshots"][0]["DBClusterSnapshotArn"]
    b_there = world.backup("rds", region=OTHER_REGION)
    bkey_there = admin_client(world.endpoint, "kms", world.backup_account, OTHER_REGION) \
        .create_key(Description="backup key there")["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as e:   # by id: a snapshot of the caller's Region
        b_there.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="auxr-1",
                                         TargetDBClusterSnapshotIdentifier="auxr-b0",
                                         KmsKeyId=bkey_there)
    assert code_of(e) == "DBClusterSnapshotNotFoundFault"
    aws.rules(refuse_shared_encrypted_cross_region=True)
    try:
        with pytest.raises(ClientError) as e:
            b_there.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=arn,
                                             TargetDBClusterSnapshotIdentifier="auxr-b1",
                                             KmsKeyId=bkey_there)
        assert code_of(e) == "InvalidParameterValue"
    finally:
        aws.rules(refuse_shared_encrypted_cross_region=False)
    c = b_there.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=arn,
                                         TargetDBClusterSnapshotIdentifier="auxr-b",
                                         KmsKeyId=bkey_there)["DBClusterSnapshot"]
    assert c["KmsKeyId"] == bkey_there and c["SourceDBClusterSnapshotArn"] == arn
    assert c["DBClusterSnapshotArn"].split(":")[3] == OTHER_REGION


def test_copies_are_held_in_every_region_or_one(world, aws):
    """Holds apply to copies in every Region (or only the Regions listed); release takes a
    Region."""
    from fidelity.world import admin_client
    there = admin_client(world.endpoint, "rds", world.prod_account, OTHER_REGION)
    key_there = admin_client(world.endpoint, "kms", world.prod_account, OTHER_REGION) \
        .create_key(Description="k")["KeyMetadata"]["Arn"]
    rds = world.prod("rds")
    aws.hold(True)
    try:
        there.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_arn,
                               TargetDBSnapshotIdentifier="h-there", KmsKeyId=key_there)
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="h-here")
        held = {(h["region"], h["id"]) for h in aws.status()["held"]}
        assert {(OTHER_REGION, "h-there"), (world.region, "h-here")} <= held
        assert [r["id"] for r in aws.release(region=OTHER_REGION)] == ["h-there"]
        st = there.describe_db_snapshots(DBSnapshotIdentifier="h-there")["DBSnapshots"][0]
        assert st["Status"] == "available"
        assert rds.describe_db_snapshots(
            DBSnapshotIdentifier="h-here")["DBSnapshots"][0]["Status"] == "creating"
        aws.release()
        assert aws.hold(True, regions=[OTHER_REGION])["regions"] == [OTHER_REGION]
        there.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_arn,
                               TargetDBSnapshotIdentifier="h-there2", KmsKeyId=key_there)
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="h-here2")
        assert rds.describe_db_snapshots(
            DBSnapshotIdentifier="h-here2")["DBSnapshots"][0]["Status"] == "available"
        assert there.describe_db_snapshots(
            DBSnapshotIdentifier="h-there2")["DBSnapshots"][0]["Status"] == "creating"
    finally:
        aws.hold(False)
        aws.release()


def test_unencrypted_cluster_copy_with_kms_key_is_refused(world):
    """CopyDBClusterSnapshot: "If you copy an unencrypted DB cluster snapshot and specify a
    value for the KmsKeyId parameter, an error is returned" (a DB snapshot copy with a key
    is encrypted instead)."""
    world.create_cluster("aurplain", encrypted=False)
    world.create_cluster_snapshot("aurplain", "aurplain-1")
    rds = world.prod("rds")
    with pytest.raises(ClientError) as e:
        rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="aurplain-1",
                                     TargetDBClusterSnapshotIdentifier="aurplain-c",
                                     KmsKeyId=world.share_key_arn)
    assert code_of(e) == "InvalidParameterCombination"
    c = rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="aurplain-1",
                                     TargetDBClusterSnapshotIdentifier="aurplain-c")
    assert c["DBClusterSnapshot"]["StorageEncrypted"] is False
    world.create_db("dbplain", encrypted=False)
    world.create_snapshot("dbplain", "dbplain-1")
    c = rds.copy_db_snapshot(SourceDBSnapshotIdentifier="dbplain-1",
                             TargetDBSnapshotIdentifier="dbplain-c",
                             KmsKeyId=world.share_key_arn)["DBSnapshot"]
    assert c["Encrypted"] is True and c["KmsKeyId"] == world.share_key_arn


def test_what_aws_records_about_a_copy_survives_the_copies(world, aws):
    """What the keeper decides on (botocore's DBSnapshot): OriginalSnapshotCreateTime, "the
    time of the CreateDBSnapshot operation ... doesn't change when the snapshot is copied",
    from S through the transit copy to the cross-account backup copy, whose own
    SnapshotCreateTime is its copy time; SourceDBSnapshotIdentifier, the source's ARN, only
    on the cross-account copy; DBInstanceIdentifier kept throughout."""
    aws.snapshot_time(world.prod_account, world.region, world.snapshot_id,
                      "2024-03-01T10:00:00Z")
    arn = share(world)
    rds = world.prod("rds")
    t = rds.describe_db_snapshots(DBSnapshotIdentifier="share-src")["DBSnapshots"][0]
    assert "SourceDBSnapshotIdentifier" not in t    # same account and region
    b = world.backup("rds").copy_db_snapshot(SourceDBSnapshotIdentifier=arn,
                                             TargetDBSnapshotIdentifier="b1",
                                             KmsKeyId=world.backup_key_arn)["DBSnapshot"]
    b = world.backup("rds").describe_db_snapshots(DBSnapshotIdentifier="b1")["DBSnapshots"][0]
    for s in (t, b):
        assert s["OriginalSnapshotCreateTime"].isoformat().startswith("2024-03-01T10:00:00")
        assert s["DBInstanceIdentifier"] == world.db_id
    assert b["SnapshotCreateTime"] > b["OriginalSnapshotCreateTime"]
    assert b["SourceDBSnapshotIdentifier"] == arn


def test_manual_snapshot_quota_and_describe_account_attributes(world, aws):
    """AWS: ManualSnapshots and ManualClusterSnapshots (default 100 per account and Region)
    reported by DescribeAccountAttributes (AccountQuotas: Used, Max); a manual snapshot beyond
    Max is refused with SnapshotQuotaExceeded; automated snapshots and other accounts' don't
    count."""
    rds = world.prod("rds")

    def quotas(client):
        return {q["AccountQuotaName"]: (q["Used"], q["Max"])
                for q in client.describe_account_attributes()["AccountQuotas"]}

    assert quotas(rds) == {"ManualSnapshots": (1, 100), "ManualClusterSnapshots": (0, 100)}
    assert quotas(world.backup("rds"))["ManualSnapshots"] == (0, 100)
    aws.snapshot_quota(world.prod_account, world.region, 2)
    rds.create_db_snapshot(DBInstanceIdentifier=world.db_id, DBSnapshotIdentifier="q-2")
    assert quotas(rds)["ManualSnapshots"] == (2, 2)
    with pytest.raises(ClientError) as e:
        rds.create_db_snapshot(DBInstanceIdentifier=world.db_id, DBSnapshotIdentifier="q-3")
    assert code_of(e) == "SnapshotQuotaExceeded"
    with pytest.raises(ClientError) as e:
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=world.snapshot_id,
                             TargetDBSnapshotIdentifier="q-copy",
                             KmsKeyId=world.share_key_arn)
    assert code_of(e) == "SnapshotQuotaExceeded"
    assert "q-3" not in {x["DBSnapshotIdentifier"]
                         for x in rds.describe_db_snapshots()["DBSnapshots"]}
    # Clusters: a quota of their own.
    world.create_cluster("qcl")
    world.create_cluster_snapshot("qcl", "qcl-1")
    world.create_cluster_snapshot("qcl", "qcl-2")
    with pytest.raises(ClientError) as e:
        rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="qcl-1",
                                     TargetDBClusterSnapshotIdentifier="qcl-copy")
    assert code_of(e) == "SnapshotQuotaExceeded"
    assert quotas(rds)["ManualClusterSnapshots"] == (2, 2)
    # Another account's quota is its own; a reset restores the default.
    assert quotas(world.backup("rds"))["ManualSnapshots"] == (0, 100)
    aws.reset()
    assert quotas(rds)["ManualSnapshots"][1] == 100

"""Every RDS, STS and KMS operation of snapferry's client, live against moto in
server mode with signature and IAM checking switched on, driven through the
`awsop` tool (dev and asan builds), as an IAM user of one account and as a role
assumed in a second account.

moto is started here with one addition: DescribeDB(Cluster)Snapshots honour
MaxRecords/Marker (moto 5.2.5 returns every snapshot in one page), so the
client's page-by-page listing is exercised for real.  Nothing else is changed.
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from harness.paths import BUILD

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto")

REGION = "us-east-1"
ACCT1 = "123456789012"      # moto's default account: the IAM user lives here
ACCT2 = "222233334444"      # the "backup" account, reached by AssumeRole
ROLE = f"arn:aws:iam::{ACCT2}:role/snapferry-backup"
EXTERNAL_ID = "ext/id=with+odd chars"
N_BULK = 250                # instance snapshots of one DB: three pages of 100
N_BULK_CLUSTER = 45         # cluster snapshots of one cluster: three pages of 20
POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["rds:*", "kms:*", "sts:*"],
                   "Resource": "*"}],
})
VARIANTS = ["dev", "asan"]
IDENTS = ["user", "role"]
KINDS = ["instance", "cluster"]

# Runs moto's own server after making the two snapshot listings paginate the
# way RDS does (MaxRecords 20..100, default 100; an opaque Marker).
LAUNCHER = r"""
import sys
from moto.core.responses import ActionResult
from moto.rds.responses import RDSResponse

def paged(name, key):
    orig = getattr(RDSResponse, name)
    def method(self):
        items = list(orig(self).result[key])
        try:
            size = int(self.params.get("MaxRecords") or 100)
        except (TypeError, ValueError):
            size = 100
        size = max(20, min(100, size))
        marker = self.params.get("Marker") or ""
        start = int(marker[1:]) if marker[:1] == "m" and marker[1:].isdigit() else 0
        page = {key: items[start:start + size]}
        if start + size < len(items):
            page["Marker"] = "m%d" % (start + size)
        return ActionResult(page)
    setattr(RDSResponse, name, method)

paged("describe_db_snapshots", "DBSnapshots")
paged("describe_db_cluster_snapshots", "DBClusterSnapshots")
from moto.server import main
main(sys.argv[1:])
"""


RECORDING = {}


def sent(action, **match):
    """Form parameters of every recorded request for ${action} whose parameters
    include ${match} (the request as the client put it on the wire)."""
    out = []
    with open(RECORDING["path"]) as f:
        for line in f:
            e = json.loads(line)
            body = e.get("body") or ""
            if e.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8", "replace")
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
            if form.get("Action") == action and all(form.get(k) == v for k, v in match.items()):
                out.append(form)
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def awsop_path(variant):
    return BUILD / variant / "tools" / "awsop"


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    port = free_port()
    d = tmp_path_factory.mktemp("moto")
    log = open(d / "moto.log", "w")
    # moto's request recorder keeps every request body: the tests read the
    # exact parameters the C client sent where moto itself ignores them.
    env = dict(os.environ, MOTO_ENABLE_RECORDING="true",
               MOTO_RECORDER_FILEPATH=str(d / "requests.jsonl"))
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    RECORDING["path"] = d / "requests.jsonl"
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("moto server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def client(url, service, key="testing", secret="testing", token=None):
    return boto3.client(service, region_name=REGION, endpoint_url=url,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token)


def populate(url, creds, acct, bulk):
    """The DBs, snapshots, key and option group one account starts with."""
    rds = client(url, "rds", **creds)
    rds.create_db_instance(DBInstanceIdentifier="db-main", Engine="postgres",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="admin", MasterUserPassword="password1",
                           BackupRetentionPeriod=1)
    rds.create_db_snapshot(DBInstanceIdentifier="db-main", DBSnapshotIdentifier="snap-main",
                           Tags=[{"Key": "src-only", "Value": "yes"}])
    rds.create_db_cluster(DBClusterIdentifier="cl-main", Engine="aurora-postgresql",
                          MasterUsername="admin", MasterUserPassword="password1",
                          BackupRetentionPeriod=1)
    rds.create_db_cluster_snapshot(DBClusterIdentifier="cl-main",
                                   DBClusterSnapshotIdentifier="csnap-main",
                                   Tags=[{"Key": "src-only", "Value": "yes"}])
    rds.create_option_group(OptionGroupName="og-main", EngineName="mysql",
                            MajorEngineVersion="8.0", OptionGroupDescription="plain")
    key = client(url, "kms", **creds).create_key(Description="share key")["KeyMetadata"]
    auto = rds.describe_db_snapshots(DBInstanceIdentifier="db-main",
                                     SnapshotType="automated")["DBSnapshots"]
    cauto = rds.describe_db_cluster_snapshots(DBClusterIdentifier="cl-main",
                                              SnapshotType="automated")["DBClusterSnapshots"]
    out = {"acct": acct, "key_id": key["KeyId"], "key_arn": key["Arn"],
           "auto": auto[0]["DBSnapshotIdentifier"] if auto else None,
           "cauto": cauto[0]["DBClusterSnapshotIdentifier"] if cauto else None}
    if bulk:
        # moto creates an automated snapshot even with BackupRetentionPeriod=0 (AWS does not).
        rds.create_db_instance(DBInstanceIdentifier="db-bulk", Engine="postgres",
                               DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                               MasterUsername="admin", MasterUserPassword="password1",
                               BackupRetentionPeriod=0)
        out["bulk"] = [f"bulk-{i:03d}" for i in range(N_BULK)]
        for sid in out["bulk"]:
            rds.create_db_snapshot(DBInstanceIdentifier="db-bulk", DBSnapshotIdentifier=sid)
        rds.create_db_cluster(DBClusterIdentifier="cl-bulk", Engine="aurora-postgresql",
                              MasterUsername="admin", MasterUserPassword="password1",
                              BackupRetentionPeriod=0)
        out["cbulk"] = [f"cbulk-{i:03d}" for i in range(N_BULK_CLUSTER)]
        for sid in out["cbulk"]:
            rds.create_db_cluster_snapshot(DBClusterIdentifier="cl-bulk",
                                           DBClusterSnapshotIdentifier=sid)
        out["bulk_auto"] = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(
            DBInstanceIdentifier="db-bulk", SnapshotType="automated")["DBSnapshots"]]
        out["cbulk_auto"] = [s["DBClusterSnapshotIdentifier"] for s in
                             rds.describe_db_cluster_snapshots(
                                 DBClusterIdentifier="cl-bulk",
                                 SnapshotType="automated")["DBClusterSnapshots"]]
    return out


@pytest.fixture(scope="module")
def live(moto_url):
    """IAM first (signature checks are off until reset-auth), then the data."""
    url = moto_url
    iam1 = client(url, "iam")
    iam1.create_user(UserName="snapferry")
    iam1.put_user_policy(UserName="snapferry", PolicyName="ops", PolicyDocument=POLICY)
    ak = iam1.create_access_key(UserName="snapferry")["AccessKey"]
    user = {"key": ak["AccessKeyId"], "secret": ak["SecretAccessKey"]}

    # moto: AssumeRole into another account's ARN gives keys acting in that account.
    boot = client(url, "sts").assume_role(RoleArn=f"arn:aws:iam::{ACCT2}:role/bootstrap",
                                          RoleSessionName="setup")["Credentials"]
    acct2 = {"key": boot["AccessKeyId"], "secret": boot["SecretAccessKey"],
             "token": boot["SessionToken"]}
    iam2 = client(url, "iam", **acct2)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT1}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}}]})
    iam2.create_role(RoleName="snapferry-backup", AssumeRolePolicyDocument=trust)
    iam2.put_role_policy(RoleName="snapferry-backup", PolicyName="ops",
                         PolicyDocument=POLICY)

    data = {"user": populate(url, {}, ACCT1, bulk=True),
            "role": populate(url, acct2, ACCT2, bulk=False)}

    # Not form-encoded, or Flask hands moto an empty body.
    req = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req, timeout=10).read()
    return {"url": url, "user": user, "data": data}


def run_awsop(live, variant, ident, *args, secret=None, timeout=120):
    exe = awsop_path(variant)
    if not exe.exists():
        pytest.skip(f"{exe} is not built (make BUILD=... {variant})")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": live["user"]["key"],
        "AWS_SECRET_ACCESS_KEY": secret or live["user"]["secret"],
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": live["url"],
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
    })
    argv = [str(exe)]
    if ident == "role":
        argv += ["--role", ROLE, "--external-id", EXTERNAL_ID, "--session", "live-test"]
    argv += [str(a) for a in args]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    assert p.returncode in (0, 1), (p.returncode, p.stderr)
    out = json.loads(p.stdout)
    assert out["ok"] == (p.returncode == 0)
    return out, p


def ok(live, variant, ident, *args):
    out, p = run_awsop(live, variant, ident, *args)
    assert out["ok"], (args, out, p.stderr)
    return out["result"]


def boto_for(live, ident, service):
    """boto3 as the same identity, to check what the C client did."""
    u = live["user"]
    if ident == "user":
        return client(live["url"], service, u["key"], u["secret"])
    cr = client(live["url"], "sts", u["key"], u["secret"]).assume_role(
        RoleArn=ROLE, RoleSessionName="check", ExternalId=EXTERNAL_ID)["Credentials"]
    return client(live["url"], service, cr["AccessKeyId"], cr["SecretAccessKey"],
                  cr["SessionToken"])


def snapshot_arn(acct, kind, sid):
    kind = "snapshot" if kind == "instance" else "cluster-snapshot"
    return f"arn:aws:rds:{REGION}:{acct}:{kind}:{sid}"


MAIN = {"instance": "snap-main", "cluster": "csnap-main"}
AUTO = {"instance": "auto", "cluster": "cauto"}
DB = {"instance": "db-main", "cluster": "cl-main"}


# ---- STS --------------------------------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ident", IDENTS)
def test_caller_identity(live, variant, ident):
    r = ok(live, variant, ident, "caller-identity")
    if ident == "user":
        assert r == {"account": ACCT1, "arn": f"arn:aws:iam::{ACCT1}:user/snapferry"}
    else:
        assert r["account"] == ACCT2
        assert r["arn"] == f"arn:aws:sts::{ACCT2}:assumed-role/snapferry-backup/live-test"


@pytest.mark.parametrize("variant", VARIANTS)
def test_assume_role(live, variant):
    r = ok(live, variant, "user", "assume-role", ROLE, "op-session",
           "--external-id", EXTERNAL_ID, "--duration", "900")
    assert r["access_key_id"].startswith("ASIA")
    assert r["has_secret"] and r["has_token"]
    assert r["account"] == ACCT2
    assert r["arn"].endswith(":assumed-role/snapferry-backup/op-session")
    # moto honours DurationSeconds: Expiration is 900 s ahead.
    assert abs(r["expiration"] - (time.time() + 900)) < 120


@pytest.mark.parametrize("variant", VARIANTS)
def test_wrong_secret_is_signature_does_not_match(live, variant):
    bad = "not-the-secret/" + "x" * 25
    out, p = run_awsop(live, variant, "user", "describe-snapshot", "instance", "snap-main",
                       secret=bad)
    assert p.returncode == 1
    assert out["error"]["code"] == "SignatureDoesNotMatch"
    assert out["error"]["http_status"] == 403
    assert out["error"]["retryable"] is False
    assert bad not in p.stdout and bad not in p.stderr
    assert live["user"]["secret"] not in p.stdout + p.stderr


# ---- KMS --------------------------------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ident", IDENTS)
def test_describe_key(live, variant, ident):
    d = live["data"][ident]
    for key in (d["key_id"], d["key_arn"]):
        r = ok(live, variant, ident, "describe-key", key)
        assert r["key_id"] == d["key_id"]
        assert r["arn"] == d["key_arn"]
        assert r["account"] == d["acct"]
        assert r["key_manager"] == "CUSTOMER"
        assert r["key_state"] == "Enabled" and r["enabled"] is True
    out, _ = run_awsop(live, variant, ident, "describe-key", "alias/absent-key")
    assert out["error"]["code"] == "NotFoundException"


# ---- describe by id, by ARN, shared ----------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ident", IDENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_describe_snapshot(live, variant, ident, kind):
    d = live["data"][ident]
    arn = snapshot_arn(d["acct"], kind, MAIN[kind])
    for ref in (MAIN[kind], arn):
        r = ok(live, variant, ident, "describe-snapshot", kind, ref)
        assert r["found"] is True
        s = r["snapshot"]
        assert (s["id"], s["arn"], s["db_id"]) == (MAIN[kind], arn, DB[kind])
        assert s["status"] == "available" and s["snapshot_type"] == "manual"
        assert s["created"] > 1_600_000_000
        assert s["kind"] == kind
    # Automated snapshots ("rds:" ids) need SnapshotType=automated on AWS.
    auto = d[AUTO[kind]]
    assert auto and auto.startswith("rds:")
    r = ok(live, variant, ident, "describe-snapshot", kind, auto)
    assert r["found"] and r["snapshot"]["snapshot_type"] == "automated"
    id_param = "DBSnapshotIdentifier" if kind == "instance" else "DBClusterSnapshotIdentifier"
    action = "DescribeDBSnapshots" if kind == "instance" else "DescribeDBClusterSnapshots"
    assert sent(action, **{id_param: auto})[-1]["SnapshotType"] == "automated"
    r = ok(live, variant, ident, "describe-snapshot", kind,
           snapshot_arn(d["acct"], kind, auto))
    assert r["found"] and r["snapshot"]["id"] == auto
    # Not found is an answer, not an error (DBSnapshotNotFound vs ...ClusterSnapshotNotFoundFault).
    assert ok(live, variant, ident, "describe-snapshot", kind, "absent-snap") == {"found": False}
    other = ACCT1 if ident == "role" else ACCT2
    assert ok(live, variant, ident, "describe-snapshot", kind,
              snapshot_arn(other, kind, "absent-snap")) == {"found": False}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", KINDS)
def test_describe_awsbackup_snapshot(live, variant, kind):
    # moto can't make AWS Backup DB snapshots: check the lookup AWS needs went out
    # (SnapshotType=awsbackup for DB snapshots, by id and by ARN; none for cluster
    # snapshots, where "the awsbackup type does not apply") and that "none" is an answer.
    sid = f"awsbackup:job-{variant}-{kind}"
    id_param = "DBSnapshotIdentifier" if kind == "instance" else "DBClusterSnapshotIdentifier"
    action = "DescribeDBSnapshots" if kind == "instance" else "DescribeDBClusterSnapshots"
    for ref in (sid, snapshot_arn(ACCT1, kind, sid)):
        assert ok(live, variant, "user", "describe-snapshot", kind, ref) == {"found": False}
        assert sent(action, **{id_param: sid})[-1].get("SnapshotType") == \
            ("awsbackup" if kind == "instance" else None)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", KINDS)
def test_describe_shared_snapshot_by_arn(live, variant, kind):
    arn = snapshot_arn(ACCT1, kind, MAIN[kind])
    # Not shared yet: the backup account can't see it.
    assert ok(live, variant, "role", "describe-snapshot", kind, arn) == {"found": False}
    ok(live, variant, "user", "share", kind, MAIN[kind], ACCT2)
    try:
        r = ok(live, variant, "role", "describe-snapshot", kind, arn)
        assert r["found"] is True
        assert r["snapshot"]["arn"] == arn and r["snapshot"]["id"] == MAIN[kind]
        id_param = "DBSnapshotIdentifier" if kind == "instance" else "DBClusterSnapshotIdentifier"
        action = "DescribeDBSnapshots" if kind == "instance" else "DescribeDBClusterSnapshots"
        last = sent(action, **{id_param: arn})[-1]
        assert (last["SnapshotType"], last["IncludeShared"]) == ("shared", "true")
    finally:
        ok(live, variant, "user", "unshare", kind, MAIN[kind], ACCT2)
    assert ok(live, variant, "user", "shared-accounts", kind, MAIN[kind]) == []


# ---- listings ---------------------------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
def test_listing_follows_markers(live, variant):
    d = live["data"]["user"]
    # The server really pages: 100 and a Marker for a MaxRecords=100 request.
    page = boto_for(live, "user", "rds").describe_db_snapshots(
        DBInstanceIdentifier="db-bulk", MaxRecords=100)
    assert len(page["DBSnapshots"]) == 100 and page.get("Marker")

    r = ok(live, variant, "user", "list-snapshots", "instance", "--db", "db-bulk",
           "--max-records", "100")
    assert r["count"] == len(r["ids"]) == N_BULK + len(d["bulk_auto"])
    assert sorted(r["ids"]) == sorted(d["bulk"] + d["bulk_auto"])
    # Page by page: MaxRecords on each request, the Marker of the previous answer.
    pages = sent("DescribeDBSnapshots", DBInstanceIdentifier="db-bulk", MaxRecords="100")
    assert [p.get("Marker") for p in pages[-3:]] == [None, "m100", "m200"]

    r = ok(live, variant, "user", "list-snapshots", "instance", "--db", "db-bulk",
           "--type", "manual", "--max-records", "20", "--limit", "150")
    assert r["count"] == 150 and len(set(r["ids"])) == 150

    r = ok(live, variant, "user", "list-snapshots", "cluster", "--db", "cl-bulk",
           "--max-records", "20")
    assert sorted(r["ids"]) == sorted(d["cbulk"] + d["cbulk_auto"])

    # Automated only, across all DBs of the account.
    r = ok(live, variant, "user", "list-snapshots", "instance", "--type", "automated")
    assert d["auto"] in r["ids"] and all(i.startswith("rds:") for i in r["ids"])


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", KINDS)
def test_listing_shared(live, variant, kind):
    ok(live, variant, "user", "share", kind, MAIN[kind], ACCT2)
    try:
        r = ok(live, variant, "role", "list-snapshots", kind, "--type", "shared",
               "--include-shared")
        assert MAIN[kind] in r["ids"]
    finally:
        ok(live, variant, "user", "unshare", kind, MAIN[kind], ACCT2)


# ---- copy, tags, share, delete ----------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ident", IDENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_copy_tag_share_delete(live, variant, ident, kind):
    d = live["data"][ident]
    target = f"{variant}-{ident}-{kind}-copy"
    tags = ["--tag", f"snapferry:source-arn={snapshot_arn(d['acct'], kind, MAIN[kind])}",
            "--tag", "owner=team a \u00e9\u20ac", "--tag", "empty="]
    kms = ["--kms", d["key_arn"]] if kind == "instance" else []
    s = ok(live, variant, ident, "copy-snapshot", kind, MAIN[kind], target, *kms, *tags)
    assert s["id"] == target
    target_param = ("TargetDBSnapshotIdentifier" if kind == "instance"
                    else "TargetDBClusterSnapshotIdentifier")
    req = sent("CopyDBSnapshot" if kind == "instance" else "CopyDBClusterSnapshot",
               **{target_param: target})[-1]
    assert req["CopyTags"] == "false"
    assert (req["Tags.Tag.2.Key"], req["Tags.Tag.2.Value"]) == ("owner", "team a \u00e9\u20ac")
    assert req.get("KmsKeyId") == (d["key_arn"] if kind == "instance" else None)
    arn = snapshot_arn(d["acct"], kind, target)
    assert s["arn"] == arn
    if kind == "instance":
        assert s["kms_key_id"] == d["key_arn"]
    # Exactly the tags given: CopyTags=false keeps the source's "src-only" away.
    want = {"snapferry:source-arn": snapshot_arn(d["acct"], kind, MAIN[kind]),
            "owner": "team a \u00e9\u20ac", "empty": ""}
    assert ok(live, variant, ident, "list-tags", arn) == want

    ok(live, variant, ident, "add-tags", arn, "snapferry:version=0.1.0", "k2=v/2")
    want.update({"snapferry:version": "0.1.0", "k2": "v/2"})
    assert ok(live, variant, ident, "list-tags", arn) == want
    r = ok(live, variant, ident, "describe-snapshot", kind, target)
    assert r["snapshot"]["tags"] == want

    backup = "444455556666"
    assert ok(live, variant, ident, "shared-accounts", kind, target) == []
    ok(live, variant, ident, "share", kind, target, backup)
    assert ok(live, variant, ident, "shared-accounts", kind, target) == [backup]
    req = sent("ModifyDBSnapshotAttribute" if kind == "instance"
               else "ModifyDBClusterSnapshotAttribute", AttributeName="restore")[-1]
    assert req["ValuesToAdd.AttributeValue.1"] == backup
    ok(live, variant, ident, "unshare", kind, target, backup)
    assert ok(live, variant, ident, "shared-accounts", kind, target) == []

    ok(live, variant, ident, "delete-snapshot", kind, target)
    assert ok(live, variant, ident, "describe-snapshot", kind, target) == {"found": False}
    out, _ = run_awsop(live, variant, ident, "delete-snapshot", kind, target)
    assert out["error"]["code"] == ("DBClusterSnapshotNotFoundFault" if kind == "cluster"
                                    else "DBSnapshotNotFound")
    assert out["error"]["http_status"] == 404


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", KINDS)
def test_copy_already_exists(live, variant, kind):
    out, _ = run_awsop(live, variant, "user", "copy-snapshot", kind, MAIN[kind], MAIN[kind])
    assert out["error"]["code"] == ("DBClusterSnapshotAlreadyExistsFault" if kind == "cluster"
                                    else "DBSnapshotAlreadyExists")


# ---- restore, DB existence, option groups ------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ident", IDENTS)
def test_restore_instance(live, variant, ident):
    db = f"{variant}-{ident}-restored"
    assert ok(live, variant, ident, "db-exists", "instance", db) is False
    ok(live, variant, ident, "restore", "instance", "snap-main", db, "--class", "db.t3.small",
       "--sg", "sg-0123456789abcdef0", "--sg", "sg-0fedcba9876543210", "--tag", "restored=yes")
    assert ok(live, variant, ident, "db-exists", "instance", db) is True
    inst = boto_for(live, ident, "rds").describe_db_instances(
        DBInstanceIdentifier=db)["DBInstances"][0]
    # moto drops false-valued overrides on restore, so read the wire instead.
    req = sent("RestoreDBInstanceFromDBSnapshot", DBInstanceIdentifier=db)[-1]
    assert req["PubliclyAccessible"] == "false"
    assert req["VpcSecurityGroupIds.VpcSecurityGroupId.2"] == "sg-0fedcba9876543210"
    assert inst.get("PubliclyAccessible") in (None, False)
    assert inst["DBInstanceClass"] == "db.t3.small"
    assert sorted(g["VpcSecurityGroupId"] for g in inst["VpcSecurityGroups"]) == \
        ["sg-0123456789abcdef0", "sg-0fedcba9876543210"]
    assert {"Key": "restored", "Value": "yes"} in inst["TagList"]
    out, _ = run_awsop(live, variant, ident, "restore", "instance", "snap-main", db)
    assert out["error"]["code"] == "DBInstanceAlreadyExists"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ident", IDENTS)
def test_restore_cluster(live, variant, ident):
    db = f"{variant}-{ident}-restored-cl"
    assert ok(live, variant, ident, "db-exists", "cluster", db) is False
    ok(live, variant, ident, "restore", "cluster", "csnap-main", db,
       "--engine", "aurora-postgresql", "--tag", "restored=yes")
    assert ok(live, variant, ident, "db-exists", "cluster", db) is True
    cl = boto_for(live, ident, "rds").describe_db_clusters(
        DBClusterIdentifier=db)["DBClusters"][0]
    assert cl["Engine"] == "aurora-postgresql"
    req = sent("RestoreDBClusterFromSnapshot", DBClusterIdentifier=db)[-1]
    assert (req["SnapshotIdentifier"], req["Engine"]) == ("csnap-main", "aurora-postgresql")
    # The engine is required for clusters: refused before any request.
    out, p = run_awsop(live, variant, ident, "restore", "cluster", "csnap-main", db + "-x")
    assert out["error"]["code"] == "InvalidParameterValue"
    assert out["error"]["http_status"] == 0


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ident", IDENTS)
def test_db_exists(live, variant, ident):
    assert ok(live, variant, ident, "db-exists", "instance", "db-main") is True
    assert ok(live, variant, ident, "db-exists", "cluster", "cl-main") is True
    assert ok(live, variant, ident, "db-exists", "instance", "no-such-db") is False
    assert ok(live, variant, ident, "db-exists", "cluster", "no-such-cluster") is False


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ident", IDENTS)
def test_option_group(live, variant, ident):
    # moto models no persistent/permanent options: the live check is the plain case;
    # the blocking cases are covered by the unit test on canned responses.
    assert ok(live, variant, ident, "option-group-blocks", "og-main") is False
    out, _ = run_awsop(live, variant, ident, "option-group-blocks", "og-absent")
    assert out["error"]["code"] == "OptionGroupNotFoundFault"


# ---- valgrind ----------------------------------------------------------------

@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.parametrize("ident", IDENTS)
def test_valgrind_clean(live, ident):
    """The dev build under valgrind: no invalid access, no definite leak, over
    the paths that allocate most (assumed role, a 3-page listing, copy with tags,
    a JSON call, an error)."""
    exe = awsop_path("dev")
    if not exe.exists():
        pytest.skip(f"{exe} is not built")
    calls = [("describe-snapshot", "instance", "snap-main"),
             ("list-snapshots", "instance", "--max-records", "20", "--limit", "60"),
             ("copy-snapshot", "cluster", "csnap-main", f"vg-{ident}-copy", "--tag", "a=b c"),
             ("describe-key", live["data"][ident]["key_id"]),
             ("describe-snapshot", "cluster", "vg-absent"),
             ("delete-snapshot", "instance", "vg-absent")]
    for args in calls:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": live["user"]["key"],
                    "AWS_SECRET_ACCESS_KEY": live["user"]["secret"],
                    "AWS_REGION": REGION, "AWS_ENDPOINT_URL": live["url"]})
        argv = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
                "--error-exitcode=9", str(exe)]
        if ident == "role":
            argv += ["--role", ROLE, "--external-id", EXTERNAL_ID]
        p = subprocess.run(argv + list(args), env=env, capture_output=True, text=True,
                           timeout=300)
        assert p.returncode in (0, 1), (args, p.returncode, p.stderr[-3000:])
        assert "Invalid read" not in p.stderr and "definitely lost" not in p.stderr, p.stderr
        json.loads(p.stdout)

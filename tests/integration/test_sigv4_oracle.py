"""botocore as an oracle for our SigV4 signer and Query/JSON request bodies.

Each case is a request shaped like one snapferry operation.  botocore's own
serializer builds the body from the service model; our sigv4_sign tool builds
it from the flat parameter names our C code uses.  Both sign at the same fixed
time with SigV4Auth / our signer, and the bodies, canonical requests, strings to
sign and headers must be equal byte for byte.  Plus a presigned URL against
SigV4QueryAuth.
"""
import datetime
import json
import subprocess
from unittest import mock

import pytest

from harness.paths import BUILD

botocore = pytest.importorskip("botocore", reason="botocore is not installed")
import botocore.auth  # noqa: E402
import botocore.session  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.serialize import create_serializer  # noqa: E402
from botocore.utils import percent_encode_sequence  # noqa: E402

AK = "AKIDEXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGB"
         "uFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQ==")
WHEN = datetime.datetime(2015, 8, 30, 12, 36, 0)
EPOCH = 1440938160
FORM = "application/x-www-form-urlencoded; charset=utf-8"
SNAP_ARN = "arn:aws:rds:eu-west-1:111122223333:snapshot:rds:prod-db-2024-05-01-03-10"
CSNAP_ARN = "arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:rds:aurora-2024-05-01"
KEY_ARN = "arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TAG_VALUE = "Équipe Données / nuit = 2h"  # spaces, non-ASCII, '/', '='


def _rds(op, params, flat, region="eu-west-1", token=None, url=None):
    return dict(service="rds", version="2014-10-31", op=op, params=params, flat=flat,
                region=region, token=token, url=url)


# (id, botocore params, our flat params) for every operation of issue 3.
QUERY_CASES = [
    _rds("DescribeDBSnapshots", {"DBSnapshotIdentifier": "my-snap", "SnapshotType": "manual"},
         [("DBSnapshotIdentifier", "my-snap"), ("SnapshotType", "manual")], token=TOKEN),
    _rds("DescribeDBSnapshots",
         {"DBInstanceIdentifier": "prod-db", "SnapshotType": "shared", "IncludeShared": True,
          "MaxRecords": 100, "Marker": "eyJtIjoiMTIzIn0=",
          "Filters": [{"Name": "engine", "Values": ["mysql", "postgres"]}]},
         [("DBInstanceIdentifier", "prod-db"), ("SnapshotType", "shared"),
          ("IncludeShared", "true"), ("MaxRecords", "100"), ("Marker", "eyJtIjoiMTIzIn0="),
          ("Filters.Filter.1.Name", "engine"), ("Filters.Filter.1.Values.Value.1", "mysql"),
          ("Filters.Filter.1.Values.Value.2", "postgres")]),
    _rds("DescribeDBClusterSnapshots",
         {"DBClusterSnapshotIdentifier": CSNAP_ARN, "SnapshotType": "automated",
          "Marker": "m/1+2=="},
         [("DBClusterSnapshotIdentifier", CSNAP_ARN), ("SnapshotType", "automated"),
          ("Marker", "m/1+2==")], token=TOKEN),
    _rds("CopyDBSnapshot",
         {"SourceDBSnapshotIdentifier": SNAP_ARN,
          "TargetDBSnapshotIdentifier": "snapferry-prod-db-2024-05-01-03-10",
          "KmsKeyId": KEY_ARN, "CopyTags": False,
          "Tags": [{"Key": "snapferry:source-arn", "Value": SNAP_ARN},
                   {"Key": "team", "Value": TAG_VALUE}]},
         [("SourceDBSnapshotIdentifier", SNAP_ARN),
          ("TargetDBSnapshotIdentifier", "snapferry-prod-db-2024-05-01-03-10"),
          ("KmsKeyId", KEY_ARN), ("CopyTags", "false"),
          ("Tags.Tag.1.Key", "snapferry:source-arn"), ("Tags.Tag.1.Value", SNAP_ARN),
          ("Tags.Tag.2.Key", "team"), ("Tags.Tag.2.Value", TAG_VALUE)], token=TOKEN),
    _rds("CopyDBClusterSnapshot",
         {"SourceDBClusterSnapshotIdentifier": CSNAP_ARN,
          "TargetDBClusterSnapshotIdentifier": "snapferry-aurora-2024-05-01",
          "KmsKeyId": KEY_ARN, "Tags": [{"Key": "note", "Value": TAG_VALUE}]},
         [("SourceDBClusterSnapshotIdentifier", CSNAP_ARN),
          ("TargetDBClusterSnapshotIdentifier", "snapferry-aurora-2024-05-01"),
          ("KmsKeyId", KEY_ARN), ("Tags.Tag.1.Key", "note"), ("Tags.Tag.1.Value", TAG_VALUE)]),
    _rds("ModifyDBSnapshotAttribute",
         {"DBSnapshotIdentifier": "my-snap", "AttributeName": "restore",
          "ValuesToAdd": ["444455556666", "777788889999"]},
         [("DBSnapshotIdentifier", "my-snap"), ("AttributeName", "restore"),
          ("ValuesToAdd.AttributeValue.1", "444455556666"),
          ("ValuesToAdd.AttributeValue.2", "777788889999")], region="us-east-1"),
    _rds("ModifyDBClusterSnapshotAttribute",
         {"DBClusterSnapshotIdentifier": "c-snap", "AttributeName": "restore",
          "ValuesToRemove": ["444455556666"]},
         [("DBClusterSnapshotIdentifier", "c-snap"), ("AttributeName", "restore"),
          ("ValuesToRemove.AttributeValue.1", "444455556666")], token=TOKEN),
    _rds("DescribeDBSnapshotAttributes", {"DBSnapshotIdentifier": "my-snap"},
         [("DBSnapshotIdentifier", "my-snap")]),
    _rds("DescribeDBClusterSnapshotAttributes", {"DBClusterSnapshotIdentifier": "c-snap"},
         [("DBClusterSnapshotIdentifier", "c-snap")]),
    _rds("DeleteDBSnapshot", {"DBSnapshotIdentifier": "snapferry-old"},
         [("DBSnapshotIdentifier", "snapferry-old")], token=TOKEN),
    _rds("DeleteDBClusterSnapshot", {"DBClusterSnapshotIdentifier": "snapferry-old-c"},
         [("DBClusterSnapshotIdentifier", "snapferry-old-c")]),
    _rds("AddTagsToResource",
         {"ResourceName": SNAP_ARN, "Tags": [{"Key": "snapferry:source-db", "Value": "prod db"},
                                             {"Key": "ünïcode", "Value": "日本語 テキスト"}]},
         [("ResourceName", SNAP_ARN), ("Tags.Tag.1.Key", "snapferry:source-db"),
          ("Tags.Tag.1.Value", "prod db"), ("Tags.Tag.2.Key", "ünïcode"),
          ("Tags.Tag.2.Value", "日本語 テキスト")], token=TOKEN),
    _rds("ListTagsForResource", {"ResourceName": SNAP_ARN}, [("ResourceName", SNAP_ARN)]),
    _rds("RestoreDBInstanceFromDBSnapshot",
         {"DBInstanceIdentifier": "restored-db", "DBSnapshotIdentifier": "snapferry-x",
          "DBInstanceClass": "db.t3.micro", "DBSubnetGroupName": "backup subnets",
          "PubliclyAccessible": False, "VpcSecurityGroupIds": ["sg-0123", "sg-4567"],
          "Tags": [{"Key": "k", "Value": "v"}]},
         [("DBInstanceIdentifier", "restored-db"), ("DBSnapshotIdentifier", "snapferry-x"),
          ("DBInstanceClass", "db.t3.micro"), ("DBSubnetGroupName", "backup subnets"),
          ("PubliclyAccessible", "false"),
          ("VpcSecurityGroupIds.VpcSecurityGroupId.1", "sg-0123"),
          ("VpcSecurityGroupIds.VpcSecurityGroupId.2", "sg-4567"),
          ("Tags.Tag.1.Key", "k"), ("Tags.Tag.1.Value", "v")]),
    _rds("RestoreDBClusterFromSnapshot",
         {"DBClusterIdentifier": "restored-c", "SnapshotIdentifier": CSNAP_ARN,
          "Engine": "aurora-postgresql", "AvailabilityZones": ["eu-west-1a", "eu-west-1b"],
          "VpcSecurityGroupIds": ["sg-1"], "EnableCloudwatchLogsExports": ["postgresql"]},
         [("DBClusterIdentifier", "restored-c"), ("SnapshotIdentifier", CSNAP_ARN),
          ("Engine", "aurora-postgresql"),
          ("AvailabilityZones.AvailabilityZone.1", "eu-west-1a"),
          ("AvailabilityZones.AvailabilityZone.2", "eu-west-1b"),
          ("VpcSecurityGroupIds.VpcSecurityGroupId.1", "sg-1"),
          ("EnableCloudwatchLogsExports.member.1", "postgresql")], token=TOKEN),
    _rds("DescribeDBInstances", {"DBInstanceIdentifier": "restored-db"},
         [("DBInstanceIdentifier", "restored-db")]),
    _rds("DescribeDBClusters", {"DBClusterIdentifier": "restored-c"},
         [("DBClusterIdentifier", "restored-c")], region="cn-north-1"),
    _rds("DescribeOptionGroups", {"OptionGroupName": "default:mysql-8-0", "MaxRecords": 20},
         [("OptionGroupName", "default:mysql-8-0"), ("MaxRecords", "20")],
         region="us-gov-west-1"),
    # A local emulator endpoint: host with a port is signed as sent.
    _rds("DescribeDBSnapshots", {"DBSnapshotIdentifier": "my-snap"},
         [("DBSnapshotIdentifier", "my-snap")], token=TOKEN, url="http://127.0.0.1:5000/"),
    # An endpoint URL with a query: '+', '%7E', '%2F' and '=' inside values are signed
    # exactly as they go on the wire (issue 8, defect 11).
    _rds("DescribeDBSnapshots", {"DBSnapshotIdentifier": "my-snap"},
         [("DBSnapshotIdentifier", "my-snap")], token=TOKEN,
         url="https://rds.eu-west-1.amazonaws.com/?a=b+c&t=%7E&p=x%2Fy&e=k=v"),
    _rds("DescribeDBSnapshots", {"DBSnapshotIdentifier": "my-snap"},
         [("DBSnapshotIdentifier", "my-snap")],
         url="http://127.0.0.1:5000/base/?z=%7e1&z=1+1&A=%2f&q==&flag"),
    dict(service="sts", version="2011-06-15", op="AssumeRole",
         params={"RoleArn": "arn:aws:iam::444455556666:role/snapferry-backup",
                 "RoleSessionName": "snapferry", "ExternalId": "ext/id=42 x+y",
                 "DurationSeconds": 3600},
         flat=[("RoleArn", "arn:aws:iam::444455556666:role/snapferry-backup"),
               ("RoleSessionName", "snapferry"), ("ExternalId", "ext/id=42 x+y"),
               ("DurationSeconds", "3600")], region="eu-west-1", token=TOKEN, url=None),
    dict(service="sts", version="2011-06-15", op="GetCallerIdentity", params={}, flat=[],
         region="eu-central-1", token=None, url=None),
]


def _case_id(c):
    return f"{c['service']}-{c['op']}-{c['region']}{'-token' if c['token'] else ''}" + (
        "-local" if c["url"] else "")


@pytest.fixture(scope="module")
def session():
    return botocore.session.get_session()


def _tool(variant="dev"):
    p = BUILD / variant / "tools" / "sigv4_sign"
    if not p.exists():
        pytest.skip(f"{p} is not built (make BUILD=... {variant})")
    return p


def ours(spec, variant="dev"):
    out = subprocess.run([str(_tool(variant))], input=json.dumps(spec).encode(),
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)


def botocore_sign(url, body, headers, service, region, token):
    """Sign with SigV4Auth at WHEN; return (headers, canonical request, string to sign)."""
    creds = Credentials(AK, SK, token)
    req = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    auth = botocore.auth.SigV4Auth(creds, service, region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        auth.add_auth(req)
    # The same steps as add_auth, on a fresh request, to see the intermediates.
    req2 = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    req2.context["timestamp"] = WHEN.strftime(botocore.auth.SIGV4_TIMESTAMP)
    auth._modify_request_before_signing(req2)
    creq = auth.canonical_request(req2)
    sts = auth.string_to_sign(req2, creq)
    return dict(req.headers.items()), creq, sts


def endpoint(service, region):
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{service}.{region}.{suffix}/"


@pytest.mark.parametrize("case", QUERY_CASES, ids=_case_id)
def test_query_request_matches_botocore(case, session):
    model = session.get_service_model(case["service"])
    op = model.operation_model(case["op"])
    ser = create_serializer(model.metadata["protocol"]).serialize_to_request(case["params"], op)
    url = case["url"] or endpoint(case["service"], case["region"])
    # botocore's wire body: the serializer's dict, form-encoded as AWSRequest prepares it.
    bc_body = AWSRequest(method="POST", url=url, data=ser["body"],
                         headers=ser["headers"]).prepare().body
    if isinstance(bc_body, str):
        bc_body = bc_body.encode()
    spec = dict(method="POST", url=url, region=case["region"], service=case["service"],
                time=EPOCH, access_key=AK, secret_key=SK, content_type=FORM,
                action=case["op"], version=case["version"], params=case["flat"])
    if case["token"]:
        spec["token"] = case["token"]
    got = ours(spec)
    assert ser["headers"]["Content-Type"] == FORM
    assert got["body"].encode() == bc_body, "form body differs from botocore's serializer"
    hdrs, creq, sts = botocore_sign(url, bc_body, ser["headers"], case["service"],
                                    case["region"], case["token"])
    assert got["canonical_request"] == creq
    assert got["string_to_sign"] == sts
    for name in ("Authorization", "X-Amz-Date", "Content-Type"):
        assert got["headers"][name] == hdrs[name], name
    if case["token"]:
        assert got["headers"]["X-Amz-Security-Token"] == hdrs["X-Amz-Security-Token"]
        assert "x-amz-security-token" in got["headers"]["Authorization"]
    else:
        assert "X-Amz-Security-Token" not in got["headers"]


@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "token"])
@pytest.mark.parametrize("key_id", ["alias/aws/rds", KEY_ARN])
def test_kms_json_request_matches_botocore(session, token, key_id):
    model = session.get_service_model("kms")
    op = model.operation_model("DescribeKey")
    ser = create_serializer("json").serialize_to_request({"KeyId": key_id}, op)
    url = endpoint("kms", "eu-west-1")
    target = ser["headers"]["X-Amz-Target"]
    assert target == "TrentService.DescribeKey"
    # Our C code prints JSON compactly; botocore's json.dumps adds spaces.  The
    # documents must be equal, and each signature is over the exact bytes sent.
    our_body = json.dumps({"KeyId": key_id}, separators=(",", ":"))
    assert json.loads(ser["body"]) == json.loads(our_body)
    spec = dict(method="POST", url=url, region="eu-west-1", service="kms", time=EPOCH,
                access_key=AK, secret_key=SK, content_type=ser["headers"]["Content-Type"],
                target=target, body=our_body)
    if token:
        spec["token"] = token
    got = ours(spec)
    hdrs, creq, sts = botocore_sign(url, our_body.encode(), ser["headers"], "kms",
                                    "eu-west-1", token)
    assert got["canonical_request"] == creq
    assert got["string_to_sign"] == sts
    assert got["headers"]["Authorization"] == hdrs["Authorization"]
    assert "x-amz-target" in got["headers"]["Authorization"]
    assert got["headers"]["Content-Type"] == "application/x-amz-json-1.1"


@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "token"])
def test_presigned_copy_url_matches_sigv4queryauth(token):
    """The PreSignedUrl of a cross-region CopyDBSnapshot (aws-facts 6.4)."""
    params = {"Action": "CopyDBSnapshot", "Version": "2014-10-31",
              "SourceDBSnapshotIdentifier": "arn:aws:rds:us-gov-east-1:111122223333:snapshot:s 1",
              "TargetDBSnapshotIdentifier": "copy-1", "KmsKeyId": KEY_ARN,
              "DestinationRegion": "us-gov-west-1"}
    base = "https://rds.us-gov-east-1.amazonaws.com/"
    req = AWSRequest(method="GET", url=base, data=dict(params))
    auth = botocore.auth.SigV4QueryAuth(Credentials(AK, SK, token), "rds", "us-gov-east-1",
                                        expires=3600)
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        auth.add_auth(req)
    spec = dict(method="GET", url=base + "?" + percent_encode_sequence(params),
                region="us-gov-east-1", service="rds", time=EPOCH, access_key=AK,
                secret_key=SK, presign=True, expires=3600)
    if token:
        spec["token"] = token
    assert ours(spec)["url"] == req.url


def test_asan_build_agrees(session):
    """The sanitizer build computes the same thing (and does not crash)."""
    _tool("asan")
    c = QUERY_CASES[3]
    spec = dict(method="POST", url=endpoint("rds", c["region"]), region=c["region"],
                service="rds", time=EPOCH, access_key=AK, secret_key=SK, content_type=FORM,
                action=c["op"], version=c["version"], params=c["flat"], token=c["token"])
    assert ours(spec, "asan") == ours(spec, "dev")

"""The baseline for bench/run.sh: botocore doing the same work in the same run.

  botocore_bench.py sign N          SigV4Auth over the CopyDBSnapshot request sign_bench signs
  botocore_bench.py call N URL      N DescribeDBSnapshots calls through one botocore client
Prints one JSON line.
"""
import json
import sys
import time

import botocore.auth
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TOKEN = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW=="
BODY = ("Action=CopyDBSnapshot&Version=2014-10-31&SourceDBSnapshotIdentifier=arn%3Aaws%3Ards%3A"
        "eu-west-1%3A111122223333%3Asnapshot%3Ards%3Aprod-db-2024-05-01-03-10"
        "&TargetDBSnapshotIdentifier=snapferry-prod-db-2024-05-01-03-10&KmsKeyId=arn%3Aaws%3Akms"
        "%3Aeu-west-1%3A444455556666%3Akey%2F1234abcd-12ab-34cd-56ef-1234567890ab"
        "&Tags.Tag.1.Key=snapferry%3Asource-db&Tags.Tag.1.Value=prod+db")


def sign(n):
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", TOKEN)
    auth = botocore.auth.SigV4Auth(creds, "rds", "eu-west-1")
    t0 = time.perf_counter()
    for _ in range(n):
        req = AWSRequest(method="POST", url="https://rds.eu-west-1.amazonaws.com/", data=BODY,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        auth.add_auth(req)
    return {"iterations": n, "sign_per_s": round(n / (time.perf_counter() - t0))}


def call(n, url):
    client = botocore.session.get_session().create_client(
        "rds", region_name="eu-west-1", endpoint_url=url, aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="benchsecret", aws_session_token="benchtoken")
    client.describe_db_snapshots(DBSnapshotIdentifier="my-snap")  # warm up, as the C side's first
    t0 = time.perf_counter()
    for _ in range(n):
        client.describe_db_snapshots(DBSnapshotIdentifier="my-snap")
    ms = (time.perf_counter() - t0) * 1000
    return {"calls": n, "ms": round(ms), "per_s": round(n * 1000 / ms, 1)}


if __name__ == "__main__":
    what, n = sys.argv[1], int(sys.argv[2])
    print(json.dumps(sign(n) if what == "sign" else call(n, sys.argv[3])))

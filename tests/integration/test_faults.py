"""The AWS client under faults: retries, clear errors, no crash, no leak.

Drives the aws_call tool (one raw aws_query / aws_json through src/aws.c and
src/http.c) against harness/faultserver.py -- a home-made server, because no
real component injects throttling, resets, truncation or oversized bodies --
under the dev and the ASan+UBSan builds, and a few cases under valgrind.
The server counts requests, so the number of attempts is asserted server-side.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from harness.faultserver import FaultServer, refused_url
from harness.paths import BUILD

SECRET = "faultTESTsecretKEY/0123456789abcdefXYZ"
TOKEN = "faultTESTsessionTOKEN+abcdefghijklmnopqrstuvwxyz=="
VARIANTS = ["dev", "asan"]


@pytest.fixture(scope="module")
def server():
    srv = FaultServer().start()
    yield srv
    srv.stop()


def tool(variant):
    p = BUILD / variant / "tools" / "aws_call"
    if not p.exists():
        pytest.skip(f"{p} is not built (make BUILD=... {variant})")
    return p


def call(variant, endpoint, proto="query", extra_env=None, timeout=60, wrapper=None,
         argv_tail=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("LOG_LEVEL",)}
    env.update(AWS_ACCESS_KEY_ID="AKIDFAULTTEST", AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_SESSION_TOKEN=TOKEN, AWS_REGION="eu-west-1", AWS_ENDPOINT_URL=endpoint,
               LOG_LEVEL="debug")
    env.update(extra_env or {})
    if proto == "query":
        argv = [str(tool(variant)), "query", "rds", "2014-10-31", "DescribeDBSnapshots",
                "DBSnapshotIdentifier=my-snap"]
    elif proto == "json":
        argv = [str(tool(variant)), "json", "kms", "TrentService.DescribeKey",
                '{"KeyId":"alias/aws/rds"}']
    else:
        argv = [str(tool(variant)), proto] + argv_tail
    t0 = time.monotonic()
    p = subprocess.run((wrapper or []) + argv, env=env, capture_output=True, timeout=timeout)
    elapsed = time.monotonic() - t0
    out, err = p.stdout.decode(), p.stderr.decode()
    # Never a crash, never a sanitizer report, never a secret in any output.
    assert p.returncode in (0, 1), f"rc={p.returncode}\n{err[-3000:]}"
    assert "AddressSanitizer" not in err and "runtime error" not in err, err[-3000:]
    assert "LeakSanitizer" not in err, err[-3000:]
    for s in (SECRET, TOKEN, "assumedSECRET", "assumedTOKEN"):
        assert s not in out and s not in err
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    assert lines, f"no JSON result; stderr:\n{err[-2000:]}"
    return json.loads(lines[-1]), elapsed, err


def key(scenario):
    return f"{scenario}/{uuid.uuid4().hex}"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("proto", ["query", "json"])
def test_ok_and_signed(server, variant, proto):
    path = key("ok")
    res, _, _ = call(variant, server.url(path), proto)
    assert res["ok"] is True
    assert server.count(path) == 1
    h = server.last_headers
    assert h["X-Amz-Security-Token"] == TOKEN
    assert "/eu-west-1/" in h["Authorization"]
    if proto == "json":
        assert h["X-Amz-Target"] == "TrentService.DescribeKey"
        assert h["Content-Type"] == "application/x-amz-json-1.1"
        assert res["result"]["KeyMetadata"]["KeyId"] == "k-1"
    else:
        assert h["Content-Type"] == "application/x-www-form-urlencoded; charset=utf-8"
        assert server.last_body == (b"Action=DescribeDBSnapshots&Version=2014-10-31"
                                    b"&DBSnapshotIdentifier=my-snap")
        assert res["root"] == "DescribeDBSnapshotsResponse"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("scheme", ["HTTP", "Http"])
def test_upper_case_scheme_accepted(server, variant, scheme):
    """AWS_ENDPOINT_URL=HTTP://... is the same URL (schemes are case-insensitive): the call
    is signed and sent, never "SigningFailed" with a misleading credentials hint."""
    path = key("ok")
    url = server.url(path)
    res, _, _ = call(variant, scheme + url[len("http"):])
    assert res["ok"] is True, res
    assert server.count(path) == 1


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("proto", ["query", "json"])
def test_throttled_twice_then_answers(server, variant, proto):
    path = key("throttle/2")
    res, elapsed, log = call(variant, server.url(path), proto)
    assert res["ok"] is True
    assert server.count(path) == 3
    # Two backoffs of full jitter (base 100 ms): well under a second.
    assert elapsed < 5
    assert log.count('"aws call attempt"') == 3


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("proto", ["query", "json"])
def test_throttled_beyond_max_attempts(server, variant, proto):
    path = key("throttle/5")
    res, _, _ = call(variant, server.url(path), proto)
    assert res["ok"] is False
    assert res["code"] == ("Throttling" if proto == "query" else "ThrottlingException")
    assert res["retryable"] is True
    assert res["http_status"] == 400
    assert server.count(path) == 3  # SDK standard mode: 3 attempts


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("status,code", [(500, "InternalFailure"), (503, "ServiceUnavailable")])
def test_server_errors_retried(server, variant, status, code):
    path = key(f"status/{status}")
    res, _, _ = call(variant, server.url(path))
    assert (res["ok"], res["code"], res["http_status"]) == (False, code, status)
    assert res["retryable"] is True
    assert res["request_id"] == f"req-{code}"
    assert server.count(path) == 3


@pytest.mark.parametrize("variant", VARIANTS)
def test_kms_internal_error_retried(server, variant):
    path = key("status/500")
    res, _, _ = call(variant, server.url(path), "json")
    assert res["code"] == "KMSInternalException"
    assert res["request_id"] == "hdr-req-id"
    assert server.count(path) == 3


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("proto", ["query", "json"])
def test_client_error_not_retried(server, variant, proto):
    path = key("denied")
    res, _, _ = call(variant, server.url(path), proto)
    assert (res["code"], res["http_status"], res["retryable"]) == ("AccessDenied", 403, False)
    assert server.count(path) == 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_connection_refused(variant):
    res, elapsed, log = call(variant, refused_url())
    assert (res["code"], res["retryable"], res["http_status"]) == ("NetworkError", True, 0)
    assert log.count('"aws call attempt"') == 3
    assert elapsed < 10


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("scenario", ["reset", "truncated"])
def test_reset_and_truncated_retried(server, variant, scenario):
    path = key(scenario)
    res, _, _ = call(variant, server.url(path))
    assert (res["ok"], res["code"], res["retryable"]) == (False, "NetworkError", True)
    assert server.count(path) == 3


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("proto", ["query", "json"])
def test_malformed_body(server, variant, proto):
    path = key("malformed")
    res, _, _ = call(variant, server.url(path), proto)
    assert (res["ok"], res["code"], res["retryable"]) == (False, "MalformedResponse", False)
    assert res["http_status"] == 200
    assert server.count(path) == 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_huge_response_refused(server, variant):
    path = key("huge/64")  # 64 MiB; the bound is 8 MiB and no real response is near it
    res, elapsed, _ = call(variant, server.url(path))
    assert (res["ok"], res["code"], res["retryable"]) == (False, "ResponseTooLarge", False)
    assert server.count(path) == 1
    assert elapsed < 20


@pytest.mark.parametrize("variant", VARIANTS)
def test_slow_response_past_deadline(server, variant):
    path = key("slow/8")
    # 3.5 s to the deadline minus the 2 s margin: one attempt of 1.5 s, then stop.
    res, elapsed, _ = call(variant, server.url(path), extra_env={"AWS_CALL_DEADLINE_MS": "3500"})
    assert (res["ok"], res["code"]) == (False, "DeadlineExceeded")
    assert "deadline" in res["message"]
    assert server.count(path) == 1
    assert elapsed < 3.5


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_time_left_sends_nothing(server, variant):
    path = key("ok")
    res, _, _ = call(variant, server.url(path), extra_env={"AWS_CALL_DEADLINE_MS": "1500"})
    assert res["code"] == "DeadlineExceeded"
    assert server.count(path) == 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_attempt_timeout_retried(server, variant):
    path = key("slow/3")
    res, elapsed, _ = call(variant, server.url(path),
                           extra_env={"AWS_CALL_ATTEMPT_TIMEOUT_MS": "400"})
    assert (res["code"], res["retryable"]) == ("Timeout", True)
    assert server.count(path) == 3
    assert elapsed < 3


@pytest.mark.parametrize("variant", VARIANTS)
def test_connection_kept_alive(server, variant):
    """Many calls on one client: the server sees one TCP connection reused."""
    path = key("ok")
    res, _, _ = call(variant, server.url(path), extra_env={"AWS_CALL_REPEAT": "20"})
    assert res["calls"] == 20
    assert server.count(path) == 20
    assert server.connections(path) == 1


VALGRIND_CASES = ["throttle/1", "malformed", "huge/16", "reset", "denied"]


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.parametrize("scenario", VALGRIND_CASES)
def test_valgrind_clean(server, scenario):
    path = key(scenario)
    wrapper = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
               "--error-exitcode=99"]
    res, _, err = call("dev", server.url(path), wrapper=wrapper, timeout=120)
    assert "definitely lost" not in err and "Invalid read" not in err, err[-3000:]
    assert server.count(path) >= 1
    assert res["ok"] is (scenario == "throttle/1")


ROLE = "arn:aws:iam::444455556666:role/snapferry-backup"


@pytest.mark.parametrize("variant", VARIANTS)
def test_assumed_role_credentials_cached(server, variant):
    """Valid for an hour: three asks, one AssumeRole; another ExternalId is its own entry."""
    path = key("assume/3600")
    res, _, _ = call(variant, server.url(path), "assume", argv_tail=[ROLE, "ext/id=1", "3"])
    assert res["ok"] is True
    assert res["keys"] == ["ASIAFAULT1"] * 3 + ["ASIAFAULT2"]
    assert server.count(path) == 2
    assert b"&ExternalId=other-external-id&DurationSeconds=900" in server.last_body


@pytest.mark.parametrize("variant", VARIANTS)
def test_assumed_role_refreshed_near_expiry(server, variant):
    """Credentials within 5 minutes of Expiration are fetched again each time."""
    path = key("assume/200")
    res, _, _ = call(variant, server.url(path), "assume", argv_tail=[ROLE, "-", "3"])
    assert res["keys"] == ["ASIAFAULT1", "ASIAFAULT2", "ASIAFAULT3", "ASIAFAULT4"]
    assert server.count(path) == 4


@pytest.mark.parametrize("variant", VARIANTS)
def test_assume_role_error_is_clear(server, variant):
    path = key("denied")
    res, _, _ = call(variant, server.url(path), "assume", argv_tail=[ROLE, "-", "1"])
    assert (res["ok"], res["code"], res["http_status"]) == (False, "AccessDenied", 403)
    assert server.count(path) == 1


def list_snapshots(variant, endpoint):
    """The awsop tool's list-snapshots (rds_list_snapshots, page by page) at ${endpoint}."""
    exe = BUILD / variant / "tools" / "awsop"
    if not exe.exists():
        pytest.skip(f"{exe} is not built (make BUILD=... {variant})")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKIDFAULTTEST", AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_REGION="eu-west-1", AWS_ENDPOINT_URL=endpoint)
    p = subprocess.run([str(exe), "list-snapshots", "instance"], env=env,
                       capture_output=True, timeout=120)
    err = p.stderr.decode()
    assert p.returncode in (0, 1), f"rc={p.returncode}\n{err[-3000:]}"
    assert "AddressSanitizer" not in err and "runtime error" not in err, err[-3000:]
    return json.loads(p.stdout.decode().splitlines()[-1])


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("chain,pages", [
    ("A,B,A", 3),         # A, B, then A again: a cycle, not 10,000 pages
    ("A,B,C,B", 4),
    ("A,A", 2),           # the same Marker twice in a row
])
def test_listing_refuses_a_marker_cycle(server, variant, chain, pages):
    path = key(f"markers/{chain}")
    out = list_snapshots(variant, server.url(path))
    assert out["ok"] is False, out
    assert out["error"]["code"] == "MalformedResponse"
    assert "repeated a Marker" in out["error"]["message"]
    assert server.count(path) == pages


@pytest.mark.parametrize("variant", VARIANTS)
def test_listing_follows_distinct_markers(server, variant):
    path = key("markers/A,B,C")
    out = list_snapshots(variant, server.url(path))
    assert out["ok"] is True, out
    assert out["result"]["ids"] == ["snap-1", "snap-2", "snap-3", "snap-4"]
    assert server.count(path) == 4


@pytest.mark.parametrize("variant", VARIANTS)
def test_assumed_role_epoch_expiration_is_not_never(server, variant):
    """An Expiration of the epoch is no answer, never "does not expire" (cached forever)."""
    path = key("assume/epoch")
    res, _, _ = call(variant, server.url(path), "assume", argv_tail=[ROLE, "-", "2"])
    assert (res["ok"], res["code"]) == (False, "MalformedResponse"), res
    assert server.count(path) == 1


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seconds,keys,assumes", [
    # Expiring within the refresh margin: fresh credentials before every call, so none
    # can lapse mid-invocation (an invocation may run 900 s).
    (200, ["ASIAFAULT2", "ASIAFAULT3", "ASIAFAULT4"], 4),
    # Valid for an hour: one AssumeRole serves every call.
    (3600, ["ASIAFAULT1"] * 3, 1),
])
def test_backup_credentials_fresh_for_each_call(server, variant, seconds, keys, assumes):
    sts, rds = key(f"assume/{seconds}"), key("ok")
    res, _, _ = call(variant, server.url(rds), "backup", argv_tail=[ROLE, "3"],
                     extra_env={"AWS_ENDPOINT_URL_STS": server.url(sts)})
    assert res["ok"] is True, res
    assert res["keys"] == keys
    assert server.count(sts) == assumes and server.count(rds) == 3


def _peak_rss_kib(argv, env):
    """Run ${argv}; its stdout and its own peak resident set size (KiB).  Measured by GNU
    time, a small process: Linux carries a parent's high-water RSS into a child across
    fork/exec, so wait4 from this (large) pytest process would report pytest's size."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time is None:
        pytest.fail("GNU time (/usr/bin/time, Debian package 'time') is missing: make setup")
    with tempfile.NamedTemporaryFile("r") as f:
        p = subprocess.run([gnu_time, "-q", "-f", "%M", "-o", f.name] + argv, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
        return p.stdout.decode(), int(f.read().strip().splitlines()[-1])


def test_xml_element_flood_bounded(server):
    """8 MiB of <x/> (2 million elements) parsed to ~289 MB before: now refused before
    parsing, as MalformedResponse, with the peak RSS of the process kept small."""
    n = (8 << 20) // 4 - 16
    path = key(f"elements/{n}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKIDFAULTTEST", AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_REGION="eu-west-1", AWS_ENDPOINT_URL=server.url(path))
    out, rss = _peak_rss_kib([str(tool("dev")), "query", "rds", "2014-10-31",
                              "DescribeDBSnapshots"], env)
    res = json.loads(out.splitlines()[-1])
    assert (res["ok"], res["code"]) == (False, "MalformedResponse"), res
    assert "elements" in res["message"]
    assert rss < 64 * 1024, f"peak RSS {rss} KiB"
    # A listing of ordinary size still parses.
    path = key("elements/20000")
    env["AWS_ENDPOINT_URL"] = server.url(path)
    out, _ = _peak_rss_kib([str(tool("dev")), "query", "rds", "2014-10-31",
                            "DescribeDBSnapshots"], env)
    assert json.loads(out.splitlines()[-1])["ok"] is True


def test_no_secret_left_in_freed_heap(server):
    """Session tokens, the secret key and signed Authorization lines must not survive in
    the heap once the calls are over: before, libcurl's freed request buffers held 5 copies
    of the token and 4 Authorization lines after 5 calls, libxml2's the assumed token."""
    p = BUILD / "dev" / "tools" / "heapscan"
    if not p.exists():
        pytest.skip(f"{p} is not built")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKIDFAULTTEST", AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_SESSION_TOKEN=TOKEN, AWS_REGION="eu-west-1",
               AWS_ENDPOINT_URL_RDS=server.url(key("ok")),
               AWS_ENDPOINT_URL_STS=server.url(key("assume/3600")))
    env["HEAPSCAN_LIVE"] = "1"
    out = subprocess.run([str(p), "5"], env=env, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    live, res = (json.loads(ln) for ln in out.stdout.decode().splitlines())
    # While the clients live: only snapferry's own credential copy (the environment's, which
    # both clients borrow: before, each client held a copy too), no request line kept by
    # libcurl.
    assert live["when"] == "live" and live["hits"]["authorization"] == 0, live
    assert live["hits"]["session_token"] == 1, live
    assert res["when"] == "after" and res["bytes_scanned"] > 0
    assert res["hits"] == {"session_token": 0, "secret_key": 0, "assumed_token": 0,
                           "authorization": 0}, res

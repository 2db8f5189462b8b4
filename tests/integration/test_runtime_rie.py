"""The bootstrap under AWS's Runtime Interface Emulator, and its command line.

Events used here make no AWS call (unknown, foreign, malformed or invalid), so no AWS
emulator is needed: what is under test is the Runtime API loop.  The figures (invocations per
second, start-up time, RSS) are printed; run with -s to see them.
"""
import json
import os
import pathlib
import re
import signal
import subprocess
import time

import pytest

from harness.paths import ROOT, SHARED, binary
from harness.rie_fixtures import GOOD_ENV, base_env, json_lines, pid_alive, rss_kib, skip_or_fail

EVENTS = ROOT / "events"
IGNORED = (EVENTS / "negative-snapshot-deleted.json").read_bytes()
OTHER_REGION = (EVENTS / "negative-other-region.json").read_bytes()
INVALID = (EVENTS / "invalid-advance-no-snapshot.json").read_bytes()
TRACE = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
LIMIT = 6 * 1024 * 1024


def sanitizer_reports(text):
    return [l for l in text.splitlines()
            if "ERROR: AddressSanitizer" in l or "ERROR: LeakSanitizer" in l or "runtime error:" in l]


def started_lines(r):
    return [l for l in r.log_json() if l.get("message") == "runtime started"]


def figure(name, value):
    print(f"\nFIGURE {name}: {value}")


def variant(path):
    return "static" if path == ROOT / "bootstrap" else path.parent.name


# ---- under the emulator ------------------------------------------------------------------

def test_many_invocations_one_process(bootstrap_bin, start_rie):
    t0 = time.monotonic()
    r = start_rie(bootstrap_bin)
    status, body = r.invoke_json(IGNORED)
    first = time.monotonic() - t0
    assert status == 200, body
    assert body["outcome"] == "ignored" and body["event"] == "unknown"
    assert "RDS-EVENT-0041" in body["reason"]
    pids = r.bootstrap_pids()
    assert len(pids) == 1
    pid = pids[0]

    n = 120
    t1 = time.monotonic()
    for i in range(n):
        payload = IGNORED if i % 2 else OTHER_REGION
        status, body = r.invoke_json(payload)
        assert status == 200, body
        if i % 2:
            assert body["outcome"] == "ignored" and body["event"] == "unknown"
        else:
            # a us-east-1 function refuses an eu-west-1 snapshot
            assert body["outcome"] == "ignored" and body["foreign"] is True
            assert body["event"] == "snapshot-created"
    elapsed = time.monotonic() - t1

    # The same process served every invocation: one start, the same pid still alive.
    assert r.bootstrap_pids() == [pid]
    starts = started_lines(r)
    assert len(starts) == 1 and starts[0]["pid"] == pid
    handled = {l["requestId"] for l in r.log_json() if l.get("message") in ("event ignored",
                                                                           "foreign event refused")}
    assert len(handled) == n + 1
    assert not sanitizer_reports(r.log())
    figure(f"{variant(bootstrap_bin)}: invocations/s over {n}", f"{n / elapsed:.0f}")
    figure(f"{variant(bootstrap_bin)}: first invocation incl. emulator start (ms)",
           f"{first * 1000:.0f}")
    figure(f"{variant(bootstrap_bin)}: RSS after {n + 1} invocations (KiB)", rss_kib(pid))
    init = re.search(r"INIT REPORT\(durationMs: ([0-9.]+)\)", r.log())
    assert init, "the emulator reported no init duration"
    figure(f"{variant(bootstrap_bin)}: init, exec to first GET /next (ms, emulator's INIT REPORT)",
           init.group(1))


def test_malformed_event_then_loop_goes_on(bootstrap_bin, start_rie):
    r = start_rie(bootstrap_bin)
    for payload, words in [(b'{"detail-type": "RDS DB Snapshot Event", ', "not valid JSON"),
                           (b"[1, 2, 3]", "not a JSON object"),
                           (b'{"source": "aws.rds", "detail-type": "RDS DB Snapshot Event", '
                            b'"detail": {"EventID": 42}}', "detail.\"EventID\" must be a string"),
                           (b"", "empty payload")]:
        status, body = r.invoke_json(payload)
        assert status == 200
        assert body["errorType"] == "Event.Malformed", body
        assert words in body["errorMessage"]
        assert body["stackTrace"] == []
    status, body = r.invoke_json(IGNORED)
    assert status == 200 and body["outcome"] == "ignored"
    assert len(r.bootstrap_pids()) == 1 and len(started_lines(r)) == 1


def test_handler_error(bootstrap_bin, start_rie):
    r = start_rie(bootstrap_bin)
    status, body = r.invoke_json(INVALID)
    assert status == 200
    assert body["errorType"] == "Event.Invalid"
    assert "snapshot" in body["errorMessage"]
    status, body = r.invoke_json({"action": "frobnicate"})
    assert body["errorType"] == "Event.Invalid" and "frobnicate" in body["errorMessage"]
    # The error document reached the emulator with its type header.
    assert "Lambda-Runtime-Function-Error-Type:[Event.Invalid]" in r.log() or \
        any(l.get("errorType") == "Event.Invalid" for l in r.log_json())
    status, body = r.invoke_json(IGNORED)
    assert status == 200 and body["outcome"] == "ignored"


@pytest.mark.parametrize("var,value,words", [
    ("BACKUP_ACCOUNT_ID", "12345", "12 digits"),
    ("BACKUP_ROLE_ARN", "arn:aws:iam::444455556666:user/bob", "role ARN"),
    ("WAIT_SECONDS", "900", "between 0 and 840"),
    ("NAME_PREFIX", "SnapFerry", "lower case"),
    ("AWS_REGION", None, "required"),
    ("BACKUP_REGIONS", "us-east-1,us-east-1", "lists us-east-1 twice"),
    ("BACKUP_REGIONS", "us-east-1,eu-west-1", "BACKUP_KMS_KEY_ID has no key in eu-west-1"),
    ("BACKUP_KMS_KEY_ID", "arn:aws:kms:us-east-1:444455556666:key/5678abcd-12ab-34cd-56ef-"
     "1234567890ab,arn:aws:kms:eu-west-1:444455556666:key/5678abcd-12ab-34cd-56ef-1234567890ab",
     "has a key in eu-west-1, which is not a Region of BACKUP_REGIONS"),
])
def test_bad_configuration(bootstrap_bin, start_rie, var, value, words):
    env = dict(GOOD_ENV)
    if value is None:
        env.pop(var)
    else:
        env[var] = value
    r = start_rie(bootstrap_bin, env)
    status, body = r.invoke(IGNORED)
    assert status == 502
    doc = json.loads(body)
    assert doc["errorType"] == "Runtime.ConfigInvalid"
    assert var in doc["errorMessage"] and words in doc["errorMessage"]
    assert r.wait_no_bootstrap(), "the bootstrap did not exit"
    assert "exited: exit status 1" in r.log()
    # The emulator starts a new process on the next invoke: same answer.
    status, body = r.invoke(IGNORED)
    assert status == 502 and var in json.loads(body)["errorMessage"]


def test_oversized_event_then_next_works(bootstrap_bin, start_rie):
    r = start_rie(bootstrap_bin)
    r.invoke_json(IGNORED)
    pid = r.bootstrap_pids()[0]
    big = b'{"pad":"' + b"x" * (7 * 1000 * 1000) + b'"}'
    status, body = r.invoke_json(big)
    assert status == 200
    assert body["errorType"] == "Event.TooLarge"
    # The emulator truncates to 6 MiB + 100 bytes before handing the event over.
    assert f"{LIMIT + 100} bytes" in body["errorMessage"]
    assert f"limit of {LIMIT} bytes" in body["errorMessage"]
    status, body = r.invoke_json(IGNORED)
    assert status == 200 and body["outcome"] == "ignored"
    # Exactly at the limit is still parsed (and here, malformed: no closing quote).
    status, body = r.invoke_json(b'{"pad":"' + b"y" * (LIMIT - 8))
    assert body["errorType"] == "Event.Malformed"
    assert r.bootstrap_pids() == [pid]
    figure(f"{variant(bootstrap_bin)}: RSS after a 7 MB event (KiB)", rss_kib(pid))


def test_sigterm_ends_cleanly(bootstrap_bin, start_rie):
    r = start_rie(bootstrap_bin)
    r.invoke_json(IGNORED)
    pid = r.bootstrap_pids()[0]
    time.sleep(0.2)  # now blocked in GET /next, with no timeout
    t = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    deadline = t + 5
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(pid), "SIGTERM did not end the bootstrap"
    figure(f"{variant(bootstrap_bin)}: exit after SIGTERM (ms)", f"{(time.monotonic() - t) * 1000:.0f}")
    stopping = [l for l in r.log_json() if l.get("message") == "runtime stopping"]
    assert stopping and stopping[0]["cause"] == "signal" and stopping[0]["invocations"] == 1
    time.sleep(0.2)
    assert "exit status 1" not in r.log()
    assert not sanitizer_reports(r.log())


def test_valgrind_clean(start_rie, valgrind_wrapper):
    dev = binary("dev")
    if not dev.exists():
        skip_or_fail(f"{dev} is missing")
    script, vlog = valgrind_wrapper(dev)
    r = start_rie(script)
    for payload in (IGNORED, OTHER_REGION, b"{not json", INVALID, b"x" * (LIMIT + 10), IGNORED):
        status, body = r.invoke(payload, timeout=120)
        assert status == 200, body
    pid = r.bootstrap_pids()[0]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(pid)
    text = vlog.read_text()
    assert "ERROR SUMMARY: 0 errors" in text, text[-3000:]
    assert "definitely lost" not in text or "definitely lost: 0 bytes" in text


# ---- against a home-made Runtime API (what the emulator can't show) ------------------------

def run_fake(bin_path, api, extra=None, wait=10):
    env = base_env({**GOOD_ENV, "AWS_LAMBDA_RUNTIME_API": api.address, "LOG_LEVEL": "debug",
                    **(extra or {})})
    p = subprocess.Popen([str(bin_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=wait)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"bootstrap still running after {wait}s: {out[-2000:]!r} {err[-2000:]!r}")
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


@pytest.fixture(params=["dev", "asan"])
def built(request):
    path = binary(request.param)
    if not path.exists():
        skip_or_fail(f"{path} is missing")
    return path


def test_trace_id_propagation_and_500_exit(built, fake_runtime_api):
    api = fake_runtime_api
    api.queue_event("req-1", IGNORED, trace=TRACE)
    api.queue_event("req-2", IGNORED)
    api.queue_status(500)
    t = time.monotonic()
    rc, out, err = run_fake(built, api)
    assert rc == 1, err  # 500 from the Runtime API: exit promptly, non-zero
    assert time.monotonic() - t < 5
    lines = json_lines(out)
    inv = [l for l in lines if l.get("message") == "invocation"]
    # The handler saw _X_AMZN_TRACE_ID for req-1 only: set per invocation, unset after.
    assert [(l["requestId"], l["traceId"]) for l in inv] == [("req-1", TRACE)]
    assert [p[0] for p in api.posts] == ["/2018-06-01/runtime/invocation/req-1/response",
                                         "/2018-06-01/runtime/invocation/req-2/response"]
    # next, response, next, response, next: all over one kept-alive connection.
    assert len(api.client_ports) == 5 and len(set(api.client_ports)) == 1, api.client_ports
    assert not sanitizer_reports(err)


def test_header_spelling_and_error_document(built, fake_runtime_api):
    api = fake_runtime_api
    api.queue_event("x", INVALID, headers={
        "lambda-runtime-aws-request-id": "  lower-1 ",
        "LAMBDA-RUNTIME-DEADLINE-MS": str(int(time.time() * 1000) + 30000),
        "lambda-runtime-trace-id": TRACE})
    api.queue_status(500)
    rc, out, err = run_fake(built, api)
    assert rc == 1
    path, headers, body = api.posts[0]
    assert path == "/2018-06-01/runtime/invocation/lower-1/error"
    assert headers["Lambda-Runtime-Function-Error-Type"] == "Event.Invalid"
    assert "Expect" not in headers
    doc = json.loads(body)
    assert doc["errorType"] == "Event.Invalid" and doc["stackTrace"] == []
    assert any(l.get("traceId") == TRACE for l in json_lines(out))


def test_post_500_exits_promptly(built, fake_runtime_api):
    api = fake_runtime_api
    api.post_statuses["/response"] = 500
    api.queue_event("req-1", IGNORED)
    api.queue_event("req-2", IGNORED)
    rc, out, err = run_fake(built, api)
    assert rc == 1
    assert len(api.posts) == 1  # it never asked for req-2
    assert api.events.qsize() == 1


def test_sigterm_while_waiting_exits_zero(built, fake_runtime_api):
    env = base_env({**GOOD_ENV, "AWS_LAMBDA_RUNTIME_API": fake_runtime_api.address})
    p = subprocess.Popen([str(built)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    t = time.monotonic()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=5)
    assert p.returncode == 0, err
    assert time.monotonic() - t < 2.5
    assert any(l.get("message") == "runtime stopping" and l["cause"] == "signal"
               for l in json_lines(out.decode()))


# ---- the command line --------------------------------------------------------------------

def cli(bin_path, *args, env=None, stdin=None):
    p = subprocess.run([str(bin_path), *args], env=base_env(GOOD_ENV if env is None else env),
                       input=stdin, capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_cli_version_help_usage(built):
    rc, out, _ = cli(built, "--version")
    assert rc == 0 and out == "snapferry 0.1.0\n"
    rc, out, _ = cli(built, "--help")
    assert rc == 0 and "--event FILE" in out and "--probe-url" in out
    rc, out, err = cli(built)  # neither AWS_LAMBDA_RUNTIME_API nor a flag
    assert rc == 2 and out == "" and "AWS_LAMBDA_RUNTIME_API is not set" in err and "usage:" in err
    rc, _, err = cli(built, "--frob")
    assert rc == 2 and "unknown argument" in err
    rc, _, err = cli(built, "--event")
    assert rc == 2 and "needs a FILE" in err
    n = 20
    t = time.monotonic()
    for _ in range(n):
        cli(built, "--version")
    figure(f"{variant(built)}: bootstrap --version (ms, mean of {n})",
           f"{(time.monotonic() - t) * 1000 / n:.1f}")


def test_cli_event(built):
    rc, out, err = cli(built, "--event", str(EVENTS / "negative-snapshot-deleted.json"))
    assert rc == 0
    doc = json.loads(out)
    assert doc["outcome"] == "ignored" and doc["eventId"] == "RDS-EVENT-0041"
    assert all(l["requestId"] == "local" for l in json_lines(err))   # logs on stderr
    rc, out, _ = cli(built, "--event", "-", stdin=INVALID)
    assert rc == 1 and json.loads(out)["errorType"] == "Event.Invalid"
    rc, out, _ = cli(built, "--event", "-", stdin=b"nope")
    assert rc == 1 and json.loads(out)["errorType"] == "Event.Malformed"
    rc, out, _ = cli(built, "--event", "-", stdin=b" " * (LIMIT + 1))
    assert rc == 1 and json.loads(out)["errorType"] == "Event.TooLarge"
    rc, out, err = cli(built, "--event", "/nonexistent/event.json")
    assert rc == 2 and "/nonexistent/event.json" in err


def test_cli_bad_configuration(built):
    env = dict(GOOD_ENV, BACKUP_EXTERNAL_ID="s3cret value!")
    rc, out, err = cli(built, "--event", str(EVENTS / "manual-sweep.json"), env=env)
    assert rc == 2 and out == ""
    assert "BACKUP_EXTERNAL_ID" in err and "s3cret" not in err
    env = dict(GOOD_ENV)
    del env["SHARE_KMS_KEY_ID"]
    rc, out, err = cli(built, "--event", str(EVENTS / "manual-sweep.json"), env=env)
    assert rc == 2 and "SHARE_KMS_KEY_ID is required" in err


def test_a_failure_is_logged_once(bootstrap_bin, start_rie):
    """The handler logs a failure where it finds it, with its errorType; the runtime loop
    does not log it a second time (it did: "invalid manual action" and then "invocation
    failed" for the same event)."""
    r = start_rie(bootstrap_bin)
    r.new_output()
    status, body = r.invoke_json({"action": "frobnicate"})
    assert body["errorType"] == "Event.Invalid"
    lines = [l for l in json_lines(r.new_output()) if "frobnicate" in json.dumps(l)
             and l.get("level") in ("WARN", "ERROR", "warn", "error")]
    assert len(lines) == 1, lines
    assert lines[0]["errorType"] == "Event.Invalid"

"""Runtime Interface Emulator fixtures (owned by the runtime work); the emulator process
itself (start, invoke, logs, stop) is harness/rie.py's Emulator, shared with `make demo`.

AWS's Runtime Interface Emulator (build/tools/aws-lambda-rie, installed by `make setup`) runs
a bootstrap exactly as Lambda does: it starts the process on the first invoke, forwards its own
environment to it, serves the Runtime API and answers
`POST /2015-03-31/functions/function/invocations`.

Facts checked in the emulator's source (internal/lambda/rie, rapi/rendering):
- the bootstrap is started lazily, on the first invoke; a failed init answers 502 and the next
  invoke starts a new process;
- event payloads larger than 6 MiB + 100 bytes reach the runtime truncated to that size;
- its default (non-concurrent) mode uses a no-op tracer: `Lambda-Runtime-Trace-Id` is never
  sent, whatever `X-Amzn-Trace-Id` the invoke carries.  Trace propagation is therefore tested
  with `FakeRuntimeApi` below, a home-made Runtime API used only for what the emulator can't
  do (trace header, HTTP 500, header spelling).
"""
import http.server
import json
import os
import pathlib
import queue
import shutil
import threading
import time

import pytest

from harness.paths import binary
from harness.rie import RIE, Emulator, json_lines  # noqa: F401 (json_lines: the tests import it here)

RIE_INSTALL = ("GOBIN=$PWD/build/tools go install github.com/aws/aws-lambda-runtime-interface-emulator/"
               "cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d")

# A configuration that passes validation (the accounts and keys need not exist).
GOOD_ENV = {
    "AWS_REGION": "us-east-1",
    "BACKUP_ACCOUNT_ID": "444455556666",
    "BACKUP_ROLE_ARN": "arn:aws:iam::444455556666:role/snapferry-backup",
    "SHARE_KMS_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "BACKUP_KMS_KEY_ID": "arn:aws:kms:us-east-1:444455556666:key/5678abcd-12ab-34cd-56ef-1234567890ab",
    "LOG_LEVEL": "info",
}


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason):
    """Missing prerequisites skip a developer's run, but fail CI."""
    if in_ci():
        pytest.fail(reason + " (CI=true: prerequisites must be installed)")
    pytest.skip(reason)


def base_env(extra=None):
    """The environment for a bootstrap: a clean PATH/HOME plus the given variables."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "LANG": "C.UTF-8"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra or {})
    return env


def pid_alive(pid):
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


VARIANTS = ["dev", "asan", "static"]


@pytest.fixture(scope="session")
def rie_binary():
    if not RIE.exists():
        skip_or_fail(f"{RIE} is missing; install it with: {RIE_INSTALL}")
    return RIE


@pytest.fixture(params=VARIANTS)
def bootstrap_bin(request):
    """The bootstrap of each build variant (dev, asan, static ./bootstrap)."""
    path = binary(request.param)
    if not path.exists():
        if request.param == "static":
            pytest.skip("static ./bootstrap not built (make)")
        skip_or_fail(f"{path} is missing; build it with make BUILD=... {request.param}")
    return path


@pytest.fixture
def start_rie(rie_binary, tmp_path):
    """start_rie(bootstrap, env) -> Emulator (harness/rie.py) running bootstrap with base_env(env),
    logging to tmp_path/rie-<port>.log; every emulator started is stopped at teardown."""
    started = []

    def start(bootstrap, env=None):
        r = Emulator(bootstrap, base_env(GOOD_ENV if env is None else env), tmp_path)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


# ---- a home-made Runtime API, for what the emulator can't show ---------------------------

class FakeRuntimeApi:
    """Serves queued events on GET .../invocation/next and records every POST.

    Each queued item is (headers dict, body bytes), or an int: answer next with that status.
    With nothing queued, next blocks (like Lambda between events) until stop().
    """

    def __init__(self):
        self.events = queue.Queue()
        self.posts = []
        self.client_ports = []   # the client's port per request: one port = one kept-alive connection
        self.posted = threading.Condition()
        self._stopping = threading.Event()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                api.client_ports.append(self.client_address[1])
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                item = None
                while item is None and not api._stopping.is_set():
                    try:
                        item = api.events.get(timeout=0.1)
                    except queue.Empty:
                        pass
                if item is None:
                    return
                if isinstance(item, int):
                    body = b'{"errorMessage":"injected","errorType":"InternalServerError"}'
                    self.send_response(item)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                headers, body = item
                self.send_response(200)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                api.client_ports.append(self.client_address[1])
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                status = api.post_status(self.path)
                with api.posted:
                    api.posts.append((self.path, dict(self.headers), body))
                    api.posted.notify_all()
                out = b'{"status":"OK"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.post_statuses = {}

    def post_status(self, path):
        for suffix, status in self.post_statuses.items():
            if path.endswith(suffix):
                return status
        return 202

    def queue_event(self, request_id, body, headers=None, trace=None):
        h = {"Lambda-Runtime-Aws-Request-Id": request_id,
             "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60000),
             "Lambda-Runtime-Invoked-Function-Arn":
                 "arn:aws:lambda:us-east-1:123456789012:function:snapferry"}
        if trace:
            h["Lambda-Runtime-Trace-Id"] = trace
        if headers is not None:
            h = headers
        self.events.put((h, body if isinstance(body, bytes) else json.dumps(body).encode()))

    def queue_status(self, status):
        self.events.put(status)

    def wait_posts(self, n, timeout=10):
        with self.posted:
            return self.posted.wait_for(lambda: len(self.posts) >= n, timeout=timeout)

    def stop(self):
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_runtime_api():
    api = FakeRuntimeApi()
    yield api
    api.stop()


@pytest.fixture
def valgrind_wrapper(tmp_path):
    """valgrind_wrapper(bootstrap) -> (script, log): a bootstrap that execs valgrind."""
    vg = shutil.which("valgrind")
    if vg is None:
        skip_or_fail("valgrind is not installed")

    def make(bootstrap):
        log = tmp_path / "valgrind.log"
        script = tmp_path / "bootstrap-valgrind"
        script.write_text(
            "#!/bin/sh\n"
            f"exec {vg} --error-exitcode=99 --leak-check=full "
            f"--errors-for-leak-kinds=definite,indirect --track-origins=yes "
            f"--log-file={log} {pathlib.Path(bootstrap).resolve()} \"$@\"\n")
        script.chmod(0o755)
        return script, log

    return make

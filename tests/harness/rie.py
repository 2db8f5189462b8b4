"""AWS's Runtime Interface Emulator (build/tools/aws-lambda-rie) as a process we start, invoke
and stop.  One implementation for the tests' fixtures (harness/rie_fixtures.py) and for
`make demo` (scripts/demo.py), so it must not import pytest.

The emulator runs in its own process group, on free loopback ports (its invoke endpoint and
its Runtime API: the default 9001 would collide in parallel); it starts the bootstrap on the
first invoke, and stop() ends the whole group (emulator and bootstrap), SIGTERM then SIGKILL.
"""
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
RIE = ROOT / "build" / "tools" / "aws-lambda-rie"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
START_TIMEOUT_S = 10
STOP_TIMEOUT_S = 5


class EmulatorError(RuntimeError):
    """The emulator did not start; the message carries its output."""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid):
    """Pids whose parent is pid (from /proc)."""
    out = []
    for d in pathlib.Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(d.name))
    return out


def json_lines(text):
    """The JSON objects among the lines of text (the emulator interleaves its own lines)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


class Emulator:
    """One emulator process serving one bootstrap; its output and the bootstrap's go to a file.

    env is the bootstrap's whole environment (the emulator forwards its own).  log is the
    log file, or a directory in which rie-<port>.log is made.
    """

    def __init__(self, bootstrap, env, log, rie=RIE):
        self.bootstrap = pathlib.Path(bootstrap).resolve()
        self.port, self.api_port = free_port(), free_port()
        self.url = "http://127.0.0.1:%d%s" % (self.port, INVOKE_PATH)
        log = pathlib.Path(log)
        self.log_path = log / ("rie-%d.log" % self.port) if log.is_dir() else log
        self._log = open(self.log_path, "wb")
        self._seen = 0
        try:
            self.proc = subprocess.Popen(
                [str(rie), "--runtime-interface-emulator-address", "127.0.0.1:%d" % self.port,
                 "--runtime-api-address", "127.0.0.1:%d" % self.api_port, str(self.bootstrap)],
                env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=str(ROOT))
        except BaseException:
            self._log.close()
            raise
        try:
            if self._wait_listening():
                return
        except BaseException:   # Ctrl-C / SIGTERM while waiting: leave nothing running
            self.stop()
            raise
        self.stop()
        raise EmulatorError("the Runtime Interface Emulator did not start:\n" + self.log())

    def _wait_listening(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def invoke(self, payload, trace=None, timeout=60):
        """POST one event (dict/list as JSON, str or bytes); returns (HTTP status, body bytes)."""
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        if isinstance(payload, str):
            payload = payload.encode()
        req = urllib.request.Request(self.url, data=payload, method="POST")
        if trace:
            req.add_header("X-Amzn-Trace-Id", trace)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def invoke_json(self, payload, **kw):
        status, body = self.invoke(payload, **kw)
        return status, json.loads(body) if body else None

    def _flush(self):
        if not self._log.closed:
            self._log.flush()

    def log(self):
        """Everything written so far."""
        self._flush()
        return self.log_path.read_text(errors="replace")

    def log_json(self):
        return json_lines(self.log())

    def new_output(self):
        """What was written since the last call."""
        self._flush()
        data = self.log_path.read_bytes()
        new, self._seen = data[self._seen:], len(data)
        return new.decode(errors="replace")

    def bootstrap_pids(self):
        return children_of(self.proc.pid)

    def wait_no_bootstrap(self, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.bootstrap_pids():
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        """Stop the emulator and its bootstrap: the whole process group."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._log.close()

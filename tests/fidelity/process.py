"""Start and stop the fidelity server as a child process (for pytest fixtures and
scripts/demo.py): a free port chosen by the server itself, a log file, a bounded wait for
readiness, and a clean stop."""
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time

from .client import Control

TESTS_DIR = pathlib.Path(__file__).resolve().parents[1]
_READY_RE = re.compile(r"FIDELITY READY (http://\S+) \(([\d.]+)s\)")


class FidelityServerError(RuntimeError):
    pass


class FidelityServer:
    """`with FidelityServer() as srv: srv.endpoint ...` or start()/stop()."""

    def __init__(self, log_path=None, python=None, host="127.0.0.1", port=0,
                 start_timeout=60.0, env=None):
        """env: extra environment for the server, e.g. {"MOTO_RDS_SNAPSHOT_LIMIT":
        "20000"} for benchmarks (moto's manual snapshot quota, default 1000)."""
        self.extra_env = dict(env or {})
        self.python = python or sys.executable
        self.host, self.port = host, port
        self.start_timeout = start_timeout
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="fidelity-", suffix=".log")
            os.close(fd)
        self.log_path = pathlib.Path(log_path)
        self.proc = None
        self.endpoint = None
        self.startup_seconds = None   # wall time from spawn to ready
        self.control = None

    def start(self):
        env = dict(os.environ)
        env.pop("MOTO_ACCOUNT_ID", None)  # the account must come from the access key
        env["PYTHONPATH"] = os.pathsep.join(
            [str(TESTS_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env["PYTHONUNBUFFERED"] = "1"
        env.update({k: str(v) for k, v in self.extra_env.items()})
        t0 = time.monotonic()
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [self.python, "-m", "fidelity.server", "--host", self.host,
                 "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                cwd=str(TESTS_DIR))
        finally:
            log.close()
        deadline = t0 + self.start_timeout
        while time.monotonic() < deadline:
            text = self.log()
            m = _READY_RE.search(text)
            if m:
                self.endpoint = m.group(1)
                self.control = Control(self.endpoint)
                self.control.status()  # it answers
                self.startup_seconds = time.monotonic() - t0
                return self
            if self.proc.poll() is not None:
                raise FidelityServerError(
                    f"fidelity server exited with {self.proc.returncode}; "
                    f"log {self.log_path}:\n{text}")
            time.sleep(0.05)
        self.stop()
        raise FidelityServerError(f"fidelity server not ready after {self.start_timeout}s; "
                                  f"log {self.log_path}:\n{self.log()}")

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

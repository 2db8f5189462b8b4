"""Start-up benchmark (not a test): how long the static ./bootstrap takes to start and
exit (--version), and to load its configuration and answer one local invocation
(--event with a manual payload that needs no AWS call), beside /bin/true run the same
way in the same run as the baseline; and the peak RSS of each (GNU time).
Usage: python bench/startup.py [N]   (default N = 300)"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOT = ROOT / "bootstrap"
# Enough configuration for the bootstrap to start; the event is invalid on purpose
# (an unknown action), so the invocation ends without any network access.
ENV = {
    "PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1", "LOG_LEVEL": "error",
    "BACKUP_ACCOUNT_ID": "210987654321",
    "BACKUP_ROLE_ARN": "arn:aws:iam::210987654321:role/snapferry-backup",
    "SHARE_KMS_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    "BACKUP_KMS_KEY_ID": "arn:aws:kms:us-east-1:210987654321:key/66666666-7777-8888-9999-000000000000",
}


def timed(argv, n, stdin=None):
    """Mean wall milliseconds of ${n} runs of ${argv}."""
    t0 = time.perf_counter()
    for _ in range(n):
        subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=ENV)
    return (time.perf_counter() - t0) * 1000.0 / n


def peak_rss_kib(argv, stdin=None):
    with tempfile.NamedTemporaryFile("r") as f:
        subprocess.run(["/usr/bin/time", "-o", f.name, "-f", "%M"] + argv, input=stdin,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        return int(f.read().strip().splitlines()[-1])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    if not BOOT.exists():
        sys.exit("build ./bootstrap first (make)")
    event = json.dumps({"action": "no-such-action"}).encode()
    rows = [
        ("/bin/true (baseline)", ["/bin/true"], None),
        ("bootstrap --version", [str(BOOT), "--version"], None),
        ("bootstrap --event (config + one invocation)", [str(BOOT), "--event", "-"], event),
    ]
    base = None
    print("%-46s %10s %8s %12s" % ("start-up", "ms/run", "ratio", "peak RSS KiB"))
    for name, argv, stdin in rows:
        ms = timed(argv, n, stdin)
        base = base or ms
        print("%-46s %10.2f %7.1fx %12d" % (name, ms, ms / base, peak_rss_kib(argv, stdin)))


if __name__ == "__main__":
    main()

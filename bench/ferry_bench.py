"""Ferry benchmark (not a test): AWS API calls per event type, counted from the fidelity
layer's call log, and one sweep over N source snapshots (wall time, peak RSS of the
bootstrap, calls).  Usage:
    SNAPFERRY_BUILD=build/x python bench/ferry_bench.py [N]      (default N = 10000)
Needs moto[server] 5.2.5 and boto3 (the test requirements)."""
import collections
import concurrent.futures
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from fidelity.process import FidelityServer   # noqa: E402
from fidelity.world import build_world, key_policy_for_backup   # noqa: E402
import ferry_support as fs   # noqa: E402


def invoke(world, event, keeper_env=None, **env):
    """Run one invocation (the ferry, or the keeper in ${keeper_env}: the backup account's
    own credentials); (result, wall seconds, peak RSS KiB)."""
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LOG_LEVEL": "warn"}
    e.update(keeper_env if keeper_env is not None else world.env(**env))
    # GNU time measures the bootstrap alone (a child forked from this Python process
    # would count Python's pages in its ru_maxrss until exec).
    rss_file = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"ferry-rss-{os.getpid()}"
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-o", str(rss_file), "-f", "%M",
                        str(fs.bootstrap_path("dev")), "--event", "-"],
                       input=json.dumps(event).encode(), capture_output=True, env=e)
    secs = time.monotonic() - t0
    rss = int(rss_file.read_text().strip().splitlines()[-1])
    return json.loads(p.stdout or b"null"), secs, rss


def calls_during(aws, fn):
    mark = max([c["seq"] for c in aws.calls()] or [0])
    res = fn()
    calls = aws.calls(since=mark)
    return res, calls


def fmt(calls):
    c = collections.Counter(f'{x["service"]}:{x["action"]}' for x in calls)
    return f"{len(calls):3d}  " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))


def per_event(srv):
    aws = srv.control
    rows = []

    def fresh():
        aws.reset_all()
        return build_world(srv.endpoint)

    w = fresh()
    ev = fs.snapshot_event(w, w.snapshot_id)
    (r, _, _), c = calls_during(aws, lambda: invoke(w, ev))
    rows.append(("manual snapshot, aws/rds key (whole flow)", r["outcome"], c))
    (r, _, _), c = calls_during(aws, lambda: invoke(w, ev))
    rows.append(("same event again (duplicate)", r["outcome"], c))
    (r, _, _), c = calls_during(aws, lambda: invoke(
        w, fs.snapshot_event(w, w.snapshot_id, account="999999999999")))
    rows.append(("event of another account", r["outcome"], c))
    kenv = fs.keeper_env(w)     # set up outside the counted window
    (r, _, _), c = calls_during(aws, lambda: invoke(w, {"action": "restore", "db": "proddb"},
                                                         keeper_env=kenv))
    rows.append(("manual restore (keeper)", r["outcome"], c))

    w = fresh()
    aws.hold(True)
    (r, _, _), c = calls_during(aws, lambda: invoke(w, ev))
    rows.append(("async: created event, T creating", r["outcome"], c))
    (r, _, _), c = calls_during(aws, lambda: invoke(w, ev))
    rows.append(("async: created event again, T still creating", r["outcome"], c))
    aws.release()
    (r, _, _), c = calls_during(aws, lambda: invoke(
        w, fs.snapshot_event(w, fs.transit_id(w.snapshot_id), "RDS-EVENT-0197")))
    rows.append(("async: copy-finished event (share, copy B)", r["outcome"], c))
    aws.release()
    aws.hold(False)
    (r, _, _), c = calls_during(aws, lambda: invoke(w, {"action": "advance",
                                                        "snapshot": w.snapshot_id}))
    rows.append(("async: B available (un-share, delete T)", r["outcome"], c))

    w = fresh()
    key = w.create_key(policy=key_policy_for_backup(w.prod_account, w.backup_account))
    w.create_db("cmkdb", kms_key_id=key["Arn"])
    w.create_snapshot("cmkdb", "cmkdb-snap")
    (r, _, _), c = calls_during(aws, lambda: invoke(w, fs.snapshot_event(w, "cmkdb-snap")))
    rows.append(("manual snapshot, customer key (via T)", r["outcome"], c))
    w.create_db("plaindb", encrypted=False)
    w.create_snapshot("plaindb", "plaindb-snap")
    (r, _, _), c = calls_during(aws, lambda: invoke(w, fs.snapshot_event(w, "plaindb-snap")))
    rows.append(("manual snapshot, unencrypted", r["outcome"], c))
    snap = aws.automated_snapshot(w.prod_account, w.region, "plaindb")
    (r, _, _), c = calls_during(aws, lambda: invoke(
        w, fs.snapshot_event(w, snap["id"], "RDS-EVENT-0091")))
    rows.append(("automated snapshot", r["outcome"], c))
    w.create_cluster("aurora1")
    w.create_cluster_snapshot("aurora1", "aurora1-snap")
    (r, _, _), c = calls_during(aws, lambda: invoke(
        w, fs.snapshot_event(w, "aurora1-snap", "RDS-EVENT-0075", cluster=True)))
    rows.append(("Aurora cluster snapshot", r["outcome"], c))
    w.create_cluster("maz1", engine="postgres")
    w.create_cluster_snapshot("maz1", "maz1-snap")
    (r, _, _), c = calls_during(aws, lambda: invoke(
        w, fs.snapshot_event(w, "maz1-snap", "RDS-EVENT-0075", cluster=True)))
    rows.append(("Multi-AZ cluster snapshot (skipped)", r["outcome"], c))

    # Several backup Regions (issue 10): the two remote Regions R1, R2 each get a key of
    # the backup account; the source Region is either not a destination (the ferry copies
    # to both in one step) or one of them (the ferry copies there; the keeper chains).
    w = fresh()
    from fidelity.world import admin_client
    keys = {}
    for reg in ("eu-west-1", "ap-southeast-2"):
        kms = admin_client(w.endpoint, "kms", w.backup_account, reg)
        keys[reg] = kms.create_key(Description=f"backup key {reg}")["KeyMetadata"]["Arn"]
    two = {"BACKUP_REGION": "", "BACKUP_REGIONS": "eu-west-1,ap-southeast-2",
           "BACKUP_KMS_KEY_ID": f'{keys["eu-west-1"]},{keys["ap-southeast-2"]}'}
    (r, _, _), c = calls_during(aws, lambda: invoke(w, ev, **two))
    rows.append(("two Regions, single step to both (aws/rds)", r["outcome"], c))
    (r, _, _), c = calls_during(aws, lambda: invoke(w, ev, **two))
    rows.append(("two Regions, same event again (duplicate)", r["outcome"], c))
    w = fresh()
    kms = admin_client(w.endpoint, "kms", w.backup_account, "eu-west-1")
    k1 = kms.create_key(Description="backup key eu-west-1")["KeyMetadata"]["Arn"]
    chain = {"BACKUP_REGION": "", "BACKUP_REGIONS": f"{w.region},eu-west-1",
             "BACKUP_KMS_KEY_ID": f"{w.backup_key_arn},{k1}"}
    (r, _, _), c = calls_during(aws, lambda: invoke(w, ev, **chain))
    rows.append(("two Regions, source Region one (ferry part)", r["outcome"], c))

    print("API calls per event type (fidelity call log):")
    for name, outcome, c in rows:
        print(f"  {name:48s} {outcome:8s} {fmt(c)}")


def sweep_bench(srv, n, dbs=100):
    aws = srv.control
    aws.reset_all()
    w = build_world(srv.endpoint)
    # The fidelity layer's manual-snapshot quota (AWS's default 100, adjustable): raised
    # in both accounts as a large fleet's would be.
    for account in (w.prod_account, w.backup_account):
        aws.snapshot_quota(account, w.region, 2 * n + 1000)
    rds = w.admin("rds")
    t0 = time.monotonic()
    for d in range(dbs):
        w.create_db(f"bench-{d:03d}", encrypted=False)

    def mk(i):
        rds.create_db_snapshot(DBInstanceIdentifier=f"bench-{i % dbs:03d}",
                               DBSnapshotIdentifier=f"bench-{i % dbs:03d}-s{i:05d}")
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(mk, range(n)))
    print(f"\nsweep over {n} source snapshots of {dbs} DBs (set-up {time.monotonic() - t0:.0f} s;"
          f" EXCLUDE_PATTERN keeps 1 DB: {n // dbs} snapshots to ferry, the rest ruled out"
          " from the listing)")
    env = {"EXCLUDE_PATTERN": "^bench-(0[0-9][1-9]|0[1-9][0-9])$|^proddb$"}
    for label in ("first sweep (ferries)", "second sweep (steady state)"):
        (r, secs, rss), c = calls_during(aws, lambda: invoke(w, fs.SWEEP, **env))
        cnt = r.get("counts", {})
        print(f"  {label:28s} {r['outcome']:8s} {secs:6.1f} s  peak RSS {rss / 1024:5.1f} MiB"
              f"  listed {cnt.get('listed')}  advanced {cnt.get('advanced')}"
              f"  backup copies {cnt.get('backupCopies')}  calls {len(c)}")
        print(f"      {fmt(c)}")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    # moto's own cap on manual snapshots per account (AWS's default quota is lower, but
    # raised for large fleets); the server inherits this environment.
    os.environ["MOTO_RDS_SNAPSHOT_LIMIT"] = str(n + 1000)
    log = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"ferry-bench-{os.getpid()}.log"
    with FidelityServer(log_path=log) as srv:
        per_event(srv)
        for m in sorted({min(n, 1000), n}):
            sweep_bench(srv, m)


if __name__ == "__main__":
    main()

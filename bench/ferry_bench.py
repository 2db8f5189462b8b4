"""Ferry benchmark (not a test): AWS API calls per event type, counted from the fidelity
layer's call log, and one sweep over N source snapshots (wall time, peak RSS of the
bootstrap, calls).  The events are served as Lambda serves them: one runtime process
(AWS's Runtime Interface Emulator) per world, many invocations, the function ARN giving
the own account; a process's first invocation also assumes the backup role (then cached
for the credentials' life).  The sweep runs as `--event` (a process of its own).  Usage:
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
from harness.rie import Emulator   # noqa: E402
import ferry_support as fs   # noqa: E402

# The emulator's function ARN is in this account: the ferry's own under it.
RIE_ACCOUNT = "012345678912"


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


class Runtime:
    """One Lambda runtime process serving ${world}'s ferry: invocations share its caches
    (connections, the assumed role's credentials, the own account from the function ARN)."""

    def __init__(self, world, **env):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp",
             "LOG_LEVEL": "warn"}
        e.update(world.env(**env))
        self.emu = Emulator(fs.bootstrap_path("dev"), e,
                            pathlib.Path(os.environ.get("TMPDIR", "/tmp")))

    def __call__(self, event):
        status, res = self.emu.invoke_json(event)
        return res

    def stop(self):
        self.emu.stop()


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
    runtimes = []

    def fresh(env_of=lambda w: {}):
        """A new world and one runtime process serving it, its environment from
        ${env_of}(world) (made before the process starts)."""
        for rt in runtimes:
            rt.stop()
        aws.reset_all()
        w = build_world(srv.endpoint, prod_account=RIE_ACCOUNT)
        runtimes.append(Runtime(w, **env_of(w)))
        return w, runtimes[-1]

    def backup_key(w, region):
        from fidelity.world import admin_client
        kms = admin_client(w.endpoint, "kms", w.backup_account, region)
        return kms.create_key(Description=f"backup key {region}")["KeyMetadata"]["Arn"]

    def count(name, rt, event):
        r, c = calls_during(aws, lambda: rt(event))
        rows.append((name, r.get("outcome", r.get("errorType", "?")), c))

    try:
        w, rt = fresh()
        ev = fs.snapshot_event(w, w.snapshot_id)
        count("manual snapshot, aws/rds key (whole flow, cold)", rt, ev)
        w.create_snapshot(w.db_id, "proddb-manual-2")
        count("manual snapshot, aws/rds key (whole flow)", rt,
              fs.snapshot_event(w, "proddb-manual-2"))
        count("same event again (duplicate)", rt, ev)
        count("event of another account", rt,
              fs.snapshot_event(w, w.snapshot_id, account="999999999999"))
        kenv = fs.keeper_env(w)     # set up outside the counted window
        (r, _, _), c = calls_during(aws, lambda: invoke(w, {"action": "restore",
                                                             "db": "proddb"}, keeper_env=kenv))
        rows.append(("manual restore (keeper, --event)", r["outcome"], c))
        w.create_snapshot(w.db_id, "proddb-manual-3")
        (r, _, _), c = calls_during(aws, lambda: invoke(
            w, fs.snapshot_event(w, "proddb-manual-3")))
        rows.append(("manual snapshot, aws/rds key (--event: STS, AssumeRole)", r["outcome"], c))

        w, rt = fresh()
        count("async: warm-up (the first invocation assumes the role)", rt, fs.SWEEP)
        w.create_snapshot(w.db_id, "proddb-manual-2")
        ev = fs.snapshot_event(w, "proddb-manual-2")
        aws.hold(True)
        count("async: created event, T creating", rt, ev)
        count("async: created event again, T still creating", rt, ev)
        aws.release()
        count("async: copy-finished event (share, copy B)", rt,
              fs.snapshot_event(w, fs.transit_id("proddb-manual-2"), "RDS-EVENT-0197"))
        aws.release()
        aws.hold(False)
        count("async: B available (un-share, keep T)", rt,
              {"action": "advance", "snapshot": "proddb-manual-2"})

        w, rt = fresh()
        count("warm-up: the first invocation (whole flow, aws/rds key)", rt,
              fs.snapshot_event(w, w.snapshot_id))
        key = w.create_key(policy=key_policy_for_backup(w.prod_account, w.backup_account))
        w.create_db("cmkdb", kms_key_id=key["Arn"])
        w.create_snapshot("cmkdb", "cmkdb-snap")
        count("manual snapshot, customer key (via T)", rt, fs.snapshot_event(w, "cmkdb-snap"))
        w.create_db("plaindb", encrypted=False)
        w.create_snapshot("plaindb", "plaindb-snap")
        count("manual snapshot, unencrypted", rt, fs.snapshot_event(w, "plaindb-snap"))
        snap = aws.automated_snapshot(w.prod_account, w.region, "plaindb")
        count("automated snapshot", rt, fs.snapshot_event(w, snap["id"], "RDS-EVENT-0091"))
        w.create_cluster("aurora1")
        w.create_cluster_snapshot("aurora1", "aurora1-snap")
        count("Aurora cluster snapshot", rt,
              fs.snapshot_event(w, "aurora1-snap", "RDS-EVENT-0075", cluster=True))
        w.create_cluster("maz1", engine="postgres")
        w.create_cluster_snapshot("maz1", "maz1-snap")
        count("Multi-AZ cluster snapshot (skipped)", rt,
              fs.snapshot_event(w, "maz1-snap", "RDS-EVENT-0075", cluster=True))
        # Several backup Regions (issue 10): the two remote Regions each get a key of the
        # backup account; the source Region is either not a destination (the ferry copies
        # to both in one step) or one of them (the ferry copies there; the keepers chain).
        w, rt = fresh(lambda w: {
            "BACKUP_REGION": "", "BACKUP_REGIONS": "eu-west-1,ap-southeast-2",
            "BACKUP_KMS_KEY_ID": ",".join(backup_key(w, r)
                                          for r in ("eu-west-1", "ap-southeast-2"))})
        count("warm-up: two Regions, the first invocation", rt,
              fs.snapshot_event(w, w.snapshot_id))
        w.create_snapshot(w.db_id, "proddb-manual-2")
        ev = fs.snapshot_event(w, "proddb-manual-2")
        count("two Regions, single step to both (aws/rds)", rt, ev)
        count("two Regions, same event again (duplicate)", rt, ev)
        w, rt = fresh(lambda w: {
            "BACKUP_REGION": "", "BACKUP_REGIONS": f"{w.region},eu-west-1",
            "BACKUP_KMS_KEY_ID": f"{w.backup_key_arn},{backup_key(w, 'eu-west-1')}"})
        count("warm-up: source Region one of two, the first invocation", rt,
              fs.snapshot_event(w, w.snapshot_id))
        w.create_snapshot(w.db_id, "proddb-manual-2")
        count("two Regions, source Region one (ferry part)", rt,
              fs.snapshot_event(w, "proddb-manual-2"))
    finally:
        for rt in runtimes:
            rt.stop()

    print("API calls per event type (fidelity call log; one Lambda runtime process per world"
          " under the Runtime Interface Emulator, warm unless marked):")
    for name, outcome, c in rows:
        print(f"  {name:56s} {outcome:8s} {fmt(c)}")
    return rows


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


def incremental_bench(srv, dbs=5, days=7):
    """A simulated week: one snapshot a day of each of ${dbs} aws/rds DBs (each travels
    through a transit copy T), B held until the next step as a real copy would be, and one
    in-flight check a day after the copies (it runs every 5 minutes when deployed). From
    the fidelity layer's copy log: copies full vs incremental-eligible (T and B apart),
    and the peak number of T's and B's kept per DB; TRANSIT_CLEANUP true and false, and
    the old behaviour (T deleted at the end) re-enacted for comparison."""
    import datetime
    aws = srv.control
    print(f"\nincremental copy chains: {days} daily snapshots of {dbs} DBs (aws/rds, via a "
          "transit copy; B held until the next invocation)")
    print(f"  {'TRANSIT_CLEANUP':16s} {'T full':>7s} {'T incr':>7s} {'B full':>7s}"
          f" {'B incr':>7s} {'peak T/DB':>10s} {'peak B/DB':>10s} {'calls':>6s}")
    for mode in ("true", "false", "old"):
        # "old": the behaviour before the chains, re-enacted: each T deleted once its B
        # is available (here by the bench, after each day; its calls are not counted).
        cleanup = "true" if mode == "old" else mode
        aws.reset_all()
        w = build_world(srv.endpoint)
        rds = w.admin("rds")
        names = [f"week-{d}" for d in range(dbs)]
        for db in names:
            w.create_db(db)
            # moto's automated snapshot of the new DB: out of these days.
            for a in rds.describe_db_snapshots(DBInstanceIdentifier=db,
                                               SnapshotType="automated")["DBSnapshots"]:
                aws.snapshot_time(w.prod_account, w.region, a["DBSnapshotIdentifier"],
                                  "2000-01-01T00:00:00Z")
        peak_t = peak_b = 0
        mark = max([c["seq"] for c in aws.calls()] or [0])

        def kept():
            nonlocal peak_t, peak_b
            for acct in ("prod", "backup"):
                per = collections.Counter(
                    s["DBInstanceIdentifier"] for s in fs.instance_snapshots(w, acct).values()
                    if s["DBSnapshotIdentifier"].startswith("snapferry-")
                    and s["DBInstanceIdentifier"] in names)
                top = max(per.values() or [0])
                if acct == "prod":
                    peak_t = max(peak_t, top)
                else:
                    peak_b = max(peak_b, top)

        now = datetime.datetime.now(datetime.timezone.utc)
        for day in range(days):
            when = (now - datetime.timedelta(days=days - day)).strftime("%Y-%m-%dT%H:%M:%SZ")
            aws.hold(True, accounts=[w.backup_account])
            evs = []
            for db in names:
                sid = f"{db}-day-{day + 1}"
                w.create_snapshot(db, sid)
                aws.snapshot_time(w.prod_account, w.region, sid, when)
                evs.append(fs.snapshot_event(w, sid))
                invoke(w, evs[-1], TRANSIT_CLEANUP=cleanup)      # T made, B copying
            kept()
            aws.release()
            aws.hold(False)
            for ev in evs:
                invoke(w, ev, TRANSIT_CLEANUP=cleanup)           # B done: the next step
            kept()
            # The 5-minute in-flight check: deletes the T's a newer kept one supersedes.
            invoke(w, {"action": "inflight"}, TRANSIT_CLEANUP=cleanup)
            if mode == "old":
                for sid in fs.instance_snapshots(w, "prod"):
                    if sid.startswith("snapferry-"):
                        rds.delete_db_snapshot(DBSnapshotIdentifier=sid)
        calls = len(aws.calls(since=mark))
        log = [c for c in aws.copies() if c["source_db"].rsplit(":", 1)[-1] in names]
        t = [c for c in log if c["account"] == w.prod_account]
        b = [c for c in log if c["account"] == w.backup_account]

        def fi(cs):
            inc = sum(1 for c in cs if c["incremental_eligible"])
            return len(cs) - inc, inc
        (tf, ti), (bf, bi) = fi(t), fi(b)
        label = "old: T deleted" if mode == "old" else mode
        print(f"  {label:16s} {tf:7d} {ti:7d} {bf:7d} {bi:7d} {peak_t:10d} {peak_b:10d}"
              f" {calls if mode != 'old' else '-':>6}")
    print("  full = not incremental-eligible when it started (no earlier copy of the DB under"
          " the same key\n  in that account and Region: fidelity.patches.incremental_eligible);"
          " T = transit copies\n  (production), B = backup copies (the ferry deletes none;"
          " retention is the keeper's).")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    # moto's own cap on manual snapshots per account (AWS's default quota is lower, but
    # raised for large fleets); the server inherits this environment.
    os.environ["MOTO_RDS_SNAPSHOT_LIMIT"] = str(n + 1000)
    log = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"ferry-bench-{os.getpid()}.log"
    with FidelityServer(log_path=log) as srv:
        if os.environ.get("BENCH_ONLY") == "incremental":
            incremental_bench(srv)
            return
        per_event(srv)
        incremental_bench(srv)
        for m in sorted({min(n, 1000), n}):
            sweep_bench(srv, m)


if __name__ == "__main__":
    main()

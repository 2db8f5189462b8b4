#!/usr/bin/env python3
"""make demo: the whole snapferry flow on local emulators, step by step.

Starts the fidelity server (moto with the project's fidelity layer, tests/fidelity) and AWS's
Runtime Interface Emulator running the static ./bootstrap, both on free loopback ports; builds
a production and a backup account; sends a "manual snapshot created" event; lets the copies
finish the way AWS does (they are held in `creating` until released); shows what the ferry
(production's function, which only adds) did.  Then the keeper (the same bootstrap with
SNAPFERRY_MODE=keeper and the backup account's own credentials) handles the backup copy's
copy-finished event and its schedule: restore, retention, freshness.  Shows the final state
of both accounts.  Stops everything it started, also on Ctrl-C or an error.  Exits 0 only
when the final state is the one the design promises.
"""
import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from harness.rie import RIE, Emulator, EmulatorError  # noqa: E402 (needs tests/ on sys.path)

# The Runtime Interface Emulator reports arn:aws:lambda:us-east-1:012345678912:function:<name>
# as the invoked function: the function believes it runs in that account, so that is the
# production account of the demo (it refuses events of any other account).
PROD_ACCOUNT = "012345678912"
FUNCTION_NAME = "snapferry"
MAX_INVOCATIONS = 6
TIME_BUDGET_S = 50


class DemoFailure(Exception):
    """The flow did not end in the promised state."""


def say(text="", indent=0):
    print(" " * indent + text, flush=True)


def heading(text):
    say()
    say("== " + text)


def decoded(body):
    """An invocation's answer: its JSON, else its text."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode(errors="replace")


def show_log_lines(text):
    """The bootstrap's JSON log lines, one short line each (EMF records as metrics)."""
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue   # the emulator's own lines
        if not isinstance(rec, dict):
            continue
        if "_aws" in rec:
            for m in rec["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                say("metric %s = %s" % (m["Name"], rec.get(m["Name"])), 6)
            continue
        msg = rec.get("message", "")
        extra = rec.get("step") or rec.get("reason") or rec.get("event") or ""
        if msg == "result":
            continue
        say("%-5s %s%s" % (rec.get("level", "?"), msg, (": " + str(extra)) if extra else ""), 6)


def show_result(status, result, what="HTTP"):
    if not isinstance(result, dict):
        say("%s %s: %r" % (what, status, result), 4)
        return
    say("%s %s, outcome %s%s" % (what, status, result.get("outcome"),
                                   (" - " + result["reason"]) if result.get("reason") else ""), 4)
    say("result steps:", 4)
    for step in result.get("steps", []):
        say(step, 6)


def adapt(event, world, arn=None, ident=None, account=None):
    """A sample event of events/ moved into the demo's account (production unless
    `account`) and region."""
    event = json.loads(json.dumps(event))
    account = account or world.prod_account
    event["account"], event["region"] = account, world.region
    if arn:
        event["resources"] = [arn]
        event["detail"]["SourceArn"] = arn
        event["detail"]["SourceIdentifier"] = ident
    else:
        event["resources"] = [r.replace("123456789012", account).replace("210987654321", account)
                              for r in event.get("resources", [])]
    return event


def snapshots(world, account):
    """Every snapshot of production; the manual ones of the backup account (the DB the
    keeper restores there gets an automated snapshot of its own, which is no backup copy)."""
    rds = world.admin("rds", account)
    kw = {"SnapshotType": "manual"} if account == "backup" else {}
    out = []
    for s in rds.describe_db_snapshots(**kw)["DBSnapshots"]:
        tags = {t["Key"]: t["Value"] for t in
                rds.list_tags_for_resource(ResourceName=s["DBSnapshotArn"])["TagList"]}
        attrs = rds.describe_db_snapshot_attributes(
            DBSnapshotIdentifier=s["DBSnapshotIdentifier"])["DBSnapshotAttributesResult"]
        shared = [v for a in attrs["DBSnapshotAttributes"] if a["AttributeName"] == "restore"
                  for v in a.get("AttributeValues", [])]
        out.append({"id": s["DBSnapshotIdentifier"], "arn": s["DBSnapshotArn"],
                    "status": s["Status"], "encrypted": s.get("Encrypted", False),
                    "key": s.get("KmsKeyId"), "tags": tags, "shared": shared})
    return out


def key_label(world, key_arn):
    if not key_arn:
        return "unencrypted"
    acct = key_arn.split(":")[4]
    kms = world.admin("kms", acct)
    meta = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    names = [a["AliasName"] for a in kms.list_aliases(KeyId=meta["KeyId"]).get("Aliases", [])]
    return "%s key %s%s of account %s" % (meta.get("KeyManager", "?"), meta["KeyId"][:8],
                                         (" (" + ", ".join(names) + ")") if names else "", acct)


def show_state(world, state):
    for name, acct in (("production", world.prod_account), ("backup", world.backup_account)):
        say("%s account %s:" % (name, acct), 2)
        if not state[name]:
            say("(no snapshots)", 4)
        for s in state[name]:
            say("%s  %s  %s" % (s["id"], s["status"], key_label(world, s["key"])), 4)
            say("shared with: %s" % (", ".join(s["shared"]) or "nobody"), 6)
            for k in sorted(s["tags"]):
                say("tag %s = %s" % (k, s["tags"][k]), 6)


def check_final_state(world, state, prefix):
    """The design's promise: every source snapshot of production (the manual one of the
    event, and the automated one RDS took when the DB was created, which the sweep finds)
    has one available backup copy in the backup account, encrypted with the backup key and
    tagged with its lineage; no share is left in production, and no transit copy but the
    newest of each DB, un-shared and kept as the base of its next incremental copy."""
    problems = []
    prod = {s["id"]: s for s in state["production"]}
    by_source = {}
    for b in state["backup"]:
        by_source.setdefault(b["tags"].get("snapferry:source-arn"), []).append(b)
    leftovers = [i for i in prod if i.startswith(prefix + "-")]
    kept = {}
    for i in leftovers:
        tags = prod[i]["tags"]
        if tags.get("snapferry:transit-kept") != "true":
            problems.append("transit copy left in production: %s" % i)
        kept.setdefault(tags.get("snapferry:source-db"), []).append(i)
    for db, ids in kept.items():
        if len(ids) > 1:
            problems.append("more than one transit copy of %s kept: %s" % (db, ids))
    if world.snapshot_id not in prod:
        problems.append("the source snapshot %s is gone from production" % world.snapshot_id)
    for s in state["production"]:
        if s["shared"]:
            problems.append("%s is still shared with %s" % (s["id"], s["shared"]))
    sources = [s for s in state["production"] if s["id"] not in leftovers]
    for s in sources:
        copies = by_source.pop(s["arn"], [])
        if len(copies) != 1:
            problems.append("%s has %d backup copies, want 1" % (s["id"], len(copies)))
            continue
        b = copies[0]
        if not b["id"].startswith(prefix + "-"):
            problems.append("backup copy %s lacks the prefix %s-" % (b["id"], prefix))
        if b["status"] != "available":
            problems.append("%s is %s, not available" % (b["id"], b["status"]))
        if not b["encrypted"] or b["key"] != world.backup_key_arn:
            problems.append("%s is encrypted with %s, not the backup key %s"
                            % (b["id"], b["key"], world.backup_key_arn))
        if b["tags"].get("snapferry:source-db") != world.db_id:
            problems.append("%s: tag snapferry:source-db is %r" % (
                b["id"], b["tags"].get("snapferry:source-db")))
        if s["key"] != world.rds_default_key_arn:
            problems.append("source %s changed key" % s["id"])
    if by_source:
        problems.append("backup copies of no production snapshot: %s"
                        % [b["id"] for v in by_source.values() for b in v])
    want = backup_copy_id(prefix, world.snapshot_id, world.prod_account, world.region)
    if want not in {b["id"] for b in state["backup"]}:
        problems.append("no backup copy named %s" % want)
    return problems


def backup_copy_id(prefix, snapshot_id, account, region):
    """The backup copy's id for a plain manual snapshot id (src/names.c names_backup_id):
    "<prefix>-<id>-<first 8 hex of SHA-256 of '<account>:<region>'>"."""
    import hashlib
    return "%s-%s-%s" % (prefix, snapshot_id, hashlib.sha256(
        ("%s:%s" % (account, region)).encode()).hexdigest()[:8])


def keeper_env(world):
    """The keeper's configuration: its own credentials in the backup account (an IAM user
    standing for the keeper's role: it assumes no role and never reaches production)."""
    iam = world.admin("iam", "backup")
    iam.create_user(UserName="snapferry-keeper")
    key = iam.create_access_key(UserName="snapferry-keeper")["AccessKey"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "LANG": "C.UTF-8", "LOG_LEVEL": "info", "SNAPFERRY_MODE": "keeper",
           "AWS_ENDPOINT_URL": world.endpoint, "AWS_REGION": world.region,
           "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
           "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
           "RETENTION_DAYS": "35", "RETENTION_MIN_COPIES": "1", "RESTORE": "on"}
    return env


def keeper_invoke(bootstrap, env, event):
    """One keeper invocation through `bootstrap --event -`: the emulator's function ARN is
    always in the demo's production account, and the keeper lives in the backup account, so
    it runs the way an operator runs it on disaster day."""
    p = subprocess.run([str(bootstrap), "--event", "-"], input=json.dumps(event).encode(),
                       env=env, capture_output=True, timeout=60)
    return p.returncode, decoded(p.stdout.strip()), p.stderr.decode(errors="replace")


def run_keeper(world, bootstrap, sample, prefix, n):
    heading("%d. The keeper: the same bootstrap in the backup account (SNAPFERRY_MODE=keeper)"
            % (4 + n))
    env = keeper_env(world)
    say("configuration: %s" % ", ".join("%s=%s" % (k, env[k]) for k in sorted(env)
                                        if k in ("SNAPFERRY_MODE", "RETENTION_DAYS",
                                                 "RETENTION_MIN_COPIES", "RESTORE")), 2)
    b_id = backup_copy_id(prefix, world.snapshot_id, world.prod_account, world.region)
    b_arn = "arn:aws:rds:%s:%s:snapshot:%s" % (world.region, world.backup_account, b_id)
    out = {}
    for key, title, event in (
            ("copyFinished", "RDS (backup account): copy %s finished (RDS-EVENT-0197)" % b_id,
             adapt(sample("keeper-copy-finished.json"), world, b_arn, b_id,
                   account=world.backup_account)),
            ("sweep", "the keeper's schedule: failed copies, retention, freshness",
             adapt(sample("keeper-scheduled-sweep.json"), world,
                   account=world.backup_account)),
            ("drill", "a restore drill ({\"action\":\"drill\"}): restore the newest copy "
             "into %s-drill-%s" % (prefix, world.db_id), sample("manual-drill.json")),
            ("drillSweep", "the next sweep: the drill DB is available, verified, its measured "
             "seconds recorded, then deleted",
             adapt(sample("keeper-scheduled-sweep.json"), world,
                   account=world.backup_account))):
        say()
        say("-- %s" % title, 2)
        rc, result, log = keeper_invoke(bootstrap, env, event)
        show_result(rc, result, "exit")
        say("log lines:", 4)
        show_log_lines(log)
        out[key] = result
    return out


def check_keeper(world, keeper, prefix):
    """The keeper restored the copy on its copy-finished event (RESTORE=on), and its sweep
    reports the age of the newest copy of the production DB from the copies themselves."""
    problems = []
    b_id = backup_copy_id(prefix, world.snapshot_id, world.prod_account, world.region)
    cf, sw = keeper.get("copyFinished") or {}, keeper.get("sweep") or {}
    if not isinstance(cf, dict) or cf.get("outcome") != "done" or cf.get("mode") != "keeper" \
            or cf.get("backup") != b_id or not cf.get("restored"):
        problems.append("the keeper did not restore %s on its copy-finished event: %s"
                        % (b_id, cf))
    if not isinstance(sw, dict) or sw.get("outcome") != "done" or sw.get("mode") != "keeper":
        problems.append("the keeper's sweep did not end done: %s" % sw)
    else:
        fresh = {(f.get("account"), f.get("db")) for f in sw.get("freshness", [])}
        if (world.prod_account, world.db_id) not in fresh:
            problems.append("the keeper reports no freshness for %s/%s: %s"
                            % (world.prod_account, world.db_id, sw.get("freshness")))
        if sw.get("lineageMismatches") or sw.get("counts", {}).get("failedCopies"):
            problems.append("the keeper found mismatched or failed copies: %s" % sw)
    # The drill: restored on the drill action, verified and deleted by the next sweep.
    dr = {d.get("db"): d for d in (keeper.get("drillSweep") or {}).get("drills", [])}
    d = dr.get(world.db_id) or {}
    if d.get("state") != "passed" or "seconds" not in d:
        problems.append("the restore drill of %s did not pass: %s"
                        % (world.db_id, keeper.get("drillSweep")))
    left = [x["DBInstanceIdentifier"] for x in world.admin("rds", "backup")
            .describe_db_instances()["DBInstances"]
            if x["DBInstanceIdentifier"].startswith(prefix + "-drill-")]
    if left:
        problems.append("the drill DB was not deleted: %s" % left)
    return problems


def find_bootstrap(arg):
    path = pathlib.Path(arg or os.environ.get("SNAPFERRY_BOOTSTRAP") or ROOT / "bootstrap")
    if not path.is_absolute():
        path = ROOT / path
    if not path.exists():
        raise DemoFailure("%s is missing: build it with `make`" % path)
    return path


def run(args):
    t0 = time.monotonic()
    from fidelity import require_pinned_moto
    from fidelity.process import FidelityServer
    from fidelity.world import build_world

    require_pinned_moto()
    bootstrap = find_bootstrap(args.bootstrap)
    if not RIE.exists():
        raise DemoFailure("%s is missing: run `make setup`" % RIE)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="snapferry-demo-"))
    sample = lambda name: json.loads((ROOT / "events" / name).read_text())  # noqa: E731

    heading("1. Local AWS: moto with snapferry's fidelity layer")
    server = FidelityServer(log_path=workdir / "fidelity.log")
    emulator = None
    try:
        server.start()
        say("fidelity server at %s (started in %.1fs, log %s)"
            % (server.endpoint, server.startup_seconds, server.log_path), 2)

        heading("2. Two accounts")
        world = build_world(server.endpoint, prod_account=PROD_ACCOUNT)
        say("production %s: DB %s encrypted with aws/rds, manual snapshot %s"
            % (world.prod_account, world.db_id, world.snapshot_id), 2)
        say("  share key %s (its key policy lets the backup account use it)"
            % world.share_key_arn, 2)
        say("backup %s: role %s (ExternalId %s), backup key %s"
            % (world.backup_account, world.role_arn, world.external_id, world.backup_key_arn), 2)
        # Copies take minutes on AWS: hold every new copy in `creating` until released.
        server.control.hold(True)
        say("copies will stay `creating` until the demo lets them finish", 2)

        heading("3. The function: %s under AWS's Runtime Interface Emulator" % bootstrap.name)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
               "LANG": "C.UTF-8", "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME, "LOG_LEVEL": "info"}
        env.update(world.env())
        try:
            emulator = Emulator(bootstrap, env, workdir / "rie.log")
        except EmulatorError as e:
            raise DemoFailure(str(e)) from None
        say("emulator at %s, configuration: %s" % (emulator.url, ", ".join(
            sorted(k for k in world.env() if not k.startswith("AWS_")))), 2)

        created = adapt(sample("snapshot-created-manual.json"), world,
                        world.snapshot_arn, world.snapshot_id)
        transit_id = "%s-%s" % (args.prefix, world.snapshot_id)
        transit_arn = "arn:aws:rds:%s:%s:snapshot:%s" % (world.region, world.prod_account,
                                                         transit_id)
        plan = [
            ("RDS: manual snapshot %s created (RDS-EVENT-0042)" % world.snapshot_id, created),
            ("RDS: copy %s finished (RDS-EVENT-0197)" % transit_id,
             adapt(sample("copy-finished-local.json"), world, transit_arn, transit_id)),
            ("EventBridge schedule: sweep", adapt(sample("scheduled-sweep.json"), world)),
        ]
        outcome, n = None, 0
        while n < MAX_INVOCATIONS and outcome != "done":
            title, event = plan[min(n, len(plan) - 1)]
            n += 1
            heading("%d. Invocation %d - %s" % (3 + n, n, title))
            status, body = emulator.invoke(event)
            result = decoded(body)
            show_result(status, result)
            say("log lines:", 4)
            show_log_lines(emulator.new_output())
            if status != 200 or not isinstance(result, dict):
                raise DemoFailure("the invocation failed (HTTP %s)" % status)
            outcome = result.get("outcome")
            if outcome == "failed":
                raise DemoFailure("the function failed: %s" % result.get("reason"))
            if outcome != "done":
                # Copies take minutes on AWS; snapshot times have one-second resolution
                # and the sweep leaves alone what was made in its own second.
                time.sleep(1.1)
                released = server.control.release()
                say("... time passes: %s copy(ies) finish and become available"
                    % (len(released) if isinstance(released, list) else released), 4)
            if time.monotonic() - t0 > TIME_BUDGET_S:
                raise DemoFailure("over the time budget of %ds" % TIME_BUDGET_S)
        if outcome != "done":
            raise DemoFailure("not done after %d invocations" % n)

        # The ferry only adds: nothing of the backup account deleted, re-tagged or shared.
        ferry_changes = [c["action"] for c in server.control.calls(account=world.backup_account)
                         if c["action"] in ("DeleteDBSnapshot", "AddTagsToResource",
                                            "RemoveTagsFromResource",
                                            "ModifyDBSnapshotAttribute")]

        keeper = run_keeper(world, bootstrap, sample, args.prefix, n)

        heading("Final state")
        state = {"production": snapshots(world, "prod"), "backup": snapshots(world, "backup")}
        show_state(world, state)
        problems = check_final_state(world, state, args.prefix)
        if ferry_changes:
            problems.append("the ferry changed the backup account: %s" % ferry_changes)
        problems += check_keeper(world, keeper, args.prefix)
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps(
                {"outcome": outcome, "invocations": n, "state": state,
                 "world": {"prod_account": world.prod_account,
                           "backup_account": world.backup_account,
                           "snapshot_id": world.snapshot_id, "snapshot_arn": world.snapshot_arn,
                           "db_id": world.db_id, "backup_key_arn": world.backup_key_arn,
                           "rds_default_key_arn": world.rds_default_key_arn},
                 "keeper": keeper, "problems": problems}, indent=2, default=str))
        if problems:
            raise DemoFailure("the final state is wrong:\n  " + "\n  ".join(problems))
        say()
        say("OK: every snapshot of production (encrypted with aws/rds, which can't be shared) "
            "has an off-account copy encrypted with the backup account's own key; shares "
            "are gone, one transit copy per DB is kept un-shared (incremental copies); the ferry only added, the keeper restored the copy, "
            "reports its age, and drilled a restore of it (restored, %s s measured, deleted) "
            "(%d invocations, %.1fs)" % (
                ((keeper.get("drillSweep") or {}).get("drills") or [{}])[0].get("seconds"),
                n, time.monotonic() - t0))
        return 0
    finally:
        if emulator is not None:
            emulator.stop()
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap", help="the bootstrap to run (default ./bootstrap, or "
                    "$SNAPFERRY_BOOTSTRAP)")
    ap.add_argument("--prefix", default="snapferry", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the final state as JSON to this file")
    args = ap.parse_args()

    def on_term(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run(args)
    except DemoFailure as e:
        say()
        say("DEMO FAILED: %s" % e)
        return 1
    except KeyboardInterrupt:
        say()
        say("interrupted: everything the demo started is stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())

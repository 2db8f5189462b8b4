#!/usr/bin/env python3
"""make demo: the whole snapferry flow on local emulators, step by step.

Starts the fidelity server (moto with the project's fidelity layer, tests/fidelity) and AWS's
Runtime Interface Emulator running the static ./bootstrap, both on free loopback ports; builds
a production and a backup account; sends a "manual snapshot created" event; lets the copies
finish the way AWS does (they are held in `creating` until released); shows what the ferry
(production's function, which only adds) did.  Then the keeper (the same bootstrap with
SNAPFERRY_MODE=keeper and the backup account's own credentials) handles the backup copy's
copy-finished event and its schedule: restore, retention, freshness.  The backup account
keeps copies in two Regions (BACKUP_REGIONS, the recommended chain): the ferry copies into the
source Region only, and the keeper of the second Region (the same bootstrap there, with that
Region's key) chains the copy into its own Region ({"action":"chain"}).  Shows the final state
of both accounts, the backup account in both Regions.  Stops everything it started, also on Ctrl-C or an error.  Exits 0 only
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
# The backup account's second Region (the first is the world's, the source Region): the ferry
# fills the source Region, the keeper deployed in this one chains the copy here.
SECOND_REGION = "us-west-2"
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


def show_log_lines(text, raw=False):
    """The bootstrap's JSON log lines, one short line each (EMF records as metrics); with
    `raw` (no emulator in between) its other lines too, such as a configuration error."""
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            if raw and line.strip():
                say(line, 6)
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
    if result.get("copies"):
        # The ferry's copy per destination Region: its own, or the keeper's chain.
        say("result copies (one per Region of BACKUP_REGIONS):", 4)
        for c in result["copies"]:
            say("%s: %s %s, by %s" % (c.get("region"), c.get("id"), c.get("status"),
                                      c.get("by")), 6)
    if isinstance(result.get("chain"), dict):
        say("result chain: %s" % ", ".join("%s=%s" % kv for kv in
                                           sorted(result["chain"].items())), 4)


def adapt(event, world, arn=None, ident=None, account=None, region=None):
    """A sample event of events/ moved into the demo's account (production unless
    `account`) and region (the world's unless `region`)."""
    event = json.loads(json.dumps(event))
    account = account or world.prod_account
    event["account"], event["region"] = account, region or world.region
    if arn:
        event["resources"] = [arn]
        event["detail"]["SourceArn"] = arn
        event["detail"]["SourceIdentifier"] = ident
    else:
        event["resources"] = [r.replace("123456789012", account).replace("210987654321", account)
                              for r in event.get("resources", [])]
    return event


def client(world, service, account, region=None):
    """An admin client of `account` ('prod', 'backup' or 12 digits) in `region` (default
    the world's Region)."""
    from fidelity.world import admin_client
    if region is None or region == world.region:
        return world.admin(service, account)
    acct = {"prod": world.prod_account, "backup": world.backup_account}.get(account, account)
    return admin_client(world.endpoint, service, acct, region)


def snapshots(world, account, region=None):
    """Every snapshot of production; the manual ones of the backup account in `region`
    (the DB the keeper restores there gets an automated snapshot of its own, which is no
    backup copy)."""
    rds = client(world, "rds", account, region)
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
    region, acct = key_arn.split(":")[3:5]
    kms = client(world, "kms", acct, region)
    meta = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    names = [a["AliasName"] for a in kms.list_aliases(KeyId=meta["KeyId"]).get("Aliases", [])]
    return "%s key %s%s of account %s" % (meta.get("KeyManager", "?"), meta["KeyId"][:8],
                                         (" (" + ", ".join(names) + ")") if names else "", acct)


def show_state(world, state):
    parts = [("production account %s, %s" % (world.prod_account, world.region),
              state["production"])]
    parts += [("backup account %s, %s" % (world.backup_account, r), snaps)
              for r, snaps in state["backup"].items()]
    for title, snaps in parts:
        say("%s:" % title, 2)
        if not snaps:
            say("(no snapshots)", 4)
        for s in snaps:
            say("%s  %s  %s" % (s["id"], s["status"], key_label(world, s["key"])), 4)
            say("shared with: %s" % (", ".join(s["shared"]) or "nobody"), 6)
            for k in sorted(s["tags"]):
                say("tag %s = %s" % (k, s["tags"][k]), 6)


def check_final_state(world, state, prefix, keys):
    """The design's promise: every source snapshot of production (the manual one of the
    event, and the automated one RDS took when the DB was created, which the sweep finds)
    has one available backup copy in each Region of the backup account, encrypted with that
    Region's backup key (`keys`: Region -> key ARN) and tagged with its lineage; the copy
    in the second Region is the keeper's chain of the source Region's one (same id and
    lineage, snapferry:chained-from=<source Region>); no share is left in production, and
    no transit copy but the newest of each DB, un-shared and kept as the base of its next
    incremental copy."""
    problems = []
    prod = {s["id"]: s for s in state["production"]}
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
        if s["id"] not in leftovers and s["key"] != world.rds_default_key_arn:
            problems.append("source %s changed key" % s["id"])
    sources = [s for s in state["production"] if s["id"] not in leftovers]
    if set(state["backup"]) != set(keys):
        problems.append("the final state shows Regions %s, want %s"
                        % (sorted(state["backup"]), sorted(keys)))
    first = {}      # source ARN -> its copy in the source Region
    for region in [world.region] + sorted(r for r in keys if r != world.region):
        by_source = {}
        for b in state["backup"].get(region, []):
            by_source.setdefault(b["tags"].get("snapferry:source-arn"), []).append(b)
        where = "in %s" % region
        for s in sources:
            copies = by_source.pop(s["arn"], [])
            if len(copies) != 1:
                problems.append("%s has %d backup copies %s, want 1"
                                % (s["id"], len(copies), where))
                continue
            b = copies[0]
            if not b["id"].startswith(prefix + "-"):
                problems.append("backup copy %s lacks the prefix %s-" % (b["id"], prefix))
            if b["status"] != "available":
                problems.append("%s %s is %s, not available" % (b["id"], where, b["status"]))
            if not b["encrypted"] or b["key"] != keys[region]:
                problems.append("%s %s is encrypted with %s, not the backup key %s"
                                % (b["id"], where, b["key"], keys[region]))
            if b["shared"]:
                problems.append("%s %s is shared with %s" % (b["id"], where, b["shared"]))
            if b["tags"].get("snapferry:source-db") != world.db_id:
                problems.append("%s %s: tag snapferry:source-db is %r" % (
                    b["id"], where, b["tags"].get("snapferry:source-db")))
            chained = b["tags"].get("snapferry:chained-from")
            if region == world.region:
                first[s["arn"]] = b
                if chained is not None:
                    problems.append("%s %s is tagged chained-from %s: the ferry's copy"
                                    " is no chain" % (b["id"], where, chained))
                continue
            if chained != world.region:
                problems.append("%s %s: tag snapferry:chained-from is %r, want %s"
                                % (b["id"], where, chained, world.region))
            origin = first.get(s["arn"])
            if origin is not None:
                # The chain copies the lineage tags (not the keeper's later ones, such as
                # a drill's result on the source Region's copy).
                lineage = {k: v for k, v in b["tags"].items()
                           if k != "snapferry:chained-from"}
                if b["id"] != origin["id"] or not lineage or \
                        any(origin["tags"].get(k) != v for k, v in lineage.items()):
                    problems.append("%s %s does not carry the id and lineage of %s in %s"
                                    % (b["id"], where, origin["id"], world.region))
        if by_source:
            problems.append("backup copies %s of no production snapshot: %s"
                            % (where, [b["id"] for v in by_source.values() for b in v]))
        want = backup_copy_id(prefix, world.snapshot_id, world.prod_account, world.region)
        if want not in {b["id"] for b in state["backup"].get(region, [])}:
            problems.append("no backup copy named %s %s" % (want, where))
    return problems


def backup_copy_id(prefix, snapshot_id, account, region):
    """The backup copy's id for a plain manual snapshot id (src/names.c names_backup_id):
    "<prefix>-<id>-<first 8 hex of SHA-256 of '<account>:<region>'>"."""
    import hashlib
    return "%s-%s-%s" % (prefix, snapshot_id, hashlib.sha256(
        ("%s:%s" % (account, region)).encode()).hexdigest()[:8])


def keeper_env(world, region, keys):
    """The configuration of the keeper deployed in `region`: its own credentials in the
    backup account (an IAM user standing for the keeper's role of that Region: it assumes
    no role and never reaches production), BACKUP_REGIONS as the ferry's, and the backup
    key of its own Region (the chain encrypts the copies it makes with it)."""
    iam = world.admin("iam", "backup")
    user = "snapferry-keeper-" + region      # IAM is global: one user per Region's keeper
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "LANG": "C.UTF-8", "LOG_LEVEL": "info", "SNAPFERRY_MODE": "keeper",
           "AWS_ENDPOINT_URL": world.endpoint, "AWS_REGION": region,
           "AWS_DEFAULT_REGION": region,
           "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
           "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
           "BACKUP_REGIONS": ",".join(keys), "BACKUP_KMS_KEY_ID": keys[region],
           "RETENTION_DAYS": "35", "RETENTION_MIN_COPIES": "1", "RESTORE": "on"}
    return env


def show_keeper_env(env):
    say("configuration: %s" % ", ".join("%s=%s" % (k, env[k]) for k in sorted(env)
                                        if k in ("SNAPFERRY_MODE", "AWS_REGION",
                                                 "BACKUP_REGIONS", "BACKUP_KMS_KEY_ID",
                                                 "RETENTION_DAYS", "RETENTION_MIN_COPIES",
                                                 "RESTORE")), 2)


def keeper_invoke(bootstrap, env, event):
    """One keeper invocation through `bootstrap --event -`: the emulator's function ARN is
    always in the demo's production account, and the keeper lives in the backup account, so
    it runs the way an operator runs it on disaster day."""
    p = subprocess.run([str(bootstrap), "--event", "-"], input=json.dumps(event).encode(),
                       env=env, capture_output=True, timeout=60)
    return p.returncode, decoded(p.stdout.strip()), p.stderr.decode(errors="replace")


def keeper_step(bootstrap, env, title, event):
    """One keeper invocation shown as a step: its title, result and log lines."""
    say()
    say("-- %s" % title, 2)
    rc, result, log = keeper_invoke(bootstrap, env, event)
    show_result(rc, result, "exit")
    say("log lines:", 4)
    show_log_lines(log, raw=True)
    return result


def run_keeper(world, bootstrap, sample, prefix, n, keys):
    heading("%d. The keeper of %s: the same bootstrap in the backup account "
            "(SNAPFERRY_MODE=keeper)" % (4 + n, world.region))
    env = keeper_env(world, world.region, keys)
    show_keeper_env(env)
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
        out[key] = keeper_step(bootstrap, env, title, event)
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


def run_chain(world, bootstrap, sample, server, step, region, keys):
    """The keeper of the second Region: {"action":"chain"} copies the source Region's backup
    copies into its Region (held `creating`, as on AWS), then, once they finish, its sweep."""
    heading("%d. The keeper of %s: the chain from %s (SNAPFERRY_MODE=keeper, its own key)"
            % (step, region, world.region))
    env = keeper_env(world, region, keys)
    show_keeper_env(env)
    out = {}
    for key, title, event in (
            ("chain", "the keeper's chain schedule ({\"action\":\"chain\"}): copy the "
             "backup copies of %s into %s" % (world.region, region),
             sample("keeper-chain.json")),
            ("sweep", "its sweep, after the chained copies finished: nothing more to copy, "
             "retention and freshness in %s" % region,
             adapt(sample("keeper-scheduled-sweep.json"), world,
                   account=world.backup_account, region=region))):
        out[key] = keeper_step(bootstrap, env, title, event)
        if key == "chain":
            # Snapshot times have one-second resolution; let the copies finish.
            time.sleep(1.1)
            released = server.control.release(region=region)
            say("... time passes: %s chained copy(ies) finish and become available in %s"
                % (len(released) if isinstance(released, list) else released, region), 4)
    return out


def check_chain(world, chain, n_sources, region):
    """The keeper of `region` chained every source's copy once, and its next run (the
    sweep) found them all present: nothing copied twice, nothing mismatched."""
    problems = []
    ch, sw = chain.get("chain") or {}, chain.get("sweep") or {}
    counts = ch.get("chain") if isinstance(ch, dict) else None
    if not isinstance(ch, dict) or ch.get("outcome") != "done" or ch.get("mode") != "keeper" \
            or not isinstance(counts, dict) or counts.get("started") != n_sources:
        problems.append("the keeper of %s did not chain %d copies: %s" % (region, n_sources, ch))
    counts = sw.get("chain") if isinstance(sw, dict) else None
    if not isinstance(sw, dict) or sw.get("outcome") != "done" or sw.get("mode") != "keeper" \
            or not isinstance(counts, dict) or counts.get("started") != 0 \
            or counts.get("present") != n_sources:
        problems.append("the sweep of the keeper of %s did not find the %d chained copies: %s"
                        % (region, n_sources, sw))
    elif sw.get("lineageMismatches") or sw.get("counts", {}).get("lineageMismatches") \
            or sw.get("counts", {}).get("failedCopies"):
        problems.append("the keeper of %s found mismatched or failed copies: %s" % (region, sw))
    else:
        fresh = {(f.get("account"), f.get("db")) for f in sw.get("freshness", [])}
        if (world.prod_account, world.db_id) not in fresh:
            problems.append("the keeper of %s reports no freshness for %s/%s: %s"
                            % (region, world.prod_account, world.db_id, sw.get("freshness")))
    return problems


def check_ferry_copies(world, result, region):
    """The ferry's last result with copies names its own copy in the source Region and
    the keeper's chain for the second one."""
    got = {c.get("region"): (c.get("status") if c.get("by") == "keeper" else "-", c.get("by"))
           for c in (result or {}).get("copies", [])}
    want = {world.region: ("-", "ferry"), region: ("chained", "keeper")}
    if got != want:
        return ["the ferry's result copies are %s, want %s" % (got, want)]
    return []


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
        # The backup account's second Region, with a backup key of its own (a key serves
        # one Region): the source Region and this one keep copies (BACKUP_REGIONS).
        second = SECOND_REGION if world.region != SECOND_REGION else "eu-west-1"
        kms2 = client(world, "kms", "backup", second)
        key2 = kms2.create_key(Description="snapferry backup key")["KeyMetadata"]
        kms2.create_alias(AliasName="alias/snapferry-backup", TargetKeyId=key2["KeyId"])
        keys = {world.region: world.backup_key_arn, second: key2["Arn"]}
        say("backup %s, second Region %s: backup key %s"
            % (world.backup_account, second, key2["Arn"]), 2)
        # Copies take minutes on AWS: hold every new copy in `creating` until released.
        server.control.hold(True)
        say("copies will stay `creating` until the demo lets them finish", 2)

        heading("3. The function: %s under AWS's Runtime Interface Emulator" % bootstrap.name)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
               "LANG": "C.UTF-8", "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME, "LOG_LEVEL": "info"}
        # The recommended set-up across Regions (the chain): BACKUP_REGIONS lists the source
        # Region, so the ferry copies there only and the keeper of the other Region chains.
        ferry_env = world.env(BACKUP_REGIONS=",".join(keys),
                              BACKUP_KMS_KEY_ID=",".join(keys.values()))
        del ferry_env["BACKUP_REGION"]
        env.update(ferry_env)
        try:
            emulator = Emulator(bootstrap, env, workdir / "rie.log")
        except EmulatorError as e:
            raise DemoFailure(str(e)) from None
        say("emulator at %s, configuration: %s" % (emulator.url, ", ".join(
            sorted(k for k in ferry_env if not k.startswith("AWS_")))), 2)
        say("BACKUP_REGIONS=%s: the ferry copies into %s, the keeper of %s chains from there"
            % (ferry_env["BACKUP_REGIONS"], world.region, second), 2)

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
        outcome, n, with_copies = None, 0, None
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
            if result.get("copies"):
                with_copies = result
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

        keeper = run_keeper(world, bootstrap, sample, args.prefix, n, keys)
        n_sources = len([s for s in snapshots(world, "prod")
                         if not s["id"].startswith(args.prefix + "-")])
        chain = run_chain(world, bootstrap, sample, server, 5 + n, second, keys)
        if time.monotonic() - t0 > TIME_BUDGET_S:
            raise DemoFailure("over the time budget of %ds" % TIME_BUDGET_S)

        heading("Final state")
        state = {"production": snapshots(world, "prod"),
                 "backup": {r: snapshots(world, "backup", r) for r in keys}}
        show_state(world, state)
        problems = check_final_state(world, state, args.prefix, keys)
        problems += check_ferry_copies(world, with_copies, second)
        if ferry_changes:
            problems.append("the ferry changed the backup account: %s" % ferry_changes)
        problems += check_keeper(world, keeper, args.prefix)
        problems += check_chain(world, chain, n_sources, second)
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps(
                {"outcome": outcome, "invocations": n, "state": state,
                 "world": {"prod_account": world.prod_account,
                           "backup_account": world.backup_account,
                           "snapshot_id": world.snapshot_id, "snapshot_arn": world.snapshot_arn,
                           "db_id": world.db_id, "backup_key_arn": world.backup_key_arn,
                           "region": world.region, "second_region": second,
                           "backup_keys": keys,
                           "rds_default_key_arn": world.rds_default_key_arn},
                 "ferry_copies": (with_copies or {}).get("copies"),
                 "keeper": keeper, "chain": chain, "problems": problems},
                indent=2, default=str))
        if problems:
            raise DemoFailure("the final state is wrong:\n  " + "\n  ".join(problems))
        say()
        say("OK: every snapshot of production (encrypted with aws/rds, which can't be shared) "
            "has an off-account copy in %s and in %s, each encrypted with that Region's "
            "backup key (the ferry copied into %s, the keeper of %s chained it); shares "
            "are gone, one transit copy per DB is kept un-shared (incremental copies); the "
            "ferry only added, the keeper restored the copy, reports its age, and drilled a "
            "restore of it (restored, %s s measured, deleted) (%d invocations, %.1fs)" % (
                world.region, second, world.region, second,
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

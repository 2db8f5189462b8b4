"""Chaos test of the whole flow: the real bootstrap under AWS's Runtime Interface Emulator,
talking to moto + the fidelity layer through harness/chaosproxy.py, which spoils a seeded
share of the AWS requests (throttling, 500, 503, connection reset, slow answers, and answers
lost after moto applied the request).

What must hold whatever the faults:
- every source (aws/rds, customer-key, unencrypted, automated, Aurora cluster snapshots)
  ends with exactly one available backup copy, no share is left and no transit copy but
  the newest of each DB (un-shared, kept for the next incremental copy), within a bounded
  number of sweeps;
- never two backup (or transit) copies of one source at any moment (checked after every
  invocation, while copies are still `creating`);
- the runtime keeps answering: every invocation answers, from the same bootstrap process;
- a fault-free sweep afterwards ends `done` with no function error;
- what snapferry did not make survives: a user snapshot named like its copies without the
  lineage tags, and another production account's copy (the ferry deletes no backup copy);
- four runtimes at once on the same snapshots: one copy each, no function errors.

The production account is the emulator's fixed 012345678912 (its function ARN is always in
that account and snapferry refuses other accounts' events), as in `make demo`.  Copies are
held `creating` by the fidelity layer and released after each invocation, so the flow meets
running copies as it does on AWS.  Figures are printed: run with -s to see them.
"""
import concurrent.futures
import hashlib
import json
import os
import time

import pytest

import ferry_support as fs
from ferry_support import SWEEP, snapshot_event
from harness.chaosproxy import ChaosProxy
from harness.paths import binary
from harness.rie_fixtures import skip_or_fail

RIE_ACCOUNT = "012345678912"
OTHER_ACCOUNT = "999988887777"
PREFIX = "snapferry"
# Fixed seeds: each is one reproducible run.  The first spoils every kind of request with
# every kind of fault; the second also does, except that a spoiled mutating call (a copy, a
# share, an un-share, a delete, a tag) always loses its answer after moto applied it.
MUTATIONS = ("CopyDBSnapshot", "CopyDBClusterSnapshot", "ModifyDBSnapshotAttribute",
             "ModifyDBClusterSnapshotAttribute", "DeleteDBSnapshot", "DeleteDBClusterSnapshot",
             "AddTagsToResource")
RUNS = [pytest.param(1208, None, id="all-faults-seed1208"),
        pytest.param(8, {a: ("lost",) for a in MUTATIONS}, id="lost-mutations-seed8")]
# More runs by hand: SNAPFERRY_CHAOS_SEEDS=1,2,3 (all faults, those seeds) replaces them.
if os.environ.get("SNAPFERRY_CHAOS_SEEDS"):
    RUNS = [pytest.param(int(x), None, id=f"all-faults-seed{int(x)}")
            for x in os.environ["SNAPFERRY_CHAOS_SEEDS"].split(",") if x.strip()]
FAULT_RATE = 0.25
MAX_SWEEPS = 12                # convergence bound, after the created events
FOREIGN_COPY = "snapferry-proddb-manual-1-elsewhere"
USER_SNAPSHOT = "snapferry-userdb-keep"


def figure(name, value):
    print(f"\nFIGURE {name}: {value}")


@pytest.fixture
def bootstrap():
    p = binary("dev")
    if not p.exists():
        skip_or_fail(f"{p} is not built (make dev)")
    return p


@pytest.fixture
def chaos_world(aws):
    from fidelity.world import build_world
    return build_world(aws.endpoint, prod_account=RIE_ACCOUNT)


def make_sources(world, aws):
    """One source of each kind, and the created event of each: [(event, kind)]."""
    from fidelity.world import key_policy_for_backup
    key = world.create_key(policy=key_policy_for_backup(world.prod_account,
                                                         world.backup_account))
    world.create_db("cmkdb", kms_key_id=key["Arn"])
    world.create_snapshot("cmkdb", "cmkdb-snap")
    world.create_db("plaindb", encrypted=False)
    world.create_snapshot("plaindb", "plaindb-snap")
    auto = aws.automated_snapshot(world.prod_account, world.region, world.db_id)
    auto_id = auto.get("id") or auto.get("DBSnapshotIdentifier") or auto["snapshot"]
    world.create_cluster("aurora1")
    world.create_cluster_snapshot("aurora1", "aurora1-snap")
    return [
        snapshot_event(world, world.snapshot_id),                        # aws/rds
        snapshot_event(world, "cmkdb-snap"),                             # customer key
        snapshot_event(world, "plaindb-snap"),                           # unencrypted
        snapshot_event(world, auto_id, "RDS-EVENT-0091"),                # automated
        snapshot_event(world, "aurora1-snap", "RDS-EVENT-0075", cluster=True),
    ]


def make_bystanders(world):
    """What the backup account holds that snapferry never made: a user's snapshot with
    snapferry's prefix but no lineage tags, and another production account's copy (tags
    naming that account), 30 days old so retention would pick it if it took it as its own."""
    rds = world.admin("rds", "backup")
    world.create_db("userdb", account="backup", encrypted=False)
    rds.create_db_snapshot(DBInstanceIdentifier="userdb", DBSnapshotIdentifier=USER_SNAPSHOT)
    fs.foreign_copy(world, USER_SNAPSHOT, FOREIGN_COPY, OTHER_ACCOUNT, world.region,
                    days_ago=30)
    return {USER_SNAPSHOT, FOREIGN_COPY}


def snapshots(world, account):
    """Every instance and cluster snapshot of the account (any type): id -> (arn, status,
    tags, kind)."""
    rds = world.admin("rds", account)
    out = {}
    for s in rds.describe_db_snapshots()["DBSnapshots"]:
        out[s["DBSnapshotIdentifier"]] = (s["DBSnapshotArn"], s["Status"],
                                          fs.tags_of(rds, s["DBSnapshotArn"]), "instance")
    for s in rds.describe_db_cluster_snapshots()["DBClusterSnapshots"]:
        out[s["DBClusterSnapshotIdentifier"]] = (
            s["DBClusterSnapshotArn"], s["Status"],
            fs.tags_of(rds, s["DBClusterSnapshotArn"]), "cluster")
    return out


class State:
    """Both accounts at one moment, seen through boto3 straight at moto (not the proxy)."""

    def __init__(self, world):
        self.prod = snapshots(world, "prod")
        self.backup = snapshots(world, "backup")
        self.sources = {v[0]: k for k, v in self.prod.items()
                        if not k.startswith(PREFIX + "-")}
        t_all = {k: v for k, v in self.prod.items() if k.startswith(PREFIX + "-")}
        # A transit copy whose B is done stays, un-shared and tagged, as its DB's newest
        # (transit_chain.h): at most one per DB. Any other is left over.
        kept = {k: v for k, v in t_all.items()
                if v[2].get("snapferry:transit-kept") == "true"}
        self.transit = {k: v for k, v in t_all.items() if k not in kept}
        per_db = {}
        for k, v in kept.items():
            per_db.setdefault((v[3], v[2].get("snapferry:source-db")), []).append(k)
        self.kept_extra = sorted(k for ks in per_db.values() if len(ks) > 1 for k in ks)
        self.kept_shared = [k for k, v in kept.items() if world.backup_account in
                            fs.shared_with(world, k, v[3] == "cluster")]
        self.copies = {}
        for k, (_, status, tags, _) in self.backup.items():
            if tags.get("snapferry:role") == "backup":
                self.copies.setdefault(tags.get("snapferry:source-arn"), []).append(
                    (k, status))
        self.shared = [k for k, (_, _, _, kind) in self.prod.items()
                       if k in self.sources.values() and not k.startswith("rds:")
                       and world.backup_account in fs.shared_with(world, k, kind == "cluster")]

    def duplicates(self):
        """Sources with two copies at once (backup copies, or transit copies)."""
        dup = {a: c for a, c in self.copies.items() if len(c) > 1}
        per_source = {}
        for k, (_, _, tags, _) in self.transit.items():
            per_source.setdefault(tags.get("snapferry:source-arn"), []).append(k)
        dup.update({a: c for a, c in per_source.items() if len(c) > 1})
        return dup

    def converged(self, shares=True):
        ok = all(len(self.copies.get(a, [])) == 1 and self.copies[a][0][1] == "available"
                 for a in self.sources)
        return ok and not self.transit and not self.kept_extra and not self.kept_shared \
            and (not self.shared or not shares)

    def problems(self):
        out = []
        for a, sid in self.sources.items():
            c = self.copies.get(a, [])
            if len(c) != 1 or c[0][1] != "available":
                out.append(f"{sid}: backup copies {c}")
        if self.transit:
            out.append(f"transit copies left: {sorted(self.transit)}")
        if self.kept_extra:
            out.append(f"more than one kept transit copy of a DB: {self.kept_extra}")
        if self.kept_shared:
            out.append(f"kept transit copies still shared: {self.kept_shared}")
        if self.shared:
            out.append(f"still shared: {self.shared}")
        return out


def invoke(emu, event):
    """One invocation through the emulator: the decoded answer (a result or an error)."""
    status, body = emu.invoke(event, timeout=120)
    assert status == 200, (status, body[:500])
    doc = json.loads(body)
    assert isinstance(doc, dict), doc
    return doc


def runtime_env(world, proxy, **extra):
    env = world.env(AWS_ENDPOINT_URL=proxy.endpoint, AWS_LAMBDA_FUNCTION_NAME="snapferry",
                    LOG_LEVEL="info")
    env.update(extra)
    return env


def assert_bystanders(world, names):
    backup = snapshots(world, "backup")
    for n in names:
        assert n in backup, f"{n} was deleted"
    assert backup[USER_SNAPSHOT][2] == {}, "the user's snapshot was tagged"


@pytest.mark.parametrize("seed,by_action", RUNS)
def test_chaos_converges(seed, by_action, bootstrap, start_rie, chaos_world, aws):
    world = chaos_world
    t0 = time.monotonic()
    events = make_sources(world, aws)
    keep = make_bystanders(world)
    aws.hold(True)                      # copies run until released, as on AWS
    proxy = ChaosProxy(aws.endpoint, seed=seed, rate=FAULT_RATE, by_action=by_action).start()
    try:
        emu = start_rie(bootstrap, runtime_env(world, proxy))
        answers = []
        pid = None

        def step(event):
            nonlocal pid
            doc = invoke(emu, event)
            answers.append(doc)
            pids = emu.bootstrap_pids()
            assert len(pids) == 1, f"bootstrap processes: {pids}\n{emu.log()[-3000:]}"
            if pid is None:
                pid = pids[0]
            assert pids[0] == pid, "the bootstrap was restarted (it crashed or exited)"
            st = State(world)
            assert not st.duplicates(), f"two copies of one source: {st.duplicates()}"
            aws.release()
            return doc, st

        for ev in events:
            step(ev)
        sweeps = 0
        while True:
            st = State(world)
            if st.converged() or sweeps >= MAX_SWEEPS:
                break
            sweeps += 1
            step(SWEEP)
        assert st.converged(), (f"seed {seed}: not converged after {sweeps} sweeps at "
                                f"{FAULT_RATE:.0%} faults: {st.problems()}\n"
                                f"answers: {answers[-3:]}")
        faults = dict(proxy.stats)
        errors = [a.get("errorType") for a in answers if "errorType" in a]

        # Without faults, one more sweep has nothing left to do and ends `done`.
        proxy.rate = 0
        doc, st = step(SWEEP)
        assert "errorType" not in doc, doc
        assert doc["outcome"] == "done", doc
        assert st.converged(), st.problems()
        assert_bystanders(world, keep)
        # The run met every kind of fault, including answers lost after the fact.
        for kind in ("throttle", "500", "503", "reset", "slow", "lost"):
            assert faults.get(kind, 0) > 0, f"seed {seed} injected no {kind}: {faults}"
        lost_mutations = [a for (_, a, k) in proxy.events if k == "lost" and a in MUTATIONS]
        if by_action:
            assert {"CopyDBSnapshot", "CopyDBClusterSnapshot"} & set(lost_mutations), \
                lost_mutations
        figure(f"chaos seed {seed}", json.dumps({
            "sources": len(st.sources), "invocations": len(answers),
            "sweeps_to_converge": sweeps, "requests": sum(faults.values()),
            "faults": faults, "lost_mutations": lost_mutations,
            "fault_sequence": hashlib.sha256(repr(
                [e for e in proxy.events if e[2] != "ok"]).encode()).hexdigest()[:12],
            "function_errors_during_faults": errors,
            "seconds": round(time.monotonic() - t0, 1)}))
    finally:
        proxy.stop()
        aws.hold(False)


def test_four_runtimes_at_once(bootstrap, start_rie, chaos_world, aws):
    """Four emulators, each with its own bootstrap, invoked at the same moment with the
    same events, then sweeps: slow answers (25 %, seeded) widen the races between them."""
    world = chaos_world
    t0 = time.monotonic()
    events = make_sources(world, aws)
    keep = make_bystanders(world)
    aws.hold(True)
    proxy = ChaosProxy(aws.endpoint, seed=4, rate=FAULT_RATE, kinds=("slow",),
                       slow_s=(0.05, 0.4)).start()
    try:
        emus = [start_rie(bootstrap, runtime_env(world, proxy)) for _ in range(4)]
        answers = []

        def round_of(event):
            with concurrent.futures.ThreadPoolExecutor(len(emus)) as pool:
                docs = list(pool.map(lambda e: invoke(e, event), emus))
            answers.extend(docs)
            for d in docs:
                assert "errorType" not in d, d
                assert d.get("outcome") in ("done", "pending"), d
            st = State(world)
            assert not st.duplicates(), f"two copies of one source: {st.duplicates()}"
            aws.release()
            return st

        for ev in events:
            round_of(ev)
        rounds = 0
        st = State(world)
        # Shares are left out here: two runtimes at once can leave S shared (one adds the
        # share, the other takes it for the user's); test_share_whose_answer_was_lost
        # reproduces that defect deterministically.
        while not st.converged(shares=False) and rounds < MAX_SWEEPS:
            rounds += 1
            round_of(SWEEP)
            st = State(world)
        assert st.converged(shares=False), st.problems()
        for e in emus:
            assert len(e.bootstrap_pids()) == 1, e.log()[-3000:]
        assert_bystanders(world, keep)
        figure("four runtimes", json.dumps({
            "sources": len(st.sources), "invocations": len(answers),
            "sweep_rounds": rounds, "slow_answers": proxy.count("slow"),
            "sources_left_shared": st.shared,
            "seconds": round(time.monotonic() - t0, 1)}))
    finally:
        proxy.stop()
        aws.hold(False)


def test_proxy_is_reproducible(chaos_world, aws):
    """The same seed spoils the same requests, whatever the order they come in."""
    bodies = [f"Action=DescribeDBSnapshots&Marker={i}".encode() for i in range(400)]
    a = ChaosProxy(aws.endpoint, seed=8, rate=FAULT_RATE)
    b = ChaosProxy(aws.endpoint, seed=8, rate=FAULT_RATE)
    c = ChaosProxy(aws.endpoint, seed=9, rate=FAULT_RATE)
    da = [a.decide("rds", x) for x in bodies]
    db = list(reversed([b.decide("rds", x) for x in reversed(bodies)]))
    dc = [c.decide("rds", x) for x in bodies]
    assert da == db
    assert da != dc
    share = sum(1 for k, _ in da if k) / len(da)
    assert 0.18 < share < 0.32, share
    # A repeated request (a retry) gets a fresh draw, not the same fault forever.
    assert len({a.decide("rds", bodies[0]) for _ in range(50)}) > 1


# ---- a share applied, its answer lost -------------------------------------------------------

@pytest.fixture
def lost_share_run(bootstrap, start_rie, chaos_world, aws):
    """An unencrypted manual snapshot (shared directly, no transit copy; encrypted ones
    travel as transit copies under the share key): every answer to
    ModifyDBSnapshotAttribute is lost after moto applied it, so the first invocation adds
    the share and fails; then the faults stop and the flow runs to its end."""
    world = chaos_world
    world.create_db("cmkdb", encrypted=False)
    world.create_snapshot("cmkdb", "cmkdb-snap")
    event = snapshot_event(world, "cmkdb-snap")
    proxy = ChaosProxy(aws.endpoint, seed=1, rate=1.0, kinds=(),
                       by_action={"ModifyDBSnapshotAttribute": ("lost",)}).start()
    try:
        emu = start_rie(bootstrap, runtime_env(world, proxy))
        first = invoke(emu, event)
        # moto lists an account once per ValuesToAdd applied (AWS keeps a set).
        shared = set(fs.shared_with(world, "cmkdb-snap"))
        proxy.rate = 0
        docs = [invoke(emu, event) for _ in range(2)] + [invoke(emu, SWEEP)]
        st = State(world)
        arn = st.prod["cmkdb-snap"][0]
        problems = [p for ok, p in (
            (proxy.count("lost") >= 1, f"no answer was lost: {dict(proxy.stats)}"),
            (first.get("errorType") or first.get("outcome") == "pending",
             f"the first invocation did not stop: {first}"),
            (shared == {world.backup_account}, f"the share was not applied: {shared}"),
            (all("errorType" not in d for d in docs), f"function errors: {docs}"),
            (docs[-1]["outcome"] == "done", f"not done: {docs}"),
            ([c[1] for c in st.copies.get(arn, [])] == ["available"],
             f"backup copies: {st.copies}")) if not ok]
        # Not an AssertionError: the xfail below must not swallow a broken scenario.
        if problems:
            raise RuntimeError("the lost-share scenario did not run: " + "; ".join(problems))
        yield world, st
    finally:
        proxy.stop()


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "new defect found by the chaos test: a share snapferry added whose answer was lost "
    "(or whose invocation stopped before the copy) is taken by the next invocation for "
    "the user's own share (snapferry:shared-before=true on B) and is never removed"))
def test_share_whose_answer_was_lost_is_taken_back(lost_share_run):
    world, st = lost_share_run
    assert fs.shared_with(world, "cmkdb-snap") == [], "the share snapferry added stays"
    b = next(k for k, v in st.backup.items() if k == fs.bid(world, "cmkdb-snap"))
    assert "snapferry:shared-before" not in st.backup[b][2]

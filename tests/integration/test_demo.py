"""make demo: scripts/demo.py runs the whole flow on the fidelity server and AWS's Runtime
Interface Emulator; this runs it (as `make demo` does, with the static ./bootstrap when it
is built, else the development build) and checks the final state it reports, on its own."""
import json
import os
import subprocess
import sys
import time

import pytest

import ferry_support as fs
from harness.paths import ROOT, TOOLS, binary

IN_CI = os.environ.get("CI") == "true"


def pick_bootstrap():
    for variant in ("static", "dev"):
        path = binary(variant)
        if path.exists():
            return path
    if IN_CI:
        pytest.fail("no bootstrap built (make / make dev)")
    pytest.skip("no bootstrap built (make / make dev)")


def test_demo_end_to_end(tmp_path):
    pytest.importorskip("moto", reason="moto[server] is not installed")
    if not (TOOLS / "aws-lambda-rie").exists():
        if IN_CI:
            pytest.fail("build/tools/aws-lambda-rie missing (make setup)")
        pytest.skip("build/tools/aws-lambda-rie missing (make setup)")
    bootstrap = pick_bootstrap()
    report = tmp_path / "final.json"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--bootstrap",
                        str(bootstrap), "--json", str(report)],
                       capture_output=True, text=True, timeout=180, cwd=ROOT,
                       stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - t0
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-6000:]
    assert elapsed < 60, "the demo took %.1fs" % elapsed
    # It told the story: the event, the copies, the cleanup, the final state.
    for text in ("RDS-EVENT-0042", "CopyDBSnapshot", "ModifyDBSnapshotAttribute",
                 "DeleteDBSnapshot", "Final state", "OK:"):
        assert text in out, text
    # ...and the keeper's part: the backup account's copy-finished event and schedule.
    for text in ("SNAPFERRY_MODE=keeper", "RDS-EVENT-0197", "RestoreDBInstanceFromDBSnapshot",
                 "NewestBackupAgeSeconds"):
        assert text in out, text

    doc = json.loads(report.read_text())
    assert doc["outcome"] == "done" and doc["problems"] == []
    assert doc["keeper"]["copyFinished"]["restored"] == "snapferry-proddb"
    assert doc["keeper"]["sweep"]["mode"] == "keeper"
    # ...and it ends with one restore drill: restored, its measured seconds, deleted
    for text in ("RestoreDrillSeconds", "DeleteDBInstance snapferry-drill-proddb"):
        assert text in out, text
    (drill,) = doc["keeper"]["drillSweep"]["drills"]
    assert drill["state"] == "passed" and drill["seconds"] >= 0, drill
    w, prod, backup = doc["world"], doc["state"]["production"], doc["state"]["backup"]
    # production keeps its sources, encrypted with aws/rds, unshared; one transit copy of
    # its DB is kept (un-shared, the base of the next incremental copy)
    kept = [s for s in prod if s["id"].startswith("snapferry-")]
    assert len(kept) == 1 and kept[0]["tags"]["snapferry:transit-kept"] == "true", kept
    prod = [s for s in prod if s not in kept]
    assert w["snapshot_id"] in {s["id"] for s in prod}
    for s in prod + kept:
        assert s["shared"] == [], s
    for s in prod:
        assert s["key"] == w["rds_default_key_arn"]
    # Two Regions of the backup account (issue 10, the chain): the source Region, filled by
    # the ferry, and a second one, filled by that Region's keeper from the first.
    region, second = w["region"], w["second_region"]
    assert region == w["snapshot_arn"].split(":")[3] and second != region
    assert sorted(backup) == sorted([region, second])
    keys = w["backup_keys"]
    assert keys[region] == w["backup_key_arn"] and keys[second] != keys[region]
    assert keys[second].split(":")[3] == second
    assert {c["region"]: c["by"] for c in doc["ferry_copies"]} == {
        region: "ferry", second: "keeper"}
    assert [c["status"] for c in doc["ferry_copies"] if c["region"] == second] == ["chained"]
    assert "BACKUP_REGIONS=%s,%s" % (region, second) in out
    assert doc["chain"]["chain"]["chain"]["started"] == len(prod), doc["chain"]
    assert doc["chain"]["sweep"]["chain"]["present"] == len(prod), doc["chain"]
    # one available backup copy per source in each Region, with that Region's key and
    # lineage; the second Region's is the chained twin of the first's
    sources = {s["arn"] for s in prod}
    first = {b["id"]: b for b in backup[region]}
    for r in (region, second):
        assert len(backup[r]) == len(prod), (r, backup[r])
        for b in backup[r]:
            assert b["status"] == "available", b
            assert b["encrypted"] and b["key"] == keys[r], b
            assert b["key"].split(":")[3:5] == [r, w["backup_account"]], b
            assert b["tags"]["snapferry:source-arn"] in sources
            assert b["tags"]["snapferry:source-db"] == w["db_id"]
            assert b["shared"] == []
            if r == region:
                assert "snapferry:chained-from" not in b["tags"], b
            else:
                tags = dict(b["tags"])
                assert tags.pop("snapferry:chained-from") == region, b
                # the lineage of the first Region's copy (not the drill's later tag)
                origin = dict(first[b["id"]]["tags"])
                origin.pop("snapferry:drill-result", None)
                assert tags == origin, (b, first[b["id"]])
        assert sorted(b["tags"]["snapferry:source-arn"] for b in backup[r]) == sorted(sources)
        assert fs.backup_id(w["snapshot_id"], w["prod_account"], region) in \
            {b["id"] for b in backup[r]}
    assert "Final state" in out and ("backup account %s, %s:" % (w["backup_account"], second)) \
        in out

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
    # one available backup copy per source, with the backup account's key and lineage
    assert len(backup) == len(prod)
    sources = {s["arn"] for s in prod}
    for b in backup:
        assert b["status"] == "available"
        assert b["encrypted"] and b["key"] == w["backup_key_arn"]
        assert b["key"].split(":")[4] == w["backup_account"]
        assert b["tags"]["snapferry:source-arn"] in sources
        assert b["tags"]["snapferry:source-db"] == w["db_id"]
        assert b["shared"] == []
    assert sorted(b["tags"]["snapferry:source-arn"] for b in backup) == sorted(sources)
    region = w["snapshot_arn"].split(":")[3]
    assert fs.backup_id(w["snapshot_id"], w["prod_account"], region) in \
        {b["id"] for b in backup}

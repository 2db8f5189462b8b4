"""Heap allocations per AWS request (issue 11, section 4): at most 60 for a Query round trip on a
kept-alive client, measured as bench/run.sh measures it -- valgrind's "total heap usage" for 11
calls minus 1 call, over 10, so process start-up and library initialisation cancel out.  Before
the per-client signing key, work buffers, curl options and XML parser it was 144."""
import os
import re
import shutil
import subprocess

import pytest

from harness.faultserver import FaultServer
from harness.paths import BUILD

BUDGET = 60


@pytest.fixture(scope="module")
def server():
    srv = FaultServer().start()
    yield srv
    srv.stop()


def _allocs(server, calls):
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        pytest.fail("valgrind is missing: make setup")
    tool = BUILD / "dev" / "tools" / "aws_call"
    if not tool.exists():
        pytest.fail(f"{tool} is not built: make dev")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKIDHEAPTEST", AWS_SECRET_ACCESS_KEY="heapTESTsecretKEY/0123456789",
               AWS_SESSION_TOKEN="heap-test-token", AWS_REGION="eu-west-1", LOG_LEVEL="error",
               AWS_ENDPOINT_URL=server.url("ok/heap"), AWS_CALL_REPEAT=str(calls))
    p = subprocess.run([valgrind, str(tool), "query", "rds", "2014-10-31", "DescribeDBSnapshots",
                        "DBSnapshotIdentifier=my-snap"], env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    m = re.search(r"total heap usage: ([\d,]+) allocs", p.stderr)
    assert m, p.stderr[-2000:]
    return int(m.group(1).replace(",", ""))


def test_allocations_per_request_within_budget(server):
    per_request = (_allocs(server, 11) - _allocs(server, 1)) / 10
    assert per_request <= BUDGET, f"{per_request} heap allocations per request (budget {BUDGET})"
    # Sanity: the difference measures real requests, not noise.
    assert per_request >= 10

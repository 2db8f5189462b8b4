"""The C unit tests (tests/unit/test_*.c), run as built by the Makefile.

Each source gives three test ids: the dev binary, the dev binary under
valgrind (memory errors and definite/indirect leaks fail), and the
ASan+UBSan binary.  A binary that was not built is a failure, not a skip:
`make test` builds them all (`make unit-bins`).
"""
import os
import shutil
import subprocess

import pytest

from harness.paths import BUILD, ROOT

UNIT_DIR = ROOT / "tests" / "unit"
NAMES = sorted(p.stem for p in UNIT_DIR.glob("test_*.c"))

VALGRIND = [
    "valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
    "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
]
TIMEOUT = {"dev": 120, "valgrind": 600, "asan": 300}


def _cases():
    for name in NAMES:
        for mode in ("dev", "valgrind", "asan"):
            yield pytest.param(mode, name, id=f"{mode}/{name}")


def _run(cmd, env, timeout):
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


@pytest.mark.skipif(not NAMES, reason="no tests/unit/test_*.c yet")
@pytest.mark.parametrize("mode,name", list(_cases()))
def test_unit_binary(mode, name):
    variant = "asan" if mode == "asan" else "dev"
    binary = BUILD / variant / "tests" / name
    assert binary.is_file(), f"{binary} was not built (make BUILD={BUILD} unit-bins)"
    env = dict(os.environ)
    cmd = [str(binary)]
    if mode == "valgrind":
        if shutil.which("valgrind") is None:
            pytest.fail("valgrind is not installed (scripts/setup.sh installs it)")
        cmd = VALGRIND + cmd
    elif mode == "asan":
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    rc, out = _run(cmd, env, TIMEOUT[mode])
    assert rc == 0, f"{' '.join(cmd)} exited {rc}:\n{out}"
    # unit.h prints "<file>: N passed, N failed"; a binary that checked nothing proves nothing.
    assert " passed, 0 failed" in out and " 0 passed," not in out, \
        f"{name} ({mode}) did not report passing checks:\n{out}"


@pytest.mark.parametrize("ci,want_rc", [("true", 1), ("", 0)])
def test_missing_sigv4_suite_fails_ci(ci, want_rc, tmp_path):
    """Without the official SigV4 suite a developer's run says SKIP; under CI=true the
    unit test fails instead of passing quietly."""
    exe = BUILD / "dev" / "tests" / "test_sigv4"
    assert exe.exists(), f"{exe} is not built (make dev)"
    env = dict(os.environ, CI=ci, SIGV4_TESTSUITE=str(tmp_path / "absent"))
    rc, out = _run([str(exe)], env, TIMEOUT["dev"])
    assert rc == want_rc, out
    assert ("SKIP official SigV4 suite" in out) == (want_rc == 0), out

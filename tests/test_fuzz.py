"""The libFuzzer harnesses of tests/fuzz/ (mk/fuzz.mk), run briefly.

Each harness (fuzz_flow too: the flow against a fake AWS) runs for
SNAPFERRY_FUZZ_SECONDS (default 10) seconds over its seed corpus
(tests/fuzz/corpus/<name>/) plus a scratch corpus, with ASan, UBSan and
LeakSanitizer.  A crash, a leak, a failed property (FUZZ_ASSERT
aborts) or a slow input fails the test, which prints the reproducer's path
and how to replay it.  `make test` builds the harnesses when clang is
installed; without clang the tests skip, except under CI, where setup.sh
installs clang and a missing harness is a failure.
"""
import configparser
import os
import re
import shutil
import subprocess

import pytest

from harness.paths import BUILD, ROOT

FUZZ_SRC = ROOT / "tests" / "fuzz"
NAMES = sorted(p.stem for p in FUZZ_SRC.glob("fuzz_*.c"))
SECONDS = int(os.environ.get("SNAPFERRY_FUZZ_SECONDS", "10"))
CLANG = os.environ.get("FUZZ_CC", "clang")
# Crashes known and being fixed, which a brief run must not stumble on: the harness's
# environment that steers around each.  Remove an entry with the fix, and the xfail of
# its reproducer below.
AVOID = {}


def _options(name):
    """The [libfuzzer] options of tests/fuzz/<name>.options as command-line flags."""
    cp = configparser.ConfigParser()
    cp.read(FUZZ_SRC / f"{name}.options")
    if not cp.has_section("libfuzzer"):
        return []
    return [f"-{k}={v}" for k, v in cp.items("libfuzzer")]


def _seeds(name):
    return FUZZ_SRC / "corpus" / name.removeprefix("fuzz_")


@pytest.fixture(scope="module")
def fuzz_bins():
    if shutil.which(CLANG) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CLANG} is not installed under CI (scripts/setup.sh installs it)")
        pytest.skip(f"{CLANG} is not installed (make setup installs clang, libclang-rt-14-dev)")
    return BUILD / "fuzz"


def test_every_harness_has_seeds_and_options():
    assert NAMES, "no tests/fuzz/fuzz_*.c"
    for name in NAMES:
        seeds = _seeds(name)
        assert seeds.is_dir() and any(seeds.iterdir()), f"{name}: no seeds in {seeds}"
        opts = _options(name)
        assert any(o.startswith("-max_len=") for o in opts), f"{name}: no max_len in options"
        for o in opts:
            if o.startswith("-dict="):
                assert (ROOT / o.split("=", 1)[1]).is_file(), f"{name}: {o} missing"


def _run(binary, name, tmp_path, extra=()):
    """One bounded libFuzzer run: (exit status, output, artifacts written)."""
    scratch = tmp_path / "corpus"
    scratch.mkdir()
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    cmd = [str(binary), f"-max_total_time={SECONDS}", "-timeout=25", "-rss_limit_mb=2048",
           "-print_final_stats=1", f"-artifact_prefix={artifacts}/"] + _options(name) + \
        list(extra) + [str(scratch), str(_seeds(name))]
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    env.update(AVOID.get(name, {}))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=SECONDS + 120, check=False)
    return (proc.returncode, proc.stdout.decode("utf-8", "replace"),
            sorted(str(p) for p in artifacts.iterdir()))


@pytest.mark.parametrize("name", NAMES)
def test_fuzz_harness(fuzz_bins, name, tmp_path):
    binary = fuzz_bins / name
    assert binary.is_file(), f"{binary} was not built (make BUILD={BUILD} fuzz-bins)"
    n_seeds = sum(1 for p in _seeds(name).iterdir() if p.is_file())
    rc, out, found = _run(binary, name, tmp_path)
    if rc != 0 or found:
        # Keep the reproducer past pytest's tmp_path clean-up.
        keep = BUILD / "fuzz" / "artifacts"
        keep.mkdir(parents=True, exist_ok=True)
        kept = []
        for p in found:
            dst = keep / f"{name}-{os.path.basename(p)}"
            shutil.copyfile(p, dst)
            kept.append(str(dst))
        tail = "\n".join(out.splitlines()[-80:])
        pytest.fail(f"{name} exited {rc}; reproducer(s): {kept or 'none written'}\n"
                    f"replay: {binary} <reproducer>\n{tail}")
    # Every seed was run, and the run went on past them.
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    assert m, f"{name}: no final stats:\n{out[-2000:]}"
    assert int(m.group(1)) > n_seeds, f"{name}: executed {m.group(1)} inputs for {n_seeds} seeds"
    assert re.search(r"INITED cov: [1-9]", out), f"{name}: no coverage at start:\n{out[-2000:]}"


def test_a_failing_run_is_caught(fuzz_bins, tmp_path):
    """The plumbing above sees a failure: an RSS limit below any process's size
    makes libFuzzer stop with an out-of-memory report and an oom- reproducer."""
    name = NAMES[0]
    binary = fuzz_bins / name
    assert binary.is_file(), f"{binary} was not built (make BUILD={BUILD} fuzz-bins)"
    rc, out, found = _run(binary, name, tmp_path, ["-rss_limit_mb=1"])
    assert rc != 0, out[-2000:]
    assert "out-of-memory" in out, out[-2000:]
    assert any(os.path.basename(p).startswith("oom-") for p in found), found


REPRO = FUZZ_SRC / "repro"


def test_flow_defect1_null_source_arn(fuzz_bins):
    """fuzz_flow's reproducer of defect 1: a source described without DBSnapshotArn whose
    backup copy (lineage tags of any source) ended `failed`: vet_copy calls delete_ours
    with a NULL source ARN.  Run without the brief run's AVOID: it must pass once fixed."""
    binary = fuzz_bins / "fuzz_flow"
    assert binary.is_file(), f"{binary} was not built (make BUILD={BUILD} fuzz-bins)"
    env = dict(os.environ)
    env.pop("SNAPFERRY_FUZZ_FLOW_AVOID", None)
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    proc = subprocess.run([str(binary), str(REPRO / "flow-defect1-null-source-arn")],
                          cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, check=False)
    out = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0 and "runtime error" not in out, out[-3000:]


def test_flow_reproducer_is_steered_around(fuzz_bins):
    """The brief run's AVOID really steers around defect 1 (the same input passes)."""
    binary = fuzz_bins / "fuzz_flow"
    env = dict(os.environ)
    env.update(AVOID.get("fuzz_flow", {}))
    proc = subprocess.run([str(binary), str(REPRO / "flow-defect1-null-source-arn")],
                          cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout.decode("utf-8", "replace")[-3000:]

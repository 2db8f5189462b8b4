"""moto server + fidelity layer fixtures (owned by the fidelity work).

  fidelity_server  session: one patched moto server on a free port (log file shown when a
                   test fails with it running; stopped at the end)
  aws              function: moto and the fidelity control state reset; yields the Control
                   client (hold/release/inject/calls/...) with .endpoint
  world            function: the two-account world (fidelity.world.build_world) on a fresh
                   server state; world.env() is the bootstrap's configuration
Without moto installed the fixtures skip the tests that use them.
"""
import os
import pathlib

import pytest

from harness.paths import BUILD


@pytest.fixture(scope="session")
def fidelity_server():
    pytest.importorskip("moto", reason="moto[server] is not installed")
    pytest.importorskip("boto3", reason="boto3 is not installed")
    from fidelity import FidelityVersionError, require_pinned_moto
    from fidelity.process import FidelityServer
    try:
        require_pinned_moto()
    except FidelityVersionError as e:
        pytest.fail(str(e))
    logdir = pathlib.Path(os.environ.get("FIDELITY_LOG_DIR", BUILD / "test-logs"))
    logdir.mkdir(parents=True, exist_ok=True)
    srv = FidelityServer(log_path=logdir / f"fidelity-{os.getpid()}.log")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def aws(fidelity_server):
    """A clean AWS: moto's state and the fidelity layer's holds/injections/calls reset."""
    ctl = fidelity_server.control
    ctl.reset_all()
    yield ctl
    try:
        ctl.reset_auth(float("inf"))  # signature checking off again, as moto starts
    except Exception:
        pass


@pytest.fixture
def world(aws):
    from fidelity.world import build_world
    return build_world(aws.endpoint)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """A failing test that used the server shows the tail of the server's log."""
    rep = yield
    if rep.failed and rep.when in ("setup", "call"):
        srv = getattr(item, "funcargs", {}).get("fidelity_server")
        if srv is not None:
            rep.sections.append((f"fidelity server log {srv.log_path} (tail)",
                                 srv.log()[-6000:]))
    return rep

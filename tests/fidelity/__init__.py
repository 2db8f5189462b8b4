"""snapferry's AWS fidelity layer: moto (pinned) in server mode, patched in-process.

It closes the gaps of moto that matter to snapferry (cross-account shared snapshots, the
AWS-managed aws/rds key, AWS's sharing rules, copies held in `creating`) and adds a control
API under /_fidelity/ for tests: holds, error injection, a call log, automated snapshots.
Start it with `PYTHONPATH=tests python -m fidelity.server --port N`, or use
fidelity.process.FidelityServer / fidelity.world.build_world from Python.
"""

MOTO_VERSION = "5.2.5"


class FidelityVersionError(RuntimeError):
    """The installed moto is not the one the patches were written against."""


def require_pinned_moto():
    """Refuse to run on another moto: the patches reach into moto's internals."""
    try:
        from importlib.metadata import version, PackageNotFoundError
        try:
            found = version("moto")
        except PackageNotFoundError:
            found = None
    except ImportError:  # pragma: no cover - python < 3.8
        found = None
    if found != MOTO_VERSION:
        raise FidelityVersionError(
            f"snapferry's fidelity layer needs moto=={MOTO_VERSION} (found "
            f"{found or 'no moto'}); install it with "
            f"pip install 'moto[server]=={MOTO_VERSION}'")
    return found

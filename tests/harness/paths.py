"""Where the built artefacts are: SNAPFERRY_BUILD (default build/) and the repository root."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("SNAPFERRY_BUILD", ROOT / "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD
SHARED = ROOT.parent / "shared"
TOOLS = ROOT / "build" / "tools"


def binary(variant):
    """Path of the bootstrap of one build variant: dev, asan or static."""
    if variant == "static":
        return ROOT / "bootstrap"
    return BUILD / variant / "bootstrap"


@pytest.fixture(scope="session")
def repo_root():
    return ROOT

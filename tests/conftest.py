"""pytest configuration shared by every suite: fixtures live in tests/harness/."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

pytest_plugins = [
    "harness.paths",
    "harness.rie_fixtures",
    "harness.moto_fixtures",
]

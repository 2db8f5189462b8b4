#!/usr/bin/env bash
# run.sh: the whole test suite, as `make test` runs it (after setup and the
# builds): every pytest suite under tests/, the C unit binaries included
# (tests/test_c_units.py).  The exit status is pytest's; pytest's closing line
# is the summary CI reads.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export SNAPFERRY_BUILD=${SNAPFERRY_BUILD:-build}
PYTEST="$ROOT/.venv/bin/pytest"
[ -x "$PYTEST" ] || { echo "run.sh: $PYTEST missing; run 'make setup' first" >&2; exit 2; }

# --timeout: a safety net per test (pytest-timeout); tests bound their own time.
"$PYTEST" tests -ra -p no:cacheprovider --timeout=900 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
	# pytest's "no tests collected": for this project that means the suite
	# was not found or everything was deselected, never a success.
	echo "run.sh: pytest collected no tests; failing" >&2
	exit 1
fi
exit "$rc"

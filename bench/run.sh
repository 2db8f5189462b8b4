#!/usr/bin/env bash
# bench/run.sh: a benchmark, not a test.  Signing throughput (signing key derived
# for each request, and cached as a client caches it), full request round trips
# against a local server (requests/s) and heap allocations per request (from
# valgrind's "total heap usage" line), each beside botocore doing the same work in
# the same run as a baseline.  Usage: bench/run.sh  (BUILD=build/x, N=..., PYTHON=...)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
N_SIGN=${N_SIGN:-20000}
N_CALL=${N_CALL:-300}
if [ -z "${PYTHON:-}" ]; then
	if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

make -s BUILD="$BUILD" "$BUILD/dev/tools/aws_call" >/dev/null
mkdir -p "$BUILD/bench"
objs=$(ls "$BUILD"/dev/obj/*.o | grep -v '/bootstrap\.o$')
# shellcheck disable=SC2086
cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -Isrc \
	$(pkg-config --cflags libcurl libxml-2.0 libcjson) -o "$BUILD/bench/sign_bench" \
	bench/sign_bench.c $objs $(pkg-config --libs libcurl libxml-2.0 libcjson) -lmbedcrypto -lm

have_botocore=0
if "$PYTHON" -c 'import botocore' 2>/dev/null; then have_botocore=1; fi

# The local server: the fault server's "ok" scenario (tests/harness/faultserver.py).
portfile=$(mktemp)
"$PYTHON" -c '
import sys, time
sys.path.insert(0, "tests")
from harness.faultserver import FaultServer
s = FaultServer().start()
open(sys.argv[1], "w").write(str(s.port))
time.sleep(3600)
' "$portfile" &
srv_pid=$!
trap 'kill "$srv_pid" 2>/dev/null || true; rm -f "$portfile"' EXIT
for _ in $(seq 50); do [ -s "$portfile" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$portfile")/ok/bench"

jget() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }

call_env=(env -u AWS_ENDPOINT_URL_RDS AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=benchsecret
	AWS_SESSION_TOKEN=benchtoken AWS_REGION=eu-west-1 AWS_ENDPOINT_URL="$url" LOG_LEVEL=error)
aws_call=("$BUILD/dev/tools/aws_call" query rds 2014-10-31 DescribeDBSnapshots DBSnapshotIdentifier=my-snap)

sign_json=$("$BUILD/bench/sign_bench" "$N_SIGN")
c_sign=$(echo "$sign_json" | jget sign_per_s)
c_sign_cached=$(echo "$sign_json" | jget sign_cached_key_per_s)
c_encsign=$(echo "$sign_json" | jget encode_and_sign_per_s)
c_call=$("${call_env[@]}" AWS_CALL_REPEAT="$N_CALL" "${aws_call[@]}" | jget per_s)

b_sign="n/a"; b_call="n/a"
if [ "$have_botocore" = 1 ]; then
	b_sign=$("$PYTHON" bench/botocore_bench.py sign "$((N_SIGN / 4))" | jget sign_per_s)
	b_call=$("$PYTHON" bench/botocore_bench.py call "$N_CALL" "$url" | jget per_s)
fi

# Allocations per request: valgrind's heap totals for 1 and 11 calls, differenced
# (start-up, libcurl and libxml2 initialisation cancel out).  botocore the same way,
# with PYTHONMALLOC=malloc so that every Python object it allocates is a malloc.
allocs="n/a"; bytes="n/a"; b_allocs="n/a"; b_bytes="n/a"
heap_totals() {
	sed -n 's/.*total heap usage: \([0-9,]*\) allocs, [0-9,]* frees, \([0-9,]*\) bytes allocated.*/\1 \2/p' |
		tr -d ,
}
if command -v valgrind >/dev/null; then
	heap() {
		"${call_env[@]}" AWS_CALL_REPEAT="$1" valgrind "${aws_call[@]}" 2>&1 >/dev/null |
			heap_totals
	}
	read -r a1 b1 < <(heap 1)
	read -r a11 b11 < <(heap 11)
	allocs=$(( (a11 - a1) / 10 ))
	bytes=$(( (b11 - b1) / 10 ))
	if [ "$have_botocore" = 1 ] && [ "${BENCH_BOTOCORE_HEAP:-1}" = 1 ]; then
		bheap() {
			PYTHONMALLOC=malloc valgrind "$PYTHON" bench/botocore_bench.py call "$1" "$url" \
				2>&1 >/dev/null | heap_totals
		}
		read -r p1 q1 < <(bheap 1)
		read -r p11 q11 < <(bheap 11)
		b_allocs=$(( (p11 - p1) / 10 ))
		b_bytes=$(( (q11 - q1) / 10 ))
	fi
fi

ratio() { "$PYTHON" -c 'import sys
a, b = sys.argv[1], sys.argv[2]
print("%.2fx" % (float(a) / float(b)) if "n/a" not in (a, b) and float(b) != 0 else "n/a")' "$1" "$2"; }

printf '\n%-46s %14s %14s %8s\n' "benchmark" "snapferry (C)" "botocore" "ratio"
printf '%-46s %14s %14s %8s\n' "----------------------------------------------" "-------------" "--------" "-----"
printf '%-46s %14s %14s %8s\n' "SigV4 sign CopyDBSnapshot, key derived (ops/s)" "$c_sign" "$b_sign" "$(ratio "$c_sign" "$b_sign")"
printf '%-46s %14s %14s %8s\n' "SigV4 sign CopyDBSnapshot, cached key (ops/s)" "$c_sign_cached" "$b_sign" "$(ratio "$c_sign_cached" "$b_sign")"
printf '%-46s %14s %14s %8s\n' "  signing-key cache: cached / derived" "$(ratio "$c_sign_cached" "$c_sign")" "1.00x" ""
printf '%-46s %14s %14s %8s\n' "form-encode + sign (ops/s)" "$c_encsign" "" ""
printf '%-46s %14s %14s %8s\n' "round trip, local server, kept alive (req/s)" "$c_call" "$b_call" "$(ratio "$c_call" "$b_call")"
printf '%-46s %14s %14s %8s\n' "heap allocations per request" "$allocs" "$b_allocs" "$(ratio "$allocs" "$b_allocs")"
printf '%-46s %14s %14s %8s\n' "heap bytes allocated per request" "$bytes" "$b_bytes" "$(ratio "$bytes" "$b_bytes")"
echo
echo "ratio = snapferry / botocore (higher is better for ops/s and req/s, lower for the heap rows)."
echo "botocore derives the signing key for every request (no cache): its cache row is 1.00x."
echo "Heap: valgrind's totals for 11 calls minus 1 call, over 10; botocore under PYTHONMALLOC=malloc."
echo
echo "The local server is Python (tests/harness/faultserver.py): round trips measure it too."

# Start-up time and peak RSS of the static ./bootstrap beside /bin/true.
echo
make -s bootstrap >/dev/null
"$PYTHON" bench/startup.py "${N_START:-300}"

# The ferry: API calls per event type and one sweep over N_SWEEP source snapshots
# (fidelity layer's call log; needs the dev build).
echo
make -s BUILD="$BUILD" "$BUILD/dev/bootstrap" >/dev/null
SNAPFERRY_BUILD="$BUILD" "$PYTHON" bench/ferry_bench.py "${N_SWEEP:-10000}"

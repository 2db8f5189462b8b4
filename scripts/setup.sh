#!/usr/bin/env bash
# setup.sh: installs everything the build and the tests need on a Debian
# machine: Debian packages, the test venv (.venv), SAM CLI's own venv
# (.venv-sam) and AWS's Runtime Interface Emulator (build/tools).
# Idempotent and non-interactive (CI runs it as root with no stdin); each step
# is skipped when already done.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
GO_MIN_MINOR=25		# the emulator needs Go >= 1.25

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# ---- Debian packages ---------------------------------------------------------
APT_PKGS=(
	build-essential musl-tools pkg-config binutils file
	libcurl4-openssl-dev libmbedtls-dev libcjson-dev libxml2-dev
	valgrind zip unzip dpkg-dev xz-utils openssl ca-certificates python3-venv
	clang libclang-rt-14-dev	# libFuzzer harnesses (mk/fuzz.mk)
	time				# GNU time: peak RSS in bench/
)
# Cross build of the arm64 binary and its smoke test (mk/cross.mk).
APT_CROSS_PKGS=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' \
			|| printf '%s\n' "$p"
	done
}

apt_install() {
	local need
	mapfile -t need < <(missing_pkgs "$@")
	[ ${#need[@]} -gt 0 ] || return 0
	[ "$(id -u)" -eq 0 ] || die "need root to install: ${need[*]}"
	say "apt-get install ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "${need[@]}" </dev/null; then
		say "install failed; refreshing the package lists once and retrying"
		apt-get update -q </dev/null
		apt-get install -y -q --no-install-recommends "${need[@]}" </dev/null
	fi
}

apt_install "${APT_PKGS[@]}"
if [ "${SNAPFERRY_NO_CROSS:-}" = 1 ]; then
	say "skipping the arm64 cross toolchain (SNAPFERRY_NO_CROSS=1)"
else
	apt_install "${APT_CROSS_PKGS[@]}" || say "warning: arm64 cross toolchain not installed; its test will be skipped"
fi

# ---- Python virtual environments -----------------------------------------------
# venv DIR REQUIREMENTS: create DIR if needed and install REQUIREMENTS unless
# the very same file was installed there before.
venv() {
	local dir=$1 req=$2 sum
	sum=$(sha256sum "$req" | cut -d' ' -f1)
	if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$sum" ]; then
		say "$dir is up to date with $req"
		return 0
	fi
	if [ ! -x "$dir/bin/python" ]; then
		say "creating $dir"
		rm -rf "$dir"
		"$PYTHON" -m venv "$dir"
	fi
	say "installing $req into $dir"
	"$dir/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$req" </dev/null
	printf '%s\n' "$sum" > "$dir/.requirements.sha256"
}

venv .venv requirements-test.txt
venv .venv-sam requirements-sam.txt

# ---- Go and the Runtime Interface Emulator -------------------------------------
find_go() {
	local g
	for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
		[ -n "$g" ] && [ -x "$g" ] || continue
		# "go version go1.26.8 linux/amd64" -> 26
		local minor
		minor=$("$g" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
		if [ -n "$minor" ] && [ "$minor" -ge "$GO_MIN_MINOR" ]; then
			printf '%s\n' "$g"
			return 0
		fi
	done
	return 1
}

RIE="$ROOT/build/tools/aws-lambda-rie"
RIE_STAMP="$ROOT/build/tools/.aws-lambda-rie.version"
if [ -x "$RIE" ] && [ "$(cat "$RIE_STAMP" 2>/dev/null)" = "$RIE_VERSION" ]; then
	say "aws-lambda-rie $RIE_VERSION already installed"
else
	GO=$(find_go) || die "Go >= 1.$GO_MIN_MINOR is needed for the Runtime Interface Emulator and none was found (Debian's golang package is older)"
	say "go install aws-lambda-rie@$RIE_VERSION with $("$GO" env GOVERSION)"
	mkdir -p "$ROOT/build/tools"
	GOBIN="$ROOT/build/tools" GOTOOLCHAIN=local \
		"$GO" install "$RIE_MODULE@$RIE_VERSION" </dev/null
	printf '%s\n' "$RIE_VERSION" > "$RIE_STAMP"
fi

say "done"

#!/bin/sh
# fetch.sh: downloads the pinned Debian source packages of the static build's
# dependencies through a private deb-src list (the system's apt configuration
# is read, never changed) and verifies every file against third_party/checksums.
#
#   third_party/fetch.sh DEPS_DIR PKG=VERSION...
#
# The mirrors are those of the machine's own enabled apt sources for its
# release, so no registry host is written down here.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 DEPS_DIR PKG=VERSION..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
deps=$(mkdir -p "$1" && cd "$1" && pwd)
shift

codename=
if [ -r /etc/os-release ]; then
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
fi
[ -n "$codename" ] || { echo "fetch.sh: cannot tell the Debian release from /etc/os-release" >&2; exit 1; }

# deb-src lines for the enabled sources of this release and its -updates /
# -security suites (one-line .list files and deb822 .sources files alike).
list="$deps/sources.list"
{
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v c="$codename" '
		$1 == "deb" {
			i = 2; opt = ""
			if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opt = opt " " $i; i++ } opt = opt " " $i; i++ }
			uri = $i; suite = $(i + 1)
			if (suite != c && suite != c "-updates" && suite != c "-security") next
			for (j = i + 2; j <= NF; j++) if ($j == "main") print "deb-src" opt, uri, suite, "main"
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v c="$codename" '
		function flush(   n, u, s, k, l, hasmain, sb) {
			if (types ~ /(^| )deb( |$)/ && enabled != "no") {
				hasmain = (" " comps " ") ~ / main /
				sb = signed != "" ? " [signed-by=" signed "]" : ""
				n = split(uris, u, " "); k = split(suites, s, " ")
				for (i = 1; i <= n; i++) for (l = 1; l <= k; l++)
					if (hasmain && (s[l] == c || s[l] == c "-updates" || s[l] == c "-security"))
						print "deb-src" sb, u[i], s[l], "main"
			}
			types = uris = suites = comps = signed = enabled = ""
		}
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		{
			key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
			if (key == "types") types = val
			else if (key == "uris") uris = val
			else if (key == "suites") suites = val
			else if (key == "components") comps = val
			else if (key == "signed-by") signed = val
			else if (key == "enabled") enabled = tolower(val)
		}
		END { flush() }' "$f"
	done
} | sort -u > "$list.new"
[ -s "$list.new" ] || { echo "fetch.sh: no enabled Debian '$codename' apt source with component main found" >&2; exit 1; }
mv "$list.new" "$list"

mkdir -p "$deps/lists/partial" "$deps/src"
apt_opts="-o Dir::Etc::SourceList=$list -o Dir::Etc::SourceParts=/dev/null \
 -o Dir::State::Lists=$deps/lists -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
 -o APT::Sandbox::User=root"

echo "fetch.sh: updating the private source lists ($(wc -l < "$list") deb-src lines)"
# shellcheck disable=SC2086
apt-get -q $apt_opts update >"$deps/apt-update.log" 2>&1 || {
	cat "$deps/apt-update.log" >&2; echo "fetch.sh: apt-get update (private lists) failed" >&2; exit 1; }

cd "$deps/src"
# shellcheck disable=SC2086
apt-get -q $apt_opts source --download-only "$@" >"$deps/apt-source.log" 2>&1 || {
	cat "$deps/apt-source.log" >&2
	echo "fetch.sh: could not download $* -- if the mirror moved on, update the pins in mk/deps.mk and third_party/checksums" >&2
	exit 1; }

# Every downloaded file must be listed in third_party/checksums and match it,
# and each pinned package's .dsc must be among them.
for pv in "$@"; do
	p=${pv%%=*}; v=${pv#*=}; v=${v#*:}
	[ -f "${p}_${v}.dsc" ] || { echo "fetch.sh: ${p}_${v}.dsc was not downloaded" >&2; exit 1; }
done
for f in *; do
	line=$(grep -F "  $f" "$here/checksums" | awk -v f="$f" '$2 == f') || true
	[ -n "$line" ] || { echo "fetch.sh: $f is not in third_party/checksums" >&2; exit 1; }
	echo "$line" | sha256sum -c --strict --quiet - || { echo "fetch.sh: checksum mismatch for $f" >&2; exit 1; }
done
echo "fetch.sh: $# source packages downloaded and verified against third_party/checksums"

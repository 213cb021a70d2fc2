#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# ci-package.sh - build the Debian packages from a clean copy of the
# source tree, check them with lintian, install them on this machine and
# use them as a user would: a pager built with pkg-config alone, the
# manual, the service unit, the installed pager on a simulated guest.
#
#   debian/ci-package.sh [OUTDIR]
#
# Runs as root or as a sudoer ($(command -v sudo) apt-get ...) on Debian
# 12 and installs what it needs with apt-get. The packages it installs
# are removed at the end, unless they were installed before it ran. With
# OUTDIR the built .deb, .changes and .buildinfo files are kept there.
# DEB_BUILD_OPTIONS passes through (e.g. parallel=2). Takes a few
# minutes: the package build runs only the fast test suites (see
# debian/rules).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
outdir=${1:-}
sudo=
if [ "$(id -u)" -ne 0 ]; then
	sudo=$(command -v sudo) ||
		{ echo "FAIL: run as root, or install sudo" >&2; exit 1; }
fi

step() { echo "--- $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }
start=$(date +%s)

# 1. What the build, lintian and the checks need.
need=(build-essential dpkg-dev debhelper meson ninja-build pkg-config
      libxen-dev liblz4-dev libzstd-dev check abigail-tools groff-base
      lintian man-db systemd)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	step "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xpage-pkg.XXXXXX")
installed=()
cleanup() {
	if [ ${#installed[@]} -gt 0 ]; then
		echo "--- removing ${installed[*]}"
		$sudo dpkg --purge "${installed[@]}" >/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# 2. A clean tree: the files git knows (committed or not, nothing ignored),
# else everything but build directories.
step "copy of the source tree in $work/libxpage"
mkdir "$work/libxpage"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && tar --null -T - -cf -) | tar -C "$work/libxpage" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' -cf - . |
		tar -C "$work/libxpage" -xf -
fi

# 3. The packages.
step "dpkg-buildpackage -us -uc -b"
if ! (cd "$work/libxpage" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log"
	die "dpkg-buildpackage failed (log above)"
fi
grep -E '^(Ok|Fail|Skipped|Timeout): ' "$work/build.log" || true
grep -E '^check-symbols: ' "$work/build.log" || true
version=$(cd "$work/libxpage" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
debs=()
for p in libxpage1 libxpage-dev xpage-tools; do
	f=$work/${p}_${version}_${arch}.deb
	[ -f "$f" ] || die "not built: $(basename "$f")"
	debs+=("$f")
done
changes=$work/libxpage_${version}_${arch}.changes

# 4. lintian: no error, no warning (infos and pedantic tags are shown).
step "lintian --fail-on error,warning $(basename "$changes")"
rc=0
lintian --info --display-info --pedantic --fail-on error,warning \
	"$changes" >"$work/lintian.log" 2>&1 || rc=$?
grep -v 'running with root privileges' "$work/lintian.log" || true
[ "$rc" -eq 0 ] || die "lintian reports errors or warnings (exit $rc)"
echo "lintian: $(grep -c '^[EWIP]: ' "$work/lintian.log" || true) tags"

# 5. Installed on this machine.
for p in libxpage1 libxpage-dev xpage-tools; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || installed+=("$p")
done
step "apt-get install ${debs[*]##*/}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends "${debs[@]}" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; die "the packages do not install"; }

# 6. A third-party pager built with pkg-config alone, on the installed
# library and simulator (no PKG_CONFIG_PATH, no LD_LIBRARY_PATH).
unset PKG_CONFIG_PATH LD_LIBRARY_PATH XPAGE_SIMD XPAGE_SIM_SOCKET
mkdir "$work/consumer"
cp "$src/tests/consumer/consumer.c" "$src/tests/consumer/misuse.c" "$work/consumer/"
flags=$(pkg-config --cflags --libs libxpage) || die "pkg-config does not know libxpage"
step "pkg-config --cflags --libs libxpage: $flags"
for prog in consumer misuse; do
	# shellcheck disable=SC2086 # $flags is a list of words
	(cd "$work/consumer" &&
	 cc -Wall -Wextra -Werror -pthread "$prog.c" -o "$prog" $flags) ||
		die "$prog does not build against the installed package"
	lib=$(ldd "$work/consumer/$prog" | awk '$1 == "libxpage.so.1" { print $3 }')
	case $lib in
	/usr/lib/*|/lib/*) ;;
	*) die "$prog loads libxpage.so.1 from '$lib', not from the package" ;;
	esac
	step "$prog (libxpage.so.1: $lib)"
	timeout 150 "$work/consumer/$prog" >"$work/$prog.log" 2>&1 ||
		{ tail -n 30 "$work/$prog.log"; die "$prog failed on the installed package"; }
	tail -n 1 "$work/$prog.log"
done

# 7. The manual.
for page in xpage_open xpage_unmap xpage_sim_start libxpage xpage-batch-pager xpage-simd; do
	where=$(man -w "$page" 2>/dev/null) || die "man -w $page finds no page"
	echo "man -w $page: $where"
done
man xpage_open 2>/dev/null | grep -q 'attach a pager to a domain' ||
	die "man xpage_open does not show the page"

# 8. The service unit, as installed (its ExecStart and Documentation= man
# pages must exist).
step "systemd-analyze verify xpage-batch-pager@5.service"
out=$(systemd-analyze verify xpage-batch-pager@5.service 2>&1) ||
	{ echo "$out"; die "systemd-analyze verify refused the unit"; }
[ -z "$out" ] || { echo "$out"; die "systemd-analyze verify has something to say"; }

# 9. The installed pager pages a simulated guest out and back in.
step "xpage-batch-pager --sim --guest-mib 64 --target-mib 16 --duration 3"
(cd "$work" && timeout 60 xpage-batch-pager --sim --guest-mib 64 \
	--target-mib 16 --duration 3 --no-progress) >"$work/pager.log" 2>&1 ||
	{ cat "$work/pager.log"; die "the installed xpage-batch-pager failed"; }
tail -n 3 "$work/pager.log"

if [ -n "$outdir" ]; then
	mkdir -p "$outdir"
	cp "${debs[@]}" "$changes" "$work"/*.buildinfo "$outdir/"
	echo "packages kept in $outdir"
fi
echo "packages: built, lintian clean, installed and used ($(($(date +%s) - start)) s)"

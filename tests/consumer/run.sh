#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# run.sh - install libxpage into a scratch directory, build a consumer
# (consumer.c, misuse.c) against the installed copy with nothing but
# pkg-config, and run it on the installed simulator.
#
#   run.sh BUILDDIR PROGRAM_C PREFIX LIBDIR BINDIR INCLUDEDIR CC...
#
# PREFIX, LIBDIR, BINDIR, INCLUDEDIR are meson's options (the last three
# relative to PREFIX or absolute). Everything happens under a temporary
# DESTDIR; nothing is installed on the machine and no file of the source
# or build tree is used by the consumer: it gets its include path and
# library from `pkg-config --cflags --libs libxpage` alone (with
# PKG_CONFIG_SYSROOT_DIR pointing into the scratch install) and runs with
# LD_LIBRARY_PATH and XPAGE_SIMD pointing there too.
set -euo pipefail

[ $# -ge 7 ] || { echo "usage: $0 BUILDDIR CONSUMER_C PREFIX LIBDIR BINDIR INCLUDEDIR CC..." >&2; exit 2; }
builddir=$1 consumer_c=$2 prefix=$3
shift 3
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
libdir=$(abs "$1") bindir=$(abs "$2") includedir=$(abs "$3")
shift 3
cc=("$@")

for tool in meson pkg-config; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "FAIL: '$tool' not found"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpage-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

step() { echo "--- $*"; }
die() { echo "FAIL: $*"; exit 1; }

# 1. Install (building whatever `meson test` did not need itself).
step "meson install -C $builddir --destdir $dest"
if ! meson install -C "$builddir" --destdir "$dest" >"$tmp/install.log" 2>&1; then
	tail -n 30 "$tmp/install.log"
	die "meson install failed"
fi

# 2. The installed layout.
for f in "$includedir/xpage/xpage.h" "$includedir/xpage/sim.h" \
	 "$libdir/libxpage.so" "$libdir/libxpage.so.1" \
	 "$libdir/pkgconfig/libxpage.pc" "$bindir/xpage-simd"; do
	[ -e "$dest$f" ] || die "not installed: $f"
done
echo "installed: headers, libxpage.so.1 -> $(readlink "$dest$libdir/libxpage.so.1"), libxpage.pc, xpage-simd"

# 3. Build the consumer from the installed copy only.
export PKG_CONFIG_PATH=$dest$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_SYSROOT_DIR=$dest
flags=$(pkg-config --cflags --libs libxpage) || die "pkg-config cannot find libxpage"
step "pkg-config --cflags --libs libxpage: $flags"
case " $flags " in
*" -I$dest$includedir "*) ;;
*) [ "$includedir" = /usr/include ] || die "pkg-config's include path is not the installed one" ;;
esac
prog=$(basename "$consumer_c" .c)
cp "$consumer_c" "$tmp/$prog.c"	# away from the source tree
cd "$tmp"
# shellcheck disable=SC2086 # $flags is a list of words, by design
step "${cc[*]} -Wall -Wextra -Werror $prog.c -o $prog $flags"
# shellcheck disable=SC2086
"${cc[@]}" -Wall -Wextra -Werror "$prog.c" -o "$prog" $flags ||
	die "$prog does not build against the installed libxpage"

# 4. It runs against the installed library, on the installed simulator.
export LD_LIBRARY_PATH=$dest$libdir	# and nothing from the build tree
export XPAGE_SIMD=$dest$bindir/xpage-simd
unset XPAGE_SIM_SOCKET
resolved=$(ldd "./$prog" | awk '$1 == "libxpage.so.1" { print $3 }')
[ "$resolved" = "$dest$libdir/libxpage.so.1" ] ||
	die "$prog loads libxpage.so.1 from '$resolved', not from the install"
step "XPAGE_SIMD=$XPAGE_SIMD LD_LIBRARY_PATH=$dest$libdir ./$prog"
rc=0
timeout 150 "./$prog" || rc=$?
[ "$rc" -eq 0 ] || die "$prog exited with $rc"
echo "$prog: installed libxpage works for a pkg-config consumer"

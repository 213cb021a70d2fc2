#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# update-baseline.sh - record the ABI of a release (see abi/README.md).
#
#   abi/update-baseline.sh [--force] [BUILDDIR]
#   abi/update-baseline.sh [--force] --lib LIBRARY --headers-dir DIR --out FILE
#
# The first form writes abi/libxpage-MAJ.MIN.abi for the project version
# of BUILDDIR (default: build), from BUILDDIR/src/libxpage.so.MAJ, which
# must be an unsanitized build with debug info (the default buildtype,
# debugoptimized, is). The second form is for tests of the checker.
#
# A baseline is the promise made by a release: it is written once, when
# the release is tagged, and never rewritten. The script refuses to
# overwrite an existing baseline unless --force is given (only before the
# release it describes has been published).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(dirname "$here")
# shellcheck source=abi/abi-common.sh
. "$here/abi-common.sh"

usage() {
	sed -n '3,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

force=0 lib='' hdrdir='' out=''
while [ $# -gt 0 ]; do
	case $1 in
	--force) force=1; shift ;;
	--lib) lib=$2; shift 2 ;;
	--headers-dir) hdrdir=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) echo "update-baseline.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done

command -v abidw >/dev/null 2>&1 || {
	echo "update-baseline.sh: abidw not found (apt-get install abigail-tools)" >&2
	exit 1
}

if [ -z "$lib" ]; then
	[ $# -le 1 ] || usage
	builddir=${1:-build}
	info=$(meson introspect --projectinfo "$builddir") || {
		echo "update-baseline.sh: $builddir is not a configured meson build" >&2
		exit 1
	}
	version=$(printf '%s' "$info" | python3 -c \
		'import json, sys; print(json.load(sys.stdin)["version"])')
	major=${version%%.*}
	minor=${version#*.}; minor=${minor%%.*}
	ninja -C "$builddir" src/libxpage.so."$version" >/dev/null
	lib=$builddir/src/libxpage.so.$version
	hdrdir=$srcdir/include/xpage
	out=$srcdir/abi/libxpage-$major.$minor.abi
fi
if [ -z "$hdrdir" ] || [ -z "$out" ]; then usage; fi

if [ -e "$out" ] && [ "$force" -ne 1 ]; then
	echo "update-baseline.sh: $out exists: a released baseline is never" \
	     "rewritten (use --force only before that release is published)" >&2
	exit 1
fi
if ! readelf -S -W "$lib" | grep -q '\.debug_info'; then
	echo "update-baseline.sh: $lib has no debug info; build with -g" \
	     "(buildtype debug or debugoptimized)" >&2
	exit 1
fi

abi_dump "$lib" "$hdrdir" "$out.tmp"
mv "$out.tmp" "$out"
echo "update-baseline.sh: wrote $out from $lib"

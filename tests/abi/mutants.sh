#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mutants.sh - test the ABI checker itself, without rebuilding libxpage.
#
#   mutants.sh ABI_DIR FAKE_DIR CC [CC_ARGS...]
#
# Builds a tiny library from FAKE_DIR/fake.c and FAKE_DIR/fake/fake.h as
# "release 1.0", records its baseline with ABI_DIR/update-baseline.sh, then
# builds one variant per change a developer might make (a -DFAKE_* macro
# and/or another version script) and runs ABI_DIR/check-abi.sh on it:
# every breaking variant must fail for the stated reason, every allowed
# one must pass. Exit 0 when every verdict is right.
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 ABI_DIR FAKE_DIR CC [CC_ARGS...]" >&2; exit 2; }
abidir=$1 fakedir=$2
shift 2
cc=("$@")

for tool in abidw abidiff readelf; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "FAIL: '$tool' not found; install abigail-tools (libabigail)"
		exit 1
	}
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/abi-mutants.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Version scripts.
syms10='xpage_fake_open; xpage_fake_pair; xpage_fake_fd;'
map() {	# map NAME BODY...
	printf '%s\n' "${@:2}" >"$tmp/$1.map"
}
map v10        "XPAGE_1.0 { global: $syms10 local: *; };"
map v10-nofd   "XPAGE_1.0 { global: xpage_fake_open; xpage_fake_pair; local: *; };"
map v10-open2  "XPAGE_1.0 { global: $syms10 xpage_fake_open_2; local: *; };"
map v10-leak   "XPAGE_1.0 { global: $syms10 fake_helper; local: *; };"
map v10-ghost  "XPAGE_1.0 { global: $syms10 xpage_fake_ghost; local: *; };"
map v10-glob   "XPAGE_1.0 { global: xpage_*; local: *; };"
map v11        "XPAGE_1.0 { global: $syms10 local: *; };" \
               "XPAGE_1.1 { global: xpage_fake_open_2; } XPAGE_1.0;"
map v11-unchained "XPAGE_1.0 { global: $syms10 local: *; };" \
               "XPAGE_1.1 { global: xpage_fake_open_2; };"

# build NAME MAP|- [-g|-g0] [CFLAGS...]: a library and its public header
# as a consumer of that variant would see it (only the declarations the
# variant's macros keep, XPAGE_API left in place).
build() {
	local name=$1 vmap=$2 g=$3
	shift 3
	local d=$tmp/$name link=()
	mkdir -p "$d/include"
	[ "$vmap" = - ] || link=("-Wl,--version-script=$tmp/$vmap.map")
	"${cc[@]}" -shared -fPIC "$g" -O2 -fvisibility=hidden \
		-Wall -Wextra -Werror -I"$fakedir/fake" "$@" \
		-Wl,-soname,libfake.so.1 "${link[@]}" \
		-o "$d/libfake.so.1" "$fakedir/fake.c"
	"${cc[@]}" -E -P -DXPAGE_API=XPAGE_API "$@" "$fakedir/fake/fake.h" \
		>"$d/include/fake.h"
}

build base v10 -g
"$abidir/update-baseline.sh" --lib "$tmp/base/libfake.so.1" \
	--headers-dir "$fakedir/fake" --out "$tmp/libfake-1.0.abi" >/dev/null

nbad=0
# verdict NAME pass|fail EXPECTED_TEXT LIB_VARIANT MAP VERSION
verdict() {
	local name=$1 want=$2 text=$3 lib=$4 vmap=$5 version=$6 rc=0
	"$abidir/check-abi.sh" --baseline "$tmp/libfake-1.0.abi" \
		--map "$tmp/$vmap.map" --headers-dir "$tmp/$lib/include" \
		"$tmp/$lib/libfake.so.1" "$version" "$tmp" \
		>"$tmp/$name.out" 2>&1 || rc=$?
	if [ "$want" = pass ] && [ $rc -eq 0 ]; then
		echo "ok   $name: passes, as it should"
	elif [ "$want" = fail ] && [ $rc -eq 1 ] && grep -qF -- "$text" "$tmp/$name.out"; then
		echo "ok   $name: fails: $(grep -F -m1 -- "$text" "$tmp/$name.out")"
	else
		echo "BAD  $name: expected $want${text:+ with \"$text\"}, got exit $rc:"
		sed 's/^/       /' "$tmp/$name.out"
		nbad=$((nbad + 1))
	fi
}

# The release itself, and the changes the rules allow.
verdict unchanged pass "" base v10 1.0.0
build append-sized v10 -g -DFAKE_APPEND
verdict append-sized pass "" append-sized v10 1.0.1
build removed-becomes-padding v10 -g -DFAKE_PAD
verdict removed-becomes-padding pass "" removed-becomes-padding v10 1.0.1
build append-and-pad v10 -g -DFAKE_APPEND -DFAKE_PAD
verdict append-and-pad pass "" append-and-pad v10 1.0.1
build private-change v10 -g -DFAKE_PRIVATE
verdict private-change pass "" private-change v10 1.0.1
build add-func-new-node v11 -g -DFAKE_ADD_FUNC
verdict add-func-new-node pass "" add-func-new-node v11 1.1.0

# Layout and signature changes abidiff reports.
build insert-middle v10 -g -DFAKE_INSERT
verdict insert-middle fail "ABI change against the 1.0 baseline" insert-middle v10 1.0.1
build retype-member v10 -g -DFAKE_RETYPE
verdict retype-member fail "ABI change against the 1.0 baseline" retype-member v10 1.0.1
build append-and-retype v10 -g -DFAKE_APPEND -DFAKE_RETYPE
verdict append-and-retype fail "ABI change against the 1.0 baseline" append-and-retype v10 1.0.1
build append-plain-struct v10 -g -DFAKE_APPEND_PLAIN
verdict append-plain-struct fail "ABI change against the 1.0 baseline" append-plain-struct v10 1.0.1
build add-param v10 -g -DFAKE_ADD_PARAM
verdict add-param fail "ABI change against the 1.0 baseline" add-param v10 1.0.1
build remove-func v10-nofd -g -DFAKE_REMOVE
verdict remove-func fail "xpage_fake_fd@XPAGE_1.0 of the 1.0 baseline is no longer exported" remove-func v10-nofd 1.0.1
verdict remove-func-abidiff fail "incompatible ABI change against the 1.0 baseline" remove-func v10-nofd 1.0.1

# Symbol versioning.
build add-func-old-node v10-open2 -g -DFAKE_ADD_FUNC
verdict add-func-old-node fail "xpage_fake_open_2 is new since release 1.0 but is in node XPAGE_1.0" add-func-old-node v10-open2 1.0.1
build unversioned - -g
verdict unversioned fail "xpage_fake_open is exported without a version" unversioned v10 1.0.0
build leak-unprefixed v10-leak -g -DFAKE_LEAK
verdict leak-unprefixed fail "exports 'fake_helper', which is not prefixed xpage_" leak-unprefixed v10-leak 1.0.0
build glob-export v10-glob -g
verdict glob-export fail "wildcard 'xpage_*'" glob-export v10-glob 1.0.0
verdict map-lists-ghost fail "xpage_fake_ghost is listed in XPAGE_1.0" base v10-ghost 1.0.0
verdict node-not-in-map fail "xpage_fake_open_2 is exported at version XPAGE_1.1, which is not a node" add-func-new-node v10 1.0.0
verdict stale-newest-node fail "newest version node in $tmp/v10.map is XPAGE_1.0, but version 1.1.0 needs XPAGE_1.1" base v10 1.1.0
verdict node-ahead-of-version fail "needs XPAGE_1.0" add-func-new-node v11 1.0.0
build unchained v11-unchained -g -DFAKE_ADD_FUNC
verdict unchained fail "must inherit from the node before it" unchained v11-unchained 1.1.0

# No debug info: a clear message, not a silent pass.
build no-debug-info v10 -g0
verdict no-debug-info fail "no debug info" no-debug-info v10 1.0.0

if [ "$nbad" -ne 0 ]; then
	echo "abi-mutants: $nbad wrong verdict(s) of check-abi.sh"
	exit 1
fi
echo "abi-mutants: every verdict of check-abi.sh is right"

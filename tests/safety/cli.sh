#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Bad command lines of xpage-batch-pager and xpage-simd: each is refused
# with exit status 2 and a sentence naming the option, before anything is
# created (no store file, no simulator left running, no socket).
#
# Environment: XPAGE_BATCH_PAGER, XPAGE_SIMD. Exit 0 pass, 1 fail, 77 skip.
set -u
pager=${XPAGE_BATCH_PAGER:-}
simd=${XPAGE_SIMD:-}
[ -x "$pager" ] && [ -x "$simd" ] || { echo "no pager or simulator: skipped"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/xpage-cli.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fails=0

# expect STATUS PATTERN PROGRAM ARGS...: exit STATUS, output matching PATTERN
expect() {
	local want=$1 pat=$2
	shift 2
	local out rc
	out=$(cd "$dir" && timeout 20 "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -qiE -- "$pat" <<<"$out"; then
		echo "FAIL: $(basename "$1") ${*:2}"
		echo "      exit $rc (want $want), output: $(head -c 300 <<<"$out")"
		fails=$((fails + 1))
	else
		echo "ok:   $(basename "$1") ${*:2}  -> $rc: $(head -1 <<<"$out" | cut -c1-90)"
	fi
}

S="--store $dir/store"
P=$pager
# numbers: out of range, negative, not numbers, overflowing
expect 2 'batch.*number'       "$P" --sim --target-mib 1 --batch 0 $S
expect 2 'batch.*number'       "$P" --sim --target-mib 1 --batch -5 $S
expect 2 'batch.*number'       "$P" --sim --target-mib 1 --batch 65537 $S
expect 2 'batch.*number'       "$P" --sim --target-mib 1 --batch 99999999999999999999999 $S
expect 2 'target-mib.*number'  "$P" --sim --target-mib abc $S
expect 2 'target-mib.*number'  "$P" --sim --target-mib 12abc $S
expect 2 'target-pages.*number' "$P" --sim --target-pages '' $S
expect 2 'guest-mib.*number'   "$P" --sim --target-mib 1 --guest-mib 0 $S
expect 2 'vcpus.*number'       "$P" --sim --target-mib 1 --vcpus 129 $S
expect 2 'write-pct.*number'   "$P" --sim --target-mib 1 --write-pct 101 $S
expect 2 'hot-set-pct.*number' "$P" --sim --target-mib 1 --hot-set-pct 0 $S
expect 2 'release-pm.*number'  "$P" --sim --target-mib 1 --release-pm 1001 $S
expect 2 'domid.*number'       "$P" --domid 0x7ff0 --sim-socket /nonexistent --target-mib 1 $S
expect 2 'duration'            "$P" --sim --target-mib 1 --duration -1 $S
expect 2 'duration'            "$P" --sim --target-mib 1 --duration abc $S
# a duration no clock can count (NaN, infinite, past 2^64 ns)
expect 2 'duration'            "$P" --sim --target-mib 1 --duration nan $S
expect 2 'duration'            "$P" --sim --target-mib 1 --duration inf $S
expect 2 'duration'            "$P" --sim --target-mib 1 --duration 1e30 $S
# contradictions and omissions
expect 2 'no target'           "$P" --sim $S
expect 2 'sim-socket'          "$P" --sim --sim-socket /x --target-mib 1 $S
expect 2 'domid'               "$P" --sim --domid 1 --target-mib 1 $S
expect 2 'needs --domid'       "$P" --sim-socket /x --target-mib 1 $S
expect 2 'either'              "$P" --sim --target-mib 1 --follow-xenstore $S
expect 2 'unexpected argument' "$P" --sim --target-mib 1 extra $S
expect 2 'usage'               "$P" --no-such-option
# values the simulator refuses, explained
expect 2 'pattern'             "$P" --sim --guest-mib 4 --target-mib 1 --pattern zigzag $S
expect 2 'personality'         "$P" --sim --guest-mib 4 --target-mib 1 --personality xen-9.9 $S
# nothing reachable, nothing writable
expect 2 'simulator|reach'     "$P" --sim-socket "$dir/none.sock" --domid 1 --target-mib 1 $S
expect 2 'store'               "$P" --sim --guest-mib 4 --target-mib 1 --duration 1 --store "$dir/no/such/dir/s"
if ls "$dir"/store* >/dev/null 2>&1; then
	echo "FAIL: a refused command line left a store behind: $(ls "$dir")"
	fails=$((fails + 1))
fi

D=$simd
expect 2 'socket'              "$D"
expect 2 'bad value'           "$D" --socket "$dir/s1" --guest-pages 0
expect 2 'bad value'           "$D" --socket "$dir/s1" --guest-pages 1e3
expect 2 'bad value'           "$D" --socket "$dir/s1" --guest-pages 268435457
expect 2 'bad value'           "$D" --socket "$dir/s1" --guest-mib -1
expect 2 'bad value'           "$D" --socket "$dir/s1" --vcpus 129
expect 2 'bad value'           "$D" --socket "$dir/s1" --domid 0x7ff0
expect 2 'bad value'           "$D" --socket "$dir/s1" --seed x
expect 2 'unknown personality' "$D" --socket "$dir/s1" --personality xen-9.9
expect 2 'unexpected argument' "$D" --socket "$dir/s1" extra
expect 2 'usage'               "$D" --no-such-option
if [ -e "$dir/s1" ]; then
	echo "FAIL: a refused simulator command line left its socket"
	fails=$((fails + 1))
fi
# a socket path longer than sun_path: refused, not truncated
long="$dir/$(printf 'x%.0s' $(seq 1 120))"
expect 1 'name too long|too long' "$D" --socket "$long"

[ "$fails" -eq 0 ] && echo "cli: ok" || echo "cli: $fails failure(s)"
exit $((fails ? 1 : 0))

#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# valgrind memcheck over the integration programs, on demand:
#
#   tests/valgrind.sh [BUILD_DIR]        (default: build; needs valgrind)
#
# Each program runs under memcheck with every child it starts (the
# simulator xpage_sim_start runs, the pagers the harnesses run) traced as
# well; a program is clean when memcheck reports no error (invalid reads or
# writes, uninitialised values used, bad frees, overlapping copies) and no
# definitely lost block in any of its processes. Logs, one per process, go
# to BUILD_DIR/valgrind/. Exit 0 when every program is clean.
#
# Programs: the integration matrix (minimal-pager on every personality),
# the example pager end to end (its own simulated guest, page-out, demand
# page-in, drain), a short soak (library and pager runs with faults), the
# data-safety and reproducer tests, and the simulator's own tests.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=${1:-build}
cd "$top"
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 77; }
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null || exit 1
b=$(cd "$build" && pwd)
out="$b/valgrind"
rm -rf "$out"
mkdir -p "$out"

export XPAGE_SIMD="$b/sim/xpage-simd"
export XPAGE_BATCH_PAGER="$b/examples/batch-pager/xpage-batch-pager"
# check's fork mode makes every test a child: traced like the others
vg=(valgrind --tool=memcheck --trace-children=yes --child-silent-after-fork=no
    --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
    --error-exitcode=99 --num-callers=30)

failed=0
run() {
	local name=$1
	shift
	local t0=$SECONDS
	"${vg[@]}" --log-file="$out/$name.%p.log" "$@" >"$out/$name.out" 2>&1
	local rc=$?
	local errs=0 lost=0 procs=0
	for f in "$out/$name".*.log; do
		[ -f "$f" ] || continue
		procs=$((procs + 1))
		e=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -1)
		l=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tail -1 | tr -d ,)
		errs=$((errs + ${e:-0}))
		lost=$((lost + ${l:-0}))
	done
	if [ "$rc" -eq 0 ] && [ "$errs" -eq 0 ] && [ "$lost" -eq 0 ]; then
		printf '%-14s clean: %d processes, 0 errors, 0 bytes definitely lost (%ds)\n' \
			"$name" "$procs" $((SECONDS - t0))
	else
		printf '%-14s NOT CLEAN: exit %d, %d errors, %d bytes definitely lost in %d processes (%ds); logs %s/%s.*\n' \
			"$name" "$rc" "$errs" "$lost" "$procs" $((SECONDS - t0)) "$out" "$name"
		failed=1
	fi
}

run matrix "$b/tests/matrix/matrix" "$b/examples/minimal-pager" 600
run batch-pager "$XPAGE_BATCH_PAGER" --sim --guest-mib 16 --target-mib 4 \
	--duration 4 --batch 256 --store "$out/e2e.store" --no-progress
run soak "$b/tests/soak/soak" --runs 6 --base 7
for t in store ring_trust ring_gfn logs repro; do
	run "safety-$t" "$b/tests/safety/test_$t"
done
for t in paging ring enable oracle; do
	run "sim-$t" "$b/tests/sim/test_sim_$t"
done
exit $failed

#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build the libFuzzer targets and run each for a while.
#
#   tests/fuzz/run.sh [-b BUILD_DIR] [-t SECONDS] [TARGET...]
#
# BUILD_DIR (default build-fuzz) is set up if it is not there yet:
#   CC=clang meson setup BUILD_DIR -Dfuzz=true \
#       -Db_sanitize=address,undefined -Db_lundef=false
# Only the fuzz targets are built (ninja TARGET...). Each target runs
# SECONDS (default 60) on BUILD_DIR/fuzz-corpus/TARGET, seeded from
# tests/fuzz/corpus/TARGET; a crash leaves its input in
# BUILD_DIR/fuzz-artifacts/ and the script exits 1 after the others ran.
# Targets: ring opts store simproto reply (default: all).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=build-fuzz
secs=60
while getopts b:t: o; do
	case $o in
	b) build=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) echo "usage: $0 [-b BUILD_DIR] [-t SECONDS] [TARGET...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ring opts store simproto reply)

cd "$top"
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
# ninja prints compiler errors on stdout: keep them when the build fails.
if ! ninja -C "$build" "${targets[@]/#/tests/fuzz/fuzz_}" >"$build/ninja.log" 2>&1; then
	grep -v '^\[' "$build/ninja.log" | head -40
	echo "fuzz: the targets did not build (log $build/ninja.log)" >&2
	exit 1
fi

# Sanitizer reports are failures.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=0
mkdir -p "$build/fuzz-artifacts"
for t in "${targets[@]}"; do
	corpus="$build/fuzz-corpus/$t"
	mkdir -p "$corpus"
	log="$build/fuzz-artifacts/$t.log"
	echo "fuzz_$t: ${secs}s"
	if "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=30 \
		-print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
		"$corpus" "$here/corpus/$t" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
		echo "fuzz_$t: ok, $execs executions ($rate/s), $cov"
	else
		echo "fuzz_$t: FAILED (log $log, input in $build/fuzz-artifacts/)"
		grep -E 'ERROR|SUMMARY|fuzz_[a-z]*:|runtime error' "$log" | head -5
		failed=1
	fi
done
exit $failed

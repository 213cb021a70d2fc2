#!/bin/sh
# workload policy -> json
P=${XPAGE_BATCH_PAGER:-build/examples/batch-pager/xpage-batch-pager}
run() { # name pattern-args policy
  nice -n 19 ionice -c3 $P --sim --guest-mib 64 --target-mib 32 --vcpus 1 --think-us 0 --duration 20 --seed 7 $2 --policy $3 --stats-json ${OUT:-/tmp}/victims-$1-$3.json -q >${OUT:-/tmp}/victims-$1-$3.log 2>&1
}
for pol in random clock logdirty; do
  run hotset "--pattern zipf --hot-set-pct 30 --hot-pct 95 --write-pct 30" $pol
  run uniform "--pattern uniform --write-pct 30" $pol
  run readmostly "--pattern zipf --hot-set-pct 30 --hot-pct 95 --write-pct 1" $pol
  run sequential "--pattern sequential --write-pct 30" $pol
done
echo ALLDONE

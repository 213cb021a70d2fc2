# xpage-batch-pager (this tree's library and example pager) against a fresh
# guest. Runs in dom0 (busybox sh).
#
# Steps (each bounded): guest up and verified once -> hold its workload ->
# pager pages the guest down to the target -> a verification pass (every
# page touched: demand page-in) -> SIGKILL the pager -> a pass while no
# pager runs (the guest's vCPU waits on the ring) -> restart the pager on
# the same store (it must take over and serve) -> the pass completes ->
# another pass -> SIGTERM (drain: every page back in, exit 0) -> is the
# guest still running and verifying?
. /usr/local/share/xpage-rig/scenario-lib.sh

PAGER=xpage
BIN=/usr/local/bin/xpage-batch-pager
GMIB=$(cmdarg guest_mib 256)
TMIB=$(cmdarg target_mib 96)
PT=$(cmdarg pass_timeout 180)
STORE=/tmp/xpage.store
mark scenario_start "pager=$PAGER guest_mib=$GMIB target_mib=$TMIB"

if [ ! -x "$BIN" ]; then
	mark pager_missing "path=$BIN"
	exit 1
fi

guest_create g-xpage "$GMIB" || exit 1
gwait 'GUEST: OK 1 ' 1 240 || { mark guest_not_ready; guest_postmortem; exit 1; }
mark guest_ready "$(glast 'GUEST: ready')"
gsend hold
gwait 'GUEST: ack hold' 1 30 || mark guest_no_ack
watch_start
MAXP=$(dstat max)
TARGET_PAGES=$((TMIB * 256))

# start_pager N: instance N, same store every time.
start_pager() {
	mark pager_start "instance=$1 cmd=xpage-batch-pager_--domid_${D}_--target-mib_${TMIB}_--store_${STORE}_--keep-store"
	$BIN --domid "$D" --target-mib "$TMIB" --store "$STORE" --keep-store \
		--stats-json /tmp/xpage-stats-$1.json >/tmp/xpage-$1.log 2>&1 &
	PID=$!
}
# pager_log N: what instance N printed, for the host.
pager_log() {
	sed -e 's/\r/\n/g' /tmp/xpage-$1.log | grep -v '^$' | tail -40 |
		sed "s/^/XPLOG xpage-$1: /"
}

start_pager 1
mark pageout_start "target_pages=$TARGET_PAGES max_pages=$MAXP"
if wait_tot_le $((TARGET_PAGES + 256)) 240; then
	mark pageout_done "paged=$(wstat paged) tot=$(wstat tot) wt=$(wstat t)"
else
	mark pageout_timeout "paged=$(wstat paged) tot=$(wstat tot)"
fi
kill -0 $PID 2>/dev/null || { mark pager_died "instance=1"; pager_log 1; }
sleep 2

# Every page of the workload touched: demand page-in through the pager.
gpass "$PT"
mark pass "n=1 phase=demand_pagein result=$PASS_RESULT secs=$PASS_S paged=$(wstat paged)"
# The pager holds the target: give it time to page the guest down again.
wait_tot_le $((TARGET_PAGES + 256)) 60 &&
	mark pageout_again "paged=$(wstat paged) tot=$(wstat tot)"

# A dead pager: SIGKILL, no clean-up of any kind.
mark pager_sigkill "instance=1 paged=$(wstat paged)"
kill -KILL $PID
wait $PID 2>/dev/null
mark pager_exit "instance=1 rc=killed paged=$(wstat paged)"
pager_log 1

# The guest touches paged pages while no pager runs: its vCPU waits.
NV=$(verdicts)
gsend pass
T_PASS=$(up)
sleep 8
if [ "$(verdicts)" -gt "$NV" ]; then W=completed; else W=waiting; fi
if running_check 3; then R=true; else R=false; fi
mark no_pager "guest_pass=$W vcpu_running=$R vcpu_delta_ms=$RUN_DELTA_MS paged=$(wstat paged)"

# Restart on the same store: take over, answer the waiting vCPU, serve.
start_pager 2
if gwait 'GUEST: (OK|FAIL) [0-9]' $((NV + 1)) "$PT"; then
	case $(glast 'GUEST: (OK|FAIL) [0-9]') in OK*) PASS_RESULT=ok ;; *) PASS_RESULT=fail ;; esac
else
	PASS_RESULT=timeout
fi
mark pass "n=2 phase=across_restart result=$PASS_RESULT secs=$(fcalc "$(up) - $T_PASS") paged=$(wstat paged)"
kill -0 $PID 2>/dev/null || { mark pager_died "instance=2"; pager_log 2; }
if running_check 3; then RR=true; else RR=false; fi
gpass "$PT"
mark pass "n=3 phase=after_restart result=$PASS_RESULT secs=$PASS_S paged=$(wstat paged)"
[ "$PASS_RESULT" = ok ] || RR=false
mark guest_running "phase=after_restart running=$RR vcpu_delta_ms=$RUN_DELTA_MS"

# Drain: SIGTERM pages everything back in, then the pager exits 0.
wait_tot_le $((TARGET_PAGES + 256)) 30
mark pagein_start "paged=$(wstat paged)"
mark pager_sigterm "instance=2"
kill -TERM $PID 2>/dev/null
wait_pid $PID 240 || kill -KILL $PID 2>/dev/null
mark pager_exit "instance=2 rc=$PID_RC paged=$(wstat paged)"
if wait_paged_le 0 5; then
	mark pagein_done "paged=$(wstat paged) tot=$(wstat tot)"
else
	mark pagein_timeout "paged=$(wstat paged) tot=$(wstat tot)"
fi
pager_log 2
if [ -f /tmp/xpage-stats-2.json ]; then
	echo "XPJSON xpage-stats-2 $(tr -d '\n' </tmp/xpage-stats-2.json)"
fi

# Still running and verifying after the pager left?
gsend run
gpass 60
mark pass "n=4 phase=after_exit result=$PASS_RESULT secs=$PASS_S"
if running_check 5 && [ "$PASS_RESULT" = ok ]; then R=true; else R=false; fi
mark guest_running "phase=end running=$R vcpu_delta_ms=$RUN_DELTA_MS"

watch_stop
mark result "guest_ok=$(gcount 'GUEST: OK [0-9]') guest_fail=$(gcount 'GUEST: FAIL') \
paged_end=$(wstat paged) peak=$(wstat peak) xen_out=$(wstat out) xen_in=$(wstat in) \
tot_end=$(wstat tot) max_pages=$MAXP running_end=$R"
guest_postmortem
xl destroy "$D"
mark scenario_end "pager=$PAGER"

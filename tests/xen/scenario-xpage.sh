# xpage-batch-pager (this tree's library and example pager) against a fresh
# guest. Runs in dom0 (busybox sh).
#
# Steps (each bounded): guest up and verified once -> hold its workload ->
# the pager pages the guest down to the target -> a verification pass
# (every page of the workload touched: demand page-in while the pager
# holds the target) -> SIGKILL the pager -> a pass while no pager runs
# (the guest's vCPU waits on the ring) -> restart the pager on the same
# store (it must take over and serve) -> that pass completes -> SIGTERM
# (drain: every page back in, exit 0) -> the guest writes all its memory
# continuously on every vCPU while a third pager, with small batches, pages
# it out (nominated gfns touched before the pager maps them) -> SIGTERM ->
# a pass -> is the guest still running and verifying?
. /usr/local/share/xpage-rig/scenario-lib.sh

PAGER=xpage
BIN=/usr/local/bin/xpage-batch-pager
GMIB=$(cmdarg guest_mib 128)
TMIB=$(cmdarg target_mib 48)
PT=$(cmdarg pass_timeout 300)
STORE=/tmp/xpage.store
PID=
mark scenario_start "pager=$PAGER guest_mib=$GMIB target_mib=$TMIB"
# The guest runs dom0's kernel image, at the same addresses: where its
# event and fault entries are, to name the RIPs of Xen's diagnostic lines.
grep -E ' (asm_sysvec_xen_hvm_callback|asm_exc_page_fault|error_entry|asm_sysvec_apic_timer_interrupt)$' \
	/proc/kallsyms 2>/dev/null | while read -r addr _ sym; do mark ksym "$sym=$addr"; done

if [ ! -x "$BIN" ]; then
	mark pager_missing "path=$BIN"
	exit 1
fi

guest_create g-xpage "$GMIB" || exit 1
guest_wait_ready 240 || exit 1
watch_start
# xprig.dom0_offline_probe=1 (an experiment, not the scenario): Xen's own
# tool marks dom0's shared-info frame offline, the call that stopped the
# one-CPU host (RESULTS.md, "Page offline on real Xen").
if [ "$(cmdarg dom0_offline_probe 0)" = 1 ]; then
	_mfn=$(xpage-rig-domstat 0 | tr ' ' '\n' | sed -n 's/^shared_info=//p')
	mark dom0_offline_probe "mfn=$_mfn"
	xen-hptool mem-offline "$_mfn" 2>&1 | sed 's/^/XPLOG xen-hptool: /'
	mark dom0_offline_probe_done "mfn=$_mfn"
	xen-hptool mem-online "$_mfn" 2>&1 | sed 's/^/XPLOG xen-hptool: /'
fi
# Multicalls on this hypervisor: each paging op's own result? (mcprobe.c:
# one comparison with the guest's workload holding, then evicts while it
# writes all its memory.)
if [ "$(cmdarg mcprobe 1)" = 1 ] && [ "$TMIB" -lt "$GMIB" ]; then
	MC_RC=0
	for mode in compare churn; do
		if [ $mode = churn ]; then gack churn; sleep 1; else gack hold; fi
		mark mcprobe_start "mode=$mode"
		xpage-rig-mcprobe "$D" $((GMIB * 256)) $mode >/tmp/mcprobe.log 2>&1
		rc=$?
		[ "$rc" = 0 ] || MC_RC=$rc
		grep -v '^XPRIG' /tmp/mcprobe.log | tail -20 | sed 's/^/XPLOG mcprobe: /'
		grep '^XPRIG' /tmp/mcprobe.log
		lost_check mcprobe
	done
	mark mcprobe_end "rc=$MC_RC"
fi
# xprig.rangeprobe=SECONDS: page the guest kernel's code out again and
# again while the guest churns, then as many ordinary gfns (the control;
# xprig.rangeprobe_order=control: the control first); the guest must
# survive both (mcprobe.c, range).
RP=$(cmdarg rangeprobe 0)
if [ "$RP" -gt 0 ]; then
	code=$(grep -a 'GUEST: iomem .*Kernel code' "$CL" | tail -1 |
		sed 's/.*iomem \([0-9a-f]*\)-\([0-9a-f]*\).*/\1 \2/')
	set -- $code
	if [ $# = 2 ]; then
		lo=$((0x$1 >> 12)); hi=$(((0x$2 >> 12) + 1))
		n=$((hi - lo)); clo=$((GMIB * 256 / 2))
		gack churn; sleep 1
		order="code control"
		[ "$(cmdarg rangeprobe_order code)" = control ] && order="control code"
		for what in $order; do
			case $what in
			code) r="code $lo $hi" ;;
			*) r="control $clo $((clo + n))" ;;
			esac
			set -- $r
			mark rangeprobe_start "what=$1 lo=$2 hi=$3"
			xpage-rig-mcprobe "$D" $((GMIB * 256)) range "$2" "$3" "$RP" \
				>/tmp/mcprobe.log 2>&1
			mark rangeprobe_end "what=$1 rc=$?"
			grep -v '^XPRIG' /tmp/mcprobe.log | tail -20 | sed 's/^/XPLOG mcprobe: /'
			grep '^XPRIG' /tmp/mcprobe.log
			lost_check "rangeprobe_$1"
		done
	else
		mark rangeprobe_skipped "why=no_kernel_code_line"
	fi
fi
gack hold
MAXP=$(dstat max)
TARGET_PAGES=$((TMIB * 256))

# stats_line FILE: the pager's statistics on one line, without the trace
# of its first batches: the serial line carries the guest's console too,
# and a line of several KiB is cut by it more often than not.
stats_line() {
	tr -d '\n' <"$1" | sed 's/"pageout_first_batches": *\[[^]]*\], *//'
}

# start_pager N [ARGS...]: instance N, same store every time.
start_pager() {
	INST=$1
	shift
	# Where Xen's walk for the guest's per-CPU areas goes (names the gfns
	# of the hypervisor's diagnostic lines, build-xen.sh --diag).
	xpage-rig-ptwalk "$D" 2>&1 | sed 's/^XPRIG ptwalk /XPRIG ptwalk instance='"$INST"' /' 
	mark pager_start "instance=$INST cmd=xpage-batch-pager_--domid_${D}_--target-mib_${TMIB}_--store_${STORE}_--keep-store_--recent-s_5$(echo " $*" | tr ' ' _)"
	env $(cmdargs pager_env) $BIN --domid "$D" --target-mib "$TMIB" \
		--store "$STORE" --keep-store --recent-s 5 $(cmdargs pager_arg) "$@" \
		--stats-json /tmp/xpage-stats-$INST.json >/tmp/xpage-$INST.log 2>&1 &
	PID=$!
}
# pager_log [N]: what instance N (default: the current one) printed, for
# the host (once per instance), and its statistics.
pager_log() {
	_i=${1:-$INST}
	case " $LOGGED " in *" $_i "*) return 0 ;; esac
	LOGGED="$LOGGED $_i"
	sed -e 's/\r/\n/g' /tmp/xpage-$_i.log | grep -v '^$' >/tmp/xpage-$_i.clean
	# Its warnings and errors (counted by shape), then its last lines.
	grep -i -E 'error|warn|fail|cannot|refus|corrupt' /tmp/xpage-$_i.clean |
		sed 's/[0-9][0-9a-fx]*/#/g' | sort | uniq -c | sort -rn | head -30 |
		sed "s/^/XPLOG xpage-$_i: [count] /"
	tail -60 /tmp/xpage-$_i.clean | sed "s/^/XPLOG xpage-$_i: /"
	[ -f /tmp/xpage-stats-$_i.json ] &&
		echo "XPJSON xpage-stats-$_i $(stats_line /tmp/xpage-stats-$_i.json)"
}
LOGGER=pager_log

first_out_mark
# xprig.pageout_paused=1 (an experiment, not the scenario): the guest's
# vCPUs paused for the first page-out, so the hypervisor has no vCPU of
# the guest to flush on another CPU when a p2m entry changes.
PO_PAUSED=$(cmdarg pageout_paused 0)
[ "$PO_PAUSED" = 1 ] && xl pause "$D"
start_pager 1
mark pageout_start "target_pages=$TARGET_PAGES max_pages=$MAXP"
if wait_tot_le $((TARGET_PAGES + 256)) 180; then
	mark pageout_done "paged=$(wstat paged) tot=$(wstat tot) wt=$(wstat t)"
	# The pager's own counts of the page-out (traps per page).
	kill -USR1 $PID 2>/dev/null
	sleep 1
	[ -f /tmp/xpage-stats-1.json ] &&
		echo "XPJSON xpage-stats-1-pageout $(stats_line /tmp/xpage-stats-1.json)"
else
	mark pageout_timeout "paged=$(wstat paged) tot=$(wstat tot)"
fi
[ "$PO_PAUSED" = 1 ] && xl unpause "$D"
alive $PID || { mark pager_died "instance=1"; pager_log 1; }
lost_check pageout
sleep 2

# Every page of the workload touched: demand page-in through the pager,
# which keeps the guest at its target meanwhile.
gpass "$PT"
mark pass "n=1 phase=demand_pagein result=$PASS_RESULT secs=$PASS_S paged=$(wstat paged)"
lost_check demand_pass
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
lost_check no_pager

# Restart on the same store: take over, answer the waiting vCPU, serve.
IN0=$(wstat in)
start_pager 2
if gwait_pid 'GUEST: (OK|FAIL) [0-9]' $((NV + 1)) "$PT" $PID; then
	case $(glast 'GUEST: (OK|FAIL) [0-9]') in OK*) PASS_RESULT=ok ;; *) PASS_RESULT=fail ;; esac
elif ! alive $PID; then
	PASS_RESULT=pager_died
else
	PASS_RESULT=timeout
fi
mark pass "n=2 phase=across_restart result=$PASS_RESULT secs=$(fcalc "$(up) - $T_PASS") paged=$(wstat paged) served_since_restart=$(( $(wstat in) - IN0 ))"
alive $PID || { mark pager_died "instance=2"; pager_log 2; }
lost_check across_restart
if running_check 3 && [ "$PASS_RESULT" = ok ]; then RR=true; else RR=false; fi
mark guest_running "phase=after_restart running=$RR vcpu_delta_ms=$RUN_DELTA_MS"

# stop_pager N PHASE: SIGTERM pages everything back in, then the pager
# exits 0.
stop_pager() {
	mark pagein_start "instance=$1 paged=$(wstat paged)"
	mark pager_sigterm "instance=$1"
	kill -TERM $PID 2>/dev/null
	wait_pid $PID 180 || kill -KILL $PID 2>/dev/null
	mark pager_exit "instance=$1 rc=$PID_RC paged=$(wstat paged)"
	if wait_paged_le 0 5; then
		mark pagein_done "instance=$1 paged=$(wstat paged) tot=$(wstat tot)"
	else
		mark pagein_timeout "instance=$1 paged=$(wstat paged) tot=$(wstat tot)"
	fi
	pager_log $1
	lost_check $2
}
stop_pager 2 drain

# Continuous writes: every vCPU rewrites the whole workload back to back
# (in an order that changes every pass) while a third pager pages the
# guest below the workload's size and pages a gfn out again as soon as it
# came back, so the workload's own pages are nominated while it writes
# them. Its target, 32 MiB, leaves room for what the guest's kernel runs
# and touches at every event (its code alone is 16 MiB): at 16 MiB, with
# code resident, the phase lost the guest in four boots of seven on this
# emulator (RESULTS.md, losses 11 to 13), at 32 MiB in none of five. It serves the ring for 40 ms between nominate and map
# (--settle-ms): each touch of a nominated gfn holds its vCPU only until
# the pager answers, and the next touch can follow. Those touches are
# counted in its statistics (evict_fail_before_io); every pass of the
# guest is verified too. The phase lasts at least churn_s seconds and until
# the pager counted churn_touches of them (read every 10 s), at most
# churn_max_s: an emulator slowed by its host still reaches the count.
CHURN_S=$(cmdarg churn_s 40)
CHURN_MAX_S=$(cmdarg churn_max_s 300)
CHURN_TOUCHES=$(cmdarg churn_touches 2000)
NV=$(verdicts)
IN0=$(wstat in)
OUT0=$(wstat out)
gack churn
start_pager 3 --batch "$(cmdarg churn_batch 256)" \
	--settle-ms "$(cmdarg churn_settle_ms 40)" \
	--target-mib "$(cmdarg churn_target_mib 32)" --recent-s 0
mark churn_start "paged=$(wstat paged) min_s=$CHURN_S max_s=$CHURN_MAX_S touches=$CHURN_TOUCHES"
# xprig.ctxwatch=1: read the vCPUs' CPU save records every 2 ms through
# the phase (xpage-rig-ptwalk --watch), as a pager's guard does but far
# more often: whether those reads alone disturb the guest.
WATCH_PID=
if [ "$(cmdarg ctxwatch 0)" = 1 ]; then
	xpage-rig-ptwalk --watch "$CHURN_MAX_S" "$D" &
	WATCH_PID=$!
fi
# churn_touched: the pager's count so far (SIGUSR1 writes its statistics).
churn_touched() {
	kill -USR1 $PID 2>/dev/null
	sleep 1
	_n=$(sed -n 's/.*"evict_fail_before_io": *\([0-9]*\).*/\1/p' \
		/tmp/xpage-stats-3.json 2>/dev/null | head -1)
	echo "${_n:-0}"
}
T_CHURN=$(up)
CH_N=0 CH_S=0
while alive $PID; do
	sleep 9
	guest_lost && break # the phase is over: lost_check below says so
	CH_N=$(churn_touched)
	CH_S=$(fcalc "$(up) - $T_CHURN")
	awk "BEGIN { exit !($CH_S >= $CHURN_MAX_S || ($CH_S >= $CHURN_S && $CH_N >= $CHURN_TOUCHES)) }" && break
done
mark churn_count "secs=$CH_S touched_before_map=$CH_N"
[ -n "$WATCH_PID" ] && { kill -INT $WATCH_PID 2>/dev/null; wait $WATCH_PID; }
alive $PID || { mark pager_died "instance=3"; pager_log 3; }
mark churn_end "passes=$(( $(verdicts) - NV )) fail=$(gcount 'GUEST: FAIL') paged=$(wstat paged) pages_in=$(( $(wstat in) - IN0 )) pages_out=$(( $(wstat out) - OUT0 ))"
lost_check churn
stop_pager 3 churn_drain
gack hold
gpass "$PT"
mark pass "n=3 phase=after_churn result=$PASS_RESULT secs=$PASS_S paged=$(wstat paged)"
lost_check after_churn

# xprig.offline=1: frames backing the guest's gfns taken out of service,
# with no pager and with one (phase-offline.sh).
if [ "$(cmdarg offline 0)" = 1 ]; then
	. /usr/local/share/xpage-rig/phase-offline.sh
	offline_phase nopager
	start_pager 4
	wait_tot_le $((TARGET_PAGES + 256)) 180 &&
		mark offline_pageout_done "instance=4 paged=$(wstat paged) tot=$(wstat tot)"
	offline_phase pager
	stop_pager 4 offline_drain
	offline_cleanup
fi

# Still running and verifying after the pager left?
gsend run
gpass 60
mark pass "n=4 phase=after_exit result=$PASS_RESULT secs=$PASS_S"
if running_check 5 && [ "$PASS_RESULT" = ok ]; then RUNNING_END=true; else RUNNING_END=false; fi
mark guest_running "phase=end running=$RUNNING_END vcpu_delta_ms=$RUN_DELTA_MS"
lost_check end
finish

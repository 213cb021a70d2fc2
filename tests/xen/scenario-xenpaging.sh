# The peer: Xen's own pager (Debian's xenpaging build) against a fresh
# guest, driven the way Xen's toolstack drives it: the target goes through
# xenstore's memory/target-tot_pages (KiB). Runs in dom0 (busybox sh).
#
# Steps (each bounded): guest up and verified once -> hold its workload ->
# start xenpaging -> target down -> a verification pass (demand page-in)
# -> target 0 (bulk page-in) -> SIGTERM -> is the guest still running?
. /usr/local/share/xpage-rig/scenario-lib.sh

PAGER=xenpaging
XP=/usr/lib/xen-4.17/bin/xenpaging
GMIB=$(cmdarg guest_mib 256)
TMIB=$(cmdarg target_mib 96)
mark scenario_start "pager=$PAGER guest_mib=$GMIB target_mib=$TMIB"

guest_create g-xenpaging "$GMIB" || exit 1
gwait 'GUEST: OK 1 ' 1 240 || { mark guest_not_ready; guest_postmortem; exit 1; }
mark guest_ready "$(glast 'GUEST: ready')"
gsend hold
gwait 'GUEST: ack hold' 1 30 || mark guest_no_ack
watch_start
MAXP=$(dstat max)
TARGET_PAGES=$((TMIB * 256))

# xenpaging enables paging, then follows memory/target-tot_pages.
: >/tmp/xenpaging.log
mark pager_start "instance=1 cmd=xenpaging_-v_-d_${D}_-f_/tmp/pagefile"
$XP -v -d "$D" -f /tmp/pagefile >/tmp/xenpaging.log 2>&1 &
XPID=$!
sleep 3
if ! kill -0 $XPID 2>/dev/null; then
	sed 's/^/XPLOG xenpaging: /' /tmp/xenpaging.log | head -20
	mark pager_died_at_start
fi

mark pageout_start "target_pages=$TARGET_PAGES max_pages=$MAXP"
xenstore-write /local/domain/$D/memory/target-tot_pages $((TMIB * 1024))
# tot_pages also counts pages outside the guest's RAM: allow 1 MiB.
if wait_tot_le $((TARGET_PAGES + 256)) 240; then
	mark pageout_done "paged=$(wstat paged) tot=$(wstat tot) wt=$(wstat t)"
else
	mark pageout_timeout "paged=$(wstat paged) tot=$(wstat tot)"
fi
sleep 2

# The guest touches every page of its workload (demand page-in).
gpass "$(cmdarg pass_timeout 90)"
mark pass "n=1 phase=demand_pagein result=$PASS_RESULT secs=$PASS_S paged=$(wstat paged)"

# Every page back in: target 0 makes xenpaging page in everything.
mark pagein_start "paged=$(wstat paged)"
xenstore-write /local/domain/$D/memory/target-tot_pages 0
if wait_paged_le 0 240; then
	mark pagein_done "paged=$(wstat paged) tot=$(wstat tot)"
else
	mark pagein_timeout "paged=$(wstat paged) tot=$(wstat tot)"
fi

mark pager_sigterm "instance=1"
kill -TERM $XPID 2>/dev/null
wait_pid $XPID 120 || kill -KILL $XPID 2>/dev/null
mark pager_exit "instance=1 rc=$PID_RC paged=$(wstat paged)"

# Still running? Periodic passes again, and the vCPU's time.
gsend run
if gpass 60 && [ "$PASS_RESULT" = ok ]; then :; fi
mark pass "n=2 phase=after_exit result=$PASS_RESULT secs=$PASS_S"
if running_check 5; then R=true; else R=false; fi
mark guest_running "phase=end running=$R vcpu_delta_ms=$RUN_DELTA_MS"

watch_stop
EVICT=$(grep -c 'evict_page' /tmp/xenpaging.log)
POP=$(grep -c 'populate_page' /tmp/xenpaging.log)
mark pager_report "instance=1 evicted=$EVICT populated=$POP"
# What xenpaging said besides the per-page lines.
grep -v -e 'evict_page' -e 'populate_page' /tmp/xenpaging.log | sort | uniq -c |
	sort -rn | head -25 | sed 's/^/XPLOG xenpaging: /'
mark result "guest_ok=$(gcount 'GUEST: OK [0-9]') guest_fail=$(gcount 'GUEST: FAIL') \
paged_end=$(wstat paged) peak=$(wstat peak) xen_out=$(wstat out) xen_in=$(wstat in) \
tot_end=$(wstat tot) max_pages=$MAXP running_end=$R"
guest_postmortem
xl destroy "$D"
mark scenario_end "pager=$PAGER"

# The peer: Xen's own pager against a fresh guest, driven the way Xen's
# toolstack drives it: the target goes through xenstore's
# memory/target-tot_pages (KiB). Runs in dom0 (busybox sh). The binary is
# Debian's xenpaging, or the one xprig.xenpaging=PATH names (the rig's
# xenpaging-fixed, whose responses Xen accepts: build-xen.sh).
#
# Steps (each bounded): guest up and verified once -> hold its workload ->
# start xenpaging -> target down -> a verification pass (demand page-in)
# -> target 0 (bulk page-in) -> SIGTERM -> is the guest still running?
# (No SIGKILL/restart step: xenpaging has no way to re-attach; a second
# xenpaging on the domain fails with EBUSY.)
. /usr/local/share/xpage-rig/scenario-lib.sh

XP=$(cmdarg xenpaging "$(echo /usr/lib/xen-[0-9]*/bin/xenpaging)")
PAGER=$(basename "$XP")
GMIB=$(cmdarg guest_mib 128)
TMIB=$(cmdarg target_mib 48)
PT=$(cmdarg pass_timeout 300)
PID=
mark scenario_start "pager=$PAGER guest_mib=$GMIB target_mib=$TMIB"

guest_create g-xenpaging "$GMIB" || exit 1
guest_wait_ready 240 || exit 1
gsend hold
gwait 'GUEST: ack hold' 1 30 || mark guest_no_ack
watch_start
MAXP=$(dstat max)
TARGET_PAGES=$((TMIB * 256))
xp_log() {
	# What xenpaging said besides its per-page lines.
	grep -v -e 'evict_page' -e 'populate_page' /tmp/xenpaging.log | sort |
		uniq -c | sort -rn | head -25 | sed 's/^/XPLOG xenpaging: /'
}
LOGGER=xp_log

# xenpaging enables paging, then follows memory/target-tot_pages.
: >/tmp/xenpaging.log
mark pager_start "instance=1 cmd=xenpaging_-v_-d_${D}_-f_/tmp/pagefile"
$XP -v -d "$D" -f /tmp/pagefile >/tmp/xenpaging.log 2>&1 &
PID=$!
sleep 3
if ! alive $PID; then
	sed 's/^/XPLOG xenpaging: /' /tmp/xenpaging.log | head -20
	mark pager_died_at_start
fi

first_out_mark
mark pageout_start "target_pages=$TARGET_PAGES max_pages=$MAXP"
xenstore-write /local/domain/$D/memory/target-tot_pages $((TMIB * 1024))
# tot_pages also counts pages outside the guest's RAM: allow 1 MiB.
if wait_tot_le $((TARGET_PAGES + 256)) 180; then
	mark pageout_done "paged=$(wstat paged) tot=$(wstat tot) wt=$(wstat t)"
else
	mark pageout_timeout "paged=$(wstat paged) tot=$(wstat tot)"
fi
lost_check pageout
sleep 2

# The guest touches every page of its workload (demand page-in).
gpass "$PT"
mark pass "n=1 phase=demand_pagein result=$PASS_RESULT secs=$PASS_S paged=$(wstat paged)"
lost_check demand_pass

# Every page back in: target 0 makes xenpaging page in everything.
mark pagein_start "paged=$(wstat paged)"
xenstore-write /local/domain/$D/memory/target-tot_pages 0
if wait_paged_le 0 240; then
	mark pagein_done "paged=$(wstat paged) tot=$(wstat tot)"
else
	mark pagein_timeout "paged=$(wstat paged) tot=$(wstat tot)"
fi
lost_check pagein

mark pager_sigterm "instance=1"
kill -TERM $PID 2>/dev/null
wait_pid $PID 120 || kill -KILL $PID 2>/dev/null
mark pager_exit "instance=1 rc=$PID_RC paged=$(wstat paged)"

# Still running? Periodic passes again, and the vCPU's time.
gsend run
gpass 60
mark pass "n=2 phase=after_exit result=$PASS_RESULT secs=$PASS_S"
if running_check 5 && [ "$PASS_RESULT" = ok ]; then RUNNING_END=true; else RUNNING_END=false; fi
mark guest_running "phase=end running=$RUNNING_END vcpu_delta_ms=$RUN_DELTA_MS"

mark pager_report "instance=1 evicted=$(grep -c 'evict_page' /tmp/xenpaging.log) populated=$(grep -c 'populate_page' /tmp/xenpaging.log)"
xp_log
lost_check end
finish

# The page-offline phase of the xpage scenario (xprig.offline=1), sourced
# by scenario-xpage.sh: frames backing the guest's gfns are taken out of
# service with xpage-offline(8) while the guest runs its verification
# passes, once with no pager on the domain (the tool opens it itself) and
# once with xpage-batch-pager running (the tool asks it through its
# control socket). Each time a frame of dom0's goes in the same command:
# it must be refused. Xen must then report every guest frame offlined,
# and the guest's next pass must verify.

OFF_N=$(cmdarg offline_frames 16)
# The gfns to move: the guest's RAM above its kernel (whose code and
# tables the library keeps resident) and below its page cache.
OFF_LO=$(cmdarg offline_gfn_lo 0x2000)
OFF_HI=$(cmdarg offline_gfn_hi 0x7000)
OFF_ALL=

# offline_phase MODE: MODE is nopager or pager (a pager already runs).
offline_phase() {
	_mode=$1
	mark offline_start "mode=$_mode paged=$(wstat paged)"
	xpage-rig-frames find "$D" "$OFF_LO" "$OFF_HI" "$OFF_N" 2>&1 |
		tee /tmp/frames-$_mode.log
	grep -v '^XPRIG' /tmp/frames-$_mode.log | tail -5 | sed 's/^/XPLOG frames: /'
	_line=$(grep '^XPRIG frames_found' /tmp/frames-$_mode.log | tail -1)
	_guest=$(echo "$_line" | sed -n 's/.* guest=\([^ ]*\).*/\1/p' | tr ',' ' ')
	_dom0=$(echo "$_line" | sed -n 's/.* dom0=\([^ ]*\).*/\1/p')
	_found=$(echo $_guest | wc -w)
	if [ "$_found" = 0 ] || [ -z "$_dom0" ] || [ "$_dom0" = none ]; then
		mark offline_result "mode=$_mode want=$OFF_N found=$_found dom0=none rc=none"
		return 1
	fi
	gack run
	xpage-offline --json $_guest "$_dom0" >/tmp/offline-$_mode.json \
		2>/tmp/offline-$_mode.err
	_rc=$?
	tr -d '\n' </tmp/offline-$_mode.json | sed 's/^/XPJSON offline-'"$_mode"' /'
	echo
	sed 's/^/XPLOG xpage-offline: /' /tmp/offline-$_mode.err | tail -20
	_count() { sed -n 's/.*"'"$1"'": \([0-9]*\).*/\1/p' /tmp/offline-$_mode.json | tail -1; }
	_d0=$(grep "\"0x${_dom0#0x}\"" /tmp/offline-$_mode.json | grep -c '"refused"')
	_st=$(xpage-rig-frames state $_guest | tee /tmp/states-$_mode.log |
		grep -c 'state=offlined')
	grep 'state=' /tmp/states-$_mode.log | grep -v 'state=offlined' | head -5
	mark offline_result "mode=$_mode want=$OFF_N found=$_found offlined=$(_count offlined) pending=$(_count pending) refused=$(_count refused) dom0_refused=$_d0 states_offlined=$_st rc=$_rc"
	OFF_ALL="$OFF_ALL $_guest $_dom0"
	gack hold
	gpass "$PT"
	mark pass "n=offline_$_mode phase=offline_$_mode result=$PASS_RESULT secs=$PASS_S paged=$(wstat paged)"
	lost_check "offline_$_mode"
}

# offline_cleanup: every frame the phase took out goes back in service
# (and dom0's pending one is no longer pending).
offline_cleanup() {
	[ -n "$OFF_ALL" ] && xpage-rig-frames online $OFF_ALL
}

# Helpers for the dom0 scenarios of the real-Xen run (busybox sh; sourced).
#
# Every line meant for the host starts with "XPRIG " and has the form
#   XPRIG <event> t=<dom0 uptime, s> [key=value ...]
# tests/xen/parse-log turns them into the JSON result.

up() { cut -d' ' -f1 /proc/uptime; }
mark() { ev=$1; shift; echo "XPRIG $ev t=$(up) $*"; }

# cmdarg NAME [DEFAULT]: xprig.NAME=VALUE from dom0's kernel command line.
cmdarg() {
	v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^xprig\.$1=//p" | tail -1)
	echo "${v:-$2}"
}

# cmdargs NAME: every xprig.NAME=VALUE, space-separated.
cmdargs() { tr ' ' '\n' </proc/cmdline | sed -n "s/^xprig\.$1=//p" | tr '\n' ' '; }

# Float comparison and arithmetic through awk (busybox sh has integers only).
fcalc() { awk "BEGIN { printf \"%.3f\", $* }"; }

# The guest. GUEST_NAME, D (domid), CL (its console log), TTY (its pty).
guest_create() {
	GUEST_NAME=$1
	mib=$2
	cat >/etc/xen/$GUEST_NAME.cfg <<EOF
name = "$GUEST_NAME"
type = "pvh"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/guest-initrd.gz"
extra = "console=hvc0 earlyprintk=xen,keep loglevel=7 rdinit=/init xg.period=$(cmdarg guest_period 10)"
memory = $mib
maxmem = $mib
vcpus = $(cmdarg vcpus 1)
on_crash = "preserve"
on_poweroff = "preserve"
EOF
	mark guest_create_start "name=$GUEST_NAME mib=$mib"
	if ! xl create /etc/xen/$GUEST_NAME.cfg >/tmp/xl-create.log 2>&1; then
		sed 's/^/XPLOG xl-create: /' /tmp/xl-create.log
		mark guest_create_failed
		return 1
	fi
	D=$(xl domid "$GUEST_NAME")
	CL=/var/log/xen/console/guest-$GUEST_NAME.log
	TTY=$(xenstore-read /local/domain/$D/console/tty 2>/dev/null)
	mark guest_created "domid=$D tty=$TTY"
}

# guest_wait_ready TIMEOUT_S: wait for the workload's first verdict. A
# guest that reset while booting (seen under TCG: a triple fault before
# userspace) is restarted by xl under a new domain id: take that one.
guest_wait_ready() {
	if ! gwait 'GUEST: OK 1 ' 1 "$1"; then
		mark guest_not_ready
		guest_postmortem
		return 1
	fi
	_d=$(xl domid "$GUEST_NAME")
	if [ "$_d" != "$D" ]; then
		mark guest_restarted "old_domid=$D domid=$_d"
		D=$_d
		TTY=$(xenstore-read /local/domain/$D/console/tty 2>/dev/null)
	fi
	mark guest_ready "domid=$D $(glast 'GUEST: ready')"
}

# gcount REGEX: how many lines of the guest's console match.
gcount() { grep -c -E "$1" "$CL" 2>/dev/null || true; }
# glast REGEX: the last such line, cleaned.
glast() { grep -E "$1" "$CL" 2>/dev/null | tail -1 | tr -d '\r' | sed 's/^.*GUEST: //'; }

# gwait REGEX COUNT TIMEOUT_S: wait until COUNT lines match; 0 if so.
gwait() {
	_end=$(( $(cut -d. -f1 /proc/uptime) + $3 ))
	while [ "$(gcount "$1")" -lt "$2" ]; do
		[ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ] && return 1
		guest_lost && return 1
		sleep 0.5
	done
	return 0
}

# gwait_pid REGEX COUNT TIMEOUT_S PID: as gwait, but give up 5 s after
# process PID (a pager the guest depends on) has died.
gwait_pid() {
	_end=$(( $(cut -d. -f1 /proc/uptime) + $3 ))
	_dead=
	while [ "$(gcount "$1")" -lt "$2" ]; do
		_now=$(cut -d. -f1 /proc/uptime)
		[ "$_now" -ge "$_end" ] && return 1
		guest_lost && return 1
		if [ -z "$_dead" ] && ! alive "$4"; then
			_dead=$_now
			_end=$((_now + 5))
		fi
		sleep 0.5
	done
	return 0
}

# gsend CMD: a command line to the guest's workload, through its console.
gsend() {
	mark guest_cmd "cmd=$1"
	printf '%s\n' "$1" >"$TTY"
}

# gack CMD: send CMD and wait (60 s at most) for its acknowledgement.
gack() {
	_a=$(gcount "GUEST: ack $1")
	gsend "$1"
	gwait "GUEST: ack $1" $((_a + 1)) 60 || mark guest_no_ack "cmd=$1"
}

# The guest's verdict lines seen so far.
verdicts() { gcount 'GUEST: (OK|FAIL) [0-9]'; }

# gpass TIMEOUT_S: ask for a pass and wait for its verdict; sets PASS_RESULT
# (ok, fail, stalled: the guest's vCPU time did not grow for STALL_S
# seconds, or timeout) and PASS_S (seconds).
STALL_S=$(cmdarg stall_s 25)
gpass() {
	_n=$(verdicts)
	_t0=$(up)
	_end=$(( $(cut -d. -f1 /proc/uptime) + $1 ))
	_cpu=$(vcpu_ns)
	_moved=$(cut -d. -f1 /proc/uptime)
	_i=0
	gsend pass
	while :; do
		if [ "$(verdicts)" -gt "$_n" ]; then
			case $(glast 'GUEST: (OK|FAIL) [0-9]') in
			OK*) PASS_RESULT=ok ;;
			*) PASS_RESULT=fail ;;
			esac
			break
		fi
		_now=$(cut -d. -f1 /proc/uptime)
		if [ "$_now" -ge "$_end" ]; then PASS_RESULT=timeout; break; fi
		if guest_lost; then PASS_RESULT=guest_lost; break; fi
		_i=$((_i + 1))
		if [ $((_i % 4)) = 0 ]; then
			_c=$(vcpu_ns)
			if [ $(( (_c - _cpu) / 1000000 )) -gt 5 ]; then
				_cpu=$_c
				_moved=$_now
			elif [ $((_now - _moved)) -ge "$STALL_S" ]; then
				PASS_RESULT=stalled
				break
			fi
		fi
		sleep 0.5
	done
	PASS_S=$(fcalc "$(up) - $_t0")
}

# Xen's view of the guest (xpage-rig-domstat), one field.
dstat() { xpage-rig-domstat "$D" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# The watcher: samples Xen's counters for the guest every 100 ms.
WATCH_STATE=/tmp/watch.state
watch_start() {
	xpage-rig-domstat --watch "$D" "$WATCH_STATE" 100 2 &
	WATCH_PID=$!
	sleep 0.5
}
watch_stop() { kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null; }
wstat() {
	[ -f "$WATCH_STATE" ] || return 0
	tr ' ' '\n' <"$WATCH_STATE" | sed -n "s/^$1=//p"
}
# guest_lost: the watcher saw the guest crash, reset or vanish.
guest_lost() { [ "$(wstat gone)" = 1 ]; }

# wait_paged_le N TIMEOUT_S / wait_tot_le N TIMEOUT_S: poll the watcher.
wait_tot_le() {
	_end=$(( $(cut -d. -f1 /proc/uptime) + $2 ))
	while [ "$(wstat tot)" -gt "$1" ]; do
		[ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ] && return 1
		guest_lost && return 1
		sleep 0.2
	done
}
wait_paged_le() {
	_end=$(( $(cut -d. -f1 /proc/uptime) + $2 ))
	while [ "$(wstat paged)" -gt "$1" ]; do
		[ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ] && return 1
		guest_lost && return 1
		sleep 0.2
	done
}

# first_out_mark: in the background, mark pageout_first with the time of
# the watcher's first sample that counts a page-out from now on (st=), so
# a page-out rate can leave out the pager's start-up.
first_out_mark() {
	(
		_o=$(wstat out)
		while [ "$(wstat out)" -le "$_o" ]; do
			guest_lost && exit 0
			sleep 0.05
		done
		mark pageout_first "st=$(wstat t) out=$(wstat out)"
	) &
}

# alive PID: the process runs (a zombie child does not count).
alive() {
	kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' /proc/$1/status 2>/dev/null
}

# wait_pid PID TIMEOUT_S: wait for a background child; sets PID_RC
# (its exit status, or "timeout").
wait_pid() {
	_end=$(( $(cut -d. -f1 /proc/uptime) + $2 ))
	while kill -0 "$1" 2>/dev/null; do
		if [ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ]; then
			PID_RC=timeout
			return 1
		fi
		# A zombie child still answers kill -0: look at its state.
		grep -q '^State:.*Z' /proc/$1/status 2>/dev/null && break
		sleep 0.5
	done
	wait "$1"
	PID_RC=$?
}

# vcpu_ns: the guest's vCPU time in ns, by Xen's count.
vcpu_ns() { dstat cpu_ns; }

# running_check SECONDS: does the guest's vCPU time grow over SECONDS?
# Sets RUN_DELTA_MS and returns 0 if it grew by more than 10 ms.
running_check() {
	_a=$(vcpu_ns)
	sleep "$1"
	_b=$(vcpu_ns)
	RUN_DELTA_MS=$(( (_b - _a) / 1000000 ))
	[ "$RUN_DELTA_MS" -gt 10 ]
}

# The end: what the hypervisor thinks of the guest's vCPU, then its console.
guest_postmortem() {
	mark vcpu_list
	xl vcpu-list "$D" 2>&1 | sed 's/^/XPLOG vcpu-list: /'
	xl list "$D" 2>&1 | sed 's/^/XPLOG xl-list: /'
	# The 'q' debug key dumps every domain's state (pause counts) to
	# Xen's console, which is the serial log the host reads.
	xl debug-keys q 2>/dev/null
	sleep 1
	grep -E 'GUEST:' "$CL" | tr -d '\r' | tail -12 | sed 's/^/XPLOG guest-console: /'
}

# finish: the common end of a scenario: Xen's counters, the guest's
# verdicts, the post-mortem, then the guest is destroyed.
finish() {
	watch_stop
	mark result "guest_ok=$(gcount 'GUEST: OK [0-9]') guest_fail=$(gcount 'GUEST: FAIL') \
paged_end=$(wstat paged) peak=$(wstat peak) xen_out=$(wstat out) xen_in=$(wstat in) \
tot_end=$(wstat tot) max_pages=$MAXP running_end=${RUNNING_END:-false} \
guest_lost=$(wstat gone)"
	guest_postmortem
	xl destroy "$D" 2>/dev/null
	mark scenario_end "pager=$PAGER"
}

# lost_check: if the guest is gone, say so and end the scenario.
lost_check() {
	if guest_lost; then
		mark guest_lost "domid=$D at=$1"
		[ -n "$PID" ] && alive "$PID" && kill -TERM "$PID" 2>/dev/null && sleep 2
		[ -n "$LOGGER" ] && $LOGGER
		finish
		exit 0
	fi
}

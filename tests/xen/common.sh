# Shared helpers for the tests/xen scripts (sourced, not run).
# shellcheck shell=bash

# The Xen release whose Debian packages the rig uses: hypervisor source,
# dom0 tools and libraries all come from the same Debian version of it.
XEN_SERIES=4.17

xr_log() { printf '[xen-rig %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
xr_die() { xr_log "error: $*"; exit 1; }

# Cache directory: kept between runs, never inside the source tree.
xr_cache_default() {
	printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/xpage-xen-rig"
}

xr_sudo() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Run `apt-get update` at most once per script run.
xr_apt_updated=
xr_apt_update() {
	[ -n "$xr_apt_updated" ] && return 0
	xr_log "apt-get update"
	xr_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		xr_die "apt-get update failed"
	xr_apt_updated=1
}

# xr_need_pkgs CMD:PACKAGE ... : install the packages whose command is missing.
xr_need_pkgs() {
	local want=() spec
	for spec in "$@"; do
		command -v "${spec%%:*}" >/dev/null 2>&1 || want+=("${spec#*:}")
	done
	[ ${#want[@]} -eq 0 ] && return 0
	xr_apt_update
	xr_log "apt-get install ${want[*]}"
	xr_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${want[@]}" >/dev/null ||
		xr_die "apt-get install ${want[*]} failed"
}

# The Debian version apt would install for a binary package.
xr_candidate() {
	apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' |
		grep -v '(none)' | head -1
}

# Shared helpers for the tests/xen scripts (sourced, not run).
# shellcheck shell=bash

xr_log() { printf '[xen-rig %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
xr_die() { xr_log "error: $*"; exit 1; }

# The Xen release of the run (tests/xen/run --xen sets XPRIG_XEN): the
# hypervisor's source, dom0's tools and their libraries all come from the
# Debian release that ships it.
XR_RELEASES="4.14 4.17 4.20"
xr_set_release() {
	XEN_SERIES=${XPRIG_XEN:-4.17}
	case $XEN_SERIES in
	4.14) XEN_SUITE=bullseye ;;
	4.17) XEN_SUITE=bookworm ;;
	4.20) XEN_SUITE=trixie ;;
	*) xr_die "no Debian release ships Xen $XEN_SERIES (--xen: $XR_RELEASES)" ;;
	esac
}
xr_set_release

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

# xr_apt_install PACKAGE ...: install them from the host's apt, or die.
xr_apt_install() {
	[ $# -eq 0 ] && return 0
	xr_apt_update
	xr_log "apt-get install $*"
	xr_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$@" >/dev/null ||
		xr_die "apt-get install $* failed"
}

# xr_need_pkgs CMD:PACKAGE ... : install the packages whose command is missing.
xr_need_pkgs() {
	local want=() spec
	for spec in "$@"; do
		command -v "${spec%%:*}" >/dev/null 2>&1 || want+=("${spec#*:}")
	done
	xr_apt_install "${want[@]}"
}

# apt for the run's release. This host's own Debian release uses the
# host's apt as it is. Another release is read through a private apt state
# in CACHE/apt-SUITE (its own lists, deb and deb-src, the suite, its
# updates and its security archive, from the host's Debian mirrors): the
# host's sources and packages are never touched. xr_release_apt CACHE sets
# that up once per script; xr_apt and xr_apt_cache then run apt-get and
# apt-cache for the release.
xr_apt_opts=()
xr_host_suite() { (. /etc/os-release && printf '%s\n' "${VERSION_CODENAME:-}"); }
xr_debian_uri() { # the host's Debian mirror: "" or "-security"
	local u
	u=$(grep -rhoE "https?://[^ ]*/debian$1/?( |\$)" /etc/apt/sources.list \
		/etc/apt/sources.list.d 2>/dev/null | head -1 | tr -d ' ')
	printf '%s\n' "${u:-http://deb.debian.org/debian$1}"
}
xr_release_apt() {
	[ "$XEN_SUITE" != "$(xr_host_suite)" ] || return 0
	local d=$1/apt-$XEN_SUITE main sec kr=/usr/share/keyrings/debian-archive-keyring.gpg
	main=$(xr_debian_uri ""); sec=$(xr_debian_uri -security)
	mkdir -p "$d/lists/partial" "$d/archives/partial"
	{
		for t in deb deb-src; do
			printf '%s [signed-by=%s] %s %s main\n' "$t" "$kr" "$main" "$XEN_SUITE"
			printf '%s [signed-by=%s] %s %s-updates main\n' "$t" "$kr" "$main" "$XEN_SUITE"
			printf '%s [signed-by=%s] %s %s-security main\n' "$t" "$kr" "$sec" "$XEN_SUITE"
		done
	} >"$d/sources.list.new"
	cmp -s "$d/sources.list.new" "$d/sources.list" || mv "$d/sources.list.new" "$d/sources.list"
	rm -f "$d/sources.list.new"
	xr_apt_opts=(-o "Dir::Etc::SourceList=$d/sources.list"
		-o Dir::Etc::SourceParts=/nonexistent -o "Dir::State::Lists=$d/lists"
		-o "Dir::Cache=$d" -o Dir::State::status=/dev/null
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	if [ ! -f "$d/lists/.updated" ] || [ "$d/sources.list" -nt "$d/lists/.updated" ]; then
		xr_log "apt-get update ($XEN_SUITE, for Xen $XEN_SERIES; private to $d)"
		apt-get "${xr_apt_opts[@]}" update -qq || xr_die "apt-get update ($XEN_SUITE) failed"
		touch "$d/lists/.updated"
	fi
}
xr_apt() { apt-get "${xr_apt_opts[@]}" "$@"; }
xr_apt_cache() { apt-cache "${xr_apt_opts[@]}" "$@"; }

# The Debian version apt would install for a binary package of the run's
# release (xr_host_candidate: of this host's release).
xr_candidate() {
	xr_apt_cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' |
		grep -v '(none)' | head -1
}
xr_host_candidate() {
	apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' |
		grep -v '(none)' | head -1
}

# xr_release_sysroot CACHE: print a directory holding the run's release's
# Xen development files (libxen-dev and the libraries it names), for
# building dom0 helpers against that release's libxenctrl; nothing for this
# host's own release, whose files are installed (libxen-dev). Cached in
# CACHE/sysroot-<version>. Build with xr_release_cflags SYSROOT.
xr_release_sysroot() {
	[ "$XEN_SUITE" != "$(xr_host_suite)" ] || return 0
	local v d p
	v=$(xr_candidate libxen-dev)
	[ -n "$v" ] || xr_die "apt knows no libxen-dev in $XEN_SUITE"
	d=$1/sysroot-$v
	if [ ! -f "$d/.complete" ]; then
		rm -rf "$d" "$d.debs"
		mkdir -p "$d.debs"
		for p in libxen-dev "libxenmisc$XEN_SERIES" libxencall1 libxenevtchn1 \
			libxenforeignmemory1 libxengnttab1 libxendevicemodel1 libxenhypfs1 \
			libxentoolcore1 libxentoollog1 "$(xr_libxenstore_pkg)"; do
			(cd "$d.debs" && xr_apt download -qq "$p=$(xr_candidate "$p")" 2>&1 |
				grep -v unsandboxed >&2; [ "${PIPESTATUS[0]}" = 0 ]) ||
				xr_die "apt-get download $p ($XEN_SUITE) failed"
		done
		mkdir -p "$d.tmp"
		for p in "$d.debs"/*.deb; do dpkg-deb -x "$p" "$d.tmp"; done
		rm -rf "$d.debs"
		touch "$d.tmp/.complete"
		mv "$d.tmp" "$d"
	fi
	printf '%s\n' "$d"
}
# Compiler and linker flags for a dom0 helper built against SYSROOT (from
# xr_release_sysroot; none when it is empty). The release's libraries may
# need a newer C library than this host's: the dom0 image carries that
# release's (make-initramfs.sh), so their undefined symbols are left to it.
xr_release_cflags() {
	[ -n "$1" ] || return 0
	local l=$1/usr/lib/x86_64-linux-gnu
	printf '%s\n' "-I$1/usr/include" "-L$l" "-Wl,-rpath-link,$l" \
		-Wl,--allow-shlib-undefined
}
# The release's libxenstore package (libxenstore3.0 up to 4.15, then 4).
xr_libxenstore_pkg() {
	local p
	for p in libxenstore4 libxenstore3.0; do
		[ -n "$(xr_candidate "$p")" ] && { printf '%s\n' "$p"; return 0; }
	done
	xr_die "apt knows no libxenstore package in $XEN_SUITE"
}

# xr_ensure_deb_src PKG: apt-get source needs deb-src entries. Debian's
# images list binary packages only: unless the host's apt knows PKG's
# source already, add a deb-src twin of each Debian entry (same URIs,
# suites, components and keyring), once.
xr_srcfile=/etc/apt/sources.list.d/xpage-xen-rig-src.sources
xr_ensure_deb_src() {
	# grep reads it all: with -q it would stop early, apt-cache would die of
	# SIGPIPE and pipefail would call the source missing.
	if apt-cache showsrc "$1" 2>/dev/null | grep "^Package: $1\$" >/dev/null; then
		return 0
	fi
	local tmp
	tmp=$(mktemp)
	# deb822 files: copy every stanza whose Types has "deb", as deb-src.
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] && [ "$f" != "$xr_srcfile" ] || continue
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
		     /(^|\n)Types:[^\n]*(^|[ \t])deb([ \t]|\n|$)/ &&
		     /debian/ {
			sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, "")
			print
		     }' "$f" >>"$tmp"
	done
	# One-line format.
	if [ -f /etc/apt/sources.list ]; then
		sed -n 's/^[ \t]*deb[ \t]\(.*debian.*\)$/\1/p' /etc/apt/sources.list |
		while read -r line; do
			# "[opts] URI suite comps..." -> a deb822 stanza
			set -- $line
			local opts=
			case $1 in \[*) opts=$1; shift ;; esac
			local uri=$1 suite=$2; shift 2
			printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n' \
				"$uri" "$suite" "$*"
			case $opts in *signed-by=*)
				printf 'Signed-By: %s\n' \
					"$(printf %s "$opts" | sed 's/.*signed-by=\([^] ]*\).*/\1/')" ;;
			esac
			printf '\n'
		done >>"$tmp"
	fi
	[ -s "$tmp" ] || xr_die "found no Debian apt source to add a deb-src entry for"
	xr_log "adding deb-src entries: $xr_srcfile"
	xr_sudo install -m 0644 "$tmp" "$xr_srcfile"
	rm -f "$tmp"
	xr_apt_updated=
	xr_apt_update
}

#!/usr/bin/env bash
# Build a Xen hypervisor with memory paging from Debian's Xen source package.
#
# usage: build-xen.sh CACHE_DIR [--plain|--diag|--debug]
# Prints the path of the built, uncompressed multiboot `xen` image. Beside
# it: its .config, xen-syms.map, and `xenpaging-fixed` (see below).
#
# Debian's prebuilt hypervisor has CONFIG_MEM_PAGING off (it is "unsupported"
# since Xen 4.16), so xc_mem_paging_enable answers ENOSYS there. We build the
# very version Debian ships the tools of (xen-utils-4.17), from Debian's
# source package with Debian's patches, configured from Xen's defconfig plus
# CONFIG_UNSUPPORTED=y and CONFIG_MEM_PAGING=y. The result is cached under
# CACHE_DIR/xen/<version>/ and reused while the version does not change.
# Flavours (each cached apart):
#   --plain  <version>: Debian's source as it is, plus paging;
#   --diag   <version>-diag-<hash of xen-diag.sh> (the rig's default): plus
#            diagnostic lines on the serial console, each starting
#            "XPDIAG": every request for a page-in that does not come from
#            a guest's nested page fault (Xen's own accesses to guest
#            memory, foreign mappings), with the calling function and vCPU;
#            and, when a guest vCPU must sleep for want of a free slot in
#            the paging ring, the ring's state and a stack trace (the first
#            8 times). A loss on the rig is then named by the hypervisor
#            itself (docs/xen-hazards.md);
#   --debug  <version>-debug-<hash>: as --diag, with CONFIG_DEBUG=y (Xen's
#            assertions, extra checks and debug-only messages; slower).
#
# xenpaging-fixed: Xen's own pager (tools/xenpaging of the same source),
# built against this host's Xen headers and libraries (Debian 12's are the
# 4.17 series too) with one change: every response it puts on the ring
# carries the ring's interface version and the paging reason, without
# which Xen 4.6+ ignores it (docs/xen-interface.md 3; Debian's xenpaging
# hangs the guest at its first page-in). It is the peer pager that is not
# ours, for telling a fault of libxpage from one of the hypervisor or the
# emulator.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

cache=${1:?usage: build-xen.sh CACHE_DIR [--plain|--diag|--debug]}
diag_hash=$(sha256sum "$here/xen-diag.sh" | cut -c1-8)
case ${2:---plain} in
--plain) flavour= ;;
--diag) flavour=-diag-$diag_hash ;;
--debug) flavour=-debug-$diag_hash ;;
*) xr_die "build-xen.sh: unknown flavour ${2:-}" ;;
esac
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

xr_need_pkgs gcc:build-essential make:make flex:flex bison:bison \
	python3:python3 dpkg-source:dpkg-dev xz:xz-utils

# apt-get source needs deb-src entries. Debian's images list binary
# packages only: add a deb-src twin of each Debian entry (same URIs, suites,
# components and keyring), once.
srcfile=/etc/apt/sources.list.d/xpage-xen-rig-src.sources
ensure_deb_src() {
	if apt-cache showsrc "xen" 2>/dev/null | grep -q '^Package: xen$'; then
		return 0
	fi
	local tmp
	tmp=$(mktemp)
	# deb822 files: copy every stanza whose Types has "deb", as deb-src.
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] && [ "$f" != "$srcfile" ] || continue
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
	xr_log "adding deb-src entries: $srcfile"
	xr_sudo install -m 0644 "$tmp" "$srcfile"
	rm -f "$tmp"
	xr_apt_updated=
	xr_apt_update
}

[ -n "$(xr_candidate xen-utils-$XEN_SERIES)" ] || xr_apt_update
tools_version=$(xr_candidate "xen-utils-$XEN_SERIES")
[ -n "$tools_version" ] || xr_die "apt knows no xen-utils-$XEN_SERIES"

# A previous run's build for these tools.
link=$cache/xen/for-tools-$tools_version$flavour
if [ -f "$link" ]; then
	out=$cache/xen/$(cat "$link")
	if [ -f "$out/xen" ] && [ -x "$out/xenpaging-fixed" ] &&
		grep -qx CONFIG_MEM_PAGING=y "$out/.config" 2>/dev/null; then
		xr_log "Xen $(cat "$link") with paging: cached ($out/xen)"
		printf '%s\n' "$out/xen"
		exit 0
	fi
fi

ensure_deb_src
# Prefer the source of the tools' own version. Debian's security archive
# may list a source it does not serve; then take the newest source of the
# same release series that downloads (the hypervisor/tools interfaces are
# fixed within a series: domctl and vm_event versions do not change).
versions=$( { printf '%s\n' "$tools_version"
	apt-cache showsrc xen 2>/dev/null | sed -n 's/^Version: //p' |
		sort -rV | grep "^$XEN_SERIES\." ; } | awk '!seen[$0]++')
version=
for v in $versions; do
	dl=$cache/xen-src/$v
	if ls "$dl"/*.dsc >/dev/null 2>&1; then version=$v; break; fi
	mkdir -p "$dl"
	xr_log "apt-get source xen=$v"
	if (cd "$dl" && apt-get source -qq --download-only "xen=$v" 2>&1 |
			grep -v 'unsandboxed' >&2; [ "${PIPESTATUS[0]}" = 0 ]); then
		version=$v; break
	fi
	xr_log "source xen=$v is not downloadable; trying an older one"
	rm -rf "$dl"
done
[ -n "$version" ] || xr_die "no Xen $XEN_SERIES source package could be downloaded"
dl=$cache/xen-src/$version
out=$cache/xen/$version$flavour
tree=$dl/tree
if [ ! -f "$tree/.xpage-unpacked" ]; then
	rm -rf "$tree"
	xr_log "unpacking Debian's source package (with Debian's patches)"
	(cd "$dl" && dpkg-source -x "$(ls ./*.dsc | head -1)" tree >/dev/null 2>"$dl/unpack.log") ||
		{ cat "$dl/unpack.log" >&2; xr_die "dpkg-source -x failed"; }
	touch "$tree/.xpage-unpacked"
fi

# The diagnostic lines (--diag) are inserted into the unpacked tree; every
# other flavour starts from Debian's source as it is.
mark=$tree/.xpage-diag
case $flavour in -diag-*|-debug-*) diag=1 ;; *) diag=0 ;; esac
if [ "$diag" = 1 ] && [ "$(cat "$mark" 2>/dev/null)" != "$diag_hash" ]; then
	"$here/xen-diag.sh" "$tree" || xr_die "inserting the diagnostic lines failed"
	printf '%s\n' "$diag_hash" >"$mark"
elif [ "$diag" = 0 ] && [ -f "$mark" ]; then
	"$here/xen-diag.sh" --remove "$tree" || xr_die "removing the diagnostic lines failed"
	rm -f "$mark"
fi

xr_log "configuring xen/: defconfig + CONFIG_UNSUPPORTED=y CONFIG_MEM_PAGING=y"
make -s -C "$tree/xen" XEN_TARGET_ARCH=x86_64 defconfig >/dev/null
cfg=$tree/xen/.config
sed -i -e '/^CONFIG_UNSUPPORTED[= ]/d' -e '/^# CONFIG_UNSUPPORTED is not set/d' \
	-e '/^CONFIG_MEM_PAGING[= ]/d' -e '/^# CONFIG_MEM_PAGING is not set/d' "$cfg"
printf 'CONFIG_UNSUPPORTED=y\nCONFIG_MEM_PAGING=y\n' >>"$cfg"
case $flavour in -debug-*)
	sed -i -e '/^CONFIG_DEBUG[= ]/d' -e '/^# CONFIG_DEBUG is not set/d' "$cfg"
	printf 'CONFIG_DEBUG=y\n' >>"$cfg" ;;
esac
make -s -C "$tree/xen" XEN_TARGET_ARCH=x86_64 olddefconfig >/dev/null
grep -qx CONFIG_UNSUPPORTED=y "$cfg" && grep -qx CONFIG_MEM_PAGING=y "$cfg" ||
	xr_die "olddefconfig dropped CONFIG_MEM_PAGING"
case $flavour in -debug-*)
	grep -qx CONFIG_DEBUG=y "$cfg" || xr_die "olddefconfig dropped CONFIG_DEBUG" ;;
esac

jobs=$(nproc 2>/dev/null || echo 2)
xr_log "building the hypervisor (make -j$jobs; about a minute on 2 cores)"
t0=$(date +%s)
make -C "$tree/xen" XEN_TARGET_ARCH=x86_64 -j"$jobs" >"$dl/build.log" 2>&1 ||
	{ tail -30 "$dl/build.log" >&2; xr_die "hypervisor build failed (log: $dl/build.log)"; }
xr_log "hypervisor built in $(( $(date +%s) - t0 )) s"

mkdir -p "$out"
cp "$tree/xen/xen" "$out/xen.tmp" && mv "$out/xen.tmp" "$out/xen"
cp "$cfg" "$out/.config"
# Xen's symbols, to name a hypervisor address in a vCPU dump (parse-log).
cp "$tree/xen/xen-syms.map" "$out/xen-syms.map" 2>/dev/null || true

# xenpaging-fixed (see the top): the version word and the reason set in
# put_response(), before the response is copied into the ring.
xr_need_pkgs gcc:build-essential
[ -f /usr/include/xenstore.h ] || xr_die "no /usr/include/xenstore.h (libxen-dev)"
xp=$out/xenpaging-src
rm -rf "$xp"
mkdir -p "$xp"
cp "$tree"/tools/xenpaging/*.[ch] "$xp/"
grep -q '^static void put_response(' "$xp/xenpaging.c" ||
	xr_die "tools/xenpaging/xenpaging.c has no put_response()"
sed -i '/^static void put_response(/,/^}/ s|^\( *\)/\* Copy response \*/|\1rsp->version = VM_EVENT_INTERFACE_VERSION;\n\1rsp->reason = VM_EVENT_REASON_MEM_PAGING;\n&|' \
	"$xp/xenpaging.c"
grep -q 'rsp->reason = VM_EVENT_REASON_MEM_PAGING;' "$xp/xenpaging.c" ||
	xr_die "could not set version and reason in xenpaging's responses"
gcc -O2 -w -D__XEN_TOOLS__ -o "$out/xenpaging-fixed" "$xp"/*.c \
	-lxenctrl -lxenevtchn -lxenstore -lxentoollog -lpthread ||
	xr_die "building xenpaging-fixed failed"
printf '%s\n' "$version$flavour" >"$cache/xen/for-tools-$tools_version$flavour"
printf '%s\n' "$out/xen"

#!/usr/bin/env bash
# Build a Xen hypervisor with memory paging from Debian's Xen source package.
#
# usage: build-xen.sh CACHE_DIR [--plain|--diag|--debug]
# Prints the path of the built, uncompressed multiboot `xen` image. Beside
# it: its .config, xen-syms.map, source.txt (what it was built from) and
# `xenpaging-fixed` (see below).
#
# The release is XPRIG_XEN (common.sh: 4.14, 4.17 by default, or 4.20), from
# the Debian release that ships it. Debian's prebuilt hypervisor has
# CONFIG_MEM_PAGING off from 4.16 on ("unsupported"), so
# xc_mem_paging_enable answers ENOSYS there. We build the very version
# Debian ships the tools of (xen-utils-<release>), from Debian's source
# package with Debian's patches, configured from Xen's defconfig plus
# CONFIG_UNSUPPORTED=y and CONFIG_MEM_PAGING=y (up to 4.15 paging is always
# built on x86; the lines are then ignored). When Debian's archive serves
# that version's upstream tarball but not the whole source package, the
# upstream tarball is built without Debian's patches (which touch the
# tools, not paging); when it serves neither, XPRIG_XEN_GIT may name a git
# directory of Xen's own history, whose tag RELEASE-<version> is built.
# source.txt says which. The result is cached under CACHE_DIR/xen/<version>/
# and reused while the version does not change.
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
xr_release_apt "$cache"

xr_need_pkgs gcc:build-essential make:make flex:flex bison:bison \
	python3:python3 dpkg-source:dpkg-dev xz:xz-utils

# A .config with paging: CONFIG_MEM_PAGING from 4.16 on, always built
# (CONFIG_HAS_MEM_PAGING) before.
has_paging() {
	grep -qx -e CONFIG_MEM_PAGING=y -e CONFIG_HAS_MEM_PAGING=y "$1" 2>/dev/null
}

# A release older than this host's Debian does not build with this host's
# compiler (4.14 with GCC 12: new warnings are errors): it is built in a
# chroot of its own Debian release, bootstrapped from Debian's archive once
# and cached in CACHE/chroot/SUITE. Newer releases build here.
suite_order() { case $1 in bullseye) echo 11 ;; bookworm) echo 12 ;; trixie) echo 13 ;; *) echo 0 ;; esac; }
build_chroot=
if [ "$(suite_order "$XEN_SUITE")" -lt "$(suite_order "$(xr_host_suite)")" ]; then
	build_chroot=$cache/chroot/$XEN_SUITE
fi
ensure_chroot() {
	[ -n "$build_chroot" ] && [ ! -f "$build_chroot/.complete" ] || return 0
	xr_need_pkgs debootstrap:debootstrap
	xr_log "debootstrap $XEN_SUITE into $build_chroot (once; a few minutes)"
	rm -rf "$build_chroot" "$build_chroot.tmp"
	mkdir -p "$(dirname "$build_chroot")"
	xr_sudo debootstrap --variant=buildd --include=flex,bison,python3,xz-utils \
		"$XEN_SUITE" "$build_chroot.tmp" "$(xr_debian_uri "")" \
		>"$cache/chroot/$XEN_SUITE.log" 2>&1 ||
		{ tail -20 "$cache/chroot/$XEN_SUITE.log" >&2; xr_die "debootstrap $XEN_SUITE failed"; }
	touch "$build_chroot.tmp/.complete"
	mv "$build_chroot.tmp" "$build_chroot"
}
# xen_make ARGS...: make in the tree's xen/, here or in the chroot (where
# the source directory is bind-mounted at /build while the script runs).
xen_make() {
	if [ -z "$build_chroot" ]; then
		make -C "$tree/xen" XEN_TARGET_ARCH=x86_64 "$@"
		return
	fi
	if ! mountpoint -q "$build_chroot/build"; then
		mkdir -p "$build_chroot/build"
		xr_sudo mount --bind "$dl" "$build_chroot/build"
		trap 'xr_sudo umount "$build_chroot/build" 2>/dev/null || true' EXIT
	fi
	xr_sudo chroot "$build_chroot" make -C /build/tree/xen XEN_TARGET_ARCH=x86_64 "$@"
}

[ -n "$(xr_candidate xen-utils-$XEN_SERIES)" ] || xr_apt_update
tools_version=$(xr_candidate "xen-utils-$XEN_SERIES")
[ -n "$tools_version" ] || xr_die "apt knows no xen-utils-$XEN_SERIES"

# A previous run's build for these tools.
link=$cache/xen/for-tools-$tools_version$flavour
if [ -f "$link" ]; then
	out=$cache/xen/$(cat "$link")
	if [ -f "$out/xen" ] && [ -x "$out/xenpaging-fixed" ] &&
		has_paging "$out/.config"; then
		xr_log "Xen $(cat "$link") with paging: cached ($out/xen)"
		printf '%s\n' "$out/xen"
		exit 0
	fi
fi

# Another release's private apt state has its deb-src lines already.
[ "$XEN_SUITE" = "$(xr_host_suite)" ] && xr_ensure_deb_src xen
# Prefer the source of the tools' own version. Debian's security archive
# may list a source it does not serve; then take the newest source of the
# same release series that downloads (the hypervisor/tools interfaces are
# fixed within a series: domctl and vm_event versions do not change).
versions=$( { printf '%s\n' "$tools_version"
	xr_apt_cache showsrc xen 2>/dev/null | sed -n 's/^Version: //p' |
		sort -rV | grep "^$XEN_SERIES\." ; } | awk '!seen[$0]++')

# get_package V: Debian's whole source package of version V into
# CACHE/xen-src/V (with Debian's patches).
get_package() {
	local dl=$cache/xen-src/$1
	ls "$dl"/*.dsc >/dev/null 2>&1 && return 0
	mkdir -p "$dl"
	xr_log "apt-get source xen=$1"
	if (cd "$dl" && xr_apt source -qq --download-only "xen=$1" 2>&1 |
			grep -v 'unsandboxed' >&2; [ "${PIPESTATUS[0]}" = 0 ]); then
		return 0
	fi
	rm -rf "$dl"
	return 1
}
# get_orig V: only the upstream tarball of Debian's version V, into
# CACHE/xen-src/V-orig.
get_orig() {
	local dl=$cache/xen-src/$1-orig uri file
	ls "$dl"/*.orig.tar.* >/dev/null 2>&1 && return 0
	read -r uri file < <(xr_apt source --print-uris "xen=$1" 2>/dev/null |
		sed -n "s/^'\\([^']*\\)' \\([^ ]*\\.orig\\.tar\\.[a-z0-9]*\\) .*/\\1 \\2/p" | head -1)
	[ -n "${file:-}" ] || return 1
	mkdir -p "$dl"
	xr_log "downloading $file (Debian's upstream tarball alone)"
	/usr/lib/apt/apt-helper download-file "$uri" "$dl/$file" >/dev/null 2>&1 && return 0
	rm -rf "$dl"
	return 1
}
# The source: the tools' version first, then older ones of the series;
# Debian's whole source package, else its upstream tarball, else
# XPRIG_XEN_GIT's release tag.
version= kind=
for v in $versions; do get_package "$v" && { version=$v; kind=debian; break; }; done
if [ -z "$version" ]; then
	for v in $versions; do
		get_orig "$v" && { version=$v-orig; kind=orig; break; }
		xr_log "xen=$v: neither the source package nor its upstream tarball downloads"
	done
fi
if [ -z "$version" ] && [ -n "${XPRIG_XEN_GIT:-}" ]; then
	tag=RELEASE-$(printf '%s\n' "$tools_version" | sed 's/[+-].*//')
	git -C "$XPRIG_XEN_GIT" rev-parse -q --verify "$tag^{commit}" >/dev/null ||
		xr_die "XPRIG_XEN_GIT ($XPRIG_XEN_GIT) has no tag $tag"
	version=git-$tag kind=git
fi
[ -n "$version" ] || xr_die "no Xen $XEN_SERIES source could be downloaded (set XPRIG_XEN_GIT to a git directory of Xen to build its release tag)"
dl=$cache/xen-src/$version
out=$cache/xen/$version$flavour
tree=$dl/tree
if [ ! -f "$tree/.xpage-unpacked" ]; then
	rm -rf "$tree"
	mkdir -p "$dl"
	case $kind in
	debian)
		xr_log "unpacking Debian's source package (with Debian's patches)"
		(cd "$dl" && dpkg-source -x "$(ls ./*.dsc | head -1)" tree >/dev/null 2>"$dl/unpack.log") ||
			{ cat "$dl/unpack.log" >&2; xr_die "dpkg-source -x failed"; } ;;
	orig)
		xr_log "unpacking Debian's upstream tarball (without Debian's patches)"
		mkdir -p "$tree"
		tar -xf "$(ls "$dl"/*.orig.tar.* | head -1)" -C "$tree" --strip-components=1 ;;
	git)
		xr_log "unpacking $tag from $XPRIG_XEN_GIT"
		git -C "$XPRIG_XEN_GIT" archive --prefix=tree/ "$tag" | tar -x -C "$dl" ;;
	esac
	touch "$tree/.xpage-unpacked"
fi
case $kind in
debian) source_line="Debian source package xen=$version" ;;
orig) source_line="Debian's upstream tarball of xen=${version%-orig}, without Debian's patches" ;;
git) source_line="$tag from a git directory of Xen ($(git -C "$XPRIG_XEN_GIT" rev-parse "$tag^{commit}"))" ;;
esac

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
ensure_chroot
xen_make -s defconfig >/dev/null
cfg=$tree/xen/.config
sed -i -e '/^CONFIG_UNSUPPORTED[= ]/d' -e '/^# CONFIG_UNSUPPORTED is not set/d' \
	-e '/^CONFIG_MEM_PAGING[= ]/d' -e '/^# CONFIG_MEM_PAGING is not set/d' "$cfg"
printf 'CONFIG_UNSUPPORTED=y\nCONFIG_MEM_PAGING=y\n' >>"$cfg"
case $flavour in -debug-*)
	sed -i -e '/^CONFIG_DEBUG[= ]/d' -e '/^# CONFIG_DEBUG is not set/d' "$cfg"
	printf 'CONFIG_DEBUG=y\n' >>"$cfg" ;;
esac
xen_make -s olddefconfig >/dev/null
has_paging "$cfg" || xr_die "olddefconfig dropped CONFIG_MEM_PAGING"
case $flavour in -debug-*)
	grep -qx CONFIG_DEBUG=y "$cfg" || xr_die "olddefconfig dropped CONFIG_DEBUG" ;;
esac

jobs=$(nproc 2>/dev/null || echo 2)
xr_log "building the hypervisor (make -j$jobs${build_chroot:+ in a $XEN_SUITE chroot}; a minute or two on 2 cores)"
t0=$(date +%s)
xen_make -j"$jobs" >"$dl/build.log" 2>&1 ||
	{ tail -30 "$dl/build.log" >&2; xr_die "hypervisor build failed (log: $dl/build.log)"; }
xr_log "hypervisor built in $(( $(date +%s) - t0 )) s"

mkdir -p "$out"
cp "$tree/xen/xen" "$out/xen.tmp" && mv "$out/xen.tmp" "$out/xen"
cp "$cfg" "$out/.config"
# Xen's symbols, to name a hypervisor address in a vCPU dump (parse-log).
cp "$tree/xen/xen-syms.map" "$out/xen-syms.map" 2>/dev/null || true
printf '%s%s\n' "$source_line" "${build_chroot:+, built in a $XEN_SUITE chroot}" >"$out/source.txt"

# xenpaging-fixed (see the top): the version word and the reason set in
# put_response(), before the response is copied into the ring.
xr_need_pkgs gcc:build-essential
[ -f /usr/include/xenstore.h ] || xr_die "no /usr/include/xenstore.h (libxen-dev)"
# Against the release's own headers and libraries (its ring version).
sysroot=$(xr_release_sysroot "$cache")
mapfile -t rflags < <(xr_release_cflags "$sysroot")
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
# Up to 4.14, xenpaging includes libxc's private header, which is not
# installed: take it from the tree, with the one header of tools/include
# it needs and an empty stand-in for the paths header the tools' build
# generates (xenpaging uses none of them).
if grep -q '^ *# *include *[<"]xc_private.h' "$xp"/*.h "$xp"/*.c; then
	mkdir -p "$xp/inc/xen-tools"
	: >"$xp/inc/_paths.h"
	cp "$tree/tools/include/xen-tools/libs.h" "$xp/inc/xen-tools/"
	rflags+=("-I$xp/inc" "-I$tree/tools/libxc")
fi
gcc -O2 -w -D__XEN_TOOLS__ "${rflags[@]}" -o "$out/xenpaging-fixed" "$xp"/*.c \
	-lxenctrl -lxenevtchn -lxenstore -lxentoollog -lpthread ||
	xr_die "building xenpaging-fixed failed"
printf '%s\n' "$version$flavour" >"$cache/xen/for-tools-$tools_version$flavour"
printf '%s\n' "$out/xen"

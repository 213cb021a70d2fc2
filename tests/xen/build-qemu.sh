#!/usr/bin/env bash
# Build an emulator for the rig's controls: this host's QEMU (Debian's
# qemu-system-x86) from Debian's source package of the same version, for
# x86_64 with TCG only (tests/xen/run --qemu built|built-once). Prints the
# binary's path. Cached in CACHE/qemu/<source version>-<variant>-<hash of
# this script>; a cached build is reused.
#
# usage: build-qemu.sh CACHE_DIR [--once]
#
#   --once   with one line more: once VMRUN has delivered an interrupt the
#            hypervisor injected (SVM's EVENTINJ), the CPU's pending
#            exception goes back to none. QEMU 7.2 leaves it set, so its CPU
#            loop could deliver the same vector again, ignoring RFLAGS.IF
#            (tests/xen/README.md, losses, 4).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

cache=${1:?usage: build-qemu.sh CACHE_DIR [--once]}
variant=asis
[ "${2:-}" = --once ] && variant=once
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

xr_need_pkgs qemu-system-x86_64:qemu-system-x86 dpkg-source:dpkg-dev \
	ninja:ninja-build pkg-config:pkg-config python3:python3 \
	gcc:build-essential
version=$(dpkg-query -W -f '${source:Version}' qemu-system-x86 2>/dev/null) ||
	xr_die "qemu-system-x86 is not installed"
fixes_hash=$(sha256sum "$0" | cut -c1-8)
out=$cache/qemu/${version#*:}-$variant-$fixes_hash
if [ -x "$out/qemu-system-x86_64" ]; then
	xr_log "QEMU ${version#*:} ($variant): cached ($out)"
	printf '%s\n' "$out/qemu-system-x86_64"
	exit 0
fi

# The libraries QEMU's build needs (headers only; pixman and glib are
# what qemu-system-x86 itself runs on).
need=()
for p in libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev python3-venv; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		need+=("$p")
done
xr_apt_install "${need[@]}"

xr_ensure_deb_src qemu
src=$cache/qemu-src/${version#*:}
if ! ls "$src"/*.dsc >/dev/null 2>&1; then
	rm -rf "$src"
	mkdir -p "$src"
	xr_log "apt-get source qemu=$version"
	(cd "$src" && apt-get source -qq --download-only "qemu=$version" 2>&1 |
		grep -v 'unsandboxed' >&2; [ "${PIPESTATUS[0]}" = 0 ]) ||
		{ rm -rf "$src"; xr_die "apt-get source qemu=$version failed"; }
fi

# A fresh tree every build, with Debian's patches.
tree=$src/tree
rm -rf "$tree"
dpkg-source -x "$src"/*.dsc "$tree" >"$src/unpack.log" 2>&1 ||
	{ tail -5 "$src/unpack.log" >&2; xr_die "unpacking QEMU's source failed"; }
# --once: once helper_vmrun has delivered an injected interrupt
# (do_interrupt_x86_hardirq, in SVM_EVTINJ_TYPE_INTR's case), nothing is
# left to deliver: the CPU's pending exception number goes back to none, as
# after any interrupt the CPU loop delivers itself.
if [ "$variant" = once ]; then
	svm=$tree/target/i386/tcg/sysemu/svm_helper.c
	anchor='do_interrupt_x86_hardirq(env, vector, 1);'
	[ "$(grep -c -F "$anchor" "$svm")" = 1 ] ||
		xr_die "QEMU $version: helper_vmrun's injection is not where --once expects it"
	sed -i "s|^\( *\)$anchor\$|&\n\1cs->exception_index = -1; /* xpage-rig: delivered once */|" "$svm"
	grep -q 'xpage-rig: delivered once' "$svm" || xr_die "QEMU $version: --once did not apply"
fi

# Firmware from Debian's packages, where Debian's own build looks for it.
xr_log "building QEMU ${version#*:} ($variant; x86_64, TCG; a few minutes)"
mkdir -p "$tree/build"
(cd "$tree/build" && ../configure --target-list=x86_64-softmmu \
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu \
	--disable-docs --disable-werror --disable-tools --disable-guest-agent \
	--disable-kvm --disable-xen --enable-tcg --disable-gtk --disable-sdl \
	--disable-vnc --disable-opengl --disable-spice --disable-curses \
	--disable-libusb --disable-usb-redir --disable-slirp --disable-capstone \
	>"$src/configure.log" 2>&1) ||
	{ tail -20 "$src/configure.log" >&2; xr_die "configuring QEMU failed"; }
ninja -C "$tree/build" -j "$(nproc)" qemu-system-x86_64 >"$src/build.log" 2>&1 ||
	{ tail -20 "$src/build.log" >&2; xr_die "building QEMU failed (log: $src/build.log)"; }
mkdir -p "$out.tmp"
cp "$tree/build/qemu-system-x86_64" "$out.tmp/"
rm -rf "$out"
mv "$out.tmp" "$out"
rm -rf "$tree"
xr_log "QEMU built: $out"
printf '%s\n' "$out/qemu-system-x86_64"

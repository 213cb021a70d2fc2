#!/usr/bin/env bash
# Assemble the dom0 and guest initramfs images for the real-Xen run.
#
# usage: make-initramfs.sh CACHE_DIR OUT_DIR OVERLAY_DIR GUEST_WORKLOAD
#
# From Debian's own packages (apt-get download, dpkg-deb -x; cached in
# CACHE_DIR/debs and CACHE_DIR/dom0-base-*): the kernel (dom0 and guest:
# PV dom0 and PVH guest support are built in, the xen device drivers are
# modules) and busybox from this host's Debian release; Xen's tools and
# their libraries from the Debian release of the run's Xen (common.sh),
# with that release's C library when it is newer than this host's (Debian
# 13's tools need it). OVERLAY_DIR (this tree's library, the pager, the
# scenario scripts) is copied on top. Every ELF file's missing shared
# libraries are then copied from this host (Debian 12), plus libgcc_s.so.1,
# which glibc loads at run time for pthread_cancel (libxenstore's xs_close
# uses it: without it xl and xenpaging abort at exit).
#
# Writes OUT_DIR/vmlinuz, OUT_DIR/dom0-initrd.gz and, inside the dom0 image,
# /boot/vmlinuz and /boot/guest-initrd.gz for the guest (busybox, the
# workload and tests/xen/guest-init as /init).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

cache=${1:?usage: make-initramfs.sh CACHE OUT OVERLAY GUEST_WORKLOAD}
out=${2:?}
overlay=${3:?}
workload=${4:?}
mkdir -p "$cache" "$out"
cache=$(cd "$cache" && pwd)
out=$(cd "$out" && pwd)
xr_release_apt "$cache"

xr_need_pkgs cpio:cpio gzip:gzip readelf:binutils dpkg-deb:dpkg

# The packages, named for the Xen series and the running Debian release.
[ -n "$(xr_host_candidate linux-image-amd64)" ] || xr_apt_update
kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
[ -n "$kernel_pkg" ] || xr_die "cannot resolve linux-image-amd64 to a kernel package"
host_pkgs=("$kernel_pkg" busybox-static)
pkgs=(
	"xen-utils-$XEN_SERIES" xen-utils-common xenstore-utils
	"libxenmisc$XEN_SERIES" libxencall1 libxenevtchn1 libxenforeignmemory1
	libxengnttab1 libxendevicemodel1 libxenhypfs1 "$(xr_libxenstore_pkg)"
	libxentoolcore1 libxentoollog1
	libyajl2 libfdt1 libnl-3-200 libnl-route-3-200 libncurses6 libtinfo6
)
# The release's C library, when it is newer than the one this host would
# copy in.
if dpkg --compare-versions "$(xr_candidate libc6)" gt "$(xr_host_candidate libc6)"; then
	pkgs+=(libc6 libgcc-s1)
fi

debdir=$cache/debs
mkdir -p "$debdir"
debs=()
# fetch_deb HOST|RELEASE PACKAGE: the package's .deb (cached) into debs.
fetch_deb() {
	local apt=xr_apt v f
	if [ "$1" = HOST ]; then apt=apt-get; v=$(xr_host_candidate "$2")
	else v=$(xr_candidate "$2"); fi
	[ -n "$v" ] || xr_die "apt knows no package $2"
	# apt-get download names files name_version_arch.deb with ':' as %3a.
	f=$(ls "$debdir/${2}_${v//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
	if [ -z "$f" ]; then
		xr_log "apt-get download $2=$v"
		(cd "$debdir" && $apt download -qq "$2=$v" 2>&1 |
			grep -v unsandboxed >&2; [ "${PIPESTATUS[0]}" = 0 ]) ||
			xr_die "apt-get download $2=$v failed"
		f=$(ls "$debdir/${2}_${v//:/%3a}_"*.deb | head -1)
	fi
	debs+=("$f")
}
for p in "${host_pkgs[@]}"; do fetch_deb HOST "$p"; done
for p in "${pkgs[@]}"; do fetch_deb RELEASE "$p"; done

# The unpacked packages, pruned to what a dom0 running xl, xenstored,
# xenconsoled and pagers needs; cached per set of package versions.
key=$(printf '%s\n' "${debs[@]##*/}" | sha256sum | cut -c1-16)
base=$cache/dom0-base-$key
if [ ! -f "$base/.complete" ]; then
	xr_log "unpacking ${#debs[@]} Debian packages into $base"
	rm -rf "$base" "$base.tmp"
	mkdir -p "$base.tmp"
	for f in "${debs[@]}"; do
		case ${f##*/} in
		linux-image-*)
			# Only the kernel and the Xen device modules.
			dpkg-deb --fsys-tarfile "$f" | tar -x -C "$base.tmp" \
				--wildcards './boot/vmlinuz-*' \
				'./lib/modules/*/kernel/drivers/xen/xen-evtchn.ko*' \
				'./lib/modules/*/kernel/drivers/xen/xen-privcmd.ko*' \
				'./lib/modules/*/kernel/drivers/xen/xen-gntdev.ko*' \
				'./lib/modules/*/kernel/drivers/xen/xen-gntalloc.ko*' \
				'./lib/modules/*/kernel/drivers/xen/xenfs/xenfs.ko*' ;;
		*)
			dpkg-deb -x "$f" "$base.tmp" ;;
		esac
	done
	# Modules in one flat directory, in load order at boot.
	mkdir -p "$base.tmp/lib/modules/xen"
	find "$base.tmp/lib/modules" -name '*.ko*' ! -path '*/modules/xen/*' \
		-exec mv {} "$base.tmp/lib/modules/xen/" \;
	rm -rf "$base.tmp/usr/share/doc" "$base.tmp/usr/share/man" \
		"$base.tmp/usr/share/locale" "$base.tmp/usr/share/lintian" \
		"$base.tmp/usr/lib/xen-$XEN_SERIES/lib/python" \
		"$base.tmp/usr/lib/xen-$XEN_SERIES/boot"
	for k in "$base.tmp"/boot/vmlinuz-*; do mv "$k" "$base.tmp/boot/vmlinuz"; done
	touch "$base.tmp/.complete"
	mv "$base.tmp" "$base"
fi
[ -f "$base/boot/vmlinuz" ] || xr_die "no kernel in $base"

# The guest's initramfs: busybox, the workload, /init.
groot=$out/guest-root
rm -rf "$groot"
mkdir -p "$groot/bin" "$groot/proc" "$groot/sys" "$groot/dev" "$groot/tmp"
cp "$base/bin/busybox" "$groot/bin/busybox"
install -m 0755 "$workload" "$groot/bin/guest-workload"
install -m 0755 "$here/guest-init" "$groot/init"
(cd "$groot" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$out/guest-initrd.gz"

# dom0's root.
root=$out/dom0-root
rm -rf "$root"
cp -a "$base" "$root"
rm -f "$root/.complete"
cp -a "$overlay/." "$root/"
mkdir -p "$root/boot" "$root/proc" "$root/sys" "$root/dev" "$root/run" \
	"$root/tmp" "$root/etc/xen" "$root/var/lib/xen" "$root/var/log/xen"
cp "$out/guest-initrd.gz" "$root/boot/guest-initrd.gz"
install -m 0755 "$here/dom0-init" "$root/init"

# Shared libraries: whatever an ELF file in the image needs and the image
# lacks comes from this host (also Debian 12), with the dynamic loader.
libdir=$root/lib/x86_64-linux-gnu
mkdir -p "$libdir" "$root/lib64"
host_lib() {
	local d
	for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
		[ -e "$d/$1" ] && { printf '%s\n' "$d/$1"; return 0; }
	done
	return 1
}
have_lib() {
	local d
	for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu usr/local/lib \
		 usr/local/lib/x86_64-linux-gnu; do
		[ -e "$root/$d/$1" ] && return 0
	done
	return 1
}
# The dynamic loader must match the C library: the release's when the
# image carries its C library, else this host's.
ld=/lib64/ld-linux-x86-64.so.2
[ -e "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ] &&
	ld=$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
cp -L "$ld" "$root/lib64/"
cp -L "$(host_lib libgcc_s.so.1)" "$libdir/" ||
	xr_die "this host has no libgcc_s.so.1"
missing=
for round in 1 2 3 4 5 6; do
	added=0
	while IFS= read -r lib; do
		have_lib "$lib" && continue
		if src=$(host_lib "$lib"); then
			cp -L "$src" "$libdir/$lib"
			added=$((added + 1))
		else
			case " $missing " in *" $lib "*) ;; *) missing="$missing $lib" ;; esac
		fi
	done < <(find "$root" -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
		xargs -0 readelf -d 2>/dev/null |
		sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
	[ "$added" = 0 ] && break
done
[ -z "$missing" ] || xr_log "note: libraries found nowhere (their users will not run):$missing"

(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$out/dom0-initrd.gz.tmp"
mv "$out/dom0-initrd.gz.tmp" "$out/dom0-initrd.gz"
cp "$base/boot/vmlinuz" "$out/vmlinuz"
xr_log "dom0 initramfs: $(du -h "$out/dom0-initrd.gz" | cut -f1) (kernel $kernel_pkg)"

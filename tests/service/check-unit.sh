#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-unit.sh - the systemd unit of xpage-batch-pager, as installed, is
# one systemd accepts, starts the installed pager, and keeps its
# hardening.
#
#   check-unit.sh BUILDDIR PREFIX BINDIR UNITDIR
#
# Installs the build's programs and unit (meson install --tags runtime)
# into a scratch root next to a copy of this machine's system units, then:
#   - `systemd-analyze verify --root` on an instance of the template must
#     print nothing: the unit parses without a warning, its ExecStart
#     names an executable that exists in the root, its dependencies load;
#   - of the settings `systemd-analyze security --offline` rates, every
#     one is set except those listed in `unset_ok` below, each for the
#     reason given there: a sandboxing setting removed from the unit
#     fails the test;
#   - the settings the store's safety rests on are there as written:
#     NoNewPrivileges, PrivateTmp, ProtectSystem=strict, ProtectHome, and
#     a StateDirectory of mode 0700 that holds the store.
# The machine need not run systemd; systemd-analyze must be installed
# (Debian: systemd). Prints one "FAIL:" line per problem; exit 1 if any.
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: $0 BUILDDIR PREFIX BINDIR UNITDIR" >&2; exit 2; }
builddir=$1 prefix=$2
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
bindir=$(abs "$3") unitdir=$(abs "$4")
unit=xpage-batch-pager@.service
instance=xpage-batch-pager@5.service

command -v systemd-analyze >/dev/null 2>&1 ||
	{ echo "FAIL: systemd-analyze not found (Debian: apt-get install systemd)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpage-unit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
if ! meson install -C "$builddir" --destdir "$root" --no-rebuild \
	--tags runtime >"$tmp/install.log" 2>&1; then
	tail -n 20 "$tmp/install.log"
	echo "FAIL: meson install failed"
	exit 1
fi
[ -f "$root$unitdir/$unit" ] || { echo "FAIL: $unitdir/$unit not installed"; exit 1; }
[ -x "$root$bindir/xpage-batch-pager" ] ||
	{ echo "FAIL: $bindir/xpage-batch-pager not installed"; exit 1; }

# The targets and slices every service depends on, from this machine.
mkdir -p "$root/lib/systemd/system"
for d in /lib/systemd/system /usr/lib/systemd/system; do
	[ -d "$d" ] && cp -an "$d/." "$root/lib/systemd/system/"
done
# A unit directory systemd does not search (an unusual prefix) is checked
# from /etc/systemd/system of the root instead.
case ":$(systemd-analyze unit-paths --system 2>/dev/null | tr '\n' ':'):" in
*":$unitdir:"*) ;;
*)
	echo "note: $unitdir is not in systemd's unit path; checking a copy"
	mkdir -p "$root/etc/systemd/system"
	cp "$root$unitdir/$unit" "$root/etc/systemd/system/"
	;;
esac

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

echo "--- systemd-analyze verify --man=no --root=ROOT $instance"
if ! out=$(systemd-analyze verify --man=no --root="$root" "$instance" 2>&1); then
	fail "systemd-analyze verify refused the unit"
fi
[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify has something to say"; }

# The settings systemd rates that the unit leaves unset, and why (names
# as `systemd-analyze security --json` gives them).
unset_ok=(
	# /dev/xen/* and xenstored's socket are root's, in the host's root
	# and user namespace.
	RootDirectoryOrRootImage UserOrDynamicUser PrivateUsers
	# The Xen devices: no private /dev, no device allow list (which
	# ProtectClock= brings too).
	PrivateDevices DeviceAllow ProtectClock
	# Kept for the Xen devices and the hypercall buffers the Xen
	# libraries may lock.
	CapabilityBoundingSet_CAP_DAC_FOWNER_IPC_OWNER
	CapabilityBoundingSet_CAP_IPC_LOCK CapabilityBoundingSet_CAP_SYS_ADMIN
	# xenstored's socket and libxpage's per-domain lock (an abstract
	# UNIX socket, which also rules out PrivateNetwork=).
	RestrictAddressFamilies_AF_UNIX PrivateNetwork
	# The Xen libraries fall back to /proc/xen.
	ProcSubset
)
echo "--- systemd-analyze security --offline=yes $instance"
if ! json=$(systemd-analyze security --offline=yes --root="$root" \
	--json=short "$instance" 2>"$tmp/security.err"); then
	cat "$tmp/security.err"
	fail "systemd-analyze security failed"
fi
unset_now=$(echo "$json" | tr '{' '\n' | grep '"set":false' |
	sed 's/.*"json_field":"\([^"]*\)".*/\1/' || true)
[ -n "$json" ] && echo "$json" | grep -q '"json_field"' ||
	fail "systemd-analyze security rated nothing"
for f in $unset_now; do
	case " ${unset_ok[*]} " in
	*" $f "*) ;;
	*) fail "$unit does not set what systemd rates as $f" ;;
	esac
done
systemd-analyze security --offline=yes --root="$root" "$instance" 2>&1 |
	grep 'Overall exposure' || true

for want in NoNewPrivileges=yes PrivateTmp=yes ProtectSystem=strict \
	ProtectHome=yes StateDirectory=xpage StateDirectoryMode=0700; do
	grep -qx -- "$want" "$root$unitdir/$unit" || fail "$unit lacks $want"
done
grep -q -- '^ExecStart=.* --store %S/xpage/' "$root$unitdir/$unit" ||
	fail "$unit does not keep the store in its StateDirectory"

if [ "$fails" -gt 0 ]; then
	echo "$fails problem(s)"
	exit 1
fi
echo "$unit: verified, sandboxed but for ${#unset_ok[@]} settings, store in a 0700 state directory"

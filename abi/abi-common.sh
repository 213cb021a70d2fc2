# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by check-abi.sh and update-baseline.sh (sourced, not run): how an
# ABI dump is written, so that a baseline and the dump of a fresh build it
# is compared with are always made the same way.

# abidw flags for a dump: only what the exported functions reach; only
# types defined in the public headers are kept in full (private ones, such
# as the opaque struct xpage, become bare declarations); and nothing about
# this machine or build is recorded: no corpus path, no compilation
# directory, no DT_NEEDED list (it depends on the optional Xen backend),
# header names without their directories.
ABI_DW_FLAGS=(--exported-interfaces-only --drop-private-types
	--no-corpus-path --no-comp-dir-path --short-locs --no-elf-needed)

# abi_dump LIBRARY HEADERS_DIR OUT_FILE
abi_dump() {
	abidw "${ABI_DW_FLAGS[@]}" --headers-dir "$2" --out-file "$3" "$1"
}

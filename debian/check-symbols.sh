#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-symbols.sh - debian/libxpage1.symbols lists exactly the symbols of
# the version script, each with the release that introduced it: a symbol
# of node XPAGE_M.N at M.N.0, and each node's own symbol likewise.
#
#   debian/check-symbols.sh [MAPFILE [SYMBOLS]]
#
# dpkg-gensymbols -c4 compares the file with the built library, but it
# does not check versions, and it does not count as lost a symbol whose
# version is the package's own (one of the release being made). This
# compares the file with src/libxpage.map, which the abi suite compares
# with the library.
set -eu

map=${1:-src/libxpage.map}
symbols=${2:-debian/libxpage1.symbols}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "name@XPAGE_M.N M.N.0" for every global of every node, and the nodes.
awk '
	/^XPAGE_[0-9]+\.[0-9]+ *\{/ { node = $1; sub(/ *\{.*/, "", node);
		ver = substr(node, 7) ".0"; print node "@" node " " ver; next }
	node && /^[ \t]*xpage_[a-z0-9_]*;[ \t]*$/ { s = $1; sub(/;$/, "", s);
		print s "@" node " " ver }
' "$map" | sort >"$tmp/want"
grep '^ ' "$symbols" | sed 's/^ //' | sort >"$tmp/have"

[ -s "$tmp/want" ] || { echo "check-symbols: no symbol in $map" >&2; exit 1; }
if ! diff -u "$tmp/want" "$tmp/have" >"$tmp/diff"; then
	echo "check-symbols: $symbols differs from $map (- wanted, + listed):" >&2
	cat "$tmp/diff" >&2
	exit 1
fi
echo "check-symbols: $(wc -l <"$tmp/have") symbols, each at the release of its node"

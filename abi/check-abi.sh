#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-abi.sh - fail when the built library breaks libxpage's ABI rules.
#
#   check-abi.sh [options] LIBRARY PROJECT_VERSION SRCDIR
#
# 1. The version script: nodes named XPAGE_MAJ.MIN, chained, ascending,
#    `local: *;` in the first, no wildcard exports, and the newest node is
#    XPAGE_MAJ.MIN of PROJECT_VERSION.
# 2. Symbols, with readelf: every exported symbol is prefixed xpage_, is
#    versioned, at a node of the version script that lists it; every
#    listed symbol is exported; exports and the XPAGE_API declarations of
#    the public headers agree; the library has debug info.
# 3. ABI against every released baseline of this major version
#    (SRCDIR/abi/libxpage-MAJ.MIN.abi): its symbols are all still exported
#    at their versions, symbols added since are in newer nodes, and abidiff
#    of the baseline against a dump of LIBRARY finds nothing: incompatible
#    changes and plain ABI changes (a struct's layout, a function's
#    parameters, a member's type) all fail, except members appended at the
#    end of a sized struct (first member `size_t sz`) and functions added
#    in a newer node.
#
# Options (defaults in brackets, for tests of the checker itself):
#   --baseline FILE     compare against FILE only, repeatable
#                       [SRCDIR/abi/libxpage-MAJ.MIN.abi of this major]
#   --map FILE          the version script [SRCDIR/src/libxpage.map]
#   --headers-dir DIR   the public headers [SRCDIR/include/xpage]
#
# Prints one "ABI-FAIL: ..." line per problem (abidiff's report indented
# below it) and exits 1 if there was any, 0 otherwise. See abi/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=abi/abi-common.sh
. "$here/abi-common.sh"

usage() {
	sed -n '3,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

baselines=()
map=
hdrdir=
while [ $# -gt 0 ]; do
	case $1 in
	--baseline) baselines+=("$2"); shift 2 ;;
	--map) map=$2; shift 2 ;;
	--headers-dir) hdrdir=$2; shift 2 ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "check-abi.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -eq 3 ] || usage
lib=$1 version=$2 srcdir=$3
: "${map:=$srcdir/src/libxpage.map}"
: "${hdrdir:=$srcdir/include/xpage}"

nfail=0
fail() {
	echo "ABI-FAIL: $*"
	nfail=$((nfail + 1))
}
# One complaint per symbol is enough: symfail SYMBOL MESSAGE...
declare -A bad_sym=()
symfail() {
	bad_sym[$1]=1
	shift
	fail "$@"
}

# Tools. A missing tool is a failure, never a skip: a guard that quietly
# does not run is no guard (.ci/run installs abigail-tools).
for tool in abidw abidiff readelf awk python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "ABI-FAIL: '$tool' not found; install it (Debian:" \
		     "apt-get install abigail-tools binutils python3)"
		exit 1
	fi
done
for f in "$lib" "$map"; do
	[ -r "$f" ] || { echo "ABI-FAIL: cannot read $f"; exit 1; }
done
[ -d "$hdrdir" ] || { echo "ABI-FAIL: no header directory $hdrdir"; exit 1; }
headers=("$hdrdir"/*.h)
[ -e "${headers[0]}" ] || { echo "ABI-FAIL: no headers in $hdrdir"; exit 1; }

if [[ ! $version =~ ^([0-9]+)\.([0-9]+)(\.[0-9]+)?([^0-9].*)?$ ]]; then
	echo "ABI-FAIL: cannot read a MAJOR.MINOR version from '$version'"
	exit 1
fi
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
want_node=XPAGE_$major.$minor

node_newer_than() {	# node_newer_than XPAGE_A.B MAJ MIN
	local a b
	[[ $1 =~ ^XPAGE_([0-9]+)\.([0-9]+)$ ]] || return 1
	a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]}
	[ "$a" -gt "$2" ] || { [ "$a" -eq "$2" ] && [ "$b" -gt "$3" ]; }
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---------------------------------------------------------------------------
# The version script, as "node NAME PARENT" and "sym NODE SECTION NAME" lines.
awk '
	{ text = text $0 "\n" }
	END {
		gsub(/#[^\n]*/, "", text)
		while ((i = index(text, "/*")) > 0) {
			rest = substr(text, i + 2)
			j = index(rest, "*/")
			text = substr(text, 1, i - 1) " " (j ? substr(rest, j + 2) : "")
		}
		gsub(/[{};:]/, " & ", text)
		n = split(text, tok, /[ \t\n]+/)
		depth = 0; node = ""; section = "global"; closed = ""
		for (k = 1; k <= n; k++) {
			t = tok[k]
			if (t == "") continue
			if (closed != "") {
				# after "}": an optional parent node, then ";"
				if (t != ";") parent = t
				else { print "node", closed, (parent == "" ? "-" : parent); closed = "" }
				continue
			}
			if (t == "{") { depth++; if (depth == 1) section = "global"; continue }
			if (t == "}") {
				depth--
				if (depth == 0) { closed = node; parent = "" }
				continue
			}
			if (depth == 0) { node = t; continue }
			if ((t == "global" || t == "local") && tok[k + 1] == ":") {
				section = t; k++; continue
			}
			if (t == ";" || t == ":") continue
			print "sym", node, section, t
		}
	}
' "$map" >"$tmp/map"

mapfile -t nodes < <(awk '$1 == "node" { print $2 }' "$tmp/map")
if [ ${#nodes[@]} -eq 0 ]; then
	fail "$map defines no version node"
else
	prev=
	for i in "${!nodes[@]}"; do
		nd=${nodes[$i]}
		par=$(awk -v n="$nd" '$1 == "node" && $2 == n { print $3; exit }' "$tmp/map")
		if [[ ! $nd =~ ^XPAGE_[0-9]+\.[0-9]+$ ]]; then
			fail "version node '$nd' in $map is not named XPAGE_MAJOR.MINOR"
		elif [[ $prev =~ ^XPAGE_([0-9]+)\.([0-9]+)$ ]] &&
		     ! node_newer_than "$nd" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"; then
			fail "version node $nd in $map comes after $prev but is not newer"
		fi
		if [ "$i" -eq 0 ]; then
			[ "$par" = - ] ||
				fail "first version node $nd in $map inherits from '$par'"
			awk -v n="$nd" '$1 == "sym" && $2 == n && $3 == "local" && $4 == "*" { f = 1 } END { exit !f }' "$tmp/map" ||
				fail "first version node $nd in $map lacks 'local: *;' (everything not listed must stay hidden)"
		elif [ "$par" != "$prev" ]; then
			fail "version node $nd in $map must inherit from the node before it: write '} $prev;'"
		fi
		prev=$nd
	done
	newest=${nodes[-1]}
	if [ "$newest" != "$want_node" ]; then
		if node_newer_than "$newest" "$major" "$minor"; then
			fail "newest version node in $map is $newest, but version $version needs $want_node" \
			     "(set the project version in meson.build to ${newest#XPAGE_}.0)"
		else
			fail "newest version node in $map is $newest, but version $version needs $want_node" \
			     "(add '$want_node { } $newest;', empty if the release adds no symbol)"
		fi
	fi
fi
awk '$1 == "sym" && $3 == "global" { print $4 }' "$tmp/map" | sort | uniq -d |
while read -r s; do echo "ABI-FAIL: $s is listed more than once in $map"; done >"$tmp/dups"
[ -s "$tmp/dups" ] && { cat "$tmp/dups"; nfail=$((nfail + $(wc -l <"$tmp/dups"))); }
while read -r _ nd _ s; do
	case $s in
	*[*?[]*) fail "wildcard '$s' in the global list of $nd in $map: list each symbol" ;;
	xpage_*) ;;
	*) fail "$map exports '$s' from $nd: exported names must start with xpage_" ;;
	esac
done < <(awk '$1 == "sym" && $3 == "global"' "$tmp/map")

# ---------------------------------------------------------------------------
# Exported symbols: defined, GLOBAL/WEAK/UNIQUE binding, DEFAULT/PROTECTED
# visibility. Lines "NAME VERSION DEFAULT?" (VERSION "-" when unversioned,
# DEFAULT "@@" for the default version, "@" for an older one).
if ! readelf --dyn-syms -W "$lib" >"$tmp/readelf" 2>"$tmp/readelf.err"; then
	fail "readelf cannot read $lib: $(cat "$tmp/readelf.err")"
fi
awk '
	$1 ~ /^[0-9]+:$/ && NF >= 8 && $7 != "UND" &&
	($5 == "GLOBAL" || $5 == "WEAK" || $5 == "UNIQUE") &&
	($6 == "DEFAULT" || $6 == "PROTECTED") {
		name = $8
		# the symbol that defines a version node itself
		if ($7 == "ABS" && name !~ /@/) next
		if ((i = index(name, "@@")) > 0)
			print substr(name, 1, i - 1), substr(name, i + 2), "@@"
		else if ((i = index(name, "@")) > 0)
			print substr(name, 1, i - 1), substr(name, i + 1), "@"
		else
			print name, "-", "-"
	}
' "$tmp/readelf" | sort -u >"$tmp/exports"

debug_info=1
if ! readelf -S -W "$lib" 2>/dev/null | grep -q 'debug_info'; then
	debug_info=0
	fail "$lib has no debug info, so its ABI cannot be compared: build it" \
	     "with -g (buildtype debug or debugoptimized, the default)"
fi
if [ ! -s "$tmp/exports" ]; then
	fail "$lib exports no symbol at all"
fi
while read -r s v d; do
	case $s in
	xpage_*) ;;
	*) symfail "$s" "$lib exports '$s', which is not prefixed xpage_" \
		"(make it static, or drop it from the version script)"; continue ;;
	esac
	if [ "$v" = - ]; then
		symfail "$s" "$s is exported without a version: list it in a node of $map"
		continue
	fi
	if ! printf '%s\n' "${nodes[@]}" | grep -qxF "$v"; then
		symfail "$s" "$s is exported at version $v, which is not a node of $map"
		continue
	fi
	if [ "$d" = "@@" ] &&
	   ! awk -v n="$v" -v s="$s" '$1 == "sym" && $2 == n && $3 == "global" && $4 == s { f = 1 } END { exit !f }' "$tmp/map"; then
		symfail "$s" "$s is exported at $v but $map does not list it in $v"
	fi
done <"$tmp/exports"

# Every symbol the version script lists is exported, at that node.
while read -r _ nd _ s; do
	case $s in *[*?[]*) continue ;; esac
	[ -z "${bad_sym[$s]:-}" ] || continue
	grep -qxF "$s $nd @@" "$tmp/exports" ||
		symfail "$s" "$s is listed in $nd of $map but $lib does not export $s@@$nd" \
		     "(not defined, or defined without XPAGE_API)"
done < <(awk '$1 == "sym" && $3 == "global"' "$tmp/map")

# The public headers and the exports agree.
grep -h '^[[:space:]]*XPAGE_API[[:space:]]' "${headers[@]}" |
	sed -E 's/^[^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\(.*/\1/' |
	sort -u >"$tmp/declared"
while read -r s; do
	[ -z "${bad_sym[$s]:-}" ] || continue
	grep -q "^$s " "$tmp/exports" ||
		symfail "$s" "$s is declared XPAGE_API in $hdrdir but $lib does not export it"
done <"$tmp/declared"
while read -r s v d; do
	[ "$d" = "@@" ] || continue
	case $s in xpage_*) ;; *) continue ;; esac
	[ -z "${bad_sym[$s]:-}" ] || continue
	grep -qxF "$s" "$tmp/declared" ||
		fail "$s is exported but no header in $hdrdir declares it with XPAGE_API"
done <"$tmp/exports"

# ---------------------------------------------------------------------------
# ABI against the released baselines.
if [ ${#baselines[@]} -eq 0 ]; then
	for b in "$srcdir"/abi/libxpage-"$major".*.abi; do
		[ -e "$b" ] && baselines+=("$b")
	done
	if [ ${#baselines[@]} -eq 0 ]; then
		fail "no baseline $srcdir/abi/libxpage-$major.*.abi for major version $major" \
		     "(a release writes one with abi/update-baseline.sh)"
	fi
fi
# The fresh library, dumped exactly as a baseline is.
have_dump=0
if [ ${#baselines[@]} -gt 0 ] && [ "$debug_info" = 1 ]; then
	if abi_dump "$lib" "$hdrdir" "$tmp/new.abi" >"$tmp/abidw.out" 2>&1; then
		have_dump=1
	else
		fail "abidw cannot read $lib:"
		sed 's/^/    /' "$tmp/abidw.out"
	fi
fi

for base in "${baselines[@]}"; do
	if [ ! -r "$base" ]; then
		fail "cannot read baseline $base"
		continue
	fi
	if [[ ! $(basename "$base") =~ -([0-9]+)\.([0-9]+)\.abi$ ]]; then
		fail "cannot tell the release of baseline $base (name it NAME-MAJOR.MINOR.abi)"
		continue
	fi
	bmaj=${BASH_REMATCH[1]} bmin=${BASH_REMATCH[2]}
	if [ "$bmaj" -ne "$major" ] || [ "$bmin" -gt "$minor" ]; then
		fail "baseline $base ($bmaj.$bmin) does not belong before version $version"
		continue
	fi

	# Symbols of the baseline are all still there, at the same version.
	grep -o "<elf-symbol name='[^']*' version='[^']*'" "$base" |
		sed -E "s/<elf-symbol name='([^']*)' version='([^']*)'/\1 \2/" |
		sort -u >"$tmp/base-syms"
	while read -r s v; do
		[ -z "${bad_sym[$s]:-}" ] || continue
		grep -q "^$s $v " "$tmp/exports" ||
			symfail "$s" "$s@$v of the $bmaj.$bmin baseline is no longer exported" \
			     "(a published symbol is never removed, renamed or moved)"
	done <"$tmp/base-syms"

	# Symbols added since: only in nodes newer than that release.
	while read -r s v d; do
		[ "$d" = "@@" ] || continue
		grep -q "^$s " "$tmp/base-syms" && continue
		[ -z "${bad_sym[$s]:-}" ] || continue
		node_newer_than "$v" "$bmaj" "$bmin" ||
			symfail "$s" "$s is new since release $bmaj.$bmin but is in node $v;" \
			     "new symbols go into a new node ($want_node { ... } <previous>;)"
	done <"$tmp/exports"

	[ "$have_dump" = 1 ] || continue

	# Members appended to sized structs are allowed: cut them out of
	# the new dump, then let abidiff judge everything else, without
	# --headers-dir2 (it would also suppress every change whose leaf is a
	# type from a system header, e.g. a public member turned from
	# uint32_t into uint64_t: tests/abi/mutants.sh, retype-member).
	# Private types need no filter: both dumps hold them as opaque
	# declarations (abidw --drop-private-types).
	if ! python3 "$here/sized-prefix.py" "$base" "$tmp/new.abi" \
	     "$tmp/new-cut.abi" >"$tmp/grown" 2>&1; then
		fail "cannot compare sized structs with $base:"
		sed 's/^/    /' "$tmp/grown"
		continue
	fi
	sed 's/^/check-abi: /' "$tmp/grown"
	diff=(abidiff)
	rc=0
	"${diff[@]}" "$base" "$tmp/new-cut.abi" >"$tmp/abidiff.out" 2>&1 || rc=$?
	report() { sed 's/^/    /' "$tmp/abidiff.out"; }
	if [ $((rc & 3)) -ne 0 ]; then
		fail "abidiff could not compare $base with $lib (exit $rc):"
		report
	elif [ $((rc & 8)) -ne 0 ]; then
		fail "incompatible ABI change against the $bmaj.$bmin baseline (abidiff exit $rc):"
		report
	elif [ $((rc & 4)) -ne 0 ]; then
		# Additions alone are allowed (their nodes were checked above);
		# anything else, e.g. a struct's layout or a function's
		# parameters, is not.
		rc2=0
		"${diff[@]}" --no-added-syms "$base" "$tmp/new-cut.abi" >"$tmp/abidiff2.out" 2>&1 || rc2=$?
		if [ "$rc2" -ne 0 ]; then
			fail "ABI change against the $bmaj.$bmin baseline (abidiff exit $rc):"
			report
		fi
	fi
done

if [ "$nfail" -ne 0 ]; then
	echo "check-abi: $nfail failure(s); the rules are in abi/README.md"
	exit 1
fi
echo "check-abi: OK: $(wc -l <"$tmp/exports") exported symbols, newest node $want_node," \
     "${#baselines[@]} baseline(s) compared"

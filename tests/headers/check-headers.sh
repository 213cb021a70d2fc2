#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-headers.sh - the public headers as a strict consumer sees them.
#
#   check-headers.sh MODE INCLUDE_DIR LIBRARY VERSION CC... --cxx CXX...
#
# MODE alone: every header under INCLUDE_DIR/xpage compiles on its own
#   (included twice, to test its guard) as C99 and C11 with -pedantic
#   -Wall -Wextra -Werror, and as C++11 with the same flags; the version
#   macros of <xpage/xpage.h> match VERSION (the project's); and a C++
#   program that takes the address of every XPAGE_API function links
#   against LIBRARY (so every declaration has C linkage) and finds
#   xpage_version() equal to XPAGE_VERSION.
# MODE macros: for every extensible struct (one with a TYPE__last_field
#   macro), XPAGE_OPTS(TYPE) and XPAGE_OPTS(TYPE, .last = 0) compile as
#   C99 and C11 -pedantic -Werror, and (C11 static assertions) `sz` comes
#   first and is a size_t and TYPE__last_field names the last member.
#   XPAGE_CHECK_VERSION agrees with VERSION. (Not in C++: XPAGE_OPTS is a
#   compound literal with designated initialisers, which C++11 lacks.)
#
# The test programs are generated here, one per header and language, and
# compiled with exactly these flags and nothing from the project's own
# build (no -D_GNU_SOURCE): what a third-party pager would do.
set -euo pipefail

[ $# -ge 6 ] || { echo "usage: $0 MODE INCLUDE_DIR LIBRARY VERSION CC... --cxx CXX..." >&2; exit 2; }
mode=$1 incdir=$2 lib=$3 version=$4
shift 4
cc=() cxx=()
while [ $# -gt 0 ] && [ "$1" != --cxx ]; do cc+=("$1"); shift; done
[ $# -gt 0 ] && shift
cxx=("$@")

if [ ${#cxx[@]} -eq 0 ] || [ "${cxx[0]}" = none ] || ! command -v "${cxx[0]}" >/dev/null; then
	echo "FAIL: no C++ compiler found: install g++ (the headers must stay usable from C++)"
	exit 1
fi
if [[ ! $version =~ ^([0-9]+)\.([0-9]+)(\.([0-9]+))? ]]; then
	echo "FAIL: cannot read MAJOR.MINOR[.PATCH] from '$version'"
	exit 1
fi
vmaj=${BASH_REMATCH[1]} vmin=${BASH_REMATCH[2]} vpatch=${BASH_REMATCH[4]:-0}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-headers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

strict=(-pedantic -Wall -Wextra -Werror)
nbad=0
n=0

# try WHAT LANG FILE [extra args]: compile FILE to an object.
try() {
	local what=$1 lang=$2 file=$3
	shift 3
	local cmd
	case $lang in
	c99|c11) cmd=("${cc[@]}" -std="$lang" "${strict[@]}") ;;
	c++11)   cmd=("${cxx[@]}" -x c++ -std=c++11 "${strict[@]}") ;;
	esac
	n=$((n + 1))
	if "${cmd[@]}" -I"$incdir" "$@" -c "$file" -o "$tmp/out.o" >"$tmp/log" 2>&1; then
		echo "ok   $what ($lang)"
	else
		echo "FAIL $what ($lang): ${cmd[*]} -I$incdir $* -c $(basename "$file")"
		head -n 12 "$tmp/log" | sed 's/^/       /'
		[ "$(wc -l <"$tmp/log")" -le 12 ] || echo "       ..."
		nbad=$((nbad + 1))
	fi
}

headers=()
for h in "$incdir"/xpage/*.h; do
	headers+=("xpage/$(basename "$h")")
done
[ ${#headers[@]} -gt 0 ] || { echo "FAIL: no headers in $incdir/xpage"; exit 1; }

# The XPAGE_API functions and the TYPE__last_field macros of all headers.
mapfile -t functions < <(cat "$incdir"/xpage/*.h |
	grep '^[[:space:]]*XPAGE_API[[:space:]]' |
	sed -E 's/^[^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\(.*/\1/' | sort -u)
mapfile -t sized < <(cat "$incdir"/xpage/*.h |
	sed -nE 's/^[[:space:]]*#[[:space:]]*define[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)__last_field[[:space:]]+([A-Za-z_][A-Za-z0-9_]*).*/\1 \2/p')

case $mode in
alone)
	for h in "${headers[@]}"; do
		base=$(basename "$h" .h)
		printf '#include <%s>\n#include <%s>\ntypedef int %s_header_alone;\n' \
			"$h" "$h" "$base" >"$tmp/alone_$base.c"
		try "<$h> alone" c99 "$tmp/alone_$base.c"
		try "<$h> alone" c11 "$tmp/alone_$base.c"
		try "<$h> alone" c++11 "$tmp/alone_$base.c"
	done

	cat >"$tmp/version.c" <<-EOF
	#include <xpage/xpage.h>
	#if XPAGE_VERSION_MAJOR != $vmaj || XPAGE_VERSION_MINOR != $vmin || XPAGE_VERSION_PATCH != $vpatch
	#error "<xpage/xpage.h> says another version than the project's $vmaj.$vmin.$vpatch: update XPAGE_VERSION_*"
	#endif
	typedef int version_matches;
	EOF
	try "XPAGE_VERSION_* equal the project version $vmaj.$vmin.$vpatch" c99 "$tmp/version.c"

	# C++: every function has C linkage, and the header and library agree.
	{
		for h in "${headers[@]}"; do printf '#include <%s>\n' "$h"; done
		echo 'typedef void (*any_fn)(void);'
		echo 'static const any_fn fns[] = {'
		for f in "${functions[@]}"; do
			printf '\treinterpret_cast<any_fn>(&%s),\n' "$f"
		done
		echo '};'
		echo 'int main()'
		echo '{'
		echo '	for (unsigned i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)'
		echo '		if (!fns[i])'
		echo '			return 2;'
		echo '	return xpage_version() == XPAGE_VERSION ? 0 : 1;'
		echo '}'
	} >"$tmp/linkage.cpp"
	n=$((n + 1))
	what="C++ program using all ${#functions[@]} XPAGE_API functions links and runs"
	if ! "${cxx[@]}" -std=c++11 "${strict[@]}" -I"$incdir" "$tmp/linkage.cpp" \
	     "$lib" -o "$tmp/linkage" >"$tmp/log" 2>&1; then
		echo "FAIL $what: it does not link (a declaration outside extern \"C\"?)"
		sed 's/^/       /' "$tmp/log"
		nbad=$((nbad + 1))
	elif ! LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	     "$tmp/linkage" >"$tmp/log" 2>&1; then
		echo "FAIL $what: xpage_version() differs from the header's XPAGE_VERSION"
		nbad=$((nbad + 1))
	else
		echo "ok   $what"
	fi
	;;
macros)
	[ ${#sized[@]} -gt 0 ] || { echo "FAIL: no TYPE__last_field macro in $incdir/xpage"; exit 1; }
	{
		for h in "${headers[@]}"; do printf '#include <%s>\n' "$h"; done
		echo '#include <stddef.h>'
	} >"$tmp/includes.h"
	names=()
	for entry in "${sized[@]}"; do
		read -r type last <<<"$entry"
		names+=("$type")
		for form in 0 1; do
			init=$type
			[ $form = 0 ] || init="$type, .$last = 0"
			printf 'struct %s opts%s_%s(void);\nstruct %s opts%s_%s(void)\n{\n\treturn XPAGE_OPTS(%s);\n}\n' \
				"$type" $form "$type" "$type" $form "$type" "$init" >>"$tmp/opts$form.body"
		done
		cat >>"$tmp/layout.body" <<-EOF
		_Static_assert(offsetof(struct $type, sz) == 0 &&
			       sizeof(((struct $type *)0)->sz) == sizeof(size_t),
			       "struct $type must start with size_t sz");
		_Static_assert(sizeof(struct $type) - offsetof(struct $type, $last) -
			       sizeof(((struct $type *)0)->$last) < _Alignof(struct $type),
			       "$type""__last_field ($last) is not the last member of struct $type");
		EOF
	done
	for f in opts0 opts1 layout; do
		cat "$tmp/includes.h" "$tmp/$f.body" >"$tmp/$f.c"
	done
	echo "extensible structs: ${names[*]}"
	try "XPAGE_OPTS(type) of each" c99 "$tmp/opts0.c"
	try "XPAGE_OPTS(type) of each" c11 "$tmp/opts0.c"
	try "XPAGE_OPTS(type, .last = 0) of each" c99 "$tmp/opts1.c"
	try "XPAGE_OPTS(type, .last = 0) of each" c11 "$tmp/opts1.c"
	try "each starts with size_t sz and ends with its __last_field" c11 "$tmp/layout.c"
	cat >"$tmp/check_version.c" <<-EOF
	#include <xpage/xpage.h>
	#if !XPAGE_CHECK_VERSION($vmaj, $vmin, $vpatch) || XPAGE_CHECK_VERSION($vmaj, $vmin, $((vpatch + 1))) || \\
	    XPAGE_CHECK_VERSION($vmaj, $((vmin + 1)), 0) || !XPAGE_CHECK_VERSION($vmaj, 0, 0)
	#error "XPAGE_CHECK_VERSION disagrees with version $vmaj.$vmin.$vpatch"
	#endif
	typedef int check_version_ok;
	EOF
	try "XPAGE_CHECK_VERSION around $vmaj.$vmin.$vpatch" c99 "$tmp/check_version.c"
	;;
*)
	echo "check-headers.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac

if [ "$nbad" -ne 0 ]; then
	echo "check-headers ($mode): $nbad of $n checks failed"
	exit 1
fi
echo "check-headers ($mode): all $n checks passed"

#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-man.sh - the installed manual covers the library and the programs,
# and every page renders without a warning.
#
#   check-man.sh BUILDDIR MAPFILE PREFIX MANDIR BINDIR
#
# Installs the build's pages and programs (meson install --tags
# man,runtime) into a scratch DESTDIR, then checks:
#   - every symbol of the version script MAPFILE has a section 3 page,
#     whose NAME lists it and whose SYNOPSIS declares it (a `.so` page is
#     followed to the page it names);
#   - every page that is not a `.so` link has the sections a reader
#     looks for (section 3: NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE,
#     ERRORS, THREAD SAFETY, SEE ALSO);
#   - every installed program has a page in section 1 or 8, and
#     libxpage(7) is there;
#   - every page renders with `groff -man -ww -z` without a word on
#     stderr, and with `man --warnings` (what lintian runs) where man-db is
#     installed.
# Prints one "FAIL:" line per problem and exits 1 if there is any.
set -euo pipefail

[ $# -eq 5 ] || { echo "usage: $0 BUILDDIR MAPFILE PREFIX MANDIR BINDIR" >&2; exit 2; }
builddir=$1 mapfile=$2 prefix=$3
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
mandir=$(abs "$4") bindir=$(abs "$5")

command -v groff >/dev/null 2>&1 ||
	{ echo "FAIL: groff not found (Debian: apt-get install groff-base)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xpage-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
if ! meson install -C "$builddir" --destdir "$root" --no-rebuild \
	--tags man,runtime >"$tmp/install.log" 2>&1; then
	tail -n 20 "$tmp/install.log"
	echo "FAIL: meson install failed"
	exit 1
fi
man=$root$mandir
[ -d "$man/man3" ] || { echo "FAIL: nothing installed in $mandir/man3"; exit 1; }

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The text of section $2 of page $1 (up to the next .SH), escapes removed.
section() {
	awk -v want="$2" '
		/^\.SH / { sub(/^\.SH +/, ""); gsub(/"/, ""); on = ($0 == want); next }
		on { print }' "$1" | sed 's/\\-/-/g; s/\\f[BIRP]//g'
}

# The page that documents $1 (man3/NAME.3 or where its .so line points).
resolve() {
	local f=$man/man3/$1.3 line
	[ -f "$f" ] || return 1
	line=$(head -n 1 "$f")
	case $line in
	.so\ *) f=$man/${line#.so }; [ -f "$f" ] || return 1 ;;
	esac
	echo "$f"
}

# 1. Every exported symbol has a page that names and declares it.
symbols=$(sed -n 's/^[[:space:]]*\(xpage_[a-z0-9_]*\);[[:space:]]*$/\1/p' "$mapfile")
[ -n "$symbols" ] || fail "no symbol found in $mapfile"
nsym=0
for sym in $symbols; do
	nsym=$((nsym + 1))
	if ! page=$(resolve "$sym"); then
		fail "$sym has no page ($mandir/man3/$sym.3 missing or a dangling .so)"
		continue
	fi
	section "$page" NAME | tr ',' ' ' | grep -qw -- "$sym" ||
		fail "$sym: NAME of $(basename "$page") does not list it"
	section "$page" SYNOPSIS | grep -q -- "[ *]$sym(" ||
		fail "$sym: SYNOPSIS of $(basename "$page") does not declare it"
done

# 2. The sections of every full page.
npages=0
for page in "$man"/man*/*; do
	npages=$((npages + 1))
	case $(head -n 1 "$page") in .so\ *) continue ;; esac
	want="NAME SYNOPSIS DESCRIPTION"
	case $page in
	*.3) want="NAME SYNOPSIS DESCRIPTION RETURN_VALUE ERRORS THREAD_SAFETY SEE_ALSO" ;;
	*.1|*.8) want="NAME SYNOPSIS DESCRIPTION OPTIONS SEE_ALSO" ;;
	esac
	for s in $want; do
		grep -q "^\.SH \"\{0,1\}${s//_/ }\"\{0,1\}\$" "$page" ||
			fail "$(basename "$page") has no ${s//_/ } section"
	done
done

# 3. Programs and the overview.
for prog in "$root$bindir"/*; do
	[ -e "$prog" ] || continue
	p=$(basename "$prog")
	[ -f "$man/man1/$p.1" ] || [ -f "$man/man8/$p.8" ] ||
		fail "program $p has no page in section 1 or 8"
done
[ -f "$man/man7/libxpage.7" ] || fail "libxpage(7) is not installed"

# 4. Every page renders without a warning (run where .so paths resolve).
have_man=false
command -v man >/dev/null 2>&1 && have_man=true
cd "$man"
for page in man*/*; do
	out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z -rLL=78n -rLT=78n \
		"$page" 2>&1) || fail "$page: groff exited with $?"
	[ -z "$out" ] || fail "$page: groff says: $out"
	if $have_man; then
		out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
			man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null) ||
			fail "$page: man exited with $?"
		[ -z "$out" ] || fail "$page: man --warnings says: $out"
	fi
done

echo "$nsym symbols, $npages pages checked (man --warnings: $have_man)"
if [ "$fails" -gt 0 ]; then
	echo "$fails problem(s)"
	exit 1
fi
echo "manual: every symbol and program has a page; every page renders cleanly"

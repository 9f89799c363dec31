#!/bin/sh
# The generated man page (scripts/gen-manpage, built as zcmedia.1): every
# command the help lists has its section, every ZCMEDIA_* variable of
# options.h is in ENVIRONMENT, every command's "Exit status:" line is in EXIT
# STATUS, the page is what the script makes from this binary now, and it
# renders without warnings with groff and man (each skipped when missing).
# Usage: manpage.sh ZCMEDIA ZCMEDIA.1 SOURCE_DIR [PYTHON3]
zcmedia=$1 page=$2 src=$3 python=${4:-python3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
. "$src/tests/cli/lib.sh"

[ -s "$page" ] || fail "no man page at $page (is the zcmedia_manpage target built?)"
# The page's text with troff's escaped dashes plain, for the greps below.
sed 's/\\-/-/g' "$page" > "$dir/plain"

for section in NAME SYNOPSIS DESCRIPTION COMMANDS ENVIRONMENT EXIT_STATUS FILES SEE_ALSO; do
  title=$(echo "$section" | tr _ ' ')
  grep -qE "^\.SH \"?$title\"?\$" "$page" || fail "section $title missing"
done

# Every command, at any depth, discovered from the help as the script does.
commands() {  # words...
  "$zcmedia" "$@" --help | awk '/^Subcommands:/ {on=1; next} on && /^  [a-z]/ {print $1; next} on && !/^ / {on=0}'
}
n=0
for c in $(commands); do
  grep -qx ".SS $c" "$dir/plain" || fail "no section for 'zcmedia $c'"
  n=$((n + 1))
  for s in $(commands "$c"); do
    grep -qx ".SS $c $s" "$dir/plain" || fail "no section for 'zcmedia $c $s'"
    n=$((n + 1))
  done
done
[ "$n" -ge 10 ] || fail "only $n commands found in zcmedia --help"
for c in scan watch sql check stats compact migrate; do
  grep -qx ".SS $c" "$dir/plain" || fail "no section for $c"
done

# The environment variables of options.h, in ENVIRONMENT.
env_section=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' "$dir/plain")
vars=$(sed -n 's|^//  *\(ZCMEDIA_[A-Z_]*\) .*|\1|p' "$src/store/include/zcmedia/options.h")
[ -n "$vars" ] || fail "no ZCMEDIA_ variables found in options.h"
for v in $vars; do
  printf '%s\n' "$env_section" | grep -q "$v" || fail "$v missing from ENVIRONMENT"
done

# Exit statuses: scan's 3, migrate's 6, check's (from shell/store_commands.h).
status_section=$(sed -n '/^\.SH "*EXIT STATUS/,/^\.SH [^E]/p' "$dir/plain")
printf '%s\n' "$status_section" | grep -q 'zcmedia scan' || fail "scan missing from EXIT STATUS"
printf '%s\n' "$status_section" | grep -q '3 a folder given was missing' || fail "scan's status 3 missing"
printf '%s\n' "$status_section" | grep -q '6 output problem' || fail "migrate's status 6 missing"
printf '%s\n' "$status_section" | grep -q 'zcmedia check' || fail "check missing from EXIT STATUS"

# The page is current: the script makes the same page from this binary now.
"$python" "$src/scripts/gen-manpage" "$zcmedia" --source "$src" -o "$dir/now.1" || fail "gen-manpage failed"
grep -v '^\.TH ' "$page" > "$dir/built"
grep -v '^\.TH ' "$dir/now.1" > "$dir/now"
diff "$dir/built" "$dir/now" > "$dir/diff" || { head -40 "$dir/diff"; fail "zcmedia.1 is not what gen-manpage makes from this zcmedia now"; }

# Rendering.
rendered=0
if command -v groff > /dev/null 2>&1; then
  groff -man -Tutf8 -ww "$page" > "$dir/groff.txt" 2> "$dir/groff.err" || { cat "$dir/groff.err"; fail "groff failed"; }
  [ ! -s "$dir/groff.err" ] || { cat "$dir/groff.err"; fail "groff warned"; }
  grep -q 'zcmedia scan' "$dir/groff.txt" || fail "groff's output lacks 'zcmedia scan'"
  rendered=1
else
  echo "manpage: groff not installed: rendering with groff skipped"
fi
if command -v man > /dev/null 2>&1; then
  MANWIDTH=80 man -l "$page" > "$dir/man.txt" 2> "$dir/man.err" || { cat "$dir/man.err"; fail "man -l failed"; }
  grep -q '^COMMANDS' "$dir/man.txt" || fail "man -l output lacks COMMANDS"
  grep -q 'ZCMEDIA_MEMORY_BUDGET' "$dir/man.txt" || fail "man -l output lacks ZCMEDIA_MEMORY_BUDGET"
  rendered=1
else
  echo "manpage: man not installed: rendering with man -l skipped"
fi
[ "$rendered" -eq 1 ] || echo "manpage: neither groff nor man installed: the page's content was checked, not its rendering"
echo "manpage: $n commands, $(printf '%s\n' $vars | wc -l) variables: ok"

#!/bin/sh
# Every zcmedia subcommand (found in `zcmedia --help`, `zcmedia bench
# --help`, `zcmedia playlist --help`): --help exits 0 with examples of that
# very command; an unknown flag exits 2 naming it; missing required
# arguments exit 2. Then bad inputs of the library commands: scan --db in a
# missing folder, on a non-SQLite file, on a legacy database, on a folder;
# sql and playlist export on a missing file; stats and compact on a missing
# path or a folder that holds no store; bad --settle-ms, -j, --format,
# --runs: each with its exit status and a message naming the file or the
# option. Nothing here depends on permissions (CI runs as root).
# Usage: cli_errors.sh path/to/zcmedia
set -u
zcmedia="$1"
dir=$(mktemp -d /tmp/zcmedia-cli-errors-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"

# The subcommands a help text lists (the lines under "Subcommands:").
subcommands() {  # help arguments...
  "$zcmedia" "$@" --help | awk '/^Subcommands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }'
}
commands=$(subcommands)
[ -n "$commands" ] || fail "zcmedia --help lists no subcommands"
all=
for c in $commands; do
  all="$all $c"
  case $c in
    bench) has_bench_commands "$zcmedia" && for b in $(subcommands bench); do all="$all bench:$b"; done ;;
    playlist) for p in $(subcommands playlist); do all="$all playlist:$p"; done ;;
  esac
done
for want in scan watch playlist:export sql stats check compact migrate; do
  echo "$all" | grep -q " $want\( \|$\)" || fail "zcmedia --help does not list $want (found:$all)"
done

no_examples=
for c in $all; do
  words=$(echo "$c" | tr ':' ' ')
  # shellcheck disable=SC2086
  expect_exit 0 "$words --help" "$zcmedia" $words --help
  # Examples of this command, not only the top level's list inherited by
  # commands without a footer of their own.
  grep -q "^Examples:" "$dir/out" && grep -q "^  zcmedia $words\( \|$\)" "$dir/out" || no_examples="$no_examples '$words'"
  # shellcheck disable=SC2086
  expect_exit 2 "$words --no-such-flag" "$zcmedia" $words --no-such-flag
  # (Without the required arguments CLI11 names those first; the flag is
  # named below, with them.)
  grep -q "Run with --help" "$dir/out" || { cat "$dir/out"; fail "$words --no-such-flag: no message"; }
  # Missing required arguments: only for commands that have some (demo and
  # the bench commands would run).
  # shellcheck disable=SC2086
  if "$zcmedia" $words --help | grep -q "^Usage:.*\(REQUIRED\|SUBCOMMAND\)"; then
    # shellcheck disable=SC2086
    expect_exit 2 "$words without arguments" "$zcmedia" $words
    grep -q "is required" "$dir/out" || { cat "$dir/out"; fail "$words without arguments: no 'is required'"; }
  fi
done
[ -z "$no_examples" ] || fail "--help without examples of the command itself:$no_examples"
expect_exit 2 "no command" "$zcmedia"
expect_exit 2 "an unknown command" "$zcmedia" no-such-command

# scan and watch: the options each needs.
mkdir "$dir/media"
# A misspelt flag with the arguments right: named.
: > "$dir/exists.db"
for cmd in "check $dir/media --deeep" "stats $dir/media --jsn" "scan $dir/media --db $dir/lib.db --jsn" \
  "watch $dir/media --db $dir/lib.db --quite" "playlist export Mix --db $dir/exists.db --fromat" \
  "sql $dir/lib.db --read-onyl" "migrate $dir/lib.db --dryrun"; do
  # shellcheck disable=SC2086
  expect_exit 2 "$cmd" "$zcmedia" $cmd
  grep -q "not expected: ${cmd##* }" "$dir/out" || { cat "$dir/out"; fail "$cmd: the flag is not named"; }
done
expect_exit 2 "scan without --db" "$zcmedia" scan "$dir/media"
grep -q -- "--db is required" "$dir/out" || { cat "$dir/out"; fail "scan without --db: message"; }
expect_exit 2 "scan without folders" "$zcmedia" scan --db "$dir/lib.db"
grep -q "folders is required" "$dir/out" || { cat "$dir/out"; fail "scan without folders: message"; }
expect_exit 2 "watch without --db" "$zcmedia" watch "$dir/media"
expect_exit 2 "playlist export without --db" "$zcmedia" playlist export Mix
for j in -1 257 x; do
  expect_exit 2 "scan -j $j" "$zcmedia" scan "$dir/media" --db "$dir/lib.db" -j "$j"
  grep -q -- "--threads" "$dir/out" || { cat "$dir/out"; fail "scan -j $j: the option is not named"; }
  expect_exit 2 "watch -j $j" "$zcmedia" watch "$dir/media" --db "$dir/lib.db" -j "$j"
done
for ms in 5 0 -1 100000 abc; do
  expect_exit 2 "watch --settle-ms $ms" "$zcmedia" watch "$dir/media" --db "$dir/lib.db" --settle-ms "$ms"
  grep -q -- "--settle-ms" "$dir/out" || { cat "$dir/out"; fail "watch --settle-ms $ms: the option is not named"; }
done
expect_exit 2 "scan --json -q" "$zcmedia" scan "$dir/media" --db "$dir/lib.db" --json -q
expect_exit 2 "scan --budget bad" "$zcmedia" scan "$dir/media" --db "$dir/lib.db" --budget lots
[ -e "$dir/lib.db" ] && fail "a bad command line created lib.db"

# scan --db in a folder that does not exist: exit 1, the folder named.
expect_exit 1 "scan --db in a missing folder" "$zcmedia" scan "$dir/media" --db "$dir/nowhere/lib.db"
grep -q "$dir/nowhere does not exist" "$dir/out" || { cat "$dir/out"; fail "--db in a missing folder: message"; }
[ -e "$dir/nowhere" ] && fail "scan created the missing folder"
# --db on a file that is not SQLite: exit 1, the file named, left as it was.
printf 'these bytes are no SQLite header; a text file that a user gave as --db by mistake\n' > "$dir/notes.db"
cp "$dir/notes.db" "$dir/notes.copy"
expect_exit 1 "scan --db on a non-SQLite file" "$zcmedia" scan "$dir/media" --db "$dir/notes.db"
grep -q "$dir/notes.db is not a SQLite database" "$dir/out" || { cat "$dir/out"; fail "--db not SQLite: message"; }
cmp -s "$dir/notes.db" "$dir/notes.copy" || fail "scan changed the non-SQLite file"
# --db on a folder: exit 1, named.
expect_exit 1 "scan --db on a folder" "$zcmedia" scan "$dir/media" --db "$dir/media"
grep -q "$dir/media is a directory" "$dir/out" || { cat "$dir/out"; fail "--db on a folder: message"; }
# --db on a legacy database: exit 1, says to run migrate; the file untouched.
expect_exit 0 "generate-legacy" "$zcmedia" generate-legacy "$dir/legacy.db" --rows 50 --shape D
cp "$dir/legacy.db" "$dir/legacy.copy"
expect_exit 1 "scan --db on a legacy database" "$zcmedia" scan "$dir/media" --db "$dir/legacy.db"
grep -q "$dir/legacy.db is not a zcmedia library.*zcmedia migrate" "$dir/out" ||
  { cat "$dir/out"; fail "--db legacy: no advice to migrate"; }
cmp -s "$dir/legacy.db" "$dir/legacy.copy" || fail "scan changed the legacy database"
expect_exit 1 "watch --db on a legacy database" "$zcmedia" watch "$dir/media" --db "$dir/legacy.db"
grep -q "zcmedia migrate" "$dir/out" || { cat "$dir/out"; fail "watch --db legacy: no advice to migrate"; }
expect_exit 1 "playlist export from a legacy database" "$zcmedia" playlist export Mix --db "$dir/legacy.db"
grep -q "zcmedia migrate" "$dir/out" || { cat "$dir/out"; fail "export --db legacy: no advice to migrate"; }

# sql and playlist export on a missing file: exit 2, named, not created.
expect_exit 2 "sql on a missing file" "$zcmedia" sql "$dir/none.db" "SELECT 1"
grep -q "$dir/none.db: no such file" "$dir/out" || { cat "$dir/out"; fail "sql missing file: message"; }
expect_exit 2 "playlist export on a missing db" "$zcmedia" playlist export Mix --db "$dir/none.db"
grep -q "$dir/none.db" "$dir/out" || { cat "$dir/out"; fail "playlist export missing db: file not named"; }
[ -e "$dir/none.db" ] && fail "a missing db was created"
expect_exit 1 "playlist export on a non-SQLite file" "$zcmedia" playlist export Mix --db "$dir/notes.db"
grep -q "$dir/notes.db is not a SQLite database" "$dir/out" || { cat "$dir/out"; fail "export non-SQLite: message"; }
expect_exit 2 "playlist export --format xml" "$zcmedia" playlist export Mix --db "$dir/legacy.db" --format xml

# stats, check and compact on a missing path or a folder without a store:
# exit 2, named, and no advice to create a store (they never do).
for c in stats check compact; do
  expect_exit 2 "$c of a missing path" "$zcmedia" $c "$dir/none"
  grep -q "$dir/none does not exist" "$dir/out" || { cat "$dir/out"; fail "$c of a missing path: message"; }
  grep -q "opening it for writing" "$dir/out" && { cat "$dir/out"; fail "$c of a missing path: advises creating one"; }
  expect_exit 2 "$c of a folder without a store" "$zcmedia" $c "$dir/media"
  grep -q "$dir/media" "$dir/out" || { cat "$dir/out"; fail "$c of a folder without a store: not named"; }
  grep -q "opening it for writing" "$dir/out" && { cat "$dir/out"; fail "$c of an empty folder: advises creating one"; }
done
[ -e "$dir/none" ] && fail "a missing store was created"
[ -e "$dir/media/META" ] && fail "a store was created in the media folder"

# bench --runs 0: the range in words, not DBL_MAX (when the benchmarks are built).
if has_bench_commands "$zcmedia"; then
  expect_exit 2 "bench ingest --runs 0" "$zcmedia" bench ingest --runs 0
  grep -q -- "--runs: Value 0 not in range 1 to 1000000" "$dir/out" || { cat "$dir/out"; fail "--runs 0: message"; }
fi
echo "PASS"

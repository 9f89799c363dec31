#!/bin/sh
# zcmedia migrate killed with SIGKILL at random moments of its run (6 times,
# the delays spread over the duration of a clean run measured first): after
# each kill NEW.db either does not exist or is complete (the sqlite3 shell
# with the extension reads every row); the same command run again without
# --force then succeeds (0), or, when a complete NEW.db was published before
# the kill (and no replacement marker is left), refuses with 6 "already
# exists"; either way NEW.db then holds every row, nothing else is left in
# the output directory, and the legacy file's md5 never changes.
# Usage: migrate_crash.sh path/to/zcmedia path/to/zcmedia.so [SANITIZERS]
# A sanitizer build's module needs its runtime in the host: skipped (77).
# ZCMEDIA_TEST_SEED picks the delays (default: the shell's pid, printed).
set -u
zcmedia="$1"
so=$(realpath "$2")
sanitize="${3:-}"
if [ -n "$sanitize" ]; then echo "skipped: the module is built with $sanitize"; exit 77; fi
command -v sqlite3 > /dev/null || { echo "skipped: no sqlite3 shell"; exit 77; }
command -v python3 > /dev/null || { echo "skipped: no python3"; exit 77; }
ext="${so%.so}"
dir=$(mktemp -d /tmp/zcmedia-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
seed="${ZCMEDIA_TEST_SEED:-$$}"
echo "seed $seed"

legacy="$dir/legacy.db"
out="$dir/new"
new="$out/N.db"
mkdir "$out"
expect_exit 0 "generate-legacy" "$zcmedia" generate-legacy "$legacy" --rows 50000 --shape C+D --json
counts=$(python3 -c 'import json,sys; r = json.load(sys.stdin); print(r["media_files"], r["playlist_entries"])' \
  < "$dir/out") || fail "generate-legacy --json: $(cat "$dir/out")"
rows=${counts% *}
entries=${counts#* }
[ "$rows" -gt 49000 ] || fail "generated $rows rows"
md5=$(md5sum < "$legacy")

# The row counts of NEW.db read through the extension by the sqlite3 shell.
counts_of_new() {
  sqlite3 -batch "$new" ".load $ext" \
    "SELECT (SELECT count(*) FROM media_files) || ' ' || (SELECT count(*) FROM playlist_entries)"
}
expect_complete() {  # what
  got=$(counts_of_new 2>&1) || fail "$1: the sqlite3 shell cannot read $new: $got"
  [ "$got" = "$rows $entries" ] || fail "$1: $new holds '$got' media files and entries, want '$rows $entries'"
  [ -d "$out/N.zcmedia" ] || fail "$1: $new without its store"
  "$zcmedia" check "$out/N.zcmedia" > "$dir/check" 2>&1 || { cat "$dir/check"; fail "$1: zcmedia check of the store"; }
}
legacy_unchanged() {  # what
  [ "$(md5sum < "$legacy")" = "$md5" ] || fail "$1: the legacy file changed"
  [ "$(ls -A "$dir" | grep -c '^legacy\.db')" -eq 1 ] || fail "$1: sidecars of the legacy file: $(ls -A "$dir")"
}
only_output() {  # what
  left=$(ls -A "$out" | sort | tr '\n' ' ')
  [ "$left" = "N.db N.zcmedia " ] || fail "$1: the output directory holds: $left"
}

# Two clean runs, timed (the faster counts: the first may read a cold cache).
duration=
for run in 1 2; do
  rm -rf "$new" "$out/N.zcmedia"
  start=$(date +%s.%N)
  expect_exit 0 "clean run" "$zcmedia" migrate "$legacy" "$new" --quiet
  end=$(date +%s.%N)
  duration=$(awk -v a="$start" -v b="$end" -v d="$duration" 'BEGIN { t = b - a; if (d != "" && d < t) t = d; printf "%.3f", t }')
  expect_complete "clean run"
  only_output "clean run"
  legacy_unchanged "clean run"
done
echo "clean run: $duration s"

i=1
while [ $i -le 6 ]; do
  rm -rf "$new" "$out/N.zcmedia"
  # Run i is killed somewhere in the i-th sixth of the clean run.
  delay=$(awk -v s="$seed" -v i="$i" -v d="$duration" 'BEGIN { srand(s * 7 + i); printf "%.3f", d * (i - 1 + rand()) / 6 }')
  "$zcmedia" migrate "$legacy" "$new" --quiet > "$dir/run" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2> /dev/null
  wait "$pid"
  status=$?
  case $status in
    137) what="killed after $delay s" ;;
    0) what="finished before the kill at $delay s" ;;
    *) cat "$dir/run"; fail "run $i: exit status $status" ;;
  esac
  legacy_unchanged "run $i ($what)"
  # Either no NEW.db, or a complete one.
  if [ -e "$new" ]; then
    expect_complete "run $i ($what)"
    # Published; a marker left means the replacement was cut short, and the
    # next run redoes it.
    if [ -e "$out/.N.db.replacing" ]; then want=0; else want=6; fi
  else
    want=0
  fi
  echo "run $i: $what; NEW.db $([ -e "$new" ] && echo complete || echo absent); the rerun must exit $want"
  expect_exit $want "run $i ($what): the same command again" "$zcmedia" migrate "$legacy" "$new"
  if [ $want -eq 6 ]; then
    grep -q "$new already exists" "$dir/out" || { cat "$dir/out"; fail "run $i: no 'already exists'"; }
  fi
  expect_complete "run $i ($what): after the rerun"
  only_output "run $i ($what): after the rerun"
  legacy_unchanged "run $i ($what): after the rerun"
  i=$((i + 1))
done
echo "migrate_crash: OK"

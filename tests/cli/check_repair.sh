#!/bin/sh
# zcmedia check / stats / compact on a store directory: a sound store passes,
# a damaged index run is found (exit 1) and repaired by --repair (exit 0), a
# damaged segment is found and refused for repair (exit 1), a missing store
# is an error (exit 2). Usage: check_repair.sh path/to/zcmedia
set -u
zcmedia="$1"
dir=$(mktemp -d /tmp/zcmedia-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
flip() {  # file offset: the byte there becomes a different one
  old=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
  [ -n "$old" ] || fail "cannot read $1 at $2"
  new=$(( (old + 1) % 256 ))
  printf "\\$(printf '%03o' "$new")" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null || fail "cannot damage $1"
  [ "$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')" = "$new" ] || fail "damage to $1 did not take"
}

expect_exit 0 "demo" "$zcmedia" demo --records 3000 --dir "$dir/store"
expect_exit 0 "sound store, deep check" "$zcmedia" check "$dir/store" --deep
grep -q "no problems found" "$dir/out" || fail "sound store: no 'no problems found'"
expect_exit 0 "stats --json" "$zcmedia" stats "$dir/store" --json
grep -q '"record_count": 3000' "$dir/out" || { cat "$dir/out"; fail "stats: record_count"; }
expect_exit 0 "compact" "$zcmedia" compact "$dir/store"
grep -q "3000 live records rewritten" "$dir/out" || { cat "$dir/out"; fail "compact: no summary"; }
expect_exit 0 "compact --indexes-only" "$zcmedia" compact --indexes-only "$dir/store"
expect_exit 0 "deep check after compaction" "$zcmedia" check "$dir/store" --deep

flip "$(ls "$dir"/store/idx-path-* | head -1)" 100
expect_exit 1 "damaged index run" "$zcmedia" check "$dir/store"
grep -q "RepairIndexes" "$dir/out" || fail "damaged index: no repair advice"
expect_exit 0 "repair" "$zcmedia" check "$dir/store" --repair
grep -q "after the repair" "$dir/out" || fail "repair: no re-check"
expect_exit 0 "after the repair" "$zcmedia" check "$dir/store" --deep

flip "$(ls "$dir"/store/seg-* | head -1)" 5000
expect_exit 1 "damaged segment" "$zcmedia" check "$dir/store" --repair
grep -q "restore the store from a backup" "$dir/out" || fail "damaged segment: no backup advice"

expect_exit 2 "missing store" "$zcmedia" check "$dir/none"
expect_exit 2 "compact a missing store" "$zcmedia" compact "$dir/none"
grep -q "no zcmedia store here" "$dir/out" || { cat "$dir/out"; fail "compact of a missing store: no clear error"; }
[ ! -e "$dir/none" ] || fail "compact of a missing store created it"

# bench --baseline (when the benchmarks are built): a saved run of another
# size, or a file that holds no run, is refused with a clear error.
if has_bench_commands "$zcmedia"; then
  expect_exit 0 "bench ingest" "$zcmedia" bench ingest --records 2000 --runs 1 --store-only --json --dir "$dir"
  tail -n 1 "$dir/out" > "$dir/base.json"
  # Timings this small are noise: 0 (nothing regressed) and 3 (something
  # did) both mean the comparison ran.
  "$zcmedia" bench ingest --records 2000 --runs 1 --store-only --dir "$dir" --baseline "$dir/base.json" \
    > "$dir/out" 2>&1
  status=$?
  [ "$status" -eq 0 ] || [ "$status" -eq 3 ] || { cat "$dir/out"; fail "same-size baseline: exit status $status"; }
  grep -q "against the baseline" "$dir/out" || fail "baseline: no comparison printed"
  expect_exit 1 "baseline of another size" "$zcmedia" bench ingest --records 1000 --runs 1 --store-only \
    --dir "$dir" --baseline "$dir/base.json"
  grep -q "compare runs of the same size" "$dir/out" || fail "baseline size: no clear error"
  echo "not json" > "$dir/bad.json"
  expect_exit 1 "malformed baseline" "$zcmedia" bench ingest --records 2000 --runs 1 --store-only \
    --dir "$dir" --baseline "$dir/bad.json"
  grep -q "holds no JSON line" "$dir/out" || fail "malformed baseline: no clear error"
  # bench compact: a small run gives its JSON line; no records is refused.
  expect_exit 0 "bench compact" "$zcmedia" bench compact --records 2000 --runs 1 --json --dir "$dir"
  grep -q '"records": 2000' "$dir/out" || { cat "$dir/out"; fail "bench compact: no JSON line"; }
  expect_exit 1 "bench compact --records 0" "$zcmedia" bench compact --records 0 --runs 1 --dir "$dir"
  grep -q -- "--records must be at least 1" "$dir/out" || fail "bench compact --records 0: no clear error"
fi
echo "PASS"

#!/bin/sh
# zcmedia bench sql at 5,000 records, one run: exits 0 and its last line is
# one JSON object with every class's figures (legacy and store time per
# query, ratio, rows per query, target met) and both sides' results equal;
# the classes the extension cannot run yet (playlist tables, writes) say so
# instead of giving figures; a saved run serves as a --baseline; bad flags
# are refused with clear errors. A class whose two sides return different
# row counts makes the command exit 1 naming the SQL: this test then fails
# with that message. Skipped (exit 77) when the benchmarks are not built.
# Usage: bench_sql.sh path/to/zcmedia
set -u
zcmedia="$1"
dir=$(mktemp -d /tmp/zcmedia-cli-bench-sql-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
json_number() {  # json-line key
  printf '%s\n' "$1" | sed -n "s/.*\"$2\": \(-\{0,1\}[0-9][0-9.eE+-]*\).*/\1/p"
}
json_check() {  # json-line key condition
  v=$(json_number "$1" "$2")
  [ -n "$v" ] && awk -v v="$v" "BEGIN { exit !($3) }"
}
expect_json() {  # json-line key condition what
  json_check "$1" "$2" "$3" || fail "$4: \"$2\" is '$(json_number "$1" "$2")', want $3"
}

if ! has_bench_commands "$zcmedia"; then
  echo "SKIP: benchmarks not built"
  exit 77
fi

# The checker must be able to fail.
json_check '{"records": 5000}' store_count_ms 'v > 0' && fail "checker accepts a missing key"
json_check '{"store_count_ms": 0}' store_count_ms 'v > 0' && fail "checker accepts 0"
json_check '{"store_count_ms": 2.5e-05}' store_count_ms 'v > 0' || fail "checker refuses 2.5e-05"

expect_exit 0 "bench sql" "$zcmedia" bench sql --records 5000 --runs 1 --json --dir "$dir"
run=$(tail -n 1 "$dir/out")
case "$run" in "{"*"}") ;; *) cat "$dir/out"; fail "bench sql: last line is not one JSON object" ;; esac
printf '%s\n' "$run" | grep -q '"bench": "sql"' || fail "bench sql: no \"bench\": \"sql\""
expect_json "$run" records 'v == 5000' "bench sql"
expect_json "$run" runs 'v == 1' "bench sql"
printf '%s\n' "$run" | grep -q '"results_match": true' || fail "bench sql: results_match is not true"
printf '%s\n' "$run" | grep -q '"all_targets_met": \(true\|false\)' || fail "bench sql: no all_targets_met"
# Measured as after a restart by default: both databases evicted, one warm-up run.
printf '%s\n' "$run" | grep -q '"page_cache": "restart"' || fail "bench sql: no \"page_cache\": \"restart\""
grep -q "restart: evicted .* files" "$dir/out" || fail "bench sql: no eviction reported"
grep -q "warm-up run of every class on both sides" "$dir/out" || fail "bench sql: no warm-up run reported"

# Every class: both medians, the ratio, rows per query, whether the target is met.
for key in path_lookup id_lookup path_in_500 dir_listing dir_video subdirectories artist_listing album_listing \
           genre_listing album_artist_listing year_listing artist_tracks album_tracks genre_tracks year_tracks \
           full_scan count count_size; do
  expect_json "$run" "sqlite_${key}_ms" 'v > 0' "bench sql"
  expect_json "$run" "store_${key}_ms" 'v > 0' "bench sql"
  expect_json "$run" "${key}_ratio" 'v > 0' "bench sql"
  expect_json "$run" "${key}_rows_per_query" 'v > 0' "bench sql"
  printf '%s\n' "$run" | grep -q "\"${key}_target_met\": \(true\|false\)" || fail "bench sql: no ${key}_target_met"
done
# Row counts the data fixes: one row per point lookup, every record in the
# full scan, one row per count; an IN list of 500 sampled paths finds most.
expect_json "$run" path_lookup_rows_per_query 'v == 1' "bench sql"
expect_json "$run" id_lookup_rows_per_query 'v == 1' "bench sql"
expect_json "$run" path_in_500_rows_per_query 'v > 400 && v <= 500' "bench sql"
expect_json "$run" full_scan_rows_per_query 'v == 5000' "bench sql"
expect_json "$run" count_rows_per_query 'v == 1' "bench sql"
expect_json "$run" count_size_rows_per_query 'v == 1' "bench sql"
expect_json "$run" dir_listing_rows_per_query 'v >= 1' "bench sql"
# The classes the extension may not run yet: figures, or the reason.
if ! printf '%s\n' "$run" | grep -q '"playlist_tracks": "n/a (playlist tables not available)"'; then
  expect_json "$run" sqlite_playlist_tracks_ms 'v > 0' "bench sql"
  expect_json "$run" store_playlist_tracks_ms 'v > 0' "bench sql"
  expect_json "$run" playlist_tracks_rows_per_query 'v == 50' "bench sql"
fi
if ! printf '%s\n' "$run" | grep -q '"insert_select": "n/a (writes not available)"'; then
  expect_json "$run" sqlite_insert_select_per_s 'v > 0' "bench sql"
  expect_json "$run" store_insert_select_per_s 'v > 0' "bench sql"
  expect_json "$run" insert_select_ratio 'v > 0' "bench sql"
fi
grep -q "^class  *legacy  *store  *ratio  *target  *met" "$dir/out" || fail "bench sql: no figures table"
[ -z "$(ls "$dir" | grep -v '^out$')" ] || { ls "$dir"; fail "bench sql left files behind"; }

# A saved run as the baseline: 0 or 3 (timings this small are noise) both
# mean the comparison ran.
printf '%s\n' "$run" > "$dir/sql.json"
"$zcmedia" bench sql --records 5000 --runs 1 --dir "$dir" --baseline "$dir/sql.json" > "$dir/out" 2>&1
status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || { cat "$dir/out"; fail "sql --baseline: exit status $status"; }
grep -q "against the baseline" "$dir/out" || fail "sql --baseline: no comparison printed"
grep -q "store_path_lookup_ms" "$dir/out" || fail "sql --baseline: store times not compared"
grep -q "dir_listing_ratio" "$dir/out" || fail "sql --baseline: ratios not compared"
# A baseline measured by the other method is refused, naming both.
expect_exit 1 "sql --as-written --baseline (restart)" "$zcmedia" bench sql --records 2000 --runs 1 --dir "$dir" \
  --as-written --baseline "$dir/sql.json"
grep -q "measured with the page cache restart, this run as-written: compare runs of the same method" "$dir/out" ||
  { cat "$dir/out"; fail "sql --as-written --baseline: no clear error"; }
rm -f "$dir/sql.json"

# Bad flags: clear errors, no work done.
expect_exit 1 "sql --records 0" "$zcmedia" bench sql --records 0 --dir "$dir"
grep -q -- "--records must be at least 1" "$dir/out" || fail "sql --records 0: no clear error"
expect_exit 1 "sql --skip nosuch" "$zcmedia" bench sql --records 100 --skip nosuch --dir "$dir"
grep -q -- "--skip: no class 'nosuch' (classes: path_lookup" "$dir/out" || { cat "$dir/out"; fail "sql --skip nosuch: no clear error"; }
expect_exit 2 "sql --runs 0" "$zcmedia" bench sql --records 100 --runs 0 --dir "$dir"
expect_exit 2 "sql --records abc" "$zcmedia" bench sql --records abc --dir "$dir"
[ -z "$(ls "$dir" | grep -v '^out$')" ] || { ls "$dir"; fail "bench sql left files behind after bad flags"; }
echo "PASS"

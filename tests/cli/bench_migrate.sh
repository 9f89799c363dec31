#!/bin/sh
# zcmedia bench migrate at 5,000 rows, one run: exits 0 and its last line is
# one JSON object with every side's figures (migrate with and without
# verification, SQLite's VACUUM INTO, the read of every row), the phase
# medians, the ratios and the targets; the figures table is printed; a saved
# run serves as a --baseline; bad flags are refused with clear errors; no
# file is left behind. Skipped (exit 77) when the benchmarks are not built.
# Usage: bench_migrate.sh path/to/zcmedia
set -u
zcmedia="$1"
dir=$(mktemp -d /tmp/zcmedia-cli-bench-migrate-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"

if ! has_bench_commands "$zcmedia"; then
  echo "SKIP: benchmarks not built"
  exit 77
fi

# The checker must be able to fail.
json_check '{"records": 5000}' migrate_ms 'v > 0' && fail "checker accepts a missing key"
json_check '{"migrate_ms": 0}' migrate_ms 'v > 0' && fail "checker accepts 0"

expect_exit 0 "bench migrate" "$zcmedia" bench migrate --rows 5000 --runs 1 --json --dir "$dir"
run=$(tail -n 1 "$dir/out")
case "$run" in "{"*"}") ;; *) cat "$dir/out"; fail "bench migrate: last line is not one JSON object" ;; esac
printf '%s\n' "$run" | grep -q '"bench": "migrate"' || fail "bench migrate: no \"bench\": \"migrate\""
expect_json "$run" records 'v == 5000' "bench migrate"
expect_json "$run" runs 'v == 1' "bench migrate"
# The generator deletes about 1% of the rows (id gaps); playlists come with shape D.
expect_json "$run" media_files 'v > 4900 && v < 5000' "bench migrate"
expect_json "$run" playlists 'v >= 2' "bench migrate"
expect_json "$run" legacy_bytes 'v > 0' "bench migrate"
for side in migrate migrate_no_verify sqlite_vacuum_into sqlite_read_all; do
  expect_json "$run" "${side}_ms" 'v > 0' "bench migrate"
  expect_json "$run" "${side}_ms_min" 'v > 0' "bench migrate"
  expect_json "$run" "${side}_ms_max" 'v > 0' "bench migrate"
  expect_json "$run" "${side}_rows_per_s" 'v > 0' "bench migrate"
done
for side in migrate migrate_no_verify sqlite_vacuum_into; do
  expect_json "$run" "${side}_output_bytes" 'v > 0' "bench migrate"
done
for side in migrate migrate_no_verify; do
  expect_json "$run" "${side}_bytes_per_record" 'v > 0' "bench migrate"
  expect_json "$run" "${side}_peak_anon_kib" 'v > -1000000' "bench migrate"
  for phase in check media_files playlists indexes finish; do
    expect_json "$run" "${side}_phase_${phase}_s" 'v >= 0' "bench migrate"
  done
done
expect_json "$run" migrate_phase_verify_s 'v > 0' "bench migrate"
printf '%s\n' "$run" | grep -q '"migrate_no_verify_phase_verify_s"' && fail "bench migrate: a verify phase without verification"
expect_json "$run" migrate_vacuum_into_time_ratio 'v > 0' "bench migrate"
expect_json "$run" migrate_read_all_time_ratio 'v > 0' "bench migrate"
# The 3 s per 1,000,000 rows target, scaled to 5,000 rows.
expect_json "$run" target_seconds 'v == 0.015' "bench migrate"
expect_json "$run" target_rows_per_second 'v == 330000' "bench migrate"
for key in target_seconds_met target_rows_per_s_met target_faster_than_vacuum_into_met all_targets_met; do
  expect_bool "$run" "$key" "bench migrate"
done
grep -q "^side  *seconds  *rows/s  *output  *peak anon" "$dir/out" || fail "bench migrate: no figures table"
grep -q "^phase (s)  *migrate  *migrate_no_verify" "$dir/out" || fail "bench migrate: no phase table"
grep -q "^media_files  *[0-9]" "$dir/out" || fail "bench migrate: no media_files phase"
grep -q "^ratio migrate / vacuum_into: " "$dir/out" || fail "bench migrate: no ratio"
grep -q "scaled linearly" "$dir/out" || fail "bench migrate: the scaled target is not said"
[ -z "$(ls "$dir" | grep -v '^out$')" ] || { ls "$dir"; fail "bench migrate left files behind"; }

# A saved run as the baseline: 0 or 3 (timings this small are noise) both
# mean the comparison ran.
printf '%s\n' "$run" > "$dir/migrate.json"
"$zcmedia" bench migrate --rows 5000 --runs 1 --dir "$dir" --baseline "$dir/migrate.json" > "$dir/out" 2>&1
status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || { cat "$dir/out"; fail "migrate --baseline: exit status $status"; }
grep -q "against the baseline" "$dir/out" || fail "migrate --baseline: no comparison printed"
grep -q "migrate_rows_per_s" "$dir/out" || fail "migrate --baseline: rates not compared"
grep -q "migrate_vacuum_into_time_ratio" "$dir/out" || fail "migrate --baseline: the ratio not compared"
# A baseline of another size is refused.
expect_exit 1 "migrate --baseline (other size)" "$zcmedia" bench migrate --rows 3000 --runs 1 --dir "$dir" \
  --baseline "$dir/migrate.json"
grep -q "compare runs of the same size" "$dir/out" || { cat "$dir/out"; fail "migrate --baseline: no size error"; }
rm -f "$dir/migrate.json"

# Bad flags: clear errors, no work done.
expect_exit 1 "migrate --rows 0" "$zcmedia" bench migrate --rows 0 --dir "$dir"
grep -q -- "--rows must be at least 1" "$dir/out" || { cat "$dir/out"; fail "migrate --rows 0: no clear error"; }
expect_exit 2 "migrate --runs 0" "$zcmedia" bench migrate --rows 100 --runs 0 --dir "$dir"
expect_exit 2 "migrate --rows abc" "$zcmedia" bench migrate --rows abc --dir "$dir"
expect_exit 2 "migrate --baseline missing" "$zcmedia" bench migrate --rows 100 --dir "$dir" --baseline "$dir/nosuch.json"
expect_exit 2 "migrate --bogus" "$zcmedia" bench migrate --rows 100 --bogus --dir "$dir"
[ -z "$(ls "$dir" | grep -v '^out$')" ] || { ls "$dir"; fail "bench migrate left files behind after bad flags"; }
echo "PASS"

#!/bin/sh
# zcmedia bench scan at 2,000 files, one run: exits 0 and its last line is
# one JSON object with every side's figures (zcmedia's first scan with the
# default readers and with one, its rescan, the legacy scan and rescan), the
# ratios and the targets; every side found the generated tree's media files
# (the command itself stops if a side's counts, titles or durations differ
# from the tree's); the figures table is printed; a saved run serves as a
# --baseline; bad flags are refused; no file is left behind. Skipped (exit
# 77) when the benchmarks are not built.
# Usage: bench_scan.sh path/to/zcmedia
set -u
zcmedia="$1"
dir=$(mktemp -d /tmp/zcmedia-cli-bench-scan-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"

if ! has_bench_commands "$zcmedia"; then
  echo "SKIP: benchmarks not built"
  exit 77
fi

# The checker must be able to fail.
json_check '{"files": 2000}' zcmedia_scan_ms 'v > 0' && fail "checker accepts a missing key"
json_check '{"zcmedia_scan_ms": 0}' zcmedia_scan_ms 'v > 0' && fail "checker accepts 0"

expect_exit 0 "bench scan" "$zcmedia" bench scan --files 2000 --runs 1 --json --dir "$dir"
run=$(tail -n 1 "$dir/out")
case "$run" in "{"*"}") ;; *) cat "$dir/out"; fail "bench scan: last line is not one JSON object" ;; esac
printf '%s\n' "$run" | grep -q '"bench": "scan"' || fail "bench scan: no \"bench\": \"scan\""
printf '%s\n' "$run" | grep -q '"page_cache": "warm"' || fail "bench scan: the warm page cache is not said"
expect_json "$run" records 'v == 2000' "bench scan"
expect_json "$run" files 'v == 2000' "bench scan"
expect_json "$run" audio_files 'v == 2000' "bench scan"
expect_json "$run" runs 'v == 1' "bench scan"
expect_json "$run" reader_threads 'v >= 1' "bench scan"
# About 15% of the MP3s are untagged; covers and videos come on top.
expect_json "$run" tagged_files 'v > 1500 && v < 1900' "bench scan"
expect_json "$run" videos 'v == 10' "bench scan"
expect_json "$run" covers 'v > 20 && v < 150' "bench scan"
covers=$(json_number "$run" covers)
expect_json "$run" media_files "v == 2010 + $covers" "bench scan"
expect_json "$run" folders 'v > 150' "bench scan"
expect_json "$run" tree_bytes 'v > 2000 * 1500' "bench scan"
for side in zcmedia_scan zcmedia_scan_1t zcmedia_rescan sqlite_legacy_scan sqlite_legacy_rescan; do
  expect_json "$run" "${side}_ms" 'v > 0' "bench scan"
  expect_json "$run" "${side}_ms_min" 'v > 0' "bench scan"
  expect_json "$run" "${side}_ms_max" 'v > 0' "bench scan"
  expect_json "$run" "${side}_files_per_s" 'v > 0' "bench scan"
  expect_json "$run" "${side}_database_s" 'v >= 0' "bench scan"
  expect_json "$run" "${side}_database_share" 'v >= 0 && v < 1' "bench scan"
  expect_json "$run" "${side}_database_cpu_share" 'v >= 0 && v <= 1' "bench scan"
  expect_json "$run" "${side}_open_ms" 'v > 0' "bench scan"
done
for side in zcmedia_scan zcmedia_scan_1t sqlite_legacy_scan; do
  expect_json "$run" "${side}_tag_s" 'v > 0' "bench scan"
  expect_json "$run" "${side}_database_s" 'v > 0' "bench scan"
  expect_json "$run" "${side}_database_cpu_share" 'v > 0' "bench scan"
done
for side in zcmedia_scan zcmedia_scan_1t zcmedia_rescan; do
  expect_json "$run" "${side}_peak_anon_kib" 'v > -1000000' "bench scan"
done
# A rescan of the unchanged tree writes nothing.
expect_json "$run" zcmedia_rescan_database_s 'v == 0' "bench scan"
for key in scan_ratio scan_1t_ratio rescan_ratio; do
  expect_json "$run" "$key" 'v > 0' "bench scan"
done
expect_json "$run" target_database_share 'v == 0.05' "bench scan"
# The 2 s per 100,000 files target, scaled to 2,000 files.
expect_json "$run" target_rescan_seconds 'v == 0.04' "bench scan"
for key in target_database_share_met target_rescan_met all_targets_met; do
  expect_bool "$run" "$key" "bench scan"
done
grep -q "^tree (not timed): [0-9,]* media files (2,000 MP3s" "$dir/out" || fail "bench scan: no tree line"
grep -q "^page cache: warm" "$dir/out" || fail "bench scan: the warm page cache is not said"
grep -q "^side  *seconds  *files/s  *database  *db cpu  *tags (s)  *open (ms)  *peak anon" "$dir/out" ||
  fail "bench scan: no figures table"
for label in "zcmedia scan, [0-9]* readers\{0,1\}" "zcmedia scan, 1 reader" "legacy scan (serial)" "zcmedia rescan" \
  "legacy rescan"; do
  grep -q "^$label  *[0-9]" "$dir/out" || fail "bench scan: no table row '$label'"
done
grep -q "^zcmedia / legacy, files/s: first scan " "$dir/out" || fail "bench scan: no ratio"
grep -q "^target: database under 5% of the first scan: .*  \(PASS\|MISS\)$" "$dir/out" ||
  fail "bench scan: no database target"
grep -q "^target: rescan of the unchanged tree under 0.040 s .*scaled linearly.*  \(PASS\|MISS\)$" "$dir/out" ||
  fail "bench scan: no rescan target"
[ -z "$(ls "$dir" | grep -v '^out$')" ] || { ls "$dir"; fail "bench scan left files behind"; }

# --threads 1: zcmedia's default side with one reader too.
expect_exit 0 "bench scan --threads 1" "$zcmedia" bench scan --files 300 --runs 1 --threads 1 --json --dir "$dir"
run1=$(tail -n 1 "$dir/out")
expect_json "$run1" reader_threads 'v == 1' "bench scan --threads 1"
expect_json "$run1" audio_files 'v == 300' "bench scan --threads 1"

# A saved run as the baseline: 0 or 3 (timings this small are noise) both
# mean the comparison ran.
printf '%s\n' "$run" > "$dir/scan.json"
"$zcmedia" bench scan --files 2000 --runs 1 --dir "$dir" --baseline "$dir/scan.json" > "$dir/out" 2>&1
status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || { cat "$dir/out"; fail "scan --baseline: exit status $status"; }
grep -q "against the baseline" "$dir/out" || fail "scan --baseline: no comparison printed"
grep -q "zcmedia_scan_files_per_s" "$dir/out" || fail "scan --baseline: rates not compared"
grep -q "scan_1t_ratio" "$dir/out" || fail "scan --baseline: ratios not compared"
grep -q "sqlite_legacy_scan_files_per_s" "$dir/out" && fail "scan --baseline: the legacy reference compared"
# A baseline of another size is refused.
expect_exit 1 "scan --baseline (other size)" "$zcmedia" bench scan --files 300 --runs 1 --dir "$dir" \
  --baseline "$dir/scan.json"
grep -q "compare runs of the same size" "$dir/out" || { cat "$dir/out"; fail "scan --baseline: no size error"; }
rm -f "$dir/scan.json"

# Bad flags: clear errors, no work done.
expect_exit 1 "scan --files 0" "$zcmedia" bench scan --files 0 --dir "$dir"
grep -q -- "--files must be at least 1" "$dir/out" || { cat "$dir/out"; fail "scan --files 0: no clear error"; }
expect_exit 2 "scan --runs 0" "$zcmedia" bench scan --files 100 --runs 0 --dir "$dir"
expect_exit 2 "scan --threads -1" "$zcmedia" bench scan --files 100 --threads -1 --dir "$dir"
expect_exit 2 "scan --files abc" "$zcmedia" bench scan --files abc --dir "$dir"
expect_exit 2 "scan --baseline missing" "$zcmedia" bench scan --files 100 --dir "$dir" --baseline "$dir/nosuch.json"
expect_exit 2 "scan --bogus" "$zcmedia" bench scan --files 100 --bogus --dir "$dir"
[ -z "$(ls "$dir" | grep -v '^out$')" ] || { ls "$dir"; fail "bench scan left files behind after bad flags"; }
echo "PASS"

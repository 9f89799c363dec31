#!/bin/sh
# zcmedia bench scale / bench profiles at a small N: each exits 0 and its
# last line is one JSON object with the figures the docs and the 10M run rely
# on, with sane values; bad flags are refused with clear errors; a saved run
# serves as a --baseline. Skipped (exit 77, which ctest reports as skipped)
# when the benchmarks are not built. Usage: bench_scale_profiles.sh
# path/to/zcmedia [sanitizers] -- with sanitizers (their shadow memory and
# redzones count as anonymous memory) the budget checks are left out.
set -u
zcmedia="$1"
sanitizers="${2:-}"
dir=$(mktemp -d /tmp/zcmedia-cli-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
# The number a flat JSON line gives `key`, or nothing.
json_number() {  # json-line key
  printf '%s\n' "$1" | sed -n "s/.*\"$2\": \(-\{0,1\}[0-9][0-9.eE+-]*\).*/\1/p"
}
# Succeeds when `key` holds a number satisfying the awk condition on v.
json_check() {  # json-line key condition
  v=$(json_number "$1" "$2")
  [ -n "$v" ] && awk -v v="$v" "BEGIN { exit !($3) }"
}
expect_json() {  # json-line key condition what
  json_check "$1" "$2" "$3" || fail "$4: \"$2\" is '$(json_number "$1" "$2")', want $3"
}

if ! has_bench_commands "$zcmedia"; then
  echo "SKIP: benchmarks not built"
  exit 77  # ctest's SKIP_RETURN_CODE for this test
fi

# The checks themselves must be able to fail: a missing key, a zero and a
# wrong count are caught.
json_check '{"records": 20000}' open_ms 'v > 0' && fail "checker accepts a missing key"
json_check '{"open_ms": 0}' open_ms 'v > 0' && fail "checker accepts open_ms 0"
json_check '{"records": 2000}' records 'v == 20000' && fail "checker accepts a wrong record count"
json_check '{"records": 20000, "open_ms": 1.5e-05}' open_ms 'v > 0' || fail "checker refuses 1.5e-05"

expect_exit 0 "bench scale" "$zcmedia" bench scale --records 20000 --json --dir "$dir"
scale=$(tail -n 1 "$dir/out")
case "$scale" in "{"*"}") ;; *) cat "$dir/out"; fail "bench scale: last line is not one JSON object" ;; esac
expect_json "$scale" records 'v == 20000' "bench scale"
expect_json "$scale" open_ms 'v > 0' "bench scale"
expect_json "$scale" open_warm_ms 'v > 0' "bench scale"
expect_json "$scale" sqlite_open_ms 'v > 0' "bench scale"
expect_json "$scale" store_peak_anon_kib 'v > 0' "bench scale"
expect_json "$scale" sqlite_peak_anon_kib 'v > 0' "bench scale"
# Inside the default budget of 6 MiB.
[ -n "$sanitizers" ] || expect_json "$scale" store_peak_anon_kib 'v <= 6144' "bench scale"
for key in store_records_per_s sqlite_records_per_s store_path_lookups_per_s sqlite_path_lookups_per_s \
           store_id_lookups_per_s store_dir_listings_per_s store_category_listings_per_s \
           sqlite_category_listings_per_s; do
  expect_json "$scale" "$key" 'v > 0' "bench scale"
done
# A store record takes a few hundred bytes with its indexes, never 0 or 10 KiB.
expect_json "$scale" store_bytes_per_record 'v > 100 && v < 10000' "bench scale"
expect_json "$scale" sqlite_bytes_per_record 'v > 100 && v < 10000' "bench scale"
printf '%s\n' "$scale" | grep -q '"results_match": true' || fail "bench scale: results_match is not true"
[ -n "$sanitizers" ] || printf '%s\n' "$scale" | grep -q '"store_within_budget": true' ||
  fail "bench scale: store_within_budget is not true"
grep -q "POSIX_FADV_DONTNEED" "$dir/out" || fail "bench scale: the output does not say how 'cold' was achieved"
[ -z "$(ls "$dir" | grep -v '^out$')" ] || { ls "$dir"; fail "bench scale left files behind"; }

# A saved run as the baseline: 0 (nothing regressed) or 3 (timings this
# small are noise) both mean the comparison ran.
printf '%s\n' "$scale" > "$dir/scale.json"
"$zcmedia" bench scale --records 20000 --dir "$dir" --baseline "$dir/scale.json" > "$dir/out" 2>&1
status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || { cat "$dir/out"; fail "scale --baseline: exit status $status"; }
grep -q "against the baseline" "$dir/out" || fail "scale --baseline: no comparison printed"
grep -q "store_peak_anon_kib" "$dir/out" || fail "scale --baseline: peak memory not compared"

expect_exit 0 "bench profiles" "$zcmedia" bench profiles --records 20000 --runs 1 --json --dir "$dir"
profiles=$(tail -n 1 "$dir/out")
case "$profiles" in "{"*"}") ;; *) cat "$dir/out"; fail "bench profiles: last line is not one JSON object" ;; esac
expect_json "$profiles" records 'v == 20000' "bench profiles"
expect_json "$profiles" runs 'v == 1' "bench profiles"
for budget in 6mib 64mib 256mib 1gib; do
  for key in store_peak_anon_kib store_ingest_records_per_s store_path_lookups_per_s store_id_lookups_per_s \
             store_dir_listings_per_s store_batch_records; do
    expect_json "$profiles" "budget_${budget}_$key" 'v > 0' "bench profiles"
  done
done
# More memory buys bigger batches.
b6=$(json_number "$profiles" budget_6mib_store_batch_records)
b1g=$(json_number "$profiles" budget_1gib_store_batch_records)
awk -v a="$b6" -v b="$b1g" 'BEGIN { exit !(b > a) }' || fail "bench profiles: 1 GiB batches ($b1g) not bigger than 6 MiB ones ($b6)"
[ -n "$sanitizers" ] || printf '%s\n' "$profiles" | grep -q '"all_within_budget": true' ||
  fail "bench profiles: all_within_budget is not true"

# Bad flags: clear errors, no work done.
expect_exit 1 "scale --records 0" "$zcmedia" bench scale --records 0 --dir "$dir"
grep -q -- "--records must be at least 1" "$dir/out" || fail "scale --records 0: no clear error"
expect_exit 1 "scale --budget 100" "$zcmedia" bench scale --records 100 --budget 100 --dir "$dir"
grep -q -- "--budget: .*outside 1 MiB" "$dir/out" || { cat "$dir/out"; fail "scale --budget 100: no clear error"; }
expect_exit 2 "profiles --runs 0" "$zcmedia" bench profiles --records 100 --runs 0 --dir "$dir"
expect_exit 2 "scale --records abc" "$zcmedia" bench scale --records abc --dir "$dir"
echo "PASS"

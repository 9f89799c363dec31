# Helpers of the CLI tests, sourced by each script after it has set $dir
# (a scratch directory the script removes).
fail() { echo "FAIL: $*"; exit 1; }
# Runs the command with its output in $dir/out; fails unless it exits with
# the expected status.
expect_exit() {  # expected-status description command...
  want=$1; what=$2; shift 2
  "$@" > "$dir/out" 2>&1
  got=$?
  [ "$got" -eq "$want" ] || { cat "$dir/out"; fail "$what: exit status $got, want $want"; }
}
# Succeeds when this zcmedia was built with the bench commands
# (ZCMEDIA_BUILD_BENCHMARKS). `bench ... --help` cannot tell: without them
# CLI11 answers it with the top-level help and exit status 0.
has_bench_commands() {  # zcmedia
  "$1" --help 2>/dev/null | grep -q '^ *bench  '
}

#!/bin/sh
# zcmedia migrate on the command line: the exit codes of bad command lines
# (2), bad legacy files (3) and output problems (6), --json (parsed by
# python3, its fields), --quiet (silent on success), --dry-run (no files),
# --help (the exit codes), the legacy file never changed.
# Usage: migrate_cli.sh path/to/zcmedia
set -u
zcmedia="$1"
dir=$(mktemp -d /tmp/zcmedia-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || { echo "skipped: no python3"; exit 77; }

legacy="$dir/legacy/media.db"
mkdir "$dir/legacy"
expect_exit 0 "generate-legacy" "$zcmedia" generate-legacy "$legacy" --rows 2000 --shape C+D --json
rows=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["media_files"])' < "$dir/out") ||
  fail "generate-legacy --json: $(cat "$dir/out")"
md5=$(md5sum < "$legacy")
legacy_unchanged() {  # what
  [ "$(md5sum < "$legacy")" = "$md5" ] || fail "$1: the legacy file changed"
  [ "$(ls -A "$dir/legacy")" = "media.db" ] || fail "$1: files next to the legacy file: $(ls -A "$dir/legacy")"
}
# Output directories must stay empty after a failure.
empty() {  # what directory
  [ -z "$(ls -A "$2")" ] || fail "$1: left behind in $2: $(ls -A "$2")"
}
mkdir "$dir/o"

# 2: bad command lines.
expect_exit 2 "no arguments" "$zcmedia" migrate
expect_exit 2 "no output and no --dry-run" "$zcmedia" migrate "$legacy"
grep -q "give the new database's path" "$dir/out" || { cat "$dir/out"; fail "no output: no clear error"; }
expect_exit 2 "three paths" "$zcmedia" migrate "$legacy" "$dir/o/new.db" "$dir/o/third.db"
expect_exit 2 "unknown flag" "$zcmedia" migrate "$legacy" "$dir/o/new.db" --no-such-flag
expect_exit 2 "--json with --quiet" "$zcmedia" migrate "$legacy" "$dir/o/new.db" --json --quiet
expect_exit 2 "bad --budget" "$zcmedia" migrate "$legacy" "$dir/o/new.db" --budget lots
expect_exit 2 "legacy as output" "$zcmedia" migrate "$legacy" "$legacy"
empty "bad command lines" "$dir/o"
legacy_unchanged "bad command lines"

# 3: bad legacy files, named in the message.
i=0
while [ $i -lt 100 ]; do echo "this is a text file, not a database"; i=$((i + 1)); done > "$dir/text.db"
expect_exit 3 "a text file" "$zcmedia" migrate "$dir/text.db" "$dir/o/new.db"
grep -q "$dir/text.db is not a SQLite database" "$dir/out" || { cat "$dir/out"; fail "text file: no clear error"; }
expect_exit 3 "a missing file" "$zcmedia" migrate "$dir/missing.db" "$dir/o/new.db"
grep -q "$dir/missing.db does not exist" "$dir/out" || { cat "$dir/out"; fail "missing file: no clear error"; }
empty "bad legacy files" "$dir/o"

# 6: output problems.
expect_exit 6 "a missing output directory" "$zcmedia" migrate "$legacy" "$dir/nowhere/new.db"
grep -q "$dir/nowhere does not exist" "$dir/out" || { cat "$dir/out"; fail "missing directory: no clear error"; }
[ ! -e "$dir/nowhere" ] || fail "the missing output directory was created"

# --help lists the exit codes.
expect_exit 0 "--help" "$zcmedia" migrate --help
for code in "0 done" "1 error" "2 bad command line" "3 bad legacy file" "4 rows breaking the legacy constraints" \
            "5 verification failed" "6 output problem"; do
  tr '\n' ' ' < "$dir/out" | grep -q "$code" || { cat "$dir/out"; fail "--help does not mention exit status '$code'"; }
done

# --dry-run: the counts, no file.
mkdir "$dir/dry"
expect_exit 0 "--dry-run" "$zcmedia" migrate "$legacy" "$dir/dry/new.db" --dry-run
grep -q "dry run, nothing written: shape C+D: $rows media files" "$dir/out" || { cat "$dir/out"; fail "--dry-run summary"; }
empty "--dry-run" "$dir/dry"
expect_exit 0 "--dry-run without an output" "$zcmedia" migrate "$legacy" --dry-run
legacy_unchanged "--dry-run"

# --quiet: nothing at all on success.
"$zcmedia" migrate "$legacy" "$dir/o/quiet.db" --quiet > "$dir/stdout" 2> "$dir/stderr"
status=$?
[ $status -eq 0 ] || { cat "$dir/stdout" "$dir/stderr"; fail "--quiet: exit status $status"; }
[ ! -s "$dir/stdout" ] || fail "--quiet printed on stdout: $(cat "$dir/stdout")"
[ ! -s "$dir/stderr" ] || fail "--quiet printed on stderr: $(cat "$dir/stderr")"
[ -f "$dir/o/quiet.db" ] && [ -d "$dir/o/quiet.zcmedia" ] || fail "--quiet: no output: $(ls -A "$dir/o")"

# --json: one object with the documented fields.
check_json() {  # what file python-assertions
  python3 -c 'import json,sys; json.load(sys.stdin)' < "$2" || fail "$1: not JSON: $(cat "$2")"
  python3 - "$2" "$3" <<'PY' || fail "$1: $(cat "$2")"
import json, sys
report = json.load(open(sys.argv[1]))
for field in ("ok", "exit_code", "error", "shape", "media_files", "playlists", "playlist_entries",
              "canonical_filled", "verified", "seconds", "rejected_total"):
    assert field in report, "no field " + field
exec(sys.argv[2])
PY
}
"$zcmedia" migrate "$legacy" "$dir/o/json.db" --json > "$dir/json" 2> "$dir/stderr"
status=$?
[ $status -eq 0 ] || { cat "$dir/json" "$dir/stderr"; fail "--json: exit status $status"; }
[ ! -s "$dir/stderr" ] || fail "--json printed on stderr: $(cat "$dir/stderr")"
check_json "--json" "$dir/json" "
assert report['ok'] is True and report['exit_code'] == 0 and report['error'] is None
assert report['media_files'] == $rows, report['media_files']
assert report['verified'] is True
assert report['shape'] == 'C+D' and report['schema_version'] == '2'
assert 0 < report['canonical_filled'] < $rows
assert report['playlists'] > 0 and report['playlist_entries'] > 0
assert report['rejected_total'] == 0 and report['dry_run'] is False
"
# --json of a failure: the existing output (6), the error in the object and on stderr.
"$zcmedia" migrate "$legacy" "$dir/o/json.db" --json > "$dir/json" 2> "$dir/stderr"
status=$?
[ $status -eq 6 ] || { cat "$dir/json" "$dir/stderr"; fail "--json onto an existing output: exit status $status, want 6"; }
grep -q "already exists" "$dir/stderr" || fail "--json onto an existing output: stderr $(cat "$dir/stderr")"
check_json "--json failure" "$dir/json" "
assert report['ok'] is False and report['exit_code'] == 6 and 'already exists' in report['error']
assert report['verified'] is False
"
# --json stays valid JSON when a path in it is not UTF-8 (a legacy file's
# paths, or the output path, may be Latin-1): the bytes become U+FFFD.
"$zcmedia" migrate "$legacy" "$(printf '%s/missing\377' "$dir")/new.db" --json > "$dir/json" 2> "$dir/stderr"
status=$?
[ $status -eq 6 ] || { cat "$dir/json" "$dir/stderr"; fail "--json, non-UTF-8 output path: exit status $status, want 6"; }
check_json "--json, non-UTF-8 output path" "$dir/json" "
assert report['ok'] is False and 'does not exist' in report['error'] and '\ufffd' in report['error'], report['error']
"
# The same with --force replaces it.
expect_exit 0 "--force" "$zcmedia" migrate "$legacy" "$dir/o/json.db" --force --quiet
[ "$(ls -A "$dir/o" | sort | tr '\n' ' ')" = "json.db json.zcmedia quiet.db quiet.zcmedia " ] ||
  fail "files in the output directory: $(ls -A "$dir/o")"
# A full disk while the store is written (a file size limit: writes past it
# fail with EFBIG once SIGXFSZ is ignored): exit 6 naming the file, nothing
# published, no staging left, the legacy file untouched.
mkdir "$dir/full"
sh -c 'trap "" XFSZ; ulimit -f 200; exec "$@"' sh "$zcmedia" migrate "$legacy" "$dir/full/new.db" > "$dir/out" 2>&1
status=$?
[ $status -eq 6 ] || { cat "$dir/out"; fail "full disk: exit status $status, want 6"; }
grep -q "File too large" "$dir/out" || fail "full disk: message $(cat "$dir/out")"
[ -z "$(ls -A "$dir/full")" ] || fail "full disk left files: $(ls -A "$dir/full")"
legacy_unchanged "the migrations"
echo "migrate_cli: OK"

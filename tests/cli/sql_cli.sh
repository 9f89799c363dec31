#!/bin/sh
# zcmedia sql, stats, check and compact on a library file (LIB.db): made by
# zcmedia migrate from a generated legacy file, so LocateLibrary runs on the
# real thing. sql in each --format (json parsed by python3), several
# statements, SQL from stdin, --read-only, errors with their position (exit
# 1), bad command lines (exit 2); stats (text and --json with categories),
# check (quick_check and the virtual tables), compact; a legacy file refused
# with advice. Usage: sql_cli.sh path/to/zcmedia
set -u
zcmedia="$1"
dir=$(mktemp -d /tmp/zcmedia-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || { echo "skipped: no python3"; exit 77; }

expect_exit 0 "generate-legacy" "$zcmedia" generate-legacy "$dir/legacy.db" --rows 1500 --shape D
mkdir "$dir/lib"
expect_exit 0 "migrate" "$zcmedia" migrate "$dir/legacy.db" "$dir/lib/lib.db" --quiet
lib="$dir/lib/lib.db"
[ -d "$dir/lib/lib.zcmedia" ] || fail "migrate: no store next to lib.db"
rows=$("$zcmedia" sql "$lib" --format csv "SELECT count(*) FROM media_files" | tail -n 1 | tr -d '\r')
[ "$rows" -gt 1000 ] || fail "count(*) through sql: '$rows'"
# Run from another directory: the relative store= resolves against LIB.db's folder.
cd /

# table: a header, a rule, aligned rows, NULL shown as NULL.
"$zcmedia" sql "$lib" "SELECT 1 AS n, NULL AS missing, 'a' AS t, x'0aff' AS b; SELECT 22 AS n" > "$dir/table" ||
  fail "sql table: exit status $?"
cat > "$dir/want" <<'EOF'
n  missing  t  b
-  -------  -  -------
1  NULL     a  x'0aff'

n
--
22
EOF
cmp -s "$dir/table" "$dir/want" || { diff "$dir/want" "$dir/table"; fail "sql --format table"; }

# csv: RFC 4180 quoting, CRLF, NULL as an empty field.
"$zcmedia" sql "$lib" --format csv "SELECT 'a,b' AS x, 'say \"hi\"' AS y, NULL AS z, 7 AS n" > "$dir/csv" ||
  fail "sql csv: exit status $?"
printf 'x,y,z,n\r\n"a,b","say ""hi""",,7\r\n' > "$dir/want"
cmp -s "$dir/csv" "$dir/want" || { od -c "$dir/csv"; fail "sql --format csv"; }

# json: one statement is one array; integers are numbers, NULL is null.
"$zcmedia" sql "$lib" --format json "SELECT id, path, size, artist FROM media_files ORDER BY id LIMIT 3" \
  > "$dir/json" || fail "sql json: exit status $?"
python3 - "$dir/json" <<'EOF' || fail "sql --format json (one statement): $(cat "$dir/json")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and len(rows) == 3, rows
assert all(isinstance(r["id"], int) and isinstance(r["size"], int) and isinstance(r["path"], str) for r in rows)
assert list(rows[0].keys()) == ["id", "path", "size", "artist"]
EOF
# Several statements: an array per statement ([] for those without rows).
"$zcmedia" sql "$lib" --format json \
  "SELECT 1 AS a, NULL AS b, 2.5 AS c, x'ff' AS d; CREATE TEMP TABLE t(x); SELECT 'é\"' AS e" > "$dir/json" ||
  fail "sql json several: exit status $?"
python3 - "$dir/json" <<'EOF' || fail "sql --format json (several): $(cat "$dir/json")"
import json, sys
sets = json.load(open(sys.argv[1]))
assert sets == [[{"a": 1, "b": None, "c": 2.5, "d": "ff"}], [], [{"e": "é\""}]], sets
EOF

# Writes through the virtual tables, then read back in another process.
expect_exit 0 "sql insert" "$zcmedia" sql "$lib" "INSERT INTO media_files(path, parent_path, filename, size, modified,
  mime_type, created_at, updated_at) VALUES ('/cli/new.flac', '/cli', 'new.flac', 5, 1700000000, 'audio/flac', 1, 1)"
[ "$("$zcmedia" sql "$lib" --format csv "SELECT size FROM media_files WHERE path = '/cli/new.flac'" | tail -n 1 |
  tr -d '\r')" = 5 ] || fail "sql: the inserted row is not there"

# SQL from stdin (not a terminal): a script of several statements.
printf "SELECT count(*) AS n FROM media_files WHERE path = '/cli/new.flac';\n-- a comment\nSELECT 'x' AS y;\n" |
  "$zcmedia" sql "$lib" --format csv > "$dir/stdin" || fail "sql < script: exit status $?"
printf 'n\r\n1\r\n\r\ny\r\nx\r\n' > "$dir/want"
cmp -s "$dir/stdin" "$dir/want" || { od -c "$dir/stdin"; fail "sql < script"; }

# Errors: SQLite's message with the statement's position, exit status 1;
# the statements before it ran, the ones after it did not.
expect_exit 1 "sql syntax error" "$zcmedia" sql "$lib" "SELECT 1;
  SELEKT 2; SELECT 3"
grep -q 'error in statement 2 (line 2, column 3): near "SELEKT": syntax error' "$dir/out" ||
  { cat "$dir/out"; fail "syntax error: no position"; }
expect_exit 1 "sql no such table" "$zcmedia" sql "$lib" "SELECT * FROM nosuch"
grep -q "statement 1 .*no such table: nosuch" "$dir/out" || { cat "$dir/out"; fail "no such table: message"; }
expect_exit 1 "sql constraint" "$zcmedia" sql "$lib" "INSERT INTO media_files(path, parent_path, filename, size,
  modified, mime_type, created_at, updated_at) VALUES ('/cli/new.flac', '/cli', 'x', 1, 1, 'audio/flac', 1, 1)"
grep -q "UNIQUE constraint failed: media_files.path" "$dir/out" || { cat "$dir/out"; fail "constraint: message"; }
printf "SELECT 1;\nSELECT nosuch;\nSELECT 3;\n" | "$zcmedia" sql "$lib" > "$dir/out" 2>&1
[ $? -eq 1 ] || fail "sql < failing script: exit status"
grep -q "statement 2 (line 2, column 8): no such column: nosuch" "$dir/out" || { cat "$dir/out"; fail "stdin error"; }
grep -q "^3" "$dir/out" && fail "sql < failing script: went on after the error"
# json after an error: what ran is still one valid JSON text.
"$zcmedia" sql "$lib" --format json "SELECT 1 AS a; SELECT nosuch" > "$dir/json" 2>/dev/null
python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == [[{"a": 1}]]' "$dir/json" ||
  fail "json after an error: $(cat "$dir/json")"

# --read-only: reads work, writes (to the virtual tables too) are refused.
expect_exit 0 "sql --read-only select" "$zcmedia" sql --read-only "$lib" "SELECT count(*) FROM playlists"
expect_exit 1 "sql --read-only delete" "$zcmedia" sql --read-only "$lib" "DELETE FROM media_files"
grep -q "read-only" "$dir/out" || { cat "$dir/out"; fail "--read-only: no explanation"; }
[ "$("$zcmedia" sql "$lib" --format csv "SELECT count(*) FROM media_files" | tail -n 1 | tr -d '\r')" -gt 1000 ] ||
  fail "--read-only delete removed rows"

# Bad command lines: exit status 2, and no file created.
expect_exit 2 "sql unknown format" "$zcmedia" sql "$lib" --format xml "SELECT 1"
expect_exit 2 "sql missing file" "$zcmedia" sql "$dir/none.db" "SELECT 1"
grep -q "no such file" "$dir/out" || { cat "$dir/out"; fail "missing file: message"; }
[ ! -e "$dir/none.db" ] || fail "sql created a missing file"
expect_exit 2 "sql no database" "$zcmedia" sql
expect_exit 2 "sql a directory" "$zcmedia" sql "$dir" "SELECT 1"
expect_exit 0 "sql --help" "$zcmedia" sql --help
grep -q "Examples:" "$dir/out" && grep -q "Exit status" "$dir/out" || fail "sql --help: no examples or exit status"

# stats on LIB.db: counts, families, categories, the store's counters.
expect_exit 0 "stats lib.db" "$zcmedia" stats "$lib"
for want in "library file" "records (sequence" "playlists" "audio" "music: " "top artists (tracks): " "segments"; do
  grep -q "$want" "$dir/out" || { cat "$dir/out"; fail "stats lib.db: no '$want'"; }
done
"$zcmedia" stats "$lib" --json > "$dir/json" || fail "stats --json: exit status $?"
python3 - "$dir/json" "$lib" <<'EOF' || fail "stats lib.db --json: $(cat "$dir/json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["library"] == sys.argv[2] and s["record_count"] > 1000 and s["library_bytes"] > 0, s
c = s["categories"]
assert c["artists"] > 0 and c["albums"] > 0 and c["genres"] > 0 and c["years"] > 0, c
assert 1 <= len(c["top_artists"]) <= 5 and c["top_artists"][0]["tracks"] >= c["top_artists"][-1]["tracks"], c
assert s["store_dir"].endswith("lib.zcmedia"), s
EOF
# The counts agree with SQL's.
artists=$("$zcmedia" sql "$lib" --format csv "SELECT count(DISTINCT artist) FROM media_files
  WHERE mime_type LIKE 'audio/%' AND artist <> ''" | tail -n 1 | tr -d '\r')
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["categories"]["artists"] == int(sys.argv[2])' \
  "$dir/json" "$artists" || fail "stats: artists differ from SQL's $artists"
expect_exit 0 "stats lib.db --prometheus" "$zcmedia" stats "$lib" --prometheus
grep -q "^zcmedia_" "$dir/out" || fail "stats --prometheus: no metrics"

# check on LIB.db: the store, quick_check, the virtual tables.
expect_exit 0 "check lib.db" "$zcmedia" check "$lib"
for want in "no problems found" "quick_check ok" "media_files readable" "playlists readable" \
  "playlist_entries readable"; do
  grep -q "$want" "$dir/out" || { cat "$dir/out"; fail "check lib.db: no '$want'"; }
done
expect_exit 0 "check lib.db --deep" "$zcmedia" check "$lib" --deep
grep -q "every row read" "$dir/out" || { cat "$dir/out"; fail "check --deep: rows not read"; }

# compact on LIB.db, then everything still reads.
expect_exit 0 "compact lib.db" "$zcmedia" compact "$lib"
grep -q "live records rewritten" "$dir/out" || { cat "$dir/out"; fail "compact lib.db: no summary"; }
expect_exit 0 "compact lib.db --indexes-only" "$zcmedia" compact --indexes-only "$lib"
expect_exit 0 "check after compaction" "$zcmedia" check "$lib" --deep

# A library whose virtual table is gone: check finds the problem (exit 1).
cp "$lib" "$dir/lib/broken.db"
expect_exit 0 "drop playlists" "$zcmedia" sql "$dir/lib/broken.db" "DROP TABLE playlist_entries"
expect_exit 1 "check a library without playlist_entries" "$zcmedia" check "$dir/lib/broken.db"
grep -q "no playlist_entries virtual table" "$dir/out" || { cat "$dir/out"; fail "check: missing table not named"; }

# The store directory form still works; a legacy file is refused with advice.
expect_exit 0 "stats of the store directory" "$zcmedia" stats "$dir/lib/lib.zcmedia"
expect_exit 2 "stats of a legacy file" "$zcmedia" stats "$dir/legacy.db"
grep -q "zcmedia migrate" "$dir/out" || { cat "$dir/out"; fail "legacy file: no advice"; }
expect_exit 2 "check of a legacy file" "$zcmedia" check "$dir/legacy.db"
printf 'not a database, just text that is long enough to be read as a header.....................' > "$dir/junk.db"
expect_exit 2 "compact of a junk file" "$zcmedia" compact "$dir/junk.db"
grep -q "not a SQLite database" "$dir/out" || { cat "$dir/out"; fail "junk file: message"; }
echo "PASS"

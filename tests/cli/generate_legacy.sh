#!/bin/sh
# zcmedia generate-legacy, checked with the sqlite3 shell: for each shape the
# columns in that shape's order, schema_version, WAL in the header, a sound
# file (integrity_check, foreign_key_check), plausible counts, id holes and
# sqlite_sequence, playlist position gaps; C+D's NULL canonical columns on
# the rows written before the migration; Windows paths and their lower-case
# canonical form; the same seed giving the same rows; errors (an existing
# file, a missing directory: exit 1; a bad --shape: exit 2).
# Usage: generate_legacy.sh path/to/zcmedia
set -u
zcmedia="$1"
command -v sqlite3 > /dev/null || { echo "skipped: no sqlite3 shell"; exit 77; }
dir=$(mktemp -d /tmp/zcmedia-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
rows=3000
q() {  # database sql: the result, rows on lines, columns joined by '|'
  sqlite3 -batch "$1" "$2" || fail "sqlite3 $1: $2"
}
expect() {  # what database sql want
  got=$(q "$2" "$3")
  [ "$got" = "$4" ] || fail "$1: '$3' gave '$got', want '$4'"
}

cols_a="id,path,filename,size,modified,mime_type,duration,title,artist,album,created_at,updated_at"
cols_b="id,path,parent_path,filename,size,modified,mime_type,duration,title,artist,album,created_at,updated_at"
cols_c="id,path,parent_path,filename,size,modified,mime_type,duration,title,artist,album,genre,track_number,year,album_artist,created_at,updated_at"
cols_d="id,path,parent_path,canonical_path,canonical_parent_path,filename,size,modified,mime_type,duration,title,artist,album,genre,track_number,year,album_artist,created_at,updated_at"
cols_cd="$cols_c,canonical_path,canonical_parent_path"

for shape in A B C D C+D; do
  case $shape in
    A) cols=$cols_a; version=1 ;;
    B) cols=$cols_b; version=1 ;;
    C) cols=$cols_c; version=1 ;;
    D) cols=$cols_d; version=2 ;;
    C+D) cols=$cols_cd; version=2 ;;
  esac
  db="$dir/shape-$shape.db"
  expect_exit 0 "shape $shape" "$zcmedia" generate-legacy "$db" --rows $rows --shape "$shape"
  grep -q "shape $shape: " "$dir/out" || { cat "$dir/out"; fail "shape $shape: no summary line"; }
  [ ! -e "$db-wal" ] || fail "shape $shape: a -wal file was left behind"
  expect "shape $shape columns" "$db" "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('media_files') ORDER BY cid)" "$cols"
  expect "shape $shape version" "$db" "SELECT value FROM database_metadata WHERE key = 'schema_version'" "$version"
  expect "shape $shape journal" "$db" "PRAGMA journal_mode" "wal"
  expect "shape $shape integrity" "$db" "PRAGMA integrity_check" "ok"
  expect "shape $shape foreign keys" "$db" "PRAGMA foreign_key_check" ""
  # About 1% of the rows deleted, the newest id among them.
  count=$(q "$db" "SELECT count(*) FROM media_files")
  [ "$count" -ge $((rows * 97 / 100)) ] && [ "$count" -lt $rows ] || fail "shape $shape: $count rows left of $rows"
  expect "shape $shape sequence" "$db" \
    "SELECT seq >= (SELECT max(id) FROM media_files) AND seq = $rows FROM sqlite_sequence WHERE name = 'media_files'" "1"
  expect "shape $shape audio" "$db" "SELECT count(*) > $rows / 2 FROM media_files WHERE mime_type LIKE 'audio/%'" "1"
  case $shape in
    A|B)
      expect "shape $shape tables" "$db" \
        "SELECT count(*) FROM sqlite_master WHERE name IN ('playlists', 'playlist_entries')" "0"
      expect_exit 1 "shape $shape --playlists" "$zcmedia" generate-legacy "$dir/p.db" --shape "$shape" --playlists 3
      grep -q "has no playlist tables" "$dir/out" || fail "shape $shape --playlists: no clear error"
      [ ! -e "$dir/p.db" ] || fail "shape $shape --playlists created the file"
      ;;
    *)
      expect "shape $shape playlists" "$db" "SELECT count(*) >= 2, count(DISTINCT name) = count(*) FROM playlists" "1|1"
      expect "shape $shape empty playlist" "$db" \
        "SELECT count(*) FROM playlists p WHERE NOT EXISTS (SELECT 1 FROM playlist_entries e WHERE e.playlist_id = p.id)" "1"
      expect "shape $shape entries" "$db" \
        "SELECT count(*) > 0, min(position) >= 0 FROM playlist_entries" "1|1"
      expect "shape $shape position gaps" "$db" \
        "SELECT count(*) > 0 FROM playlist_entries e WHERE position > 0 AND NOT EXISTS
           (SELECT 1 FROM playlist_entries p WHERE p.playlist_id = e.playlist_id AND p.position = e.position - 1)" "1"
      expect "shape $shape entry id gaps" "$db" "SELECT max(id) > count(*) FROM playlist_entries" "1"
      ;;
  esac
done

# Canonical columns: equal to the originals on Unix, all set in D; in C+D
# NULL on the first half (written before the ALTER), set on the rest.
expect "D canonical" "$dir/shape-D.db" \
  "SELECT count(*) FROM media_files WHERE canonical_path IS NOT path OR canonical_parent_path IS NOT parent_path" "0"
expect "C+D canonical before the migration" "$dir/shape-C+D.db" \
  "SELECT count(*) = count(*) FILTER (WHERE canonical_path IS NULL AND canonical_parent_path IS NULL)
     FROM media_files WHERE id <= $rows / 2" "1"
expect "C+D canonical after the migration" "$dir/shape-C+D.db" \
  "SELECT count(*) > 0, count(*) FILTER (WHERE canonical_path IS NOT path OR canonical_parent_path IS NOT parent_path)
     FROM media_files WHERE id > $rows / 2" "1|0"
expect "C+D NULL and set" "$dir/shape-C+D.db" \
  "SELECT count(*) FILTER (WHERE canonical_path IS NULL) > 0, count(*) FILTER (WHERE canonical_path IS NOT NULL) > 0
     FROM media_files" "1|1"

# Windows paths: native paths with '\', a few UNC; canonical lower case with
# '/' (SQLite's lower() knows ASCII only, so the comparison skips the rows
# with other characters; none of them may keep an ASCII capital either).
win="$dir/windows.db"
expect_exit 0 "windows paths" "$zcmedia" generate-legacy "$win" --rows $rows --windows-paths --shape D
expect "windows integrity" "$win" "PRAGMA integrity_check" "ok"
expect "windows native" "$win" \
  "SELECT count(*) FROM media_files WHERE path LIKE '%/%' OR NOT (path LIKE 'C:\Media\%' OR path LIKE '\\\\NAS\Media\%')
     OR path != parent_path || '\' || filename" "0"
expect "windows UNC" "$win" "SELECT count(*) > 0 FROM media_files WHERE path LIKE '\\\\%' AND canonical_path LIKE '//nas/media/%'" "1"
expect "windows canonical" "$win" \
  "SELECT count(*) FROM media_files WHERE canonical_path GLOB '*[A-Z\]*' OR canonical_parent_path GLOB '*[A-Z\]*'" "0"
expect "windows canonical ASCII" "$win" \
  "SELECT count(*) > 0, count(*) FILTER (WHERE canonical_path != lower(replace(path, '\', '/'))
     OR canonical_parent_path != lower(replace(parent_path, '\', '/')))
     FROM media_files WHERE path NOT GLOB '*[^ -~]*'" "1|0"
# Capitals beyond ASCII (Åberg, Østergaard, Łucja): lower-cased too.
expect "windows canonical non-ASCII" "$win" \
  "SELECT count(*) FILTER (WHERE path GLOB '*[À-ÖØ-ÞŁ]*') > 0,
          count(*) FILTER (WHERE canonical_path GLOB '*[À-ÖØ-ÞŁ]*' OR canonical_parent_path GLOB '*[À-ÖØ-ÞŁ]*')
     FROM media_files" "1|0"

# Determinism: the same seed gives the same rows, another seed others.
dump() { sqlite3 -batch "$1" "SELECT * FROM media_files ORDER BY id" | md5sum; }
expect_exit 0 "again with the same seed" "$zcmedia" generate-legacy "$dir/again.db" --rows $rows --shape C+D
[ "$(dump "$dir/again.db")" = "$(dump "$dir/shape-C+D.db")" ] || fail "same seed, different rows"
expect "same playlists" "$dir/again.db" "SELECT group_concat(id || ',' || playlist_id || ',' || media_file_id || ',' || position, ';') FROM playlist_entries" \
  "$(q "$dir/shape-C+D.db" "SELECT group_concat(id || ',' || playlist_id || ',' || media_file_id || ',' || position, ';') FROM playlist_entries")"
expect_exit 0 "another seed" "$zcmedia" generate-legacy "$dir/other.db" --rows $rows --shape C+D --seed 7
[ "$(dump "$dir/other.db")" != "$(dump "$dir/shape-C+D.db")" ] || fail "another seed, same rows"

# --no-id-gaps: every row kept; --playlists and --json.
expect_exit 0 "--no-id-gaps" "$zcmedia" generate-legacy "$dir/full.db" --rows 2k --no-id-gaps --playlists 5 --json
grep -q '"media_files": 2000' "$dir/out" || { cat "$dir/out"; fail "--json: no media_files"; }
grep -q '"playlists": 5' "$dir/out" || { cat "$dir/out"; fail "--json: no playlists"; }
expect "--no-id-gaps ids" "$dir/full.db" \
  "SELECT count(*), max(id), (SELECT seq FROM sqlite_sequence WHERE name = 'media_files') FROM media_files" "2000|2000|2000"

# Errors: an existing file is left alone, a bad shape is a usage error.
before=$(md5sum < "$dir/full.db")
expect_exit 1 "existing file" "$zcmedia" generate-legacy "$dir/full.db" --rows 10
grep -q "'$dir/full.db' already exists" "$dir/out" || { cat "$dir/out"; fail "existing file: no message naming it"; }
[ "$(md5sum < "$dir/full.db")" = "$before" ] || fail "existing file: it was changed"
expect_exit 1 "missing directory" "$zcmedia" generate-legacy "$dir/none/x.db" --rows 10
grep -q "$dir/none/x.db" "$dir/out" || { cat "$dir/out"; fail "missing directory: no message naming the file"; }
expect_exit 2 "bad shape" "$zcmedia" generate-legacy "$dir/bad.db" --shape E
[ ! -e "$dir/bad.db" ] || fail "bad shape: a file was created"
expect_exit 0 "lower-case shape" "$zcmedia" generate-legacy "$dir/lower.db" --rows 100 --shape c+d
expect "lower-case shape" "$dir/lower.db" "SELECT value FROM database_metadata" "2"
echo "PASS"

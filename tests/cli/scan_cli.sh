#!/bin/sh
# zcmedia scan and playlist export with the real binary on a tree of audio
# files that ffmpeg makes (mp3, flac, ogg, m4a with known tags), an image, a
# broken .mp3, a hidden file, a text file and an .m3u playlist, read back
# with zcmedia sql: the exact rows; a rescan of an unchanged tree writes
# nothing; after adding, rewriting (new tags and size), touching (mtime
# only), renaming and deleting files and deleting a folder, a rescan gives
# exactly the expected library (ids kept for updated files, new ids never
# reused, playlist entries of deleted files gone); a missing root and an
# empty one (an unmounted disk) exit 3 and keep their records; no progress
# when stderr is not a terminal, --json is valid JSON; playlist export in
# m3u8 and pls imported again gives the same entries; export of a missing
# playlist exits 1 naming it. Usage: scan_cli.sh path/to/zcmedia
set -u
zcmedia="$1"
dir=$(mktemp -d /tmp/zcmedia-scan-cli-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || { echo "skipped: no python3"; exit 77; }
need_ffmpeg

m="$dir/media"
lib="$dir/lib/lib.db"
mkdir -p "$m/Rock" "$m/Jazz" "$m/Old/Sub" "$dir/lib"
#          path               seconds title      artist     album   genre track year album_artist
make_audio "$m/Rock/a.mp3"    1       "Alpha"    "Art One"  "Alb1"  "Rock" 1    2001 "AA1"
make_audio "$m/Jazz/b.flac"   2       "Beta"     "Art Two"  "Alb2"  "Jazz" 2    2002 "AA2"
make_audio "$m/Jazz/c.ogg"    1       "Gamma é"  "Art Three" "Alb3" "Jazz" 3    2003 ""
make_audio "$m/Rock/d.m4a"    1       "Delta"    "Art Four" "Alb4"  "Rock" 4    2004 "AA4"
make_audio "$m/Old/e.mp3"     1       "Epsilon"  "Art Five" ""      ""     ""   ""   ""
make_audio "$m/Old/Sub/g.ogg" 1       "Eta"      "Art Six"  "Alb6"  "Pop"  7    1999 "AA6"
cp "$m/Rock/a.mp3" "$m/cover.jpg"          # an image by its name: no tags read
printf 'not an mp3 at all' > "$m/Rock/broken.mp3"
cp "$m/Rock/a.mp3" "$m/Rock/.hidden.mp3"  # hidden: skipped
printf 'notes\n' > "$m/notes.txt"         # not media: skipped
printf '#EXTM3U\nRock/a.mp3\nJazz/b.flac\nJazz/c.ogg\nOld/e.mp3\nRock/d.m4a\n' > "$m/mix.m3u"
# A playlist file changed in the second of its import is imported again by
# the next scan (playlist_files.h): this one is older.
touch -d '2024-01-01 00:00:00' "$m/mix.m3u"

# First scan, stderr not a terminal: no progress; the one problem names the file.
"$zcmedia" scan "$m" --db "$lib" > "$dir/stdout" 2> "$dir/stderr" || { cat "$dir/stdout" "$dir/stderr"; fail "first scan: exit status $?"; }
grep -q "^created $lib" "$dir/stdout" || { cat "$dir/stdout"; fail "first scan: no 'created' line"; }
grep -q "^8 media files in 5 folders: 8 added, 0 updated, 0 removed, 0 unchanged; 1 problems" "$dir/stdout" ||
  { cat "$dir/stdout"; fail "first scan: summary"; }
[ "$(wc -l < "$dir/stderr")" -eq 1 ] || { cat "$dir/stderr"; fail "first scan: stderr is not exactly one problem line"; }
grep -q "^zcmedia scan: unreadable tags: .*$m/Rock/broken.mp3" "$dir/stderr" ||
  { cat "$dir/stderr"; fail "first scan: the broken file is not named"; }
grep -q "stored without tags.*stored without tags" "$dir/stderr" && fail "problem line says it twice: $(cat "$dir/stderr")"
od -c "$dir/stderr" | grep -q '\\r' && fail "first scan: a progress line (\\r) on a non-terminal stderr"
grep -q "scanning:" "$dir/stderr" && fail "first scan: progress on a non-terminal stderr"
[ -d "$dir/lib/lib.zcmedia" ] || fail "first scan: no store lib.zcmedia next to lib.db"

# The exact rows (run from / : the store is found relative to lib.db).
cd /
cols="path, parent_path, filename, mime_type, title, artist, album, genre, track_number, year, album_artist"
"$zcmedia" sql "$lib" --format csv "SELECT $cols FROM media_files ORDER BY path" | tr -d '\r' > "$dir/rows" ||
  fail "sql: exit status $?"
cat > "$dir/want" <<EOF
path,parent_path,filename,mime_type,title,artist,album,genre,track_number,year,album_artist
$m/Jazz/b.flac,$m/Jazz,b.flac,audio/flac,Beta,Art Two,Alb2,Jazz,2,2002,AA2
$m/Jazz/c.ogg,$m/Jazz,c.ogg,audio/ogg,Gamma é,Art Three,Alb3,Jazz,3,2003,
$m/Old/Sub/g.ogg,$m/Old/Sub,g.ogg,audio/ogg,Eta,Art Six,Alb6,Pop,7,1999,AA6
$m/Old/e.mp3,$m/Old,e.mp3,audio/mpeg,Epsilon,Art Five,,,,,
$m/Rock/a.mp3,$m/Rock,a.mp3,audio/mpeg,Alpha,Art One,Alb1,Rock,1,2001,AA1
$m/Rock/broken.mp3,$m/Rock,broken.mp3,audio/mpeg,,,,,,,
$m/Rock/d.m4a,$m/Rock,d.m4a,audio/mp4,Delta,Art Four,Alb4,Rock,4,2004,AA4
$m/cover.jpg,$m,cover.jpg,image/jpeg,,,,,,,
EOF
cmp -s "$dir/rows" "$dir/want" || { diff "$dir/want" "$dir/rows"; fail "first scan: rows"; }

# Sizes and mtimes as on disk; durations (ms) within the encoders' padding
# (tests/scan/test_media.h: mp3 up to +55 ms, m4a +25, flac/ogg exact);
# NULL where nothing was read; the canonical columns; ids 1..8.
"$zcmedia" sql "$lib" --format json "SELECT * FROM media_files ORDER BY path" > "$dir/json" || fail "sql json"
expect_valid_json "$dir/json" "sql --format json"
python3 - "$dir/json" <<'EOF' || fail "first scan: sizes, mtimes, durations: $(cat "$dir/json")"
import json, os, sys
rows = json.load(open(sys.argv[1]))
want_ms = {"b.flac": (2000, 2000), "c.ogg": (1000, 1000), "g.ogg": (1000, 1000), "e.mp3": (1000, 1055),
           "a.mp3": (1000, 1055), "d.m4a": (1000, 1025), "broken.mp3": None, "cover.jpg": None}
assert sorted(r["id"] for r in rows) == list(range(1, 9)), [r["id"] for r in rows]
for r in rows:
    st = os.stat(r["path"])
    assert r["size"] == st.st_size and r["modified"] == int(st.st_mtime), (r, st)
    assert r["canonical_path"] == r["path"] and r["canonical_parent_path"] == r["parent_path"], r
    w = want_ms[r["filename"]]
    if w is None:
        assert r["duration"] is None, r
    else:
        assert w[0] <= r["duration"] <= w[1], (r["filename"], r["duration"], w)
EOF

# The playlist: its entries in file order, by id.
pl_rows() {  # playlist name -> "filename" per entry, in position order
  "$zcmedia" sql "$lib" --format csv "SELECT f.filename FROM playlist_entries e JOIN playlists p ON p.id = e.playlist_id
    JOIN media_files f ON f.id = e.media_file_id WHERE p.name = '$1' ORDER BY e.position" | tr -d '\r' | tail -n +2 |
    tr '\n' ' '
}
[ "$(pl_rows mix)" = "a.mp3 b.flac c.ogg e.mp3 d.m4a " ] || fail "first scan: playlist mix: '$(pl_rows mix)'"

# A rescan of the unchanged tree: nothing written, no commit.
seq_of() { "$zcmedia" stats "$lib" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sequence"])'; }
seq1=$(seq_of)
"$zcmedia" scan "$m" --db "$lib" --json > "$dir/json" 2> "$dir/stderr" || fail "rescan: exit status $?"
expect_valid_json "$dir/json" "scan --json"
[ -s "$dir/stderr" ] && { cat "$dir/stderr"; fail "unchanged rescan: stderr not empty"; }
python3 - "$dir/json" "$lib" <<'EOF' || fail "unchanged rescan: $(cat "$dir/json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["db"] == sys.argv[2] and r["created"] is False, r
assert (r["added"], r["updated"], r["removed"], r["unchanged"], r["tags_read"], r["batches"]) == (0, 0, 0, 8, 0, 0), r
assert r["media_files"] == 8 and r["problems"] == 0 and r["unavailable_roots"] == 0, r
EOF
[ "$(seq_of)" = "$seq1" ] || fail "unchanged rescan: store sequence $seq1 -> $(seq_of): it committed"
# -q: nothing at all on stdout.
expect_exit 0 "scan -q" "$zcmedia" scan "$m" --db "$lib" -q
[ -s "$dir/out" ] && { cat "$dir/out"; fail "scan -q printed something"; }

# On a terminal (script(1) gives one; skipped without it): a progress line,
# cleared before the summary; none with --json.
if command -v script > /dev/null; then
  script -qec "'$zcmedia' scan '$m' --db '$lib'" /dev/null > "$dir/tty" 2>&1 || fail "scan on a terminal: exit status $?"
  grep -q "scanning: 8 files in 5 folders" "$dir/tty" || { od -c "$dir/tty" | head; fail "scan on a terminal: no progress"; }
  grep -q "$(printf '\033')\[K8 media files in 5 folders" "$dir/tty" ||
    { od -c "$dir/tty" | head -20; fail "scan on a terminal: the progress line is not cleared before the summary"; }
  script -qec "'$zcmedia' scan '$m' --db '$lib' --json" /dev/null > "$dir/tty" 2>&1 || fail "scan --json on a terminal"
  grep -q "scanning:" "$dir/tty" && fail "scan --json on a terminal: progress shown"
else
  echo "no script(1): the terminal progress checks are skipped"
fi

# Ids before the changes.
id_of() { sql_value "$lib" "SELECT id FROM media_files WHERE path = '$1'"; }
id_b=$(id_of "$m/Jazz/b.flac")
id_d=$(id_of "$m/Rock/d.m4a")
id_cover=$(id_of "$m/cover.jpg")

# The changes: add, rewrite with new tags (new size), touch (mtime only),
# rename, delete a file, delete a folder with a subfolder.
make_audio "$m/Rock/f.flac" 1 "Zeta" "Art One" "Alb1" "Rock" 2 2001 "AA1"
make_audio "$dir/b.flac" 3 "Beta Two" "Art Two" "Alb2b" "Blues" 9 2012 "AA2"
cp "$dir/b.flac" "$m/Jazz/b.flac"
touch -d '2020-02-03 04:05:06' "$m/Rock/d.m4a"
mv "$m/Rock/a.mp3" "$m/Rock/a2.mp3"
rm "$m/Jazz/c.ogg"
rm -r "$m/Old"
"$zcmedia" scan "$m" --db "$lib" --json > "$dir/json" 2> "$dir/stderr" || { cat "$dir/stderr"; fail "rescan: exit status $?"; }
python3 - "$dir/json" <<'EOF' || fail "rescan after changes: $(cat "$dir/json")"
import json, sys
r = json.load(open(sys.argv[1]))
# added f.flac, a2.mp3; updated b.flac, d.m4a; removed a.mp3, c.ogg, e.mp3, g.ogg
assert (r["added"], r["updated"], r["removed"], r["unchanged"]) == (2, 2, 4, 2), r
assert r["tags_read"] == 4 and r["media_files"] == 6, r
EOF
"$zcmedia" sql "$lib" --format csv "SELECT $cols FROM media_files ORDER BY path" | tr -d '\r' > "$dir/rows"
cat > "$dir/want" <<EOF
path,parent_path,filename,mime_type,title,artist,album,genre,track_number,year,album_artist
$m/Jazz/b.flac,$m/Jazz,b.flac,audio/flac,Beta Two,Art Two,Alb2b,Blues,9,2012,AA2
$m/Rock/a2.mp3,$m/Rock,a2.mp3,audio/mpeg,Alpha,Art One,Alb1,Rock,1,2001,AA1
$m/Rock/broken.mp3,$m/Rock,broken.mp3,audio/mpeg,,,,,,,
$m/Rock/d.m4a,$m/Rock,d.m4a,audio/mp4,Delta,Art Four,Alb4,Rock,4,2004,AA4
$m/Rock/f.flac,$m/Rock,f.flac,audio/flac,Zeta,Art One,Alb1,Rock,2,2001,AA1
$m/cover.jpg,$m,cover.jpg,image/jpeg,,,,,,,
EOF
cmp -s "$dir/rows" "$dir/want" || { diff "$dir/want" "$dir/rows"; fail "rescan after changes: rows"; }
[ "$(id_of "$m/Jazz/b.flac")" = "$id_b" ] || fail "rewritten b.flac: id $id_b -> $(id_of "$m/Jazz/b.flac")"
[ "$(id_of "$m/Rock/d.m4a")" = "$id_d" ] || fail "touched d.m4a: id $id_d -> $(id_of "$m/Rock/d.m4a")"
[ "$(id_of "$m/cover.jpg")" = "$id_cover" ] || fail "unchanged cover.jpg: id changed"
# New files get new ids, above every id ever given (8): never reused.
for f in Rock/a2.mp3 Rock/f.flac; do
  [ "$(id_of "$m/$f")" -gt 8 ] || fail "$f: id $(id_of "$m/$f") reuses an old one"
done
[ "$(sql_value "$lib" "SELECT size = $(stat -c %s "$m/Jazz/b.flac") AND duration = 3000 AND
  modified = $(stat -c %Y "$m/Jazz/b.flac") FROM media_files WHERE id = $id_b")" = 1 ] ||
  fail "rewritten b.flac: size, duration or mtime not updated"
[ "$(sql_value "$lib" "SELECT modified FROM media_files WHERE id = $id_d")" = "$(stat -c %Y "$m/Rock/d.m4a")" ] ||
  fail "touched d.m4a: mtime not updated"
# The playlist: entries of removed files gone (a.mp3 renamed, c.ogg, e.mp3),
# no entry pointing at nothing.
[ "$(pl_rows mix)" = "b.flac d.m4a " ] || fail "after changes: playlist mix: '$(pl_rows mix)'"
[ "$(sql_value "$lib" "SELECT count(*) FROM playlist_entries WHERE media_file_id NOT IN (SELECT id FROM media_files)")" = 0 ] ||
  fail "playlist entries of deleted files remain"

# A missing root: exit 3, named, its records kept.
count() { sql_value "$lib" "SELECT count(*) FROM media_files"; }
mv "$m" "$dir/media.off"
expect_exit 3 "scan of a missing root" "$zcmedia" scan "$m" --db "$lib"
grep -q "zcmedia scan: unavailable folder: $m .*6 files in the library are kept" "$dir/out" ||
  { cat "$dir/out"; fail "missing root: message"; }
[ "$(count)" = 6 ] || fail "missing root: records removed ($(count) left)"
mv "$dir/media.off" "$m"

# An empty root whose files are in the library (an unmounted disk): exit 3,
# kept, advice; --allow-empty-roots removes them. Other roots' records stay.
mkdir "$dir/disk"
make_audio "$dir/disk/x.ogg" 1 "X" "Art X" "" "" "" "" ""
expect_exit 0 "scan disk" "$zcmedia" scan "$dir/disk" --db "$lib"
[ "$(count)" = 7 ] || fail "scan disk: $(count) records, want 7"
rm "$dir/disk/x.ogg"
expect_exit 3 "scan of an empty root" "$zcmedia" scan "$dir/disk" --db "$lib"
grep -q "$dir/disk is empty .*--allow-empty-roots" "$dir/out" || { cat "$dir/out"; fail "empty root: message"; }
[ "$(count)" = 7 ] || fail "empty root: records removed"
expect_exit 0 "scan --allow-empty-roots" "$zcmedia" scan "$dir/disk" --db "$lib" --allow-empty-roots
[ "$(count)" = 6 ] || fail "--allow-empty-roots: $(count) records, want 6"
[ "$(sql_value "$lib" "SELECT count(*) FROM media_files WHERE path LIKE '$m/%'")" = 6 ] ||
  fail "scanning another root touched $m"

# playlist export: m3u8 and pls, then imported again by a scan as new
# playlists: the same files in the same order.
expect_exit 0 "playlist export m3u8" "$zcmedia" playlist export mix --db "$lib" -o "$m/again.m3u8"
head -n 1 "$m/again.m3u8" | grep -q '^#EXTM3U' || { cat "$m/again.m3u8"; fail "export m3u8: no #EXTM3U"; }
grep -q "b.flac" "$m/again.m3u8" || { cat "$m/again.m3u8"; fail "export m3u8: no b.flac"; }
"$zcmedia" playlist export mix --db "$lib" --format pls > "$m/again2.pls" || fail "playlist export pls: exit status $?"
grep -q '^\[playlist\]' "$m/again2.pls" && grep -q '^NumberOfEntries=2' "$m/again2.pls" ||
  { cat "$m/again2.pls"; fail "export pls: not a 2-entry .pls"; }
"$zcmedia" scan "$m" --db "$lib" --json > "$dir/json" || fail "scan with exported playlists: exit status $?"
python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); assert r["playlists_imported"] == 2, r' "$dir/json" ||
  fail "exported playlists not imported: $(cat "$dir/json")"
for p in again again2; do
  [ "$(pl_rows $p)" = "$(pl_rows mix)" ] || fail "round trip $p: '$(pl_rows $p)', want '$(pl_rows mix)'"
done

# Export of a playlist that does not exist: exit 1, named; nothing written.
expect_exit 1 "export of a missing playlist" "$zcmedia" playlist export "No Such List" --db "$lib" -o "$dir/x.m3u8"
grep -q "No Such List" "$dir/out" || { cat "$dir/out"; fail "missing playlist: not named"; }
[ -e "$dir/x.m3u8" ] && fail "missing playlist: a file was written"

# Everything is still sound.
expect_exit 0 "check --deep" "$zcmedia" check "$lib" --deep
echo "PASS"

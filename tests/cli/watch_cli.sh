#!/bin/sh
# zcmedia watch with the real binary: started in the background on a tree
# of audio files that ffmpeg makes, it must bring each change into the
# database: a new file, a file rewritten with new tags, a touched file
# (mtime only), a rename, a deletion, a new folder with files, a folder
# moved in, a deleted folder. Each is polled for with zcmedia sql (failing
# after 20 s: CI machines are shared) and its latency printed. SIGTERM and
# SIGINT stop it with exit status 0 and a "stopped:" line within a few
# seconds, with a change made just before the signal committed; a watch
# started again finds nothing to do. Usage: watch_cli.sh path/to/zcmedia
set -u
zcmedia="$1"
dir=$(mktemp -d /tmp/zcmedia-watch-cli-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null; rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || { echo "skipped: no python3"; exit 77; }
[ -d /proc/sys/fs/inotify ] || { echo "skipped: no inotify"; exit 77; }
need_ffmpeg

now_ms() { date +%s%3N; }
m="$dir/media"
s="$dir/stage"   # files are made here, then copied or moved in
lib="$dir/lib.db"
mkdir -p "$m/Rock" "$m/Jazz" "$m/Old/Sub" "$s/Moved"
make_audio "$m/Rock/a.mp3"    1 "Alpha"   "Art One"   "Alb1" "Rock" 1 2001 "AA1"
make_audio "$m/Jazz/b.flac"   1 "Beta"    "Art Two"   "Alb2" "Jazz" 2 2002 "AA2"
make_audio "$m/Jazz/c.ogg"    1 "Gamma"   "Art Three" "Alb3" "Jazz" 3 2003 "AA3"
make_audio "$m/Rock/d.flac"   1 "Delta"   "Art Four"  "Alb4" "Rock" 4 2004 "AA4"
make_audio "$m/Old/e.ogg"     1 "Epsilon" "Art Five"  "Alb5" "Pop"  5 2005 "AA5"
make_audio "$m/Old/Sub/g.ogg" 1 "Eta"     "Art Six"   "Alb6" "Pop"  6 2006 "AA6"
make_audio "$s/new.flac"      1 "New"     "Art New"   "AlbN" "Rock" 1 2020 "AAN"
make_audio "$s/b2.flac"       2 "Beta Two" "Art Two"  "Alb2b" "Blues" 9 2012 "AA2"
make_audio "$s/h.ogg"         1 "Theta"   "Art Seven" "Alb7" "Folk" 1 2007 "AA7"
make_audio "$s/i.ogg"         1 "Iota"    "Art Seven" "Alb7" "Folk" 2 2007 "AA7"
cp "$s/h.ogg" "$s/Moved/h.ogg"
cp "$s/i.ogg" "$s/Moved/i.ogg"

# Starts the watch with its output in $1 (a fresh file: an old one's
# "watching" must not be mistaken for this run's) and waits for "watching".
start_watch() {  # output-file
  out=$1
  : > "$out"
  : > "$out.err"
  "$zcmedia" watch "$m" --db "$lib" > "$out" 2> "$out.err" &
  pid=$!
  t0=$(now_ms)
  until grep -q "^watching 1 folder" "$out"; do
    kill -0 "$pid" 2> /dev/null || { cat "$out" "$out.err"; fail "watch exited before watching"; }
    [ $(($(now_ms) - t0)) -lt 20000 ] || { cat "$out" "$out.err"; fail "watch: no 'watching' line after 20 s"; }
    sleep 0.05
  done
}

# Polls until the SQL's value is the one wanted; records the latency since
# the change (t_change) in $latencies. Fails after 20 s.
latencies=
wait_for() {  # what sql wanted
  while :; do
    got=$(sql_value "$lib" "$2")
    [ "$got" = "$3" ] && break
    elapsed=$(($(now_ms) - t_change))
    [ "$elapsed" -lt 20000 ] ||
      { cat "$out" "$out.err"; fail "watch: $1 not in the database after 20 s (got '$got', want '$3')"; }
    sleep 0.05
  done
  elapsed=$(($(now_ms) - t_change))
  latencies="$latencies$(printf '  %-32s %5d ms' "$1" "$elapsed")
"
}

# Stops the watch with a signal; it must exit 0 within 10 s (a watchdog
# kills it otherwise) with a "stopped:" line.
stop_watch() {  # signal
  ( sleep 10; kill -KILL "$pid" ) > /dev/null 2>&1 &
  watchdog=$!
  t0=$(now_ms)
  kill -"$1" "$pid"
  wait "$pid"
  rc=$?
  took=$(($(now_ms) - t0))
  kill "$watchdog" 2> /dev/null
  pid=
  [ "$rc" -eq 0 ] || { cat "$out" "$out.err"; fail "watch: exit status $rc after SIG$1 (137: killed after 10 s)"; }
  tail -n 1 "$out" | grep -q "^stopped: " || { cat "$out"; fail "watch: no 'stopped:' line after SIG$1"; }
  latencies="$latencies$(printf '  %-32s %5d ms' "exit after SIG$1" "$took")
"
}

path_count() { echo "SELECT count(*) FROM media_files WHERE path = '$1'"; }

start_watch "$dir/watch1.out"
grep -q "^initial scan: 6 media files in 5 folders: 6 added" "$out" || { cat "$out"; fail "watch: initial scan"; }
id_b=$(sql_value "$lib" "SELECT id FROM media_files WHERE path = '$m/Jazz/b.flac'")
id_d=$(sql_value "$lib" "SELECT id FROM media_files WHERE path = '$m/Rock/d.flac'")

t_change=$(now_ms)
cp "$s/new.flac" "$m/Rock/new.flac"
wait_for "new file" "SELECT title || '/' || size FROM media_files WHERE path = '$m/Rock/new.flac'" \
  "New/$(stat -c %s "$s/new.flac")"

t_change=$(now_ms)
cp "$s/b2.flac" "$m/Jazz/b.flac"
wait_for "rewritten with new tags" "SELECT id || '/' || title || '/' || genre || '/' || size || '/' || duration
  FROM media_files WHERE path = '$m/Jazz/b.flac'" "$id_b/Beta Two/Blues/$(stat -c %s "$s/b2.flac")/2000"

t_change=$(now_ms)
touch -d '2020-02-03 04:05:06' "$m/Rock/d.flac"
wait_for "touched (mtime only)" "SELECT id || '/' || modified FROM media_files WHERE path = '$m/Rock/d.flac'" \
  "$id_d/$(stat -c %Y "$m/Rock/d.flac")"

t_change=$(now_ms)
mv "$m/Rock/a.mp3" "$m/Rock/a2.mp3"
wait_for "renamed" "SELECT ($(path_count "$m/Rock/a.mp3")) || '/' || ($(path_count "$m/Rock/a2.mp3"))" "0/1"

t_change=$(now_ms)
rm "$m/Jazz/c.ogg"
wait_for "deleted file" "$(path_count "$m/Jazz/c.ogg")" 0

t_change=$(now_ms)
mkdir "$m/New"
cp "$s/h.ogg" "$s/i.ogg" "$m/New/"
wait_for "new folder with files" "SELECT count(*) FROM media_files WHERE parent_path = '$m/New'" 2

t_change=$(now_ms)
mv "$s/Moved" "$m/Moved"
wait_for "folder moved in" "SELECT count(*) FROM media_files WHERE parent_path = '$m/Moved'" 2

t_change=$(now_ms)
rm -r "$m/Old"
wait_for "deleted folder (with subfolder)" "SELECT count(*) FROM media_files WHERE path LIKE '$m/Old/%'" 0

# A file in the new folder changed: its watch is in place.
t_change=$(now_ms)
touch -d '2021-01-01 00:00:00' "$m/New/h.ogg"
wait_for "touched in the new folder" "SELECT modified FROM media_files WHERE path = '$m/New/h.ogg'" \
  "$(stat -c %Y "$m/New/h.ogg")"

# The library is exactly the tree now.
want="$m/Jazz/b.flac $m/Moved/h.ogg $m/Moved/i.ogg $m/New/h.ogg $m/New/i.ogg $m/Rock/a2.mp3 $m/Rock/d.flac $m/Rock/new.flac "
got=$("$zcmedia" sql "$lib" --format csv "SELECT path FROM media_files ORDER BY path" | tr -d '\r' | tail -n +2 |
  tr '\n' ' ')
[ "$got" = "$want" ] || fail "watch: library is '$got', want '$want'"

# SIGTERM with a change made just before it (the watcher stopped meanwhile,
# so that the change and the signal arrive together): exit 0, committed.
kill -STOP "$pid"
cp "$s/h.ogg" "$m/Rock/last.ogg"
( sleep 0.2; kill -CONT "$pid" ) &
stop_watch TERM
[ "$(sql_value "$lib" "$(path_count "$m/Rock/last.ogg")")" = 1 ] ||
  { cat "$out"; fail "watch: the change made before SIGTERM was not committed"; }
[ -s "$out.err" ] && { cat "$out.err"; fail "watch: problems on stderr"; }

# Started again: the initial scan has nothing to do; then SIGINT likewise.
start_watch "$dir/watch2.out"
grep -q "^initial scan: 9 media files in 5 folders: 0 added, 0 updated, 0 removed, 9 unchanged" "$out" ||
  { cat "$out"; fail "watch after SIGTERM: the initial scan found changes"; }
kill -STOP "$pid"
rm "$m/Rock/last.ogg"
( sleep 0.2; kill -CONT "$pid" ) &
stop_watch INT
[ "$(sql_value "$lib" "$(path_count "$m/Rock/last.ogg")")" = 0 ] ||
  { cat "$out"; fail "watch: the deletion made before SIGINT was not committed"; }
[ -s "$out.err" ] && { cat "$out.err"; fail "watch: problems on stderr"; }
expect_exit 0 "check --deep" "$zcmedia" check "$lib" --deep

echo "latency from the change to its row in the database (zcmedia sql polled every 50 ms):"
printf '%s' "$latencies"
echo "PASS"

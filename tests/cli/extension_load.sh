#!/bin/sh
# The built loadable extension in the programs users load it from: the real
# sqlite3 shell (.load and SELECT load_extension, entry point found from the
# file name) and Python's sqlite3 module (Debian's /usr/bin/python3).
# Usage: extension_load.sh PATH/zcmedia.so [SANITIZERS]
# A sanitizer build's module needs its runtime in the host: skipped (77).
set -eu
so=$(realpath "$1")
sanitize="${2:-}"
if [ -n "$sanitize" ]; then echo "skipped: the module is built with $sanitize"; exit 77; fi
base="${so%.so}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. .load in the shell; a relative store= lands next to the database.
sqlite3 lib.db <<SQL || fail "sqlite3 .load and CREATE VIRTUAL TABLE"
.load $base
CREATE VIRTUAL TABLE media_files USING zcmedia(store='lib.store', kind='media_files');
CREATE VIRTUAL TABLE playlists USING zcmedia(store='lib.store', kind='playlists');
CREATE VIRTUAL TABLE playlist_entries USING zcmedia(store='lib.store', kind='playlist_entries');
INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, updated_at)
  VALUES ('/music/a.flac', '/music', 'a.flac', 10, 1, 'audio/flac', 1, 1);
SQL
[ -f lib.store/META ] || fail "the store was not created next to the database (lib.store/META)"

# 2. SELECT load_extension() in another shell session sees the committed row.
out=$(sqlite3 -batch lib.db "SELECT load_extension('$base');" "SELECT id, path FROM media_files;")
[ "$(printf '%s\n' "$out" | tail -n 1)" = "1|/music/a.flac" ] || fail "load_extension + SELECT gave: $out"

# 3. Errors reach the shell as SQLite errors with their messages.
err=$(sqlite3 -batch lib.db ".load $base" "INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, updated_at) VALUES ('/music/a.flac', '/music', 'a.flac', 1, 1, 'audio/flac', 1, 1);" 2>&1 || true)
case "$err" in *"UNIQUE constraint failed: media_files.path"*) ;; *) fail "duplicate path gave: $err" ;; esac

# 4. Python's sqlite3 (Debian's python3 enables extension loading).
/usr/bin/python3 - "$base" <<'PY' || fail "python3 sqlite3"
import sqlite3, sys
db = sqlite3.connect("lib.db")
db.enable_load_extension(True)
db.load_extension(sys.argv[1])
db.execute("INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, updated_at) "
           "VALUES ('/music/b.mp3', '/music', 'b.mp3', 20, 2, 'audio/mpeg', 2, 2)")
db.commit()
rows = db.execute("SELECT id, path, typeof(size) FROM media_files ORDER BY id").fetchall()
assert rows == [(1, "/music/a.flac", "integer"), (2, "/music/b.mp3", "integer")], rows
try:
    db.execute("INSERT INTO media_files(path) VALUES ('/x')")
    raise SystemExit("NOT NULL violation was accepted")
except sqlite3.IntegrityError as e:
    assert "NOT NULL constraint failed: media_files.parent_path" in str(e), e
PY

# 5. A process that wrote and keeps its connection open (a media server)
# releases the store's writer lock once idle (ZCMEDIA_WRITER_IDLE, 1 s), so
# another process can write meanwhile (it waits up to ZCMEDIA_LOCK_TIMEOUT).
/usr/bin/python3 - "$base" <<'PY' || fail "a second process could not write while the first kept its connection open"
import os, sqlite3, subprocess, sys
base = sys.argv[1]
insert = ("INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, updated_at) "
          "VALUES ('/music/{0}', '/music', '{0}', 1, 1, 'audio/mpeg', 1, 1)")
db = sqlite3.connect("lib.db")
db.enable_load_extension(True)
db.load_extension(base)
db.execute(insert.format("c.mp3"))
db.commit()
child = """
import sqlite3, sys
db = sqlite3.connect("lib.db", timeout=10)
db.enable_load_extension(True)
db.load_extension(sys.argv[1])
db.execute(sys.argv[2])
db.commit()
"""
env = dict(os.environ, ZCMEDIA_LOCK_TIMEOUT="10s")
r = subprocess.run([sys.executable, "-c", child, base, insert.format("d.mp3")], env=env,
                   capture_output=True, text=True, timeout=60)
assert r.returncode == 0, "the second writer failed: " + r.stderr
count = db.execute("SELECT count(*) FROM media_files").fetchone()[0]
assert count == 4, count
PY

# 6. Only the entry point is exported.
if command -v nm >/dev/null 2>&1; then
  exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sort | tr '\n' ' ')
  [ "$exported" = "sqlite3_zcmedia_init " ] || fail "exported symbols: $exported"
fi
echo "extension_load: OK"

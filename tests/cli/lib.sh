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
# A tagged audio file made by ffmpeg (a 440 Hz tone, mono), as
# tests/scan/test_media.h makes them: the format from the extension (.mp3
# .flac .ogg .m4a); empty tags are not written. scripts/install-deps
# installs ffmpeg: a missing one is a failure, not a skip.
make_audio() {  # path seconds title artist album genre track year album_artist
  _p=$1 _s=$2
  shift 2
  case $_p in
    *.mp3) _rate=44100 _codec="-c:a libmp3lame -b:a 32k -id3v2_version 3" ;;
    *.m4a) _rate=44100 _codec="-c:a aac -b:a 32k" ;;
    *.flac) _rate=8000 _codec="-c:a flac" ;;
    *.ogg) _rate=8000 _codec="-c:a libvorbis" ;;
    *) fail "make_audio: unknown extension: $_p" ;;
  esac
  # An empty value writes no tag.
  # shellcheck disable=SC2086
  ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi \
    -i "sine=frequency=440:sample_rate=$_rate:duration=$_s" -ac 1 $_codec \
    -metadata "title=$1" -metadata "artist=$2" -metadata "album=$3" -metadata "genre=$4" \
    -metadata "track=$5" -metadata "date=$6" -metadata "album_artist=$7" "$_p" > "$dir/.ffmpeg.err" 2>&1 ||
    { cat "$dir/.ffmpeg.err"; fail "ffmpeg could not make $_p (scripts/install-deps installs ffmpeg)"; }
}
need_ffmpeg() {
  command -v ffmpeg > /dev/null || fail "no ffmpeg (scripts/install-deps installs it)"
}
# Fails unless the file holds one valid JSON text.
expect_valid_json() {  # file description
  python3 -m json.tool "$1" > /dev/null 2>&1 || { cat "$1"; fail "$2: not valid JSON"; }
}
# One value of a single-row, single-column query (CSV, CR removed).
sql_value() {  # db sql
  "$zcmedia" sql "$1" --format csv "$2" | tail -n 1 | tr -d '\r'
}

# One JSON line of a bench command (--json): a numeric value by key, a
# check of it, and the failures that name what was wanted.
json_number() {  # json-line key
  printf '%s\n' "$1" | sed -n "s/.*\"$2\": \(-\{0,1\}[0-9][0-9.eE+-]*\).*/\1/p"
}
json_check() {  # json-line key condition
  v=$(json_number "$1" "$2")
  [ -n "$v" ] && awk -v v="$v" "BEGIN { exit !($3) }"
}
expect_json() {  # json-line key condition what
  json_check "$1" "$2" "$3" || fail "$4: \"$2\" is '$(json_number "$1" "$2")', want $3"
}
expect_bool() {  # json-line key what
  printf '%s\n' "$1" | grep -q "\"$2\": \(true\|false\)" || fail "$3: no boolean \"$2\""
}

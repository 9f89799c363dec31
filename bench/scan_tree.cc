#include "scan_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

#include "bench_util.h"

namespace zcmedia::bench {
namespace {

// SplitMix64: small, fast, and the same sequence on every platform (the
// standard library's distributions are not).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }  // n > 0; the bias is irrelevant here
  double Unit() { return double(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }

 private:
  uint64_t state_;
};

template <size_t N>
using Words = std::array<std::string_view, N>;

// Artist names: a first part and a second part, 40 x 30 = 1,200 distinct.
constexpr Words<40> kArtistFirst = {
    "The",    "Black",   "Silver", "Electric", "Anna",   "John",    "Marie",   "Lucas",  "Nina",   "Oscar",
    "Björk",  "José",    "Zoë",    "Ólafur",   "Dmitri", "Сергей",  "Анна",    "坂本",   "山田",   "Chloé",
    "Paul",   "Grace",   "Ivan",   "Lena",     "Mateo",  "Sofia",   "Hugo",    "Ingrid", "Kwame",  "Aiko",
    "Velvet", "Crimson", "Lunar",  "Northern", "Saint",  "Captain", "Brother", "Sister", "Doctor", "Little"};
constexpr Words<30> kArtistSecond = {
    "Harbour",   "Wolves",  "Martin",  "Keller", "Moreau", "Lindqvist", "García", "Nakamura", "Novak",  "Okafor",
    "Ensemble",  "Quartet", "Machine", "Tides",  "Echoes", "Pilots",    "Römer",  "Łukasz",   "Петров", "龍一",
    "Trio",      "Band",    "Sound",   "Lights", "Hearts", "Rivers",    "Stone",  "Bloom",    "Fox",    "Parade"};
constexpr uint64_t kArtistNames = kArtistFirst.size() * kArtistSecond.size();

// Album names: 40 x 50 x 6 = 12,000 distinct.
constexpr Words<40> kAlbumFirst = {
    "Blue",   "Quiet",  "Endless", "Golden", "Broken", "Hidden", "Electric", "Silent", "Wild",   "Distant",
    "Frozen", "Bright", "Lost",    "Secret", "Sweet",  "Empty",  "Paper",    "Glass",  "Velvet", "Burning",
    "Ancient", "Modern", "Northern", "Southern", "Early", "Late", "Summer",  "Winter", "Autumn", "Spring",
    "Ewige",  "Dernière", "Última", "Тихая",  "静かな", "Noire",  "Grüne",    "Small",  "Great",  "Open"};
constexpr Words<50> kAlbumSecond = {
    "Roads",   "Rooms",   "Waves",  "Hours",   "Skies",   "Cities",   "Dreams",  "Songs",   "Fields",  "Lights",
    "Shadows", "Mirrors", "Rivers", "Gardens", "Letters", "Machines", "Islands", "Nights",  "Mornings", "Voices",
    "Stories", "Colours", "Echoes", "Windows", "Bridges", "Engines",  "Forests", "Harbours", "Houses", "Signals",
    "Maps",    "Seasons", "Stars",  "Storms",  "Tides",   "Towers",   "Trains",  "Valleys", "Walls",   "Years",
    "Straße",  "Mémoire", "Corazón", "Дорога", "夜明け",   "Sonate",   "Nocturnes", "Tapes", "Sessions", "Hymns"};
constexpr Words<6> kAlbumForm = {"", " Live", " (Remastered)", " Part II", " Sessions", " Vol. 2"};
constexpr uint64_t kAlbumNames = kAlbumFirst.size() * kAlbumSecond.size() * kAlbumForm.size();

constexpr Words<48> kTitleWords = {
    "Love",   "Night",  "Rain",   "Fire",    "Heart",  "Home",    "Light",  "Dance",  "Time",   "Road",
    "Blue",   "Gold",   "River",  "Morning", "Ghost",  "Summer",  "Stone",  "Wind",   "Moon",   "Sun",
    "Again",  "Away",   "Slowly", "Forever", "Tonight", "Alone",  "Under",  "Over",   "Before", "After",
    "Café",   "Señor",  "Über",   "Noël",    "Ночь",   "Любовь",  "東京",   "さくら", "Fjäll",  "Été",
    "Song",   "Waltz",  "Blues",  "Theme",   "Reprise", "Interlude", "Prelude", "Outro"};

constexpr Words<20> kGenres = {"Rock",       "Pop",    "Jazz",   "Classical", "Electronic", "Hip-Hop", "Folk",
                               "Blues",      "Metal",  "Country", "Reggae",   "Soul",       "Funk",    "Punk",
                               "Ambient",    "Indie",  "R&B",    "Latin",     "Soundtrack", "World"};

constexpr int64_t kFirstYear = 1960, kLastYear = 2025;
constexpr double kUntaggedShare = 0.15;
constexpr double kCompilationShare = 0.05;
constexpr double kCoverShare = 0.40;
constexpr uint64_t kTracksPerVideo = 200;
constexpr uint64_t kVideosPerFolder = 20;

// MPEG-1 Layer III, 128 kbps, 44.1 kHz, no CRC, no padding, stereo: 417
// bytes per frame (144 * 128000 / 44100), 1152 samples.
constexpr unsigned char kFrameHeader[4] = {0xFF, 0xFB, 0x90, 0x00};
constexpr size_t kFrameBytes = 417;
constexpr size_t kSideInfoBytes = 32;  // MPEG-1 stereo
constexpr int kFramesWritten = 4;
constexpr double kSamplesPerFrame = 1152, kSampleRate = 44100;

void PutBigEndian32(std::string* out, uint32_t v) {
  out->push_back(char(v >> 24));
  out->push_back(char(v >> 16));
  out->push_back(char(v >> 8));
  out->push_back(char(v));
}

void PutSyncsafe32(std::string* out, uint32_t v) {
  out->push_back(char((v >> 21) & 0x7F));
  out->push_back(char((v >> 14) & 0x7F));
  out->push_back(char((v >> 7) & 0x7F));
  out->push_back(char(v & 0x7F));
}

// One ID3v2.4 text frame, UTF-8 (encoding byte 3).
void PutTextFrame(std::string* out, const char id[4], std::string_view text) {
  if (text.empty()) return;
  out->append(id, 4);
  PutSyncsafe32(out, uint32_t(text.size() + 1));
  out->append(2, '\0');  // flags
  out->push_back('\x03');
  out->append(text);
}

// The bytes of one MP3: the ID3v2.4 tag of `t` (none when untagged), then
// the Info frame announcing `total_frames` frames, then silent frames.
void EncodeMp3(const GeneratedTrack& t, uint64_t album_tracks, uint32_t total_frames, std::string* out) {
  out->clear();
  if (t.tagged) {
    std::string frames;
    PutTextFrame(&frames, "TIT2", t.title);
    PutTextFrame(&frames, "TPE1", t.artist);
    PutTextFrame(&frames, "TALB", t.album);
    PutTextFrame(&frames, "TCON", t.genre);
    PutTextFrame(&frames, "TRCK", std::to_string(t.track_number) + "/" + std::to_string(album_tracks));
    PutTextFrame(&frames, "TDRC", std::to_string(t.year));
    PutTextFrame(&frames, "TPE2", t.album_artist);
    frames.append(128, '\0');  // padding, as taggers leave it
    out->append("ID3\x04\x00\x00", 6);
    PutSyncsafe32(out, uint32_t(frames.size()));
    out->append(frames);
  }
  for (int i = 0; i < kFramesWritten; ++i) {
    const size_t start = out->size();
    out->append(reinterpret_cast<const char*>(kFrameHeader), sizeof kFrameHeader);
    out->append(kSideInfoBytes, '\0');
    if (i == 0) {
      out->append("Info", 4);
      PutBigEndian32(out, 0x3);  // flags: frame count and byte count present
      PutBigEndian32(out, total_frames);
      PutBigEndian32(out, uint32_t(uint64_t(total_frames) * kFrameBytes));
    }
    out->resize(start + kFrameBytes, '\0');
  }
}

std::string ErrnoText() { return std::strerror(errno); }

class TreeWriter {
 public:
  explicit TreeWriter(ScanTreeReport* report) : report_(report) {}

  void MakeFolder(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0) throw BenchError("cannot create the folder '" + path + "': " + ErrnoText());
    ++report_->folders;
  }

  void WriteFile(const std::string& path, std::string_view bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw BenchError("cannot create '" + path + "': " + ErrnoText());
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const std::string error = ErrnoText();
        ::close(fd);
        throw BenchError("cannot write '" + path + "': " + error);
      }
      done += size_t(n);
    }
    if (::close(fd) != 0) throw BenchError("cannot close '" + path + "': " + ErrnoText());
    report_->bytes += bytes.size();
  }

 private:
  ScanTreeReport* report_;
};

// Names that are unique by construction: index i of n < kNames goes through
// a fixed permutation (multiplication by a number coprime with kNames), so
// neighbouring indexes do not share their first word.
std::string ArtistName(uint64_t i, uint64_t seed) {
  const uint64_t p = (i * 7919 + seed) % kArtistNames;
  return std::string(kArtistFirst[p % kArtistFirst.size()]) + " " +
         std::string(kArtistSecond[p / kArtistFirst.size()]);
}

std::string AlbumName(uint64_t i, uint64_t seed) {
  const uint64_t p = (i * 104729 + seed) % kAlbumNames;
  std::string name = std::string(kAlbumFirst[p % kAlbumFirst.size()]) + " " +
                     std::string(kAlbumSecond[(p / kAlbumFirst.size()) % kAlbumSecond.size()]) +
                     std::string(kAlbumForm[p / (kAlbumFirst.size() * kAlbumSecond.size())]);
  if (i >= kAlbumNames) name += " [" + std::to_string(i / kAlbumNames + 1) + "]";  // beyond 12,000 albums
  return name;
}

std::string TitleOf(Random& random) {
  std::string title(kTitleWords[random.Below(kTitleWords.size())]);
  const uint64_t words = 1 + random.Below(3);
  for (uint64_t w = 1; w < words; ++w) title += " " + std::string(kTitleWords[random.Below(kTitleWords.size())]);
  return title;
}

}  // namespace

ScanTreeReport GenerateScanTree(const ScanTreeOptions& options) {
  ScanTreeReport report;
  Stopwatch clock;
  TreeWriter writer(&report);
  Random random(options.seed);
  const uint64_t name_seed = options.seed % kArtistNames;

  if (::mkdir(options.root.c_str(), 0755) == 0) {
    ++report.folders;
  } else if (errno != EEXIST) {
    throw BenchError("cannot create the folder '" + options.root + "': " + ErrnoText());
  }
  const std::string music = options.root + "/Music";
  writer.MakeFolder(music);

  // About one artist per 8 albums of 12 tracks, at most 1,000.
  const uint64_t expected_albums = std::max<uint64_t>(1, options.audio_files / 12);
  const uint64_t artists = std::clamp<uint64_t>(expected_albums / 8, 1, 1000);
  std::vector<bool> artist_folder(artists + 1, false);  // the last one: Various Artists
  std::vector<std::string> artist_names(artists);
  for (uint64_t a = 0; a < artists; ++a) artist_names[a] = ArtistName(a, name_seed);
  const std::string various = "Various Artists";

  std::string bytes, path;
  uint64_t written = 0;
  for (uint64_t album = 0; written < options.audio_files; ++album) {
    // Every artist gets an album first; then artists are picked with a skew
    // (a few artists have many albums, most have a few).
    const bool compilation = album >= artists && random.Chance(kCompilationShare);
    const uint64_t artist =
        compilation ? artists : album < artists ? album : uint64_t(double(artists) * std::pow(random.Unit(), 1.5));
    const std::string& album_artist = compilation ? various : artist_names[artist];
    const std::string album_name = AlbumName(album, options.seed);
    const std::string genre(random.Chance(0.8) ? kGenres[(artist * 7) % kGenres.size()]
                                               : kGenres[random.Below(kGenres.size())]);
    const int64_t year = kFirstYear + int64_t(random.Below(uint64_t(kLastYear - kFirstYear + 1)));
    const uint64_t tracks = std::min<uint64_t>(8 + random.Below(9), options.audio_files - written);

    const std::string artist_dir = music + "/" + album_artist;
    if (!artist_folder[artist]) {
      writer.MakeFolder(artist_dir);
      artist_folder[artist] = true;
      ++report.artists;
    }
    const std::string album_dir = artist_dir + "/" + album_name;
    writer.MakeFolder(album_dir);
    ++report.albums;

    for (uint64_t n = 1; n <= tracks; ++n) {
      GeneratedTrack t;
      t.tagged = !random.Chance(kUntaggedShare);
      const std::string title = TitleOf(random);
      char number[8];
      std::snprintf(number, sizeof number, "%02u", unsigned(n));
      t.path = album_dir + "/" + number + " " + title + ".mp3";
      const double track_seconds = 120 + random.Unit() * 240;
      const uint32_t frames = uint32_t(std::lround(track_seconds * kSampleRate / kSamplesPerFrame));
      // TagLib's length: frames x time per frame, rounded to the millisecond.
      t.duration_ms = int64_t(kSamplesPerFrame * 1000.0 / kSampleRate * frames + 0.5);
      if (t.tagged) {
        t.title = title;
        t.artist = compilation ? artist_names[random.Below(artists)] : album_artist;
        t.album = album_name;
        t.genre = genre;
        t.track_number = int64_t(n);
        t.year = year;
        t.album_artist = album_artist;
        ++report.tagged_files;
      }
      report.duration_ms_total += t.duration_ms;
      EncodeMp3(t, tracks, frames, &bytes);
      writer.WriteFile(t.path, bytes);
      ++report.audio_files;
      ++written;
      if (t.tagged && report.tagged_sample.path.empty()) report.tagged_sample = t;
      if (!t.tagged && report.untagged_sample.path.empty()) report.untagged_sample = t;
    }

    if (random.Chance(kCoverShare)) {
      // A JPEG's start and end markers around noise: the scanner does not
      // open images.
      bytes.assign("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11);
      const size_t size = 1500 + random.Below(1500);
      while (bytes.size() < size - 2) bytes.push_back(char(random.Next()));
      bytes.append("\xFF\xD9", 2);
      writer.WriteFile(album_dir + "/cover.jpg", bytes);
      ++report.covers;
    }
  }

  // Videos: one per kTracksPerVideo tracks, kVideosPerFolder per folder.
  const uint64_t videos = options.audio_files / kTracksPerVideo;
  if (videos > 0) {
    const std::string video_root = options.root + "/Videos";
    writer.MakeFolder(video_root);
    std::string folder;
    for (uint64_t v = 0; v < videos; ++v) {
      if (v % kVideosPerFolder == 0) {
        char name[32];
        std::snprintf(name, sizeof name, "/Clips %03llu", static_cast<unsigned long long>(v / kVideosPerFolder + 1));
        folder = video_root + name;
        writer.MakeFolder(folder);
      }
      bytes.assign("\x00\x00\x00\x18" "ftypmp42\x00\x00\x00\x00mp42isom", 24);
      bytes.resize(4096, '\0');
      char name[32];
      std::snprintf(name, sizeof name, "/clip %05llu.mp4", static_cast<unsigned long long>(v + 1));
      writer.WriteFile(folder + name, bytes);
      ++report.videos;
    }
  }
  report.seconds = clock.Seconds();
  return report;
}

}  // namespace zcmedia::bench

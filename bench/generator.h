// LibraryGenerator: a seeded, deterministic stream of realistic media-file
// records, shaped like a scanned home library (see
// shared/notes/perf-anchors.md, "Workload"):
//
//   ~70% audio   /media/music/<Artist>/<Album> (<Year>)/<NN> - <Title>.<ext>
//                1-6 albums of 6-14 tracks per artist, 8% of albums are
//                "Various Artists" compilations, 15% of albums untagged (tag
//                columns NULL), ~2% of tagged tracks with genre '' and ~1%
//                with album_artist ''; 300 genres with a Zipf-like spread;
//                about 2,000 distinct artists per 100,000 records.
//   ~20% video   /media/Movies/<Title> (<Year>)/<Title>.mkv (some .mp4/.avi)
//                /media/TV Shows/<Show>/Season NN/<Show> - SxxEyy - <Ep>.mkv
//   ~10% images  /media/photos/<YYYY>/<YYYY-MM-DD Event>/IMG_<date>_<time>.jpg
//                10-150 files per folder.
//
// Records come out in directory-walk order: top-level units (an artist, a
// compilation, a movie, a show, a photo folder) in pseudo-random order, the
// files of one folder together and shuffled within it. Paths are 45-150
// bytes, some with non-ASCII names (é, ü, 日本), and unique for any N up to
// 10M: every folder name is built from a per-kind counter (a permutation of
// word-list combinations, with a " (2)"-style suffix once the combinations
// run out), and files are numbered within their folder.
//
// Columns follow the legacy server's conventions on Unix: parent_path and
// filename from the path, canonical_* equal to the originals, duration (ms)
// and tags for audio only, timestamps in Unix seconds.
//
// Memory is O(1): the generator holds the current unit and folder only (at
// most 150 file slots). Generation costs well under a microsecond per record.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "zcmedia/media_file.h"

namespace zcmedia::bench {

// One generated row. Owns its strings; fields() returns views into them, so
// the record must outlive (and not change under) the MediaFileFields.
struct GeneratedRecord {
  enum class Kind { kAudio, kVideo, kImage };
  Kind kind = Kind::kAudio;

  std::string path;
  std::string parent_path;
  std::string filename;
  std::string mime_type;
  int64_t size = 0;
  int64_t modified = 0;
  std::optional<int64_t> duration;
  // Tag strings are NULL unless `has_tags`; the strings keep their capacity
  // across records so that generation does not allocate.
  bool has_tags = false;
  std::string title;
  std::string artist;
  std::string album;
  std::string genre;
  std::string album_artist;
  std::optional<int64_t> track_number;
  std::optional<int64_t> year;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  // id = 0 (the store assigns it); canonical_* view path / parent_path.
  MediaFileFields fields() const;
};

class LibraryGenerator {
 public:
  static constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

  // The same seed always yields the same stream. Next() returns false after
  // `record_limit` records.
  explicit LibraryGenerator(uint64_t seed, uint64_t record_limit = kUnlimited);

  // Fills *out with the next record (reusing its strings' capacity).
  bool Next(GeneratedRecord* out);

  uint64_t records_generated() const { return generated_; }

 private:
  enum class UnitKind { kArtist, kCompilation, kMovie, kTvShow, kPhotoFolder };

  // A small, fast PRNG (splitmix64): good enough for workload shapes.
  class Rng {
   public:
    explicit Rng(uint64_t seed = 0) : state_(seed) {}
    uint64_t Next();
    uint64_t Uniform(uint64_t n);                 // [0, n)
    int64_t Range(int64_t lo, int64_t hi);        // [lo, hi]
    bool Chance(double p);
    double Unit();                                // [0, 1)

   private:
    uint64_t state_;
  };

  // The top-level unit being walked (an artist's albums, a show's seasons).
  struct Unit {
    UnitKind kind = UnitKind::kArtist;
    uint64_t counter = 0;  // per-kind ordinal: the source of unique names
    std::string name;      // artist, show or movie title
    int folder_count = 0;
    int folders_done = 0;
    int64_t year = 0;      // movie year, first album year, show start year
  };

  // The leaf folder whose files are being emitted.
  struct Folder {
    std::string dir;        // parent_path of its files
    std::string album;      // album title, or the photo event folder name
    std::string album_artist;
    std::string genre;
    std::string extension;  // with the dot
    std::string mime_type;
    bool tagged = false;
    int64_t year = 0;
    int season = 0;
    int64_t day = 0;        // photos: days since 1970-01-01
    int64_t first_second = 0;  // photos: second of day of the first shot
    int64_t spacing = 0;       // photos: seconds between shots
    int64_t modified_base = 0;
    uint64_t seed = 0;      // per-file values derive from it and the file number
    std::vector<uint16_t> order;  // file numbers in emission (shuffled) order
    size_t next = 0;
  };

  void StartUnit();
  void StartFolder();
  void EmitFile(uint16_t file_number, GeneratedRecord* out);
  void EmitTrack(uint16_t file_number, Rng& rng, GeneratedRecord* out);
  void EmitVideo(uint16_t file_number, Rng& rng, GeneratedRecord* out);
  void EmitPhoto(uint16_t file_number, Rng& rng, GeneratedRecord* out);
  void FillFileCount(int count);

  std::string ArtistName(uint64_t counter) const;
  std::string CompilationTitle(uint64_t counter) const;
  std::string AlbumTitle(uint64_t artist_counter, int album_index) const;
  std::string MovieTitle(uint64_t counter) const;
  std::string ShowName(uint64_t counter) const;
  std::string PhotoEventName(uint64_t counter, int64_t* day) const;
  std::string RandomWords(Rng& rng, int min_words, int max_words, size_t max_bytes) const;
  const std::string& PickGenre(Rng& rng) const;

  uint64_t seed_;
  uint64_t limit_;
  uint64_t generated_ = 0;
  Rng rng_;
  Unit unit_;
  Folder folder_;
  uint64_t kind_counters_[5] = {};
  double unit_cdf_[5] = {};
  std::vector<std::string> genres_;      // 300 names, most popular first
  std::vector<double> genre_cdf_;        // Zipf-like
  int64_t scan_time_;                    // created_at of the first record
};

}  // namespace zcmedia::bench

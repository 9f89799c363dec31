// zcmedia bench generate: how fast the workload generator runs, and whether
// its output has the shape the benchmarks claim (perf-anchors.md,
// "Workload": shares, artists, genres, folders, path lengths, uniqueness).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "generator.h"

namespace zcmedia::bench {

namespace {

bool HasNonAscii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

uint64_t StringBytes(const MediaFileFields& f) {
  uint64_t n = f.path.size();
  for (const OptText* t : {&f.parent_path, &f.canonical_path, &f.canonical_parent_path, &f.filename,
                           &f.mime_type, &f.title, &f.artist, &f.album, &f.genre, &f.album_artist}) {
    if (*t) n += (*t)->size();
  }
  return n;
}

// The p-th percentile of a length histogram.
size_t Percentile(const std::vector<uint64_t>& histogram, uint64_t total, double p) {
  uint64_t wanted = static_cast<uint64_t>(p * double(total));
  uint64_t seen = 0;
  for (size_t length = 0; length < histogram.size(); ++length) {
    seen += histogram[length];
    if (seen > wanted) return length;
  }
  return histogram.size() - 1;
}

}  // namespace

int RunGenerateBench(const GenerateBenchOptions& options) {
  const uint64_t n = options.records;
  if (n == 0) throw BenchError("--records must be at least 1");

  // Throughput: the generator alone, as the ingest loops use it.
  double records_per_s;
  {
    LibraryGenerator generator(options.seed, n);
    GeneratedRecord record;
    uint64_t touched = 0;
    Stopwatch clock;
    while (generator.Next(&record)) touched += record.path.size() + uint64_t(record.size);
    records_per_s = double(n) / clock.Seconds();
    DoNotOptimize(touched);
  }

  // Shape: a second pass with counters (not timed).
  LibraryGenerator generator(options.seed, n);
  GeneratedRecord record;
  uint64_t kinds[3] = {};
  uint64_t untagged_audio = 0, empty_genre = 0, empty_album_artist = 0, tagged_audio = 0;
  uint64_t non_ascii = 0, string_bytes = 0, folders = 0, revisited_folders = 0;
  uint64_t current_folder_files = 0, max_folder_files = 0;
  uint64_t short_paths = 0, long_paths = 0;
  std::vector<uint64_t> length_histogram(1024);
  std::unordered_set<std::string> artists, genres;
  std::unordered_set<uint64_t> folder_hashes;
  std::vector<uint64_t> path_hashes;
  if (options.check_unique) path_hashes.reserve(n);
  std::hash<std::string_view> hasher;
  std::string previous_parent;
  bool mismatched_derived = false;

  while (generator.Next(&record)) {
    const MediaFileFields f = record.fields();
    ++kinds[static_cast<int>(record.kind)];
    if (record.kind == GeneratedRecord::Kind::kAudio) {
      if (!record.has_tags) {
        ++untagged_audio;
      } else {
        ++tagged_audio;
        if (record.genre.empty()) ++empty_genre;
        if (record.album_artist.empty()) ++empty_album_artist;
        if (!record.artist.empty() && artists.size() < 10'000'000) artists.insert(record.artist);
        if (!record.genre.empty()) genres.insert(record.genre);
      }
    }
    if (record.parent_path != previous_parent) {
      ++folders;
      if (!folder_hashes.insert(hasher(record.parent_path)).second) ++revisited_folders;
      previous_parent = record.parent_path;
      current_folder_files = 0;
    }
    max_folder_files = std::max(max_folder_files, ++current_folder_files);
    const size_t length = record.path.size();
    ++length_histogram[std::min<size_t>(length, length_histogram.size() - 1)];
    if (length < 45) ++short_paths;
    if (length > 150) ++long_paths;
    if (HasNonAscii(record.path)) ++non_ascii;
    string_bytes += StringBytes(f);
    if (options.check_unique) path_hashes.push_back(hasher(record.path));
    // The generator's own parent/filename must agree with the store's rule.
    if (DeriveParentPath(record.path) != record.parent_path ||
        DeriveFilename(record.path) != record.filename) {
      if (!mismatched_derived) {
        std::printf("  derived-column mismatch for '%s': parent '%s' filename '%s'\n",
                    record.path.c_str(), record.parent_path.c_str(), record.filename.c_str());
      }
      mismatched_derived = true;
    }
  }

  uint64_t duplicates = 0;
  if (options.check_unique) {
    std::sort(path_hashes.begin(), path_hashes.end());
    for (size_t i = 1; i < path_hashes.size(); ++i) duplicates += path_hashes[i] == path_hashes[i - 1];
  }
  uint64_t length_sum = 0;
  size_t min_length = 0, max_length = 0;
  for (size_t length = 0; length < length_histogram.size(); ++length) {
    if (!length_histogram[length]) continue;
    if (!min_length) min_length = length;
    max_length = length;
    length_sum += length * length_histogram[length];
  }
  auto share = [n](uint64_t count) { return 100.0 * double(count) / double(n); };

  std::printf("bench generate: %s records (seed %llu)\n", FormatThousands(n).c_str(),
              static_cast<unsigned long long>(options.seed));
  std::printf("  generation          %s rec/s (%.3f µs/rec)\n", FormatSi(records_per_s).c_str(),
              1e6 / records_per_s);
  std::printf("  audio/video/images  %.1f%% / %.1f%% / %.1f%%\n", share(kinds[0]), share(kinds[1]),
              share(kinds[2]));
  std::printf("  untagged audio      %s rows (%.1f%% of audio); of tagged: genre '' %.1f%%, "
              "album_artist '' %.1f%%\n",
              FormatThousands(untagged_audio).c_str(), 100.0 * double(untagged_audio) / double(kinds[0]),
              100.0 * double(empty_genre) / double(tagged_audio),
              100.0 * double(empty_album_artist) / double(tagged_audio));
  std::printf("  distinct artists    %s (%.0f per 100k records), genres %zu\n",
              FormatThousands(artists.size()).c_str(), double(artists.size()) * 1e5 / double(n),
              genres.size());
  std::printf("  folders             %s, at most %s files in one, %s revisited (must be 0)\n",
              FormatThousands(folders).c_str(), FormatThousands(max_folder_files).c_str(),
              FormatThousands(revisited_folders).c_str());
  std::printf("  path bytes          mean %.1f, p1 %zu, p99 %zu, range %zu-%zu; %s outside 45-150\n",
              double(length_sum) / double(n), Percentile(length_histogram, n, 0.01),
              Percentile(length_histogram, n, 0.99), min_length, max_length,
              FormatThousands(short_paths + long_paths).c_str());
  std::printf("  non-ASCII paths     %.1f%%\n", share(non_ascii));
  std::printf("  string bytes/row    %.1f\n", double(string_bytes) / double(n));
  if (options.check_unique) {
    std::printf("  duplicate paths     %s (by 64-bit hash)\n", FormatThousands(duplicates).c_str());
  }

  const bool ok = duplicates == 0 && revisited_folders == 0 && short_paths + long_paths == 0 &&
                  !mismatched_derived;
  if (options.json) {
    JsonLine json;
    json.Add("bench", "generate")
        .Add("records", n)
        .Add("seed", options.seed)
        .Add("generation_records_per_s", records_per_s)
        .Add("audio_share", share(kinds[0]) / 100)
        .Add("video_share", share(kinds[1]) / 100)
        .Add("image_share", share(kinds[2]) / 100)
        .Add("untagged_audio_rows", untagged_audio)
        .Add("distinct_artists", uint64_t(artists.size()))
        .Add("distinct_genres", uint64_t(genres.size()))
        .Add("folders", folders)
        .Add("max_folder_files", max_folder_files)
        .Add("path_bytes_mean", double(length_sum) / double(n))
        .Add("path_bytes_min", uint64_t(min_length))
        .Add("path_bytes_max", uint64_t(max_length))
        .Add("string_bytes_per_row", double(string_bytes) / double(n))
        .Add("duplicate_paths", duplicates)
        .Add("ok", ok);
    std::printf("%s\n", json.ToString().c_str());
  }
  if (!ok) std::printf("error: the generated library breaks its own invariants (see above)\n");
  return ok ? 0 : 1;
}

}  // namespace zcmedia::bench

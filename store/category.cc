#include "category.h"

#include <algorithm>

#include "checksum.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using format::kCategoryIndex;

namespace {

constexpr int kCodeShift = 61;
constexpr uint64_t kValueMask = (uint64_t{1} << kCodeShift) - 1;
constexpr int64_t kYearBias = int64_t{1} << 60;

uint64_t Code(Category c) { return static_cast<uint64_t>(c) << kCodeShift; }

OptText TextOf(const MediaFileView& v, Category c) {
  switch (c) {
    case Category::kArtist: return v.artist();
    case Category::kAlbum: return v.album();
    case Category::kGenre: return v.genre();
    case Category::kAlbumArtist: return v.album_artist();
    case Category::kYear: break;
  }
  return std::nullopt;
}

// NULL first (SQLite's ascending order), then NOCASE, then bytes.
int CompareNullableNocase(OptText a, OptText b) {
  if (!a || !b) return a ? 1 : (b ? -1 : 0);
  const int c = CompareNocase(*a, *b);
  if (c != 0) return c;
  return a->compare(*b) < 0 ? -1 : (*a == *b ? 0 : 1);
}
int CompareNullableInt(OptInt a, OptInt b) {
  if (!a || !b) return a ? 1 : (b ? -1 : 0);
  return *a < *b ? -1 : (*a > *b ? 1 : 0);
}
int CompareNullableText(OptText a, OptText b) {
  if (!a || !b) return a ? 1 : (b ? -1 : 0);
  const int c = a->compare(*b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// The legacy order of the tracks of one value of `category`.
bool TrackBefore(Category category, const MediaFileView& a, const MediaFileView& b) {
  int c = 0;
  switch (category) {
    case Category::kGenre:
    case Category::kYear:
      c = CompareNullableNocase(a.artist(), b.artist());
      if (c == 0) c = CompareNullableNocase(a.album(), b.album());
      break;
    case Category::kArtist:
    case Category::kAlbumArtist:
      c = CompareNullableNocase(a.album(), b.album());
      break;
    case Category::kAlbum:
      break;
  }
  if (c == 0) c = CompareNullableInt(a.track_number(), b.track_number());
  if (c == 0) c = CompareNullableText(a.filename(), b.filename());
  if (c == 0) return a.id() < b.id();
  return c < 0;
}

bool ValueBefore(Category category, const CategoryCount& a, const CategoryCount& b) {
  if (category == Category::kYear) return a.year > b.year;
  const int c = CompareNocase(a.name, b.name);
  return c != 0 ? c < 0 : a.name < b.name;
}

}  // namespace

uint64_t CategoryKey(Category category, std::string_view value) {
  return Code(category) | (PathHash(value) >> (64 - kCodeShift));
}

bool YearKey(int64_t year, uint64_t* key) {
  if (year < -kYearBias || year >= kYearBias) return false;
  *key = Code(Category::kYear) | static_cast<uint64_t>(year + kYearBias);
  return true;
}

CategoryKeyRange KeyRangeOf(Category category) { return {Code(category), Code(category) | kValueMask}; }

bool IsAudioMimeType(OptText mime_type) {
  static constexpr std::string_view kAudio = "audio/";
  if (!mime_type || mime_type->size() < kAudio.size()) return false;
  return CompareNocase(mime_type->substr(0, kAudio.size()), kAudio) == 0;
}

int CompareNocase(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

CategoryKeys CategoryKeysOf(const MediaFileView& record) {
  CategoryKeys out;
  if (!IsAudioMimeType(record.mime_type())) return out;
  for (Category c : {Category::kArtist, Category::kAlbum, Category::kGenre, Category::kAlbumArtist}) {
    const OptText value = TextOf(record, c);
    if (value && !value->empty()) out.keys[out.count++] = CategoryKey(c, *value);
  }
  if (const OptInt year = record.year(); year && YearKey(*year, &out.keys[out.count])) ++out.count;
  return out;
}

Status ListCategoryValues(const ReadView& view, Category category, std::optional<std::string_view> artist,
                          std::vector<CategoryCount>* out) {
  out->clear();
  if (artist) {
    // Albums of one artist: that artist's tracks, grouped by album.
    std::vector<MediaFileView> tracks;
    ZC_RETURN_IF_ERROR(ListCategoryTracks(view, Category::kArtist, *artist, 0, std::nullopt, &tracks));
    std::sort(tracks.begin(), tracks.end(), [](const MediaFileView& a, const MediaFileView& b) {
      return CompareNullableText(a.album(), b.album()) < 0;
    });
    for (const MediaFileView& t : tracks) {
      const OptText album = t.album();
      if (!album || album->empty()) continue;
      if (out->empty() || out->back().name != *album) out->push_back({*album, 0, 0});
      ++out->back().tracks;
    }
  } else {
    const CategoryKeyRange range = KeyRangeOf(category);
    std::vector<EntryRange> ranges;
    for (const RunPtr& run : view.runs[kCategoryIndex]) {
      if (run->size() == 0 || run->max_key() < range.first || run->min_key() > range.last) continue;
      const RunEntry* begin = run->LowerBound(range.first);
      const RunEntry* end = range.last == UINT64_MAX ? run->end() : run->LowerBound(range.last + 1);
      if (begin != end) ranges.push_back({begin, end});
    }
    Status status;
    uint64_t group_key = 0;
    MergeRanges(kCategoryIndex, ranges, /*drop_tombstones=*/true, [&](const RunEntry& e) {
      if (!status.ok()) return;
      if (!out->empty() && e.key == group_key) {
        ++out->back().tracks;
        return;
      }
      // A new value: its name from the first record that carries it.
      group_key = e.key;
      CategoryCount value;
      value.tracks = 1;
      if (category == Category::kYear) {
        value.year = static_cast<int64_t>(e.key & kValueMask) - kYearBias;
      } else {
        const fb::MediaFile* rec = nullptr;
        status = view.RecordAt(e.value & ~format::kTombstone, &rec);
        if (!status.ok()) return;
        const OptText text = TextOf(MediaFileView(rec), category);
        if (!text || CategoryKey(category, *text) != e.key) {
          status = Status::Corruption("category index entry points at a record without that value; run "
                                      "`zcmedia check --repair`");
          return;
        }
        value.name = *text;
      }
      out->push_back(value);
    });
    ZC_RETURN_IF_ERROR(status);
  }
  std::sort(out->begin(), out->end(),
            [category](const CategoryCount& a, const CategoryCount& b) { return ValueBefore(category, a, b); });
  return Status::OK();
}

Status ListCategoryTracks(const ReadView& view, Category category, std::string_view name, int64_t year,
                          std::optional<std::string_view> artist, std::vector<MediaFileView>* out) {
  out->clear();
  uint64_t key = 0;
  if (category == Category::kYear) {
    if (!YearKey(year, &key)) return Status::OK();
  } else {
    if (name.empty()) return Status::OK();  // empty values are in no category
    key = CategoryKey(category, name);
  }
  std::vector<uint64_t> locations;
  view.LookupMulti(kCategoryIndex, key, &locations);
  for (uint64_t loc : locations) view.PrefetchRecord(loc);
  for (uint64_t loc : locations) {
    const fb::MediaFile* rec = nullptr;
    ZC_RETURN_IF_ERROR(view.RecordAt(loc, &rec));
    const MediaFileView v(rec);
    const bool match = category == Category::kYear ? v.year() == year : TextOf(v, category) == name;
    if (!match) continue;  // another value with the same key hash
    if (artist && v.artist() != *artist) continue;
    out->push_back(v);
  }
  std::sort(out->begin(), out->end(),
            [category](const MediaFileView& a, const MediaFileView& b) { return TrackBefore(category, a, b); });
  return Status::OK();
}

}  // namespace zcmedia

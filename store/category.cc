#include "category.h"

#include <algorithm>
#include <cstring>
#include <span>

#include "checksum.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using format::kCategoryIndex;

namespace {

constexpr int kCodeShift = 61;
constexpr uint64_t kValueMask = (uint64_t{1} << kCodeShift) - 1;

uint64_t CodeBits(uint8_t code) { return static_cast<uint64_t>(code) << kCodeShift; }
uint8_t CodeOf(Category c) { return static_cast<uint8_t>(c); }

// The key codes whose entries make up `category` (no allocation: listings
// and track lists ask on every call).
std::span<const uint8_t> CodesOf(Category category) {
  static constexpr uint8_t kArtistCodes[] = {static_cast<uint8_t>(Category::kArtist), kArtistAndAlbumArtistCode};
  static constexpr uint8_t kAlbumArtistCodes[] = {static_cast<uint8_t>(Category::kAlbumArtist),
                                                  kArtistAndAlbumArtistCode};
  static constexpr uint8_t kOwnCode[] = {1, 2, 3, 4, 5};  // kOwnCode[c - 1] == c
  switch (category) {
    case Category::kArtist: return kArtistCodes;
    case Category::kAlbumArtist: return kAlbumArtistCodes;
    default: return std::span<const uint8_t>(&kOwnCode[CodeOf(category) - 1], 1);
  }
}

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

// Bytes [offset, offset + 8) of `text` with ASCII A-Z folded to a-z,
// zero-padded, as a big-endian number. Two texts whose folded 16-byte
// prefixes (NocasePrefix at 0 and 8) differ are ordered by them as
// CompareNocase orders the texts (a text that runs out first pads with
// zeros, and is the shorter one, which CompareNocase puts first too); when
// they are equal, only CompareNocase can tell.
uint64_t NocasePrefix(std::string_view text, size_t offset) {
  unsigned char bytes[8] = {};
  if (offset < text.size()) std::memcpy(bytes, text.data() + offset, std::min<size_t>(8, text.size() - offset));
  uint64_t prefix = 0;
  for (unsigned char b : bytes) prefix = (prefix << 8) | (b >= 'A' && b <= 'Z' ? b + 32u : b);
  return prefix;
}

bool ValueBefore(Category category, const CategoryCount& a, const CategoryCount& b) {
  if (category == Category::kYear) return a.year > b.year;
  const int c = CompareNocase(a.name, b.name);
  return c != 0 ? c < 0 : a.name < b.name;
}

// Sorts values into ValueBefore order. The names lie in their records,
// spread over the segments, so comparing them directly misses the cache at
// nearly every step (9 ms of a 66 ms SQL album listing at 1M records): the
// sort works on each name's folded 16-byte prefix, computed once, and reads
// two names only when their prefixes tie. Heap: 24 bytes per value while it
// sorts.
void SortValues(Category category, std::vector<CategoryCount>* values) {
  if (category == Category::kYear) {
    std::sort(values->begin(), values->end(),
              [](const CategoryCount& a, const CategoryCount& b) { return ValueBefore(Category::kYear, a, b); });
    return;
  }
  struct Keyed {
    uint64_t high, low;  // NocasePrefix at 0 and at 8
    uint32_t index;
  };
  std::vector<Keyed> keyed(values->size());
  for (uint32_t i = 0; i < keyed.size(); ++i) {
    const std::string_view name = (*values)[i].name;
    keyed[i] = {NocasePrefix(name, 0), NocasePrefix(name, 8), i};
  }
  std::sort(keyed.begin(), keyed.end(), [&](const Keyed& x, const Keyed& y) {
    if (x.high != y.high) return x.high < y.high;
    if (x.low != y.low) return x.low < y.low;
    return ValueBefore(category, (*values)[x.index], (*values)[y.index]);
  });
  std::vector<CategoryCount> sorted;
  sorted.reserve(values->size());
  for (const Keyed& k : keyed) sorted.push_back((*values)[k.index]);
  values->swap(sorted);
}

}  // namespace

uint64_t CategoryKey(uint8_t code, std::string_view value) {
  return CodeBits(code) | (PathHash(value) >> (64 - kCodeShift));
}
uint64_t CategoryKey(Category category, std::string_view value) { return CategoryKey(CodeOf(category), value); }

uint64_t YearKey(int64_t year) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(static_cast<uint64_t>(year) >> (8 * i));
  return CategoryKey(CodeOf(Category::kYear), std::string_view(reinterpret_cast<const char*>(bytes), 8));
}

CategoryKeyRange KeyRangeOf(uint8_t code) { return {CodeBits(code), CodeBits(code) | kValueMask}; }

bool IsAudioMimeType(OptText mime_type) { return MimeFamilyOf(mime_type) == MimeFamily::kAudio; }

int CompareNocase(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  // Equal bytes fold equal: skip the common prefix a word at a time (names
  // sorted for a listing share long prefixes: "The ...", "Various ...").
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) break;
  }
  for (; i < n; ++i) {
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
  const OptText artist = record.artist(), album_artist = record.album_artist();
  const bool has_artist = artist && !artist->empty(), has_album_artist = album_artist && !album_artist->empty();
  if (has_artist && has_album_artist && *artist == *album_artist) {
    out.keys[out.count++] = CategoryKey(kArtistAndAlbumArtistCode, *artist);
  } else {
    if (has_artist) out.keys[out.count++] = CategoryKey(Category::kArtist, *artist);
    if (has_album_artist) out.keys[out.count++] = CategoryKey(Category::kAlbumArtist, *album_artist);
  }
  for (Category c : {Category::kAlbum, Category::kGenre}) {
    const OptText value = TextOf(record, c);
    if (value && !value->empty()) out.keys[out.count++] = CategoryKey(c, *value);
  }
  if (const OptInt year = record.year()) out.keys[out.count++] = YearKey(*year);
  return out;
}

namespace {

// Appends one CategoryCount per value found under key code `code`: a merge
// of that key range of every run, counting each key's live entries and
// reading one record per key for the value itself.
Status AppendCodeValues(const ReadView& view, Category category, uint8_t code, std::vector<CategoryCount>* out) {
  const CategoryKeyRange range = KeyRangeOf(code);
  std::vector<EntryRange> ranges;
  for (const RunPtr& run : view.runs[kCategoryIndex]) {
    if (run->size() == 0 || run->max_key() < range.first || run->min_key() > range.last) continue;
    const RunEntry* begin = run->LowerBound(range.first);
    const RunEntry* end = run->LowerBound(range.last + 1);  // codes stay below 7: no overflow
    ZC_RETURN_IF_ERROR(run->damage());
    if (begin == end) continue;
    ZC_RETURN_IF_ERROR(run->VerifyEntries(begin, end));
    ranges.push_back({begin, end});
  }
  // First the groups (key, one record of each, count) from the entries
  // alone; then the records, each fetched a few groups ahead of its use, so
  // that their cache misses overlap instead of following one another.
  struct Group {
    uint64_t key;
    uint64_t location;
  };
  std::vector<Group> groups;
  const size_t first = out->size();
  MergeRanges(kCategoryIndex, ranges, /*drop_tombstones=*/true, [&](const RunEntry& e) {
    if (!groups.empty() && e.key == groups.back().key) {
      ++out->back().tracks;
      return;
    }
    groups.push_back({e.key, e.value & ~format::kTombstone});
    out->push_back(CategoryCount{{}, 0, 1});
  });
  constexpr size_t kPrefetchAhead = 8;
  for (size_t g = 0; g < groups.size() && g < kPrefetchAhead; ++g) view.PrefetchRecord(groups[g].location);
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g + kPrefetchAhead < groups.size()) view.PrefetchRecord(groups[g + kPrefetchAhead].location);
    const fb::MediaFile* rec = nullptr;
    ZC_RETURN_IF_ERROR(view.RecordAt(groups[g].location, &rec));
    const MediaFileView v(rec);
    CategoryCount& value = (*out)[first + g];
    bool matches = false;
    if (category == Category::kYear) {
      const OptInt year = v.year();
      matches = year && YearKey(*year) == groups[g].key;
      if (year) value.year = *year;
    } else {
      // Code 6 entries carry the artist, who is also the album artist.
      const OptText text = code == kArtistAndAlbumArtistCode ? v.artist() : TextOf(v, category);
      matches = text && CategoryKey(code, *text) == groups[g].key;
      if (text) value.name = *text;
    }
    if (!matches)
      return Status::Corruption("category index entry points at a record without that value; run "
                                "`zcmedia check --repair`");
  }
  return Status::OK();
}

}  // namespace

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
    for (uint8_t code : CodesOf(category)) ZC_RETURN_IF_ERROR(AppendCodeValues(view, category, code, out));
  }
  SortValues(category, out);
  // Artists and album artists come from two codes: the same value may have
  // entries under both (tracks where it is also, or only, the album artist).
  if (CodesOf(category).size() > 1) {
    size_t kept = 0;
    for (size_t i = 0; i < out->size(); ++i) {
      if (kept > 0 && (*out)[kept - 1].name == (*out)[i].name)
        (*out)[kept - 1].tracks += (*out)[i].tracks;
      else
        (*out)[kept++] = (*out)[i];
    }
    out->resize(kept);
  }
  return Status::OK();
}

Status ListCategoryTracks(const ReadView& view, Category category, std::string_view name, int64_t year,
                          std::optional<std::string_view> artist, std::vector<MediaFileView>* out, bool sorted) {
  out->clear();
  std::vector<uint64_t> locations;
  if (category == Category::kYear) {
    view.LookupMulti(kCategoryIndex, YearKey(year), &locations);
  } else {
    if (name.empty()) return Status::OK();  // empty values are in no category
    for (uint8_t code : CodesOf(category)) view.LookupMulti(kCategoryIndex, CategoryKey(code, name), &locations);
  }
  ZC_RETURN_IF_ERROR(view.IndexDamage(kCategoryIndex));
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
  if (sorted)
    std::sort(out->begin(), out->end(),
              [category](const MediaFileView& a, const MediaFileView& b) { return TrackBefore(category, a, b); });
  return Status::OK();
}

}  // namespace zcmedia

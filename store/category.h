// The category index: music categories of audio records (store.h,
// "Category") as keys of one multi-valued index, and the listings built on
// it. Key layout (docs/format.md, "Category index"):
//
//   bits 63..61  the category: 1 artist, 2 album, 3 genre, 4 year,
//                5 album artist, 6 artist who is also the album artist
//   bits 60..0   the top 61 bits of XXH3-64 of the exact value (a year:
//                of its 8 little-endian bytes)
//
// A track whose album artist equals its artist (most tracks of most
// libraries) has one code-6 entry instead of a code-1 and a code-5 entry;
// artist queries read codes 1 and 6, album-artist queries codes 5 and 6.
// One code's entries are one key range, so a listing is a range merge over
// the runs; the entries of one value are adjacent. A value whose hash
// collides with another's (probability ~2^-61 per pair) would be counted
// with it in listings; track lists compare the exact value and are exact.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "snapshot.h"
#include "zcmedia/store.h"

namespace zcmedia {

constexpr int kCategoryCount = 5;

struct CategoryKeyRange {
  uint64_t first;
  uint64_t last;
};
// Key codes (bits 63..61): the categories' own, and this shared one.
constexpr uint8_t kArtistAndAlbumArtistCode = 6;
uint64_t CategoryKey(uint8_t code, std::string_view value);
uint64_t CategoryKey(Category category, std::string_view value);
uint64_t YearKey(int64_t year);
CategoryKeyRange KeyRangeOf(uint8_t code);

// mime_type LIKE 'audio/%' (ASCII case-insensitive).
bool IsAudioMimeType(OptText mime_type);
// SQLite's NOCASE collation: bytes compared with ASCII A-Z folded to a-z.
int CompareNocase(std::string_view a, std::string_view b);

// The category index keys of a record: none unless it is audio; one per
// category whose value is neither NULL nor empty.
struct CategoryKeys {
  uint64_t keys[kCategoryCount];
  uint8_t count = 0;
};
CategoryKeys CategoryKeysOf(const MediaFileView& record);

// Snapshot::ListCategory and ListAlbumsOfArtist (`artist` set).
Status ListCategoryValues(const ReadView& view, Category category, std::optional<std::string_view> artist,
                          std::vector<CategoryCount>* out);
// Snapshot::ListTracks, ListTracksOfYear and ListAlbumTracks: the records
// under `key` whose `category` value is `name` (or `year`), by `artist`
// when given, sorted in the category's legacy order.
// `sorted`: in the legacy order (else as the index has them).
Status ListCategoryTracks(const ReadView& view, Category category, std::string_view name, int64_t year,
                          std::optional<std::string_view> artist, std::vector<MediaFileView>* out, bool sorted = true);

}  // namespace zcmedia

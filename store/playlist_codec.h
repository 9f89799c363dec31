// Encoding PlaylistFields / PlaylistEntryFields into FlatBuffers, checking
// them when read back from disk, and the keys they have in the playlist
// index.
#pragma once

#include <cstdint>

#include <flatbuffers/flatbuffers.h>

#include "zcmedia/playlist.h"

namespace zcmedia {

// Builds a record (a FlatBuffer, not size-prefixed) into `builder` (cleared first). The id is
// always present so the store can patch it in place at commit.
void EncodePlaylist(const PlaylistFields& f, int64_t id, flatbuffers::FlatBufferBuilder* builder);
void EncodePlaylistEntry(const PlaylistEntryFields& f, int64_t id, flatbuffers::FlatBufferBuilder* builder);

// The FlatBuffers verifier over exactly `n` bytes; nullptr when it fails.
const fb::Playlist* VerifyPlaylist(const uint8_t* data, size_t n);
const fb::PlaylistEntry* VerifyPlaylistEntry(const uint8_t* data, size_t n);

// Keys of the playlist index (format::kPlaylistIndex; docs/format.md,
// "Playlist index"). One multi-valued index holds several key spaces, told
// apart by the top five bits; values are record locations as elsewhere.
//   kPlaylistById      59-bit id (ordered: a range walk lists playlists by id)
//   kPlaylistByName    XXH3 of the name
//   kEntryById         59-bit id (ordered: the full scan of entries)
//   kEntryByPlaylist   XXH3 of playlist_id         (entries of a playlist; cascade)
//   kEntryByMedia      XXH3 of media_file_id       (cascade on media removal)
//   kEntryByPosition   XXH3 of (playlist_id, position)       UNIQUE
//   kEntryByPair       XXH3 of (playlist_id, media_file_id)  UNIQUE
// Hashed keys may collide: readers compare the record's own fields.
enum class PlaylistKeySpace : uint8_t {
  kPlaylistById = 1,
  kPlaylistByName = 2,
  kEntryById = 3,
  kEntryByPlaylist = 4,
  kEntryByMedia = 5,
  kEntryByPosition = 6,
  kEntryByPair = 7,
};
constexpr int kPlaylistKeyShift = 59;
uint64_t PlaylistIdKey(PlaylistKeySpace space, int64_t id);  // kPlaylistById, kEntryById
uint64_t PlaylistNameKey(std::string_view name);
uint64_t PlaylistIntKey(PlaylistKeySpace space, int64_t a);             // by playlist, by media
uint64_t PlaylistPairKey(PlaylistKeySpace space, int64_t a, int64_t b);  // by position, by pair

// The index keys of one version of a playlist / an entry.
struct PlaylistRecordKeys {
  uint64_t keys[5];
  uint8_t count = 0;
};
PlaylistRecordKeys KeysOf(const PlaylistView& playlist);
PlaylistRecordKeys KeysOf(const PlaylistEntryView& entry);

}  // namespace zcmedia

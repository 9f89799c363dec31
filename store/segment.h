// Segments: append-only files of batches (docs/format.md, "Segments").
//
// A Segment is mapped once, read-only, at Options::segment_max_bytes, so the
// address of every byte stays fixed for the life of the store object while
// the file grows underneath (bytes past the end of the file are never
// touched: every access is bounded by a committed length). The writer
// appends with pwrite through its own descriptor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "format.h"
#include "zcmedia/env.h"
#include "zcmedia/status.h"

namespace zcmedia {

namespace fb {
struct MediaFile;
struct Playlist;
struct PlaylistEntry;
struct Directory;
}  // namespace fb

class Segment {
 public:
  // Creates (or resets) segment file `number`: writes and syncs its header.
  static Status Create(Env* env, const std::string& dir, uint32_t number, uint64_t map_bytes,
                       std::shared_ptr<Segment>* out);
  // Opens an existing segment and checks its header. `min_length` is the
  // committed length the meta page promises; a shorter file is Corruption.
  static Status Open(Env* env, const std::string& dir, uint32_t number, uint64_t map_bytes,
                     uint64_t min_length, bool writable, std::shared_ptr<Segment>* out);

  uint32_t number() const { return number_; }
  const std::string& path() const { return path_; }
  const uint8_t* base() const { return mapping_->data(); }
  size_t mapped_bytes() const { return mapping_->length(); }
  File* file() { return file_.get(); }

 private:
  Segment() = default;
  uint32_t number_ = 0;
  std::string path_;
  std::unique_ptr<File> file_;
  std::unique_ptr<Mapping> mapping_;
};

using SegmentPtr = std::shared_ptr<Segment>;

// One decoded entry of a batch.
struct BatchEntry {
  format::EntryKind kind;
  int64_t id;
  uint64_t offset;                  // of its EntryHeader within the segment
  uint32_t entry_bytes;             // header and padded payload
  // The verified record of a Put entry (the one matching `kind`), else null.
  const fb::MediaFile* record = nullptr;
  const fb::Playlist* playlist = nullptr;
  const fb::PlaylistEntry* playlist_entry = nullptr;
  const fb::Directory* directory = nullptr;
};

// Parses and verifies the batch at `offset` of a segment whose committed
// length is `limit`: header checksum, body checksum, each entry's checksum
// and the FlatBuffers verifier. Calls on_entry(const BatchEntry&) for each
// entry in order and sets *next to the offset after the batch.
template <typename OnEntry>
Status ReadBatch(const Segment& seg, uint64_t offset, uint64_t limit, uint64_t* sequence,
                 uint64_t* next, OnEntry&& on_entry);

// Verifies the entry at `offset` and returns its record (kPutMedia only).
// `limit` is the committed length: nothing at or past it is read.
// `entry_bytes`, when given, receives the entry's size in the segment
// (header and padded payload).
Status ReadRecordAt(const Segment& seg, uint64_t offset, uint64_t limit, const fb::MediaFile** record,
                    uint32_t* entry_bytes = nullptr);

// The same for playlist records (kPutPlaylist, kPutPlaylistEntry).
Status ReadPlaylistAt(const Segment& seg, uint64_t offset, uint64_t limit, const fb::Playlist** record,
                      uint32_t* entry_bytes = nullptr);
Status ReadPlaylistEntryAt(const Segment& seg, uint64_t offset, uint64_t limit, const fb::PlaylistEntry** record,
                           uint32_t* entry_bytes = nullptr);
// The same for a Directory record (kPutDirectory; it has no id).
Status ReadDirectoryAt(const Segment& seg, uint64_t offset, uint64_t limit, const fb::Directory** record,
                       uint32_t* entry_bytes = nullptr);
// The checked payload of the entry of `kind` at `offset` (location, kind,
// bounds and entry checksum; no FlatBuffers verification).
Status ReadEntryPayloadAt(const Segment& seg, uint64_t offset, uint64_t limit, format::EntryKind kind,
                          const uint8_t** payload, uint32_t* length, uint32_t* entry_bytes);

// Entry checksum (format.md): low 32 bits of XXH3_64(payload, seed).
uint32_t EntryChecksum(int64_t id, uint32_t length_and_kind, const uint8_t* payload);

}  // namespace zcmedia

#include "segment_read.h"

// Encoding MediaFileFields into MediaFile FlatBuffers, and checking records
// read back from disk.
#pragma once

#include <cstdint>
#include <string_view>

#include <flatbuffers/flatbuffers.h>

#include "zcmedia/media_file.h"

namespace zcmedia {

namespace fb { struct Directory; }

// The fixed table of legacy mime types (docs/format.md). Index 0 is unused:
// mime_code 0 means "not in the table". Append only; never reorder.
std::string_view MimeTypeForCode(uint8_t code);  // "" for unknown codes
uint8_t CodeForMimeType(std::string_view mime);  // 0 when not in the table

// Builds a MediaFile FlatBuffer (not size-prefixed: the entry header holds
// its length) for `f` with id `id` into `builder`
// (cleared first). Columns equal to their derived value are left out and
// flagged in `derived`.
void EncodeMediaFile(const MediaFileFields& f, int64_t id, flatbuffers::FlatBufferBuilder* builder);

// Runs the FlatBuffers verifier over a buffer of exactly `n`
// bytes and returns the record, or nullptr when it does not verify.
const fb::MediaFile* VerifyMediaFile(const uint8_t* data, size_t n);

// The FlatBuffers verifier over exactly `n` bytes of a table
// without a file identifier (playlists, entries, directories; all shallow);
// nullptr when it fails.
template <typename T>
const T* VerifyRecord(const uint8_t* data, size_t n) {
  if (n < sizeof(flatbuffers::uoffset_t) * 2) return nullptr;
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 4;
  opts.max_tables = 8;
  flatbuffers::Verifier verifier(data, n, opts);
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(data);
}

// A Directory record of the tree (docs/format.md, "Directory tree") for
// `path`: its 60-bit hash and its tail; and its verifier.
void EncodeDirectory(std::string_view path, flatbuffers::FlatBufferBuilder* builder);
const fb::Directory* VerifyDirectory(const uint8_t* data, size_t n);

}  // namespace zcmedia

// WriteBatch::Rep: the encoded body of a batch, ready to append.
#pragma once

#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "format.h"
#include "zcmedia/store.h"

namespace zcmedia {

struct WriteBatch::Rep {
  enum class Op : uint8_t { kPut, kUpdate, kRemove };
  // Which table an item writes: the entry kind of its Put (or Remove).
  enum class Table : uint8_t { kMedia, kPlaylist, kPlaylistEntry, kDirectory };  // kDirectory: added by the writer (no id)
  struct Item {
    Op op;
    Table table;
    int64_t id;        // 0 for a Put whose id the store assigns
    uint64_t offset;   // of its EntryHeader within `body`
    bool oversized;    // payload over format::kMaxPayload: refused at commit
    // Index keys of a Put/Update, hashed here on the caller's thread so the
    // commit does not have to (0 when not applicable).
    uint64_t path_hash;
    uint64_t parent_hash;
    bool has_parent;
  };
  // Entries exactly as they will sit in the segment, except that assigned
  // ids and entry checksums are filled in at commit.
  std::vector<uint8_t> body;
  std::vector<Item> items;
  int64_t raise_next_id = 0;
  int64_t raise_next_playlist_id = 0;
  int64_t raise_next_entry_id = 0;
  flatbuffers::FlatBufferBuilder builder{1024};

  void Append(Op op, Table table, int64_t id, format::EntryKind kind, const uint8_t* payload, uint32_t length,
              const MediaFileFields* fields = nullptr);
  // Append() of the record just built in `builder`.
  void AppendBuilt(Op op, Table table, int64_t id, format::EntryKind kind, const MediaFileFields* fields = nullptr) {
    Append(op, table, id, kind, builder.GetBufferPointer(), builder.GetSize(), fields);
  }
};

}  // namespace zcmedia

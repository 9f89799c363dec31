#include "write_batch.h"

#include <cstring>

#include <algorithm>

#include "checksum.h"
#include "playlist_codec.h"
#include "record_codec.h"

namespace zcmedia {

using namespace format;

void WriteBatch::Rep::Append(Op op, Table table, int64_t id, EntryKind kind, const uint8_t* payload, uint32_t length,
                             const MediaFileFields* fields) {
  const uint64_t offset = body.size();
  const bool oversized = length > kMaxPayload;
  if (oversized) length = 0;  // keep the body well-formed; Write refuses the batch
  body.resize(offset + sizeof(EntryHeader) + Align8(length), 0);
  EntryHeader h{};
  h.id = id;
  h.length_and_kind = length | (static_cast<uint32_t>(kind) << 24);
  std::memcpy(body.data() + offset, &h, sizeof(h));
  if (length > 0) std::memcpy(body.data() + offset + sizeof(h), payload, length);
  Item item{op, table, id, offset, oversized, 0, 0, false};
  if (fields != nullptr) {
    item.path_hash = PathHash(fields->path);
    item.has_parent = fields->parent_path.has_value();
    if (item.has_parent) item.parent_hash = PathHash(*fields->parent_path);
  }
  items.push_back(item);
}

WriteBatch::WriteBatch() : rep_(std::make_unique<Rep>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

using Op = WriteBatch::Rep::Op;
using Table = WriteBatch::Rep::Table;

void WriteBatch::Put(const MediaFileFields& f) {
  EncodeMediaFile(f, f.id, &rep_->builder);
  rep_->AppendBuilt(Op::kPut, Table::kMedia, f.id, EntryKind::kPutMedia, &f);
}

void WriteBatch::Update(int64_t id, const MediaFileFields& f) {
  EncodeMediaFile(f, id, &rep_->builder);
  rep_->AppendBuilt(Op::kUpdate, Table::kMedia, id, EntryKind::kPutMedia, &f);
}

void WriteBatch::Remove(int64_t id) {
  rep_->Append(Op::kRemove, Table::kMedia, id, EntryKind::kRemoveMedia, nullptr, 0);
}

void WriteBatch::RaiseNextId(int64_t next_id) { rep_->raise_next_id = std::max(rep_->raise_next_id, next_id); }

void WriteBatch::PutPlaylist(const PlaylistFields& f) {
  EncodePlaylist(f, f.id, &rep_->builder);
  rep_->AppendBuilt(Op::kPut, Table::kPlaylist, f.id, EntryKind::kPutPlaylist);
}

void WriteBatch::UpdatePlaylist(int64_t id, const PlaylistFields& f) {
  EncodePlaylist(f, id, &rep_->builder);
  rep_->AppendBuilt(Op::kUpdate, Table::kPlaylist, id, EntryKind::kPutPlaylist);
}

void WriteBatch::RemovePlaylist(int64_t id) {
  rep_->Append(Op::kRemove, Table::kPlaylist, id, EntryKind::kRemovePlaylist, nullptr, 0);
}

void WriteBatch::PutPlaylistEntry(const PlaylistEntryFields& f) {
  EncodePlaylistEntry(f, f.id, &rep_->builder);
  rep_->AppendBuilt(Op::kPut, Table::kPlaylistEntry, f.id, EntryKind::kPutPlaylistEntry);
}

void WriteBatch::UpdatePlaylistEntry(int64_t id, const PlaylistEntryFields& f) {
  EncodePlaylistEntry(f, id, &rep_->builder);
  rep_->AppendBuilt(Op::kUpdate, Table::kPlaylistEntry, id, EntryKind::kPutPlaylistEntry);
}

void WriteBatch::RemovePlaylistEntry(int64_t id) {
  rep_->Append(Op::kRemove, Table::kPlaylistEntry, id, EntryKind::kRemovePlaylistEntry, nullptr, 0);
}

void WriteBatch::RaiseNextPlaylistId(int64_t next_id) {
  rep_->raise_next_playlist_id = std::max(rep_->raise_next_playlist_id, next_id);
}

void WriteBatch::RaiseNextPlaylistEntryId(int64_t next_id) {
  rep_->raise_next_entry_id = std::max(rep_->raise_next_entry_id, next_id);
}

size_t WriteBatch::size() const { return rep_->items.size(); }
size_t WriteBatch::ByteSize() const { return rep_->body.size(); }

void WriteBatch::Clear() {
  rep_->body.clear();
  rep_->items.clear();
  rep_->raise_next_id = 0;
  rep_->raise_next_playlist_id = 0;
  rep_->raise_next_entry_id = 0;
}

}  // namespace zcmedia

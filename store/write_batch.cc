#include "write_batch.h"

#include <cstring>

#include "checksum.h"
#include "record_codec.h"

namespace zcmedia {

using namespace format;

void WriteBatch::Rep::Append(Op op, int64_t id, EntryKind kind, const uint8_t* payload, uint32_t length,
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
  Item item{op, id, offset, oversized, 0, 0, false};
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

void WriteBatch::Put(const MediaFileFields& f) {
  EncodeMediaFile(f, f.id, &rep_->builder);
  rep_->Append(Rep::Op::kPut, f.id, EntryKind::kPutMedia, rep_->builder.GetBufferPointer(),
               rep_->builder.GetSize(), &f);
}

void WriteBatch::Update(int64_t id, const MediaFileFields& f) {
  EncodeMediaFile(f, id, &rep_->builder);
  rep_->Append(Rep::Op::kUpdate, id, EntryKind::kPutMedia, rep_->builder.GetBufferPointer(),
               rep_->builder.GetSize(), &f);
}

void WriteBatch::Remove(int64_t id) { rep_->Append(Rep::Op::kRemove, id, EntryKind::kRemoveMedia, nullptr, 0); }

void WriteBatch::RaiseNextId(int64_t next_id) {
  if (next_id > rep_->raise_next_id) rep_->raise_next_id = next_id;
}

size_t WriteBatch::size() const { return rep_->items.size(); }
size_t WriteBatch::ByteSize() const { return rep_->body.size(); }

void WriteBatch::Clear() {
  rep_->body.clear();
  rep_->items.clear();
  rep_->raise_next_id = 0;
}

}  // namespace zcmedia

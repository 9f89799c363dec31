#include "segment.h"

#include "playlist_codec.h"
#include "record_codec.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using namespace format;

Status SegmentCorruption(const Segment& seg, uint64_t offset, const std::string& what) {
  return Status::Corruption(seg.path() + " at offset " + std::to_string(offset) + ": " + what +
                            "; run `zcmedia check` for a full report");
}

namespace {
// Covers a typical record (~350 bytes with its entry header).
constexpr uint64_t kRecordPrefetchBytes = 448;
}  // namespace

uint32_t EntryChecksum(int64_t id, uint32_t length_and_kind, const uint8_t* payload) {
  const uint64_t seed = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ULL ^ length_and_kind;
  return static_cast<uint32_t>(Checksum64(payload, length_and_kind & 0xFFFFFFu, seed));
}

Status ReadEntryPayloadAt(const Segment& seg, uint64_t offset, uint64_t limit, EntryKind kind,
                          const uint8_t** payload, uint32_t* length, uint32_t* entry_bytes) {
  if (offset % 8 != 0 || offset < kSegmentHeaderSize || offset + sizeof(EntryHeader) > limit)
    return SegmentCorruption(seg, offset, "record location outside the committed data");
  // A record spans several cache lines and the checksum reads them all:
  // ask for them together (bounded by the committed length) rather than one
  // miss after another.
  const uint8_t* first_line = seg.base() + offset;
  for (uint64_t line = 0; line < kRecordPrefetchBytes && offset + line < limit; line += 64)
    __builtin_prefetch(first_line + line);
  EntryHeader eh;
  std::memcpy(&eh, seg.base() + offset, sizeof(eh));
  const uint32_t len = eh.payload_length();
  if (eh.kind() != kind)
    return SegmentCorruption(seg, offset, "index points at an entry that is not a record of the kind expected");
  if (len > limit - offset - sizeof(EntryHeader))
    return SegmentCorruption(seg, offset, "record runs past the committed length");
  *payload = seg.base() + offset + sizeof(EntryHeader);
  if (EntryChecksum(eh.id, eh.length_and_kind, *payload) != eh.checksum)
    return SegmentCorruption(seg, offset, "record checksum mismatch");
  *length = len;
  if (entry_bytes != nullptr) *entry_bytes = static_cast<uint32_t>(sizeof(EntryHeader) + Align8(len));
  return Status::OK();
}

namespace {
// The entry at `offset` of `kind`, through `verify`, with its id checked
// against the entry header's.
template <typename Record, typename Verify>
Status ReadTypedAt(const Segment& seg, uint64_t offset, uint64_t limit, EntryKind kind, Verify verify,
                   const Record** record, uint32_t* entry_bytes) {
  const uint8_t* payload = nullptr;
  uint32_t len = 0;
  ZC_RETURN_IF_ERROR(ReadEntryPayloadAt(seg, offset, limit, kind, &payload, &len, entry_bytes));
  const Record* rec = verify(payload, len);
  if (rec == nullptr) return SegmentCorruption(seg, offset, "record fails the FlatBuffers verifier");
  int64_t header_id = 0;
  std::memcpy(&header_id, seg.base() + offset, sizeof(header_id));
  if (rec->id() != header_id) return SegmentCorruption(seg, offset, "record id disagrees with its entry header");
  *record = rec;
  return Status::OK();
}
}  // namespace

Status ReadRecordAt(const Segment& seg, uint64_t offset, uint64_t limit, const fb::MediaFile** record,
                    uint32_t* entry_bytes) {
  return ReadTypedAt(seg, offset, limit, EntryKind::kPutMedia, VerifyMediaFile, record, entry_bytes);
}

Status ReadPlaylistAt(const Segment& seg, uint64_t offset, uint64_t limit, const fb::Playlist** record,
                      uint32_t* entry_bytes) {
  return ReadTypedAt(seg, offset, limit, EntryKind::kPutPlaylist, VerifyPlaylist, record, entry_bytes);
}

Status ReadPlaylistEntryAt(const Segment& seg, uint64_t offset, uint64_t limit, const fb::PlaylistEntry** record,
                           uint32_t* entry_bytes) {
  return ReadTypedAt(seg, offset, limit, EntryKind::kPutPlaylistEntry, VerifyPlaylistEntry, record, entry_bytes);
}

Status ReadDirectoryAt(const Segment& seg, uint64_t offset, uint64_t limit, const fb::Directory** record,
                       uint32_t* entry_bytes) {
  const uint8_t* payload = nullptr;
  uint32_t len = 0;
  ZC_RETURN_IF_ERROR(ReadEntryPayloadAt(seg, offset, limit, EntryKind::kPutDirectory, &payload, &len, entry_bytes));
  *record = VerifyDirectory(payload, len);
  if (*record == nullptr) return SegmentCorruption(seg, offset, "directory record fails the FlatBuffers verifier");
  return Status::OK();
}

Status Segment::Create(Env* env, const std::string& dir, uint32_t number, uint64_t map_bytes,
                       std::shared_ptr<Segment>* out) {
  std::shared_ptr<Segment> seg(new Segment());
  seg->number_ = number;
  seg->path_ = dir + "/" + SegmentFileName(number);
  ZC_RETURN_IF_ERROR(env->OpenFile(seg->path_, Env::OpenMode::kCreate, &seg->file_));
  ZC_RETURN_IF_ERROR(seg->file_->Truncate(0));
  SegmentHeader h{};
  h.magic = kSegmentMagic;
  h.format_version = kFormatVersion;
  h.segment_number = number;
  h.checksum = Checksum64(&h, offsetof(SegmentHeader, checksum));
  ZC_RETURN_IF_ERROR(seg->file_->PWrite(0, &h, sizeof(h)));
  ZC_RETURN_IF_ERROR(seg->file_->Sync());
  ZC_RETURN_IF_ERROR(env->Map(seg->file_.get(), map_bytes, &seg->mapping_));
  *out = std::move(seg);
  return Status::OK();
}

Status Segment::Open(Env* env, const std::string& dir, uint32_t number, uint64_t map_bytes,
                     uint64_t min_length, bool writable, std::shared_ptr<Segment>* out) {
  std::shared_ptr<Segment> seg(new Segment());
  seg->number_ = number;
  seg->path_ = dir + "/" + SegmentFileName(number);
  ZC_RETURN_IF_ERROR(env->OpenFile(seg->path_, writable ? Env::OpenMode::kReadWrite : Env::OpenMode::kReadOnly,
                                   &seg->file_));
  uint64_t size = 0;
  ZC_RETURN_IF_ERROR(seg->file_->Size(&size));
  if (size < kSegmentHeaderSize || size < min_length)
    return Status::Corruption(seg->path_ + ": segment is " + std::to_string(size) +
                              " bytes but " + std::to_string(std::max<uint64_t>(min_length, kSegmentHeaderSize)) +
                              " are committed (truncated file); restore it from a backup");
  if (min_length > map_bytes)
    return Status::Corruption(seg->path_ + ": committed length exceeds the segment size limit");
  SegmentHeader h;
  size_t got = 0;
  ZC_RETURN_IF_ERROR(seg->file_->PRead(0, &h, sizeof(h), &got));
  if (got != sizeof(h) || h.magic != kSegmentMagic)
    return Status::Corruption(seg->path_ + " at offset 0: not a zcmedia segment (bad magic)");
  if (Checksum64(&h, offsetof(SegmentHeader, checksum)) != h.checksum)
    return Status::Corruption(seg->path_ + " at offset 0: segment header checksum mismatch");
  if (h.format_version != kFormatVersion)
    return Status::Corruption(seg->path_ + ": unsupported segment format version " +
                              std::to_string(h.format_version));
  if (h.segment_number != number)
    return Status::Corruption(seg->path_ + ": header says segment " + std::to_string(h.segment_number));
  ZC_RETURN_IF_ERROR(env->Map(seg->file_.get(), map_bytes, &seg->mapping_));
  if (!writable) seg->file_.reset();  // the mapping keeps the file
  *out = std::move(seg);
  return Status::OK();
}

}  // namespace zcmedia

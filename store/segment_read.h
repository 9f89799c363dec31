// Template part of segment.h: batch parsing.
#pragma once

#include <cstring>

#include "checksum.h"

namespace zcmedia {

Status SegmentCorruption(const Segment& seg, uint64_t offset, const std::string& what);

template <typename OnEntry>
Status ReadBatch(const Segment& seg, uint64_t offset, uint64_t limit, uint64_t* sequence,
                 uint64_t* next, OnEntry&& on_entry) {
  using namespace format;
  if (offset % 8 != 0 || offset + sizeof(BatchHeader) > limit)
    return SegmentCorruption(seg, offset, "batch header runs past the committed length");
  BatchHeader h;
  std::memcpy(&h, seg.base() + offset, sizeof(h));
  if (h.magic != kBatchMagic) return SegmentCorruption(seg, offset, "bad batch magic");
  if (Checksum64(&h, offsetof(BatchHeader, header_checksum)) != h.header_checksum)
    return SegmentCorruption(seg, offset, "batch header checksum mismatch");
  if (h.format_version != kFormatVersion)
    return SegmentCorruption(seg, offset, "unsupported batch format version " + std::to_string(h.format_version));
  const uint64_t body = offset + sizeof(BatchHeader);
  if (h.body_length % 8 != 0 || h.body_length > limit - body)
    return SegmentCorruption(seg, offset, "batch body runs past the committed length");
  if (Checksum64(seg.base() + body, h.body_length) != h.body_checksum)
    return SegmentCorruption(seg, offset, "batch body checksum mismatch");
  uint64_t pos = body;
  const uint64_t end = body + h.body_length;
  for (uint32_t i = 0; i < h.entry_count; ++i) {
    if (end - pos < sizeof(EntryHeader)) return SegmentCorruption(seg, pos, "entry header past batch end");
    EntryHeader eh;
    std::memcpy(&eh, seg.base() + pos, sizeof(eh));
    BatchEntry entry{eh.kind(), eh.id, pos,
                     static_cast<uint32_t>(sizeof(format::EntryHeader) + format::Align8(eh.payload_length()))};
    switch (eh.kind()) {
      case EntryKind::kPutMedia:
        ZC_RETURN_IF_ERROR(ReadRecordAt(seg, pos, end, &entry.record));
        break;
      case EntryKind::kPutPlaylist:
        ZC_RETURN_IF_ERROR(ReadPlaylistAt(seg, pos, end, &entry.playlist));
        break;
      case EntryKind::kPutPlaylistEntry:
        ZC_RETURN_IF_ERROR(ReadPlaylistEntryAt(seg, pos, end, &entry.playlist_entry));
        break;
      case EntryKind::kPutDirectory:
        ZC_RETURN_IF_ERROR(ReadDirectoryAt(seg, pos, end, &entry.directory));
        break;
      case EntryKind::kRemoveMedia:
      case EntryKind::kRemovePlaylist:
      case EntryKind::kRemovePlaylistEntry:
        if (eh.payload_length() != 0) return SegmentCorruption(seg, pos, "payload on an entry kind that has none");
        break;
      default:
        return SegmentCorruption(seg, pos, "unknown entry kind " + std::to_string(static_cast<int>(eh.kind())));
    }
    on_entry(entry);
    pos += sizeof(EntryHeader) + Align8(eh.payload_length());
  }
  if (pos != end) return SegmentCorruption(seg, pos, "batch entries do not fill the body");
  *sequence = h.sequence;
  *next = end;
  return Status::OK();
}

}  // namespace zcmedia

// The record codec: what EncodeMediaFile writes, VerifyMediaFile accepts;
// a wrong file identifier, a truncated or damaged buffer is refused.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "record_codec.h"
#include "zcmedia/media_file.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {
namespace {

std::vector<uint8_t> Encoded() {
  MediaFileFields f;
  f.path = "/music/a/b.mp3";
  FillDerivedColumns(f);
  f.size = 1234;
  f.modified = 1700000000;
  f.mime_type = "audio/mpeg";
  f.title = "Title";
  f.created_at = f.updated_at = 1700000000;
  flatbuffers::FlatBufferBuilder builder;
  EncodeMediaFile(f, 42, &builder);
  return {builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize()};
}

TEST(RecordCodecTest, VerifiesWhatItEncodes) {
  const std::vector<uint8_t> bytes = Encoded();
  const fb::MediaFile* record = VerifyMediaFile(bytes.data(), bytes.size());
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->id(), 42);
  EXPECT_EQ(MediaFileView(record).path(), "/music/a/b.mp3");
}

TEST(RecordCodecTest, RefusesAnotherFileIdentifier) {
  std::vector<uint8_t> bytes = Encoded();
  // The root offset, then the 4-byte identifier.
  ASSERT_EQ(std::memcmp(bytes.data() + 4, fb::MediaFileIdentifier(), 4), 0);
  for (size_t i = 4; i < 8; ++i) {
    std::vector<uint8_t> damaged = bytes;
    damaged[i] ^= 0x20;
    EXPECT_EQ(VerifyMediaFile(damaged.data(), damaged.size()), nullptr) << "identifier byte " << i;
  }
}

// The buffer is not size-prefixed (the entry header holds its length and
// the entry checksum covers both), so a truncation is refused by the
// verifier unless all it cuts is the builder's trailing zero padding.
TEST(RecordCodecTest, RefusesTruncatedAndEmptyBuffers) {
  const std::vector<uint8_t> bytes = Encoded();
  for (size_t n = 0; n < bytes.size(); ++n) {
    const fb::MediaFile* record = VerifyMediaFile(bytes.data(), n);
    if (record == nullptr) continue;
    for (size_t i = n; i < bytes.size(); ++i) EXPECT_EQ(bytes[i], 0) << "first " << n << " bytes accepted";
    EXPECT_EQ(MediaFileView(record).path(), "/music/a/b.mp3") << "first " << n << " bytes";
    EXPECT_EQ(MediaFileView(record).title(), "Title") << "first " << n << " bytes";
  }
  EXPECT_EQ(VerifyMediaFile(bytes.data(), bytes.size() - 4), nullptr) << "a cut into the data went unnoticed";
}

// The vtable holds a slot for each field id up to the highest present, so
// the schema numbers fields by how often they are present (format version
// 6): a file without tags whose derivable columns are left out stops at
// `derived`, a tagged track at `album_artist`.
uint16_t VtableBytes(const std::vector<uint8_t>& bytes) {
  const fb::MediaFile* record = VerifyMediaFile(bytes.data(), bytes.size());
  if (record == nullptr) return 0;
  return flatbuffers::ReadScalar<uint16_t>(reinterpret_cast<const flatbuffers::Table*>(record)->GetVTable());
}

std::vector<uint8_t> EncodedFields(const MediaFileFields& f) {
  flatbuffers::FlatBufferBuilder builder;
  EncodeMediaFile(f, 7, &builder);
  return {builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize()};
}

TEST(RecordCodecTest, VtableEndsAtTheRarestFieldPresent) {
  MediaFileFields video;
  video.path = "/media/Movies/A (2001)/A.mkv";
  FillDerivedColumns(video);
  video.size = 1 << 30;
  video.modified = 1700000000;
  video.mime_type = "video/x-matroska";
  video.created_at = video.updated_at = 1700000000;
  const size_t slot = sizeof(flatbuffers::voffset_t);
  EXPECT_EQ(VtableBytes(EncodedFields(video)), 2 * slot + 7 * slot);  // ids 0 (id) .. 6 (derived)

  MediaFileFields track = video;
  track.path = "/media/music/A/B (1999)/01 - C.flac";
  FillDerivedColumns(track);
  track.mime_type = "audio/flac";
  track.duration = 245000;
  track.title = "C";
  track.artist = "A";
  track.album = "B";
  track.genre = "Rock";
  track.track_number = 1;
  track.year = 1999;
  track.album_artist = "A";
  EXPECT_EQ(VtableBytes(EncodedFields(track)), 2 * slot + 15 * slot);  // .. 14 (album_artist)

  // A column that cannot be derived still round-trips, at the end of the table.
  MediaFileFields odd = track;
  odd.canonical_parent_path = "/elsewhere";
  odd.mime_type = "audio/x-unknown";
  const std::vector<uint8_t> bytes = EncodedFields(odd);
  EXPECT_EQ(VtableBytes(bytes), 2 * slot + 21 * slot);  // .. 20 (canonical_parent_path)
  const MediaFileView view(VerifyMediaFile(bytes.data(), bytes.size()));
  EXPECT_EQ(view.canonical_parent_path(), "/elsewhere");
  EXPECT_EQ(view.mime_type(), "audio/x-unknown");
  EXPECT_EQ(view.album_artist(), "A");
}

}  // namespace
}  // namespace zcmedia

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
  // Size prefix, root offset, then the 4-byte identifier.
  ASSERT_EQ(std::memcmp(bytes.data() + 8, fb::MediaFileIdentifier(), 4), 0);
  for (size_t i = 8; i < 12; ++i) {
    std::vector<uint8_t> damaged = bytes;
    damaged[i] ^= 0x20;
    EXPECT_EQ(VerifyMediaFile(damaged.data(), damaged.size()), nullptr) << "identifier byte " << i;
  }
}

TEST(RecordCodecTest, RefusesTruncatedAndEmptyBuffers) {
  const std::vector<uint8_t> bytes = Encoded();
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_EQ(VerifyMediaFile(bytes.data(), n), nullptr) << "first " << n << " bytes accepted";
}

}  // namespace
}  // namespace zcmedia

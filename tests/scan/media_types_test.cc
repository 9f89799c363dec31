#include "media_types.h"

#include <gtest/gtest.h>

namespace zcmedia::scan {
namespace {

TEST(MediaTypesTest, KnownExtensionsInAnyCase) {
  EXPECT_EQ(MimeTypeForFilename("song.mp3"), "audio/mpeg");
  EXPECT_EQ(MimeTypeForFilename("/music/A/Song.FLAC"), "audio/flac");
  EXPECT_EQ(MimeTypeForFilename("x.M4a"), "audio/mp4");
  EXPECT_EQ(MimeTypeForFilename("film.mkv"), "video/x-matroska");
  EXPECT_EQ(MimeTypeForFilename("p.JPEG"), "image/jpeg");
  EXPECT_EQ(MimeTypeForFilename("v.svg"), "image/svg+xml");
}

TEST(MediaTypesTest, UnknownOrMissingExtensions) {
  EXPECT_EQ(MimeTypeForFilename("notes.txt"), std::nullopt);
  EXPECT_EQ(MimeTypeForFilename("README"), std::nullopt);
  EXPECT_EQ(MimeTypeForFilename(".mp3"), std::nullopt);  // a dot file, not an mp3
  EXPECT_EQ(MimeTypeForFilename("dir.mp3/file"), std::nullopt);
  EXPECT_EQ(MimeTypeForFilename("song."), std::nullopt);
  EXPECT_EQ(MimeTypeForFilename("x.verylongextension"), std::nullopt);
  EXPECT_EQ(MimeTypeForFilename("list.m3u"), std::nullopt);  // playlists are not media
}

TEST(MediaTypesTest, PlaylistFormats) {
  EXPECT_EQ(PlaylistFormatForFilename("a.m3u"), PlaylistFormat::kM3u);
  EXPECT_EQ(PlaylistFormatForFilename("a.M3U8"), PlaylistFormat::kM3u8);
  EXPECT_EQ(PlaylistFormatForFilename("/x/y.pls"), PlaylistFormat::kPls);
  EXPECT_EQ(PlaylistFormatForFilename("a.mp3"), std::nullopt);
}

}  // namespace
}  // namespace zcmedia::scan

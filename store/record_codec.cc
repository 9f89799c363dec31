#include "record_codec.h"

#include <array>
#include <cstring>

#include "checksum.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

namespace {
// Code i is kMimeTable[i]. Append only: codes are stored in records.
constexpr std::array<std::string_view, 27> kMimeTable = {
    "",  // 0: not in the table
    "video/x-matroska", "video/mp4", "video/x-msvideo", "video/quicktime", "video/x-ms-wmv",
    "video/x-flv", "video/webm", "video/x-m4v", "video/3gpp", "video/mpeg",
    "audio/mpeg", "audio/flac", "audio/wav", "audio/aac", "audio/ogg", "audio/x-ms-wma",
    "audio/mp4", "audio/opus", "audio/aiff",
    "image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff", "image/webp",
    "image/svg+xml",
};
}  // namespace

std::string_view MimeTypeForCode(uint8_t code) {
  return code < kMimeTable.size() ? kMimeTable[code] : std::string_view();
}

uint8_t CodeForMimeType(std::string_view mime) {
  for (size_t i = 1; i < kMimeTable.size(); ++i)
    if (kMimeTable[i] == mime) return static_cast<uint8_t>(i);
  return 0;
}

void EncodeMediaFile(const MediaFileFields& f, int64_t id, flatbuffers::FlatBufferBuilder* b) {
  using fb::Derived;
  b->Clear();
  auto str = [b](const OptText& s) {
    return s ? b->CreateString(s->data(), s->size()) : flatbuffers::Offset<flatbuffers::String>();
  };
  uint32_t derived = 0;
  const std::string_view parent = DeriveParentPath(f.path);
  // Which columns can be left out: each is exactly what a reader would derive.
  const bool parent_derived = f.parent_path && *f.parent_path == parent;
  const bool filename_derived = f.filename && *f.filename == DeriveFilename(f.path);
  const bool canon_derived = f.canonical_path && *f.canonical_path == f.path;
  const bool canon_parent_derived =
      f.canonical_parent_path && f.parent_path && *f.canonical_parent_path == *f.parent_path;
  if (parent_derived) derived |= static_cast<uint32_t>(Derived::ParentPath);
  if (filename_derived) derived |= static_cast<uint32_t>(Derived::Filename);
  if (canon_derived) derived |= static_cast<uint32_t>(Derived::CanonicalPath);
  if (canon_parent_derived) derived |= static_cast<uint32_t>(Derived::CanonicalParentPath);
  if (f.updated_at == f.created_at) derived |= static_cast<uint32_t>(Derived::UpdatedAt);

  // Strings first (FlatBuffers builds back to front; tables need them done).
  auto path = b->CreateString(f.path.data(), f.path.size());
  auto parent_path = parent_derived ? decltype(path)() : str(f.parent_path);
  auto canonical_path = canon_derived ? decltype(path)() : str(f.canonical_path);
  auto canonical_parent = canon_parent_derived ? decltype(path)() : str(f.canonical_parent_path);
  auto filename = filename_derived ? decltype(path)() : str(f.filename);
  uint8_t mime_code = f.mime_type ? CodeForMimeType(*f.mime_type) : 0;
  auto mime = mime_code != 0 ? decltype(path)() : str(f.mime_type);
  auto title = str(f.title);
  auto artist = str(f.artist);
  auto album = str(f.album);
  auto genre = str(f.genre);
  auto album_artist = str(f.album_artist);

  fb::MediaFileBuilder mb(*b);
  // id is always present (even 0) so a committed record can be patched in
  // place when the store assigns the id at commit time.
  b->ForceDefaults(true);
  mb.add_id(id);
  b->ForceDefaults(false);
  mb.add_size(f.size);
  mb.add_modified(f.modified);
  mb.add_created_at(f.created_at);
  if (f.updated_at != f.created_at) mb.add_updated_at(f.updated_at);
  if (f.duration) mb.add_duration(*f.duration);
  if (f.track_number) mb.add_track_number(*f.track_number);
  if (f.year) mb.add_year(*f.year);
  mb.add_path(path);
  if (!parent_path.IsNull()) mb.add_parent_path(parent_path);
  if (!canonical_path.IsNull()) mb.add_canonical_path(canonical_path);
  if (!canonical_parent.IsNull()) mb.add_canonical_parent_path(canonical_parent);
  if (!filename.IsNull()) mb.add_filename(filename);
  if (!mime.IsNull()) mb.add_mime_type(mime);
  if (!title.IsNull()) mb.add_title(title);
  if (!artist.IsNull()) mb.add_artist(artist);
  if (!album.IsNull()) mb.add_album(album);
  if (!genre.IsNull()) mb.add_genre(genre);
  if (!album_artist.IsNull()) mb.add_album_artist(album_artist);
  if (mime_code != 0) mb.add_mime_code(mime_code);
  if (derived != 0) mb.add_derived(static_cast<Derived>(derived));
  b->Finish(mb.Finish(), fb::MediaFileIdentifier());
}

void EncodeDirectory(std::string_view path, flatbuffers::FlatBufferBuilder* b) {
  b->Clear();
  const std::string_view tail = path.substr(DeriveParentPath(path).size());
  auto t = b->CreateString(tail.data(), tail.size());
  b->Finish(fb::CreateDirectory(*b, PathHash(path) >> 4, t));
}

[[gnu::flatten]] const fb::Directory* VerifyDirectory(const uint8_t* data, size_t n) {  // flatten: see VerifyMediaFile
  const fb::Directory* d = VerifyRecord<fb::Directory>(data, n);
  return d != nullptr && d->tail() != nullptr ? d : nullptr;  // tail is required
}

// flatten: the generated Verify calls a small out-of-line function per
// field check (VerifyOffset, VerifyString, GetPointer); inlined into one
// body the checks cost about half as much, and every read pays for them.
[[gnu::flatten]] const fb::MediaFile* VerifyMediaFile(const uint8_t* data, size_t n) {
  // Root offset, then the file identifier.
  constexpr size_t kIdentifierAt = sizeof(flatbuffers::uoffset_t);
  if (n < kIdentifierAt + flatbuffers::kFileIdentifierLength) return nullptr;
  // The identifier compared here as 4 bytes: the generated check's strncmp
  // was 2% of a scan that reads every record.
  if (std::memcmp(data + kIdentifierAt, fb::MediaFileIdentifier(), flatbuffers::kFileIdentifierLength) != 0)
    return nullptr;
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 8;
  opts.max_tables = 64;
  flatbuffers::Verifier verifier(data, n, opts);
  if (!verifier.VerifyBuffer<fb::MediaFile>(nullptr)) return nullptr;
  return fb::GetMediaFile(data);
}

}  // namespace zcmedia

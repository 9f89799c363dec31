#include "zcmedia/media_file.h"

#include <string.h>  // memrchr (GNU)

#include "record_codec.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

namespace {
// Hot (every encode, every derived column read, several times per record
// in the writer): two vectorised memrchr scans, the second only over the
// name after the last '/' (a backslash there is a Windows separator). A
// byte-by-byte reverse loop cost about 260 instructions per call
// (callgrind, generated paths).
size_t LastSeparator(std::string_view path) {
  if (path.empty()) return std::string_view::npos;  // data() may be null: not for memrchr
  const char* const begin = path.data();
  const auto* slash = static_cast<const char*>(memrchr(begin, '/', path.size()));
  const size_t name = slash == nullptr ? 0 : static_cast<size_t>(slash - begin) + 1;
  const auto* backslash = static_cast<const char*>(memrchr(begin + name, '\\', path.size() - name));
  if (backslash != nullptr) return static_cast<size_t>(backslash - begin);
  return slash == nullptr ? std::string_view::npos : name - 1;
}

// The parent path given the position of the last separator ("/" for "/x").
std::string_view ParentPathAt(std::string_view path, size_t sep) {
  if (sep == std::string_view::npos) return {};
  if (sep == 0) return path.substr(0, 1);
  return path.substr(0, sep);
}

OptText Text(const flatbuffers::String* s) {
  if (s == nullptr) return std::nullopt;
  return std::string_view(s->c_str(), s->size());
}
OptInt Int(const flatbuffers::Optional<int64_t>& v) {
  if (!v.has_value()) return std::nullopt;
  return *v;
}
bool Has(const fb::MediaFile* r, fb::Derived bit) {
  return (static_cast<uint32_t>(r->derived()) & static_cast<uint32_t>(bit)) != 0;
}
}  // namespace

std::string_view DeriveParentPath(std::string_view path) {
  return ParentPathAt(path, LastSeparator(path));
}

std::string_view DeriveFilename(std::string_view path) {
  size_t sep = LastSeparator(path);
  return sep == std::string_view::npos ? path : path.substr(sep + 1);
}

void FillDerivedColumns(MediaFileFields& f) {
  f.parent_path = DeriveParentPath(f.path);
  f.filename = DeriveFilename(f.path);
  f.canonical_path = f.path;
  f.canonical_parent_path = f.parent_path;
}

int64_t MediaFileView::id() const { return rec_->id(); }
std::string_view MediaFileView::path() const { return *Text(rec_->path()); }
OptText MediaFileView::parent_path() const {
  if (Has(rec_, fb::Derived::ParentPath)) return DeriveParentPath(path());
  return Text(rec_->parent_path());
}
OptText MediaFileView::canonical_path() const {
  if (Has(rec_, fb::Derived::CanonicalPath)) return path();
  return Text(rec_->canonical_path());
}
OptText MediaFileView::canonical_parent_path() const {
  if (Has(rec_, fb::Derived::CanonicalParentPath)) return parent_path();
  return Text(rec_->canonical_parent_path());
}
OptText MediaFileView::filename() const {
  if (Has(rec_, fb::Derived::Filename)) return DeriveFilename(path());
  return Text(rec_->filename());
}
bool MediaFileView::parent_leads_path() const {
  if (Has(rec_, fb::Derived::ParentPath)) return true;  // DeriveParentPath is a leading part
  const flatbuffers::String* parent = rec_->parent_path();
  return parent != nullptr && path().starts_with(std::string_view(parent->c_str(), parent->size()));
}
int64_t MediaFileView::size() const { return rec_->size(); }
int64_t MediaFileView::modified() const { return rec_->modified(); }
OptText MediaFileView::mime_type() const {
  if (rec_->mime_code() != 0) return MimeTypeForCode(rec_->mime_code());
  return Text(rec_->mime_type());
}
OptInt MediaFileView::duration() const { return Int(rec_->duration()); }
OptText MediaFileView::title() const { return Text(rec_->title()); }
OptText MediaFileView::artist() const { return Text(rec_->artist()); }
OptText MediaFileView::album() const { return Text(rec_->album()); }
OptText MediaFileView::genre() const { return Text(rec_->genre()); }
OptInt MediaFileView::track_number() const { return Int(rec_->track_number()); }
OptInt MediaFileView::year() const { return Int(rec_->year()); }
OptText MediaFileView::album_artist() const { return Text(rec_->album_artist()); }
int64_t MediaFileView::created_at() const { return rec_->created_at(); }
int64_t MediaFileView::updated_at() const {
  return Has(rec_, fb::Derived::UpdatedAt) ? rec_->created_at() : rec_->updated_at();
}

MediaFileFields MediaFileView::Fields() const {
  MediaFileFields f;
  f.id = id();
  f.path = path();
  // The derived columns share one scan for the last separator.
  const size_t sep = LastSeparator(f.path);
  f.parent_path = Has(rec_, fb::Derived::ParentPath) ? OptText(ParentPathAt(f.path, sep)) : Text(rec_->parent_path());
  f.canonical_path = Has(rec_, fb::Derived::CanonicalPath) ? OptText(f.path) : Text(rec_->canonical_path());
  f.canonical_parent_path =
      Has(rec_, fb::Derived::CanonicalParentPath) ? f.parent_path : Text(rec_->canonical_parent_path());
  f.filename = Has(rec_, fb::Derived::Filename)
                   ? OptText(sep == std::string_view::npos ? f.path : f.path.substr(sep + 1))
                   : Text(rec_->filename());
  f.size = size();
  f.modified = modified();
  f.mime_type = mime_type();
  f.duration = duration();
  f.title = title();
  f.artist = artist();
  f.album = album();
  f.genre = genre();
  f.track_number = track_number();
  f.year = year();
  f.album_artist = album_artist();
  f.created_at = created_at();
  f.updated_at = updated_at();
  return f;
}

bool SameColumns(const MediaFileFields& a, const MediaFileFields& b) {
  return a.id == b.id && a.path == b.path && a.parent_path == b.parent_path &&
         a.canonical_path == b.canonical_path && a.canonical_parent_path == b.canonical_parent_path &&
         a.filename == b.filename && a.size == b.size && a.modified == b.modified &&
         a.mime_type == b.mime_type && a.duration == b.duration && a.title == b.title &&
         a.artist == b.artist && a.album == b.album && a.genre == b.genre &&
         a.track_number == b.track_number && a.year == b.year && a.album_artist == b.album_artist &&
         a.created_at == b.created_at && a.updated_at == b.updated_at;
}

MimeFamily MimeFamilyOf(std::optional<std::string_view> mime_type) {
  if (!mime_type) return MimeFamily::kOther;
  auto starts_with = [&](std::string_view prefix) {
    if (mime_type->size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      char c = (*mime_type)[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c != prefix[i]) return false;
    }
    return true;
  };
  if (starts_with("audio/")) return MimeFamily::kAudio;
  if (starts_with("video/")) return MimeFamily::kVideo;
  if (starts_with("image/")) return MimeFamily::kImage;
  return MimeFamily::kOther;
}

}  // namespace zcmedia

#include "media_types.h"

#include <array>
#include <utility>

namespace zcmedia::scan {
namespace {

// Extension (lower case) -> the legacy server's mime type.
constexpr std::array<std::pair<std::string_view, std::string_view>, 33> kTypes{{
    {"mkv", "video/x-matroska"}, {"mp4", "video/mp4"},       {"avi", "video/x-msvideo"},
    {"mov", "video/quicktime"},  {"wmv", "video/x-ms-wmv"},  {"flv", "video/x-flv"},
    {"webm", "video/webm"},      {"m4v", "video/x-m4v"},     {"3gp", "video/3gpp"},
    {"mpg", "video/mpeg"},       {"mpeg", "video/mpeg"},     {"mp3", "audio/mpeg"},
    {"flac", "audio/flac"},      {"wav", "audio/wav"},       {"aac", "audio/aac"},
    {"ogg", "audio/ogg"},        {"oga", "audio/ogg"},       {"wma", "audio/x-ms-wma"},
    {"m4a", "audio/mp4"},        {"opus", "audio/opus"},     {"aif", "audio/aiff"},
    {"aiff", "audio/aiff"},      {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},
    {"png", "image/png"},        {"gif", "image/gif"},       {"bmp", "image/bmp"},
    {"tif", "image/tiff"},       {"tiff", "image/tiff"},     {"webp", "image/webp"},
    {"svg", "image/svg+xml"},    {"ts", "video/mpeg"},       {"m2ts", "video/mpeg"},
}};

// The extension of the last path component, lower-cased into `buf`; empty
// when there is none or it is too long to be one of ours.
std::string_view LowerExtension(std::string_view name, std::array<char, 8>& buf) {
  size_t slash = name.find_last_of('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};  // none, or a dot file
  std::string_view ext = name.substr(dot + 1);
  if (ext.empty() || ext.size() > buf.size()) return {};
  for (size_t i = 0; i < ext.size(); ++i) {
    char c = ext[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return {buf.data(), ext.size()};
}

}  // namespace

std::optional<std::string_view> MimeTypeForFilename(std::string_view filename) {
  std::array<char, 8> buf;
  std::string_view ext = LowerExtension(filename, buf);
  if (ext.empty()) return std::nullopt;
  for (const auto& [e, mime] : kTypes) {
    if (e == ext) return mime;
  }
  return std::nullopt;
}

std::optional<PlaylistFormat> PlaylistFormatForFilename(std::string_view filename) {
  std::array<char, 8> buf;
  std::string_view ext = LowerExtension(filename, buf);
  if (ext == "m3u") return PlaylistFormat::kM3u;
  if (ext == "m3u8") return PlaylistFormat::kM3u8;
  if (ext == "pls") return PlaylistFormat::kPls;
  return std::nullopt;
}

}  // namespace zcmedia::scan

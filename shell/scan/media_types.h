// The media types the scanner recognises, by file-name extension, with the
// mime types the legacy server stored (../docs/scanning.md lists them).
#pragma once

#include <optional>
#include <string_view>

namespace zcmedia::scan {

// The mime type of a file named `filename` (or a path: only the text after
// the last '.' of the last component counts), by its extension in any ASCII
// case; nullopt for anything the server does not serve (playlists included).
// The returned view is a static string.
std::optional<std::string_view> MimeTypeForFilename(std::string_view filename);

// The kind of playlist file `filename` is, by extension: .m3u, .m3u8, .pls.
enum class PlaylistFormat { kM3u, kM3u8, kPls };
std::optional<PlaylistFormat> PlaylistFormatForFilename(std::string_view filename);

}  // namespace zcmedia::scan

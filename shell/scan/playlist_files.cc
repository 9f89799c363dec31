#include "playlist_files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <streambuf>
#include <unordered_set>

namespace zcmedia::scan {
namespace {

// ---- Text -------------------------------------------------------------------------

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code
// points past U+10FFFF), as RFC 3629 defines it.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Windows-1252 to UTF-8. It is Latin-1 except for 0x80-0x9F, where Latin-1
// has C1 controls (never in a file name) and Windows has the printable
// characters its .m3u writers emit (curly quotes, dashes, the euro sign);
// the five bytes Windows leaves undefined keep their Latin-1 meaning.
std::string Windows1252ToUtf8(std::string_view s) {
  static constexpr uint16_t k80To9F[32] = {
      0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    AppendUtf8(c >= 0x80 && c <= 0x9F ? k80To9F[c - 0x80] : c, &out);
  }
  return out;
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLower(s[i]) != AsciiLower(prefix[i])) return false;
  }
  return true;
}

bool EqualsNoCase(std::string_view a, std::string_view b) { return a.size() == b.size() && StartsWithNoCase(a, b); }

// Calls `line(text)` for every line of `text`, which ends at LF, CRLF or CR.
template <typename F>
void ForEachLine(std::string_view text, F&& line) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    line(text.substr(start, end - start));
    if (end < text.size() && text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ++end;
    start = end + 1;
  }
}

// ---- Paths ------------------------------------------------------------------------

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = AsciiLower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// %XX sequences decoded; a '%' not followed by two hex digits is kept.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// "/a/./b//c/../d/" -> "/a/b/d": '.', empty components and '..' folded by
// text alone ('..' at the root stays at the root). REQUIRES: `path` starts
// with '/'.
std::string NormalizeAbsolute(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  if (parts.empty()) return "/";
  std::string out;
  for (std::string_view part : parts) {
    out.push_back('/');
    out.append(part);
  }
  return out;
}

// "C:\...", "C:/...", "C:" (a Windows absolute path).
bool IsDriveLetterPath(std::string_view p) {
  return p.size() >= 2 && ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' &&
         (p.size() == 2 || p[2] == '\\' || p[2] == '/');
}

// "scheme://" with an RFC 3986 scheme.
bool HasUrlScheme(std::string_view s) {
  const size_t colon = s.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!is_alpha(s[0])) return false;
  for (size_t i = 1; i < colon; ++i) {
    const char c = s[i];
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// Turns one entry into a path in out->paths, or records it in out->skipped.
void AddEntry(std::string_view raw, const std::string& folder, ParsedPlaylist* out) {
  std::string_view entry = Trim(raw);
  auto skip = [&] { out->skipped.emplace_back(entry); };
  if (entry.empty()) return skip();
  if (StartsWithNoCase(entry, "file:")) {
    std::string_view rest = entry.substr(5);
    if (rest.starts_with("//")) {
      rest.remove_prefix(2);
      const size_t slash = rest.find('/');
      if (slash == std::string_view::npos) return skip();
      const std::string_view host = rest.substr(0, slash);
      // Another machine's file is not ours to find.
      if (!host.empty() && !EqualsNoCase(host, "localhost")) return skip();
      rest.remove_prefix(slash);
    }
    if (!rest.starts_with("/")) return skip();
    const std::string decoded = PercentDecode(rest);
    // file:///C:/x decodes to "/C:/x": a Windows path, not ours.
    if (decoded.find('\0') != std::string::npos || IsDriveLetterPath(std::string_view(decoded).substr(1)))
      return skip();
    out->paths.push_back(NormalizeAbsolute(decoded));
    return;
  }
  if (HasUrlScheme(entry) || IsDriveLetterPath(entry) || entry.front() == '\\') return skip();
  if (entry.front() == '/') {
    out->paths.push_back(NormalizeAbsolute(entry));
    return;
  }
  std::string joined = folder;
  joined.push_back('/');
  for (char c : entry) joined.push_back(c == '\\' ? '/' : c);
  out->paths.push_back(NormalizeAbsolute(joined));
}

// The folder that relative entries of the playlist file at `path` are
// relative to, absolute.
std::string FolderOf(const std::string& path) {
  std::string absolute = path;
  if (absolute.empty() || absolute.front() != '/') {
    std::error_code ec;
    std::string cwd = std::filesystem::current_path(ec).string();
    absolute = (ec ? std::string("/") : cwd) + "/" + absolute;
  }
  absolute = NormalizeAbsolute(absolute);
  const size_t slash = absolute.rfind('/');
  return slash == 0 ? std::string("/") : absolute.substr(0, slash);
}

std::string StemOf(std::string_view path) {
  std::string_view name = path;
  const size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && dot != 0) name = name.substr(0, dot);
  return std::string(name);
}

// ---- Formats ----------------------------------------------------------------------

void ParseM3u(std::string_view text, const std::string& folder, ParsedPlaylist* out) {
  ForEachLine(text, [&](std::string_view line) {
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#') return;
    AddEntry(t, folder, out);
  });
}

// FileN's N: a positive decimal integer (no sign, at most 18 digits).
bool ParseEntryNumber(std::string_view digits, uint64_t* n) {
  if (digits.empty() || digits.size() > 18) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0) return false;
  *n = v;
  return true;
}

Status ParsePls(std::string_view text, const std::string& playlist_path, const std::string& folder,
                ParsedPlaylist* out) {
  bool seen_section = false, in_section = false;
  std::map<uint64_t, std::string_view> files;
  ForEachLine(text, [&](std::string_view line) {
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == ';' || t.front() == '#') return;
    if (t.front() == '[') {
      const std::string_view section = t.back() == ']' ? Trim(t.substr(1, t.size() - 2)) : std::string_view();
      in_section = EqualsNoCase(section, "playlist");
      seen_section = seen_section || in_section;
      return;
    }
    if (!in_section) return;
    const size_t eq = t.find('=');
    if (eq == std::string_view::npos) return;
    const std::string_view key = Trim(t.substr(0, eq));
    uint64_t n = 0;
    if (StartsWithNoCase(key, "file") && ParseEntryNumber(key.substr(4), &n)) files[n] = t.substr(eq + 1);
    // TitleN, LengthN, NumberOfEntries, Version: ImportPlaylist needs none
    // of them (NumberOfEntries is often wrong; the FileN keys are the list).
  });
  if (!seen_section)
    return Status::InvalidArgument("playlist file " + playlist_path +
                                   " is not a PLS playlist: it has no [playlist] section");
  for (const auto& [n, value] : files) AddEntry(value, folder, out);
  return Status::OK();
}

// ---- Writing ----------------------------------------------------------------------

// A std::streambuf writing to a file descriptor through a buffer; remembers
// the first write error.
class FdStreamBuf : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd) : fd_(fd), buf_(new char[kSize]) { setp(buf_.get(), buf_.get() + kSize); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!Flush()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return Flush() ? 0 : -1; }

 private:
  bool Flush() {
    const char* p = pbase();
    while (p < pptr()) {
      const ssize_t n = ::write(fd_, p, static_cast<size_t>(pptr() - p));
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      p += n;
    }
    setp(buf_.get(), buf_.get() + kSize);
    return error_ == 0;
  }

  static constexpr size_t kSize = 64 << 10;
  int fd_;
  int error_ = 0;
  std::unique_ptr<char[]> buf_;
};

std::string IntText(int64_t v) { return std::to_string(v); }

// Seconds for an EXTINF / LengthN: the duration (ms) rounded, -1 unknown.
int64_t LengthSeconds(OptInt duration_ms) {
  if (!duration_ms || *duration_ms < 0) return -1;
  return *duration_ms / 1000 + (*duration_ms % 1000 >= 500 ? 1 : 0);
}

std::string OneLine(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

std::string DisplayTitle(const MediaFileView& v) {
  const OptText title = v.title(), artist = v.artist();
  if (title && !title->empty()) {
    if (artist && !artist->empty()) return OneLine(std::string(*artist) + " - " + std::string(*title));
    return OneLine(*title);
  }
  const OptText filename = v.filename();
  return OneLine(filename && !filename->empty() ? *filename : DeriveFilename(v.path()));
}

// The path as an entry line: as it is, or a percent-encoded file:/// URL
// when the parser would not read it back as it is (see the header).
std::string EntryText(std::string_view path, PlaylistFormat format) {
  if (path.empty()) return std::string();  // (the store refuses empty paths)
  const bool needs_url =
      path.find_first_of("\r\n") != std::string_view::npos || IsBlank(path.front()) || IsBlank(path.back()) ||
      (format != PlaylistFormat::kPls && path.front() == '#');
  if (!needs_url || path.front() != '/') return OneLine(path);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status WithContext(const Status& s, const std::string& context) {
  const std::string msg = context + ": " + s.message();
  switch (s.code()) {
    case Status::Code::kOk: return s;
    case Status::Code::kNotFound: return Status::NotFound(msg);
    case Status::Code::kCorruption: return Status::Corruption(msg);
    case Status::Code::kIOError: return Status::IOError(msg);
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(msg);
    case Status::Code::kConstraint: return Status::Constraint(msg);
    case Status::Code::kBusy: return Status::Busy(msg);
    case Status::Code::kReadOnly: return Status::ReadOnly(msg);
  }
  return s;
}

}  // namespace

// ---- Parsing ----------------------------------------------------------------------

Status ParsePlaylistText(std::string_view text, const std::string& playlist_path, PlaylistFormat format,
                         ParsedPlaylist* out) {
  *out = ParsedPlaylist();
  if (text.size() > kMaxPlaylistFileBytes)
    return Status::InvalidArgument("playlist file " + playlist_path + " is " + IntText(static_cast<int64_t>(text.size())) +
                                   " bytes, over the limit of " + IntText(kMaxPlaylistFileBytes) + " bytes");
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos)
    return Status::InvalidArgument("playlist file " + playlist_path + " is not a text file (a NUL byte at offset " +
                                   IntText(static_cast<int64_t>(nul)) + ")");
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  std::string converted;
  // .m3u8 is UTF-8 by definition; invalid bytes in it are kept (a Linux
  // file name is bytes), not guessed at.
  if (format != PlaylistFormat::kM3u8 && !IsValidUtf8(text)) {
    converted = Windows1252ToUtf8(text);
    text = converted;
  }
  out->name = StemOf(playlist_path);
  const std::string folder = FolderOf(playlist_path);
  if (format == PlaylistFormat::kPls) return ParsePls(text, playlist_path, folder, out);
  ParseM3u(text, folder, out);
  return Status::OK();
}

Status ParsePlaylistFile(const std::string& path, PlaylistFormat format, ParsedPlaylist* out) {
  *out = ParsedPlaylist();
  // O_NONBLOCK: a FIFO named like a playlist must not hang the scan (it
  // is refused below as not a regular file).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::FromErrno("cannot open playlist file " + path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::FromErrno("cannot stat playlist file " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::IOError("playlist file " + path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxPlaylistFileBytes)
    return Status::InvalidArgument("playlist file " + path + " is " + IntText(st.st_size) +
                                   " bytes, over the limit of " + IntText(kMaxPlaylistFileBytes) + " bytes");
  // Read up to one byte past the limit: the file may grow after fstat.
  std::string text;
  text.resize(static_cast<size_t>(st.st_size) + 1);
  size_t have = 0;
  for (;;) {
    if (have == text.size()) {
      if (text.size() > kMaxPlaylistFileBytes) break;
      text.resize(std::min<size_t>(text.size() * 2 + 4096, kMaxPlaylistFileBytes + 1));
    }
    const ssize_t n = ::read(fd, text.data() + have, text.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("cannot read playlist file " + path, errno);
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  text.resize(have);
  return ParsePlaylistText(text, path, format, out);
}

// ---- Import -----------------------------------------------------------------------

// The description that marks a playlist as imported from `source_path`.
std::string ImportDescription(const std::string& source_path) { return "Imported from " + source_path; }

Status CheckImport(const Snapshot& snapshot, const std::string& source_path, int64_t source_mtime,
                   ImportNeed* need) {
  *need = ImportNeed::kImport;
  PlaylistView existing;
  Status s = snapshot.FindPlaylistByName(StemOf(source_path), &existing);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return WithContext(s, "checking playlist file " + source_path);
  if (existing.description() != OptText(ImportDescription(source_path))) {
    *need = ImportNeed::kNameTaken;
  } else if (existing.updated_at() > source_mtime) {  // ImportPlaylist's rule, below
    *need = ImportNeed::kCurrent;
  }
  return Status::OK();
}

Status ImportPlaylist(Store* store, const ParsedPlaylist& parsed, const std::string& source_path,
                      int64_t source_mtime, ImportResult* result) {
  *result = ImportResult();
  const std::string context = "importing playlist file " + source_path;
  const std::string description = ImportDescription(source_path);
  std::shared_ptr<const Snapshot> snap = store->GetSnapshot();

  PlaylistView existing;
  Status s = snap->FindPlaylistByName(parsed.name, &existing);
  if (!s.ok() && !s.IsNotFound()) return WithContext(s, context);
  if (s.ok()) {
    result->playlist_id = existing.id();
    if (existing.description() != OptText(description)) {
      result->name_taken = true;
      return Status::OK();
    }
    if (existing.updated_at() > source_mtime) {
      result->unchanged = true;
      std::vector<PlaylistEntryView> entries;
      ZC_RETURN_IF_ERROR(WithContext(snap->ListPlaylistEntries(existing.id(), &entries), context));
      result->entries = entries.size();
      return Status::OK();
    }
  }

  std::vector<std::string_view> paths(parsed.paths.begin(), parsed.paths.end());
  std::vector<MediaFileView> found;
  ZC_RETURN_IF_ERROR(WithContext(snap->FindManyByPath(paths, &found), context));
  std::vector<int64_t> media_ids;
  std::unordered_set<int64_t> listed;
  for (size_t i = 0; i < found.size(); ++i) {
    if (!found[i].valid()) {
      ++result->missing;
      if (result->missing_paths.size() < kMaxListedMissing) result->missing_paths.push_back(parsed.paths[i]);
      continue;
    }
    if (!listed.insert(found[i].id()).second) {
      ++result->duplicates;
      continue;
    }
    media_ids.push_back(found[i].id());
  }
  if (!existing.valid() && media_ids.empty()) {
    result->nothing_to_import = true;
    return Status::OK();
  }

  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  WriteBatch batch;
  int64_t playlist_id;
  if (existing.valid()) {
    playlist_id = existing.id();
    std::vector<PlaylistEntryView> old_entries;
    ZC_RETURN_IF_ERROR(WithContext(snap->ListPlaylistEntries(playlist_id, &old_entries), context));
    // Removals first: the batch is checked entry by entry, and the new
    // entries reuse the old positions and media files.
    for (const PlaylistEntryView& e : old_entries) batch.RemovePlaylistEntry(e.id());
    batch.UpdatePlaylist(playlist_id, {playlist_id, existing.name(), description, existing.created_at(), now});
  } else {
    // An explicit id, so that the entries can name the playlist in the same
    // batch (the store assigns ids only at commit).
    playlist_id = snap->next_playlist_id();
    batch.PutPlaylist({playlist_id, parsed.name, description, now, now});
  }
  for (size_t i = 0; i < media_ids.size(); ++i)
    batch.PutPlaylistEntry({0, playlist_id, media_ids[i], static_cast<int64_t>(i), now});
  ZC_RETURN_IF_ERROR(WithContext(store->Write(batch), context));
  (existing.valid() ? result->replaced : result->created) = true;
  result->playlist_id = playlist_id;
  result->entries = media_ids.size();
  return Status::OK();
}

// ---- Export -----------------------------------------------------------------------

Status WritePlaylistFile(const Snapshot& snapshot, int64_t playlist_id, PlaylistFormat format, std::ostream& out) {
  PlaylistView playlist;
  ZC_RETURN_IF_ERROR(snapshot.GetPlaylist(playlist_id, &playlist));
  std::vector<PlaylistEntryView> entries;
  ZC_RETURN_IF_ERROR(snapshot.ListPlaylistEntries(playlist_id, &entries));
  const bool pls = format == PlaylistFormat::kPls;
  out << (pls ? "[playlist]\n" : "#EXTM3U\n");
  // Records in chunks: one view per entry at a time would be as cheap, but
  // GetMany reads them in index order.
  constexpr size_t kChunk = 1024;
  std::vector<int64_t> ids;
  std::vector<MediaFileView> records;
  uint64_t written = 0;
  for (size_t first = 0; first < entries.size(); first += kChunk) {
    const size_t last = std::min(entries.size(), first + kChunk);
    ids.clear();
    for (size_t i = first; i < last; ++i) ids.push_back(entries[i].media_file_id());
    ZC_RETURN_IF_ERROR(snapshot.GetMany(ids, &records));
    for (const MediaFileView& v : records) {
      if (!v.valid()) continue;  // cannot happen (the cascade removes such entries)
      const std::string title = DisplayTitle(v);
      const int64_t length = LengthSeconds(v.duration());
      const std::string path = EntryText(v.path(), format);
      if (pls) {
        const std::string n = IntText(static_cast<int64_t>(++written));
        out << "File" << n << '=' << path << "\nTitle" << n << '=' << title << "\nLength" << n << '=' << length
            << '\n';
      } else {
        ++written;
        out << "#EXTINF:" << length << ',' << title << '\n' << path << '\n';
      }
    }
    if (!out) break;
  }
  if (pls) out << "NumberOfEntries=" << written << "\nVersion=2\n";
  out.flush();
  if (!out) return Status::IOError("writing the playlist failed");
  return Status::OK();
}

Status ExportPlaylist(const Snapshot& snapshot, std::string_view name, PlaylistFormat format,
                      const std::string& output_path) {
  PlaylistView playlist;
  Status s = snapshot.FindPlaylistByName(name, &playlist);
  if (s.IsNotFound()) return Status::NotFound("no playlist named '" + std::string(name) + "'");
  ZC_RETURN_IF_ERROR(s);

  if (output_path == "-") {
    s = WritePlaylistFile(snapshot, playlist.id(), format, std::cout);
    if (s.IsIOError()) return Status::IOError("cannot write the playlist to standard output");
    return s;
  }

  // Beside the output, so that the rename stays within one file system.
  const size_t slash = output_path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : output_path.substr(0, slash));
  const std::string base = slash == std::string::npos ? output_path : output_path.substr(slash + 1);
  if (base.empty()) return Status::InvalidArgument("output path " + output_path + " names a folder, not a file");
  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = dir + "/." + base + ".tmp-" + IntText(::getpid()) + "-" + IntText(static_cast<int64_t>(counter++));
    // 0666 and the umask, as a shell redirection would create it.
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) return Status::FromErrno("cannot write " + output_path, errno);
  }
  if (fd < 0) return Status::IOError("cannot write " + output_path + ": no free temporary file name beside it");

  FdStreamBuf buf(fd);
  std::ostream stream(&buf);
  s = WritePlaylistFile(snapshot, playlist.id(), format, stream);
  int err = buf.error();
  if (s.ok() && err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0 && s.ok()) err = errno;
  if (s.ok() && err == 0 && ::rename(tmp.c_str(), output_path.c_str()) != 0) err = errno;
  if (!s.ok() || err != 0) {
    ::unlink(tmp.c_str());
    if (!s.ok() && !s.IsIOError()) return s;
    return Status::FromErrno("cannot write " + output_path, err != 0 ? err : EIO);
  }
  // The rename durable too: otherwise a crash may bring back the old file.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {  // (a folder we cannot open for reading: the rename stands, unsynced)
    const int rc = ::fsync(dfd);
    const int sync_errno = errno;
    ::close(dfd);
    if (rc != 0) return Status::FromErrno("cannot sync the folder of " + output_path, sync_errno);
  }
  return Status::OK();
}

}  // namespace zcmedia::scan

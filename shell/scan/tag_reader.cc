#include "tag_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>

#include <taglib/audioproperties.h>
#include <taglib/fileref.h>
#include <taglib/id3v2frame.h>
#include <taglib/id3v2tag.h>
#include <taglib/mpegfile.h>
#include <taglib/tag.h>
#include <taglib/tdebuglistener.h>
#include <taglib/tfile.h>
#include <taglib/tiostream.h>
#include <taglib/tpropertymap.h>
#include <taglib/wavfile.h>
#include <taglib/tstring.h>

namespace zcmedia::scan {
namespace {

// TagLib prints every oddity of every file it parses to stderr ("Invalid
// ID3v2 frame", "Could not find a valid first MPEG frame"); across a
// library of broken rips that would flood the terminal of a scan. What
// matters comes back as a Status instead.
class SilentDebugListener : public TagLib::DebugListener {
 public:
  void printMessage(const TagLib::String&) override {}
};

void SilenceTagLibOnce() {
  // A function-local static: initialised once, thread-safely, before any
  // thread parses (TagLib reads the listener pointer without a lock).
  static const bool silenced = [] {
    static SilentDebugListener listener;
    TagLib::setDebugListener(&listener);
    return true;
  }();
  (void)silenced;
}

// A read-only TagLib stream over a descriptor this file opened, read with
// pread: no FILE* (TagLib's own FileStream fdopen()s, which allocates a
// stdio buffer per file and costs a tenth of a small MP3's read). TagLib
// picks its parser from the stream's name: the path while `by_extension`
// is set, "" (so by the content's magic bytes) otherwise. Owns the fd.
class DescriptorStream : public TagLib::IOStream {
 public:
  DescriptorStream(int fd, const char* path, long length) : fd_(fd), length_(length), path_(path) {}
  ~DescriptorStream() override { ::close(fd_); }

  TagLib::FileName name() const override { return by_extension_ ? path_ : ""; }
  void set_by_extension(bool by_extension) { by_extension_ = by_extension; }

  TagLib::ByteVector readBlock(unsigned long length) override {
    if (position_ >= length_ || length == 0) return TagLib::ByteVector();
    unsigned long wanted = std::min<unsigned long>(length, static_cast<unsigned long>(length_ - position_));
    TagLib::ByteVector block(static_cast<unsigned int>(wanted), 0);
    size_t done = 0;
    while (done < wanted) {
      ssize_t n = ::pread(fd_, block.data() + done, wanted - done, position_ + static_cast<long>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // an I/O error or the file shrank: what was read
      done += static_cast<size_t>(n);
    }
    block.resize(static_cast<unsigned int>(done));
    position_ += static_cast<long>(done);
    return block;
  }
  // Read-only: TagLib only writes when a caller saves, which this file never does.
  void writeBlock(const TagLib::ByteVector&) override {}
  void insert(const TagLib::ByteVector&, unsigned long, unsigned long) override {}
  void removeBlock(unsigned long, unsigned long) override {}
  void truncate(long) override {}
  bool readOnly() const override { return true; }
  bool isOpen() const override { return true; }
  void seek(long offset, Position p = Beginning) override {
    long base = p == Beginning ? 0 : p == Current ? position_ : length_;
    position_ = std::max(0L, base + offset);
  }
  long tell() const override { return position_; }
  long length() override { return length_; }

 private:
  const int fd_;
  const long length_;
  long position_ = 0;
  const char* const path_;
  bool by_extension_ = true;
};

std::optional<std::string> Text(const TagLib::String& s) {
  if (s.isEmpty()) return std::nullopt;
  return s.to8Bit(/*unicode=*/true);
}

std::optional<int64_t> Number(unsigned int n) {
  if (n == 0) return std::nullopt;
  return static_cast<int64_t>(n);
}

// The album artist: the property map's ALBUMARTIST, which TagLib maps from
// every format's own field. Building the map converts every field of the
// tag, a fifth of a small MP3's read; so an MP3 whose (non-empty) ID3v2 tag
// has a TPE2 frame, the map's ALBUMARTIST then, has that frame read directly.
std::optional<std::string> AlbumArtist(TagLib::File* file) {
  if (auto* mpeg = dynamic_cast<TagLib::MPEG::File*>(file); mpeg != nullptr && mpeg->hasID3v2Tag()) {
    const TagLib::ID3v2::Tag* id3 = mpeg->ID3v2Tag();
    const TagLib::ID3v2::FrameListMap& frames = id3->frameListMap();
    const auto it = frames.find("TPE2");
    if (!id3->isEmpty() && it != frames.end() && !it->second.isEmpty()) {
      return Text(it->second.front()->toString());
    }
    // Without TPE2 the map's ALBUMARTIST could only come from a TXXX frame
    // (TXXX:ALBUMARTIST) or an APE tag; with neither there is none, and the
    // map is not built (most untagged-album-artist MP3s).
    if (frames.find("TXXX") == frames.end() && !mpeg->hasAPETag()) return std::nullopt;
  }
  const TagLib::PropertyMap properties = file->properties();
  const auto it = properties.find("ALBUMARTIST");
  // Several values are joined with " ", as Tag::artist() joins them.
  if (it == properties.end()) return std::nullopt;
  return Text(it->second.toString());
}

// Parses `stream` from its start with the parser TagLib picks. False when no
// parser accepts it, or the one that does finds neither a tag nor a duration
// (TagLib's MP3 parser accepts any bytes: that is what garbage named .mp3
// reads as).
bool Parse(DescriptorStream* stream, bool by_extension, AudioTags* tags) {
  *tags = AudioTags{};
  stream->clear();
  stream->seek(0);
  stream->set_by_extension(by_extension);
  TagLib::FileRef ref(stream, /*readAudioProperties=*/true, TagLib::AudioProperties::Average);
  if (ref.isNull() || !ref.file()->isValid()) return false;

  const TagLib::Tag* tag = ref.tag();
  // A WAV's tag() is its ID3v2 chunk only; most tools (ffmpeg included)
  // write a RIFF INFO list instead.
  if (const auto* wav = dynamic_cast<const TagLib::RIFF::WAV::File*>(ref.file());
      wav != nullptr && !wav->hasID3v2Tag() && wav->hasInfoTag()) {
    tag = wav->InfoTag();
  }
  if (tag != nullptr) {
    tags->title = Text(tag->title());
    tags->artist = Text(tag->artist());
    tags->album = Text(tag->album());
    tags->genre = Text(tag->genre());
    tags->track_number = Number(tag->track());
    tags->year = Number(tag->year());
  }
  tags->album_artist = AlbumArtist(ref.file());

  if (const TagLib::AudioProperties* audio = ref.audioProperties()) {
    // 0 is TagLib's "unknown" (no last Ogg page, no frames found).
    if (audio->lengthInMilliseconds() > 0) tags->duration_ms = audio->lengthInMilliseconds();
  }
  return tags->title || tags->artist || tags->album || tags->genre || tags->album_artist ||
         tags->track_number || tags->year || tags->duration_ms;
}

}  // namespace

Status ReadAudioTags(const std::string& path, AudioTags* out) {
  *out = AudioTags{};
  SilenceTagLibOnce();

  // Read-only from the start: TagLib opening by name tries read-write
  // first, which fails on read-only media (a second open) and makes an
  // inotify watcher see IN_CLOSE_WRITE on every file the scan reads.
  // O_NONBLOCK: a FIFO named .mp3 must not block the scan in open().
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return Status::FromErrno("cannot open " + path + " to read its tags (check that it exists and is readable)",
                             errno);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return Status::FromErrno("cannot stat " + path + " to read its tags", err);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return Status::IOError("cannot read the tags of " + path + ": not a regular file (" +
                           (S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket") +
                           "); only regular audio files have tags");
  }
  auto cannot_parse = [&path, &st] {
    return Status::Corruption(
        "TagLib cannot read " + path + " as an audio file (" + std::to_string(st.st_size) +
        " bytes: empty, truncated, damaged, not what its extension says, or a format TagLib does not "
        "read); it is stored without tags: check that it plays, and replace or re-tag it");
  };
  if (st.st_size == 0) {
    close(fd);
    return cannot_parse();
  }

  DescriptorStream stream(fd, path.c_str(), static_cast<long>(st.st_size));
  // The extension's parser first (TagLib's own order, the cheapest: one
  // parser runs), then the content's: a FLAC named .mp3, an Opus named .ogg
  // or an M4A named .mp3 still reads, and garbage the MP3 parser "accepts"
  // is caught by Parse's nothing-found rule and then rejected by every
  // parser's magic-byte check.
  AudioTags tags;
  if (!Parse(&stream, /*by_extension=*/true, &tags) && !Parse(&stream, /*by_extension=*/false, &tags)) {
    return cannot_parse();
  }
  *out = std::move(tags);
  return Status::OK();
}

void ApplyAudioTags(const AudioTags& tags, MediaFileFields* f) {
  auto text = [](const std::optional<std::string>& v) -> OptText {
    if (!v) return std::nullopt;
    return std::string_view(*v);
  };
  f->duration = tags.duration_ms;
  f->title = text(tags.title);
  f->artist = text(tags.artist);
  f->album = text(tags.album);
  f->genre = text(tags.genre);
  f->track_number = tags.track_number;
  f->year = tags.year;
  f->album_artist = text(tags.album_artist);
}

}  // namespace zcmedia::scan

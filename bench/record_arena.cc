#include "record_arena.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench_util.h"
#include "generator.h"

namespace zcmedia::bench {

namespace {

constexpr uint32_t kNullText = UINT32_MAX;
constexpr int kTextColumns = 11;

struct RecordHeader {
  int64_t id, size, modified, created_at, updated_at;
  int64_t duration, track_number, year;
  uint32_t present_ints;  // bit 0 duration, 1 track_number, 2 year
  uint32_t text_lengths[kTextColumns];  // kNullText for NULL
};

// The text columns in header order.
OptText* TextColumn(MediaFileFields& f, int i) {
  OptText* columns[kTextColumns] = {nullptr,        &f.parent_path, &f.canonical_path, &f.canonical_parent_path,
                                    &f.filename,    &f.mime_type,   &f.title,          &f.artist,
                                    &f.album,       &f.genre,       &f.album_artist};
  return columns[i];
}

std::string Errno() { return std::strerror(errno); }

}  // namespace

void RecordArena::Build(const std::string& path, uint64_t seed, uint64_t records) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) throw BenchError("cannot create record arena '" + path + "': " + Errno());
  std::vector<uint8_t> buffer;
  LibraryGenerator generator(seed, records);
  GeneratedRecord record;
  while (generator.Next(&record)) {
    MediaFileFields f = record.fields();
    RecordHeader h{};
    h.id = f.id;
    h.size = f.size;
    h.modified = f.modified;
    h.created_at = f.created_at;
    h.updated_at = f.updated_at;
    const OptInt ints[3] = {f.duration, f.track_number, f.year};
    int64_t* slots[3] = {&h.duration, &h.track_number, &h.year};
    for (int i = 0; i < 3; ++i)
      if (ints[i]) {
        *slots[i] = *ints[i];
        h.present_ints |= 1u << i;
      }
    buffer.clear();
    for (int i = 0; i < kTextColumns; ++i) {
      const OptText text = i == 0 ? OptText(f.path) : *TextColumn(f, i);
      h.text_lengths[i] = text ? static_cast<uint32_t>(text->size()) : kNullText;
      if (text) buffer.insert(buffer.end(), text->begin(), text->end());
    }
    if (std::fwrite(&h, sizeof h, 1, file) != 1 ||
        (!buffer.empty() && std::fwrite(buffer.data(), buffer.size(), 1, file) != 1)) {
      std::fclose(file);
      throw BenchError("cannot write record arena '" + path + "': " + Errno());
    }
  }
  if (std::fclose(file) != 0) throw BenchError("cannot write record arena '" + path + "': " + Errno());
}

RecordArena::RecordArena(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw BenchError("cannot open record arena '" + path + "': " + Errno());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) {
    ::close(fd);
    throw BenchError("record arena '" + path + "' is empty or unreadable");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw BenchError("cannot map record arena '" + path + "': " + Errno());
  data_ = static_cast<const uint8_t*>(p);
}

RecordArena::~RecordArena() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

bool RecordArena::Next(MediaFileFields* out) {
  if (offset_ == size_) return false;
  RecordHeader h;
  if (size_ - offset_ < sizeof h) throw BenchError("record arena truncated inside a record header");
  std::memcpy(&h, data_ + offset_, sizeof h);
  offset_ += sizeof h;
  MediaFileFields& f = *out;
  f = MediaFileFields{};
  f.id = h.id;
  f.size = h.size;
  f.modified = h.modified;
  f.created_at = h.created_at;
  f.updated_at = h.updated_at;
  if (h.present_ints & 1) f.duration = h.duration;
  if (h.present_ints & 2) f.track_number = h.track_number;
  if (h.present_ints & 4) f.year = h.year;
  for (int i = 0; i < kTextColumns; ++i) {
    if (h.text_lengths[i] == kNullText) continue;
    if (size_ - offset_ < h.text_lengths[i]) throw BenchError("record arena truncated inside a text column");
    const std::string_view text(reinterpret_cast<const char*>(data_ + offset_), h.text_lengths[i]);
    offset_ += h.text_lengths[i];
    if (i == 0)
      f.path = text;
    else
      *TextColumn(f, i) = text;
  }
  return true;
}

}  // namespace zcmedia::bench

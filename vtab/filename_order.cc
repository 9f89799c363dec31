#include "filename_order.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace zcmedia::vtab {

static_assert(sizeof(FilenameOrder::Key) == 48, "keys are written to the file as they are");
static_assert(std::is_trivially_copyable_v<FilenameOrder::Key>, "keys are written to the file as they are");

namespace {

FilenameOrder::Key KeyOf(const MediaFileView& record) {
  FilenameOrder::Key key{};
  key.record = record;
  key.id = record.id();
  if (const OptText name = record.filename()) {
    key.is_text = 1;
    key.length = static_cast<uint16_t>(std::min<size_t>(name->size(), UINT16_MAX));
    std::memcpy(key.prefix, name->data(), std::min(name->size(), sizeof(key.prefix)));
  }
  return key;
}

// SQLite's order of the column, ascending: NULL, then BINARY text; ties by id.
bool AscendingBefore(const FilenameOrder::Key& a, const FilenameOrder::Key& b) {
  if (a.is_text != b.is_text) return a.is_text < b.is_text;
  if (a.is_text) {
    // Zero-padded prefixes that differ order as the names do (a name that
    // ends first pads with zeros and is the shorter, which BINARY puts
    // first too). Equal ones: names that fit in the prefix are equal up to
    // the shorter one's length, so the shorter comes first; longer ones are
    // compared in their records.
    if (const int c = std::memcmp(a.prefix, b.prefix, sizeof(a.prefix)); c != 0) return c < 0;
    if (a.length <= sizeof(a.prefix) || b.length <= sizeof(b.prefix)) {
      if (a.length != b.length) return a.length < b.length;
    } else {
      const std::string_view x = *a.record.filename(), y = *b.record.filename();
      if (x != y) return x < y;  // string_view: bytes as unsigned, then length, as BINARY
    }
  }
  return a.id < b.id;
}

}  // namespace

FilenameOrder::~FilenameOrder() {
  if (mapped_ != nullptr) munmap(const_cast<Key*>(mapped_), mapped_bytes_);
  if (fd_ >= 0) close(fd_);
}

bool FilenameOrder::Before(const Key& a, const Key& b) const {
  return descending_ ? AscendingBefore(b, a) : AscendingBefore(a, b);
}

bool FilenameOrder::OpenTempFile(const std::string& temp_dir) {
  std::vector<std::string> dirs = {temp_dir};
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') dirs.emplace_back(tmp);
  dirs.emplace_back("/tmp");
  for (const std::string& dir : dirs) {
    fd_ = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ >= 0) return true;
  }
  return false;
}

Status FilenameOrder::Spill() {
  std::sort(keys_.begin(), keys_.end(), [this](const Key& a, const Key& b) { return Before(a, b); });
  const auto* bytes = reinterpret_cast<const uint8_t*>(keys_.data());
  size_t left = keys_.size() * sizeof(Key);
  off_t offset = static_cast<off_t>(spilled_keys_ * sizeof(Key));
  while (left > 0) {
    const ssize_t n = pwrite(fd_, bytes, left, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return Status::IOError(std::string("writing the sort of ORDER BY filename to a temporary file: ") +
                             (n < 0 ? std::strerror(errno) : "no progress") + "; free some space or set TMPDIR");
    bytes += n;
    left -= static_cast<size_t>(n);
    offset += n;
  }
  runs_.push_back({spilled_keys_, spilled_keys_ + keys_.size()});
  spilled_keys_ += keys_.size();
  keys_.clear();
  return Status::OK();
}

Status FilenameOrder::Start(const Snapshot& snapshot, const std::string& temp_dir, bool descending,
                            size_t run_keys) {
  descending_ = descending;
  run_keys = std::max<size_t>(run_keys, 1);
  keys_.reserve(std::min<uint64_t>(run_keys, snapshot.record_count() + 1));
  bool in_memory = false;  // no temporary file could be made
  std::unique_ptr<RecordIterator> it = snapshot.NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    keys_.push_back(KeyOf(it->record()));
    if (keys_.size() < run_keys || in_memory) continue;
    if (fd_ < 0 && !OpenTempFile(temp_dir)) {
      in_memory = true;
      continue;
    }
    ZC_RETURN_IF_ERROR(Spill());
  }
  ZC_RETURN_IF_ERROR(it->status());
  if (runs_.empty()) {  // everything fitted (or had to): sorted in memory
    std::sort(keys_.begin(), keys_.end(), [this](const Key& a, const Key& b) { return Before(a, b); });
    next_key_ = 0;
    valid_ = !keys_.empty();
    if (valid_) current_ = keys_[0].record;
    return Status::OK();
  }
  if (!keys_.empty()) ZC_RETURN_IF_ERROR(Spill());
  std::vector<Key>().swap(keys_);
  mapped_bytes_ = spilled_keys_ * sizeof(Key);
  void* p = mmap(nullptr, mapped_bytes_, PROT_READ, MAP_PRIVATE, fd_, 0);
  if (p == MAP_FAILED)
    return Status::IOError(std::string("mapping the sort of ORDER BY filename: ") + std::strerror(errno));
  mapped_ = static_cast<const Key*>(p);
  at_.resize(runs_.size());
  heap_.clear();
  for (uint32_t r = 0; r < runs_.size(); ++r) {
    at_[r] = runs_[r].begin;
    heap_.push_back(r);
  }
  auto after = [this](uint32_t x, uint32_t y) { return HeapAfter(x, y); };
  std::make_heap(heap_.begin(), heap_.end(), after);
  valid_ = true;
  current_ = mapped_[at_[heap_.front()]].record;
  return Status::OK();
}

void FilenameOrder::Advance(size_t run) {
  auto after = [this](uint32_t x, uint32_t y) { return HeapAfter(x, y); };
  std::pop_heap(heap_.begin(), heap_.end(), after);
  if (++at_[run] < runs_[run].end) std::push_heap(heap_.begin(), heap_.end(), after);
  else heap_.pop_back();
}

void FilenameOrder::Next() {
  if (!valid_) return;
  if (runs_.empty()) {
    valid_ = ++next_key_ < keys_.size();
    if (valid_) current_ = keys_[next_key_].record;
    return;
  }
  Advance(heap_.front());
  valid_ = !heap_.empty();
  if (valid_) current_ = mapped_[at_[heap_.front()]].record;
}

}  // namespace zcmedia::vtab

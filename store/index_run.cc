#include "index_run.h"

#include <algorithm>
#include <cstring>

#include "checksum.h"

namespace zcmedia {

using format::RunHeader;

Run::Run(uint32_t kind, std::vector<RunEntry> entries)
    : kind_(kind), owned_(std::move(entries)), data_(owned_.data()), count_(owned_.size()) {
  if (count_ > 0) {
    min_key_ = data_[0].key;
    max_key_ = data_[count_ - 1].key;
  }
  // The same key directory a run file carries, so lookups in the runs of
  // recent batches cost what they cost in files.
  buckets_ = format::DirectoryBuckets(kind, count_);
  bucket_multiplier_ = count_ ? format::BucketMultiplier(data_[0].key, data_[count_ - 1].key, buckets_) : 0;
  owned_directory_.resize(buckets_ + 1);
  uint64_t next = 0;
  for (uint64_t b = 0; b <= buckets_; ++b) {
    while (next < count_ && format::KeyBucket(data_[next].key, data_[0].key, bucket_multiplier_, buckets_) < b) ++next;
    owned_directory_[b] = static_cast<uint32_t>(next);
  }
  directory_ = owned_directory_.data();
}

Run::Run(uint32_t kind, uint32_t file_number, std::unique_ptr<Mapping> mapping, const FileLayout& f)
    : kind_(kind),
      file_number_(file_number),
      mapping_(std::move(mapping)),
      data_(f.data),
      count_(f.count),
      bloom_(f.bloom_blocks > 0 ? f.bloom : nullptr),
      bloom_blocks_(f.bloom_blocks),
      directory_(f.directory),
      buckets_(format::DirectoryBuckets(kind, f.count)),
      bucket_multiplier_(f.count ? format::BucketMultiplier(f.min_key, f.max_key, buckets_) : 0),
      min_key_(f.min_key),
      max_key_(f.max_key),
      path_(f.path),
      body_(f.body),
      body_bytes_(f.body_bytes),
      block_sums_(f.block_sums) {
  const uint64_t blocks = format::RunBlocks(body_bytes_);
  const uint64_t words = (blocks + 63) / 64;
  verified_ = std::make_unique<std::atomic<uint64_t>[]>(words);
  for (uint64_t w = 0; w < words; ++w) verified_[w].store(f.body_verified ? ~uint64_t{0} : 0);
}

Status Run::VerifyBlocks(const void* p, size_t n) const {
  const auto* bytes = static_cast<const uint8_t*>(p);
  const uint64_t first = static_cast<uint64_t>(bytes - body_) / format::kRunBlockBytes;
  const uint64_t last = (static_cast<uint64_t>(bytes - body_) + n - 1) / format::kRunBlockBytes;
  for (uint64_t b = first; b <= last; ++b) {
    const uint64_t bit = uint64_t{1} << (b % 64);
    if (verified_[b / 64].load(std::memory_order_acquire) & bit) continue;
    const uint64_t begin = b * format::kRunBlockBytes;
    const uint64_t length = std::min(format::kRunBlockBytes, body_bytes_ - begin);
    uint64_t expected = 0;
    std::memcpy(&expected, block_sums_ + b * sizeof(uint64_t), sizeof(expected));
    if (Checksum64(body_ + begin, length) != expected) {
      int64_t expected = -1;
      damaged_block_.compare_exchange_strong(expected, static_cast<int64_t>(b));
      return damage();
    }
    verified_[b / 64].fetch_or(bit, std::memory_order_acq_rel);
  }
  return Status::OK();
}

Status Run::damage() const {
  const int64_t b = damaged_block_.load(std::memory_order_acquire);
  if (b < 0) return Status::OK();
  const uint64_t begin = sizeof(format::RunHeader) + static_cast<uint64_t>(b) * format::kRunBlockBytes;
  return Status::Corruption(path_ + ": run checksum mismatch in block " + std::to_string(b) + " (offset " +
                            std::to_string(begin) + ".." +
                            std::to_string(begin + std::min(format::kRunBlockBytes, body_bytes_ - (begin - sizeof(format::RunHeader)))) +
                            "); the index must be rebuilt from the segments (RepairIndexes)");
}

Status Run::VerifyStructure() const {
  ZC_RETURN_IF_ERROR(VerifyAll());
  const std::string& name = path_.empty() ? std::string("in-memory run") : path_;
  for (uint64_t i = 1; i < count_; ++i) {
    if (!EntryLess(kind_, data_[i - 1], data_[i]))
      return Status::Corruption(name + ": run entries out of order at offset " +
                                std::to_string(sizeof(RunHeader) + i * sizeof(RunEntry)));
  }
  if (count_ > 0 && (data_[0].key != min_key_ || data_[count_ - 1].key != max_key_))
    return Status::Corruption(name + ": run key range disagrees with its header");
  if (directory_ == nullptr) return Status::OK();
  if (directory_[0] != 0 || directory_[buckets_] != count_)
    return Status::Corruption(name + ": run key directory does not span the entries");
  for (uint64_t b = 0; b < buckets_; ++b) {
    if (directory_[b] > directory_[b + 1])
      return Status::Corruption(name + ": run key directory out of order at bucket " + std::to_string(b));
    // Every entry of bucket b maps to b.
    for (uint32_t i = directory_[b]; i < directory_[b + 1]; ++i)
      if (format::KeyBucket(data_[i].key, min_key_, bucket_multiplier_, buckets_) != b)
        return Status::Corruption(name + ": run key directory puts the entry at offset " +
                                  std::to_string(sizeof(RunHeader) + uint64_t{i} * sizeof(RunEntry)) +
                                  " in the wrong bucket");
  }
  return Status::OK();
}

const RunEntry* Run::LowerBound(uint64_t key) const {
  auto less = [](const RunEntry& e, uint64_t k) { return e.key < k; };
  if (directory_ == nullptr || count_ == 0) return std::lower_bound(data_, data_ + count_, key, less);
  if (key < min_key_) {
    if (!VerifyEntries(data_, data_ + 1).ok()) return end();
    return data_;
  }
  if (key > max_key_) return end();
  // Entries of earlier buckets are < key and of later ones > key. The
  // directory is clamped, so that even a damaged one cannot lead a read out
  // of the run.
  const uint64_t b = format::KeyBucket(key, min_key_, bucket_multiplier_, buckets_);
  if (!VerifyBytes(directory_ + b, 2 * sizeof(uint32_t)).ok()) return end();
  const size_t hi_index = std::min<size_t>(directory_[b + 1], count_);
  const size_t lo_index = std::min<size_t>(directory_[b], hi_index);
  const RunEntry* lo = data_ + lo_index;
  const RunEntry* hi = data_ + hi_index;
  if (!VerifyEntries(lo, std::min(hi + 1, end())).ok()) return end();
  while (lo != hi && lo->key < key) ++lo;  // a handful of entries
  return lo;
}

namespace {

// Entries, filter and directory: the part checksummed block by block.
uint64_t RunBodyBytes(uint32_t kind, uint64_t entries, uint64_t bloom_blocks) {
  return entries * sizeof(RunEntry) + bloom_blocks * format::kBloomBlockBytes +
         (format::DirectoryBuckets(kind, entries) + 1) * sizeof(uint32_t);
}

uint64_t RunFileSize(uint32_t kind, uint64_t entries, uint64_t bloom_blocks) {
  const uint64_t body = RunBodyBytes(kind, entries, bloom_blocks);
  return sizeof(RunHeader) + body + format::RunBlocks(body) * sizeof(uint64_t);
}

}  // namespace

// XXH3-64 of each kRunBlockBytes of a stream (the last block may be short).
class BlockHasher {
 public:
  BlockHasher() : state_(XXH3_createState()) { XXH3_64bits_reset(state_); }
  ~BlockHasher() { XXH3_freeState(state_); }
  BlockHasher(const BlockHasher&) = delete;
  BlockHasher& operator=(const BlockHasher&) = delete;

  void Update(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      const size_t take = std::min<size_t>(n, format::kRunBlockBytes - filled_);
      XXH3_64bits_update(state_, p, take);
      filled_ += take;
      p += take;
      n -= take;
      if (filled_ == format::kRunBlockBytes) Flush();
    }
  }
  std::vector<uint64_t> Finish() {
    if (filled_ > 0) Flush();
    return std::move(sums_);
  }

 private:
  void Flush() {
    sums_.push_back(XXH3_64bits_digest(state_));
    XXH3_64bits_reset(state_);
    filled_ = 0;
  }
  XXH3_state_t* state_;
  size_t filled_ = 0;
  std::vector<uint64_t> sums_;
};

namespace {

Status CheckHeader(const std::string& path, uint32_t kind, const RunHeader& h, uint64_t file_size) {
  if (h.magic != format::kRunMagic)
    return Status::Corruption(path + ": not a zcmedia index run (bad magic at offset 0)");
  if (Checksum64(&h, offsetof(RunHeader, header_checksum)) != h.header_checksum)
    return Status::Corruption(path + ": run header checksum mismatch at offset 0");
  if (h.format_version != format::kFormatVersion)
    return Status::Corruption(path + ": unsupported run format version " + std::to_string(h.format_version));
  if (h.kind != kind)
    return Status::Corruption(path + ": run holds index kind " + std::to_string(h.kind) + ", expected " +
                              std::to_string(kind));
  if (h.entry_count > file_size / sizeof(RunEntry) || h.bloom_blocks > file_size / format::kBloomBlockBytes ||
      file_size != RunFileSize(kind, h.entry_count, h.bloom_blocks))
    return Status::Corruption(path + ": run file is " + std::to_string(file_size) + " bytes, header says " +
                              std::to_string(h.entry_count) + " entries and " + std::to_string(h.bloom_blocks) +
                              " filter blocks (truncated or extended)");
  if (h.entry_count >= UINT32_MAX)
    return Status::Corruption(path + ": run holds more entries than its key directory can address");
  if (h.bloom_blocks > 0 && !HasFilter(kind))
    return Status::Corruption(path + ": " + format::RunKindName(kind) + " index run carries a filter");
  return Status::OK();
}

// Writes the Bloom filter of the entries just written: a second, sequential
// pass over them (read back through a mapping, so the heap holds only one
// output buffer). Blocks are chosen by the key's high bits and entries are
// sorted by key, so blocks fill in order.
Status AppendBloomFilter(File* file, Env* env, RunHeader* h, uint64_t* offset, BlockHasher* hash,
                         size_t buffer_bytes) {
  const uint64_t blocks = std::max<uint64_t>(1, (h->entry_count * format::kBloomBitsPerKey + 511) / 512);
  std::unique_ptr<Mapping> written;
  ZC_RETURN_IF_ERROR(env->Map(file, *offset, &written));
  const auto* entries = reinterpret_cast<const RunEntry*>(written->data() + sizeof(RunHeader));
  std::vector<uint8_t> out;
  out.reserve(std::max<size_t>(format::kBloomBlockBytes, buffer_bytes / format::kBloomBlockBytes * format::kBloomBlockBytes));
  uint64_t next_entry = 0;
  for (uint64_t b = 0; b < blocks; ++b) {
    uint8_t block[format::kBloomBlockBytes] = {0};
    while (next_entry < h->entry_count && format::BloomBlock(entries[next_entry].key, blocks) == b) {
      for (uint32_t i = 0; i < format::kBloomProbes; ++i) {
        const uint32_t bit = format::BloomBit(entries[next_entry].key, i);
        block[bit >> 3] |= static_cast<uint8_t>(1u << (bit & 7));
      }
      ++next_entry;
    }
    out.insert(out.end(), block, block + sizeof(block));
    if (out.size() == out.capacity() || b + 1 == blocks) {
      hash->Update(out.data(), out.size());
      ZC_RETURN_IF_ERROR(file->PWrite(*offset, out.data(), out.size()));
      *offset += out.size();
      out.clear();
    }
  }
  h->bloom_blocks = blocks;
  return Status::OK();
}

// Writes the key directory of the entries just written (a sequential pass,
// like the filter's).
Status AppendKeyDirectory(File* file, Env* env, const RunHeader& h, uint64_t* offset, BlockHasher* hash,
                          size_t buffer_bytes) {
  const uint64_t buckets = format::DirectoryBuckets(h.kind, h.entry_count);
  const uint64_t mult = h.entry_count ? format::BucketMultiplier(h.min_key, h.max_key, buckets) : 0;
  std::unique_ptr<Mapping> written;
  const RunEntry* entries = nullptr;
  if (h.entry_count > 0) {
    ZC_RETURN_IF_ERROR(env->Map(file, sizeof(RunHeader) + h.entry_count * sizeof(RunEntry), &written));
    entries = reinterpret_cast<const RunEntry*>(written->data() + sizeof(RunHeader));
  }
  std::vector<uint32_t> out;
  out.reserve(std::max<size_t>(1, buffer_bytes / sizeof(uint32_t)));
  uint64_t next = 0;
  for (uint64_t b = 0; b <= buckets; ++b) {
    while (next < h.entry_count && format::KeyBucket(entries[next].key, h.min_key, mult, buckets) < b) ++next;
    out.push_back(static_cast<uint32_t>(next));
    if (out.size() == out.capacity() || b == buckets) {
      const size_t bytes = out.size() * sizeof(uint32_t);
      hash->Update(out.data(), bytes);
      ZC_RETURN_IF_ERROR(file->PWrite(*offset, out.data(), bytes));
      *offset += bytes;
      out.clear();
    }
  }
  return Status::OK();
}

}  // namespace

Status OpenRunFile(Env* env, const std::string& dir, uint32_t kind, uint32_t number, RunPtr* run,
                   bool just_written) {
  const std::string path = dir + "/" + format::RunFileName(kind, number);
  std::unique_ptr<File> file;
  ZC_RETURN_IF_ERROR(env->OpenFile(path, Env::OpenMode::kReadOnly, &file));
  uint64_t size = 0;
  ZC_RETURN_IF_ERROR(file->Size(&size));
  if (size < sizeof(RunHeader))
    return Status::Corruption(path + ": run file truncated to " + std::to_string(size) + " bytes");
  // The header and the block table are read with pread, not through the
  // mapping: a page fault on a cold mapping reads around it (megabytes with
  // a large device read-ahead), and opening needs a few KiB of each file.
  RunHeader h;
  size_t got = 0;
  ZC_RETURN_IF_ERROR(file->PRead(0, &h, sizeof(h), &got));
  if (got != sizeof(h)) return Status::Corruption(path + ": run file header cannot be read whole");
  ZC_RETURN_IF_ERROR(CheckHeader(path, kind, h, size));
  const uint64_t body_bytes = RunBodyBytes(kind, h.entry_count, h.bloom_blocks);
  if (!just_written) {
    std::vector<uint64_t> table(format::RunBlocks(body_bytes));
    ZC_RETURN_IF_ERROR(file->PRead(sizeof(RunHeader) + body_bytes, table.data(), table.size() * sizeof(uint64_t), &got));
    if (got != table.size() * sizeof(uint64_t) || Checksum64(table.data(), got) != h.body_checksum)
      return Status::Corruption(path + ": run block table checksum mismatch (offset " +
                                std::to_string(sizeof(RunHeader) + body_bytes) +
                                "); the index must be rebuilt from the segments (RepairIndexes)");
  }
  std::unique_ptr<Mapping> mapping;
  ZC_RETURN_IF_ERROR(env->Map(file.get(), size, &mapping));
  const auto* entries = reinterpret_cast<const RunEntry*>(mapping->data() + sizeof(RunHeader));
  const uint8_t* bloom = mapping->data() + sizeof(RunHeader) + h.entry_count * sizeof(RunEntry);
  const auto* directory = reinterpret_cast<const uint32_t*>(bloom + h.bloom_blocks * format::kBloomBlockBytes);
  // Opening reads the header and the block table only: the body's blocks
  // are verified when a reader first touches them (Run::VerifyBytes), so
  // opening a store costs nothing per record.
  const uint8_t* block_sums = mapping->data() + sizeof(RunHeader) + body_bytes;
  Run::FileLayout layout{path,       entries,          h.entry_count,
                         h.min_key,  h.max_key,        bloom,
                         h.bloom_blocks, directory,    mapping->data() + sizeof(RunHeader),
                         body_bytes, block_sums,       just_written};
  *run = std::make_shared<Run>(kind, number, std::move(mapping), layout);
  return Status::OK();
}

RunFileWriter::RunFileWriter(Env* env, std::string dir, uint32_t kind, uint32_t number, size_t buffer_bytes)
    : env_(env), dir_(std::move(dir)), number_(number), buffer_bytes_(buffer_bytes),
      hasher_(std::make_unique<BlockHasher>()) {
  header_.magic = format::kRunMagic;
  header_.format_version = format::kFormatVersion;
  header_.kind = kind;
  buffer_.reserve(std::max<size_t>(1, buffer_bytes / sizeof(RunEntry)));
}

Status RunFileWriter::Create(Env* env, const std::string& dir, uint32_t kind, uint32_t number, size_t buffer_bytes,
                             std::unique_ptr<RunFileWriter>* out, bool with_filter) {
  std::unique_ptr<RunFileWriter> w(new RunFileWriter(env, dir, kind, number, buffer_bytes));
  w->with_filter_ = with_filter;
  w->tmp_path_ = dir + "/" + format::RunFileName(kind, number) + ".tmp";
  ZC_RETURN_IF_ERROR(env->OpenFile(w->tmp_path_, Env::OpenMode::kCreate, &w->file_));
  Status s = w->file_->Truncate(0);
  if (!s.ok()) return s;  // the destructor removes the file
  *out = std::move(w);
  return Status::OK();
}

RunFileWriter::~RunFileWriter() {
  if (finished_ || tmp_path_.empty()) return;
  file_.reset();
  env_->RemoveFile(tmp_path_);
}

Status RunFileWriter::FlushBuffer() {
  if (buffer_.empty() || !status_.ok()) return status_;
  const size_t bytes = buffer_.size() * sizeof(RunEntry);
  hasher_->Update(buffer_.data(), bytes);
  status_ = file_->PWrite(offset_, buffer_.data(), bytes);
  offset_ += bytes;
  buffer_.clear();
  return status_;
}

Status RunFileWriter::OutOfOrder(const RunEntry& e) {
  if (status_.ok())
    status_ = Status::InvalidArgument(tmp_path_ + ": index entry with key " + std::to_string(e.key) +
                                      " after key " + std::to_string(header_.max_key) + " (entries out of run order)");
  return status_;
}

Status RunFileWriter::Finish(bool sync, RunPtr* out) {
  ZC_RETURN_IF_ERROR(FlushBuffer());
  RunHeader& h = header_;
  File* file = file_.get();
  if (with_filter_ && HasFilter(h.kind) && h.entry_count > 0)
    ZC_RETURN_IF_ERROR(AppendBloomFilter(file, env_, &h, &offset_, hasher_.get(), buffer_bytes_));
  ZC_RETURN_IF_ERROR(AppendKeyDirectory(file, env_, h, &offset_, hasher_.get(), buffer_bytes_));
  // The block table closes the file; the header's checksum covers it.
  const std::vector<uint64_t> block_sums = hasher_->Finish();
  h.body_checksum = Checksum64(block_sums.data(), block_sums.size() * sizeof(uint64_t));
  ZC_RETURN_IF_ERROR(file->PWrite(offset_, block_sums.data(), block_sums.size() * sizeof(uint64_t)));
  h.header_checksum = Checksum64(&h, offsetof(RunHeader, header_checksum));
  ZC_RETURN_IF_ERROR(file->PWrite(0, &h, sizeof(h)));
  if (sync) ZC_RETURN_IF_ERROR(file->Sync());
  file_.reset();
  ZC_RETURN_IF_ERROR(env_->RenameFile(tmp_path_, dir_ + "/" + format::RunFileName(h.kind, number_)));
  finished_ = true;
  return OpenRunFile(env_, dir_, h.kind, number_, out, /*just_written=*/true);
}

Status WriteMergedRunFile(Env* env, const std::string& dir, uint32_t kind, uint32_t number,
                          std::span<const RunPtr> runs, bool drop_tombstones, size_t buffer_bytes,
                          RunPtr* out, bool sync) {
  // Input runs read from files are verified before they are merged.
  for (const RunPtr& r : runs) ZC_RETURN_IF_ERROR(r->VerifyAll());
  std::unique_ptr<RunFileWriter> writer;
  ZC_RETURN_IF_ERROR(RunFileWriter::Create(env, dir, kind, number, buffer_bytes, &writer));
  Status status;
  MergeRuns(kind, runs, drop_tombstones, [&](const RunEntry& e) {
    if (status.ok()) status = writer->Add(e);
  });
  ZC_RETURN_IF_ERROR(status);
  return writer->Finish(sync, out);
}

void SortByKeyAndValue(RunEntry* first, RunEntry* last) {
  const auto less = [](const RunEntry& a, const RunEntry& b) {
    return a.key != b.key ? a.key < b.key : a.value < b.value;
  };
  const size_t n = static_cast<size_t>(last - first);
  constexpr size_t kBuckets = 256;
  if (n < 4 * kBuckets) {
    std::sort(first, last, less);
    return;
  }
  uint64_t lo = first->key, hi = first->key;
  for (const RunEntry* p = first; p != last; ++p) {
    lo = std::min(lo, p->key);
    hi = std::max(hi, p->key);
  }
  int shift = 0;
  while (((hi - lo) >> shift) >= kBuckets) ++shift;
  const auto bucket = [&](const RunEntry& e) { return static_cast<size_t>((e.key - lo) >> shift); };
  size_t start[kBuckets + 1] = {};
  for (const RunEntry* p = first; p != last; ++p) ++start[bucket(*p) + 1];
  for (size_t b = 0; b < kBuckets; ++b) start[b + 1] += start[b];
  size_t next[kBuckets];
  std::copy(start, start + kBuckets, next);
  // Each entry moves once to its bucket's next free slot; the entry it
  // displaces is placed next, until one belongs where the walk began.
  for (size_t b = 0; b < kBuckets; ++b) {
    while (next[b] < start[b + 1]) {
      RunEntry e = first[next[b]];
      for (size_t d = bucket(e); d != b; d = bucket(e)) std::swap(e, first[next[d]++]);
      first[next[b]++] = e;
    }
  }
  for (size_t b = 0; b < kBuckets; ++b) std::sort(first + start[b], first + start[b + 1], less);
}

RunPtr MergeInMemory(uint32_t kind, std::span<const RunPtr> runs, bool drop_tombstones) {
  size_t total = 0;
  for (const auto& r : runs) total += r->size();
  std::vector<RunEntry> merged;
  merged.reserve(total);
  MergeRuns(kind, runs, drop_tombstones, [&](const RunEntry& e) { merged.push_back(e); });
  return std::make_shared<Run>(kind, std::move(merged));
}

}  // namespace zcmedia

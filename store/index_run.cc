#include "index_run.h"

#include <algorithm>
#include <cstring>

#include "checksum.h"

namespace zcmedia {

using format::RunHeader;

Run::Run(uint32_t kind, std::vector<RunEntry> entries)
    : kind_(kind), owned_(std::move(entries)), data_(owned_.data()), count_(owned_.size()) {
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

Run::Run(uint32_t kind, uint32_t file_number, std::unique_ptr<Mapping> mapping, const RunEntry* data,
         size_t count, const uint8_t* bloom, uint64_t bloom_blocks, const uint32_t* directory)
    : kind_(kind),
      file_number_(file_number),
      mapping_(std::move(mapping)),
      data_(data),
      count_(count),
      bloom_(bloom_blocks > 0 ? bloom : nullptr),
      bloom_blocks_(bloom_blocks),
      directory_(directory),
      buckets_(format::DirectoryBuckets(kind, count)),
      bucket_multiplier_(count ? format::BucketMultiplier(data[0].key, data[count - 1].key, buckets_) : 0) {}

const RunEntry* Run::LowerBound(uint64_t key) const {
  auto less = [](const RunEntry& e, uint64_t k) { return e.key < k; };
  if (directory_ == nullptr || count_ == 0) return std::lower_bound(data_, data_ + count_, key, less);
  if (key <= data_[0].key) return data_;
  if (key > data_[count_ - 1].key) return data_ + count_;
  // Entries of earlier buckets are < key and of later ones > key.
  const uint64_t b = format::KeyBucket(key, data_[0].key, bucket_multiplier_, buckets_);
  const RunEntry* lo = data_ + directory_[b];
  const RunEntry* hi = data_ + directory_[b + 1];
  while (lo != hi && lo->key < key) ++lo;  // a handful of entries
  return lo;
}

namespace {

uint64_t RunFileSize(uint32_t kind, uint64_t entries, uint64_t bloom_blocks) {
  return sizeof(RunHeader) + entries * sizeof(RunEntry) + bloom_blocks * format::kBloomBlockBytes +
         (format::DirectoryBuckets(kind, entries) + 1) * sizeof(uint32_t);
}

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
Status AppendBloomFilter(File* file, Env* env, RunHeader* h, uint64_t* offset, XXH3_state_t* hash,
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
      XXH3_64bits_update(hash, out.data(), out.size());
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
Status AppendKeyDirectory(File* file, Env* env, const RunHeader& h, uint64_t* offset, XXH3_state_t* hash,
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
      XXH3_64bits_update(hash, out.data(), bytes);
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
  std::unique_ptr<Mapping> mapping;
  ZC_RETURN_IF_ERROR(env->Map(file.get(), size, &mapping));
  RunHeader h;
  std::memcpy(&h, mapping->data(), sizeof(h));
  ZC_RETURN_IF_ERROR(CheckHeader(path, kind, h, size));
  const auto* entries = reinterpret_cast<const RunEntry*>(mapping->data() + sizeof(RunHeader));
  const uint8_t* bloom = mapping->data() + sizeof(RunHeader) + h.entry_count * sizeof(RunEntry);
  const auto* directory = reinterpret_cast<const uint32_t*>(bloom + h.bloom_blocks * format::kBloomBlockBytes);
  if (just_written) {
    *run = std::make_shared<Run>(kind, number, std::move(mapping), entries, h.entry_count, bloom, h.bloom_blocks,
                                 directory);
    return Status::OK();
  }
  if (Checksum64(entries, size - sizeof(RunHeader)) != h.body_checksum)
    return Status::Corruption(path + ": run checksum mismatch (offset 64.." + std::to_string(size) +
                              "); the index must be rebuilt from the segments");
  for (uint64_t i = 1; i < h.entry_count; ++i) {
    if (!EntryLess(kind, entries[i - 1], entries[i]))
      return Status::Corruption(path + ": run entries out of order at offset " +
                                std::to_string(sizeof(RunHeader) + i * sizeof(RunEntry)));
  }
  if (h.entry_count > 0 && (entries[0].key != h.min_key || entries[h.entry_count - 1].key != h.max_key))
    return Status::Corruption(path + ": run key range disagrees with its header");
  // The directory steers every lookup: beyond the checksum, check that it is
  // a monotone map onto the entries, so no lookup can leave the run.
  const uint64_t buckets = format::DirectoryBuckets(kind, h.entry_count);
  if (directory[0] != 0 || directory[buckets] != h.entry_count)
    return Status::Corruption(path + ": run key directory does not span the entries");
  for (uint64_t b = 0; b < buckets; ++b) {
    if (directory[b] > directory[b + 1])
      return Status::Corruption(path + ": run key directory out of order at bucket " + std::to_string(b));
  }
  *run = std::make_shared<Run>(kind, number, std::move(mapping), entries, h.entry_count, bloom, h.bloom_blocks,
                               directory);
  return Status::OK();
}

Status WriteMergedRunFile(Env* env, const std::string& dir, uint32_t kind, uint32_t number,
                          std::span<const RunPtr> runs, bool drop_tombstones, size_t buffer_bytes,
                          RunPtr* out) {
  const std::string final_path = dir + "/" + format::RunFileName(kind, number);
  const std::string tmp_path = final_path + ".tmp";
  std::unique_ptr<File> file;
  ZC_RETURN_IF_ERROR(env->OpenFile(tmp_path, Env::OpenMode::kCreate, &file));
  ZC_RETURN_IF_ERROR(file->Truncate(0));

  RunHeader h{};
  h.magic = format::kRunMagic;
  h.format_version = format::kFormatVersion;
  h.kind = kind;
  XXH3_state_t* hash = XXH3_createState();
  XXH3_64bits_reset(hash);
  std::vector<RunEntry> buffer;
  buffer.reserve(std::max<size_t>(1, buffer_bytes / sizeof(RunEntry)));
  uint64_t offset = sizeof(RunHeader);
  Status status;
  auto flush = [&]() {
    if (buffer.empty() || !status.ok()) return;
    const size_t bytes = buffer.size() * sizeof(RunEntry);
    XXH3_64bits_update(hash, buffer.data(), bytes);
    status = file->PWrite(offset, buffer.data(), bytes);
    offset += bytes;
    buffer.clear();
  };
  MergeRuns(kind, runs, drop_tombstones, [&](const RunEntry& e) {
    if (h.entry_count == 0) h.min_key = e.key;
    h.max_key = e.key;
    ++h.entry_count;
    buffer.push_back(e);
    if (buffer.size() == buffer.capacity()) flush();
  });
  flush();
  if (status.ok() && HasFilter(kind) && h.entry_count > 0)
    status = AppendBloomFilter(file.get(), env, &h, &offset, hash, buffer_bytes);
  if (status.ok()) status = AppendKeyDirectory(file.get(), env, h, &offset, hash, buffer_bytes);
  h.body_checksum = XXH3_64bits_digest(hash);
  XXH3_freeState(hash);
  h.header_checksum = Checksum64(&h, offsetof(RunHeader, header_checksum));
  if (status.ok()) status = file->PWrite(0, &h, sizeof(h));
  if (status.ok()) status = file->Sync();
  file.reset();
  if (status.ok()) status = env->RenameFile(tmp_path, final_path);
  if (!status.ok()) {
    env->RemoveFile(tmp_path);
    return status;
  }
  return OpenRunFile(env, dir, kind, number, out, /*just_written=*/true);
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

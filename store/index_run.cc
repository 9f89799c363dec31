#include "index_run.h"

#include <algorithm>
#include <cstring>

#include "checksum.h"

namespace zcmedia {

using format::RunHeader;

Run::Run(uint32_t kind, std::vector<RunEntry> entries)
    : kind_(kind), owned_(std::move(entries)), data_(owned_.data()), count_(owned_.size()) {}

Run::Run(uint32_t kind, uint32_t file_number, std::unique_ptr<Mapping> mapping, const RunEntry* data,
         size_t count, const uint8_t* bloom, uint64_t bloom_blocks)
    : kind_(kind),
      file_number_(file_number),
      mapping_(std::move(mapping)),
      data_(data),
      count_(count),
      bloom_(bloom_blocks > 0 ? bloom : nullptr),
      bloom_blocks_(bloom_blocks) {}

const RunEntry* Run::LowerBound(uint64_t key) const {
  // Invariant: entries before lo have keys < key; entries from hi on have
  // keys >= key. Interpolation for a few steps while the window is large
  // (keys are ids or 64-bit hashes, both close to uniform), then binary
  // search, so skewed keys still cost O(log n).
  size_t lo = 0, hi = count_;
  for (int step = 0; step < 3 && hi - lo > 64; ++step) {
    const uint64_t klo = data_[lo].key, khi = data_[hi - 1].key;
    if (key <= klo) return data_ + lo;
    if (key > khi) return data_ + hi;
    const auto span = static_cast<format::uint128>(khi - klo);
    const size_t guess =
        lo + static_cast<size_t>(static_cast<format::uint128>(key - klo) * (hi - 1 - lo) / span);
    constexpr size_t kPad = 16;
    const size_t a = guess > lo + kPad ? guess - kPad : lo;
    const size_t b = std::min(hi - 1, guess + kPad);
    if (data_[a].key >= key) {
      hi = a;
    } else if (data_[b].key < key) {
      lo = b + 1;
    } else {
      lo = a + 1;
      hi = b;
      break;
    }
  }
  return std::lower_bound(data_ + lo, data_ + hi, key,
                          [](const RunEntry& e, uint64_t k) { return e.key < k; });
}

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
      file_size != sizeof(RunHeader) + h.entry_count * sizeof(RunEntry) + h.bloom_blocks * format::kBloomBlockBytes)
    return Status::Corruption(path + ": run file is " + std::to_string(file_size) + " bytes, header says " +
                              std::to_string(h.entry_count) + " entries and " + std::to_string(h.bloom_blocks) +
                              " filter blocks (truncated or extended)");
  if (h.bloom_blocks > 0 && !IsMultiKind(kind))
    return Status::Corruption(path + ": id index run carries a filter");
  return Status::OK();
}

// Writes the Bloom filter of the entries just written: a second, sequential
// pass over them (read back through a mapping, so the heap holds only one
// output buffer). Blocks are chosen by the key's high bits and entries are
// sorted by key, so blocks fill in order.
Status AppendBloomFilter(File* file, Env* env, uint32_t kind, RunHeader* h, uint64_t* offset,
                         XXH3_state_t* hash, size_t buffer_bytes) {
  (void)kind;
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

}  // namespace

Status OpenRunFile(Env* env, const std::string& dir, uint32_t kind, uint32_t number, RunPtr* run) {
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
  const uint8_t* bloom = mapping->data() + sizeof(RunHeader) + h.entry_count * sizeof(RunEntry);
  *run = std::make_shared<Run>(kind, number, std::move(mapping), entries, h.entry_count, bloom, h.bloom_blocks);
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
  if (status.ok() && IsMultiKind(kind) && h.entry_count > 0)
    status = AppendBloomFilter(file.get(), env, kind, &h, &offset, hash, buffer_bytes);
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
  return OpenRunFile(env, dir, kind, number, out);
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

// Damaged files: flipped bytes in segment records, batch headers, segment
// headers, index run files and META; truncated segments and runs; garbage
// after the committed watermark.
//
// The rule (docs/format.md): damage to committed bytes is reported as a
// Corruption status -- from Open, a lookup, a listing or the iterator --
// whose message names the file, and never crashes or returns wrong data.
// Damage to bytes beyond the committed watermark is ignored silently. A
// single damaged META page falls back to the other page.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "checksum.h"
#include "format.h"  // batch header size and fields: to find batches, not to check them
#include "store/durability_test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using namespace durtest;  // NOLINT

constexpr uint64_t kSeed = 0xc0ffee;
constexpr int kBatches = 5;
constexpr size_t kPerBatch = 30;

struct BatchSpan {
  uint64_t offset;  // of the batch header
  uint64_t length;  // header + body
};

// What happened when a damaged store was opened and read in full.
struct Outcome {
  Status open;      // non-OK: Open refused
  ReadReport read;  // when Open succeeded

  bool detected() const {
    return open.IsCorruption() || (open.ok() && !read.corruption.empty());
  }
  std::vector<std::string> corruption_messages() const {
    if (!open.ok()) return {open.message()};
    return read.corruption;
  }
  std::string Describe() const {
    if (!open.ok()) return "Open: " + open.ToString() + "\n";
    return "Open OK; reads:\n" + read.Summary();
  }
};

class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    pristine_ = tmp_.Sub("pristine");
    std::unique_ptr<Store> store;
    Status s = Store::Open(pristine_, TestOptions(), &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    Model model;
    for (int k = 0; k < kBatches; ++k) {
      std::vector<OwnedRecord> recs;
      for (size_t i = 0; i < kPerBatch; ++i)
        recs.push_back(MakeRecord(kSeed, k, i, 0, "/m/d" + std::to_string(k)));
      WriteBatch b;
      for (auto& r : recs) b.Put(r.Fields());
      OwnedRecord upd;
      int64_t removed = 0;
      if (k == 3) {  // an update and a removal, to have those entry kinds too
        const OwnedRecord& old = model.begin()->second;
        upd = MakeRecord(kSeed, 100, 0, 7, ParentOf(old.path));
        upd.path = old.path;
        upd.id = old.id;
        b.Update(upd.id, upd.Fields());
        removed = std::next(model.begin())->first;
        b.Remove(removed);
      }
      std::vector<int64_t> ids;
      s = store->Write(b, &ids);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(ids.size(), recs.size());
      for (size_t i = 0; i < recs.size(); ++i) {
        recs[i].id = ids[i];
        model[ids[i]] = recs[i];
      }
      if (k == 3) {
        model[upd.id] = upd;
        model.erase(removed);
        // Everything so far goes into run files; batch 4 stays in the
        // segment only (replayed on open).
        s = store->CompactIndexes();
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
      models_.push_back(model);
    }
    store.reset();

    auto segs = ListNames(pristine_, "seg-", ".zcs");
    ASSERT_EQ(segs.size(), 1u) << "the test expects one segment";
    seg_ = segs[0];
    runs_ = ListNames(pristine_, "idx-", ".zcr");
    ASSERT_FALSE(runs_.empty()) << "CompactIndexes wrote no run files";
    // Walk the batches.
    const std::string bytes = ReadFileBytes(pristine_ + "/" + seg_);
    uint64_t off = format::kSegmentHeaderSize;
    while (off + sizeof(format::BatchHeader) <= bytes.size()) {
      uint32_t magic;
      uint64_t body;
      std::memcpy(&magic, bytes.data() + off + offsetof(format::BatchHeader, magic), 4);
      std::memcpy(&body, bytes.data() + off + offsetof(format::BatchHeader, body_length), 8);
      if (magic != format::kBatchMagic) break;
      batches_.push_back({off, sizeof(format::BatchHeader) + body});
      off += sizeof(format::BatchHeader) + body;
    }
    ASSERT_EQ(batches_.size(), static_cast<size_t>(kBatches)) << "could not walk the batches";
    committed_end_ = off;
    ASSERT_TRUE(Examine(pristine_).open.ok());
    Outcome o = Examine(pristine_);
    ASSERT_TRUE(o.open.ok() && o.read.clean()) << "pristine store reads wrong:\n" << o.Describe();
  }

  const Model& full() const { return models_.back(); }

  // A fresh copy of the pristine store.
  std::string Copy() {
    std::string d = tmp_.Sub("trial" + std::to_string(trial_++));
    EXPECT_TRUE(CopyDirFiles(pristine_, d));
    return d;
  }

  Outcome Examine(const std::string& dir, const Model* model = nullptr) {
    Outcome o;
    Options opt = TestOptions();
    opt.create_if_missing = false;
    std::unique_ptr<Store> store;
    o.open = Store::Open(dir, opt, &store);
    if (o.open.ok()) o.read = ReadAndCheck(*store->GetSnapshot(), model ? *model : full());
    return o;
  }

  // "" when the damage was reported as Corruption naming `file` and no read
  // returned wrong data; otherwise what went wrong. `also_ok` accepts
  // another error code from Open (e.g. IOError for a missing file).
  static std::string Problem(const Outcome& o, const std::string& file,
                             Status::Code also_ok = Status::Code::kCorruption) {
    if (!o.open.ok() && !o.open.IsCorruption() && o.open.code() != also_ok)
      return "Open returned " + o.open.ToString() + " (want Corruption)";
    if (!o.open.ok()) {
      if (o.open.message().find(file) == std::string::npos)
        return "Open's message does not name " + file + ": " + o.open.ToString();
      return "";
    }
    if (!o.read.errors.empty())
      return "wrong answers or non-Corruption errors:\n" + o.read.Summary();
    if (o.read.corruption.empty()) return "damage went unnoticed (Open OK, every read OK)";
    for (const auto& m : o.read.corruption)
      if (m.find(file) == std::string::npos)
        return "Corruption message does not name " + file + ": " + m;
    return "";
  }

  // "64-111, 200"
  static std::string Ranges(const std::vector<uint64_t>& v) {
    std::string out;
    for (size_t i = 0; i < v.size();) {
      size_t j = i;
      while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
      if (!out.empty()) out += ", ";
      out += std::to_string(v[i]);
      if (j > i) out += "-" + std::to_string(v[j]);
      i = j + 1;
    }
    return out;
  }

  enum class Damage { kXor01, kXorFF, kXor10, kTruncate };

  // Applies `damage` at each position (one fresh copy each) and reports, in
  // one failure, every position that was not handled correctly.
  // `harmless_if_unread`: damage to bytes that no open or read consults
  // (see BatchHeaderBytes) may go unnoticed, as long as every read is right.
  void DamageSweep(const std::string& what, const std::string& file,
                   const std::vector<uint64_t>& positions, Damage damage,
                   bool harmless_if_unread = false) {
    std::vector<uint64_t> bad;
    std::string first;
    for (uint64_t pos : positions) {
      std::string d = Copy();
      const std::string path = d + "/" + file;
      bool ok = false;
      switch (damage) {
        case Damage::kXor01: ok = XorByte(path, pos, 0x01); break;
        case Damage::kXorFF: ok = XorByte(path, pos, 0xFF); break;
        case Damage::kXor10: ok = XorByte(path, pos, 0x10); break;
        case Damage::kTruncate: ok = TruncateFile(path, pos); break;
      }
      ASSERT_TRUE(ok) << path << " " << pos;
      Outcome outcome = Examine(d);
      std::string problem = Problem(outcome, file);
      if (harmless_if_unread && outcome.open.ok() && outcome.read.errors.empty() &&
          outcome.read.corruption.empty())
        problem.clear();
      if (!problem.empty()) {
        bad.push_back(pos);
        if (first.empty()) first = "at " + std::to_string(pos) + ": " + problem;
      }
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
    static const char* kName[] = {"byte ^ 0x01", "byte ^ 0xFF", "byte ^ 0x10", "truncation"};
    if (!bad.empty()) {
      ADD_FAILURE() << what << " (" << file << ", " << kName[static_cast<int>(damage)]
                    << "): " << bad.size() << " of " << positions.size()
                    << " positions mishandled: " << Ranges(bad) << "\n  first " << first;
    }
  }

  TempDir tmp_{"zccorrupt"};
  std::string pristine_;
  std::vector<Model> models_;  // state after each batch
  std::string seg_;
  std::vector<std::string> runs_;
  std::vector<BatchSpan> batches_;
  uint64_t committed_end_ = 0;
  int trial_ = 0;
};

TEST_F(CorruptionTest, SegmentRecordBytes) {
  const std::string bytes = ReadFileBytes(pristine_ + "/" + seg_);
  // Inside a stored path string, in the first, a middle and the last batch
  // (the last one is above the index checkpoint: replayed on open).
  std::vector<uint64_t> in_paths;
  for (int k : {0, 2, kBatches - 1}) {
    for (size_t i : {size_t{0}, size_t{7}, kPerBatch - 1}) {
      if (k == 0 && i == 0) continue;  // updated in batch 3: two versions
      const OwnedRecord r = MakeRecord(kSeed, k, i, 0, "/m/d" + std::to_string(k));
      const std::string needle = r.path + std::string(1, '\0');
      size_t at = bytes.find(needle, batches_[k].offset);
      ASSERT_NE(at, std::string::npos) << r.path;
      ASSERT_LT(at, batches_[k].offset + batches_[k].length);
      in_paths.push_back(at + r.path.size() / 2);
    }
  }
  DamageSweep("stored path", seg_, in_paths, Damage::kXor01);
  DamageSweep("stored path", seg_, in_paths, Damage::kXorFF);
  // Every byte of the first entry header of a middle and the last batch, and
  // a spread of bytes through their bodies. (Not batch 0: its first records
  // are superseded by batch 3's update and removal, so no read needs them.)
  for (int k : {2, kBatches - 1}) {
    const uint64_t entry = batches_[k].offset + sizeof(format::BatchHeader);
    std::vector<uint64_t> header, body;
    for (uint64_t b = 0; b < 16; ++b) header.push_back(entry + b);
    for (uint64_t b = entry + 16; b < batches_[k].offset + batches_[k].length; b += 97)
      body.push_back(b);
    DamageSweep("entry header of batch " + std::to_string(k), seg_, header, Damage::kXor01);
    DamageSweep("entries of batch " + std::to_string(k), seg_, body, Damage::kXor10);
  }
}

// Batches below the index checkpoint are never parsed on open or on reads
// (records are reached by their own offsets and verified one by one), so
// damage to their headers harms nothing the store returns. Decision: open
// does not scan every batch header (that would make open O(batches) on cold
// disks); the integrity check (`zcmedia check`, next issue) reports them. The
// replayed batch's header must be reported.
TEST_F(CorruptionTest, BatchHeaderBytes) {
  for (int k : {0, 2, kBatches - 1}) {
    const bool replayed = k == kBatches - 1;
    std::vector<uint64_t> pos;
    for (uint64_t b = 0; b < sizeof(format::BatchHeader); ++b) pos.push_back(batches_[k].offset + b);
    DamageSweep("header of batch " + std::to_string(k) +
                    (replayed ? " (replayed on open)" : " (below the index checkpoint)"),
                seg_, pos, Damage::kXor01, /*harmless_if_unread=*/!replayed);
    DamageSweep("magic of batch " + std::to_string(k), seg_, {batches_[k].offset}, Damage::kXorFF,
                /*harmless_if_unread=*/!replayed);
  }
}

TEST_F(CorruptionTest, SegmentHeaderBytes) {
  std::vector<uint64_t> pos;
  for (uint64_t b = 0; b < format::kSegmentHeaderSize; ++b) pos.push_back(b);
  DamageSweep("segment header", seg_, pos, Damage::kXor01);
}

TEST_F(CorruptionTest, IndexRunBytes) {
  for (const auto& run : runs_) {
    const uint64_t size = FileSize(pristine_ + "/" + run);
    ASSERT_GT(size, 64u + 16u) << run;
    std::vector<uint64_t> header, body;
    for (uint64_t b = 0; b < 64; ++b) header.push_back(b);
    for (uint64_t b = 64; b < 80; ++b) body.push_back(b);  // the first entry
    body.push_back(64 + ((size - 64) / 32) * 16 + 3);      // one in the middle
    body.push_back(size - 1);                              // the last byte
    DamageSweep("run header", run, header, Damage::kXor01);
    DamageSweep("run body", run, body, Damage::kXor01);
    DamageSweep("run entry", run, {70, 64 + 8}, Damage::kXorFF);
  }
}

TEST_F(CorruptionTest, TruncatedSegment) {
  const BatchSpan& last = batches_.back();
  const BatchSpan& first = batches_.front();
  DamageSweep("segment truncated below its committed length " + std::to_string(committed_end_),
              seg_,
              {committed_end_ - 1, committed_end_ - 8, last.offset + last.length / 2,
               last.offset + 20, last.offset, first.offset + first.length / 2, 64 + 10, 30, 0},
              Damage::kTruncate);
}

TEST_F(CorruptionTest, TruncatedIndexRun) {
  for (const auto& run : runs_) {
    const uint64_t size = FileSize(pristine_ + "/" + run);
    DamageSweep("truncated run", run, {size - 1, size - 16, 64 + 8, 64, 40, 0},
                Damage::kTruncate);
  }
}

// A file META refers to is gone: Open fails (Corruption or IOError) naming it.
TEST_F(CorruptionTest, MissingFiles) {
  std::vector<std::string> files = runs_;
  files.push_back(seg_);
  for (const auto& f : files) {
    std::string d = Copy();
    ASSERT_TRUE(std::filesystem::remove(d + "/" + f));
    Outcome o = Examine(d);
    EXPECT_EQ(Problem(o, f, Status::Code::kIOError), "") << f << " removed";
    EXPECT_FALSE(o.open.ok()) << f << " removed, yet Open succeeded";
  }
}

// META gone while segments exist: the store must not open as a new, empty
// store (create_if_missing or not), which would silently lose everything.
TEST_F(CorruptionTest, MissingMetaIsNotANewStore) {
  std::string d = Copy();
  ASSERT_TRUE(std::filesystem::remove(d + "/META"));
  const std::string seg_before = ReadFileBytes(d + "/" + seg_);
  for (bool create : {false, true}) {
    Options opt = TestOptions();
    opt.create_if_missing = create;
    std::unique_ptr<Store> store;
    Status s = Store::Open(d, opt, &store);
    EXPECT_FALSE(s.ok()) << "create_if_missing=" << create
                         << ": opened a directory with segments and runs but no META as a "
                            "store with record_count "
                         << store->GetSnapshot()->record_count();
    if (!s.ok()) {
      EXPECT_NE(s.message().find("META"), std::string::npos) << s.ToString();
    }
    if (create) {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      if (s.ok()) {  // how bad is it: does a write clobber the old segment?
        std::vector<OwnedRecord> recs{MakeRecord(kSeed, 66, 0, 0, "/m/x")};
        Status w = PutBatch(*store, recs);
        store.reset();
        EXPECT_TRUE(ReadFileBytes(d + "/" + seg_) == seg_before)
            << "a write to the store created over the META-less directory (" << w.ToString()
            << ") overwrote the old " << seg_;
      }
    }
  }
}

// One damaged page: the store falls back to the other one (the previous
// commit) and reads correctly up to its watermark; damaging the older page
// changes nothing.
TEST_F(CorruptionTest, OneMetaPageDamaged) {
  const uint64_t page = format::kMetaPageSize;
  ASSERT_EQ(FileSize(pristine_ + "/META"), 2 * page);
  const Model& previous = models_[kBatches - 2];
  int fallbacks = 0;
  for (uint64_t pos : {uint64_t{0}, uint64_t{8}, uint64_t{16}, uint64_t{24}, uint64_t{40},
                       uint64_t{100}, uint64_t{2000}, page - 9, page - 1}) {
    int full_state_pages = 0;
    for (uint64_t p = 0; p < 2; ++p) {
      SCOPED_TRACE("META page " + std::to_string(p) + " byte " + std::to_string(pos));
      std::string d = Copy();
      ASSERT_TRUE(XorByte(d + "/META", p * page + pos, 0x01));
      Outcome o = Examine(d);
      ASSERT_TRUE(o.open.ok()) << "one good META page left, Open must succeed: "
                               << o.open.ToString();
      Model expect = full();
      if (o.read.clean()) {
        ++full_state_pages;
      } else {
        Outcome back = Examine(d, &previous);
        EXPECT_TRUE(back.open.ok() && back.read.clean())
            << "neither the last nor the previous commit:\n"
            << o.Describe() << "vs previous:\n"
            << back.Describe();
        expect = previous;
        ++fallbacks;
      }
      // The store goes on from there: a new batch lands and survives.
      {
        Options opt = TestOptions();
        std::unique_ptr<Store> store;
        ASSERT_TRUE(Store::Open(d, opt, &store).ok());
        std::vector<OwnedRecord> recs;
        for (size_t i = 0; i < 4; ++i) recs.push_back(MakeRecord(kSeed, 77, i, 0, "/m/after"));
        Status s = PutBatch(*store, recs);
        ASSERT_TRUE(s.ok()) << s.ToString();
        for (auto& r : recs) expect[r.id] = r;
      }
      Outcome after = Examine(d, &expect);
      EXPECT_TRUE(after.open.ok() && after.read.clean()) << "after a new write:\n"
                                                         << after.Describe();
    }
    // (Both pages may hold the last state if closing the store committed
    // once more; at least the older page's damage must not lose anything.)
    EXPECT_GE(full_state_pages, 1)
        << "byte " << pos << ": damaging the older page must leave the last commit readable";
  }
  std::cerr << "META fallbacks to the previous commit: " << fallbacks << "\n";
}

TEST_F(CorruptionTest, BothMetaPagesDamaged) {
  const uint64_t page = format::kMetaPageSize;
  for (uint64_t pos : {uint64_t{0}, uint64_t{8}, uint64_t{24}, uint64_t{100}, page - 9,
                       page - 1}) {
    std::string d = Copy();
    ASSERT_TRUE(XorByte(d + "/META", pos, 0x01));
    ASSERT_TRUE(XorByte(d + "/META", page + pos, 0x01));
    Outcome o = Examine(d);
    EXPECT_TRUE(o.open.IsCorruption()) << "byte " << pos << " of both pages: " << o.Describe();
    if (!o.open.ok()) {
      EXPECT_NE(o.open.message().find("META"), std::string::npos) << o.open.ToString();
    }
  }
  for (uint64_t size : {uint64_t{0}, uint64_t{100}, page - 1}) {
    std::string d = Copy();
    ASSERT_TRUE(TruncateFile(d + "/META", size));
    Outcome o = Examine(d);
    EXPECT_TRUE(o.open.IsCorruption()) << "META truncated to " << size << ": " << o.Describe();
    if (!o.open.ok()) {
      EXPECT_NE(o.open.message().find("META"), std::string::npos) << o.open.ToString();
    }
  }
}

// A store written in another format version (sound pages, another
// format_version) is not reported as damage: the error names both versions
// and what to do, for readers and writers alike, and no file changes.
TEST_F(CorruptionTest, AnotherFormatVersionIsRefusedUntouched) {
  const std::string d = Copy();
  std::string meta = ReadFileBytes(d + "/META");
  ASSERT_EQ(meta.size(), 2 * format::kMetaPageSize);
  for (size_t p = 0; p < 2; ++p) {
    format::MetaPage page;
    std::memcpy(&page, meta.data() + p * format::kMetaPageSize, sizeof(page));
    page.format_version = format::kFormatVersion - 1;
    page.checksum = Checksum64(&page, offsetof(format::MetaPage, checksum));
    std::memcpy(meta.data() + p * format::kMetaPageSize, &page, sizeof(page));
  }
  ASSERT_TRUE(WriteFileBytes(d + "/META", meta));
  const std::string before_segment = ReadFileBytes(d + "/" + seg_);
  for (bool read_only : {false, true}) {
    Options opt = TestOptions();
    opt.create_if_missing = false;
    opt.read_only = read_only;
    std::unique_ptr<Store> store;
    const Status s = Store::Open(d, opt, &store);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    const std::string want_version = "format version " + std::to_string(format::kFormatVersion - 1);
    EXPECT_NE(s.message().find(want_version), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("zcmedia migrate"), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(ReadFileBytes(d + "/META"), meta);
  EXPECT_EQ(ReadFileBytes(d + "/" + seg_), before_segment);
}

// Bytes past the committed end of the segment are not part of the store:
// garbage there -- random bytes, or a perfectly valid copy of the last batch
// (a commit whose META never made it) -- is ignored, and new writes go on.
TEST_F(CorruptionTest, GarbageAfterWatermarkIsIgnored) {
  const std::string bytes = ReadFileBytes(pristine_ + "/" + seg_);
  std::string random(5000, '\0');
  for (size_t i = 0; i < random.size(); ++i)
    random[i] = static_cast<char>(Hash(kSeed, i, 3) & 0xFF);
  const BatchSpan& last = batches_.back();
  const std::string replay = bytes.substr(last.offset, last.length);
  std::string zeros(4096, '\0');
  for (const auto& [name, garbage] : std::vector<std::pair<std::string, std::string>>{
           {"random bytes", random},
           {"a copy of the last batch", replay},
           {"zeros then random", zeros + random}}) {
    SCOPED_TRACE(name);
    std::string d = Copy();
    ASSERT_TRUE(PWriteBytes(d + "/" + seg_, committed_end_, garbage));
    Outcome o = Examine(d);
    ASSERT_TRUE(o.open.ok() && o.read.clean()) << o.Describe();
    Model expect = full();
    {
      std::unique_ptr<Store> store;
      ASSERT_TRUE(Store::Open(d, TestOptions(), &store).ok());
      std::vector<OwnedRecord> recs;
      for (size_t i = 0; i < 6; ++i) recs.push_back(MakeRecord(kSeed, 88, i, 0, "/m/after"));
      Status s = PutBatch(*store, recs);
      ASSERT_TRUE(s.ok()) << s.ToString();
      for (auto& r : recs) {
        EXPECT_GT(r.id, full().rbegin()->first);
        expect[r.id] = r;
      }
    }
    Outcome after = Examine(d, &expect);
    EXPECT_TRUE(after.open.ok() && after.read.clean()) << "after a new write:\n"
                                                       << after.Describe();
  }
}

}  // namespace
}  // namespace zcmedia

// The directory tree: subdirectories (optionally of one mime family) and
// per-directory file counts against a model computed from the live records,
// through puts, moves, family changes and removals, across checkpoints,
// reopen, an index rebuild and compaction.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "test_util.h"
#include "zcmedia/check.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using test::TempDir;

struct File {
  std::string path, parent, mime;
};

// What the tree must say: for every directory (every parent_path and its
// ancestors), the files per family at any depth.
using Counts = std::map<std::string, std::array<uint64_t, kMimeFamilies>>;

Counts ModelCounts(const std::map<int64_t, File>& files) {
  Counts counts;
  for (const auto& [id, f] : files) {
    const int family = static_cast<int>(MimeFamilyOf(f.mime));
    std::string_view dir = f.parent;
    while (!dir.empty()) {
      counts[std::string(dir)][family] += 1;
      const std::string_view up = DeriveParentPath(dir);
      if (up == dir) break;
      dir = up;
    }
  }
  return counts;
}

std::string Show(const std::string& parent, const std::vector<DirectoryInfo>& dirs) {
  std::string s;
  for (const DirectoryInfo& d : dirs) {
    s += parent + std::string(d.tail) + "[";
    for (uint64_t c : d.files) s += std::to_string(c) + ",";
    s += "] ";
  }
  return s;
}

void ExpectTreeMatches(const Snapshot& snap, const std::map<int64_t, File>& files, const std::string& when) {
  const Counts counts = ModelCounts(files);
  // Every directory that has (or had) a child, plus the roots' parents.
  std::set<std::string> parents = {"", "/"};
  for (const auto& [dir, c] : counts) parents.insert(std::string(DeriveParentPath(dir))), parents.insert(dir);
  for (const std::string& parent : parents) {
    for (int f = -1; f < kMimeFamilies; ++f) {
      const std::optional<MimeFamily> family =
          f < 0 ? std::nullopt : std::optional<MimeFamily>(static_cast<MimeFamily>(f));
      std::vector<DirectoryInfo> got;
      ASSERT_TRUE(snap.ListSubdirectories(parent, family, &got).ok());
      std::string want;
      for (const auto& [dir, c] : counts) {  // std::map: byte order, as the store sorts
        if (dir == parent || DeriveParentPath(dir) != parent) continue;
        if (family && c[f] == 0) continue;
        want += dir + "[";
        for (uint64_t n : c) want += std::to_string(n) + ",";
        want += "] ";
      }
      ASSERT_EQ(Show(parent, got), want) << when << ": subdirectories of '" << parent << "' family " << f;
    }
  }
  for (const auto& [dir, c] : counts) {
    DirectoryInfo info;
    ASSERT_TRUE(snap.GetDirectory(dir, &info).ok()) << when << ": " << dir;
    EXPECT_EQ(std::string(DeriveParentPath(dir)) + std::string(info.tail), dir);
    EXPECT_EQ(info.name, DeriveFilename(dir));
    for (int f = 0; f < kMimeFamilies; ++f) EXPECT_EQ(info.files[f], c[f]) << when << ": " << dir;
  }
}

MediaFileFields FieldsOf(const File& f) {
  MediaFileFields m;
  m.path = f.path;
  m.parent_path = f.parent;
  m.filename = DeriveFilename(f.path);
  m.canonical_path = f.path;
  m.canonical_parent_path = f.parent;
  m.mime_type = f.mime;
  return m;
}

TEST(DirectoryTreeTest, SubdirectoriesAndCountsFollowEveryWrite) {
  TempDir dir;
  Options options;
  options.memory_budget = 1 << 20;  // checkpoints happen
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), options, &store).ok());
  std::mt19937_64 rng(7);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  // Names chosen so that byte order and component order differ ("b" < "b-c"
  // < "b/..." is not "b/..." < "b-c"), with non-ASCII and a Windows-style root.
  const std::vector<std::string> dirs = {
      "/m",         "/m/a",        "/m/b",          "/m/b-c",     "/m/b/x",  "/m/b/x/deep/er",
      "/m/\xc3\xa9t\xc3\xa9", "/n",  "/n/only/video", "C:\\Music\\Rock", "rel/dir", "/"};
  const std::vector<std::string> mimes = {"audio/mpeg", "AUDIO/flac", "video/mp4", "image/png", "text/plain"};
  std::map<int64_t, File> files;
  int next_name = 0;
  for (int step = 0; step < 160; ++step) {
    WriteBatch b;
    std::vector<File> puts;
    std::vector<std::pair<int64_t, File>> updates;
    const int op = static_cast<int>(pick(10));
    if (op < 5 || files.empty()) {  // a few new files
      for (int i = 0, n = 1 + static_cast<int>(pick(30)); i < n; ++i) {
        const std::string& d = dirs[pick(dirs.size())];
        File f{d + (d == "/" ? "" : d.find('\\') != std::string::npos ? "\\" : "/") + "f" + std::to_string(next_name++),
               d, mimes[pick(mimes.size())]};
        puts.push_back(f);
      }
    } else {
      for (int i = 0, n = 1 + static_cast<int>(pick(10)); i < n && !files.empty(); ++i) {
        auto it = files.begin();
        std::advance(it, static_cast<long>(pick(files.size())));
        if (op < 8) {  // move to another directory and/or change family
          File f = it->second;
          const std::string& d = dirs[pick(dirs.size())];
          f.parent = d;
          f.path = d + (d == "/" ? "" : d.find('\\') != std::string::npos ? "\\" : "/") + "g" + std::to_string(next_name++);
          f.mime = mimes[pick(mimes.size())];
          updates.emplace_back(it->first, f);
        } else {
          b.Remove(it->first);
          files.erase(it);
        }
      }
    }
    for (const File& f : puts) b.Put(FieldsOf(f));
    for (const auto& [id, f] : updates) b.Update(id, FieldsOf(f));
    std::vector<int64_t> ids;
    Status s = store->Write(b, &ids);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (size_t i = 0; i < puts.size(); ++i) files[ids[i]] = puts[i];
    for (const auto& [id, f] : updates) files[id] = f;
    if (step % 20 == 19) ExpectTreeMatches(*store->GetSnapshot(), files, "step " + std::to_string(step));
    if (HasFatalFailure()) return;
    if (step == 79) {  // reopen: replay
      store.reset();
      ASSERT_TRUE(Store::Open(dir.path(), options, &store).ok());
    }
  }
  ExpectTreeMatches(*store->GetSnapshot(), files, "end");
  ASSERT_TRUE(store->Compact().ok());
  ExpectTreeMatches(*store->GetSnapshot(), files, "after compaction");
  // Remove everything below /m: /m and its subdirectories leave the tree.
  {
    WriteBatch b;
    for (auto it = files.begin(); it != files.end();) {
      if (it->second.parent.rfind("/m", 0) == 0) {
        b.Remove(it->first);
        it = files.erase(it);
      } else {
        ++it;
      }
    }
    ASSERT_TRUE(store->Write(b).ok());
  }
  DirectoryInfo info;
  EXPECT_TRUE(store->GetSnapshot()->GetDirectory("/m", &info).IsNotFound());
  ExpectTreeMatches(*store->GetSnapshot(), files, "after emptying /m");
  store.reset();
  ASSERT_TRUE(RepairIndexes(dir.path(), options).ok());
  ASSERT_TRUE(Store::Open(dir.path(), options, &store).ok());
  ExpectTreeMatches(*store->GetSnapshot(), files, "after an index rebuild");
  // Files come back into an emptied directory: it is listed again.
  File back{"/m/b/x/again", "/m/b/x", "audio/ogg"};
  WriteBatch b;
  b.Put(FieldsOf(back));
  std::vector<int64_t> ids;
  ASSERT_TRUE(store->Write(b, &ids).ok());
  files[ids[0]] = back;
  ExpectTreeMatches(*store->GetSnapshot(), files, "after refilling /m/b/x");
  store.reset();
  CheckReport report;
  ASSERT_TRUE(CheckStore(dir.path(), /*deep=*/true, &report, options).ok());
  EXPECT_TRUE(report.ok()) << report.ToString();
}

TEST(DirectoryTreeTest, AFailedBatchAddsNoDirectoryNames) {
  TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), Options(), &store).ok());
  File a{"/x/y/a", "/x/y", "audio/mpeg"};
  WriteBatch ok;
  ok.Put(FieldsOf(a));
  ASSERT_TRUE(store->Write(ok).ok());
  WriteBatch bad;
  File fresh{"/new/dir/b", "/new/dir", "audio/mpeg"};
  bad.Put(FieldsOf(fresh));
  bad.Put(FieldsOf(a));  // duplicate path: the batch fails
  const size_t bytes = bad.ByteSize();
  EXPECT_TRUE(store->Write(bad).IsConstraint());
  EXPECT_EQ(bad.size(), 2u);  // left as it was: no names appended
  EXPECT_EQ(bad.ByteSize(), bytes);
  std::vector<DirectoryInfo> top;
  ASSERT_TRUE(store->GetSnapshot()->ListSubdirectories("/", std::nullopt, &top).ok());
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].tail, "x");
  EXPECT_EQ(top[0].name, "x");
  EXPECT_EQ(top[0].files[static_cast<int>(MimeFamily::kAudio)], 1u);
}

}  // namespace
}  // namespace zcmedia

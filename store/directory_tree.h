// The directory tree (docs/format.md, "Directory tree"): the directories of
// the parent_path column with their file counts per mime family, kept in
// the tree index, and the Directory records that name them.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "snapshot.h"
#include "write_batch.h"
#include "zcmedia/store.h"

namespace zcmedia {

// The directories `record`'s parent_path adds to the tree: the parent and
// its ancestors up to the root ("" is not one), nearest first. Views into
// `parent`.
template <typename F>
void ForEachDirectoryUp(std::string_view dir, F&& f) {
  while (!dir.empty()) {
    if (!f(dir)) return;
    const std::string_view up = DeriveParentPath(dir);
    if (up == dir) return;  // the root
    dir = up;
  }
}

// The live records at any depth below directories asked for in hash order
// (compaction's pass over the names, which come in key order): one forward
// cursor per count space and run, so the counts are read sequentially, not
// looked up one by one (four index probes per directory). `runs` is a tree
// index's runs, newest first, verified (Run::VerifyAll) and kept alive by
// the caller for the walk's lifetime.
class DirectoryFilesWalk {
 public:
  explicit DirectoryFilesWalk(const std::vector<RunPtr>& runs);
  // Files below the directory whose 60-bit hash (its name key's low bits)
  // is `h60`; `h60` must not decrease from one call to the next.
  uint64_t Files(uint64_t h60);

 private:
  struct Cursor {
    const format::RunEntry* at;
    const format::RunEntry* end;
  };
  std::vector<Cursor> cursors_[kMimeFamilies];  // per count space, newest run first
};

// A Directory record's tail (its path minus its parent's) and its key in
// the tree index's name space.
std::string_view DirectoryTail(const fb::Directory* d);
uint64_t DirectoryNameKey(const fb::Directory* d);

// The writer's step before a batch is placed: adds to `names` a Directory
// record (an item of Table::kDirectory) for every directory the Puts of
// `batch` create, named neither in `base` nor earlier in the batch. They
// are appended after the batch's own entries.
Status AddDirectoryNames(const ReadView& base, const WriteBatch::Rep& batch, WriteBatch::Rep* names);

// Whether a Directory record names `path` in `view` (a transaction names
// the directories of its pending batch with it, one entry at a time).
Status DirectoryNamed(const ReadView& view, std::string_view path, bool* named);

// Snapshot::ListSubdirectories and GetDirectory.
Status ListSubdirectories(const ReadView& view, std::string_view parent, std::optional<MimeFamily> family,
                          std::vector<DirectoryInfo>* out);
Status GetDirectory(const ReadView& view, std::string_view path, DirectoryInfo* out);

}  // namespace zcmedia

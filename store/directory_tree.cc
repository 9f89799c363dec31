// The directory tree: the applier's counting (BatchApplier::FinishDirectories,
// PutDirectoryName), the writer's naming step and the reads.
#include "directory_tree.h"

#include <algorithm>

#include "batch_applier.h"
#include "checksum.h"
#include "record_codec.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using namespace format;

namespace {

constexpr TreeSpace kCountSpaces[kMimeFamilies] = {TreeSpace::kAudioFiles, TreeSpace::kVideoFiles,
                                                   TreeSpace::kImageFiles, TreeSpace::kOtherFiles};
constexpr uint64_t kHash60Mask = (uint64_t{1} << kTreeSpaceShift) - 1;

// The file counts of the directory whose 60-bit hash is `h60`.
void ReadCounts(const ReadView& view, uint64_t h60, uint64_t counts[kMimeFamilies]) {
  for (int f = 0; f < kMimeFamilies; ++f) counts[f] = view.LookupSingle(kTreeIndex, TreeKey60(kCountSpaces[f], h60));
}

}  // namespace

std::string_view DirectoryTail(const fb::Directory* d) { return {d->tail()->data(), d->tail()->size()}; }
uint64_t DirectoryNameKey(const fb::Directory* d) { return TreeKey60(TreeSpace::kName, d->hash()); }

DirectoryFilesWalk::DirectoryFilesWalk(const std::vector<RunPtr>& runs) {
  for (int f = 0; f < kMimeFamilies; ++f)
    for (const RunPtr& run : runs)
      cursors_[f].push_back({run->LowerBound(TreeKey60(kCountSpaces[f], 0)),
                             run->LowerBound(TreeKey60(kCountSpaces[f], kHash60Mask) + 1)});
}

uint64_t DirectoryFilesWalk::Files(uint64_t h60) {
  uint64_t files = 0;
  for (int f = 0; f < kMimeFamilies; ++f) {
    const uint64_t key = TreeKey60(kCountSpaces[f], h60);
    // The newest run holding the key decides (a tombstone is a count of 0),
    // as in ReadView::LookupSingle; older runs' cursors catch up later.
    for (Cursor& c : cursors_[f]) {
      while (c.at != c.end && c.at->key < key) ++c.at;
      if (c.at != c.end && c.at->key == key) {
        if ((c.at->value & kTombstone) == 0) files += c.at->value;
        break;
      }
    }
  }
  return files;
}

namespace {

std::string_view TailOf(const fb::Directory* d) { return DirectoryTail(d); }
std::string_view TailOf(std::string_view path) { return path.substr(DeriveParentPath(path).size()); }
std::string_view NameOf(std::string_view tail) {
  return !tail.empty() && (tail[0] == '/' || tail[0] == '\\') ? tail.substr(1) : tail;
}

// The Directory record of the directory whose 60-bit hash is `h60` and
// whose tail satisfies `match`, or null.
template <typename Match>
Status FindName(const ReadView& view, uint64_t h60, Match&& match, const fb::Directory** found) {
  *found = nullptr;
  std::vector<uint64_t> locations;
  view.LookupMulti(kTreeIndex, TreeKey60(TreeSpace::kName, h60), &locations);
  ZC_RETURN_IF_ERROR(view.IndexDamage(kTreeIndex));
  for (uint64_t loc : locations) {  // more than one only on a hash collision
    const fb::Directory* d = nullptr;
    ZC_RETURN_IF_ERROR(view.DirectoryAt(loc, &d));
    if ((d->hash() & kHash60Mask) == h60 && match(TailOf(d))) {
      *found = d;
      return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace

// ---- Applier -----------------------------------------------------------------

Status BatchApplier::PutDirectoryName(const fb::Directory* record, uint64_t location) {
  Emit(kTreeIndex, DirectoryNameKey(record), location);
  if (names_are_new_) new_names_.push_back(record->hash() & kHash60Mask);
  return Status::OK();
}

Status BatchApplier::FinishDirectories() {
  if (!track_directories_ || direct_files_.empty()) return Status::OK();
  // Sum the direct changes over every ancestor: the counts are "at any depth".
  struct Change {
    std::string_view path;
    int64_t delta[kMimeFamilies] = {};
  };
  FlatMap<Change> changes(64);
  direct_files_.ForEach([&](uint64_t, const DirectFiles& d) {
    if (std::all_of(std::begin(d.delta), std::end(d.delta), [](int64_t x) { return x == 0; })) return;
    ForEachDirectoryUp(d.parent, [&](std::string_view dir) {
      const uint64_t h = PathHash(dir);
      Change* c = changes.Find(h, [&](const Change& x) { return x.path == dir; });
      if (c == nullptr) {
        c = &changes.Insert(h);
        c->path = dir;
      }
      for (int f = 0; f < kMimeFamilies; ++f) c->delta[f] += d.delta[f];
      return true;
    });
  });
  std::sort(new_names_.begin(), new_names_.end());
  changes.ForEach([&](uint64_t h, const Change& c) {
    uint64_t old_counts[kMimeFamilies] = {};
    if (!std::binary_search(new_names_.begin(), new_names_.end(), h >> 4)) ReadCounts(base_, h >> 4, old_counts);
    uint64_t old_total = 0, new_total = 0;
    for (int f = 0; f < kMimeFamilies; ++f) {
      // Never below zero: a replay of a log the writer checked cannot get
      // there; a damaged index could, and the deep check would say so.
      const int64_t now = std::max<int64_t>(0, static_cast<int64_t>(old_counts[f]) + c.delta[f]);
      old_total += old_counts[f];
      new_total += static_cast<uint64_t>(now);
      if (static_cast<uint64_t>(now) != old_counts[f])
        Emit(kTreeIndex, TreeKey(kCountSpaces[f], h), now == 0 ? kTombstone : static_cast<uint64_t>(now));
    }
    if ((old_total == 0) == (new_total == 0)) return;
    const std::string_view up = DeriveParentPath(c.path);
    if (up == c.path) return;  // the root has no parent to be listed under
    Emit(kTreeIndex, TreeKey(TreeSpace::kChild, PathHash(up)), (h >> 4) | (new_total == 0 ? kTombstone : 0));
  });
  return base_.IndexDamage(kTreeIndex);
}

// ---- Writer --------------------------------------------------------------------

Status DirectoryNamed(const ReadView& view, std::string_view path, bool* named) {
  const fb::Directory* d = nullptr;
  const std::string_view tail = TailOf(path);
  ZC_RETURN_IF_ERROR(FindName(view, PathHash(path) >> 4, [&](std::string_view t) { return t == tail; }, &d));
  *named = d != nullptr;
  return Status::OK();
}


Status AddDirectoryNames(const ReadView& base, const WriteBatch::Rep& batch, WriteBatch::Rep* names) {
  // Directories known to be named: in the base or by this step. A name is
  // never removed while a file lies below it, and every ancestor of a named
  // directory is named, so the walk up stops at the first named one.
  struct Known {
    std::string_view path;  // a view into the batch's body, which does not move
  };
  FlatMap<Known> known(64);
  std::string_view last_parent;  // bulk loads put many files of one directory in a row
  bool have_last = false;
  for (const WriteBatch::Rep::Item& item : batch.items) {
    if (item.table != WriteBatch::Rep::Table::kMedia || item.op == WriteBatch::Rep::Op::kRemove || !item.has_parent)
      continue;
    const auto* record =
        flatbuffers::GetRoot<fb::MediaFile>(batch.body.data() + item.offset + sizeof(EntryHeader));
    const std::string_view parent = *MediaFileView(record).parent_path();
    if (have_last && parent == last_parent) continue;
    last_parent = parent;
    have_last = true;
    Status status;
    ForEachDirectoryUp(parent, [&](std::string_view dir) {
      const uint64_t h = PathHash(dir);
      if (known.Find(h, [&](const Known& k) { return k.path == dir; }) != nullptr) return false;
      bool named = false;
      status = DirectoryNamed(base, dir, &named);
      if (!status.ok()) return false;
      known.Insert(h).path = dir;
      if (named) return false;
      EncodeDirectory(dir, &names->builder);
      names->AppendBuilt(WriteBatch::Rep::Op::kPut, WriteBatch::Rep::Table::kDirectory, 0, EntryKind::kPutDirectory);
      return true;
    });
    ZC_RETURN_IF_ERROR(status);
  }
  return Status::OK();
}

// ---- Reads -----------------------------------------------------------------------

Status GetDirectory(const ReadView& view, std::string_view path, DirectoryInfo* out) {
  const uint64_t h = PathHash(path);
  DirectoryInfo info;
  ReadCounts(view, h >> 4, info.files);
  ZC_RETURN_IF_ERROR(view.IndexDamage(kTreeIndex));
  const fb::Directory* d = nullptr;
  const std::string_view tail = TailOf(path);
  if (info.total_files() > 0)
    ZC_RETURN_IF_ERROR(FindName(view, h >> 4, [&](std::string_view t) { return t == tail; }, &d));
  if (d == nullptr) return Status::NotFound("no files below directory '" + std::string(path) + "'");
  info.tail = TailOf(d);
  info.name = NameOf(info.tail);
  *out = info;
  return Status::OK();
}

Status ListSubdirectories(const ReadView& view, std::string_view parent, std::optional<MimeFamily> family,
                          std::vector<DirectoryInfo>* out) {
  out->clear();
  std::vector<uint64_t> children;  // 60-bit hashes
  view.LookupMulti(kTreeIndex, TreeKey(TreeSpace::kChild, PathHash(parent)), &children);
  ZC_RETURN_IF_ERROR(view.IndexDamage(kTreeIndex));
  std::string path(parent);
  for (uint64_t h60 : children) {
    const fb::Directory* d = nullptr;
    // A child's path is the parent's plus its tail: hashing it confirms the
    // link (a link of another parent with the same hash is passed over).
    ZC_RETURN_IF_ERROR(FindName(view, h60, [&](std::string_view tail) {
      path.resize(parent.size());
      path.append(tail);
      return !tail.empty() && (PathHash(path) >> 4) == h60 && DeriveParentPath(path) == parent;
    }, &d));
    if (d == nullptr) continue;
    DirectoryInfo info;
    info.tail = TailOf(d);
    info.name = NameOf(info.tail);
    ReadCounts(view, h60, info.files);
    if (info.total_files() == 0) continue;
    if (family && info.files[static_cast<int>(*family)] == 0) continue;
    out->push_back(info);
  }
  // One parent: path order is tail order.
  std::sort(out->begin(), out->end(), [](const DirectoryInfo& a, const DirectoryInfo& b) { return a.tail < b.tail; });
  return Status::OK();
}

Status SnapshotImpl::ListSubdirectories(std::string_view parent, std::optional<MimeFamily> family,
                                        std::vector<DirectoryInfo>* out) const {
  return Counted(1, zcmedia::ListSubdirectories(view_, parent, family, out));
}

Status SnapshotImpl::GetDirectory(std::string_view path, DirectoryInfo* out) const {
  return Counted(1, zcmedia::GetDirectory(view_, path, out));
}

}  // namespace zcmedia

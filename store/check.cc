// CheckStore (zcmedia/check.h): the fast pass reads every file META names;
// the deep pass cross-checks indexes and segments through a read-only
// snapshot, in memory bounded by the store's budget (merges and lookups
// stream; nothing is collected per record).
#include "zcmedia/check.h"

#include <algorithm>
#include <sstream>

#include "category.h"
#include "checksum.h"
#include "directory_tree.h"
#include "index_run.h"
#include "meta.h"
#include "playlist_codec.h"
#include "segment.h"
#include "snapshot.h"
#include "zcmedia/media_generated.h"
#include "zcmedia/store.h"

namespace zcmedia {

using namespace format;

namespace {

constexpr size_t kMaxProblems = 100;

class Checker {
 public:
  Checker(std::string dir, const Options& options, CheckReport* report)
      : dir_(std::move(dir)), options_(options), env_(options.env ? options.env : Env::Default()), report_(report) {}

  Status Run(bool deep) {
    report_->deep = deep;
    bool exists = false;
    ZC_RETURN_IF_ERROR(env_->FileExists(dir_ + "/" + kMetaFile, &exists));
    if (!exists) return Status::NotFound(dir_ + ": no zcmedia store here (no META file)");
    MetaPage meta;
    if (!CheckMeta(&meta)) return Status::OK();
    CheckSegments(meta);
    CheckRunFiles(meta);
    if (deep && !Full()) CheckDeep();
    return Status::OK();
  }

 private:
  bool Full() const { return report_->problems.size() >= kMaxProblems; }
  void Problem(std::string file, uint64_t offset, std::string message, bool index_only = false) {
    if (Full()) return;
    report_->problems.push_back({std::move(file), offset, std::move(message), index_only});
  }
  std::string IndexName(uint32_t kind) const { return dir_ + "/" + RunKindName(kind) + " index"; }

  bool CheckMeta(MetaPage* meta) {
    const std::string path = dir_ + "/" + kMetaFile;
    std::unique_ptr<File> file;
    Status s = env_->OpenFile(path, Env::OpenMode::kReadOnly, &file);
    if (s.ok()) s = ReadNewestMetaPage(file.get(), meta);
    // (The older page may be invalid after an interrupted commit; only the
    // newest one matters.)
    if (!s.ok()) Problem(path, 0, s.message());
    return s.ok();
  }

  void CheckSegments(const MetaPage& meta) {
    for (uint32_t i = 0; i < meta.segment_count && !Full(); ++i) {
      const MetaSegment& m = meta.segments[i];
      const std::string path = dir_ + "/" + SegmentFileName(m.number);
      SegmentPtr seg;
      Status s = Segment::Open(env_, dir_, m.number, std::max(options_.segment_max_bytes, m.committed_length),
                               m.committed_length, /*writable=*/false, &seg);
      if (!s.ok()) {
        Problem(path, 0, s.message());
        continue;
      }
      ++report_->segments;
      uint64_t pos = kSegmentHeaderSize;
      while (pos < m.committed_length) {
        uint64_t sequence = 0, next = 0;
        s = ReadBatch(*seg, pos, m.committed_length, &sequence, &next,
                      [&](const BatchEntry&) { ++report_->entries; });
        if (!s.ok()) {
          // Batches are found by walking from the start: nothing after a
          // damaged one can be located.
          Problem(path, pos, s.message() + " (the rest of this segment was not checked)");
          break;
        }
        ++report_->batches;
        pos = next;
      }
    }
  }

  void CheckRunFiles(const MetaPage& meta) {
    for (uint32_t k = 0; k < kRunKinds; ++k) {
      for (uint32_t i = 0; i < meta.run_count[k] && !Full(); ++i) {
        RunPtr run;
        Status s = OpenRunFile(env_, dir_, k, meta.runs[k][i], &run, /*just_written=*/false);
        if (s.ok()) s = run->VerifyStructure();
        if (s.ok())
          ++report_->index_runs;
        else
          Problem(dir_ + "/" + RunFileName(k, meta.runs[k][i]), 0, s.message(), /*index_only=*/true);
      }
    }
  }

  // Whether the newest entry with identity (key, location) in `kind` is live.
  static bool HasLiveEntry(const ReadView& view, uint32_t kind, uint64_t key, uint64_t location) {
    for (const RunPtr& run : view.runs[kind]) {
      if (run->size() == 0 || key < run->min_key() || key > run->max_key()) continue;
      const RunEntry* first = run->LowerBound(key);
      const RunEntry* last = first;
      while (last != run->end() && last->key == key) ++last;  // entries of one key are few
      const RunEntry* e = std::lower_bound(first, last, location, [](const RunEntry& x, uint64_t loc) {
        return (x.value & ~kTombstone) < loc;
      });
      if (e != last && (e->value & ~kTombstone) == location) return (e->value & kTombstone) == 0;
    }
    return false;
  }

  void CheckDeep() {
    Options ro = options_;
    ro.read_only = true;
    ro.create_if_missing = false;
    ro.use_environment = false;
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir_, ro, &store);
    if (!s.ok()) {
      Problem(dir_, 0, "the deep check could not open the store: " + s.message());
      return;
    }
    std::shared_ptr<const Snapshot> snap = store->GetSnapshot();
    const ReadView& view = static_cast<const SnapshotImpl&>(*snap).view();

    // 1. Every live index entry points at the live version of a record
    // that carries the entry's key.
    uint64_t live_entries[kRunKinds] = {};
    for (uint32_t k = 0; k < kRunKinds && !Full(); ++k) {
      bool sound = true;
      for (const RunPtr& run : view.runs[k]) {
        Status verified = run->VerifyStructure();
        if (!verified.ok()) {
          Problem(IndexName(k), 0, verified.message(), true);
          sound = false;
        }
      }
      if (!sound) continue;
      MergeRuns(k, view.runs[k], /*drop_tombstones=*/true, [&](const RunEntry& e) {
        if (Full()) return;
        if (k == kTreeIndex) {
          // Names are cross-checked with their records; the counts and
          // links are sums the check does not recompute (that would need
          // memory per directory).
          if ((e.key >> kTreeSpaceShift) == static_cast<uint64_t>(TreeSpace::kName)) {
            ++live_entries[k];
            CheckDirectoryName(view, e);
          }
          return;
        }
        ++live_entries[k];
        if (k == kPlaylistIndex) return CheckPlaylistIndexEntry(view, e);
        const uint64_t location = k == kIdIndex ? e.value : (e.value & ~kTombstone);
        const fb::MediaFile* rec = nullptr;
        Status read = view.RecordAt(location, &rec);
        if (!read.ok()) {
          Problem(IndexName(k), 0, "entry for key " + std::to_string(e.key) + ": " + read.message(), true);
          return;
        }
        const MediaFileView v(rec);
        bool carries = false;
        switch (k) {
          case kIdIndex: carries = static_cast<uint64_t>(v.id()) == e.key; break;
          case kPathIndex: carries = PathHash(v.path()) == e.key; break;
          case kDirIndex: carries = v.parent_path() && PathHash(*v.parent_path()) == e.key; break;
          case kCategoryIndex: {
            const CategoryKeys keys = CategoryKeysOf(v);
            carries = std::find(keys.keys, keys.keys + keys.count, e.key) != keys.keys + keys.count;
            break;
          }
          default: break;
        }
        if (!carries)
          Problem(IndexName(k), 0, "entry for key " + std::to_string(e.key) + " points at record " +
                                       std::to_string(v.id()) + ", which does not carry that key", true);
        else if (k != kIdIndex && view.LocateId(v.id()) != location)
          Problem(IndexName(k), 0, "entry for key " + std::to_string(e.key) + " points at a replaced version of record " +
                                       std::to_string(v.id()), true);
      });
    }
    report_->index_entries = 0;
    for (uint32_t k = 0; k < kRunKinds; ++k) report_->index_entries += live_entries[k];

    // 2. Every live record (the version the id index names) is in every
    // index under its own keys; totals and dead space recomputed.
    uint64_t expected[kRunKinds] = {};
    LibraryTotals totals;
    uint64_t dead = 0, live = 0, playlists = 0, entries = 0;
    for (const SegmentRef& ref : view.segments) {
      const uint32_t number = ref.segment->number();
      uint64_t pos = kSegmentHeaderSize;
      while (pos < ref.committed && !Full()) {
        uint64_t sequence = 0, next = 0;
        Status read = ReadBatch(*ref.segment, pos, ref.committed, &sequence, &next, [&](const BatchEntry& e) {
          const uint64_t location = MakeLocation(number, e.offset);
          if (e.kind == EntryKind::kPutDirectory) {  // written once, never dead
            const uint64_t key = DirectoryNameKey(e.directory);
            ++expected[kTreeIndex];
            if (!HasLiveEntry(view, kTreeIndex, key, location))
              Problem(IndexName(kTreeIndex), 0, "directory '..." + std::string(DirectoryTail(e.directory)) +
                                                    "' is missing under key " + std::to_string(key), true);
            return;
          }
          if (e.kind == EntryKind::kPutPlaylist || e.kind == EntryKind::kPutPlaylistEntry) {
            if (!CheckPlaylistRecord(view, e, location, &expected[kPlaylistIndex], &playlists, &entries))
              dead += e.entry_bytes;
            return;
          }
          if (e.kind != EntryKind::kPutMedia || view.LocateId(e.id) != location) {
            dead += e.entry_bytes;
            return;
          }
          ++live;
          const MediaFileView v(e.record);
          const int family = static_cast<int>(MimeFamilyOf(v.mime_type()));
          ++totals.files[family];
          totals.bytes[family] += v.size();
          if (e.record->canonical_path() != nullptr || e.record->canonical_parent_path() != nullptr)
            ++totals.noncanonical_files;
          if (!v.canonical_path() || !v.canonical_parent_path()) ++totals.null_canonical_files;
          if (v.parent_leads_path()) ++totals.parent_prefix_files;
          auto expect = [&](uint32_t kind, uint64_t key) {
            ++expected[kind];
            if (!HasLiveEntry(view, kind, key, location))
              Problem(IndexName(kind), 0, "record " + std::to_string(e.id) + " (" + std::string(v.path()) +
                                              ") is missing under key " + std::to_string(key), true);
          };
          ++expected[kIdIndex];
          expect(kPathIndex, PathHash(v.path()));
          if (const OptText parent = v.parent_path()) expect(kDirIndex, PathHash(*parent));
          const CategoryKeys keys = CategoryKeysOf(v);
          for (uint8_t i = 0; i < keys.count; ++i) expect(kCategoryIndex, keys.keys[i]);
        });
        if (!read.ok()) break;  // reported by the fast pass
        pos = next;
      }
    }
    report_->live_records = live;
    if (Full()) return;
    const std::string meta = dir_ + "/" + kMetaFile;
    auto compare = [&](const std::string& file, const std::string& what, uint64_t kept, uint64_t counted) {
      if (kept != counted)
        Problem(file, 0, what + ": " + std::to_string(kept) + " kept, " + std::to_string(counted) + " counted", true);
    };
    compare(meta, "record count", view.record_count, live);
    for (uint32_t k = 0; k < kRunKinds; ++k)
      compare(IndexName(k), "live entries", live_entries[k], expected[k]);
    for (int f = 0; f < kMimeFamilies; ++f) {
      compare(meta, "files of mime family " + std::to_string(f), view.totals.files[f], totals.files[f]);
      compare(meta, "bytes of mime family " + std::to_string(f), static_cast<uint64_t>(view.totals.bytes[f]),
              static_cast<uint64_t>(totals.bytes[f]));
    }
    compare(meta, "files with canonical columns of their own", view.totals.noncanonical_files,
            totals.noncanonical_files);
    compare(meta, "files with a NULL canonical column", view.totals.null_canonical_files,
            totals.null_canonical_files);
    compare(meta, "files whose parent_path leads their path", view.totals.parent_prefix_files,
            totals.parent_prefix_files);
    compare(meta, "dead bytes", view.dead_bytes, dead);
    compare(meta, "playlist count", view.playlist_count, playlists);
    compare(meta, "playlist entry count", view.entry_count, entries);
  }

  // The location of the live version of playlist or entry `id`, or 0 (also
  // when it cannot be read: the walk over the index reports that).
  static uint64_t LivePlaylistLocation(const ReadView& view, PlaylistKeySpace space, int64_t id) {
    uint64_t location = 0;
    if (space == PlaylistKeySpace::kPlaylistById) {
      const fb::Playlist* rec = nullptr;
      if (!view.LivePlaylist(id, &rec, &location).ok()) return 0;
    } else {
      const fb::PlaylistEntry* rec = nullptr;
      if (!view.LivePlaylistEntry(id, &rec, &location).ok()) return 0;
    }
    return location;
  }

  // Deep pass, part 1, for a name entry of the tree index: it points at a
  // Directory record whose path hashes to the key.
  void CheckDirectoryName(const ReadView& view, const RunEntry& e) {
    const fb::Directory* d = nullptr;
    const Status read = view.DirectoryAt(e.value & ~kTombstone, &d);
    const std::string what = "name entry for key " + std::to_string(e.key);
    if (!read.ok()) return Problem(IndexName(kTreeIndex), 0, what + ": " + read.message(), true);
    if (DirectoryNameKey(d) != e.key)
      Problem(IndexName(kTreeIndex), 0, what + " points at directory '..." + std::string(DirectoryTail(d)) +
                                            "', whose hash is another", true);
  }

  // Deep pass, part 1, for the playlist index: the entry points at the live
  // version of a playlist or entry that carries its key.
  void CheckPlaylistIndexEntry(const ReadView& view, const RunEntry& e) {
    const uint64_t location = e.value & ~kTombstone;
    const auto space = static_cast<PlaylistKeySpace>(e.key >> kPlaylistKeyShift);
    const bool is_playlist = space == PlaylistKeySpace::kPlaylistById || space == PlaylistKeySpace::kPlaylistByName;
    PlaylistRecordKeys keys;
    int64_t id = 0;
    Status read;
    if (is_playlist) {
      const fb::Playlist* rec = nullptr;
      read = view.PlaylistAt(location, &rec);
      if (read.ok()) keys = KeysOf(PlaylistView(rec)), id = rec->id();
    } else {
      const fb::PlaylistEntry* rec = nullptr;
      read = view.PlaylistEntryAt(location, &rec);
      if (read.ok()) keys = KeysOf(PlaylistEntryView(rec)), id = rec->id();
    }
    const std::string what = "entry for key " + std::to_string(e.key);
    if (!read.ok()) return Problem(IndexName(kPlaylistIndex), 0, what + ": " + read.message(), true);
    if (std::find(keys.keys, keys.keys + keys.count, e.key) == keys.keys + keys.count)
      return Problem(IndexName(kPlaylistIndex), 0, what + " points at a record that does not carry that key", true);
    const auto id_space = is_playlist ? PlaylistKeySpace::kPlaylistById : PlaylistKeySpace::kEntryById;
    if (LivePlaylistLocation(view, id_space, id) != location)
      Problem(IndexName(kPlaylistIndex), 0, what + " points at a replaced version of " +
                                                (is_playlist ? "playlist " : "playlist entry ") + std::to_string(id),
              true);
  }

  // Deep pass, part 2: a playlist or entry found in a segment. Returns
  // whether it is the live version; if so, checks it is under all its keys
  // (counting them in *expected) and that an entry's playlist and media
  // file exist.
  bool CheckPlaylistRecord(const ReadView& view, const BatchEntry& e, uint64_t location, uint64_t* expected,
                           uint64_t* playlists, uint64_t* entries) {
    const bool is_playlist = e.kind == EntryKind::kPutPlaylist;
    const auto id_space = is_playlist ? PlaylistKeySpace::kPlaylistById : PlaylistKeySpace::kEntryById;
    if (LivePlaylistLocation(view, id_space, e.id) != location) return false;
    const PlaylistRecordKeys keys = is_playlist ? KeysOf(PlaylistView(e.playlist)) : KeysOf(PlaylistEntryView(e.playlist_entry));
    const std::string what = (is_playlist ? "playlist " : "playlist entry ") + std::to_string(e.id);
    for (uint8_t i = 0; i < keys.count; ++i) {
      ++*expected;
      if (!HasLiveEntry(view, kPlaylistIndex, keys.keys[i], location))
        Problem(IndexName(kPlaylistIndex), 0, what + " is missing under key " + std::to_string(keys.keys[i]), true);
    }
    if (is_playlist) {
      ++*playlists;
      return true;
    }
    ++*entries;
    const PlaylistEntryView entry(e.playlist_entry);
    if (LivePlaylistLocation(view, PlaylistKeySpace::kPlaylistById, entry.playlist_id()) == 0)
      Problem(IndexName(kPlaylistIndex), 0, what + " names playlist " + std::to_string(entry.playlist_id()) +
                                                ", which does not exist");
    if (view.LocateId(entry.media_file_id()) == 0)
      Problem(IndexName(kPlaylistIndex), 0, what + " names media file " + std::to_string(entry.media_file_id()) +
                                                ", which does not exist");
    return true;
  }

  const std::string dir_;
  const Options options_;
  Env* const env_;
  CheckReport* const report_;
};

}  // namespace

bool CheckReport::repairable() const {
  return std::all_of(problems.begin(), problems.end(), [](const CheckProblem& p) { return p.index_only; });
}

std::string CheckReport::ToString() const {
  std::ostringstream out;
  out << (deep ? "deep" : "fast") << " check: " << segments << " segments, " << batches << " batches, " << entries
      << " entries, " << index_runs << " index run files verified";
  if (deep) out << "; " << index_entries << " index entries and " << live_records << " live records cross-checked";
  out << "\n";
  if (problems.empty()) {
    out << "no problems found\n";
    return out.str();
  }
  out << problems.size() << (problems.size() >= kMaxProblems ? "+" : "") << " problem"
      << (problems.size() == 1 ? "" : "s") << ":\n";
  for (const CheckProblem& p : problems) {
    // Most messages come from Status text that names the file already.
    if (p.message.rfind(p.file, 0) == 0) {
      out << "  " << p.message << "\n";
      continue;
    }
    out << "  " << p.file;
    if (p.offset != 0) out << " at offset " << p.offset;
    out << ": " << p.message << "\n";
  }
  out << (repairable() ? "every problem is in derived index state: RepairIndexes (zcmedia check --repair) fixes it\n"
                       : "records or META are damaged: restore the store from a backup\n");
  return out.str();
}

Status CheckStore(const std::string& directory, bool deep, CheckReport* report, const Options& options) {
  *report = CheckReport();
  ZC_RETURN_IF_ERROR(ValidateOptions(options));
  try {
    return Checker(directory, options, report).Run(deep);
  } catch (const std::exception& e) {
    return Status::IOError("check of " + directory + " failed: " + e.what());
  }
}

}  // namespace zcmedia

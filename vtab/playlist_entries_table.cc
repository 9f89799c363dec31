// playlist_entries: the legacy table's columns over the store's entries.
//
// Plans (docs/query-plans.md has the encoding; media_files_table.cc is the
// model): a scan in id order, lookups by id, the entries of playlists (in
// position order: the legacy server's listing, its MAX(position) and its
// join with media_files) and the entries naming media files. Every column
// is an INTEGER, so any further `col = ?` / `col IN (...)` constraint is
// taken as an exact filter (omit=1), which lets LIMIT/OFFSET through too.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "plan.h"
#include "table.h"
#include "tables.h"
#include "values.h"

namespace zcmedia::vtab {
namespace {

enum Column : int { kId = 0, kPlaylistId, kMediaFileId, kPosition, kCreatedAt, kColumnCount };

const char* const kColumnNames[kColumnCount] = {"id", "playlist_id", "media_file_id", "position", "created_at"};

// The legacy shape C/D table, in the legacy order, with its types and its
// UNIQUE constraints. `id` is the rowid (xRowid returns it). The FOREIGN
// KEYs and their ON DELETE CASCADEs are the store's (zcmedia/playlist.h):
// SQLite does not enforce a foreign key on a virtual table, and declaring
// one would only suggest that it does.
constexpr const char* kDeclaration =
    "CREATE TABLE x(id INTEGER PRIMARY KEY, playlist_id INTEGER NOT NULL, media_file_id INTEGER NOT NULL, "
    "position INTEGER NOT NULL, created_at INTEGER NOT NULL, "
    "UNIQUE(playlist_id, media_file_id), UNIQUE(playlist_id, position))";

int64_t ValueOf(const PlaylistEntryView& e, int column) {
  switch (column) {
    case kPlaylistId: return e.playlist_id();
    case kMediaFileId: return e.media_file_id();
    case kPosition: return e.position();
    case kCreatedAt: return e.created_at();
    default: return e.id();  // kId, -1 (rowid)
  }
}

// The plans. Their numbers are idxNum (stable: docs/query-plans.md).
enum Plan : int {
  kScan = 0,       // every entry in id order; optional id bounds
  kIdLookup = 1,   // id = ? or id IN (...) (rowid or the id column)
  kPlaylist = 2,   // playlist_id = ? (position order) or playlist_id IN (...)
  kMediaFile = 3,  // media_file_id = ? or IN (...): the entries naming them
};
const char* const kPlanNames[] = {"scan", "id", "playlist", "media-file"};

class PlaylistEntriesTable final : public Table {
 public:
  using Table::Table;
  const char* Declaration() const override { return kDeclaration; }
  int BestIndex(sqlite3_index_info* info) override;
  std::unique_ptr<Cursor> NewCursor() override;
  // Writes (module.cc documents the arguments), checked like the legacy table: UNIQUE(playlist_id,
  // media_file_id), UNIQUE(playlist_id, position) and the foreign keys to
  // playlists and media_files.
  int Update(int argc, sqlite3_value** argv, sqlite3_int64* rowid) override;

 private:
  // For OR REPLACE: the rows (other than `updating`, 0 for an insert) that
  // conflict with the write of f under `id` (Table::WriteRow removes them).
  Status ConflictingRows(const PlaylistEntryFields& f, int64_t id, int64_t updating, std::vector<int64_t>* out);
};

// ---- xBestIndex -----------------------------------------------------------

bool AnyColumn(int column) { return column >= -1 && column < kColumnCount; }

// Whether the entries of one playlist, in position order, are already in
// the ORDER BY order: playlist_id terms (one value: any direction), then
// `position` ascending, after which nothing can tie (UNIQUE(playlist_id,
// position)).
bool PositionOrderSatisfies(const sqlite3_index_info* info) {
  for (int i = 0; i < info->nOrderBy; ++i) {
    const auto& o = info->aOrderBy[i];
    if (o.iColumn == kPlaylistId) continue;
    return o.iColumn == kPosition && !o.desc;
  }
  return true;
}

int PlaylistEntriesTable::BestIndex(sqlite3_index_info* info) {
  std::shared_ptr<const Snapshot> snapshot;
  if (Status s = session().store().LatestSnapshot(&snapshot); !s.ok()) return Fail(s);
  const double n = static_cast<double>(std::max<uint64_t>(snapshot->playlist_entry_count(), 1));
  const double playlists = static_cast<double>(std::max<uint64_t>(snapshot->playlist_count(), 1));
  const double files = static_cast<double>(std::max<uint64_t>(snapshot->record_count(), 1));
  // Entries per playlist and per media file, on average (at least one).
  const double per_playlist = std::max(1.0, n / playlists);
  const double per_file = std::max(1.0, n / files);

  ConstraintSet cs(info);
  PlanBuilder best(info, kScan, kPlanNames[kScan]);
  auto consider = [&](PlanBuilder&& p) {
    if (p.cost() < best.cost()) best = std::move(p);
  };
  // The `col = ?` constraints on the columns other than the plan's key as
  // exact filters; each leaves about a tenth of the rows. (A second
  // constraint on the key column stays SQLite's: its values must not join
  // the key's.)
  auto add_filters = [&](PlanBuilder& p, int key, double* rows) {
    for (int column = kId; column < kColumnCount; ++column) {
      const int c = cs.Find(column, SQLITE_INDEX_CONSTRAINT_EQ);
      if (column == key || c < 0 || p.Used(c) || !cs.Exact(c)) continue;
      p.UseEq(c, kColumnNames[column], true);
      *rows = std::max(1.0, *rows * 0.1);
    }
  };

  // Lookups by id.
  for (int column : {-1, static_cast<int>(kId)}) {
    const int c = cs.Find(column, SQLITE_INDEX_CONSTRAINT_EQ);
    if (c < 0) continue;
    PlanBuilder p(info, kIdLookup, kPlanNames[kIdLookup]);
    const bool in = p.UseEq(c, "id", cs.Exact(c));
    const double values = in ? 10.0 : 1.0;
    double rows = std::min(values, n);
    add_filters(p, kId, &rows);
    p.SetCost(values, rows);
    if (!in) p.SetUnique();
    p.ConsumeOrderBySorting(AnyColumn);
    consider(std::move(p));
  }

  // The entries of playlists / of media files. One lookup in the playlist
  // index and one record read per entry.
  auto by_plan = [&](int plan, int column, double per_value) {
    const int c = cs.Find(column, SQLITE_INDEX_CONSTRAINT_EQ);
    if (c < 0) return;
    PlanBuilder p(info, plan, kPlanNames[plan]);
    const bool in = p.UseEq(c, kColumnNames[column], cs.Exact(c));
    const double values = in ? 10.0 : 1.0;
    double rows = std::min(n, per_value * values);
    const double cost = values * (5.0 + per_value * 1.5);
    add_filters(p, column, &rows);
    p.SetCost(cost, rows);
    if (plan == kPlaylist && !in && PositionOrderSatisfies(info)) p.ConsumeOrderBy();
    else p.ConsumeOrderBySorting(AnyColumn);
    consider(std::move(p));
  };
  by_plan(kPlaylist, kPlaylistId, per_playlist);
  by_plan(kMediaFile, kMediaFileId, per_file);

  // The scan, with id bounds SQLite checks again (omit=0).
  {
    PlanBuilder p(info, kScan, kPlanNames[kScan]);
    double fraction = 1.0;
    for (int column : {-1, static_cast<int>(kId)}) {
      for (int op : {SQLITE_INDEX_CONSTRAINT_GT, SQLITE_INDEX_CONSTRAINT_GE, SQLITE_INDEX_CONSTRAINT_LT,
                     SQLITE_INDEX_CONSTRAINT_LE}) {
        const int c = cs.Find(column, op);
        if (c < 0 || p.Used(c)) continue;
        p.UseRange(c, "id");
        fraction *= 0.5;
      }
    }
    double rows = n * fraction;
    add_filters(p, /*key=*/-2, &rows);
    p.SetCost(n * 2.0 * fraction + 10.0, rows);
    p.ConsumeIdOrder(kId);
    consider(std::move(p));
  }
  best.UseLimitOffsetIfSafe(cs);
  return best.Commit();
}

// ---- Cursor ---------------------------------------------------------------

class PlaylistEntriesCursor final : public Cursor {
 public:
  explicit PlaylistEntriesCursor(Table* table) : Cursor(table) {}
  int Filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv) override;
  int Next() override;
  bool Eof() const override { return eof_; }
  int Column(sqlite3_context* ctx, int column) override;
  int Rowid(sqlite3_int64* rowid) override {
    *rowid = Current().id();
    return SQLITE_OK;
  }

 private:
  Status Load(const PlanArgs& args);
  // Whether `e` passes the id bounds (scan) and the filters.
  bool Accepts(const PlaylistEntryView& e) const;
  // From the iterator's position, the first entry the scan accepts.
  int SettleScan();
  PlaylistEntryView Current() const { return plan_ == kScan ? iterator_->entry() : rows_[row_]; }

  std::shared_ptr<const Snapshot> snapshot_;
  bool static_text_ = true;
  int plan_ = kScan;
  bool eof_ = true;
  // kScan
  std::unique_ptr<PlaylistEntryIterator> iterator_;
  std::optional<int64_t> id_min_, id_max_;  // inclusive
  // the lookups
  std::vector<PlaylistEntryView> rows_;
  size_t row_ = 0;
  // `col = ?` / `col IN (...)` filters: sorted values by column
  std::vector<std::pair<int, std::vector<int64_t>>> filters_;
  // LIMIT taken over from SQLite
  std::optional<int64_t> limit_;
  int64_t emitted_ = 0;
};

int PlaylistEntriesTable::Update(int argc, sqlite3_value** argv, sqlite3_int64* rowid) {
  if (argc == 1) {  // DELETE
    WriteBatch batch;
    batch.RemovePlaylistEntry(sqlite3_value_int64(argv[0]));
    return FailWrite(session().Write(batch));
  }
  const bool insert = sqlite3_value_type(argv[0]) == SQLITE_NULL;
  std::optional<int64_t> id;
  if (int rc = RowId(argv[2 + kId], argv[1], &id); rc != SQLITE_OK) return rc;
  if (id && (*id <= 0 || *id > kMaxPlaylistId))
    return Fail(SQLITE_MISMATCH, name() + ".id must be between 1 and " + std::to_string(kMaxPlaylistId) + " (got " +
                                     std::to_string(*id) + ")");
  RowReader row(this, argv + 2, kColumnNames);
  PlaylistEntryFields f;
  f.playlist_id = row.Integer(kPlaylistId, true).value_or(0);
  f.media_file_id = row.Integer(kMediaFileId, true).value_or(0);
  f.position = row.Integer(kPosition, true).value_or(0);
  f.created_at = row.Integer(kCreatedAt, true).value_or(0);
  if (row.rc() != SQLITE_OK)
    return insert ? ConsumeIgnoredInsertId(IdSequence::kPlaylistEntries, id, row.rc()) : row.rc();
  static const RowOps<PlaylistEntryFields> kOps = {
      [](WriteBatch& b, const PlaylistEntryFields& f) { b.PutPlaylistEntry(f); },
      [](WriteBatch& b, int64_t id, const PlaylistEntryFields& f) { b.UpdatePlaylistEntry(id, f); },
      [](WriteBatch& b, int64_t id) { b.RemovePlaylistEntry(id); }};
  return WriteRow(
      insert, id, insert ? 0 : sqlite3_value_int64(argv[0]), f, IdSequence::kPlaylistEntries, kOps,
      [](int64_t, bool* referenced) {  // nothing names an entry
        *referenced = false;
        return Status::OK();
      },
      [this](const PlaylistEntryFields& g, int64_t new_id, int64_t updating, std::vector<int64_t>* doomed) {
        return ConflictingRows(g, new_id, updating, doomed);
      },
      rowid);
}

Status PlaylistEntriesTable::ConflictingRows(const PlaylistEntryFields& f, int64_t id, int64_t updating,
                                             std::vector<int64_t>* out) {
  std::shared_ptr<const Snapshot> snap;
  ZC_RETURN_IF_ERROR(WriteSnapshot(&snap));
  std::vector<PlaylistEntryView> entries;
  ZC_RETURN_IF_ERROR(snap->ListPlaylistEntries(f.playlist_id, &entries));
  std::vector<int64_t> doomed;
  for (const PlaylistEntryView& e : entries)
    if (e.id() != updating && (e.media_file_id() == f.media_file_id || e.position() == f.position))
      doomed.push_back(e.id());
  PlaylistEntryView same_id;
  if (id != 0 && id != updating && snap->GetPlaylistEntry(id, &same_id).ok() &&
      std::find(doomed.begin(), doomed.end(), id) == doomed.end())
    doomed.push_back(id);
  *out = std::move(doomed);
  return Status::OK();
}

std::unique_ptr<Cursor> PlaylistEntriesTable::NewCursor() { return std::make_unique<PlaylistEntriesCursor>(this); }

// Sorted, duplicates dropped.
std::vector<int64_t> SortedUnique(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

int PlaylistEntriesCursor::Filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv) {
  Status s = table()->session().ReadSnapshot(&snapshot_, &static_text_);
  if (!s.ok()) return table()->Fail(s);
  plan_ = idx_num;
  PlanArgs args;
  s = PlanArgs::Parse(idx_str, argc, argv, &args);
  if (!s.ok()) return table()->Fail(s);
  rows_.clear();
  row_ = 0;
  iterator_.reset();
  filters_.clear();
  eof_ = true;
  limit_ = args.limit;
  emitted_ = 0;
  // Filters on the columns the plan does not look up by.
  const char* key = plan_ == kPlaylist ? "playlist_id" : plan_ == kMediaFile ? "media_file_id" : plan_ == kIdLookup ? "id" : "";
  for (int column = kId; column < kColumnCount; ++column)
    if (kColumnNames[column] != std::string_view(key) && args.HasEq(kColumnNames[column]))
      filters_.emplace_back(column, SortedUnique(args.IntValues(kColumnNames[column])));
  s = Load(args);
  if (!s.ok()) return table()->Fail(s);

  int64_t skip = args.offset.value_or(0);
  if (plan_ == kScan) {
    if (!iterator_) return SQLITE_OK;
    const int rc = SettleScan();
    if (rc != SQLITE_OK) return rc;
    for (; skip > 0 && !eof_; --skip) {
      iterator_->Next();
      const int next = SettleScan();
      if (next != SQLITE_OK) return next;
    }
  } else {
    std::erase_if(rows_, [&](const PlaylistEntryView& e) { return !Accepts(e); });
    SortRows(&rows_, args.order,
             [](const PlaylistEntryView& e, int column) { return SqlValue::Int(ValueOf(e, column)); });
    row_ = static_cast<size_t>(std::min<int64_t>(skip, static_cast<int64_t>(rows_.size())));
    eof_ = row_ >= rows_.size();
  }
  if (limit_ && *limit_ <= 0) eof_ = true;
  return SQLITE_OK;
}

Status PlaylistEntriesCursor::Load(const PlanArgs& args) {
  auto append = [&](const std::vector<PlaylistEntryView>& part) { rows_.insert(rows_.end(), part.begin(), part.end()); };
  switch (plan_) {
    case kScan:
      id_min_ = args.IntLowerBound("id");
      id_max_ = args.IntUpperBound("id");
      if (args.Empty()) return Status::OK();
      iterator_ = snapshot_->NewPlaylistEntryIterator();
      if (id_min_) iterator_->Seek(*id_min_);
      else iterator_->SeekToFirst();
      return iterator_->status();
    case kIdLookup:
      for (int64_t id : SortedUnique(args.IntValues("id"))) {
        PlaylistEntryView e;
        Status s = snapshot_->GetPlaylistEntry(id, &e);
        if (s.IsNotFound()) continue;
        ZC_RETURN_IF_ERROR(s);
        rows_.push_back(e);
      }
      return Status::OK();
    case kPlaylist: {
      // Several playlists: one after the other in playlist_id order, each in
      // position order.
      std::vector<PlaylistEntryView> part;
      for (int64_t playlist : SortedUnique(args.IntValues("playlist_id"))) {
        ZC_RETURN_IF_ERROR(snapshot_->ListPlaylistEntries(playlist, &part));
        append(part);
      }
      return Status::OK();
    }
    case kMediaFile: {
      std::vector<PlaylistEntryView> part;
      const std::vector<int64_t> files = SortedUnique(args.IntValues("media_file_id"));
      for (int64_t file : files) {
        ZC_RETURN_IF_ERROR(snapshot_->ListEntriesOfMediaFile(file, &part));
        append(part);
      }
      // In id order, as the scan gives them, until an ORDER BY says otherwise.
      if (files.size() > 1)
        std::sort(rows_.begin(), rows_.end(), [](const PlaylistEntryView& a, const PlaylistEntryView& b) { return a.id() < b.id(); });
      return Status::OK();
    }
  }
  return Status::InvalidArgument("zcmedia: unknown plan " + std::to_string(plan_) + " of table playlist_entries");
}

bool PlaylistEntriesCursor::Accepts(const PlaylistEntryView& e) const {
  if ((id_min_ && e.id() < *id_min_) || (id_max_ && e.id() > *id_max_)) return false;
  for (const auto& [column, values] : filters_)
    if (!std::binary_search(values.begin(), values.end(), ValueOf(e, column))) return false;
  return true;
}

int PlaylistEntriesCursor::SettleScan() {
  for (;;) {
    if (!iterator_->status().ok()) return table()->Fail(iterator_->status());
    if (!iterator_->Valid() || (id_max_ && iterator_->entry().id() > *id_max_)) {
      eof_ = true;
      return SQLITE_OK;
    }
    if (Accepts(iterator_->entry())) {
      eof_ = false;
      return SQLITE_OK;
    }
    iterator_->Next();
  }
}

int PlaylistEntriesCursor::Next() {
  ++emitted_;
  if (limit_ && emitted_ >= *limit_) {
    eof_ = true;
    return SQLITE_OK;
  }
  if (plan_ == kScan) {
    iterator_->Next();
    return SettleScan();
  }
  eof_ = ++row_ >= rows_.size();
  return SQLITE_OK;
}

int PlaylistEntriesCursor::Column(sqlite3_context* ctx, int column) {
  if (column < kId || column >= kColumnCount) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  sqlite3_result_int64(ctx, ValueOf(Current(), column));
  return SQLITE_OK;
}

}  // namespace

std::unique_ptr<Table> NewPlaylistEntriesTable(sqlite3* db, std::string schema, std::string name,
                                               std::shared_ptr<StoreSession> session) {
  return std::make_unique<PlaylistEntriesTable>(db, std::move(schema), std::move(name), std::move(session));
}

}  // namespace zcmedia::vtab

// playlists: the legacy table's columns over the store's playlists.
//
// Plans (docs/query-plans.md has the encoding; media_files_table.cc is the
// model): a scan in id order, lookups by id and by name. Playlists are few
// (a library has tens to thousands), so every plan reads its rows into a
// vector of views and sorts them when it takes over the ORDER BY.
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

enum Column : int { kId = 0, kName, kDescription, kCreatedAt, kUpdatedAt, kColumnCount };

const char* const kColumnNames[kColumnCount] = {"id", "name", "description", "created_at", "updated_at"};

// The legacy shape C/D table, in the legacy order, with its types. `id` is
// the rowid (xRowid returns it); the UNIQUE and NOT NULL constraints are the
// store's (zcmedia/playlist.h), checked on every write.
constexpr const char* kDeclaration =
    "CREATE TABLE x(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, description TEXT, "
    "created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)";

SqlValue ColumnOf(const PlaylistView& p, int column) {
  switch (column) {
    case -1:
    case kId: return SqlValue::Int(p.id());
    case kName: return SqlValue::Text(p.name());
    case kDescription: return SqlValue::OptText(p.description());
    case kCreatedAt: return SqlValue::Int(p.created_at());
    case kUpdatedAt: return SqlValue::Int(p.updated_at());
  }
  return SqlValue::Null();
}

// The plans. Their numbers are idxNum (stable: docs/query-plans.md).
enum Plan : int {
  kScan = 0,        // every playlist in id order; optional id bounds
  kIdLookup = 1,    // id = ? or id IN (...) (rowid or the id column)
  kNameLookup = 2,  // name = ? or name IN (...), BINARY collation only
};
const char* const kPlanNames[] = {"scan", "id", "name"};

// A scan sorts its rows for an ORDER BY only up to this many playlists
// (beyond, SQLite's sorter does it without holding every view at once).
constexpr uint64_t kMaxSortedScan = 100000;

class PlaylistsTable final : public Table {
 public:
  using Table::Table;
  const char* Declaration() const override { return kDeclaration; }
  int BestIndex(sqlite3_index_info* info) override;
  std::unique_ptr<Cursor> NewCursor() override;
  // Writes: INSERT, UPDATE and DELETE (module.cc documents the arguments),
  // checked like the legacy table; deleting a playlist deletes its entries
  // (the legacy ON DELETE CASCADE).
  int Update(int argc, sqlite3_value** argv, sqlite3_int64* rowid) override;

 private:
  // For OR REPLACE: the rows (other than `updating`, 0 for an insert) that
  // conflict with the write of f under `id` (Table::WriteRow removes them).
  Status ConflictingRows(const PlaylistFields& f, int64_t id, int64_t updating, std::vector<int64_t>* out);
};

// ---- xBestIndex -----------------------------------------------------------

bool AnyColumn(int column) { return column >= -1 && column < kColumnCount; }

int PlaylistsTable::BestIndex(sqlite3_index_info* info) {
  std::shared_ptr<const Snapshot> snapshot;
  if (Status s = session().store().LatestSnapshot(&snapshot); !s.ok()) return Fail(s);
  const uint64_t count = snapshot->playlist_count();
  const double n = static_cast<double>(std::max<uint64_t>(count, 1));

  ConstraintSet cs(info);
  PlanBuilder best(info, kScan, kPlanNames[kScan]);
  auto consider = [&](PlanBuilder&& p) {
    if (p.cost() < best.cost()) best = std::move(p);
  };

  // Lookups by id (rowid or the id column) and by name; IN lists at once.
  for (int column : {-1, static_cast<int>(kId), static_cast<int>(kName)}) {
    const int c = cs.Find(column, SQLITE_INDEX_CONSTRAINT_EQ);
    if (c < 0) continue;
    // A name lookup finds exact bytes: with another collation (NOCASE) it
    // would miss rows SQLite wants, so the plan is not offered at all.
    if (column == kName && !cs.Exact(c)) continue;
    const int plan = column == kName ? kNameLookup : kIdLookup;
    PlanBuilder p(info, plan, kPlanNames[plan]);
    const bool in = p.UseEq(c, column == kName ? "name" : "id", cs.Exact(c));
    const double values = in ? 10.0 : 1.0;
    p.SetCost((column == kName ? 2.0 : 1.0) * values, std::min(values, n));
    if (!in) p.SetUnique();
    p.ConsumeOrderBySorting(AnyColumn);
    consider(std::move(p));
  }

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
    p.SetCost(n * 2.0 * fraction + 10.0, n * fraction);
    // Rows come in id order; any other order is sorted when they are few.
    if (!p.ConsumeIdOrder(kId) && count <= kMaxSortedScan)
      p.ConsumeOrderBySorting(AnyColumn);
    consider(std::move(p));
  }
  best.UseLimitOffsetIfSafe(cs);
  return best.Commit();
}

// ---- Cursor ---------------------------------------------------------------

class PlaylistsCursor final : public Cursor {
 public:
  explicit PlaylistsCursor(Table* table) : Cursor(table) {}
  int Filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv) override;
  int Next() override;
  bool Eof() const override { return eof_; }
  int Column(sqlite3_context* ctx, int column) override;
  int Rowid(sqlite3_int64* rowid) override {
    *rowid = rows_[row_].id();
    return SQLITE_OK;
  }

 private:
  Status Load(const PlanArgs& args);

  std::shared_ptr<const Snapshot> snapshot_;
  bool static_text_ = true;
  int plan_ = kScan;
  std::vector<PlaylistView> rows_;
  size_t row_ = 0;
  bool eof_ = true;
  // LIMIT taken over from SQLite
  std::optional<int64_t> limit_;
  int64_t emitted_ = 0;
};

int PlaylistsTable::Update(int argc, sqlite3_value** argv, sqlite3_int64* rowid) {
  if (argc == 1) {  // DELETE (its entries go with it)
    WriteBatch batch;
    batch.RemovePlaylist(sqlite3_value_int64(argv[0]));
    return FailWrite(session().Write(batch));
  }
  const bool insert = sqlite3_value_type(argv[0]) == SQLITE_NULL;
  std::optional<int64_t> id;
  if (int rc = RowId(argv[2 + kId], argv[1], &id); rc != SQLITE_OK) return rc;
  if (id && (*id <= 0 || *id > kMaxPlaylistId))
    return Fail(SQLITE_MISMATCH, name() + ".id must be between 1 and " + std::to_string(kMaxPlaylistId) + " (got " +
                                     std::to_string(*id) + ")");
  RowReader row(this, argv + 2, kColumnNames);
  PlaylistFields f;
  f.name = row.Text(kName, true).value_or(std::string_view());
  f.description = row.Text(kDescription, false);
  f.created_at = row.Integer(kCreatedAt, true).value_or(0);
  f.updated_at = row.Integer(kUpdatedAt, true).value_or(0);
  if (row.rc() != SQLITE_OK) return insert ? ConsumeIgnoredInsertId(IdSequence::kPlaylists, id, row.rc()) : row.rc();
  static const RowOps<PlaylistFields> kOps = {
      [](WriteBatch& b, const PlaylistFields& f) { b.PutPlaylist(f); },
      [](WriteBatch& b, int64_t id, const PlaylistFields& f) { b.UpdatePlaylist(id, f); },
      [](WriteBatch& b, int64_t id) { b.RemovePlaylist(id); }};
  return WriteRow(
      insert, id, insert ? 0 : sqlite3_value_int64(argv[0]), f, IdSequence::kPlaylists, kOps,
      [this](int64_t old_id, bool* referenced) {  // its entries name it (no ON UPDATE CASCADE)
        std::shared_ptr<const Snapshot> snap;
        ZC_RETURN_IF_ERROR(WriteSnapshot(&snap));
        std::vector<PlaylistEntryView> entries;
        ZC_RETURN_IF_ERROR(snap->ListPlaylistEntries(old_id, &entries));
        *referenced = !entries.empty();
        return Status::OK();
      },
      [this](const PlaylistFields& g, int64_t new_id, int64_t updating, std::vector<int64_t>* doomed) {
        return ConflictingRows(g, new_id, updating, doomed);
      },
      rowid);
}

Status PlaylistsTable::ConflictingRows(const PlaylistFields& f, int64_t id, int64_t updating,
                                       std::vector<int64_t>* out) {
  std::shared_ptr<const Snapshot> snap;
  ZC_RETURN_IF_ERROR(WriteSnapshot(&snap));
  std::vector<int64_t> doomed;
  PlaylistView holder;
  if (snap->FindPlaylistByName(f.name, &holder).ok() && holder.id() != updating) doomed.push_back(holder.id());
  PlaylistView same_id;
  if (id != 0 && id != updating && snap->GetPlaylist(id, &same_id).ok() &&
      std::find(doomed.begin(), doomed.end(), id) == doomed.end())
    doomed.push_back(id);
  *out = std::move(doomed);
  return Status::OK();
}

std::unique_ptr<Cursor> PlaylistsTable::NewCursor() { return std::make_unique<PlaylistsCursor>(this); }

int PlaylistsCursor::Filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv) {
  Status s = table()->session().ReadSnapshot(&snapshot_, &static_text_);
  if (!s.ok()) return table()->Fail(s);
  plan_ = idx_num;
  PlanArgs args;
  s = PlanArgs::Parse(idx_str, argc, argv, &args);
  if (!s.ok()) return table()->Fail(s);
  rows_.clear();
  row_ = 0;
  s = Load(args);
  if (!s.ok()) return table()->Fail(s);
  SortRows(&rows_, args.order, ColumnOf);
  // OFFSET and LIMIT over the final order.
  const size_t offset = static_cast<size_t>(std::min<int64_t>(args.offset.value_or(0), static_cast<int64_t>(rows_.size())));
  row_ = offset;
  limit_ = args.limit;
  emitted_ = 0;
  eof_ = row_ >= rows_.size() || (limit_ && *limit_ <= 0);
  return SQLITE_OK;
}

Status PlaylistsCursor::Load(const PlanArgs& args) {
  switch (plan_) {
    case kScan: {
      const std::optional<int64_t> lo = args.IntLowerBound("id"), hi = args.IntUpperBound("id");
      if (args.Empty()) return Status::OK();
      ZC_RETURN_IF_ERROR(snapshot_->ListPlaylists(&rows_));
      std::erase_if(rows_, [&](const PlaylistView& p) { return (lo && p.id() < *lo) || (hi && p.id() > *hi); });
      return Status::OK();
    }
    case kIdLookup: {
      std::vector<int64_t> ids = args.IntValues("id");
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      for (int64_t id : ids) {
        PlaylistView p;
        Status s = snapshot_->GetPlaylist(id, &p);
        if (s.IsNotFound()) continue;
        ZC_RETURN_IF_ERROR(s);
        rows_.push_back(p);
      }
      return Status::OK();
    }
    case kNameLookup: {
      std::vector<std::string_view> names = args.TextValues("name");
      std::sort(names.begin(), names.end());
      names.erase(std::unique(names.begin(), names.end()), names.end());
      for (std::string_view name : names) {
        PlaylistView p;
        Status s = snapshot_->FindPlaylistByName(name, &p);
        if (s.IsNotFound()) continue;
        ZC_RETURN_IF_ERROR(s);
        rows_.push_back(p);
      }
      // In id order, as the scan gives them, until an ORDER BY says otherwise.
      std::sort(rows_.begin(), rows_.end(), [](const PlaylistView& a, const PlaylistView& b) { return a.id() < b.id(); });
      return Status::OK();
    }
  }
  return Status::InvalidArgument("zcmedia: unknown plan " + std::to_string(plan_) + " of table playlists");
}

int PlaylistsCursor::Next() {
  ++emitted_;
  eof_ = ++row_ >= rows_.size() || (limit_ && emitted_ >= *limit_);
  return SQLITE_OK;
}

int PlaylistsCursor::Column(sqlite3_context* ctx, int column) {
  const PlaylistView& p = rows_[row_];
  switch (column) {
    case kId: sqlite3_result_int64(ctx, p.id()); break;
    case kName: ResultText(ctx, p.name(), static_text_); break;
    case kDescription: ResultOptText(ctx, p.description(), static_text_); break;
    case kCreatedAt: sqlite3_result_int64(ctx, p.created_at()); break;
    case kUpdatedAt: sqlite3_result_int64(ctx, p.updated_at()); break;
    default: sqlite3_result_null(ctx);
  }
  return SQLITE_OK;
}

}  // namespace

std::unique_ptr<Table> NewPlaylistsTable(sqlite3* db, std::string schema, std::string name,
                                         std::shared_ptr<StoreSession> session) {
  return std::make_unique<PlaylistsTable>(db, std::move(schema), std::move(name), std::move(session));
}

}  // namespace zcmedia::vtab

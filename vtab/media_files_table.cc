// media_files: the legacy table's columns over the store's media records.
//
// Plans (docs/query-plans.md has the full encoding): xBestIndex picks one,
// writes its number in idxNum and in idxStr its name followed by one token
// per xFilter argument (`id=`, `path-in`, `limit`, ...) and, when the plan
// delivers the ORDER BY itself, an `order:` token. EXPLAIN QUERY PLAN shows
// it as `VIRTUAL TABLE INDEX <idxNum>:<idxStr>`.
#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "filename_order.h"
#include "plan.h"
#include "table.h"
#include "tables.h"
#include "values.h"

namespace zcmedia::vtab {
namespace {

enum Column : int {
  kId = 0, kPath, kParentPath, kCanonicalPath, kCanonicalParentPath, kFilename, kSize, kModified,
  kMimeType, kDuration, kTitle, kArtist, kAlbum, kGenre, kTrackNumber, kYear, kAlbumArtist,
  kCreatedAt, kUpdatedAt, kColumnCount
};

const char* const kColumnNames[kColumnCount] = {
    "id", "path", "parent_path", "canonical_path", "canonical_parent_path", "filename", "size", "modified",
    "mime_type", "duration", "title", "artist", "album", "genre", "track_number", "year", "album_artist",
    "created_at", "updated_at"};

// The legacy shape D columns, in the legacy order, with their types. The
// NOT NULL constraints are enforced by xUpdate (SQLite leaves that to the
// module); `id` is the rowid (xRowid returns it).
constexpr const char* kDeclaration =
    "CREATE TABLE x(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, parent_path TEXT NOT NULL, "
    "canonical_path TEXT, canonical_parent_path TEXT, filename TEXT NOT NULL, size INTEGER NOT NULL, "
    "modified INTEGER NOT NULL, mime_type TEXT NOT NULL, duration INTEGER, title TEXT, artist TEXT, "
    "album TEXT, genre TEXT, track_number INTEGER, year INTEGER, album_artist TEXT, "
    "created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)";

// One column of a record as a sortable value.
SqlValue ColumnOf(const MediaFileView& r, int column) {
  switch (column) {
    case kId: return SqlValue::Int(r.id());
    case kPath: return SqlValue::Text(r.path());
    case kParentPath: return SqlValue::OptText(r.parent_path());
    case kCanonicalPath: return SqlValue::OptText(r.canonical_path());
    case kCanonicalParentPath: return SqlValue::OptText(r.canonical_parent_path());
    case kFilename: return SqlValue::OptText(r.filename());
    case kSize: return SqlValue::Int(r.size());
    case kModified: return SqlValue::Int(r.modified());
    case kMimeType: return SqlValue::OptText(r.mime_type());
    case kDuration: return SqlValue::OptInt(r.duration());
    case kTitle: return SqlValue::OptText(r.title());
    case kArtist: return SqlValue::OptText(r.artist());
    case kAlbum: return SqlValue::OptText(r.album());
    case kGenre: return SqlValue::OptText(r.genre());
    case kTrackNumber: return SqlValue::OptInt(r.track_number());
    case kYear: return SqlValue::OptInt(r.year());
    case kAlbumArtist: return SqlValue::OptText(r.album_artist());
    case kCreatedAt: return SqlValue::Int(r.created_at());
    case kUpdatedAt: return SqlValue::Int(r.updated_at());
  }
  return SqlValue::Null();
}

// The category a column holds, if it is one.
std::optional<Category> CategoryOfColumn(int column) {
  switch (column) {
    case kArtist: return Category::kArtist;
    case kAlbum: return Category::kAlbum;
    case kGenre: return Category::kGenre;
    case kYear: return Category::kYear;
    case kAlbumArtist: return Category::kAlbumArtist;
    default: return std::nullopt;
  }
}

// The plans. Their numbers are idxNum (stable: docs/query-plans.md).
enum Plan : int {
  kScan = 0,             // every record in id order; optional id bounds
  kIdLookup = 1,         // id = ? or id IN (...)
  kPathLookup = 2,       // path = ? or path IN (...)
  kCanonicalLookup = 3,  // canonical_path = ? / IN, through the path index
  kDirectory = 4,        // parent_path = ?
  kCanonicalDirectory = 5,  // canonical_parent_path = ?, through the directory index
  kCategoryTracks = 6,   // mime_type LIKE 'audio/%' AND <category> = ?
  kCategoryGroups = 7,   // one row per audio track of each category value, no record read
  kIdsOnly = 8,          // no column read (count(*), rowid): the id index only
  kDirectories = 9,      // SELECT DISTINCT of the directory columns: the directory tree, no record read
  kPathPrefix = 10,      // path / canonical_path LIKE 'prefix%': the directory tree under the prefix
  kFilenameOrder = 11,   // no WHERE, ORDER BY filename: every record, sorted by name (filename_order.h)
};
const char* const kPlanNames[] = {"scan", "id", "path", "canonical-path", "parent", "canonical-parent",
                                  "tracks", "groups", "ids", "directories", "path-prefix", "filename-order"};

class MediaFilesTable final : public Table {
 public:
  using Table::Table;
  const char* Declaration() const override { return kDeclaration; }
  int BestIndex(sqlite3_index_info* info) override;
  std::unique_ptr<Cursor> NewCursor() override;
  int Update(int argc, sqlite3_value** argv, sqlite3_int64* rowid) override;

 private:
  int FieldsFrom(sqlite3_value** columns, MediaFileFields* f);
  // For OR REPLACE: the rows (other than `updating`, 0 for an insert) that
  // conflict with the write of f under `id` (Table::WriteRow removes them).
  Status ConflictingRows(const MediaFileFields& f, int64_t id, int64_t updating, std::vector<int64_t>* out);
};

// ---- xBestIndex -----------------------------------------------------------

// Whether every record's canonical columns are NULL or equal to the
// original ones (always so on Unix): then the path and directory indexes
// answer lookups by the canonical columns too.
bool CanonicalColumnsDerived(const Snapshot& snapshot) { return snapshot.totals().noncanonical_files == 0; }

int MediaFilesTable::BestIndex(sqlite3_index_info* info) {
  std::shared_ptr<const Snapshot> snapshot;
  if (Status s = session().store().LatestSnapshot(&snapshot); !s.ok()) return Fail(s);
  const double n = static_cast<double>(std::max<uint64_t>(snapshot->record_count(), 1));
  const LibraryTotals totals = snapshot->totals();
  const double audio = static_cast<double>(std::max<uint64_t>(totals.files[0], 1));
  const bool canonical_derived = CanonicalColumnsDerived(*snapshot);

  PlanBuilder best(info, kScan, kPlanNames[kScan]);
  best.SetCost(n * 4.0, n);

  ConstraintSet cs(info);
  auto consider = [&](PlanBuilder&& p) {
    if (p.cost() < best.cost()) best = std::move(p);
  };

  // Point lookups and IN lists.
  auto lookup_plan = [&](int plan, std::initializer_list<int> columns, double per_value_cost) {
    for (int column : columns) {
      const int c = cs.Find(column, SQLITE_INDEX_CONSTRAINT_EQ);
      if (c < 0) continue;
      // Text is looked up by its bytes: not for `path = ? COLLATE NOCASE`
      // (the id's comparison is numeric whatever the collation).
      if (column > 0 && !cs.Exact(c)) continue;
      PlanBuilder p(info, plan, kPlanNames[plan]);
      const bool in = p.UseEq(c, kColumnNames[column < 0 ? 0 : column], /*exact=*/cs.Exact(c));
      const double values = in ? 10.0 : 1.0;
      p.SetCost(per_value_cost * values, values);
      if (!in) p.SetUnique();
      p.ConsumeOrderBySorting([](int col) { return col >= -1 && col < kColumnCount; });
      consider(std::move(p));
    }
  };
  lookup_plan(kIdLookup, {-1, kId}, 1.0);
  lookup_plan(kPathLookup, {kPath}, 2.0);
  if (canonical_derived) lookup_plan(kCanonicalLookup, {kCanonicalPath}, 2.0);

  // Directory listings (about n / directories rows; 20 is the legacy average).
  auto directory_plan = [&](int plan, int column) {
    const int c = cs.Find(column, SQLITE_INDEX_CONSTRAINT_EQ);
    if (c < 0 || cs.IsIn(c) || !cs.Exact(c)) return;
    PlanBuilder p(info, plan, kPlanNames[plan]);
    p.UseEq(c, kColumnNames[column], cs.Exact(c));
    p.SetCost(40.0, 20.0);
    p.ConsumeOrderBySorting([](int col) { return col >= -1 && col < kColumnCount; });
    consider(std::move(p));
  };
  directory_plan(kDirectory, kParentPath);
  if (canonical_derived) directory_plan(kCanonicalDirectory, kCanonicalParentPath);

  // Music categories: only with `mime_type LIKE 'audio/%'`, which is what
  // the category index holds.
  // Omitting that LIKE is exact only while LIKE folds ASCII case (not
  // under PRAGMA case_sensitive_like = ON): else SQLite checks it again and
  // only the tracks plans (which read records) remain.
  const int audio_like = cs.FindAudioLike(kMimeType);
  const bool like_folds_case = audio_like >= 0 && LikeFoldsCase(db());
  if (audio_like >= 0) {
    for (int column : {kArtist, kAlbum, kGenre, kYear, kAlbumArtist}) {
      const int c = cs.Find(column, SQLITE_INDEX_CONSTRAINT_EQ);
      if (c < 0 || cs.IsIn(c) || !cs.Exact(c)) continue;
      PlanBuilder p(info, kCategoryTracks, std::string(kPlanNames[kCategoryTracks]) + "-" + kColumnNames[column]);
      if (like_folds_case) p.Omit(audio_like);
      p.UseEq(c, kColumnNames[column], true);
      p.SetCost(60.0, 50.0);
      p.ConsumeOrderBySorting([](int col) { return col >= -1 && col < kColumnCount; });
      consider(std::move(p));
    }
    // Groups: the query reads nothing but the category column and every
    // constraint is one the category index implies.
    for (int column : {kArtist, kAlbum, kGenre, kYear, kAlbumArtist}) {
      if (!like_folds_case) break;
      const uint64_t allowed = (uint64_t{1} << column) | (uint64_t{1} << kMimeType);
      if ((info->colUsed & ~allowed) != 0) continue;
      if (!cs.OnlyImpliedByCategory(column, audio_like, /*text=*/column != kYear)) continue;
      PlanBuilder p(info, kCategoryGroups, std::string(kPlanNames[kCategoryGroups]) + "-" + kColumnNames[column]);
      cs.OmitAll(&p);
      p.SetCost(audio * 0.05 + 100.0, audio);
      const int distinct = sqlite3_vtab_distinct(info);
      // An ORDER BY (or GROUP BY) of the column alone: the cursor sorts the
      // values (few) by their bytes or numbers, in that direction. Grouping
      // alone would not do: with `GROUP BY year ORDER BY year` SQLite also
      // drops the ORDER BY's sorter when the GROUP BY is consumed, though
      // sqlite3_vtab_distinct() says 1 (adjacent groups are enough).
      if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == column)
        p.ConsumeOrderBySorting([column](int col) { return col == column; });
      if (distinct == 2 || distinct == 3) p.AppendToken("distinct");
      consider(std::move(p));
    }
  }

  // The distinct directories (the legacy subdirectory query): the query
  // reads only parent_path / canonical_parent_path, wants distinct rows,
  // and every constraint is on those columns (SQLite checks them; a LIKE
  // prunes the walk). canonical_parent_path is parent_path while the store
  // has no record with its own or a NULL canonical column.
  {
    const uint64_t directory_columns = (uint64_t{1} << kParentPath) | (uint64_t{1} << kCanonicalParentPath);
    const bool canonical_read = (info->colUsed & (uint64_t{1} << kCanonicalParentPath)) != 0;
    bool only_directory_constraints = true;
    for (int i = 0; i < info->nConstraint; ++i) {
      const int column = info->aConstraint[i].iColumn;
      const int op = info->aConstraint[i].op;
      if (op == SQLITE_INDEX_CONSTRAINT_LIMIT || op == SQLITE_INDEX_CONSTRAINT_OFFSET) continue;
      if (column != kParentPath && column != kCanonicalParentPath) only_directory_constraints = false;
    }
    if (info->colUsed != 0 && (info->colUsed & ~directory_columns) == 0 && sqlite3_vtab_distinct(info) >= 2 &&
        only_directory_constraints &&
        (!canonical_read || (totals.noncanonical_files == 0 && totals.null_canonical_files == 0))) {
      PlanBuilder p(info, kDirectories, kPlanNames[kDirectories]);
      for (int column : {kCanonicalParentPath, kParentPath}) {
        const int c = cs.Find(column, SQLITE_INDEX_CONSTRAINT_LIKE);
        if (c >= 0) {
          p.UseLike(c, kColumnNames[column]);
          break;
        }
      }
      p.SetCost(n * 0.2 + 50.0, n / 5);
      consider(std::move(p));
    }
  }

  // Path prefixes (the legacy prefix listing `canonical_path LIKE 'p%'
  // ORDER BY canonical_path`): the directories whose paths agree with the
  // pattern's literal head, walked from the roots of the tree, and their
  // records whose path starts with it. SQLite still checks the LIKE (no
  // omit). Only while every record's parent_path leads its path (the tree
  // then holds every path under the directories it agrees with); for
  // canonical_path only while it is path (or NULL) for every record.
  if (totals.parent_prefix_files == snapshot->record_count()) {
    std::optional<LikeKind> like_kind;  // asked of SQLite once, only for a LIKE on a path column
    for (int column : {kPath, kCanonicalPath}) {
      if (column == kCanonicalPath && !canonical_derived) continue;
      const int c = cs.Find(column, SQLITE_INDEX_CONSTRAINT_LIKE);
      if (c < 0) continue;
      if (!like_kind) like_kind = LikeKindOf(db());
      if (*like_kind == LikeKind::kOther) break;
      const bool fold = *like_kind == LikeKind::kFoldsAscii;
      // A literal pattern is known now: no plan for one without a literal
      // head ('%x', '_x') or that is not text. A parameter is seen only by
      // xFilter, which lists every record for such a pattern.
      double head = 8;  // characters, for a parameter: a directory or two deep
      sqlite3_value* rhs = nullptr;
      if (sqlite3_vtab_rhs_value(info, c, &rhs) == SQLITE_OK && rhs != nullptr) {
        if (sqlite3_value_type(rhs) != SQLITE_TEXT) continue;
        const LikePrefix prefix(reinterpret_cast<const char*>(sqlite3_value_text(rhs)), fold);
        if (prefix.empty()) continue;
        head = static_cast<double>(prefix.size());
      }
      PlanBuilder p(info, kPathPrefix, kPlanNames[kPathPrefix]);
      p.UseLike(c, kColumnNames[column]);
      if (!fold) p.AppendToken("case-sensitive");
      // Each character of the head narrows the listing: '/' most of the
      // library, '/media/music/' a part, '/media/music/Abba/' an album or
      // so. Always above a point lookup (2), below a scan (4 per record).
      const double rows = std::max(1.0, n / (1.0 + head * head / 4.0));
      p.SetCost(30.0 + rows * 3.0, rows);
      p.ConsumeOrderBySorting([](int col) { return col >= -1 && col < kColumnCount; });
      consider(std::move(p));
    }
  }

  // The whole table ordered by name (a listing of all files by name, or
  // its pages with LIMIT/OFFSET): the cursor sorts (name, record) keys,
  // spilling runs to a temporary file, where SQLite would sort whole rows.
  // Its cost is the scan's and a little more; SQLite adds the cost of its
  // own sort to the scan only after xBestIndex chose, so the choice against
  // the scan (which cannot deliver this order) is made here.
  bool by_name = false;
  if (cs.count() == 0 && info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kFilename) {
    PlanBuilder p(info, kFilenameOrder, kPlanNames[kFilenameOrder]);
    p.ConsumeOrderBySorting([](int column) { return column == kFilename; });
    p.SetCost(n * 4.1, n);
    best = std::move(p);
    by_name = true;
  }

  // Id ranges on the scan, and the ids-only walk when no column is read.
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
    if (info->colUsed == 0 && cs.count() == 0) {
      p = PlanBuilder(info, kIdsOnly, kPlanNames[kIdsOnly]);
      p.SetCost(n * 0.02, n);
    } else {
      p.SetCost(n * 4.0 * fraction, n * fraction);
    }
    // Rows come in id order.
    p.ConsumeIdOrder(kId);
    // At equal cost this scan beats the plain one `best` started as: it
    // may claim the id order (SELECT ... ORDER BY id needs no sorter).
    if (p.cost() <= best.cost() && !by_name) best = std::move(p);
  }
  best.UseLimitOffsetIfSafe(cs);
  return best.Commit();
}

// ---- Cursor ---------------------------------------------------------------

class MediaFilesCursor final : public Cursor {
 public:
  explicit MediaFilesCursor(Table* table) : Cursor(table) {}
  int Filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv) override;
  int Next() override;
  bool Eof() const override { return eof_; }
  int Column(sqlite3_context* ctx, int column) override;
  int Rowid(sqlite3_int64* rowid) override;

 private:
  int Load(const PlanArgs& args);
  int LoadGroups(Category category, bool distinct, const std::vector<OrderTerm>& order);
  // The audio records whose text `column` is '' (the category index holds
  // no empty values): a scan, for the rare `artist = ''`.
  Status ScanForEmpty(int column);
  // Plans 3 and 5 were planned while every canonical column was the
  // original one or NULL; a prepared statement may run after writes that
  // broke that (SQLite plans it once): the records whose canonical
  // `column` is one of the sorted `values`, by a scan.
  Status ScanForCanonical(int column, const std::vector<std::string_view>& values);
  // kPathPrefix: the records the LIKE argument's literal head may match
  // (a superset of the LIKE's rows), into rows_.
  Status ListPathPrefix(const PlanArgs& args);
  bool InIdBounds(int64_t id) const;

  std::shared_ptr<const Snapshot> snapshot_;
  bool static_text_ = true;
  int plan_ = kScan;
  bool eof_ = true;
  // kScan / kIdsOnly
  std::unique_ptr<RecordIterator> iterator_;
  std::optional<int64_t> id_min_, id_max_;  // inclusive
  // lookups, directories, tracks
  std::vector<MediaFileView> rows_;
  size_t row_ = 0;
  // kCategoryGroups: each value repeated `tracks` times
  std::vector<CategoryCount> groups_;
  Category group_category_ = Category::kArtist;
  size_t group_ = 0;
  uint64_t group_repeat_ = 0;
  // The groups plan hands SQLite the category's values without reading a
  // record. Should SQLite ask for anything else of a row (the query uses
  // mime_type beyond the LIKE, or the rowid), the cursor switches to the
  // real tracks of each value from that row on: the rows already handed
  // over showed only the value, which the real tracks share.
  bool group_real_ = false;
  // kDirectories: a depth-first walk of the directory tree, emitting the
  // directories that hold files directly (what DISTINCT parent_path
  // yields). Memory: the pending siblings along one path.
  struct PendingDirectory {
    std::string path;
    uint64_t files;  // live files at any depth below it
  };
  std::vector<PendingDirectory> walk_;
  std::string walk_prefix_;              // lower-case ASCII; a directory not agreeing with it is skipped
  std::string directory_;                // the current row's directory
  std::vector<DirectoryInfo> children_;  // scratch
  int LoadDirectories(const PlanArgs& args);
  int NextDirectory();
  std::vector<MediaFileView> group_tracks_;  // the current value's tracks, once real
  int LoadGroupTracks();
  // LIMIT / OFFSET taken over from SQLite
  std::optional<int64_t> limit_;
  int64_t emitted_ = 0;
  // kFilenameOrder (after snapshot_: its keys are views into it)
  std::unique_ptr<FilenameOrder> by_name_;

  const MediaFileView Current() const {
    if (plan_ == kScan) return iterator_->record();
    if (plan_ == kFilenameOrder) return by_name_->Current();
    if (plan_ == kCategoryGroups) return group_tracks_[group_repeat_];
    return rows_[row_];
  }
};

// ---- xUpdate ----------------------------------------------------------------

// The columns of an INSERT or UPDATE (argv[2..], declaration order) as a
// record, checked as the legacy table would check them: NOT NULL, and the
// types the store can hold (module.cc has the argv layout).
int MediaFilesTable::FieldsFrom(sqlite3_value** columns, MediaFileFields* f) {
  RowReader row(this, columns, kColumnNames);
  auto text = [&](int c) { return row.Text(c, /*not_null=*/c == kPath || c == kParentPath || c == kFilename || c == kMimeType); };
  auto integer = [&](int c) {
    return row.Integer(c, /*not_null=*/c == kSize || c == kModified || c == kCreatedAt || c == kUpdatedAt);
  };
  const OptText path = text(kPath);
  f->path = path.value_or(std::string_view());
  f->parent_path = text(kParentPath);
  f->canonical_path = text(kCanonicalPath);
  f->canonical_parent_path = text(kCanonicalParentPath);
  f->filename = text(kFilename);
  f->size = integer(kSize).value_or(0);
  f->modified = integer(kModified).value_or(0);
  f->mime_type = text(kMimeType);
  f->duration = integer(kDuration);
  f->title = text(kTitle);
  f->artist = text(kArtist);
  f->album = text(kAlbum);
  f->genre = text(kGenre);
  f->track_number = integer(kTrackNumber);
  f->year = integer(kYear);
  f->album_artist = text(kAlbumArtist);
  f->created_at = integer(kCreatedAt).value_or(0);
  f->updated_at = integer(kUpdatedAt).value_or(0);
  return row.rc();
}

int MediaFilesTable::Update(int argc, sqlite3_value** argv, sqlite3_int64* rowid) {
  if (argc == 1) {  // DELETE
    WriteBatch batch;
    batch.Remove(sqlite3_value_int64(argv[0]));
    return FailWrite(session().Write(batch));
  }
  const bool insert = sqlite3_value_type(argv[0]) == SQLITE_NULL;
  std::optional<int64_t> id;
  if (int rc = RowId(argv[2 + kId], argv[1], &id); rc != SQLITE_OK) return rc;
  if (id && *id <= 0 && insert)
    return Fail(SQLITE_MISMATCH, name() + ".id must be positive (the store's ids are 1 and up; got " +
                                     std::to_string(*id) + ")");
  MediaFileFields f;
  if (int rc = FieldsFrom(argv + 2, &f); rc != SQLITE_OK)
    return insert ? ConsumeIgnoredInsertId(IdSequence::kMediaFiles, id, rc) : rc;
  static const RowOps<MediaFileFields> kOps = {
      [](WriteBatch& b, const MediaFileFields& f) { b.Put(f); },
      [](WriteBatch& b, int64_t id, const MediaFileFields& f) { b.Update(id, f); },
      [](WriteBatch& b, int64_t id) { b.Remove(id); }};
  return WriteRow(
      insert, id, insert ? 0 : sqlite3_value_int64(argv[0]), f, IdSequence::kMediaFiles, kOps,
      [this](int64_t old_id, bool* referenced) {  // playlist entries name it (no ON UPDATE CASCADE)
        std::shared_ptr<const Snapshot> snap;
        ZC_RETURN_IF_ERROR(WriteSnapshot(&snap));
        std::vector<PlaylistEntryView> entries;
        ZC_RETURN_IF_ERROR(snap->ListEntriesOfMediaFile(old_id, &entries));
        *referenced = !entries.empty();
        return Status::OK();
      },
      [this](const MediaFileFields& g, int64_t new_id, int64_t updating, std::vector<int64_t>* doomed) {
        return ConflictingRows(g, new_id, updating, doomed);
      },
      rowid);
}

Status MediaFilesTable::ConflictingRows(const MediaFileFields& f, int64_t id, int64_t updating,
                                        std::vector<int64_t>* out) {
  std::shared_ptr<const Snapshot> snap;
  ZC_RETURN_IF_ERROR(WriteSnapshot(&snap));
  std::vector<int64_t> doomed;
  MediaFileView holder;
  if (Status s = snap->FindByPath(f.path, &holder); s.ok() && holder.id() != updating) doomed.push_back(holder.id());
  if (id != 0 && id != updating) {
    MediaFileView same_id;
    if (snap->Get(id, &same_id).ok() && std::find(doomed.begin(), doomed.end(), id) == doomed.end())
      doomed.push_back(id);
  }
  *out = std::move(doomed);
  return Status::OK();
}

std::unique_ptr<Cursor> MediaFilesTable::NewCursor() { return std::make_unique<MediaFilesCursor>(this); }

int MediaFilesCursor::Filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv) {
  Status s;
  if (!snapshot_ || !static_text_) {  // committed snapshots are kept for the cursor's life (session.h)
    s = table()->session().ReadSnapshot(&snapshot_, &static_text_);
    if (!s.ok()) return table()->Fail(s);
  }
  plan_ = idx_num;
  PlanArgs args;
  s = PlanArgs::Parse(idx_str, argc, argv, &args);
  if (!s.ok()) return table()->Fail(s);
  limit_.reset();
  const int rc = Load(args);
  if (rc != SQLITE_OK) return rc;
  // OFFSET: skip rows without handing them to SQLite; then LIMIT counts.
  for (int64_t skip = args.offset.value_or(0); skip > 0 && !eof_; --skip) {
    const int next = Next();
    if (next != SQLITE_OK) return next;
  }
  limit_ = args.limit;
  emitted_ = 0;
  if (limit_ && *limit_ <= 0) eof_ = true;
  return SQLITE_OK;
}

int MediaFilesCursor::Load(const PlanArgs& args) {
  rows_.clear();
  row_ = 0;
  groups_.clear();
  iterator_.reset();
  by_name_.reset();
  eof_ = false;
  Status s;
  switch (plan_) {
    case kFilenameOrder: {
      by_name_ = std::make_unique<FilenameOrder>();
      const bool descending = !args.order.empty() && args.order.front().desc;
      s = by_name_->Start(*snapshot_, table()->session().store().directory(), descending);
      if (!s.ok()) return table()->Fail(s);
      eof_ = !by_name_->Valid();
      return SQLITE_OK;
    }
    case kScan:
    case kIdsOnly: {
      id_min_ = args.IntLowerBound("id");
      id_max_ = args.IntUpperBound("id");
      if (args.Empty()) {
        eof_ = true;
        return SQLITE_OK;
      }
      iterator_ = plan_ == kIdsOnly ? snapshot_->NewIdIterator() : snapshot_->NewIterator();
      if (id_min_) iterator_->Seek(*id_min_);
      else iterator_->SeekToFirst();
      if (!iterator_->status().ok()) return table()->Fail(iterator_->status());
      eof_ = !iterator_->Valid() || !InIdBounds(iterator_->id());
      return SQLITE_OK;
    }
    case kIdLookup: {
      std::vector<int64_t> ids = args.IntValues("id");
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      s = snapshot_->GetMany(ids, &rows_);
      break;
    }
    case kPathLookup:
    case kCanonicalLookup: {
      const char* column = plan_ == kPathLookup ? "path" : "canonical_path";
      std::vector<std::string_view> paths = args.TextValues(column);
      std::sort(paths.begin(), paths.end());
      paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
      if (plan_ == kCanonicalLookup && !CanonicalColumnsDerived(*snapshot_)) {
        s = ScanForCanonical(kCanonicalPath, paths);
        break;
      }
      s = snapshot_->FindManyByPath(paths, &rows_);
      if (s.ok() && plan_ == kCanonicalLookup) {
        // A record whose canonical_path is NULL is not found by it.
        for (MediaFileView& r : rows_)
          if (r.valid() && !r.canonical_path()) r = MediaFileView();
      }
      break;
    }
    case kDirectory:
    case kCanonicalDirectory: {
      const char* column = plan_ == kDirectory ? "parent_path" : "canonical_parent_path";
      std::vector<std::string_view> parents = args.TextValues(column);
      if (plan_ == kCanonicalDirectory && !CanonicalColumnsDerived(*snapshot_)) {
        if (!parents.empty()) s = ScanForCanonical(kCanonicalParentPath, {parents.front()});
        break;
      }
      if (!parents.empty()) s = snapshot_->ListDirectory(parents.front(), &rows_);
      if (s.ok() && plan_ == kCanonicalDirectory)
        std::erase_if(rows_, [](const MediaFileView& r) { return !r.canonical_parent_path(); });
      break;
    }
    case kCategoryTracks: {
      const std::string_view column = args.plan_suffix;
      const std::optional<Category> category = CategoryOfColumn(ColumnNamed(kColumnNames, kColumnCount, column));
      if (!category) return table()->Fail(SQLITE_ERROR, "bad plan " + std::string(args.plan));
      if (*category == Category::kYear) {
        std::vector<int64_t> years = args.IntValues(column);
        if (!years.empty()) s = snapshot_->ListTracksUnordered(Category::kYear, {}, years.front(), &rows_);
      } else {
        std::vector<std::string_view> names = args.TextValues(column);
        // '' and NULL belong to no category: no rows, as `artist = ''` AND
        // the audio filter give none in the index (the legacy table holds
        // such rows, but the audio filter plus '' leaves them out too).
        if (!names.empty() && !names.front().empty())
          s = snapshot_->ListTracksUnordered(*category, names.front(), 0, &rows_);
        else if (!names.empty()) s = ScanForEmpty(ColumnNamed(kColumnNames, kColumnCount, column));
      }
      break;
    }
    case kDirectories:
      return LoadDirectories(args);
    case kPathPrefix:
      s = ListPathPrefix(args);
      break;
    case kCategoryGroups: {
      const std::optional<Category> category =
          CategoryOfColumn(ColumnNamed(kColumnNames, kColumnCount, args.plan_suffix));
      if (!category) return table()->Fail(SQLITE_ERROR, "bad plan " + std::string(args.plan));
      return LoadGroups(*category, args.HasToken("distinct"), args.order);
    }
    default:
      return table()->Fail(SQLITE_ERROR, "zcmedia: unknown plan " + std::to_string(plan_));
  }
  if (!s.ok()) return table()->Fail(s);
  std::erase_if(rows_, [](const MediaFileView& r) { return !r.valid(); });
  if (plan_ == kPathPrefix && args.order.size() == 1 &&
      (args.order[0].column == kPath ||
       (args.order[0].column == kCanonicalPath && args.LikeArgument("canonical_path") != nullptr))) {
    // The prefix listing's own order (its rows may be most of the
    // library): by the bytes of the column the LIKE is on (never NULL in
    // these rows), BINARY's order, without the general sort's keys.
    const bool by_path = args.order[0].column == kPath;
    const bool desc = args.order[0].desc;
    std::sort(rows_.begin(), rows_.end(), [by_path, desc](const MediaFileView& a, const MediaFileView& b) {
      const std::string_view x = by_path ? a.path() : *a.canonical_path();
      const std::string_view y = by_path ? b.path() : *b.canonical_path();
      return desc ? x > y : x < y;
    });
  } else {
    SortRows(&rows_, args.order,
             [](const MediaFileView& r, int column) { return ColumnOf(r, column < 0 ? kId : column); });
  }
  eof_ = rows_.empty();
  return SQLITE_OK;
}

int MediaFilesCursor::LoadGroups(Category category, bool distinct, const std::vector<OrderTerm>& order) {
  Status s = snapshot_->ListCategory(category, &groups_);
  if (!s.ok()) return table()->Fail(s);
  // The index's order (names by NOCASE, years newest first) is not SQLite's:
  // an ORDER BY the plan consumed wants the exact values sorted (BINARY).
  SortRows(&groups_, order, [category](const CategoryCount& g, int) {
    return category == Category::kYear ? SqlValue::Int(g.year) : SqlValue::Text(g.name);
  });
  group_category_ = category;
  if (distinct)
    for (CategoryCount& g : groups_) g.tracks = 1;
  std::erase_if(groups_, [](const CategoryCount& g) { return g.tracks == 0; });
  group_ = 0;
  group_repeat_ = 0;
  group_real_ = false;
  eof_ = groups_.empty();
  return SQLITE_OK;
}

Status MediaFilesCursor::ScanForEmpty(int column) {
  std::unique_ptr<RecordIterator> it = snapshot_->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const MediaFileView r = it->record();
    if (MimeFamilyOf(r.mime_type()) != MimeFamily::kAudio) continue;
    const SqlValue v = ColumnOf(r, column);
    if (v.type == SqlValue::Type::kText && v.s.empty()) rows_.push_back(r);
  }
  return it->status();
}

Status MediaFilesCursor::ScanForCanonical(int column, const std::vector<std::string_view>& values) {
  std::unique_ptr<RecordIterator> it = snapshot_->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const MediaFileView r = it->record();
    const OptText v = column == kCanonicalPath ? r.canonical_path() : r.canonical_parent_path();
    if (v && std::binary_search(values.begin(), values.end(), *v)) rows_.push_back(r);
  }
  return it->status();
}

Status MediaFilesCursor::ListPathPrefix(const PlanArgs& args) {
  const bool canonical = args.LikeArgument("canonical_path") != nullptr;
  sqlite3_value* pattern = args.LikeArgument(canonical ? "canonical_path" : "path");
  if (pattern == nullptr) return Status::InvalidArgument("zcmedia: bad plan " + std::string(args.plan));
  const int type = sqlite3_value_type(pattern);
  if (type == SQLITE_NULL) return Status::OK();  // `x LIKE NULL` is NULL: no row
  // A pattern that is not text (LIKE reads it as text), or one longer than
  // SQLite's LIKE takes (it fails the statement at the first row it tests):
  // every record, for SQLite to decide.
  std::string_view text;
  if (type == SQLITE_TEXT &&
      sqlite3_value_bytes(pattern) <= sqlite3_limit(table()->db(), SQLITE_LIMIT_LIKE_PATTERN_LENGTH, -1))
    text = reinterpret_cast<const char*>(sqlite3_value_text(pattern));
  const LikePrefix prefix(text, !args.HasToken("case-sensitive"));
  // NULL matches no pattern.
  auto keep = [&](const MediaFileView& r) {
    const OptText value = canonical ? r.canonical_path() : OptText(r.path());
    return value && prefix.Matches(*value);
  };
  // The planner's conditions held in the state it planned with; a
  // prepared statement may run after writes that broke them: then a scan.
  const LibraryTotals totals = snapshot_->totals();
  const bool tree_holds_paths = totals.parent_prefix_files == snapshot_->record_count() &&
                                (!canonical || totals.noncanonical_files == 0);
  std::vector<MediaFileView> listed;
  if (!prefix.empty() && tree_holds_paths) {
    // Every record's parent_path leads its path, and so do the paths of the parent's ancestors in the tree: a record
    // whose path starts with the head lies in a directory whose path, and
    // whose every ancestor's path, agrees with the head. So the walk goes
    // from the roots into the directories that agree with it (with case
    // folding, '/media/Music' and '/media/music' both), lists the records
    // of those that may hold matches and keeps the matching ones; below a
    // directory whose path already starts with the head (`inside`) every
    // record matches.
    std::vector<std::string> partial, inside;
    uint64_t inside_files = 0;
    auto place = [&](std::string path, uint64_t files) {
      switch (prefix.Agree(path)) {
        case LikePrefix::Agreement::kNone: return;
        case LikePrefix::Agreement::kSome: partial.push_back(std::move(path)); return;
        case LikePrefix::Agreement::kAll:
          inside_files += files;
          inside.push_back(std::move(path));
          return;
      }
    };
    // The roots: "/" and "\" (each its own parent), the top-level
    // directories of relative paths (children of ""), and the records of
    // bare names (parent_path '').
    for (const char* root : {"/", "\\"}) {
      DirectoryInfo info;
      const Status s = snapshot_->GetDirectory(root, &info);
      if (s.ok()) place(root, info.total_files());
      else if (!s.IsNotFound()) return s;
    }
    ZC_RETURN_IF_ERROR(snapshot_->ListSubdirectories("", std::nullopt, &children_));
    for (const DirectoryInfo& c : children_) place(std::string(c.tail), c.total_files());
    ZC_RETURN_IF_ERROR(snapshot_->ListDirectory("", &listed));
    for (const MediaFileView& r : listed)
      if (keep(r)) rows_.push_back(r);
    while (!partial.empty()) {
      const std::string d = std::move(partial.back());
      partial.pop_back();
      listed.clear();
      ZC_RETURN_IF_ERROR(snapshot_->ListDirectory(d, &listed));
      for (const MediaFileView& r : listed)
        if (keep(r)) rows_.push_back(r);
      ZC_RETURN_IF_ERROR(snapshot_->ListSubdirectories(d, std::nullopt, &children_));
      for (const DirectoryInfo& c : children_) place(d + std::string(c.tail), c.total_files());
    }
    // Most of the library below the head ('/'): one pass over the records
    // in id order reads them cheaper than directory by directory (at 100k
    // records the walk costs about twice a scan's time per record).
    if (inside_files <= snapshot_->record_count() / 2) {
      while (!inside.empty()) {
        const std::string d = std::move(inside.back());
        inside.pop_back();
        const size_t from = rows_.size();
        ZC_RETURN_IF_ERROR(snapshot_->ListDirectory(d, &rows_));
        if (canonical)
          rows_.erase(std::remove_if(rows_.begin() + static_cast<std::ptrdiff_t>(from), rows_.end(),
                                     [](const MediaFileView& r) { return !r.canonical_path(); }),
                      rows_.end());
        ZC_RETURN_IF_ERROR(snapshot_->ListSubdirectories(d, std::nullopt, &children_));
        for (const DirectoryInfo& c : children_) inside.push_back(d + std::string(c.tail));
      }
      return Status::OK();
    }
    rows_.clear();
  }
  std::unique_ptr<RecordIterator> it = snapshot_->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next())
    if (keep(it->record())) rows_.push_back(it->record());
  return it->status();
}

bool MediaFilesCursor::InIdBounds(int64_t id) const {
  return (!id_min_ || id >= *id_min_) && (!id_max_ || id <= *id_max_);
}

int MediaFilesCursor::Next() {
  ++emitted_;
  if (limit_ && emitted_ >= *limit_) {
    eof_ = true;
    return SQLITE_OK;
  }
  switch (plan_) {
    case kScan:
    case kIdsOnly:
      iterator_->Next();
      if (!iterator_->Valid()) {  // the end, or an error (a Status copy per row would cost 10% of COUNT(*))
        if (!iterator_->status().ok()) return table()->Fail(iterator_->status());
        eof_ = true;
        break;
      }
      eof_ = !InIdBounds(iterator_->id());
      break;
    case kDirectories:
      return NextDirectory();
    case kFilenameOrder:
      by_name_->Next();
      eof_ = !by_name_->Valid();
      break;
    case kCategoryGroups:
      if (++group_repeat_ >= groups_[group_].tracks) {
        group_repeat_ = 0;
        eof_ = ++group_ >= groups_.size();
        if (!eof_ && group_real_) return LoadGroupTracks();
      }
      break;
    default:
      eof_ = ++row_ >= rows_.size();
  }
  return SQLITE_OK;
}

namespace {
char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

int MediaFilesCursor::LoadDirectories(const PlanArgs& args) {
  walk_.clear();
  walk_prefix_.clear();
  // LIKE folds ASCII case (or not, with case_sensitive_like: then this is
  // a superset); its literal prefix, up to the first wildcard, prunes.
  for (const char* column : {"canonical_parent_path", "parent_path"}) {
    if (std::optional<std::string> pattern = args.LikePattern(column)) {
      for (char c : *pattern) {
        if (c == '%' || c == '_') break;
        walk_prefix_.push_back(LowerAscii(c));
      }
      break;
    }
  }
  // The roots: "/" and "\" (each its own parent in the tree) and the
  // top-level directories of relative paths.
  Status s;
  for (const char* root_path : {"/", "\\"}) {
    DirectoryInfo root;
    s = snapshot_->GetDirectory(root_path, &root);
    if (s.ok()) walk_.push_back({root_path, root.total_files()});
    else if (!s.IsNotFound()) return table()->Fail(s);
  }
  s = snapshot_->ListSubdirectories("", std::nullopt, &children_);
  if (!s.ok()) return table()->Fail(s);
  for (const DirectoryInfo& c : children_) walk_.push_back({std::string(c.tail), c.total_files()});
  // Files of no directory (a bare relative name's parent_path is '').
  std::vector<MediaFileView> bare;
  s = snapshot_->ListDirectory("", &bare);
  if (!s.ok()) return table()->Fail(s);
  if (!bare.empty()) {
    directory_.clear();
    eof_ = false;
    return SQLITE_OK;
  }
  return NextDirectory();
}

int MediaFilesCursor::NextDirectory() {
  auto may_match = [&](const std::string& path) {
    const size_t n = std::min(path.size(), walk_prefix_.size());
    for (size_t i = 0; i < n; ++i)
      if (LowerAscii(path[i]) != walk_prefix_[i]) return false;
    return true;
  };
  while (!walk_.empty()) {
    PendingDirectory d = std::move(walk_.back());
    walk_.pop_back();
    if (!may_match(d.path)) continue;
    const Status s = snapshot_->ListSubdirectories(d.path, std::nullopt, &children_);
    if (!s.ok()) return table()->Fail(s);
    uint64_t below = 0;
    for (const DirectoryInfo& c : children_) {
      below += c.total_files();
      walk_.push_back({d.path + std::string(c.tail), c.total_files()});
    }
    if (d.files > below) {  // it holds files itself
      directory_ = std::move(d.path);
      eof_ = false;
      return SQLITE_OK;
    }
  }
  eof_ = true;
  return SQLITE_OK;
}

int MediaFilesCursor::LoadGroupTracks() {
  const CategoryCount& g = groups_[group_];
  group_tracks_.clear();
  const Status s = snapshot_->ListTracksUnordered(group_category_, g.name, g.year, &group_tracks_);
  if (!s.ok()) return table()->Fail(s);
  // Every track, also where DISTINCT let the synthetic rows be one per
  // value: the other columns now tell the tracks apart.
  if (group_tracks_.empty() || group_repeat_ >= group_tracks_.size())
    return table()->Fail(SQLITE_CORRUPT, "zcmedia: the category index lists " + std::to_string(g.tracks) +
                                             " tracks of a value but yields " + std::to_string(group_tracks_.size()));
  groups_[group_].tracks = group_tracks_.size();
  return SQLITE_OK;
}

int MediaFilesCursor::Rowid(sqlite3_int64* rowid) {
  switch (plan_) {
    case kScan:
    case kIdsOnly:
      *rowid = iterator_->id();
      return SQLITE_OK;
    case kDirectories:
      return table()->Fail(SQLITE_ERROR, "zcmedia: the directories plan has no rowid (a DISTINCT of the directory "
                                         "columns was planned without one)");
    case kCategoryGroups:
      if (!group_real_) {
        group_real_ = true;
        if (int rc = LoadGroupTracks(); rc != SQLITE_OK) return rc;
      }
      *rowid = group_tracks_[group_repeat_].id();
      return SQLITE_OK;
    case kFilenameOrder:
      *rowid = by_name_->Current().id();
      return SQLITE_OK;
    default:
      *rowid = rows_[row_].id();
      return SQLITE_OK;
  }
}

int MediaFilesCursor::Column(sqlite3_context* ctx, int column) {
  if (plan_ == kCategoryGroups && !group_real_) {
    if (CategoryOfColumn(column) == group_category_) {
      const CategoryCount& g = groups_[group_];
      if (group_category_ == Category::kYear) sqlite3_result_int64(ctx, g.year);
      else if (static_text_) ResultCommittedTextOfLength(ctx, g.name);
      else ResultText(ctx, g.name, /*static_text=*/false);
      return SQLITE_OK;
    }
    group_real_ = true;
    if (int rc = LoadGroupTracks(); rc != SQLITE_OK) return rc;
  }
  if (plan_ == kDirectories) {
    if (column != kParentPath && column != kCanonicalParentPath)
      return table()->Fail(SQLITE_ERROR, "zcmedia: directories plan asked for column " + std::to_string(column));
    ResultText(ctx, directory_, /*static_text=*/false);
    return SQLITE_OK;
  }
  if (plan_ == kIdsOnly) {
    if (column == kId) {
      sqlite3_result_int64(ctx, iterator_->id());
      return SQLITE_OK;
    }
    return table()->Fail(SQLITE_ERROR, "zcmedia: ids plan asked for column " + std::to_string(column));
  }
  const MediaFileView r = Current();
  switch (column) {
    case kId: sqlite3_result_int64(ctx, r.id()); break;
    case kPath: ResultText(ctx, r.path(), static_text_); break;
    case kParentPath: ResultOptText(ctx, r.parent_path(), static_text_); break;
    case kCanonicalPath: ResultOptText(ctx, r.canonical_path(), static_text_); break;
    case kCanonicalParentPath: ResultOptText(ctx, r.canonical_parent_path(), static_text_); break;
    case kFilename: ResultOptText(ctx, r.filename(), static_text_); break;
    case kSize: sqlite3_result_int64(ctx, r.size()); break;
    case kModified: sqlite3_result_int64(ctx, r.modified()); break;
    case kMimeType: ResultOptText(ctx, r.mime_type(), static_text_); break;
    case kDuration: ResultOptInt(ctx, r.duration()); break;
    case kTitle: ResultOptText(ctx, r.title(), static_text_); break;
    case kArtist: ResultOptText(ctx, r.artist(), static_text_); break;
    case kAlbum: ResultOptText(ctx, r.album(), static_text_); break;
    case kGenre: ResultOptText(ctx, r.genre(), static_text_); break;
    case kTrackNumber: ResultOptInt(ctx, r.track_number()); break;
    case kYear: ResultOptInt(ctx, r.year()); break;
    case kAlbumArtist: ResultOptText(ctx, r.album_artist(), static_text_); break;
    case kCreatedAt: sqlite3_result_int64(ctx, r.created_at()); break;
    case kUpdatedAt: sqlite3_result_int64(ctx, r.updated_at()); break;
    default: sqlite3_result_null(ctx);
  }
  return SQLITE_OK;
}

}  // namespace

std::unique_ptr<Table> NewMediaFilesTable(sqlite3* db, std::string schema, std::string name,
                                          std::shared_ptr<StoreSession> session) {
  return std::make_unique<MediaFilesTable>(db, std::move(schema), std::move(name), std::move(session));
}

}  // namespace zcmedia::vtab

// Query plans of the zcmedia tables: how xBestIndex describes a plan and how
// xFilter reads it back (docs/query-plans.md is the reference).
//
// idxNum is the plan's number in its table. idxStr is the plan's name
// (possibly with a suffix: "tracks-artist") followed by one token per xFilter
// argument in argv order -- `<column><op>` with op one of = in > >= < <=,
// `limit` / `offset`, or `-` for a constraint the plan implies and ignores --
// and then flags: `order:<col>[-],...` when the
// plan hands rows over in the ORDER BY order (`-` for DESC), `distinct`
// when duplicates may be dropped. EXPLAIN QUERY PLAN shows
// `VIRTUAL TABLE INDEX <idxNum>:<idxStr>`.
//
// Rules the builder keeps (../shared/notes/vtab-techniques.md A1-A4):
// argvIndex values are contiguous; omit is set only where the plan's own
// comparison is exactly SQLite's (BINARY collation, the column's affinity);
// IN lists are taken all at once (sqlite3_vtab_in) or not at all; LIMIT and
// OFFSET are taken only when every other constraint is omitted and the
// ORDER BY (if any) is consumed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlite_api.h"
#include "values.h"
#include "zcmedia/status.h"

namespace zcmedia::vtab {

// The usable constraints of one xBestIndex call.
class ConstraintSet {
 public:
  explicit ConstraintSet(sqlite3_index_info* info);
  // Index of the first usable constraint on `column` (-1: rowid) with `op`, or -1.
  int Find(int column, int op) const;
  // `column LIKE 'audio/%'` with a literal right-hand side, or -1.
  int FindAudioLike(int column) const;
  bool IsIn(int c) const;
  // Whether a plan comparing exactly (bytes, or integers) agrees with
  // SQLite on constraint c: BINARY collation for text.
  bool Exact(int c) const;
  // Whether the constraints are exactly what the category index of
  // `column` answers: the audio LIKE (and the range SQLite derives from
  // it), and on `column` != '' (text; IS NOT NULL may come too) or IS NOT
  // NULL (years). Any other constraint, or none excluding missing values,
  // and the answer is no.
  bool OnlyImpliedByCategory(int column, int audio_like, bool text) const;
  // Marks every usable constraint as omitted, without argument.
  void OmitAll(class PlanBuilder* plan) const;
  // Usable constraints other than LIMIT and OFFSET (and unusable ones).
  int count() const { return count_; }
  sqlite3_index_info* info() const { return info_; }

 private:
  sqlite3_index_info* info_;
  int count_ = 0;
};

// Whether LIKE on `db` folds ASCII case, as SQLite's built-in LIKE does
// unless PRAGMA case_sensitive_like is on (asked of SQLite itself, since
// that pragma cannot be read back).
bool LikeFoldsCase(sqlite3* db);

// What LIKE on `db` is, for plans that compare literal heads themselves:
// SQLite's built-in LIKE folding ASCII case (the default), the built-in
// under PRAGMA case_sensitive_like, or something else (an application's
// own like(), such as ICU's, which folds beyond ASCII).
enum class LikeKind { kFoldsAscii, kExact, kOther };
LikeKind LikeKindOf(sqlite3* db);

// The literal head of a LIKE pattern -- up to its first `%` or `_` (no
// ESCAPE: SQLite hands a LIKE with an ESCAPE clause to no virtual table)
// -- compared as SQLite's LIKE compares: character by character as
// sqlite3Utf8Read reads UTF-8 (invalid sequences included), ASCII letters
// folded unless `fold_case` is false, a string ending at its first NUL.
// Every string the pattern matches starts with the head in that sense, so
// a plan keeping only such strings keeps a superset of the LIKE's rows.
class LikePrefix {
 public:
  LikePrefix(std::string_view pattern, bool fold_case);
  // No literal head ('%x', '_x', ''): every string may match.
  bool empty() const { return chars_.empty(); }
  size_t size() const { return chars_.size(); }  // characters
  // Whether `s` starts with the head.
  bool Matches(std::string_view s) const;
  // For `lead`, a leading part (bytes) of longer strings (a directory's
  // path is one of the paths below it): kNone when no string starting with
  // `lead` starts with the head, kAll when every one does, else kSome.
  enum class Agreement { kNone, kSome, kAll };
  Agreement Agree(std::string_view lead) const;

 private:
  std::vector<uint32_t> chars_;  // folded when fold_
  bool fold_;
};

class PlanBuilder {
 public:
  PlanBuilder(sqlite3_index_info* info, int plan, std::string name);

  // Takes EQ constraint c as an argument. Returns true if it is an IN list
  // taken all at once (the argument is then the list).
  bool UseEq(int c, std::string_view column, bool exact);
  // Takes a range constraint as an argument. Never omitted: the cursor
  // bounds with a superset (the right-hand side may be real or text) and
  // SQLite checks each row again.
  void UseRange(int c, std::string_view column);
  // Takes a LIKE constraint as an argument the cursor may prune with; SQLite
  // still checks it (omit off).
  void UseLike(int c, std::string_view column);
  void Omit(int c);
  bool Used(int c) const;
  void SetCost(double cost, double rows);
  void SetUnique() { unique_ = true; }
  // The rows arrive in the ORDER BY order as they are.
  void ConsumeOrderBy();
  // The same when the ORDER BY is `rowid` or `id_column` ascending (the
  // order of the id-ordered plans); returns whether it was.
  bool ConsumeIdOrder(int id_column);
  // The cursor sorts its (few) rows by the ORDER BY terms, if they are all
  // columns `column_ok` accepts.
  template <typename ColumnOk>
  void ConsumeOrderBySorting(ColumnOk column_ok) {
    if (info_->nOrderBy == 0) return;
    std::string token = "order:";
    for (int i = 0; i < info_->nOrderBy; ++i) {
      const auto& o = info_->aOrderBy[i];
      if (!column_ok(o.iColumn)) return;
      if (i > 0) token += ",";
      token += std::to_string(o.iColumn);
      if (o.desc) token += "-";
    }
    order_token_ = token;
    order_consumed_ = true;
  }
  void AppendToken(std::string token) { flags_.push_back(std::move(token)); }
  // Takes LIMIT/OFFSET when the rules above allow it.
  void UseLimitOffsetIfSafe(const ConstraintSet& cs);
  double cost() const { return cost_; }
  // Writes the plan into the index info.
  int Commit();

 private:
  void AddArgument(int c, std::string token, bool omit);

  sqlite3_index_info* info_;
  int plan_;
  std::string name_;
  std::vector<std::string> arg_tokens_;
  std::vector<std::string> flags_;
  std::string order_token_;
  struct Use {
    int constraint;
    int argv;  // 0: none (omitted without argument)
    bool omit;
    bool in_all_at_once;
  };
  std::vector<Use> uses_;
  double cost_ = 1e18;
  double rows_ = 1e9;
  bool unique_ = false;
  bool order_consumed_ = false;
};

struct OrderTerm {
  int column;  // -1: rowid
  bool desc;
};

// Sorts a cursor's rows into an ORDER BY the plan consumed
// (`column_of(row, column)` gives a SqlValue; the column -1 is the rowid).
// Small results: each row's keys are worked out once, then an index is
// sorted. Large ones (more than kMaxSortKeys keys) sort in place, working
// keys out per comparison, so the heap holds no copy of the keys.
// Equal rows may come in any order (SQL leaves ties unordered).
constexpr size_t kMaxSortKeys = size_t{1} << 16;  // 2 MiB of SqlValue
template <typename Row, typename ColumnOf>
void SortRows(std::vector<Row>* rows, const std::vector<OrderTerm>& order, ColumnOf column_of) {
  if (order.empty() || rows->size() < 2) return;
  const size_t terms = order.size();
  // Rows often come in the order asked already (a listing sorted by its
  // value, ids in id order): one pass finds out and spares the sort.
  if (rows->size() * terms > kMaxSortKeys) {
    auto before = [&](const Row& a, const Row& b) {
      for (const OrderTerm& t : order) {
        const int c = Compare(column_of(a, t.column), column_of(b, t.column));
        if (c != 0) return t.desc ? c > 0 : c < 0;
      }
      return false;
    };
    if (!std::is_sorted(rows->begin(), rows->end(), before)) std::sort(rows->begin(), rows->end(), before);
    return;
  }
  std::vector<SqlValue> keys(rows->size() * terms);
  for (size_t r = 0; r < rows->size(); ++r)
    for (size_t t = 0; t < terms; ++t) keys[r * terms + t] = column_of((*rows)[r], order[t].column);
  auto before = [&](uint32_t a, uint32_t b) {
    for (size_t t = 0; t < terms; ++t) {
      const int c = Compare(keys[a * terms + t], keys[b * terms + t]);
      if (c != 0) return order[t].desc ? c > 0 : c < 0;
    }
    return a < b;
  };
  std::vector<uint32_t> index(rows->size());
  for (uint32_t i = 0; i < index.size(); ++i) index[i] = i;
  if (std::is_sorted(index.begin(), index.end(), before)) return;
  std::sort(index.begin(), index.end(), before);
  std::vector<Row> sorted;
  sorted.reserve(rows->size());
  for (uint32_t i : index) sorted.push_back((*rows)[i]);
  rows->swap(sorted);
}

// xFilter's view of the plan: the arguments by token, values copied (argv
// is only valid during xFilter).
class PlanArgs {
 public:
  static Status Parse(const char* idx_str, int argc, sqlite3_value** argv, PlanArgs* out);

  // Views into the idxStr (valid while the statement is: through xFilter).
  std::string_view plan;         // the first token
  std::string_view plan_suffix;  // after its first '-' ("tracks-artist" -> "artist")
  std::vector<OrderTerm> order;
  std::optional<int64_t> limit;
  std::optional<int64_t> offset;

  bool HasToken(std::string_view flag) const;
  // Values of the `=`/`in` arguments on `column`, converted with the
  // column's affinity (values equal to no row left out).
  std::vector<int64_t> IntValues(std::string_view column) const;
  std::vector<std::string_view> TextValues(std::string_view column) const;
  // Whether the plan passed an `=`/`in` argument on `column` (IntValues may
  // still be empty: `col = NULL`, `col = 'abc'` admit no row).
  bool HasEq(std::string_view column) const;
  // The pattern of a LIKE argument on `column` (text), if any.
  std::optional<std::string> LikePattern(std::string_view column) const;
  // The LIKE argument on `column` as SQLite passed it (during xFilter), or null.
  sqlite3_value* LikeArgument(std::string_view column) const;
  // Bounds from the range arguments on `column`, made inclusive.
  std::optional<int64_t> IntLowerBound(std::string_view column) const;
  std::optional<int64_t> IntUpperBound(std::string_view column) const;
  // True when some argument admits no row at all (id > 'abc', id = NULL).
  bool Empty() const { return empty_; }

 private:
  struct Arg {
    std::string_view column;
    std::string_view op;
    std::vector<sqlite3_value*> values;  // during xFilter only
  };
  std::vector<Arg> args_;
  std::vector<std::string_view> flags_;
  mutable std::deque<std::string> text_storage_;  // stable addresses for the views
  // Copies of IN-list items: sqlite3_vtab_in_next hands each item over in
  // one reused sqlite3_value, so the pointers it gives do not stay apart.
  struct ValueFree {
    void operator()(sqlite3_value* v) const { sqlite3_value_free(v); }
  };
  std::vector<std::unique_ptr<sqlite3_value, ValueFree>> owned_;
  mutable bool empty_ = false;
};

}  // namespace zcmedia::vtab

#include "plan.h"

#include <cmath>
#include <cstring>
#include <new>

#include "values.h"

namespace zcmedia::vtab {

// ---- ConstraintSet ----------------------------------------------------------

namespace {
bool IsLimitOrOffset(int op) {
  return op == SQLITE_INDEX_CONSTRAINT_LIMIT || op == SQLITE_INDEX_CONSTRAINT_OFFSET;
}
}  // namespace

ConstraintSet::ConstraintSet(sqlite3_index_info* info) : info_(info) {
  for (int i = 0; i < info->nConstraint; ++i)
    if (!IsLimitOrOffset(info->aConstraint[i].op)) ++count_;
}

int ConstraintSet::Find(int column, int op) const {
  for (int i = 0; i < info_->nConstraint; ++i) {
    const auto& c = info_->aConstraint[i];
    if (c.usable && c.iColumn == column && c.op == op) return i;
  }
  return -1;
}

int ConstraintSet::FindAudioLike(int column) const {
  for (int i = 0; i < info_->nConstraint; ++i) {
    const auto& c = info_->aConstraint[i];
    if (!c.usable || c.iColumn != column || c.op != SQLITE_INDEX_CONSTRAINT_LIKE) continue;
    sqlite3_value* rhs = nullptr;
    if (sqlite3_vtab_rhs_value(info_, i, &rhs) != SQLITE_OK || rhs == nullptr) continue;
    if (sqlite3_value_type(rhs) != SQLITE_TEXT) continue;
    const char* text = reinterpret_cast<const char*>(sqlite3_value_text(rhs));
    // LIKE is ASCII case-insensitive: 'audio/%' in any case is the store's
    // audio family (mime types starting with "audio/", any case).
    if (text != nullptr && strcasecmp(text, "audio/%") == 0) return i;
  }
  return -1;
}

bool ConstraintSet::IsIn(int c) const { return sqlite3_vtab_in(info_, c, -1) != 0; }

bool ConstraintSet::Exact(int c) const {
  const char* collation = sqlite3_vtab_collation(info_, c);
  return collation == nullptr || sqlite3_stricmp(collation, "BINARY") == 0;
}

bool ConstraintSet::OnlyImpliedByCategory(int column, int audio_like, bool text) const {
  // The category index leaves out NULL (and for text '') values: the query
  // must leave them out too (`!= ''` also excludes NULL; years need IS NOT NULL).
  bool excludes_missing = false;
  for (int i = 0; i < info_->nConstraint; ++i) {
    const auto& c = info_->aConstraint[i];
    if (IsLimitOrOffset(c.op)) continue;
    if (!c.usable) return false;
    if (i == audio_like) continue;
    // SQLite's LIKE optimization adds mime_type >= 'AUDIO/' AND mime_type
    // < 'audio0' next to the LIKE: implied by it.
    if (c.iColumn == info_->aConstraint[audio_like].iColumn &&
        (c.op == SQLITE_INDEX_CONSTRAINT_GE || c.op == SQLITE_INDEX_CONSTRAINT_LT)) {
      sqlite3_value* rhs = nullptr;
      if (sqlite3_vtab_rhs_value(info_, i, &rhs) == SQLITE_OK && rhs != nullptr &&
          sqlite3_value_type(rhs) == SQLITE_TEXT) {
        const char* t = reinterpret_cast<const char*>(sqlite3_value_text(rhs));
        if (strcasecmp(t, c.op == SQLITE_INDEX_CONSTRAINT_GE ? "audio/" : "audio0") == 0) continue;
      }
      return false;
    }
    if (c.iColumn != column) return false;
    if (c.op == SQLITE_INDEX_CONSTRAINT_ISNOTNULL) {
      if (!text) excludes_missing = true;
      continue;
    }
    if (text && c.op == SQLITE_INDEX_CONSTRAINT_NE && Exact(i)) {
      sqlite3_value* rhs = nullptr;
      if (sqlite3_vtab_rhs_value(info_, i, &rhs) == SQLITE_OK && rhs != nullptr &&
          sqlite3_value_type(rhs) == SQLITE_TEXT && sqlite3_value_bytes(rhs) == 0) {
        excludes_missing = true;
        continue;
      }
    }
    return false;
  }
  return excludes_missing;
}

void ConstraintSet::OmitAll(PlanBuilder* plan) const {
  for (int i = 0; i < info_->nConstraint; ++i)
    if (info_->aConstraint[i].usable && !IsLimitOrOffset(info_->aConstraint[i].op)) plan->Omit(i);
}

bool LikeFoldsCase(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  bool folds = false;
  if (sqlite3_prepare_v2(db, "SELECT 'A' LIKE 'a'", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    folds = sqlite3_column_int(stmt, 0) == 1;
  sqlite3_finalize(stmt);
  return folds;
}

LikeKind LikeKindOf(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  LikeKind kind = LikeKind::kOther;
  // 'Ä' and 'ä' (U+00C4, U+00E4): only a LIKE folding beyond ASCII equates them.
  if (sqlite3_prepare_v2(db, "SELECT 'A' LIKE 'a', 'ab' LIKE 'a%', 'a' LIKE 'ab', '\xC3\x84' LIKE '\xC3\xA4'", -1,
                         &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 1) == 1 && sqlite3_column_int(stmt, 2) == 0 &&
      sqlite3_column_int(stmt, 3) == 0)
    kind = sqlite3_column_int(stmt, 0) == 1 ? LikeKind::kFoldsAscii : LikeKind::kExact;
  sqlite3_finalize(stmt);
  return kind;
}

// ---- LikePrefix ---------------------------------------------------------------

namespace {
// sqlite3Utf8Trans1: the payload bits of a lead byte 0xc0..0xff.
constexpr unsigned char kUtf8Trans1[64] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x01, 0x02, 0x03, 0x00, 0x01, 0x00, 0x00};

// One character of `s` from *i on, as sqlite3Utf8Read reads it (0 at the
// end: SQLite's strings end with a NUL). *open: the character's bytes ran
// to the end of `s`, so in a longer string starting with `s` more
// continuation bytes could make it another character.
uint32_t ReadLikeChar(std::string_view s, size_t* i, bool* open) {
  *open = false;
  if (*i >= s.size()) return 0;
  uint32_t c = static_cast<unsigned char>(s[(*i)++]);
  if (c < 0xc0) return c;
  c = kUtf8Trans1[c - 0xc0];
  while (*i < s.size() && (static_cast<unsigned char>(s[*i]) & 0xc0) == 0x80)
    c = (c << 6) + (0x3f & static_cast<unsigned char>(s[(*i)++]));
  *open = *i >= s.size();
  if (c < 0x80 || (c & 0xFFFFF800) == 0xD800 || (c & 0xFFFFFFFE) == 0xFFFE) c = 0xFFFD;
  return c;
}

uint32_t FoldLikeChar(uint32_t c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }
}  // namespace

LikePrefix::LikePrefix(std::string_view pattern, bool fold_case) : fold_(fold_case) {
  size_t i = 0;
  bool open;
  for (uint32_t c; (c = ReadLikeChar(pattern, &i, &open)) != 0 && c != '%' && c != '_';)
    chars_.push_back(fold_ ? FoldLikeChar(c) : c);
}

// SQLite's LIKE: `c == c2`, or with folding both below 0x80 and equal
// lower-cased (FoldLikeChar leaves everything else as it is).
bool LikePrefix::Matches(std::string_view s) const {
  size_t i = 0;
  bool open;
  for (uint32_t want : chars_) {
    const uint32_t c = ReadLikeChar(s, &i, &open);
    if (c == 0 || (fold_ ? FoldLikeChar(c) : c) != want) return false;
  }
  return true;
}

LikePrefix::Agreement LikePrefix::Agree(std::string_view lead) const {
  size_t i = 0;
  bool open;
  for (uint32_t want : chars_) {
    if (i >= lead.size()) return Agreement::kSome;
    const uint32_t c = ReadLikeChar(lead, &i, &open);
    if (open) return Agreement::kSome;  // a longer string may read another character here
    // A NUL ends the string for LIKE: the head cannot be matched past it.
    if (c == 0 || (fold_ ? FoldLikeChar(c) : c) != want) return Agreement::kNone;
  }
  return Agreement::kAll;
}

// ---- PlanBuilder ------------------------------------------------------------

PlanBuilder::PlanBuilder(sqlite3_index_info* info, int plan, std::string name)
    : info_(info), plan_(plan), name_(std::move(name)) {}

void PlanBuilder::AddArgument(int c, std::string token, bool omit) {
  const bool in = token.size() > 3 && token.compare(token.size() - 3, 3, "-in") == 0;
  uses_.push_back({c, static_cast<int>(arg_tokens_.size()) + 1, omit, in});
  arg_tokens_.push_back(std::move(token));
}

bool PlanBuilder::UseEq(int c, std::string_view column, bool exact) {
  const bool in = sqlite3_vtab_in(info_, c, -1) != 0;
  AddArgument(c, std::string(column) + (in ? "-in" : "="), exact);
  return in;
}

void PlanBuilder::UseRange(int c, std::string_view column) {
  const char* op = "";
  switch (info_->aConstraint[c].op) {
    case SQLITE_INDEX_CONSTRAINT_GT: op = ">"; break;
    case SQLITE_INDEX_CONSTRAINT_GE: op = ">="; break;
    case SQLITE_INDEX_CONSTRAINT_LT: op = "<"; break;
    case SQLITE_INDEX_CONSTRAINT_LE: op = "<="; break;
  }
  AddArgument(c, std::string(column) + op, /*omit=*/false);
}

// SQLite honours omit only for constraints that are xFilter arguments, so an
// implied constraint is passed as an argument the cursor ignores ("-").
void PlanBuilder::UseLike(int c, std::string_view column) { AddArgument(c, std::string(column) + "-like", false); }

void PlanBuilder::Omit(int c) { AddArgument(c, "-", true); }

bool PlanBuilder::Used(int c) const {
  for (const Use& u : uses_)
    if (u.constraint == c) return true;
  return false;
}

void PlanBuilder::SetCost(double cost, double rows) {
  cost_ = cost;
  rows_ = rows;
}

void PlanBuilder::ConsumeOrderBy() {
  if (info_->nOrderBy == 0) return;
  order_consumed_ = true;
  order_token_.clear();
}

bool PlanBuilder::ConsumeIdOrder(int id_column) {
  const bool by_id = info_->nOrderBy == 1 && !info_->aOrderBy[0].desc &&
                     (info_->aOrderBy[0].iColumn == -1 || info_->aOrderBy[0].iColumn == id_column);
  if (by_id) ConsumeOrderBy();
  return by_id;
}

void PlanBuilder::UseLimitOffsetIfSafe(const ConstraintSet& cs) {
  if (info_->nOrderBy > 0 && !order_consumed_) return;
  int limit = -1, offset = -1;
  for (int i = 0; i < info_->nConstraint; ++i) {
    const auto& c = info_->aConstraint[i];
    if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
      limit = i;
      continue;
    }
    if (c.op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
      offset = i;
      continue;
    }
    // Every other constraint must be ours and omitted.
    bool omitted = false;
    for (const Use& u : uses_)
      if (u.constraint == i && u.omit) omitted = true;
    if (!omitted) return;
  }
  (void)cs;
  if (limit < 0 || !info_->aConstraint[limit].usable) return;
  AddArgument(limit, "limit", true);
  if (offset >= 0 && info_->aConstraint[offset].usable) AddArgument(offset, "offset", true);
}

int PlanBuilder::Commit() {
  for (const Use& u : uses_) {
    info_->aConstraintUsage[u.constraint].argvIndex = u.argv;
    info_->aConstraintUsage[u.constraint].omit = u.omit ? 1 : 0;
    if (u.in_all_at_once) sqlite3_vtab_in(info_, u.constraint, 1);
  }
  std::string str = name_;
  for (const std::string& t : arg_tokens_) str += " " + t;
  if (!order_token_.empty()) str += " " + order_token_;
  else if (order_consumed_) str += " ordered";
  for (const std::string& f : flags_) str += " " + f;
  info_->idxNum = plan_;
  info_->idxStr = sqlite3_mprintf("%s", str.c_str());
  if (info_->idxStr == nullptr) return SQLITE_NOMEM;
  info_->needToFreeIdxStr = 1;
  info_->orderByConsumed = order_consumed_ ? 1 : 0;
  info_->estimatedCost = cost_;
  info_->estimatedRows = static_cast<sqlite3_int64>(rows_ < 1 ? 1 : rows_);
  if (unique_) info_->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  return SQLITE_OK;
}

// ---- PlanArgs -----------------------------------------------------------------

namespace {
// Tokens of an idxStr: views into it (it outlives the xFilter call).
void Split(const char* s, std::vector<std::string_view>* out) {
  const char* start = nullptr;
  for (; s != nullptr; ++s) {
    if (*s == ' ' || *s == '\0') {
      if (start != nullptr) out->emplace_back(start, static_cast<size_t>(s - start));
      start = nullptr;
      if (*s == '\0') break;
    } else if (start == nullptr) {
      start = s;
    }
  }
}

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool IsFlag(std::string_view t) {
  return t == "ordered" || t == "distinct" || t == "case-sensitive" || t.starts_with("order:");
}
}  // namespace

Status PlanArgs::Parse(const char* idx_str, int argc, sqlite3_value** argv, PlanArgs* out) {
  // Runs once per statement execution: views, no copies of the plan text.
  std::vector<std::string_view> tokens;
  tokens.reserve(8);
  Split(idx_str, &tokens);
  if (tokens.empty()) return Status::InvalidArgument("zcmedia: empty plan");
  out->plan = tokens[0];
  const size_t dash = out->plan.find('-');
  out->plan_suffix = dash == std::string_view::npos ? std::string_view() : out->plan.substr(dash + 1);
  int a = 0;
  for (size_t i = 1; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    if (IsFlag(t)) {
      if (t.starts_with("order:")) {
        std::string_view spec = t.substr(6);
        while (!spec.empty()) {
          size_t comma = spec.find(',');
          std::string_view term = spec.substr(0, comma);
          spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
          if (term.empty()) continue;
          const bool desc = term.back() == '-';
          if (desc) term.remove_suffix(1);
          int column = 0;
          const bool negative = !term.empty() && term.front() == '-';
          for (char ch : negative ? term.substr(1) : term) column = column * 10 + (ch - '0');
          out->order.push_back({negative ? -column : column, desc});
        }
      } else {
        out->flags_.push_back(t);
      }
      continue;
    }
    if (a >= argc)
      return Status::InvalidArgument("zcmedia: plan '" + std::string(idx_str) + "' has more arguments than xFilter got");
    sqlite3_value* v = argv[a++];
    if (t == "-") continue;  // an implied constraint (PlanBuilder::Omit)
    if (t == "limit" || t == "offset") {
      const std::optional<int64_t> n = AsExactInteger(v);
      if (t == "limit") out->limit = n.value_or(-1) < 0 ? std::nullopt : n;  // negative LIMIT: no limit
      else out->offset = n && *n > 0 ? n : std::nullopt;
      continue;
    }
    const size_t op_start = t.find_first_of("=<>");
    Arg arg;
    if (EndsWith(t, "-in")) {
      arg.column = t.substr(0, t.size() - 3);
      arg.op = "in";
    } else if (EndsWith(t, "-like")) {
      arg.column = t.substr(0, t.size() - 5);
      arg.op = "like";
    } else if (op_start != std::string_view::npos) {
      arg.column = t.substr(0, op_start);
      arg.op = t.substr(op_start);
    } else {
      return Status::InvalidArgument("zcmedia: bad plan token '" + std::string(t) + "'");
    }
    if (arg.op == "in") {
      sqlite3_value* item = nullptr;
      int rc = sqlite3_vtab_in_first(v, &item);
      for (; rc == SQLITE_OK && item != nullptr; rc = sqlite3_vtab_in_next(v, &item)) {
        // The item lives in a value the next call overwrites: keep a copy.
        sqlite3_value* copy = sqlite3_value_dup(item);
        if (copy == nullptr) throw std::bad_alloc();  // SQLITE_NOMEM (module.cc)
        out->owned_.emplace_back(copy);
        arg.values.push_back(copy);
      }
      if (rc != SQLITE_OK && rc != SQLITE_DONE) return Status::IOError("zcmedia: reading an IN list failed");
    } else {
      arg.values.push_back(v);
    }
    out->args_.push_back(std::move(arg));
  }
  return Status::OK();
}

std::optional<std::string> PlanArgs::LikePattern(std::string_view column) const {
  for (const Arg& a : args_)
    if (a.column == column && a.op == "like" && !a.values.empty()) return AsText(a.values[0]);
  return std::nullopt;
}

sqlite3_value* PlanArgs::LikeArgument(std::string_view column) const {
  for (const Arg& a : args_)
    if (a.column == column && a.op == "like" && !a.values.empty()) return a.values[0];
  return nullptr;
}

bool PlanArgs::HasToken(std::string_view flag) const {
  for (std::string_view f : flags_)
    if (f == flag) return true;
  return false;
}

std::vector<int64_t> PlanArgs::IntValues(std::string_view column) const {
  std::vector<int64_t> out;
  for (const Arg& a : args_) {
    if (a.column != column || (a.op != "=" && a.op != "in")) continue;
    for (sqlite3_value* v : a.values)
      if (std::optional<int64_t> i = AsExactInteger(v)) out.push_back(*i);
  }
  return out;
}

bool PlanArgs::HasEq(std::string_view column) const {
  for (const Arg& a : args_)
    if (a.column == column && (a.op == "=" || a.op == "in")) return true;
  return false;
}

std::vector<std::string_view> PlanArgs::TextValues(std::string_view column) const {
  std::vector<std::string_view> out;
  for (const Arg& a : args_) {
    if (a.column != column || (a.op != "=" && a.op != "in")) continue;
    for (sqlite3_value* v : a.values)
      if (std::optional<std::string> t = AsText(v)) out.push_back(text_storage_.emplace_back(std::move(*t)));
  }
  return out;
}

namespace {
// A bound on an INTEGER column from any value, as SQLite compares them:
// NULL admits nothing; numbers < text < blobs.
struct Bound {
  bool none = false;      // no row passes
  bool unbounded = false; // every integer passes
  int64_t value = 0;      // inclusive
};
Bound IntBound(sqlite3_value* v, bool lower, bool strict) {
  Bound b;
  const int type = sqlite3_value_type(v);
  if (type == SQLITE_NULL) {
    b.none = true;
    return b;
  }
  double d;
  if (type == SQLITE_INTEGER) {
    const int64_t i = sqlite3_value_int64(v);
    if (strict) {
      // id > INT64_MAX and id < INT64_MIN admit nothing (and i + 1 would overflow).
      if (lower && i == INT64_MAX) b.none = true;
      else if (!lower && i == INT64_MIN) b.none = true;
      else b.value = lower ? i + 1 : i - 1;
    } else {
      b.value = i;
    }
    return b;
  }
  if (type == SQLITE_FLOAT) {
    d = sqlite3_value_double(v);
  } else if (type == SQLITE_TEXT) {
    if (std::optional<int64_t> i = AsExactInteger(v)) {
      d = static_cast<double>(*i);
    } else {
      // Text that is not an integer: compare as SQLite would only roughly;
      // a superset is enough (omit is off for ranges, SQLite checks again).
      b.unbounded = true;
      return b;
    }
  } else {
    b.unbounded = true;
    return b;
  }
  if (std::isnan(d)) {
    b.none = true;
    return b;
  }
  if (lower) {
    if (d > 9.2e18) b.none = true;
    else if (d < -9.2e18) b.unbounded = true;
    else b.value = static_cast<int64_t>(std::floor(d)) - 1;  // superset; SQLite re-checks
  } else {
    if (d < -9.2e18) b.none = true;
    else if (d > 9.2e18) b.unbounded = true;
    else b.value = static_cast<int64_t>(std::ceil(d)) + 1;
  }
  return b;
}
}  // namespace

std::optional<int64_t> PlanArgs::IntLowerBound(std::string_view column) const {
  std::optional<int64_t> lo;
  for (const Arg& a : args_) {
    if (a.column != column || (a.op != ">" && a.op != ">=")) continue;
    Bound b = IntBound(a.values[0], true, a.op == ">");
    if (b.none) empty_ = true;
    else if (!b.unbounded && (!lo || b.value > *lo)) lo = b.value;
  }
  return lo;
}

std::optional<int64_t> PlanArgs::IntUpperBound(std::string_view column) const {
  std::optional<int64_t> hi;
  for (const Arg& a : args_) {
    if (a.column != column || (a.op != "<" && a.op != "<=")) continue;
    Bound b = IntBound(a.values[0], false, a.op == "<");
    if (b.none) empty_ = true;
    else if (!b.unbounded && (!hi || b.value < *hi)) hi = b.value;
  }
  return hi;
}

}  // namespace zcmedia::vtab

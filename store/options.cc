// Options: validation, environment overrides and the parsers they use.
#include "zcmedia/options.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>

namespace zcmedia {

namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = kKiB * 1024;
constexpr uint64_t kGiB = kMiB * 1024;
constexpr uint64_t kTiB = kGiB * 1024;

constexpr uint64_t kMinMemoryBudget = kMiB;
constexpr uint64_t kMaxMemoryBudget = kTiB;
constexpr uint64_t kMinSegmentBytes = kMiB;
constexpr uint64_t kMaxSegmentBytes = 64 * kGiB;
constexpr std::chrono::milliseconds kMaxLockTimeout = std::chrono::hours(24);

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "64MiB" into 64 and "mib". False when there are no leading digits
// or the number does not fit in 64 bits.
bool SplitNumber(std::string_view text, uint64_t* number, std::string* unit) {
  text = Trim(text);
  size_t digits = 0;
  uint64_t n = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    const uint64_t d = static_cast<uint64_t>(text[digits] - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    n = n * 10 + d;
    ++digits;
  }
  if (digits == 0) return false;
  *number = n;
  *unit = Lower(Trim(text.substr(digits)));
  return true;
}

std::string Quoted(std::string_view what, std::string_view text) {
  return std::string(what) + "='" + std::string(text) + "'";
}

}  // namespace

Status ParseByteSize(std::string_view text, std::string_view what, uint64_t* bytes) {
  uint64_t n = 0;
  std::string unit;
  const Status bad = Status::InvalidArgument(
      Quoted(what, text) + " is not a size: use a whole number of bytes with an optional K, M, G or T "
                           "suffix (powers of 1024), e.g. 6M, 64MiB, 1G or 1048576");
  if (!SplitNumber(text, &n, &unit)) return bad;
  uint64_t scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") scale = kKiB;
  else if (unit == "m" || unit == "mb" || unit == "mib") scale = kMiB;
  else if (unit == "g" || unit == "gb" || unit == "gib") scale = kGiB;
  else if (unit == "t" || unit == "tb" || unit == "tib") scale = kTiB;
  else return bad;
  if (n > std::numeric_limits<uint64_t>::max() / scale)
    return Status::InvalidArgument(Quoted(what, text) + " is too large");
  *bytes = n * scale;
  return Status::OK();
}

Status ParseDuration(std::string_view text, std::string_view what, std::chrono::milliseconds* duration) {
  uint64_t n = 0;
  std::string unit;
  const Status bad = Status::InvalidArgument(
      Quoted(what, text) + " is not a duration: use a whole number with ms, s or m (a bare number is "
                           "milliseconds), e.g. 250ms, 5s or 0");
  if (!SplitNumber(text, &n, &unit)) return bad;
  uint64_t ms_per_unit = 0;
  if (unit.empty() || unit == "ms") ms_per_unit = 1;
  else if (unit == "s") ms_per_unit = 1000;
  else if (unit == "m" || unit == "min") ms_per_unit = 60'000;
  else return bad;
  const uint64_t limit = static_cast<uint64_t>(kMaxLockTimeout.count());
  if (n > limit / ms_per_unit) return Status::InvalidArgument(Quoted(what, text) + " is longer than 24 hours");
  *duration = std::chrono::milliseconds(static_cast<int64_t>(n * ms_per_unit));
  return Status::OK();
}

Status ParseSwitch(std::string_view text, std::string_view what, bool* value) {
  const std::string t = Lower(Trim(text));
  if (t == "1" || t == "on" || t == "true" || t == "yes") {
    *value = true;
    return Status::OK();
  }
  if (t == "0" || t == "off" || t == "false" || t == "no") {
    *value = false;
    return Status::OK();
  }
  return Status::InvalidArgument(Quoted(what, text) + " is not a switch: use on or off (also true/false, yes/no, 1/0)");
}

std::string FormatByteSize(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0 || value == static_cast<double>(static_cast<uint64_t>(value)))
    std::snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(value), kUnits[unit]);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  return buf;
}

Status ValidateOptions(const Options& options) {
  if (options.memory_budget < kMinMemoryBudget || options.memory_budget > kMaxMemoryBudget)
    return Status::InvalidArgument("memory_budget " + FormatByteSize(options.memory_budget) +
                                   " is outside 1 MiB .. 1 TiB");
  if (options.segment_max_bytes < kMinSegmentBytes || options.segment_max_bytes > kMaxSegmentBytes)
    return Status::InvalidArgument("segment_max_bytes " + FormatByteSize(options.segment_max_bytes) +
                                   " is outside 1 MiB .. 64 GiB");
  if (options.lock_timeout.count() < 0 || options.lock_timeout > kMaxLockTimeout)
    return Status::InvalidArgument("lock_timeout " + std::to_string(options.lock_timeout.count()) +
                                   " ms is outside 0 .. 24 hours");
  return Status::OK();
}

Status ApplyEnvironment(Options* options) {
  Options updated = *options;
  auto variable = [](const char* name) -> std::string_view {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string_view() : Trim(value);
  };
  auto size_variable = [&](const char* name, auto* field) -> Status {
    const std::string_view text = variable(name);
    if (text.empty()) return Status::OK();
    uint64_t bytes = 0;
    ZC_RETURN_IF_ERROR(ParseByteSize(text, name, &bytes));
    if (bytes > std::numeric_limits<std::remove_pointer_t<decltype(field)>>::max())
      return Status::InvalidArgument(Quoted(name, text) + " is too large for this machine");
    *field = static_cast<std::remove_pointer_t<decltype(field)>>(bytes);
    return Status::OK();
  };
  ZC_RETURN_IF_ERROR(size_variable("ZCMEDIA_MEMORY_BUDGET", &updated.memory_budget));
  ZC_RETURN_IF_ERROR(size_variable("ZCMEDIA_SEGMENT_MAX_BYTES", &updated.segment_max_bytes));
  if (std::string_view text = variable("ZCMEDIA_LOCK_TIMEOUT"); !text.empty())
    ZC_RETURN_IF_ERROR(ParseDuration(text, "ZCMEDIA_LOCK_TIMEOUT", &updated.lock_timeout));
  if (std::string_view text = variable("ZCMEDIA_SYNC"); !text.empty())
    ZC_RETURN_IF_ERROR(ParseSwitch(text, "ZCMEDIA_SYNC", &updated.sync));
  if (std::string_view text = variable("ZCMEDIA_LOOKUP_CACHE"); !text.empty())
    ZC_RETURN_IF_ERROR(ParseSwitch(text, "ZCMEDIA_LOOKUP_CACHE", &updated.lookup_cache));
  Status valid = ValidateOptions(updated);
  if (!valid.ok())
    return Status::InvalidArgument(valid.message() + " (set by a ZCMEDIA_* environment variable)");
  *options = updated;
  return Status::OK();
}

}  // namespace zcmedia

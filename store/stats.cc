#include "stats.h"

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace zcmedia {

void StoreCounters::CountLookups(uint64_t n) {
  thread_local const size_t shard = std::hash<std::thread::id>()(std::this_thread::get_id()) % kShards;
  shards_[shard].lookups.fetch_add(n, std::memory_order_relaxed);
}

uint64_t StoreCounters::Lookups() const {
  uint64_t total = 0;
  for (const Shard& s : shards_) total += s.lookups.load(std::memory_order_relaxed);
  return total;
}

const Status& StoreCounters::CountError(const Status& s) {
  const int code = static_cast<int>(s.code());
  if (!s.ok() && !s.IsNotFound() && code > 0 && code < kStatusCodeCount)
    errors[code].fetch_add(1, std::memory_order_relaxed);
  return s;
}

uint64_t ProcessAnonBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::strtoull(line.c_str() + 8, nullptr, 10) * 1024;
  }
  return 0;
}

namespace {

const char* const kFamilyNames[kMimeFamilies] = {"audio", "video", "image", "other"};

const char* CodeName(int code) {
  switch (static_cast<Status::Code>(code)) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kNotFound: return "not_found";
    case Status::Code::kCorruption: return "corruption";
    case Status::Code::kIOError: return "io_error";
    case Status::Code::kInvalidArgument: return "invalid_argument";
    case Status::Code::kConstraint: return "constraint";
    case Status::Code::kBusy: return "busy";
    case Status::Code::kReadOnly: return "read_only";
  }
  return "unknown";
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

std::string StatsToJson(const StoreStats& s) {
  std::string out = "{";
  auto field = [&](const char* name, const std::string& value) {
    if (out.size() > 1) out += ", ";
    out += "\"";
    out += name;
    out += "\": ";
    out += value;
  };
  auto u = [](uint64_t v) { return std::to_string(v); };
  field("records_stored", u(s.records_stored));
  field("records_updated", u(s.records_updated));
  field("records_removed", u(s.records_removed));
  field("bytes_appended", u(s.bytes_appended));
  field("batches", u(s.batches));
  field("commits", u(s.commits));
  field("checkpoints", u(s.checkpoints));
  field("index_merges", u(s.index_merges));
  field("lookups", u(s.lookups));
  std::string errors = "{";
  for (int c = 1; c < kStatusCodeCount; ++c) {
    if (c > 1) errors += ", ";
    errors += "\"" + std::string(CodeName(c)) + "\": " + u(s.errors[c]);
  }
  field("errors", errors + "}");
  field("records_per_second", Number(s.records_per_second));
  field("interval_seconds", Number(s.interval_seconds));
  field("sequence", u(s.sequence));
  field("record_count", u(s.record_count));
  field("playlists", u(s.playlists));
  field("playlist_entries", u(s.playlist_entries));
  std::string files = "{", bytes = "{";
  for (int f = 0; f < kMimeFamilies; ++f) {
    if (f > 0) files += ", ", bytes += ", ";
    files += "\"" + std::string(kFamilyNames[f]) + "\": " + u(s.files[f]);
    bytes += "\"" + std::string(kFamilyNames[f]) + "\": " + std::to_string(s.bytes[f]);
  }
  field("files", files + "}");
  field("bytes", bytes + "}");
  field("dead_bytes", u(s.dead_bytes));
  field("segment_bytes", u(s.segment_bytes));
  field("index_bytes", u(s.index_bytes));
  field("index_runs", u(s.index_runs));
  field("memtable_records", u(s.memtable_records));
  field("process_anon_bytes", u(s.process_anon_bytes));
  field("memory_budget", u(s.memory_budget));
  field("cache_hits", u(s.cache_hits));
  field("cache_misses", u(s.cache_misses));
  field("cache_inserts", u(s.cache_inserts));
  field("cache_evictions", u(s.cache_evictions));
  field("cache_entries", u(s.cache_entries));
  field("cache_bytes", u(s.cache_bytes));
  field("cache_capacity", u(s.cache_capacity));
  return out + "}";
}

std::string StatsToPrometheus(const StoreStats& s) {
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help) {
    out += "# HELP zcmedia_" + std::string(name) + " " + help + "\n";
    out += "# TYPE zcmedia_" + std::string(name) + " " + type + "\n";
  };
  auto sample = [&](const char* name, const std::string& labels, const std::string& value) {
    out += "zcmedia_" + std::string(name) + labels + " " + value + "\n";
  };
  auto counter = [&](const char* name, const char* help, uint64_t value) {
    metric(name, "counter", help);
    sample(name, "", std::to_string(value));
  };
  auto gauge = [&](const char* name, const char* help, const std::string& value) {
    metric(name, "gauge", help);
    sample(name, "", value);
  };
  counter("records_stored_total", "Records stored (Put) since the store was opened.", s.records_stored);
  counter("records_updated_total", "Records updated since the store was opened.", s.records_updated);
  counter("records_removed_total", "Records removed since the store was opened.", s.records_removed);
  counter("bytes_appended_total", "Segment bytes committed since the store was opened.", s.bytes_appended);
  counter("batches_total", "Batches committed since the store was opened.", s.batches);
  counter("commits_total", "Meta pages committed since the store was opened.", s.commits);
  counter("checkpoints_total", "Index checkpoints installed since the store was opened.", s.checkpoints);
  counter("index_merges_total", "Background merges of index run files installed since the store was opened.",
          s.index_merges);
  counter("lookups_total", "Records and listings asked of snapshots since the store was opened.", s.lookups);
  metric("errors_total", "counter", "Failed calls since the store was opened, by status code.");
  for (int c = 1; c < kStatusCodeCount; ++c)
    sample("errors_total", "{code=\"" + std::string(CodeName(c)) + "\"}", std::to_string(s.errors[c]));
  gauge("records_per_second", "Records committed per second over the last interval.", Number(s.records_per_second));
  gauge("records", "Live records.", std::to_string(s.record_count));
  gauge("playlists", "Live playlists.", std::to_string(s.playlists));
  gauge("playlist_entries", "Live playlist entries.", std::to_string(s.playlist_entries));
  metric("files", "gauge", "Live records per mime family.");
  for (int f = 0; f < kMimeFamilies; ++f)
    sample("files", "{family=\"" + std::string(kFamilyNames[f]) + "\"}", std::to_string(s.files[f]));
  metric("file_bytes", "gauge", "Sum of the size column of live records per mime family.");
  for (int f = 0; f < kMimeFamilies; ++f)
    sample("file_bytes", "{family=\"" + std::string(kFamilyNames[f]) + "\"}", std::to_string(s.bytes[f]));
  gauge("dead_bytes", "Segment bytes a compaction would reclaim.", std::to_string(s.dead_bytes));
  gauge("segment_bytes", "Committed segment bytes.", std::to_string(s.segment_bytes));
  gauge("index_bytes", "Bytes of index run files.", std::to_string(s.index_bytes));
  gauge("index_runs", "Index run files.", std::to_string(s.index_runs));
  gauge("memtable_records", "Committed records not yet in index run files.", std::to_string(s.memtable_records));
  gauge("process_anon_bytes", "Anonymous memory of the process (RssAnon).", std::to_string(s.process_anon_bytes));
  gauge("memory_budget_bytes", "The store's heap budget (Options::memory_budget).", std::to_string(s.memory_budget));
  counter("cache_hits_total", "Lookups by path answered from the lookup cache.", s.cache_hits);
  counter("cache_misses_total", "Lookups by path the index answered (cache consulted).", s.cache_misses);
  counter("cache_inserts_total", "Record locations added to the lookup cache.", s.cache_inserts);
  counter("cache_evictions_total", "Record locations dropped from the lookup cache for room.", s.cache_evictions);
  gauge("cache_entries", "Record locations held by the lookup cache.", std::to_string(s.cache_entries));
  gauge("cache_bytes", "Heap bytes held by the lookup cache.", std::to_string(s.cache_bytes));
  gauge("cache_capacity_bytes", "Capacity of the lookup cache (from the memory budget).",
        std::to_string(s.cache_capacity));
  return out;
}

}  // namespace zcmedia

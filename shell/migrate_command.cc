#include "migrate_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "json_string.h"

namespace zcmedia::shell {
namespace {

using migrate::MigrateReport;
using migrate::Phase;
using migrate::Progress;

std::string Megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

// One status line on stderr, rewritten in place at most every 100 ms.
class ProgressLine {
 public:
  void Update(const Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (p.phase != phase_) {
      phase_ = p.phase;
      phase_start_ = now;
    } else if (now - last_ < std::chrono::milliseconds(100) && p.rows_done != p.rows_total) {
      return;
    }
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - phase_start_).count();
    char line[160];
    if (p.rows_total > 0) {
      const double rate = seconds > 0 ? static_cast<double>(p.rows_done) / seconds : 0;
      const double eta = rate > 0 ? static_cast<double>(p.rows_total - p.rows_done) / rate : 0;
      std::snprintf(line, sizeof line, "\r%-12s %llu/%llu rows  %.0f rows/s  ETA %.0f s\033[K",
                    migrate::PhaseName(p.phase), static_cast<unsigned long long>(p.rows_done),
                    static_cast<unsigned long long>(p.rows_total), rate, eta);
    } else {
      std::snprintf(line, sizeof line, "\r%-12s ...\033[K", migrate::PhaseName(p.phase));
    }
    std::fputs(line, stderr);
    std::fflush(stderr);
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::fputs("\r\033[K", stderr);
  }

 private:
  Phase phase_ = Phase::kFinish;
  std::chrono::steady_clock::time_point phase_start_{}, last_{};
  bool shown_ = false;
};

void PrintJson(const MigrateReport& r, const migrate::MigrateResult& result, bool dry_run) {
  std::string copied;
  for (const auto& t : r.copied_tables) {
    copied += (copied.empty() ? "" : ",") + JsonString(t.table) + ":" + std::to_string(t.rows);
  }
  std::string rejected;
  for (const auto& row : r.rejected) {
    rejected += std::string(rejected.empty() ? "" : ",") + "{\"table\":" + JsonString(row.table) +
                ",\"id\":" + std::to_string(row.id) + ",\"reason\":" + JsonString(row.reason) + "}";
  }
  std::string dropped;
  for (const auto& name : r.dropped_objects) dropped += (dropped.empty() ? "" : ",") + JsonString(name);
  std::string phases;
  for (const auto& [phase, seconds] : r.phase_seconds) {
    char entry[96];
    std::snprintf(entry, sizeof entry, "%s%s:%.3f", phases.empty() ? "" : ",", JsonString(phase).c_str(), seconds);
    phases += entry;
  }
  const double rate = r.seconds > 0 ? static_cast<double>(r.media_files) / r.seconds : 0;
  std::printf(
      "{\"phase_seconds\":{%s},\"ok\":%s,\"exit_code\":%d,\"error\":%s,\"dry_run\":%s,\"shape\":%s,\"schema_version\":%s,"
      "\"store\":%s,\"media_files\":%llu,\"playlists\":%llu,\"playlist_entries\":%llu,"
      "\"canonical_filled\":%llu,\"parent_filled\":%llu,\"copied_tables\":{%s},\"dropped\":[%s],"
      "\"rejected_total\":%llu,\"rejected\":[%s],\"verified\":%s,\"seconds\":%.3f,\"verify_seconds\":%.3f,"
      "\"rows_per_second\":%.0f,\"legacy_bytes\":%llu,\"output_bytes\":%llu,\"backup\":%s}\n",
      phases.c_str(), result.status.ok() ? "true" : "false", result.exit_code,
      result.status.ok() ? "null" : JsonString(result.status.message()).c_str(), dry_run ? "true" : "false",
      JsonString(r.shape).c_str(), JsonString(r.schema_version).c_str(), JsonString(r.store_path).c_str(),
      static_cast<unsigned long long>(r.media_files), static_cast<unsigned long long>(r.playlists),
      static_cast<unsigned long long>(r.playlist_entries), static_cast<unsigned long long>(r.canonical_filled),
      static_cast<unsigned long long>(r.parent_filled), copied.c_str(), dropped.c_str(),
      static_cast<unsigned long long>(r.rejected_total), rejected.c_str(), r.verified ? "true" : "false", r.seconds,
      r.verify_seconds, rate, static_cast<unsigned long long>(r.legacy_bytes),
      static_cast<unsigned long long>(r.output_bytes), JsonString(r.backup_path).c_str());
}

}  // namespace

int RunMigrate(MigrateCommandOptions options) {
  ProgressLine progress;
  const bool show_progress = !options.json && !options.quiet && ::isatty(STDERR_FILENO);
  if (show_progress) options.migrate.progress = [&](const Progress& p) { progress.Update(p); };
  MigrateReport report;
  migrate::MigrateResult result = migrate::Migrate(options.migrate, &report);
  if (show_progress) progress.Clear();
  if (options.json) PrintJson(report, result, options.migrate.dry_run);
  if (!result.status.ok()) {
    std::fprintf(stderr, "zcmedia migrate: error: %s\n", result.status.message().c_str());
    return result.exit_code;
  }
  if (options.json || options.quiet) return 0;
  const double rate = report.seconds > 0 ? static_cast<double>(report.media_files) / report.seconds : 0;
  std::printf("%s shape %s: %llu media files, %llu playlists, %llu playlist entries",
              options.migrate.dry_run ? "dry run, nothing written:" : "migrated",
              report.shape.c_str(), static_cast<unsigned long long>(report.media_files),
              static_cast<unsigned long long>(report.playlists),
              static_cast<unsigned long long>(report.playlist_entries));
  for (const auto& t : report.copied_tables) {
    std::printf(", %s %llu", t.table.c_str(), static_cast<unsigned long long>(t.rows));
  }
  if (report.rejected_total > 0) {
    std::printf(", %llu set aside", static_cast<unsigned long long>(report.rejected_total));
  }
  if (report.canonical_filled > 0) {
    std::printf(" (canonical columns filled for %llu rows)", static_cast<unsigned long long>(report.canonical_filled));
  }
  std::printf(" in %.2f s (%.0f rows/s%s); %s", report.seconds, rate,
              report.verified ? ", verified" : (options.migrate.dry_run ? "" : ", not verified"),
              Megabytes(report.legacy_bytes).c_str());
  if (!options.migrate.dry_run) {
    const std::string& output =
        options.migrate.in_place ? options.migrate.legacy_path : options.migrate.output_path;
    std::printf(" -> %s (%s and %s)", Megabytes(report.output_bytes).c_str(), output.c_str(),
                report.store_path.c_str());
    if (!report.backup_path.empty()) std::printf("; backup %s", report.backup_path.c_str());
  }
  std::printf("\n");
  for (const auto& row : report.rejected) {
    std::printf("  %s: %s id %lld: %s\n", options.migrate.set_aside ? "set aside" : "invalid", row.table.c_str(),
                static_cast<long long>(row.id), row.reason.c_str());
  }
  return 0;
}

}  // namespace zcmedia::shell

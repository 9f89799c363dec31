// `zcmedia bench txn`: N one-row Transaction::Write calls and one Commit
// (what the SQLite extension does for an INSERT of N rows in one SQLite
// transaction: xUpdate per row, xSync -> Prepare, xCommit -> Commit) beside
// Store::Write of the same records in batches of
// Store::recommended_batch_records(), each durable. Both sides generate
// their records inside the timed loop (the same generator, the same cost),
// each in its own child process (peak RssAnon watched from outside); the
// sides alternate which goes first.
#include <malloc.h>

#include <cstdio>

#include "bench_util.h"
#include "commands.h"
#include "generator.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {
namespace {

using Values = std::map<std::string, double>;

void TxnChild(const TxnBenchOptions& options, const std::string& dir, bool transaction, Values& out) {
  mallopt(M_ARENA_MAX, 1);  // one heap counted against the budget
  Options store_options;
  if (options.memory_budget) store_options.memory_budget = options.memory_budget;
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(dir, store_options, &store), "Store::Open('" + dir + "')");
  LibraryGenerator generator(options.seed, options.records);
  GeneratedRecord record;
  WriteBatch batch;
  Stopwatch clock;
  if (transaction) {
    std::unique_ptr<Transaction> txn;
    CheckOk(store->BeginTransaction(&txn), "Store::BeginTransaction");
    while (generator.Next(&record)) {
      batch.Put(record.fields());
      CheckOk(txn->Write(batch), "Transaction::Write");
    }
    out["write_s"] = clock.Seconds();
    uint64_t sequence = 0;
    Stopwatch commit_clock;
    CheckOk(txn->Prepare(&sequence), "Transaction::Prepare");
    out["prepare_s"] = commit_clock.Seconds();
    CheckOk(txn->Commit(), "Transaction::Commit");
    out["commit_s"] = commit_clock.Seconds();
  } else {
    const size_t per_batch = store->recommended_batch_records();
    out["batch_records"] = double(per_batch);
    while (generator.Next(&record)) {
      batch.Put(record.fields());
      if (batch.size() == per_batch) CheckOk(store->Write(batch), "Store::Write");
    }
    CheckOk(store->Write(batch), "Store::Write");
  }
  out["total_s"] = clock.Seconds();
  const uint64_t stored = store->GetSnapshot()->record_count();
  if (stored != options.records)
    throw BenchError("the store holds " + std::to_string(stored) + " records, expected " +
                     std::to_string(options.records));
  out["end_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
}

struct Side {
  std::vector<double> rates;  // records per second, whole run (writes and commit)
  std::vector<double> peak_anon_kib;
  Values last;
};

}  // namespace

int RunTxnBench(const TxnBenchOptions& options) {
  if (options.records == 0) throw BenchError("--records must be at least 1");
  if (options.runs < 1) throw BenchError("--runs must be at least 1");
  std::printf("bench txn: %s records (seed %llu), %d run%s: one transaction of one-row writes vs Store::Write batches\n",
              FormatThousands(options.records).c_str(), static_cast<unsigned long long>(options.seed), options.runs,
              options.runs == 1 ? "" : "s");
  std::fflush(stdout);
  Side txn_side, batch_side;
  for (int run = 0; run < options.runs; ++run) {
    for (int turn = 0; turn < 2; ++turn) {
      const bool txn_turn = (turn == 0) == (run % 2 == 0);
      TempDir dir(options.dir, "zcmedia-txn-");
      SyncFilesystems();
      ChildReport report =
          RunInChild([&](Values& out) { TxnChild(options, dir.path() + "/store", txn_turn, out); });
      if (!report.error.empty())
        throw BenchError(std::string(txn_turn ? "transaction" : "batch") + " run failed: " + report.error);
      Side& side = txn_turn ? txn_side : batch_side;
      const double rate = double(options.records) / report.at("total_s");
      side.rates.push_back(rate);
      side.peak_anon_kib.push_back(double(report.peak_anon_kib));
      side.last = report.values;
      if (txn_turn) {
        std::printf("  run %d/%d transaction: %8s rec/s  %.3f s (writes %.3f s, prepare %.3f s, commit %.3f s), peak anon %s KiB\n",
                    run + 1, options.runs, FormatSi(rate).c_str(), report.at("total_s"), report.at("write_s"),
                    report.at("prepare_s"), report.at("commit_s"),
                    FormatThousands(uint64_t(report.peak_anon_kib)).c_str());
      } else {
        std::printf("  run %d/%d Store::Write: %8s rec/s  %.3f s (batches of %s), peak anon %s KiB\n", run + 1,
                    options.runs, FormatSi(rate).c_str(), report.at("total_s"),
                    FormatThousands(uint64_t(report.at("batch_records"))).c_str(),
                    FormatThousands(uint64_t(report.peak_anon_kib)).c_str());
      }
      std::fflush(stdout);
    }
  }
  const Summary txn_rate = Summarize(txn_side.rates), batch_rate = Summarize(batch_side.rates);
  const Summary txn_peak = Summarize(txn_side.peak_anon_kib), batch_peak = Summarize(batch_side.peak_anon_kib);
  std::printf("transaction (one-row writes): %s rec/s, peak anon %s KiB\n", FormatSummary(txn_rate).c_str(),
              FormatThousands(uint64_t(txn_peak.median)).c_str());
  std::printf("Store::Write batches        : %s rec/s, peak anon %s KiB\n", FormatSummary(batch_rate).c_str(),
              FormatThousands(uint64_t(batch_peak.median)).c_str());
  std::printf("ratio (transaction / batches): %.2f\n", txn_rate.median / batch_rate.median);
  if (options.json) {
    JsonLine json;
    json.Add("bench", "txn")
        .Add("records", double(options.records))
        .Add("runs", double(options.runs))
        .Add("txn_records_per_s", txn_rate.median)
        .Add("batch_records_per_s", batch_rate.median)
        .Add("ratio", txn_rate.median / batch_rate.median)
        .Add("txn_peak_anon_kib", txn_peak.median)
        .Add("batch_peak_anon_kib", batch_peak.median);
    std::printf("%s\n", json.ToString().c_str());
  }
  return 0;
}

}  // namespace zcmedia::bench

// Store statistics: exact counters, maintained totals, and both exports.
#include "zcmedia/stats.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using test::OwnedRecord;
using test::TempDir;

std::unique_ptr<Store> OpenStore(const std::string& dir) {
  Options o;
  o.use_environment = false;
  std::unique_ptr<Store> store;
  EXPECT_TRUE(Store::Open(dir, o, &store).ok());
  return store;
}

TEST(StatsTest, CountersFollowWritesLookupsAndErrors) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const uint64_t segment_bytes_at_open = store->GetStats().segment_bytes;
  std::vector<int64_t> ids;
  {
    WriteBatch b;
    for (int i = 0; i < 10; ++i) b.Put(OwnedRecord::Sample(i).fields());
    ASSERT_TRUE(store->Write(b, &ids).ok());
  }
  {
    WriteBatch b;
    for (int i = 0; i < 3; ++i) b.Update(ids[i], OwnedRecord::Sample(100 + i).fields());
    b.Remove(ids[8]);
    b.Remove(ids[9]);
    ASSERT_TRUE(store->Write(b).ok());
  }
  {
    WriteBatch playlists;  // counted in playlists / playlist_entries, not in records_*
    playlists.PutPlaylist({0, "Favourites", std::nullopt, 1, 1});
    playlists.PutPlaylistEntry({0, 1, ids[0], 0, 1});
    playlists.PutPlaylistEntry({0, 1, ids[1], 1, 1});
    ASSERT_TRUE(store->Write(playlists).ok());
  }
  {
    WriteBatch dup;  // a path that exists: refused, counted as a constraint error
    OwnedRecord r = OwnedRecord::Sample(5);
    dup.Put(r.fields());
    EXPECT_TRUE(store->Write(dup).IsConstraint());
  }
  auto snap = store->GetSnapshot();
  MediaFileView v;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(snap->Get(ids[i], &v).ok());
  EXPECT_TRUE(snap->Get(999999, &v).IsNotFound());  // an answer, not an error
  std::vector<std::string_view> paths = {"/nope/a", "/nope/b", "/nope/c"};
  std::vector<MediaFileView> found;
  ASSERT_TRUE(snap->FindManyByPath(paths, &found).ok());
  ASSERT_TRUE(snap->ListDirectory("/nope", &found).ok());

  const StoreStats s = store->GetStats();
  EXPECT_EQ(s.records_stored, 10u);
  EXPECT_EQ(s.records_updated, 3u);
  EXPECT_EQ(s.records_removed, 2u);
  EXPECT_EQ(s.batches, 3u);
  EXPECT_GE(s.commits, 2u);
  EXPECT_EQ(s.bytes_appended, s.segment_bytes - segment_bytes_at_open);
  EXPECT_EQ(s.lookups, 5u + 1u + 3u + 1u);
  EXPECT_EQ(s.errors[static_cast<int>(Status::Code::kConstraint)], 1u);
  EXPECT_EQ(s.errors[static_cast<int>(Status::Code::kNotFound)], 0u);
  EXPECT_EQ(s.record_count, 8u);
  EXPECT_EQ(s.playlists, 1u);
  EXPECT_EQ(s.playlist_entries, 2u);
  uint64_t files = 0;
  for (int f = 0; f < kMimeFamilies; ++f) files += s.files[f];
  EXPECT_EQ(files, 8u);
  EXPECT_EQ(s.files[static_cast<int>(MimeFamily::kAudio)], 8u);  // samples are audio
  EXPECT_GT(s.bytes[static_cast<int>(MimeFamily::kAudio)], 0);
  EXPECT_GT(s.dead_bytes, 0u);
  EXPECT_EQ(s.memory_budget, Options{}.memory_budget);
}

TEST(StatsTest, LookupsFromManyThreadsAreAllCounted) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<int64_t> ids;
  WriteBatch b;
  b.Put(OwnedRecord::Sample(1).fields());
  ASSERT_TRUE(store->Write(b, &ids).ok());
  const uint64_t before = store->GetStats().lookups;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      auto snap = store->GetSnapshot();
      MediaFileView v;
      for (int i = 0; i < 1000; ++i) EXPECT_TRUE(snap->Get(ids[0], &v).ok());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(store->GetStats().lookups - before, 4000u);
}

TEST(StatsTest, RateCoversTheIntervalSinceThePreviousCall) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  store->GetStats();  // starts an interval
  WriteBatch b;
  for (int i = 0; i < 50; ++i) b.Put(OwnedRecord::Sample(i).fields());
  ASSERT_TRUE(store->Write(b).ok());
  const StoreStats first = store->GetStats();
  EXPECT_GT(first.interval_seconds, 0);
  EXPECT_GT(first.records_per_second, 0);
  EXPECT_NEAR(first.records_per_second * first.interval_seconds, 50, 1e-6);
  const StoreStats second = store->GetStats();  // nothing committed since
  EXPECT_EQ(second.records_per_second, 0);
}

TEST(StatsTest, JsonAndPrometheusExports) {
  StoreStats s;
  s.records_stored = 12;
  s.files[static_cast<int>(MimeFamily::kVideo)] = 3;
  s.bytes[static_cast<int>(MimeFamily::kVideo)] = 4096;
  s.errors[static_cast<int>(Status::Code::kIOError)] = 2;
  s.records_per_second = 1.5e6;
  s.cache_hits = 77;
  s.cache_capacity = 393216;

  const std::string json = StatsToJson(s);
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
  EXPECT_NE(json.find("\"records_stored\": 12"), std::string::npos) << json;
  EXPECT_NE(json.find("\"files\": {\"audio\": 0, \"video\": 3, \"image\": 0, \"other\": 0}"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"io_error\": 2"), std::string::npos) << json;
  EXPECT_NE(json.find("\"records_per_second\": 1.5e+06"), std::string::npos) << json;
  EXPECT_NE(json.find("\"cache_hits\": 77"), std::string::npos) << json;
  EXPECT_NE(json.find("\"cache_capacity\": 393216"), std::string::npos) << json;
  int depth = 0;
  for (char c : json) {
    depth += c == '{' ? 1 : c == '}' ? -1 : 0;
    ASSERT_GE(depth, 0);
  }
  EXPECT_EQ(depth, 0);

  const std::string prom = StatsToPrometheus(s);
  EXPECT_NE(prom.find("# TYPE zcmedia_records_stored_total counter\nzcmedia_records_stored_total 12\n"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("zcmedia_files{family=\"video\"} 3\n"), std::string::npos);
  EXPECT_NE(prom.find("zcmedia_file_bytes{family=\"video\"} 4096\n"), std::string::npos);
  EXPECT_NE(prom.find("zcmedia_errors_total{code=\"io_error\"} 2\n"), std::string::npos);
  EXPECT_NE(prom.find("# TYPE zcmedia_cache_hits_total counter\nzcmedia_cache_hits_total 77\n"), std::string::npos);
  EXPECT_NE(prom.find("zcmedia_cache_capacity_bytes 393216\n"), std::string::npos);
  // Every line is a HELP or TYPE comment or a well-formed sample, and every
  // sampled metric was declared first.
  const std::regex sample(R"(^(zcmedia_[a-z_]+)(\{[a-z]+="[a-z_]+"\})? -?[0-9][0-9.e+]*$)");
  const std::regex type(R"(^# TYPE (zcmedia_[a-z_]+) (counter|gauge)$)");
  std::set<std::string> declared;
  std::istringstream lines(prom);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, type)) {
      declared.insert(m[1]);
    } else if (line.rfind("# HELP zcmedia_", 0) == 0) {
      continue;
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample)) << "bad line: " << line;
      EXPECT_TRUE(declared.count(m[1])) << "undeclared metric: " << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 20);
}

}  // namespace
}  // namespace zcmedia

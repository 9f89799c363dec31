// The extension's writer and the store's lock (vtab/shared_store.h): held
// while a write transaction is open and for ZCMEDIA_WRITER_IDLE after the
// last one ended, then released with the connection still open, so that
// another process can write (here a second Store::Open in this process,
// which the store's flock lock refuses just as it refuses another process);
// the next SQL write opens the writer again.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "../store/test_util.h"
#include "sql_test_util.h"
#include "zcmedia/store.h"

namespace zcmedia::test {
namespace {

using namespace std::chrono_literals;

std::string InsertRow(int n) {
  const std::string name = "f" + std::to_string(n) + ".mp3";
  return "INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, updated_at) "
         "VALUES ('/m/" + name + "', '/m', '" + name + "', 1, 1, 'audio/mpeg', 1, 1)";
}

// Opens the store as a second writer without waiting: OK when its lock is free.
Status TryWriter(const std::string& store_dir, std::unique_ptr<Store>* store) {
  Options options;
  options.use_environment = false;
  options.create_if_missing = false;
  options.lock_timeout = 0ms;
  return Store::Open(store_dir, options, store);
}

// Polls TryWriter for up to 10 s (a loaded machine schedules the closer late).
Status WaitForWriter(const std::string& store_dir, std::unique_ptr<Store>* store) {
  Status s;
  for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
    s = TryWriter(store_dir, store);
    if (s.ok()) return s;
    std::this_thread::sleep_for(10ms);
  }
  return s;
}

class WriterReleaseTest : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("ZCMEDIA_WRITER_IDLE");
    unsetenv("ZCMEDIA_LOCK_TIMEOUT");
  }
  TempDir dir_;
};

TEST_F(WriterReleaseTest, HeldWhileWritingAndForTheIdleTime) {
  setenv("ZCMEDIA_WRITER_IDLE", "10m", 1);
  SqlDb db(dir_.path() + "/vt.db");
  db.Exec(VirtualSchema("store", {"media_files"}));
  db.Exec(InsertRow(1));
  std::unique_ptr<Store> other;
  Status s = TryWriter(dir_.path() + "/store", &other);
  EXPECT_TRUE(s.IsBusy()) << "the writer was released before its idle time: " << s.ToString();
}

TEST_F(WriterReleaseTest, ReleasedOnceIdleAndReopenedByTheNextWrite) {
  setenv("ZCMEDIA_WRITER_IDLE", "0", 1);
  setenv("ZCMEDIA_LOCK_TIMEOUT", "0", 1);
  const std::string store_dir = dir_.path() + "/store";
  SqlDb db(dir_.path() + "/vt.db");
  db.Exec(VirtualSchema("store", {"media_files"}));

  // An open transaction keeps the writer, however long it lasts.
  db.Exec("BEGIN");
  db.Exec(InsertRow(1));
  std::this_thread::sleep_for(100ms);
  std::unique_ptr<Store> other;
  Status s = TryWriter(store_dir, &other);
  EXPECT_TRUE(s.IsBusy()) << "released inside a transaction: " << s.ToString();
  db.Exec("COMMIT");

  // Idle: released with the connection still open.
  s = WaitForWriter(store_dir, &other);
  ASSERT_TRUE(s.ok()) << "the writer was never released: " << s.ToString();
  // While another writer holds the store, SQL writes are refused as SQLite
  // refuses a locked database, and reads go on.
  SqlResult refused = db.Run(InsertRow(2));
  EXPECT_EQ(refused.rc & 0xff, SQLITE_BUSY) << refused.error;
  EXPECT_EQ(db.Int("SELECT count(*) FROM media_files"), 1);
  other.reset();

  // The next write opens the writer again.
  db.Exec(InsertRow(2));
  EXPECT_EQ(db.Int("SELECT count(*) FROM media_files"), 2);
  s = WaitForWriter(store_dir, &other);
  ASSERT_TRUE(s.ok()) << s.ToString();
  MediaFileView v;
  EXPECT_TRUE(other->GetSnapshot()->FindByPath("/m/f2.mp3", &v).ok());
}

TEST_F(WriterReleaseTest, MalformedIdleTimeIsRefusedByName) {
  // Not a duration, and one over the 24 hours accepted (1500 minutes).
  for (const char* value : {"soon", "1500m"}) {
    setenv("ZCMEDIA_WRITER_IDLE", value, 1);
    TempDir dir;
    SqlDb db(dir.path() + "/vt.db");
    SqlResult r = db.Run(VirtualSchema("store", {"media_files"}));
    EXPECT_NE(r.rc, SQLITE_OK) << value;
    EXPECT_NE(r.error.find("ZCMEDIA_WRITER_IDLE"), std::string::npos) << value << ": " << r.error;
  }
}

}  // namespace
}  // namespace zcmedia::test

// OutputFiles: how a migration's output appears atomically (docs/migration.md,
// "Atomic output").
//
// Everything is written into a staging directory next to NEW.db, without
// syncs (a crash throws the staging directory away, so nothing in it needs
// to survive one until it is complete),
// `.NEW.db.migrating/`, holding `NEW.db` and the store directory under their
// final names (so the virtual tables' relative store='...' argument means
// the same in staging and in place, and verification reads the staged
// files through the extension). Publish() then:
//   0. syncs every file and directory of the staging directory;
//   1. writes the marker `.NEW.db.replacing` (durably);
//   2. removes an existing NEW.db (and its sidecars) and store (--force only);
//   3. renames the store, then NEW.db, into place; syncs the directory;
//   4. removes the marker and the staging directory.
// A crash before 1 leaves the old state plus a staging directory; a crash
// between 1 and 4 leaves the marker. The next run removes the staging
// directory, and under a marker whatever NEW.db and store it finds (a
// partial replacement), before doing anything else: NEW.db is never seen
// half-written or beside a store of another migration.
//
// A lock file `.NEW.db.migrate-lock` (flock) keeps two migrations from
// writing the same output at once.
#pragma once

#include <memory>
#include <string>

#include "zcmedia/status.h"

namespace zcmedia::migrate {

// fsync of one file or directory (`path`). IOError naming it.
Status SyncPath(const std::string& path);

class OutputFiles {
 public:
  // Takes the lock, cleans up after an interrupted run, and checks that the
  // output may be written: its directory exists and is writable, and NEW.db
  // and the store do not exist (unless `force`). Every error here is about
  // the output (InvalidArgument, Busy for a running migration, IOError).
  static Status Prepare(const std::string& output_path, bool force, std::unique_ptr<OutputFiles>* out);

  ~OutputFiles();  // removes the staging directory unless published; unlocks

  const std::string& final_db() const { return final_db_; }
  const std::string& final_store() const { return final_store_; }
  std::string staging_db() const { return staging_ + "/" + db_name_; }
  std::string staging_store() const { return staging_ + "/" + store_name_; }
  // The store's name relative to NEW.db's directory (the virtual tables' store='...').
  const std::string& store_name() const { return store_name_; }

  // Asks the kernel to start writing the staged files back now, without
  // waiting (sync_file_range), so that Publish's syncs find little left to
  // write. Best effort.
  void StartWriteback() const;

  Status Publish();

 private:
  OutputFiles() = default;
  Status RemoveFinal();

  std::string dir_, db_name_, store_name_;
  std::string final_db_, final_store_, staging_, marker_, lock_path_;
  int lock_fd_ = -1;
  bool published_ = false;
};

}  // namespace zcmedia::migrate

// `zcmedia migrate LEGACY.db NEW.db`: the migrator (zcmedia/migrate.h) with
// progress on a terminal, a one-line summary, --json and the documented
// exit codes (docs/migration.md).
#pragma once

#include "zcmedia/migrate.h"

namespace zcmedia::shell {

struct MigrateCommandOptions {
  migrate::MigrateOptions migrate;
  bool json = false;   // one JSON object on stdout, no progress
  bool quiet = false;  // no progress, no summary (errors still on stderr)
};

// Returns the process exit status (migrate::ExitCode).
int RunMigrate(MigrateCommandOptions options);

}  // namespace zcmedia::shell

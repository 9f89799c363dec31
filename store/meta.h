// The META file: two checksummed 4 KiB pages written alternately. The valid
// page with the larger sequence is the committed state; writing page
// (sequence % 2) and syncing it is the commit point (docs/format.md, "Meta").
#pragma once

#include <memory>
#include <string>

#include "format.h"
#include "zcmedia/env.h"
#include "zcmedia/status.h"

namespace zcmedia {

// Seals `page` (checksum) and writes it to its slot, then syncs.
Status WriteMetaPage(File* file, format::MetaPage* page);

// Reads both pages and returns the newest valid one. Corruption when neither
// page is valid (naming the file and what failed), IOError on read errors.
// `*other_page_invalid` tells whether one page was damaged (for check).
Status ReadNewestMetaPage(File* file, format::MetaPage* page, bool* other_page_invalid = nullptr);

// Creates META with sequence 0 describing one empty segment (number 1):
// written to META.tmp, synced, renamed, directory synced.
Status CreateMetaFile(Env* env, const std::string& dir, const format::MetaPage& initial);

}  // namespace zcmedia

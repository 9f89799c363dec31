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

// Seals `page` (checksum) and writes it to its slot, then syncs (unless
// `sync` is false: Options::sync off, where commits are atomic against a
// process crash but not durable).
Status WriteMetaPage(File* file, format::MetaPage* page, bool sync = true);

// Reads both pages and returns the newest valid one. Corruption when neither
// page is valid (naming the file and what failed), IOError on read errors.
// `*other_page_invalid` tells whether one page was damaged (for check).
Status ReadNewestMetaPage(File* file, format::MetaPage* page, bool* other_page_invalid = nullptr);

// Creates META with sequence 0 describing one empty segment (number 1):
// written to META.tmp, synced, renamed, directory synced.
Status CreateMetaFile(Env* env, const std::string& dir, const format::MetaPage& initial);

// Whether `meta` lists segment `number` / run file (kind, number).
bool MetaNamesSegment(const format::MetaPage& meta, uint32_t number);
bool MetaNamesRun(const format::MetaPage& meta, uint32_t kind, uint32_t number);

// DIR/PREPARED (docs/format.md, "Transactions (two-phase commit)"): one
// meta page, sealed as META's are, at offset 0. Written to PREPARED.tmp,
// synced, renamed, directory synced.
Status WritePreparedFile(Env* env, const std::string& dir, format::MetaPage* page);
// *present: whether DIR/PREPARED exists. *why: "" when it holds a valid
// page (then in *page), else what is wrong with it. IOError on read errors.
Status ReadPreparedFile(Env* env, const std::string& dir, format::MetaPage* page, bool* present, std::string* why);

}  // namespace zcmedia

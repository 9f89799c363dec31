#include "meta.h"

#include <cstring>

#include "checksum.h"

namespace zcmedia {

using namespace format;

namespace {

uint64_t PageChecksum(const MetaPage& p) { return Checksum64(&p, offsetof(MetaPage, checksum)); }

// Why a page is not usable, or "" when it is.
std::string Validate(const MetaPage& p) {
  if (p.magic != kMetaMagic) return "bad magic";
  if (PageChecksum(p) != p.checksum) return "checksum mismatch";
  if (p.format_version != kFormatVersion)
    return "unsupported format version " + std::to_string(p.format_version) + " (this build reads version " +
           std::to_string(kFormatVersion) + ")";
  if (p.page_size != kMetaPageSize) return "unexpected page size";
  if (p.segment_count == 0 || p.segment_count > kMaxSegments) return "bad segment count";
  for (uint32_t k = 0; k < kRunKinds; ++k)
    if (p.run_count[k] > kMaxRunsPerKind) return "bad run count";
  if (p.next_id < 1 || p.next_playlist_id < 1 || p.next_entry_id < 1) return "bad next id";
  bool checkpoint_segment_listed = false;
  for (uint32_t i = 0; i < p.segment_count; ++i) {
    if (p.segments[i].committed_length < kSegmentHeaderSize) return "segment shorter than its header";
    if (i > 0 && p.segments[i].number <= p.segments[i - 1].number) return "segments out of order";
    if (p.segments[i].number == p.checkpoint_segment) {
      checkpoint_segment_listed = true;
      if (p.checkpoint_offset > p.segments[i].committed_length || p.checkpoint_offset < kSegmentHeaderSize)
        return "checkpoint past the committed length";
    }
  }
  if (!checkpoint_segment_listed) return "checkpoint names an unknown segment";
  return "";
}

}  // namespace

namespace {
void Seal(MetaPage* page) {
  page->magic = kMetaMagic;
  page->format_version = kFormatVersion;
  page->page_size = kMetaPageSize;
  page->checksum = PageChecksum(*page);
}
}  // namespace

Status WriteMetaPage(File* file, MetaPage* page, bool sync) {
  Seal(page);
  ZC_RETURN_IF_ERROR(file->PWrite((page->sequence % 2) * kMetaPageSize, page, sizeof(*page)));
  return sync ? file->Sync() : Status::OK();
}

Status ReadNewestMetaPage(File* file, MetaPage* page, bool* other_page_invalid) {
  MetaPage pages[2];
  std::string why[2];
  for (int i = 0; i < 2; ++i) {
    size_t got = 0;
    ZC_RETURN_IF_ERROR(file->PRead(uint64_t(i) * kMetaPageSize, &pages[i], sizeof(MetaPage), &got));
    why[i] = got == sizeof(MetaPage) ? Validate(pages[i]) : "truncated";
    if (why[i].empty() && pages[i].sequence % 2 != static_cast<uint64_t>(i)) why[i] = "page in the wrong slot";
  }
  const bool ok0 = why[0].empty(), ok1 = why[1].empty();
  // A sound page of another format version is not damage: say which
  // version wrote the store and what to do, and touch nothing.
  for (int i = 0; i < 2 && !ok0 && !ok1; ++i) {
    const MetaPage& p = pages[i];
    if (p.magic == kMetaMagic && PageChecksum(p) == p.checksum && p.format_version != kFormatVersion)
      return Status::InvalidArgument(
          file->path() + ": the store is in format version " + std::to_string(p.format_version) +
          " and this zcmedia reads version " + std::to_string(kFormatVersion) +
          "; the store was left as it is: open it with the zcmedia that wrote it, or build it again from its "
          "sources (`zcmedia migrate` from the legacy database, `zcmedia scan` of the folders)");
  }
  if (!ok0 && !ok1)
    return Status::Corruption(file->path() + ": both meta pages are unusable (page 0 at offset 0: " + why[0] +
                              "; page 1 at offset 4096: " + why[1] +
                              "); the store cannot be opened: restore it from a backup");
  int pick = ok0 && ok1 ? (pages[1].sequence > pages[0].sequence ? 1 : 0) : (ok0 ? 0 : 1);
  std::memcpy(page, &pages[pick], sizeof(MetaPage));
  if (other_page_invalid) *other_page_invalid = !(ok0 && ok1);
  return Status::OK();
}

bool MetaNamesSegment(const MetaPage& meta, uint32_t number) {
  for (uint32_t i = 0; i < meta.segment_count && i < kMaxSegments; ++i)
    if (meta.segments[i].number == number) return true;
  return false;
}

bool MetaNamesRun(const MetaPage& meta, uint32_t kind, uint32_t number) {
  if (kind >= kRunKinds) return false;
  for (uint32_t i = 0; i < meta.run_count[kind] && i < kMaxRunsPerKind; ++i)
    if (meta.runs[kind][i] == number) return true;
  return false;
}

Status WritePreparedFile(Env* env, const std::string& dir, MetaPage* page) {
  const std::string path = dir + "/" + kPreparedFile;
  const std::string tmp = path + ".tmp";
  Seal(page);
  std::unique_ptr<File> file;
  ZC_RETURN_IF_ERROR(env->OpenFile(tmp, Env::OpenMode::kCreate, &file));
  ZC_RETURN_IF_ERROR(file->Truncate(0));
  ZC_RETURN_IF_ERROR(file->PWrite(0, page, sizeof(*page)));
  ZC_RETURN_IF_ERROR(file->Sync());
  file.reset();
  ZC_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  return env->SyncDir(dir);
}

Status ReadPreparedFile(Env* env, const std::string& dir, MetaPage* page, bool* present, std::string* why) {
  const std::string path = dir + "/" + kPreparedFile;
  ZC_RETURN_IF_ERROR(env->FileExists(path, present));
  why->clear();
  if (!*present) return Status::OK();
  std::unique_ptr<File> file;
  ZC_RETURN_IF_ERROR(env->OpenFile(path, Env::OpenMode::kReadOnly, &file));
  size_t got = 0;
  ZC_RETURN_IF_ERROR(file->PRead(0, page, sizeof(MetaPage), &got));
  *why = got == sizeof(MetaPage) ? Validate(*page) : "truncated";
  return Status::OK();
}

Status CreateMetaFile(Env* env, const std::string& dir, const MetaPage& initial) {
  const std::string path = dir + "/" + kMetaFile;
  const std::string tmp = path + ".tmp";
  std::unique_ptr<File> file;
  ZC_RETURN_IF_ERROR(env->OpenFile(tmp, Env::OpenMode::kCreate, &file));
  ZC_RETURN_IF_ERROR(file->Truncate(0));
  // Both slots hold the initial state (sequences 0 and 1 say the same).
  MetaPage page = initial;
  page.sequence = 0;
  ZC_RETURN_IF_ERROR(WriteMetaPage(file.get(), &page));
  page.sequence = 1;
  ZC_RETURN_IF_ERROR(WriteMetaPage(file.get(), &page));
  file.reset();
  ZC_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  return env->SyncDir(dir);
}

}  // namespace zcmedia

// On-disk layout constants and fixed-size headers. docs/format.md is the
// specification; this file is its mirror in code. All integers little-endian
// (the store refuses to build on big-endian hosts).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "zcmedia's file format is little-endian");

namespace zcmedia::format {

// 128-bit products for range reduction (GCC/Clang extension; pedantic-clean).
__extension__ typedef unsigned __int128 uint128;

constexpr uint32_t kFormatVersion = 6;  // 2: the category index; 3: playlists; 4: the directory tree;
                                        // 5: the noncanonical_files total; 6: MediaFile field ids by frequency

// ---- File names -----------------------------------------------------------
constexpr const char* kMetaFile = "META";
constexpr const char* kLockFile = "LOCK";
// A prepared transaction's would-be meta page (docs/format.md, "Transactions").
constexpr const char* kPreparedFile = "PREPARED";
std::string SegmentFileName(uint32_t number);              // seg-000001.zcs
std::string RunFileName(uint32_t kind, uint32_t number);   // idx-path-000001.zcr
bool ParseSegmentFileName(const std::string& name, uint32_t* number);
bool ParseRunFileName(const std::string& name, uint32_t* kind, uint32_t* number);

// ---- Segments -------------------------------------------------------------
constexpr uint64_t kSegmentMagic = 0x3130474553435a5aULL;  // "ZZCSEG01"
constexpr uint32_t kSegmentHeaderSize = 64;

struct SegmentHeader {         // at offset 0 of every segment file
  uint64_t magic;
  uint32_t format_version;
  uint32_t segment_number;
  uint8_t reserved[40];
  uint64_t checksum;           // XXH3_64 of the 56 bytes before it
};
static_assert(sizeof(SegmentHeader) == kSegmentHeaderSize);

constexpr uint32_t kBatchMagic = 0x3142435aU;  // "ZCB1"
struct BatchHeader {           // 8-aligned; the body follows immediately
  uint32_t magic;
  uint16_t format_version;
  uint16_t flags;              // 0
  uint64_t sequence;           // commit sequence of this batch
  uint32_t entry_count;
  uint32_t reserved;
  uint64_t body_length;        // bytes of entries that follow, multiple of 8
  uint64_t body_checksum;      // XXH3_64 of the body
  uint64_t header_checksum;    // XXH3_64 of the 40 bytes before it
};
static_assert(sizeof(BatchHeader) == 48);

enum class EntryKind : uint8_t {
  kPutMedia = 1,      // payload: MediaFile (insert or new version)
  kRemoveMedia = 2,   // no payload: tombstone for `id`
  kPutPlaylist = 3,   // payload: Playlist (insert or new version)
  kRemovePlaylist = 4,       // no payload; removes the playlist's entries too
  kPutPlaylistEntry = 5,     // payload: PlaylistEntry
  kRemovePlaylistEntry = 6,  // no payload
  kPutDirectory = 7,         // payload: Directory (a directory's path, written once); id 0
};
// Removing a media file (kRemoveMedia) also removes every playlist entry
// that names it, and kRemovePlaylist every entry of the playlist: the
// cascades are implied by the log, not written as entries of their own, so
// that replay derives them exactly as the writer did.
inline bool HasPayload(EntryKind kind) {
  return kind == EntryKind::kPutMedia || kind == EntryKind::kPutPlaylist || kind == EntryKind::kPutPlaylistEntry ||
         kind == EntryKind::kPutDirectory;
}

struct EntryHeader {           // 8-aligned, followed by payload and padding
  int64_t id;
  uint32_t length_and_kind;    // payload length (low 24 bits) | kind << 24
  uint32_t checksum;           // low 32 bits of XXH3_64(id, length_and_kind, payload)
  uint32_t payload_length() const { return length_and_kind & 0xFFFFFFu; }
  EntryKind kind() const { return static_cast<EntryKind>(length_and_kind >> 24); }
};
static_assert(sizeof(EntryHeader) == 16);
constexpr uint32_t kMaxPayload = (1u << 24) - 1;

constexpr uint64_t Align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

// A record location: segment number (23 bits; bit 63 stays clear for the
// index tombstone flag) and byte offset of its EntryHeader in that segment
// (40 bits).
constexpr uint64_t MakeLocation(uint32_t segment, uint64_t offset) {
  return (uint64_t{segment} << 40) | offset;
}
constexpr uint32_t LocationSegment(uint64_t loc) { return static_cast<uint32_t>(loc >> 40); }
constexpr uint64_t LocationOffset(uint64_t loc) { return loc & ((uint64_t{1} << 40) - 1); }
constexpr uint32_t kMaxSegmentNumber = (1u << 23) - 1;

// ---- Index runs -------------------------------------------------------------
// Six indexes, each a list of immutable sorted runs (docs/format.md).
enum RunKind : uint32_t {
  kIdIndex = 0,        // key = id,              value = location | kTombstone
  kPathIndex = 1,      // key = hash(path),      value = location | kTombstone
  kDirIndex = 2,       // key = hash(parent),    value = location | kTombstone
  kCategoryIndex = 3,  // key = CategoryKey(..), value = location | kTombstone
  kPlaylistIndex = 4,  // key = PlaylistKey(..), value = location | kTombstone
  kTreeIndex = 5,      // key = TreeKey(..), value per key space (below)
  kRunKinds = 6,
};
const char* RunKindName(uint32_t kind);
constexpr uint64_t kTombstone = uint64_t{1} << 63;

// The directory tree index (docs/format.md, "Directory tree"): the key's top
// four bits name a space, the rest are the top 60 bits of PathHash(dir).
enum class TreeSpace : uint8_t {
  kAudioFiles = 1,  // spaces 1..4: files of that mime family at any depth
  kVideoFiles = 2,  //   below the directory; value = the count (single-
  kImageFiles = 3,  //   valued: the newest entry wins; a tombstone is 0)
  kOtherFiles = 4,
  kChild = 5,       // key: the parent; value: the child's 60-bit hash (one per child)
  kName = 6,        // value: location of the Directory record naming it
};
constexpr int kTreeSpaceShift = 60;
// `h60`: the directory's 60-bit hash, PathHash(path) >> 4.
inline uint64_t TreeKey60(TreeSpace space, uint64_t h60) {
  return (uint64_t{static_cast<uint8_t>(space)} << kTreeSpaceShift) | (h60 & ((uint64_t{1} << kTreeSpaceShift) - 1));
}
inline uint64_t TreeKey(TreeSpace space, uint64_t path_hash) { return TreeKey60(space, path_hash >> 4); }
inline bool IsCountKey(uint64_t key) {
  const uint64_t space = key >> kTreeSpaceShift;
  return space >= 1 && space <= 4;
}

constexpr uint64_t kRunMagic = 0x31304e5552435a5aULL;  // "ZZCRUN01"
struct RunHeader {
  uint64_t magic;
  uint32_t format_version;
  uint32_t kind;
  uint64_t entry_count;
  uint64_t min_key;
  uint64_t max_key;
  uint64_t body_checksum;      // XXH3_64 of the block checksum table (the file's last bytes)
  uint64_t bloom_blocks;       // 64-byte Bloom filter blocks after the entries
  uint64_t header_checksum;    // XXH3_64 of the 56 bytes before it
};
static_assert(sizeof(RunHeader) == 64);
// A run file's body (entries, filter, directory) is checksummed in blocks of
// this many bytes, so that readers verify what they touch, when they first
// touch it, and opening a run reads only its header and block table.
constexpr uint64_t kRunBlockBytes = 64 * 1024;
inline uint64_t RunBlocks(uint64_t body_bytes) { return (body_bytes + kRunBlockBytes - 1) / kRunBlockBytes; }

// Blocked Bloom filter of a path or directory run (docs/format.md): one
// 64-byte block per key, chosen by the key's high bits, kBloomProbes bits set
// in it. About 10 bits per key: ~1% false positives, one cache line a probe.
constexpr uint32_t kBloomBlockBytes = 64;
constexpr uint32_t kBloomBitsPerKey = 10;
constexpr uint32_t kBloomProbes = 7;
inline uint64_t BloomBlock(uint64_t key, uint64_t blocks) {
  return static_cast<uint64_t>((static_cast<uint128>(key) * blocks) >> 64);
}
// Bit i (0..kBloomProbes-1) of the key within its block (0..511).
inline uint32_t BloomBit(uint64_t key, uint32_t i) {
  return static_cast<uint32_t>(((key * 0x9E3779B97F4A7C15ULL) >> (9 * i)) & 511);
}

// Key directory of a run (docs/format.md): bucket b of nbuckets covers the
// keys k with KeyBucket(k) == b; the directory holds nbuckets + 1 u32 entry
// indexes, entry_index[b] = first entry whose bucket is >= b. Keys (ids and
// 64-bit hashes) are near uniform, so a lookup reads one directory slot and
// one or two cache lines of entries. The category index, read by listings
// and track lists rather than point lookups, keeps a coarser directory.
inline uint64_t EntriesPerBucket(uint32_t kind) { return kind == kCategoryIndex ? 16 : 4; }
inline uint64_t DirectoryBuckets(uint32_t kind, uint64_t entry_count) {
  return entry_count / EntriesPerBucket(kind) + 1;
}
// Multiplier mapping (key - min_key) to a bucket: floor(2^64 * nbuckets / (range + 1)), capped.
inline uint64_t BucketMultiplier(uint64_t min_key, uint64_t max_key, uint64_t nbuckets) {
  const uint128 span = static_cast<uint128>(max_key - min_key) + 1;
  const uint128 mult = (static_cast<uint128>(nbuckets) << 64) / span;
  return mult > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(mult);
}
inline uint64_t KeyBucket(uint64_t key, uint64_t min_key, uint64_t multiplier, uint64_t nbuckets) {
  const uint64_t b = static_cast<uint64_t>((static_cast<uint128>(key - min_key) * multiplier) >> 64);
  return b < nbuckets ? b : nbuckets - 1;
}

struct RunEntry {
  uint64_t key;
  uint64_t value;
};
static_assert(sizeof(RunEntry) == 16);

// ---- Meta -----------------------------------------------------------------
constexpr uint64_t kMetaMagic = 0x3130415445435a5aULL;  // bytes "ZZCETA01"
constexpr uint32_t kMetaPageSize = 4096;
constexpr uint32_t kMaxSegments = 120;
constexpr uint32_t kMaxRunsPerKind = 40;

struct MetaSegment {
  uint32_t number;
  uint32_t reserved;
  uint64_t committed_length;   // bytes of the file that are committed
};

struct MetaPage {
  uint64_t magic;
  uint32_t format_version;
  uint32_t page_size;          // kMetaPageSize
  uint64_t sequence;           // commit sequence; the larger valid page wins
  int64_t next_id;             // never decreases
  uint64_t record_count;       // live records
  uint32_t next_file_number;   // for new segments and runs
  uint32_t segment_count;
  // Index runs cover every batch before this position (the checkpoint);
  // batches from here to the watermark are replayed into memory on open.
  uint32_t checkpoint_segment;
  uint32_t run_count[kRunKinds];
  uint32_t reserved;           // zero
  uint64_t checkpoint_offset;
  MetaSegment segments[kMaxSegments];              // oldest first
  uint32_t runs[kRunKinds][kMaxRunsPerKind];       // file numbers, oldest first
  uint64_t family_files[4];    // live records per mime family (audio, video, image, other)
  int64_t family_bytes[4];     // sum of their `size` column
  uint64_t dead_bytes;         // segment bytes of replaced and removed versions
  int64_t next_playlist_id;    // like next_id, for playlists
  int64_t next_entry_id;       // like next_id, for playlist entries
  uint64_t playlist_count;     // live playlists
  uint64_t entry_count;        // live playlist entries
  uint64_t noncanonical_files; // live records with canonical columns of their own (LibraryTotals)
  uint64_t null_canonical_files;  // live records with a NULL canonical column (LibraryTotals)
  uint64_t parent_prefix_files;   // live records whose parent_path leads their path (LibraryTotals)
  uint8_t padding[kMetaPageSize - 88 - kMaxSegments * 16 - kRunKinds * kMaxRunsPerKind * 4 - 72 - 32 - 32];
  uint64_t checksum;           // XXH3_64 of everything before it
};
static_assert(sizeof(MetaPage) == kMetaPageSize);

}  // namespace zcmedia::format

#include "playlist_codec.h"

#include "checksum.h"
#include "record_codec.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

// ---- Views ------------------------------------------------------------------

namespace {
OptText Text(const flatbuffers::String* s) {
  return s ? OptText(std::string_view(s->data(), s->size())) : std::nullopt;
}
}  // namespace

int64_t PlaylistView::id() const { return rec_->id(); }
std::string_view PlaylistView::name() const { return {rec_->name()->data(), rec_->name()->size()}; }
OptText PlaylistView::description() const { return Text(rec_->description()); }
int64_t PlaylistView::created_at() const { return rec_->created_at(); }
int64_t PlaylistView::updated_at() const { return rec_->updated_at(); }
PlaylistFields PlaylistView::Fields() const {
  return {id(), name(), description(), created_at(), updated_at()};
}

int64_t PlaylistEntryView::id() const { return rec_->id(); }
int64_t PlaylistEntryView::playlist_id() const { return rec_->playlist_id(); }
int64_t PlaylistEntryView::media_file_id() const { return rec_->media_file_id(); }
int64_t PlaylistEntryView::position() const { return rec_->position(); }
int64_t PlaylistEntryView::created_at() const { return rec_->created_at(); }
PlaylistEntryFields PlaylistEntryView::Fields() const {
  return {id(), playlist_id(), media_file_id(), position(), created_at()};
}

// ---- Encoding and verification -----------------------------------------------

void EncodePlaylist(const PlaylistFields& f, int64_t id, flatbuffers::FlatBufferBuilder* b) {
  b->Clear();
  auto name = b->CreateString(f.name.data(), f.name.size());
  auto description = f.description ? b->CreateString(f.description->data(), f.description->size())
                                   : flatbuffers::Offset<flatbuffers::String>();
  fb::PlaylistBuilder pb(*b);
  b->ForceDefaults(true);  // id patched in place at commit; timestamps always present
  pb.add_id(id);
  pb.add_created_at(f.created_at);
  pb.add_updated_at(f.updated_at);
  b->ForceDefaults(false);
  pb.add_name(name);
  if (!description.IsNull()) pb.add_description(description);
  b->Finish(pb.Finish());
}

void EncodePlaylistEntry(const PlaylistEntryFields& f, int64_t id, flatbuffers::FlatBufferBuilder* b) {
  b->Clear();
  fb::PlaylistEntryBuilder eb(*b);
  b->ForceDefaults(true);
  eb.add_id(id);
  eb.add_playlist_id(f.playlist_id);
  eb.add_media_file_id(f.media_file_id);
  eb.add_position(f.position);
  eb.add_created_at(f.created_at);
  b->ForceDefaults(false);
  b->Finish(eb.Finish());
}


[[gnu::flatten]] const fb::Playlist* VerifyPlaylist(const uint8_t* data, size_t n) {  // flatten: see VerifyMediaFile
  const fb::Playlist* p = VerifyRecord<fb::Playlist>(data, n);
  return p != nullptr && p->name() != nullptr ? p : nullptr;  // name is NOT NULL
}

[[gnu::flatten]] const fb::PlaylistEntry* VerifyPlaylistEntry(const uint8_t* data, size_t n) {  // flatten: see VerifyMediaFile (record_codec.cc)
  return VerifyRecord<fb::PlaylistEntry>(data, n);
}


// ---- Index keys ---------------------------------------------------------------

namespace {
constexpr uint64_t kLowMask = (uint64_t{1} << kPlaylistKeyShift) - 1;
uint64_t Space(PlaylistKeySpace space) { return uint64_t{static_cast<uint8_t>(space)} << kPlaylistKeyShift; }
uint64_t HashInts(PlaylistKeySpace space, const int64_t* v, size_t n) {
  return Space(space) | (Checksum64(v, n * sizeof(int64_t), static_cast<uint64_t>(space)) & kLowMask);
}
}  // namespace

uint64_t PlaylistIdKey(PlaylistKeySpace space, int64_t id) {
  return Space(space) | (static_cast<uint64_t>(id) & kLowMask);
}
uint64_t PlaylistNameKey(std::string_view name) {
  return Space(PlaylistKeySpace::kPlaylistByName) | (PathHash(name) & kLowMask);
}
uint64_t PlaylistIntKey(PlaylistKeySpace space, int64_t a) { return HashInts(space, &a, 1); }
uint64_t PlaylistPairKey(PlaylistKeySpace space, int64_t a, int64_t b) {
  const int64_t v[2] = {a, b};
  return HashInts(space, v, 2);
}

PlaylistRecordKeys KeysOf(const PlaylistView& p) {
  PlaylistRecordKeys k;
  k.keys[k.count++] = PlaylistIdKey(PlaylistKeySpace::kPlaylistById, p.id());
  k.keys[k.count++] = PlaylistNameKey(p.name());
  return k;
}

PlaylistRecordKeys KeysOf(const PlaylistEntryView& e) {
  using S = PlaylistKeySpace;
  PlaylistRecordKeys k;
  k.keys[k.count++] = PlaylistIdKey(S::kEntryById, e.id());
  k.keys[k.count++] = PlaylistIntKey(S::kEntryByPlaylist, e.playlist_id());
  k.keys[k.count++] = PlaylistIntKey(S::kEntryByMedia, e.media_file_id());
  k.keys[k.count++] = PlaylistPairKey(S::kEntryByPosition, e.playlist_id(), e.position());
  k.keys[k.count++] = PlaylistPairKey(S::kEntryByPair, e.playlist_id(), e.media_file_id());
  return k;
}

}  // namespace zcmedia

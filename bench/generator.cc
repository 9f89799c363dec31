#include "generator.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <numeric>
#include <string_view>

namespace zcmedia::bench {

namespace {

// ---------------------------------------------------------------------------
// Word lists. Adjectives and first names are disjoint so that the artist-name
// patterns below cannot produce the same string, and no list can form
// "Various Artists". Nouns take a plain "s" plural. A few entries are
// non-ASCII on purpose: paths in the wild are UTF-8.

constexpr std::string_view kAdjectives[] = {
    "Silver",  "Golden",   "Velvet",  "Crimson", "Electric", "Hollow",   "Quiet",   "Wild",
    "Broken",  "Burning",  "Frozen",  "Hidden",  "Lonely",   "Lucky",    "Midnight", "Neon",
    "Paper",   "Purple",   "Restless", "Savage", "Secret",   "Shining",  "Silent",  "Sleeping",
    "Sweet",   "Tender",   "Twisted", "Violet",  "Wandering", "Wicked",  "Young",   "Ancient",
    "Blue",    "Bright",   "Cold",    "Cosmic",  "Crystal",  "Dark",     "Distant", "Dusty",
    "Early",   "Empty",    "Endless", "Faded",   "Fallen",   "Fierce",   "Final",   "Gentle",
    "Glass",   "Grand",    "Green",   "Happy",   "Heavy",    "Holy",     "Iron",    "Jade",
    "Last",    "Late",     "Little",  "Lost",    "Loud",     "Magic",    "Marble",  "Mellow",
    "Modern",  "Naked",    "Northern", "Open",   "Pale",     "Perfect",  "Polar",   "Proud",
    "Rapid",   "Red",      "Royal",   "Rusty",   "Sacred",   "Scarlet",  "Simple",  "Solar",
    "Southern", "Static",  "Strange", "Sunny",   "Tiny",     "Urban",    "Vivid",   "Warm",
    "White",   "Wooden",   "Yellow",  "Naïve",   "Fatal",    "Süße",     "Blasé",   "Hungry",
    "Bitter",  "Clever",   "Dizzy",   "Eternal",
};

constexpr std::string_view kNouns[] = {
    "Harbor",  "River",    "Lantern", "Mirror",  "Garden",   "Engine",   "Rocket",  "Tiger",
    "Falcon",  "Raven",    "Comet",   "Planet",  "Shadow",   "Signal",   "Island",  "Mountain",
    "Ocean",   "Desert",   "Forest",  "Thunder", "Flower",   "Feather",  "Anchor",  "Arrow",
    "Bridge",  "Candle",   "Castle",  "Cloud",   "Crown",    "Diamond",  "Dragon",  "Dream",
    "Ember",   "Flame",    "Ghost",   "Giant",   "Horizon",  "Hunter",   "Jewel",   "Kingdom",
    "Knight",  "Ladder",   "Machine", "Meadow",  "Monster",  "Needle",   "Orchid",  "Pilot",
    "Pirate",  "Prophet",  "Rebel",   "Rider",   "Saint",    "Sailor",   "Season",  "Serpent",
    "Soldier", "Spider",   "Stranger", "Sparrow", "Storm",   "Stream",   "Tower",   "Traveler",
    "Valley",  "Voyager",  "Wanderer", "Whisper", "Window",  "Sun",      "Moon",    "Star",
    "Heart",   "Wave",     "Light",   "Road",    "Rose",     "Stone",    "Bell",    "Bird",
    "Fire",    "Flag",     "Hand",    "King",    "Lake",     "Lion",     "Queen",   "Ring",
    "Ship",    "Song",     "Train",   "Tree",    "Wheel",    "Wing",     "Café",    "Fiancée",
    "Piñata",  "Mountain Goat", "Satellite", "Lighthouse",
};

constexpr std::string_view kFirstNames[] = {
    "James",   "Mary",     "John",    "Patricia", "Robert",  "Jennifer", "Michael", "Linda",
    "David",   "Elizabeth", "William", "Susan",   "Richard", "Jessica",  "Joseph",  "Sarah",
    "Thomas",  "Karen",    "Charles", "Nancy",    "Daniel",  "Lisa",     "Matthew", "Emily",
    "Anthony", "Laura",    "Mark",    "Anna",     "Paul",    "Sofia",    "Steven",  "Olivia",
    "Andrew",  "Emma",     "Kevin",   "Chloe",    "Brian",   "Grace",    "George",  "Alice",
    "Edward",  "Julia",    "Ronald",  "Clara",    "Timothy", "Nina",     "Jason",   "Eva",
    "Ryan",    "Ella",     "Jacob",   "Lena",     "Gary",    "Ruby",     "Nicholas", "Iris",
    "Eric",    "Mia",      "Jonathan", "Ava",     "Zoë",     "Björn",    "José",    "Anaïs",
    "Søren",   "Hélène",   "Jürgen",  "Łucja",    "Chloé",   "Renée",    "Ingrid",  "Sven",
    "Astrid",  "Matteo",   "Giulia",  "Luca",     "Marco",   "Pierre",   "Camille", "Léa",
    "Hugo",    "Mateo",    "Lucía",   "Diego",    "Carmen",  "Pablo",    "Rafael",  "Yuki",
    "Kenji",   "Akira",    "Hana",    "Aiko",     "Omar",    "Layla",    "Amir",    "Nadia",
    "Ivan",    "Olga",     "Dmitri",  "Katya",    "Finn",    "Niamh",    "Siobhán", "Declan",
};

constexpr std::string_view kLastNames[] = {
    "Smith",   "Johnson",  "Williams", "Brown",   "Jones",   "Miller",   "Davis",   "Wilson",
    "Anderson", "Taylor",  "Moore",   "Martin",   "Jackson", "Thompson", "Harris",  "Clark",
    "Lewis",   "Robinson", "Walker",  "Allen",    "Wright",  "Scott",    "Hill",    "Adams",
    "Baker",   "Nelson",   "Carter",  "Mitchell", "Roberts", "Turner",   "Phillips", "Campbell",
    "Parker",  "Evans",    "Edwards", "Collins",  "Stewart", "Morris",   "Murphy",  "Cook",
    "Rogers",  "Morgan",   "Cooper",  "Peterson", "Reed",    "Bailey",   "Kelly",   "Howard",
    "Ward",    "Cox",      "Rivera",  "Gómez",    "García",  "Martínez", "Núñez",   "Müller",
    "Schmidt", "Schäfer",  "Weiß",    "Dvořák",   "Novák",   "Østergaard", "Lindqvist", "Nyström",
    "Åberg",   "Lefèvre",  "Dubois",  "Moreau",   "Fontaine", "Rossi",   "Bianchi", "Ferrari",
    "Romano",  "Costa",    "Silva",   "Santos",   "Oliveira", "Pereira", "Kowalski", "Nowak",
    "Wiśniewski", "Petrov", "Ivanova", "Sokolov", "Tanaka",  "Suzuki",   "Yamamoto", "Kim",
    "Park",    "Chen",     "Wang",    "Nguyen",   "O'Brien", "MacLeod",  "Fitzgerald", "Lindgren",
    "Haddad",  "Okafor",   "Mensah",  "Kaur",
};

constexpr std::string_view kJapaneseFamilyNames[] = {
    "佐藤", "鈴木", "高橋", "田中", "渡辺", "伊藤", "山本", "中村", "小林", "加藤", "吉田", "山田",
};
constexpr std::string_view kJapaneseGivenNames[] = {
    "ひかり", "美咲", "健太", "翔太", "陽菜", "結衣", "蓮", "大翔", "葵", "悠真", "凛", "湊",
};
// Two characters or more, so that titles built from them stay long enough.
constexpr std::string_view kJapaneseWords[] = {
    "日本", "東京", "夜明け", "さくら", "花火", "星空", "青空", "約束", "永遠", "季節", "記憶", "未来",
};

// Extra words for song and episode titles.
constexpr std::string_view kTitleExtras[] = {
    "Love",  "Night",  "Tonight", "Home",   "Forever", "Again",  "Yesterday", "Tomorrow",
    "Baby",  "Girl",   "Boy",     "Summer", "Winter",  "Rain",   "Fire",      "Dance",
    "Mañana", "Corazón", "Déjà Vu", "Heaven", "Money", "Crazy",  "Señorita",  "Sugar",
    "of",    "the",    "in",      "and",    "for",     "my",     "your",      "no",
    "me",    "you",    "all",     "is",     "on",      "we",     "Down",      "Up",
};

constexpr std::string_view kPhotoEvents[] = {
    "Birthday",    "Beach Day",     "Christmas",    "Hiking",        "Wedding",
    "Trip to Paris", "Zürich",      "Kyoto 京都",   "Family BBQ",    "Graduation",
    "Café Visit",  "Ski Trip",      "Garden Party", "Road Trip",     "Concert",
    "Zoo",         "Camping",       "New Year",     "Easter",        "Halloween",
    "Lake House",  "City Walk",     "Museum",       "Soccer Game",   "First Day of School",
    "Baby Shower", "Anniversary",   "Picnic",       "Fireworks",     "Snow Day",
    "Sunset",      "Market",        "Vacation",     "Reunion",       "Festival",
    "Island Hopping", "Mountains",  "Road to Tōkyō", "Ferry",        "Harbor",
    "Weekend Away", "Bike Ride",    "Cooking",      "Renovation",    "Puppy",
    "Garden",      "Autumn Leaves", "São Paulo",
};

constexpr std::string_view kBaseGenres[] = {
    "Rock",      "Pop",       "Electronic", "Hip-Hop",    "Jazz",       "Classical",
    "Alternative", "Metal",   "Country",    "R&B",        "Soul",       "Folk",
    "Blues",     "Indie",     "Reggae",     "Punk",       "Soundtrack", "Ambient",
    "Dance",     "Funk",      "Latin",      "World",      "House",      "Techno",
    "Trance",    "Disco",     "Gospel",     "J-Pop",      "K-Pop",      "Chanson",
    "Schlager",  "Bossa Nova", "Singer-Songwriter", "Drum & Bass", "Dubstep", "Trip-Hop",
    "Ska",       "Grunge",    "Emo",        "Enka",       "Flamenco",   "Tango",
    "Opera",     "Musique Concrète", "Fado", "Afrobeat",  "Shoegaze",   "Synthpop",
    "New Wave",  "Lo-Fi",
};
constexpr std::string_view kGenreModifiers[] = {
    "Progressive", "Experimental", "Modern", "Classic", "Dark", "Acoustic", "Instrumental",
    "Japanese",
};

struct AudioFormat {
  std::string_view extension;
  std::string_view mime_type;
  double bytes_per_ms;  // typical bitrate / 8
  double share;
};
constexpr AudioFormat kAudioFormats[] = {
    {".flac", "audio/flac", 110.0, 0.35}, {".mp3", "audio/mpeg", 32.0, 0.40},
    {".m4a", "audio/mp4", 32.0, 0.12},    {".ogg", "audio/ogg", 24.0, 0.08},
    {".opus", "audio/opus", 16.0, 0.05},
};

struct VideoFormat {
  std::string_view extension;
  std::string_view mime_type;
  double share;
};
constexpr VideoFormat kMovieFormats[] = {
    {".mkv", "video/x-matroska", 0.85}, {".mp4", "video/mp4", 0.10}, {".avi", "video/x-msvideo", 0.05},
};

constexpr std::string_view kVariousArtists = "Various Artists";

// Record shares (see generator.h) and the mean number of files per unit,
// from which the probability of starting each kind of unit follows.
constexpr double kAudioShare = 0.70;
constexpr double kMovieShare = 0.08;
constexpr double kTvShare = 0.12;
constexpr double kPhotoShare = 0.10;
constexpr double kMeanTracksPerAlbum = (6 + 14) / 2.0;
constexpr double kMeanAlbumsPerArtist = (1 + 6) / 2.0;
constexpr double kCompilationAlbumShare = 0.08;
constexpr double kMeanEpisodesPerShow = (1 + 6) / 2.0 * (6 + 13) / 2.0;
constexpr double kMeanPhotosPerFolder = (10 + 150) / 2.0;

constexpr double kUntaggedAlbumShare = 0.15;
constexpr double kEmptyGenreShare = 0.02;
constexpr double kEmptyAlbumArtistShare = 0.01;
// Compilation tracks mostly credit artists already in the library; a few
// credit guests who have no folder of their own.
constexpr double kGuestArtistShare = 0.05;

constexpr size_t kMinPathBytes = 45;
constexpr size_t kMaxPathBytes = 150;

// 2024-06-01T00:00:00Z: when the simulated scan starts.
constexpr int64_t kScanStart = 1717200000;
constexpr int64_t kScanFilesPerSecond = 500;
// 2008-01-01 .. 2024-05-01: when files were copied into the library.
constexpr int64_t kLibraryStart = 1199145600;
constexpr int64_t kLibraryEnd = 1714521600;
constexpr int64_t kSecondsPerDay = 86400;

// Bytes left for a title once `fixed` bytes of the path are spoken for (at
// least one, so that a title is never empty).
size_t TitleBudget(size_t fixed) {
  return fixed + 40 < kMaxPathBytes ? 40 : fixed < kMaxPathBytes ? kMaxPathBytes - fixed : 1;
}

uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A bijection of [0, capacity) that looks random: a 4-round Feistel network
// on the smallest even-bit power of two >= capacity, cycle-walked back into
// range. Distinct counters therefore get distinct, unrelated-looking names.
uint64_t PermuteIndex(uint64_t index, uint64_t capacity, uint64_t key) {
  if (capacity <= 1) return 0;
  int half_bits = 1;
  while ((uint64_t{1} << (2 * half_bits)) < capacity) ++half_bits;
  const uint64_t mask = (uint64_t{1} << half_bits) - 1;
  uint64_t x = index;
  do {
    uint64_t left = x >> half_bits;
    uint64_t right = x & mask;
    for (uint64_t round = 0; round < 4; ++round) {
      uint64_t next_right = left ^ (Mix64(right ^ (key + round * 0x632BE59BD9B4E019ull)) & mask);
      left = right;
      right = next_right;
    }
    x = (left << half_bits) | right;
  } while (x >= capacity);
  return x;
}

// Names for counter values past the number of word combinations: the same
// name again with a suffix, as a file manager would disambiguate it.
std::string CycleSuffix(uint64_t cycle) {
  return cycle == 0 ? std::string() : " (" + std::to_string(cycle + 1) + ")";
}

template <size_t N>
constexpr uint64_t Count(const std::string_view (&)[N]) {
  return N;
}

std::string Plural(std::string_view noun) { return std::string(noun) + "s"; }

void AppendTwoDigits(std::string* out, int64_t value) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(value));
  out->append(buf);
}

// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
// civil_from_days).
void CivilFromDays(int64_t days, int* year, int* month, int* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(yoe + era * 400 + (*month <= 2));
}

constexpr int64_t kPhotoFirstDay = 12418;  // 2004-01-01
constexpr int64_t kPhotoDays = 7670;       // through 2024-12-31

}  // namespace

// ---------------------------------------------------------------------------

MediaFileFields GeneratedRecord::fields() const {
  MediaFileFields f;
  f.id = 0;
  f.path = path;
  f.parent_path = parent_path;
  f.canonical_path = path;
  f.canonical_parent_path = parent_path;
  f.filename = filename;
  f.size = size;
  f.modified = modified;
  f.mime_type = mime_type;
  f.duration = duration;
  if (has_tags) {
    f.title = title;
    f.artist = artist;
    f.album = album;
    f.genre = genre;
    f.album_artist = album_artist;
  }
  f.track_number = track_number;
  f.year = year;
  f.created_at = created_at;
  f.updated_at = updated_at;
  return f;
}

uint64_t LibraryGenerator::Rng::Next() {
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t LibraryGenerator::Rng::Uniform(uint64_t n) {
  __extension__ using Uint128 = unsigned __int128;  // GCC extension; silences -Wpedantic
  return static_cast<uint64_t>((static_cast<Uint128>(Next()) * n) >> 64);
}

int64_t LibraryGenerator::Rng::Range(int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(Uniform(static_cast<uint64_t>(hi - lo) + 1));
}

double LibraryGenerator::Rng::Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

bool LibraryGenerator::Rng::Chance(double p) { return Unit() < p; }

LibraryGenerator::LibraryGenerator(uint64_t seed, uint64_t record_limit)
    : seed_(Mix64(seed)), limit_(record_limit), rng_(seed_), scan_time_(kScanStart) {
  // Units per record of each kind, so that records split by the shares.
  const double artists = kAudioShare / (kMeanAlbumsPerArtist * kMeanTracksPerAlbum *
                                        (1 + kCompilationAlbumShare / (1 - kCompilationAlbumShare)));
  const double compilations =
      artists * kMeanAlbumsPerArtist * kCompilationAlbumShare / (1 - kCompilationAlbumShare);
  const double weights[5] = {artists, compilations, kMovieShare / 1.0,
                             kTvShare / kMeanEpisodesPerShow, kPhotoShare / kMeanPhotosPerFolder};
  const double total = std::accumulate(std::begin(weights), std::end(weights), 0.0);
  double running = 0;
  for (int i = 0; i < 5; ++i) {
    running += weights[i] / total;
    unit_cdf_[i] = running;
  }
  unit_cdf_[4] = 1.0;

  // 300 genres, best known first; popularity falls off as 1/rank.
  for (std::string_view base : kBaseGenres) genres_.emplace_back(base);
  for (std::string_view modifier : kGenreModifiers) {
    for (std::string_view base : kBaseGenres) {
      if (genres_.size() == 300) break;
      genres_.push_back(std::string(modifier) + " " + std::string(base));
    }
  }
  double genre_total = 0;
  for (size_t rank = 0; rank < genres_.size(); ++rank) genre_total += 1.0 / double(rank + 1);
  double genre_running = 0;
  for (size_t rank = 0; rank < genres_.size(); ++rank) {
    genre_running += 1.0 / double(rank + 1) / genre_total;
    genre_cdf_.push_back(genre_running);
  }
  genre_cdf_.back() = 1.0;

  folder_.order.reserve(150);
}

bool LibraryGenerator::Next(GeneratedRecord* out) {
  if (generated_ >= limit_) return false;
  while (folder_.next >= folder_.order.size()) {
    if (unit_.folders_done >= unit_.folder_count) StartUnit();
    StartFolder();
  }
  EmitFile(folder_.order[folder_.next++], out);
  ++generated_;
  return true;
}

// --- names ------------------------------------------------------------------

std::string LibraryGenerator::ArtistName(uint64_t counter) const {
  constexpr uint64_t kSolo = Count(kFirstNames) * Count(kLastNames);
  constexpr uint64_t kBand = Count(kAdjectives) * Count(kNouns);
  constexpr uint64_t kDuo = Count(kAdjectives) * Count(kNouns);
  constexpr uint64_t kFronted = 3000;  // "<First> <Last> & the <Noun>s": rarer
  constexpr uint64_t kJapanese = Count(kJapaneseFamilyNames) * Count(kJapaneseGivenNames);
  constexpr uint64_t kCapacity = kSolo + kBand + kDuo + kFronted + kJapanese;

  uint64_t i = PermuteIndex(counter % kCapacity, kCapacity, seed_ ^ 0xA1);
  const std::string suffix = CycleSuffix(counter / kCapacity);
  if (i < kSolo) {
    return std::string(kFirstNames[i % Count(kFirstNames)]) + " " +
           std::string(kLastNames[i / Count(kFirstNames)]) + suffix;
  }
  i -= kSolo;
  if (i < kBand) {
    return "The " + std::string(kAdjectives[i % Count(kAdjectives)]) + " " +
           Plural(kNouns[i / Count(kAdjectives)]) + suffix;
  }
  i -= kBand;
  if (i < kDuo) {
    return std::string(kAdjectives[i % Count(kAdjectives)]) + " " +
           std::string(kNouns[i / Count(kAdjectives)]) + suffix;
  }
  i -= kDuo;
  if (i < kFronted) {
    // Multiplying by a prime that shares no factor with the first x last x
    // noun space is a bijection on it: spreads the picks, keeps them distinct.
    constexpr uint64_t kSpace = Count(kFirstNames) * Count(kLastNames) * Count(kNouns);
    static_assert(kSpace % 1000003 != 0 && kSpace > kFronted);
    uint64_t j = (i * 1000003) % kSpace;
    return std::string(kFirstNames[j % Count(kFirstNames)]) + " " +
           std::string(kLastNames[(j / Count(kFirstNames)) % Count(kLastNames)]) + " & the " +
           Plural(kNouns[j / (Count(kFirstNames) * Count(kLastNames))]) + suffix;
  }
  i -= kFronted;
  return std::string(kJapaneseFamilyNames[i % Count(kJapaneseFamilyNames)]) + " " +
         std::string(kJapaneseGivenNames[i / Count(kJapaneseFamilyNames)]) + suffix;
}

std::string LibraryGenerator::AlbumTitle(uint64_t artist_counter, int album_index) const {
  constexpr uint64_t kAdjNoun = Count(kAdjectives) * Count(kNouns);
  constexpr uint64_t kPluralNoun = Count(kNouns);
  constexpr uint64_t kNounOfNouns = Count(kNouns) * Count(kNouns);
  constexpr uint64_t kCapacity = kAdjNoun + kPluralNoun + kNounOfNouns;
  // One starting point per artist, then a fixed stride: the (at most six)
  // albums of one artist never share a title, so their folders stay unique.
  uint64_t start = Mix64(artist_counter ^ seed_ ^ 0xB2) % kCapacity;
  uint64_t i = (start + static_cast<uint64_t>(album_index) * 7919) % kCapacity;
  if (i < kAdjNoun) {
    return std::string(kAdjectives[i % Count(kAdjectives)]) + " " +
           std::string(kNouns[i / Count(kAdjectives)]);
  }
  i -= kAdjNoun;
  if (i < kPluralNoun) return "The " + Plural(kNouns[i]);
  i -= kPluralNoun;
  return std::string(kNouns[i % Count(kNouns)]) + " of " + Plural(kNouns[i / Count(kNouns)]);
}

std::string LibraryGenerator::CompilationTitle(uint64_t counter) const {
  constexpr uint64_t kCapacity = Count(kAdjectives) * Count(kNouns);
  uint64_t i = PermuteIndex(counter % kCapacity, kCapacity, seed_ ^ 0xC3);
  uint64_t cycle = counter / kCapacity;
  std::string title = std::string(kAdjectives[i % Count(kAdjectives)]) + " " +
                      std::string(kNouns[i / Count(kAdjectives)]) + " Hits";
  if (cycle > 0) title += " Vol. " + std::to_string(cycle + 1);
  return title;
}

std::string LibraryGenerator::MovieTitle(uint64_t counter) const {
  constexpr uint64_t kTheAdjNoun = Count(kAdjectives) * Count(kNouns);
  constexpr uint64_t kNounOfTheNoun = Count(kNouns) * Count(kNouns);
  constexpr uint64_t kTheNounNouns = Count(kNouns) * Count(kNouns);
  constexpr uint64_t kJapanese = Count(kJapaneseWords) * Count(kJapaneseWords);
  constexpr uint64_t kCapacity = kTheAdjNoun + kNounOfTheNoun + kTheNounNouns + kJapanese;
  uint64_t i = PermuteIndex(counter % kCapacity, kCapacity, seed_ ^ 0xD4);
  uint64_t cycle = counter / kCapacity;
  std::string title;
  if (i < kTheAdjNoun) {
    title = "The " + std::string(kAdjectives[i % Count(kAdjectives)]) + " " +
            std::string(kNouns[i / Count(kAdjectives)]);
  } else if ((i -= kTheAdjNoun) < kNounOfTheNoun) {
    title = std::string(kNouns[i % Count(kNouns)]) + " of the " +
            std::string(kNouns[i / Count(kNouns)]);
  } else if ((i -= kNounOfTheNoun) < kTheNounNouns) {
    title = "The " + std::string(kNouns[i % Count(kNouns)]) + " " +
            Plural(kNouns[i / Count(kNouns)]);
  } else {
    i -= kTheNounNouns;
    title = std::string(kJapaneseWords[i % Count(kJapaneseWords)]) + "の" +
            std::string(kJapaneseWords[i / Count(kJapaneseWords)]);
  }
  // Past the combinations, sequels: no base title ends in a number.
  if (cycle > 0) {
    // Appended piecewise: `" " + std::string` trips a GCC 12 -Wrestrict false positive.
    title += ' ';
    title += std::to_string(cycle + 1);
  }
  return title;
}

std::string LibraryGenerator::ShowName(uint64_t counter) const {
  constexpr uint64_t kAdjNouns = Count(kAdjectives) * Count(kNouns);
  constexpr uint64_t kNounNoun = Count(kNouns) * Count(kNouns);
  constexpr uint64_t kPersonShow = Count(kFirstNames) * Count(kLastNames);
  constexpr uint64_t kCapacity = kAdjNouns + kNounNoun + kPersonShow;
  uint64_t i = PermuteIndex(counter % kCapacity, kCapacity, seed_ ^ 0xE5);
  const std::string suffix = CycleSuffix(counter / kCapacity);
  if (i < kAdjNouns) {
    return std::string(kAdjectives[i % Count(kAdjectives)]) + " " +
           Plural(kNouns[i / Count(kAdjectives)]) + suffix;
  }
  i -= kAdjNouns;
  if (i < kNounNoun) {
    return std::string(kNouns[i % Count(kNouns)]) + " " + std::string(kNouns[i / Count(kNouns)]) +
           suffix;
  }
  i -= kNounNoun;
  return "The " + std::string(kFirstNames[i % Count(kFirstNames)]) + " " +
         std::string(kLastNames[i / Count(kFirstNames)]) + " Show" + suffix;
}

std::string LibraryGenerator::PhotoEventName(uint64_t counter, int64_t* day) const {
  constexpr uint64_t kCapacity = kPhotoDays * Count(kPhotoEvents);
  uint64_t i = PermuteIndex(counter % kCapacity, kCapacity, seed_ ^ 0xF6);
  *day = kPhotoFirstDay + static_cast<int64_t>(i / Count(kPhotoEvents));
  int year, month, dom;
  CivilFromDays(*day, &year, &month, &dom);
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02d-%02d", year, month, dom);
  return std::string(date) + " " + std::string(kPhotoEvents[i % Count(kPhotoEvents)]) +
         CycleSuffix(counter / kCapacity);
}

std::string LibraryGenerator::RandomWords(Rng& rng, int min_words, int max_words,
                                          size_t max_bytes) const {
  constexpr uint64_t kWords = Count(kAdjectives) + Count(kNouns) + Count(kTitleExtras);
  std::string out;
  if (rng.Chance(0.04)) {
    // Japanese titles: words run together without spaces.
    int n = static_cast<int>(rng.Range(1, 2));
    for (int w = 0; w < n; ++w) {
      std::string_view word = kJapaneseWords[rng.Uniform(Count(kJapaneseWords))];
      if (!out.empty() && out.size() + word.size() > max_bytes) break;
      out += word;
    }
    return out;
  }
  int n = static_cast<int>(rng.Range(min_words, max_words));
  for (int w = 0; w < n; ++w) {
    uint64_t pick = rng.Uniform(kWords);
    std::string_view word = pick < Count(kAdjectives)    ? kAdjectives[pick]
                            : (pick -= Count(kAdjectives)) < Count(kNouns)
                                ? kNouns[pick]
                                : kTitleExtras[pick - Count(kNouns)];
    size_t needed = word.size() + (out.empty() ? 0 : 1);
    if (!out.empty() && out.size() + needed > max_bytes) break;
    if (!out.empty()) out += ' ';
    out += word;
  }
  // Titles start with a capital letter even when the first pick is "of".
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

const std::string& LibraryGenerator::PickGenre(Rng& rng) const {
  double u = rng.Unit();
  size_t rank = static_cast<size_t>(
      std::lower_bound(genre_cdf_.begin(), genre_cdf_.end(), u) - genre_cdf_.begin());
  return genres_[std::min(rank, genres_.size() - 1)];
}

// --- walking ----------------------------------------------------------------

void LibraryGenerator::FillFileCount(int count) {
  folder_.order.resize(static_cast<size_t>(count));
  std::iota(folder_.order.begin(), folder_.order.end(), uint16_t{0});
  // readdir order is arbitrary: shuffle the files of the folder.
  for (size_t i = folder_.order.size(); i > 1; --i) {
    std::swap(folder_.order[i - 1], folder_.order[rng_.Uniform(i)]);
  }
  folder_.next = 0;
}

void LibraryGenerator::StartUnit() {
  double u = rng_.Unit();
  int kind = 0;
  while (kind < 4 && u >= unit_cdf_[kind]) ++kind;
  unit_.kind = static_cast<UnitKind>(kind);
  unit_.counter = kind_counters_[kind]++;
  unit_.folders_done = 0;
  switch (unit_.kind) {
    case UnitKind::kArtist:
      unit_.name = ArtistName(unit_.counter);
      unit_.folder_count = static_cast<int>(rng_.Range(1, 6));
      unit_.year = rng_.Range(1960, 2018);
      break;
    case UnitKind::kCompilation:
      unit_.name = std::string(kVariousArtists);
      unit_.folder_count = 1;
      unit_.year = rng_.Range(1975, 2024);
      break;
    case UnitKind::kMovie:
      unit_.name = MovieTitle(unit_.counter);
      unit_.folder_count = 1;
      unit_.year = rng_.Range(1950, 2024);
      break;
    case UnitKind::kTvShow:
      unit_.name = ShowName(unit_.counter);
      unit_.folder_count = static_cast<int>(rng_.Range(1, 6));
      unit_.year = rng_.Range(1990, 2023);
      break;
    case UnitKind::kPhotoFolder:
      unit_.folder_count = 1;
      break;
  }
}

void LibraryGenerator::StartFolder() {
  Folder& f = folder_;
  const int index = unit_.folders_done++;
  f.seed = rng_.Next();
  f.modified_base = rng_.Range(kLibraryStart, kLibraryEnd);
  switch (unit_.kind) {
    case UnitKind::kArtist:
    case UnitKind::kCompilation: {
      const bool compilation = unit_.kind == UnitKind::kCompilation;
      f.album = compilation ? CompilationTitle(unit_.counter) : AlbumTitle(unit_.counter, index);
      f.album_artist = unit_.name;
      f.year = std::min<int64_t>(2024, unit_.year + index * rng_.Range(1, 4));
      f.genre = PickGenre(rng_);
      f.tagged = !rng_.Chance(kUntaggedAlbumShare);
      double pick = rng_.Unit();
      const AudioFormat* format = &kAudioFormats[0];
      for (const AudioFormat& candidate : kAudioFormats) {
        format = &candidate;
        if ((pick -= candidate.share) < 0) break;
      }
      f.extension = std::string(format->extension);
      f.mime_type = std::string(format->mime_type);
      f.dir = "/media/music/" + unit_.name + "/" + f.album + " (" + std::to_string(f.year) + ")";
      FillFileCount(static_cast<int>(rng_.Range(6, 14)));
      break;
    }
    case UnitKind::kMovie: {
      double pick = rng_.Unit();
      const VideoFormat* format = &kMovieFormats[0];
      for (const VideoFormat& candidate : kMovieFormats) {
        format = &candidate;
        if ((pick -= candidate.share) < 0) break;
      }
      f.extension = std::string(format->extension);
      f.mime_type = std::string(format->mime_type);
      f.dir = "/media/Movies/" + unit_.name + " (" + std::to_string(unit_.year) + ")";
      FillFileCount(1);
      break;
    }
    case UnitKind::kTvShow: {
      f.season = index + 1;
      f.extension = ".mkv";
      f.mime_type = "video/x-matroska";
      f.dir = "/media/TV Shows/" + unit_.name + "/Season ";
      AppendTwoDigits(&f.dir, f.season);
      FillFileCount(static_cast<int>(rng_.Range(6, 13)));
      break;
    }
    case UnitKind::kPhotoFolder: {
      f.album = PhotoEventName(unit_.counter, &f.day);
      int year, month, dom;
      CivilFromDays(f.day, &year, &month, &dom);
      f.extension = ".jpg";
      f.mime_type = "image/jpeg";
      f.dir = "/media/photos/" + std::to_string(year) + "/" + f.album;
      const int count = static_cast<int>(rng_.Range(10, 150));
      // Shots at strictly increasing seconds of one day (unique names):
      // start between 07:00 and 12:00, spaced so the last is before midnight.
      f.first_second = rng_.Range(7 * 3600, 12 * 3600);
      f.spacing = rng_.Range(20, (kSecondsPerDay - 1 - f.first_second) / count);
      FillFileCount(count);
      break;
    }
  }
}

void LibraryGenerator::EmitFile(uint16_t file_number, GeneratedRecord* out) {
  Rng rng(Mix64(folder_.seed + file_number));
  out->parent_path = folder_.dir;
  out->mime_type = folder_.mime_type;
  out->duration.reset();
  out->has_tags = false;
  out->track_number.reset();
  out->year.reset();
  switch (unit_.kind) {
    case UnitKind::kArtist:
    case UnitKind::kCompilation: EmitTrack(file_number, rng, out); break;
    case UnitKind::kMovie:
    case UnitKind::kTvShow: EmitVideo(file_number, rng, out); break;
    case UnitKind::kPhotoFolder: EmitPhoto(file_number, rng, out); break;
  }
  out->path.assign(folder_.dir);
  out->path += '/';
  out->path += out->filename;

  out->created_at = scan_time_ + static_cast<int64_t>(generated_ / kScanFilesPerSecond);
  out->updated_at = out->created_at;
  if (rng.Chance(0.04)) out->updated_at += rng.Range(3600, 180 * kSecondsPerDay);
}

void LibraryGenerator::EmitTrack(uint16_t file_number, Rng& rng, GeneratedRecord* out) {
  const Folder& f = folder_;
  out->kind = GeneratedRecord::Kind::kAudio;
  const int64_t track = file_number + 1;
  // Whatever the title leaves of the 150-byte budget ("/NN - " + title + ext).
  const size_t fixed = f.dir.size() + 6 + f.extension.size();
  std::string title = RandomWords(rng, 1, 4, TitleBudget(fixed));
  static constexpr std::string_view kVersions[] = {" (Live)", " (Remix)", " (Acoustic)", " (Demo)"};
  while (fixed + title.size() < kMinPathBytes) title += kVersions[rng.Uniform(std::size(kVersions))];

  out->filename.clear();
  AppendTwoDigits(&out->filename, track);
  out->filename += " - ";
  out->filename += title;
  out->filename += f.extension;

  const int64_t duration_ms = rng.Range(90'000, 420'000) + (rng.Chance(0.05) ? rng.Range(0, 900'000) : 0);
  out->duration = duration_ms;
  double bytes_per_ms = 32.0;
  for (const AudioFormat& format : kAudioFormats) {
    if (format.extension == f.extension) bytes_per_ms = format.bytes_per_ms;
  }
  out->size = static_cast<int64_t>(double(duration_ms) * bytes_per_ms * (0.9 + 0.2 * rng.Unit())) + 4096;
  out->modified = f.modified_base + file_number * rng.Range(1, 30);

  if (!f.tagged) return;
  out->has_tags = true;
  out->title = title;
  if (unit_.kind == UnitKind::kCompilation) {
    const uint64_t known_artists = kind_counters_[static_cast<int>(UnitKind::kArtist)];
    const bool guest = known_artists == 0 || rng.Chance(kGuestArtistShare);
    // A guest gets the name of an artist the walk has not reached (yet).
    out->artist = ArtistName(guest ? known_artists + rng.Uniform(20000) : rng.Uniform(known_artists));
  } else {
    out->artist = unit_.name;
  }
  out->album = f.album;
  if (rng.Chance(kEmptyGenreShare)) {
    out->genre.clear();
  } else {
    out->genre = f.genre;
  }
  if (rng.Chance(kEmptyAlbumArtistShare)) {
    out->album_artist.clear();
  } else {
    out->album_artist = f.album_artist;
  }
  out->track_number = track;
  out->year = f.year;
}

void LibraryGenerator::EmitVideo(uint16_t file_number, Rng& rng, GeneratedRecord* out) {
  const Folder& f = folder_;
  out->kind = GeneratedRecord::Kind::kVideo;
  if (unit_.kind == UnitKind::kMovie) {
    out->filename = unit_.name + f.extension;
    out->size = rng.Range(700'000'000, 25'000'000'000);
  } else {
    const int64_t episode = file_number + 1;
    out->filename = unit_.name + " - S";
    AppendTwoDigits(&out->filename, f.season);
    out->filename += 'E';
    AppendTwoDigits(&out->filename, episode);
    out->filename += " - ";
    const size_t fixed = f.dir.size() + 1 + out->filename.size() + f.extension.size();
    out->filename += RandomWords(rng, 1, 4, TitleBudget(fixed));
    out->filename += f.extension;
    out->size = rng.Range(150'000'000, 4'000'000'000);
  }
  out->modified = f.modified_base + file_number * rng.Range(60, 7 * kSecondsPerDay);
}

void LibraryGenerator::EmitPhoto(uint16_t file_number, Rng& rng, GeneratedRecord* out) {
  const Folder& f = folder_;
  out->kind = GeneratedRecord::Kind::kImage;
  const int64_t second_of_day =
      f.first_second + file_number * f.spacing + rng.Range(0, f.spacing - 1);
  int year, month, dom;
  CivilFromDays(f.day, &year, &month, &dom);
  char name[40];
  std::snprintf(name, sizeof name, "IMG_%04d%02d%02d_%02d%02d%02d.jpg", year, month, dom,
                static_cast<int>(second_of_day / 3600), static_cast<int>(second_of_day / 60 % 60),
                static_cast<int>(second_of_day % 60));
  out->filename = name;
  out->size = rng.Range(1'500'000, 12'000'000);
  out->modified = f.day * kSecondsPerDay + second_of_day;
}

}  // namespace zcmedia::bench

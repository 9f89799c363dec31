#include "test_media.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace zcmedia::scan::testing {
namespace {

std::string Extension(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return path.substr(dot + 1);
}

// The encoder arguments per format. MP3 and AAC at 44.1 kHz: their encoder
// delay is a fixed number of samples, so the higher rate keeps the extra
// length TagLib reports small (at 8 kHz it is 130-200 ms); the rest at
// 8 kHz, where the duration is exact anyway and the files are smallest.
bool CodecArguments(const std::string& ext, int* sample_rate, std::vector<std::string>* args) {
  if (ext == "mp3") {
    *sample_rate = 44100;
    *args = {"-c:a", "libmp3lame", "-b:a", "32k", "-id3v2_version", "3"};
  } else if (ext == "m4a") {
    *sample_rate = 44100;
    *args = {"-c:a", "aac", "-b:a", "32k"};
  } else if (ext == "aac") {
    *sample_rate = 44100;
    *args = {"-c:a", "aac", "-b:a", "32k", "-f", "adts"};
  } else if (ext == "flac") {
    *sample_rate = 8000;
    *args = {"-c:a", "flac"};
  } else if (ext == "ogg") {
    *sample_rate = 8000;
    *args = {"-c:a", "libvorbis"};
  } else if (ext == "opus") {
    *sample_rate = 8000;  // libopus takes 8 kHz input; Opus always reports 48 kHz
    *args = {"-c:a", "libopus", "-b:a", "12k"};
  } else if (ext == "wav") {
    *sample_rate = 8000;
    *args = {"-c:a", "pcm_s16le"};
  } else {
    return false;
  }
  return true;
}

std::string Quoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    out += '\'' + a + '\'';
  }
  return out;
}

// Runs argv[0] (looked up in PATH) with stdin and stdout on /dev/null; true
// when it exits 0. `*err` gets its stderr, or why it could not start.
bool Run(const std::vector<std::string>& argv, std::string* err) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *err = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawn_error = posix_spawnp(&pid, c_argv[0], &actions, nullptr, c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawn_error != 0) {
    close(pipe_fds[0]);
    *err = "cannot run " + argv[0] + ": " + std::strerror(spawn_error) +
           " (scripts/install-deps installs ffmpeg)";
    return false;
  }
  err->clear();
  char buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) err->append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    *err += "(exit 127: " + argv[0] + " not found? scripts/install-deps installs ffmpeg)";
  } else if (WIFEXITED(status)) {
    *err += "(exit " + std::to_string(WEXITSTATUS(status)) + ")";
  } else {
    *err += "(killed by signal " + std::to_string(WTERMSIG(status)) + ")";
  }
  return false;
}

}  // namespace

bool MakeAudioFile(const std::string& path, const TestTrack& tags) {
  int sample_rate = 0;
  std::vector<std::string> codec;
  if (!CodecArguments(Extension(path), &sample_rate, &codec)) {
    ADD_FAILURE() << "MakeAudioFile(" << path << "): unknown extension; use .mp3 .flac .ogg .m4a .opus .wav or .aac";
    return false;
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.6f", tags.seconds);
  std::vector<std::string> argv = {
      "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
      "sine=frequency=440:sample_rate=" + std::to_string(sample_rate) + ":duration=" + seconds,
      "-ac", "1"};
  argv.insert(argv.end(), codec.begin(), codec.end());
  auto metadata = [&argv](const char* key, const std::string& value) {
    if (value.empty()) return;
    argv.push_back("-metadata");
    argv.push_back(std::string(key) + "=" + value);
  };
  metadata("title", tags.title);
  metadata("artist", tags.artist);
  metadata("album", tags.album);
  metadata("genre", tags.genre);
  metadata("album_artist", tags.album_artist);
  if (tags.track != 0) metadata("track", std::to_string(tags.track));
  if (tags.year != 0) metadata("date", std::to_string(tags.year));
  argv.push_back(path);

  std::string err;
  if (!Run(argv, &err)) {
    ADD_FAILURE() << "MakeAudioFile: " << Quoted(argv) << " failed: " << err;
    return false;
  }
  return true;
}

void WriteTruncatedCopy(const std::string& source, const std::string& path, size_t bytes) {
  std::ifstream in(source, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "WriteTruncatedCopy: cannot read " << source;
    return;
  }
  std::string contents(std::istreambuf_iterator<char>(in), {});
  if (contents.size() > bytes) contents.resize(bytes);
  WriteFile(path, contents);
}

void WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) ADD_FAILURE() << "WriteFile: cannot write " << path;
}

void WriteGarbage(const std::string& path, size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string contents(bytes, '\0');
  for (char& c : contents) c = static_cast<char>(rng() & 0xff);
  WriteFile(path, contents);
}

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/zcmedia-scan-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "TempDir: mkdtemp " << tmpl << ": " << std::strerror(errno);
    return;
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  // A test may have made a folder unreadable (chmod 000): give every folder
  // back its owner's rights so that remove_all can enter it.
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  for (auto it = fs::recursive_directory_iterator(path_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code ignored;
    if (it->is_directory(ignored) && !it->is_symlink(ignored)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ignored);
    }
  }
  fs::remove_all(path_, ec);
}

std::string TempDir::Join(std::string_view relative) const { return path_ + "/" + std::string(relative); }

}  // namespace zcmedia::scan::testing

#include "store/fault_injection_env.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace zcmedia {
namespace {

std::string Normalize(const std::string& p) {
  std::string out;
  out.reserve(p.size());
  for (char c : p) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;  // "//" -> "/"
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string DirOf(const std::string& path) {
  std::string p = Normalize(path);
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

const char* OpName(FaultInjectionEnv::OpKind k) {
  switch (k) {
    case FaultInjectionEnv::OpKind::kCreate: return "create";
    case FaultInjectionEnv::OpKind::kWrite: return "pwrite";
    case FaultInjectionEnv::OpKind::kTruncate: return "truncate";
    case FaultInjectionEnv::OpKind::kSync: return "sync";
    case FaultInjectionEnv::OpKind::kRename: return "rename";
    case FaultInjectionEnv::OpKind::kRemove: return "remove";
    case FaultInjectionEnv::OpKind::kSyncDir: return "syncdir";
  }
  return "?";
}

}  // namespace

namespace testing_fi {

class FaultInjectionFile : public File {
 public:
  FaultInjectionFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<File> inner)
      : env_(env), path_(std::move(path)), inner_(std::move(inner)) {}

  Status PWrite(uint64_t offset, const void* data, size_t n) override {
    std::lock_guard<std::mutex> l(env_->mu_);
    ZC_RETURN_IF_ERROR(env_->MaybeFailLocked(FaultInjectionEnv::OpKind::kWrite, path_));
    FaultInjectionEnv::Undo undo;
    undo.offset = offset;
    ZC_RETURN_IF_ERROR(inner_->Size(&undo.old_size));
    if (offset < undo.old_size && n > 0) {
      size_t len = static_cast<size_t>(std::min<uint64_t>(n, undo.old_size - offset));
      undo.old_bytes.resize(len);
      size_t got = 0;
      ZC_RETURN_IF_ERROR(inner_->PRead(offset, undo.old_bytes.data(), len, &got));
      undo.old_bytes.resize(got);
    }
    FaultInjectionEnv::FileState& st = env_->StateLocked(path_);
    ZC_RETURN_IF_ERROR(inner_->PWrite(offset, data, n));
    st.undo.push_back(std::move(undo));
    env_->LogLocked({FaultInjectionEnv::OpKind::kWrite, path_, "", offset, n});
    return Status::OK();
  }

  Status PRead(uint64_t offset, void* data, size_t n, size_t* got) override {
    return inner_->PRead(offset, data, n, got);
  }

  Status Sync() override {
    std::lock_guard<std::mutex> l(env_->mu_);
    ZC_RETURN_IF_ERROR(env_->MaybeFailLocked(FaultInjectionEnv::OpKind::kSync, path_));
    FaultInjectionEnv::FileState& st = env_->StateLocked(path_);
    ZC_RETURN_IF_ERROR(inner_->Sync());
    uint64_t size = 0;
    ZC_RETURN_IF_ERROR(inner_->Size(&size));
    st.synced_size = size;
    st.undo.clear();
    env_->sync_log_.push_back(path_);
    env_->LogLocked({FaultInjectionEnv::OpKind::kSync, path_, "", 0, size});
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> l(env_->mu_);
    ZC_RETURN_IF_ERROR(env_->MaybeFailLocked(FaultInjectionEnv::OpKind::kTruncate, path_));
    FaultInjectionEnv::Undo undo;
    undo.offset = size;
    ZC_RETURN_IF_ERROR(inner_->Size(&undo.old_size));
    if (size < undo.old_size) {
      size_t len = static_cast<size_t>(undo.old_size - size);
      undo.old_bytes.resize(len);
      size_t got = 0;
      ZC_RETURN_IF_ERROR(inner_->PRead(size, undo.old_bytes.data(), len, &got));
      undo.old_bytes.resize(got);
    }
    FaultInjectionEnv::FileState& st = env_->StateLocked(path_);
    ZC_RETURN_IF_ERROR(inner_->Truncate(size));
    st.undo.push_back(std::move(undo));
    env_->LogLocked({FaultInjectionEnv::OpKind::kTruncate, path_, "", size, 0});
    return Status::OK();
  }

  Status Size(uint64_t* size) override { return inner_->Size(size); }
  const std::string& path() const override { return path_; }
  int fd() const override { return inner_->fd(); }

  File* inner() const { return inner_.get(); }

 private:
  FaultInjectionEnv* const env_;
  const std::string path_;
  std::unique_ptr<File> inner_;
};

}  // namespace testing_fi

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

FaultInjectionEnv::FileState& FaultInjectionEnv::StateLocked(const std::string& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return it->second;
  FileState st;
  struct stat sb;
  if (::stat(path.c_str(), &sb) == 0) st.synced_size = static_cast<uint64_t>(sb.st_size);
  return files_.emplace(path, std::move(st)).first->second;
}

Status FaultInjectionEnv::MaybeFailLocked(OpKind kind, const std::string& path) {
  if (fail_after_ == 0) {
    if (failed_++ == 0) first_failed_ = Op{kind, path, "", 0, 0};
    if (fail_once_) fail_after_ = -1;
    return Status::IOError(std::string("injected I/O error: ") + OpName(kind) + " " + path);
  }
  if (fail_after_ > 0) --fail_after_;
  ++write_ops_;
  return Status::OK();
}

void FaultInjectionEnv::LogLocked(Op op) { op_log_.push_back(std::move(op)); }

Status FaultInjectionEnv::OpenFile(const std::string& path, OpenMode mode,
                                   std::unique_ptr<File>* file) {
  std::lock_guard<std::mutex> l(mu_);
  bool existed = false;
  ZC_RETURN_IF_ERROR(base_->FileExists(path, &existed));
  std::unique_ptr<File> inner;
  ZC_RETURN_IF_ERROR(base_->OpenFile(path, mode, &inner));
  if (mode == OpenMode::kCreate && !existed) {
    FileState st;
    st.created = true;
    st.creation_durable = false;
    st.synced_size = 0;
    files_[path] = std::move(st);
    LogLocked({OpKind::kCreate, path, "", 0, 0});
  } else if (mode != OpenMode::kReadOnly) {
    StateLocked(path);
  }
  *file = std::make_unique<testing_fi::FaultInjectionFile>(this, path, std::move(inner));
  return Status::OK();
}

Status FaultInjectionEnv::FileExists(const std::string& path, bool* exists) {
  return base_->FileExists(path, exists);
}

Status FaultInjectionEnv::ReadWholeFile(const std::string& path, std::string* bytes) {
  std::unique_ptr<File> f;
  ZC_RETURN_IF_ERROR(base_->OpenFile(path, OpenMode::kReadOnly, &f));
  uint64_t size = 0;
  ZC_RETURN_IF_ERROR(f->Size(&size));
  bytes->resize(static_cast<size_t>(size));
  size_t got = 0;
  if (size > 0) ZC_RETURN_IF_ERROR(f->PRead(0, bytes->data(), bytes->size(), &got));
  bytes->resize(got);
  return Status::OK();
}

Status FaultInjectionEnv::WriteWholeFile(const std::string& path, const std::string& bytes) {
  std::unique_ptr<File> f;
  ZC_RETURN_IF_ERROR(base_->OpenFile(path, OpenMode::kCreate, &f));
  ZC_RETURN_IF_ERROR(f->Truncate(0));
  if (!bytes.empty()) ZC_RETURN_IF_ERROR(f->PWrite(0, bytes.data(), bytes.size()));
  return f->Sync();
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  ZC_RETURN_IF_ERROR(MaybeFailLocked(OpKind::kRemove, path));
  DirOp op;
  op.kind = DirOp::kRemove;
  op.to = path;
  bool existed = false;
  ZC_RETURN_IF_ERROR(base_->FileExists(path, &existed));
  if (existed) {
    ZC_RETURN_IF_ERROR(ReadWholeFile(path, &op.to_bytes));
    op.to_existed = true;
    op.to_state = StateLocked(path);
  }
  ZC_RETURN_IF_ERROR(base_->RemoveFile(path));
  files_.erase(path);
  if (existed) dir_ops_.push_back(std::move(op));
  LogLocked({OpKind::kRemove, path, "", 0, 0});
  return Status::OK();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(mu_);
  ZC_RETURN_IF_ERROR(MaybeFailLocked(OpKind::kRename, to));
  DirOp op;
  op.kind = DirOp::kRename;
  op.from = from;
  op.to = to;
  ZC_RETURN_IF_ERROR(base_->FileExists(to, &op.to_existed));
  if (op.to_existed) {
    ZC_RETURN_IF_ERROR(ReadWholeFile(to, &op.to_bytes));
    op.to_state = StateLocked(to);
  }
  FileState from_state = StateLocked(from);
  ZC_RETURN_IF_ERROR(base_->RenameFile(from, to));
  files_.erase(from);
  files_[to] = std::move(from_state);
  dir_ops_.push_back(std::move(op));
  LogLocked({OpKind::kRename, to, from, 0, 0});
  return Status::OK();
}

Status FaultInjectionEnv::CreateDir(const std::string& path) { return base_->CreateDir(path); }

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  ZC_RETURN_IF_ERROR(MaybeFailLocked(OpKind::kSyncDir, dir));
  ZC_RETURN_IF_ERROR(base_->SyncDir(dir));
  const std::string d = Normalize(dir);
  for (auto& [path, st] : files_) {
    if (DirOf(path) == d) st.creation_durable = true;
  }
  dir_ops_.erase(std::remove_if(dir_ops_.begin(), dir_ops_.end(),
                                [&](const DirOp& op) {
                                  // A rename within one directory (the store's
                                  // only kind) is durable once it is synced.
                                  return DirOf(op.to) == d;
                                }),
                 dir_ops_.end());
  LogLocked({OpKind::kSyncDir, dir, "", 0, 0});
  return Status::OK();
}

Status FaultInjectionEnv::ListDir(const std::string& dir, std::vector<std::string>* names) {
  return base_->ListDir(dir, names);
}

Status FaultInjectionEnv::Map(File* file, size_t length, std::unique_ptr<Mapping>* mapping) {
  if (auto* fi = dynamic_cast<testing_fi::FaultInjectionFile*>(file)) {
    return base_->Map(fi->inner(), length, mapping);
  }
  return base_->Map(file, length, mapping);
}

Status FaultInjectionEnv::LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) {
  return base_->LockFile(path, lock);
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(mu_);
  // 1. Directory operations not followed by SyncDir, newest first.
  for (auto it = dir_ops_.rbegin(); it != dir_ops_.rend(); ++it) {
    DirOp& op = *it;
    if (op.kind == DirOp::kRename) {
      bool exists = false;
      ZC_RETURN_IF_ERROR(base_->FileExists(op.to, &exists));
      if (exists) {
        ZC_RETURN_IF_ERROR(base_->RenameFile(op.to, op.from));
        auto st = files_.find(op.to);
        if (st != files_.end()) {
          files_[op.from] = std::move(st->second);
          files_.erase(op.to);
        }
      }
      if (op.to_existed) {
        ZC_RETURN_IF_ERROR(WriteWholeFile(op.to, op.to_bytes));
        files_[op.to] = std::move(op.to_state);
      }
    } else {  // kRemove
      ZC_RETURN_IF_ERROR(WriteWholeFile(op.to, op.to_bytes));
      files_[op.to] = std::move(op.to_state);
    }
  }
  dir_ops_.clear();

  // 2. File contents and creations.
  for (auto& [path, st] : files_) {
    bool exists = false;
    ZC_RETURN_IF_ERROR(base_->FileExists(path, &exists));
    if (!exists) continue;
    if (st.created && !st.creation_durable) {
      ZC_RETURN_IF_ERROR(base_->RemoveFile(path));
      continue;
    }
    std::unique_ptr<File> f;
    ZC_RETURN_IF_ERROR(base_->OpenFile(path, OpenMode::kReadWrite, &f));
    for (auto u = st.undo.rbegin(); u != st.undo.rend(); ++u) {
      ZC_RETURN_IF_ERROR(f->Truncate(u->old_size));
      if (!u->old_bytes.empty()) {
        ZC_RETURN_IF_ERROR(f->PWrite(u->offset, u->old_bytes.data(), u->old_bytes.size()));
      }
    }
    ZC_RETURN_IF_ERROR(f->Truncate(st.synced_size));
    ZC_RETURN_IF_ERROR(f->Sync());
  }
  files_.clear();
  return Status::OK();
}

void FaultInjectionEnv::SetFailAfterWrites(int n, bool only_once) {
  std::lock_guard<std::mutex> l(mu_);
  fail_after_ = n;
  fail_once_ = only_once;
  failed_ = 0;
}

int FaultInjectionEnv::failed_writes() const {
  std::lock_guard<std::mutex> l(mu_);
  return failed_;
}

FaultInjectionEnv::Op FaultInjectionEnv::first_failed_op() const {
  std::lock_guard<std::mutex> l(mu_);
  return first_failed_;
}

int64_t FaultInjectionEnv::write_ops() const {
  std::lock_guard<std::mutex> l(mu_);
  return write_ops_;
}

std::vector<std::string> FaultInjectionEnv::SyncLog() const {
  std::lock_guard<std::mutex> l(mu_);
  return sync_log_;
}

std::vector<FaultInjectionEnv::Op> FaultInjectionEnv::OpLog() const {
  std::lock_guard<std::mutex> l(mu_);
  return op_log_;
}

void FaultInjectionEnv::ResetCounters() {
  std::lock_guard<std::mutex> l(mu_);
  write_ops_ = 0;
  sync_log_.clear();
  op_log_.clear();
}

}  // namespace zcmedia

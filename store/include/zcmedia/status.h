// Status: the outcome of every store operation. No exception crosses the
// store's public API; errors come back as a Status with a code and a message
// that says what failed, where (file and offset when there is one) and what
// to do about it.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace zcmedia {

class Status {
 public:
  enum class Code : int {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,         // a checksum, verifier or format check failed
    kIOError = 3,            // the OS refused a read, write, sync, map...
    kInvalidArgument = 4,    // the caller passed something unusable
    kConstraint = 5,         // duplicate path, colliding id, missing id
    kBusy = 6,               // the store is locked by another writer
    kReadOnly = 7,           // a write on a store opened read-only
  };

  Status() = default;  // OK
  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status Constraint(std::string msg) { return {Code::kConstraint, std::move(msg)}; }
  static Status Busy(std::string msg) { return {Code::kBusy, std::move(msg)}; }
  static Status ReadOnly(std::string msg) { return {Code::kReadOnly, std::move(msg)}; }
  // IOError whose message ends with strerror(err_no).
  static Status FromErrno(std::string_view what, int err_no);

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsConstraint() const { return code_ == Code::kConstraint; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsReadOnly() const { return code_ == Code::kReadOnly; }

  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Corruption: <message>", or "OK".
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T>: a T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return value_; }
  T&& value() && { return std::move(value_); }
  const T& value() const& { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace zcmedia

#define ZC_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::zcmedia::Status zc_status_ = (expr);  \
    if (!zc_status_.ok()) return zc_status_; \
  } while (0)

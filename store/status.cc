#include "zcmedia/status.h"

#include <cstring>

namespace zcmedia {

Status Status::FromErrno(std::string_view what, int err_no) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err_no);
  return Status(Code::kIOError, std::move(msg));
}

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kNotFound: name = "NotFound"; break;
    case Code::kCorruption: name = "Corruption"; break;
    case Code::kIOError: name = "IOError"; break;
    case Code::kInvalidArgument: name = "InvalidArgument"; break;
    case Code::kConstraint: name = "Constraint"; break;
    case Code::kBusy: name = "Busy"; break;
    case Code::kReadOnly: name = "ReadOnly"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace zcmedia

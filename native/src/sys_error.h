// A failed system call as plain data, and the one place that turns it into a JS Error.
#pragma once
#include <napi.h>
#include <cerrno>
#include <string>
#include <unistd.h>

namespace zonectl {

struct SysError {
  int err = 0;             // errno; 0 = no error
  std::string op;          // the system call or step: "pidfd_open", "umount2"
  std::string object;      // what it was applied to: a path, an interface name, a pid
  std::string objectKey = "path";  // the property the object is exposed as in JS

  bool failed() const { return err != 0; }
  // Fill from the current errno; always returns -1 so callers can `return e.set(...)`.
  int set(const char* what, std::string obj, const char* key = "path") {
    err = errno;
    op = what;
    object = std::move(obj);
    objectKey = key;
    return -1;
  }
};

// The only conversion from SysError to a JS value: an Error with code, errno, syscall and the object.
Napi::Error ToJsError(Napi::Env env, const SysError& e);

// A file descriptor owned by exactly one scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept { reset(o.release()); return *this; }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { int f = fd_; fd_ = -1; return f; }
  void reset(int fd = -1) { if (fd_ >= 0) ::close(fd_); fd_ = fd; }
 private:
  int fd_ = -1;
};

}  // namespace zonectl

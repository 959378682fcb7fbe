#include "pidfd.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <string>

namespace zonectl {

int pidfd_open_(int pid, SysError& e) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // always O_CLOEXEC
  if (fd < 0) return e.set("pidfd_open", std::to_string(pid), "pid");
  return fd;
}

int pidfd_send_signal_(int pidfd, int sig, SysError& e) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0)
    return e.set("pidfd_send_signal", std::to_string(pidfd), "fd");
  return 0;
}

int pidfd_wait_(int pidfd, int timeout_ms, SysError& e) {
  struct pollfd p = {pidfd, POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n >= 0) return n > 0 ? 1 : 0;
    if (errno != EINTR) return e.set("poll", std::to_string(pidfd), "fd");
  }
}

}  // namespace zonectl

#include "lock.h"

#include <cerrno>
#include <sys/file.h>

namespace zonectl {

int flock_(int fd, bool exclusive, bool nonblocking, SysError& e) {
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (nonblocking ? LOCK_NB : 0);
  for (;;) {
    if (::flock(fd, op) == 0) return 1;
    if (errno == EINTR) continue;
    if (nonblocking && errno == EWOULDBLOCK) return 0;
    return e.set("flock", "fd " + std::to_string(fd));
  }
}

}  // namespace zonectl

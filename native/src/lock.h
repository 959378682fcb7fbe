// flock(2) on a file descriptor: the project lock (released by the kernel when the process dies).
#pragma once
#include "sys_error.h"

namespace zonectl {

// Returns 1 when the lock was taken, 0 when `nonblocking` and another holds it, -1 on error.
int flock_(int fd, bool exclusive, bool nonblocking, SysError& e);

}  // namespace zonectl

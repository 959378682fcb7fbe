// Starting a child process without fork(): posix_spawn (vfork semantics) shares the caller's
// memory until the exec, so a large Node process starts a small helper in a fraction of what
// child_process.spawn's fork costs, and no page tables are copied on the main thread.
#pragma once
#include <string>
#include <vector>

#include "sys_error.h"

namespace zonectl {

// What a standard descriptor of the child is connected to.
enum class Stdio { kInherit, kNull, kPipe };

struct Spawned {
  int pid = -1;
  int pidfd = -1;         // CLOEXEC; the caller closes it (after reaping)
  int fds[3] = {-1, -1, -1};  // our ends of kPipe descriptors (stdin: write end), CLOEXEC, blocking
};

// Spawn `path` with `argv` (argv[0] included) and the caller's environment. The child gets
// default signal dispositions, an empty signal mask and no descriptor above 2.
int spawn_(const std::string& path, const std::vector<std::string>& argv, const Stdio (&stdio)[3],
           Spawned& out, SysError& e);

// Reap an exited child through its pidfd: its exit code, or 128 + the signal that ended it.
// -1 with `e` filled when it has not exited (WNOHANG) or cannot be waited for.
int pidfd_reap_(int pidfd, SysError& e);

}  // namespace zonectl

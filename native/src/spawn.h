// Starting a child process without fork(): posix_spawn (vfork semantics) shares the caller's
// memory until the exec, so a large Node process starts a small helper in a fraction of what
// child_process.spawn's fork costs, and no page tables are copied on the main thread.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "sys_error.h"

namespace zonectl {

struct Spawned {
  int pid = -1;
  int pidfd = -1;  // CLOEXEC; the caller closes it (after reaping)
};

// Spawn `path` with `argv` (argv[0] included) and the caller's environment. Descriptor i of the
// child is `fds[i]` (the same number: inherited, its FD_CLOEXEC cleared), or /dev/null for -1;
// `fds` holds at least 0-2. The child gets default signal dispositions, an empty signal mask
// and no descriptor beyond those.
int spawn_(const std::string& path, const std::vector<std::string>& argv, const std::vector<int>& fds, Spawned& out,
           SysError& e);

// Reap an exited child through its pidfd: its exit code, or 128 + the signal that ended it.
// -1 with `e` filled when it has not exited (WNOHANG) or cannot be waited for.
int pidfd_reap_(int pidfd, SysError& e);

// What a finished child gave: its exit code (as pidfd_reap_), and all it wrote to the pipes.
struct Collected {
  int code = -1;
  std::string out, err;
};

// Until the child has exited and closed its stdout and stderr: writes `input` to `in` (then
// closes it), reads `out_fd` and `err_fd` to their end (then closes them), and reaps the child.
// Any fd may be -1 (not piped, or kept by the caller). `on_out`, when given, is handed each
// chunk read from `out_fd` as it comes (out.out stays empty). Blocks: run it on a thread of its
// own, never on libuv's pool, where a child that waits for the caller (`serve`) would hold a
// thread the caller needs.
int collect_(int pidfd, int in, const std::string& input, int out_fd, int err_fd, Collected& out, SysError& e,
             const std::function<void(const char*, size_t)>& on_out = nullptr);

}  // namespace zonectl

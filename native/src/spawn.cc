#include "spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3  // linux/wait.h; glibc's headers lack it
#endif

extern char** environ;

namespace zonectl {

namespace {

class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&fa_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa_); }
  posix_spawn_file_actions_t* get() { return &fa_; }
 private:
  posix_spawn_file_actions_t fa_;
};

class Attr {
 public:
  Attr() { posix_spawnattr_init(&a_); }
  ~Attr() { posix_spawnattr_destroy(&a_); }
  posix_spawnattr_t* get() { return &a_; }
 private:
  posix_spawnattr_t a_;
};

}  // namespace

int spawn_(const std::string& path, const std::vector<std::string>& argv, const Stdio (&stdio)[3],
           Spawned& out, SysError& e) {
  UniqueFd ours[3], theirs[3];
  for (int i = 0; i < 3; i++) {
    if (stdio[i] != Stdio::kPipe) continue;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return e.set("pipe2", path);
    // stdin: the child reads, we write; stdout and stderr the other way round
    ours[i].reset(i == 0 ? p[1] : p[0]);
    theirs[i].reset(i == 0 ? p[0] : p[1]);
  }
  FileActions fa;
  for (int i = 0; i < 3; i++) {
    int rc = 0;
    if (stdio[i] == Stdio::kPipe) rc = posix_spawn_file_actions_adddup2(fa.get(), theirs[i].get(), i);
    // onto itself: clears FD_CLOEXEC (glibc >= 2.29), which our own 0-2 may carry
    else if (stdio[i] == Stdio::kInherit) rc = posix_spawn_file_actions_adddup2(fa.get(), i, i);
    else if (stdio[i] == Stdio::kNull) rc = posix_spawn_file_actions_addopen(fa.get(), i, "/dev/null", O_RDWR, 0);
    if (rc != 0) {
      errno = rc;
      return e.set("posix_spawn_file_actions", path);
    }
  }
  // Whatever the caller left inheritable stays here (a pipe end held open by a helper that
  // lives on would keep its reader from ever seeing EOF).
  if (int rc = posix_spawn_file_actions_addclosefrom_np(fa.get(), 3); rc != 0) {
    errno = rc;
    return e.set("posix_spawn_file_actions_addclosefrom_np", path);
  }
  Attr attr;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  // Node ignores SIGPIPE, and an ignored signal stays ignored across exec: reset them all.
  posix_spawnattr_setsigmask(attr.get(), &none);
  posix_spawnattr_setsigdefault(attr.get(), &all);
  posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (int rc = posix_spawn(&pid, path.c_str(), fa.get(), attr.get(), args.data(), environ); rc != 0) {
    errno = rc;
    return e.set("posix_spawn", path);
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // cannot happen for our own unreaped child; do not leave a zombie behind if it does
    int saved = errno;
    ::waitpid(pid, nullptr, 0);
    errno = saved;
    return e.set("pidfd_open", std::to_string(pid), "pid");
  }
  out.pid = pid;
  out.pidfd = pidfd;
  for (int i = 0; i < 3; i++) out.fds[i] = ours[i].release();
  return 0;
}

int pidfd_reap_(int pidfd, SysError& e) {
  siginfo_t si{};
  if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | WNOHANG) < 0)
    return e.set("waitid", std::to_string(pidfd), "fd");
  if (si.si_pid == 0) {
    errno = EAGAIN;
    return e.set("waitid", std::to_string(pidfd), "fd");
  }
  return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

}  // namespace zonectl

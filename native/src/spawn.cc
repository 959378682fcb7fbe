#include "spawn.h"

#include <fcntl.h>
#include <poll.h>
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

int spawn_(const std::string& path, const std::vector<std::string>& argv, const std::vector<int>& fds, Spawned& out,
           SysError& e) {
  FileActions fa;
  // in order: a source above 2 is never a target already written (the targets count up from 0,
  // and the caller's descriptors 0-2 are only ever their own targets)
  for (int i = 0; i < static_cast<int>(fds.size()); i++) {
    // onto itself (an inherited 0-2): clears FD_CLOEXEC (glibc >= 2.29), which Node may have set
    int rc = fds[i] >= 0 ? posix_spawn_file_actions_adddup2(fa.get(), fds[i], i)
                         : posix_spawn_file_actions_addopen(fa.get(), i, "/dev/null", O_RDWR, 0);
    if (rc != 0) {
      errno = rc;
      return e.set("posix_spawn_file_actions", path);
    }
  }
  // Whatever the caller left inheritable stays here (a pipe end held open by a helper that
  // lives on would keep its reader from ever seeing EOF).
  if (int rc = posix_spawn_file_actions_addclosefrom_np(fa.get(), static_cast<int>(fds.size())); rc != 0) {
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

int collect_(int pidfd, int in, const std::string& input, int out_fd, int err_fd, Collected& out, SysError& e,
             const std::function<void(const char*, size_t)>& on_out) {
  UniqueFd fds[3] = {UniqueFd(in), UniqueFd(out_fd), UniqueFd(err_fd)};
  std::string* sink[3] = {nullptr, &out.out, &out.err};
  size_t written = 0;
  if (fds[0].get() >= 0 && input.empty()) fds[0].reset();
  // non-blocking: a write of the whole input must not wait while the child waits on its output
  for (auto& f : fds)
    if (f.get() >= 0) ::fcntl(f.get(), F_SETFL, ::fcntl(f.get(), F_GETFL) | O_NONBLOCK);
  bool exited = false;
  char buf[65536];
  while (!exited || fds[1].get() >= 0 || fds[2].get() >= 0) {
    struct pollfd p[4];
    int which[4], n = 0;
    for (int i = 0; i < 3; i++) {
      if (fds[i].get() < 0) continue;
      p[n] = {fds[i].get(), static_cast<short>(i == 0 ? POLLOUT : POLLIN), 0};
      which[n++] = i;
    }
    if (!exited) {
      p[n] = {pidfd, POLLIN, 0};
      which[n++] = 3;
    }
    if (::poll(p, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      return e.set("poll", std::to_string(pidfd), "fd");
    }
    for (int k = 0; k < n; k++) {
      if (p[k].revents == 0) continue;
      int i = which[k];
      if (i == 3) {
        exited = true;
      } else if (i == 0) {
        // a child that exits without reading its input: EPIPE (Node ignores SIGPIPE), and its
        // exit status says the rest
        ssize_t w = ::write(fds[0].get(), input.data() + written, input.size() - written);
        if (w < 0 && errno != EINTR && errno != EAGAIN) fds[0].reset();
        if (w > 0 && (written += static_cast<size_t>(w)) == input.size()) fds[0].reset();
      } else {
        ssize_t r = ::read(fds[i].get(), buf, sizeof buf);
        if (r > 0 && i == 1 && on_out) on_out(buf, static_cast<size_t>(r));
        else if (r > 0) sink[i]->append(buf, static_cast<size_t>(r));
        else if (r == 0 || (errno != EINTR && errno != EAGAIN)) fds[i].reset();
      }
    }
  }
  fds[0].reset();
  int code = pidfd_reap_(pidfd, e);
  if (code < 0) return -1;
  out.code = code;
  return 0;
}

}  // namespace zonectl

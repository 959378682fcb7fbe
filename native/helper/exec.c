#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <linux/magic.h>
#include <unistd.h>

#include "proc.h"
#include "zone.h"

/* Enter the namespaces of `pid`. With `later` (the command is cloned into a cgroup2 cgroup of the
 * zone), the cgroup and user namespaces are left to the command's process: their descriptors go to
 * later[0] and later[1] (-1 for no user namespace). In either, this process would no longer be
 * allowed to clone a child into the zone's cgroup: the cgroup namespace hides the process's own
 * cgroup from it (nsdelegate), and the user namespace takes host root's rights away. */
static int enter(const struct spec *s, pid_t pid, int later[2], struct zerr *z) {
  int fds[8];
  /* open them all first: after joining the mount namespace /proc/PID is no longer the host's */
  int count = s->userns_count ? NAMESPACE_COUNT : NAMESPACE_COUNT - 1; /* user is last */
  for (int i = 0; i < count; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, NAMESPACES[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) {
      zerr_set(z, "open", "%s", path);
      while (i-- > 0) close(fds[i]);
      return -1;
    }
  }
  int rc = 0;
  for (int i = 0; i < count; i++) {
    int flag = NAMESPACES[i].flag;
    if (later && (flag == CLONE_NEWCGROUP || flag == CLONE_NEWUSER)) {
      later[flag == CLONE_NEWUSER] = fds[i];
      continue;
    }
    if (rc == 0 && setns(fds[i], flag) < 0)
      rc = zerr_set(z, "setns", "%s namespace of pid %d", NAMESPACES[i].name, (int)pid);
    close(fds[i]);
  }
  /* joining the mount namespace moved root and cwd to the zone's root */
  if (rc == 0 && chdir("/") < 0) rc = zerr_set(z, "chdir", "/");
  return rc;
}

/* In the command's process, cloned into the zone's cgroup2 cgroup (`moved`; else it moves itself
 * there through `cgroup_fd`, opened on the host): the namespaces enter() left to it. */
static int enter_later(int cgroup_fd, int moved, const int later[2], struct zerr *z) {
  if (!moved) {
    int fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : write_all(fd, "0", 1);
    if (fd >= 0) close(fd);
    if (rc < 0) return zerr_set(z, "write", "cgroup.procs of zone");
  }
  if (setns(later[0], CLONE_NEWCGROUP) < 0) return zerr_set(z, "setns", "cgroup namespace");
  if (later[1] >= 0 && setns(later[1], CLONE_NEWUSER) < 0) return zerr_set(z, "setns", "user namespace");
  return 0;
}

static int status_code(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

/* Relay between our stdio and the pty master until the child exits. */
static int relay(int master, pid_t child, int sigfd) {
  struct termios saved;
  int raw = isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
  }
  int in_open = 1, status = 0, done = 0;
  char buf[8192];
  while (!done) {
    struct pollfd p[3] = {{master, POLLIN, 0}, {sigfd, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
    if (poll(p, 3, -1) < 0 && errno != EINTR) break;
    if (p[0].revents) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n > 0) write_all(1, buf, (size_t)n);
    }
    if (p[2].revents) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n > 0) write_all(master, buf, (size_t)n);
      else in_open = 0;
    }
    if (p[1].revents) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGWINCH) {
          struct winsize ws;
          if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
        } else if (si.ssi_signo == SIGCHLD) {
          if (waitpid(child, &status, WNOHANG) == child) done = 1;
        } else {
          kill(child, (int)si.ssi_signo);
        }
      }
    }
  }
  ssize_t n;
  while ((n = read(master, buf, sizeof buf)) > 0) write_all(1, buf, (size_t)n);
  if (raw) tcsetattr(0, TCSANOW, &saved);
  return status_code(status);
}

int exec_in_zone(const struct spec *s, pid_t init_pid, int tty, char **argv) {
  struct zerr z = {0};
  if (proc_starttime(init_pid) == 0) {
    zerr_setn(&z, ESRCH, "exec", "zone %s is not running (pid %d)", s->zone, (int)init_pid);
    zerr_print(&z);
    return 125;
  }
  /* On cgroup2, moving a process (this one) waits for an RCU grace period, 5-10 ms: the command's
   * process is cloned into the zone's cgroup2 cgroup instead. Into v1 ones (through `tasks`)
   * this process moves itself, which costs no such wait, and the command's is born there. */
  int cgroup_fd = cgroup2_dir(s->cgroups), later[2] = {-1, -1};
  if (cgroups_join_self(s->cgroups, cgroup_fd >= 0, &z) < 0 || enter(s, init_pid, cgroup_fd >= 0 ? later : NULL, &z) < 0) {
    zerr_print(&z);
    return 125;
  }
  sigset_t set;
  sigemptyset(&set);
  int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGWINCH};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  int master = -1;
  char pts[64];
  if (tty) {
    /* the zone's own devpts instance, now that we are in its mount namespace. Not through
     * /dev/ptmx, a symlink the zone may have changed: this process is host root, and /dev and
     * /dev/pts are mount points, which the zone cannot move or replace. */
    master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
    struct statfs sf;
    if (master >= 0 && (fstatfs(master, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC)) {
      close(master);
      master = -1;
      errno = ENOTTY;
    }
    if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, pts, sizeof pts) != 0) {
      zerr_set(&z, "open", "/dev/pts/ptmx in zone %s", s->zone);
      zerr_print(&z);
      return 125;
    }
    struct winsize ws;
    if (isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
  }
  int moved = 0;
  pid_t child = cgroup_fd >= 0 ? clone_into(0, cgroup_fd, &moved) : fork();
  if (child < 0) {
    zerr_set(&z, "fork", "exec in zone %s", s->zone);
    zerr_print(&z);
    return 125;
  }
  if (child == 0) {
    if (cgroup_fd >= 0 && enter_later(cgroup_fd, moved, later, &z) < 0) {
      zerr_print(&z);
      _exit(125);
    }
    if (tty) {
      int slave = -1;
      if (setsid() < 0 || (slave = open(pts, O_RDWR | O_CLOEXEC)) < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 ||
          dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0) {
        zerr_set(&z, "open", "terminal %s", pts);
        zerr_print(&z);
        _exit(125);
      }
    }
    exec_command(s, argv, &z);
    zerr_print(&z);
    _exit(z.err == ENOENT ? 127 : 126);
  }
  if (cgroup_fd >= 0) {
    close(cgroup_fd);
    close(later[0]);
    if (later[1] >= 0) close(later[1]);
  }
  if (tty) return relay(master, child, sigfd);
  int status = 0;
  for (;;) {
    struct pollfd p = {sigfd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) break;
    struct signalfd_siginfo si;
    while (read(sigfd, &si, sizeof si) == sizeof si) {
      if (si.ssi_signo != SIGCHLD) kill(child, (int)si.ssi_signo);
      else if (waitpid(child, &status, WNOHANG) == child) return status_code(status);
    }
  }
  return 125;
}

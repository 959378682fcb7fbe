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
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "proc.h"
#include "zone.h"

static int enter(const struct spec *s, pid_t pid, struct zerr *z) {
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
    if (rc == 0 && setns(fds[i], NAMESPACES[i].flag) < 0)
      rc = zerr_set(z, "setns", "%s namespace of pid %d", NAMESPACES[i].name, (int)pid);
    close(fds[i]);
  }
  /* joining the mount namespace moved root and cwd to the zone's root */
  if (rc == 0 && chdir("/") < 0) rc = zerr_set(z, "chdir", "/");
  return rc;
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
  if (cgroups_join_self(s->cgroups, &z) < 0 || enter(s, init_pid, &z) < 0) {
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
    /* the zone's own devpts instance: its /dev/ptmx now that we are in its mount namespace */
    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, pts, sizeof pts) != 0) {
      zerr_set(&z, "open", "/dev/ptmx in zone %s", s->zone);
      zerr_print(&z);
      return 125;
    }
    struct winsize ws;
    if (isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
  }
  pid_t child = fork();
  if (child < 0) {
    zerr_set(&z, "fork", "exec in zone %s", s->zone);
    zerr_print(&z);
    return 125;
  }
  if (child == 0) {
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

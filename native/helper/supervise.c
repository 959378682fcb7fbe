#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"
#include "log.h"
#include "proc.h"
#include "record.h"
#include "userns.h"
#include "zone.h"

enum { BACKOFF_MIN_MS = 100, BACKOFF_MAX_MS = 10000, STABLE_MS = 10000 };

struct sup {
  const struct spec *s;
  struct record rec;
  struct zlog log;
  struct zerr err;
  int sigfd;
  int start_fd;      /* -1 once the first run was reported */
  int go_fd;         /* start --go: handed to the first run's init, then -1 */
  int init_fd;       /* zonectl-init's image (init.h), for every run; -1 = none */
  int stopping;
  long long kill_at; /* CLOCK_MONOTONIC ms at which the zone gets SIGKILL; 0 = none */
};

static void save(struct sup *u) { record_write(u->s->state_dir, &u->rec); }

static void report(struct sup *u, const struct msg *m) {
  if (u->start_fd < 0) return;
  msg_send(u->start_fd, m);
  close(u->start_fd);
  u->start_fd = -1;
}

/* The grace period for this stop: STATE_DIR/stop_grace_ms when zonectl wrote one (stop_grace_period
 * changes in place, and `stop` may pass its own), else the spec's. */
static long long grace_ms(const struct sup *u) {
  char path[4096], buf[32];
  snprintf(path, sizeof path, "%s/stop_grace_ms", u->s->state_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return u->s->stop_grace_ms;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return u->s->stop_grace_ms;
  buf[n] = '\0';
  char *end;
  long long v = strtoll(buf, &end, 10);
  return end != buf && v >= 0 ? v : u->s->stop_grace_ms;
}

static void stop(struct sup *u, pid_t pid) {
  if (u->stopping) return;
  u->stopping = 1;
  if (pid > 0) {
    kill(pid, SIGTERM);
    u->kill_at = mono_ms() + grace_ms(u);
  }
}

/* Handle pending signals; returns 1 when `pid` has exited (status in *status). */
static int on_signals(struct sup *u, pid_t pid, int *status) {
  struct signalfd_siginfo si;
  int exited = 0;
  while (read(u->sigfd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      if (pid > 0 && waitpid(pid, status, WNOHANG) == pid) exited = 1;
    } else {
      stop(u, pid);
    }
  }
  return exited;
}

static void pump(struct sup *u, int *fd) {
  char buf[16384];
  for (;;) {
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n > 0) { log_write(&u->log, buf, n); continue; }
    if (n == 0 || (errno != EINTR && errno != EAGAIN)) { close(*fd); *fd = -1; }
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}


/* One run of the zone; returns its exit status (128+N for signal N). */
static int run_once(struct sup *u) {
  const struct spec *s = u->s;
  int syncp[2], logp[2];
  if (pipe2(syncp, O_CLOEXEC) < 0 || pipe2(logp, O_CLOEXEC) < 0) {
    zerr_set(&u->err, "pipe2", "zone %s", s->zone);
    goto setup_failed;
  }
  /* made here, in the host's pid namespace, where /proc/PID is the holder's */
  int userns_fd = s->userns_count ? userns_create(s->userns_base, s->userns_count, &u->err) : -1;
  if (s->userns_count && userns_fd < 0) {
    close(syncp[0]); close(syncp[1]); close(logp[0]); close(logp[1]);
    goto setup_failed;
  }
  /* init is cloned straight into its cgroup2 cgroup, which costs no cgroup move (v1: it moves itself) */
  int cgroup_fd = cgroup2_dir(s->cgroups), moved;
  pid_t pid = clone_into(CLONE_NEWPID, cgroup_fd, &moved);
  if (cgroup_fd >= 0 && pid != 0) close(cgroup_fd);
  if (userns_fd >= 0 && pid != 0) close(userns_fd);
  if (pid < 0) {
    zerr_set(&u->err, "clone", "CLONE_NEWPID for zone %s", s->zone);
    close(syncp[0]); close(syncp[1]); close(logp[0]); close(logp[1]);
    goto setup_failed;
  }
  if (pid == 0) {
    close(syncp[0]);
    close(logp[0]);
    close(u->sigfd);
    if (u->start_fd >= 0) close(u->start_fd);
    struct zone_fds fds = {.sync = syncp[1], .log = logp[1], .userns = userns_fd, .cloned = moved, .go = u->go_fd, .init = u->init_fd};
    zone_main(s, &fds);
  }
  close(syncp[1]);
  close(logp[1]);
  /* only the zone's init waits for zonectl's go, and only on the first run */
  if (u->go_fd >= 0) close(u->go_fd);
  u->go_fd = -1;
  u->rec.init_pid = pid;
  u->rec.init_start = proc_starttime(pid);
  struct msg m;
  int r = msg_recv(syncp[0], &m);
  close(syncp[0]);
  if (r == 1 && m.type == MSG_ERROR) {
    u->err = m.err;
    u->rec.error = &u->err;
    struct msg e = {.type = MSG_ERROR, .err = m.err};
    report(u, &e);
  } else {
    u->rec.state = "running";
    u->rec.started_at = now_ms();
    u->rec.exit_code = -1;
    u->rec.error = NULL;
    save(u);
    struct msg ok = {.type = MSG_READY, .pid = pid, .started_at = u->rec.started_at};
    report(u, &ok);
  }
  fcntl(logp[0], F_SETFL, O_NONBLOCK);
  int logfd = logp[0], status = 0;
  for (;;) {
    struct pollfd p[2] = {{u->sigfd, POLLIN, 0}, {logfd, POLLIN, 0}};
    int timeout = -1;
    if (u->kill_at) {
      long long left = u->kill_at - mono_ms();
      timeout = left > 0 ? (int)left : 0;
    }
    if (poll(p, logfd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR) break;
    if (logfd >= 0 && p[1].revents) pump(u, &logfd);
    if (u->kill_at && mono_ms() >= u->kill_at) {
      kill(pid, SIGKILL); /* pid 1 of the namespace: the kernel kills every process in it */
      u->kill_at = 0;
    }
    if (p[0].revents && on_signals(u, pid, &status)) break;
  }
  u->kill_at = 0;
  if (logfd >= 0) pump(u, &logfd); /* the namespace is empty: every writer is gone */
  if (logfd >= 0) close(logfd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

setup_failed:
  u->rec.error = &u->err;
  {
    struct msg e = {.type = MSG_ERROR, .err = u->err};
    report(u, &e);
  }
  return 125;
}

/* The restart policy in force: STATE_DIR/restart ("no 0", "always -1", "on-failure N") when
 * zonectl wrote one (restart changes in place), else the spec's. */
static void policy(const struct sup *u, enum restart_policy *p, int *max) {
  *p = u->s->restart;
  *max = u->s->max_retries;
  char path[4096], buf[64], name[16];
  snprintf(path, sizeof path, "%s/restart", u->s->state_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  int m;
  if (sscanf(buf, "%15s %d", name, &m) != 2 || m < -1) return;
  if (!strcmp(name, "no")) *p = RESTART_NO;
  else if (!strcmp(name, "always")) *p = RESTART_ALWAYS;
  else if (!strcmp(name, "on-failure")) *p = RESTART_ON_FAILURE;
  else return;
  *max = m;
}

static int should_restart(const struct sup *u, int code) {
  enum restart_policy p;
  int max;
  policy(u, &p, &max);
  switch (p) {
  case RESTART_ALWAYS: return 1;
  case RESTART_ON_FAILURE: return code != 0 && (max < 0 || u->rec.restarts < max);
  case RESTART_NO: break;
  }
  return 0;
}

/* Sleep `ms` unless asked to stop; returns 1 when stopping. */
static int backoff(struct sup *u, int ms) {
  long long until = mono_ms() + ms;
  while (!u->stopping) {
    long long left = until - mono_ms();
    if (left <= 0) return 0;
    struct pollfd p = {u->sigfd, POLLIN, 0};
    int st;
    if (poll(&p, 1, (int)left) > 0) on_signals(u, 0, &st);
  }
  return 1;
}

void supervise(const struct spec *s, int start_fd, int go_fd) {
  struct sup u = {.s = s, .start_fd = start_fd, .go_fd = go_fd, .sigfd = -1, .init_fd = init_image()};
  u.rec = (struct record){.state = "starting", .supervisor_pid = getpid(), .exit_code = -1};
  u.rec.supervisor_start = proc_starttime(u.rec.supervisor_pid);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  u.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  u.log = (struct zlog){.path = s->log_path, .max_bytes = s->log_max_bytes, .max_files = s->log_max_files};
  if (u.sigfd < 0 || log_open(&u.log) < 0) {
    zerr_set(&u.err, u.sigfd < 0 ? "signalfd" : "open", "%s", u.sigfd < 0 ? "supervisor" : s->log_path);
    u.rec.error = &u.err;
    u.rec.state = "exited";
    save(&u);
    struct msg e = {.type = MSG_ERROR, .err = u.err};
    report(&u, &e);
    _exit(1);
  }
  save(&u);
  int delay = BACKOFF_MIN_MS;
  for (;;) {
    long long t0 = mono_ms();
    int first = u.start_fd >= 0;
    int code = run_once(&u);
    u.rec.exit_code = code;
    u.rec.init_pid = 0;
    u.rec.init_start = 0;
    /* a zone that cannot start the first time is reported, not retried */
    if ((first && u.rec.error) || u.stopping || !should_restart(&u, code)) {
      u.rec.state = "exited";
      save(&u);
      break;
    }
    if (mono_ms() - t0 > STABLE_MS) delay = BACKOFF_MIN_MS;
    u.rec.state = "restarting";
    save(&u);
    if (backoff(&u, delay)) {
      u.rec.state = "exited";
      save(&u);
      break;
    }
    delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    u.rec.restarts++;
  }
  _exit(0);
}

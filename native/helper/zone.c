#include "zone.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "init.h"
#include "proc.h"
#include "rootfs.h"
#include "seccomp.h"

const struct ns_step NAMESPACES[] = {
  {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},
  {CLONE_NEWNET, "net"},       {CLONE_NEWPID, "pid"}, {CLONE_NEWNS, "mnt"},
  {CLONE_NEWUSER, "user"}, /* only with privileges.userns, and last: see zone.h */
};
const int NAMESPACE_COUNT = sizeof NAMESPACES / sizeof NAMESPACES[0];

int cgroups_join_self(char *const *cgroups, int cloned, struct zerr *z) {
  for (; *cgroups; cgroups++) {
    const char *procs = *cgroups, *slash = strrchr(procs, '/');
    char tasks[4096];
    if (slash && (size_t)snprintf(tasks, sizeof tasks, "%.*s/tasks", (int)(slash - procs), procs) < sizeof tasks) {
      int fd = open(tasks, O_WRONLY | O_CLOEXEC | O_NOCTTY);
      if (fd >= 0) {
        int rc = write_all(fd, "0", 1);
        int e = errno;
        close(fd);
        if (rc < 0) return zerr_setn(z, e, "write", "%s", tasks);
        continue;
      }
      if (errno != ENOENT) return zerr_set(z, "open", "%s", tasks);
    }
    /* cgroup2 has no `tasks`: the process moves whole, unless it was cloned there */
    if (!cloned && write_file(procs, "0", z) < 0) return -1;
  }
  return 0;
}

int cgroup2_dir(char *const *cgroups) {
  int found = -1;
  for (; cgroups && *cgroups; cgroups++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", *cgroups);
    char *slash = strrchr(dir, '/');
    if (!slash) continue;
    *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct statfs sf;
    if (fd < 0) continue;
    if (fstatfs(fd, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
      close(fd);
    } else if (found >= 0) { /* two cgroup2 ones: a process is in one cgroup2 hierarchy */
      close(fd);
      close(found);
      return -1;
    } else {
      found = fd;
    }
  }
  return found;
}

pid_t clone_into(unsigned long flags, int cgroup_fd, int *moved) {
  *moved = 0;
  if (cgroup_fd >= 0) {
    struct clone_args a = {.flags = flags | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgroup_fd};
    pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof a);
    if (pid >= 0) {
      *moved = 1;
      return pid;
    }
    if (errno != ENOSYS && errno != E2BIG) return -1;
  }
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

static int enter_namespaces(struct zerr *z) {
  for (int i = 0; i < NAMESPACE_COUNT; i++) {
    int flag = NAMESPACES[i].flag;
    /* pid: clone() made it; net: the supervisor's, which is the zone's (main.c); cgroup: after
     * the root (rooted at the zone's cgroup); user: last */
    if (flag == CLONE_NEWPID || flag == CLONE_NEWNET || flag == CLONE_NEWCGROUP || flag == CLONE_NEWUSER) continue;
    if (unshare(flag) < 0) return zerr_set(z, "unshare", "%s namespace", NAMESPACES[i].name);
  }
  return 0;
}

/* execve, searching the zone's PATH for a bare name (no shell fallback for ENOEXEC, unlike execvp). */
static int exec_path(char *const *argv, char *const *env, struct zerr *z) {
  if (strchr(argv[0], '/')) {
    execve(argv[0], argv, env);
    return zerr_set(z, "execve", "%s", argv[0]);
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char *const *e = env; *e; e++)
    if (!strncmp(*e, "PATH=", 5)) path = *e + 5;
  int err = ENOENT;
  for (const char *p = path;; p++) {
    const char *colon = strchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strlen(p);
    char file[4096];
    if (snprintf(file, sizeof file, "%.*s/%s", (int)n, n ? p : ".", argv[0]) < (int)sizeof file) {
      execve(file, argv, env);
      if (errno == EACCES) err = EACCES;  /* keep looking, but report it if nothing else runs */
      else if (errno != ENOENT && errno != ENOTDIR) return zerr_set(z, "execve", "%s", file);
    }
    if (!colon) break;
    p = colon;
  }
  return zerr_setn(z, err, "execve", "%s", argv[0]);
}

/* Every disposition back to the default: an ignored signal stays ignored across exec, and
 * zonectl may run under nohup, or spawn the helper with glibc's own signals (32, 33) ignored.
 * The raw system call: glibc refuses to touch its own two. */
static void default_signals(void) {
  struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } dfl = {0};
  for (int sig = 1; sig <= 64; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
}

int exec_command(const struct spec *s, char *const *argv, struct zerr *z) {
  sigset_t none;
  sigemptyset(&none);
  default_signals();
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* until execve replaces this image, /proc/PID/exe is the host's helper: keep the zone out */
  if (prctl(PR_SET_DUMPABLE, 0) < 0) return zerr_set(z, "prctl PR_SET_DUMPABLE", "0");
  if (privileges_drop(s->user, s->caps, z) < 0) return -1;
  if (chdir(s->workdir) < 0) return zerr_set(z, "chdir", "%s", s->workdir);
  /* no descriptor of the helper reaches the command; the sync pipe closes on exec */
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) return zerr_set(z, "close_range", "3..");
  if (s->seccomp && seccomp_default(s->caps, z) < 0) return -1;
  return exec_path(argv, s->env, z);
}

static void fail(int sync_fd, const struct zerr *z, int code) {
  struct msg m = {.type = MSG_ERROR, .err = *z};
  msg_send(sync_fd, &m);
  _exit(code);
}

/* One byte from `fd` that must be `want`: zonectl's word that the zone may run. EOF or
 * anything else: not going ahead. */
static int await_byte(int fd, char want) {
  char c = 0;
  ssize_t n;
  do n = read(fd, &c, 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  return n == 1 && c == want ? 0 : -1;
}

void zone_main(const struct spec *s, const struct zone_fds *fds) {
  struct zerr z = {0};
  int sync_fd = fds->sync, userns_fd = fds->userns;
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* the zone never outlives its supervisor */
  /* Not dumpable: the zone cannot open /proc/1/exe (this host binary: CVE-2019-5736) or /proc/1/mem. */
  prctl(PR_SET_DUMPABLE, 0);
  /* first, still single-threaded and in the host's mount namespace (see cgroups_join_self) */
  if (cgroups_join_self(s->cgroups, fds->cloned, &z) < 0) fail(sync_fd, &z, 125);
  if (enter_namespaces(&z) < 0) fail(sync_fd, &z, 125);
  if (sethostname(s->hostname, strlen(s->hostname)) < 0) {
    zerr_set(&z, "sethostname", "%s", s->hostname);
    fail(sync_fd, &z, 125);
  }
  if (rootfs_enter(s, userns_fd, &z) < 0) fail(sync_fd, &z, 125);
  /* its root is the zone's cgroup, which this process joined first thing */
  if (unshare(CLONE_NEWCGROUP) < 0) {
    zerr_set(&z, "unshare", "cgroup namespace");
    fail(sync_fd, &z, 125);
  }
  if (userns_fd >= 0) {
    /* init too: pid 1 keeps no host privilege (nor host root's files) the zone could reach through it */
    if (setns(userns_fd, CLONE_NEWUSER) < 0) {
      zerr_set(&z, "setns", "user namespace %u:%u", s->userns_base, s->userns_count);
      fail(sync_fd, &z, 125);
    }
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
      zerr_set(&z, "setresuid", "0 in the user namespace (host %u)", s->userns_base);
      fail(sync_fd, &z, 125);
    }
    close(userns_fd);
  }
  /* zonectl's go: the zone's network is plumbed (its cgroup's limits were written before the start) */
  if (fds->go >= 0 && await_byte(fds->go, 'g') < 0) {
    zerr_setn(&z, ECANCELED, "start", "zone %s: zonectl called the start off", s->zone);
    fail(sync_fd, &z, 125);
  }
  int log_fd = fds->log;
  /* the main process waits on the gate until pid 1 is zonectl-init and out of reach (init.h) */
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0) {
    zerr_set(&z, "pipe2", "gate");
    fail(sync_fd, &z, 125);
  }
  /* blocked from here on in pid 1, across its exec: no signal is lost, none kills it */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t child = fork();
  if (child < 0) {
    zerr_set(&z, "fork", "main process");
    fail(sync_fd, &z, 125);
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(gate[1]);
    char c;
    while (read(gate[0], &c, 1) < 0 && errno == EINTR) {}
    close(gate[0]);
    setsid();
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || dup2(in, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) {
      zerr_set(&z, "dup2", "stdio");
      fail(sync_fd, &z, 125);
    }
    exec_command(s, s->argv, &z);
    fail(sync_fd, &z, z.err == ENOENT ? 127 : 126);
  }
  close(sync_fd);
  close(gate[0]);
  if (null_stdio(&z) == 0) close(log_fd);
  init_exec(fds->init, child, gate[1]);
  close(gate[1]); /* pid 1 stays this helper */
  init_run(child);
}

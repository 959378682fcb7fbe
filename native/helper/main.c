/* zonectl-helper: creates, supervises and enters zones for zonectl (see ../../src/host/zone/).
 *
 *   zonectl-helper serve
 *       Starts zones, one forked process each, on requests read from stdin, one a line, fields
 *       separated by tabs:
 *         start ID SPECFILE NETNS GO   start the zone of SPECFILE in the network namespace at
 *                                      NETNS (a path: zonectl's /proc/PID/fd/N); GO 1: the
 *                                      zone's command waits for `go`
 *         go ID                        zonectl has plumbed the namespace (the zone's limits
 *                                      were written before the start): the command may run
 *         cancel ID                    the start is called off: nothing of it stays behind
 *         join PROCS...                the supervisors of the starts that follow are born in
 *                                      these cgroups (cgroup.procs files, one per hierarchy):
 *                                      they outlive zonectl, and must not stay in its caller's
 *                                      cgroup (a service or a session that ends kills what is
 *                                      left in its cgroup). One cgroup2 directory: cloned into
 *                                      it; else each moves itself there. A start whose
 *                                      supervisor cannot get there answers with why
 *       and answers each start with one line on stdout, "ID ok INIT_PID STARTED_AT_MS" once the
 *       zone's command was exec'd or "ID error ERRNO OP<TAB>DETAIL". EOF on stdin calls off
 *       the starts still waiting for `go`; it exits once every start has answered. The
 *       supervisor of each zone stays behind, detached, in the zone's network namespace: it
 *       holds the namespace for as long as it supervises the zone, across restarts (no mount
 *       pins it), and every run of the zone inherits it.
 *       One process for all the starts of a zonectl run, rather than one exec of this program
 *       a zone: an exec of a static glibc program runs glibc's start-up, whose dozens of CPUID
 *       instructions each trap to the hypervisor in a VM (~4 us each here: 0.3 ms a zone).
 *   zonectl-helper hostname INIT_PID NAME
 *       Sets the running zone's hostname; prints "ok" or "error ERRNO OP<TAB>DETAIL".
 *   zonectl-helper exec SPECFILE INIT_PID [--tty] -- CMD [ARG...]
 *       Runs CMD inside the running zone; exits with its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "proc.h"
#include "spec.h"
#include "supervise.h"
#include "zone.h"

/* `serve`: the request a start's report answers, printed before it ("ID "); NULL otherwise */
static const char *report_id;

/* `serve`: the cgroup.procs files of the last `join` (NULL-terminated), where each start's
 * supervisor is to be born; NULL: where serve is */
static char **join_procs;

static int usage(void) {
  dprintf(2, "usage: zonectl-helper serve\n"
             "       zonectl-helper hostname INIT_PID NAME\n"
             "       zonectl-helper exec SPECFILE INIT_PID [--tty] -- CMD [ARG...]\n");
  return 2;
}

static void print_error(const struct zerr *z) {
  char detail[sizeof z->detail];
  snprintf(detail, sizeof detail, "%s", z->detail);
  for (char *p = detail; *p; p++)
    if (*p == '\n' || *p == '\t') *p = ' ';
  printf("%s%serror %d %s\t%s\n", report_id ? report_id : "", report_id ? " " : "", z->err, z->op, detail);
}

static int load(const char *path, struct spec *s, struct zerr *z) {
  char *buf;
  long len;
  if (spec_read_file(path, &buf, &len, z) < 0) return -1;
  return spec_parse(buf, len, s, z);
}

/* mkdir -p: `path` and its missing parents, each with `mode` (under the umask). */
static int make_dirs(const char *path, mode_t mode) {
  char p[4096];
  if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p) {
    errno = ENAMETOOLONG;
    return -1;
  }
  char *end = p + strlen(p);
  char *slash = end;
  /* up to the deepest directory there is, then down again making each */
  while (mkdir(p, mode) < 0) {
    if (errno == EEXIST) break;
    if (errno != ENOENT || (slash = strrchr(p, '/')) == NULL || slash == p) return -1;
    *slash = '\0';
  }
  while (slash < end) {
    *slash = '/';
    slash += strlen(slash);
    if (mkdir(p, mode) < 0 && errno != EEXIST) return -1;
  }
  return 0;
}

/* Marks `dir` TOPDIR where the filesystem knows the flag (ext2/3/4; others refuse it: nothing to
 * do there). ext4 then places each new subdirectory in a block group of its own (Orlov), and a
 * file near its directory: each zone's layer, log and overlayfs's mount-time probes of its work
 * directory stay in its zone's group. Without a journal, ext4 reads past every inode of a group
 * deleted in the last minutes for each inode it allocates there (recently_deleted): with every
 * zone in one group, that was every other zone's, O(zones) a zone. */
static void spread_subdirs(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
    flags |= FS_TOPDIR_FL;
    (void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  close(fd);
}

/* `path` without its last component, into `out`. */
static void parent_of(const char *path, char *out, size_t size) {
  snprintf(out, size, "%s", path);
  char *slash = strrchr(out, '/');
  if (slash && slash != out) *slash = '\0';
}

/* The zone's writable layer and the directory that holds it and the log (on the disk, where
 * each new directory costs an inode): made here, in this process, not on zonectl's busy main
 * thread. With privileges.userns, the top of the layer is the zone root's: what it writes is
 * owned by its own ids. */
static int make_layer(const struct spec *s, struct zerr *z) {
  char dir[4096], zones[4096];
  parent_of(s->upper, dir, sizeof dir);
  parent_of(dir, zones, sizeof zones);
  /* ENOENT: another zone's removal took the project's then empty parents away meanwhile
   * (zonectl removes them with the project's last zone): make them again */
  for (int attempt = 1;; attempt++) {
    const char *failed = zones;
    if (make_dirs(zones, 0755) == 0) {
      spread_subdirs(zones); /* before the zone's directory: its group is chosen at its mkdir */
      if (mkdir(dir, 0755) < 0 && errno != EEXIST) failed = dir;
      else if (mkdir(s->upper, 0755) < 0 && errno != EEXIST) failed = s->upper;
      else if (mkdir(s->work, 0700) < 0 && errno != EEXIST) failed = s->work;
      else failed = NULL;
    }
    if (!failed) break;
    if (errno != ENOENT || attempt == 5) return zerr_set(z, "mkdir", "%s", failed);
  }
  if (s->userns_count && chown(s->upper, s->userns_base, s->userns_base) < 0)
    return zerr_set(z, "chown", "%s to %u", s->upper, s->userns_base);
  return 0;
}

/* One zone's start, in a process of its own (forked by serve): enters the network namespace at
 * `netns`, forks the zone's supervisor and reports its readiness on stdout. `go_fd`: the pipe
 * on which zonectl writes 'g' once the command may run (EOF: called off), or -1. */
static int start(const char *path, const char *netns, int go_fd) {
  struct spec s;
  struct zerr z = {0};
  if (load(path, &s, &z) < 0 || make_layer(&s, &z) < 0) {
    print_error(&z);
    return 1;
  }
  /* into zonectl's namespace before the fork: the supervisor and every run of the zone are in it */
  int ns = open(netns, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    zerr_set(&z, ns < 0 ? "open" : "setns", "%s (the zone's network namespace)", netns);
    print_error(&z);
    return 1;
  }
  close(ns);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    zerr_set(&z, "pipe2", "start");
    print_error(&z);
    return 1;
  }
  fflush(stdout);
  /* One fork, not two: the supervisor leads a session of its own (setsid), and becomes init's
   * child (or the nearest subreaper's) when this process exits after its report. Leading a
   * session, it could gain a controlling terminal by opening one: it opens none (its stdio is
   * /dev/null, then the zone's log and files under /run and /sys), and the zone's command runs
   * in a session of its own. It is born in the supervisors' cgroup2 cgroup (`join`), if any: a
   * move there would wait for an RCU grace period (zone.h); it moves itself into v1 ones. */
  int cg = cgroup2_dir(join_procs), moved = 0;
  pid_t sup = cg >= 0 ? clone_into(0, cg, &moved) : fork();
  if (cg >= 0 && sup != 0) close(cg);
  if (sup < 0) {
    zerr_set(&z, cg >= 0 ? "clone3" : "fork", "supervisor%s", cg >= 0 ? " into its cgroup2 cgroup" : "");
    print_error(&z);
    return 1;
  }
  if (sup == 0) {
    close(p[0]);
    if (cg >= 0) close(cg);
    if (join_procs && cgroups_join_self(join_procs, moved, &z) < 0) {
      struct msg e = {.type = MSG_ERROR, .err = z};
      msg_send(p[1], &e);
      _exit(1);
    }
    setsid();
    if (chdir("/") < 0 || null_stdio(&z) < 0) _exit(1);
    umask(022);
    supervise(&s, p[1], go_fd);
  }
  close(p[1]);
  if (go_fd >= 0) close(go_fd);
  struct msg m;
  int r = msg_recv(p[0], &m);
  if (r == 1 && m.type == MSG_READY) {
    printf("%s ok %d %lld\n", report_id, m.pid, m.started_at);
    return 0;
  }
  if (r == 1 && m.type == MSG_ERROR) {
    print_error(&m.err);
  } else {
    zerr_setn(&z, EPIPE, "supervise", "the supervisor of zone %s exited before reporting", s.zone);
    print_error(&z);
  }
  return 1;
}

/* serve's command line and environment, in place (main): name_start overwrites them */
static char **args;
static int nargs;

/* What `ps` shows of this process and of the supervisor it forks: "zonectl-helper start SPECFILE",
 * as when each start was an exec of its own, not serve's command line. Written over the
 * arguments, and past them over the environment strings (which no start reads) when it is
 * longer: the kernel then reads the command line up to its NUL (setproctitle's convention).
 * prctl(PR_SET_MM) would need CAP_SYS_RESOURCE. */
static void name_start(const char *spec) {
  char *start = args[0], *end = args[nargs - 1] + strlen(args[nargs - 1]) + 1; /* the argument area */
  char *limit = end;
  extern char **environ;
  for (char **e = environ; *e && *e == limit; e++) limit = *e + strlen(*e) + 1; /* and the environment's */
  char title[4200];
  int n = snprintf(title, sizeof title, "zonectl-helper start %s", spec);
  if (n < 0 || n >= limit - start) return; /* a title cut short would name the wrong zone */
  char *stop = start + n < end ? end : limit; /* within the arguments: the environment stays */
  if (stop != end) clearenv();                  /* its strings are overwritten */
  memset(start, 0, (size_t)(stop - start));
  memcpy(start, title, (size_t)n);
}

/* A start request that has not answered yet. */
struct job {
  char id[32];
  pid_t pid;
  int go; /* our end of its go pipe, or -1 once written or closed */
};

static struct job *jobs;
static size_t njobs, jobs_cap;

static struct job *job_by_id(const char *id) {
  for (size_t i = 0; i < njobs; i++)
    if (!strcmp(jobs[i].id, id)) return &jobs[i];
  return NULL;
}

static void close_go(struct job *j) {
  if (j->go >= 0) close(j->go);
  j->go = -1;
}

/* An answer of serve's own for request `id` (one write: answers never interleave). */
static void answer_error(const char *id, int err, const char *op, const char *detail) {
  printf("%s error %d %s\t%s\n", id, err, op, detail);
  fflush(stdout);
}

static void serve_start(char *id, char *spec, char *netns, char *go, const sigset_t *mask) {
  if (strlen(id) >= sizeof jobs->id || job_by_id(id) || (strcmp(go, "0") && strcmp(go, "1"))) {
    answer_error(id, EINVAL, "serve", "a bad or repeated start request");
    return;
  }
  if (njobs == jobs_cap) {
    size_t cap = jobs_cap ? 2 * jobs_cap : 64;
    struct job *j = realloc(jobs, cap * sizeof *j);
    if (!j) {
      answer_error(id, ENOMEM, "serve", "start");
      return;
    }
    jobs = j;
    jobs_cap = cap;
  }
  int p[2] = {-1, -1};
  if (*go == '1' && pipe2(p, O_CLOEXEC) < 0) {
    answer_error(id, errno, "pipe2", "start");
    return;
  }
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    if (p[0] >= 0) {
      close(p[0]);
      close(p[1]);
    }
    answer_error(id, e, "fork", "start");
    return;
  }
  if (pid == 0) {
    /* Only its own go pipe, as descriptor 3: the supervisor lives on, and another start's pipe
     * held here would keep that start from ever reading EOF. */
    int go_fd = -1;
    if (p[0] >= 0) {
      if (dup3(p[0], 3, O_CLOEXEC) < 0) _exit(1);
      go_fd = 3;
    }
    close_range(go_fd < 0 ? 3 : 4, ~0U, 0);
    signal(SIGPIPE, SIG_DFL); /* the supervisor's, as when it was exec'd */
    sigprocmask(SIG_SETMASK, mask, NULL);
    name_start(spec);
    report_id = id;
    exit(start(spec, netns, go_fd));
  }
  if (p[0] >= 0) close(p[0]);
  struct job *j = &jobs[njobs++];
  snprintf(j->id, sizeof j->id, "%s", id);
  j->pid = pid;
  j->go = p[1];
}

/* `join`: where the supervisors of the starts that follow are born (see the usage). */
static void serve_join(char **procs) {
  if (join_procs)
    for (char **f = join_procs; *f; f++) free(*f);
  free(join_procs);
  size_t n = 0;
  while (procs[n]) n++;
  join_procs = calloc(n + 1, sizeof *join_procs);
  for (size_t i = 0; join_procs && i < n; i++)
    if (!(join_procs[i] = strdup(procs[i]))) exit(1); /* out of memory: serve cannot go on */
  if (!join_procs) exit(1);
}

#define MAX_FIELDS 24 /* a `join` names a cgroup.procs file per hierarchy: a dozen on v1 */

/* One request line, its fields split at tabs in place. */
static void serve_request(char *line, const sigset_t *mask) {
  char *f[MAX_FIELDS + 1];
  int n = 0;
  for (char *p = line; n < MAX_FIELDS; n++) {
    f[n] = p;
    p = strchr(p, '\t');
    if (!p) {
      n++;
      break;
    }
    *p++ = '\0';
  }
  if (n == 5 && !strcmp(f[0], "start")) {
    serve_start(f[1], f[2], f[3], f[4], mask);
  } else if (n >= 2 && !strcmp(f[0], "join")) {
    f[n] = NULL;
    serve_join(&f[1]);
  } else if (n == 2 && (!strcmp(f[0], "go") || !strcmp(f[0], "cancel"))) {
    struct job *j = job_by_id(f[1]);
    /* a failed write (EPIPE): the start failed already, and answers so */
    if (j && j->go >= 0 && f[0][0] == 'g') (void)!write(j->go, "g", 1);
    if (j) close_go(j);
  } else {
    dprintf(2, "zonectl-helper serve: a bad request ignored: %s\n", f[0]);
  }
}

/* Reaps the start processes that have exited; one that died without its answer gets one. */
static void reap(void) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (size_t i = 0; i < njobs; i++) {
      if (jobs[i].pid != pid) continue;
      close_go(&jobs[i]);
      if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
        char detail[96];
        snprintf(detail, sizeof detail, "its start process ended without an answer (wait status %d)", st);
        answer_error(jobs[i].id, EPIPE, "start", detail);
      }
      jobs[i] = jobs[--njobs];
      break;
    }
  }
}

static int serve(void) {
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &chld, &old) < 0) return 1;
  /* EPIPE, not death: a go for a start whose supervisor failed meanwhile, or answers for a
   * zonectl that is gone, must not take the other starts down with this process */
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    dprintf(2, "zonectl-helper serve: signalfd: %s\n", strerror(errno));
    return 1;
  }
  char buf[16384];
  size_t len = 0;
  int eof = 0;
  while (!eof || njobs > 0) {
    struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    if (poll(p, eof ? 1 : 2, -1) < 0) {
      if (errno == EINTR) continue;
      dprintf(2, "zonectl-helper serve: poll: %s\n", strerror(errno));
      return 1;
    }
    if (p[0].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
      }
      reap(); /* SIGCHLDs merge: reap() takes every child that has exited */
    }
    if (eof || !p[1].revents) continue;
    ssize_t r = read(0, buf + len, sizeof buf - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      eof = 1; /* zonectl is done (or gone): whatever still waits for go is called off */
      for (size_t i = 0; i < njobs; i++) close_go(&jobs[i]);
      continue;
    }
    len += (size_t)r;
    char *line = buf, *nl;
    while ((nl = memchr(line, '\n', len - (size_t)(line - buf)))) {
      *nl = '\0';
      serve_request(line, &old);
      line = nl + 1;
    }
    len -= (size_t)(line - buf);
    memmove(buf, line, len);
    if (len == sizeof buf) {
      dprintf(2, "zonectl-helper serve: a request line longer than %zu bytes\n", sizeof buf);
      return 1;
    }
  }
  return 0;
}

static int exec_cmd(int argc, char **argv) {
  /* exec SPECFILE PID [--tty] -- CMD... */
  if (argc < 5) return usage();
  int tty = 0, i = 4;
  if (!strcmp(argv[i], "--tty")) { tty = 1; i++; }
  if (i >= argc || strcmp(argv[i], "--") || i + 1 >= argc) return usage();
  char *end;
  long pid = strtol(argv[3], &end, 10);
  if (*end || pid <= 0) return usage();
  struct spec s;
  struct zerr z = {0};
  if (load(argv[2], &s, &z) < 0) {
    zerr_print(&z);
    return 125;
  }
  return exec_in_zone(&s, (pid_t)pid, tty, &argv[i + 1]);
}

/* hostname changes in place: enter the zone's uts namespace (through its init) and set it. */
static int hostname_cmd(const char *pidtext, const char *name) {
  struct zerr z = {0};
  char *end;
  long pid = strtol(pidtext, &end, 10);
  if (*end || pid <= 0 || !*name || strlen(name) > 64) return usage();
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/uts", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) zerr_set(&z, "open", "%s", path);
  else if (setns(fd, CLONE_NEWUTS) < 0) zerr_set(&z, "setns", "%s", path);
  else if (sethostname(name, strlen(name)) < 0) zerr_set(&z, "sethostname", "%s", name);
  if (fd >= 0) close(fd);
  if (z.err) {
    print_error(&z);
    return 1;
  }
  printf("ok\n");
  return 0;
}

int main(int argc, char **argv) {
  args = argv;
  nargs = argc;
  if (argc == 2 && !strcmp(argv[1], "serve")) return serve();
  if (argc == 4 && !strcmp(argv[1], "hostname")) return hostname_cmd(argv[2], argv[3]);
  if (argc >= 2 && !strcmp(argv[1], "exec")) return exec_cmd(argc, argv);
  return usage();
}

/* The escape probe: run inside a zone (or, to show that its checks bite, in a weak sandbox),
 * it tries what a zone must not be able to do and prints one line per check:
 *   PASS name: why the attempt failed     FAIL name: what got through
 * Every attempt is harmless even when it succeeds: values written are the ones already there,
 * signals are signal 0, module and clock calls use arguments the kernel rejects (EINVAL,
 * EBADF, ENOENT) only after its permission check, mounts are undone, children are reaped.
 *
 *   probe escape [OPTIONS] [CHECK...]   all checks, or the named ones; exit 1 on any FAIL
 *     --marker STR        a string in the argv of a host process (host-processes)
 *     --marker-pid PID    that process's host pid (signal-host, ptrace)
 *     --host-ns KIND=INO  a host namespace's inode (mnt, pid, net...; check host-ns), repeated
 *     --connect NAME=IP:PORT  a TCP endpoint that must be unreachable (check reach-NAME), repeated
 *     --memory BYTES      the zone's memory limit (memory-limit touches twice that)
 *     --pids N            the zone's pids limit (pids-limit forks N + 16 children)
 *     --scratch DIR       a writable directory (default /tmp)
 *   probe syscalls         one line per system call: NAME ERRNO (or "ok"), harmless arguments
 *   probe listen PORT      accept TCP connections forever
 *   probe connect IP:PORT  exit 0 when a TCP connection succeeds within 2 s
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static const char *marker, *scratch = "/tmp";
static pid_t marker_pid;
static long long memory_limit;
static int pids_limit;
static char *host_ns[16], *connects[16];
static int n_host_ns, n_connects;

static void result(int pass, const char *name, const char *fmt, ...) {
  char detail[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  printf("%s %s: %s\n", pass ? "PASS" : "FAIL", name, detail);
  fflush(stdout);
  if (!pass) failures++;
}

/* append to a NUL-terminated buffer of `size` bytes, truncating */
static void append(char *buf, size_t size, const char *fmt, ...) {
  size_t len = strlen(buf);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + len, size - len, fmt, ap);
  va_end(ap);
}

static const char *ename(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "E?";
}

static int read_text(const char *path, char *buf, size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = read(fd, buf, n - 1);
  close(fd);
  if (r < 0) return -1;
  buf[r] = '\0';
  return (int)r;
}

/* ---- processes ---- */

static int cmdline_has(const char *pid, const char *needle) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
  int n = read_text(path, buf, sizeof buf);
  if (n <= 0) return 0;
  for (int i = 0; i < n - 1; i++)
    if (!buf[i]) buf[i] = ' ';
  return strstr(buf, needle) != NULL;
}

static void check_host_processes(void) {
  if (!marker) return result(1, "host-processes", "skipped: no --marker");
  DIR *d = opendir("/proc");
  if (!d) return result(1, "host-processes", "no /proc: %s", ename(errno));
  struct dirent *e;
  int seen = 0, total = 0;
  while ((e = readdir(d)))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') {
      total++;
      /* this probe's own argv names the marker */
      if (!seen && atoi(e->d_name) != getpid() && cmdline_has(e->d_name, marker)) seen = atoi(e->d_name);
    }
  closedir(d);
  if (seen) return result(0, "host-processes", "the host process \"%s\" is visible as pid %d", marker, seen);
  result(1, "host-processes", "%d processes visible, none of the host's", total);
}

static void check_signal_host(void) {
  if (!marker_pid) return result(1, "signal-host", "skipped: no --marker-pid");
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)marker_pid);
  if (kill(marker_pid, 0) < 0) return result(1, "signal-host", "kill(%d, 0): %s", (int)marker_pid, ename(errno));
  if (marker && !cmdline_has(pid, marker))
    return result(1, "signal-host", "pid %d is one of the zone's own processes, not the host's", (int)marker_pid);
  result(0, "signal-host", "kill(%d, 0) reached the host process", (int)marker_pid);
}

/* Through /proc/PID/ns of every visible process (/proc/1 first), is any of the host's
 * namespaces reachable (openable: what setns needs)? */
static void check_host_ns(void) {
  if (!n_host_ns) return result(1, "host-ns", "skipped: no --host-ns");
  DIR *d = opendir("/proc");
  if (!d) return result(1, "host-ns", "no /proc: %s", ename(errno));
  char got[512] = "";
  int reached = 0, procs = 0, denied = 0;
  struct dirent *e;
  while ((e = readdir(d)) && !reached) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    procs++;
    for (int i = 0; i < n_host_ns; i++) {
      char kind[32], path[300];
      unsigned long long ino;
      if (sscanf(host_ns[i], "%31[^=]=%llu", kind, &ino) != 2) continue;
      snprintf(path, sizeof path, "/proc/%s/ns/%s", e->d_name, kind);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) { denied += errno == EACCES || errno == EPERM; continue; }
      struct stat st;
      if (fstat(fd, &st) == 0 && (unsigned long long)st.st_ino == ino) {
        reached = 1;
        append(got, sizeof got, "opened the host's %s namespace as %s; ", kind, path);
      }
      close(fd);
    }
  }
  closedir(d);
  if (reached) return result(0, "host-ns", "%s", got);
  result(1, "host-ns", "none of the host's namespaces among %d processes (%d ns links denied)", procs, denied);
}

static void check_ptrace(void) {
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  if (child < 0) return result(1, "ptrace", "fork: %s", ename(errno));
  char what[256] = "";
  int got = 0;
  pid_t targets[2] = {child, marker_pid};
  for (int i = 0; i < 2; i++) {
    if (targets[i] <= 0) continue;
    if (ptrace(PTRACE_SEIZE, targets[i], 0, 0) == 0) {
      got = 1;
      append(what, sizeof what, "seized pid %d; ", (int)targets[i]);
    } else {
      append(what, sizeof what, "pid %d: %s; ", (int)targets[i], ename(errno));
    }
  }
  kill(child, SIGKILL); /* a tracer's exit detaches it from the marker too */
  waitpid(child, NULL, 0);
  result(!got, "ptrace", "PTRACE_SEIZE %s", what);
}

/* ---- mounts, /proc/sys, /sys, cgroups ---- */

static int make_dir(char *path, size_t n, const char *name) {
  snprintf(path, n, "%s/zt-esc-%s-%d", scratch, name, (int)getpid());
  return mkdir(path, 0700);
}

static void check_mount(void) {
  char dir[4096];
  if (make_dir(dir, sizeof dir, "mnt") < 0) return result(1, "mount", "mkdir %s: %s (cannot test)", dir, ename(errno));
  int ok = mount("tmpfs", dir, "tmpfs", 0, "size=16k") == 0;
  int e = errno;
  if (ok) umount2(dir, MNT_DETACH);
  int fs = (int)syscall(SYS_fsopen, "tmpfs", 0);
  int e2 = errno;
  if (fs >= 0) close(fs);
  rmdir(dir);
  if (ok || fs >= 0) return result(0, "mount", "%s%s", ok ? "mounted a tmpfs; " : "", fs >= 0 ? "fsopen(tmpfs) succeeded" : "");
  result(1, "mount", "mount: %s, fsopen: %s", ename(e), ename(e2));
}

static void check_proc_sys(void) {
  static const char *const files[] = {"/proc/sys/kernel/sysrq", "/proc/sys/vm/swappiness"};
  char detail[256] = "";
  int wrote = 0;
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char value[64];
    int n = read_text(files[i], value, sizeof value);
    if (n <= 0) continue;
    int fd = open(files[i], O_WRONLY | O_CLOEXEC);
    /* the value that is already there: nothing changes even when this succeeds */
    if (fd >= 0 && write(fd, value, (size_t)n) == n) {
      wrote = 1;
      append(detail, sizeof detail, "wrote %s; ", files[i]);
    } else {
      append(detail, sizeof detail, "%s: %s; ", files[i], ename(errno));
    }
    if (fd >= 0) close(fd);
  }
  result(!wrote, "write-proc-sys", "%s", detail[0] ? detail : "nothing readable");
}

static void check_sys(void) {
  static const char *const files[] = {"/sys/kernel/uevent_helper", "/sys/kernel/mm/transparent_hugepage/enabled",
                                      "/sys/class/net/lo/mtu", "/sys/kernel/profiling"};
  char detail[512] = "";
  int opened = 0;
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    /* opened for writing, never written */
    int fd = open(files[i], O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      opened = 1;
      close(fd);
      append(detail, sizeof detail, "opened %s for writing; ", files[i]);
    } else if (errno != ENOENT) {
      append(detail, sizeof detail, "%s: %s; ", files[i], ename(errno));
    }
  }
  result(!opened, "write-sys", "%s", detail[0] ? detail : "none of the files exists");
}

/* Each line of /proc/self/cgroup names this process's cgroup; write "0" (this process) into
 * that cgroup's cgroup.procs wherever a hierarchy is reachable: a no-op move into itself. */
static void check_cgroup_files(void) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  char line[1024], detail[1024] = "";
  int wrote = 0, tried = 0;
  while (f && fgets(line, sizeof line, f)) {
    char *ctrl = strchr(line, ':'), *path = ctrl ? strchr(ctrl + 1, ':') : NULL;
    if (!path) continue;
    *path++ = '\0';
    ctrl++;
    path[strcspn(path, "\n")] = '\0';
    if (!strncmp(ctrl, "name=", 5)) ctrl += 5;
    char file[2048];
    if (*ctrl) snprintf(file, sizeof file, "/sys/fs/cgroup/%s%s/cgroup.procs", ctrl, path);
    else snprintf(file, sizeof file, "/sys/fs/cgroup/unified%s/cgroup.procs", path);
    if (!*ctrl && access(file, F_OK) < 0) snprintf(file, sizeof file, "/sys/fs/cgroup%s/cgroup.procs", path);
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) { if (errno != ENOENT) { tried++; append(detail, sizeof detail, "%s: %s; ", file, ename(errno)); } continue; }
    tried++;
    if (write(fd, "0", 1) == 1) {
      wrote = 1;
      append(detail, sizeof detail, "wrote %s; ", file);
    }
    close(fd);
  }
  if (f) fclose(f);
  /* no hierarchy mounted: mount one (cgroup2, else the v1 pids hierarchy) */
  char dir[4096];
  if (make_dir(dir, sizeof dir, "cg") == 0) {
    int m = mount("cgroup2", dir, "cgroup2", 0, NULL) == 0 || mount("cgroup", dir, "cgroup", 0, "pids") == 0;
    if (m) {
      wrote = 1;
      append(detail, sizeof detail, "mounted a cgroup hierarchy; ");
      umount2(dir, MNT_DETACH);
    } else {
      append(detail, sizeof detail, "mount cgroup: %s; ", ename(errno));
    }
    rmdir(dir);
  }
  result(!wrote, "write-cgroup", "%s%s", tried ? "" : "no cgroup.procs reachable; ", detail);
}

static void check_release_agent(void) {
  char detail[1024] = "";
  int opened = 0;
  DIR *d = opendir("/sys/fs/cgroup");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char file[512];
    snprintf(file, sizeof file, "/sys/fs/cgroup/%s/release_agent", e->d_name);
    int fd = open(file, O_WRONLY | O_CLOEXEC); /* opened for writing, never written */
    if (fd >= 0) {
      opened = 1;
      close(fd);
      append(detail, sizeof detail, "opened %s for writing; ", file);
    } else if (errno != ENOENT && errno != ENOTDIR) {
      append(detail, sizeof detail, "%s: %s; ", file, ename(errno));
    }
  }
  if (d) closedir(d);
  /* CVE-2022-0492: mount a v1 hierarchy of one's own and write its release_agent */
  char dir[4096];
  if (make_dir(dir, sizeof dir, "ra") == 0) {
    if (mount("cgroup", dir, "cgroup", 0, "pids") == 0 || mount("cgroup", dir, "cgroup", 0, "memory") == 0) {
      char file[4200];
      snprintf(file, sizeof file, "%s/release_agent", dir);
      int fd = open(file, O_WRONLY | O_CLOEXEC);
      append(detail, sizeof detail, "mounted a v1 hierarchy, release_agent %s; ",
               fd >= 0 ? "open for writing" : ename(errno));
      if (fd >= 0) { opened = 1; close(fd); }
      umount2(dir, MNT_DETACH);
    } else {
      append(detail, sizeof detail, "mount v1 cgroup: %s; ", ename(errno));
    }
    rmdir(dir);
  }
  result(!opened, "release-agent", "%s", detail[0] ? detail : "no release_agent anywhere");
}

/* ---- kernel: modules, devices, handles, hostname, clock ---- */

static void check_module(void) {
  /* fd -1: past the permission check the kernel says EBADF; no module is ever read */
  long r1 = syscall(SYS_finit_module, -1, "", 0);
  int e1 = errno;
  long r2 = syscall(SYS_delete_module, "zt_esc_no_such_module", O_NONBLOCK);
  int e2 = errno;
  /* ENOSYS: a kernel built without module support; nothing can be loaded either way */
  int blocked = r1 < 0 && (e1 == EPERM || e1 == ENOSYS) && r2 < 0 && (e2 == EPERM || e2 == ENOSYS);
  result(blocked, "load-module", "finit_module(-1): %s, delete_module(absent): %s", r1 < 0 ? ename(e1) : "ok",
         r2 < 0 ? ename(e2) : "ok");
}

static dev_t some_block_device(void) {
  DIR *d = opendir("/sys/dev/block");
  struct dirent *e;
  unsigned ma = 7, mi = 0; /* loop0 when sysfs says nothing */
  while (d && (e = readdir(d)))
    if (sscanf(e->d_name, "%u:%u", &ma, &mi) == 2) break;
  if (d) closedir(d);
  return makedev(ma, mi);
}

static char block_node[4096];

static void check_mknod(void) {
  snprintf(block_node, sizeof block_node, "%s/zt-esc-blk-%d", scratch, (int)getpid());
  dev_t dev = some_block_device();
  if (mknod(block_node, S_IFBLK | 0600, dev) == 0)
    return result(0, "mknod-block", "made %s (%u:%u)", block_node, major(dev), minor(dev));
  result(1, "mknod-block", "mknod %u:%u: %s", major(dev), minor(dev), ename(errno));
  block_node[0] = '\0';
}

static void check_block_open(void) {
  char detail[1024] = "";
  int opened = 0, seen = 0;
  DIR *d = opendir("/dev");
  struct dirent *e;
  char path[4200];
  while (d && (e = readdir(d))) {
    struct stat st;
    snprintf(path, sizeof path, "/dev/%s", e->d_name);
    if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode)) continue;
    seen++;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* opened, never read */
    if (fd >= 0) {
      if (!opened) append(detail, sizeof detail, "opened %s; ", path);
      opened = 1;
      close(fd);
    }
  }
  if (d) closedir(d);
  if (block_node[0]) {
    int fd = open(block_node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      opened = 1;
      close(fd);
      append(detail, sizeof detail, "opened the made node %s; ", block_node);
    } else {
      append(detail, sizeof detail, "made node: %s; ", ename(errno));
    }
    unlink(block_node);
  }
  result(!opened, "open-block-device", "%d block devices in /dev; %s", seen, detail);
}

static void check_open_by_handle(void) {
  /* the "shocker" escape: a handle for inode 2 (the root of an ext4 filesystem) */
  struct { struct file_handle h; uint32_t ino[2]; } fh = {.h = {.handle_bytes = 8, .handle_type = 1}, .ino = {2, 0}};
  int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = (int)syscall(SYS_open_by_handle_at, root, &fh.h, O_RDONLY | O_CLOEXEC);
  int e = errno;
  if (fd >= 0) close(fd);
  close(root);
  /* EPERM is the permission check; anything else (ESTALE, EINVAL, a descriptor) got past it */
  result(fd < 0 && e == EPERM, "open-by-handle", "open_by_handle_at: %s", fd >= 0 ? "opened" : ename(e));
}

static void check_hostname(void) {
  char name[256];
  if (gethostname(name, sizeof name) < 0) return result(1, "set-hostname", "gethostname: %s", ename(errno));
  /* the name it already has: nothing changes even when this succeeds */
  if (sethostname(name, strlen(name)) == 0) return result(0, "set-hostname", "sethostname(\"%s\") succeeded", name);
  result(1, "set-hostname", "sethostname: %s", ename(errno));
}

static void check_clock(void) {
  /* ADJ_TICK with tick 1: the kernel checks CAP_SYS_TIME first (EPERM), then rejects the value (EINVAL) */
  struct timex tx = {.modes = ADJ_TICK, .tick = 1};
  int r1 = adjtimex(&tx), e1 = errno;
  struct timex tx2 = {.modes = ADJ_TICK, .tick = 1};
  int r2 = (int)syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx2), e2 = errno;
  int blocked = r1 < 0 && e1 == EPERM && r2 < 0 && e2 == EPERM;
  result(blocked, "set-clock", "adjtimex(ADJ_TICK): %s, clock_adjtime(CLOCK_REALTIME, ADJ_TICK): %s",
         r1 < 0 ? ename(e1) : "ok", r2 < 0 ? ename(e2) : "ok");
}

/* ---- descriptors, network, limits ---- */

static void check_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return result(1, "leaked-fd", "no /proc/self/fd: %s", ename(errno));
  char detail[1024] = "";
  int leaked = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d)) continue;
    char path[64], target[256] = "?";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n >= 0) target[n] = '\0';
    leaked = 1;
    append(detail, sizeof detail, "fd %d → %s; ", fd, target);
  }
  closedir(d);
  result(!leaked, "leaked-fd", "%s", leaked ? detail : "only 0, 1 and 2 are open");
}

/* 0 = connected, else errno */
static int tcp_connect(const char *spec, int timeout_ms) {
  char ip[64];
  int port;
  if (sscanf(spec, "%63[^:]:%d", ip, &port) != 2) return EINVAL;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) return EINVAL;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  int rc = 0;
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    rc = errno;
    if (rc == EINPROGRESS) {
      struct pollfd p = {s, POLLOUT, 0};
      int n = poll(&p, 1, timeout_ms);
      socklen_t len = sizeof rc;
      if (n <= 0) rc = ETIMEDOUT;
      else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &rc, &len) < 0) rc = errno;
    }
  }
  close(s);
  return rc;
}

static void check_connect(const char *arg) {
  char name[96], spec[96];
  if (sscanf(arg, "%63[^=]=%95s", name + 6, spec) != 2) return;
  memcpy(name, "reach-", 6);
  int rc = tcp_connect(spec, 1500);
  if (rc == 0) return result(0, name, "connected to %s", spec);
  result(1, name, "connect %s: %s", spec, ename(rc));
}

static void check_memory(void) {
  if (memory_limit <= 0) return result(1, "memory-limit", "skipped: no --memory");
  size_t want = (size_t)memory_limit * 2;
  pid_t child = fork();
  if (child == 0) {
    char *p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) _exit(2);
    for (size_t i = 0; i < want; i += 4096) p[i] = 1;
    _exit(0);
  }
  int st = 0;
  waitpid(child, &st, 0);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return result(0, "memory-limit", "touched %zu bytes (twice the limit)", want);
  if (WIFSIGNALED(st)) return result(1, "memory-limit", "the allocating child was killed by signal %d", WTERMSIG(st));
  result(1, "memory-limit", "the allocating child exited %d (mmap failed)", WEXITSTATUS(st));
}

static void check_pids(void) {
  if (pids_limit <= 0) return result(1, "pids-limit", "skipped: no --pids");
  int want = pids_limit + 16, made = 0, err = 0;
  pid_t kids[4096];
  for (; made < want && made < 4096; made++) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    if (p < 0) { err = errno; break; }
    kids[made] = p;
  }
  for (int i = 0; i < made; i++) kill(kids[i], SIGKILL);
  for (int i = 0; i < made; i++) waitpid(kids[i], NULL, 0);
  if (made >= want) return result(0, "pids-limit", "forked %d processes (the limit is %d)", made, pids_limit);
  result(1, "pids-limit", "fork %d failed: %s", made + 1, ename(err));
}

static const struct { const char *name; void (*run)(void); } CHECKS[] = {
  {"host-processes", check_host_processes}, {"signal-host", check_signal_host},
  {"host-ns", check_host_ns},     {"ptrace", check_ptrace},
  {"mount", check_mount},                   {"write-proc-sys", check_proc_sys},
  {"write-sys", check_sys},                 {"write-cgroup", check_cgroup_files},
  {"release-agent", check_release_agent},   {"load-module", check_module},
  {"mknod-block", check_mknod},             {"open-block-device", check_block_open},
  {"open-by-handle", check_open_by_handle}, {"set-hostname", check_hostname},
  {"set-clock", check_clock},               {"leaked-fd", check_fds},
  {"memory-limit", check_memory},           {"pids-limit", check_pids},
};
#define N_CHECKS (sizeof CHECKS / sizeof CHECKS[0])

static int escape(int argc, char **argv) {
  char *only[64];
  int n_only = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--marker") && v) marker = argv[++i];
    else if (!strcmp(a, "--marker-pid") && v) marker_pid = (pid_t)atoi(argv[++i]);
    else if (!strcmp(a, "--host-ns") && v && n_host_ns < 16) host_ns[n_host_ns++] = argv[++i];
    else if (!strcmp(a, "--connect") && v && n_connects < 16) connects[n_connects++] = argv[++i];
    else if (!strcmp(a, "--memory") && v) memory_limit = atoll(argv[++i]);
    else if (!strcmp(a, "--pids") && v) pids_limit = atoi(argv[++i]);
    else if (!strcmp(a, "--scratch") && v) scratch = argv[++i];
    else if (a[0] != '-' && n_only < 64) only[n_only++] = argv[i];
    else { fprintf(stderr, "probe: bad argument %s\n", a); return 2; }
  }
  for (size_t i = 0; i < N_CHECKS; i++) {
    int run = n_only == 0;
    for (int j = 0; j < n_only; j++) run |= !strcmp(only[j], CHECKS[i].name);
    if (run) CHECKS[i].run();
  }
  for (int i = 0; i < n_connects; i++) {
    int run = n_only == 0;
    for (int j = 0; j < n_only; j++) run |= !strcmp(only[j], "reach");
    if (run) check_connect(connects[i]);
  }
  return failures ? 1 : 0;
}

/* ---- syscalls: what the seccomp filter lets through, with arguments that change nothing ---- */

static void show(const char *name, long r) {
  if (r < 0) printf("%s %s\n", name, ename(errno));
  else printf("%s ok\n", name);
}

/* i386 getpid through int 0x80, in a child (a kernel without IA32 emulation sends SIGSEGV) */
static void show_i386(void) {
#if defined(__x86_64__)
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    if (r < 0 && r > -4096) printf("i386 %s\n", ename((int)-r));
    else printf("i386 ok\n");
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  if (WIFSIGNALED(st)) printf("i386 signal-%d\n", WTERMSIG(st));
#endif
}

static int syscalls(void) {
  pid_t self = getpid();
  show("ptrace", ptrace(PTRACE_ATTACH, 0x3ffffff0, 0, 0));                     /* ESRCH: no such pid */
  show("process_vm_readv", syscall(SYS_process_vm_readv, self, NULL, 0, NULL, 0, 0));
  show("kcmp", syscall(SYS_kcmp, self, self, KCMP_VM, 0, 0));
  show("pidfd_getfd", syscall(SYS_pidfd_getfd, -1, 0, 0));                    /* EBADF */
  show("mount", syscall(SYS_mount, NULL, NULL, NULL, 0, NULL));                /* EFAULT */
  show("umount2", syscall(SYS_umount2, "", 0));                                /* ENOENT */
  show("unshare", syscall(SYS_unshare, 0));                                    /* ok: nothing */
  show("setns", syscall(SYS_setns, -1, 0));                                    /* EBADF */
  show("clone3", syscall(SYS_clone3, NULL, 0));                                /* EINVAL */
  {
    fflush(stdout);
    long c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (c == 0) _exit(0);
    if (c > 0) waitpid((pid_t)c, NULL, 0);
    show("clone-newuser", c);
  }
  show("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
  show("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "", NULL, NULL, 0));
  show("finit_module", syscall(SYS_finit_module, -1, "", 0));                  /* EBADF past the check */
  show("delete_module", syscall(SYS_delete_module, "zt_esc_no_such_module", O_NONBLOCK));
  show("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));                          /* EINVAL: no magic */
  show("clock_settime", syscall(SYS_clock_settime, 0x3fffffff, NULL));         /* EINVAL: no clock */
  show("settimeofday", syscall(SYS_settimeofday, NULL, NULL));                 /* ok: sets nothing */
  {
    struct timex tx = {.modes = 0};
    show("adjtimex-read", syscall(SYS_adjtimex, &tx));
    struct timex bad = {.modes = ADJ_TICK, .tick = 1};
    show("adjtimex-tick", syscall(SYS_adjtimex, &bad));                        /* EINVAL past the check */
  }
  show("keyctl", syscall(SYS_keyctl, 0x7fff, 0, 0, 0, 0));                     /* EOPNOTSUPP */
  show("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));   /* EFAULT */
  show("io_uring_setup", syscall(SYS_io_uring_setup, 0, NULL));
  show("get_mempolicy", syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0));
  show("personality-query", syscall(SYS_personality, 0xffffffffUL));
  long old = syscall(SYS_personality, 0xffffffffUL);
  long r = syscall(SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE);
  show("personality-norandom", r);
  if (r >= 0) syscall(SYS_personality, (unsigned long)old);
#if defined(__x86_64__)
  show("iopl", syscall(SYS_iopl, 0));                                         /* ok: level 0 is no change */
  show("x32", syscall(39 | 0x40000000, 0));                                    /* x32 getpid */
  show_i386();
#endif
  fflush(stdout);
  return 0;
}

static int listen_forever(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0) {
    perror("probe listen");
    return 1;
  }
  for (;;) {
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c >= 0) close(c);
  }
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "escape")) return escape(argc - 2, argv + 2);
  if (argc == 2 && !strcmp(argv[1], "syscalls")) return syscalls();
  if (argc == 3 && !strcmp(argv[1], "listen")) return listen_forever(atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "connect")) {
    int rc = tcp_connect(argv[2], 2000);
    if (rc) fprintf(stderr, "probe connect %s: %s\n", argv[2], ename(rc));
    return rc ? 1 : 0;
  }
  fprintf(stderr, "usage: probe escape [OPTIONS] [CHECK...] | syscalls | listen PORT | connect IP:PORT\n");
  return 2;
}

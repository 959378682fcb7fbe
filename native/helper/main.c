/* zonectl-helper: creates, supervises and enters zones for zonectl (see ../../src/host/zone/).
 *
 *   zonectl-helper start SPECFILE [--go]   (descriptor 3: the zone's network namespace)
 *       Prints "ok INIT_PID STARTED_AT_MS" once the zone's command was exec'd, or
 *       "error ERRNO OP<TAB>DETAIL"; exits 0 or 1. The supervisor stays behind, detached, in
 *       the zone's network namespace: it holds the namespace for as long as it supervises
 *       the zone, across restarts (no mount pins it), and every run of the zone inherits it.
 *       --go: zonectl plumbs the namespace meanwhile, and writes the byte 'g' on stdin once it
 *       is plumbed and the limits written: only then does the command run. EOF instead: the
 *       start is called off, nothing stays behind.
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
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "proc.h"
#include "spec.h"
#include "supervise.h"

/* zonectl's descriptor of the zone's network namespace (`start`) */
enum { NETNS_FD = 3 };

static int usage(void) {
  dprintf(2, "usage: zonectl-helper start SPECFILE [--go]\n"
             "       zonectl-helper hostname INIT_PID NAME\n"
             "       zonectl-helper exec SPECFILE INIT_PID [--tty] -- CMD [ARG...]\n");
  return 2;
}

static void print_error(const struct zerr *z) {
  char detail[sizeof z->detail];
  snprintf(detail, sizeof detail, "%s", z->detail);
  for (char *p = detail; *p; p++)
    if (*p == '\n' || *p == '\t') *p = ' ';
  printf("error %d %s\t%s\n", z->err, z->op, detail);
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

static int start(const char *path, int go) {
  struct spec s;
  struct zerr z = {0};
  if (load(path, &s, &z) < 0 || make_layer(&s, &z) < 0) {
    print_error(&z);
    return 1;
  }
  /* into zonectl's namespace before the fork: the supervisor and every run of the zone are in it */
  if (setns(NETNS_FD, CLONE_NEWNET) < 0) {
    zerr_set(&z, "setns", "descriptor %d (the zone's network namespace)", NETNS_FD);
    print_error(&z);
    return 1;
  }
  close(NETNS_FD);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    zerr_set(&z, "pipe2", "start");
    print_error(&z);
    return 1;
  }
  /* stdin becomes /dev/null in the supervisor: the go pipe is kept under another number */
  int go_fd = go ? fcntl(0, F_DUPFD_CLOEXEC, 3) : -1;
  if (go && go_fd < 0) {
    zerr_set(&z, "fcntl", "F_DUPFD_CLOEXEC stdin");
    print_error(&z);
    return 1;
  }
  fflush(stdout);
  /* One fork, not two: the supervisor leads a session of its own (setsid), and becomes init's
   * child (or the nearest subreaper's) when this process exits after its report. Leading a
   * session, it could gain a controlling terminal by opening one: it opens none (its stdio is
   * /dev/null, then the zone's log and files under /run and /sys), and the zone's command runs
   * in a session of its own. */
  pid_t sup = fork();
  if (sup < 0) {
    zerr_set(&z, "fork", "supervisor");
    print_error(&z);
    return 1;
  }
  if (sup == 0) {
    close(p[0]);
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
    printf("ok %d %lld\n", m.pid, m.started_at);
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
  if (argc == 3 && !strcmp(argv[1], "start")) return start(argv[2], 0);
  if (argc == 4 && !strcmp(argv[1], "start") && !strcmp(argv[3], "--go")) return start(argv[2], 1);
  if (argc == 4 && !strcmp(argv[1], "hostname")) return hostname_cmd(argv[2], argv[3]);
  if (argc >= 2 && !strcmp(argv[1], "exec")) return exec_cmd(argc, argv);
  return usage();
}

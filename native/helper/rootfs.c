#include "rootfs.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* runc's defaults: masked (a read-only empty tmpfs or /dev/null on top) and read-only. */
static const char *const MASKED[] = {
  "proc/acpi", "proc/asound", "proc/interrupts", "proc/kcore", "proc/keys", "proc/latency_stats",
  "proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi", "sys/firmware",
  "sys/devices/virtual/powercap",
};
static const char *const READ_ONLY[] = {
  "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};
static const char *const DEVICES[] = {"null", "zero", "full", "random", "urandom", "tty"};
static const char *const DEV_LINKS[][2] = {
  {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
  {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};
/* The merged-/usr links (or directories) a sparse root shares with the host. */
static const char *const USR_LINKS[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

struct root {
  int fd;            /* O_PATH of the new root's top mount */
  const char *path;  /* for messages */
  unsigned owner;    /* the host id of the zone's root (privileges.userns), else 0 */
  struct zerr *z;
};

/* open `path` (relative to the new root) without leaving it */
static int at(const struct root *r, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/') path++;
  if (!*path) path = ".";
  return (int)syscall(SYS_openat2, r->fd, path, &how, sizeof how);
}

static const char *fdpath(char buf[32], int fd) {
  snprintf(buf, 32, "/proc/self/fd/%d", fd);
  return buf;
}

/* mkdir -p inside the root; returns an O_PATH fd of the directory */
static int mkdirs(const struct root *r, const char *path, mode_t mode) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    int fd = at(r, buf, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      char *slash = strrchr(buf, '/');
      *slash = '\0';
      int parent = at(r, buf[0] ? buf : "/", O_PATH | O_DIRECTORY);
      *slash = '/';
      if (parent < 0) return -1;
      int rc = mkdirat(parent, slash + 1, mode);
      close(parent);
      if (rc < 0 && errno != EEXIST) return -1;
      fd = at(r, buf, O_PATH | O_DIRECTORY);
    }
    *p = c;
    if (fd < 0 || c == '\0') return fd;
    close(fd);
  }
}

/* create an empty file inside the root (a bind target for a file); returns an O_PATH fd */
static int mkfile(const struct root *r, const char *path) {
  int fd = at(r, path, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) return -1;
  *slash = '\0';
  int parent = mkdirs(r, dir[0] ? dir : "/", 0755);
  if (parent < 0) return -1;
  int f = openat(parent, slash + 1, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  close(parent);
  if (f < 0 && errno != EEXIST) return -1;
  if (f >= 0) close(f);
  return at(r, path, O_PATH);
}

static int setattr(int fd, uint64_t set, int recursive) {
  struct mount_attr a = {.attr_set = set};
  return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a);
}

enum target { T_DIR, T_FILE, T_EXISTING };

/* Mount onto `target` inside the root, then apply `attrs` (MOUNT_ATTR_*) to the new mount. */
static int mount_in(const struct root *r, const char *target, enum target t, const char *src,
                    const char *type, unsigned long flags, const char *data, uint64_t attrs) {
  struct zerr *z = r->z;
  const char *what = type ? type : src;
  int fd = t == T_DIR ? mkdirs(r, target, 0755) : t == T_FILE ? mkfile(r, target) : at(r, target, O_PATH);
  if (fd < 0) return zerr_set(z, "mkdir", "%s%s", r->path, target);
  char p[32];
  int rc = mount(src, fdpath(p, fd), type, flags, data);
  close(fd);
  if (rc < 0) return zerr_set(z, "mount", "%s on %s%s", what, r->path, target);
  if (!attrs) return 0;
  fd = at(r, target, O_PATH);  /* now the new mount's root */
  if (fd < 0) return zerr_set(z, "open", "%s%s", r->path, target);
  rc = setattr(fd, attrs, flags & MS_REC ? 1 : 0);
  close(fd);
  return rc < 0 ? zerr_set(z, "mount_setattr", "%s%s", r->path, target) : 0;
}

static int bind_ro(const struct root *r, const char *host, const char *target) {
  return mount_in(r, target, T_DIR, host, NULL, MS_BIND | MS_REC, NULL,
                  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
}

static int tmpfs(const struct root *r, const char *target, const char *opts, unsigned long flags) {
  char o[256];
  if (r->owner) snprintf(o, sizeof o, "%s,uid=%u,gid=%u", opts, r->owner, r->owner);
  return mount_in(r, target, T_DIR, "tmpfs", "tmpfs", flags, r->owner ? o : opts, 0);
}

static int overlay_opts(char *buf, size_t n, const char *lower, const struct spec *s, struct zerr *z) {
  for (const char *p = lower; *p; p++)
    if (*p == ',' || *p == ':' || *p == '\\')
      return zerr_setn(z, EINVAL, "overlay", "lower directory %s contains , : or \\", lower);
  if ((size_t)snprintf(buf, n, "lowerdir=%s,upperdir=%s,workdir=%s", lower, s->upper, s->work) >= n)
    return zerr_setn(z, ENAMETOOLONG, "overlay", "%s", lower);
  return 0;
}

static int sparse_root(const struct root *r, const struct spec *s) {
  if (bind_ro(r, "/usr", "/usr") < 0) return -1;
  for (size_t i = 0; i < sizeof USR_LINKS / sizeof USR_LINKS[0]; i++) {
    char host[64], link[4096];
    snprintf(host, sizeof host, "/%s", USR_LINKS[i]);
    struct stat st;
    if (lstat(host, &st) < 0) continue;  /* this host has no /lib32: neither has the zone */
    if (S_ISLNK(st.st_mode)) {
      ssize_t n = readlink(host, link, sizeof link - 1);
      if (n < 0) return zerr_set(r->z, "readlink", "%s", host);
      link[n] = '\0';
      if (symlinkat(link, r->fd, USR_LINKS[i]) < 0) return zerr_set(r->z, "symlink", "%s%s", r->path, host);
    } else if (S_ISDIR(st.st_mode) && bind_ro(r, host, host) < 0) {
      return -1;
    }
  }
  char opts[4096];
  if (overlay_opts(opts, sizeof opts, "/etc", s, r->z) < 0) return -1;
  if (mount_in(r, "/etc", T_DIR, "overlay", "overlay", MS_NOSUID | MS_NODEV, opts, 0) < 0) return -1;
  unsigned long f = MS_NOSUID | MS_NODEV;
  return tmpfs(r, "/tmp", "mode=1777", f) < 0 || tmpfs(r, "/var", "mode=755", f) < 0 ||
                 tmpfs(r, "/run", "mode=755", f) < 0 || tmpfs(r, "/root", "mode=700", f) < 0 ||
                 tmpfs(r, "/home", "mode=755", f) < 0
             ? -1 : 0;
}

static int dev(const struct root *r) {
  if (tmpfs(r, "/dev", "mode=755,size=65536k", MS_NOSUID | MS_NOEXEC) < 0) return -1;
  for (size_t i = 0; i < sizeof DEVICES / sizeof DEVICES[0]; i++) {
    char host[32], target[32];
    snprintf(host, sizeof host, "/dev/%s", DEVICES[i]);
    snprintf(target, sizeof target, "/dev/%s", DEVICES[i]);
    if (mount_in(r, target, T_FILE, host, NULL, MS_BIND, NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC) < 0) return -1;
  }
  /* A zone has no console of its own (its output goes to the supervisor's log, and exec -t
   * gets a pty from the zone's devpts): /dev/console is a sink, never the host's console. */
  if (mount_in(r, "/dev/console", T_FILE, "/dev/null", NULL, MS_BIND, NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC) < 0)
    return -1;
  int devfd = at(r, "/dev", O_PATH | O_DIRECTORY);
  if (devfd < 0) return zerr_set(r->z, "open", "%s/dev", r->path);
  for (size_t i = 0; i < sizeof DEV_LINKS / sizeof DEV_LINKS[0]; i++)
    if (symlinkat(DEV_LINKS[i][1], devfd, DEV_LINKS[i][0]) < 0) {
      close(devfd);
      return zerr_set(r->z, "symlink", "%s/dev/%s", r->path, DEV_LINKS[i][0]);
    }
  close(devfd);
  char pts[96];
  snprintf(pts, sizeof pts, "newinstance,ptmxmode=0666,mode=0620,gid=%u", r->owner + 5); /* tty */
  if (mount_in(r, "/dev/pts", T_DIR, "devpts", "devpts", MS_NOSUID | MS_NOEXEC, pts, 0) < 0) return -1;
  return tmpfs(r, "/dev/shm", "mode=1777,size=65536k", MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

static int user_mounts(const struct root *r, const struct spec *s) {
  for (int i = 0; i < s->nmounts; i++) {
    const struct zmount *m = &s->mounts[i];
    if (m->kind == MOUNT_TMPFS) {
      char opts[64] = "mode=1777";
      if (m->size > 0) snprintf(opts, sizeof opts, "mode=1777,size=%lld", m->size);
      if (tmpfs(r, m->target, opts, MS_NOSUID | MS_NODEV) < 0) return -1;
      continue;
    }
    struct stat st;
    if (stat(m->source, &st) < 0) return zerr_set(r->z, "stat", "%s", m->source);
    uint64_t attrs = m->read_only ? MOUNT_ATTR_RDONLY : 0;
    if (mount_in(r, m->target, S_ISDIR(st.st_mode) ? T_DIR : T_FILE, m->source, NULL, MS_BIND | MS_REC,
                 NULL, attrs) < 0)
      return -1;
  }
  return 0;
}

static int mask(const struct root *r) {
  for (size_t i = 0; i < sizeof MASKED / sizeof MASKED[0]; i++) {
    int fd = at(r, MASKED[i], O_PATH);
    if (fd < 0) continue;  /* absent on this kernel */
    struct stat st;
    int isdir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    close(fd);
    int rc = isdir ? mount_in(r, MASKED[i], T_EXISTING, "tmpfs", "tmpfs", MS_RDONLY, "size=0", 0)
                   : mount_in(r, MASKED[i], T_EXISTING, "/dev/null", NULL, MS_BIND, NULL, 0);
    if (rc < 0) return -1;
  }
  for (size_t i = 0; i < sizeof READ_ONLY / sizeof READ_ONLY[0]; i++) {
    int fd = at(r, READ_ONLY[i], O_PATH);
    if (fd < 0) continue;
    char p[32];
    int rc = mount(fdpath(p, fd), p, NULL, MS_BIND | MS_REC, NULL);
    close(fd);
    if (rc < 0) return zerr_set(r->z, "mount", "%s%s read-only", r->path, READ_ONLY[i]);
    fd = at(r, READ_ONLY[i], O_PATH);
    if (fd < 0) return zerr_set(r->z, "open", "%s%s", r->path, READ_ONLY[i]);
    rc = setattr(fd, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 1);
    close(fd);
    if (rc < 0) return zerr_set(r->z, "mount_setattr", "%s%s", r->path, READ_ONLY[i]);
  }
  return 0;
}

static int read_only(const struct root *r, const struct spec *s) {
  static const char *const sparse_rw[] = {"/etc", "/var", "/root", "/home"};
  if (setattr(r->fd, MOUNT_ATTR_RDONLY, 0) < 0) return zerr_set(r->z, "mount_setattr", "%s read-only", r->path);
  if (s->root != ROOT_SPARSE) return 0;
  for (size_t i = 0; i < sizeof sparse_rw / sizeof sparse_rw[0]; i++) {
    int fd = at(r, sparse_rw[i], O_PATH);
    if (fd < 0) return zerr_set(r->z, "open", "%s%s", r->path, sparse_rw[i]);
    int rc = setattr(fd, MOUNT_ATTR_RDONLY, 0);
    close(fd);
    if (rc < 0) return zerr_set(r->z, "mount_setattr", "%s%s read-only", r->path, sparse_rw[i]);
  }
  return 0;
}

int rootfs_enter(const struct spec *s, int userns_fd, struct zerr *z) {
  /* nothing mounted here propagates back to the host, nor from the host into the zone */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return zerr_set(z, "mount", "/ private");
  /* the lower layer, idmapped in place (in this mount namespace only): host root's files
   * there are the zone root's; overlay takes it as it finds it */
  if (userns_fd >= 0 && userns_idmap_mount(userns_fd, s->lower ? s->lower : "/etc", z) < 0) return -1;
  int rc;
  if (s->root == ROOT_SPARSE) {
    char opts[64] = "mode=755";
    if (userns_fd >= 0) snprintf(opts, sizeof opts, "mode=755,uid=%u,gid=%u", s->userns_base, s->userns_base);
    rc = mount("tmpfs", s->rootfs, "tmpfs", MS_NOSUID | MS_NODEV, opts);
  } else {
    char opts[4096];
    if (overlay_opts(opts, sizeof opts, s->lower, s, z) < 0) return -1;
    /* nodev: device nodes shipped in an image or directory are inert; /dev is a fresh tmpfs */
    rc = mount("overlay", s->rootfs, "overlay", MS_NODEV, opts);
  }
  if (rc < 0) return zerr_set(z, "mount", "%s on %s", s->root == ROOT_SPARSE ? "tmpfs" : "overlay", s->rootfs);
  struct root r = {.fd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC), .path = s->rootfs, .z = z,
                   .owner = userns_fd >= 0 ? s->userns_base : 0};
  if (r.fd < 0) return zerr_set(z, "open", "%s", s->rootfs);
  if (s->root == ROOT_SPARSE) {
    if (sparse_root(&r, s) < 0) goto fail;
  } else if (s->read_only) {
    if (tmpfs(&r, "/tmp", "mode=1777", MS_NOSUID | MS_NODEV) < 0 ||
        tmpfs(&r, "/run", "mode=755", MS_NOSUID | MS_NODEV) < 0)
      goto fail;
  }
  /* /proc follows its reader's network namespace (/proc/net, /proc/sys/net), /sys its mounter's:
   * this process is in the zone's already (main.c) */
  if (mount_in(&r, "/proc", T_DIR, "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0) < 0 || dev(&r) < 0 ||
      mount_in(&r, "/sys", T_DIR, "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0) < 0 ||
      user_mounts(&r, s) < 0 || mask(&r) < 0)
    goto fail;
  if (s->read_only && read_only(&r, s) < 0) goto fail;
  /* pivot_root(".", "."): the old root ends up on top of the new one, then is detached */
  if (fchdir(r.fd) < 0) { zerr_set(z, "chdir", "%s", s->rootfs); goto fail; }
  if (syscall(SYS_pivot_root, ".", ".") < 0) { zerr_set(z, "pivot_root", "%s", s->rootfs); goto fail; }
  if (umount2(".", MNT_DETACH) < 0) { zerr_set(z, "umount2", "old root"); goto fail; }
  close(r.fd);
  if (chdir("/") < 0) return zerr_set(z, "chdir", "/");
  return 0;
fail:
  close(r.fd);
  return -1;
}

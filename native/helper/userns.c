#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

int userns_create(unsigned base, unsigned count, struct zerr *z) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return zerr_set(z, "pipe2", "user namespace");
  pid_t child = fork();
  if (child < 0) {
    close(p[0]);
    close(p[1]);
    return zerr_set(z, "fork", "user namespace holder");
  }
  if (child == 0) {
    /* hold the namespace until the parent has opened it (or died: PDEATHSIG) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(p[0]);
    char c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
    if (write(p[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(p[1]);
  char c = 0;
  ssize_t n = read(p[0], &c, 1);
  close(p[0]);
  int fd = -1;
  if (n != 1 || c != 'u') {
    zerr_setn(z, n == 1 ? EPERM : EPIPE, "unshare", "CLONE_NEWUSER");
  } else {
    char path[64], map[64];
    snprintf(map, sizeof map, "0 %u %u\n", base, count);
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
    if (write_file(path, map, z) == 0) {
      snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
      if (write_file(path, map, z) == 0) {
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) zerr_set(z, "open", "%s", path);
      }
    }
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return fd;
}

int userns_idmap_mount(int userns_fd, const char *path, struct zerr *z) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return zerr_set(z, "open_tree", "%s", path);
  struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned)userns_fd};
  int rc = 0;
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
    rc = zerr_set(z, "mount_setattr", "MOUNT_ATTR_IDMAP on %s", path);
  else if (syscall(SYS_move_mount, tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    rc = zerr_set(z, "move_mount", "idmapped %s", path);
  close(tree);
  return rc;
}

#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "proc.h"

static int is_pinned(const char *pin) {
  struct statfs sf;
  return statfs(pin, &sf) == 0 && sf.f_type == NSFS_MAGIC;
}

static int loopback_up(struct zerr *z) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return zerr_set(z, "socket", "AF_INET");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  int rc = 0;
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) rc = zerr_set(z, "ioctl SIOCGIFFLAGS", "lo");
  ifr.ifr_flags |= IFF_UP;
  if (rc == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0) rc = zerr_set(z, "ioctl SIOCSIFFLAGS", "lo");
  close(s);
  return rc;
}

int netns_ensure(const char *pin, struct zerr *z) {
  if (is_pinned(pin)) return 0;
  int fd = open(pin, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
  if (fd < 0) return zerr_set(z, "create", "%s", pin);
  close(fd);
  int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (host < 0) return zerr_set(z, "open", "/proc/self/ns/net");
  int rc = 0;
  if (unshare(CLONE_NEWNET) < 0) {
    rc = zerr_set(z, "unshare", "CLONE_NEWNET");
    close(host);
    return rc;
  }
  /* /proc/sys/net follows the opener's network namespace: this writes the new one's. */
  if (loopback_up(z) < 0 || write_file("/proc/sys/net/ipv4/ping_group_range", "0 2147483647", z) < 0)
    rc = -1;
  else if (mount("/proc/self/ns/net", pin, NULL, MS_BIND, NULL) < 0)
    rc = zerr_set(z, "mount", "netns on %s", pin);
  if (setns(host, CLONE_NEWNET) < 0 && rc == 0) rc = zerr_set(z, "setns", "host network namespace");
  close(host);
  return rc;
}

int netns_enter(int root, const char *pin, struct zerr *z) {
  const char *rel = pin;
  while (*rel == '/') rel++;
  int fd = openat(root, rel, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return zerr_set(z, "open", "%s", pin);
  int rc = setns(fd, CLONE_NEWNET) < 0 ? zerr_set(z, "setns", "%s", pin) : 0;
  close(fd);
  return rc;
}

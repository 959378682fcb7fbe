#include "caps.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Find `name` in a passwd/group-style file; returns the numeric 3rd field (and 4th in *gid). */
static int lookup(const char *file, const char *name, long *id, long *gid) {
  FILE *f = fopen(file, "re");
  if (!f) return -1;
  char line[1024];
  size_t len = strlen(name);
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, name, len) || line[len] != ':') continue;
    char *p = strchr(line + len + 1, ':'); /* skip the password field */
    if (!p) break;
    *id = strtol(p + 1, &p, 10);
    if (gid && *p == ':') *gid = strtol(p + 1, NULL, 10);
    found = 0;
    break;
  }
  fclose(f);
  return found;
}

static int numeric(const char *s, long *out) {
  char *end;
  if (!*s) return -1;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 0 || v > 0x7fffffffL) return -1;
  *out = v;
  return 0;
}

static int resolve_user(const char *user, uid_t *uid, gid_t *gid, struct zerr *z) {
  char u[256], *g;
  snprintf(u, sizeof u, "%s", user);
  g = strchr(u, ':');
  if (g) *g++ = '\0';
  long id, gi = -1;
  if (numeric(u, &id) == 0) {
    long pg = -1;
    lookup("/etc/passwd", u, &id, &pg);  /* harmless if absent: a numeric uid need not exist */
    gi = g ? -1 : (pg >= 0 ? pg : id);
  } else if (lookup("/etc/passwd", u, &id, &gi) < 0) {
    return zerr_setn(z, ENOENT, "getpwnam", "user %s in the zone's /etc/passwd", u);
  }
  if (g) {
    if (numeric(g, &gi) < 0 && lookup("/etc/group", g, &gi, NULL) < 0)
      return zerr_setn(z, ENOENT, "getgrnam", "group %s in the zone's /etc/group", g);
  }
  *uid = (uid_t)id;
  *gid = (gid_t)gi;
  return 0;
}

int privileges_drop(const char *user, uint64_t keep, struct zerr *z) {
  uid_t uid = 0;
  gid_t gid = 0;
  if (user && resolve_user(user, &uid, &gid, z) < 0) return -1;
  for (int cap = 0;; cap++) {
    int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (r < 0) break; /* EINVAL past the kernel's last capability */
    if (r == 1 && !(cap < 64 && (keep >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      return zerr_set(z, "prctl PR_CAPBSET_DROP", "capability %d", cap);
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return zerr_set(z, "prctl PR_CAP_AMBIENT_CLEAR_ALL", "ambient set");
  if (setgroups(1, &gid) < 0) return zerr_set(z, "setgroups", "%u", (unsigned)gid);
  if (setresgid(gid, gid, gid) < 0) return zerr_set(z, "setresgid", "%u", (unsigned)gid);
  if (setresuid(uid, uid, uid) < 0) return zerr_set(z, "setresuid", "%u", (unsigned)uid);
  /* A non-root user lost every capability with setresuid (no KEEPCAPS); root keeps `keep`. */
  uint64_t set = uid == 0 ? keep : 0;
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  d[0].effective = d[0].permitted = (uint32_t)set;
  d[1].effective = d[1].permitted = (uint32_t)(set >> 32);
  if (syscall(SYS_capset, &h, d) < 0) return zerr_set(z, "capset", "%#llx", (unsigned long long)set);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return zerr_set(z, "prctl PR_SET_NO_NEW_PRIVS", "1");
  return 0;
}

/* One run of the zone: what happens in the clone()d child, pid 1 of a fresh pid namespace. */
#ifndef ZONECTL_ZONE_H
#define ZONECTL_ZONE_H

#include <sys/types.h>

#include "spec.h"

/* Namespaces in the order they are entered. The pid namespace is created by clone() itself;
 * `net` is joined from the pinned namespace, not created. `user` (privileges.userns) comes
 * last, after the root is assembled, unlike runc: every other namespace stays owned by the
 * host's user namespace, out of reach of the zone's root (see userns.h). */
struct ns_step {
  int flag;
  const char *name;  /* the /proc/PID/ns/ file name */
};
extern const struct ns_step NAMESPACES[];
extern const int NAMESPACE_COUNT;

/* What zone_main is handed by the supervisor. */
struct zone_fds {
  int sync;    /* MSG_ERROR on failure; EOF once the command was exec'd */
  int log;     /* the command's stdout and stderr */
  int userns;  /* privileges.userns: the namespace to enter last; -1 = none */
  int joined;  /* one byte 'j' once the supervisor has moved this process into the zone's cgroups */
  int go;      /* start --go: one byte 'g' from zonectl before the command runs; -1 = none */
  int init;    /* zonectl-init to become once the command is forked (init.h); -1 = none */
};

/* Join the namespaces and assemble the root; once in the zone's cgroups, make the cgroup
 * namespace, then (fds->userns >= 0) enter the user namespace; wait for the go; fork the main
 * process and become its init. Each fd is closed once used. */
void zone_main(const struct spec *s, const struct zone_fds *fds) __attribute__((noreturn));

/* Move `pid` (0: the caller) into every cgroup.procs file of the NULL-terminated list. */
int cgroups_join(char *const *cgroups, pid_t pid, struct zerr *z);
/* In the (forked) main process: stdio, privileges, cwd, environment, exec. Returns only on error. */
int exec_command(const struct spec *s, char *const *argv, struct zerr *z);

#endif

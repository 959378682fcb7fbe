/* One run of the zone: what happens in the clone()d child, pid 1 of a fresh pid namespace. */
#ifndef ZONECTL_ZONE_H
#define ZONECTL_ZONE_H

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

/* Join the cgroups, the namespaces, the root, then (userns_fd >= 0) the user namespace; fork
 * the main process and become its init.
 * Failures are sent as MSG_ERROR on `sync_fd`; its EOF means the command was exec'd. */
void zone_main(const struct spec *s, int sync_fd, int log_fd, int userns_fd) __attribute__((noreturn));

/* Join every cgroup.procs file in the NULL-terminated list (writing "0": the caller). */
int cgroups_join(char *const *cgroups, struct zerr *z);
/* In the (forked) main process: stdio, privileges, cwd, environment, exec. Returns only on error. */
int exec_command(const struct spec *s, char *const *argv, struct zerr *z);

#endif

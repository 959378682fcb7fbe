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
  int cloned;  /* 1: clone() put it in the spec's cgroup2 cgroup; it moves itself into the others */
  int go;      /* serve's start with GO 1: 'g' from zonectl before the command runs; -1 = none */
  int init;    /* zonectl-init to become once the command is forked (init.h); -1 = none */
};

/* Join the zone's cgroups (those clone() did not put it in) and namespaces (the network
 * namespace is the supervisor's, inherited), assemble the root, make the cgroup namespace, then
 * (fds->userns >= 0) enter the user namespace; wait for the go; fork the main process and
 * become its init. Each fd is closed once used. */
void zone_main(const struct spec *s, const struct zone_fds *fds) __attribute__((noreturn));

/* Move the calling process into the cgroup of every cgroup.procs file of the NULL-terminated
 * list but, when `cloned`, the cgroup2 one, which clone_into() put it in. The caller must be
 * single-threaded: in a v1 hierarchy it writes 0 to the `tasks` file next to cgroup.procs,
 * which moves only the calling thread, and that is the one move the kernel makes without
 * taking cgroup_threadgroup_rwsem for writing, an RCU grace period (5-20 ms) that moving a
 * whole process or another process pays (measured: 0.1 ms against 7-15 ms). */
int cgroups_join_self(char *const *cgroups, int cloned, struct zerr *z);
/* The cgroup of the list's one cgroup2 cgroup.procs file (a unified host's, or a hybrid host's
 * beside the v1 ones), opened: a child cloned into it (clone_into) costs no cgroup move. -1
 * when there is none, or more than one. */
int cgroup2_dir(char *const *cgroups);
/* clone() with `flags` (and SIGCHLD), born in the cgroup of `cgroup_fd` when >= 0 (clone3
 * CLONE_INTO_CGROUP); *moved = 1 when it was. On a kernel without it (ENOSYS, E2BIG) the
 * child is cloned where its parent is; another failure of clone3 is returned (-1, errno). */
pid_t clone_into(unsigned long flags, int cgroup_fd, int *moved);
/* In the (forked) main process: stdio, privileges, cwd, environment, exec. Returns only on error. */
int exec_command(const struct spec *s, char *const *argv, struct zerr *z);

#endif

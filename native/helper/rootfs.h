/* The zone's root: assembled on spec->rootfs in the zone's (private) mount namespace, then
 * pivot_root'ed into with the old root detached. Every path inside the new root is resolved
 * with openat2(RESOLVE_IN_ROOT), so a symlink in an image cannot point a mount at the host. */
#ifndef ZONECTL_ROOTFS_H
#define ZONECTL_ROOTFS_H

#include "err.h"
#include "spec.h"

/* On success the process's root and cwd are the zone's root. With a user namespace
 * (userns_fd >= 0) the lower layer is idmapped through it and the root's tmpfs and devpts
 * belong to the zone's root. `join_net(s, arg, z)` is called once the mounts that do not depend
 * on the network namespace are made, before /sys (whose network view is the mounter's):
 * the zone's root is assembled while zonectl is still making its network namespace. */
int rootfs_enter(const struct spec *s, int userns_fd, int (*join_net)(const struct spec *, void *, struct zerr *),
                 void *arg, struct zerr *z);

#endif

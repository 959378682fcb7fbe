/* The zone's root: assembled on spec->rootfs in the zone's (private) mount namespace, then
 * pivot_root'ed into with the old root detached. Every path inside the new root is resolved
 * with openat2(RESOLVE_IN_ROOT), so a symlink in an image cannot point a mount at the host. */
#ifndef ZONECTL_ROOTFS_H
#define ZONECTL_ROOTFS_H

#include "err.h"
#include "spec.h"

/* On success the process's root and cwd are the zone's root. With a user namespace
 * (userns_fd >= 0) the lower layer is idmapped through it and the root's tmpfs and devpts
 * belong to the zone's root. The process is in the zone's network namespace already: /sys
 * shows the network view of its mounter. */
int rootfs_enter(const struct spec *s, int userns_fd, struct zerr *z);

#endif

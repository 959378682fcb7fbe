/* The zone's root: assembled on spec->rootfs in the zone's (private) mount namespace, then
 * pivot_root'ed into with the old root detached. Every path inside the new root is resolved
 * with openat2(RESOLVE_IN_ROOT), so a symlink in an image cannot point a mount at the host. */
#ifndef ZONECTL_ROOTFS_H
#define ZONECTL_ROOTFS_H

#include "err.h"
#include "spec.h"

/* On success the process's root and cwd are the zone's root. */
int rootfs_enter(const struct spec *s, struct zerr *z);

#endif

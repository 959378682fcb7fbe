/* privileges.userns: a user namespace mapping the zone's ids 0..COUNT-1 to host ids
 * BASE..BASE+COUNT-1 (an unprivileged range zonectl allocates per zone).
 *
 * It is entered last, after every other namespace and the root are in place, so that those
 * stay owned by the host's user namespace: the zone's root holds its capabilities only over
 * the user namespace itself, and cannot mount, rename the host or reconfigure its network even
 * with a capability added. The same namespace idmaps the root's lower layer (mount_setattr
 * MOUNT_ATTR_IDMAP), so that files owned by host root there are the zone root's. */
#ifndef ZONECTL_USERNS_H
#define ZONECTL_USERNS_H

#include "err.h"

/* Make the namespace (a child unshares it, this process writes its maps); returns an O_CLOEXEC
 * fd of it, or -1. Call from the host's pid namespace: it writes /proc/CHILD/{uid,gid}_map. */
int userns_create(unsigned base, unsigned count, struct zerr *z);

/* Bind-mount `path` onto itself, idmapped through `userns_fd` (visible only in this mount namespace). */
int userns_idmap_mount(int userns_fd, const char *path, struct zerr *z);

#endif

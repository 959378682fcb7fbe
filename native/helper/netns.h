/* The zone's network namespace: created once, pinned by a bind mount of its nsfs file, entered
 * by every run of the zone (so links the network layer moves into it survive restarts). */
#ifndef ZONECTL_NETNS_H
#define ZONECTL_NETNS_H

#include "err.h"

/* Create and pin a fresh namespace (loopback up, ping_group_range open) unless `pin` is one. */
int netns_ensure(const char *pin, struct zerr *z);
/* Enter the namespace pinned at `pin`, an absolute path looked up from `root` (an O_PATH fd of
 * a root directory: the host's, opened before the caller's mount namespace was made, so that a
 * pin mounted since is seen). */
int netns_enter(int root, const char *pin, struct zerr *z);

#endif

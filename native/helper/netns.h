/* The zone's network namespace: created once, pinned by a bind mount of its nsfs file, entered
 * by every run of the zone (so links the network layer moves into it survive restarts). */
#ifndef ZONECTL_NETNS_H
#define ZONECTL_NETNS_H

#include "err.h"

/* Create and pin a fresh namespace (loopback up, ping_group_range open) unless `pin` is one. */
int netns_ensure(const char *pin, struct zerr *z);
int netns_enter(const char *pin, struct zerr *z);

#endif

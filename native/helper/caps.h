/* The zone's privileges, applied last before exec: user and groups, capabilities (bounding =
 * permitted = effective = the kept set for root, nothing for another user; inheritable and
 * ambient empty, as runc does since CVE-2022-29162), then no_new_privs. */
#ifndef ZONECTL_CAPS_H
#define ZONECTL_CAPS_H

#include <stdint.h>

#include "err.h"

/* `user`: NULL (root), "UID[:GID]" or "NAME[:GROUP]" looked up in the zone's /etc/passwd and
 * /etc/group (the process must already be inside the zone's root). */
int privileges_drop(const char *user, uint64_t keep, struct zerr *z);

#endif

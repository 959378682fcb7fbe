/* The default seccomp filter (privileges.seccomp: default): a deny-list after Docker's default
 * profile. Denied calls fail with EPERM, and so does any call under another ABI (i386 or x32 on
 * x86_64, arm32 on aarch64); clone3 fails with ENOSYS so that libcs fall back to clone, whose
 * namespace flags are then checked. A capability the zone keeps re-allows the calls it is for,
 * as in Docker (CAP_SYS_ADMIN: mounts and namespaces, CAP_SYS_TIME: the clock, ...). */
#ifndef ZONECTL_SECCOMP_H
#define ZONECTL_SECCOMP_H

#include "err.h"

/* Install it for a zone that keeps `caps` (bit n = capability n); needs no_new_privs. */
int seccomp_default(unsigned long long caps, struct zerr *z);

#endif

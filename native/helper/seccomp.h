/* The default seccomp filter (privileges.seccomp: default): a deny-list in the spirit of
 * Docker's profile. Denied calls fail with EPERM; clone3 fails with ENOSYS so that libcs fall
 * back to clone, whose namespace flags are then checked; x32 and foreign-ABI calls are denied. */
#ifndef ZONECTL_SECCOMP_H
#define ZONECTL_SECCOMP_H

#include "err.h"

/* Install it; needs no_new_privs (or CAP_SYS_ADMIN). */
int seccomp_default(struct zerr *z);

#endif

// A zone's network namespace, made before the zone starts, without a process: on a thread of
// its own. The caller holds it by a descriptor and hands that to the helper's `start`, whose
// supervisor then lives in it: no bind mount pins it, so the host's mount table does not grow
// with the zones (each new mount namespace copies that table).
#pragma once

#include "sys_error.h"

namespace zonectl {

// On a fresh thread: unshare(CLONE_NEWNET), bring lo up, open net.ipv4.ping_group_range to
// every group, and open the thread's namespace (O_CLOEXEC). The thread then ends: no thread
// of the process stays in it. Returns that descriptor, or -1 on failure.
int netns_make(SysError& e);

}  // namespace zonectl

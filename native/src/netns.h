// A zone's network namespace, made and pinned before the zone starts (the helper's `start`
// then joins the pinned one), without a process: on a thread of its own.
#pragma once
#include <string>

#include "sys_error.h"

namespace zonectl {

// Unless `pin` already is a pinned namespace (nsfs): create `pin` (its directory exists), and
// on a fresh thread unshare(CLONE_NEWNET), bring lo up, open net.ipv4.ping_group_range to
// every group (as the helper's netns_ensure does) and bind-mount the thread's namespace onto
// `pin`. The thread then ends: no other thread of the process ever enters the namespace.
// Returns 1 when it made the namespace, 0 when `pin` was pinned already, -1 on failure.
int netns_pin(const std::string& pin, SysError& e);

}  // namespace zonectl

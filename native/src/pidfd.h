#pragma once
#include "sys_error.h"

namespace zonectl {
// Each returns 0 (or a value) on success, -1 with `e` filled on failure.
int pidfd_open_(int pid, SysError& e);
int pidfd_send_signal_(int pidfd, int sig, SysError& e);
// 1 when the process has exited, 0 on timeout (timeout_ms < 0 waits for ever).
int pidfd_wait_(int pidfd, int timeout_ms, SysError& e);
}  // namespace zonectl

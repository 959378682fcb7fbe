#pragma once
#include <string>

#include "sys_error.h"

namespace zonectl {
// umount2(path, flags); ENOENT and EINVAL (not a mount point) are errors the caller may ignore.
int umount_(const std::string& path, int flags, SysError& e);
// A tmpfs of zonectl's own on `target` (nosuid, nodev), with mount options `data`.
int mount_tmpfs_(const std::string& target, const std::string& data, SysError& e);
}  // namespace zonectl

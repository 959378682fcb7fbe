#include "mount.h"

#include <sys/mount.h>

namespace zonectl {

int umount_(const std::string& path, int flags, SysError& e) {
  if (::umount2(path.c_str(), flags) < 0) return e.set("umount2", path);
  return 0;
}

int mount_tmpfs_(const std::string& target, const std::string& data, SysError& e) {
  if (::mount("zonectl", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, data.c_str()) < 0) return e.set("mount", target);
  return 0;
}

}  // namespace zonectl

#include "mount.h"

#include <sys/mount.h>

namespace zonectl {

int umount_(const std::string& path, int flags, SysError& e) {
  if (::umount2(path.c_str(), flags) < 0) return e.set("umount2", path);
  return 0;
}

}  // namespace zonectl

#include "netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <thread>

#include "net_ops.h"
#include "netlink.h"

namespace zonectl {

namespace {

constexpr char kPingGroupRange[] = "/proc/sys/net/ipv4/ping_group_range";
constexpr char kAllGroups[] = "0 2147483647";

bool is_pinned(const std::string& pin) {
  struct statfs sf;
  return statfs(pin.c_str(), &sf) == 0 && sf.f_type == NSFS_MAGIC;
}

// Runs on a thread that is thrown away afterwards: it leaves the host's namespace for good.
int make_and_pin(const std::string& pin, SysError& e) {
  if (unshare(CLONE_NEWNET) < 0) return e.set("unshare", "CLONE_NEWNET");
  NlSocket s;
  if (s.open(e) < 0 || link_set_up(s, "lo", true, e) < 0) return -1;
  // /proc/sys/net follows the opener's network namespace: this is the new one's.
  UniqueFd fd(open(kPingGroupRange, O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return e.set("open", kPingGroupRange);
  if (write(fd.get(), kAllGroups, sizeof kAllGroups - 1) < 0) return e.set("write", kPingGroupRange);
  // thread-self: /proc/self/ns/net would be the main thread's (the host's) namespace.
  if (mount("/proc/thread-self/ns/net", pin.c_str(), nullptr, MS_BIND, nullptr) < 0) return e.set("mount", pin);
  return 0;
}

}  // namespace

int netns_pin(const std::string& pin, SysError& e) {
  if (is_pinned(pin)) return 0;
  {
    UniqueFd fd(open(pin.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444));
    if (!fd.valid()) return e.set("create", pin);
  }
  int rc = 0;
  std::thread t([&] { rc = make_and_pin(pin, e); });
  t.join();
  return rc < 0 ? -1 : 1;
}

}  // namespace zonectl

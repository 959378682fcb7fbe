#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <thread>

#include "net_ops.h"
#include "netlink.h"

namespace zonectl {

namespace {

constexpr char kPingGroupRange[] = "/proc/sys/net/ipv4/ping_group_range";
constexpr char kAllGroups[] = "0 2147483647";
constexpr char kThreadNetns[] = "/proc/thread-self/ns/net";

// Runs on a thread that is thrown away afterwards: it leaves the host's namespace for good.
int make(SysError& e) {
  if (unshare(CLONE_NEWNET) < 0) return e.set("unshare", "CLONE_NEWNET");
  NlSocket s;
  if (s.open(e) < 0 || link_set_up(s, "lo", true, e) < 0) return -1;
  // /proc/sys/net follows the opener's network namespace: this is the new one's.
  UniqueFd fd(open(kPingGroupRange, O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return e.set("open", kPingGroupRange);
  if (write(fd.get(), kAllGroups, sizeof kAllGroups - 1) < 0) return e.set("write", kPingGroupRange);
  // thread-self: /proc/self/ns/net would be the main thread's (the host's) namespace.
  int ns = open(kThreadNetns, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return e.set("open", kThreadNetns);
  return ns;
}

}  // namespace

int netns_make(SysError& e) {
  int fd = -1;
  std::thread t([&] { fd = make(e); });
  t.join();
  return fd;
}

}  // namespace zonectl

// One rtnetlink request per function, each naming its object on failure
// (`create veth znv1a2b3c4d5e: EEXIST`). They act in the network namespace of the calling
// thread; net_addon.cc runs them on a thread that entered the zone's namespace.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "netlink.h"
#include "sys_error.h"

namespace zonectl {

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;     // IFLA_INFO_KIND: "bridge", "veth"... empty for plain devices
  std::string alias;    // IFLA_IFALIAS
  std::string mac;
  int master = 0;       // ifindex of the bridge it is enslaved to, 0 = none
  int link = 0;         // IFLA_LINK: for a veth, the peer's ifindex (in link_netnsid's namespace)
  int link_netnsid = -1;
  unsigned flags = 0;   // IFF_*
  unsigned mtu = 0;
};

struct AddrInfo {
  int index = 0;
  std::string address;  // dotted quad
  int prefix = 0;
};

struct RouteInfo {
  std::string dst;      // dotted quad; "0.0.0.0" with prefix 0 for the default route
  int prefix = 0;
  std::string gateway;  // empty when none
  int oif = 0;
  unsigned table = 0;
  unsigned protocol = 0;
  unsigned scope = 0;
  unsigned type = 0;
};

struct QdiscInfo {
  int index = 0;
  std::string kind;
  uint32_t handle = 0;
  uint32_t parent = 0;
  uint64_t rate = 0;    // tbf: bytes per second
  uint32_t burst = 0;   // tbf: bytes (derived from the kernel's buffer time)
  uint32_t limit = 0;   // tbf: bytes
};

// The anti-spoofing filter's parameters (all host byte order).
struct AntiSpoof {
  uint8_t mac[6] = {};
  uint32_t ip = 0;
  // When set, IPv4 packets to addresses outside subnet/prefix are dropped too (a segment
  // without a gateway: the host and everything beyond it are unreachable).
  bool confine = false;
  uint32_t subnet = 0;
  int prefix = 0;
};

int link_add_bridge(NlSocket& s, const std::string& name, SysError& e);
// The peer is created directly in the namespace behind `peer_netns_fd` (-1: this one).
int link_add_veth(NlSocket& s, const std::string& name, const std::string& peer, int peer_netns_fd,
                  const std::string& peer_mac, SysError& e);
int link_del(NlSocket& s, const std::string& name, SysError& e);
int link_set_up(NlSocket& s, const std::string& name, bool up, SysError& e);
int link_set_master(NlSocket& s, const std::string& name, const std::string& master, SysError& e);
int link_set_netns(NlSocket& s, const std::string& name, int netns_fd, SysError& e);
int link_set_name(NlSocket& s, const std::string& name, const std::string& new_name, SysError& e);
int link_set_mac(NlSocket& s, const std::string& name, const std::string& mac, SysError& e);
int link_set_mtu(NlSocket& s, const std::string& name, unsigned mtu, SysError& e);
int link_set_alias(NlSocket& s, const std::string& name, const std::string& alias, SysError& e);
int addr_add(NlSocket& s, const std::string& name, const std::string& address, int prefix, SysError& e);
int addr_del(NlSocket& s, const std::string& name, const std::string& address, int prefix, SysError& e);
// Replace the main table's default route with one via `gateway` out of `name`.
int route_replace_default(NlSocket& s, const std::string& name, const std::string& gateway, SysError& e);
int route_del_default(NlSocket& s, SysError& e);
// Token bucket on the root of `name`: rate in bytes/s, burst and queue limit in bytes.
int qdisc_replace_tbf(NlSocket& s, const std::string& name, uint64_t rate, uint32_t burst, uint32_t limit,
                      SysError& e);
int qdisc_del_root(NlSocket& s, const std::string& name, SysError& e);
int qdisc_add_clsact(NlSocket& s, const std::string& name, SysError& e);
// Attach (or replace) the anti-spoofing program on the ingress of `name` (needs clsact).
int filter_replace_antispoof(NlSocket& s, const std::string& name, const AntiSpoof& spec, SysError& e);

int link_dump(NlSocket& s, std::vector<LinkInfo>& out, SysError& e);
int addr_dump(NlSocket& s, std::vector<AddrInfo>& out, SysError& e);
int route_dump(NlSocket& s, std::vector<RouteInfo>& out, SysError& e);
int qdisc_dump(NlSocket& s, std::vector<QdiscInfo>& out, SysError& e);

// Parsers exposed for tests and callers: "02:00:0a:..." → 6 bytes; dotted quad → host order.
bool parse_mac(const std::string& text, uint8_t out[6]);
bool parse_ipv4(const std::string& text, uint32_t& out);
std::string format_mac(const uint8_t* mac, size_t len);
std::string format_ipv4(uint32_t host_order);

// The classifier program itself, as instructions: exposed so tests can inspect it.
struct BpfInsnView {
  uint8_t code;
  uint8_t regs;
  int16_t off;
  int32_t imm;
};
std::vector<BpfInsnView> antispoof_program(const AntiSpoof& spec);

}  // namespace zonectl

// <net/if.h> before any linux/ header: glibc then tells linux/if.h not to redefine IFF_* and ifreq.
#include <net/if.h>

#include "net_ops.h"

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/veth.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace zonectl {

namespace {

constexpr const char* kIf = "ifname";

// The ifindex of `name` in this thread's namespace; ENODEV names the interface and the step.
int ifindex(const std::string& name, const char* op, SysError& e) {
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) return e.set(op, name, kIf);
  return static_cast<int>(idx);
}

// RTM_NEWLINK on an existing interface: the caller adds the attributes to change.
NlRequest setlink(int index) {
  NlRequest req(RTM_NEWLINK, 0);
  auto* ifi = req.header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return req;
}

NlRequest tc_request(uint16_t type, uint16_t flags, int index, uint32_t handle, uint32_t parent) {
  NlRequest req(type, flags);
  auto* t = req.header<tcmsg>();
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = index;
  t->tcm_handle = handle;
  t->tcm_parent = parent;
  return req;
}

uint32_t be_ip(uint32_t host_order) { return htonl(host_order); }

}  // namespace

// ---------------------------------------------------------------- parsing helpers

bool parse_mac(const std::string& text, uint8_t out[6]) {
  unsigned b[6];
  char tail;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
    return false;
  for (int i = 0; i < 6; i++) out[i] = static_cast<uint8_t>(b[i]);
  return true;
}

bool parse_ipv4(const std::string& text, uint32_t& out) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
  out = ntohl(a.s_addr);
  return true;
}

std::string format_mac(const uint8_t* mac, size_t len) {
  std::string s;
  char part[4];
  for (size_t i = 0; i < len; i++) {
    std::snprintf(part, sizeof part, i == 0 ? "%02x" : ":%02x", mac[i]);
    s += part;
  }
  return s;
}

std::string format_ipv4(uint32_t host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, buf, sizeof buf) == nullptr ? std::string() : std::string(buf);
}

// ---------------------------------------------------------------- links

int link_add_bridge(NlSocket& s, const std::string& name, SysError& e) {
  NlRequest req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  req.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  req.put_str(IFLA_IFNAME, name);
  size_t info = req.nest_begin(IFLA_LINKINFO);
  req.put_str(IFLA_INFO_KIND, "bridge");
  size_t data = req.nest_begin(IFLA_INFO_DATA);
  req.put_u32(IFLA_BR_STP_STATE, 0);
  req.put_u32(IFLA_BR_FORWARD_DELAY, 0);
  req.nest_end(data);
  req.nest_end(info);
  return nl_request(s, req, "create bridge", name, e);
}

int link_add_veth(NlSocket& s, const std::string& name, const std::string& peer, int peer_netns_fd,
                  const std::string& peer_mac, SysError& e) {
  uint8_t mac[6];
  if (!peer_mac.empty() && !parse_mac(peer_mac, mac)) {
    errno = EINVAL;
    return e.set("create veth", name + " (peer MAC " + peer_mac + ")", kIf);
  }
  NlRequest req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  req.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  req.put_str(IFLA_IFNAME, name);
  // One queue each way, on both ends, made so: without these, veth allocates one per possible
  // CPU and then, registered already, cuts each end down to one, and each cut waits for an
  // expedited RCU grace period while holding rtnl_lock, which every other link, address and
  // namespace being made waits for. The same single queue either way.
  req.put_u32(IFLA_NUM_TX_QUEUES, 1);
  req.put_u32(IFLA_NUM_RX_QUEUES, 1);
  size_t info = req.nest_begin(IFLA_LINKINFO);
  req.put_str(IFLA_INFO_KIND, "veth");
  size_t data = req.nest_begin(IFLA_INFO_DATA);
  size_t peer_nest = req.nest_begin(VETH_INFO_PEER);
  ifinfomsg peer_ifi{};
  peer_ifi.ifi_family = AF_UNSPEC;
  req.put_raw(&peer_ifi, sizeof peer_ifi);
  req.put_str(IFLA_IFNAME, peer);
  req.put_u32(IFLA_NUM_TX_QUEUES, 1);
  req.put_u32(IFLA_NUM_RX_QUEUES, 1);
  if (peer_netns_fd >= 0) req.put_s32(IFLA_NET_NS_FD, peer_netns_fd);
  if (!peer_mac.empty()) req.put(IFLA_ADDRESS, mac, sizeof mac);
  req.nest_end(peer_nest, false);
  req.nest_end(data);
  req.nest_end(info);
  return nl_request(s, req, "create veth", name, e);
}

int link_del(NlSocket& s, const std::string& name, SysError& e) {
  int idx = ifindex(name, "delete link", e);
  if (idx < 0) return -1;
  NlRequest req(RTM_DELLINK, 0);
  auto* ifi = req.header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = idx;
  return nl_request(s, req, "delete link", name, e);
}

int link_set_up(NlSocket& s, const std::string& name, bool up, SysError& e) {
  const char* op = up ? "set up" : "set down";
  int idx = ifindex(name, op, e);
  if (idx < 0) return -1;
  NlRequest req = setlink(idx);
  auto* ifi = req.header<ifinfomsg>();
  ifi->ifi_flags = up ? IFF_UP : 0;
  ifi->ifi_change = IFF_UP;
  return nl_request(s, req, op, name, e);
}

int link_set_master(NlSocket& s, const std::string& name, const std::string& master, SysError& e) {
  int idx = ifindex(name, "set master", e);
  if (idx < 0) return -1;
  int midx = 0;
  if (!master.empty() && (midx = ifindex(master, "set master", e)) < 0) return -1;
  NlRequest req = setlink(idx);
  req.put_u32(IFLA_MASTER, static_cast<uint32_t>(midx));
  return nl_request(s, req, "set master", name + (master.empty() ? " nomaster" : " master " + master), e);
}

int link_set_netns(NlSocket& s, const std::string& name, int netns_fd, SysError& e) {
  int idx = ifindex(name, "move to netns", e);
  if (idx < 0) return -1;
  NlRequest req = setlink(idx);
  req.put_s32(IFLA_NET_NS_FD, netns_fd);
  return nl_request(s, req, "move to netns", name, e);
}

int link_set_name(NlSocket& s, const std::string& name, const std::string& new_name, SysError& e) {
  int idx = ifindex(name, "rename", e);
  if (idx < 0) return -1;
  NlRequest req = setlink(idx);
  req.put_str(IFLA_IFNAME, new_name);
  return nl_request(s, req, "rename", name + " to " + new_name, e);
}

int link_set_mac(NlSocket& s, const std::string& name, const std::string& mac, SysError& e) {
  uint8_t bytes[6];
  if (!parse_mac(mac, bytes)) {
    errno = EINVAL;
    return e.set("set MAC", name + " " + mac, kIf);
  }
  int idx = ifindex(name, "set MAC", e);
  if (idx < 0) return -1;
  NlRequest req = setlink(idx);
  req.put(IFLA_ADDRESS, bytes, sizeof bytes);
  return nl_request(s, req, "set MAC", name + " " + mac, e);
}

int link_set_mtu(NlSocket& s, const std::string& name, unsigned mtu, SysError& e) {
  int idx = ifindex(name, "set MTU", e);
  if (idx < 0) return -1;
  NlRequest req = setlink(idx);
  req.put_u32(IFLA_MTU, mtu);
  return nl_request(s, req, "set MTU", name, e);
}

int link_set_alias(NlSocket& s, const std::string& name, const std::string& alias, SysError& e) {
  int idx = ifindex(name, "set alias", e);
  if (idx < 0) return -1;
  NlRequest req = setlink(idx);
  req.put(IFLA_IFALIAS, alias.data(), alias.size());  // an empty payload clears it
  return nl_request(s, req, "set alias", name, e);
}

// ---------------------------------------------------------------- addresses and routes

namespace {

int addr_request(NlSocket& s, uint16_t type, uint16_t flags, const char* op, const std::string& name,
                 const std::string& address, int prefix, SysError& e) {
  uint32_t ip;
  std::string object = name + " " + address + "/" + std::to_string(prefix);
  if (!parse_ipv4(address, ip) || prefix < 0 || prefix > 32) {
    errno = EINVAL;
    return e.set(op, object, kIf);
  }
  int idx = ifindex(name, op, e);
  if (idx < 0) return -1;
  NlRequest req(type, flags);
  auto* ifa = req.header<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<uint8_t>(prefix);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(idx);
  uint32_t be = be_ip(ip);
  req.put(IFA_LOCAL, &be, sizeof be);
  req.put(IFA_ADDRESS, &be, sizeof be);
  if (type == RTM_NEWADDR && prefix < 31) {
    uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
    uint32_t brd = be_ip(ip | ~mask);
    req.put(IFA_BROADCAST, &brd, sizeof brd);
  }
  return nl_request(s, req, op, object, e);
}

}  // namespace

int addr_add(NlSocket& s, const std::string& name, const std::string& address, int prefix, SysError& e) {
  return addr_request(s, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, "add address", name, address, prefix, e);
}

int addr_del(NlSocket& s, const std::string& name, const std::string& address, int prefix, SysError& e) {
  return addr_request(s, RTM_DELADDR, 0, "delete address", name, address, prefix, e);
}

int route_replace_default(NlSocket& s, const std::string& name, const std::string& gateway, SysError& e) {
  uint32_t gw;
  std::string object = "default via " + gateway + " dev " + name;
  if (!parse_ipv4(gateway, gw)) {
    errno = EINVAL;
    return e.set("add route", object, "route");
  }
  int idx = ifindex(name, "add route", e);
  if (idx < 0) return -1;
  NlRequest req(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  auto* rt = req.header<rtmsg>();
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_STATIC;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  uint32_t be = be_ip(gw);
  req.put(RTA_GATEWAY, &be, sizeof be);
  req.put_u32(RTA_OIF, static_cast<uint32_t>(idx));
  return nl_request(s, req, "add route", object, e, "route");
}

int route_del_default(NlSocket& s, SysError& e) {
  NlRequest req(RTM_DELROUTE, 0);
  auto* rt = req.header<rtmsg>();
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_scope = RT_SCOPE_NOWHERE;
  return nl_request(s, req, "delete route", "default", e, "route");
}

// ---------------------------------------------------------------- traffic control

int qdisc_replace_tbf(NlSocket& s, const std::string& name, uint64_t rate, uint32_t burst, uint32_t limit,
                      SysError& e) {
  int idx = ifindex(name, "set tbf qdisc", e);
  if (idx < 0) return -1;
  NlRequest req = tc_request(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, idx, TC_H_MAKE(1u << 16, 0), TC_H_ROOT);
  req.put_str(TCA_KIND, "tbf");
  size_t opts = req.nest_begin(TCA_OPTIONS);
  tc_tbf_qopt q{};
  q.rate.rate = rate >= (1ull << 32) ? ~0u : static_cast<uint32_t>(rate);
  q.rate.linklayer = TC_LINKLAYER_ETHERNET;  // no rate table needed
  q.limit = limit;
  q.buffer = 1;  // superseded by TCA_TBF_BURST
  req.put(TCA_TBF_PARMS, &q, sizeof q);
  req.put_u32(TCA_TBF_BURST, burst);
  if (rate >= (1ull << 32)) req.put_u64(TCA_TBF_RATE64, rate);
  req.nest_end(opts, false);
  return nl_request(s, req, "set tbf qdisc", name, e);
}

int qdisc_del_root(NlSocket& s, const std::string& name, SysError& e) {
  int idx = ifindex(name, "delete qdisc", e);
  if (idx < 0) return -1;
  NlRequest req = tc_request(RTM_DELQDISC, 0, idx, 0, TC_H_ROOT);
  return nl_request(s, req, "delete qdisc", name, e);
}

int qdisc_add_clsact(NlSocket& s, const std::string& name, SysError& e) {
  int idx = ifindex(name, "add clsact qdisc", e);
  if (idx < 0) return -1;
  NlRequest req = tc_request(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, idx, TC_H_MAKE(TC_H_CLSACT, 0), TC_H_CLSACT);
  req.put_str(TCA_KIND, "clsact");
  SysError err;
  if (nl_request(s, req, "add clsact qdisc", name, err) < 0) {
    if (err.err == EEXIST) return 0;  // already there: nothing to do
    e = err;
    return -1;
  }
  return 0;
}

// ---------------------------------------------------------------- the anti-spoofing program

namespace {

// A tiny assembler: instructions plus jumps to labels, patched once the labels are placed.
class Bpf {
 public:
  enum Label { kOk, kDrop, kIpv4, kArp, kLabels };

  void emit(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    insns_.push_back(i);
  }
  void mov64_reg(uint8_t dst, uint8_t src) { emit(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
  void mov64_imm(uint8_t dst, int32_t imm) { emit(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
  void mov32_reg(uint8_t dst, uint8_t src) { emit(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
  void and32_imm(uint8_t dst, uint32_t imm) { emit(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, static_cast<int32_t>(imm)); }
  void ldx_w(uint8_t dst, uint8_t src, int16_t off) { emit(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
  // r0 = ntoh(packet[off..]): the classic packet load (r6 must hold the context).
  void ld_abs(uint8_t size, int32_t off) { emit(BPF_LD | BPF_ABS | size, 0, 0, 0, off); }
  // 32-bit compares, so that immediates are not sign-extended against a zero-extended load.
  void jmp32(uint8_t op, uint8_t dst, uint32_t imm, Label to) {
    fixups_.push_back({insns_.size(), to});
    emit(BPF_JMP32 | op | BPF_K, dst, 0, 0, static_cast<int32_t>(imm));
  }
  void ja(Label to) {
    fixups_.push_back({insns_.size(), to});
    emit(BPF_JMP | BPF_JA, 0, 0, 0, 0);
  }
  void exit_() { emit(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
  void place(Label l) { labels_[l] = static_cast<int>(insns_.size()); }

  std::vector<bpf_insn> finish() {
    for (const auto& f : fixups_) insns_[f.at].off = static_cast<int16_t>(labels_[f.to] - static_cast<int>(f.at) - 1);
    return insns_;
  }

 private:
  struct Fixup {
    size_t at;
    Label to;
  };
  std::vector<bpf_insn> insns_;
  std::vector<Fixup> fixups_;
  int labels_[kLabels] = {};
};

std::vector<bpf_insn> build_antispoof(const AntiSpoof& a) {
  const uint32_t mac_hi = (uint32_t{a.mac[0]} << 8) | a.mac[1];
  const uint32_t mac_lo =
      (uint32_t{a.mac[2]} << 24) | (uint32_t{a.mac[3]} << 16) | (uint32_t{a.mac[4]} << 8) | a.mac[5];
  Bpf p;
  p.mov64_reg(6, 1);                     // r6 = skb (for the packet loads)
  p.ldx_w(0, 1, 0);                      // r0 = skb->len
  p.jmp32(BPF_JLT, 0, 42, Bpf::kDrop);   // shorter than Ethernet + ARP: nothing legitimate
  p.ld_abs(BPF_H, 6);                    // source MAC
  p.jmp32(BPF_JNE, 0, mac_hi, Bpf::kDrop);
  p.ld_abs(BPF_W, 8);
  p.jmp32(BPF_JNE, 0, mac_lo, Bpf::kDrop);
  p.ld_abs(BPF_H, 12);                   // EtherType: IPv4 and ARP only (no VLAN tags, no IPv6)
  p.jmp32(BPF_JEQ, 0, ETH_P_IP, Bpf::kIpv4);
  p.jmp32(BPF_JEQ, 0, ETH_P_ARP, Bpf::kArp);
  p.ja(Bpf::kDrop);

  p.place(Bpf::kIpv4);
  p.ld_abs(BPF_W, 14 + 12);              // IPv4 source
  p.jmp32(BPF_JNE, 0, a.ip, Bpf::kDrop);
  if (a.confine) {
    const uint32_t mask = a.prefix == 0 ? 0 : ~0u << (32 - a.prefix);
    p.ld_abs(BPF_W, 14 + 16);            // IPv4 destination: the segment, broadcast or multicast only
    p.mov32_reg(2, 0);
    p.and32_imm(2, mask);
    p.jmp32(BPF_JEQ, 2, a.subnet & mask, Bpf::kOk);
    p.jmp32(BPF_JEQ, 0, 0xffffffffu, Bpf::kOk);
    p.mov32_reg(2, 0);
    p.and32_imm(2, 0xf0000000u);
    p.jmp32(BPF_JEQ, 2, 0xe0000000u, Bpf::kOk);
    p.ja(Bpf::kDrop);
  } else {
    p.ja(Bpf::kOk);
  }

  p.place(Bpf::kArp);
  p.ld_abs(BPF_H, 14 + 8);               // sender hardware address
  p.jmp32(BPF_JNE, 0, mac_hi, Bpf::kDrop);
  p.ld_abs(BPF_W, 14 + 10);
  p.jmp32(BPF_JNE, 0, mac_lo, Bpf::kDrop);
  p.ld_abs(BPF_W, 14 + 14);              // sender protocol address
  p.jmp32(BPF_JNE, 0, a.ip, Bpf::kDrop);

  p.place(Bpf::kOk);
  p.mov64_imm(0, TC_ACT_OK);
  p.exit_();
  p.place(Bpf::kDrop);
  p.mov64_imm(0, TC_ACT_SHOT);
  p.exit_();
  return p.finish();
}

int bpf_prog_load(const std::vector<bpf_insn>& insns, const std::string& object, SysError& e) {
  static const char license[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  attr.insns = reinterpret_cast<uint64_t>(insns.data());
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.license = reinterpret_cast<uint64_t>(license);
  std::strncpy(attr.prog_name, "zn_antispoof", sizeof attr.prog_name - 1);
  long fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr);  // bpf fds are always O_CLOEXEC
  if (fd < 0) return e.set("load anti-spoofing program", object, kIf);
  return static_cast<int>(fd);
}

}  // namespace

std::vector<BpfInsnView> antispoof_program(const AntiSpoof& spec) {
  std::vector<BpfInsnView> out;
  for (const bpf_insn& i : build_antispoof(spec)) {
    out.push_back({i.code, static_cast<uint8_t>(i.dst_reg | (i.src_reg << 4)), i.off, i.imm});
  }
  return out;
}

int filter_replace_antispoof(NlSocket& s, const std::string& name, const AntiSpoof& spec, SysError& e) {
  int idx = ifindex(name, "set anti-spoofing filter", e);
  if (idx < 0) return -1;
  UniqueFd prog(bpf_prog_load(build_antispoof(spec), name, e));
  if (!prog.valid()) return -1;
  NlRequest req = tc_request(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE, idx, 1,
                             TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
  req.header<tcmsg>()->tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL));
  req.put_str(TCA_KIND, "bpf");
  size_t opts = req.nest_begin(TCA_OPTIONS);
  req.put_u32(TCA_BPF_FD, static_cast<uint32_t>(prog.get()));
  req.put_str(TCA_BPF_NAME, "zonectl-antispoof");
  req.put_u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
  req.nest_end(opts);
  return nl_request(s, req, "set anti-spoofing filter", name, e);
}

// ---------------------------------------------------------------- dumps

int link_dump(NlSocket& s, std::vector<LinkInfo>& out, SysError& e) {
  NlRequest req(RTM_GETLINK, 0);
  req.header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  return nl_dump(s, req, "dump links", [&out](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
    NlAttrs at(IFLA_RTA(ifi), IFLA_PAYLOAD(h), IFLA_MAX);
    LinkInfo l;
    l.index = ifi->ifi_index;
    l.flags = ifi->ifi_flags;
    l.name = at.str(IFLA_IFNAME);
    l.alias = at.str(IFLA_IFALIAS);
    if (at.has(IFLA_ADDRESS)) l.mac = format_mac(static_cast<const uint8_t*>(at.data(IFLA_ADDRESS)), at.len(IFLA_ADDRESS));
    l.master = static_cast<int>(at.u32(IFLA_MASTER));
    l.link = static_cast<int>(at.u32(IFLA_LINK));
    l.link_netnsid = at.s32(IFLA_LINK_NETNSID, -1);
    l.mtu = at.u32(IFLA_MTU);
    if (at.has(IFLA_LINKINFO)) {
      NlAttrs info(at.data(IFLA_LINKINFO), at.len(IFLA_LINKINFO), IFLA_INFO_MAX);
      l.kind = info.str(IFLA_INFO_KIND);
    }
    out.push_back(std::move(l));
  }, e);
}

int addr_dump(NlSocket& s, std::vector<AddrInfo>& out, SysError& e) {
  NlRequest req(RTM_GETADDR, 0);
  req.header<ifaddrmsg>()->ifa_family = AF_INET;
  return nl_dump(s, req, "dump addresses", [&out](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWADDR) return;
    auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
    if (ifa->ifa_family != AF_INET) return;
    NlAttrs at(IFA_RTA(ifa), IFA_PAYLOAD(h), IFA_MAX);
    uint16_t which = at.has(IFA_LOCAL) ? IFA_LOCAL : IFA_ADDRESS;
    if (at.len(which) != 4) return;
    uint32_t be;
    std::memcpy(&be, at.data(which), 4);
    out.push_back({static_cast<int>(ifa->ifa_index), format_ipv4(ntohl(be)), ifa->ifa_prefixlen});
  }, e);
}

int route_dump(NlSocket& s, std::vector<RouteInfo>& out, SysError& e) {
  NlRequest req(RTM_GETROUTE, 0);
  req.header<rtmsg>()->rtm_family = AF_INET;
  return nl_dump(s, req, "dump routes", [&out](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE) return;
    auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(h));
    if (rt->rtm_family != AF_INET) return;
    NlAttrs at(RTM_RTA(rt), RTM_PAYLOAD(h), RTA_MAX);
    RouteInfo r;
    uint32_t be = 0;
    if (at.len(RTA_DST) == 4) std::memcpy(&be, at.data(RTA_DST), 4);
    r.dst = format_ipv4(ntohl(be));
    r.prefix = rt->rtm_dst_len;
    if (at.len(RTA_GATEWAY) == 4) {
      std::memcpy(&be, at.data(RTA_GATEWAY), 4);
      r.gateway = format_ipv4(ntohl(be));
    }
    r.oif = static_cast<int>(at.u32(RTA_OIF));
    r.table = at.u32(RTA_TABLE, rt->rtm_table);
    r.protocol = rt->rtm_protocol;
    r.scope = rt->rtm_scope;
    r.type = rt->rtm_type;
    out.push_back(std::move(r));
  }, e);
}

int qdisc_dump(NlSocket& s, std::vector<QdiscInfo>& out, SysError& e) {
  NlRequest req(RTM_GETQDISC, 0);
  req.header<tcmsg>()->tcm_family = AF_UNSPEC;
  return nl_dump(s, req, "dump qdiscs", [&out](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWQDISC) return;
    auto* t = static_cast<const tcmsg*>(NLMSG_DATA(h));
    NlAttrs at(reinterpret_cast<const uint8_t*>(t) + NLMSG_ALIGN(sizeof(tcmsg)),
               h->nlmsg_len - NLMSG_LENGTH(sizeof(tcmsg)), TCA_MAX);
    QdiscInfo q;
    q.index = t->tcm_ifindex;
    q.handle = t->tcm_handle;
    q.parent = t->tcm_parent;
    q.kind = at.str(TCA_KIND);
    if (q.kind == "tbf" && at.has(TCA_OPTIONS)) {
      NlAttrs o(at.data(TCA_OPTIONS), at.len(TCA_OPTIONS), TCA_TBF_MAX);
      if (o.len(TCA_TBF_PARMS) >= sizeof(tc_tbf_qopt)) {
        tc_tbf_qopt p;
        std::memcpy(&p, o.data(TCA_TBF_PARMS), sizeof p);
        q.rate = o.has(TCA_TBF_RATE64) ? o.u64(TCA_TBF_RATE64) : p.rate.rate;
        q.limit = p.limit;
        // buffer is the burst as time, in psched ticks of 64 ns.
        q.burst = static_cast<uint32_t>(static_cast<double>(p.buffer) * 64.0 * static_cast<double>(q.rate) / 1e9 + 0.5);
      }
    }
    out.push_back(std::move(q));
  }, e);
}

}  // namespace zonectl

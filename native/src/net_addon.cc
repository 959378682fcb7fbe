// netExec(netns, ops): run a list of rtnetlink operations in one network namespace, on a
// worker. The exported function only reads its arguments into plain structs and queues the
// work; Execute() enters the namespace on a dedicated thread (so no pool thread ever changes
// namespace), opens one netlink socket there and runs the operations in order, stopping at the
// first failure. A batch is what makes plumbing a zone cheap: one thread hop for all its steps.
#include "net_addon.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "args.h"
#include "net_ops.h"
#include "netns.h"
#include "nft.h"
#include "sys_error.h"
#include "worker.h"

namespace zonectl {

namespace {

enum class Op {
  kLinkAddBridge, kLinkAddVeth, kLinkDel, kLinkSetUp, kLinkSetDown, kLinkSetMaster, kLinkSetNetns,
  kLinkSetName, kLinkSetMac, kLinkSetMtu, kLinkSetAlias, kAddrAdd, kAddrDel, kRouteReplaceDefault,
  kRouteDelDefault, kQdiscReplaceTbf, kQdiscDelRoot, kQdiscAddClsact, kFilterReplaceAntispoof,
  kLinkDump, kAddrDump, kRouteDump, kQdiscDump, kSysctl, kEnter,
};

struct OpName {
  const char* name;
  Op op;
};

constexpr OpName kOps[] = {
    {"link_add_bridge", Op::kLinkAddBridge}, {"link_add_veth", Op::kLinkAddVeth},
    {"link_del", Op::kLinkDel}, {"link_set_up", Op::kLinkSetUp}, {"link_set_down", Op::kLinkSetDown},
    {"link_set_master", Op::kLinkSetMaster}, {"link_set_netns", Op::kLinkSetNetns},
    {"link_set_name", Op::kLinkSetName}, {"link_set_mac", Op::kLinkSetMac}, {"link_set_mtu", Op::kLinkSetMtu},
    {"link_set_alias", Op::kLinkSetAlias}, {"addr_add", Op::kAddrAdd}, {"addr_del", Op::kAddrDel},
    {"route_replace_default", Op::kRouteReplaceDefault}, {"route_del_default", Op::kRouteDelDefault},
    {"qdisc_replace_tbf", Op::kQdiscReplaceTbf}, {"qdisc_del_root", Op::kQdiscDelRoot},
    {"qdisc_add_clsact", Op::kQdiscAddClsact}, {"filter_replace_antispoof", Op::kFilterReplaceAntispoof},
    {"link_dump", Op::kLinkDump}, {"addr_dump", Op::kAddrDump}, {"route_dump", Op::kRouteDump},
    {"qdisc_dump", Op::kQdiscDump}, {"sysctl", Op::kSysctl}, {"enter", Op::kEnter},
};

// One operation's arguments, read on the JS thread; only the fields its kind uses are set.
struct NetOp {
  Op op = Op::kLinkDump;
  std::string name, peer, peer_netns, peer_mac, master, new_name, mac, alias, address, gateway, netns, path, value;
  int prefix = 0;
  unsigned mtu = 0;
  double rate = 0, burst = 0, limit = 0;
  AntiSpoof spoof;
  std::vector<int> tolerate;  // errnos that count as success (e.g. ENODEV for an idempotent delete)
};

struct NetResult {
  Op op = Op::kLinkDump;
  bool skipped = false;  // failed with a tolerated errno
  std::vector<LinkInfo> links;
  std::vector<AddrInfo> addrs;
  std::vector<RouteInfo> routes;
  std::vector<QdiscInfo> qdiscs;
  std::string text;
};

// ---------------------------------------------------------------- execution (no Napi here)

int write_or_read_sysctl(const NetOp& o, NetResult& r, SysError& e) {
  // Only /proc/sys/net/...: these follow the calling thread's network namespace.
  if (o.path.rfind("/proc/sys/net/", 0) != 0 || o.path.find("..") != std::string::npos) {
    errno = EINVAL;
    return e.set("sysctl", o.path);
  }
  if (!o.value.empty()) {
    UniqueFd fd(open(o.path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) return e.set("open", o.path);
    if (write(fd.get(), o.value.data(), o.value.size()) < 0) return e.set("write", o.path);
  }
  UniqueFd fd(open(o.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return e.set("open", o.path);
  char buf[256];
  ssize_t n = read(fd.get(), buf, sizeof buf);
  if (n < 0) return e.set("read", o.path);
  r.text.assign(buf, static_cast<size_t>(n));
  while (!r.text.empty() && (r.text.back() == '\n' || r.text.back() == ' ')) r.text.pop_back();
  return 0;
}

int open_netns(const std::string& path, UniqueFd& out, SysError& e) {
  out.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return out.valid() ? 0 : e.set("open netns", path);
}

int run_one(NlSocket& s, const NetOp& o, NetResult& r, SysError& e) {
  r.op = o.op;
  switch (o.op) {
    case Op::kLinkAddBridge: return link_add_bridge(s, o.name, e);
    case Op::kLinkAddVeth: {
      UniqueFd ns;
      if (!o.peer_netns.empty() && open_netns(o.peer_netns, ns, e) < 0) return -1;
      return link_add_veth(s, o.name, o.peer, ns.valid() ? ns.get() : -1, o.peer_mac, e);
    }
    case Op::kLinkDel: return link_del(s, o.name, e);
    case Op::kLinkSetUp: return link_set_up(s, o.name, true, e);
    case Op::kLinkSetDown: return link_set_up(s, o.name, false, e);
    case Op::kLinkSetMaster: return link_set_master(s, o.name, o.master, e);
    case Op::kLinkSetNetns: {
      UniqueFd ns;
      if (open_netns(o.netns, ns, e) < 0) return -1;
      return link_set_netns(s, o.name, ns.get(), e);
    }
    case Op::kLinkSetName: return link_set_name(s, o.name, o.new_name, e);
    case Op::kLinkSetMac: return link_set_mac(s, o.name, o.mac, e);
    case Op::kLinkSetMtu: return link_set_mtu(s, o.name, o.mtu, e);
    case Op::kLinkSetAlias: return link_set_alias(s, o.name, o.alias, e);
    case Op::kAddrAdd: return addr_add(s, o.name, o.address, o.prefix, e);
    case Op::kAddrDel: return addr_del(s, o.name, o.address, o.prefix, e);
    case Op::kRouteReplaceDefault: return route_replace_default(s, o.name, o.gateway, e);
    case Op::kRouteDelDefault: return route_del_default(s, e);
    case Op::kQdiscReplaceTbf:
      return qdisc_replace_tbf(s, o.name, static_cast<uint64_t>(o.rate), static_cast<uint32_t>(o.burst),
                               static_cast<uint32_t>(o.limit), e);
    case Op::kQdiscDelRoot: return qdisc_del_root(s, o.name, e);
    case Op::kQdiscAddClsact: return qdisc_add_clsact(s, o.name, e);
    case Op::kFilterReplaceAntispoof: return filter_replace_antispoof(s, o.name, o.spoof, e);
    case Op::kLinkDump: return link_dump(s, r.links, e);
    case Op::kAddrDump: return addr_dump(s, r.addrs, e);
    case Op::kRouteDump: return route_dump(s, r.routes, e);
    case Op::kQdiscDump: return qdisc_dump(s, r.qdiscs, e);
    case Op::kSysctl: return write_or_read_sysctl(o, r, e);
    case Op::kEnter: break;  // run_batch's own
  }
  errno = EINVAL;
  return e.set("netExec", "unknown operation");
}

bool has_enter(const std::vector<NetOp>& ops) {
  return std::any_of(ops.begin(), ops.end(), [](const NetOp& o) { return o.op == Op::kEnter; });
}

// `enter`: moves this thread, and the batch's socket, into the namespace at `netns`, or back
// into the one the batch began in (`home`, opened at the first enter) when it is empty.
int enter(const std::string& netns, UniqueFd& home, NlSocket& s, SysError& e) {
  if (!home.valid()) {
    home.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home.valid()) return e.set("open", "/proc/thread-self/ns/net");
  }
  UniqueFd ns;
  if (!netns.empty() && open_netns(netns, ns, e) < 0) return -1;
  if (setns(netns.empty() ? home.get() : ns.get(), CLONE_NEWNET) < 0)
    return e.set("setns", netns.empty() ? "the batch's first namespace" : netns);
  return s.open(e);  // a netlink socket speaks for the namespace it was made in
}

// Runs in the calling thread's network namespace; `enter` ops move the thread between
// namespaces (run_in_netns gives such a batch a thread of its own).
int run_batch(const std::vector<NetOp>& ops, std::vector<NetResult>& out, SysError& e) {
  NlSocket s;
  if (s.open(e) < 0) return -1;
  UniqueFd home;
  out.resize(ops.size());
  for (size_t i = 0; i < ops.size(); i++) {
    SysError err;
    out[i].op = ops[i].op;
    if ((ops[i].op == Op::kEnter ? enter(ops[i].netns, home, s, err) : run_one(s, ops[i], out[i], err)) == 0) continue;
    if (std::find(ops[i].tolerate.begin(), ops[i].tolerate.end(), err.err) != ops[i].tolerate.end()) {
      out[i].skipped = true;
      continue;
    }
    e = err;
    return -1;
  }
  return 0;
}

int run_in_netns(const std::string& netns, const std::vector<NetOp>& ops, std::vector<NetResult>& out,
                 SysError& e) {
  if (netns.empty() && !has_enter(ops)) return run_batch(ops, out, e);
  UniqueFd ns;
  if (!netns.empty() && open_netns(netns, ns, e) < 0) return -1;
  int rc = 0;
  // A fresh thread per batch: it enters the namespace and ends, so no thread is ever returned
  // to a pool in the wrong namespace.
  std::thread t([&] {
    if (ns.valid() && setns(ns.get(), CLONE_NEWNET) < 0) {
      rc = e.set("setns", netns);
      return;
    }
    rc = run_batch(ops, out, e);
  });
  t.join();
  return rc;
}

// The same batch in each of `netns`, one after the other on one thread that is thrown away:
// a failure is that namespace's (in its SysError), not the call's. One thread and one setns per
// namespace instead of a thread per namespace (observe reads every zone's).
void run_in_each_netns(const std::vector<std::string>& netns, const std::vector<NetOp>& ops,
                       std::vector<std::vector<NetResult>>& out, std::vector<SysError>& errs) {
  out.resize(netns.size());
  errs.resize(netns.size());
  std::thread t([&] {
    for (size_t i = 0; i < netns.size(); i++) {
      UniqueFd ns;
      if (open_netns(netns[i], ns, errs[i]) < 0) continue;
      if (setns(ns.get(), CLONE_NEWNET) < 0) {
        errs[i].set("setns", netns[i]);
        continue;
      }
      run_batch(ops, out[i], errs[i]);
    }
  });
  t.join();
}

// ---------------------------------------------------------------- arguments (JS thread)

std::string str_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

double num_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0;
}

bool read_op(Napi::Env env, const Napi::Value& v, NetOp& o) {
  if (!v.IsObject()) {
    Napi::TypeError::New(env, "each operation must be an object").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Object obj = v.As<Napi::Object>();
  std::string kind = str_field(obj, "op");
  auto it = std::find_if(std::begin(kOps), std::end(kOps), [&](const OpName& n) { return kind == n.name; });
  if (it == std::end(kOps)) {
    Napi::TypeError::New(env, "unknown network operation: " + kind).ThrowAsJavaScriptException();
    return false;
  }
  o.op = it->op;
  o.name = str_field(obj, "name");
  o.peer = str_field(obj, "peer");
  o.peer_netns = str_field(obj, "peerNetns");
  o.peer_mac = str_field(obj, "peerMac");
  o.master = str_field(obj, "master");
  o.new_name = str_field(obj, "newName");
  o.mac = str_field(obj, "mac");
  o.alias = str_field(obj, "alias");
  o.address = str_field(obj, "address");
  o.gateway = str_field(obj, "gateway");
  o.netns = str_field(obj, "netns");
  o.path = str_field(obj, "path");
  o.value = str_field(obj, "value");
  o.prefix = static_cast<int>(num_field(obj, "prefix"));
  o.mtu = static_cast<unsigned>(num_field(obj, "mtu"));
  o.rate = num_field(obj, "rate");
  o.burst = num_field(obj, "burst");
  o.limit = num_field(obj, "limit");
  if (o.op == Op::kFilterReplaceAntispoof) {
    uint32_t ip = 0, subnet = 0;
    if (!parse_mac(o.mac, o.spoof.mac) || !parse_ipv4(o.address, ip) ||
        (obj.Get("confine").ToBoolean().Value() && !parse_ipv4(str_field(obj, "subnet"), subnet))) {
      Napi::TypeError::New(env, "filter_replace_antispoof needs mac, address (and subnet when confined)")
          .ThrowAsJavaScriptException();
      return false;
    }
    o.spoof.ip = ip;
    o.spoof.confine = obj.Get("confine").ToBoolean().Value();
    o.spoof.subnet = subnet;
    o.spoof.prefix = o.prefix;
  }
  Napi::Value tol = obj.Get("tolerate");
  if (tol.IsArray()) {
    Napi::Array a = tol.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value n = a.Get(i);
      if (n.IsNumber()) o.tolerate.push_back(std::abs(n.As<Napi::Number>().Int32Value()));
    }
  }
  return true;
}

Napi::Value to_js(Napi::Env env, const NetResult& r) {
  if (r.skipped) return Napi::String::New(env, "skipped");
  switch (r.op) {
    case Op::kLinkDump: {
      Napi::Array a = Napi::Array::New(env, r.links.size());
      for (size_t i = 0; i < r.links.size(); i++) {
        const LinkInfo& l = r.links[i];
        Napi::Object o = Napi::Object::New(env);
        o.Set("index", l.index);
        o.Set("name", l.name);
        o.Set("kind", l.kind);
        o.Set("alias", l.alias);
        o.Set("mac", l.mac);
        o.Set("master", l.master);
        o.Set("link", l.link);
        o.Set("linkNetnsid", l.link_netnsid);
        o.Set("flags", l.flags);
        o.Set("mtu", l.mtu);
        a.Set(static_cast<uint32_t>(i), o);
      }
      return a;
    }
    case Op::kAddrDump: {
      Napi::Array a = Napi::Array::New(env, r.addrs.size());
      for (size_t i = 0; i < r.addrs.size(); i++) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("index", r.addrs[i].index);
        o.Set("address", r.addrs[i].address);
        o.Set("prefix", r.addrs[i].prefix);
        a.Set(static_cast<uint32_t>(i), o);
      }
      return a;
    }
    case Op::kRouteDump: {
      Napi::Array a = Napi::Array::New(env, r.routes.size());
      for (size_t i = 0; i < r.routes.size(); i++) {
        const RouteInfo& rt = r.routes[i];
        Napi::Object o = Napi::Object::New(env);
        o.Set("dst", rt.dst);
        o.Set("prefix", rt.prefix);
        o.Set("gateway", rt.gateway);
        o.Set("oif", rt.oif);
        o.Set("table", rt.table);
        o.Set("protocol", rt.protocol);
        o.Set("scope", rt.scope);
        o.Set("type", rt.type);
        a.Set(static_cast<uint32_t>(i), o);
      }
      return a;
    }
    case Op::kQdiscDump: {
      Napi::Array a = Napi::Array::New(env, r.qdiscs.size());
      for (size_t i = 0; i < r.qdiscs.size(); i++) {
        const QdiscInfo& q = r.qdiscs[i];
        Napi::Object o = Napi::Object::New(env);
        o.Set("index", q.index);
        o.Set("kind", q.kind);
        o.Set("handle", q.handle);
        o.Set("parent", q.parent);
        o.Set("rate", static_cast<double>(q.rate));
        o.Set("burst", q.burst);
        o.Set("limit", q.limit);
        a.Set(static_cast<uint32_t>(i), o);
      }
      return a;
    }
    case Op::kSysctl: return Napi::String::New(env, r.text);
    default: return env.Null();
  }
}

// netExec(netns: string | null, ops: object[]): Promise<unknown[]>
Napi::Value NetExec(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !(info[0].IsString() || info[0].IsNull()) || !info[1].IsArray()) {
    Napi::TypeError::New(env, "netExec(netns: string | null, ops: object[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string netns = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  Napi::Array arr = info[1].As<Napi::Array>();
  std::vector<NetOp> ops(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    if (!read_op(env, arr.Get(i), ops[i])) return env.Undefined();
  }
  return PromiseWorker<std::vector<NetResult>>::Start(
      env,
      [netns, ops](SysError& e) {
        std::vector<NetResult> out;
        run_in_netns(netns, ops, out, e);
        return out;
      },
      [](Napi::Env env, const std::vector<NetResult>& out) -> Napi::Value {
        Napi::Array a = Napi::Array::New(env, out.size());
        for (size_t i = 0; i < out.size(); i++) a.Set(static_cast<uint32_t>(i), to_js(env, out[i]));
        return a;
      });
}

// netExecEach(netns: string[], ops: object[]): Promise<(unknown[] | Error)[]> — see run_in_each_netns.
Napi::Value NetExecEach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> netns;
  if (!ArgStrings(info, 0, "netns", netns)) return env.Undefined();
  if (info.Length() < 2 || !info[1].IsArray()) {
    Napi::TypeError::New(env, "ops must be an array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array arr = info[1].As<Napi::Array>();
  std::vector<NetOp> ops(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    if (!read_op(env, arr.Get(i), ops[i])) return env.Undefined();
  }
  struct Each {
    std::vector<std::vector<NetResult>> out;
    std::vector<SysError> errs;
  };
  return PromiseWorker<Each>::Start(
      env,
      [netns, ops](SysError&) {
        Each r;
        run_in_each_netns(netns, ops, r.out, r.errs);
        return r;
      },
      [](Napi::Env env, const Each& r) -> Napi::Value {
        Napi::Array a = Napi::Array::New(env, r.out.size());
        for (size_t i = 0; i < r.out.size(); i++) {
          if (r.errs[i].failed()) {
            a.Set(static_cast<uint32_t>(i), ToJsError(env, r.errs[i]).Value());
            continue;
          }
          Napi::Array one = Napi::Array::New(env, r.out[i].size());
          for (size_t k = 0; k < r.out[i].size(); k++) one.Set(static_cast<uint32_t>(k), to_js(env, r.out[i][k]));
          a.Set(static_cast<uint32_t>(i), one);
        }
        return a;
      });
}

// antispoofProgram(mac, address, confineSubnet | null, prefix): number[][] — the filter's
// instructions as [code, regs, off, imm], so that tests can check the encoding without root.
Napi::Value AntispoofProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AntiSpoof a;
  uint32_t ip = 0, subnet = 0;
  bool confine = info.Length() > 2 && info[2].IsString();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString() ||
      !parse_mac(info[0].As<Napi::String>().Utf8Value(), a.mac) ||
      !parse_ipv4(info[1].As<Napi::String>().Utf8Value(), ip) ||
      (confine && !parse_ipv4(info[2].As<Napi::String>().Utf8Value(), subnet))) {
    Napi::TypeError::New(env, "antispoofProgram(mac, address, subnet | null, prefix)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  a.ip = ip;
  a.confine = confine;
  a.subnet = subnet;
  a.prefix = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  std::vector<BpfInsnView> insns = antispoof_program(a);
  Napi::Array out = Napi::Array::New(env, insns.size());
  for (size_t i = 0; i < insns.size(); i++) {
    Napi::Array row = Napi::Array::New(env, 4);
    row.Set(0u, insns[i].code);
    row.Set(1u, insns[i].regs);
    row.Set(2u, insns[i].off);
    row.Set(3u, insns[i].imm);
    out.Set(static_cast<uint32_t>(i), row);
  }
  return out;
}

// netnsMake(): Promise<number> — a descriptor of a new network namespace; see netns.h.
Napi::Value NetnsMake(const Napi::CallbackInfo& info) {
  return PromiseWorker<int>::Start(
      info.Env(), [](SysError& e) { return netns_make(e); },
      [](Napi::Env env, const int& fd) { return Napi::Number::New(env, fd); });
}

// nftTableHandle(family: number, name: string): Promise<number> — the table's handle, 0 when absent.
Napi::Value NftTableHandle(const Napi::CallbackInfo& info) {
  int32_t nfproto;
  std::string name;
  if (!ArgInt(info, 0, "family", nfproto) || !ArgString(info, 1, "name", name)) return info.Env().Undefined();
  auto family = static_cast<uint8_t>(nfproto);
  return PromiseWorker<uint64_t>::Start(
      info.Env(),
      [family, name](SysError& e) {
        uint64_t handle = 0;
        nft_table_handle(family, name, handle, e);
        return handle;
      },
      [](Napi::Env env, const uint64_t& handle) { return Napi::Number::New(env, static_cast<double>(handle)); });
}

// nftAvailable(): Promise<boolean> — whether libnftables loads (dlopen on a worker thread).
Napi::Value NftAvailable(const Napi::CallbackInfo& info) {
  return PromiseWorker<bool>::Start(
      info.Env(), [](SysError&) { return nft_lib_available(); },
      [](Napi::Env env, const bool& ok) { return Napi::Boolean::New(env, ok); });
}

// nftRun(commands: string): Promise<{ ok, output, errors }> — nft's language through libnftables.
Napi::Value NftRun(const Napi::CallbackInfo& info) {
  std::string commands;
  if (!ArgString(info, 0, "commands", commands)) return info.Env().Undefined();
  return PromiseWorker<NftResult>::Start(
      info.Env(),
      [commands](SysError& e) {
        NftResult r;
        nft_lib_run(commands, r, e);
        return r;
      },
      [](Napi::Env env, const NftResult& r) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("ok", Napi::Boolean::New(env, r.ok));
        o.Set("output", Napi::String::New(env, r.output));
        o.Set("errors", Napi::String::New(env, r.errors));
        return o;
      });
}

}  // namespace

void InitNet(Napi::Env env, Napi::Object exports) {
  exports.Set("nftAvailable", Napi::Function::New(env, NftAvailable));
  exports.Set("nftRun", Napi::Function::New(env, NftRun));
  exports.Set("netExec", Napi::Function::New(env, NetExec));
  exports.Set("netExecEach", Napi::Function::New(env, NetExecEach));
  exports.Set("antispoofProgram", Napi::Function::New(env, AntispoofProgram));
  exports.Set("netnsMake", Napi::Function::New(env, NetnsMake));
  exports.Set("nftTableHandle", Napi::Function::New(env, NftTableHandle));
}

}  // namespace zonectl

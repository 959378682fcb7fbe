#include "nft.h"

#include <endian.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <dlfcn.h>

#include <cerrno>
#include <mutex>

#include "netlink.h"

namespace zonectl {

int nft_table_handle(uint8_t family, const std::string& name, uint64_t& handle, SysError& e) {
  handle = 0;
  NlSocket s;
  if (s.open(e, NETLINK_NETFILTER) < 0) return -1;
  NlRequest req(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE), 0);
  auto* g = req.header<nfgenmsg>();
  g->nfgen_family = family;
  g->version = NFNETLINK_V0;
  g->res_id = 0;
  req.put_str(NFTA_TABLE_NAME, name);
  int rc = nl_get(s, req, "get nftables table", name, [&handle](const nlmsghdr* h) {
    if ((h->nlmsg_type & 0xff) != NFT_MSG_NEWTABLE) return;
    auto* msg = static_cast<const uint8_t*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(nfgenmsg));
    NlAttrs at(msg, h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(nfgenmsg))), NFTA_TABLE_MAX);
    handle = be64toh(at.u64(NFTA_TABLE_HANDLE));
  }, e, "table");
  if (rc < 0 && e.err == ENOENT) {
    e = SysError();
    handle = 0;
    return 0;
  }
  return rc;
}

namespace {

// The part of libnftables(3) zonectl calls; the prototypes are the library's stable ABI.
struct NftLib {
  void* (*ctx_new)(uint32_t flags) = nullptr;
  int (*buffer_output)(void* ctx) = nullptr;
  int (*buffer_error)(void* ctx) = nullptr;
  const char* (*output_buffer)(void* ctx) = nullptr;
  const char* (*error_buffer)(void* ctx) = nullptr;
  int (*run)(void* ctx, const char* buf) = nullptr;
  void* ctx = nullptr;  // one context, used under `mu`: libnftables is not thread-safe
  std::mutex mu;
};

NftLib* load_nft_lib() {
  static NftLib* lib = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    // RTLD_LOCAL: its dependencies (libnftnl, libjansson, libgmp) stay out of the process's namespace
    void* h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) return;
    auto* l = new NftLib();
    l->ctx_new = reinterpret_cast<void* (*)(uint32_t)>(dlsym(h, "nft_ctx_new"));
    l->buffer_output = reinterpret_cast<int (*)(void*)>(dlsym(h, "nft_ctx_buffer_output"));
    l->buffer_error = reinterpret_cast<int (*)(void*)>(dlsym(h, "nft_ctx_buffer_error"));
    l->output_buffer = reinterpret_cast<const char* (*)(void*)>(dlsym(h, "nft_ctx_get_output_buffer"));
    l->error_buffer = reinterpret_cast<const char* (*)(void*)>(dlsym(h, "nft_ctx_get_error_buffer"));
    l->run = reinterpret_cast<int (*)(void*, const char*)>(dlsym(h, "nft_run_cmd_from_buffer"));
    if (!l->ctx_new || !l->buffer_output || !l->buffer_error || !l->output_buffer || !l->error_buffer || !l->run) return;
    l->ctx = l->ctx_new(0);  // NFT_CTX_DEFAULT
    if (l->ctx == nullptr || l->buffer_output(l->ctx) != 0 || l->buffer_error(l->ctx) != 0) return;
    lib = l;
  });
  return lib;
}

}  // namespace

bool nft_lib_available() { return load_nft_lib() != nullptr; }

int nft_lib_run(const std::string& commands, NftResult& r, SysError& e) {
  NftLib* l = load_nft_lib();
  if (l == nullptr) {
    errno = ENOENT;
    return e.set("dlopen", "libnftables.so.1");
  }
  std::lock_guard<std::mutex> lock(l->mu);
  r.ok = l->run(l->ctx, commands.c_str()) == 0;
  // each read returns what the run buffered and empties the buffer for the next run
  r.output = l->output_buffer(l->ctx);
  r.errors = l->error_buffer(l->ctx);
  return 0;
}

}  // namespace zonectl

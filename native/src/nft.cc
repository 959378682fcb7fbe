#include "nft.h"

#include <endian.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cerrno>

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

}  // namespace zonectl

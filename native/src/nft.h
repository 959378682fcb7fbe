// nftables over NETLINK_NETFILTER, read-only: whether a table exists, without an `nft` process.
// (Tables are written by `nft -f -`, see src/host/net/nft.ts.)
#pragma once
#include <cstdint>
#include <string>

#include "sys_error.h"

namespace zonectl {

// NFT_MSG_GETTABLE for `name` in `family` (NFPROTO_INET...): its handle, or 0 when there is
// no such table (ENOENT is an answer, not an error). The calling thread's network namespace.
int nft_table_handle(uint8_t family, const std::string& name, uint64_t& handle, SysError& e);

}  // namespace zonectl

// nftables: whether a table exists, over NETLINK_NETFILTER; and nft's language run by
// libnftables (the library the `nft` command is a thin shell over), loaded with dlopen at the
// first use, so that neither the build nor a host without nftables needs it.
#pragma once
#include <cstdint>
#include <string>

#include "sys_error.h"

namespace zonectl {

// NFT_MSG_GETTABLE for `name` in `family` (NFPROTO_INET...): its handle, or 0 when there is
// no such table (ENOENT is an answer, not an error). The calling thread's network namespace.
int nft_table_handle(uint8_t family, const std::string& name, uint64_t& handle, SysError& e);

// Whether libnftables.so.1 loads (once per process; later calls are free).
bool nft_lib_available();

// `nft -f -` of `commands` through libnftables, one run at a time in the process. ok = false
// with nft's messages in `errors` when nft refuses them; -1 (ENOENT) without the library.
struct NftResult {
  bool ok = false;
  std::string output, errors;
};
int nft_lib_run(const std::string& commands, NftResult& r, SysError& e);

}  // namespace zonectl

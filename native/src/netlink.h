// Raw rtnetlink, no libnl: a socket owned by one scope, a request builder that nests
// attributes, one send-and-wait-for-ack, one dump loop, and an attribute parser.
// Functions are syscall-shaped: 0 or -1, with a SysError saying what failed on which object.
#pragma once
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sys_error.h"

namespace zonectl {

// A netlink socket (NETLINK_ROUTE unless told) in the network namespace of the thread that opened it.
class NlSocket {
 public:
  int open(SysError& e, int protocol = NETLINK_ROUTE);
  int fd() const { return fd_.get(); }
  uint32_t next_seq() { return ++seq_; }

 private:
  UniqueFd fd_;
  uint32_t seq_ = 0;
};

// One request: nlmsghdr, a fixed family header, then attributes (nests tracked by offset).
class NlRequest {
 public:
  NlRequest(uint16_t type, uint16_t flags);

  // The family header (ifinfomsg, ifaddrmsg, rtmsg, tcmsg...), copied in after nlmsghdr.
  template <typename T>
  T* header() {
    if (buf_.size() < NLMSG_LENGTH(sizeof(T))) put_raw(nullptr, NLMSG_ALIGN(sizeof(T)));
    return reinterpret_cast<T*>(buf_.data() + NLMSG_HDRLEN);
  }
  void put_raw(const void* data, size_t len);  // aligned, zero-padded
  void put(uint16_t type, const void* data, size_t len);
  void put_u8(uint16_t type, uint8_t v) { put(type, &v, sizeof v); }
  void put_u16(uint16_t type, uint16_t v) { put(type, &v, sizeof v); }
  void put_u32(uint16_t type, uint32_t v) { put(type, &v, sizeof v); }
  void put_s32(uint16_t type, int32_t v) { put(type, &v, sizeof v); }
  void put_u64(uint16_t type, uint64_t v) { put(type, &v, sizeof v); }
  void put_str(uint16_t type, const std::string& s) { put(type, s.c_str(), s.size() + 1); }
  size_t nest_begin(uint16_t type);  // returns the offset to close
  // `nested_flag`: mark NLA_F_NESTED (not for VETH_INFO_PEER, whose payload starts with an ifinfomsg).
  void nest_end(size_t offset, bool nested_flag = true);

  nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  const std::vector<uint8_t>& bytes();

 private:
  std::vector<uint8_t> buf_;
};

// Attributes of one message or nest, indexed by type (the last occurrence wins).
class NlAttrs {
 public:
  NlAttrs(const void* data, size_t len, uint16_t max_type);
  const rtattr* get(uint16_t type) const { return type < table_.size() ? table_[type] : nullptr; }
  bool has(uint16_t type) const { return get(type) != nullptr; }
  std::string str(uint16_t type) const;
  uint32_t u32(uint16_t type, uint32_t dflt = 0) const;
  uint64_t u64(uint16_t type, uint64_t dflt = 0) const;
  int32_t s32(uint16_t type, int32_t dflt = 0) const;
  // Payload of a nested attribute, for a nested NlAttrs.
  const void* data(uint16_t type) const;
  size_t len(uint16_t type) const;

 private:
  std::vector<const rtattr*> table_;
};

// Send one request and wait for its ack. On a kernel error, `e` names `op` and `object`.
int nl_request(NlSocket& s, NlRequest& req, const char* op, const std::string& object, SysError& e,
               const char* key = "ifname");

// Send one request that the kernel answers with messages and then its ack (a get): call `each`
// with every answer; on a kernel error, `e` names `op` and `object`.
int nl_get(NlSocket& s, NlRequest& req, const char* op, const std::string& object,
           const std::function<void(const nlmsghdr*)>& each, SysError& e, const char* key = "ifname");

// Send a dump request and call `each` with every reply message until NLMSG_DONE.
int nl_dump(NlSocket& s, NlRequest& req, const char* op, const std::function<void(const nlmsghdr*)>& each,
            SysError& e);

}  // namespace zonectl

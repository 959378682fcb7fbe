#include "netlink.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace zonectl {

namespace {

constexpr size_t kRecvBuf = 64 * 1024;

ssize_t send_all(int fd, const std::vector<uint8_t>& msg) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t n;
  do {
    n = sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  } while (n < 0 && errno == EINTR);
  return n;
}

ssize_t recv_some(int fd, std::vector<uint8_t>& buf) {
  ssize_t n;
  do {
    n = recv(fd, buf.data(), buf.size(), 0);
  } while (n < 0 && errno == EINTR);
  return n;
}

}  // namespace

int NlSocket::open(SysError& e, int protocol) {
  const char* what = protocol == NETLINK_ROUTE ? "NETLINK_ROUTE" : protocol == NETLINK_NETFILTER ? "NETLINK_NETFILTER" : "netlink";
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!fd.valid()) return e.set("socket", what);
  int one = 1;
  // Best effort: strict dump filtering and capped acks are refinements, not requirements.
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) return e.set("bind", what);
  fd_ = std::move(fd);
  return 0;
}

NlRequest::NlRequest(uint16_t type, uint16_t flags) : buf_(NLMSG_HDRLEN, 0) {
  nlmsghdr* h = hdr();
  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | flags;
}

void NlRequest::put_raw(const void* data, size_t len) {
  size_t at = buf_.size();
  buf_.resize(at + NLMSG_ALIGN(len), 0);
  if (data != nullptr && len > 0) std::memcpy(buf_.data() + at, data, len);
}

void NlRequest::put(uint16_t type, const void* data, size_t len) {
  rtattr a{};
  a.rta_type = type;
  a.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  size_t at = buf_.size();
  buf_.resize(at + RTA_SPACE(len), 0);
  std::memcpy(buf_.data() + at, &a, sizeof a);
  if (len > 0) std::memcpy(buf_.data() + at + RTA_LENGTH(0), data, len);
}

size_t NlRequest::nest_begin(uint16_t type) {
  size_t at = buf_.size();
  put(type, nullptr, 0);
  return at;
}

void NlRequest::nest_end(size_t offset, bool nested_flag) {
  auto* a = reinterpret_cast<rtattr*>(buf_.data() + offset);
  if (nested_flag) a->rta_type |= NLA_F_NESTED;
  a->rta_len = static_cast<unsigned short>(buf_.size() - offset);
}

const std::vector<uint8_t>& NlRequest::bytes() {
  hdr()->nlmsg_len = static_cast<uint32_t>(buf_.size());
  return buf_;
}

NlAttrs::NlAttrs(const void* data, size_t len, uint16_t max_type) : table_(max_type + 1u, nullptr) {
  auto* a = static_cast<const rtattr*>(data);
  int remaining = static_cast<int>(len);
  for (; RTA_OK(a, remaining); a = RTA_NEXT(a, remaining)) {
    uint16_t type = a->rta_type & NLA_TYPE_MASK;
    if (type <= max_type) table_[type] = a;
  }
}

std::string NlAttrs::str(uint16_t type) const {
  const rtattr* a = get(type);
  if (a == nullptr) return {};
  const char* p = static_cast<const char*>(RTA_DATA(a));
  return std::string(p, strnlen(p, RTA_PAYLOAD(a)));
}

uint32_t NlAttrs::u32(uint16_t type, uint32_t dflt) const {
  const rtattr* a = get(type);
  if (a == nullptr || RTA_PAYLOAD(a) < sizeof(uint32_t)) return dflt;
  uint32_t v;
  std::memcpy(&v, RTA_DATA(a), sizeof v);
  return v;
}

uint64_t NlAttrs::u64(uint16_t type, uint64_t dflt) const {
  const rtattr* a = get(type);
  if (a == nullptr || RTA_PAYLOAD(a) < sizeof(uint64_t)) return dflt;
  uint64_t v;
  std::memcpy(&v, RTA_DATA(a), sizeof v);
  return v;
}

int32_t NlAttrs::s32(uint16_t type, int32_t dflt) const {
  return static_cast<int32_t>(u32(type, static_cast<uint32_t>(dflt)));
}

const void* NlAttrs::data(uint16_t type) const {
  const rtattr* a = get(type);
  return a == nullptr ? nullptr : RTA_DATA(a);
}

size_t NlAttrs::len(uint16_t type) const {
  const rtattr* a = get(type);
  return a == nullptr ? 0 : RTA_PAYLOAD(a);
}

int nl_get(NlSocket& s, NlRequest& req, const char* op, const std::string& object,
           const std::function<void(const nlmsghdr*)>& each, SysError& e, const char* key) {
  uint32_t seq = s.next_seq();
  req.hdr()->nlmsg_seq = seq;
  req.hdr()->nlmsg_flags |= NLM_F_ACK;
  if (send_all(s.fd(), req.bytes()) < 0) return e.set(op, object, key);
  std::vector<uint8_t> buf(kRecvBuf);
  for (;;) {
    ssize_t n = recv_some(s.fd(), buf);
    if (n < 0) return e.set(op, object, key);
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type != NLMSG_ERROR) {
        each(h);
        continue;
      }
      auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
      if (err->error == 0) return 0;
      errno = -err->error;
      return e.set(op, object, key);
    }
  }
}

int nl_request(NlSocket& s, NlRequest& req, const char* op, const std::string& object, SysError& e,
               const char* key) {
  return nl_get(s, req, op, object, [](const nlmsghdr*) {}, e, key);  // only the acknowledgement
}

int nl_dump(NlSocket& s, NlRequest& req, const char* op, const std::function<void(const nlmsghdr*)>& each,
            SysError& e) {
  uint32_t seq = s.next_seq();
  req.hdr()->nlmsg_seq = seq;
  req.hdr()->nlmsg_flags |= NLM_F_DUMP;
  if (send_all(s.fd(), req.bytes()) < 0) return e.set(op, "dump", "object");
  std::vector<uint8_t> buf(kRecvBuf);
  for (;;) {
    ssize_t n = recv_some(s.fd(), buf);
    if (n < 0) return e.set(op, "dump", "object");
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (err->error == 0) return 0;
        errno = -err->error;
        return e.set(op, "dump", "object");
      }
      each(h);
    }
  }
}

}  // namespace zonectl

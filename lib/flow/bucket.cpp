#include "lib/flow/bucket.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace edgecap::flow {

std::string_view FailName(Fail f) {
  switch (f) {
    case Fail::kIcmpPort:
      return "icmp_port_unreachable";
    case Fail::kIcmpAdmin:
      return "icmp_admin_prohibited";
    case Fail::kIcmpHost:
      return "icmp_host_unreachable";
    case Fail::kIcmpNet:
      return "icmp_net_unreachable";
    case Fail::kTcpRefused:
      return "tcp_refused";
    case Fail::kServfail:
      return "servfail";
    case Fail::kRefused:
      return "refused";
    case Fail::kTimeout:
      return "timeouts";
    case Fail::kCount:
      break;
  }
  return "?";
}

bool IcmpCodeToFail(bool v6, uint8_t code, Fail* out) {
  if (v6) {
    switch (code) {
      case 0:
        *out = Fail::kIcmpNet;
        return true;
      case 3:
        *out = Fail::kIcmpHost;
        return true;
      case 4:
        *out = Fail::kIcmpPort;
        return true;
      case 1:
      case 5:
      case 6:
        *out = Fail::kIcmpAdmin;
        return true;
      default:
        return false;
    }
  }
  switch (code) {
    case 0:
    case 6:
    case 11:
      *out = Fail::kIcmpNet;
      return true;
    case 1:
    case 5:
    case 7:
    case 8:
    case 12:
      *out = Fail::kIcmpHost;
      return true;
    case 2:
    case 3:
      *out = Fail::kIcmpPort;
      return true;
    case 9:
    case 10:
    case 13:
      *out = Fail::kIcmpAdmin;
      return true;
    default:
      return false;
  }
}

std::string IpToString(const parse::IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ip.version == 4) {
    inet_ntop(AF_INET, ip.bytes.data(), buf, sizeof buf);
  } else if (ip.version == 6) {
    inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof buf);
  }
  return buf;
}

uint32_t ServerCounters::EstimatedClients() const {
  constexpr int kBits = 64 * kClientSketchWords;
  int set = 0;
  for (uint64_t w : client_sketch) set += std::popcount(w);
  if (set == kBits) return kBits * 8;  // saturated: a lower bound
  return static_cast<uint32_t>(
      std::lround(-kBits * std::log(1.0 - static_cast<double>(set) / kBits)));
}

bool FrameLess(const Frame& a, const Frame& b) {
  if (a.ts_ns != b.ts_ns) return a.ts_ns < b.ts_ns;
  const int c =
      std::memcmp(a.bytes.data(), b.bytes.data(), std::min(a.length, b.length));
  return c != 0 ? c < 0 : a.length < b.length;
}

bool FrameEqual(const Frame& a, const Frame& b) {
  return a.ts_ns == b.ts_ns && a.length == b.length &&
         std::memcmp(a.bytes.data(), b.bytes.data(), a.length) == 0;
}

void Bucket::Clear() {
  servers.clear();
  failures.clear();
  reclassified.clear();
  nxdomains.clear();
  evidence.clear();
  names.clear();
  watch.clear();
  if (!watch_evidence.empty()) watch_index.fill(-1);
  watch_evidence.clear();
  dropped_failures = dropped_nxdomains = dropped_servers = dropped_watch = 0;
  dropped_watch_evidence = 0;
  std::fill(index.begin(), index.end(), -1);
}

}  // namespace edgecap::flow

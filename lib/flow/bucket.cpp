#include "lib/flow/bucket.h"

#include <arpa/inet.h>

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

void Bucket::Clear() {
  servers.clear();
  failures.clear();
  reclassified.clear();
  nxdomains.clear();
  evidence.clear();
  names.clear();
  watch.clear();
  watch_frames.clear();
  dropped_failures = dropped_nxdomains = dropped_servers = dropped_watch = 0;
  std::fill(index.begin(), index.end(), -1);
}

}  // namespace edgecap::flow

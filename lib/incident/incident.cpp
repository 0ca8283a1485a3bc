#include "lib/incident/incident.h"

#include <ctime>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace edgecap::incident {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kPortUnreachable:
      return "dns-port-unreachable";
    case Kind::kAdminProhibited:
      return "dns-admin-prohibited";
    case Kind::kHostUnreachable:
      return "dns-host-unreachable";
    case Kind::kNetUnreachable:
      return "dns-net-unreachable";
    case Kind::kTcpRefused:
      return "dns-tcp-refused";
    case Kind::kServfail:
      return "dns-servfail";
    case Kind::kRefused:
      return "dns-refused";
    case Kind::kTimeout:
      return "dns-timeout";
    case Kind::kNxdomainStorm:
      return "nxdomain-storm";
    case Kind::kWatchlist:
      return "watchlist";
  }
  return "?";
}

bool IncidentLess(const Incident& a, const Incident& b) {
  if (a.first_seen_ns != b.first_seen_ns)
    return a.first_seen_ns < b.first_seen_ns;
  const std::string_view ka = KindName(a.kind), kb = KindName(b.kind);
  if (ka != kb) return ka < kb;
  if (a.server != b.server) return a.server < b.server;
  if (a.rule.id != b.rule.id) return a.rule.id < b.rule.id;
  return a.domain < b.domain;
}

std::string QtypeName(uint16_t qtype) {
  switch (qtype) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 65:
      return "HTTPS";
    default:
      return absl::StrCat("TYPE", qtype);
  }
}

std::string Rfc3339(int64_t ns) {
  const int64_t secs = flow::SecondOf(ns);
  const int64_t us = (ns - secs * flow::kNsPerSecond) / 1000;
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return absl::StrFormat(
      "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us));
}

std::string TimeOfDay(int64_t ns) {
  const std::time_t t = static_cast<std::time_t>(flow::SecondOf(ns));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return absl::StrFormat("%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  return absl::StrCat(n, " ", std::string(n == 1 ? one : many));
}

std::string TransportName(parse::Transport t) {
  return t == parse::Transport::kTcp ? "tcp" : "udp";
}

std::string FailurePhrase(flow::Fail kind, const flow::ServerKey& s) {
  const std::string ip = flow::IpToString(s.ip);
  switch (kind) {
    case flow::Fail::kIcmpPort:
      return absl::StrCat(TransportName(s.transport), " port ", s.port,
                          " unreachable");
    case flow::Fail::kIcmpHost:
      return absl::StrCat("host ", ip, " unreachable");
    case flow::Fail::kIcmpNet:
      return absl::StrCat("net ", ip, " unreachable");
    case flow::Fail::kIcmpAdmin:
      return absl::StrCat(ip, " unreachable - administratively prohibited");
    case flow::Fail::kTcpRefused:
      return "TCP connection refused (RST)";
    case flow::Fail::kServfail:
      return "SERVFAIL";
    case flow::Fail::kRefused:
      return "REFUSED";
    case flow::Fail::kTimeout:
      return "no answer within the timeout";
    case flow::Fail::kCount:
      break;
  }
  return "?";
}

}  // namespace edgecap::incident

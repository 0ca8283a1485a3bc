#include "lib/incident/report.h"

#include <cctype>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace edgecap::incident {
namespace {

using flow::Fail;

std::string Date(int64_t ns) {
  const std::time_t t = static_cast<std::time_t>(flow::SecondOf(ns));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return absl::StrFormat("%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday);
}

// HH:MM:SS.uuuuuu
std::string Precise(int64_t ns) {
  const std::string r = Rfc3339(ns);
  return r.substr(11, 15);
}

std::string Where(const Incident& i) {
  return absl::StrCat(flow::IpToString(i.server.ip), " port ", i.server.port);
}

std::string Proto(const Incident& i) {
  return i.server.transport == parse::Transport::kTcp ? "TCP" : "UDP";
}

Fail MainFail(Kind k) {
  switch (k) {
    case Kind::kPortUnreachable:
      return Fail::kIcmpPort;
    case Kind::kAdminProhibited:
      return Fail::kIcmpAdmin;
    case Kind::kHostUnreachable:
      return Fail::kIcmpHost;
    case Kind::kNetUnreachable:
      return Fail::kIcmpNet;
    case Kind::kTcpRefused:
      return Fail::kTcpRefused;
    case Kind::kServfail:
      return Fail::kServfail;
    case Kind::kRefused:
      return Fail::kRefused;
    default:
      return Fail::kTimeout;
  }
}

bool IsIcmpKind(Kind k) {
  return k == Kind::kPortUnreachable || k == Kind::kAdminProhibited ||
         k == Kind::kHostUnreachable || k == Kind::kNetUnreachable;
}

std::string Reporters(const Incident& i) {
  std::vector<std::string> r;
  for (const auto& ip : i.reporters) r.push_back(flow::IpToString(ip));
  return absl::StrJoin(r, ", ");
}

bool ReporterIsServer(const Incident& i) {
  return i.reporters.size() == 1 && i.reporters[0] == i.server.ip;
}

// "rule 1001 (Emotet C2)".
std::string RuleName(const Incident& i) {
  return i.rule.label.empty()
             ? absl::StrCat("rule ", i.rule.id)
             : absl::StrCat("rule ", i.rule.id, " (", i.rule.label, ")");
}

std::string WhatHappened(const Incident& i) {
  const uint64_t failed = i.failed();
  const std::string span = absl::StrCat("from ", TimeOfDay(i.first_seen_ns),
                                        " to ", TimeOfDay(i.last_seen_ns),
                                        " UTC on ", Date(i.first_seen_ns));
  const std::string share =
      failed == i.queries ? absl::StrCat("all ", i.queries, " queries")
                          : absl::StrCat(failed, " of ", i.queries, " queries");
  std::string p;
  if (i.kind == Kind::kNxdomainStorm) {
    p = absl::StrCat(
        "A random-subdomain flood hit the domain ", i.domain, " ", span, ": ",
        i.nxdomain, " queries for names under it were answered NXDOMAIN, ",
        "almost every one for a different name, mostly by the resolver ",
        Where(i), ". ", i.client_count,
        " client(s) sent them; nothing else about the resolver failed.");
    return p;
  }
  if (i.kind == Kind::kWatchlist) {
    p = absl::StrCat("Clients looked up names on a watch list: ", RuleName(i),
                     " matched ", i.queries, " queries to ", Where(i), " (",
                     Proto(i), ") ", span, ", from ", i.client_count,
                     " client(s)");
    if (i.example.valid) {
      absl::StrAppend(&p, ". The first was query ", i.example.txid, " from ",
                      flow::IpToString(i.example.client), " port ",
                      i.example.client_port, " for ", i.example.qname, " (",
                      QtypeName(i.example.qtype), ") at ",
                      Precise(i.example.query_ns));
    }
    absl::StrAppend(&p, ".");
    return p;
  }
  const Fail f = MainFail(i.kind);
  if (IsIcmpKind(i.kind)) {
    const std::string from =
        ReporterIsServer(i)
            ? absl::StrCat("the server ", flow::IpToString(i.server.ip),
                           " itself")
            : absl::StrCat(
                  i.reporters.size() == 1 ? "the router " : "the routers ",
                  Reporters(i));
    p = absl::StrCat(
        "DNS over ", Proto(i), " to ", Where(i), " was unreachable ", span,
        ". ", std::string(1, static_cast<char>(std::toupper(share[0]))),
        share.substr(1), " sent to it in that time failed; ", from,
        " answered them with ICMP \"", FailurePhrase(f, i.server), "\"");
  } else if (i.kind == Kind::kTcpRefused) {
    p = absl::StrCat("DNS over TCP to ", Where(i), " was refused ", span, ": ",
                     share,
                     " (connection attempts) were answered by a TCP RST");
  } else if (i.kind == Kind::kServfail || i.kind == Kind::kRefused) {
    p = absl::StrCat("The DNS server ", Where(i), " (", Proto(i),
                     ") was reachable but failed to resolve ", span, ": ",
                     share, " were answered ",
                     i.kind == Kind::kServfail ? "SERVFAIL" : "REFUSED");
  } else {
    p = absl::StrCat("DNS over ", Proto(i), " to ", Where(i),
                     " stopped answering ", span, ": ", share, " failed, ",
                     i.failures[static_cast<int>(Fail::kTimeout)],
                     " of them with no answer at all within the timeout");
  }
  if (i.example.valid) {
    absl::StrAppend(&p, ". The first was query ", i.example.txid, " from ",
                    flow::IpToString(i.example.client), " port ",
                    i.example.client_port);
    if (!i.example.qname.empty()) {
      absl::StrAppend(&p, " for ", i.example.qname, " (",
                      QtypeName(i.example.qtype), ")");
    }
    absl::StrAppend(&p, " at ", Precise(i.example.query_ns));
    if (flow::IsIcmpFail(i.example.kind)) {
      absl::StrAppend(&p, ", answered by ICMP \"",
                      FailurePhrase(i.example.kind, i.server), "\" at ",
                      Precise(i.example.evidence_ns));
    }
  }
  absl::StrAppend(&p, ". ", i.client_count, " client(s) were affected",
                  i.answered > 0
                      ? absl::StrCat("; ", i.answered, " queries were answered")
                      : std::string(),
                  ".");
  return p;
}

std::string Interpretation(const Incident& i) {
  switch (i.kind) {
    case Kind::kPortUnreachable:
      return ReporterIsServer(i)
                 ? "The host is up and reachable (it sends ICMP itself), but "
                   "nothing listens on the DNS port: the DNS service is down, "
                   "crashed or bound elsewhere, or a host firewall rejects the "
                   "port. Clients cannot resolve names through this server."
                 : "A device on the path reports the DNS port closed: a "
                   "firewall or NAT rejects DNS to this server, or the service "
                   "behind it is down.";
    case Kind::kAdminProhibited:
      return "A filter deliberately rejects the queries (administratively "
             "prohibited): an ACL or firewall rule on the reporting device "
             "blocks DNS to this server.";
    case Kind::kHostUnreachable:
      return "The router closest to the server cannot deliver to it (no "
             "answer to ARP/neighbour discovery): the server is down or "
             "disconnected, or the last hop is misconfigured.";
    case Kind::kNetUnreachable:
      return "A router has no route to the server's network: a routing "
             "problem upstream of the server.";
    case Kind::kTcpRefused:
      return "The server host answers, but refuses TCP connections to the DNS "
             "port: DNS over TCP is disabled or not listening (large answers, "
             "zone transfers and DNSSEC fall back to TCP and will fail).";
    case Kind::kServfail:
      return "The server is up and answers, but cannot resolve: typically its "
             "upstream/authoritative servers are unreachable, or DNSSEC "
             "validation fails.";
    case Kind::kRefused:
      return "The server answers but refuses to serve these clients: its "
             "access control (allowed networks, recursion policy) excludes "
             "them.";
    case Kind::kTimeout:
      return "Queries get no answer at all and nothing reports why: the server "
             "or the path to it silently drops traffic (host down behind a "
             "silent firewall, overload, or a drop rule).";
    case Kind::kNxdomainStorm:
      return "Many clients ask for random, never-existing names under one "
             "domain: a random-subdomain (water torture) attack against that "
             "domain's authoritative servers, relayed by resolvers. It loads "
             "the resolver and the domain's name servers.";
    case Kind::kWatchlist:
      return "The names match a watch list the operator keeps (malware "
             "command and control, phishing, tunnelling, or zones of "
             "interest). A client that looks them up is likely infected, "
             "misconfigured or being redirected; the lookup alone does not "
             "show that a connection followed.";
  }
  return "";
}

std::vector<std::string> NextSteps(const Incident& i) {
  const std::string host = flow::IpToString(i.server.ip);
  const std::string port = absl::StrCat(i.server.port);
  switch (i.kind) {
    case Kind::kPortUnreachable:
      return {
          absl::StrCat("Check that the DNS service runs on ", host,
                       " and listens on ", TransportName(i.server.transport),
                       " port ", port, " (e.g. `ss -ulpn`)."),
          absl::StrCat("Check that the host firewall on ", host,
                       " passes port ", port, "."),
          "Restart or fail over the resolver; point clients at a working "
          "one meanwhile."};
    case Kind::kAdminProhibited:
      return {absl::StrCat("Find the rule that rejects DNS to ", host,
                           " on the reporting device(s) ", Reporters(i),
                           " (recent ACL or firewall changes)."),
              "Restore the rule or move clients to an allowed resolver."};
    case Kind::kHostUnreachable:
      return {absl::StrCat("Check that ", host,
                           " is powered and connected; check ARP/neighbour "
                           "entries on the last-hop router ",
                           Reporters(i), "."),
              "Check the routing and the last-hop interface toward the "
              "server."};
    case Kind::kNetUnreachable:
      return {absl::StrCat("Check the routing table of ", Reporters(i),
                           " for the server's network (withdrawn or missing "
                           "route)."),
              "Check upstream routing announcements and recent changes."};
    case Kind::kTcpRefused:
      return {absl::StrCat("Enable DNS over TCP on ", host, " port ", port,
                           " and check the firewall passes TCP ", port, ".")};
    case Kind::kServfail:
      return {
          "Check the resolver's upstream connectivity and forwarders.",
          "Check DNSSEC validation failures in the resolver's logs (expired "
          "signatures, broken chain of trust) for the names listed."};
    case Kind::kRefused:
      return {absl::StrCat("Check the access control of ", host,
                           " (allow-query / allow-recursion) against the "
                           "affected clients' networks.")};
    case Kind::kTimeout:
      return {absl::StrCat("Check that ", host,
                           " is up and not overloaded; check for drop rules on "
                           "the path (traceroute to it on port ",
                           port, ")."),
              "Compare with other resolvers: if all time out, look at the "
              "shared uplink."};
    case Kind::kNxdomainStorm:
      return {absl::StrCat("Rate-limit queries for *.", i.domain,
                           " (or NXDOMAIN answers) at the resolver ",
                           flow::IpToString(i.server.ip), "."),
              "Identify and contact the sending clients (likely compromised).",
              absl::StrCat("Notify the operator of ", i.domain,
                           " that it is under a random-subdomain attack.")};
    case Kind::kWatchlist:
      return {
          "Check the clients listed above for compromise: which process "
          "made the lookups (resolver or EDR logs), recent downloads, "
          "an anti-malware scan.",
          absl::StrCat("Block or sinkhole the matching names at the "
                       "resolver ",
                       host,
                       " (e.g. RPZ) as your policy says, and watch "
                       "the same clients for other listed names."),
          "If a legitimate name matched, narrow the rule and reload the "
          "rules (SIGHUP or /edgecap/rules/reload)."};
  }
  return {};
}

}  // namespace

std::string RenderIncident(const Incident& i) {
  std::string md;
  const bool watch = i.kind == Kind::kWatchlist;
  const std::string target =
      i.kind == Kind::kNxdomainStorm ? absl::StrCat(i.domain, " via ", Where(i))
      : watch ? absl::StrCat(RuleName(i), " via ", Where(i), "/",
                             TransportName(i.server.transport))
              : absl::StrCat(Where(i), "/", TransportName(i.server.transport));
  absl::StrAppend(&md, "## ", i.id.empty() ? "incident" : i.id, ": ",
                  std::string(KindName(i.kind)), ", ", target, " (",
                  i.open ? "open" : "closed", ", ", i.severity, ")\n\n");
  absl::StrAppend(&md, "### What happened\n\n", WhatHappened(i), "\n\n");
  absl::StrAppend(&md, "### Evidence\n\n");
  if (i.evidence.empty()) {
    absl::StrAppend(&md, "(no packets kept)\n\n");
  } else {
    absl::StrAppend(&md, "```\n", absl::StrJoin(i.evidence, "\n"), "\n```\n\n");
  }
  absl::StrAppend(&md, "### Timeline (UTC)\n\n| time | event |\n|---|---|\n");
  absl::StrAppend(
      &md, "| ", Rfc3339(i.first_seen_ns),
      watch ? " | first matching query |\n" : " | first failing query |\n");
  if (i.example.valid && i.example.evidence_ns != i.first_seen_ns &&
      i.kind != Kind::kNxdomainStorm && !watch) {
    absl::StrAppend(&md, "| ", Rfc3339(i.example.evidence_ns), " | its ",
                    FailurePhrase(i.example.kind, i.server), " |\n");
  }
  absl::StrAppend(
      &md, "| ", Rfc3339(i.last_seen_ns),
      watch ? " | last matching query |\n" : " | last failure evidence |\n");
  absl::StrAppend(&md, "| | ",
                  i.open ? "still open at the end of the capture"
                         : "closed (recovered or quiet)",
                  " |\n\n");
  absl::StrAppend(&md, watch ? "### Who looked up what\n\n"
                             : "### Who and what was affected\n\n");
  if (watch) {
    absl::StrAppend(&md, "- Rule: ", i.rule.id, i.rule.label.empty() ? "" : " ",
                    i.rule.label, " (", i.severity, ")\n");
  }
  absl::StrAppend(&md, "- Server: ", Where(i), " over ", Proto(i), "\n");
  if (!i.reporters.empty()) {
    absl::StrAppend(&md, "- ICMP reported by: ", Reporters(i),
                    ReporterIsServer(i) ? " (the server itself)" : "", "\n");
  }
  std::vector<std::string> sample;
  for (const auto& c : i.client_sample) sample.push_back(flow::IpToString(c));
  absl::StrAppend(&md, "- Clients: ", i.client_count, " (",
                  absl::StrJoin(sample, ", "),
                  i.client_count > sample.size() ? ", ..." : "", ")\n");
  if (watch) {
    absl::StrAppend(&md, "- Matching queries: ", i.queries, "\n");
  } else {
    absl::StrAppend(&md, "- Queries: ", i.queries, ", answered ", i.answered,
                    ", failed ", i.failed(), "\n");
  }
  std::vector<std::string> kinds;
  for (int k = 0; k < flow::kFailCount; ++k) {
    if (i.failures[k] > 0) {
      kinds.push_back(
          absl::StrCat(std::string(flow::FailName(static_cast<Fail>(k))), " ",
                       i.failures[k]));
    }
  }
  if (i.nxdomain > 0) kinds.push_back(absl::StrCat("nxdomain ", i.nxdomain));
  if (!kinds.empty()) {
    absl::StrAppend(&md, "- Breakdown: ", absl::StrJoin(kinds, ", "), "\n");
  }
  if (!i.qnames.empty()) {
    absl::StrAppend(&md, "\n| name | type | queries |\n|---|---|---|\n");
    for (const auto& q : i.qnames) {
      absl::StrAppend(&md, "| ", q.name, " | ", QtypeName(q.qtype), " | ",
                      q.count, " |\n");
    }
  }
  absl::StrAppend(&md, "\n### Interpretation\n\n", Interpretation(i), "\n\n");
  absl::StrAppend(&md, "### Next steps\n\n");
  for (const std::string& s : NextSteps(i)) absl::StrAppend(&md, "- ", s, "\n");
  absl::StrAppend(&md, "\n");
  return md;
}

std::string RenderReport(const std::vector<Incident>& incidents,
                         const ReportOptions& options) {
  std::string md = "# edgecap incident report\n\n";
  if (!options.source.empty()) {
    absl::StrAppend(&md, "Source: `", options.source, "`\n\n");
  }
  if (incidents.empty()) {
    absl::StrAppend(&md, "No incidents.\n");
    return md;
  }
  absl::StrAppend(&md, incidents.size(), " incident(s):\n\n");
  for (const Incident& i : incidents) {
    absl::StrAppend(&md, "- ", i.id, ": ", i.summary, "\n");
  }
  absl::StrAppend(&md, "\n");
  for (const Incident& i : incidents) absl::StrAppend(&md, RenderIncident(i));
  return md;
}

}  // namespace edgecap::incident

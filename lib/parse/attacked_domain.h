// The domain a random-subdomain flood attacks, named from one NXDOMAIN
// answer's qname (lowercase dotted text, as DnsMessage::qname() gives it):
// the name minus its first label, `x7f3k.victim.example` -> `victim.example`.
// Never a public suffix (`com`, `co.uk`): names under one are separate
// registrations, and NXDOMAIN for many of them is every busy resolver's
// background of typos and names that do not exist, not a flood against the
// suffix. The ICANN section of the Public Suffix List decides, in libpsl's
// built-in copy (the output does not change with the machine's
// /usr/share/publicsuffix); private-section suffixes such as `github.io`
// are zones a single operator runs, and can be attacked.
//
//   std::string_view d = parse::AttackedDomain("a1b2.victim.example");
//   // "victim.example"; "" for "galgreen.com" (parent "com") or "localhost"
#ifndef EDGECAP_LIB_PARSE_ATTACKED_DOMAIN_H_
#define EDGECAP_LIB_PARSE_ATTACKED_DOMAIN_H_

#include <string_view>

namespace edgecap::parse {

// A view into `qname`; empty when the name has one label or its parent is a
// public suffix.
std::string_view AttackedDomain(std::string_view qname);

// Its two steps, for callers that remember verdicts per parent (a lookup in
// the list costs more than a hash probe): the name minus its first label
// (empty when it has one), and whether a domain is an ICANN public suffix
// (also true, so never attacked, for a name longer than any qname text and
// when libpsl has no built-in list).
std::string_view ParentDomain(std::string_view qname);
bool IsPublicSuffix(std::string_view domain);

}  // namespace edgecap::parse

#endif  // EDGECAP_LIB_PARSE_ATTACKED_DOMAIN_H_

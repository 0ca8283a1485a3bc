// Watch-list rule files: parsing only (no compiling). Two kinds of file:
//
// 1. Expression files, in Hyperscan's own format as hsbench and hscheck read
//    it, so those tools can measure and check the very same file:
//
//      # Comments start in column 1 (hsbench reads an indented '#' line as
//      # an expression, so we refuse it too).
//      # @rule 1001 severity=high label=Emotet C2 DGA
//      1001:/^[a-z]{12}\.(top|xyz)$/
//      1002:/(^|\.)tunnel\.example\.net$/H
//      1003:/paypa1/{edit_distance=1}
//
//    `ID:/regex/flags`: ID is an unsigned 32-bit decimal, unique across every
//    file loaded together; the regex runs between the first and the last '/'.
//    Flags as Hyperscan's tools read them: i s m H V 8 W P L, O (ordering for
//    hsbench: accepted, no effect here), then optionally
//    `{min_offset=N,max_offset=N,min_length=N,edit_distance=N,
//    hamming_distance=N}`. C and Q (logical combinations) are refused: the
//    Hyperscan IDs used here are rule indexes, not the file's IDs.
//    Metadata rides in comment lines so the tools skip it:
//      # @rule <ID> [severity=info|low|medium|high|critical] [label=<text>]
//    The label runs to the end of the line, so it comes last. A `# @rule`
//    line may stand anywhere in the file but must name an ID defined in it.
//    Rules without one get severity=medium and an empty label.
//    Regexes are matched against the whole lowercase query name without its
//    trailing dot: `^` and `$` anchor at the start and end of the name,
//    /example\.com/ also fires on notexample.com.au, and every regex is
//    compiled caseless (DNS names are case-insensitive, RFC 4343).
//
// 2. Domain lists (file name ending in ".domains"): one domain per line, each
//    matching itself and all its subdomains (example.com matches example.com
//    and a.b.example.com, never notexample.com). The whole list is one rule:
//
//      # @list 2000 severity=high label=Phishing feed 2024-05
//      example.com
//      xn--80ak6aa92e.com.      <- IDNs in punycode, as on the wire; a
//                                  trailing dot is tolerated
//
//    Domains are lowercased; non-ASCII, empty labels, labels over 63 octets
//    and names over 253 octets are refused with the line. Duplicates are
//    dropped. These go into a hash set probed label by label, never into
//    Hyperscan: shared suffixes would make a Hyperscan scan thousands of
//    times slower (see DESIGN.md).
//
// Every error is an InvalidArgumentError (NotFound for a missing file) whose
// message starts with "FILE:LINE: ".
//
//   absl::StatusOr<std::vector<rules::Rule>> r =
//       rules::LoadRuleFiles({"watch.rules", "c2.domains"});
//   if (!r.ok()) return r.status();  // "watch.rules:12: unknown flag 'x'"
#ifndef EDGECAP_LIB_RULES_RULE_FILE_H_
#define EDGECAP_LIB_RULES_RULE_FILE_H_

#include <hs/hs.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace edgecap::rules {

enum class Severity : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity s);

enum class RuleKind : uint8_t { kRegex, kDomainList };

struct Rule {
  uint32_t id = 0;
  RuleKind kind = RuleKind::kRegex;
  Severity severity = Severity::kMedium;
  std::string label;
  std::string file;  // where the rule (or list header) was defined
  int line = 0;

  // kRegex.
  std::string expression;
  unsigned flags = 0;  // HS_FLAG_*, as written in the file
  hs_expr_ext_t ext{};
  bool has_ext = false;

  // kDomainList: lowercase, no trailing dot, validated, deduplicated.
  std::vector<std::string> domains;
};

// `file_name` only labels the messages; `content` is the file's text.
absl::StatusOr<std::vector<Rule>> ParseExpressionFile(
    std::string_view file_name, std::string_view content);
absl::StatusOr<Rule> ParseDomainList(std::string_view file_name,
                                     std::string_view content);

// Reads each file (".domains" → domain list, anything else → expression
// file) and checks that rule IDs are unique across all of them.
absl::StatusOr<std::vector<Rule>> LoadRuleFiles(
    std::span<const std::string> paths);

// Lowercases `name`, strips one trailing dot and checks it is a plausible
// ASCII DNS name (letters, digits, '-', '_'; labels 1..63; at most 253).
absl::StatusOr<std::string> NormalizeDomain(std::string_view name);

}  // namespace edgecap::rules

#endif  // EDGECAP_LIB_RULES_RULE_FILE_H_

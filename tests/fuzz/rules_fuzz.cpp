// libFuzzer target over the rule-file parser (lib/rules/rule_file.h): the
// first byte picks an expression file or a domain list, the rest is the
// file's text. Nothing is compiled into Hyperscan (a fuzzer would spend its
// time in Hyperscan's compiler, which is not ours). Checks besides the
// sanitizers: an error is one line starting "FILE:LINE: "; every parsed
// domain is in normal form and a DomainSet built from the list matches it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "lib/rules/domain_set.h"
#include "lib/rules/rule_file.h"

namespace edgecap::rules {
namespace {

void CheckError(const absl::Status& s, std::string_view file) {
  const std::string m(s.message());
  if (m.find('\n') != std::string_view::npos) __builtin_trap();
  if (!m.starts_with(file) || m.size() <= file.size() ||
      m[file.size()] != ':') {
    __builtin_trap();
  }
  // FILE:LINE: with LINE a positive number.
  const std::string rest = m.substr(file.size() + 1);
  const size_t colon = rest.find(':');
  int line = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(absl::string_view(rest).substr(0, colon), &line) ||
      line < 1) {
    __builtin_trap();
  }
}

}  // namespace
}  // namespace edgecap::rules

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgecap::rules;  // NOLINT
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1),
                              size - 1);
  if ((data[0] & 1) == 0) {
    auto r = ParseExpressionFile("fuzz.rules", text);
    if (!r.ok()) {
      CheckError(r.status(), "fuzz.rules");
      return 0;
    }
    for (const Rule& rule : *r) {
      if (rule.kind != RuleKind::kRegex || rule.line < 1) __builtin_trap();
      if (rule.label.find('\n') != std::string::npos) __builtin_trap();
    }
    return 0;
  }
  auto r = ParseDomainList("fuzz.domains", text);
  if (!r.ok()) {
    CheckError(r.status(), "fuzz.domains");
    return 0;
  }
  DomainSet set;
  for (const std::string& d : r->domains) {
    auto n = NormalizeDomain(d);
    if (!n.ok() || *n != d) __builtin_trap();
    set.Add(d, 0);
  }
  set.Build();
  for (const std::string& d : r->domains) {
    Verdict v;
    set.Match(d, &v);
    if (v.count != 1 || v.rule[0] != 0) __builtin_trap();
  }
  return 0;
}

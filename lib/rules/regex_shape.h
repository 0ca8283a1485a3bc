// What a watch-list regex says about the names it can match, read from its
// text at load time so that Database can (1) answer rules that are really a
// literal domain from the domain set instead of Hyperscan, and (2) skip the
// Hyperscan databases whose rules cannot match a name at all, by probing
// literal "gates" every match of a rule must contain.
//
//   RegexShape s = AnalyzeRegex(R"((^|\.)example\.com$)", HS_FLAG_CASELESS,
//                               /*ext=*/nullptr);
//   // s.route == Route::kZone, s.domain == "example.com"
//   s = AnalyzeRegex(R"(^[a-z0-9]{24,}\.t\.example\.net$)", 0, nullptr);
//   // s.route == Route::kNone, s.suffix == "t.example.net": a name can only
//   // match if it ends with ".t.example.net"
//   s = AnalyzeRegex(R"(paypa[l1][0-9]*-(login|verify))", 0, nullptr);
//   // no suffix or prefix; s.factors == {"-login", "-verify"}: a name can
//   // only match if it contains "-login" or "-verify"
//
// The reading is conservative: anything it does not fully understand (inline
// options, \Q, \x, top-level alternation, multi-line, UTF-8/UCP, prefilter,
// approximate matching, ...) yields no route and no gate, and the rule simply
// stays in an always-scanned Hyperscan database. Matching is against the
// query name as Database::Match passes it to Hyperscan, always caseless.
#ifndef EDGECAP_LIB_RULES_REGEX_SHAPE_H_
#define EDGECAP_LIB_RULES_REGEX_SHAPE_H_

#include <hs/hs.h>

#include <string>
#include <string_view>
#include <vector>

namespace edgecap::rules {

// How a literal-domain regex fires, as DomainSet scopes it.
enum class Route : uint8_t {
  kNone,   // a real pattern: stays in Hyperscan
  kZone,   // (^|\.)D$     D and every name below it
  kExact,  // ^D$          D only
  kBelow,  // \.D$         names below D, not D itself
};

struct RegexShape {
  Route route = Route::kNone;
  std::string domain;  // for a route: lowercase, validated
  // Gates, meaningful when route == kNone. Each is a necessary condition for
  // a match (a name without it cannot match), empty when unknown:
  std::string suffix;  // labels: the name ends with "." + suffix
  std::string prefix;  // lowercase: the name starts with these bytes
  // Lowercase: the name contains one of these somewhere (the literal text
  // at the top level of the pattern that every match must contain), so
  // that unanchored keyword patterns can be gated too. At most 8 strings.
  std::vector<std::string> factors;
};

// `flags` are the HS_FLAG_* the rule is compiled with; `ext` may be null.
RegexShape AnalyzeRegex(std::string_view expression, unsigned flags,
                        const hs_expr_ext_t* ext);

}  // namespace edgecap::rules

#endif  // EDGECAP_LIB_RULES_REGEX_SHAPE_H_

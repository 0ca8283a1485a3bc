#include "lib/rules/regex_shape.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lib/rules/rule_file.h"

namespace edgecap::rules {
namespace {

struct Token {
  enum Kind : uint8_t { kLiteral, kOther, kStart, kEnd, kOpen, kClose, kAlt };
  Kind kind;
  char c = 0;  // kLiteral: the byte it matches (caseless)
  int depth = 0;
  bool quantified = false;
};

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Escapes of a letter that stand for one character or class, or a
// zero-width assertion, and read no more text. Any other (\x41, \p{..},
// \Q..\E, back references, \A, ...) makes the expression "not understood".
bool IsSimpleEscape(char c) {
  for (char s : std::string_view("dwsDWSbBhHvVNntrfae")) {
    if (c == s) return true;
  }
  return false;
}

// Splits `e` into atoms, PCRE syntax as Hyperscan reads it, with their group
// depth and whether a quantifier follows. False when it meets syntax this
// reading does not cover, or a top-level alternation (then no literal is
// required at either end).
bool Tokenize(std::string_view e, std::vector<Token>* out) {
  int depth = 0;
  size_t i = 0;
  const size_t n = e.size();
  while (i < n) {
    const char c = e[i];
    switch (c) {
      case '\\': {
        if (i + 1 >= n) return false;
        const char d = e[i + 1];
        if (IsAlnum(d)) {
          if (!IsSimpleEscape(d)) return false;
          out->push_back({Token::kOther, 0, depth});
        } else {
          out->push_back({Token::kLiteral, d, depth});
        }
        i += 2;
        break;
      }
      case '[': {
        size_t j = i + 1;
        if (j < n && e[j] == '^') ++j;
        if (j < n && e[j] == ']') ++j;
        while (j < n && e[j] != ']') {
          if (e[j] == '\\') {
            if (j + 1 >= n) return false;
            if (IsAlnum(e[j + 1]) && !IsSimpleEscape(e[j + 1])) return false;
            j += 2;
          } else if (e[j] == '[' && j + 1 < n &&
                     (e[j + 1] == ':' || e[j + 1] == '.' || e[j + 1] == '=')) {
            const char close[] = {e[j + 1], ']', 0};
            size_t k = e.find(close, j + 2);
            if (k == std::string_view::npos) return false;
            j = k + 2;
          } else {
            ++j;
          }
        }
        if (j >= n) return false;
        out->push_back({Token::kOther, 0, depth});
        i = j + 1;
        break;
      }
      case '(':
        if (i + 1 < n && e[i + 1] == '?') {
          // Only non-capturing groups: inline options such as (?x) or (?m)
          // change how the rest reads.
          if (i + 2 >= n || e[i + 2] != ':') return false;
          i += 3;
        } else {
          i += 1;
        }
        out->push_back({Token::kOpen, 0, depth});
        ++depth;
        break;
      case ')':
        if (depth == 0) return false;
        --depth;
        out->push_back({Token::kClose, 0, depth});
        ++i;
        break;
      case '|':
        if (depth == 0) return false;
        out->push_back({Token::kAlt, 0, depth});
        ++i;
        break;
      case '*':
      case '+':
      case '?':
      case '{': {
        if (out->empty()) return false;
        if (c == '{') {
          size_t j = i + 1;
          size_t digits = 0;
          while (j < n && IsDigit(e[j])) ++j, ++digits;
          if (digits == 0) return false;
          if (j < n && e[j] == ',') {
            ++j;
            while (j < n && IsDigit(e[j])) ++j;
          }
          if (j >= n || e[j] != '}') return false;
          i = j + 1;
        } else {
          ++i;
        }
        if (i < n && (e[i] == '?' || e[i] == '+')) ++i;  // lazy, possessive
        out->back().quantified = true;
        break;
      }
      case '^':
        out->push_back({Token::kStart, 0, depth});
        ++i;
        break;
      case '$':
        out->push_back({Token::kEnd, 0, depth});
        ++i;
        break;
      case '.':
        out->push_back({Token::kOther, 0, depth});
        ++i;
        break;
      default:
        out->push_back({Token::kLiteral, c, depth});
        ++i;
    }
  }
  return depth == 0;
}

bool PlainLiteral(const Token& t) {
  return t.kind == Token::kLiteral && t.depth == 0 && !t.quantified;
}

// Tokens [from, size-1) plain literals and the last an unquantified '$' at
// depth 0: the literal text, else false.
bool LiteralThenEnd(const std::vector<Token>& t, size_t from,
                    std::string* text) {
  if (t.size() <= from + 1) return false;
  const Token& last = t.back();
  if (last.kind != Token::kEnd || last.depth != 0 || last.quantified) {
    return false;
  }
  text->clear();
  for (size_t i = from; i + 1 < t.size(); ++i) {
    if (!PlainLiteral(t[i])) return false;
    *text += t[i].c;
  }
  return true;
}

// A domain as a route needs it: what NormalizeDomain accepts, written
// without a trailing dot (a regex ending in "\.$" wants the dot).
bool AsDomain(std::string_view text, std::string* domain) {
  if (text.empty() || text.back() == '.') return false;
  absl::StatusOr<std::string> d = NormalizeDomain(text);
  if (!d.ok()) return false;
  *domain = *std::move(d);
  return true;
}

bool IsLabelChar(char c) { return IsAlnum(c) || c == '-' || c == '_'; }

// The labels every match must end with: from the literal run before '$',
// the part after its first '.' (so the name has a '.' before them).
std::string SuffixGate(const std::vector<Token>& t) {
  if (t.empty()) return "";
  const Token& last = t.back();
  if (last.kind != Token::kEnd || last.depth != 0 || last.quantified) {
    return "";
  }
  size_t i = t.size() - 1;
  std::string run;
  while (i > 0 && PlainLiteral(t[i - 1]) &&
         (IsLabelChar(t[i - 1].c) || t[i - 1].c == '.')) {
    --i;
    run.insert(run.begin(), Lower(t[i].c));
  }
  size_t dot = run.find('.');
  if (dot == std::string::npos) return "";
  std::string gate = run.substr(dot + 1);
  if (size_t dd = gate.rfind(".."); dd != std::string::npos) {
    gate = gate.substr(dd + 2);
  }
  if (gate.empty() || gate.front() == '.' || gate.back() == '.') return "";
  size_t label = 0;
  for (size_t k = 0; k <= gate.size(); ++k) {
    if (k == gate.size() || gate[k] == '.') {
      if (k - label == 0 || k - label > 63) return "";
      label = k + 1;
    }
  }
  return gate;
}

std::string PrefixGate(const std::vector<Token>& t) {
  if (t.empty() || t[0].kind != Token::kStart || t[0].depth != 0 ||
      t[0].quantified) {
    return "";
  }
  std::string p;
  for (size_t i = 1; i < t.size() && PlainLiteral(t[i]); ++i) {
    p += Lower(t[i].c);
  }
  return p;
}

// Strings one of which every match contains: a run of unquantified
// literals at depth 0, which may go through unquantified groups of literal
// alternatives (`d42-(login|verify)`: "d42-login" or "d42-verify"). Of all
// such runs, the one whose shortest string is longest, then the one with
// fewer strings. Anchors, classes, other groups and escapes such as \b end
// a run; that only shortens it.
std::vector<std::string> Factors(const std::vector<Token>& t) {
  constexpr size_t kMaxStrings = 8;
  std::vector<std::string> best, run{""}, alternatives;
  auto shortest = [](const std::vector<std::string>& v) {
    size_t n = SIZE_MAX;
    for (const std::string& s : v) n = std::min(n, s.size());
    return v.empty() ? 0 : n;
  };
  auto end_run = [&] {
    const size_t a = shortest(run), b = shortest(best);
    if (a > b || (a == b && a > 0 && run.size() < best.size())) best = run;
    run.assign(1, "");
  };
  for (size_t i = 0; i < t.size(); ++i) {
    if (PlainLiteral(t[i])) {
      for (std::string& s : run) s += Lower(t[i].c);
      continue;
    }
    if (t[i].kind != Token::kOpen || t[i].depth != 0) {
      end_run();
      continue;
    }
    // A group: [i, j] with t[j] its ')'.
    size_t j = i + 1;
    bool literal = true;
    alternatives.assign(1, "");
    for (; t[j].kind != Token::kClose || t[j].depth != 0; ++j) {
      if (t[j].kind == Token::kLiteral && t[j].depth == 1 && !t[j].quantified) {
        alternatives.back() += Lower(t[j].c);
      } else if (t[j].kind == Token::kAlt && t[j].depth == 1) {
        alternatives.emplace_back();
      } else {
        literal = false;
      }
    }
    if (!literal || t[j].quantified || alternatives.size() > kMaxStrings) {
      end_run();
    } else {
      if (run.size() * alternatives.size() > kMaxStrings) end_run();
      std::vector<std::string> longer;
      for (const std::string& r : run) {
        for (const std::string& a : alternatives) longer.push_back(r + a);
      }
      run = std::move(longer);
    }
    i = j;
  }
  end_run();
  if (shortest(best) == 0) best.clear();
  return best;
}

}  // namespace

RegexShape AnalyzeRegex(std::string_view expression, unsigned flags,
                        const hs_expr_ext_t* ext) {
  RegexShape s;
  // These change what '^', '$', case or a literal mean, or let a match
  // differ from the text.
  constexpr unsigned kOpaque = HS_FLAG_MULTILINE | HS_FLAG_UTF8 | HS_FLAG_UCP |
                               HS_FLAG_PREFILTER | HS_FLAG_COMBINATION;
  if (flags & kOpaque) return s;
  const unsigned ext_flags = ext ? static_cast<unsigned>(ext->flags) : 0u;
  if (ext_flags & (HS_EXT_FLAG_EDIT_DISTANCE | HS_EXT_FLAG_HAMMING_DISTANCE)) {
    return s;
  }

  std::string text;
  std::vector<Token> t;
  // A route replaces the regex outright: no extended parameter may restrict
  // it (offsets and lengths would).
  if (ext_flags == 0) {
    static constexpr std::string_view kZoneHeads[] = {"(^|\\.)", "(\\.|^)",
                                                      "(?:^|\\.)", "(?:\\.|^)"};
    for (std::string_view head : kZoneHeads) {
      if (!expression.starts_with(head)) continue;
      if (Tokenize(expression.substr(head.size()), &t) &&
          LiteralThenEnd(t, 0, &text) && AsDomain(text, &s.domain)) {
        s.route = Route::kZone;
        return s;
      }
      t.clear();
      break;
    }
  }
  if (!Tokenize(expression, &t)) return s;
  if (ext_flags == 0 && t.size() >= 2) {
    if (t[0].kind == Token::kStart && t[0].depth == 0 && !t[0].quantified &&
        LiteralThenEnd(t, 1, &text) && AsDomain(text, &s.domain)) {
      s.route = Route::kExact;
      return s;
    }
    if (PlainLiteral(t[0]) && t[0].c == '.' && LiteralThenEnd(t, 1, &text) &&
        AsDomain(text, &s.domain)) {
      s.route = Route::kBelow;
      return s;
    }
  }
  s.domain.clear();
  s.suffix = SuffixGate(t);
  s.prefix = PrefixGate(t);
  s.factors = Factors(t);
  return s;
}

}  // namespace edgecap::rules

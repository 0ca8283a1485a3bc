#include "lib/rules/rule_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace edgecap::rules {
namespace {

// Debian's Abseil has its own absl::string_view, distinct from
// std::string_view: these adapt the few helpers used here.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }
template <typename T>
decltype(auto) Conv(const T& t) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return A(t);
  } else {
    return (t);
  }
}
template <typename... T>
std::string Cat(const T&... parts) {
  return absl::StrCat(Conv(parts)...);
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v';
}
std::string_view StripLeading(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}
std::string_view StripTrailing(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}
std::string_view Strip(std::string_view s) {
  return StripTrailing(StripLeading(s));
}

absl::Status LineError(std::string_view file, int line, std::string_view msg) {
  return absl::InvalidArgumentError(Cat(file, ":", line, ": ", msg));
}

// Splits on '\n' keeping 1-based line numbers; strips a '\r' before it so
// files written on Windows read the same (Hyperscan's tools trim it too).
template <typename F>
absl::Status ForEachLine(std::string_view content, F&& f) {
  int number = 0;
  while (!content.empty()) {
    size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view()
                                           : content.substr(nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::Status s = f(number, line); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool ParseId(std::string_view text, uint32_t* id) {
  if (text.empty() || text.size() > 10) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  *id = static_cast<uint32_t>(v);
  return true;
}

bool ParseSeverity(std::string_view text, Severity* s) {
  static constexpr std::pair<std::string_view, Severity> kNames[] = {
      {"info", Severity::kInfo},
      {"low", Severity::kLow},
      {"medium", Severity::kMedium},
      {"high", Severity::kHigh},
      {"critical", Severity::kCritical}};
  for (const auto& [name, value] : kNames) {
    if (text == name) {
      *s = value;
      return true;
    }
  }
  return false;
}

struct Metadata {
  uint32_t id = 0;
  Severity severity = Severity::kMedium;
  std::string label;
};

// Parses "<ID> [severity=S] [label=text...]" (what follows "# @rule " or
// "# @list ").
absl::Status ParseMetadata(std::string_view file, int line,
                           std::string_view rest, Metadata* out) {
  rest = StripLeading(rest);
  size_t sp = rest.find_first_of(" \t");
  std::string_view id_text = rest.substr(0, sp);
  if (!ParseId(id_text, &out->id)) {
    return LineError(file, line,
                     Cat("bad rule ID '", id_text,
                         "' (expected an unsigned 32-bit number)"));
  }
  rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp);
  bool have_severity = false;
  while (true) {
    rest = StripLeading(rest);
    if (rest.empty()) break;
    if (rest.starts_with("label=")) {
      out->label = std::string(StripTrailing(rest.substr(strlen("label="))));
      break;
    }
    sp = rest.find_first_of(" \t");
    std::string_view word = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp);
    if (word.starts_with("severity=")) {
      if (have_severity) {
        return LineError(file, line, "severity given twice");
      }
      have_severity = true;
      std::string_view value = word.substr(strlen("severity="));
      if (!ParseSeverity(value, &out->severity)) {
        return LineError(file, line,
                         Cat("unknown severity '", value,
                             "' (info, low, medium, high, critical)"));
      }
    } else {
      return LineError(
          file, line,
          Cat("unexpected '", word,
              "' (expected severity=... or label=..., label last)"));
    }
  }
  return absl::OkStatus();
}

// "# @word rest" → word and rest; false for an ordinary comment.
bool SplitDirective(std::string_view line, std::string_view* word,
                    std::string_view* rest) {
  if (!line.starts_with("# @") && !line.starts_with("#@")) {
    return false;
  }
  line = line.substr(line.find('@') + 1);
  size_t sp = line.find_first_of(" \t");
  *word = line.substr(0, sp);
  *rest = sp == std::string_view::npos ? std::string_view() : line.substr(sp);
  return true;
}

absl::Status ParseExtParams(std::string_view file, int line,
                            std::string_view text, hs_expr_ext_t* ext) {
  // text is the inside of {...}: "key=N, key=N".
  while (true) {
    size_t comma = text.find(',');
    std::string_view spec = Strip(text.substr(0, comma));
    size_t eq = spec.find('=');
    std::string_view key = spec.substr(0, eq);
    uint64_t value = 0;
    if (eq == std::string_view::npos ||
        !absl::SimpleAtoi(A(spec.substr(eq + 1)), &value)) {
      return LineError(
          file, line,
          Cat("bad extended parameter '", spec, "' (expected key=number)"));
    }
    if (key == "min_offset") {
      ext->flags |= HS_EXT_FLAG_MIN_OFFSET;
      ext->min_offset = value;
    } else if (key == "max_offset") {
      ext->flags |= HS_EXT_FLAG_MAX_OFFSET;
      ext->max_offset = value;
    } else if (key == "min_length") {
      ext->flags |= HS_EXT_FLAG_MIN_LENGTH;
      ext->min_length = value;
    } else if (key == "edit_distance") {
      ext->flags |= HS_EXT_FLAG_EDIT_DISTANCE;
      ext->edit_distance = static_cast<unsigned>(value);
    } else if (key == "hamming_distance") {
      ext->flags |= HS_EXT_FLAG_HAMMING_DISTANCE;
      ext->hamming_distance = static_cast<unsigned>(value);
    } else {
      return LineError(file, line,
                       Cat("unknown extended parameter '", key, "'"));
    }
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return absl::OkStatus();
}

// "/regex/flags{ext}" as Hyperscan's util/ExpressionParser reads it.
absl::Status ParseExpression(std::string_view file, int line,
                             std::string_view text, Rule* rule) {
  if (text.empty() || text[0] != '/') {
    return LineError(file, line, "expected '/' after 'ID:'");
  }
  size_t end = text.find_last_of('/');
  if (end == 0) return LineError(file, line, "missing closing '/'");
  rule->expression = std::string(text.substr(1, end - 1));
  std::string_view flags = text.substr(end + 1);
  for (size_t i = 0; i < flags.size(); ++i) {
    char c = flags[i];
    if (c == '{') {
      if (flags.back() != '}') {
        return LineError(file, line, "extended parameters lack a closing '}'");
      }
      rule->has_ext = true;
      return ParseExtParams(
          file, line, flags.substr(i + 1, flags.size() - i - 2), &rule->ext);
    }
    switch (c) {
      case 'i':
        rule->flags |= HS_FLAG_CASELESS;
        break;
      case 's':
        rule->flags |= HS_FLAG_DOTALL;
        break;
      case 'm':
        rule->flags |= HS_FLAG_MULTILINE;
        break;
      case 'H':
        rule->flags |= HS_FLAG_SINGLEMATCH;
        break;
      case 'V':
        rule->flags |= HS_FLAG_ALLOWEMPTY;
        break;
      case 'W':
        rule->flags |= HS_FLAG_UCP;
        break;
      case '8':
        rule->flags |= HS_FLAG_UTF8;
        break;
      case 'P':
        rule->flags |= HS_FLAG_PREFILTER;
        break;
      case 'L':
        rule->flags |= HS_FLAG_SOM_LEFTMOST;
        break;
      case 'O':
        break;  // hsbench's "ordered matches": nothing to do here
      case 'C':
      case 'Q':
        return LineError(file, line,
                         Cat("flag '", std::string(1, c),
                             "' (logical combination) is not "
                             "supported in watch lists"));
      default:
        return LineError(file, line,
                         Cat("unknown flag '", std::string(1, c),
                             "' (known: i s m H V 8 W P L O)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(Cat(path, ": cannot open: ", strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(Cat(path, ": read error"));
  }
  return std::move(ss).str();
}

}  // namespace

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "unknown";
}

absl::StatusOr<std::string> NormalizeDomain(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return absl::InvalidArgumentError("empty domain");
  if (name.size() > 253) {
    return absl::InvalidArgumentError(
        Cat("domain is ", name.size(), " octets (at most 253)"));
  }
  std::string out(name);
  size_t label_start = 0;
  for (size_t i = 0; i <= out.size(); ++i) {
    if (i == out.size() || out[i] == '.') {
      size_t len = i - label_start;
      if (len == 0) return absl::InvalidArgumentError("empty label");
      if (len > 63) {
        return absl::InvalidArgumentError(
            Cat("label of ", len, " octets (at most 63)"));
      }
      label_start = i + 1;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c >= 0x80) {
      return absl::InvalidArgumentError(
          "non-ASCII domain: write IDNs in punycode (xn--...), as on the wire");
    }
    c = static_cast<unsigned char>(absl::ascii_tolower(c));
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') {
      return absl::InvalidArgumentError(
          Cat("character '", std::string(1, static_cast<char>(c)),
              "' not allowed in a domain (letters, digits, '-', '_')"));
    }
    out[i] = static_cast<char>(c);
  }
  return out;
}

absl::StatusOr<std::vector<Rule>> ParseExpressionFile(
    std::string_view file_name, std::string_view content) {
  std::vector<Rule> rules;
  absl::flat_hash_map<uint32_t, size_t> by_id;
  std::vector<std::pair<int, Metadata>> metadata;
  absl::Status s = ForEachLine(content, [&](int n, std::string_view line) {
    std::string_view word, rest;
    if (SplitDirective(line, &word, &rest)) {
      if (word != "rule") {
        return LineError(
            file_name, n,
            Cat("unknown directive '@", word, "' (expected @rule)"));
      }
      Metadata m;
      if (absl::Status ms = ParseMetadata(file_name, n, rest, &m); !ms.ok()) {
        return ms;
      }
      metadata.emplace_back(n, std::move(m));
      return absl::OkStatus();
    }
    if (!line.empty() && line[0] == '#') return absl::OkStatus();
    std::string_view trimmed = Strip(line);
    if (trimmed.empty()) return absl::OkStatus();
    if (trimmed[0] == '#') {
      return LineError(file_name, n,
                       "comment must start in column 1 (hsbench and hscheck "
                       "read an indented '#' line as an expression)");
    }
    size_t colon = trimmed.find(':');
    if (colon == std::string_view::npos) {
      return LineError(file_name, n, "expected ID:/regex/flags");
    }
    Rule rule;
    std::string_view id_text = trimmed.substr(0, colon);
    if (!ParseId(id_text, &rule.id)) {
      return LineError(file_name, n,
                       Cat("bad rule ID '", id_text,
                           "' (expected an unsigned 32-bit number)"));
    }
    if (auto it = by_id.find(rule.id); it != by_id.end()) {
      return LineError(
          file_name, n,
          Cat("duplicate rule ID ", rule.id, " (first defined on line ",
              rules[it->second].line, ")"));
    }
    rule.kind = RuleKind::kRegex;
    rule.file = std::string(file_name);
    rule.line = n;
    if (absl::Status es =
            ParseExpression(file_name, n, trimmed.substr(colon + 1), &rule);
        !es.ok()) {
      return es;
    }
    by_id[rule.id] = rules.size();
    rules.push_back(std::move(rule));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;

  absl::flat_hash_map<uint32_t, int> meta_line;
  for (auto& [n, m] : metadata) {
    auto it = by_id.find(m.id);
    if (it == by_id.end()) {
      return LineError(
          file_name, n,
          Cat("@rule ", m.id, ": no expression with this ID in the file"));
    }
    if (auto [prev, inserted] = meta_line.emplace(m.id, n); !inserted) {
      return LineError(file_name, n,
                       Cat("@rule ", m.id, ": metadata already given on line ",
                           prev->second));
    }
    Rule& r = rules[it->second];
    r.severity = m.severity;
    r.label = std::move(m.label);
  }
  return rules;
}

absl::StatusOr<Rule> ParseDomainList(std::string_view file_name,
                                     std::string_view content) {
  Rule rule;
  rule.kind = RuleKind::kDomainList;
  rule.file = std::string(file_name);
  bool have_header = false;
  absl::flat_hash_set<std::string> seen;
  absl::Status s = ForEachLine(content, [&](int n, std::string_view line) {
    std::string_view word, rest;
    if (SplitDirective(line, &word, &rest)) {
      if (word != "list") {
        return LineError(
            file_name, n,
            Cat("unknown directive '@", word, "' (expected @list)"));
      }
      if (have_header) {
        return LineError(file_name, n,
                         Cat("second @list line (first on line ", rule.line,
                             "): one list per file"));
      }
      Metadata m;
      if (absl::Status ms = ParseMetadata(file_name, n, rest, &m); !ms.ok()) {
        return ms;
      }
      have_header = true;
      rule.id = m.id;
      rule.severity = m.severity;
      rule.label = std::move(m.label);
      rule.line = n;
      return absl::OkStatus();
    }
    std::string_view trimmed = Strip(line);
    if (trimmed.empty() || trimmed[0] == '#') return absl::OkStatus();
    if (trimmed.find_first_of(" \t") != std::string_view::npos) {
      return LineError(file_name, n, "expected one domain per line");
    }
    absl::StatusOr<std::string> d = NormalizeDomain(trimmed);
    if (!d.ok()) {
      return LineError(file_name, n,
                       Cat("'", trimmed, "': ", d.status().message()));
    }
    if (seen.insert(*d).second) rule.domains.push_back(*std::move(d));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!have_header) {
    return absl::InvalidArgumentError(
        Cat(file_name,
            ":1: missing '# @list <ID> [severity=...] [label=...]' "
            "line"));
  }
  return rule;
}

absl::StatusOr<std::vector<Rule>> LoadRuleFiles(
    std::span<const std::string> paths) {
  std::vector<Rule> all;
  absl::flat_hash_map<uint32_t, size_t> by_id;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> content = ReadFile(path);
    if (!content.ok()) return content.status();
    std::vector<Rule> rules;
    if (path.ends_with(".domains")) {
      absl::StatusOr<Rule> r = ParseDomainList(path, *content);
      if (!r.ok()) return r.status();
      rules.push_back(*std::move(r));
    } else {
      absl::StatusOr<std::vector<Rule>> r = ParseExpressionFile(path, *content);
      if (!r.ok()) return r.status();
      rules = *std::move(r);
    }
    for (Rule& r : rules) {
      if (auto it = by_id.find(r.id); it != by_id.end()) {
        const Rule& first = all[it->second];
        return LineError(r.file, r.line,
                         Cat("duplicate rule ID ", r.id, " (first defined at ",
                             first.file, ":", first.line, ")"));
      }
      by_id[r.id] = all.size();
      all.push_back(std::move(r));
    }
  }
  return all;
}

}  // namespace edgecap::rules

// Per-query-name cost of the watch list, database compile time and size.
//
//   ninja -C build bench/rules/rules_bench
//   build/bench/rules/rules_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
//
// Rule sets and traffic are generated with fixed seeds:
// - literal/N: one domain list of N random domains under 9 TLDs,
// - regex/N: N regexes of three shapes (suffix, tunnel-like, DGA-like);
//   regex_plain/N: the same in one Hyperscan database, as before literal
//   routing, gates and chunks (CompileOptions), for comparison,
// - diverse/N: N regexes of eight shapes (zones, exact hosts, tunnels,
//   DGA stems, service hosts, phishing keywords, brand look-alikes, ...),
// - traffic: 100k distinct names, 1 in 8 inside a rule, the rest diverse
//   resolver-like names under the same TLDs, scanned in a fixed order
//   (every name a cache miss) or drawn Zipf(1.0) (popular names repeat, as at
//   a resolver) for the verdict-cache variants,
// - adversarial: 10k rules under one zone and random-subdomain queries in
//   that zone, both as a domain list and as regexes (`(^|\.)name\.zone$`,
//   routed to the domain set; _plain: in Hyperscan as before),
// - gate_adversarial: 10k tunnel-like regexes `^[a-z0-9]{24,}\.nameN\.zone$`
//   under one zone and queries under their names (every one opens a gate
//   and scans a chunk),
// - keyword_adversarial: the diverse rules, and queries made of four
//   keywords of its unanchored rules (`stem7[0-9-]*login`,
//   `bran[-.]?d42-(login|verify)`: "stem7", "d42-login", ...), so that every
//   name opens keyword gates of several chunks.
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/rules/database.h"
#include "lib/rules/rule_set.h"

namespace edgecap::rules {
namespace {

constexpr const char* kTlds[] = {"com", "net",  "org",   "ru", "top",
                                 "xyz", "info", "co.uk", "de"};

std::string RandomLabel(std::mt19937& rng, int min_len, int max_len) {
  int len = min_len + static_cast<int>(rng() % (max_len - min_len + 1));
  std::string s;
  for (int i = 0; i < len; ++i) s += static_cast<char>('a' + rng() % 26);
  return s;
}

// Distinct registrable domains: a random label made unique by its index.
std::vector<std::string> Domains(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(
        absl::StrCat(RandomLabel(rng, 5, 12), i, ".", kTlds[rng() % 9]));
  }
  return out;
}

std::string Escape(const std::string& d) {
  std::string out;
  for (char c : d) {
    if (c == '.') out += '\\';
    out += c;
  }
  return out;
}

std::vector<Rule> LiteralRules(const std::vector<std::string>& domains) {
  Rule r;
  r.id = 1;
  r.kind = RuleKind::kDomainList;
  r.domains = domains;
  return {r};
}

// Eight shapes, a quarter of them without any literal at either end.
std::vector<Rule> DiverseRules(const std::vector<std::string>& domains) {
  static constexpr const char* kWords[] = {"login",   "secure", "verify",
                                           "account", "update", "support"};
  std::vector<Rule> rules;
  std::mt19937 rng(8);
  for (size_t i = 0; i < domains.size(); ++i) {
    Rule r;
    r.id = static_cast<uint32_t>(i + 1);
    const std::string d = Escape(domains[i]);
    const std::string stem = domains[i].substr(0, domains[i].find('.'));
    switch (i % 8) {
      case 0:  // a zone
        r.expression = absl::StrCat("(^|\\.)", d, "$");
        break;
      case 1:  // one host
        r.expression = absl::StrCat("^login\\.", d, "$");
        break;
      case 2:  // tunnel
        r.expression = absl::StrCat("^[a-z0-9]{24,}\\.", d, "$");
        break;
      case 3:  // DGA family with a fixed stem
        r.expression =
            absl::StrCat("^", stem, "[0-9]{2,4}\\.", kTlds[rng() % 9], "$");
        break;
      case 4:  // service hosts of a zone
        r.expression = absl::StrCat("^(mail|smtp|vpn)[0-9]*\\.", d, "$");
        break;
      case 5:  // phishing keywords anywhere
        r.expression = absl::StrCat(stem, "[0-9-]*", kWords[rng() % 6]);
        break;
      case 6:  // brand look-alike anywhere
        r.expression =
            absl::StrCat(stem.substr(0, 4), "[-.]?", stem.substr(4), "-(",
                         kWords[rng() % 6], "|", kWords[rng() % 6], ")");
        break;
      default:  // anything below a zone, one label deep
        r.expression = absl::StrCat("^[a-z0-9-]+\\.cdn\\.", d, "$");
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

std::vector<Rule> RegexRules(const std::vector<std::string>& domains) {
  std::vector<Rule> rules;
  std::mt19937 rng(7);
  for (size_t i = 0; i < domains.size(); ++i) {
    Rule r;
    r.id = static_cast<uint32_t>(i + 1);
    r.kind = RuleKind::kRegex;
    switch (i % 3) {
      case 0:  // a zone and its subdomains
        r.expression = absl::StrCat("(^|\\.)", Escape(domains[i]), "$");
        break;
      case 1:  // tunnelling: long encoded label under a zone
        r.expression =
            absl::StrCat("^[a-z0-9]{24,}\\.", Escape(domains[i]), "$");
        break;
      default: {  // DGA-like family: fixed stem, digits, fixed TLD
        std::string stem = domains[i].substr(0, domains[i].find('.'));
        r.expression =
            absl::StrCat("^", stem, "[0-9]{2,4}\\.", kTlds[rng() % 9], "$");
      }
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

// 100k distinct names; one in 8 hits a rule (a rule's domain, maybe with a
// subdomain), the rest are diverse names under the same TLDs.
std::vector<std::string> Traffic(const std::vector<std::string>& domains) {
  std::mt19937 rng(99);
  std::vector<std::string> out;
  static constexpr const char* kPrefixes[] = {"", "www.", "mail.", "api.",
                                              "cdn."};
  for (int i = 0; i < 100000; ++i) {
    std::string name;
    if (i % 8 == 0) {
      name =
          absl::StrCat(kPrefixes[rng() % 5], domains[rng() % domains.size()]);
    } else {
      name = absl::StrCat(kPrefixes[rng() % 5], RandomLabel(rng, 4, 14), "-", i,
                          ".", kTlds[rng() % 9]);
    }
    out.push_back(std::move(name));
  }
  return out;
}

// A resolver-like stream: name i drawn with probability ~ 1/(i+1).
std::vector<const std::string*> Zipf(const std::vector<std::string>& names,
                                     int length) {
  std::vector<double> cdf(names.size());
  double sum = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    sum += 1.0 / static_cast<double>(i + 1);
    cdf[i] = sum;
  }
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, sum);
  std::vector<const std::string*> out;
  for (int i = 0; i < length; ++i) {
    size_t k = std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin();
    out.push_back(&names[std::min(k, names.size() - 1)]);
  }
  return out;
}

enum Kind {
  kLiteral,
  kRegex,
  kRegexPlain,
  kDiverse,
  kAdversarialList,
  kAdversarialRegex,
  kAdversarialRegexPlain,
  kGateAdversarial,
  kKeywordAdversarial,
};

CompileOptions Options(Kind kind) {
  CompileOptions o;
  if (kind == kRegexPlain || kind == kAdversarialRegexPlain) {
    o.route_literals = false;
    o.gate = false;
    o.max_rules_per_chunk = SIZE_MAX;
  }
  return o;
}

std::vector<Rule> MakeRules(Kind kind, const std::vector<std::string>& d) {
  switch (kind) {
    case kLiteral:
      return LiteralRules(d);
    case kDiverse:
    case kKeywordAdversarial:
      return DiverseRules(d);
    default:
      return RegexRules(d);
  }
}

struct Setup {
  std::shared_ptr<const Database> db;
  std::vector<std::string> traffic;
  std::vector<const std::string*> zipf;
};

// Adversarial: every rule and every query shares the suffix of one zone.
constexpr const char* kZone = "customer-zone.example-isp.net";

const Setup& Get(Kind kind, int n) {
  static std::map<std::pair<int, int>, std::unique_ptr<Setup>> cache;
  auto& slot = cache[{kind, n}];
  if (slot) return *slot;
  slot = std::make_unique<Setup>();
  std::vector<Rule> rules;
  if (kind == kLiteral || kind == kRegex || kind == kRegexPlain ||
      kind == kDiverse) {
    std::vector<std::string> domains = Domains(n, 42);
    rules = MakeRules(kind, domains);
    slot->traffic = Traffic(domains);
  } else if (kind == kKeywordAdversarial) {
    std::vector<std::string> domains = Domains(n, 42);
    rules = MakeRules(kind, domains);
    // The literal every match of rules 5 and 6 (of 8) must hold: the stem,
    // or the brand's tail with one of its two words.
    std::vector<std::string> keywords;
    for (const Rule& r : rules) {
      const std::string& e = r.expression;
      if (size_t k = e.find("[0-9-]*"); k != std::string::npos) {
        keywords.push_back(e.substr(0, k));
      } else if (size_t b = e.find("[-.]?"); b != std::string::npos) {
        const size_t open = e.find("-(", b);
        keywords.push_back(
            absl::StrCat(e.substr(b + 5, open + 1 - b - 5),
                         e.substr(open + 2, e.find('|', open) - open - 2)));
      }
    }
    std::mt19937 rng(6);
    static constexpr const char* kSeparators[] = {"-", ".", "", "x"};
    for (int i = 0; i < 100000; ++i) {
      std::string name;
      for (int k = 0; k < 4; ++k) {
        absl::StrAppend(&name, keywords[rng() % keywords.size()],
                        kSeparators[rng() % 4]);
      }
      slot->traffic.push_back(absl::StrCat(name, ".", kTlds[rng() % 9]));
    }
  } else if (kind == kGateAdversarial) {
    std::mt19937 rng(4);
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
      names.push_back(absl::StrCat(RandomLabel(rng, 6, 12), i, ".", kZone));
      Rule r;
      r.id = static_cast<uint32_t>(i + 1);
      r.expression =
          absl::StrCat("^[a-z0-9]{24,}\\.", Escape(names.back()), "$");
      rules.push_back(std::move(r));
    }
    // Long random labels under the rules' names: each opens a gate; one in
    // two is long enough to fire.
    for (int i = 0; i < 100000; ++i) {
      slot->traffic.push_back(absl::StrCat(RandomLabel(rng, 16, 32), ".",
                                           names[rng() % names.size()]));
    }
  } else {
    std::mt19937 rng(3);
    std::vector<std::string> domains;
    for (int i = 0; i < n; ++i) {
      domains.push_back(absl::StrCat(RandomLabel(rng, 6, 12), i, ".", kZone));
    }
    if (kind == kAdversarialList) {
      rules = LiteralRules(domains);
    } else {
      for (int i = 0; i < n; ++i) {
        Rule r;
        r.id = static_cast<uint32_t>(i + 1);
        r.expression = absl::StrCat("(^|\\.)", Escape(domains[i]), "$");
        rules.push_back(std::move(r));
      }
    }
    // Random subdomains of the zone (NXDOMAIN-storm style): never cached.
    for (int i = 0; i < 100000; ++i) {
      slot->traffic.push_back(
          absl::StrCat(RandomLabel(rng, 8, 20), ".", kZone));
    }
  }
  absl::StatusOr<std::shared_ptr<const Database>> db =
      Database::Compile(std::move(rules), Options(kind));
  if (!db.ok()) {
    fprintf(stderr, "compile: %s\n",
            std::string(db.status().message()).c_str());
    std::abort();
  }
  slot->db = *std::move(db);
  slot->zipf = Zipf(slot->traffic, 1 << 20);
  return *slot;
}

// Through RuleWorker, as a worker lcore runs it: hashing, cache, counting.
void BM_Match(benchmark::State& state, Kind kind, bool zipf, size_t cache) {
  const Setup& s = Get(kind, static_cast<int>(state.range(0)));
  RuleSet set(1);
  if (!set.Publish(s.db).ok()) std::abort();
  auto w = *set.NewWorker(0, cache);
  size_t i = 0, hits = 0;
  const size_t n = zipf ? s.zipf.size() : s.traffic.size();
  for (auto _ : state) {
    const std::string& name = zipf ? *s.zipf[i] : s.traffic[i];
    hits += w->Match(name).count;
    if (++i == n) i = 0;
  }
  state.counters["hit_ratio"] =
      static_cast<double>(hits) / static_cast<double>(state.iterations());
  if (cache) {
    state.counters["cache_hit_ratio"] =
        static_cast<double>(w->stats().cache_hits) /
        static_cast<double>(w->stats().matches);
  }
  state.SetItemsProcessed(state.iterations());
  w.reset();
}

void BM_Compile(benchmark::State& state, Kind kind) {
  const int n = static_cast<int>(state.range(0));
  std::vector<Rule> rules = MakeRules(kind, Domains(n, 42));
  size_t hs_bytes = 0, set_bytes = 0, chunks = 0, always = 0, routed = 0,
         gated = 0, keyword_gated = 0;
  for (auto _ : state) {
    absl::StatusOr<std::shared_ptr<const Database>> db =
        Database::Compile(rules, Options(kind));
    if (!db.ok()) std::abort();
    hs_bytes = (*db)->hyperscan_bytes();
    set_bytes = (*db)->domain_set_bytes();
    chunks = (*db)->chunk_count();
    always = (*db)->always_chunk_count();
    routed = (*db)->routed_count();
    gated = (*db)->gated_count();
    keyword_gated = (*db)->keyword_gated_count();
  }
  state.counters["hs_bytes"] = static_cast<double>(hs_bytes);
  state.counters["set_bytes"] = static_cast<double>(set_bytes);
  state.counters["chunks"] = static_cast<double>(chunks);
  state.counters["always_chunks"] = static_cast<double>(always);
  state.counters["routed"] = static_cast<double>(routed);
  state.counters["gated"] = static_cast<double>(gated);
  state.counters["keyword_gated"] = static_cast<double>(keyword_gated);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1000)->Arg(10000)->Arg(100000);
}

BENCHMARK_CAPTURE(BM_Match, literal, kLiteral, false, 0)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_Match, regex, kRegex, false, 0)->Apply(Sizes);
// One Hyperscan database, as before: 100k of these did not compile within
// 10 minutes (1 GB and growing).
BENCHMARK_CAPTURE(BM_Match, regex_plain, kRegexPlain, false, 0)
    ->Arg(1000)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, diverse, kDiverse, false, 0)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_Match, literal_zipf_nocache, kLiteral, true, 0)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, literal_zipf_cache4k, kLiteral, true, 4096)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, regex_zipf_nocache, kRegex, true, 0)->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, regex_zipf_cache4k, kRegex, true, 4096)->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, adversarial_list, kAdversarialList, false, 0)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, adversarial_list_cache4k, kAdversarialList, false,
                  4096)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, adversarial_regex, kAdversarialRegex, false, 0)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, adversarial_regex_plain, kAdversarialRegexPlain,
                  false, 0)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, gate_adversarial, kGateAdversarial, false, 0)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Match, keyword_adversarial, kKeywordAdversarial, false, 0)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Compile, literal, kLiteral)
    ->Apply(Sizes)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Compile, regex, kRegex)
    ->Apply(Sizes)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Compile, regex_plain, kRegexPlain)
    ->Arg(1000)
    ->Arg(10000)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Compile, diverse, kDiverse)
    ->Apply(Sizes)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgecap::rules

BENCHMARK_MAIN();

// Per-query-name cost of the watch list, database compile time and size.
//
//   ninja -C build bench/rules/rules_bench
//   build/bench/rules/rules_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
//
// Rule sets and traffic are generated with fixed seeds:
// - literal/N: one domain list of N random domains under 9 TLDs,
// - regex/N: N regexes of three shapes (suffix, tunnel-like, DGA-like),
// - traffic: 100k distinct names, 1 in 8 inside a rule, the rest diverse
//   resolver-like names under the same TLDs, scanned in a fixed order
//   (every name a cache miss) or drawn Zipf(1.0) (popular names repeat, as at
//   a resolver) for the verdict-cache variants,
// - adversarial: 10k rules under one zone and random-subdomain queries in
//   that zone, both as a domain list and as Hyperscan regexes.
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

enum Kind { kLiteral, kRegex, kAdversarialList, kAdversarialRegex };

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
  if (kind == kLiteral || kind == kRegex) {
    std::vector<std::string> domains = Domains(n, 42);
    rules = kind == kLiteral ? LiteralRules(domains) : RegexRules(domains);
    slot->traffic = Traffic(domains);
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
      Database::Compile(std::move(rules));
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
  std::vector<Rule> rules;
  if (kind == kLiteral) {
    rules = LiteralRules(Domains(n, 42));
  } else {
    rules = RegexRules(Domains(n, 42));
  }
  size_t hs_bytes = 0, set_bytes = 0;
  for (auto _ : state) {
    absl::StatusOr<std::shared_ptr<const Database>> db =
        Database::Compile(rules);
    if (!db.ok()) std::abort();
    hs_bytes = (*db)->hyperscan_bytes();
    set_bytes = (*db)->domain_set_bytes();
  }
  state.counters["hs_bytes"] = static_cast<double>(hs_bytes);
  state.counters["set_bytes"] = static_cast<double>(set_bytes);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1000)->Arg(10000)->Arg(100000);
}

BENCHMARK_CAPTURE(BM_Match, literal, kLiteral, false, 0)->Apply(Sizes);
// 100k regexes of these shapes did not compile within 10 minutes (1 GB and
// growing): big lists belong in domain lists.
BENCHMARK_CAPTURE(BM_Match, regex, kRegex, false, 0)->Arg(1000)->Arg(10000);
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
BENCHMARK_CAPTURE(BM_Compile, literal, kLiteral)
    ->Apply(Sizes)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Compile, regex, kRegex)
    ->Arg(1000)
    ->Arg(10000)
    ->Iterations(1)
    ->Repetitions(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgecap::rules

BENCHMARK_MAIN();

#include "lib/rules/database.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgecap::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Compiles an expression file and domain lists given as text.
absl::StatusOr<std::shared_ptr<const Database>> Build(
    std::string_view rules_text, std::vector<std::string> lists = {}) {
  std::vector<Rule> all;
  if (!rules_text.empty()) {
    absl::StatusOr<std::vector<Rule>> r =
        ParseExpressionFile("w.rules", rules_text);
    if (!r.ok()) return r.status();
    all = *std::move(r);
  }
  for (size_t i = 0; i < lists.size(); ++i) {
    absl::StatusOr<Rule> l =
        ParseDomainList(absl::StrCat("l", i, ".domains"), lists[i]);
    if (!l.ok()) return l.status();
    all.push_back(*std::move(l));
  }
  return Database::Compile(std::move(all));
}

class Matcher {
 public:
  explicit Matcher(std::shared_ptr<const Database> db) : db_(std::move(db)) {
    scratch_ = *db_->AllocScratch();
  }
  // IDs of the rules `name` fires, in rule order.
  std::vector<uint32_t> Ids(std::string_view name) {
    Verdict v;
    db_->Match(name, scratch_.get(), &v);
    std::vector<uint32_t> ids;
    for (int i = 0; i < v.count; ++i) ids.push_back(db_->rule(v.rule[i]).id);
    return ids;
  }

 private:
  std::shared_ptr<const Database> db_;
  ScratchPtr scratch_;
};

TEST(Database, DomainListMatchesDomainAndSubdomainsOnly) {
  auto db = Build("", {"# @list 7 label=watched\nexample.com.\nco.uk\n"});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->regex_count(), 0u);
  EXPECT_EQ((*db)->domain_count(), 2u);
  Matcher m(*db);
  EXPECT_THAT(m.Ids("example.com"), ElementsAre(7));
  EXPECT_THAT(m.Ids("x.example.com"), ElementsAre(7));
  EXPECT_THAT(m.Ids("a.b.c.example.com"), ElementsAre(7));
  EXPECT_THAT(m.Ids("example.com."), ElementsAre(7));  // trailing dot
  EXPECT_THAT(m.Ids("WWW.Example.COM"), ElementsAre(7));
  EXPECT_THAT(m.Ids("notexample.com"), IsEmpty());
  EXPECT_THAT(m.Ids("example.com.au"), IsEmpty());
  EXPECT_THAT(m.Ids("example.co"), IsEmpty());
  EXPECT_THAT(m.Ids("com"), IsEmpty());  // a suffix of a listed domain
  EXPECT_THAT(m.Ids("uk"), IsEmpty());
  EXPECT_THAT(m.Ids("bbc.co.uk"), ElementsAre(7));
  EXPECT_THAT(m.Ids("."), IsEmpty());  // the root, as lib/parse writes it
  EXPECT_THAT(m.Ids(""), IsEmpty());
  EXPECT_THAT(m.Ids("x..example.com"), ElementsAre(7));
}

TEST(Database, PunycodeNames) {
  // xn--80ak6aa92e.com is "приклад.com"; xn--mnchen-3ya.de is "münchen.de".
  auto db = Build(
      "10:/(^|\\.)xn--mnchen-3ya\\.de$/\n"
      "11:/^xn--[a-z0-9-]+\\.xn--p1ai$/\n",
      {"# @list 12\nxn--80ak6aa92e.com\n"});
  ASSERT_TRUE(db.ok()) << db.status();
  Matcher m(*db);
  EXPECT_THAT(m.Ids("www.xn--80ak6aa92e.com"), ElementsAre(12));
  EXPECT_THAT(m.Ids("xn--80ak6aa92e.com"), ElementsAre(12));
  EXPECT_THAT(m.Ids("xn--80ak6aa92f.com"), IsEmpty());
  EXPECT_THAT(m.Ids("stadt.xn--mnchen-3ya.de"), ElementsAre(10));
  EXPECT_THAT(m.Ids("xn--mnchen-3ya.de"), ElementsAre(10));
  EXPECT_THAT(m.Ids("muenchen.de"), IsEmpty());
  EXPECT_THAT(m.Ids("xn--e1afmkfd.xn--p1ai"), ElementsAre(11));
  EXPECT_THAT(m.Ids("www.xn--e1afmkfd.xn--p1ai"), IsEmpty());  // ^ anchors
}

TEST(Database, RegexAnchoringIsAsWritten) {
  auto db = Build(
      "1:/^example\\.com$/\n"
      "2:/(^|\\.)example\\.net$/\n"
      "3:/example\\.org/\n");
  ASSERT_TRUE(db.ok()) << db.status();
  Matcher m(*db);
  EXPECT_THAT(m.Ids("example.com"), ElementsAre(1));
  EXPECT_THAT(m.Ids("example.com."), ElementsAre(1));
  EXPECT_THAT(m.Ids("www.example.com"), IsEmpty());
  EXPECT_THAT(m.Ids("notexample.com"), IsEmpty());
  EXPECT_THAT(m.Ids("example.net"), ElementsAre(2));
  EXPECT_THAT(m.Ids("a.example.net"), ElementsAre(2));
  EXPECT_THAT(m.Ids("notexample.net"), IsEmpty());
  EXPECT_THAT(m.Ids("example.net.evil.com"), IsEmpty());
  // Unanchored: fires inside other names, because that is what it says.
  EXPECT_THAT(m.Ids("notexample.org"), ElementsAre(3));
  EXPECT_THAT(m.Ids("example.org.evil.com"), ElementsAre(3));
}

TEST(Database, CaseInsensitiveBothWays) {
  auto db =
      Build("1:/^Mail\\.EXAMPLE\\.com$/\n", {"# @list 2\nPhish.Example.NET\n"});
  ASSERT_TRUE(db.ok()) << db.status();
  Matcher m(*db);
  EXPECT_THAT(m.Ids("mail.example.com"), ElementsAre(1));
  EXPECT_THAT(m.Ids("MAIL.example.COM"), ElementsAre(1));
  EXPECT_THAT(m.Ids("phish.example.net"), ElementsAre(2));
  EXPECT_THAT(m.Ids("x.PHISH.example.net"), ElementsAre(2));
}

TEST(Database, SeveralRulesFireTogetherWithMetadata) {
  auto db = Build(
      "# @rule 5 severity=high label=tunnel\n"
      "5:/^[a-z0-9]{30,}\\./\n"
      "6:/\\.example\\.com$/L\n"
      "7:/paypal\\.com$/{edit_distance=1}\n",
      {"# @list 8 severity=critical label=C2\nexample.com\n",
       "# @list 9\nb.example.com\n"});
  ASSERT_TRUE(db.ok()) << db.status();
  Matcher m(*db);
  std::string tunnel = std::string(40, 'q') + ".a.b.example.com";
  EXPECT_THAT(m.Ids(tunnel), ElementsAre(5, 6, 8, 9));
  EXPECT_THAT(m.Ids("x.example.com"), ElementsAre(6, 8));
  EXPECT_THAT(m.Ids("paypa1.com"), ElementsAre(7));
  EXPECT_THAT(m.Ids("paypal.com"), ElementsAre(7));
  EXPECT_THAT(m.Ids("pay-pa1.com"), IsEmpty());
  const Rule& r5 = (*db)->rule(static_cast<uint32_t>((*db)->IndexOf(5)));
  EXPECT_EQ(r5.label, "tunnel");
  EXPECT_EQ(r5.severity, Severity::kHigh);
  const Rule& r8 = (*db)->rule(static_cast<uint32_t>((*db)->IndexOf(8)));
  EXPECT_EQ(r8.label, "C2");
  EXPECT_EQ(SeverityName(r8.severity), "critical");
  EXPECT_EQ((*db)->IndexOf(99), -1);
}

TEST(Database, MoreThanMaxHitsIsFlaggedTruncated) {
  std::vector<std::string> lists;
  for (int i = 0; i < kMaxHits + 2; ++i) {
    lists.push_back(absl::StrCat("# @list ", 100 + i, "\nexample.com\n"));
  }
  auto db = Build("", lists);
  ASSERT_TRUE(db.ok()) << db.status();
  ScratchPtr s = *(*db)->AllocScratch();
  Verdict v;
  (*db)->Match("example.com", s.get(), &v);
  EXPECT_EQ(v.count, kMaxHits);
  EXPECT_TRUE(v.truncated);
  for (int i = 0; i < kMaxHits; ++i) EXPECT_EQ(v.rule[i], uint32_t(i));
}

TEST(Database, HyperscanErrorsAreMappedToTheirLine) {
  auto db = Build("1:/ok/\n# fine\n\n2:/a(b/\n3:/fine/\n");
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(),
              HasSubstr("w.rules:4: rule 2: Hyperscan: Missing close "
                        "parenthesis"));
  // A construct Hyperscan does not support, on the last line.
  db = Build("1:/ok/\n2:/fine/\n3:/(a)\\1/\n");
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(),
              HasSubstr("w.rules:3: rule 3: Hyperscan: "));
  // An empty-matching pattern without V.
  db = Build("40:/x*/\n");
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.status().message(),
              HasSubstr("w.rules:1: rule 40: Hyperscan:"));
}

TEST(Database, LiteralRegexesAreAnsweredByTheDomainSet) {
  auto db = Build(
      "# @rule 1 severity=high label=zone rule\n"
      "1:/(^|\\.)Example\\.com$/\n"
      "2:/^www\\.example\\.net$/\n"
      "3:/\\.example\\.org$/\n"
      "4:/(?:\\.|^)xn--80ak6aa92e\\.com$/\n"
      "5:/^[a-z]+\\.example\\.com$/\n");  // a real pattern
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->regex_count(), 5u);
  EXPECT_EQ((*db)->routed_count(), 4u);
  EXPECT_EQ((*db)->domain_count(), 0u);  // counts domain lists only
  Matcher m(*db);
  // Zone: the domain and below, any case, one trailing dot.
  EXPECT_THAT(m.Ids("example.com"), ElementsAre(1));
  EXPECT_THAT(m.Ids("EXAMPLE.com."), ElementsAre(1));
  EXPECT_THAT(m.Ids("x.y.example.com"), ElementsAre(1));
  EXPECT_THAT(m.Ids("www.example.com"), ElementsAre(1, 5));
  EXPECT_THAT(m.Ids("notexample.com"), IsEmpty());
  EXPECT_THAT(m.Ids("example.com.evil.net"), IsEmpty());
  EXPECT_THAT(m.Ids("example.com.."), IsEmpty());  // only one dot is dropped
  EXPECT_THAT(m.Ids("com"), IsEmpty());
  // Exact.
  EXPECT_THAT(m.Ids("www.example.net"), ElementsAre(2));
  EXPECT_THAT(m.Ids("WWW.Example.NET."), ElementsAre(2));
  EXPECT_THAT(m.Ids("x.www.example.net"), IsEmpty());
  EXPECT_THAT(m.Ids("example.net"), IsEmpty());
  EXPECT_THAT(m.Ids("awww.example.net"), IsEmpty());
  // Below only.
  EXPECT_THAT(m.Ids("example.org"), IsEmpty());
  EXPECT_THAT(m.Ids("a.example.org"), ElementsAre(3));
  EXPECT_THAT(m.Ids("a.b.EXAMPLE.org."), ElementsAre(3));
  EXPECT_THAT(m.Ids("notexample.org"), IsEmpty());
  EXPECT_THAT(m.Ids(".example.org"), ElementsAre(3));
  // Punycode.
  EXPECT_THAT(m.Ids("xn--80ak6aa92e.com"), ElementsAre(4));
  EXPECT_THAT(m.Ids("mail.xn--80ak6aa92e.com"), ElementsAre(4));
  EXPECT_THAT(m.Ids("xn--80ak6aa92f.com"), IsEmpty());
  EXPECT_THAT(m.Ids("axn--80ak6aa92e.com"), IsEmpty());
  // Metadata stays with the rule.
  const Rule& r1 = (*db)->rule(static_cast<uint32_t>((*db)->IndexOf(1)));
  EXPECT_EQ(r1.label, "zone rule");
  EXPECT_EQ(r1.severity, Severity::kHigh);
  EXPECT_EQ(r1.kind, RuleKind::kRegex);
}

// Generated rules of every shape AnalyzeRegex reads (routed, gated by
// suffix, prefix or keywords, ungated, and look-alikes it must leave alone)
// against generated names: the verdicts must be those of one plain
// Hyperscan database holding every regex, with small chunks and gate
// overflow too.
TEST(Database, RoutingAndGatingMatchPlainHyperscan) {
  std::mt19937 rng(11);
  const std::vector<std::string> zones = {
      "example.com", "ex-ample.net", "a.b.example.org",
      "xn--p1ai",    "com",          "co.uk",
      "zz"};
  auto pick = [&](const std::vector<std::string>& v) -> const std::string& {
    return v[rng() % v.size()];
  };
  auto esc = [](std::string d) {
    std::string o;
    for (char c : d) {
      if (c == '.') o += '\\';
      o += c;
    }
    return o;
  };
  auto upper = [&](std::string s) {
    for (char& c : s) {
      if (rng() % 3 == 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    }
    return s;
  };
  // Keywords share grams and stems, so that names carry near misses.
  const std::vector<std::string> words = {
      "login", "logins", "secure", "verify", "paypal", "acme-corp", "d42-"};
  std::string text;
  for (int i = 1; i <= 400; ++i) {
    const std::string z = esc(upper(pick(zones)));
    const std::string stem = std::string(1 + rng() % 4, 'a' + rng() % 3);
    const std::string word = upper(pick(words));
    std::string e;
    switch (rng() % 20) {
      case 0:
        e = "(^|\\.)" + z + "$";
        break;
      case 1:
        e = "(?:\\.|^)" + z + "$";
        break;
      case 2:
        e = "^" + z + "$";
        break;
      case 3:
        e = "\\." + z + "$";
        break;
      case 4:
        e = z + "$";
        break;
      case 5:
        e = "^" + z;
        break;
      case 6:
        e = "^[a-z0-9]{3,}\\." + z + "$";
        break;
      case 7:
        e = "^" + stem + "[0-9]{1,3}\\." + z + "$";
        break;
      case 8:
        e = "^" + stem + "[a-z]*";
        break;
      case 9:
        e = stem + "\\d";
        break;
      case 10:
        e = "(^|\\.)" + z + "\\.?$";
        break;
      case 11:
        e = "(^|\\.)" + stem + "." + z + "$";
        break;
      case 12:
        e = "[^.]\\." + z + "$";
        break;
      case 13:
        e = "^(" + stem + "|x)\\." + z + "$";
        break;
      // Keyword gates: no literal at either end.
      case 14:
        e = stem + "[0-9-]*" + word;
        break;
      case 15:
        e = word.substr(0, 3) + "[-.]?" + word.substr(3) + "-(" +
            upper(pick(words)) + "|" + upper(pick(words)) + ")";
        break;
      case 16:
        e = "(?:www|mail|x)\\.?" + word + "[0-9]*\\." + z;
        break;
      case 17:
        e = "[a-z]" + word + "(s|)" + "\\b";
        break;
      case 18:  // a keyword too short for a gate
        e = stem + "[0-9]" + stem;
        break;
      default:
        e = word + "\\.?$";
        break;
    }
    absl::StrAppend(&text, i, ":/", e, "/", rng() % 5 == 0 ? "s" : "", "\n");
  }
  std::vector<std::string> names = {"", ".", "..", "\n", "com\n"};
  for (int i = 0; i < 4000; ++i) {
    std::string n;
    const int labels = static_cast<int>(rng() % 3);
    for (int l = 0; l < labels; ++l) {
      std::string label = std::string(1 + rng() % 4, 'a' + rng() % 3);
      if (rng() % 3 == 0) absl::StrAppend(&label, rng() % 200);
      n += label + (rng() % 20 == 0 ? ".." : ".");
    }
    if (rng() % 10 == 0) n += "not";
    n += pick(zones);
    switch (rng() % 12) {
      case 0:
        n += ".";
        break;
      case 1:
        n += "\n";
        break;
      case 2:
        n += ".\n";
        break;
      case 3:
        n = "." + n;
        break;
      case 4:
        n += ".evil";
        break;
      default:
        break;
    }
    names.push_back(upper(n));
  }
  // Names that carry keywords, whole, split, at either end, or off by one
  // byte, and a few past the 256 bytes Database lowercases in a copy.
  for (int i = 0; i < 3000; ++i) {
    std::string n;
    const int parts = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < parts; ++p) {
      std::string w = pick(words);
      switch (rng() % 6) {
        case 0:
          w[rng() % w.size()] = 'x';
          break;
        case 1:
          w.insert(
              w.begin() + static_cast<std::ptrdiff_t>(rng() % (w.size() + 1)),
              rng() % 2 ? '.' : '-');
          break;
        default:
          break;
      }
      const char* sep[] = {"", ".", "-", "1", "x"};
      n += std::string(1 + rng() % 3, 'a' + rng() % 3) + sep[rng() % 5] + w +
           sep[rng() % 5];
    }
    n += pick(zones);
    if (rng() % 50 == 0) n = std::string(250, 'c') + "." + n;
    names.push_back(rng() % 2 ? upper(n) : n);
  }
  // Past 64 bytes the domain set walks the name another way.
  for (const std::string& z : zones) {
    for (int len : {50, 60, 63, 64, 65, 70, 200}) {
      const std::string head = std::string(static_cast<size_t>(len), 'b');
      names.push_back(head + "." + z);
      names.push_back(head + "a." + z);
      names.push_back("x." + head + "." + z + ".");
      names.push_back(upper(head + ".not" + z));
    }
  }
  auto rules = ParseExpressionFile("w.rules", text);
  ASSERT_TRUE(rules.ok()) << rules.status();
  CompileOptions plain;
  plain.route_literals = false;
  plain.gate = false;
  plain.max_rules_per_chunk = 100000;
  CompileOptions tiny;
  tiny.max_rules_per_chunk = 2;
  tiny.max_rules_per_gated_chunk = 2;
  auto reference = Database::Compile(*rules, plain);
  auto routed = Database::Compile(*rules);
  auto chunked = Database::Compile(*rules, tiny);
  ASSERT_TRUE(reference.ok() && routed.ok() && chunked.ok());
  EXPECT_EQ((*reference)->chunk_count(), 1u);
  EXPECT_GT((*routed)->routed_count(), 50u);
  EXPECT_GT((*routed)->gated_count(), 50u);
  EXPECT_GT((*routed)->keyword_gated_count(), 50u);
  EXPECT_GT((*chunked)->chunk_count() - (*chunked)->always_chunk_count(), 40u);
  ScratchPtr s_ref = *(*reference)->AllocScratch();
  ScratchPtr s_routed = *(*routed)->AllocScratch();
  ScratchPtr s_chunked = *(*chunked)->AllocScratch();
  int fired = 0;
  for (const std::string& n : names) {
    Verdict want, got, got_chunked;
    (*reference)->Match(n, s_ref.get(), &want);
    (*routed)->Match(n, s_routed.get(), &got);
    (*chunked)->Match(n, s_chunked.get(), &got_chunked);
    fired += want.count > 0;
    auto same = [&](const Verdict& v) {
      if (v.count != want.count || v.truncated != want.truncated) return false;
      for (int i = 0; i < v.count; ++i) {
        if (v.rule[i] != want.rule[i]) return false;
      }
      return true;
    };
    ASSERT_TRUE(same(got)) << "'" << n << "'";
    ASSERT_TRUE(same(got_chunked)) << "'" << n << "'";
  }
  EXPECT_GT(fired, 1000);  // the names do exercise the rules
}

// A deterministic list of 100k distinct domains in a few dozen zones.
std::vector<std::string> ManyDomains(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  static constexpr const char* kTlds[] = {"com", "net",  "org",   "ru", "top",
                                          "xyz", "info", "co.uk", "de"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string label;
    int len = 6 + static_cast<int>(rng() % 10);
    for (int j = 0; j < len; ++j) label += static_cast<char>('a' + rng() % 26);
    out.push_back(absl::StrCat(label, i, ".", kTlds[rng() % 9]));
  }
  return out;
}

TEST(Database, HundredThousandDomainsCompileAndMatch) {
  std::vector<std::string> domains = ManyDomains(100000, 42);
  std::string list = "# @list 1 label=big\n";
  for (const std::string& d : domains) absl::StrAppend(&list, d, "\n");
  auto db = Build("", {list});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->domain_count(), 100000u);
  Matcher m(*db);
  for (size_t i = 0; i < domains.size(); i += 97) {
    ASSERT_THAT(m.Ids(domains[i]), ElementsAre(1)) << domains[i];
    ASSERT_THAT(m.Ids("www." + domains[i]), ElementsAre(1)) << domains[i];
    // Same label with another number: never listed (numbers are unique).
    size_t dot = domains[i].find('.');
    std::string other =
        absl::StrCat(domains[i].substr(0, dot), "x", domains[i].substr(dot));
    ASSERT_THAT(m.Ids(other), IsEmpty()) << other;
  }
}

}  // namespace
}  // namespace edgecap::rules

#include "lib/rules/rule_file.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgecap::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ErrorOf(std::string_view content) {
  absl::StatusOr<std::vector<Rule>> r = ParseExpressionFile("w.rules", content);
  return r.ok() ? "OK" : std::string(r.status().message());
}

std::string ListErrorOf(std::string_view content) {
  absl::StatusOr<Rule> r = ParseDomainList("c2.domains", content);
  return r.ok() ? "OK" : std::string(r.status().message());
}

TEST(ParseExpressionFile, ReadsIdsRegexesFlagsAndMetadata) {
  absl::StatusOr<std::vector<Rule>> r =
      ParseExpressionFile("w.rules",
                          "# a comment\n"
                          "\n"
                          "# @rule 1001 severity=high label=Emotet C2  DGA \n"
                          "1001:/^[a-z]{12}\\.top$/\n"
                          "  1002:/a/b/smi8WHVPLO  \r\n"
                          "1003:/paypa1/{edit_distance=1, min_length=5}\n"
                          "# @rule 1003 label=typo\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  const Rule& a = (*r)[0];
  EXPECT_EQ(a.id, 1001u);
  EXPECT_EQ(a.expression, "^[a-z]{12}\\.top$");
  EXPECT_EQ(a.flags, 0u);
  EXPECT_EQ(a.severity, Severity::kHigh);
  EXPECT_EQ(a.label, "Emotet C2  DGA");
  EXPECT_EQ(a.line, 4);
  EXPECT_EQ(a.file, "w.rules");
  const Rule& b = (*r)[1];
  // The regex runs to the last '/', as in Hyperscan's ExpressionParser.
  EXPECT_EQ(b.expression, "a/b");
  EXPECT_EQ(b.flags, unsigned{HS_FLAG_DOTALL | HS_FLAG_MULTILINE |
                              HS_FLAG_CASELESS | HS_FLAG_UTF8 | HS_FLAG_UCP |
                              HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY |
                              HS_FLAG_PREFILTER | HS_FLAG_SOM_LEFTMOST});
  EXPECT_EQ(b.severity, Severity::kMedium);
  EXPECT_EQ(b.label, "");
  const Rule& c = (*r)[2];
  EXPECT_TRUE(c.has_ext);
  EXPECT_EQ(c.ext.flags,
            unsigned{HS_EXT_FLAG_EDIT_DISTANCE | HS_EXT_FLAG_MIN_LENGTH});
  EXPECT_EQ(c.ext.edit_distance, 1u);
  EXPECT_EQ(c.ext.min_length, 5u);
  EXPECT_EQ(c.label, "typo");
}

TEST(ParseExpressionFile, EveryErrorNamesFileAndLine) {
  EXPECT_EQ(ErrorOf("1:/a/\nfoo\n"), "w.rules:2: expected ID:/regex/flags");
  EXPECT_EQ(ErrorOf("x1:/a/\n"),
            "w.rules:1: bad rule ID 'x1' (expected an unsigned 32-bit number)");
  EXPECT_THAT(ErrorOf("4294967296:/a/\n"), HasSubstr("w.rules:1: bad rule ID"));
  EXPECT_EQ(ErrorOf("1:a\n"), "w.rules:1: expected '/' after 'ID:'");
  EXPECT_EQ(ErrorOf("\n1:/abc\n"), "w.rules:2: missing closing '/'");
  EXPECT_EQ(ErrorOf("1:/a/ix\n"),
            "w.rules:1: unknown flag 'x' (known: i s m H V 8 W P L O)");
  EXPECT_THAT(ErrorOf("1:/a/C\n"),
              HasSubstr("w.rules:1: flag 'C' (logical combination)"));
  EXPECT_EQ(ErrorOf("1:/a/{foo=1}\n"),
            "w.rules:1: unknown extended parameter 'foo'");
  EXPECT_EQ(ErrorOf("1:/a/{min_offset=x}\n"),
            "w.rules:1: bad extended parameter 'min_offset=x' (expected "
            "key=number)");
  EXPECT_EQ(ErrorOf("1:/a/{min_offset=1\n"),
            "w.rules:1: extended parameters lack a closing '}'");
  EXPECT_EQ(ErrorOf("1:/a/\n\n1:/b/\n"),
            "w.rules:3: duplicate rule ID 1 (first defined on line 1)");
  EXPECT_THAT(ErrorOf("1:/a/\n  # indented\n"),
              HasSubstr("w.rules:2: comment must start in column 1"));
  EXPECT_EQ(ErrorOf("1:/a/\n# @rul 1\n"),
            "w.rules:2: unknown directive '@rul' (expected @rule)");
  EXPECT_EQ(ErrorOf("1:/a/\n# @rule 2 label=x\n"),
            "w.rules:2: @rule 2: no expression with this ID in the file");
  EXPECT_EQ(ErrorOf("# @rule 1\n1:/a/\n# @rule 1 label=x\n"),
            "w.rules:3: @rule 1: metadata already given on line 1");
  EXPECT_EQ(ErrorOf("1:/a/\n# @rule 1 severity=urgent\n"),
            "w.rules:2: unknown severity 'urgent' (info, low, medium, high, "
            "critical)");
  EXPECT_EQ(ErrorOf("1:/a/\n# @rule 1 severity=low severity=high\n"),
            "w.rules:2: severity given twice");
  EXPECT_EQ(ErrorOf("1:/a/\n# @rule 1 colour=red\n"),
            "w.rules:2: unexpected 'colour=red' (expected severity=... or "
            "label=..., label last)");
  EXPECT_EQ(ErrorOf("1:/a/\n# @rule one\n"),
            "w.rules:2: bad rule ID 'one' (expected an unsigned 32-bit "
            "number)");
}

TEST(ParseDomainList, NormalizesAndDeduplicates) {
  absl::StatusOr<Rule> r =
      ParseDomainList("c2.domains",
                      "# feed of 2024-05\n"
                      "# @list 2000 severity=critical label=C2 feed\n"
                      "Example.COM.\n"
                      "   xn--80ak6aa92e.com   \n"
                      "example.com\n"
                      "_dmarc.mail-1.example.org\r\n"
                      "\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, 2000u);
  EXPECT_EQ(r->kind, RuleKind::kDomainList);
  EXPECT_EQ(r->severity, Severity::kCritical);
  EXPECT_EQ(r->label, "C2 feed");
  EXPECT_EQ(r->line, 2);
  EXPECT_THAT(r->domains, ElementsAre("example.com", "xn--80ak6aa92e.com",
                                      "_dmarc.mail-1.example.org"));
}

TEST(ParseDomainList, EveryErrorNamesFileAndLine) {
  EXPECT_EQ(ListErrorOf("example.com\n"),
            "c2.domains:1: missing '# @list <ID> [severity=...] [label=...]' "
            "line");
  const std::string h = "# @list 7\n";
  EXPECT_EQ(ListErrorOf(h + "a..com\n"), "c2.domains:2: 'a..com': empty label");
  EXPECT_EQ(ListErrorOf(h + ".\n"), "c2.domains:2: '.': empty domain");
  EXPECT_EQ(ListErrorOf(h + "0.0.0.0 ads.example\n"),
            "c2.domains:2: expected one domain per line");
  EXPECT_EQ(ListErrorOf(h + "*.example.com\n"),
            "c2.domains:2: '*.example.com': character '*' not allowed in a "
            "domain (letters, digits, '-', '_')");
  EXPECT_EQ(
      ListErrorOf(h + "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.com\n"),
      "c2.domains:2: '\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.com': "
      "non-ASCII domain: write IDNs in punycode (xn--...), as on the wire");
  EXPECT_EQ(ListErrorOf(h + std::string(64, 'a') + ".com\n"),
            "c2.domains:2: '" + std::string(64, 'a') +
                ".com': label of 64 octets (at most 63)");
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "com";
  EXPECT_THAT(ListErrorOf(h + long_name + "\n"),
              HasSubstr("domain is 259 octets (at most 253)"));
  EXPECT_EQ(ListErrorOf(h + "# @list 8\n"),
            "c2.domains:2: second @list line (first on line 1): one list per "
            "file");
  EXPECT_EQ(ListErrorOf("# @rule 7\n"),
            "c2.domains:1: unknown directive '@rule' (expected @list)");
}

class LoadRuleFilesTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
};

TEST_F(LoadRuleFilesTest, DispatchesOnExtensionAndChecksIdsAcrossFiles) {
  std::string a = Write("a.rules", "1:/x/\n2:/y/\n");
  std::string b = Write("b.domains", "# @list 3\nexample.com\n");
  std::string c = Write("c.domains", "# comment\n# @list 2 label=dup\n");
  std::vector<std::string> ok = {a, b};
  absl::StatusOr<std::vector<Rule>> r = LoadRuleFiles(ok);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].kind, RuleKind::kDomainList);
  EXPECT_THAT((*r)[2].domains, ElementsAre("example.com"));

  std::vector<std::string> dup = {a, c};
  r = LoadRuleFiles(dup);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            c + ":2: duplicate rule ID 2 (first defined at " + a + ":2)");

  std::vector<std::string> missing = {::testing::TempDir() + "/nope.rules"};
  r = LoadRuleFiles(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("nope.rules: cannot open"));
}

}  // namespace
}  // namespace edgecap::rules

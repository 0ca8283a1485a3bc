#include "lib/rules/regex_shape.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgecap::rules {
namespace {

RegexShape Shape(std::string_view e, unsigned flags = HS_FLAG_CASELESS,
                 const hs_expr_ext_t* ext = nullptr) {
  return AnalyzeRegex(e, flags, ext);
}

TEST(RegexShape, RecognisesLiteralDomains) {
  for (std::string_view head :
       {"(^|\\.)", "(\\.|^)", "(?:^|\\.)", "(?:\\.|^)"}) {
    RegexShape s = Shape(std::string(head) + "Example\\.COM$");
    EXPECT_EQ(s.route, Route::kZone) << head;
    EXPECT_EQ(s.domain, "example.com") << head;
  }
  RegexShape s = Shape("^www\\.example\\.com$");
  EXPECT_EQ(s.route, Route::kExact);
  EXPECT_EQ(s.domain, "www.example.com");
  s = Shape("\\.example\\.com$");
  EXPECT_EQ(s.route, Route::kBelow);
  EXPECT_EQ(s.domain, "example.com");
  s = Shape("^xn--80ak6aa92e\\.com$");
  EXPECT_EQ(s.route, Route::kExact);
  EXPECT_EQ(s.domain, "xn--80ak6aa92e.com");
  s = Shape("(^|\\.)under_score-1\\.net$");
  EXPECT_EQ(s.route, Route::kZone);
  EXPECT_EQ(s.domain, "under_score-1.net");
}

TEST(RegexShape, LeavesRealPatternsToHyperscan) {
  for (std::string_view e : {
           "example\\.com$",            // unanchored: notexample.com too
           "^example\\.com",            // example.com.evil.net too
           "(^|\\.)example.com$",       // '.' is any byte
           "(^|\\.)example\\.com\\.$",  // wants a second trailing dot
           "^example\\.co?m$",          // quantified
           "(^|\\.)ex[a]mple\\.com$",   // a class
           "^(example\\.com)$",         // a group: not read as a literal
           "^example\\.com$|^x$",       // top-level alternation
           "(^|\\.)example\\.com$x",    // text after '$'
           "(?i)^example\\.com$",       // inline options
           "^\\x65xample\\.com$",       // escapes other than punctuation
           "^exa mple\\.com$",          // not a domain
           "(^|\\.)a\\.\\.com$",        // empty label
           "^$",
       }) {
    EXPECT_EQ(Shape(e).route, Route::kNone) << e;
  }
  // Flags and extended parameters that change what the regex means.
  for (unsigned f :
       {HS_FLAG_MULTILINE, HS_FLAG_UTF8 | HS_FLAG_UCP, HS_FLAG_PREFILTER}) {
    RegexShape s = Shape("(^|\\.)example\\.com$", HS_FLAG_CASELESS | f);
    EXPECT_EQ(s.route, Route::kNone) << f;
    EXPECT_EQ(s.suffix, "") << f;
  }
  hs_expr_ext_t ext{};
  ext.flags = HS_EXT_FLAG_MIN_LENGTH;
  ext.min_length = 20;
  RegexShape s = Shape("(^|\\.)example\\.com$", HS_FLAG_CASELESS, &ext);
  EXPECT_EQ(s.route, Route::kNone);
  ext.flags = HS_EXT_FLAG_EDIT_DISTANCE;
  ext.edit_distance = 1;
  s = Shape("^[a-z]+\\.example\\.com$", HS_FLAG_CASELESS, &ext);
  EXPECT_EQ(s.suffix, "");
}

TEST(RegexShape, FindsGates) {
  RegexShape s = Shape("^[a-z0-9]{24,}\\.T\\.Example\\.net$");
  EXPECT_EQ(s.suffix, "t.example.net");
  EXPECT_EQ(s.prefix, "");
  // Only whole labels: "zone" may follow anything.
  s = Shape("^stem[0-9]{2,4}zone\\.com$");
  EXPECT_EQ(s.suffix, "com");
  EXPECT_EQ(s.prefix, "stem");
  // A quantified literal ends the prefix before it.
  s = Shape("^abc?d");
  EXPECT_EQ(s.prefix, "ab");
  EXPECT_EQ(s.suffix, "");
  // Groups, alternation inside them, classes with ']' and '|'.
  s = Shape("^(mail|smtp)[]|]*\\.brand\\.example$");
  EXPECT_EQ(s.suffix, "brand.example");
  EXPECT_EQ(s.prefix, "");
  // An escaped backslash before '.': the '.' is any byte.
  s = Shape("^a[0-9]\\\\.b\\.com$");
  EXPECT_EQ(s.suffix, "com");
  // Nothing required at the ends.
  for (std::string_view e :
       {"paypa[l1]", "^[a-z]{12}\\.(top|xyz)$", "a|b\\.com$",
        "(x\\.example\\.com$)", "\\.com\\.?$", "x\\.com$\\n", "^\\Qstem\\E.*",
        "[a-z]+\\.com{2}$"}) {
    RegexShape t = Shape(e);
    EXPECT_EQ(t.route, Route::kNone) << e;
    EXPECT_EQ(t.suffix, "") << e;
    EXPECT_EQ(t.prefix, "") << e;
  }
}

TEST(RegexShape, FindsRequiredFactors) {
  using V = std::vector<std::string>;
  struct Case {
    std::string_view expression;
    V factors;
  };
  for (const Case& c : std::initializer_list<Case>{
           // The run whose shortest string is longest, lowercased; of equal
           // ones the first.
           {"abcdef7[0-9-]*Login", {"abcdef7"}},
           {"paypa[l1][0-9-]*login", {"paypa"}},
           {"^Stem[0-9]{2,4}\\.com$", {"stem"}},
           {"\\.secure-update\\.", {".secure-update."}},
           // Through groups of literal alternatives.
           {"bran[-.]?d42-(login|Verify)", {"d42-login", "d42-verify"}},
           {"(?:www|mail)\\.Corp-(a|b)x",
            {"www.corp-ax", "www.corp-bx", "mail.corp-ax", "mail.corp-bx"}},
           {"login(x|)", {"loginx", "login"}},
           {"(ab|cd)efghijk[0-9](l|m|n|o|p|q|r|s|t)xyz",
            {"abefghijk", "cdefghijk"}},
           {"(a|b|c)(d|e|f)[0-9]xyz", {"xyz"}},
           {"(ab|c)(d|e|f)[0-9]", {"abd", "abe", "abf", "cd", "ce", "cf"}},
           // A quantifier takes its literal or group out of the run.
           {"abcd?ef", {"abc"}},
           {"ab{2}cd", {"cd"}},
           {"abcx*+", {"abc"}},
           {"abc(de|fg)?h", {"abc"}},
           // So do anchors, classes, escapes, and groups with more in them.
           {"ab\\bcd(efghij)?", {"ab"}},
           {"(?:efghij)klm", {"efghijklm"}},
           {"xy(ef[g]hij|k)z", {"xy"}},
           {"xy(ef(g)hij|k)z", {"xy"}},
           {"xy(efg|k$)z", {"xy"}},
           {"a.bc", {"bc"}},
           {"[abcdef]gh", {"gh"}},
           // None at all, or nothing read: no factor.
           {"(secure|)", {}},
           {"[a-z]+\\d", {}},
           {"login|secure", {}},
           {"(?i)login", {}},
           {"\\x41login", {}},
       }) {
    EXPECT_EQ(Shape(c.expression).factors, c.factors) << c.expression;
  }
  EXPECT_EQ(Shape("login", HS_FLAG_CASELESS | HS_FLAG_UTF8).factors, V{});
  hs_expr_ext_t ext{};
  ext.flags = HS_EXT_FLAG_HAMMING_DISTANCE;
  ext.hamming_distance = 1;
  EXPECT_EQ(Shape("login", HS_FLAG_CASELESS, &ext).factors, V{});
  // Offsets and lengths only narrow the matches: the factor stays required.
  ext.flags = HS_EXT_FLAG_MIN_OFFSET;
  ext.min_offset = 12;
  EXPECT_EQ(Shape("login", HS_FLAG_CASELESS, &ext).factors, V{"login"});
}

}  // namespace
}  // namespace edgecap::rules

#include "lib/parse/attacked_domain.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/parse/dns.h"

namespace edgecap::parse {
namespace {

TEST(AttackedDomain, TheNameMinusItsFirstLabel) {
  EXPECT_EQ(AttackedDomain("x7f3k.victim.example"), "victim.example");
  EXPECT_EQ(AttackedDomain("a1b2c3.onlinebank-example.com"),
            "onlinebank-example.com");
  EXPECT_EQ(AttackedDomain("q.deep.zone.example.co.uk"),
            "deep.zone.example.co.uk");
  // Reverse lookups below the arpa suffixes name a network.
  EXPECT_EQ(AttackedDomain("7.2.0.192.in-addr.arpa"), "2.0.192.in-addr.arpa");
}

TEST(AttackedDomain, NeverAPublicSuffix) {
  // Distinct registrations: a typo each, not a flood against the suffix.
  EXPECT_EQ(AttackedDomain("galgreen.com"), "");
  EXPECT_EQ(AttackedDomain("shop.co.uk"), "");
  EXPECT_EQ(AttackedDomain("foo.in-addr.arpa"), "");
  // A top-level name the list does not know counts as one (its "*" rule).
  EXPECT_EQ(AttackedDomain("host.lan"), "");
  // A private-section suffix is a zone one operator runs.
  EXPECT_EQ(AttackedDomain("nosuchuser.github.io"), "github.io");
}

// A flood must not spread over many keys by putting escaped dots (or
// escaped backslashes before a dot) in its first label.
TEST(AttackedDomain, EscapedDotsStayInTheirLabel) {
  EXPECT_EQ(AttackedDomain("a\\.b.victim.example"), "victim.example");
  EXPECT_EQ(AttackedDomain("a\\\\.victim.example"), "victim.example");
  EXPECT_EQ(AttackedDomain("a\\046b.victim.example"), "victim.example");
  EXPECT_EQ(AttackedDomain("only\\.one\\.label"), "");
}

TEST(AttackedDomain, NoParent) {
  EXPECT_EQ(AttackedDomain("localhost"), "");
  EXPECT_EQ(AttackedDomain("."), "");
  EXPECT_EQ(AttackedDomain("trailing."), "");
  EXPECT_EQ(AttackedDomain(""), "");
}

TEST(AttackedDomain, ItsTwoSteps) {
  EXPECT_EQ(ParentDomain("x7f3k.victim.example"), "victim.example");
  EXPECT_EQ(ParentDomain("galgreen.com"), "com");
  EXPECT_EQ(ParentDomain("a\\.b.victim.example"), "victim.example");
  EXPECT_EQ(ParentDomain("localhost"), "");
  EXPECT_EQ(ParentDomain("trailing."), "");
  EXPECT_TRUE(IsPublicSuffix("com"));
  EXPECT_TRUE(IsPublicSuffix("co.uk"));
  EXPECT_TRUE(IsPublicSuffix("lan"));
  EXPECT_FALSE(IsPublicSuffix("victim.example"));
  EXPECT_FALSE(IsPublicSuffix("github.io"));
  // Longer than any qname text: no such name, and never a storm's key.
  EXPECT_TRUE(IsPublicSuffix(std::string(kMaxQnameText, 'a') + ".example.com"));
}

}  // namespace
}  // namespace edgecap::parse

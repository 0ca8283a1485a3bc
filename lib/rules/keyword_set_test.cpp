#include "lib/rules/keyword_set.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgecap::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<uint32_t> Found(const KeywordSet& k, std::string_view name) {
  std::set<uint32_t> v;
  k.ForEach(name, [&](uint32_t x) { v.insert(x); });
  return {v.begin(), v.end()};
}

TEST(KeywordSet, FindsKeywordsAnywhere) {
  KeywordSet k;
  k.Add("login", 1);
  k.Add("secure-update", 2);
  k.Add("secure-update", 3);
  k.Add("logins", 4);  // shares its first gram with "login"
  k.Add("d42-", 5);
  k.Add("a_b@c", 6);
  k.Build();
  EXPECT_THAT(Found(k, "login"), ElementsAre(1));
  EXPECT_THAT(Found(k, "www.login.example.com"), ElementsAre(1));
  EXPECT_THAT(Found(k, "example.com.login"), ElementsAre(1));
  EXPECT_THAT(Found(k, "mylogins.net"), ElementsAre(1, 4));
  EXPECT_THAT(Found(k, "a.secure-update.b"), ElementsAre(2, 3));
  EXPECT_THAT(Found(k, "brand42-d42-secure-updatelogin"),
              ElementsAre(1, 2, 3, 5));
  // ASCII-caseless, and only for letters.
  EXPECT_THAT(Found(k, "WWW.LogIn.example"), ElementsAre(1));
  EXPECT_THAT(Found(k, "D42-SECURE-UPDATE"), ElementsAre(2, 3, 5));
  EXPECT_THAT(Found(k, "xA_B@Cx"), ElementsAre(6));
  EXPECT_THAT(Found(k,
                    "a\x7f"
                    "b@c"),
              IsEmpty());
  EXPECT_THAT(Found(k, "a_b`c"), IsEmpty());
  // Near misses: a gram, a prefix or a suffix of a keyword is not enough.
  for (std::string_view n :
       {"", "log", "logi", "ogin", "l0gin", "log.in", "secure-updat",
        "ecure-update", "secure_update", "d42", "d42_", "brand-d4-2"}) {
    EXPECT_THAT(Found(k, n), IsEmpty()) << n;
  }
}

TEST(KeywordSet, EmptySetFindsNothing) {
  KeywordSet k;
  k.Build();
  EXPECT_TRUE(k.empty());
  EXPECT_THAT(Found(k, "login.example.com"), IsEmpty());
}

// Many random keywords over a small alphabet (so that grams are shared
// and the bitmap lets many windows through) against std::string::find,
// with shortest keywords of every length that sets another stride.
TEST(KeywordSet, AgreesWithPlainSearch) {
  for (size_t shortest : {4, 5, 6, 7, 9}) {
    SCOPED_TRACE(shortest);
    std::mt19937 rng(static_cast<uint32_t>(shortest));
    auto word = [&](size_t min, size_t max) {
      std::string s(min + rng() % (max - min + 1), ' ');
      for (char& c : s) c = "abcd.-0"[rng() % 7];
      return s;
    };
    std::vector<std::string> keywords;
    KeywordSet k;
    for (uint32_t i = 0; i < 3000; ++i) {
      keywords.push_back(word(shortest, 12));
      ASSERT_TRUE(k.Add(keywords.back(), i % 700));
    }
    EXPECT_FALSE(k.Add("abc", 1));
    k.Build();
    int found = 0;
    for (int i = 0; i < 2000; ++i) {
      std::string name = word(0, 60);
      // Plant a keyword, or a near miss of one, at any position.
      if (rng() % 2) {
        std::string kw = keywords[rng() % keywords.size()];
        if (rng() % 3 == 0) kw[rng() % kw.size()] = 'x';
        name.insert(rng() % (name.size() + 1), kw);
      }
      std::set<uint32_t> want;
      for (size_t j = 0; j < keywords.size(); ++j) {
        if (name.find(keywords[j]) != std::string::npos) want.insert(j % 700);
      }
      found += !want.empty();
      // Case must not matter.
      for (char& c : name) {
        if (rng() % 2 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
      ASSERT_EQ(Found(k, name), std::vector<uint32_t>(want.begin(), want.end()))
          << name;
    }
    EXPECT_GT(found, 500);
    EXPECT_LT(found, 1900);
  }
}

}  // namespace
}  // namespace edgecap::rules

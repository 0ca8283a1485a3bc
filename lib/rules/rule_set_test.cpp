#include "lib/rules/rule_set.h"

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgecap::rules {
namespace {

using ::testing::HasSubstr;

std::string Write(const std::string& name, const std::string& content) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

std::vector<uint32_t> Ids(RuleWorker& w, std::string_view name) {
  const Verdict& v = w.Match(name);
  std::vector<uint32_t> ids;
  for (int i = 0; i < v.count; ++i) ids.push_back(w.rule(v.rule[i]).id);
  return ids;
}

TEST(RuleSet, StartsEmptyThenLoadsAndCounts) {
  RuleSet set(2);
  auto w = set.NewWorker(0);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(Ids(**w, "example.com").empty());

  std::vector<std::string> files = {
      Write("count.rules", "# @rule 1 label=dga\n1:/^[a-z]{16}\\.top$/\n"),
      Write("count.domains", "# @list 2 severity=high\nexample.com\n")};
  ASSERT_TRUE(set.LoadFiles(files).ok());
  EXPECT_TRUE(Ids(**w, "example.com").empty());  // not yet quiescent
  (*w)->Quiesce();
  EXPECT_EQ((*w)->generation(), set.generation());
  EXPECT_THAT(Ids(**w, "www.example.com"), ::testing::ElementsAre(2));
  EXPECT_THAT(Ids(**w, "abcdefghijklmnop.top"), ::testing::ElementsAre(1));
  EXPECT_THAT(Ids(**w, "www.example.com"), ::testing::ElementsAre(2));
  EXPECT_TRUE(Ids(**w, "example.org").empty());
  EXPECT_EQ((*w)->stats().matches, 6u);
  // The second example.com (same generation) and the second www.example.com.
  EXPECT_EQ((*w)->stats().cache_hits, 2u);
  EXPECT_EQ(set.HitsForId(1), 1u);
  EXPECT_EQ(set.HitsForId(2), 2u);
  std::vector<RuleSet::RuleHits> hits = set.Hits();
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, 1u);
  EXPECT_EQ(hits[0].hits, 1u);
  EXPECT_EQ(hits[1].id, 2u);
  EXPECT_EQ(hits[1].hits, 2u);
}

TEST(RuleSet, WorkerSlotsAreChecked) {
  RuleSet set(2);
  EXPECT_EQ(set.NewWorker(2).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(set.NewWorker(-1).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto a = set.NewWorker(1);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(set.NewWorker(1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  a->reset();
  EXPECT_TRUE(set.NewWorker(1).ok());  // freed with its handle
}

TEST(RuleSet, BrokenReloadKeepsTheOldRules) {
  RuleSet set(1);
  std::vector<std::string> good = {
      Write("good.rules", "7:/^bad\\.example$/\n")};
  ASSERT_TRUE(set.LoadFiles(good).ok());
  auto w = *set.NewWorker(0);
  uint32_t gen = set.generation();

  std::vector<std::string> broken = {
      Write("broken.rules", "7:/^bad\\.example$/\n8:/(unclosed/\n")};
  absl::Status s = set.LoadFiles(broken);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("broken.rules:2: rule 8: Hyperscan: "));
  std::vector<std::string> unparsable = {
      Write("unparsable.rules", "7:/x/\nnot a rule\n")};
  s = set.LoadFiles(unparsable);
  EXPECT_THAT(s.message(), HasSubstr("unparsable.rules:2: expected ID:"));
  std::vector<std::string> bad_list = {
      Write("bad.domains", "# @list 9\nä.com\n")};
  s = set.LoadFiles(bad_list);
  EXPECT_THAT(s.message(), HasSubstr("bad.domains:2: "));

  EXPECT_EQ(set.generation(), gen);
  w->Quiesce();
  EXPECT_EQ(w->generation(), gen);
  EXPECT_THAT(Ids(*w, "bad.example"), ::testing::ElementsAre(7));
  EXPECT_EQ(set.HitsForId(7), 1u);
}

TEST(RuleSet, OldDatabaseLivesUntilEveryOnlineWorkerIsQuiescent) {
  RuleSet set(3);
  std::vector<std::string> a = {Write("qa.domains", "# @list 1\na.example\n")};
  std::vector<std::string> b = {Write("qb.domains", "# @list 2\nb.example\n")};
  ASSERT_TRUE(set.LoadFiles(a).ok());
  auto w0 = *set.NewWorker(0);
  auto w1 = *set.NewWorker(1);
  auto w2 = *set.NewWorker(2);
  w2->Offline();  // an idle worker must not hold reclamation back
  EXPECT_THAT(Ids(*w0, "a.example"), ::testing::ElementsAre(1));
  EXPECT_THAT(Ids(*w1, "a.example"), ::testing::ElementsAre(1));

  ASSERT_TRUE(set.LoadFiles(b).ok());
  EXPECT_EQ(set.Reclaim(), 1u);
  // Still on the old rules, and they are still there to be read.
  EXPECT_THAT(Ids(*w0, "a.example"), ::testing::ElementsAre(1));
  w0->Quiesce();
  EXPECT_THAT(Ids(*w0, "a.example"), ::testing::IsEmpty());
  EXPECT_THAT(Ids(*w0, "b.example"), ::testing::ElementsAre(2));
  EXPECT_EQ(set.Reclaim(), 1u);  // w1 has not passed a quiescent state
  EXPECT_THAT(Ids(*w1, "a.example"), ::testing::ElementsAre(1));
  w1->Quiesce();
  EXPECT_EQ(set.Reclaim(), 0u);
  // Counts from the freed generation were kept.
  EXPECT_EQ(set.HitsForId(1), 4u);
  EXPECT_EQ(set.HitsForId(2), 1u);

  w2->Online();
  EXPECT_THAT(Ids(*w2, "b.example"), ::testing::ElementsAre(2));
}

TEST(RuleSet, VerdictCacheIsInvalidatedBySwap) {
  RuleSet set(1);
  std::vector<std::string> a = {Write("ca.domains", "# @list 1\nx.example\n")};
  std::vector<std::string> b = {Write("cb.domains", "# @list 1\ny.example\n")};
  ASSERT_TRUE(set.LoadFiles(a).ok());
  auto w = *set.NewWorker(0, 64);
  EXPECT_THAT(Ids(*w, "x.example"), ::testing::ElementsAre(1));
  EXPECT_THAT(Ids(*w, "x.example"), ::testing::ElementsAre(1));
  EXPECT_EQ(w->stats().cache_hits, 1u);
  ASSERT_TRUE(set.LoadFiles(b).ok());
  w->Quiesce();
  EXPECT_THAT(Ids(*w, "x.example"), ::testing::IsEmpty());
  EXPECT_EQ(w->stats().cache_hits, 1u);
  EXPECT_EQ(set.HitsForId(1), 2u);
}

// MatchCached answers from what Match stored under the same hash, for the
// current rules only, and counts like Match.
TEST(RuleSet, MatchCachedAnswersWhatMatchStored) {
  RuleSet set(1);
  std::vector<std::string> a = {Write("mc.domains", "# @list 3\nx.example\n")};
  std::vector<std::string> b = {Write("md.domains", "# @list 4\nz.example\n")};
  ASSERT_TRUE(set.LoadFiles(a).ok());
  auto w = *set.NewWorker(0, 64);
  constexpr uint64_t kX = 0x1234, kY = 0x5678;
  EXPECT_EQ(w->MatchCached(kX), nullptr);
  EXPECT_EQ(w->Match("x.example", kX).count, 1);
  EXPECT_EQ(w->Match("y.example", kY).count, 0);
  const Verdict* v = w->MatchCached(kX);
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->count, 1);
  EXPECT_EQ(w->rule(v->rule[0]).id, 3u);
  v = w->MatchCached(kY);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->count, 0);
  EXPECT_EQ(w->MatchCached(kX + 64), nullptr);  // same slot, other name
  EXPECT_EQ(w->stats().matches, 4u);
  EXPECT_EQ(w->stats().cache_hits, 2u);
  EXPECT_EQ(set.HitsForId(3), 2u);
  ASSERT_TRUE(set.LoadFiles(b).ok());
  w->Quiesce();
  EXPECT_EQ(w->MatchCached(kX), nullptr);
  EXPECT_EQ(w->MatchCached(kY), nullptr);
}

// Workers match a fixed mix of names, quiescing between bursts, while the
// control thread keeps swapping between two rule sets that give the same
// answers through different rules (a list in one, a regex in the other), and
// throws broken files in between. Every verdict must be right, and every
// hit counted exactly once across all generations. Under AddressSanitizer
// this also proves no worker reads a freed generation.
TEST(RuleSet, ReloadDuringMatchingLosesAndDoubleCountsNothing) {
  std::vector<std::string> a = {
      Write("ra.rules",
            "# @rule 1 label=one\n1:/(^|\\.)one\\.example$/\n"
            "3:/^[a-z]{20}\\.top$/\n"),
      Write("ra.domains", "# @list 2\ntwo.example\n")};
  std::vector<std::string> b = {
      Write("rb.rules",
            "2:/(^|\\.)two\\.example$/\n"
            "3:/^[a-z]{20}\\.top$/\n5:/^never$/\n"),
      Write("rb.domains", "# @list 1 label=one\none.example\n")};
  std::vector<std::string> broken = {Write("rbroken.rules", "1:/(/\n")};

  struct Probe {
    std::string name;
    int rule;  // expected rule ID, 0 for none
  };
  const std::vector<Probe> probes = {
      {"one.example", 1},
      {"www.one.example", 1},
      {"notone.example", 0},
      {"two.example", 2},
      {"a.b.two.example", 2},
      {"abcdefghijklmnopqrst.top", 3},
      {"abcdefghijklmnopqrs.top", 0},
      {"example", 0},
  };
  constexpr int kWorkers = 3;
  constexpr int kRounds = 200000;
  constexpr int kBurst = 32;

  RuleSet set(kWorkers);
  ASSERT_TRUE(set.LoadFiles(a).ok());
  std::atomic<int> running{kWorkers};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWorkers; ++t) {
    // Worker 2 runs without a verdict cache, the others with a small one.
    auto w = set.NewWorker(t, t == 2 ? 0 : 16);
    ASSERT_TRUE(w.ok());
    threads.emplace_back([&, w = *std::move(w)]() mutable {
      uint32_t last_gen = 0;
      int n = 0;
      for (int r = 0; r < kRounds; ++r) {
        for (const Probe& p : probes) {
          if (n++ % kBurst == 0) {
            w->Quiesce();
            if (w->generation() < last_gen) wrong.fetch_add(1);
            last_gen = w->generation();
          }
          const Verdict& v = w->Match(p.name);
          bool ok = p.rule == 0
                        ? v.count == 0
                        : (v.count == 1 && w->rule(v.rule[0]).id ==
                                               static_cast<uint32_t>(p.rule));
          if (!ok) wrong.fetch_add(1);
        }
      }
      w.reset();  // offline: stops holding reclamation back
      running.fetch_sub(1);
    });
  }
  int reloads = 0;
  while (running.load() > 0) {
    ASSERT_TRUE(set.LoadFiles(reloads % 2 ? a : b).ok());
    if (reloads % 5 == 0) {
      ASSERT_FALSE(set.LoadFiles(broken).ok());
    }
    ++reloads;
    set.Reclaim();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(set.Synchronize(absl::Seconds(1)));

  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(reloads, 3);
  const uint64_t per_rule = static_cast<uint64_t>(kWorkers) * kRounds;
  EXPECT_EQ(set.HitsForId(1), 2 * per_rule);
  EXPECT_EQ(set.HitsForId(2), 2 * per_rule);
  EXPECT_EQ(set.HitsForId(3), per_rule);
  EXPECT_EQ(set.HitsForId(5), 0u);
}

}  // namespace
}  // namespace edgecap::rules

#include "apps/edgecap/options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "apps/edgecap/eal_args.h"

namespace edgecap::app {
namespace {

absl::StatusOr<Options> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "edgecap");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST(Options, PcapShortcut) {
  absl::StatusOr<Options> o =
      Parse({"--pcap", "a.pcap", "--workers", "3", "--dispatch=sw",
             "--incidents", "x.jsonl"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->shortcut);
  EXPECT_EQ(o->pcap_files, std::vector<std::string>{"a.pcap"});
  EXPECT_EQ(o->workers, 3);
  EXPECT_EQ(o->dispatch, Dispatch::kSoftware);
  EXPECT_EQ(o->incidents_path, "x.jsonl");
}

TEST(Options, DpdkConvention) {
  absl::StatusOr<Options> o =
      Parse({"-l", "0-2", "--vdev", "net_null0", "--", "--workers", "2"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->shortcut);
  EXPECT_EQ(o->eal_args, (std::vector<std::string>{"edgecap", "-l", "0-2",
                                                   "--vdev", "net_null0"}));
  EXPECT_EQ(o->workers, 2);
}

TEST(Options, ErrorsNameTheOption) {
  absl::StatusOr<Options> o = Parse({"--pcap", "a.pcap", "--frobnicate"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("--frobnicate"), std::string::npos);
  o = Parse({"--pcap", "a.pcap", "--workers", "zero"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("--workers"), std::string::npos);
  EXPECT_NE(o.status().message().find("zero"), std::string::npos);
  o = Parse({"--pcap", "a.pcap", "--dispatch", "maybe"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("--dispatch"), std::string::npos);
  o = Parse({"--pcap"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("--pcap needs a value"),
            std::string::npos);
  o = Parse({"--workers", "2"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("nothing to read"), std::string::npos);
  o = Parse({"--pcap", "a.pcap", "--iface", "eth0"});
  EXPECT_FALSE(o.ok());
  o = Parse({"--pcap", "a,b.pcap"});
  EXPECT_FALSE(o.ok());
}

// Watch evidence is merged per second: a quiet time under 1 s would lose
// the evidence of an incident closed and reopened within one second.
TEST(Options, QuietSecondsAtLeastOne) {
  for (const char* v : {"0.5", "0.999", "0"}) {
    SCOPED_TRACE(v);
    absl::StatusOr<Options> o =
        Parse({"--pcap", "a.pcap", "--quiet-seconds", v});
    ASSERT_FALSE(o.ok());
    const std::string m(o.status().message());
    EXPECT_NE(m.find("--quiet-seconds"), std::string::npos) << m;
    EXPECT_NE(m.find(">= 1"), std::string::npos) << m;
  }
  absl::StatusOr<Options> o =
      Parse({"--pcap", "a.pcap", "--quiet-seconds", "1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->thresholds.quiet_seconds, 1.0);
}

TEST(Options, ConfigFileThenCommandLine) {
  const std::string path = ::testing::TempDir() + "/edgecap_options_test.toml";
  {
    std::ofstream f(path);
    f << "[cpu]\nworkers = 2\ndispatch = \"sw\"\n[thresholds]\n"
         "min_failures = 7\n[input]\npcap = [\"from-config.pcap\"]\n"
         "[output]\nquiet = true\n";
  }
  absl::StatusOr<Options> o = Parse({"--config", path, "--workers", "3"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->workers, 3);  // command line wins
  EXPECT_EQ(o->dispatch, Dispatch::kSoftware);
  EXPECT_EQ(o->thresholds.min_failures, 7u);
  EXPECT_EQ(o->pcap_files, std::vector<std::string>{"from-config.pcap"});
  EXPECT_TRUE(o->quiet);
  {
    std::ofstream f(path);
    f << "[cpu]\nwrokers = 2\n";
  }
  o = Parse({"--config", path, "--pcap", "a.pcap"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("wrokers"), std::string::npos);
  std::remove(path.c_str());
}

TEST(EalArgs, LcoreMap) {
  EXPECT_EQ(LcoreMap(2, {0, 1}), "0@0,1@1");
  EXPECT_EQ(LcoreMap(4, {0, 1}), "(0-3)@(0,1)");
  EXPECT_EQ(LcoreMap(1, {5}), "0@5");
}

TEST(EalArgs, Shortcut) {
  const std::vector<std::string> args = ShortcutEalArgs({.argv0 = "edgecap",
                                                         .lcores = 3,
                                                         .cpus = {0, 1},
                                                         .memory_mb = 300,
                                                         .pid = 42,
                                                         .verbose = false});
  auto has = [&](const std::string& a) {
    return std::find(args.begin(), args.end(), a) != args.end();
  };
  EXPECT_TRUE(has("--no-huge"));
  EXPECT_TRUE(has("--no-pci"));
  EXPECT_TRUE(has("300"));
  EXPECT_TRUE(has("--file-prefix=edgecap-42"));
  EXPECT_TRUE(has("--lcores=(0-2)@(0,1)"));
  // DPDK's telemetry warning ("No legacy callbacks...") silenced too: EAL
  // gives the telemetry log type the first matching level, so it comes first.
  const auto telemetry =
      std::find(args.begin(), args.end(), "--log-level=lib.telemetry:error");
  const auto all = std::find(args.begin(), args.end(), "--log-level=*:warning");
  ASSERT_NE(telemetry, args.end());
  ASSERT_NE(all, args.end());
  EXPECT_LT(telemetry, all);
  const std::vector<std::string> verbose = ShortcutEalArgs({.argv0 = "edgecap",
                                                            .lcores = 1,
                                                            .cpus = {0},
                                                            .memory_mb = 300,
                                                            .pid = 42,
                                                            .verbose = true});
  for (const std::string& a : verbose) EXPECT_EQ(a.find("--log-level"), a.npos);
}

}  // namespace
}  // namespace edgecap::app

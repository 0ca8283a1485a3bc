// The settings file: every key sets what its option sets, every option has a
// key, every kind of mistake names FILE:LINE:COLUMN and the key, the command
// line overrides the file, and the shipped example is valid.
#include "apps/edgecap/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "apps/edgecap/eal_args.h"

namespace edgecap::app {
namespace {

std::string TempFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

absl::StatusOr<Options> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "edgecap");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

// Every field of Options, so two parses can be compared whole.
std::string Dump(const Options& o) {
  std::vector<std::string> ports;
  for (const PortSpec& p : o.ports) ports.push_back(p.device + "@" + p.profile);
  const Thresholds& t = o.thresholds;
  return absl::StrCat(
      "pcap=", absl::StrJoin(o.pcap_files, ","), " iface=", o.iface,
      " ports=", absl::StrJoin(ports, ","),
      " cpus=", absl::StrJoin(o.cpus, ","), " workers=", o.workers,
      " dispatch=", static_cast<int>(o.dispatch),
      " incidents=", o.incidents_path, " report=", o.report_path,
      " rules=", o.rules_path, " profiles=", o.profiles_dir,
      " memory=", o.memory_mb, " mbufs=", o.mbufs, " progress=", o.progress,
      " quiet=", o.quiet, " verbose=", o.verbose, " linger=", o.linger,
      " duration=", o.duration_seconds, " prefix=", o.file_prefix,
      " eal=", absl::StrJoin(o.extra_eal_args, "|"), " telemetry=", o.telemetry,
      " group=", o.telemetry_group, " thresholds=", t.query_timeout_seconds,
      ",", t.window_seconds, ",", t.min_failures, ",", t.min_failure_ratio, ",",
      t.recovery_seconds, ",", t.quiet_seconds);
}

// One row per key: the file's spelling and the command line's. Inputs other
// than the one under test come from `base` so both parses are complete.
struct Row {
  std::string toml;
  std::vector<std::string> args;
};

const std::vector<Row>& Rows() {
  static const auto* kRows = new std::vector<Row>{
      {"[input]\npcap = [\"a.pcap\", \"b.pcap\"]\n",
       {"--pcap", "a.pcap", "--pcap", "b.pcap"}},
      {"[input]\npcap = \"one.pcap\"\n", {"--pcap", "one.pcap"}},
      {"[input]\niface = \"veth1\"\n", {"--iface", "veth1"}},
      {"[input]\npcap = [\"r.pcap\"]\nduration = 2.5\n",
       {"--pcap", "r.pcap", "--duration", "2.5"}},
      {"[input]\nprofiles = \"/opt/p\"\n", {"--profiles", "/opt/p"}},
      {"[[port]]\ndevice = \"0000:3b:00.0\"\nprofile = \"ixgbe\"\n"
       "[[port]]\ndevice = \"net_null0\"\n",
       {"--port", "0000:3b:00.0@ixgbe", "--port", "net_null0"}},
      {"[cpu]\nlcores = \"2-4,8\"\n", {"--lcores", "2-4,8"}},
      {"[cpu]\nworkers = 6\n", {"--workers", "6"}},
      {"[cpu]\ndispatch = \"sw\"\n", {"--dispatch", "sw"}},
      {"[cpu]\ndispatch = \"hw\"\n", {"--dispatch", "hw"}},
      {"[eal]\nmemory = 4096\n", {"--memory", "4096"}},
      {"[eal]\nmbufs = 2047\n", {"--mbufs", "2047"}},
      {"[eal]\nfile_prefix = \"cap1\"\n", {"--file-prefix", "cap1"}},
      {"[eal]\nargs = [\"--huge-dir=/mnt/h\", \"--socket-mem=1024\"]\n",
       {"--eal-arg", "--huge-dir=/mnt/h", "--eal-arg", "--socket-mem=1024"}},
      {"[eal]\nverbose = true\n", {"--verbose"}},
      {"[output]\nincidents = \"/x/i.jsonl\"\n", {"--incidents", "/x/i.jsonl"}},
      {"[output]\nreport = \"/x/r.md\"\n", {"--report", "/x/r.md"}},
      {"[output]\nquiet = true\n", {"--quiet"}},
      {"[output]\nprogress = true\n", {"--progress"}},
      {"[output]\nprogress = false\n", {"--no-progress"}},
      {"[rules]\nfile = \"/etc/w.rules\"\n", {"--rules", "/etc/w.rules"}},
      {"[thresholds]\nquery_timeout = 2\n", {"--query-timeout", "2"}},
      {"[thresholds]\nwindow = 60.5\n", {"--window", "60.5"}},
      {"[thresholds]\nmin_failures = 9\n", {"--min-failures", "9"}},
      {"[thresholds]\nmin_failure_ratio = 0.25\n",
       {"--min-failure-ratio", "0.25"}},
      {"[thresholds]\nrecovery = 30\n", {"--recovery", "30"}},
      {"[thresholds]\nquiet_seconds = 120\n", {"--quiet-seconds", "120"}},
      {"[telemetry]\nenabled = false\n", {"--no-telemetry"}},
      {"[telemetry]\nenabled = true\n", {"--telemetry"}},
      {"[telemetry]\ngroup = \"edgecap\"\n", {"--telemetry-group", "edgecap"}},
      {"[telemetry]\nlinger = true\n", {"--linger"}},
  };
  return *kRows;
}

bool HasInput(const std::string& toml) {
  return toml.find("pcap") != std::string::npos ||
         toml.find("iface") != std::string::npos ||
         toml.find("[[port]]") != std::string::npos;
}

TEST(Config, EveryKeySetsWhatItsOptionSets) {
  const Options defaults = *Parse({"--pcap", "base.pcap"});
  for (const Row& row : Rows()) {
    SCOPED_TRACE(row.toml);
    const std::string path = TempFile("every_key.toml", row.toml);
    std::vector<std::string> file_args = {"--config", path};
    std::vector<std::string> cli_args = row.args;
    if (!HasInput(row.toml)) {
      file_args.insert(file_args.end(), {"--pcap", "base.pcap"});
      cli_args.insert(cli_args.end(), {"--pcap", "base.pcap"});
    }
    absl::StatusOr<Options> from_file = Parse(file_args);
    absl::StatusOr<Options> from_cli = Parse(cli_args);
    ASSERT_TRUE(from_file.ok()) << from_file.status();
    ASSERT_TRUE(from_cli.ok()) << from_cli.status();
    EXPECT_EQ(Dump(*from_file), Dump(*from_cli));
    // And the key did something: not the defaults.
    if (row.toml != "[telemetry]\nenabled = true\n") {
      EXPECT_NE(Dump(*from_file), Dump(defaults));
    }
  }
}

TEST(Config, EveryOptionHasAKey) {
  std::set<std::string> covered(CommandLineOnlyOptions().begin(),
                                CommandLineOnlyOptions().end());
  for (const ConfigKey& k : ConfigKeys()) {
    covered.insert(k.option);
    if (!k.option_if_false.empty()) covered.insert(k.option_if_false);
    // And the test above exercises every key.
    const std::string section = k.path.substr(0, k.path.find('.'));
    const std::string key = k.path.substr(k.path.find('.') + 1);
    bool tested = false;
    for (const Row& row : Rows()) {
      const bool in_section =
          row.toml.find("[" + section + "]") != std::string::npos ||
          row.toml.find("[[" + section + "]]") != std::string::npos;
      tested |= in_section && row.toml.find(key + " =") != std::string::npos;
    }
    EXPECT_TRUE(tested) << k.path << " has no row in Rows()";
  }
  for (const std::string& name : OptionNames()) {
    EXPECT_TRUE(covered.count(name))
        << "--" << name << " has no key in the config file";
  }
}

// FILE:LINE:COLUMN: ... and the key, for every kind of mistake.
struct Bad {
  std::string toml;
  int line;
  std::string must_contain;
};

TEST(Config, EveryErrorNamesFileLineAndKey) {
  const std::vector<Bad> cases = {
      // Not TOML at all.
      {"[cpu]\nworkers = = 3\n", 2, ""},
      {"[cpu]\nworkers = 2\nworkers = 3\n", 3, ""},
      // Unknown section / key.
      {"[cpus]\nworkers = 2\n", 1, "key 'cpus': unknown section"},
      {"[cpu]\nworkers = 2\nwrokers = 2\n", 3,
       "key 'cpu.wrokers': unknown key (known in [cpu]: lcores, workers, "
       "dispatch)"},
      {"workers = 2\n", 1, "key 'workers'"},
      {"cpu = 3\n", 1, "key 'cpu': expected a section [cpu]"},
      // Wrong types, one per kind.
      {"[cpu]\nworkers = \"4\"\n", 2,
       "key 'cpu.workers': expected an integer, got string"},
      {"[cpu]\nworkers = 4.5\n", 2, "key 'cpu.workers': expected an integer"},
      {"[thresholds]\nwindow = \"300\"\n", 2,
       "key 'thresholds.window': expected a number"},
      {"[output]\nincidents = 7\n", 2,
       "key 'output.incidents': expected a string, got integer"},
      {"[output]\nquiet = \"yes\"\n", 2,
       "key 'output.quiet': expected true or false"},
      {"[input]\npcap = [\"a.pcap\", 3]\n", 2,
       "key 'input.pcap': expected a list of strings"},
      {"[eal]\nargs = 5\n", 2, "key 'eal.args': expected a list of strings"},
      {"[cpu]\ndispatch = [\"hw\"]\n", 2,
       "key 'cpu.dispatch': expected a "
       "string, got array"},
      {"[thresholds]\nwindow = 1979-05-27\n", 2, "thresholds.window"},
      // Values the option refuses.
      {"[cpu]\nworkers = 0\n", 2, "key 'cpu.workers': bad value '0'"},
      {"[cpu]\nworkers = 65\n", 2, "expected 1..64"},
      {"[cpu]\ndispatch = \"fast\"\n", 2, "expected hw, sw or auto"},
      {"[cpu]\nlcores = \"6-2\"\n", 2, "key 'cpu.lcores'"},
      {"[cpu]\nlcores = \"1,1\"\n", 2, "ascending"},
      {"[eal]\nmemory = 12\n", 2, "key 'eal.memory'"},
      {"[eal]\nmbufs = 100\n", 2, "key 'eal.mbufs': bad value '100'"},
      {"[eal]\nfile_prefix = \"../x\"\n", 2, "key 'eal.file_prefix'"},
      {"[thresholds]\nquery_timeout = -1\n", 2,
       "key 'thresholds.query_timeout': bad value '-1'"},
      {"[thresholds]\nmin_failure_ratio = 1.5\n", 2, "(0, 1]"},
      {"[thresholds]\nmin_failures = 0\n", 2, "thresholds.min_failures"},
      {"[thresholds]\nrecovery = 0\n", 2, "thresholds.recovery"},
      {"[thresholds]\nquiet_seconds = 0\n", 2, "thresholds.quiet_seconds"},
      {"[thresholds]\nquiet_seconds = 0.5\n", 2,
       "key 'thresholds.quiet_seconds': bad value '0.5': expected seconds >= "
       "1"},
      {"[thresholds]\nwindow = nan\n", 2, "thresholds.window"},
      {"[input]\nduration = 0\n", 2, "input.duration"},
      {"[telemetry]\ngroup = \"a b\"\n", 2, "key 'telemetry.group'"},
      {"[telemetry]\nenabled = 1\n", 2, "telemetry.enabled"},
      // Ports.
      {"[[port]]\nprofile = \"ixgbe\"\n", 1, "key 'port.device': missing"},
      {"[[port]]\ndevice = \"0000:3b:00.0\"\nspeed = 10\n", 3,
       "key 'port.speed': unknown key (known: device, profile)"},
      {"[[port]]\ndevice = 5\n", 2, "key 'port.device': expected a string"},
      {"[[port]]\ndevice = \"0000:3b:00.0\"\nprofile = \"../x\"\n", 3,
       "key 'port'"},
      {"[[port]]\ndevice = \"not a device\"\n", 2, "expected a PCI address"},
      {"[port]\ndevice = \"0000:3b:00.0\"\n", 1, "expected [[port]] tables"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.toml);
    const std::string path = TempFile("bad.toml", c.toml);
    absl::StatusOr<Options> o = Parse({"--config", path, "--pcap", "a.pcap"});
    ASSERT_FALSE(o.ok());
    const std::string m(o.status().message());
    const std::string where = absl::StrCat(path, ":", c.line, ":");
    EXPECT_EQ(m.rfind(where, 0), 0u) << m;
    EXPECT_NE(m.find(c.must_contain), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(Config, MissingFile) {
  absl::StatusOr<Options> o =
      Parse({"--config", "/nonexistent/edgecap.toml", "--pcap", "a.pcap"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("/nonexistent/edgecap.toml"),
            std::string::npos);
}

TEST(Config, CommandLineOverridesFile) {
  const std::string path =
      TempFile("override.toml",
               "[[port]]\ndevice = \"0000:3b:00.0\"\n[cpu]\nworkers = 4\n"
               "lcores = \"2-6\"\n[eal]\nargs = [\"--huge-dir=/a\"]\n"
               "[output]\nprogress = true\n[thresholds]\nwindow = 60\n");
  absl::StatusOr<Options> o =
      Parse({"--config", path, "--pcap", "seed.pcap", "--workers", "2",
             "--no-progress", "--eal-arg", "--huge-dir=/b"});
  ASSERT_TRUE(o.ok()) << o.status();
  // An input on the command line replaces the file's, whatever its kind.
  EXPECT_TRUE(o->ports.empty());
  EXPECT_EQ(o->pcap_files, std::vector<std::string>{"seed.pcap"});
  EXPECT_EQ(o->workers, 2);
  EXPECT_EQ(o->progress, 0);
  EXPECT_EQ(o->extra_eal_args, std::vector<std::string>{"--huge-dir=/b"});
  EXPECT_EQ(o->cpus, (std::vector<int>{2, 3, 4, 5, 6}));  // kept
  EXPECT_EQ(o->thresholds.window_seconds, 60);
  // Without a command-line input, the file's ports stand.
  o = Parse({"--config", path});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->ports.size(), 1u);
  EXPECT_EQ(o->ports[0].device, "0000:3b:00.0");
  EXPECT_FALSE(o->shortcut);
}

TEST(Config, InputsExcludeEachOther) {
  const std::string path = TempFile(
      "two_inputs.toml",
      "[[port]]\ndevice = \"0000:3b:00.0\"\n[input]\niface = \"eth1\"\n");
  absl::StatusOr<Options> o = Parse({"--config", path});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("exclude each other"), std::string::npos);
  o = Parse({"-l", "0-1", "--", "--port", "net_null0"});
  EXPECT_FALSE(o.ok());
  o = Parse({"-l", "0-1", "--", "--lcores", "0-1"});
  EXPECT_FALSE(o.ok());
}

TEST(Config, CheckConfigOption) {
  const std::string path =
      TempFile("check.toml", "[input]\npcap = \"x.pcap\"\n");
  absl::StatusOr<Options> o = Parse({"--check-config", path});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->check_config);
  EXPECT_EQ(o->config_path, path);
  EXPECT_EQ(o->pcap_files, std::vector<std::string>{"x.pcap"});
}

TEST(Config, CheckConfigFindsWhatTheParserCannot) {
  const std::string src = std::getenv("EDGECAP_SOURCE_ROOT")
                              ? std::getenv("EDGECAP_SOURCE_ROOT")
                              : ".";
  const std::string profiles = src + "/drivers-config";
  // A profile that does not exist.
  std::string path = TempFile(
      "noprofile.toml", absl::StrCat("[input]\nprofiles = \"", profiles,
                                     "\"\n[[port]]\ndevice = \"0000:3b:00.0\"\n"
                                     "profile = \"e1000\"\n"));
  absl::StatusOr<Options> o = Parse({"--check-config", path});
  ASSERT_TRUE(o.ok()) << o.status();
  absl::StatusOr<std::string> r = CheckConfig(*o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no profile 'e1000'"), std::string::npos)
      << r.status();
  // An unreadable capture; a missing rules file; an unknown group.
  for (const auto& [toml, expect] :
       std::vector<std::pair<std::string, std::string>>{
           {"[input]\npcap = \"/nonexistent/x.pcap\"\n", "input.pcap"},
           {"[input]\niface = \"lo\"\n[rules]\nfile = \"/nonexistent/r\"\n",
            "rules.file"},
           {"[input]\niface = \"lo\"\n[telemetry]\ngroup = \"nosuchgrp9\"\n",
            "telemetry.group"},
           {"[input]\niface = \"lo\"\nprofiles = \"/nonexistent\"\n",
            "drivers-config directory"}}) {
    path = TempFile("check2.toml", toml.find("profiles") == std::string::npos
                                       ? absl::StrCat(toml, "")
                                       : toml);
    o = Parse({"--check-config", path, "--profiles",
               toml.find("profiles") == std::string::npos ? profiles
                                                          : "/nonexistent"});
    ASSERT_TRUE(o.ok()) << o.status();
    r = CheckConfig(*o);
    ASSERT_FALSE(r.ok()) << toml;
    EXPECT_NE(r.status().message().find(expect), std::string::npos)
        << r.status();
  }
  // A good one: the summary names the effective settings.
  path = TempFile("good.toml",
                  "[[port]]\ndevice = \"3b:00.0\"\nprofile = \"i40e\"\n"
                  "[cpu]\nworkers = 2\nlcores = \"0-2\"\n");
  o = Parse({"--check-config", path, "--profiles", profiles});
  ASSERT_TRUE(o.ok()) << o.status();
  r = CheckConfig(*o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->find("port: 3b:00.0 (profile i40e)"), std::string::npos) << *r;
  EXPECT_NE(r->find("workers: 2"), std::string::npos) << *r;
  EXPECT_EQ(ProfileFor(*o, "0000:3b:00.0"), "i40e");
  EXPECT_EQ(ProfileFor(*o, "0000:3b:00.1"), "");
}

TEST(Config, ExampleConfigIsValid) {
  const char* src = std::getenv("EDGECAP_SOURCE_ROOT");
  ASSERT_NE(src, nullptr);
  const std::string example = std::string(src) + "/config/edgecap.example.toml";
  absl::StatusOr<Options> o = Parse({"--check-config", example, "--profiles",
                                     std::string(src) + "/drivers-config"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->ports.empty());
  absl::StatusOr<std::string> r = CheckConfig(*o);
  ASSERT_TRUE(r.ok()) << r.status();
  // Every section of the file is in the example, commented or not.
  std::ifstream in(example);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  for (const ConfigKey& k : ConfigKeys()) {
    const std::string key = k.path.substr(k.path.find('.') + 1);
    EXPECT_NE(text.find(key + " ="), std::string::npos)
        << k.path << " is not documented in the example";
  }
}

TEST(EalArgs, Ports) {
  PortEalPlan plan;
  plan.argv0 = "edgecap";
  plan.lcores = 3;
  plan.cpus = {2, 3, 4};
  plan.devices = {"0000:3b:00.0", "net_null0"};
  std::vector<std::string> args = PortEalArgs(plan);
  const std::string joined = absl::StrJoin(args, " ");
  EXPECT_NE(joined.find("--file-prefix=edgecap"), std::string::npos);
  EXPECT_NE(joined.find("--lcores=0@2,1@3,2@4"), std::string::npos);
  EXPECT_NE(joined.find("-a 0000:3b:00.0"), std::string::npos);
  EXPECT_NE(joined.find("--vdev net_null0"), std::string::npos);
  EXPECT_EQ(joined.find("--no-pci"), std::string::npos);
  EXPECT_EQ(joined.find("--no-huge"), std::string::npos);
  plan.devices = {"net_null0"};
  plan.memory_mb = 512;
  args = PortEalArgs(plan);
  const std::string vdev_only = absl::StrJoin(args, " ");
  EXPECT_NE(vdev_only.find("--no-pci"), std::string::npos);
  EXPECT_NE(vdev_only.find("-m 512"), std::string::npos);
  EXPECT_TRUE(IsPciAddress("3b:00.0"));
  EXPECT_FALSE(IsPciAddress("net_pcap0,rx_pcap=a.pcap"));
}

}  // namespace
}  // namespace edgecap::app

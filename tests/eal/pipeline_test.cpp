// The pipeline on real EAL and net_pcap, with the counting engine: every
// packet of a capture reaches exactly one worker with its pcap time, in time
// order, on the worker that owns its flow (ICMP errors on the owner of the
// quoted flow), for 1-3 workers with software dispatch and with hardware
// dispatch fed by per-queue files split by symmetric Toeplitz.
//
// Captures come from the command line (edgecap-gen scenarios); the expected
// digest is computed here from the same files read through libpcap.
#include "lib/pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/capture/pcap_file.h"
#include "lib/flow/toeplitz.h"
#include "lib/pipeline/port.h"
#include "lib/pipeline/profile.h"
#include "lib/pipeline/steering.h"
#include "tests/eal/counting_engine.h"

namespace edgecap::pipeline {
namespace {

std::vector<std::string> g_captures;
std::string g_profiles;
rte_mempool* g_pool = nullptr;
int g_vdev = 0;

struct Expected {
  uint64_t packets = 0, digest = 0, icmp_errors = 0;
  parse::LinkType link = parse::LinkType::kEthernet;
};

// The counting engine's digest over what libpcap reads, with the time cut to
// microseconds as net_pcap delivers it.
Expected Read(const std::string& path) {
  Expected e;
  absl::StatusOr<capture::PcapFile> f = capture::PcapFile::Open(path);
  EXPECT_TRUE(f.ok()) << f.status();
  if (!f.ok()) return e;
  e.link = f->link_type();
  capture::Record r;
  CountingEngine engine(0, 1);
  parse::Packet p;
  while (f->Next(&r)) {
    parse::DecodeFrame(e.link, r.bytes, &p);
    engine.OnPacket(r.timestamp_ns / 1000 * 1000, p, r.bytes);
  }
  e.packets = engine.totals().packets;
  e.digest = engine.totals().digest;
  e.icmp_errors = engine.totals().icmp_errors;
  return e;
}

// Splits `path` into `n` files by pipeline::OwnerOf, as a NIC's RSS would.
std::vector<std::string> Split(const std::string& path, uint16_t n) {
  std::vector<std::string> out;
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* in = pcap_open_offline(path.c_str(), errbuf);
  EXPECT_NE(in, nullptr) << errbuf;
  if (in == nullptr) return out;
  std::vector<pcap_dumper_t*> dumpers;
  for (uint16_t q = 0; q < n; ++q) {
    out.push_back(absl::StrCat(::testing::TempDir(), "/eal_split_", getpid(),
                               "_", q, ".pcap"));
    dumpers.push_back(pcap_dump_open(in, out.back().c_str()));
  }
  pcap_pkthdr* h;
  const u_char* data;
  parse::Packet p;
  const auto link = static_cast<parse::LinkType>(pcap_datalink(in));
  while (pcap_next_ex(in, &h, &data) == 1) {
    parse::DecodeFrame(link, {data, h->caplen}, &p);
    // A NIC hashes the outer header: ICMP errors land by their own
    // addresses, and the pipeline must re-steer them.
    parse::Packet outer = p;
    outer.is_icmp_error = false;
    pcap_dump(reinterpret_cast<u_char*>(dumpers[OwnerOf(outer, n)]), h, data);
  }
  for (pcap_dumper_t* d : dumpers) pcap_dump_close(d);
  pcap_close(in);
  return out;
}

CountingEngine::Totals RunPipeline(const std::vector<std::string>& files,
                                   uint16_t workers, bool hardware,
                                   parse::LinkType link) {
  std::string devargs = absl::StrCat("net_pcap", 10 + g_vdev++);
  const std::string name = devargs;
  std::vector<uint64_t> expected;
  for (const std::string& f : files) {
    absl::StrAppend(&devargs, ",rx_pcap=", f);
    expected.push_back(Read(f).packets);
  }
  EXPECT_EQ(rte_dev_probe(devargs.c_str()), 0);
  uint16_t port = 0;
  EXPECT_EQ(rte_eth_dev_get_port_by_name(name.c_str(), &port), 0);
  absl::StatusOr<PortProfile> profile = FindProfile(g_profiles, "net_pcap");
  EXPECT_TRUE(profile.ok()) << profile.status();
  const uint16_t queues = hardware ? workers : 1;
  absl::Status s = StartPort(port, queues, *profile, g_pool);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<PacketClock> clock =
      PacketClock::Create(TimeSource::kDynfieldMicros);
  EXPECT_TRUE(clock.ok());

  PipelineConfig config;
  config.ports = {port};
  config.workers = workers;
  config.hardware_dispatch = hardware;
  config.link = link;
  config.offline = true;
  config.expected_records = {expected};
  config.ring_size = 256;  // small: exercises full rings
  config.yield_when_idle = true;
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (uint16_t w = 0; w < workers; ++w) {
    config.worker_lcores.push_back(lcore);
    lcore = rte_get_next_lcore(lcore, 1, 0);
  }
  config.dispatcher_lcore = lcore;
  std::vector<CountingEngine> engines;
  std::vector<WorkerEngine*> ptrs;
  engines.reserve(workers);
  for (uint16_t w = 0; w < workers; ++w) {
    engines.emplace_back(w, workers);
    ptrs.push_back(&engines.back());
  }
  struct : StatsEngine {
    void Poll() override {}
    void Finish(int64_t) override {}
  } stats;
  std::atomic<bool> stop{false};
  Pipeline pipeline(config, g_pool, *clock, ptrs, &stats, &stop);
  EXPECT_TRUE(pipeline.Init().ok());
  EXPECT_TRUE(pipeline.Run(nullptr).ok());
  EXPECT_TRUE(pipeline.short_reads().empty());
  const PortDrops drops = ReadPortDrops(port);
  EXPECT_EQ(drops.rx_nombuf, 0u);
  StopPort(port);
  return CountingEngine::Sum(engines);
}

TEST(Pipeline, EveryPacketOnceInOrderOnItsOwner) {
  ASSERT_FALSE(g_captures.empty()) << "no captures given";
  for (const std::string& capture : g_captures) {
    const Expected want = Read(capture);
    ASSERT_GT(want.packets, 0u) << capture;
    for (uint16_t workers = 1; workers <= 3; ++workers) {
      for (bool hardware : {false, true}) {
        SCOPED_TRACE(absl::StrCat(capture, " workers=", workers,
                                  hardware ? " hw" : " sw"));
        std::vector<std::string> files = {capture};
        if (hardware && workers > 1) files = Split(capture, workers);
        const CountingEngine::Totals got =
            RunPipeline(files, workers, hardware, want.link);
        EXPECT_EQ(got.packets, want.packets);
        EXPECT_EQ(got.digest, want.digest);  // also checks µs packet time
        EXPECT_EQ(got.icmp_errors, want.icmp_errors);
        EXPECT_EQ(got.out_of_order, 0u);
        EXPECT_EQ(got.below_watermark, 0u);
        EXPECT_EQ(got.misplaced_icmp, 0u);
        EXPECT_EQ(got.finishes, workers);
        if (hardware && workers > 1) {
          for (const std::string& f : files) unlink(f.c_str());
        }
      }
    }
  }
}

// The pipeline's steering (DPDK's rte_softrss, as the NIC computes it) and
// lib/flow's software Toeplitz must agree on every packet.
TEST(Steering, AgreesWithFlowLibrary) {
  for (const std::string& capture : g_captures) {
    absl::StatusOr<capture::PcapFile> f = capture::PcapFile::Open(capture);
    ASSERT_TRUE(f.ok());
    capture::Record r;
    parse::Packet p;
    uint64_t n = 0;
    while (f->Next(&r)) {
      parse::DecodeFrame(f->link_type(), r.bytes, &p);
      ASSERT_EQ(FlowHash(p), flow::FlowHash(p)) << capture << " record " << n;
      ++n;
    }
  }
}

}  // namespace
}  // namespace edgecap::pipeline

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--profiles=", 0) == 0) {
      edgecap::pipeline::g_profiles = a.substr(11);
    } else {
      edgecap::pipeline::g_captures.push_back(a);
    }
  }
  const std::string prefix =
      absl::StrCat("--file-prefix=edgecap-eal-test-", getpid());
  std::vector<std::string> eal = {"pipeline_test",
                                  "--no-huge",
                                  "-m",
                                  "512",
                                  "--no-pci",
                                  prefix,
                                  "--lcores=(0-4)@(0,1)",
                                  "--log-level=*:warning"};
  std::vector<char*> eal_argv;
  for (std::string& s : eal) eal_argv.push_back(s.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  edgecap::pipeline::g_pool = rte_pktmbuf_pool_create(
      "eal_test", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
      static_cast<int>(rte_socket_id()));
  if (edgecap::pipeline::g_pool == nullptr) return 1;
  const int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}

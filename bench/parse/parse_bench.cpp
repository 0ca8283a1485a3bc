// ns per packet for the decoders on the three packet kinds edgecap's workers
// see most: a DNS query (frame + question, qname out), a response with
// answers (every record walked), and an ICMP error quoting a query.
//
//   ninja -C build bench/parse/parse_bench
//   build/bench/parse/parse_bench --benchmark_repetitions=10
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "lib/parse/dns.h"
#include "lib/parse/packet.h"
#include "lib/parse/test_frames.h"

namespace edgecap::parse {
namespace {

using namespace testing;  // NOLINT: the builders

const V4 kClient = {192, 0, 2, 15};
const V4 kServer = {203, 0, 113, 2};

Wire QueryFrame() {
  return Eth(0x0800,
             Ipv4(kClient, kServer, 17,
                  Udp(52444, 53, DnsQuery(35084, "yummyrecipesforme.com", 1))));
}

Wire ResponseFrame() {
  Wire dns = DnsHeaderBytes(35084, 0x8180, 1, 3, 0, 1);
  Append(dns, Name("www.yummyrecipesforme.com"));
  Put16(dns, 1);
  Put16(dns, 1);
  // CNAME then two A records, owners compressed, then an OPT record.
  Append(dns, Wire{0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 44, 0, 2, 0xc0, 16});
  for (uint8_t last : {66, 104}) {
    Append(dns, Wire{0xc0, 16, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, last});
  }
  Append(dns, Wire{0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0});
  return Eth(0x0800, Ipv4(kServer, kClient, 17, Udp(53, 52444, dns)));
}

Wire IcmpErrorFrame() {
  const Wire query =
      Ipv4(kClient, kServer, 17,
           Udp(52444, 53, DnsQuery(35084, "yummyrecipesforme.com", 1)));
  return Eth(0x0800, Ipv4(kServer, kClient, 1, Icmp(3, 3, query)));
}

void BM_DnsQuery(benchmark::State& state) {
  const Wire frame = QueryFrame();
  Packet p;
  DnsMessage m;
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    Anomaly a = DecodeFrame(LinkType::kEthernet, Bytes(frame), &p);
    if (a == Anomaly::kNone && p.transport == Transport::kUdp) {
      a = DecodeDns(p.payload, DnsDepth::kQuestion, &m);
    }
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(m.qname_length);
    benchmark::ClobberMemory();
  }
  if (m.qname() != "yummyrecipesforme.com") state.SkipWithError("bad decode");
}
BENCHMARK(BM_DnsQuery);

void BM_DnsResponseAllRecords(benchmark::State& state) {
  const Wire frame = ResponseFrame();
  Packet p;
  DnsMessage m;
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    Anomaly a = DecodeFrame(LinkType::kEthernet, Bytes(frame), &p);
    if (a == Anomaly::kNone && p.transport == Transport::kUdp) {
      a = DecodeDns(p.payload, DnsDepth::kAll, &m);
    }
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(m.address_count);
    benchmark::ClobberMemory();
  }
  if (m.address_count != 2 || !m.has_edns) state.SkipWithError("bad decode");
}
BENCHMARK(BM_DnsResponseAllRecords);

void BM_IcmpErrorQuotingQuery(benchmark::State& state) {
  const Wire frame = IcmpErrorFrame();
  Packet p;
  DnsMessage m;
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    Anomaly a = DecodeFrame(LinkType::kEthernet, Bytes(frame), &p);
    if (a == Anomaly::kNone && p.is_icmp_error) {
      a = DecodeDns(p.icmp.inner_payload, DnsDepth::kQuestion, &m);
    }
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(m.qname_length);
    benchmark::ClobberMemory();
  }
  if (m.qname() != "yummyrecipesforme.com") state.SkipWithError("bad decode");
}
BENCHMARK(BM_IcmpErrorQuotingQuery);

// The frame decoder alone, for the split of the query figure.
void BM_FrameOnly(benchmark::State& state) {
  const Wire frame = QueryFrame();
  Packet p;
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    benchmark::DoNotOptimize(
        DecodeFrame(LinkType::kEthernet, Bytes(frame), &p));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_FrameOnly);

// Questions as a worker sees them: 4096 different names of 2-5 labels of
// 1-15 mixed-case bytes, so that the label walk's branches cannot learn one
// name's shape (one repeated name, above, predicts perfectly). Arg 1: the
// text too (new queries under a watch list), 0: the hash only (responses).
void BM_DnsQuestionVaried(benchmark::State& state) {
  std::vector<Wire> messages;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  auto next = [&x](uint64_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x % n;
  };
  for (int i = 0; i < 4096; ++i) {
    std::string name;
    const uint64_t labels = 2 + next(4);
    for (uint64_t l = 0; l < labels; ++l) {
      if (!name.empty()) name += '.';
      const uint64_t len = 1 + next(15);
      for (uint64_t c = 0; c < len; ++c) {
        const char ch = static_cast<char>('a' + next(26));
        name += next(8) == 0 ? static_cast<char>(ch - 'a' + 'A') : ch;
      }
    }
    messages.push_back(DnsQuery(static_cast<uint16_t>(i), name, 1));
  }
  const bool text = state.range(0) != 0;
  DnsMessage m;
  size_t i = 0;
  for (auto _ : state) {
    const Bytes b(messages[i++ & 4095]);
    const Anomaly a =
        text ? DecodeDns(b, DnsDepth::kQuestion, &m) : DecodeDnsQuestion(b, &m);
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(m.question_hash);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_DnsQuestionVaried)->Arg(0)->Arg(1);

}  // namespace
}  // namespace edgecap::parse

BENCHMARK_MAIN();

#include "apps/edgecap-gen/malformed.h"

#include <cstring>
#include <string>

#include "apps/edgecap-gen/dns_builder.h"
#include "apps/edgecap-gen/packet_builder.h"

namespace edgecap::gen {
namespace {

void Put16(uint8_t* p, uint16_t v) {
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

void FixIpv4Checksum(uint8_t* ip) {
  const size_t len = (ip[0] & 0x0f) * 4u;
  Put16(ip + 10, 0);
  Put16(ip + 10, ChecksumFold(ChecksumAdd(0, ip, len < 20 ? 20 : len)));
}

struct Ctx {
  Rng* rng;
  Ip client, server;
  uint16_t port;
  L2 up;
  uint8_t frame[kMaxFrame];
  uint8_t msg[kMaxDnsMessage];
  FrameMeta meta;
};

// A well-formed query frame to build the broken ones from.
Built Query(Ctx* c, const Ip& client, const Ip& server) {
  const std::string name = RandomLabel(c->rng, 4, 10) + ".example.net";
  const size_t n = BuildDnsQuery(c->msg, static_cast<uint16_t>(c->rng->Next()),
                                 name, kTypeA, false);
  c->meta.ip_version = client.version;
  return BuildUdp(c->frame, c->up, client, server, c->port, 53, {c->msg, n},
                  IpOptions{64, static_cast<uint16_t>(c->rng->Next())});
}

Built Udp(Ctx* c, bool from_server, std::span<const uint8_t> payload) {
  c->meta.ip_version = c->client.version;
  return from_server ? BuildUdp(c->frame, c->up.Reversed(), c->server,
                                c->client, 53, c->port, payload, IpOptions{})
                     : BuildUdp(c->frame, c->up, c->client, c->server, c->port,
                                53, payload, IpOptions{});
}

using Maker = size_t (*)(Ctx* c);

struct Kind {
  const char* name;
  Maker make;
};

constexpr Kind kKinds[] = {
    {"eth_truncated",
     [](Ctx* c) -> size_t {
       Query(c, c->client, c->server);
       c->meta.ip_version = 0;
       return 10;
     }},
    {"ipv4_header_truncated",
     [](Ctx* c) -> size_t {
       const Built b = Query(c, c->client, c->server);
       return b.l3_offset + 12;
     }},
    {"ipv4_bad_ihl",
     [](Ctx* c) -> size_t {
       const Built b = Query(c, c->client, c->server);
       c->frame[b.l3_offset] = 0x43;
       return b.len;
     }},
    {"ipv4_total_length_long",
     [](Ctx* c) -> size_t {
       const Built b = Query(c, c->client, c->server);
       Put16(c->frame + b.l3_offset + 2, 1400);
       FixIpv4Checksum(c->frame + b.l3_offset);
       c->meta.dns = 0;  // tshark still decodes the DNS header
       return b.len;
     }},
    {"udp_header_truncated",
     [](Ctx* c) -> size_t {
       const Built b = Query(c, c->client, c->server);
       Put16(c->frame + b.l3_offset + 2, 24);
       FixIpv4Checksum(c->frame + b.l3_offset);
       return b.l3_offset + 24;
     }},
    {"udp_length_bogus",
     [](Ctx* c) -> size_t {
       const Built b = Query(c, c->client, c->server);
       Put16(c->frame + b.l3_offset + 24, 300);
       c->meta.dns = 0;  // tshark still decodes the DNS header
       return b.len;
     }},
    {"dns_header_truncated",
     [](Ctx* c) -> size_t {
       BuildDnsQuery(c->msg, static_cast<uint16_t>(c->rng->Next()),
                     "example.net", kTypeA, false);
       c->meta.dns = 0;
       return Udp(c, false, {c->msg, 7}).len;
     }},
    {"dns_question_truncated",
     [](Ctx* c) -> size_t {
       BuildDnsQuery(c->msg, static_cast<uint16_t>(c->rng->Next()),
                     "averyverylonglabel.example.net", kTypeA, false);
       c->meta.dns = 0;
       return Udp(c, false, {c->msg, 12 + 9}).len;
     }},
    {"dns_label_too_long",
     [](Ctx* c) -> size_t {
       const size_t n =
           BuildDnsQuery(c->msg, static_cast<uint16_t>(c->rng->Next()),
                         "abcdefgh.example.net", kTypeA, false);
       c->msg[12] = 0x50;  // label type 01: reserved, and past the end
       c->meta.dns = 0;
       return Udp(c, false, {c->msg, n}).len;
     }},
    {"dns_compression_loop",
     [](Ctx* c) -> size_t {
       // Response whose question name is a pointer to itself.
       static constexpr uint8_t kMsg[] = {
           0,    0,    0x81, 0x80, 0, 1, 0,    1,    0, 0, 0, 0,
           0xc0, 0x0c, 0,    1,    0, 1, 0xc0, 0x0c, 0, 1, 0, 1,
           0,    0,    0x0e, 0x10, 0, 4, 198,  18,   0, 1};
       std::memcpy(c->msg, kMsg, sizeof(kMsg));
       Put16(c->msg, static_cast<uint16_t>(c->rng->Next()));
       c->meta.dns = 1;
       return Udp(c, true, {c->msg, sizeof(kMsg)}).len;
     }},
    {"dns_bogus_counts",
     [](Ctx* c) -> size_t {
       const size_t n = BuildDnsResponse(
           c->msg, static_cast<uint16_t>(c->rng->Next()), "bogus.example.net",
           kTypeA, kRcodeNxDomain, false, 0);
       Put16(c->msg + 6, 40);  // ANCOUNT 40, no answer present
       c->meta.dns = 1;
       c->meta.rcode = kRcodeNxDomain;
       return Udp(c, true, {c->msg, n}).len;
     }},
    {"icmp_quote_garbage",
     [](Ctx* c) -> size_t {
       uint8_t garbage[28];
       for (uint8_t& b : garbage) b = static_cast<uint8_t>(c->rng->Next());
       garbage[0] = 0x00;  // IP version 0
       c->meta.ip_version = 4;
       c->meta.icmp4_code = 3;
       return BuildUnreachable(c->frame, c->up.Reversed(),
                               Ip::V4(192, 0, 2, 200), c->client, 3,
                               {garbage, sizeof(garbage)}, IpOptions{})
           .len;
     }},
    {"icmp_quote_truncated",
     [](Ctx* c) -> size_t {
       const Built q = Query(c, c->client, Ip::V4(192, 0, 2, 201));
       uint8_t quote[12];
       std::memcpy(quote, c->frame + q.l3_offset, sizeof(quote));
       c->meta.icmp4_code = 3;
       return BuildUnreachable(c->frame, c->up.Reversed(),
                               Ip::V4(192, 0, 2, 201), c->client, 3,
                               {quote, sizeof(quote)}, IpOptions{})
           .len;
     }},
    {"ipv6_payload_length_long",
     [](Ctx* c) -> size_t {
       const Built b = Query(c, Ip::V6(0xc, 0xbad), Ip::V6(0x53, 0x99));
       Put16(c->frame + b.l3_offset + 4, 1000);
       c->meta.dns = 0;  // tshark still decodes the DNS header
       return b.len;
     }},
};

}  // namespace

void InterleaveMalformed(Scene* scene, Rng* rng, const World& w,
                         const Ip& server, int64_t from, int64_t to) {
  Ctx c;
  c.rng = rng;
  c.server = server;
  for (const Kind& kind : kKinds) {
    for (int i = 0; i < kMalformedCopies; ++i) {
      c.client = w.clients[rng->Below(w.clients.size())];
      c.port = static_cast<uint16_t>(rng->Range(32768, 60999));
      c.up = scene->ClientL2(c.client);
      c.meta = FrameMeta{};
      c.meta.malformed = true;
      const size_t len = kind.make(&c);
      const int64_t t = from + rng->Range(0, (to - from) / kUs - 1) * kUs;
      scene->CountMalformed(kind.name);
      scene->Add(t, c.frame, len, c.meta);
    }
  }
}

}  // namespace edgecap::gen

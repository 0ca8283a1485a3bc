#include "lib/parse/dns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "lib/parse/test_frames.h"

namespace edgecap::parse {
namespace {

using namespace testing;  // NOLINT: the builders

Anomaly Decode(const Wire& w, DnsDepth depth, DnsMessage* m) {
  return DecodeDns(Bytes(w.data(), w.size()), depth, m);
}

// A response to `query` with the question copied and `answers` appended.
Wire Response(uint16_t rcode, uint16_t an, uint16_t ns, uint16_t ar,
              const Wire& question, const Wire& records) {
  Wire w = DnsHeaderBytes(0xbeef, static_cast<uint16_t>(0x8180 | rcode), 1, an,
                          ns, ar);
  Append(w, question);
  Append(w, records);
  return w;
}

Wire Question(std::string_view name, uint16_t type) {
  Wire w = Name(name);
  Put16(w, type);
  Put16(w, 1);
  return w;
}

// A record whose owner is a pointer to the question name at offset 12.
Wire RecordAtQname(uint16_t type, const Wire& rdata, uint16_t rclass = 1,
                   uint32_t ttl = 300) {
  Wire w = {0xc0, 0x0c};
  Put16(w, type);
  Put16(w, rclass);
  Put32(w, ttl);
  Put16(w, static_cast<uint16_t>(rdata.size()));
  Append(w, rdata);
  return w;
}

Wire Opt(uint16_t udp_size, uint8_t ext_rcode_hi, uint8_t version,
         bool dnssec_ok) {
  Wire w = {0};
  Put16(w, 41);
  Put16(w, udp_size);
  w.push_back(ext_rcode_hi);
  w.push_back(version);
  Put16(w, dnssec_ok ? 0x8000 : 0);
  Put16(w, 0);
  return w;
}

TEST(DecodeDnsTest, QueryHeaderAndQuestion) {
  const Wire q = DnsQuery(35084, "YummyRecipesForMe.com", 1);
  DnsMessage m;
  ASSERT_EQ(Decode(q, DnsDepth::kQuestion, &m), Anomaly::kNone);
  EXPECT_EQ(m.header.id, 35084);
  EXPECT_FALSE(m.header.qr());
  EXPECT_TRUE(m.header.rd());
  EXPECT_EQ(m.header.opcode(), 0);
  EXPECT_EQ(m.header.qdcount, 1);
  ASSERT_TRUE(m.has_question);
  EXPECT_EQ(m.qname(), "yummyrecipesforme.com");
  EXPECT_STREQ(m.qname_text, "yummyrecipesforme.com");
  EXPECT_EQ(m.qtype, 1);
  EXPECT_EQ(m.qclass, 1);
  EXPECT_EQ(m.question_end, q.size());
}

TEST(DecodeDnsTest, HeaderDepthStopsAtTheHeader) {
  const Wire q = DnsQuery(1, "a.b", 1);
  DnsMessage m;
  ASSERT_EQ(Decode(q, DnsDepth::kHeader, &m), Anomaly::kNone);
  EXPECT_FALSE(m.has_question);
  EXPECT_EQ(m.qname_length, 0);
}

TEST(DecodeDnsTest, RootAndEscapedNames) {
  DnsMessage m;
  ASSERT_EQ(Decode(DnsQuery(1, ".", 2), DnsDepth::kQuestion, &m),
            Anomaly::kNone);
  EXPECT_EQ(m.qname(), ".");

  // A '.' inside a label, a backslash, a space, a NUL and a high byte: dig
  // prints "a\.b.c\\d\032\000\255".
  Wire q = DnsHeaderBytes(1, 0x0100, 1, 0, 0, 0);
  const Wire labels = {3,   'A', '.', 'b',  7,   'c', '\\',
                       'D', ' ', 0,   0xff, 'Z', 0};
  Append(q, labels);
  Put16(q, 1);
  Put16(q, 1);
  ASSERT_EQ(Decode(q, DnsDepth::kQuestion, &m), Anomaly::kNone);
  EXPECT_EQ(m.qname(), "a\\.b.c\\\\d\\032\\000\\255z");
}

TEST(DecodeDnsTest, SecondQuestionMayBeCompressed) {
  Wire w = DnsHeaderBytes(1, 0x0100, 2, 0, 0, 0);
  Append(w, Question("example.org", 1));
  Append(w, Wire{3, 'w', 'w', 'w', 0xc0, 12});
  Put16(w, 28);
  Put16(w, 1);
  DnsMessage m;
  ASSERT_EQ(Decode(w, DnsDepth::kAll, &m), Anomaly::kNone);
  EXPECT_EQ(m.qname(), "example.org");
}

Wire QueryWithName(const Wire& name_and_tail) {
  Wire w = DnsHeaderBytes(1, 0x0100, 1, 0, 0, 0);
  Append(w, name_and_tail);
  return w;
}

TEST(DecodeDnsTest, BackwardPointerIsFollowed) {
  // nscount 0x0161 and arcount 0 spell the name "a" at offset 8; the
  // question "yy" continues there (odd but legal: a prior occurrence).
  Wire w = DnsHeaderBytes(1, 0x0100, 1, 0, 0x0161, 0x0000);
  Append(w, Wire{2, 'y', 'y', 0xc0, 8, 0, 1, 0, 1});
  DnsMessage m;
  ASSERT_EQ(Decode(w, DnsDepth::kQuestion, &m), Anomaly::kNone);
  EXPECT_EQ(m.qname(), "yy.a");
  EXPECT_EQ(m.question_end, 12 + 5 + 4);  // past the pointer, not its target
  EXPECT_EQ(m.qtype, 1);
}

TEST(DecodeDnsTest, ForwardAndSelfPointersAreRefused) {
  DnsMessage m;
  EXPECT_EQ(
      Decode(QueryWithName({0xc0, 12, 0, 1, 0, 1}), DnsDepth::kQuestion, &m),
      Anomaly::kDnsForwardPointer);
  EXPECT_EQ(Decode(QueryWithName({0xc0, 14, 1, 'a', 0, 0, 1, 0, 1}),
                   DnsDepth::kQuestion, &m),
            Anomaly::kDnsForwardPointer);
}

TEST(DecodeDnsTest, CompressionLoopEndsAtTheHopLimit) {
  // "a" then a pointer back to "a": each pointer is backwards, the name is
  // endless.
  DnsMessage m;
  EXPECT_EQ(Decode(QueryWithName({1, 'a', 0xc0, 12, 0, 1, 0, 1}),
                   DnsDepth::kQuestion, &m),
            Anomaly::kDnsTooManyPointers);
  // With long labels the same loop hits the 255-octet limit first.
  Wire big = {63};
  big.insert(big.end(), 63, 'x');
  Append(big, Wire{0xc0, 12, 0, 1, 0, 1});
  EXPECT_EQ(Decode(QueryWithName(big), DnsDepth::kQuestion, &m),
            Anomaly::kDnsNameTooLong);
}

TEST(DecodeDnsTest, LabelTypesAndLengths) {
  DnsMessage m;
  Wire l64 = {64};
  l64.insert(l64.end(), 64, 'x');
  Append(l64, Wire{0, 0, 1, 0, 1});
  EXPECT_EQ(Decode(QueryWithName(l64), DnsDepth::kQuestion, &m),
            Anomaly::kDnsLabelTooLong);
  EXPECT_EQ(
      Decode(QueryWithName({0x80, 1, 0, 0, 1, 0, 1}), DnsDepth::kQuestion, &m),
      Anomaly::kDnsBadLabelType);

  // 255 octets exactly is allowed; one more is not.
  auto name_of = [](std::initializer_list<int> labels) {
    Wire w;
    for (int len : labels) {
      w.push_back(static_cast<uint8_t>(len));
      w.insert(w.end(), len, 'A');
    }
    Append(w, Wire{0, 0, 1, 0, 1});
    return w;
  };
  ASSERT_EQ(
      Decode(QueryWithName(name_of({63, 63, 63, 61})), DnsDepth::kQuestion, &m),
      Anomaly::kNone);
  EXPECT_EQ(m.qname_length, 63 * 3 + 61 + 3);
  EXPECT_EQ(m.qname()[0], 'a');
  EXPECT_EQ(
      Decode(QueryWithName(name_of({63, 63, 63, 62})), DnsDepth::kQuestion, &m),
      Anomaly::kDnsNameTooLong);
}

// DecodeDnsQuestion walks names of up to five labels without branching on
// their lengths and hands anything else to the general walk: on names at
// each of its limits it must say what DecodeDns says, with the same hash
// and the same end of question.
TEST(DecodeDnsQuestionTest, QuickWalkAgreesWithTheFullWalk) {
  auto labels = [](std::initializer_list<int> lengths) {
    Wire w;
    for (int len : lengths) {
      w.push_back(static_cast<uint8_t>(len));
      w.insert(w.end(), len, 'Q');
    }
    return w;
  };
  std::vector<Wire> names = {
      labels({63, 63, 63, 61}),      // 255 octets with the root: allowed
      labels({63, 63, 63, 62}),      // 256: too long
      labels({1, 2, 3, 4, 5}),       // five labels: the quick walk's last
      labels({1, 2, 3, 4, 5, 6}),    // six: the general walk's
      labels({60, 60, 60, 60, 5}),   // five, 251 octets
      labels({60, 60, 60, 60, 10}),  // five, 256 octets
      labels({}),                    // the root alone
  };
  // A label length of 0x40, 0x80 or a pointer as the fifth label.
  for (uint8_t bad : {0x40, 0x80, 0xc0}) {
    Wire w = labels({1, 1, 1, 1});
    Append(w, Wire{bad, 12});
    names.push_back(w);
  }
  std::vector<Wire> messages;
  for (const Wire& name : names) {
    Wire q = QueryWithName(name);
    q.push_back(0);         // the root
    messages.push_back(q);  // ends with the root: no type and class
    Append(q, Wire{0, 1, 0, 1});
    messages.push_back(q);
    q.resize(q.size() - 6);  // cut inside the name (or header) as well
    messages.push_back(q);
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const Wire& q = messages[i];
    DnsMessage quick, full;
    const Anomaly a = DecodeDnsQuestion(Bytes(q.data(), q.size()), &quick);
    ASSERT_EQ(a, Decode(q, DnsDepth::kQuestion, &full)) << i;
    if (a != Anomaly::kNone) continue;
    EXPECT_EQ(quick.name_hash, full.name_hash) << i;
    EXPECT_EQ(quick.question_hash, full.question_hash) << i;
    EXPECT_EQ(quick.question_end, full.question_end) << i;
  }
}

TEST(DecodeDnsTest, WorstCaseTextFitsTheBuffer) {
  // Every byte escaped as \DDD: 4 text bytes per wire byte.
  Wire w;
  for (int len : {63, 63, 63, 61}) {
    w.push_back(static_cast<uint8_t>(len));
    w.insert(w.end(), len, 0x01);
  }
  Append(w, Wire{0, 0, 1, 0, 1});
  DnsMessage m;
  ASSERT_EQ(Decode(QueryWithName(w), DnsDepth::kQuestion, &m), Anomaly::kNone);
  EXPECT_EQ(m.qname_length, 4 * (63 * 3 + 61) + 3);
  EXPECT_LE(m.qname_length, kMaxQnameText);
  EXPECT_EQ(m.qname().substr(0, 8), "\\001\\001");
}

TEST(DecodeDnsTest, LongLabelsLowercaseEightBytesAtATime) {
  // Bytes around 'A'..'Z' ('@', '[', '`', '{') must not change.
  const std::string label = "ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{az09-_MiXeD";
  Wire w = {static_cast<uint8_t>(label.size())};
  w.insert(w.end(), label.begin(), label.end());
  Append(w, Wire{0, 0, 1, 0, 1});
  DnsMessage m;
  ASSERT_EQ(Decode(QueryWithName(w), DnsDepth::kQuestion, &m), Anomaly::kNone);
  std::string want = label;
  for (char& c : want) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  EXPECT_EQ(m.qname(), want);
}

TEST(DecodeDnsTest, FailedNameLeavesNoHalfName) {
  DnsMessage m;
  ASSERT_EQ(Decode(QueryWithName({3, 'a', 'b', 'c', 5, 'd'}),
                   DnsDepth::kQuestion, &m),
            Anomaly::kDnsTruncatedQuestion);
  EXPECT_EQ(m.qname(), "");
  EXPECT_STREQ(m.qname_text, "");
  EXPECT_FALSE(m.has_question);
}

TEST(DecodeDnsTest, Truncation) {
  const Wire q = DnsQuery(1, "cut.example", 1);
  DnsMessage m;
  for (size_t n = 0; n < q.size(); ++n) {
    const Wire prefix(q.begin(), q.begin() + n);
    const Anomaly want =
        n < 12 ? Anomaly::kDnsTruncatedHeader : Anomaly::kDnsTruncatedQuestion;
    EXPECT_EQ(Decode(prefix, DnsDepth::kQuestion, &m), want) << n;
  }
  // A pointer whose second byte is missing.
  EXPECT_EQ(Decode(QueryWithName({1, 'a', 0xc0}), DnsDepth::kQuestion, &m),
            Anomaly::kDnsTruncatedQuestion);
}

TEST(DecodeDnsTest, BogusCounts) {
  DnsMessage m;
  // A standard query that asks nothing.
  EXPECT_EQ(
      Decode(DnsHeaderBytes(1, 0x0100, 0, 0, 0, 0), DnsDepth::kHeader, &m),
      Anomaly::kDnsBogusCounts);
  // A response may have no question (FORMERR, for instance).
  EXPECT_EQ(Decode(DnsHeaderBytes(1, 0x8181, 0, 0, 0, 0), DnsDepth::kAll, &m),
            Anomaly::kNone);
  // Counts that cannot fit the message.
  Wire r = Response(0, 5000, 0, 0, Question("a.b", 1), {});
  EXPECT_EQ(Decode(r, DnsDepth::kAll, &m), Anomaly::kDnsBogusCounts);
  EXPECT_TRUE(m.has_question);  // decoded before the counts were judged
  // ... but a question-depth decode of a cut message does not judge them.
  EXPECT_EQ(Decode(r, DnsDepth::kQuestion, &m), Anomaly::kNone);
}

TEST(DecodeDnsTest, ResponseRecordsEdnsAndAddresses) {
  const Wire question = Question("www.tcpdump.org", 1);
  Wire records;
  Append(records, RecordAtQname(5, {3, 'w', 'e', 'b', 0xc0, 16}));  // CNAME
  Append(records, RecordAtQname(1, {192, 139, 46, 66}));
  Append(records, RecordAtQname(28, {0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0,
                                     0, 0, 0, 0, 1}));
  Append(records, RecordAtQname(1, {1, 2, 3, 4}, /*rclass=*/3));  // CH: skip
  Append(records, RecordAtQname(2, {2, 'n', 's', 0xc0, 16}));     // NS
  Append(records, Opt(4096, 1, 0, true));
  const Wire r = Response(0, 4, 1, 1, question, records);
  DnsMessage m;
  ASSERT_EQ(Decode(r, DnsDepth::kAll, &m), Anomaly::kNone);
  EXPECT_TRUE(m.header.qr());
  EXPECT_EQ(m.header.ancount, 4);
  EXPECT_EQ(m.qname(), "www.tcpdump.org");
  ASSERT_EQ(m.address_count, 2);
  const uint8_t a[] = {192, 139, 46, 66};
  EXPECT_EQ(m.addresses[0], IpAddress::V4(a));
  EXPECT_EQ(m.addresses[1].version, 6);
  EXPECT_EQ(m.addresses[1].bytes[15], 1);
  ASSERT_TRUE(m.has_edns);
  EXPECT_EQ(m.edns_udp_size, 4096);
  EXPECT_EQ(m.edns_ext_rcode_hi, 1);
  EXPECT_EQ(m.edns_version, 0);
  EXPECT_TRUE(m.edns_do);
  EXPECT_EQ(m.full_rcode(), 16);  // BADVERS

  // The question depth leaves records alone.
  ASSERT_EQ(Decode(r, DnsDepth::kQuestion, &m), Anomaly::kNone);
  EXPECT_FALSE(m.has_edns);
  EXPECT_EQ(m.address_count, 0);
}

TEST(DecodeDnsTest, RcodesAndAddressCap) {
  Wire records;
  for (int i = 0; i < kMaxAddressesKept + 3; ++i) {
    Append(records, RecordAtQname(1, {10, 0, 0, static_cast<uint8_t>(i)}));
  }
  const Wire r = Response(kRcodeNxDomain, kMaxAddressesKept + 3, 0, 0,
                          Question("n.x", 1), records);
  DnsMessage m;
  ASSERT_EQ(Decode(r, DnsDepth::kAll, &m), Anomaly::kNone);
  EXPECT_EQ(m.header.rcode(), kRcodeNxDomain);
  EXPECT_EQ(m.full_rcode(), kRcodeNxDomain);
  EXPECT_EQ(m.address_count, kMaxAddressesKept);
  EXPECT_EQ(m.addresses[kMaxAddressesKept - 1].bytes[3], kMaxAddressesKept - 1);
}

TEST(DecodeDnsTest, RecordProblems) {
  DnsMessage m;
  Wire rd = RecordAtQname(1, {1, 2, 3, 4});
  Set16(rd, 10, 40);  // rdlength past the end
  // Add filler so that the counts still fit.
  Wire filler(30, 0);
  Wire r = Response(0, 1, 0, 0, Question("a.b", 1), rd);
  Append(r, filler);
  EXPECT_EQ(Decode(r, DnsDepth::kAll, &m), Anomaly::kDnsTruncatedRecord);

  Wire fwd = {0xc0, 0x30, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(
      Decode(Response(0, 1, 0, 0, Question("a.b", 1), fwd), DnsDepth::kAll, &m),
      Anomaly::kDnsForwardPointer);

  Wire bad_label = {0x41, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(Decode(Response(0, 1, 0, 0, Question("a.b", 1), bad_label),
                   DnsDepth::kAll, &m),
            Anomaly::kDnsLabelTooLong);
}

TEST(DecodeDnsTest, EveryPrefixOfAResponseIsSafe) {
  Wire records;
  Append(records, RecordAtQname(1, {1, 2, 3, 4}));
  Append(records, Opt(1232, 0, 0, false));
  const Wire r = Response(0, 1, 0, 1, Question("p.example", 1), records);
  DnsMessage m;
  for (size_t n = 0; n < r.size(); ++n) {
    const Wire prefix(r.begin(), r.begin() + n);
    EXPECT_NE(Decode(prefix, DnsDepth::kAll, &m), Anomaly::kNone) << n;
  }
  EXPECT_EQ(Decode(r, DnsDepth::kAll, &m), Anomaly::kNone);
}

Anomaly DecodeTcp(const Wire& w, DnsDepth depth, DnsMessage* m) {
  return DecodeDnsTcp(Bytes(w.data(), w.size()), depth, m);
}

TEST(DecodeDnsTcpTest, LengthPrefix) {
  const Wire q = DnsQuery(7, "tcp.example", 1, /*edns=*/true);
  Wire seg = {0, static_cast<uint8_t>(q.size())};
  Append(seg, q);
  DnsMessage m;
  ASSERT_EQ(DecodeTcp(seg, DnsDepth::kAll, &m), Anomaly::kNone);
  EXPECT_EQ(m.qname(), "tcp.example");
  EXPECT_TRUE(m.has_edns);
  EXPECT_EQ(m.edns_udp_size, 1232);

  // A second pipelined message after the first is not part of it.
  Wire two = seg;
  Append(two, seg);
  ASSERT_EQ(DecodeTcp(two, DnsDepth::kAll, &m), Anomaly::kNone);
  EXPECT_EQ(m.question_end, q.size() - 11);

  // The message continues in the next segment: the question is enough.
  Wire part = seg;
  part.resize(part.size() - 5);
  EXPECT_EQ(DecodeTcp(part, DnsDepth::kAll, &m), Anomaly::kNone);
  EXPECT_EQ(m.qname(), "tcp.example");
  Wire cut_question = seg;
  cut_question.resize(20);
  EXPECT_EQ(DecodeTcp(cut_question, DnsDepth::kAll, &m),
            Anomaly::kDnsTruncatedQuestion);

  EXPECT_EQ(DecodeTcp({0}, DnsDepth::kAll, &m), Anomaly::kDnsTruncatedHeader);
  Wire tiny = {0, 5, 1, 2, 3, 4, 5};
  EXPECT_EQ(DecodeTcp(tiny, DnsDepth::kAll, &m),
            Anomaly::kDnsTcpLengthMismatch);
}

// dig's text of the question name at offset 12, byte by byte (the
// decoder's word-at-a-time version must write exactly this).
std::string ReferenceText(const Wire& w) {
  std::string t;
  size_t pos = 12;
  for (;;) {
    const uint8_t len = w[pos];
    if (len == 0) break;
    if ((len & 0xc0) == 0xc0) {
      pos = static_cast<size_t>(len & 0x3f) << 8 | w[pos + 1];
      continue;
    }
    if (!t.empty()) t += '.';
    for (size_t i = 0; i < len; ++i) {
      const uint8_t c = w[pos + 1 + i];
      if (c == '.' || c == '\\') {
        t += '\\';
        t += static_cast<char>(c);
      } else if (c < 0x21 || c > 0x7e) {
        t += '\\';
        t += static_cast<char>('0' + c / 100);
        t += static_cast<char>('0' + c / 10 % 10);
        t += static_cast<char>('0' + c % 10);
      } else {
        t += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      }
    }
    pos += 1 + len;
  }
  return t.empty() ? "." : t;
}

// The lazy decoder agrees with the full one on every field and anomaly,
// and writes the same text when asked; on random mutations of real messages
// (labels, pointers, escapes, truncation).
TEST(DecodeDnsQuestionTest, SameAsFullDecodeThenSameText) {
  std::vector<Wire> seeds = {
      DnsQuery(7, "www.Example.COM", 1, /*edns=*/true),
      QueryWithName({1, 'a', 0xc0, 12, 0, 1, 0, 1}),
      QueryWithName({2, 'y', '.', 1, 0x7f, 0, 0, 28, 0, 1}),
      Response(3, 0, 0, 0, Question("x.Y.z", 16), {}),
  };
  Wire back = DnsHeaderBytes(1, 0x0100, 1, 0, 0x0161, 0x0000);
  Append(back, Wire{2, 'Y', 'y', 0xc0, 8, 0, 1, 0, 1});
  seeds.push_back(back);
  seeds.push_back(
      DnsQuery(9, "abcdefg.ABCDEFGH.abcdefghi.x.yz.Q-1_2", 1, false));
  seeds.push_back(DnsQuery(9, "0123456789abcdef0.Zz", 28, false));
  std::mt19937 rng(1);
  int decoded = 0, pointers = 0;
  for (int i = 0; i < 20000; ++i) {
    Wire w = seeds[i % seeds.size()];
    const int edits = static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = 12 + rng() % (w.size() - 12);
      switch (rng() % 4) {
        case 0:
          w[at] = static_cast<uint8_t>(rng());
          break;
        case 1:
          w[at] = static_cast<uint8_t>(rng() % 70);
          break;
        case 2:
          w[at] = static_cast<uint8_t>(0xc0);
          break;
        default:
          w.resize(at);
          break;
      }
      if (w.size() <= 12) break;
    }
    DnsMessage full, lazy;
    const Anomaly a = Decode(w, DnsDepth::kQuestion, &full);
    ASSERT_EQ(DecodeDnsQuestion(Bytes(w.data(), w.size()), &lazy), a) << i;
    ASSERT_EQ(lazy.has_question, full.has_question) << i;
    ASSERT_EQ(lazy.header.flags, full.header.flags);
    ASSERT_EQ(lazy.qtype, full.qtype);
    ASSERT_EQ(lazy.qclass, full.qclass);
    ASSERT_EQ(lazy.question_end, full.question_end);
    ASSERT_EQ(lazy.question_hash, full.question_hash);
    EXPECT_EQ(lazy.qname_pending, lazy.has_question);
    if (!full.has_question) continue;
    ++decoded;
    pointers += std::count(w.begin() + 12, w.end(), 0xc0) > 0;
    EXPECT_TRUE(lazy.qname().empty());
    MaterializeQname(&lazy);
    EXPECT_FALSE(lazy.qname_pending);
    ASSERT_EQ(lazy.qname(), full.qname()) << i;
    ASSERT_EQ(full.qname(), ReferenceText(w)) << i;
    EXPECT_EQ(lazy.qname_text[lazy.qname_length], '\0');
  }
  EXPECT_GT(decoded, 2000);
  EXPECT_GT(pointers, 200);
}

// The hash stands for the lowercase text: case (0x20 randomisation) does
// not change it; a different name, type or class does.
TEST(DecodeDnsQuestionTest, HashFollowsTheText) {
  auto hash = [](const Wire& w) {
    DnsMessage m;
    EXPECT_EQ(DecodeDnsQuestion(Bytes(w.data(), w.size()), &m), Anomaly::kNone);
    return m.question_hash;
  };
  const uint64_t h = hash(DnsQuery(1, "www.example.com", 1, false));
  EXPECT_EQ(hash(DnsQuery(2, "wWw.ExAmPle.COM", 1, true)), h);
  EXPECT_NE(hash(DnsQuery(1, "www.example.co", 1, false)), h);
  EXPECT_NE(hash(DnsQuery(1, "www.example.com", 28, false)), h);
  EXPECT_NE(hash(DnsQuery(1, "wwwexample.com", 1, false)), h);
  // "a.b" (two labels) and "a\.b" (one label holding a dot) differ, as their
  // texts do; so do bytes that only look alike once lowercased by 0x20.
  EXPECT_NE(hash(QueryWithName({1, 'a', 1, 'b', 0, 0, 1, 0, 1})),
            hash(QueryWithName({3, 'a', '.', 'b', 0, 0, 1, 0, 1})));
  EXPECT_NE(hash(QueryWithName({1, '@', 0, 0, 1, 0, 1})),
            hash(QueryWithName({1, '`', 0, 0, 1, 0, 1})));
  EXPECT_NE(hash(QueryWithName({1, 0xc1, 0, 0, 1, 0, 1})),
            hash(QueryWithName({1, 0xe1, 0, 0, 1, 0, 1})));
  // A name continued through a pointer hashes as if written out.
  Wire back = DnsHeaderBytes(1, 0x0100, 1, 0, 0x0161, 0x0000);
  Append(back, Wire{2, 'Y', 'y', 0xc0, 8, 0, 1, 0, 1});
  Wire flat = DnsHeaderBytes(1, 0x0100, 1, 0, 0x0161, 0x0000);
  Append(flat, Wire{2, 'y', 'y', 1, 'a', 0, 0, 1, 0, 1});
  EXPECT_EQ(hash(back), hash(flat));
  // Past the quick walk (six labels) and past one 64-byte block of the
  // hash (names of 101 and 253 octets): the same, case aside; a change in
  // the second block counts.
  const std::string six = "a.b.c.d.example.com";
  const std::string two_blocks =
      std::string(60, 'x') + "." + std::string(30, 'y') + ".example";
  std::string longest;
  for (int i = 0; i < 4; ++i) longest += std::string(62, 'a' + i) + ".";
  longest.pop_back();  // four labels of 62: 253 octets with the root
  for (const std::string& name : {six, two_blocks, longest}) {
    std::string upper = name;
    for (char& c : upper) c = static_cast<char>(std::toupper(c));
    const uint64_t lower = hash(DnsQuery(1, name, 1, false));
    EXPECT_EQ(hash(DnsQuery(2, upper, 1, true)), lower) << name;
    std::string changed = name;
    changed[name.size() - 2] = 'q';
    EXPECT_NE(hash(DnsQuery(1, changed, 1, false)), lower) << name;
  }
  // A 95-octet name whose last label is behind a pointer (to the "\1a\0"
  // in the header's last counts, as above) hashes as the one written out.
  const std::string stem = std::string(60, 'x') + "." + std::string(30, 'y');
  Wire pointed = DnsHeaderBytes(1, 0x0100, 1, 0, 0x0161, 0x0000);
  Append(pointed, Name(stem));
  pointed.pop_back();  // the root: the name goes on at the pointer
  Append(pointed, Wire{0xc0, 8, 0, 1, 0, 1});
  EXPECT_EQ(hash(pointed), hash(DnsQuery(1, stem + ".a", 1, false)));
}

// Equal hash exactly when equal text, over names made to be near each other:
// a small alphabet (case pairs, NUL, '.', '\\', a byte >= 0x80), 1-3 labels
// of 1-10 bytes, so that the same text comes up in many spellings and
// different texts differ by as little as a trailing NUL ("wpad" and
// "wpad\000" once hashed alike: the name length cancelled the label length).
TEST(DecodeDnsQuestionTest, NameHashEqualExactlyWhenTextEqual) {
  const std::vector<Wire> near = {
      {4, 'w', 'p', 'a', 'd', 0},
      {5, 'w', 'p', 'a', 'd', 0, 0},
      {9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0},
      {13, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0, 0, 0, 0, 0}};
  std::mt19937 rng(7);
  const uint8_t alphabet[] = {'a', 'A', 'b', 'B', 0, '.', '\\', 0xe1};
  std::vector<Wire> names = near;
  for (int i = 0; i < 20000; ++i) {
    Wire name;
    const int labels = 1 + static_cast<int>(rng() % 3);
    for (int l = 0; l < labels; ++l) {
      const int len = 1 + static_cast<int>(rng() % 10);
      name.push_back(static_cast<uint8_t>(len));
      for (int k = 0; k < len; ++k) name.push_back(alphabet[rng() % 8]);
    }
    name.push_back(0);
    names.push_back(name);
  }
  std::map<std::string, uint64_t> hash_of_text;
  std::map<uint64_t, std::string> text_of_hash;
  int spellings = 0;
  for (const Wire& name : names) {
    Wire q = QueryWithName(name);
    Append(q, Wire{0, 1, 0, 1});
    DnsMessage m;
    ASSERT_EQ(DecodeDnsQuestion(Bytes(q.data(), q.size()), &m), Anomaly::kNone);
    const uint64_t quick_hash = m.name_hash;
    MaterializeQname(&m);  // writes the text; the hash stays
    ASSERT_EQ(m.name_hash, quick_hash);
    const std::string text(m.qname());
    const auto [t, new_text] = hash_of_text.emplace(text, m.name_hash);
    if (!new_text) {
      ++spellings;
      EXPECT_EQ(t->second, m.name_hash) << text;
    }
    const auto [h, new_hash] = text_of_hash.emplace(m.name_hash, text);
    if (!new_hash) {
      EXPECT_EQ(h->second, text) << "same hash";
    }
  }
  EXPECT_GT(spellings, 500);  // the test saw equal texts spelled apart
  EXPECT_GT(hash_of_text.size(), 10000u);
}

// With keys known in advance a name can be made to collide with another of
// its length. NH multiplies the two halves of each word (plus a key each):
// with zero keys, swapping a word's halves leaves the product, and so the
// hash, as it was. name_hash keys the watch-list verdict cache, where such a
// pair would let a listed name pass as a cached unlisted one; with the
// per-process keys the halves no longer commute.
TEST(DecodeDnsQuestionTest, NameHashCannotBeSteeredIntoACollision) {
  auto name_hash = [](const Wire& name) {
    Wire q = QueryWithName(name);
    Append(q, Wire{0, 1, 0, 1});
    DnsMessage m;
    EXPECT_EQ(DecodeDnsQuestion(Bytes(q.data(), q.size()), &m), Anomaly::kNone);
    return m.name_hash;
  };
  // NH with zero keys, as the name hash would be without them.
  auto unkeyed = [](const Wire& name) {
    uint64_t sum = 0;
    for (size_t i = 0; i < name.size(); i += 8) {
      uint64_t x = 0;
      std::memcpy(&x, name.data() + i, std::min<size_t>(8, name.size() - i));
      sum += (x & 0xffffffff) * (x >> 32);
    }
    return sum;
  };
  // One 15-octet label: its second word (octets 8..15) is all label bytes.
  std::mt19937 rng(11);
  int pairs = 0;
  for (int i = 0; i < 64; ++i) {
    Wire a(17, 0);
    a[0] = 15;
    for (int k = 1; k <= 15; ++k) a[k] = static_cast<uint8_t>('a' + rng() % 26);
    Wire b = a;
    std::swap_ranges(b.begin() + 8, b.begin() + 12, b.begin() + 12);
    if (a == b) continue;
    ASSERT_EQ(unkeyed(a), unkeyed(b));
    ++pairs;
    EXPECT_NE(name_hash(a), name_hash(b)) << i;
  }
  EXPECT_GT(pairs, 50);
}

// MaterializeQname writes names of up to 64 wire octets (root included)
// with vector operations where the CPU has AVX-512 (the general writer
// otherwise): both sides of that limit, every label length, the bytes on
// either side of the printable range and of 'A'..'Z' (written as they are
// or lowercased), and bytes the text must escape, first and last in a
// short name and last in names of 63 to 65 octets.
TEST(DecodeDnsQuestionTest, MaterializedTextAroundTheVectorLimit) {
  std::vector<Wire> names;
  const std::string fill = "aZ-9_Q!~@[`{AzZa";
  for (int octets = 2; octets <= 70; ++octets) {
    for (int first = 1; first < octets - 1 && first <= kMaxLabelLength;
         ++first) {
      // A label of `first` bytes, then labels of 1..9 bytes to fill.
      Wire name = {static_cast<uint8_t>(first)};
      for (int k = 0; k < first; ++k) name.push_back(fill[k % fill.size()]);
      int left = octets - 1 - (first + 1);
      while (left >= 2) {
        const int len = std::min(left - 1, 1 + left % 9);
        name.push_back(static_cast<uint8_t>(len));
        for (int k = 0; k < len; ++k) name.push_back("Mx0"[k % 3]);
        left -= len + 1;
      }
      if (left != 0) continue;
      name.push_back(0);
      names.push_back(name);
    }
  }
  const size_t plain = names.size();
  for (uint8_t escaped : {0x00, 0x20, 0x2e, 0x5c, 0x7f, 0x80, 0xff}) {
    Wire front = {3, escaped, 'b', 'c', 2, 'd', 'e', 0};
    Wire back = {3, 'a', 'b', escaped, 2, 'd', 'e', 0};
    names.push_back(front);
    names.push_back(back);
    for (int octets : {63, 64, 65}) {  // the escaped byte last
      Wire name = {40};
      name.insert(name.end(), 40, 'k');
      const int last = octets - 1 - 41 - 1;
      name.push_back(static_cast<uint8_t>(last));
      name.insert(name.end(), last - 1, 'k');
      name.push_back(escaped);
      name.push_back(0);
      names.push_back(name);
    }
  }
  for (size_t i = 0; i < names.size(); ++i) {
    Wire q = QueryWithName(names[i]);
    Append(q, Wire{0, 1, 0, 1});
    DnsMessage full, lazy;
    ASSERT_EQ(Decode(q, DnsDepth::kQuestion, &full), Anomaly::kNone) << i;
    ASSERT_EQ(DecodeDnsQuestion(Bytes(q.data(), q.size()), &lazy),
              Anomaly::kNone);
    MaterializeQname(&lazy);
    ASSERT_EQ(lazy.qname(), full.qname()) << i;
    ASSERT_EQ(full.qname(), ReferenceText(q)) << i;
    EXPECT_EQ(lazy.qname_text[lazy.qname_length], '\0');
    if (i >= plain) {
      EXPECT_NE(lazy.qname().find('\\'), std::string::npos) << i;
    }
  }
  EXPECT_GT(plain, 500u);
}

TEST(DecodeDnsQuestionTest, TcpLazyMatchesFull) {
  const Wire q = DnsQuery(7, "Tcp.Example", 1, /*edns=*/true);
  Wire seg = {0, static_cast<uint8_t>(q.size())};
  Append(seg, q);
  seg.resize(seg.size() - 5);  // continues in the next segment
  DnsMessage full, lazy;
  ASSERT_EQ(DecodeTcp(seg, DnsDepth::kQuestion, &full), Anomaly::kNone);
  ASSERT_EQ(DecodeDnsTcpQuestion(Bytes(seg.data(), seg.size()), &lazy),
            Anomaly::kNone);
  EXPECT_EQ(lazy.question_hash, full.question_hash);
  MaterializeQname(&lazy);
  EXPECT_EQ(lazy.qname(), "tcp.example");
  EXPECT_EQ(DecodeDnsTcpQuestion(Bytes(seg.data(), 1), &lazy),
            Anomaly::kDnsTruncatedHeader);
}

}  // namespace
}  // namespace edgecap::parse

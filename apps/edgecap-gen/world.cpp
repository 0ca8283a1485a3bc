#include "apps/edgecap-gen/world.h"

#include <set>

#include "apps/edgecap-gen/dns_builder.h"

namespace edgecap::gen {
namespace {

constexpr std::string_view kSyllables[] = {
    "ka",    "lo",   "mi",    "ne",    "ra",     "to",     "su",   "vi",
    "zen",   "bar",  "cor",   "del",   "fin",    "gal",    "hub",  "jet",
    "kin",   "lux",  "mon",   "nor",   "pix",    "quo",    "rex",  "sol",
    "tek",   "uni",  "vox",   "web",   "yum",    "zap",    "shop", "news",
    "cloud", "data", "mail",  "media", "recipe", "travel", "bank", "game",
    "play",  "home", "smart", "green", "blue",   "net",    "star"};
constexpr std::string_view kTlds[] = {"com", "com", "com", "net",   "org",
                                      "de",  "io",  "fr",  "co.uk", "info"};
constexpr std::string_view kHosts[] = {"",     "",       "www.",    "www.",
                                       "api.", "cdn.",   "static.", "img.",
                                       "m.",   "login.", "assets.", "ws."};

}  // namespace

World MakeWorld(Rng* rng, bool v6, size_t clients, size_t names) {
  World w;
  std::set<Ip> seen;
  while (w.clients.size() < clients) {
    const Ip ip = v6 ? Ip::V6(0xc, static_cast<uint32_t>(rng->Range(1, 0xffff)))
                     : Ip::V4(100, 64, static_cast<uint8_t>(rng->Below(256)),
                              static_cast<uint8_t>(rng->Range(1, 254)));
    if (seen.insert(ip).second) w.clients.push_back(ip);
  }
  if (v6) {
    w.servers = {Ip::V6(0x53, 2), Ip::V6(0x53, 3), Ip::V6(0x53, 0x35),
                 Ip::V6(0x53, 0x53)};
  } else {
    w.servers = {Ip::V4(203, 0, 113, 2), Ip::V4(203, 0, 113, 3),
                 Ip::V4(198, 51, 100, 53), Ip::V4(192, 0, 2, 53)};
  }
  std::set<std::string> unique;
  while (w.names.size() < names) {
    std::string name(kHosts[rng->Below(std::size(kHosts))]);
    const int parts = 2 + static_cast<int>(rng->Below(3));
    for (int i = 0; i < parts; ++i) {
      name += kSyllables[rng->Below(std::size(kSyllables))];
    }
    name += '.';
    name += kTlds[rng->Below(std::size(kTlds))];
    if (unique.insert(name).second) w.names.push_back(std::move(name));
  }
  return w;
}

const std::string& PickName(Rng* rng, const World& w) {
  const uint64_t n = w.names.size();
  return w.names[rng->Below(n) * rng->Below(n) / n];
}

uint16_t PickQtype(Rng* rng) {
  const uint64_t r = rng->Below(100);
  if (r < 55) return kTypeA;
  if (r < 85) return kTypeAaaa;
  if (r < 89) return kTypeMx;
  if (r < 93) return kTypeTxt;
  return kTypeHttps;
}

int64_t Gap(Rng* rng, double qps) {
  return rng->Range(1, static_cast<int64_t>(2e6 / qps)) * kUs;
}

std::string RandomLabel(Rng* rng, size_t min_len, size_t max_len) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(min_len + rng->Below(max_len - min_len + 1), 'a');
  for (char& c : s) c = kChars[rng->Below(36)];
  return s;
}

TxnSpec Ordinary(Rng* rng, const World& w, const Ip& server, int64_t t,
                 double nxdomain) {
  TxnSpec s;
  s.t = t;
  s.client = w.clients[rng->Below(w.clients.size())];
  s.server = server;
  // Linux's ephemeral range: clear of ports tcpdump decodes as other protocols.
  s.client_port = static_cast<uint16_t>(rng->Range(32768, 60999));
  s.txid = static_cast<uint16_t>(rng->Next());
  s.qname = PickName(rng, w);
  s.qtype = PickQtype(rng);
  s.edns = rng->Chance(0.7);
  s.reply = Reply::kAnswer;
  s.rcode = rng->Chance(nxdomain) ? kRcodeNxDomain : kRcodeNoError;
  s.delay = rng->Range(300, 30000) * kUs;
  return s;
}

}  // namespace edgecap::gen

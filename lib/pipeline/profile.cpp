#include "lib/pipeline/profile.h"

#include <rte_ethdev.h>
#include <toml++/toml.h>

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"

namespace edgecap::pipeline {

uint64_t RssFieldByName(const std::string& name) {
  static const std::map<std::string, uint64_t> kFields = {
      {"ipv4", RTE_ETH_RSS_IPV4},
      {"frag-ipv4", RTE_ETH_RSS_FRAG_IPV4},
      {"ipv4-udp", RTE_ETH_RSS_NONFRAG_IPV4_UDP},
      {"ipv4-tcp", RTE_ETH_RSS_NONFRAG_IPV4_TCP},
      {"ipv4-other", RTE_ETH_RSS_NONFRAG_IPV4_OTHER},
      {"ipv6", RTE_ETH_RSS_IPV6},
      {"frag-ipv6", RTE_ETH_RSS_FRAG_IPV6},
      {"ipv6-udp", RTE_ETH_RSS_NONFRAG_IPV6_UDP},
      {"ipv6-tcp", RTE_ETH_RSS_NONFRAG_IPV6_TCP},
      {"ipv6-other", RTE_ETH_RSS_NONFRAG_IPV6_OTHER},
      {"ipv6-ex", RTE_ETH_RSS_IPV6_EX},
  };
  auto it = kFields.find(name);
  return it == kFields.end() ? 0 : it->second;
}

absl::StatusOr<PortProfile> LoadProfile(const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", e.source().begin.line, ": ", std::string(e.description())));
  }
  PortProfile p;
  p.name = std::filesystem::path(path).stem().string();
  auto bad = [&](const std::string& key, const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": key '", key, "': ", why));
  };
  static const char* const kKnown[] = {
      "drivers",       "max_queues",    "rx_descriptors",
      "mempool_mbufs", "mempool_cache", "rss_hash",
      "rss_key",       "packet_time",   "promiscuous"};
  for (const auto& [key, value] : t) {
    bool known = false;
    for (const char* k : kKnown) known |= key.str() == k;
    if (!known) return bad(std::string(key.str()), "unknown key");
  }
  if (const toml::array* drivers = t["drivers"].as_array()) {
    for (const auto& d : *drivers) {
      if (!d.is_string()) return bad("drivers", "expected strings");
      p.drivers.push_back(*d.value<std::string>());
    }
  }
  if (p.drivers.empty()) return bad("drivers", "missing or empty");
  auto integer = [&](const std::string& key, int64_t lo, int64_t hi,
                     auto* out) -> absl::Status {
    const toml::node_view<toml::node> node = t[std::string_view(key)];
    if (!node) return absl::OkStatus();
    std::optional<int64_t> v = node.value<int64_t>();
    if (!v || *v < lo || *v > hi) {
      return bad(key, absl::StrCat("expected an integer in ", lo, "..", hi));
    }
    *out = static_cast<std::remove_pointer_t<decltype(out)>>(*v);
    return absl::OkStatus();
  };
  if (absl::Status s = integer("max_queues", 1, 1024, &p.max_queues); !s.ok())
    return s;
  if (absl::Status s = integer("rx_descriptors", 32, 32768, &p.rx_descriptors);
      !s.ok())
    return s;
  if (absl::Status s =
          integer("mempool_mbufs", 1024, 4194303, &p.mempool_mbufs);
      !s.ok())
    return s;
  if (absl::Status s = integer("mempool_cache", 0, 512, &p.mempool_cache);
      !s.ok())
    return s;
  if (const toml::array* fields = t["rss_hash"].as_array()) {
    for (const auto& f : *fields) {
      const std::optional<std::string> name = f.value<std::string>();
      const uint64_t bit = name ? RssFieldByName(*name) : 0;
      if (bit == 0) {
        return bad("rss_hash", absl::StrCat("unknown hash field '",
                                            name.value_or("?"), "'"));
      }
      p.rss_hash_fields |= bit;
    }
  }
  if (auto key = t["rss_key"].value<std::string>()) {
    if (*key == "symmetric") {
      p.symmetric_key = true;
    } else if (*key == "driver-default") {
      p.symmetric_key = false;
    } else {
      return bad("rss_key", "expected \"symmetric\" or \"driver-default\"");
    }
  }
  if (auto time = t["packet_time"].value<std::string>()) {
    if (*time == "pcap") {
      p.packet_time = TimeSource::kDynfieldMicros;
    } else if (*time == "tsc") {
      p.packet_time = TimeSource::kTsc;
    } else {
      return bad("packet_time", "expected \"pcap\" or \"tsc\"");
    }
  }
  if (t.contains("promiscuous")) {
    std::optional<bool> v = t["promiscuous"].value<bool>();
    if (!v) return bad("promiscuous", "expected true or false");
    p.promiscuous = *v;
  }
  return p;
}

absl::StatusOr<PortProfile> FindProfile(const std::string& dir,
                                        const std::string& driver_name) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot read profile directory ",
                                            dir, ": ", ec.message()));
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    absl::StatusOr<PortProfile> p = LoadProfile(f.string());
    if (!p.ok()) return p.status();
    for (const std::string& d : p->drivers) {
      if (d == driver_name) return p;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no profile in ", dir, " for driver '", driver_name, "'"));
}

}  // namespace edgecap::pipeline

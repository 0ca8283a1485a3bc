// An immutable, compiled watch list: a DomainSet for the domain lists and
// for the regex rules that are really a literal domain (`(^|\.)D$`, `^D$`,
// `\.D$`: see regex_shape.h), plus Hyperscan block-mode databases for the
// real patterns. Built once on the control thread, then shared read-only by
// every worker; each worker scans with its own Hyperscan scratch (see
// rule_set.h, which also handles hot swapping and counting).
//
// The patterns are compiled in chunks of at most max_rules_per_chunk rules:
// Hyperscan's compile time and memory grow faster than linearly with one
// database's size (100k such rules did not compile in 10 minutes in one
// piece). Rules with a literal every match must contain (a suffix of whole
// labels before '$', a prefix after '^', else a keyword anywhere) are
// grouped by it into "gated" chunks, scanned only when the name has one of
// their gates (probed in the same walk as the domain set, in a small prefix
// table, or in a keyword set); the others go into chunks scanned for every
// name.
//
//   absl::StatusOr<std::shared_ptr<const rules::Database>> db =
//       rules::Database::CompileFiles({"watch.rules", "c2.domains"});
//   if (!db.ok()) return db.status();  // "watch.rules:7: rule 1003: ..."
//   rules::ScratchPtr scratch = *(*db)->AllocScratch();
//   rules::Verdict v;
//   (*db)->Match("x.example.com", scratch.get(), &v);
#ifndef EDGECAP_LIB_RULES_DATABASE_H_
#define EDGECAP_LIB_RULES_DATABASE_H_

#include <hs/hs.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/rules/domain_set.h"
#include "lib/rules/keyword_set.h"
#include "lib/rules/rule_file.h"
#include "lib/rules/verdict.h"

namespace edgecap::rules {

struct ScratchDeleter {
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};
using ScratchPtr = std::unique_ptr<hs_scratch_t, ScratchDeleter>;

struct CompileOptions {
  // Answer literal-domain regexes from the domain set.
  bool route_literals = true;
  // Scan a chunk only when the name has one of its rules' literals.
  bool gate = true;
  // Chunks scanned for every name: fewer is faster, but Hyperscan's
  // compile time and memory grow faster than linearly with the size.
  size_t max_rules_per_chunk = 2000;
  // Chunks behind gates are scanned only when a gate opens, and then the
  // fewer rules the cheaper.
  size_t max_rules_per_gated_chunk = 256;
};

class Database {
 public:
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Compiles `rules` (IDs must be unique: LoadRuleFiles checks that). A
  // regex Hyperscan refuses yields "FILE:LINE: rule ID: Hyperscan: MESSAGE".
  static absl::StatusOr<std::shared_ptr<const Database>> Compile(
      std::vector<Rule> rules, const CompileOptions& options = {});
  static absl::StatusOr<std::shared_ptr<const Database>> CompileFiles(
      std::span<const std::string> paths);

  // A scratch for this database (nullptr when there are no regex rules:
  // Match() accepts that). The control thread allocates them, so a worker
  // never allocates.
  absl::StatusOr<ScratchPtr> AllocScratch() const;
  absl::StatusOr<ScratchPtr> CloneScratch(const hs_scratch_t* prototype) const;

  // `qname` as lib/parse writes it (lowercase, dotted); one trailing dot and
  // upper case are tolerated. Fills `out` with every rule that fires.
  // Never allocates.
  void Match(std::string_view qname, hs_scratch_t* scratch, Verdict* out) const;

  const std::vector<Rule>& rules() const { return rules_; }
  const Rule& rule(uint32_t index) const { return rules_[index]; }
  // Index of the rule with this ID, or -1.
  int64_t IndexOf(uint32_t id) const;

  // Regex rules; of these, how many the domain set answers, and how many
  // Hyperscan scans only behind a gate (of which keyword gates).
  size_t regex_count() const { return regex_count_; }
  size_t routed_count() const { return routed_count_; }
  size_t gated_count() const { return gated_count_; }
  size_t keyword_gated_count() const { return keyword_gated_count_; }
  size_t chunk_count() const { return chunks_.size(); }
  size_t always_chunk_count() const { return always_chunks_; }
  size_t domain_count() const { return domains_.domain_count(); }
  size_t hyperscan_bytes() const { return hs_bytes_; }
  size_t domain_set_bytes() const {
    return domains_.memory_bytes() + prefixes_.memory_bytes() +
           keywords_.memory_bytes();
  }
  absl::Duration compile_time() const { return compile_time_; }

 private:
  // Prefix gates are this many bytes at most: a short key keeps the
  // probes few (one per distinct length) and is selective enough.
  static constexpr size_t kPrefixGate = 4;

  Database() = default;
  void ScanChunk(uint32_t chunk, std::string_view name, hs_scratch_t* scratch,
                 Verdict* out) const;

  std::vector<Rule> rules_;
  absl::flat_hash_map<uint32_t, uint32_t> index_of_id_;
  // Hyperscan IDs are rule indexes. Chunks [0, always_chunks_) are scanned
  // for every name, the others when a gate names them.
  std::vector<hs_database_t*> chunks_;
  size_t always_chunks_ = 0;
  // Name prefixes (lowercase, kPrefixGate bytes or fewer) → gated chunks.
  PrefixSet prefixes_;
  // Keywords (lowercase, KeywordSet::kMinLength bytes or more) → gated chunks.
  KeywordSet keywords_;
  size_t regex_count_ = 0;
  size_t routed_count_ = 0;
  size_t gated_count_ = 0;
  size_t keyword_gated_count_ = 0;
  size_t hs_bytes_ = 0;
  DomainSet domains_;
  absl::Duration compile_time_;
};

}  // namespace edgecap::rules

#endif  // EDGECAP_LIB_RULES_DATABASE_H_

#include "lib/rules/database.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/rules/regex_shape.h"

namespace edgecap::rules {
namespace {

int OnMatch(unsigned int id, unsigned long long /*from*/,
            unsigned long long /*to*/, unsigned int /*flags*/, void* ctx) {
  static_cast<Verdict*>(ctx)->Add(id);
  return 0;  // keep scanning: other rules may fire too
}

}  // namespace

Database::~Database() {
  for (hs_database_t* c : chunks_) hs_free_database(c);
}

absl::StatusOr<std::shared_ptr<const Database>> Database::Compile(
    std::vector<Rule> rules, const CompileOptions& options) {
  absl::Time start = absl::Now();
  std::shared_ptr<Database> db(new Database());
  db->rules_ = std::move(rules);
  const size_t per_chunk = std::max<size_t>(options.max_rules_per_chunk, 1);
  const size_t per_gated_chunk =
      std::max<size_t>(options.max_rules_per_gated_chunk, 1);

  struct Pattern {
    uint32_t rule;
    unsigned flags;
    // Gate: kind 0 none, 1 suffix labels, 2 name prefix, 3 keywords (one
    // of which every match contains: key is the first).
    int kind = 0;
    std::string key;
    std::vector<std::string> keywords;
  };
  std::vector<Pattern> always, gated;
  for (uint32_t i = 0; i < db->rules_.size(); ++i) {
    Rule& r = db->rules_[i];
    db->index_of_id_[r.id] = i;
    if (r.kind == RuleKind::kDomainList) {
      for (const std::string& d : r.domains) db->domains_.Add(d, i);
      // The set holds its own copy; the list would only double the memory.
      r.domains.clear();
      r.domains.shrink_to_fit();
      continue;
    }
    ++db->regex_count_;
    unsigned f = r.flags | HS_FLAG_CASELESS;
    // One report per rule is all a watch list needs, and it lets Hyperscan
    // stop following a rule once it has fired. Hyperscan refuses
    // single-match together with leftmost start of match.
    if (!(f & HS_FLAG_SOM_LEFTMOST)) f |= HS_FLAG_SINGLEMATCH;
    Pattern p;
    p.rule = i;
    p.flags = f;
    if (options.route_literals || options.gate) {
      RegexShape shape =
          AnalyzeRegex(r.expression, f, r.has_ext ? &r.ext : nullptr);
      if (options.route_literals && shape.route != Route::kNone) {
        static constexpr Scope kScope[] = {Scope::kZone, Scope::kZone,
                                           Scope::kExact, Scope::kBelow};
        db->domains_.Add(shape.domain, i, kScope[static_cast<int>(shape.route)],
                         Source::kRegex);
        ++db->routed_count_;
        continue;
      }
      if (options.gate) {
        // The most selective literal: two labels or more of suffix, then
        // a prefix of a few bytes, then a lone top-level domain.
        const bool long_suffix = shape.suffix.find('.') != std::string::npos;
        if (long_suffix || (!shape.suffix.empty() && shape.prefix.size() < 3)) {
          p.kind = 1;
          p.key = shape.suffix;
        } else if (!shape.prefix.empty()) {
          p.kind = 2;
          p.key = shape.prefix.substr(0, kPrefixGate);
        } else if (!shape.factors.empty() &&
                   std::all_of(shape.factors.begin(), shape.factors.end(),
                               [](const std::string& f) {
                                 return f.size() >= KeywordSet::kMinLength;
                               })) {
          p.kind = 3;
          p.key = shape.factors[0];
          p.keywords = std::move(shape.factors);
        }
      }
    }
    (p.kind == 0 ? always : gated).push_back(std::move(p));
  }
  db->gated_count_ = gated.size();

  // Rules sharing a gate go into the same chunk(s), so a gate hit scans
  // as few chunks as it can; keyword chunks come last.
  std::stable_sort(gated.begin(), gated.end(),
                   [](const Pattern& a, const Pattern& b) {
                     return std::tie(a.kind, a.key) < std::tie(b.kind, b.key);
                   });
  std::vector<std::vector<const Pattern*>> chunks;
  for (const Pattern& p : always) {
    if (chunks.empty() || chunks.back().size() == per_chunk)
      chunks.emplace_back();
    chunks.back().push_back(&p);
  }
  db->always_chunks_ = chunks.size();
  bool fresh = true;
  for (const Pattern& p : gated) {
    if (fresh || chunks.back().size() == per_gated_chunk) {
      chunks.emplace_back();
    }
    fresh = false;
    chunks.back().push_back(&p);
    const auto chunk = static_cast<uint32_t>(chunks.size() - 1);
    if (p.kind == 1) {
      db->domains_.Add(p.key, chunk, Scope::kGate, Source::kGate);
    } else if (p.kind == 2) {
      db->prefixes_.Add(p.key, chunk);
    } else {
      for (const std::string& k : p.keywords) db->keywords_.Add(k, chunk);
      ++db->keyword_gated_count_;
    }
  }
  db->domains_.Build();
  db->prefixes_.Build();
  db->keywords_.Build();

  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
  std::vector<const hs_expr_ext_t*> exts;
  for (const std::vector<const Pattern*>& chunk : chunks) {
    expressions.clear();
    flags.clear();
    ids.clear();
    exts.clear();
    for (const Pattern* p : chunk) {
      const Rule& r = db->rules_[p->rule];
      expressions.push_back(r.expression.c_str());
      flags.push_back(p->flags);
      ids.push_back(p->rule);
      exts.push_back(r.has_ext ? &r.ext : nullptr);
    }
    hs_database_t* hs = nullptr;
    hs_compile_error_t* error = nullptr;
    hs_error_t rc = hs_compile_ext_multi(
        expressions.data(), flags.data(), ids.data(), exts.data(),
        static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr, &hs,
        &error);
    if (rc != HS_SUCCESS) {
      std::string message = error ? error->message : "unknown error";
      int which = error ? error->expression : -1;
      hs_free_compile_error(error);
      if (which >= 0 && static_cast<size_t>(which) < chunk.size()) {
        const Rule& r = db->rules_[chunk[which]->rule];
        return absl::InvalidArgumentError(absl::StrCat(
            r.file, ":", r.line, ": rule ", r.id, ": Hyperscan: ", message));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("Hyperscan could not compile the rules: ", message));
    }
    db->chunks_.push_back(hs);
    size_t bytes = 0;
    if (hs_database_size(hs, &bytes) == HS_SUCCESS) db->hs_bytes_ += bytes;
  }
  db->compile_time_ = absl::Now() - start;
  return std::shared_ptr<const Database>(std::move(db));
}

absl::StatusOr<std::shared_ptr<const Database>> Database::CompileFiles(
    std::span<const std::string> paths) {
  absl::StatusOr<std::vector<Rule>> rules = LoadRuleFiles(paths);
  if (!rules.ok()) return rules.status();
  return Compile(*std::move(rules));
}

absl::StatusOr<ScratchPtr> Database::AllocScratch() const {
  // One scratch serves every chunk: hs_alloc_scratch grows it to fit each.
  ScratchPtr scratch;
  for (hs_database_t* c : chunks_) {
    hs_scratch_t* s = scratch.release();
    hs_error_t rc = hs_alloc_scratch(c, &s);
    scratch.reset(s);
    if (rc != HS_SUCCESS) {
      return absl::ResourceExhaustedError(
          absl::StrCat("hs_alloc_scratch failed: error ", rc));
    }
  }
  return scratch;
}

absl::StatusOr<ScratchPtr> Database::CloneScratch(
    const hs_scratch_t* prototype) const {
  if (prototype == nullptr) return ScratchPtr();
  hs_scratch_t* s = nullptr;
  if (hs_error_t rc = hs_clone_scratch(prototype, &s); rc != HS_SUCCESS) {
    return absl::ResourceExhaustedError(
        absl::StrCat("hs_clone_scratch failed: error ", rc));
  }
  return ScratchPtr(s);
}

int64_t Database::IndexOf(uint32_t id) const {
  auto it = index_of_id_.find(id);
  return it == index_of_id_.end() ? int64_t{-1} : int64_t{it->second};
}

void Database::ScanChunk(uint32_t chunk, std::string_view name,
                         hs_scratch_t* scratch, Verdict* out) const {
  hs_scan(chunks_[chunk], name.data(), static_cast<unsigned>(name.size()), 0,
          scratch, OnMatch, out);
}

void Database::Match(std::string_view qname, hs_scratch_t* scratch,
                     Verdict* out) const {
  out->Clear();
  if (!qname.empty() && qname.back() == '.') qname.remove_suffix(1);

  // Gated chunks to scan, deduplicated; past kMaxWanted, all of them.
  constexpr int kMaxWanted = 16;
  uint32_t wanted[kMaxWanted];
  int n_wanted = 0;
  bool all_gated = false;
  auto want = [&](uint32_t chunk) {
    for (int i = 0; i < n_wanted; ++i) {
      if (wanted[i] == chunk) return;
    }
    if (n_wanted == kMaxWanted) {
      all_gated = true;
    } else {
      wanted[n_wanted++] = chunk;
    }
  };
  auto visit = [&](const DomainSet::Ref& r) {
    if (r.scope == Scope::kGate) {
      want(r.value);
    } else {
      out->Add(r.value);
    }
  };
  if (!domains_.empty()) {
    if (qname.empty() || qname.back() != '\n') {
      domains_.ForEach(qname, visit);
    } else {
      // A regex's '$' also matches before a final newline (never in names
      // from lib/parse, which escapes it): what came from regexes sees the
      // name without it, domain lists see the name as it is.
      domains_.ForEach(qname, [&](const DomainSet::Ref& r) {
        if (r.source == Source::kList) visit(r);
      });
      domains_.ForEach(qname.substr(0, qname.size() - 1),
                       [&](const DomainSet::Ref& r) {
                         if (r.source != Source::kList) visit(r);
                       });
    }
  }
  prefixes_.ForEach(qname, want);
  keywords_.ForEach(qname, want);
  if (scratch == nullptr || (always_chunks_ == 0 && n_wanted == 0)) return;

  // lib/parse already lowercases; other callers may not. Checking is cheaper
  // than copying, and the copy stays on the stack.
  char lower[256];
  bool has_upper = false;
  for (char c : qname) has_upper |= (c >= 'A' && c <= 'Z');
  if (has_upper && qname.size() <= sizeof(lower)) {
    for (size_t i = 0; i < qname.size(); ++i) {
      char c = qname[i];
      lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    qname = std::string_view(lower, qname.size());
  }
  for (uint32_t c = 0; c < always_chunks_; ++c) {
    ScanChunk(c, qname, scratch, out);
  }
  if (all_gated) {
    for (uint32_t c = static_cast<uint32_t>(always_chunks_); c < chunks_.size();
         ++c) {
      ScanChunk(c, qname, scratch, out);
    }
  } else {
    for (int i = 0; i < n_wanted; ++i)
      ScanChunk(wanted[i], qname, scratch, out);
  }
}

}  // namespace edgecap::rules

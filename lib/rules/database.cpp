#include "lib/rules/database.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgecap::rules {
namespace {

int OnMatch(unsigned int id, unsigned long long /*from*/,
            unsigned long long /*to*/, unsigned int /*flags*/, void* ctx) {
  static_cast<Verdict*>(ctx)->Add(id);
  return 0;  // keep scanning: other rules may fire too
}

}  // namespace

Database::~Database() { hs_free_database(hs_db_); }

absl::StatusOr<std::shared_ptr<const Database>> Database::Compile(
    std::vector<Rule> rules) {
  absl::Time start = absl::Now();
  std::shared_ptr<Database> db(new Database());
  db->rules_ = std::move(rules);

  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
  std::vector<const hs_expr_ext_t*> exts;
  std::vector<uint32_t> rule_of_expression;
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
    unsigned f = r.flags | HS_FLAG_CASELESS;
    // One report per rule is all a watch list needs, and it lets Hyperscan
    // stop following a rule once it has fired. Hyperscan refuses
    // single-match together with leftmost start of match.
    if (!(f & HS_FLAG_SOM_LEFTMOST)) f |= HS_FLAG_SINGLEMATCH;
    expressions.push_back(r.expression.c_str());
    flags.push_back(f);
    ids.push_back(i);
    exts.push_back(r.has_ext ? &r.ext : nullptr);
    rule_of_expression.push_back(i);
  }
  db->domains_.Build();
  db->regex_count_ = expressions.size();

  if (!expressions.empty()) {
    hs_compile_error_t* error = nullptr;
    hs_error_t rc = hs_compile_ext_multi(
        expressions.data(), flags.data(), ids.data(), exts.data(),
        static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr,
        &db->hs_db_, &error);
    if (rc != HS_SUCCESS) {
      std::string message = error ? error->message : "unknown error";
      int which = error ? error->expression : -1;
      hs_free_compile_error(error);
      if (which >= 0 && static_cast<size_t>(which) < expressions.size()) {
        const Rule& r = db->rules_[rule_of_expression[which]];
        return absl::InvalidArgumentError(absl::StrCat(
            r.file, ":", r.line, ": rule ", r.id, ": Hyperscan: ", message));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("Hyperscan could not compile the rules: ", message));
    }
    if (hs_database_size(db->hs_db_, &db->hs_bytes_) != HS_SUCCESS) {
      db->hs_bytes_ = 0;
    }
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
  if (hs_db_ == nullptr) return ScratchPtr();
  hs_scratch_t* s = nullptr;
  if (hs_error_t rc = hs_alloc_scratch(hs_db_, &s); rc != HS_SUCCESS) {
    return absl::ResourceExhaustedError(
        absl::StrCat("hs_alloc_scratch failed: error ", rc));
  }
  return ScratchPtr(s);
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

void Database::Match(std::string_view qname, hs_scratch_t* scratch,
                     Verdict* out) const {
  out->Clear();
  if (!qname.empty() && qname.back() == '.') qname.remove_suffix(1);
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
  if (domains_.domain_count() > 0) domains_.Match(qname, out);
  if (hs_db_ != nullptr && scratch != nullptr) {
    hs_scan(hs_db_, qname.data(), static_cast<unsigned>(qname.size()), 0,
            scratch, OnMatch, out);
  }
}

}  // namespace edgecap::rules

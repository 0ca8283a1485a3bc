#include "lib/parse/attacked_domain.h"

#include <libpsl.h>

#include <cstring>

#include "lib/parse/dns.h"

namespace edgecap::parse {

namespace {

// The dot that ends the first label: not one written "\." inside it (the
// text escapes a dot, a backslash and unprintable bytes with a backslash;
// what follows a backslash is never a label separator).
size_t FirstLabelEnd(std::string_view qname) {
  for (size_t i = 0; i < qname.size(); ++i) {
    if (qname[i] == '\\') {
      ++i;
    } else if (qname[i] == '.') {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view ParentDomain(std::string_view qname) {
  const size_t dot = FirstLabelEnd(qname);
  if (dot == std::string_view::npos || dot + 1 >= qname.size()) return {};
  return qname.substr(dot + 1);
}

bool IsPublicSuffix(std::string_view domain) {
  // libpsl wants a C string; qname texts are at most kMaxQnameText long.
  char text[kMaxQnameText + 1];
  if (domain.size() > kMaxQnameText) return true;
  std::memcpy(text, domain.data(), domain.size());
  text[domain.size()] = '\0';
  // Built into the library: always there, and the same list on every
  // machine with this libpsl.
  static const psl_ctx_t* const list = psl_builtin();
  return list == nullptr ||
         psl_is_public_suffix2(list, text, PSL_TYPE_ICANN) != 0;
}

std::string_view AttackedDomain(std::string_view qname) {
  const std::string_view parent = ParentDomain(qname);
  if (parent.empty() || IsPublicSuffix(parent)) return {};
  return parent;
}

}  // namespace edgecap::parse

#include "lib/parse/attacked_domain.h"

#include <libpsl.h>

#include <cstring>

#include "lib/parse/dns.h"

namespace edgecap::parse {

std::string_view AttackedDomain(std::string_view qname) {
  const size_t dot = qname.find('.');
  if (dot == std::string_view::npos || dot + 1 >= qname.size()) return {};
  const std::string_view parent = qname.substr(dot + 1);
  // libpsl wants a C string; qname texts are at most kMaxQnameText long.
  char text[kMaxQnameText + 1];
  if (parent.size() > kMaxQnameText) return {};
  std::memcpy(text, parent.data(), parent.size());
  text[parent.size()] = '\0';
  // Built into the library: always there, and the same list on every
  // machine with this libpsl.
  static const psl_ctx_t* const list = psl_builtin();
  if (list == nullptr ||
      psl_is_public_suffix2(list, text, PSL_TYPE_ICANN) != 0) {
    return {};
  }
  return parent;
}

}  // namespace edgecap::parse

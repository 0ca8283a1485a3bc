// Text helpers every evidence printer uses: printf-style appends, addresses
// and tcpdump's escaping of raw bytes.
#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

#include "lib/parse/evidence_internal.h"

namespace edgecap::parse::evidence_internal {
namespace {

// tcpdump's fn_print_char: high bit as "M-", control characters as "^X".
void AppendChar(std::string* out, uint8_t c) {
  if (c & 0x80) {
    c &= 0x7f;
    *out += "M-";
  }
  if (c < 0x20 || c == 0x7f) {
    c ^= 0x40;
    *out += '^';
  }
  *out += static_cast<char>(c);
}

}  // namespace

void Appendf(std::string* out, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > 0) out->append(buf, std::min<size_t>(n, sizeof(buf) - 1));
}

std::string Ipv4Text(const uint8_t* b) {
  std::string s;
  Appendf(&s, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  return s;
}

// inet_ntop's IPv6 text (RFC 5952 style, as tcpdump's addrtostr6 prints).
std::string Ipv6Text(const uint8_t* b) {
  uint16_t w[8];
  for (int i = 0; i < 8; ++i)
    w[i] = static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (w[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  std::string out;
  // IPv4-mapped and IPv4-compatible forms keep the dotted quad at the end.
  bool v4_tail =
      best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff));
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) out += "::";
      continue;
    }
    if (v4_tail && i == 6) {
      out += Ipv4Text(b + 12);
      break;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    Appendf(&out, "%x", w[i]);
  }
  return out;
}

// Prints n bytes; false if the snap end cut them (tcpdump's nd_printn).
bool AppendBytes(std::string* out, const View& v, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!v.Has(p + i, 1)) return false;
    AppendChar(out, p[i]);
  }
  return true;
}

}  // namespace edgecap::parse::evidence_internal

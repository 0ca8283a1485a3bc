#include "lib/telemetry/reply.h"

#include <rte_telemetry.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace edgecap::telemetry {
namespace {

static_assert(kMaxDictEntries == RTE_TEL_MAX_DICT_ENTRIES);
static_assert(kMaxArrayEntries == RTE_TEL_MAX_ARRAY_ENTRIES);
static_assert(kMaxString + 1 == RTE_TEL_MAX_STRING_LEN);

bool IsScalar(const Json& v) { return !v.is_object() && !v.is_array(); }

bool FitsInt(const Json& v) {
  if (!v.is_number_integer() || v.is_number_unsigned()) return false;
  const int64_t x = v.get<int64_t>();
  return x >= std::numeric_limits<int>::min() &&
         x <= std::numeric_limits<int>::max();
}

// A scalar as text, for arrays of mixed scalars and values DPDK cannot carry.
std::string AsText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return absl::StrFormat("%.6g", v.get<double>());
  if (v.is_null()) return "null";
  return v.dump();
}

// What the client will see: long strings split into pieces.
Json Wire(const Json& v) {
  if (v.is_object()) {
    Json out = Json::object();
    for (const auto& [k, x] : v.items()) out[k] = Wire(x);
    return out;
  }
  if (v.is_array()) {
    // DPDK 22.11 arrays hold scalars or arrays of scalars, not dicts: an
    // array with any container in it becomes a dict keyed "0", "1", ...
    const bool scalars = std::all_of(v.begin(), v.end(), [](const Json& x) {
      return IsScalar(x) &&
             !(x.is_string() && x.get<std::string>().size() > kMaxString);
    });
    Json out = scalars ? Json::array() : Json::object();
    size_t i = 0;
    for (const Json& x : v) {
      if (scalars) {
        out.push_back(Wire(x));
      } else {
        out[absl::StrCat(i++)] = Wire(x);
      }
    }
    return out;
  }
  if (v.is_string()) {
    std::string text = v.get<std::string>();
    // Qnames and evidence come off the wire: keep replies valid JSON and
    // valid UTF-8 whatever bytes they carried.
    for (char& c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x7f) c = '?';
    }
    if (text.size() <= kMaxString) return text;
    Json out = Json::array();
    for (std::string& p : SplitString(text)) out.push_back(p);
    return out;
  }
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_number_float() || v.is_null()) return AsText(v);
  if (v.is_number_integer() && !v.is_number_unsigned() && !FitsInt(v))
    return AsText(v);
  return v;
}

absl::Status CheckCounts(const Json& v, int depth) {
  if (depth > 8) return absl::InternalError("telemetry reply nested too deep");
  if (v.is_object()) {
    if (v.size() > kMaxDictEntries) {
      return absl::InternalError(
          absl::StrCat("telemetry reply: dict of ", v.size(), " entries"));
    }
    for (const auto& [k, x] : v.items()) {
      if (k.empty() || k.size() > kMaxString) {
        return absl::InternalError(
            absl::StrCat("telemetry reply: bad name '", k.substr(0, 32), "'"));
      }
      if (absl::Status s = CheckCounts(x, depth + 1); !s.ok()) return s;
    }
  } else if (v.is_array()) {
    if (v.size() > kMaxArrayEntries) {
      return absl::InternalError(
          absl::StrCat("telemetry reply: array of ", v.size(), " entries"));
    }
    for (const Json& x : v) {
      if (absl::Status s = CheckCounts(x, depth + 1); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Fill(const Json& v, rte_tel_data* d);

// A container value for a dict entry or array element; owned by the parent
// after a successful add (keep = 0).
rte_tel_data* Container(const Json& v, absl::Status* status) {
  rte_tel_data* c = rte_tel_data_alloc();
  if (c == nullptr) {
    *status = absl::ResourceExhaustedError("telemetry: out of memory");
    return nullptr;
  }
  *status = Fill(v, c);
  if (!status->ok()) {
    rte_tel_data_free(c);
    return nullptr;
  }
  return c;
}

absl::Status AddToDict(rte_tel_data* d, const std::string& k, const Json& x) {
  int rc = 0;
  if (x.is_string()) {
    rc = rte_tel_data_add_dict_string(d, k.c_str(),
                                      x.get<std::string>().c_str());
  } else if (x.is_number_unsigned()) {
    rc = rte_tel_data_add_dict_u64(d, k.c_str(), x.get<uint64_t>());
  } else if (x.is_number_integer()) {
    rc = rte_tel_data_add_dict_int(d, k.c_str(), x.get<int>());
  } else {
    absl::Status s;
    rte_tel_data* c = Container(x, &s);
    if (c == nullptr) return s;
    rc = rte_tel_data_add_dict_container(d, k.c_str(), c, 0);
    if (rc != 0) rte_tel_data_free(c);
  }
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("telemetry: cannot add '", k, "'"));
  }
  return absl::OkStatus();
}

absl::Status Fill(const Json& v, rte_tel_data* d) {
  if (v.is_object()) {
    rte_tel_data_start_dict(d);
    for (const auto& [k, x] : v.items()) {
      if (absl::Status s = AddToDict(d, k, x); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (!v.is_array()) return absl::InternalError("telemetry: scalar reply");
  bool all_strings = true, all_unsigned = true, all_ints = true,
       all_containers = true;
  for (const Json& x : v) {
    all_strings &= x.is_string();
    all_unsigned &= x.is_number_unsigned();
    all_ints &= x.is_number_integer();
    all_containers &= !IsScalar(x);
  }
  int rc = 0;
  if (v.empty() || all_unsigned) {
    rte_tel_data_start_array(d, RTE_TEL_U64_VAL);
    for (const Json& x : v)
      rc |= rte_tel_data_add_array_u64(d, x.get<uint64_t>());
  } else if (all_ints) {
    rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
    for (const Json& x : v) rc |= rte_tel_data_add_array_int(d, x.get<int>());
  } else if (all_containers) {
    rte_tel_data_start_array(d, RTE_TEL_CONTAINER);
    for (const Json& x : v) {
      absl::Status s;
      rte_tel_data* c = Container(x, &s);
      if (c == nullptr) return s;
      if (rte_tel_data_add_array_container(d, c, 0) != 0) {
        rte_tel_data_free(c);
        rc = -1;
      }
    }
  } else {
    (void)all_strings;  // strings, or scalars of mixed types: as text
    rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
    for (const Json& x : v) {
      if (!IsScalar(x)) {
        return absl::InternalError(
            "telemetry: array mixes scalars and "
            "containers");
      }
      rc |= rte_tel_data_add_array_string(d, AsText(x).c_str());
    }
  }
  if (rc != 0) return absl::InternalError("telemetry: cannot fill an array");
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> SplitString(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t n = std::min(kStringPiece, s.size() - pos);
    out.push_back(s.substr(pos, n));
    pos += n;
  }
  return out;
}

size_t ReplySize(const Json& reply) {
  return Wire(reply)
      .dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace)
      .size();
}

absl::Status CheckReply(const Json& reply) {
  if (absl::Status s = CheckCounts(Wire(reply), 0); !s.ok()) return s;
  const size_t size = ReplySize(reply);
  if (size > kReplyBudget) {
    return absl::InternalError(absl::StrCat("telemetry reply of ", size,
                                            " bytes exceeds ", kReplyBudget));
  }
  return absl::OkStatus();
}

absl::Status ToTelData(const Json& reply, rte_tel_data* d) {
  if (!reply.is_object() && !reply.is_array()) {
    return absl::InternalError("telemetry reply must be a dict or an array");
  }
  const Json wire = Wire(reply);
  if (absl::Status s = CheckCounts(wire, 0); !s.ok()) return s;
  return Fill(wire, d);
}

}  // namespace edgecap::telemetry

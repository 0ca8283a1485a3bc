// Turns a handler's JSON tree into DPDK telemetry data (rte_tel_data), within
// DPDK 22.11's limits: 256 dict entries, 512 array entries, names and string
// values under 128 bytes, and a reply that fits the 16 KiB output buffer
// (which otherwise silently drops what does not fit). Handlers build their
// replies as JSON so the size can be measured and the limits enforced in one
// place, and so the replies can be unit-tested without EAL.
//
//   Json reply = {{"packets", 42}, {"servers", Json::array()}};
//   if (!FitsReply(reply)) ...
//   absl::Status s = ToTelData(reply, d);   // d: the handler's rte_tel_data
//
// Mapping: objects -> dicts, arrays of scalars -> arrays (of strings, u64 or
// int; mixed scalars become strings), arrays holding objects or arrays ->
// dicts keyed "0", "1", ... (DPDK 22.11 arrays cannot hold dicts), unsigned ->
// u64, negative integers -> int when they fit in 32 bits (else a string),
// booleans -> 0/1, floating point -> string, null -> the string "null". A
// string value of 128 bytes or more becomes an array of pieces of at most
// kStringPiece bytes, which a client joins. Bytes outside printable ASCII in
// strings become '?' (qnames come off the wire; the reply must stay valid JSON
// and UTF-8).
#ifndef EDGECAP_LIB_TELEMETRY_REPLY_H_
#define EDGECAP_LIB_TELEMETRY_REPLY_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/telemetry/snapshot.h"

struct rte_tel_data;

namespace edgecap::telemetry {

inline constexpr size_t kMaxDictEntries = 256;   // RTE_TEL_MAX_DICT_ENTRIES
inline constexpr size_t kMaxArrayEntries = 512;  // RTE_TEL_MAX_ARRAY_ENTRIES
inline constexpr size_t kMaxString = 127;        // RTE_TEL_MAX_STRING_LEN - 1
inline constexpr size_t kStringPiece = 120;
// DPDK's output buffer is 16384 bytes including {"<command>": ... }; keep a
// margin for the command name (up to 56 bytes) and the string pieces.
inline constexpr size_t kReplyBudget = 15 * 1024;

// Splits a long string into pieces of at most kStringPiece bytes.
std::vector<std::string> SplitString(const std::string& s);

// The reply as it will be written (compact JSON after string splitting).
size_t ReplySize(const Json& reply);
// Entry counts within the limits and ReplySize() <= kReplyBudget.
absl::Status CheckReply(const Json& reply);

// Fills `d` (a fresh rte_tel_data) from `reply`, an object or an array.
absl::Status ToTelData(const Json& reply, rte_tel_data* d);

}  // namespace edgecap::telemetry

#endif  // EDGECAP_LIB_TELEMETRY_REPLY_H_

// The input format of flow_fuzz, shared with its seeder (robust_seeds): a
// short capture as a sequence of records, so the fuzzer mutates timing and
// frames together.
//
//   byte 0      link type, kFuzzLinkTypes[byte % size]
//   byte 1      configuration (kFlowSplitMask: split into 2 or 3 workers;
//               kFlowTinyTable: a 64-entry transaction table)
//   records     int32 LE time delta in microseconds (may be negative),
//               uint16 LE frame length, then the frame (cut at the end of
//               the input)
//
//   for (FlowRecordReader r(data, size); r.Next();) Feed(r.ts_ns(), r.frame());
#ifndef EDGECAP_TESTS_FUZZ_FLOW_FUZZ_H_
#define EDGECAP_TESTS_FUZZ_FLOW_FUZZ_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "lib/parse/packet.h"

namespace edgecap::fuzz {

inline constexpr uint8_t kFlowSplitMask = 0x01;
inline constexpr uint8_t kFlowTinyTable = 0x02;
inline constexpr size_t kFlowHeader = 2;
inline constexpr size_t kFlowRecordHeader = 6;
// 2024-03-14T13:00:00Z, the generator's default start.
inline constexpr int64_t kFlowStartNs = 1710421200LL * 1000000000LL;

class FlowRecordReader {
 public:
  FlowRecordReader(const uint8_t* data, size_t size)
      : data_(data), size_(size), pos_(kFlowHeader) {}

  bool Next() {
    if (pos_ + kFlowRecordHeader > size_) return false;
    int32_t delta_us;
    uint16_t length;
    std::memcpy(&delta_us, data_ + pos_, 4);
    std::memcpy(&length, data_ + pos_ + 4, 2);
    pos_ += kFlowRecordHeader;
    const size_t n = length < size_ - pos_ ? length : size_ - pos_;
    frame_ = parse::Bytes(data_ + pos_, n);
    pos_ += n;
    ts_ns_ += int64_t{delta_us} * 1000;
    if (delta_us < 0) backwards_ = true;
    return true;
  }
  int64_t ts_ns() const { return ts_ns_; }
  parse::Bytes frame() const { return frame_; }
  bool went_backwards() const { return backwards_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_;
  int64_t ts_ns_ = kFlowStartNs;
  parse::Bytes frame_;
  bool backwards_ = false;
};

// Appends one record (little-endian host assumed, as on x86 and arm64).
inline void AppendFlowRecord(std::string* out, int32_t delta_us,
                             const uint8_t* frame, uint16_t length) {
  char header[kFlowRecordHeader];
  std::memcpy(header, &delta_us, 4);
  std::memcpy(header + 4, &length, 2);
  out->append(header, sizeof(header));
  out->append(reinterpret_cast<const char*>(frame), length);
}

}  // namespace edgecap::fuzz

#endif  // EDGECAP_TESTS_FUZZ_FLOW_FUZZ_H_

#include "lib/parse/dns.h"

namespace edgecap::parse {

Anomaly DecodeDns(Bytes, DnsDepth, DnsMessage*) {
  return Anomaly::kNone;
}  // TODO
Anomaly DecodeDnsTcp(Bytes, DnsDepth, DnsMessage*) {
  return Anomaly::kNone;
}  // TODO

}  // namespace edgecap::parse

#!/usr/bin/env python3
"""Compares parse::FormatEvidence() with tcpdump 4.99 itself, packet by packet.

usage: evidence_vs_tcpdump_test.py DRIVER PEER_CORPUS_DIR

1. Writes captures with a wide set of DNS queries and ICMP/ICMPv6
   destination-unreachable errors (every ICMPv4 code 0-15 and beyond, ICMPv6
   codes 0-7, quotes of UDP/TCP queries, v4/v6, VLAN/QinQ, raw IP, SLL, SLL2,
   BSD loopback, odd names, flags, classes, EDNS, truncations) plus the seed
   incident packets.
2. Runs `TZ=UTC tcpdump -n -S -# -r FILE` and DRIVER (which prints
   FormatEvidence for each packet) on each generated capture and on every
   capture in PEER_CORPUS_DIR.
3. Requires byte-identical lines for every DNS query (QR=0 on UDP/TCP port 53)
   and every outermost ICMP type 3 / ICMPv6 type 1 packet; other packets are
   counted as best effort and reported, not required.

Documented exceptions, each stated where it applies:
- `-S`: tcpdump numbers TCP sequence numbers relative to the first packet of
  a connection it has seen in the same file. An evidence line is formatted
  from one packet alone, which is what tcpdump prints for a capture holding
  just that packet (the absolute numbers that -S prints). -S changes nothing
  but TCP seq/ack.
- ICMPv6 unreachable codes tcpdump does not name (5 and up): tcpdump follows
  the line with a hex dump on continuation lines; evidence is one line, so
  the first line is compared.
- Packets the classifier below cannot reach (link types edgecap refuses) are
  listed as skipped.
"""
import ipaddress
import os
import re
import struct
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------- builders


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return (~s) & 0xffff


def ip4(src, dst, proto, payload, ttl=64, ident=1, frag=0, options=b''):
    s = ipaddress.IPv4Address(src).packed
    d = ipaddress.IPv4Address(dst).packed
    ihl = 5 + len(options) // 4
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, ihl * 4 + len(payload),
                    ident, frag, ttl, proto, 0, s, d) + options
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def ip6(src, dst, nh, payload, hlim=64):
    return (struct.pack('!IHBB', 0x60000000, len(payload), nh, hlim) +
            ipaddress.IPv6Address(src).packed +
            ipaddress.IPv6Address(dst).packed + payload)


def udp(sp, dp, payload, ulen=None):
    return struct.pack('!HHHH', sp, dp,
                       8 + len(payload) if ulen is None else ulen, 0) + payload


def tcp(sp, dp, payload, flags=0x18, seq=1000, ack=2000, options=b''):
    off = (20 + len(options)) // 4
    return struct.pack('!HHIIBBHHH', sp, dp, seq, ack, off << 4, flags, 512,
                       0, 0) + options + payload


def wire_name(n):
    out = b''
    for label in n.split('.'):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b'\0'


def dns(txid, qname, qtype=1, qclass=1, flags=0x0100, qd=1, an=0, ns=0, ar=0,
        extra=b'', raw_name=None):
    name = raw_name if raw_name is not None else wire_name(qname)
    return (struct.pack('!HHHHHH', txid, flags, qd, an, ns, ar) + name +
            struct.pack('!HH', qtype, qclass) + extra)


def opt_rr(size=1232, do=False, ext_rcode=0, rdata=b''):
    return (b'\0' + struct.pack('!HHBBHH', 41, size, ext_rcode, 0,
                                0x8000 if do else 0, len(rdata)) + rdata)


def icmp4(t, c, rest, body):
    h = struct.pack('!BBH', t, c, 0) + rest + body
    return h[:2] + struct.pack('!H', csum(h)) + h[4:]


def icmp6(t, c, body, rest=b'\0' * 4):
    return struct.pack('!BBH', t, c, 0) + rest + body


def eth(payload, et=0x0800, vlans=()):
    h = bytes.fromhex('001122334455') + bytes.fromhex('66778899aabb')
    for tpid, vid in vlans:
        h += struct.pack('!HH', tpid, vid)
    return h + struct.pack('!H', et) + payload


def sll(payload, et):
    return struct.pack('!HHH8sH', 0, 1, 6, bytes.fromhex('0011223344550000'),
                       et) + payload


def sll2(payload, et):
    return struct.pack('!HHIHBB8s', et, 0, 1, 1, 0, 6,
                       bytes.fromhex('0011223344550000')) + payload


def write_pcap(path, link, packets):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, link))
        for ts, p in packets:
            sec, usec = divmod(ts, 1000000)
            f.write(struct.pack('<IIII', sec, usec, len(p), len(p)) + p)


# ------------------------------------------------------- generated captures

SEED_T = 1700000000 // 86400 * 86400 * 1000000 + (13 * 3600 + 24 * 60 + 32) * 1000000 + 192571
CLIENT, SERVER = '192.51.100.15', '203.0.113.2'
CLIENT6, SERVER6 = '2001:db8::1', '2001:db8::2'


def query_variants():
    """(txid, dns bytes) for queries with varied flags, types, classes, names."""
    v = []
    t = 100
    for qt in [1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 43, 48, 52, 64, 65, 99,
               251, 252, 255, 256, 257, 4000, 65535]:
        v.append(dns(t, 'example.com', qtype=qt)); t += 1
    for qc in [3, 4, 254, 255, 0x8001, 0]:
        v.append(dns(t, 'example.com', qclass=qc)); t += 1
    for fl in [0x0000, 0x0100, 0x0110, 0x0120, 0x0130, 0x0140, 0x0180,
               0x0200, 0x0400, 0x000f, 0x0103, 0x0800, 0x0900, 0x1000,
               0x2000, 0x2800, 0x7900, 0x7f8f]:
        v.append(dns(t, 'example.com', flags=fl)); t += 1
    v.append(dns(t, 'example.com', ar=1, extra=opt_rr())); t += 1
    v.append(dns(t, 'example.com', ar=1, extra=opt_rr(4096, do=True))); t += 1
    v.append(dns(t, 'example.com', ar=1, extra=opt_rr(
        1232, rdata=struct.pack('!HH', 10, 8) + b'\x01' * 8))); t += 1
    v.append(dns(t, 'example.com', an=1, ns=2, ar=3)); t += 1
    v.append(dns(t, 'example.com', flags=0x0800, an=1)); t += 1
    v.append(dns(t, 'example.com', qd=0)); t += 1
    v.append(dns(t, 'example.com', qd=2,
                 extra=wire_name('second.example') + b'\0\x1c\0\x01')); t += 1
    v.append(dns(t, 'example.com', qd=3)); t += 1
    v.append(dns(t, '', qtype=2)); t += 1
    for raw in [b'\x03a.b\x03com\x00', b'\x03a\x00b\x03c\xffm\x00',
                b'\x03A B\x03COM\x00', b'\x03a\\b\x03c"m\x00',
                b'\x04\x7f\x80\x1b\x09\x00', b'\x03abc\xc0\x0c',
                b'\x03abc\xc0\x03', b'\xc0\x0c', b'\x03abc\x80\x14',
                b'\x03abc\x41\x10\xab\xcd\x00', b'\x03abc\x42\x14\x00',
                b'\x03abc', b'\x03abc\x03c', b'\x3f' + b'a' * 63 + b'\x00',
                b'\x40' + b'a' * 64 + b'\x00',
                (b'\x3f' + b'a' * 63) * 4 + b'\x00',
                (b'\x3f' + b'b' * 63) * 3 + b'\x3d' + b'c' * 61 + b'\x00',
                (b'\x01x') * 127 + b'\x00']:
        v.append(dns(t, '', raw_name=raw)); t += 1
    v.append(dns(t, 'yummyrecipesforme.com')[:11]); t += 1
    v.append(dns(t, 'yummyrecipesforme.com')[:20]); t += 1
    v.append(dns(t, 'yummyrecipesforme.com')[:-2]); t += 1
    v.append(b''); t += 1
    return v


def generated(tmp):
    files = []
    T = SEED_T
    seed_q = ip4(CLIENT, SERVER, 17,
                 udp(52444, 53, dns(35084, 'yummyrecipesforme.com')))
    seed_p = [(T, eth(seed_q))]
    # The seed incident: the query and the port-unreachable answering it.
    seed_p.append((T + 3905993, eth(ip4(SERVER, CLIENT, 1,
                                         icmp4(3, 3, b'\0' * 4, seed_q)))))
    seed_aaaa = ip4(CLIENT, SERVER, 17,
                    udp(52444, 53, dns(35085, 'yummyrecipesforme.com', 28)))
    seed_p.append((T + 4000000, eth(seed_aaaa)))
    seed_p.append((T + 4000100, eth(ip4(SERVER, CLIENT, 1,
                                         icmp4(3, 3, b'\0' * 4, seed_aaaa)))))
    files.append(('seed.pcap', 1, seed_p))

    # Every query variant over v4/v6, UDP/TCP, several link types.
    qs = query_variants()
    eth_p, raw_p, sll_p, sll2_p, null_p = [], [], [], [], []
    ts = T
    for i, q in enumerate(qs):
        ts += 1000
        sport = 1024 + (i * 7919) % 60000
        u4 = ip4('10.0.%d.1' % (i % 250), '10.0.0.53', 17, udp(sport, 53, q))
        u6 = ip6('2001:db8::%x' % (i + 1), '2001:db8::53', 17,
                 udp(sport, 53, q))
        t4 = ip4('10.1.0.1', '10.1.0.53', 6,
                 tcp(sport, 53, struct.pack('!H', len(q)) + q))
        t6 = ip6(CLIENT6, SERVER6, 6, tcp(sport, 53,
                                          struct.pack('!H', len(q)) + q))
        eth_p += [(ts, eth(u4)), (ts + 1, eth(u6, 0x86dd)), (ts + 2, eth(t4)),
                  (ts + 3, eth(t6, 0x86dd)),
                  (ts + 4, eth(u4, vlans=[(0x8100, 100)])),
                  (ts + 5, eth(u6, 0x86dd, vlans=[(0x88a8, 10), (0x8100, 20)]))]
        raw_p += [(ts, u4), (ts + 1, u6), (ts + 2, t4)]
        sll_p += [(ts, sll(u4, 0x800)), (ts + 1, sll(u6, 0x86dd))]
        sll2_p += [(ts, sll2(u4, 0x800)), (ts + 1, sll2(t6, 0x86dd))]
        null_p += [(ts, struct.pack('<I', 2) + u4),
                   (ts + 1, struct.pack('<I', 30) + u6)]
    # Transport oddities around a good query.
    q = dns(7, 'odd.example')
    for ulen in [0, 4, 8, 12, 19, len(q) + 8, len(q) + 20]:
        ts += 1000
        eth_p.append((ts, eth(ip4(CLIENT, SERVER, 17, udp(5353, 53, q, ulen)))))
    full = ip4(CLIENT, SERVER, 17, udp(40000, 53, q))
    for cut in [20, 22, 24, 27, 28, 30, 40, len(full) - 1]:
        ts += 1000
        eth_p.append((ts, eth(full[:cut])))
    ts += 1000
    eth_p.append((ts, eth(ip4(CLIENT, SERVER, 17, udp(40000, 53, q),
                              options=b'\x01\x01\x01\x00'))))
    eth_p.append((ts + 1, eth(ip4(CLIENT, SERVER, 17, udp(40000, 53, q),
                                  frag=0x2000))))
    eth_p.append((ts + 2, eth(ip4(CLIENT, SERVER, 17, udp(40000, 53, q),
                                  frag=0x4000))))
    hbh = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    fr = bytes([17, 0, 0, 1, 0, 0, 0, 7])
    eth_p.append((ts + 3, eth(ip6(CLIENT6, SERVER6, 0, hbh + udp(1, 53, q)),
                              0x86dd)))
    eth_p.append((ts + 4, eth(ip6(CLIENT6, SERVER6, 44, fr + udp(1, 53, q)),
                              0x86dd)))
    tq = struct.pack('!H', len(q)) + q
    eth_p.append((ts + 5, eth(ip4(CLIENT, SERVER, 6, tcp(40001, 53, tq[:-3])))))
    eth_p.append((ts + 6, eth(ip4(CLIENT, SERVER, 6,
                                  tcp(40001, 53, tq + tq)))))
    eth_p.append((ts + 7, eth(ip4(CLIENT, SERVER, 6, tcp(40001, 53, tq[:1])))))
    eth_p.append((ts + 8, eth(ip4(CLIENT, SERVER, 6, tcp(
        40001, 53, tq, options=b'\x02\x04\x05\xb4\x01\x03\x03\x07')))))
    files += [('queries_eth.pcap', 1, eth_p), ('queries_raw.pcap', 101, raw_p),
              ('queries_ipv4.pcap', 228, [(t, p) for t, p in raw_p
                                          if p[0] >> 4 == 4]),
              ('queries_sll.pcap', 113, sll_p),
              ('queries_sll2.pcap', 276, sll2_p),
              ('queries_null.pcap', 0, null_p)]

    # ICMP errors: every code, quoting UDP/TCP queries, cut quotes.
    icmp_p = []
    quotes4 = [seed_q,
               ip4(CLIENT, SERVER, 17, udp(41000, 53, dns(9, 'x.example', 16))),
               ip4(CLIENT, SERVER, 6, tcp(41001, 53, b'', flags=0x02)),
               ip4(CLIENT, SERVER, 47, b'\0\x35' * 10),
               ip4(CLIENT, SERVER, 17, udp(41000, 53, dns(9, 'o.example')),
                   options=b'\x01\x01\x01\x00')]
    ts = T + 10 * 1000000
    for code in range(0, 18):
        for qi, quote in enumerate(quotes4):
            for cut in [None, 28, 24, 21, 20, 19, 8]:
                body = quote if cut is None else quote[:cut]
                rest = struct.pack('!HH', 0, 1400 if qi % 2 else 0)
                ts += 1000
                pkt = ip4(SERVER, CLIENT, 1, icmp4(3, code, rest, body))
                icmp_p.append((ts, eth(pkt)))
                if cut is None:
                    icmp_p.append((ts + 1, eth(pkt, vlans=[(0x8100, 7)])))
                    icmp_p.append((ts + 2, eth(pkt[:-5])))
    for t, c in [(11, 0), (11, 1), (11, 5), (8, 0), (0, 0), (5, 1), (12, 0)]:
        ts += 1000
        icmp_p.append((ts, eth(ip4(SERVER, CLIENT, 1, icmp4(t, c, b'\0\x01\0\x02',
                                                             seed_q)))))
    q6 = ip6(CLIENT6, SERVER6, 17, udp(52444, 53, dns(35084,
                                                      'yummyrecipesforme.com', 28)))
    quotes6 = [q6,
               ip6(CLIENT6, SERVER6, 6, tcp(41001, 53, b'', flags=0x02)),
               ip6(CLIENT6, SERVER6, 0, hbh + udp(52444, 53, dns(1, 'h.example'))),
               ip6(CLIENT6, SERVER6, 44, fr + udp(52444, 53, dns(1, 'f.example'))),
               ip6(CLIENT6, SERVER6, 47, b'\0' * 16),
               seed_q]
    for code in range(0, 9):
        for quote in quotes6:
            for cut in [None, 48, 44, 42, 40, 39, 24, 0]:
                body = quote if cut is None else quote[:cut]
                ts += 1000
                pkt = ip6(SERVER6, CLIENT6, 58, icmp6(1, code, body))
                icmp_p.append((ts, eth(pkt, 0x86dd)))
                if cut is None:
                    icmp_p.append((ts + 1, eth(pkt, 0x86dd, vlans=[(0x8100, 9)])))
                    icmp_p.append((ts + 2, sll(pkt, 0x86dd)[16:]))  # raw later
    raw6 = [(t, p) for t, p in icmp_p if p[0] >> 4 == 6]
    icmp_p = [(t, p) for t, p in icmp_p if p[0] >> 4 != 6]
    for t, c in [(3, 0), (3, 1), (128, 0), (129, 0), (2, 0), (4, 1)]:
        ts += 1000
        icmp_p.append((ts, eth(ip6(SERVER6, CLIENT6, 58, icmp6(t, c, q6)),
                               0x86dd)))
    files += [('icmp_eth.pcap', 1, icmp_p), ('icmp6_raw.pcap', 229, raw6)]
    paths = []
    for name, link, pk in files:
        path = os.path.join(tmp, name)
        write_pcap(path, link, pk)
        paths.append(path)
    return paths


# --------------------------------------------------------------- classifier


def classify(link, frame):
    """'dns-query', 'icmp-unreach', or None (best effort), from raw bytes."""
    p = 0
    if link == 1:
        if len(frame) < 14:
            return None
        et = struct.unpack('!H', frame[12:14])[0]
        p = 14
        while et in (0x8100, 0x88a8, 0x9100) and len(frame) >= p + 4:
            et = struct.unpack('!H', frame[p + 2:p + 4])[0]
            p += 4
    elif link == 113:
        if len(frame) < 16:
            return None
        et = struct.unpack('!H', frame[14:16])[0]
        p = 16
        while et in (0x8100, 0x88a8) and len(frame) >= p + 4:
            et = struct.unpack('!H', frame[p + 2:p + 4])[0]
            p += 4
    elif link == 276:
        if len(frame) < 20:
            return None
        et, p = struct.unpack('!H', frame[0:2])[0], 20
    elif link in (101, 228, 229, 12, 14):
        et = None
    elif link == 0:
        if len(frame) < 4:
            return None
        fam = struct.unpack('<I', frame[:4])[0]
        if fam > 0xffff:
            fam = struct.unpack('!I', frame[:4])[0]
        et = {2: 0x800, 24: 0x86dd, 28: 0x86dd, 30: 0x86dd}.get(fam)
        p = 4
    else:
        return None
    if p >= len(frame):
        return None
    if et is None:
        et = {4: 0x800, 6: 0x86dd}.get(frame[p] >> 4)
    b = frame[p:]
    if et == 0x800:
        if len(b) < 20 or b[0] >> 4 != 4:
            return None
        hl = (b[0] & 15) * 4
        if struct.unpack('!H', b[6:8])[0] & 0x1fff:
            return None
        proto, l4 = b[9], b[hl:]
    elif et == 0x86dd:
        if len(b) < 40:
            return None
        proto, l4 = b[6], b[40:]
        for _ in range(8):
            if proto in (0, 43, 60) and len(l4) >= 2:
                proto, l4 = l4[0], l4[(l4[1] + 1) * 8:]
            elif proto == 44 and len(l4) >= 8:
                if struct.unpack('!H', l4[2:4])[0] & 0xfff8:
                    return None
                proto, l4 = l4[0], l4[8:]
            else:
                break
    else:
        return None
    if proto == 1 and len(l4) >= 1 and l4[0] == 3:
        return 'icmp-unreach'
    if proto == 58 and len(l4) >= 1 and l4[0] == 1:
        return 'icmp-unreach'
    if proto == 17 and len(l4) >= 8:
        ports = struct.unpack('!HH', l4[:4])
        if 53 in ports and len(l4) >= 11 and not l4[10] & 0x80:
            return 'dns-query'
    if proto == 6 and len(l4) >= 20:
        ports = struct.unpack('!HH', l4[:4])
        off = (l4[12] >> 4) * 4
        if 53 in ports and len(l4) >= off + 5 and not l4[off + 4] & 0x80:
            return 'dns-query'
    return None


def read_pcap_frames(path):
    """(link, [frame bytes]) through tcpdump-independent parsing; pcapng via
    tshark-free fallback: None when the format is not classic pcap."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return None, []
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    elif magic == b'\x0a\x0d\x0d\x0a':
        return read_pcapng(data)
    else:
        return None, []
    link = struct.unpack(e + 'I', data[20:24])[0] & 0x0fffffff
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + 'I', data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return link, frames


def read_pcapng(data):
    e = '<' if data[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
    off, links, frames = 0, [], []
    while off + 12 <= len(data):
        btype, blen = struct.unpack(e + 'II', data[off:off + 8])
        if blen < 12:
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1:
            links.append(struct.unpack(e + 'H', body[:2])[0])
        elif btype == 6:
            cap = struct.unpack(e + 'I', body[12:16])[0]
            frames.append(body[20:20 + cap])
        elif btype == 3:
            cap = struct.unpack(e + 'I', body[:4])[0]
            frames.append(body[4:4 + cap])
        off += blen
    return (links[0] if links else None), frames


# -------------------------------------------------------------- comparison


def tcpdump_lines(path):
    env = dict(os.environ, TZ='UTC')
    out = subprocess.run(['tcpdump', '-n', '-S', '-#', '-r', path],
                         capture_output=True, env=env).stdout
    lines = {}
    for raw in out.split(b'\n'):
        m = re.match(rb'^ *(\d+)  (.*)$', raw)
        if m:
            lines[int(m.group(1))] = m.group(2)
    return lines


def driver_lines(driver, path):
    out = subprocess.run([driver, path], capture_output=True, check=True).stdout
    if out.startswith(b'unsupported-linktype'):
        return None
    lines = {}
    for raw in out.split(b'\n'):
        if raw:
            n, _, text = raw.partition(b'\t')
            lines[int(n)] = text
    return lines


def main():
    driver, corpus = sys.argv[1], sys.argv[2]
    if not os.path.isdir(corpus):
        print('FAIL: peer corpus missing:', corpus)
        return 1
    corpus_files = sorted(
        os.path.join(corpus, f) for f in os.listdir(corpus)
        if f.endswith(('.pcap', '.pcapng')))
    if not corpus_files:
        print('FAIL: no captures in', corpus)
        return 1
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for group, paths in (('generated', generated(tmp)),
                             ('peer', corpus_files)):
            req = req_ok = other = other_ok = 0
            skipped = []
            for path in paths:
                mine = driver_lines(driver, path)
                if mine is None:
                    skipped.append(os.path.basename(path))
                    continue
                theirs = tcpdump_lines(path)
                link, frames = read_pcap_frames(path)
                for n, line in sorted(mine.items()):
                    kind = classify(link, frames[n - 1]) if n - 1 < len(frames) else None
                    ok = theirs.get(n) == line
                    if kind:
                        req += 1
                        req_ok += ok
                        if not ok:
                            failures += 1
                            print('MISMATCH %s #%d (%s)\n  tcpdump:  %s\n  evidence: %s'
                                  % (os.path.basename(path), n, kind,
                                     theirs.get(n, b'<none>').decode('latin-1'),
                                     line.decode('latin-1')))
                    else:
                        other += 1
                        other_ok += ok
            print('%s: %d DNS-query/ICMP-unreachable lines compared, %d '
                  'identical; other packets (best effort) %d/%d identical; '
                  'captures skipped (link type edgecap refuses): %s'
                  % (group, req, req_ok, other_ok, other,
                     ', '.join(skipped) or 'none'))
            if req == 0:
                print('FAIL: nothing compared in', group)
                failures += 1
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())

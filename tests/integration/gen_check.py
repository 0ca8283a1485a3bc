#!/usr/bin/env python3
"""Checks an edgecap-gen capture against real tools (issue 3 acceptance).

gen_check.py counts GEN SCENARIO [--packets N]
    tshark and tcpdump read the capture without a warning; tshark's DNS/ICMP
    counts (outermost occurrence; DNS inside an ICMP quote counted apart)
    equal the generator's `counts`; tshark finds no bad checksum; only the
    `malformed` scenario has malformed frames.
gen_check.py determinism GEN
    same seed -> same bytes, other seed -> other bytes, --nanosecond -> same
    times with the nanosecond magic.
gen_check.py split GEN
    `split` puts every frame in the queue an independent Toeplitz
    implementation picks, loses nothing, keeps each flow on one queue.
"""
import collections
import json
import os
import struct
import subprocess
import sys
import tempfile

ROOT_WARNING = 'Running as user "root"'


def fail(msg):
    print('FAIL:', msg)
    sys.exit(1)


def generate(gen, scenario, path, *extra):
    r = subprocess.run([gen, scenario, '-o', path, *extra],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f'{scenario}: edgecap-gen exited {r.returncode}: {r.stderr}')
    with open(path[:-len('.pcap')] + '.truth.json') as f:
        return json.load(f)


def stderr_lines(text, allowed):
    return [l for l in text.splitlines() if l and not any(a in l for a in allowed)]


def tshark_counts(path):
    fields = ['frame.protocols', 'dns.flags.response', 'dns.flags.rcode',
              'icmp.type', 'icmp.code', 'icmpv6.type', 'icmpv6.code',
              '_ws.malformed', 'vlan.id', 'ieee8021ad.id']
    cmd = ['tshark', '-n', '-r', path, '-T', 'fields', '-E', 'separator=/t',
           '-E', 'occurrence=a', '-E', 'aggregator=,']
    for f in fields:
        cmd += ['-e', f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f'tshark exited {r.returncode}: {r.stderr}')
    bad = stderr_lines(r.stderr, [ROOT_WARNING])
    if bad:
        fail(f'tshark warned: {bad[:5]}')
    c = collections.Counter()
    rcodes, icmp4, icmp6 = (collections.Counter() for _ in range(3))
    for line in r.stdout.splitlines():
        cols = (line.split('\t') + [''] * len(fields))[:len(fields)]
        v = dict(zip(fields, [x.split(',') if x else [] for x in cols]))
        protos = v['frame.protocols'][0].split(':') if v['frame.protocols'] else []
        c['frames'] += 1
        first_l3 = next((p for p in protos if p in ('ip', 'ipv6')), None)
        if first_l3 == 'ip':
            c['ipv4_frames'] += 1
        elif first_l3 == 'ipv6':
            c['ipv6_frames'] += 1
        if v['vlan.id'] or v['ieee8021ad.id']:
            c['vlan_frames'] += 1
        icmp_at = next((i for i, p in enumerate(protos)
                        if p in ('icmp', 'icmpv6')), len(protos))
        if 'tcp' in protos[:icmp_at]:
            c['tcp_segments'] += 1
        responses = v['dns.flags.response']
        if 'dns' in protos[:icmp_at] and responses:
            outer, quoted = responses[0], responses[1:]
            if outer == '1':
                c['dns_responses'] += 1
                rcodes[v['dns.flags.rcode'][0]] += 1
            else:
                c['dns_queries'] += 1
        else:
            quoted = responses
        for q in quoted:
            c['dns_quoted_responses' if q == '1' else 'dns_quoted_queries'] += 1
        if v['icmp.type'] and v['icmp.type'][0] == '3':
            icmp4[v['icmp.code'][0]] += 1
        if v['icmpv6.type'] and v['icmpv6.type'][0] == '1':
            icmp6[v['icmpv6.code'][0]] += 1
        if v['_ws.malformed']:
            c['malformed_frames'] += 1
    return c, rcodes, icmp4, icmp6


def check_checksums(path):
    cmd = ['tshark', '-n', '-r', path, '-o', 'ip.check_checksum:TRUE',
           '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
           '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
           '-e', 'frame.number', '-e', 'ip.checksum.status',
           '-e', 'udp.checksum.status', '-e', 'tcp.checksum.status',
           '-e', 'icmp.checksum.status', '-e', 'icmpv6.checksum.status']
    r = subprocess.run(cmd, capture_output=True, text=True)
    good = 0
    for line in r.stdout.splitlines():
        number, *statuses = line.split('\t')
        values = ','.join(statuses).split(',')
        if '0' in values:  # PROTO_CHECKSUM_E_BAD
            fail(f'{path}: frame {number} has a bad checksum ({statuses})')
        good += values.count('1')
    if good == 0:
        fail(f'{path}: tshark verified no checksum at all')
    return good


def check_tcpdump(path, strict):
    r = subprocess.run(['tcpdump', '-n', '-vv', '-r', path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f'tcpdump exited {r.returncode}: {r.stderr}')
    bad = stderr_lines(r.stderr, ['reading from file'])
    if bad:
        fail(f'tcpdump warned: {bad[:5]}')
    if strict:
        for marker in ('bad cksum', 'bad udp cksum', 'bad tcp cksum',
                       '[|', '(invalid)', 'truncated', 'malformed'):
            hits = [l for l in r.stdout.splitlines() if marker in l]
            if hits:
                fail(f'tcpdump -vv printed {marker!r}: {hits[:3]}')


def counts(gen, scenario, tmp, extra):
    path = os.path.join(tmp, f'{scenario}.pcap')
    truth = generate(gen, scenario, path, *extra)
    want = truth['counts']
    got, rcodes, icmp4, icmp6 = tshark_counts(path)
    errors = []
    for key in ('frames', 'ipv4_frames', 'ipv6_frames', 'vlan_frames',
                'tcp_segments', 'dns_queries', 'dns_responses',
                'dns_quoted_queries', 'dns_quoted_responses'):
        if got[key] != want[key]:
            errors.append(f'{key}: tshark {got[key]}, generator {want[key]}')
    for key, tshark in (('dns_rcodes', rcodes), ('icmp4_unreach_by_code', icmp4),
                        ('icmp6_unreach_by_code', icmp6)):
        if dict(tshark) != {k: v for k, v in want[key].items()}:
            errors.append(f'{key}: tshark {dict(tshark)}, generator {want[key]}')
    malformed = scenario == 'malformed'
    if malformed:
        if not 0 < got['malformed_frames'] <= want['malformed_frames']:
            errors.append(f'malformed: tshark {got["malformed_frames"]} of '
                          f'{want["malformed_frames"]} written')
    elif got['malformed_frames'] or want['malformed_frames']:
        errors.append(f'malformed frames: tshark {got["malformed_frames"]}')
    if errors:
        fail(f'{scenario}: ' + '; '.join(errors))
    if not malformed:
        check_checksums(path)
    check_tcpdump(path, strict=not malformed)
    print(f'{scenario}: {want["frames"]} frames, counts equal tshark\'s')


def determinism(gen, tmp):
    def read(p):
        with open(p, 'rb') as f:
            return f.read()
    for scenario, extra in (('outage', []), ('healthy', []),
                            ('mix', ['--packets', '30000'])):
        a, b, c = (os.path.join(tmp, f'{scenario}-{n}.pcap') for n in 'abc')
        generate(gen, scenario, a, '--seed', '5', *extra)
        generate(gen, scenario, b, '--seed', '5', *extra)
        generate(gen, scenario, c, '--seed', '6', *extra)
        if read(a) != read(b):
            fail(f'{scenario}: same seed, different bytes')
        if read(a[:-5] + '.truth.json') != read(b[:-5] + '.truth.json'):
            fail(f'{scenario}: same seed, different truth')
        if read(a) == read(c):
            fail(f'{scenario}: different seed, same bytes')
    us, ns = (os.path.join(tmp, f'seed-{n}.pcap') for n in ('us', 'ns'))
    generate(gen, 'seed', us)
    generate(gen, 'seed', ns, '--nanosecond')
    if struct.unpack('<I', read(us)[:4])[0] != 0xa1b2c3d4:
        fail('microsecond magic')
    if struct.unpack('<I', read(ns)[:4])[0] != 0xa1b23c4d:
        fail('nanosecond magic')
    times = []
    for p in (us, ns):
        r = subprocess.run(['tshark', '-n', '-r', p, '-T', 'fields', '-e',
                            'frame.time_epoch'], capture_output=True, text=True)
        times.append(r.stdout.split())
    if times[0] != times[1] or len(times[0]) != 6:
        fail(f'timestamps differ between µs and ns files: {times}')
    if times[0][0] != '1710422672.192571000':
        fail(f'seed first timestamp {times[0][0]}')
    print('determinism: ok')


# Independent Toeplitz (bit by bit over a big integer) for the split check.
KEY = bytes([0x6d, 0x5a] * 20)


def toeplitz(data):
    key = int.from_bytes(KEY, 'big')
    keybits = len(KEY) * 8
    h = 0
    for i in range(len(data) * 8):
        if data[i // 8] & (0x80 >> (i % 8)):
            h ^= (key >> (keybits - 32 - i)) & 0xffffffff
    return h


def read_pcap(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('<I', data[:4])
    off, frames = 24, []
    while off < len(data):
        sec, frac, caplen, _ = struct.unpack('<IIII', data[off:off + 16])
        frames.append(((sec, frac), data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return magic, frames


def rss_input(frame):
    off = 12
    etype = struct.unpack('>H', frame[off:off + 2])[0]
    while etype in (0x8100, 0x88a8):
        off += 4
        etype = struct.unpack('>H', frame[off:off + 2])[0]
    ip = frame[off + 2:]
    if etype == 0x0800:
        addrs, proto, l4 = ip[12:20], ip[9], (ip[0] & 15) * 4
    elif etype == 0x86dd:
        addrs, proto, l4 = ip[8:40], ip[6], 40
    else:
        return None, None
    ports = ip[l4:l4 + 4] if proto in (6, 17) else b''
    flow = None
    if ports:
        half = len(addrs) // 2
        ends = sorted([(addrs[:half], ports[:2]), (addrs[half:], ports[2:])])
        flow = (proto, tuple(ends))
    return addrs + ports, flow


def split(gen, tmp):
    src = os.path.join(tmp, 'split-src.pcap')
    generate(gen, 'mix', src, '--packets', '20000')
    _, frames = read_pcap(src)
    for queues in (1, 3, 4):
        prefix = os.path.join(tmp, f'q{queues}')
        r = subprocess.run([gen, 'split', src, '--queues', str(queues), '-o',
                            prefix], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f'split exited {r.returncode}: {r.stderr}')
        seen, flow_queue = [], {}
        for q in range(queues):
            magic, qframes = read_pcap(f'{prefix}.{q}.pcap')
            if magic != 0xa1b2c3d4:
                fail('split changed the timestamp precision')
            for ts, frame in qframes:
                data, flow = rss_input(frame)
                want = toeplitz(data) % 128 % queues if data else 0
                if want != q:
                    fail(f'frame in queue {q}, Toeplitz says {want}')
                if flow is not None and flow_queue.setdefault(flow, q) != q:
                    fail(f'flow {flow} on two queues')
                seen.append((ts, frame))
        if sorted(seen) != sorted(frames):
            fail(f'{queues} queues: frames lost or changed')
        if queues > 1 and min(collections.Counter(
                q for q in flow_queue.values()).values()) < len(frames) / queues / 4:
            fail('queues badly unbalanced')
    print('split: ok')


def main():
    mode, gen = sys.argv[1], sys.argv[2]
    # Captures are made at test time and removed afterwards.
    with tempfile.TemporaryDirectory(prefix='edgecap-gen-') as tmp:
        if mode == 'counts':
            counts(gen, sys.argv[3], tmp, sys.argv[4:])
        elif mode == 'determinism':
            determinism(gen, tmp)
        elif mode == 'split':
            split(gen, tmp)
        else:
            fail(f'unknown mode {mode}')


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Bad input at the edges, against the real edgecap binary (issue 9).

  robust_edges.py pcap    EDGECAP GEN   truncated/corrupt captures
  robust_edges.py options EDGECAP GEN   bad command lines
  robust_edges.py config  EDGECAP GEN   bad --config files
  robust_edges.py rules   EDGECAP GEN   bad --rules files
  robust_edges.py signals EDGECAP GEN   SIGINT/SIGTERM mid-run (live, veth in a netns)
  robust_edges.py telemetry EDGECAP GEN garbage/oversized/concurrent requests
  robust_edges.py peer    EDGECAP GEN   every capture of the peer corpus
                                        (EDGECAP_PEER_CORPUS): analysed, or
                                        its link type refused; never a crash

A refused start-up must: exit non-zero, print exactly one line on stderr
("edgecap: ..."), name the file (and line, for config and rule files) and the
problem, and leave the output files as they were (a previous run's incidents
file is neither truncated nor replaced; none is created).

A capture cut in the middle of a record (or with an absurd record length) is
analysed up to the last whole record, with a warning naming the file: the
incidents equal those of the same capture cut cleanly at that record.

Every case prints ok/FAIL; the exit status is non-zero if any failed.
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

SENTINEL = b'{"previous": "run"}\n'
failures = 0


def check(name, ok, detail=''):
    global failures
    print(('ok   ' if ok else 'FAIL ') + name + (f': {detail}' if detail else ''),
          flush=True)
    if not ok:
        failures += 1


def run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          **kw)


def generate(gen, scenario, directory, *extra):
    pcap = os.path.join(directory, scenario + '.pcap')
    r = run([gen, scenario, '-o', pcap, *extra])
    if r.returncode != 0:
        sys.exit(f'edgecap-gen {scenario} failed: {r.stderr}')
    return pcap


def read_pcap(path):
    """(24-byte header, [(16-byte record header, data)]) of a classic pcap."""
    with open(path, 'rb') as f:
        blob = f.read()
    magic = struct.unpack('<I', blob[:4])[0]
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), hex(magic)
    records, pos = [], 24
    while pos + 16 <= len(blob):
        caplen = struct.unpack('<I', blob[pos + 8:pos + 12])[0]
        records.append((blob[pos:pos + 16], blob[pos + 16:pos + 16 + caplen]))
        pos += 16 + caplen
    return blob[:24], records


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return path


def outputs(d):
    """Output paths pre-filled with a previous run's content."""
    inc = write(os.path.join(d, 'incidents.jsonl'), SENTINEL)
    rep = write(os.path.join(d, 'report.md'), SENTINEL)
    return inc, rep


def refused(name, cmd, needles, d, timeout=120):
    """Start-up must be refused with one line naming every needle."""
    inc, rep = outputs(d)
    fresh = os.path.join(d, 'fresh.jsonl')
    if os.path.exists(fresh):
        os.remove(fresh)
    # Output options first: the case's own arguments end the command line
    # (a trailing option without its value stays trailing).
    r = run(cmd[:1] + ['--incidents', inc, '--report', rep, '--quiet',
                       '--no-progress'] + cmd[1:], timeout=timeout)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    problems = []
    if r.returncode == 0:
        problems.append('exit 0')
    if len(lines) != 1 or not lines[0].startswith('edgecap: '):
        problems.append(f'{len(lines)} stderr lines')
    for n in needles:  # a tuple: any of its strings
        if not lines or not any(x in lines[0] for x in
                                (n if isinstance(n, tuple) else (n,))):
            problems.append(f'no {n!r} in the message')
    for p in (inc, rep):
        with open(p, 'rb') as f:
            if f.read() != SENTINEL:
                problems.append(f'{os.path.basename(p)} overwritten')
    check(name, not problems,
          f'exit {r.returncode}: ' + ' | '.join(lines[:3]) +
          ('  <- ' + '; '.join(problems) if problems else ''))


def analyse(edgecap, pcap, d, name, extra=()):
    out = os.path.join(d, name + '.jsonl')
    r = run([edgecap, '--pcap', pcap, '--incidents', out, '--quiet',
             '--no-progress', *extra])
    body = open(out).read() if os.path.exists(out) else None
    return r, body


# ------------------------------------------------------------------ pcap

def pcap_cases(edgecap, gen):
    with tempfile.TemporaryDirectory(prefix='edgecap-robust-') as d:
        src = generate(gen, 'outage', d)
        header, records = read_pcap(src)
        n = len(records)
        whole = lambda k: header + b''.join(h + b for h, b in records[:k])
        _, full = analyse(edgecap, src, d, 'full')
        check('pcap: the whole capture has incidents', bool(full and full.strip()))

        def clean_vs(name, broken_blob, k):
            """The broken file is analysed like the first k whole records."""
            broken = write(os.path.join(d, name + '.pcap'), broken_blob)
            clean = write(os.path.join(d, name + '-clean.pcap'), whole(k))
            r, got = analyse(edgecap, broken, d, name)
            _, want = analyse(edgecap, clean, d, name + '-clean')
            warn = [l for l in r.stderr.splitlines() if 'warning' in l]
            ok = (r.returncode == 0 and got is not None and got == want and
                  len(warn) >= 1 and os.path.basename(broken) in warn[0] and
                  f'analysing the {k} records' in warn[0])
            check(f'pcap: {name}: analysed up to record {k} of {n} with a warning',
                  ok, f'exit {r.returncode}, same incidents as the clean cut: '
                  f'{got == want}, stderr: {r.stderr.strip()[:300]}')

        # Cut inside the data of a record in the middle of the outage.
        k = n * 2 // 3
        h, b = records[k]
        clean_vs('cut-in-data', whole(k) + h + b[:len(b) // 2], k)
        # Cut inside a record header.
        clean_vs('cut-in-header', whole(k) + h[:7], k)
        # A record claiming 2 GB; 200 MB; more than the snap length.
        for name, caplen in [('caplen-2g', 0x7fffffff), ('caplen-200m', 200 << 20),
                             ('caplen-over-snaplen', 0x40000 + 1)]:
            bad = h[:8] + struct.pack('<II', caplen, caplen)
            clean_vs(name, whole(k) + bad + b + whole(n)[len(whole(k)):], k)
        # caplen > len (a corrupt header libpcap may accept): must not crash.
        bad = h[:8] + struct.pack('<II', len(b), max(0, len(b) - 10))
        r, _ = analyse(edgecap, write(os.path.join(d, 'caplen-gt-len.pcap'),
                                      whole(k) + bad + b + whole(n)[len(whole(k)):]),
                       d, 'caplen-gt-len')
        check('pcap: caplen > len: analysed', r.returncode == 0, r.stderr.strip()[:200])
        # Time going backwards, a zero timestamp and a year-2100 one.
        odd = list(records)
        for i, ts in [(n // 4, 0), (n // 3, 4102444800), (n // 2, 1)]:
            hh, bb = odd[i]
            odd[i] = (struct.pack('<II', ts, 0) + hh[8:], bb)
        t0 = time.monotonic()
        r, _ = analyse(edgecap, write(os.path.join(d, 'timestamps.pcap'),
                                      header + b''.join(x + y for x, y in odd)),
                       d, 'timestamps')
        check('pcap: timestamps 0, 1 and 2100 in the middle: analysed in < 60 s',
              r.returncode == 0 and time.monotonic() - t0 < 60,
              f'exit {r.returncode} in {time.monotonic() - t0:.1f} s')
        # The whole outage in the first seconds after 1970 (a device without
        # a clock): the same incidents as the original, times aside.
        t0 = struct.unpack('<I', records[0][0][:4])[0]
        early = [(struct.pack('<I', struct.unpack('<I', hh[:4])[0] - t0 + 1) +
                  hh[4:], bb) for hh, bb in records]
        r, got = analyse(edgecap, write(os.path.join(d, 'epoch.pcap'), header +
                                        b''.join(x + y for x, y in early)),
                         d, 'epoch')
        timeless = lambda body: [
            {k: v for k, v in json.loads(l).items()
             if k not in ('id', 'first_seen', 'last_seen', 'evidence', 'summary')}
            for l in (body or '').splitlines()]
        check('pcap: the outage moved to 1970-01-01 00:00:01: same incidents',
              r.returncode == 0 and got and timeless(got) == timeless(full),
              f'exit {r.returncode}: {r.stderr.strip()[-300:]}')
        # Only a header: a valid, empty capture.
        r, got = analyse(edgecap, write(os.path.join(d, 'empty.pcap'), header), d,
                         'empty')
        check('pcap: header only: no incidents, exit 0',
              r.returncode == 0 and got == '', f'exit {r.returncode} {r.stderr.strip()}')

        # Refused at start-up.
        refused('pcap: zero bytes', [edgecap, '--pcap', write(
            os.path.join(d, 'zero.pcap'), b'')], ['zero.pcap'], d)
        refused('pcap: bad magic', [edgecap, '--pcap', write(
            os.path.join(d, 'magic.pcap'), b'\xde\xad\xbe\xef' + header[4:] +
            records[0][0] + records[0][1])], ['magic.pcap'], d)
        refused('pcap: header cut short', [edgecap, '--pcap', write(
            os.path.join(d, 'short.pcap'), header[:13])], ['short.pcap'], d)
        for lt, name in [(147, 'USER0'), (105, 'IEEE802_11'), (65000, None)]:
            blob = header[:20] + struct.pack('<I', lt) + whole(3)[24:]
            refused(f'pcap: link type {lt}', [edgecap, '--pcap', write(
                os.path.join(d, f'lt{lt}.pcap'), blob)],
                [f'lt{lt}.pcap', f'link type {lt}'], d)
        refused('pcap: a directory', [edgecap, '--pcap', d],
                [os.path.basename(d)], d)
        refused('pcap: missing', [edgecap, '--pcap', os.path.join(d, 'nope.pcap')],
                ['nope.pcap'], d)
        # pcapng cut in the middle of a block.
        ng = os.path.join(d, 'outage.pcapng')
        if run(['editcap', '-F', 'pcapng', src, ng]).returncode == 0:
            blob = open(ng, 'rb').read()
            r, got = analyse(edgecap, write(os.path.join(d, 'cut.pcapng'),
                                            blob[:len(blob) * 2 // 3 + 5]), d, 'cutng')
            warn = [l for l in r.stderr.splitlines() if 'warning' in l]
            check('pcapng: cut mid-block: analysed with a warning',
                  r.returncode == 0 and got is not None and len(warn) >= 1
                  and 'cut.pcapng' in warn[0], r.stderr.strip()[:300])


# ------------------------------------------------------------------ options

def options_cases(edgecap, gen):
    with tempfile.TemporaryDirectory(prefix='edgecap-robust-') as d:
        pcap = generate(gen, 'seed', d)
        cases = [
            (['--pcap'], ['--pcap', 'needs a value']),
            (['--pcap', pcap, '--workers', '0'], ['--workers', "'0'"]),
            (['--pcap', pcap, '--workers', '65'], ['--workers', "'65'"]),
            (['--pcap', pcap, '--workers', '-1'], ['--workers']),
            (['--pcap', pcap, '--workers', '1e3'], ['--workers']),
            (['--pcap', pcap, '--window', 'nan'], ['--window']),
            (['--pcap', pcap, '--window', '-5'], ['--window']),
            (['--pcap', pcap, '--window', 'inf'], ['--window']),
            (['--pcap', pcap, '--min-failure-ratio', '1.5'], ['--min-failure-ratio']),
            (['--pcap', pcap, '--min-failures', '0'], ['--min-failures']),
            (['--pcap', pcap, '--min-failures', '99999999999999999999'],
             ['--min-failures']),
            (['--pcap', pcap, '--memory', '1'], ['--memory']),
            (['--pcap', pcap, '--quiet=yes'], ['--quiet', 'takes no value']),
            (['--pcap', pcap, '--file-prefix', '../x'], ['--file-prefix']),
            (['--pcap', pcap, 'stray'], ["'stray'"]),
            (['--pcap', pcap, '--iface', 'lo'], ['--pcap', '--iface']),
            (['--pcap', 'a,b.pcap'], ["','"]),
            ([], ['nothing to read']),
            (['--pcap', pcap, '--workers', '2', '--dispatch', 'hw'], ['--dispatch hw']),
            (['--config', os.path.join(d, 'none.toml'), '--pcap', pcap], ['none.toml']),
            (['--pcap', pcap, '--incidents', os.path.join(d, 'no', 'dir', 'x.jsonl')],
             ['x.jsonl']),
            (['--pcap', pcap, '--report', os.path.join(d, 'no', 'dir', 'r.md')],
             ['r.md']),
        ]
        for args, needles in cases:
            cmd = [edgecap] + args
            # The last two give their own output paths: keep theirs.
            if any(a in ('--incidents', '--report') for a in args):
                r = run(cmd + ['--quiet', '--no-progress'])
                lines = [l for l in r.stderr.splitlines() if l.strip()]
                ok = (r.returncode != 0 and len(lines) == 1 and
                      all(n in lines[0] for n in needles))
                check('options: ' + ' '.join(args[2:]), ok,
                      f'exit {r.returncode}: {" | ".join(lines[:3])}')
                continue
            refused('options: ' + ' '.join(a if len(a) < 40 else '...' for a in args),
                    cmd, needles, d)


# ------------------------------------------------------------------ config

def config_cases(edgecap, gen):
    with tempfile.TemporaryDirectory(prefix='edgecap-robust-') as d:
        pcap = generate(gen, 'seed', d)
        # The sectioned format of options.cpp's ConfigKeys(): [input], [cpu],
        # [eal], [output], [rules], [thresholds], [telemetry], [[port]].
        cases = [
            ('unknown-key', '[cpu]\nworkers = 2\n\nfrobnicate = 1\n', 4, ['frobnicate']),
            ('unknown-section', '[cpu]\nworkers = 1\n[nonsense]\nwindow = 30\n',
             (3, 4), ['nonsense']),
            ('flat-key', '# old style\nworkers = 2\n', 2, ['workers']),
            ('section-as-value', 'cpu = 3\n', 1, ['cpu']),
            ('wrong-type', '[thresholds]\nwindow = 30\n[cpu]\nworkers = "two"\n', 4,
             ['workers']),
            ('bad-value', '# settings\n[cpu]\nworkers = 0\n', 3, ['workers', "'0'"]),
            ('bad-ratio', '[thresholds]\nmin_failure_ratio = 2.5\n', 2,
             ['min_failure_ratio']),
            ('flag-string', '[output]\nquiet = "yes"\n', 2, ['quiet']),
            ('value-bool', '[cpu]\n\nworkers = true\n', 3, ['workers']),
            ('datetime', '[thresholds]\nwindow = 1979-05-27T07:32:00Z\n', 2, ['window']),
            ('array-ints', '[input]\npcap = [1, 2]\n', 2, ['pcap']),
            ('array-for-scalar', '[cpu]\nworkers = [1, 2]\n', 2, ['workers']),
            ('syntax', '[cpu]\nworkers = 2\nwindow = = 3\n', 3, []),
            ('unterminated', '[output]\nincidents = "x.jsonl\n', 2, []),
            ('duplicate', '[cpu]\nworkers = 2\nworkers = 3\n', 3, ['workers']),
            ('binary', '\x00\x01\x02garbage\n', 1, []),
            ('nested-setting', '[input]\nconfig = "other.toml"\n', 2, ['config']),
        ]
        for name, text, line, needles in cases:
            path = os.path.join(d, f'{name}.toml')
            with open(path, 'w') as f:
                f.write(text)
            lines = line if isinstance(line, tuple) else (line,)
            refused(f'config: {name}', [edgecap, '--config', path, '--pcap', pcap],
                    [tuple(f'{name}.toml:{n}:' for n in lines)] + needles, d)
        # A good file is accepted and the command line overrides it.
        good = os.path.join(d, 'good.toml')
        with open(good, 'w') as f:
            f.write(f'[input]\npcap = ["{pcap}"]\n[cpu]\nworkers = 2\n'
                    '[output]\nquiet = true\n[thresholds]\nmin_failure_ratio = 0.5\n')
        r = run([edgecap, '--config', good, '--workers', '1', '--no-progress'])
        check('config: good file accepted', r.returncode == 0 and r.stdout == '',
              f'exit {r.returncode} {r.stderr.strip()[:200]}')


# ------------------------------------------------------------------ rules

def rules_cases(edgecap, gen):
    with tempfile.TemporaryDirectory(prefix='edgecap-robust-') as d:
        pcap = generate(gen, 'seed', d)
        good = os.path.join(d, 'good.rules')
        with open(good, 'w') as f:
            f.write('1:/^x{3}\\.example$/\n')
        r = run([edgecap, '--pcap', pcap, '--rules', good, '--quiet',
                 '--no-progress'])
        if r.returncode != 0:
            check('rules: a good rule file is accepted', False, r.stderr.strip())
            return
        r = run([edgecap, '--pcap', pcap, '--rules', os.path.join(d, 'none.rules'),
                 '--quiet', '--no-progress'])
        check('rules: a missing rule file is refused', r.returncode != 0,
              r.stderr.strip())
        cases = [
            ('bad-flag.rules', '# ok\n1:/abc/q\n', 2, []),
            ('bad-regex.rules', '1:/abc/\n2:/(unclosed/\n', 2, []),
            ('dup-id.rules', '1:/a/\n1:/b/\n', 2, ['1']),
            ('no-slash.rules', '\n\n5:abc\n', 3, []),
            ('bad.domains', 'example.com\nbad..name\n', 2, []),
            ('bad-ext.rules', '1:/a/{edit_distance=x}\n', 1, []),
        ]
        for name, text, line, needles in cases:
            path = os.path.join(d, name)
            with open(path, 'w') as f:
                f.write(text)
            refused(f'rules: {name}', [edgecap, '--pcap', pcap, '--rules', path],
                    [f'{name}:{line}:'] + needles, d)
        refused('rules: missing', [edgecap, '--pcap', pcap, '--rules',
                                   os.path.join(d, 'none.rules')], ['none.rules'], d)


# ------------------------------------------------------------------ signals

def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack(f'!{len(b) // 2}H', b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 0, 0, 64,
                    proto, 0, bytes(src), bytes(dst))
    h = h[:10] + struct.pack('!H', checksum(h)) + h[12:]
    return h + payload


def ether(ip_packet):
    return bytes.fromhex('020000000002' '020000000001' '0800') + ip_packet


SERVER = [203, 0, 113, 2]


def outage_frames(n):
    """n DNS queries to 203.0.113.2 from 20 clients, each answered by ICMP
    port unreachable: (query frame, error frame) pairs."""
    out = []
    for i in range(n):
        client = [192, 0, 2, 10 + i % 20]
        qname = b''.join(bytes([len(l)]) + l for l in
                         [b'yummyrecipesforme', b'com']) + b'\0'
        dns = struct.pack('!HHHHHH', 1000 + i, 0x0100, 1, 0, 0, 0) + qname + \
            struct.pack('!HH', 1, 1)
        udp = struct.pack('!HHHH', 40000 + i, 53, 8 + len(dns), 0) + dns
        query = ipv4(client, SERVER, 17, udp)
        icmp = struct.pack('!BBHI', 3, 3, 0, 0) + query
        icmp = icmp[:2] + struct.pack('!H', checksum(icmp)) + icmp[4:]
        out.append((ether(query), ether(ipv4(SERVER, client, 1, icmp))))
    return out


def send_cases(iface):
    """Inside the namespace: the outage at 20 queries a second for 3 s."""
    import socket
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for q, e in outage_frames(60):
        s.send(q)
        time.sleep(0.002)
        s.send(e)
        time.sleep(0.048)
    return 0


def signal_cases(edgecap, gen):
    """Live capture (net_af_packet) on one end of a veth pair in a namespace
    of our own; the other end carries a DNS outage (queries answered by ICMP
    port unreachable). SIGINT once edgecap says the incident opened, SIGTERM
    right after the traffic (before the detector could open it): either way
    the incident is written with state open, the final counters are printed
    and edgecap exits 0."""
    if os.geteuid() != 0:
        print('SKIP: network namespaces need root')
        return 77
    ns = f'edgecap-robust-{os.getpid()}'
    subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)
    procs = []

    def cleanup(*_):
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)

    old = {s: signal.signal(s, lambda *a: (cleanup(), sys.exit(1)))
           for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for cmd in (['ip', 'netns', 'add', ns],
                    ['ip', '-n', ns, 'link', 'add', 'ra', 'type', 'veth',
                     'peer', 'name', 'rb'],
                    ['ip', '-n', ns, 'link', 'set', 'ra', 'up'],
                    ['ip', '-n', ns, 'link', 'set', 'rb', 'up']):
            r = run(cmd)
            if r.returncode != 0:
                check('namespace: ' + ' '.join(cmd), False, r.stderr.strip())
                return 1
        with tempfile.TemporaryDirectory(prefix='edgecap-robust-') as d:
            for sig, wait_open in ((signal.SIGINT, True), (signal.SIGTERM, False)):
                name = sig.name
                inc = os.path.join(d, f'{name}.jsonl')
                out = open(os.path.join(d, f'{name}.out'), 'w+')
                err = open(os.path.join(d, f'{name}.err'), 'w+')
                p = subprocess.Popen(
                    ['ip', 'netns', 'exec', ns, edgecap, '--iface', 'rb',
                     '--incidents', inc, '--no-progress',
                     '--file-prefix', f'{ns}-{name}'], stdout=out, stderr=err)
                procs.append(p)
                time.sleep(3)  # EAL and the af_packet port
                if p.poll() is not None:
                    err.seek(0)
                    check(f'{name}: edgecap started', False, err.read()[-300:])
                    continue
                r = run(['ip', 'netns', 'exec', ns, sys.executable,
                         os.path.abspath(__file__), 'send', 'ra', '-'])
                check(f'{name}: traffic sent', r.returncode == 0, r.stderr[-300:])
                opened = False
                if wait_open:
                    t0 = time.monotonic()
                    while time.monotonic() - t0 < 60 and p.poll() is None:
                        err.seek(0)
                        if 'incident opened' in err.read():
                            opened = True
                            break
                        time.sleep(0.2)
                    check(f'{name}: incident opened while running', opened)
                else:
                    time.sleep(0.5)
                p.send_signal(sig)
                try:
                    rc = p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    rc = p.wait()
                    check(f'{name}: exits within 60 s', False)
                out.seek(0)
                err.seek(0)
                stdout, stderr = out.read(), err.read()
                records = []
                if os.path.exists(inc):
                    records = [json.loads(l) for l in open(inc) if l.strip()]
                mine = [x for x in records
                        if x['server']['ip'] == '203.0.113.2']
                check(f'{name}: exit 0', rc == 0,
                      f'exit {rc}: {stderr.strip()[-300:]}')
                check(f'{name}: the outage written once, with state open',
                      len(mine) == 1 and mine[0]['state'] == 'open' and
                      mine[0]['kind'] == 'dns-port-unreachable',
                      f'{len(records)} records: ' +
                      '; '.join(f"{x['kind']} {x['server']['ip']} {x['state']}"
                                for x in records))
                if len(mine) == 1:
                    f = mine[0]['failures']
                    check(f'{name}: all 60 failures and 20 clients counted',
                          f['icmp_port_unreachable'] == 60 and
                          mine[0]['clients']['count'] == 20,
                          f"{f['icmp_port_unreachable']} failures, "
                          f"{mine[0]['clients']['count']} clients")
                m = [l for l in stdout.splitlines() if 'packets' in l]
                check(f'{name}: final counters printed',
                      bool(m) and 'drops' in stdout and
                      int(m[0].split()[1].replace(',', '')) >= 120,
                      stdout[:200])
    finally:
        cleanup()
        for s, h in old.items():
            signal.signal(s, h)
        # EAL leaves its runtime directories behind; these are ours.
        import shutil
        for name in ('SIGINT', 'SIGTERM'):
            shutil.rmtree(f'/var/run/dpdk/{ns}-{name}', ignore_errors=True)
    return 0


def telemetry_cases(edgecap, gen):
    """Abuse of the telemetry socket while edgecap lingers after a capture:
    random bytes, oversized and NUL-laden requests, 600 connections opened
    and dropped (some before reading the reply), 16 concurrent clients over
    the connection limit. Every request is served or refused, edgecap stays
    up, its answers do not change, and SIGINT still ends it with exit 0."""
    import random
    import shutil
    import socket
    import threading
    rng = random.Random(9)
    prefix = f'robust-tel-{os.getpid()}'
    path = f'/var/run/dpdk/{prefix}/dpdk_telemetry.v2'
    with tempfile.TemporaryDirectory(prefix='edgecap-robust-') as d:
        pcap = generate(gen, 'outage', d)
        err = open(os.path.join(d, 'err'), 'w+')
        p = subprocess.Popen([edgecap, '--pcap', pcap, '--linger', '--quiet',
                              '--no-progress', '--file-prefix', prefix,
                              '--incidents', os.path.join(d, 'inc.jsonl')],
                             stdout=subprocess.DEVNULL, stderr=err)
        try:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 120 and p.poll() is None:
                err.seek(0)
                if 'serving telemetry' in err.read():
                    break
                time.sleep(0.1)
            if p.poll() is not None or not os.path.exists(path):
                err.seek(0)
                check('telemetry: edgecap lingers with a socket', False, err.read()[-300:])
                return 1

            def connect():
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.settimeout(5)
                s.connect(path)
                s.recv(1024)  # hello
                return s

            def query(cmd):
                s = connect()
                try:
                    s.send(cmd if isinstance(cmd, bytes) else cmd.encode())
                    data = s.recv(65536)
                    return json.loads(data.decode()) if data else None
                finally:
                    s.close()

            def stable(stats):
                return {k: v for k, v in stats.items()
                        if k in ('packets', 'dns', 'icmp', 'transactions',
                                 'incidents', 'drops')}

            before = query('/edgecap/stats')['/edgecap/stats']
            served = refused = 0

            def abuse(payload):
                nonlocal served, refused
                try:
                    r = query(payload)
                    served += r is not None
                    refused += r is None
                except (OSError, ValueError):
                    refused += 1

            for _ in range(200):
                abuse(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))))
            for payload in [b'A' * 70000, b'/edgecap/stats,' + b'x' * 100000,
                            b'/edgecap/stats\x00garbage', b'/edgecap/incident,\xff\xfe',
                            b'/' * 1024, b'/edgecap/servers,' + b'9' * 5000,
                            b'/edgecap/incidents,-1', b'/edgecap/incidents,18446744073709551616',
                            b'/help,/edgecap/stats', b'/info', b'/', b',']:
                abuse(payload)
            for i in range(600):  # dropped connections
                try:
                    s = connect()
                    if i % 2:
                        s.send(b'/edgecap/servers,256')
                    s.close()
                except OSError:
                    refused += 1
            errors = []

            def client(k):
                nonlocal served, refused
                for j in range(100):
                    cmd = rng.choice(['/edgecap/stats', '/edgecap/workers',
                                      '/edgecap/servers,256', '/edgecap/incidents',
                                      '/edgecap/incident,edgecap-1', '/edgecap/config',
                                      '/edgecap/servers,abc'])
                    try:
                        r = query(cmd)
                        served += r is not None
                    except (OSError, ValueError) as e:
                        refused += 1
                        if len(errors) < 3:
                            errors.append(repr(e))
            threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            alive = p.poll() is None
            check('telemetry: edgecap survives garbage, oversized, dropped and '
                  'concurrent requests', alive,
                  f'{served} served, {refused} refused or dropped {errors}')
            if alive:
                after = query('/edgecap/stats')['/edgecap/stats']
                check('telemetry: answers unchanged afterwards',
                      stable(after) == stable(before) and bool(stable(before)))
                inc = query('/edgecap/incidents')
                check('telemetry: incidents still served', bool(inc))
            p.send_signal(signal.SIGINT)
            try:
                rc = p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                rc = None
            err.seek(0)
            check('telemetry: SIGINT ends the linger with exit 0', rc == 0,
                  f'exit {rc}: {err.read()[-300:]}')
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return 0


# ------------------------------------------------------------------ peer

# Link types --pcap decodes (DESIGN: Inputs).
DECODED_LINK_TYPES = {0, 1, 101, 113, 228, 229, 276}


def peer_cases(edgecap, gen):
    corpus = os.environ.get('EDGECAP_PEER_CORPUS', '')
    manifest = os.path.join(corpus, 'MANIFEST.tsv')
    if not os.path.exists(manifest):
        check('peer corpus present', False, manifest)
        return 1
    with open(manifest) as f:
        keys = f.readline().rstrip('\n').split('\t')
        rows = [dict(zip(keys, l.rstrip('\n').split('\t')))
                for l in f if l.strip()]
    check('peer corpus: manifest lists captures', len(rows) > 50, str(len(rows)))
    with tempfile.TemporaryDirectory(prefix='edgecap-peer-') as d:
        for row in rows:
            name = row['file']
            r, _ = analyse(edgecap, os.path.join(corpus, name), d, 'peer')
            lines = r.stderr.strip().splitlines()
            if int(row['linktype']) in DECODED_LINK_TYPES:
                check(f'peer: {name}: analysed', r.returncode == 0,
                      f'exit {r.returncode}: {r.stderr.strip()[-300:]}')
            else:
                check(f'peer: {name}: link type {row["linktype"]} refused',
                      r.returncode == 1 and len(lines) == 1 and
                      name in lines[0] and 'link type' in lines[0],
                      f'exit {r.returncode}: {r.stderr.strip()[-300:]}')
    return 0


def main():
    mode, edgecap, gen = sys.argv[1:4]
    if mode == 'send':
        return send_cases(edgecap)
    fn = {'pcap': pcap_cases, 'options': options_cases, 'config': config_cases,
          'rules': rules_cases, 'signals': signal_cases,
          'telemetry': telemetry_cases, 'peer': peer_cases}[mode]
    rc = fn(edgecap, gen)
    if rc == 77:
        return 77
    print(f'{failures} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())

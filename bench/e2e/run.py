#!/usr/bin/env python3
"""End-to-end throughput of edgecap, side by side with what an operator
would otherwise run, in the same run on the same machine.

  bench/e2e/run.py [--build build] [--packets 1000000] [--rounds 3]
                   [--duration 5] [--growth] [--json out.json]

1. replay: the `mix` capture through net_pcap with infinite_rx=1, into
   `edgecap --duration D` (one worker: the full pipeline) and into
   `dpdk-testpmd --forward-mode=rxonly` on the same vdev, the same lcores
   (main on CPU 0, the polling lcore on CPU 1), the same mbuf size and pool,
   alternately, `--rounds` times. Rates: edgecap's from its own counters
   (packets processed by the worker after a 1 s warm-up), testpmd's from its
   per-second port statistics. Both also per process CPU-second: on a shared
   2-core machine an lcore gets only part of a CPU, and CPU time is what the
   two programs actually used.
2. offline: `edgecap --pcap F`, `tshark -r F -q -z dns,tree` and
   `tcpdump -n -r F` (output to /dev/null), whole-process wall and CPU time.
3. peak memory (maximum RSS from /usr/bin/time -v) of every run.
--growth repeats 1 and 2 (one round) with 10k/100k/1M distinct clients and
1k/100k servers (edgecap-gen mix --clients/--servers).

Medians over rounds are printed as Markdown tables (for bench/RESULTS.md)
and, with --json, written with every individual measurement.
"""
import argparse
import json
import os
import re
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
HEADROOM = 128  # RTE_PKTMBUF_HEADROOM


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def max_frame(path):
    """Longest captured record of a classic pcap (edgecap's replay mbufs)."""
    longest, n = 0, 0
    with open(path, 'rb') as f:
        head = f.read(24)
        magic = struct.unpack('<I', head[:4])[0]
        endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            incl = struct.unpack(endian + 'IIII', h)[2]
            longest = max(longest, incl)
            n += 1
            f.seek(incl, 1)
    return longest, n


def qnames(path, limit=200000):
    """Query names of the first `limit` records (IPv4/IPv6 UDP to port 53)."""
    names = set()
    with open(path, 'rb') as f:
        magic = struct.unpack('<I', f.read(24)[:4])[0]
        endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        for _ in range(limit):
            h = f.read(16)
            if len(h) < 16:
                break
            b = f.read(struct.unpack(endian + 'IIII', h)[2])
            et = int.from_bytes(b[12:14], 'big')
            if et == 0x0800:
                off, proto = 14 + (b[14] & 15) * 4, b[23]
            elif et == 0x86dd:
                off, proto = 54, b[20]
            else:
                continue
            if proto != 17 or int.from_bytes(b[off + 2:off + 4], 'big') != 53:
                continue
            pos, labels = off + 8 + 12, []
            while pos < len(b) and 0 < b[pos] < 64:
                labels.append(b[pos + 1:pos + 1 + b[pos]].decode('ascii', 'replace'))
                pos += 1 + b[pos]
            if labels:
                names.add('.'.join(labels).lower())
    return names


def watch_list(pcap, path, count):
    """A `count`-domain watch list: a tenth are zones the capture queries
    (so some queries hit), the rest synthetic zones that never match."""
    zones = sorted({'.'.join(n.split('.')[-2:]) for n in qnames(pcap)})
    real = zones[:count // 10]
    with open(path, 'w') as f:
        f.write('# @list 9000 severity=medium label=bench watch list\n')
        for z in real:
            f.write(z + '\n')
        for i in range(count - len(real)):
            f.write(f'bench{i:06d}-{(i * 7919) % 100003:05d}.example{i % 97}.net\n')
    return len(real)


def timed(cmd, stdout=subprocess.DEVNULL, timeout=3600):
    """Runs cmd under /usr/bin/time -v; returns (rc, stderr, rusage dict)."""
    with tempfile.NamedTemporaryFile('r', suffix='.time') as tf:
        t0 = time.monotonic()
        p = subprocess.run(['/usr/bin/time', '-v', '-o', tf.name] + cmd,
                           stdout=stdout, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        wall = time.monotonic() - t0
        ru = parse_time(tf.read())
    ru['wall'] = wall
    return p.returncode, p.stderr, ru


def parse_time(text):
    ru = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith('User time'):
            ru['user'] = float(line.split(':')[-1])
        elif line.startswith('System time'):
            ru['sys'] = float(line.split(':')[-1])
        elif line.startswith('Maximum resident set size'):
            ru['maxrss_mb'] = int(line.split(':')[-1]) / 1024
    ru['cpu'] = ru.get('user', 0) + ru.get('sys', 0)
    return ru


def proc_cpu(pid, thread_prefix=None):
    """utime + stime in seconds of a process (all threads), or of its
    threads whose name starts with `thread_prefix`."""
    paths = [f'/proc/{pid}/stat']
    if thread_prefix:
        paths = []
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/comm') as f:
                if f.read().startswith(thread_prefix):
                    paths.append(f'/proc/{pid}/task/{tid}/stat')
    total = 0
    for path in paths:
        with open(path) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf('SC_CLK_TCK')


def edgecap_replay(args, pcap, tag, binary=None):
    cmd = [binary or args.edgecap, '--pcap', pcap, '--duration', str(args.duration),
           '--quiet', '--no-progress', '--file-prefix', tag]
    cmd += args.edgecap_arg
    rc, err, ru = timed(cmd)
    m = re.search(r'replay: (\d+) packets processed in ([\d.]+) s; (\d+) '
                  r'packets/s .*?; (\d+) packets per process CPU-second'
                  r'.*?; (\d+) packets per worker CPU-second', err)
    if rc != 0 or not m:
        raise RuntimeError(f'edgecap replay failed ({rc}): {err[-500:]}')
    return {'pps': int(m.group(3)), 'pps_cpu': int(m.group(4)),
            'pps_lcore_cpu': int(m.group(5)), 'maxrss_mb': ru['maxrss_mb']}


BURST = 64


def testpmd_replay(args, pcap, tag, mbufs, mbuf_size):
    """rxonly on the same vdev; stops after `duration` stats periods."""
    mem = max(1024, int((mbufs * (mbuf_size + 256)) / (1 << 20) * 1.5) + 256)
    with tempfile.NamedTemporaryFile('r', suffix='.time') as tf:
        cmd = ['/usr/bin/time', '-v', '-o', tf.name, 'dpdk-testpmd',
               '--no-huge', '-m', str(mem), '--no-pci',
               f'--file-prefix={tag}', '-l', '0,1', '--log-level=*:warning',
               '--vdev', f'net_pcap0,rx_pcap={pcap},infinite_rx=1', '--',
               # edgecap's burst (lib/pipeline/pipeline.h); testpmd's own
               # default is 32.
               '--forward-mode=rxonly', f'--burst={BURST}',
               f'--total-num-mbufs={mbufs}',
               f'--mbuf-size={mbuf_size}', '--stats-period', '1',
               '--auto-start']
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        child = None
        # (rx_packets_total, process CPU s, rx_pps, polling lcore CPU s)
        samples = []
        rx_total = None
        deadline = time.monotonic() + 120
        timer = threading.Timer(150, p.kill)
        timer.start()
        try:
            for line in p.stdout:
                if child is None:
                    try:
                        with open(f'/proc/{p.pid}/task/{p.pid}/children') as f:
                            kids = f.read().split()
                        child = int(kids[0]) if kids else None
                    except OSError:
                        pass
                m = re.search(r'RX-packets:\s+(\d+)\s+RX-missed', line)
                if m:
                    rx_total = int(m.group(1))
                m = re.search(r'Rx-pps:\s+(\d+)', line)
                if m and child is not None:
                    samples.append((rx_total, proc_cpu(child),
                                    int(m.group(1)),
                                    proc_cpu(child, 'rte-worker-')))
                    # The first period includes the start; then `duration`.
                    if len(samples) >= args.duration + 2:
                        os.kill(child, signal.SIGINT)
                        break
                if time.monotonic() > deadline:
                    break
            for _ in p.stdout:
                pass
            p.wait()
        finally:
            timer.cancel()
        ru = parse_time(tf.read())
    live = [s for s in samples[1:] if s[2] > 0]
    if len(live) < 2:
        raise RuntimeError(f'testpmd gave too few statistics: {samples}')
    pps = statistics.median(s[2] for s in live)
    d_rx = live[-1][0] - live[0][0]
    d_cpu = live[-1][1] - live[0][1]
    d_lcore = live[-1][3] - live[0][3]
    return {'pps': int(pps), 'pps_cpu': int(d_rx / max(d_cpu, 1e-9)),
            'pps_lcore_cpu': int(d_rx / max(d_lcore, 1e-9)),
            'maxrss_mb': ru['maxrss_mb']}


def offline(args, pcap, packets, peers=True):
    out = {}
    rc, err, ru = timed([args.edgecap, '--pcap', pcap, '--quiet',
                         '--no-progress'] + args.edgecap_arg)
    if rc != 0:
        raise RuntimeError(f'edgecap --pcap failed: {err[-500:]}')
    out['edgecap'] = ru
    if peers:
        rc, err, ru = timed(['tshark', '-r', pcap, '-q', '-z', 'dns,tree'])
        out['tshark'] = ru
        rc, err, ru = timed(['tcpdump', '-n', '-r', pcap])
        out['tcpdump'] = ru
    for r in out.values():
        r['pps'] = packets / r['wall']
        r['pps_cpu'] = packets / max(r['cpu'], 1e-9)
    return out


def gen(args, path, packets, clients=None, servers=None):
    cmd = [args.gen, 'mix', '-o', path, '--packets', str(packets)]
    if clients:
        cmd += ['--clients', str(clients)]
    if servers:
        cmd += ['--servers', str(servers)]
    subprocess.run(cmd, check=True)


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def replay_rounds(args, pcap, rounds, label):
    longest, records = max_frame(pcap)
    mbuf_size = HEADROOM + (longest + 63) // 64 * 64
    # edgecap's replay pool: the file's records plus its usual pool.
    mbufs = records + 32768
    res = {'edgecap': [], 'testpmd': []}
    contenders = ['edgecap', 'testpmd']
    if args.baseline:
        res['baseline'] = []
        contenders.append('baseline')
    for r in range(rounds):
        tag = f'e2e-{os.getpid()}-{label}-{r}'
        order = contenders if r % 2 == 0 else contenders[::-1]
        for who in order:
            if who == 'baseline':
                x = edgecap_replay(args, pcap, tag + '-b', args.baseline)
            elif who == 'edgecap':
                x = edgecap_replay(args, pcap, tag + '-e')
            else:
                x = testpmd_replay(args, pcap, tag + '-t', mbufs, mbuf_size)
            log(f'  [{label}] round {r + 1} {who}: {x}')
            res[who].append(x)
    e, t = res['edgecap'], res['testpmd']
    summary = {
        'edgecap_pps': med(e, 'pps'), 'testpmd_pps': med(t, 'pps'),
        'edgecap_pps_cpu': med(e, 'pps_cpu'),
        'testpmd_pps_cpu': med(t, 'pps_cpu'),
        'ratio': statistics.median(a['pps'] / b['pps'] for a, b in zip(e, t)),
        'ratio_cpu': statistics.median(a['pps_cpu'] / b['pps_cpu']
                                       for a, b in zip(e, t)),
        'edgecap_pps_lcore_cpu': med(e, 'pps_lcore_cpu'),
        'testpmd_pps_lcore_cpu': med(t, 'pps_lcore_cpu'),
        'ratio_lcore_cpu': statistics.median(
            a['pps_lcore_cpu'] / b['pps_lcore_cpu'] for a, b in zip(e, t)),
        'edgecap_maxrss_mb': med(e, 'maxrss_mb'),
        'testpmd_maxrss_mb': med(t, 'maxrss_mb'),
        'mbuf_size': mbuf_size, 'mbufs': mbufs,
    }
    if args.baseline:
        b = res['baseline']
        summary['baseline_pps'] = med(b, 'pps')
        summary['baseline_pps_cpu'] = med(b, 'pps_cpu')
        summary['baseline_ratio_cpu'] = statistics.median(
            a['pps_cpu'] / c['pps_cpu'] for a, c in zip(b, t))
        summary['baseline_pps_lcore_cpu'] = med(b, 'pps_lcore_cpu')
        summary['baseline_ratio_lcore_cpu'] = statistics.median(
            a['pps_lcore_cpu'] / c['pps_lcore_cpu'] for a, c in zip(b, t))
        summary['baseline_maxrss_mb'] = med(b, 'maxrss_mb')
    return summary, res


def offline_rounds(args, pcap, packets, rounds, peer_rounds, label):
    runs = []
    for r in range(rounds):
        o = offline(args, pcap, packets, peers=r < peer_rounds)
        log(f'  [{label}] offline round {r + 1}: ' + ', '.join(
            f"{k} {v['pps']:.0f} pps wall, {v['pps_cpu']:.0f} pps CPU, "
            f"{v['maxrss_mb']:.0f} MB" for k, v in o.items()))
        runs.append(o)
    summary = {}
    for who in ('edgecap', 'tshark', 'tcpdump'):
        rows = [o[who] for o in runs if who in o]
        if rows:
            summary[who] = {k: med(rows, k) for k in
                            ('pps', 'pps_cpu', 'wall', 'cpu', 'maxrss_mb')}
    if 'tshark' in summary:
        for peer in ('tshark', 'tcpdump'):
            summary[f'vs_{peer}'] = summary['edgecap']['pps'] / \
                summary[peer]['pps']
            summary[f'vs_{peer}_cpu'] = summary['edgecap']['pps_cpu'] / \
                summary[peer]['pps_cpu']
    return summary, runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--workdir', default=None,
                    help='where captures go (default: a temporary dir)')
    ap.add_argument('--packets', type=int, default=1000000)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--peer-rounds', type=int, default=1,
                    help='offline rounds that also run tshark and tcpdump '
                    '(slow: minutes per million packets)')
    ap.add_argument('--duration', type=int, default=5)
    ap.add_argument('--growth', action='store_true')
    ap.add_argument('--growth-clients', default='10000,100000,1000000',
                    help='comma-separated client counts for --growth')
    ap.add_argument('--growth-servers', default='1000,100000',
                    help='comma-separated server counts for --growth')
    ap.add_argument('--skip-main', action='store_true')
    ap.add_argument('--skip-offline', action='store_true',
                    help='replay only (the offline runs and their tshark '
                    'and tcpdump peers take minutes)')
    ap.add_argument('--edgecap-arg', action='append', default=[],
                    help='extra edgecap option (e.g. --edgecap-arg=--rules=F)')
    ap.add_argument('--baseline',
                    help='another edgecap binary (an older build) to replay '
                    'in the same rounds: before/after side by side')
    ap.add_argument('--rules', type=int, default=10000,
                    help='domains in the watch list given to edgecap '
                    '(--rules FILE.domains); 0: no watch list')
    ap.add_argument('--json')
    args = ap.parse_args()
    args.edgecap = os.path.join(args.build, 'apps/edgecap/edgecap')
    args.gen = os.path.join(args.build, 'apps/edgecap-gen/edgecap-gen')
    work = args.workdir or tempfile.mkdtemp(prefix='edgecap-e2e-')
    os.makedirs(work, exist_ok=True)
    result = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
              'machine': machine(), 'args': vars(args)}

    if not args.skip_main:
        pcap = os.path.join(work, 'mix.pcap')
        gen(args, pcap, args.packets)
        if args.rules:
            rules = os.path.join(work, 'watch.domains')
            hits = watch_list(pcap, rules, args.rules)
            args.edgecap_arg = args.edgecap_arg + ['--rules', rules]
            result['watch_list'] = (f'{args.rules} domains ({hits} of them '
                                    f'zones the capture queries)')
            log(f"watch list: {result['watch_list']}")
        log(f'replay: {args.rounds} rounds of {args.duration} s each')
        result['replay'], result['replay_runs'] = replay_rounds(
            args, pcap, args.rounds, 'mix')
        if not args.skip_offline:
            log('offline')
            result['offline'], result['offline_runs'] = offline_rounds(
                args, pcap, args.packets, args.rounds, args.peer_rounds, 'mix')
        os.unlink(pcap)
    if args.growth:
        result['growth'] = []
        for servers in [int(x) for x in args.growth_servers.split(',')]:
            for clients in [int(x) for x in args.growth_clients.split(',')]:
                label = f'c{clients}-s{servers}'
                pcap = os.path.join(work, f'{label}.pcap')
                gen(args, pcap, args.packets, clients, servers)
                rep, _ = replay_rounds(args, pcap, 1, label)
                off, _ = offline_rounds(args, pcap, args.packets, 1, 0, label)
                result['growth'].append({'clients': clients,
                                         'servers': servers,
                                         'replay': rep, 'offline': off})
                os.unlink(pcap)
    report(result)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1, default=str)


def machine():
    model = ''
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith('Model name'):
                model = line.split(':', 1)[1].strip()
    except OSError:
        pass
    return (f'{model}, {os.cpu_count()} CPUs, load average '
            f'{os.getloadavg()[0]:.1f} at start')


def report(r):
    print(f"Date: {r['date']}. Machine: {r['machine']}.")
    print(f"Watch list: {r.get('watch_list', 'none')}.")
    if 'replay' in r:
        p = r['replay']
        print('\n| replay (net_pcap infinite_rx, 1 polling lcore) | pps (wall) '
              '| pps per polling-lcore CPU-second | pps per process '
              'CPU-second | peak RSS |')
        print('|---|---|---|---|---|')
        rows = [('edgecap, full pipeline, 1 worker', 'edgecap')]
        if 'baseline_pps' in p:
            rows.append(('edgecap baseline build (--baseline)', 'baseline'))
        rows.append(('dpdk-testpmd rxonly', 'testpmd'))
        for name, k in rows:
            print(f"| {name} | {p[k + '_pps']/1e6:.2f} M | "
                  f"{p[k + '_pps_lcore_cpu']/1e6:.2f} M | "
                  f"{p[k + '_pps_cpu']/1e6:.2f} M | "
                  f"{p[k + '_maxrss_mb']:.0f} MB |")
        print(f"| ratio edgecap / testpmd (median of per-round ratios) | "
              f"{p['ratio']:.3f} | {p['ratio_lcore_cpu']:.3f} | "
              f"{p['ratio_cpu']:.3f} | |")
        if 'baseline_pps' in p:
            print(f"| ratio baseline / testpmd | | "
                  f"{p['baseline_ratio_lcore_cpu']:.3f} | "
                  f"{p['baseline_ratio_cpu']:.3f} | |")
    if 'offline' in r:
        o = r['offline']
        print('\n| offline, whole process | pps (wall) | pps per CPU-second '
              '| wall s | CPU s | peak RSS |')
        print('|---|---|---|---|---|---|')
        for who in ('edgecap', 'tshark', 'tcpdump'):
            if who in o:
                x = o[who]
                print(f"| {who} | {x['pps']/1e3:.0f} k | {x['pps_cpu']/1e3:.0f} k"
                      f" | {x['wall']:.2f} | {x['cpu']:.2f} | "
                      f"{x['maxrss_mb']:.0f} MB |")
        for peer in ('tshark', 'tcpdump'):
            if f'vs_{peer}' in o:
                print(f"| edgecap / {peer} | {o[f'vs_{peer}']:.1f}x | "
                      f"{o[f'vs_{peer}_cpu']:.1f}x | | | |")
    if r.get('growth'):
        print('\n| clients | servers | edgecap replay pps (wall) | per '
              'worker CPU-s | testpmd per lcore CPU-s | ratio (lcore CPU) | '
              'edgecap replay RSS | edgecap offline pps (wall) | offline RSS |')
        print('|---|---|---|---|---|---|---|---|---|')
        for g in r['growth']:
            p, o = g['replay'], g['offline']['edgecap']
            print(f"| {g['clients']} | {g['servers']} | "
                  f"{p['edgecap_pps']/1e6:.2f} M | "
                  f"{p['edgecap_pps_lcore_cpu']/1e6:.2f} M | "
                  f"{p['testpmd_pps_lcore_cpu']/1e6:.2f} M | "
                  f"{p['ratio_lcore_cpu']:.3f} | "
                  f"{p['edgecap_maxrss_mb']:.0f} MB | {o['pps']/1e3:.0f} k | "
                  f"{o['maxrss_mb']:.0f} MB |")
        if any('baseline_pps' in g['replay'] for g in r['growth']):
            print('\n| clients | servers | baseline replay per worker CPU-s '
                  '| ratio (lcore CPU) | edgecap / baseline |')
            print('|---|---|---|---|---|')
            for g in r['growth']:
                p = g['replay']
                if 'baseline_pps' in p:
                    print(f"| {g['clients']} | {g['servers']} | "
                          f"{p['baseline_pps_lcore_cpu']/1e6:.2f} M | "
                          f"{p['baseline_ratio_lcore_cpu']:.3f} | "
                          f"{p['edgecap_pps_lcore_cpu'] / p['baseline_pps_lcore_cpu']:.2f} |")


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Runs one of the robustness fuzz targets for a bounded time (docs/robustness.md).

usage: robust_fuzz.py KIND FUZZER SECONDS [--peer DIR] [--gen EDGECAP_GEN]
                      [--seeder ROBUST_SEEDS] [--seeds DIR] [--dict FILE]
                      [--corpus DIR] [--jobs N]

KIND is flow, pcap, rules or config; it decides how seeds are made:
  flow    every capture of the peer corpus and of edgecap-gen's scenarios,
          cut into record sequences by ROBUST_SEEDS (flow_fuzz.h);
  pcap    the same captures as whole files (cut at 64 KiB, so cut records are
          seeds too), plus a few broken headers;
  rules   the files under --seeds, prefixed with the file-kind byte;
  config  the TOML files under --seeds, plus a few command lines.
EDGECAP_FUZZ_SECONDS overrides SECONDS. Without --corpus the corpus lives in a
temporary directory; with it, the corpus persists and grows across runs (a
long campaign). Fails on any finding and prints it as hex, ready to become a
regression test.
"""
import argparse
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SCENARIOS = ['seed', 'outage', 'firewall', 'router-unreachable', 'timeouts',
             'servfail', 'refused', 'nxdomain-storm', 'healthy',
             'ipv6-outage', 'vlan', 'malformed']


def captures(args, tmp):
    files = []
    if args.peer:
        files += sorted(glob.glob(os.path.join(args.peer, '*.pcap')) +
                        glob.glob(os.path.join(args.peer, '*.pcapng')))
    if args.gen and not os.access(args.gen, os.X_OK):
        print(f'{args.gen} not built: seeding without generated scenarios')
    elif args.gen:
        for s in SCENARIOS:
            out = os.path.join(tmp, f'gen-{s}.pcap')
            r = subprocess.run([args.gen, s, '-o', out, '--packets', '3000'],
                               capture_output=True)
            if r.returncode != 0:  # --packets is not for every scenario
                r = subprocess.run([args.gen, s, '-o', out],
                                   capture_output=True)
            if r.returncode == 0:
                files.append(out)
    return files


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def make_seeds(args, tmp, seeds):
    if args.kind == 'flow':
        subprocess.run([args.seeder, seeds, '12000'] + captures(args, tmp),
                       check=True)
    elif args.kind == 'pcap':
        for i, c in enumerate(captures(args, tmp)):
            with open(c, 'rb') as f:
                write(os.path.join(seeds, f'cap-{i}'), f.read(65536))
        hdr = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
        rec = struct.pack('<IIII', 1710421200, 0, 60, 60) + bytes(60)
        write(os.path.join(seeds, 'cut'), hdr + rec + rec[:30])
        write(os.path.join(seeds, 'caplen'),
              hdr + struct.pack('<IIII', 1, 0, 0x7fffffff, 60) + bytes(60))
        write(os.path.join(seeds, 'linktype'),
              hdr[:20] + struct.pack('<I', 147) + rec)
    elif args.kind == 'rules':
        for p in sorted(glob.glob(os.path.join(args.seeds, '*'))):
            with open(p, 'rb') as f:
                kind = b'\x01' if p.endswith('.domains') else b'\x00'
                write(os.path.join(seeds, os.path.basename(p)), kind + f.read())
    elif args.kind == 'config':
        for p in sorted(glob.glob(os.path.join(args.seeds, '*'))):
            with open(p, 'rb') as f:
                write(os.path.join(seeds, os.path.basename(p)),
                      b'\x00' + f.read())
        lines = [[b'--pcap', b'x.pcap', b'--workers', b'3', b'--dispatch=sw'],
                 [b'-l', b'0-2', b'--', b'--window', b'30', b'--quiet'],
                 [b'--iface', b'eth0', b'--min-failure-ratio', b'0.7']]
        for i, l in enumerate(lines):
            write(os.path.join(seeds, f'argv-{i}'), b'\x01' + b'\x00'.join(l))
    if not os.listdir(seeds):
        sys.exit(f'no seeds for {args.kind}')


def main():
    p = argparse.ArgumentParser()
    p.add_argument('kind', choices=['flow', 'pcap', 'rules', 'config'])
    p.add_argument('fuzzer')
    p.add_argument('seconds', type=int)
    p.add_argument('--peer')
    p.add_argument('--gen')
    p.add_argument('--seeder')
    p.add_argument('--seeds')
    p.add_argument('--dict')
    p.add_argument('--corpus')
    p.add_argument('--jobs', type=int, default=1)
    args = p.parse_args()
    seconds = int(os.environ.get('EDGECAP_FUZZ_SECONDS', args.seconds))
    max_len = {'flow': 16384, 'pcap': 65536, 'rules': 8192,
               'config': 4096}[args.kind]
    with tempfile.TemporaryDirectory(prefix=f'edgecap-{args.kind}-fuzz-') as tmp:
        seeds = os.path.join(tmp, 'seeds')
        os.mkdir(seeds)
        make_seeds(args, tmp, seeds)
        corpus = args.corpus or os.path.join(tmp, 'corpus')
        os.makedirs(corpus, exist_ok=True)
        artifacts = os.path.join(tmp, 'artifacts') + '/'
        os.mkdir(artifacts)
        # Work files of the pcap and config targets go to the temp dir too.
        env = dict(os.environ, TMPDIR=tmp)
        cmd = [args.fuzzer, corpus, seeds, f'-max_total_time={seconds}',
               '-timeout=10', '-rss_limit_mb=2048', f'-max_len={max_len}',
               '-print_final_stats=1', f'-artifact_prefix={artifacts}']
        if args.dict:
            cmd.append(f'-dict={args.dict}')
        if args.jobs > 1:
            cmd += [f'-fork={args.jobs}', '-ignore_crashes=0']
        print(' '.join(cmd), flush=True)
        rc = subprocess.run(cmd, env=env).returncode
        for name in sorted(os.listdir(artifacts)):
            with open(os.path.join(artifacts, name), 'rb') as f:
                data = f.read()
            print(f'finding {name} ({len(data)} bytes): {data.hex()}')
            if args.corpus:
                keep = os.path.join(args.corpus, '..', 'findings')
                os.makedirs(keep, exist_ok=True)
                shutil.copy(os.path.join(artifacts, name), keep)
        # libFuzzer exits 77 on a finding, which meson reads as "skipped":
        # any finding, or any other failure, must fail the test.
        return 1 if rc != 0 or os.listdir(artifacts) else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""End-to-end checks of the edgecap binary (owner: app, issue 5).

  app_check.py truth EDGECAP GEN SCENARIO
      edgecap --pcap on an edgecap-gen scenario; every incident field the
      ground truth states must equal edgecap's (same incidents, same order).
  app_check.py determinism EDGECAP GEN SCENARIO
      incidents JSON byte-identical for --workers 1, 2, 3 with software
      dispatch and 2, 3 with hardware dispatch (net_pcap, one rx_pcap= per
      queue, split by `edgecap-gen split` as a NIC's symmetric RSS would).
  app_check.py badinput EDGECAP GEN
      unreadable / non-pcap file, unsupported link type, bad option, a vdev
      that fails: one line on stderr naming the problem, non-zero exit.
"""
import json
import os
import subprocess
import sys
import tempfile


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def generate(gen, scenario, directory):
    pcap = os.path.join(directory, scenario + '.pcap')
    r = run([gen, scenario, '-o', pcap])
    if r.returncode != 0:
        sys.exit(f'edgecap-gen {scenario} failed: {r.stderr}')
    with open(pcap[:-5] + '.truth.json') as f:
        return pcap, json.load(f)


def incidents(edgecap, pcaps, directory, name, extra=()):
    out = os.path.join(directory, name + '.jsonl')
    cmd = [edgecap]
    for p in pcaps:
        cmd += ['--pcap', p]
    cmd += ['--incidents', out, '--quiet', '--no-progress', *extra]
    r = run(cmd)
    if r.returncode != 0:
        sys.exit(f'{" ".join(cmd)}: exit {r.returncode}: {r.stderr.strip()}')
    if not os.path.exists(out):
        sys.exit(f'{" ".join(cmd)}: no incidents file written')
    with open(out, 'rb') as f:
        return f.read()


def compare(path, want, got, problems):
    if isinstance(want, dict):
        if not isinstance(got, dict):
            problems.append(f'{path}: expected an object, got {got!r}')
            return
        for k, v in want.items():
            if k not in got:
                problems.append(f'{path}.{k}: missing (truth {v!r})')
            else:
                compare(f'{path}.{k}', v, got[k], problems)
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            problems.append(f'{path}: truth {want!r}\n    edgecap {got!r}')
            return
        for i, (w, g) in enumerate(zip(want, got)):
            compare(f'{path}[{i}]', w, g, problems)
    elif want != got:
        problems.append(f'{path}: truth {want!r}, edgecap {got!r}')


def truth(edgecap, gen, scenario):
    with tempfile.TemporaryDirectory() as d:
        pcap, t = generate(gen, scenario, d)
        lines = incidents(edgecap, [pcap], d, 'out').decode().splitlines()
        got = [json.loads(l) for l in lines if l.strip()]
        want = t['incidents']
        problems = []
        if len(got) != len(want):
            problems.append(f'{len(want)} incidents in truth, {len(got)} from edgecap: '
                            + ', '.join(f"{i['kind']} {i['server']['ip']}" for i in got))
        for i, (w, g) in enumerate(zip(want, got)):
            compare(f'incident[{i}]', w, g, problems)
        for p in problems:
            print(p)
        print(f'{scenario}: {len(want)} incidents in truth, {len(got)} from edgecap, '
              f'{len(problems)} differences')
        return 1 if problems else 0


def determinism(edgecap, gen, scenario):
    with tempfile.TemporaryDirectory() as d:
        pcap, t = generate(gen, scenario, d)
        runs = {'workers=1': incidents(edgecap, [pcap], d, 'w1')}
        for w in (2, 3):
            runs[f'workers={w} sw'] = incidents(
                edgecap, [pcap], d, f'sw{w}', ['--workers', str(w), '--dispatch', 'sw'])
            prefix = os.path.join(d, f'q{w}')
            r = run([gen, 'split', pcap, '--queues', str(w), '-o', prefix])
            if r.returncode != 0:
                sys.exit(f'edgecap-gen split failed: {r.stderr}')
            queues = [f'{prefix}.{q}.pcap' for q in range(w)]
            runs[f'workers={w} hw'] = incidents(
                edgecap, queues, d, f'hw{w}', ['--dispatch', 'hw'])
        base = runs['workers=1']
        bad = [k for k, v in runs.items() if v != base]
        n = len(base.splitlines())
        print(f'{scenario}: {n} incidents; {len(runs)} runs; differing: {bad or "none"}')
        if t['incidents'] and n == 0:
            print('no incidents at all: nothing was compared')
            return 1
        return 1 if bad else 0


def badinput(edgecap, gen):
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        text = os.path.join(d, 'notes.txt')
        with open(text, 'w') as f:
            f.write('not a capture\n')
        unreadable = os.path.join(d, 'secret.pcap')
        pcap, _ = generate(gen, 'seed', d)
        with open(unreadable, 'wb') as f:
            f.write(open(pcap, 'rb').read())
        os.chmod(unreadable, 0)
        hdlc = os.path.join(d, 'hdlc.pcap')
        with open(hdlc, 'wb') as f:  # pcap header, link type 104 (C_HDLC)
            f.write(bytes.fromhex('d4c3b2a1020004000000000000000000ffff000068000000'))
        cases = [
            ([edgecap, '--pcap', os.path.join(d, 'missing.pcap')], 'missing.pcap'),
            ([edgecap, '--pcap', text], 'notes.txt'),
            ([edgecap, '--pcap', hdlc], 'link type 104'),
            ([edgecap, '--pcap', pcap, '--frobnicate'], '--frobnicate'),
            ([edgecap, '--pcap', pcap, '--workers', 'many'], '--workers'),
            ([edgecap, '--pcap', pcap, '--dispatch', 'magic'], '--dispatch'),
            ([edgecap, '--iface', 'edgecap-nosuch0'], 'edgecap-nosuch0'),
            # A vdev that fails to start: net_pcap cannot open a directory.
            ([edgecap, '--no-huge', '-m', '256', '--no-pci',
              f'--file-prefix=edgecap-bad-{os.getpid()}', '--log-level=*:error',
              '--vdev', f'net_pcap0,rx_pcap={d}', '--', '--workers', '1'],
             '--vdev net_pcap0'),
        ]
        if os.geteuid() != 0:  # root reads anything
            cases.append(([edgecap, '--pcap', unreadable], 'secret.pcap'))
        for cmd, needle in cases:
            r = run(cmd)
            lines = [l for l in r.stderr.splitlines()
                     if l.startswith('edgecap:')]
            ok = (r.returncode != 0 and len(lines) == 1
                  and (needle is None or needle in lines[0]))
            print(('ok   ' if ok else 'FAIL ') + ' '.join(cmd[1:]) + f' -> exit {r.returncode}: '
                  + ' | '.join(lines))
            failures += 0 if ok else 1
    return 1 if failures else 0


def main():
    mode = sys.argv[1]
    if mode == 'truth':
        return truth(*sys.argv[2:5])
    if mode == 'determinism':
        return determinism(*sys.argv[2:5])
    if mode == 'badinput':
        return badinput(*sys.argv[2:4])
    sys.exit(f'unknown mode {mode}')


if __name__ == '__main__':
    sys.exit(main())

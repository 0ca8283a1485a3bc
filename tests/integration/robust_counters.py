#!/usr/bin/env python3
"""What a run says on its own, against the real edgecap binary.

  robust_counters.py stderr EDGECAP GEN  a clean run prints nothing on
                                         stderr without --verbose (DPDK's
                                         own lines included); --verbose
                                         still shows DPDK's lines

Every case prints ok/FAIL; the exit status is non-zero if any failed.
"""
import os
import subprocess
import sys
import tempfile

failures = 0


def check(name, ok, detail=''):
    global failures
    print(('ok   ' if ok else 'FAIL ') + name +
          (f': {detail}' if detail and not ok else ''), flush=True)
    if not ok:
        failures += 1


def run(cmd, timeout=300):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def generate(gen, scenario, directory, *extra):
    pcap = os.path.join(directory, scenario + '.pcap')
    r = run([gen, scenario, '-o', pcap, *extra])
    if r.returncode != 0:
        sys.exit(f'edgecap-gen {scenario} failed: {r.stderr}')
    return pcap


def stderr_cases(edgecap, gen):
    with tempfile.TemporaryDirectory() as d:
        pcap = generate(gen, 'outage', d)
        out = os.path.join(d, 'x.jsonl')
        r = run([edgecap, '--pcap', pcap, '--no-progress', '--incidents', out])
        check('clean run exits 0', r.returncode == 0, r.stderr)
        check('clean run: stdout has the summary',
              r.stdout.startswith('edgecap: '), r.stdout[:200])
        # DPDK 22.11's telemetry library warned "No legacy callbacks, legacy
        # socket not created" on every run.
        check('clean run: nothing on stderr', r.stderr == '', repr(r.stderr))
        r = run([edgecap, '--pcap', pcap, '--no-progress', '--quiet',
                 '--verbose', '--incidents', out])
        check('--verbose exits 0', r.returncode == 0, r.stderr[-500:])
        check('--verbose: DPDK lines (EAL, TELEMETRY) on stderr',
              'EAL: ' in r.stderr and 'TELEMETRY: ' in r.stderr,
              r.stderr[-500:])


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    mode, edgecap, gen = sys.argv[1:]
    {'stderr': stderr_cases}[mode](edgecap, gen)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Runs decode_fuzz for a bounded time, seeded with the peer corpus.

usage: run_fuzz.py FUZZER SEEDER CORPUS_DIR SECONDS

Turns every frame of every capture in CORPUS_DIR into a seed (SEEDER, i.e.
fuzz_seeds), runs FUZZER on a temporary copy so the corpus itself is never
written to, and fails on any finding (libFuzzer exits non-zero on a crash, a
sanitizer report, a leak or a timeout).
"""
import glob
import os
import subprocess
import sys
import tempfile


def main():
    fuzzer, seeder, corpus, seconds = sys.argv[1:5]
    # scripts/test.sh: EDGECAP_FUZZ_SECONDS bounds every target alike.
    seconds = os.environ.get('EDGECAP_FUZZ_SECONDS', seconds)
    captures = sorted(glob.glob(os.path.join(corpus, '*.pcap')) +
                      glob.glob(os.path.join(corpus, '*.pcapng')))
    if not captures:
        print(f'no captures in {corpus}: the peer corpus is missing')
        return 1
    with tempfile.TemporaryDirectory(prefix='edgecap-fuzz-') as tmp:
        seeds = os.path.join(tmp, 'corpus')
        artifacts = os.path.join(tmp, 'artifacts') + '/'
        os.mkdir(seeds)
        os.mkdir(artifacts)
        subprocess.run([seeder, seeds] + captures, check=True)
        cmd = [fuzzer, seeds, f'-max_total_time={seconds}', '-timeout=10',
               '-rss_limit_mb=2048', '-max_len=70000', '-print_final_stats=1',
               f'-artifact_prefix={artifacts}']
        print(' '.join(cmd), flush=True)
        rc = subprocess.run(cmd).returncode
        for name in os.listdir(artifacts):
            with open(os.path.join(artifacts, name), 'rb') as f:
                print(f'finding {name}: {f.read().hex()}')
        # libFuzzer exits 77 on a finding, which meson reads as "skipped":
        # any finding, or any other failure, must fail the test.
        return 1 if rc != 0 or os.listdir(artifacts) else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""The bundled sample (apps/edgecap-gen/samples/seed.pcap, what README's demo
command analyses) must be exactly what `edgecap-gen seed` writes today, and
so must its ground truth.

  sample_check.py EDGECAP_GEN SAMPLES_DIR
"""
import filecmp
import os
import subprocess
import sys
import tempfile


def main():
    gen, samples = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'seed.pcap')
        subprocess.run([gen, 'seed', '-o', out], check=True)
        bad = [name for name in ('seed.pcap', 'seed.truth.json')
               if not filecmp.cmp(os.path.join(d, name),
                                  os.path.join(samples, name), shallow=False)]
    for name in bad:
        print(f'FAIL: {name} differs from what edgecap-gen seed writes now')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

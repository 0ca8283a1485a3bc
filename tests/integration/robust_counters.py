#!/usr/bin/env python3
"""What a run says on its own, against the real edgecap binary.

  robust_counters.py stderr EDGECAP GEN  a clean run prints nothing on
                                         stderr without --verbose (DPDK's
                                         own lines included); --verbose
                                         still shows DPDK's lines
  robust_counters.py watchdrops EDGECAP GEN
                                         a second with more watch-list hits
                                         and (rule, server) pairs than a
                                         worker keeps: both losses counted
                                         exactly in /edgecap/stats, and
                                         shown in the summary
  robust_counters.py queryframes EDGECAP GEN
                                         more queries than a worker keeps
                                         frames for, all timing out: the
                                         failures without their query frame
                                         counted exactly in /edgecap/stats
                                         and warned

Every case prints ok/FAIL; the exit status is non-zero if any failed.
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from robust_edges import generate, run  # same directory

failures = 0


def check(name, ok, detail=''):
    global failures
    print(('ok   ' if ok else 'FAIL ') + name +
          (f': {detail}' if detail and not ok else ''), flush=True)
    if not ok:
        failures += 1


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


def query_frame(i, server):
    """Ethernet/IPv4/UDP DNS query for evil.example A from 10.1.0.1 to
    `server`:53 (IP checksum 0: edgecap does not check it)."""
    qname = b'\x04evil\x07example\x00'
    dns = struct.pack('!HHHHHH', i & 0xffff, 0x0100, 1, 0, 0, 0) + qname + \
        struct.pack('!HH', 1, 1)
    udp = struct.pack('!HHHH', 1024 + i % 60000, 53, 8 + len(dns), 0) + dns
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0,
                     64, 17, 0, bytes([10, 1, 0, 1]), server) + udp
    return b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00' + ip


# lib/flow: a worker keeps at most 65,536 watch-list records (watch.h
# kMaxWatchPerBucket) and evidence frames for at most 64 (rule, server) pairs
# (bucket.h kMaxWatchKeysPerBucket) per second.
MAX_RECORDS, MAX_KEYS = 65536, 64


def run_lingering(edgecap, args, d):
    """Runs edgecap with --linger until its telemetry says the input is
    done, then stops it: (last /edgecap/stats, stdout, stderr, exit code)."""
    prefix = f'edgecap-robust-{os.getpid()}'
    sock = f'/var/run/dpdk/{prefix}/dpdk_telemetry.v2'
    with open(os.path.join(d, 'err'), 'w+') as err:
        proc = subprocess.Popen(
            [edgecap] + args + ['--no-progress', '--incidents',
                                os.path.join(d, 'x.jsonl'), '--linger',
                                '--file-prefix', prefix],
            stdout=subprocess.PIPE, stderr=err, text=True)
        stats = None
        try:
            deadline = time.time() + 120
            while time.time() < deadline and proc.poll() is None:
                if os.path.exists(sock):
                    try:
                        stats = telemetry_stats(sock)
                    except (OSError, ValueError):
                        pass  # the socket exists before it listens: retry
                    if stats is not None and stats.get('input_done') == 1:
                        break
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                out, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            shutil.rmtree(os.path.dirname(sock), ignore_errors=True)
        err.seek(0)
        return stats, out, err.read(), proc.returncode


def telemetry_stats(sock):
    """/edgecap/stats from edgecap's telemetry socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(sock)
        max_len = json.loads(s.recv(1024).decode())['max_output_len']
        s.send(b'/edgecap/stats')
        return json.loads(s.recv(max_len).decode())['/edgecap/stats']


def write_pcap(path, frames):
    """(seconds, microseconds, frame) records into a classic pcap."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for sec, usec, frame in frames:
            f.write(struct.pack('<IIII', sec, usec, len(frame), len(frame)) +
                    frame)


def watchdrops_cases(edgecap, gen):
    servers, extra = 100, 500
    total = MAX_RECORDS + extra
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, 'watch_flood.pcap')
        # The first `servers` queries each to its own server, the rest to
        # the first; all within one second.
        write_pcap(pcap, ((1710000000, i, query_frame(
            i, bytes([10, 2, 0, i + 1]) if i < servers else
            bytes([10, 2, 0, 1]))) for i in range(total)))
        rules = os.path.join(d, 'flood.domains')
        with open(rules, 'w') as f:
            f.write('# @list 7 label=flood\nevil.example\n')
        stats, out, stderr, rc = run_lingering(
            edgecap, ['--pcap', pcap, '--rules', rules], d)
        final = stats is not None and stats.get('input_done') == 1
        check('telemetry: final stats', final, str(stats))
        if final:
            drops = stats['drops']
            check('telemetry: watchlist_dropped = hits beyond the records '
                  'a worker keeps per second',
                  drops.get('watchlist_dropped') == extra, str(drops))
            check('telemetry: watchlist_evidence_dropped = hits of the '
                  'pairs beyond those a worker keeps frames for',
                  drops.get('watchlist_evidence_dropped') ==
                  servers - MAX_KEYS, str(drops))
        check('exit 0', rc == 0, stderr)
        check('stderr: both watch-list losses warned',
              f'warning: {extra:,} watch-list hits dropped' in stderr and
              f'warning: {servers - MAX_KEYS:,} watch-list hits kept no '
              'evidence line' in stderr, stderr[-600:])
        m = re.search(r'watch-list hits ([\d,]+), watch-list evidence ([\d,]+)\n',
                      out)
        check('summary: watch-list drops on the drops: line', m is not None,
              out[:400])
        check('summary: the same counts as telemetry',
              m is not None and final and
              int(m.group(1).replace(',', '')) == extra and
              int(m.group(2).replace(',', '')) == servers - MAX_KEYS,
              out[:400])


# lib/flow: a worker keeps the frames of its last 65,536 queries
# (WorkerConfig::frame_ring_slots), for failure evidence.
RING = 65536


def queryframes_cases(edgecap, gen):
    extra = 700
    total = RING + extra
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, 'unanswered.pcap')
        # Queries to one server within a second, never answered; then a
        # packet that is no query (a DNS response nobody asked for) 30 s
        # later, past every query's timeout: all of them time out, and
        # the first `extra` had left the ring of query frames by then.
        late = bytearray(query_frame(0, bytes([10, 3, 0, 1])))
        late[14 + 20 + 8 + 2] |= 0x80  # QR: a response
        write_pcap(pcap, [(1710000000, i * 10 // 7,
                           query_frame(i, bytes([10, 3, 0, 1])))
                          for i in range(total)] + [(1710000030, 0, late)])
        stats, out, stderr, rc = run_lingering(edgecap, ['--pcap', pcap], d)
        final = stats is not None and stats.get('input_done') == 1
        check('telemetry: final stats', final, str(stats))
        if final:
            check('telemetry: every query timed out',
                  stats['transactions'].get('expired') == total,
                  str(stats['transactions']))
            check('telemetry: failure_query_frames_dropped = the queries '
                  'beyond the ring',
                  stats['drops'].get('failure_query_frames_dropped') == extra,
                  str(stats['drops']))
        check('exit 0', rc == 0, stderr)
        check('stderr: the loss warned with its count',
              f'warning: {extra:,} failures have no query packet in their '
              'evidence' in stderr, stderr[-600:])


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    mode, edgecap, gen = sys.argv[1:]
    {'stderr': stderr_cases, 'watchdrops': watchdrops_cases,
     'queryframes': queryframes_cases}[mode](edgecap, gen)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()

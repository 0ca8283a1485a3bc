#!/usr/bin/env python3
"""edgecap's telemetry commands end to end (owner: telemetry, issue 6).

  telemetry_check.py commands EDGECAP GEN SCENARIO
      edgecap --pcap SCENARIO --linger; every /edgecap/ command through the
      stock dpdk-telemetry.py and through a raw SOCK_SEQPACKET client; values
      against the scenario's ground truth and the --incidents file; garbage
      and missing parameters refused (null reply) without harm; SIGINT ends
      the linger.
  telemetry_check.py hammer EDGECAP GEN
      1,000 rapid queries while a capture is being processed change no
      counter: final stats and incidents equal those of a run without queries.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

CLIENT = '/usr/bin/dpdk-telemetry.py'
COMMANDS = ['/edgecap/stats', '/edgecap/workers', '/edgecap/servers,5',
            '/edgecap/incidents', '/edgecap/incidents,0', '/edgecap/config',
            '/edgecap/rules', '/edgecap/rules/reload']
GARBAGE = ['/edgecap/servers', '/edgecap/servers,', '/edgecap/servers,abc',
           '/edgecap/servers,0', '/edgecap/servers,-3', '/edgecap/servers,1e3',
           '/edgecap/servers,99999999999999', '/edgecap/incident',
           '/edgecap/incident,', '/edgecap/incident,nope-0',
           '/edgecap/incident,../../etc', '/edgecap/incidents,x',
           '/edgecap/incidents,100000', '/edgecap/stats,1', '/edgecap/config,x',
           '/edgecap/workers,%n%n%n', '/edgecap/rules,1',
           '/edgecap/rules/reload,now', '/edgecap/' + 'x' * 40,
           '/edgecap/incident,' + 'A' * 900]


def fail(msg):
    sys.exit('FAIL: ' + msg)


def generate(gen, scenario, directory, extra=()):
    pcap = os.path.join(directory, scenario + '.pcap')
    r = subprocess.run([gen, scenario, '-o', pcap, *extra], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        fail(f'edgecap-gen {scenario}: {r.stderr}')
    with open(pcap[:-5] + '.truth.json') as f:
        return pcap, json.load(f)


class Edgecap:
    """edgecap --pcap ... --linger, with its own EAL file prefix."""

    def __init__(self, edgecap, pcap, directory, prefix, extra=()):
        self.prefix = prefix
        self.incidents = os.path.join(directory, prefix + '.jsonl')
        self.stderr = open(os.path.join(directory, prefix + '.err'), 'w+')
        self.proc = subprocess.Popen(
            [edgecap, '--pcap', pcap, '--incidents', self.incidents, '--quiet',
             '--no-progress', '--linger', '--file-prefix', prefix, *extra],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.socket = f'/var/run/dpdk/{prefix}/dpdk_telemetry.v2'

    def wait_for(self, what, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.stderr.seek(0)
            if what in self.stderr.read():
                return
            if self.proc.poll() is not None:
                fail(f'edgecap exited {self.proc.returncode}: {self.err()}')
            time.sleep(0.02)
        fail(f'no "{what}" on stderr within {timeout}s: {self.err()}')

    def err(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail('edgecap ignored SIGINT while lingering')
        # EAL leaves its runtime directory behind; it is ours (own prefix).
        shutil.rmtree(os.path.dirname(self.socket), ignore_errors=True)
        if self.proc.returncode != 0:
            fail(f'edgecap exited {self.proc.returncode}: {self.err()}')


class Raw:
    """A raw SOCK_SEQPACKET client speaking DPDK's telemetry v2 protocol."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.connect(path)
        hello = json.loads(self.s.recv(1024).decode())
        self.max_len = hello['max_output_len']

    def query(self, cmd):
        self.s.send(cmd.encode())
        data = self.s.recv(self.max_len)
        if len(data) >= self.max_len:
            fail(f'{cmd}: reply fills the whole output buffer (truncated?)')
        return json.loads(data.decode())

    def close(self):
        self.s.close()


def stock(prefix, cmds):
    """The stock client, commands on stdin; one JSON reply per line."""
    r = subprocess.run(['python3', CLIENT, '-f', prefix], input='\n'.join(cmds) + '\n',
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail(f'dpdk-telemetry.py: exit {r.returncode}: {r.stderr}')
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if len(lines) != len(cmds):
        fail(f'dpdk-telemetry.py: {len(cmds)} commands, {len(lines)} replies: {r.stdout}')
    return [json.loads(l) for l in lines]


def expect_eq(problems, what, got, want):
    if got != want:
        problems.append(f'{what}: edgecap {got!r}, truth {want!r}')


def listify(v):
    """Undo the wire form: index-keyed dicts back to lists, pieces joined."""
    if isinstance(v, dict):
        if v and all(k.isdigit() for k in v) and sorted(map(int, v)) == list(range(len(v))):
            return [listify(v[str(i)]) for i in range(len(v))]
        return {k: listify(x) for k, x in v.items()}
    if isinstance(v, list):
        if v and all(isinstance(x, str) for x in v) and all(len(x) == 120 for x in v[:-1]) \
                and len(v[0]) == 120:
            return ''.join(v)
        return [listify(x) for x in v]
    return v


RCODES = {0: 'noerror', 1: 'formerr', 2: 'servfail', 3: 'nxdomain', 4: 'notimp',
          5: 'refused'}


def check_stats(stats, truth, problems):
    c = truth['counts']
    expect_eq(problems, 'input_done', stats['input_done'], 1)
    expect_eq(problems, 'packets.processed', stats['packets']['processed'], c['frames'])
    expect_eq(problems, 'packets.received', stats['packets']['received'], c['frames'])
    expect_eq(problems, 'packets.bytes', stats['packets']['bytes'], c['bytes'])
    expect_eq(problems, 'dns.queries', stats['dns']['queries'], c['dns_queries'])
    expect_eq(problems, 'dns.responses', stats['dns']['responses'], c['dns_responses'])
    want_rcodes = {RCODES.get(int(k), f'rcode{k}'): v for k, v in c['dns_rcodes'].items()}
    expect_eq(problems, 'dns.rcodes', stats['dns']['rcodes'], want_rcodes)
    t = c['transactions']
    st = stats['transactions']
    expect_eq(problems, 'transactions.total', st['total'], t['total'])
    expect_eq(problems, 'transactions.answered', st['answered'], t['answered'])
    expect_eq(problems, 'transactions.nxdomain', st['nxdomain'], t['nxdomain'])
    for k, v in st['failures'].items():
        expect_eq(problems, f'transactions.failures.{k}', v, t[k])
    icmp = stats['icmp']['by_kind']
    for k in ['port_unreachable', 'host_unreachable', 'net_unreachable', 'admin_prohibited']:
        expect_eq(problems, f'icmp.by_kind.{k}', icmp[k], t['icmp_' + k])
    expect_eq(problems, 'incidents.listed', stats['incidents']['listed'],
              len(truth['incidents']))
    for k, v in stats['drops'].items():
        expect_eq(problems, f'drops.{k}', v, 0)


def commands(edgecap, gen, scenario):
    with tempfile.TemporaryDirectory() as d:
        pcap, truth = generate(gen, scenario, d)
        prefix = f'edgecap-tel-{os.getpid()}'
        app = Edgecap(edgecap, pcap, d, prefix)
        try:
            app.wait_for('serving telemetry')
            problems = []
            replies = stock(prefix, COMMANDS)
            raw = Raw(app.socket)
            for cmd, via_stock in zip(COMMANDS, replies):
                via_raw = raw.query(cmd)
                key = cmd.split(',')[0]
                if via_raw.get(key) is None:
                    problems.append(f'{cmd}: null reply')
                if via_raw != via_stock:
                    problems.append(f'{cmd}: raw and stock clients differ')
            by = {c: r[c.split(',')[0]] for c, r in zip(COMMANDS, replies)}
            check_stats(by['/edgecap/stats'], truth, problems)

            workers = listify(by['/edgecap/workers'])
            expect_eq(problems, 'workers.count', workers['count'], 1)
            expect_eq(problems, 'workers[0].packets', workers['workers'][0]['packets'],
                      truth['counts']['frames'])

            servers = listify(by['/edgecap/servers,5'])
            rows = servers['servers']
            if not rows or [r['queries'] for r in rows] != sorted(
                    (r['queries'] for r in rows), reverse=True):
                problems.append(f'servers not by queries: {rows}')
            expect_eq(problems, 'sum of all servers\' queries (top 5 of '
                      f'{servers["servers_tracked"]})',
                      sum(r['queries'] for r in rows) if servers['servers_tracked'] <= 5
                      else truth['counts']['transactions']['total'],
                      truth['counts']['transactions']['total'])

            with open(app.incidents) as f:
                written = [json.loads(l) for l in f if l.strip()]
            listed, offset = [], 0
            while True:
                page = listify(raw.query(f'/edgecap/incidents,{offset}')['/edgecap/incidents'])
                listed += page['incidents']
                if page['next'] < 0:
                    break
                offset = page['next']
            expect_eq(problems, 'incidents listed', len(listed), len(truth['incidents']))
            for i, (row, want) in enumerate(zip(listed, truth['incidents'])):
                for k in ['kind', 'state', 'queries']:
                    expect_eq(problems, f'incidents[{i}].{k}', row[k], want[k])
                expect_eq(problems, f'incidents[{i}].server', row['server'], want['server'])
                full = raw.query(f'/edgecap/incident,{row["id"]}')['/edgecap/incident']
                expect_eq(problems, f'incident,{row["id"]}', listify(full), written[i])
            expect_eq(problems, 'rules', by['/edgecap/rules'], {'status': 'no rules loaded'})
            expect_eq(problems, 'config.workers', by['/edgecap/config']['workers'], 1)

            for cmd in GARBAGE:
                got = raw.query(cmd)
                if got != {cmd.split(',')[0]: None}:
                    problems.append(f'{cmd[:60]}: accepted: {str(got)[:200]}')
            for cmd, r in zip(GARBAGE[:8], stock(prefix, GARBAGE[:8])):
                if r != {cmd.split(',')[0]: None}:
                    problems.append(f'stock {cmd}: accepted: {r}')
            # Still serving after all that.
            if raw.query('/edgecap/stats')['/edgecap/stats'] is None:
                problems.append('stats refused after garbage')
            raw.close()
        finally:
            app.stop()
        if problems:
            fail('\n  '.join([f'{scenario}:'] + problems))
        print(f'ok: {scenario}: {len(COMMANDS)} commands via dpdk-telemetry.py and a raw '
              f'client, {len(listed)} incidents, {len(GARBAGE)} bad requests refused')


def final_state(app):
    raw = Raw(app.socket)
    stats = raw.query('/edgecap/stats')['/edgecap/stats']
    servers = raw.query('/edgecap/servers,256')['/edgecap/servers']
    raw.close()
    for k in ['uptime_ms', 'snapshot']:
        stats.pop(k)
    return stats, servers


def hammer(edgecap, gen):
    with tempfile.TemporaryDirectory() as d:
        pcap, truth = generate(gen, 'mix', d, ['--packets', '3000000'])
        base = f'edgecap-tel-{os.getpid()}'
        quiet = Edgecap(edgecap, pcap, d, base + '-a')
        quiet.wait_for('serving telemetry', 300)
        want = final_state(quiet)
        quiet.stop()
        with open(quiet.incidents, 'rb') as f:
            want_incidents = f.read()

        busy = Edgecap(edgecap, pcap, d, base + '-b')
        during = [0]
        done = [0]
        refused = []  # fail() in the thread would only end the thread

        def flood():
            while not os.path.exists(busy.socket):
                if busy.proc.poll() is not None:
                    return
                time.sleep(0.001)
            raw = Raw(busy.socket)
            # EAL opens the socket in rte_eal_init, before edgecap registers
            # its commands: until then /edgecap/ commands are unknown (null).
            deadline = time.time() + 60
            while raw.query('/edgecap/stats')['/edgecap/stats'] is None:
                if time.time() > deadline or busy.proc.poll() is not None:
                    refused.append('/edgecap/stats never registered')
                    return
                time.sleep(0.001)
            for i in range(1000):
                r = raw.query(['/edgecap/stats', '/edgecap/workers', '/edgecap/servers,50',
                               '/edgecap/incidents'][i % 4])
                v = next(iter(r.values()))
                if v is None:
                    refused.append(f'query {i} refused during traffic')
                    return
                if 'input_done' in v and v['input_done'] == 0:
                    during[0] += 1
                done[0] += 1
            raw.close()

        t = threading.Thread(target=flood)
        t.start()
        busy.wait_for('serving telemetry', 300)
        t.join(timeout=120)
        got = final_state(busy)
        busy.stop()
        with open(busy.incidents, 'rb') as f:
            got_incidents = f.read()
        # How many land before the drain depends on timing (a 3M-packet file
        # drains in about a second); it is reported, not required.
        if done[0] != 1000:
            fail(f'only {done[0]} of 1000 queries answered {refused}')
        if got != want:
            fail(f'counters differ with queries:\n{got}\nwithout:\n{want}')
        if got_incidents != want_incidents:
            fail('incidents differ with and without queries')
        if got[0]['packets']['processed'] != truth['counts']['frames']:
            fail(f'{got[0]["packets"]["processed"]} packets, truth {truth["counts"]["frames"]}')
        print(f'ok: 1000 queries ({during[0]} of them on stats/workers before the input '
              f'was drained): counters and incidents identical to a run without queries')


if __name__ == '__main__':
    if len(sys.argv) >= 5 and sys.argv[1] == 'commands':
        commands(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 4 and sys.argv[1] == 'hammer':
        hammer(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)

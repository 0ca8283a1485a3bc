#!/usr/bin/env python3
"""Watch lists through the edgecap binary (owner: watch, issue 7).

  watch_check.py truth EDGECAP GEN
      edgecap-gen's watchlist scenario (its .rules and .domains given as two
      --rules and as one comma list): watchlist incidents equal to the truth,
      byte-identical for 1 and 2 workers, per-rule hits equal to the truth.
      Also runs the evidence check below.
  watch_check.py evidence EDGECAP GEN
      a busy mix (thousands of hits a second) with a domain list made from a
      quarter of its names: --incidents byte-identical at 1, 2 and 4 workers
      (--dispatch sw), and each watchlist incident's evidence is its first
      and its last matching query (line times = first_seen, last_seen).
  watch_check.py matching EDGECAP GEN
      literal, regex, case, trailing dot, punycode and anchoring rules of our
      own on the same capture; expected hits from tshark's query names and
      Python's re, not from edgecap-gen or Hyperscan.
  watch_check.py badfile EDGECAP GEN
      a broken rule file stops start-up: one stderr line FILE:LINE: why,
      non-zero exit.
  watch_check.py reload EDGECAP GEN
      a long run with SIGHUP reloads all along, one of them of a broken file
      (refused, old rules stay), then /edgecap/rules/reload over telemetry
      (broken: refused; fixed: generation moves): no packet lost, incidents
      and hits still exactly the truth.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def fail(msg):
    sys.exit('FAIL: ' + msg)


def run(cmd, timeout=300):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def generate(gen, scenario, d, extra=()):
    pcap = os.path.join(d, scenario + '.pcap')
    r = run([gen, scenario, '-o', pcap, *extra])
    if r.returncode != 0:
        fail(f'edgecap-gen {scenario}: {r.stderr}')
    base = pcap[:-5]
    with open(base + '.truth.json') as f:
        return pcap, base, json.load(f)


def edgecap(exe, pcap, d, name, rules, extra=()):
    out = os.path.join(d, name + '.jsonl')
    cmd = [exe, '--pcap', pcap, '--incidents', out, '--quiet', '--no-progress',
           '--file-prefix', f'watch{os.getpid()}{name}', *rules, *extra]
    r = run(cmd)
    if r.returncode != 0:
        fail(f'{" ".join(cmd)}: exit {r.returncode}: {r.stderr.strip()}')
    with open(out) as f:
        text = f.read()
    return text, rules_summary(r.stderr), r.stderr


def rules_summary(stderr):
    for line in stderr.splitlines():
        if line.startswith('edgecap: rules: {'):
            return json.loads(line[len('edgecap: rules: '):])
    fail(f'no rules summary on stderr: {stderr}')


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
    elif want != got:
        problems.append(f'{path}: edgecap {got!r}, truth {want!r}')


def check_truth(truth, text, summary, problems, what):
    got = [json.loads(l) for l in text.splitlines()]
    want = truth['incidents']
    if len(got) != len(want):
        problems.append(f'{what}: {len(got)} incidents, truth {len(want)}')
    for k, (w, g) in enumerate(zip(want, got)):
        compare(f'{what}[{k}]', w, g, problems)
    if not any(i['kind'] == 'watchlist' for i in got):
        problems.append(f'{what}: no watchlist incident at all')
    if summary['hits_by_rule'] != truth['watchlist_hits']:
        problems.append(f'{what}: hits {summary["hits_by_rule"]}, truth '
                        f'{truth["watchlist_hits"]}')


def cmd_truth(exe, gen):
    problems = []
    with tempfile.TemporaryDirectory() as d:
        pcap, base, truth = generate(gen, 'watchlist', d)
        runs = {
            'two_options': ['--rules', base + '.rules', '--rules',
                            base + '.domains'],
            'comma_list': ['--rules', f'{base}.rules,{base}.domains'],
        }
        outputs = []
        for name, rules in runs.items():
            text, summary, _ = edgecap(exe, pcap, d, name, rules)
            check_truth(truth, text, summary, problems, name)
            outputs.append(text)
        text2, summary2, _ = edgecap(exe, pcap, d, 'w2', runs['comma_list'],
                                     ['--workers', '2', '--dispatch', 'sw'])
        check_truth(truth, text2, summary2, problems, 'workers2')
        if text2 != outputs[0] or outputs[1] != outputs[0]:
            problems.append('output differs between runs / worker counts')
        check_evidence(text2, problems, 'watchlist scenario')
    return problems + cmd_evidence(exe, gen)


def check_evidence(text, problems, what):
    """Evidence lines start with the query's time of day (tcpdump style):
    the first must be the incident's first_seen, the last its last_seen,
    one line for one query."""
    n = 0
    for line in text.splitlines():
        i = json.loads(line)
        if i['kind'] != 'watchlist':
            continue
        n += 1
        ev = i.get('evidence', [])
        first, last = i['first_seen'][11:26], i['last_seen'][11:26]
        where = f'{what}: rule {i["rule"]["id"]} {i["server"]["ip"]}'
        want = 1 if i['queries'] == 1 else 2
        if len(ev) != want:
            problems.append(f'{where}: {len(ev)} evidence lines for '
                            f'{i["queries"]} queries: {ev}')
            continue
        if not ev[0].startswith(first + ' '):
            problems.append(f'{where}: first evidence {ev[0]!r}, first_seen '
                            f'{i["first_seen"]}')
        if not ev[-1].startswith(last + ' '):
            problems.append(f'{where}: last evidence {ev[-1]!r}, last_seen '
                            f'{i["last_seen"]}')
    return n


def cmd_evidence(exe, gen):
    problems = []
    with tempfile.TemporaryDirectory() as d:
        r = run([gen, 'mix', '--packets', '200000', '-o',
                 os.path.join(d, 'mix.pcap')])
        if r.returncode != 0:
            fail(f'edgecap-gen mix: {r.stderr}')
        pcap = os.path.join(d, 'mix.pcap')
        # A quarter of the capture's registered domains (last two labels).
        domains = sorted({'.'.join(n.split('.')[-2:])
                          for n in query_names(pcap) if n.count('.') >= 1})
        listed = domains[::4]
        rules = os.path.join(d, 'mix.domains')
        with open(rules, 'w') as f:
            f.write('# @list 9000 severity=medium label=quarter\n')
            f.write(''.join(x + '\n' for x in listed))
        texts = {}
        for workers in (1, 2, 4):
            extra = ['--workers', str(workers), '--dispatch', 'sw']
            text, summary, _ = edgecap(exe, pcap, d, f'mix{workers}',
                                       ['--rules', rules],
                                       extra if workers > 1 else [])
            texts[workers] = text
            hits = summary['hits_by_rule'].get('9000', 0)
            # The point: far more hits a second than a bucket has keys.
            if hits < 5000:
                problems.append(f'{workers} workers: only {hits} hits')
        n = check_evidence(texts[1], problems, 'mix')
        if n < 5:
            problems.append(f'only {n} watchlist incidents')
        for workers in (2, 4):
            if texts[workers] != texts[1]:
                a, b = texts[1].splitlines(), texts[workers].splitlines()
                diff = sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
                problems.append(f'{workers} workers: {diff} of {len(a)} '
                                'incident lines differ from 1 worker')
    return problems


def query_names(pcap):
    """Names of DNS queries (first transmissions) as tshark reads them."""
    r = run(['tshark', '-r', pcap, '-Y', 'dns.flags.response == 0',
             '-T', 'fields', '-e', 'dns.qry.name', '-e', 'ip.src',
             '-e', 'udp.srcport', '-e', 'dns.id', '-e', 'ip.dst'])
    if r.returncode != 0:
        fail(f'tshark: {r.stderr}')
    seen, names = set(), []
    for line in r.stdout.splitlines():
        f = line.split('\t')
        key = (f[1], f[2], f[3], f[4], f[0].lower())
        if key in seen:  # a retransmission: the same transaction
            continue
        seen.add(key)
        names.append(f[0].lower().rstrip('.'))
    return names


def cmd_matching(exe, gen):
    problems = []
    with tempfile.TemporaryDirectory() as d:
        pcap, base, truth = generate(gen, 'watchlist', d)
        rules = os.path.join(d, 'own.rules')
        with open(rules, 'w') as f:
            f.write('# literal, anchored both ends: the name itself only\n'
                    '# @rule 1 severity=info label=literal\n'
                    '1:/^evil-c2\\.example$/\n'
                    '# upper case in the rule: matching is caseless\n'
                    '# @rule 2 severity=low label=case\n'
                    '2:/BANK-LOGIN/\n'
                    '# unanchored: also inside longer names\n'
                    '# @rule 3 label=unanchored\n'
                    '3:/evil-c2\\.example/\n'
                    '# a regex on punycode\n'
                    '# @rule 4 label=idn\n'
                    '4:/^xn--[a-z0-9]+\\.com$/\n'
                    '# right-anchored suffix with a label boundary\n'
                    '# @rule 5 label=suffix\n'
                    '5:/(^|\\.)phish\\.example$/\n')
        domains = os.path.join(d, 'own.domains')
        with open(domains, 'w') as f:
            f.write('# @list 10 severity=critical label=list\n'
                    'Evil-C2.Example.\n'        # capitals and a trailing dot
                    'xn--80ak6aa92e.com\n')     # punycode
        patterns = {1: r'^evil-c2\.example$', 2: r'bank-login',
                    3: r'evil-c2\.example', 4: r'^xn--[a-z0-9]+\.com$',
                    5: r'(^|\.)phish\.example$'}
        want = {}
        for n in query_names(pcap):
            for rid, p in patterns.items():
                if re.search(p, n):
                    want[rid] = want.get(rid, 0) + 1
            if any(n == s or n.endswith('.' + s)
                   for s in ('evil-c2.example', 'xn--80ak6aa92e.com')):
                want[10] = want.get(10, 0) + 1
        want = {str(k): v for k, v in want.items()}
        _, summary, _ = edgecap(exe, pcap, d, 'own',
                                ['--rules', rules, '--rules', domains])
        got = summary['hits_by_rule']
        if got != want:
            problems.append(f'hits per rule: edgecap {got}, expected {want}')
        # The point of each rule: anchoring, unanchored, case, IDN.
        for rid, minimum in (('1', 1), ('2', 1), ('4', 1), ('5', 2),
                             ('10', 2)):
            if want.get(rid, 0) < minimum:
                problems.append(f'rule {rid}: the capture does not exercise it')
        if want.get('3', 0) <= want.get('1', 0):
            problems.append('unanchored rule 3 must fire on more names than 1')
    return problems


def cmd_badfile(exe, gen):
    problems = []
    with tempfile.TemporaryDirectory() as d:
        pcap, base, _ = generate(gen, 'seed', d)
        cases = {
            'regex.rules': ('# @rule 1 label=fine\n1:/fine/\n\n2:/(open/\n',
                            r'regex\.rules:4: .*Hyperscan: .*parenthes'),
            'flag.rules': ('1:/x/q\n', r'flag\.rules:1: '),
            'dup.rules': ('1:/a/\n1:/b/\n', r'dup\.rules:2: '),
            'bad.domains': ('ok.example\nbad..example\n', r'bad\.domains:2: '),
        }
        for name, (content, pattern) in cases.items():
            path = os.path.join(d, name)
            with open(path, 'w') as f:
                f.write(content)
            r = run([exe, '--pcap', pcap, '--rules', path, '--quiet',
                     '--no-progress'])
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            if r.returncode == 0:
                problems.append(f'{name}: exit 0')
            if len(lines) != 1 or not re.search(pattern, lines[0]):
                problems.append(f'{name}: stderr {r.stderr!r}, want one line '
                                f'matching {pattern!r}')
        r = run([exe, '--pcap', pcap, '--rules', os.path.join(d, 'none.rules'),
                 '--quiet', '--no-progress'])
        if r.returncode == 0 or 'none.rules' not in r.stderr:
            problems.append(f'missing file: exit {r.returncode}, {r.stderr!r}')
    return problems


class Raw:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.connect(path)
        self.max_len = json.loads(self.s.recv(1024).decode())['max_output_len']

    def query(self, cmd):
        self.s.send(cmd.encode())
        return json.loads(self.s.recv(self.max_len).decode())


def cmd_reload(exe, gen, packets='1500000'):
    # The reloads must land while packets flow; on a fast, idle machine a
    # capture can drain first. Then nothing was tested yet: run again on a
    # longer capture rather than fail (or pass) on a run that proved nothing.
    n = int(packets)
    for attempt in range(3):
        problems = reload_once(exe, gen, str(n))
        if problems is not None:
            return problems
        print(f'drained before the reloads at {n} packets; doubling')
        n *= 2
    return [f'input always drained before the reloads (up to {n // 2} packets)']


def reload_once(exe, gen, packets):
    """Problems found, or None if the input drained before the reloads."""
    problems = []
    with tempfile.TemporaryDirectory() as d:
        pcap, base, truth = generate(gen, 'watchlist-load', d,
                                     ['--packets', packets])
        good = open(base + '.rules').read()
        rules = os.path.join(d, 'live.rules')
        with open(rules, 'w') as f:
            f.write(good)
        prefix = f'watchreload{os.getpid()}'
        out = os.path.join(d, 'reload.jsonl')
        err = open(os.path.join(d, 'reload.err'), 'w+')
        proc = subprocess.Popen(
            [exe, '--pcap', pcap, '--rules', f'{rules},{base}.domains',
             '--incidents', out, '--quiet', '--no-progress', '--linger',
             '--file-prefix', prefix], stderr=err, stdout=subprocess.DEVNULL)
        sock = f'/var/run/dpdk/{prefix}/dpdk_telemetry.v2'

        def stderr_text():
            err.seek(0)
            return err.read()

        try:
            # edgecap takes SIGHUP from the time it loaded its rules; the
            # telemetry socket comes later.
            t0 = time.time()
            while not os.path.exists(sock):
                if proc.poll() is not None or time.time() - t0 > 60:
                    fail(f'edgecap did not start: {stderr_text()}')
                time.sleep(0.01)
            # SIGHUP all along the run; a broken file for one of them.
            sent, broken_sent = 0, False
            deadline = time.time() + 240
            while 'input drained' not in stderr_text():
                if proc.poll() is not None or time.time() > deadline:
                    fail(f'edgecap ended or stalled: {stderr_text()}')
                if sent == 3 and not broken_sent:
                    with open(rules, 'w') as f:
                        f.write(good + '9:/[z-a]/\n')
                    broken_sent = True
                    proc.send_signal(signal.SIGHUP)
                    n_lines = good.count('\n') + 1
                    t0 = time.time()
                    while 'refused' not in stderr_text():
                        if time.time() - t0 > 30:
                            fail(f'broken reload not reported: {stderr_text()}')
                        time.sleep(0.02)
                    if f'live.rules:{n_lines}:' not in stderr_text():
                        problems.append('broken reload does not name '
                                        f'live.rules:{n_lines}: '
                                        f'{stderr_text()}')
                    with open(rules, 'w') as f:
                        f.write(good)
                else:
                    proc.send_signal(signal.SIGHUP)
                sent += 1
                time.sleep(0.3)
            text = stderr_text()
            drained = text.index('input drained')
            summary = rules_summary(text)
            during = text[:drained]
            ok_reloads = during.count('rules reloaded (SIGHUP)')
            if ok_reloads < 2 or 'refused' not in during:
                return None
            if summary['reload_failures'] != 1:
                problems.append(f'reload failures {summary["reload_failures"]}')
            if 'packets lost' in text or 'short' in text.lower():
                problems.append(f'packets lost: {text}')
            # Telemetry: a broken reload is refused with FILE:LINE, the
            # old rules stay; a good one moves the generation.
            t = Raw(sock)
            gen0 = t.query('/edgecap/rules')['/edgecap/rules']['generation']
            with open(rules, 'w') as f:
                f.write(good + '9:/(x/\n')
            r = t.query('/edgecap/rules/reload')['/edgecap/rules/reload']
            if r.get('reloaded') != 0 or 'live.rules:' not in str(r.get('error')):
                problems.append(f'broken telemetry reload: {r}')
            s = t.query('/edgecap/rules')['/edgecap/rules']
            if s['generation'] != gen0 or s['rules'] != 4:
                problems.append(f'old rules did not stay: {s}')
            with open(rules, 'w') as f:
                f.write(good)
            r = t.query('/edgecap/rules/reload')['/edgecap/rules/reload']
            if r.get('reloaded') != 1 or r['rules']['generation'] <= gen0:
                problems.append(f'telemetry reload: {r}')
            if r['rules']['hits_by_rule'] != truth['watchlist_hits']:
                problems.append(f'hits after reloads {r["rules"]["hits_by_rule"]}'
                                f', truth {truth["watchlist_hits"]}')
            t.s.close()
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            shutil.rmtree(os.path.dirname(sock), ignore_errors=True)
        if proc.returncode != 0:
            problems.append(f'exit {proc.returncode}: {stderr_text()}')
        with open(out) as f:
            check_truth(truth, f.read(), summary, problems, 'reload')
    return problems


def main():
    if len(sys.argv) < 4:
        fail(__doc__)
    cmd, exe, gen = sys.argv[1:4]
    fn = {'truth': cmd_truth, 'evidence': cmd_evidence,
          'matching': cmd_matching,
          'badfile': cmd_badfile, 'reload': cmd_reload}[cmd]
    problems = fn(exe, gen, *sys.argv[4:])
    for p in problems[:40]:
        print('FAIL:', p)
    if problems:
        sys.exit(1)
    print(f'{cmd}: OK')


if __name__ == '__main__':
    main()

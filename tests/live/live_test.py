#!/usr/bin/env python3
"""Live test of edgecap on net_af_packet inside network namespaces.

Topology (all names and addresses are private to this run):

  client ns  c0 198.51.100.10-.13/24 ──► r0 198.51.100.1  router ns  r1 203.0.113.1
                                           ▲ edgecap --iface r0          │
  server ns  s0 203.0.113.2/24 (unbound, zone lab.test) ◄────────────────┘

Phases, each with real traffic (dnsperf, dig, kdig from several clients):
  healthy                       -> no incident
  stop unbound                  -> dns-port-unreachable, closed after restart
  REJECT icmp-admin-prohibited  -> dns-admin-prohibited, closed after removal
  DROP                          -> dns-timeout, closed after removal
  stop unbound, SIGTERM edgecap -> incident written with state open, counters

Opening latency: edgecap prints "incident opened at <UTC>" on stderr (live
only); the first failure is taken from an independent tcpdump capture on the
same link (first ICMP error of the phase; for DROP, first dropped query plus
the query timeout). The acceptance bound is --open-bound (2 s).

Runs as root; exit 77 (skip) when not root or a tool is missing. Namespaces,
unbound, tcpdump, dnsperf and edgecap are removed/stopped on every exit path.

  sudo tests/live/live_test.py --edgecap build/apps/edgecap/edgecap
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SERVER = "203.0.113.2"
ROUTER_CLIENT_SIDE = "198.51.100.1"
CLIENTS = ["198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13"]
ZONE_NAMES = [("www.lab.test", "A"), ("mail.lab.test", "A"),
              ("lab.test", "MX"), ("ns.lab.test", "A"), ("lab.test", "SOA")]

UNBOUND_CONF = """server:
  interface: {server}
  port: 53
  do-ip6: no
  chroot: ""
  username: ""
  directory: "{dir}"
  pidfile: "{dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  access-control: 0.0.0.0/0 allow
  num-threads: 1
  module-config: "iterator"
  local-zone: "lab.test." static
  local-data: "lab.test. 300 IN SOA ns.lab.test. admin.lab.test. 1 3600 600 86400 300"
  local-data: "lab.test. 300 IN MX 10 mail.lab.test."
  local-data: "ns.lab.test. 300 IN A 203.0.113.53"
  local-data: "www.lab.test. 300 IN A 203.0.113.80"
  local-data: "mail.lab.test. 300 IN A 203.0.113.25"
remote-control:
  control-enable: no
"""


class Failed(Exception):
    pass


def utc(ts):
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).strftime("%H:%M:%S.%f")


def parse_rfc3339(s):
    # 2026-11-27T11:08:15.151419Z
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Lab:
    def __init__(self, args):
        self.args = args
        self.tag = "ecl%d" % os.getpid()
        self.ns_client = self.tag + "c"
        self.ns_router = self.tag + "r"
        self.ns_server = self.tag + "s"
        self.namespaces = []
        self.procs = {}  # name -> Popen, everything long-lived we started
        self.dir = tempfile.mkdtemp(prefix="edgecap-live-")
        self.stderr_lines = []  # (wall time read, line)
        self.checks = []  # (name, ok, detail)

    # ---- plumbing -------------------------------------------------------
    def run(self, *cmd, ns=None, check=True, timeout=30):
        full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
        r = subprocess.run(full, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise Failed("command failed (%d): %s\n%s" %
                         (r.returncode, " ".join(full), r.stdout))
        return r

    def spawn(self, name, cmd, ns=None, **kw):
        full = (["ip", "netns", "exec", ns] if ns else []) + cmd
        # ip netns exec execs the command, so the pid is the tool's own.
        p = subprocess.Popen(full, **kw)
        self.procs[name] = p
        return p

    def stop(self, name, sig=signal.SIGTERM, wait=10):
        p = self.procs.get(name)
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        del self.procs[name]
        return p.returncode

    def check(self, name, ok, detail=""):
        self.checks.append((name, bool(ok), detail))
        print("[%s] %s %s" % ("PASS" if ok else "FAIL", name, detail),
              flush=True)
        return ok

    def cleanup(self):
        for name in list(self.procs):
            try:
                self.stop(name, wait=5)
            except Exception as e:  # keep cleaning
                print("cleanup: %s: %s" % (name, e), file=sys.stderr)
        # Anything else still inside our namespaces was started by us.
        for ns in self.namespaces:
            pids = subprocess.run(["ip", "netns", "pids", ns],
                                  stdout=subprocess.PIPE, text=True).stdout
            for pid in pids.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns],
                           stderr=subprocess.DEVNULL)
        self.namespaces = []
        if self.args.keep:
            print("logs kept in", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def cleanup_checked(self):
        """cleanup(), then checks that none of our namespaces is left."""
        self.cleanup()
        left = [ns for ns in subprocess.run(
            ["ip", "netns", "list"], stdout=subprocess.PIPE,
            text=True).stdout.split() if ns.startswith(self.tag)]
        self.check("cleanup: namespaces removed", not left, str(left))

    def verdict(self):
        """Prints the failed checks; the test's exit code."""
        failed = [c for c in self.checks if not c[1]]
        print("%d checks, %d failed" % (len(self.checks), len(failed)))
        for name, _, detail in failed:
            print("  FAIL", name, detail)
        return 1 if failed else 0

    # ---- set-up ---------------------------------------------------------
    @staticmethod
    def remove_stale():
        """Namespaces of an earlier run killed before its clean-up (SIGKILL):
        ecl<pid>{c,r,s} whose test process is gone."""
        names = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                               text=True).stdout.split()
        for ns in names:
            m = re.fullmatch(r"ecl(\d+)[crs]", ns)
            if not m:
                continue
            try:
                with open("/proc/%s/cmdline" % m.group(1), "rb") as f:
                    if b"live_test.py" in f.read():
                        continue  # a run in progress
            except OSError:
                pass
            pids = subprocess.run(["ip", "netns", "pids", ns],
                                  stdout=subprocess.PIPE, text=True).stdout
            for pid in pids.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "netns", "del", ns])
            print("removed stale namespace", ns)

    def build(self):
        self.remove_stale()
        for ns in (self.ns_client, self.ns_router, self.ns_server):
            self.run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            # IPv4 only: no router solicitations or MLD reports on the links,
            # so every frame on r0 is one the test caused.
            self.run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                     "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
            self.run("ip", "-n", ns, "link", "set", "lo", "up")
        c, r, s = self.ns_client, self.ns_router, self.ns_server
        self.run("ip", "link", "add", "c0", "netns", c, "type", "veth",
                 "peer", "name", "r0", "netns", r)
        self.run("ip", "link", "add", "r1", "netns", r, "type", "veth",
                 "peer", "name", "s0", "netns", s)
        for a in CLIENTS:
            self.run("ip", "-n", c, "addr", "add", a + "/24", "dev", "c0")
        self.run("ip", "-n", r, "addr", "add", ROUTER_CLIENT_SIDE + "/24",
                 "dev", "r0")
        self.run("ip", "-n", r, "addr", "add", "203.0.113.1/24", "dev", "r1")
        self.run("ip", "-n", s, "addr", "add", SERVER + "/24", "dev", "s0")
        for ns, dev in ((c, "c0"), (r, "r0"), (r, "r1"), (s, "s0")):
            self.run("ip", "-n", ns, "link", "set", dev, "up")
        self.run("ip", "-n", c, "route", "add", "default", "via",
                 ROUTER_CLIENT_SIDE)
        self.run("ip", "-n", s, "route", "add", "default", "via",
                 "203.0.113.1")
        self.run("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=r)
        # The kernel rate-limits ICMP errors per destination (1/s after a
        # burst); one error per failed query keeps the counts exact.
        self.run("sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", ns=s)
        self.run("sysctl", "-qw", "net.ipv4.icmp_msgs_per_sec=100000", ns=s)
        with open(os.path.join(self.dir, "unbound.conf"), "w") as f:
            f.write(UNBOUND_CONF.format(server=SERVER, dir=self.dir))
        with open(os.path.join(self.dir, "queries.txt"), "w") as f:
            for name, qtype in ZONE_NAMES:
                f.write("%s %s\n" % (name, qtype))

    def start_unbound(self):
        log = open(os.path.join(self.dir, "unbound.log"), "a")
        self.spawn("unbound", ["unbound", "-d", "-c",
                               os.path.join(self.dir, "unbound.conf")],
                   ns=self.ns_server, stdout=log, stderr=log)
        deadline = time.time() + 15
        while time.time() < deadline:
            r = self.run("dig", "+short", "+tries=1", "+timeout=1", "-b",
                         CLIENTS[1], "@" + SERVER, "www.lab.test",
                         ns=self.ns_client, check=False)
            if r.returncode == 0 and "203.0.113.80" in r.stdout:
                return
            if self.procs["unbound"].poll() is not None:
                break
            time.sleep(0.2)
        raise Failed("unbound does not answer; log:\n" +
                     open(os.path.join(self.dir, "unbound.log")).read())

    def start_tcpdump(self):
        self.pcap = os.path.join(self.dir, "r0.pcap")
        self.spawn("tcpdump", ["tcpdump", "-n", "-i", "r0", "-U", "-w",
                               self.pcap, "udp port 53 or icmp"],
                   ns=self.ns_router, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)

    def start_edgecap(self, extra=()):
        a = self.args
        self.incidents = os.path.join(self.dir, "incidents.jsonl")
        self.report = os.path.join(self.dir, "report.md")
        self.stdout_path = os.path.join(self.dir, "edgecap.out")
        cmd = [a.edgecap, "--iface", "r0", "--incidents", self.incidents,
               "--report", self.report, "--window", str(a.window),
               "--min-failures", "3", "--min-failure-ratio", "0.5",
               "--recovery", str(a.recovery),
               "--query-timeout", str(a.query_timeout), *extra]
        print("edgecap:", " ".join(cmd), flush=True)
        p = self.spawn("edgecap", cmd, ns=self.ns_router,
                       stdout=open(self.stdout_path, "w"),
                       stderr=subprocess.PIPE, text=True, bufsize=1)

        def reader():
            for line in p.stderr:
                self.stderr_lines.append((time.time(), line.rstrip("\n")))
        threading.Thread(target=reader, daemon=True).start()
        # EAL init and the af_packet port take a moment; there is no ready
        # line, so wait for the process to settle and stay up.
        time.sleep(3)
        if p.poll() is not None:
            time.sleep(0.5)
            raise Failed("edgecap exited at start (%d):\n%s" % (
                p.returncode, "\n".join(l for _, l in self.stderr_lines)))

    # ---- traffic --------------------------------------------------------
    def traffic(self, seconds, qps):
        """dnsperf from one client plus dig/kdig from the others, in
        parallel, for about `seconds`. Returns dnsperf's (sent, lost)."""
        q = os.path.join(self.dir, "queries.txt")
        perf = subprocess.Popen(
            ["ip", "netns", "exec", self.ns_client, "dnsperf", "-s", SERVER,
             "-a", CLIENTS[0], "-d", q, "-Q", str(qps), "-l", str(seconds),
             "-c", "4", "-q", "2000", "-t", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.procs["dnsperf"] = perf
        end = time.time() + seconds
        i = 0
        while time.time() < end:
            name, qtype = ZONE_NAMES[i % len(ZONE_NAMES)]
            client = CLIENTS[1 + i % (len(CLIENTS) - 1)]
            if i % 2 == 0:
                cmd = ["dig", "+tries=1", "+timeout=1", "-b", client,
                       "@" + SERVER, name, qtype]
            else:
                cmd = ["kdig", "+retry=0", "+timeout=1", "-b", client,
                       "@" + SERVER, name, qtype]
            self.run(*cmd, ns=self.ns_client, check=False, timeout=10)
            i += 1
            time.sleep(0.1)
        try:
            out, _ = perf.communicate(timeout=seconds + 30)
        finally:
            self.procs.pop("dnsperf", None)
        sent = re.search(r"Queries sent:\s+(\d+)", out or "")
        lost = re.search(r"Queries lost:\s+(\d+)", out or "")
        if not sent or not lost:
            raise Failed("dnsperf output not understood:\n" + (out or ""))
        return int(sent.group(1)), int(lost.group(1))

    # ---- observation ----------------------------------------------------
    def opened_lines(self):
        out = []
        for _, line in list(self.stderr_lines):
            m = re.match(r"edgecap: incident opened at (\S+) \((\d+) so far\)",
                         line)
            if m:
                out.append(parse_rfc3339(m.group(1)))
        return out

    def records(self):
        try:
            with open(self.incidents) as f:
                return [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def wait_for(self, what, predicate, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = predicate()
            if v:
                return v
            if self.procs["edgecap"].poll() is not None:
                raise Failed("edgecap exited while waiting for " + what)
            time.sleep(0.2)
        return None

    def capture_events(self):
        """(time, kind) of every query to the server and every ICMP
        unreachable from it, from the independent tcpdump capture."""
        r = subprocess.run(["tcpdump", "-n", "-tt", "-r", self.pcap],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
        events = []
        for line in r.stdout.splitlines():
            parts = line.split(" ", 1)
            if len(parts) != 2:
                continue
            t, rest = float(parts[0]), parts[1]
            if re.match(r"IP \S+ > %s\.53: " % re.escape(SERVER), rest):
                events.append((t, "query"))
            elif rest.startswith("IP %s > " % SERVER) and "ICMP" in rest:
                if "admin prohibited" in rest:
                    events.append((t, "admin"))
                elif "port 53 unreachable" in rest:
                    events.append((t, "port"))
                else:
                    events.append((t, "icmp-other"))
        return events

    # ---- phases ---------------------------------------------------------
    def healthy(self, seconds):
        start = time.time()
        sent, lost = self.traffic(seconds, self.args.qps)
        self.check("healthy: dnsperf answered", sent > 0 and lost == 0,
                   "(%d sent, %d lost)" % (sent, lost))
        return (start, time.time())

    def outage(self, name, kind, fail_counter, begin, end):
        """Breaks the service with begin(), sends traffic, repairs it with
        end(), sends healthy traffic, then waits for the incident to be
        written as closed. Returns the phase's interval and timings."""
        a = self.args
        records_before = len(self.records())
        opened_before = len(self.opened_lines())
        begin()
        t0 = time.time()
        sent, lost = self.traffic(a.outage_seconds, a.qps)
        self.check("%s: clients see the failure" % name,
                   sent > 0 and lost > sent * 0.9,
                   "(dnsperf %d sent, %d lost)" % (sent, lost))
        # Queries still in flight time out within the query timeout.
        if kind == "dns-timeout":
            time.sleep(a.query_timeout + 0.5)
        end()
        t1 = time.time()
        sent, lost = self.traffic(a.recovery + 1, a.qps // 2)
        self.check("%s: service restored" % name, sent > 0 and lost == 0,
                   "(dnsperf %d sent, %d lost)" % (sent, lost))

        rec = self.wait_for(
            "the %s incident to close" % name,
            lambda: (self.records()[records_before:] or [None])[0],
            a.close_wait)
        opened = self.opened_lines()[opened_before:]
        result = {"phase": name, "t0": t0, "t1": t1, "record": rec,
                  "opened": opened[0] if opened else None}
        if not self.check("%s: incident written after repair" % name,
                          rec is not None,
                          "(waited up to %ss)" % a.close_wait):
            return result
        self.check("%s: kind %s" % (name, kind), rec["kind"] == kind,
                   "(got %s)" % rec["kind"])
        self.check("%s: state closed" % name, rec["state"] == "closed",
                   "(got %s)" % rec["state"])
        self.check("%s: server" % name,
                   rec["server"] == {"ip": SERVER, "port": 53,
                                     "transport": "udp"},
                   str(rec["server"]))
        self.check("%s: %s counted" % (name, fail_counter),
                   rec["failures"][fail_counter] > 0,
                   str(rec["failures"]))
        if kind != "dns-timeout":
            self.check("%s: reporter is the server" % name,
                       rec["reporters"] == [SERVER], str(rec["reporters"]))
        self.check("%s: several clients" % name,
                   rec["clients"]["count"] >= 3, str(rec["clients"]))
        self.check("%s: answers after repair counted" % name,
                   rec["answered"] > 0,
                   "(queries %d, answered %d)" % (rec["queries"],
                                                  rec["answered"]))
        first = parse_rfc3339(rec["first_seen"])
        last = parse_rfc3339(rec["last_seen"])
        self.check("%s: first_seen/last_seen inside the outage" % name,
                   t0 - 0.5 <= first <= last <= t1 + 0.5,
                   "(outage %s..%s, incident %s..%s)" %
                   (utc(t0), utc(t1), utc(first), utc(last)))

        # Independent witness: the capture on the same link.
        events = [e for e in self.capture_events() if t0 - 0.05 <= e[0] <= t1]
        queries = [t for t, k in events if k == "query"]
        if queries:
            self.check("%s: first_seen = first failing query in tcpdump "
                       "(TSC packet time)" % name,
                       abs(first - queries[0]) <= 0.05,
                       "(edgecap %s, tcpdump %s, diff %+.3f s)" %
                       (utc(first), utc(queries[0]), first - queries[0]))
        if kind == "dns-timeout":
            fail_at = queries[0] + a.query_timeout if queries else None
        else:
            icmp = [t for t, k in events
                    if k == ("port" if "port" in kind else "admin")]
            fail_at = icmp[0] if icmp else None
        result["first_failure"] = fail_at
        if fail_at is None:
            self.check("%s: failure seen in tcpdump" % name, False)
            return result
        if result["opened"] is None:
            self.check("%s: 'incident opened' line" % name, False,
                       "(none on edgecap's stderr)")
            return result
        latency = result["opened"] - fail_at
        result["latency"] = latency
        self.check("%s: opened within %.1f s of the first failure" %
                   (name, a.open_bound), 0 <= latency <= a.open_bound,
                   "(first failure %s, opened %s: %.2f s)" %
                   (utc(fail_at), utc(result["opened"]), latency))
        return result

    def sigterm_mid_outage(self):
        a = self.args
        records_before = len(self.records())
        self.stop("unbound")
        t0 = time.time()
        self.traffic(a.outage_seconds, a.qps)
        p = self.procs["edgecap"]
        t_kill = time.time()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.check("sigterm: edgecap exits", False, "(still running 30 s "
                       "after SIGTERM)")
            return
        self.procs.pop("edgecap")
        self.check("sigterm: edgecap exits with 0", rc == 0,
                   "(rc %d after %.1f s)" % (rc, time.time() - t_kill))
        time.sleep(0.3)  # the stderr reader drains the pipe
        new = self.records()[records_before:]
        rec = new[-1] if new else None
        self.check("sigterm: open incident written", rec is not None and
                   rec["state"] == "open" and
                   rec["kind"] == "dns-port-unreachable" and
                   parse_rfc3339(rec["first_seen"]) >= t0 - 0.5,
                   "(%s)" % (json.dumps({k: rec[k] for k in (
                       "kind", "state", "first_seen", "queries")})
                             if rec else "nothing written"))
        out = open(self.stdout_path).read()
        m = re.search(r"edgecap: ([\d,]+) packets, ([\d,]+) DNS transactions, "
                      r"(\d+) servers, (\d+) incidents \((\d+) still open\)",
                      out)
        ok = m is not None and int(m.group(1).replace(",", "")) > 0 and \
            int(m.group(5)) >= 1
        self.check("sigterm: final counters printed", ok and
                   re.search(r"drops: imissed \d+, rx_nombuf \d+", out),
                   "(%s)" % (m.group(0) if m else out[:200]))
        self.check("sigterm: report written", os.path.exists(self.report) and
                   "dns-port-unreachable" in open(self.report).read())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edgecap", required=True)
    ap.add_argument("--open-bound", type=float, default=2.0,
                    help="seconds from first failure to incident open")
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--recovery", type=int, default=3)
    ap.add_argument("--query-timeout", type=int, default=2)
    ap.add_argument("--qps", type=int, default=200)
    ap.add_argument("--outage-seconds", type=int, default=3)
    ap.add_argument("--close-wait", type=int, default=60,
                    help="seconds to wait for a closed incident")
    ap.add_argument("--keep", action="store_true", help="keep the logs")
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("skip: the live test needs root (network namespaces)")
        return 77
    for tool in ("ip", "unbound", "dig", "kdig", "dnsperf", "iptables",
                 "tcpdump", "sysctl"):
        if shutil.which(tool) is None:
            print("skip: %s not installed" % tool)
            return 77
    if not os.access(args.edgecap, os.X_OK):
        print("edgecap not found:", args.edgecap)
        return 1

    lab = Lab(args)

    def on_signal(signum, _):
        raise SystemExit(128 + signum)  # runs the finally below
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    results = []
    started = time.time()
    try:
        lab.build()
        lab.start_unbound()
        lab.start_tcpdump()
        lab.start_edgecap()
        healthy = [lab.healthy(3)]
        # Answers in the trailing window count against opening (they are
        # the server's normal state); let the healthy ones leave it so the
        # outage is judged on its own traffic.
        time.sleep(args.window + 1)

        ipt = ["iptables", "-A", "INPUT", "-p", "udp", "--dport", "53", "-j"]
        unipt = ["iptables", "-D"] + ipt[2:]
        results.append(lab.outage(
            "port-unreachable", "dns-port-unreachable",
            "icmp_port_unreachable",
            begin=lambda: lab.stop("unbound"), end=lab.start_unbound))
        results.append(lab.outage(
            "admin-prohibited", "dns-admin-prohibited",
            "icmp_admin_prohibited",
            begin=lambda: lab.run(*ipt, "REJECT", "--reject-with",
                                  "icmp-admin-prohibited", ns=lab.ns_server),
            end=lambda: lab.run(*unipt, "REJECT", "--reject-with",
                                "icmp-admin-prohibited", ns=lab.ns_server)))
        results.append(lab.outage(
            "drop", "dns-timeout", "timeouts",
            begin=lambda: lab.run(*ipt, "DROP", ns=lab.ns_server),
            end=lambda: lab.run(*unipt, "DROP", ns=lab.ns_server)))

        # Healthy stretches: the first phase and every repaired one. No
        # record may start outside an outage, and one open per outage.
        recs = lab.records()
        outages = [(r["t0"], r["t1"]) for r in results]
        stray = [r for r in recs if not any(
            a - 0.5 <= parse_rfc3339(r["first_seen"]) <= b + 0.5
            for a, b in outages)]
        lab.check("healthy phases: no incident", not stray and
                  len(recs) == len(results),
                  "(%d records for %d outages, %d outside them)" %
                  (len(recs), len(results), len(stray)))
        lab.check("one 'incident opened' line per outage",
                  len(lab.opened_lines()) == len(results),
                  "(%d lines)" % len(lab.opened_lines()))

        lab.sigterm_mid_outage()
    except Failed as e:
        lab.check("lab", False, str(e))
    finally:
        lab.cleanup_checked()

    print("\nopening latency (first failure on the wire -> 'incident opened'):")
    for r in results:
        lat = r.get("latency")
        print("  %-18s %s" % (r["phase"], "%.2f s" % lat if lat is not None
                              else "not observed"))
    print("total %.0f s" % (time.time() - started))
    return lab.verdict()


if __name__ == "__main__":
    sys.exit(main())

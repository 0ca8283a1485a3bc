#!/usr/bin/env python3
"""Deployment checks (issue 10): the example config, --check-config, the host
script's --dry-run, the systemd unit, an install into a scratch root, and the
Debian package unpacked into a scratch root. The installed binaries run the
seed capture and must report the seed incident of its ground truth.

  deploy_check.py example   EDGECAP EDGECAP_GEN SRC
  deploy_check.py check     EDGECAP SRC
  deploy_check.py hostsetup SRC
  deploy_check.py install   BUILD_DIR EDGECAP_GEN SRC
  deploy_check.py deb       BUILD_DIR EDGECAP_GEN SRC
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def seed(gen, tmp):
    pcap = os.path.join(tmp, "seed.pcap")
    r = run([gen, "seed", "-o", pcap])
    if r.returncode != 0:
        fail(f"edgecap-gen seed: {r.stderr}")
    truth_path = pcap[:-5] + ".truth.json"
    if not os.path.exists(truth_path):
        truth_path = os.path.join(tmp, "seed.truth.json")
    with open(truth_path) as f:
        return pcap, json.load(f)


def expected_incidents(truth):
    out = []
    for i in truth.get("incidents", []):
        s = i["server"]
        out.append((i["kind"], s["ip"], s["port"]))
    if not out:
        fail("the seed truth has no incident")
    return sorted(out)


def run_seed(edgecap, pcap, truth, tmp, extra=(), name="run"):
    """Runs edgecap on the seed; the incidents must be the truth's."""
    inc = os.path.join(tmp, name + ".jsonl")
    report = os.path.join(tmp, name + ".md")
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    cmd = [edgecap, *extra, "--pcap", pcap, "--lcores", cpus,
           "--incidents", inc, "--report", report,
           "--file-prefix", f"deploy-{name}-{os.getpid()}"]
    r = run(cmd, timeout=120)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr}")
    with open(inc) as f:
        got = sorted((i["kind"], i["server"]["ip"], i["server"]["port"])
                     for i in map(json.loads, f))
    want = expected_incidents(truth)
    if got != want:
        fail(f"{name}: incidents {got}, truth {want}")
    if not os.path.getsize(report):
        fail(f"{name}: empty report")
    print(f"{name}: {len(got)} incident(s) as in the truth: {got}")


def check_example(edgecap, gen, src):
    example = os.path.join(src, "config", "edgecap.example.toml")
    r = run([edgecap, "--check-config", example])
    if r.returncode != 0 or not r.stdout.startswith(example + ": OK"):
        fail(f"--check-config example: {r.returncode} {r.stdout} {r.stderr}")
    print(r.stdout)
    with tempfile.TemporaryDirectory() as tmp:
        pcap, truth = seed(gen, tmp)
        # Everything from the example except what is the box's own: the
        # input (its NIC is not here) and the CPUs and output paths.
        run_seed(edgecap, pcap, truth, tmp, ["--config", example], "example")


def check_check_config(edgecap, src):
    with tempfile.TemporaryDirectory() as tmp:
        prefix = f"deploy-check-{os.getpid()}"
        good = os.path.join(tmp, "good.toml")
        with open(good, "w") as f:
            f.write(f'[input]\npcap = "{src}/apps/edgecap-gen/samples/'
                    f'seed.pcap"\n[eal]\nfile_prefix = "{prefix}"\n'
                    f'[cpu]\nworkers = 2\n')
        r = run([edgecap, "--check-config", good])
        if r.returncode != 0 or "workers: 2" not in r.stdout:
            fail(f"good config: {r.returncode} {r.stdout} {r.stderr}")
        # Validates without starting EAL: no runtime directory appeared.
        for d in ("/var/run/dpdk", os.environ.get("XDG_RUNTIME_DIR", "")):
            if d and os.path.exists(os.path.join(d, "dpdk", prefix)) or \
                    os.path.exists(os.path.join("/var/run/dpdk", prefix)):
                fail("--check-config started EAL")
        cases = [
            ("[cpu]\nworkers = 2\nwrokers = 3\n", 3, 1, "cpu.wrokers"),
            ("[cpu]\nworkers = 0\n", 2, 11, "cpu.workers"),
            ("[thresholds]\nwindow = \"300\"\n", 2, 10, "thresholds.window"),
            ("[output]\nquiet = 1\n", 2, 9, "output.quiet"),
            ("[nosuch]\nx = 1\n", 1, 2, "nosuch"),
            ("[[port]]\ndevice = \"0000:3b:00.0\"\nprofile = \"e1000\"\n",
             None, None, "no profile 'e1000'"),
        ]
        for text, line, col, key in cases:
            bad = os.path.join(tmp, "bad.toml")
            with open(bad, "w") as f:
                f.write(text)
            r = run([edgecap, "--check-config", bad])
            msg = r.stderr.strip()
            if r.returncode != 2:
                fail(f"{text!r}: exit {r.returncode}, want 2: {msg}")
            if line is not None and not msg.startswith(
                    f"edgecap: {bad}:{line}:{col}: key '{key}'"):
                fail(f"{text!r}: message {msg!r}")
            if key not in msg:
                fail(f"{text!r}: message {msg!r} lacks {key}")
            print("refused:", msg)


def check_host_setup(src):
    script = os.path.join(src, "scripts", "host-setup.sh")
    example = os.path.join(src, "config", "edgecap.example.toml")

    def hugepages():
        return {p: open(p).read() for p in glob.glob(
            "/sys/kernel/mm/hugepages/*/nr_hugepages")}

    before = hugepages()
    # The example's NIC is not on this machine: said so, plan not applicable.
    r = run(["bash", script, "--dry-run", "--config", example])
    print(r.stdout)
    if r.returncode != 1:
        fail(f"--dry-run with a missing NIC: exit {r.returncode}")
    if "PROBLEM: 0000:3b:00.0: no such PCI device on this host" not in r.stdout:
        fail("the missing NIC is not named")
    if "dry run: nothing was changed." not in r.stdout:
        fail("dry run not announced")
    if "dpdk-hugepages.py --pagesize" not in r.stdout:
        fail("no hugepage plan")
    # No NIC named: what the host has. A NIC the kernel uses (link up, the
    # management port) is never a candidate.
    r = run(["bash", script, "--dry-run"])
    print(r.stdout)
    if r.returncode != 0:
        fail(f"--dry-run: exit {r.returncode}: {r.stderr}")
    free = []
    for dev in glob.glob("/sys/bus/pci/devices/*"):
        try:
            if not open(dev + "/class").read().startswith("0x02"):
                continue
        except OSError:
            continue
        up = False
        for net in glob.glob("/sys/class/net/*"):
            real = os.path.realpath(net + "/device")
            if real == os.path.realpath(dev) or real.startswith(
                    os.path.realpath(dev) + "/"):
                up |= open(net + "/operstate").read().strip() == "up"
        if not up:
            free.append(os.path.basename(dev))
    if not free and "no capture NIC on this host" not in r.stdout:
        fail("no free NIC here, and the script does not say so")
    if free and "candidate" not in r.stdout:
        fail(f"free NICs {free} not listed")
    if "dpdk-devbind.py --bind" in r.stdout:
        fail("plans to bind a NIC nobody named")
    if hugepages() != before:
        fail("--dry-run changed the hugepage reservation")


def verify_unit(unit, root):
    """systemd-analyze verify on the unit as installed under `root`."""
    if shutil.which("systemd-analyze") is None:
        print("systemd-analyze not installed")
        sys.exit(SKIP)
    text = open(unit).read()
    for want in ("Restart=on-failure", "KillSignal=SIGTERM",
                 "ExecStart=", "--config "):
        if want not in text:
            fail(f"{unit}: no {want}")
    exec_start = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
    # The unit names its binary by its final path; verify the copy that
    # points into the scratch root (verify checks the binary exists).
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "edgecap.service")
        prefix = os.path.dirname(os.path.dirname(exec_start))  # /usr[/local]
        with open(copy, "w") as f:
            f.write(text.replace(prefix + "/", root + prefix + "/")
                        .replace("=/etc/", "=" + root + "/etc/")
                        .replace(" /etc/", " " + root + "/etc/"))
        r = run(["systemd-analyze", "verify", copy])
        out = (r.stdout + r.stderr).strip()
        # verify exits 0 on lines it ignores: any output is a defect.
        if r.returncode != 0 or out:
            fail(f"systemd-analyze verify: exit {r.returncode}: {out}")
    print(f"systemd-analyze verify {unit}: clean")


def check_installed(root, prefix, gen, tmp):
    edgecap = os.path.join(root + prefix, "bin", "edgecap")
    etc = root + ("/etc" if prefix == "/usr" else prefix + "/etc")
    example = os.path.join(etc, "edgecap", "edgecap.example.toml")
    profiles = os.path.join(root + prefix, "share", "edgecap",
                            "drivers-config")
    for path in (edgecap, example, os.path.join(profiles, "ixgbe.toml"),
                 os.path.join(profiles, "README.md"),
                 os.path.join(root + prefix, "sbin", "edgecap-host-setup"),
                 os.path.join(root + prefix, "share", "doc", "edgecap",
                              "deployment.md")):
        if not os.path.exists(path):
            fail(f"not installed: {path}")
    # The installed binary finds the installed profiles, not the source's.
    r = run([edgecap, "--check-config", example])
    if r.returncode != 0 or f"profiles: {profiles}" not in r.stdout:
        fail(f"installed --check-config: {r.stdout} {r.stderr}")
    pcap, truth = seed(gen, tmp)
    run_seed(edgecap, pcap, truth, tmp, ["--config", example],
             "installed" + prefix.replace("/", "-"))
    units = glob.glob(root + "/lib/systemd/system/edgecap.service") + \
        glob.glob(root + prefix + "/lib/systemd/system/edgecap.service")
    if not units:
        fail("no systemd unit installed")
    verify_unit(units[0], root)


def check_install(build, gen, src):
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "root")
        r = run(["meson", "install", "-C", build, "--destdir", root,
                 "--no-rebuild", "--quiet"])
        if r.returncode != 0:
            fail(f"meson install: {r.stdout} {r.stderr}")
        opts = json.loads(run(["meson", "introspect", "--buildoptions",
                               build]).stdout)
        prefix = next(o["value"] for o in opts if o["name"] == "prefix")
        check_installed(root, prefix, gen, tmp)


def check_deb(build, gen, src):
    if shutil.which("dpkg-buildpackage") is None or \
            not os.path.exists("/usr/share/perl5/Debian/Debhelper"):
        print("dpkg-buildpackage/debhelper not installed")
        sys.exit(SKIP)
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "edgecap")
        # A copy of the sources: the build writes debian/ and ../*.deb.
        shutil.copytree(src, tree, ignore=shutil.ignore_patterns(
            "build*", ".git", "obj-*", "*.deb"))
        env = dict(os.environ, EDGECAP_PREBUILT=os.path.abspath(build))
        r = run(["dpkg-buildpackage", "-us", "-uc", "-b", "-nc", "-d"],
                cwd=tree, env=env, timeout=600)
        if r.returncode != 0:
            fail(f"dpkg-buildpackage: {r.stdout[-3000:]} {r.stderr[-3000:]}")
        debs = glob.glob(os.path.join(tmp, "edgecap_*.deb"))
        if len(debs) != 1:
            fail(f"packages: {debs}")
        r = run(["dpkg-deb", "-I", debs[0]])
        print(r.stdout)
        root = os.path.join(tmp, "root")
        r = run(["dpkg", "-x", debs[0], root])
        if r.returncode != 0:
            fail(f"dpkg -x: {r.stderr}")
        listing = run(["dpkg", "-c", debs[0]]).stdout
        for want in ("./usr/bin/edgecap", "./etc/edgecap/edgecap.example.toml",
                     "./lib/systemd/system/edgecap.service",
                     "./usr/share/edgecap/drivers-config/mlx5.toml",
                     "./usr/sbin/edgecap-host-setup"):
            if want not in listing:
                fail(f"package lacks {want}")
        conffiles = run(["dpkg-deb", "-f", debs[0], "Depends"]).stdout
        print("Depends:", conffiles.strip())
        check_installed(root, "/usr", gen, tmp)


def main():
    what = sys.argv[1]
    args = sys.argv[2:]
    if what == "example":
        check_example(*args)
    elif what == "check":
        check_check_config(*args)
    elif what == "hostsetup":
        check_host_setup(*args)
    elif what == "install":
        check_install(*args)
    elif what == "deb":
        check_deb(*args)
    else:
        fail(f"unknown check {what}")
    print("OK")


if __name__ == "__main__":
    main()

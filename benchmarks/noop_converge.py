"""No-op converge of 4 pinned WCS containers: mediaops.wcs.wcs_containers (one task) against the same state
expressed with community.docker.docker_container in a loop, both through ansible-playbook, side by side in one run.

Prints the median wall time of each (several interleaved repetitions), the ratio ours/theirs (target <= 0.5), and
the Docker engine API calls each makes (counted by a proxy on a unix socket in front of the engine).

community.docker is not a dependency of the collection: it comes with PyPI's `ansible` package, which this
script installs into its own venv when missing (default ~/.cache/mediaops-wcs/venv-bench, or $WCS_BENCH_VENV):
    python3 -m venv ~/.cache/mediaops-wcs/venv-bench && ~/.cache/mediaops-wcs/venv-bench/bin/pip install ansible docker
Both playbooks run with that venv's ansible-playbook and interpreter, so only the modules differ.

Runs on a private engine of its own (tests/labkit.py: wcstmb-eng, bridge wcstmbbr0 198.51.100.120/30, the emulator
images loaded), so a running lab or other pinned containers on the default engine neither refuse nor skew it; names
wcst-mod-bench-*, veth wcstmb0 and 198.51.100.80/28; removes all of it afterwards. Run as root: `python3 benchmarks/noop_converge.py [--reps 5]`.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import labkit  # noqa: E402  pylint: disable=wrong-import-position

VENV = Path(os.environ.get("WCS_BENCH_VENV", Path.home() / ".cache/mediaops-wcs/venv-bench"))
BENCH_ENGINE = labkit.Engine("wcstmb-eng", bridge=("wcstmbbr0", "198.51.100.120/30"))
ENGINE = str(BENCH_ENGINE.sock)
IMAGE = "mediaops/wcs-emulator:test"
NET, VETH, SUBNET, GW = "wcst-mod-bench", "wcstmb0", "198.51.100.80/28", "198.51.100.81"
COUNT = 4
REQUEST_LINE = re.compile(rb"(?:GET|POST|PUT|DELETE|HEAD) (/\S*) HTTP/1\.[01]\r\n")


def say(msg):
    print("noop_converge: %s" % msg, flush=True)


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def ensure_bench_venv():
    python = VENV / "bin/python"
    probe = "import ansible_collections.community.docker, docker"
    if python.exists() and subprocess.run([str(python), "-c", probe], capture_output=True, check=False).returncode == 0:
        return VENV
    say("installing PyPI's ansible (ships community.docker) and docker into %s (once, a few minutes)" % VENV)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "ansible", "docker"], check=True)
    return VENV


class CountingProxy:
    """Unix-socket proxy in front of the engine that counts HTTP requests (per path) passing through."""

    def __init__(self, path):
        self.path = path
        self.paths = []
        self.lock = threading.Lock()
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def take(self):
        with self.lock:
            paths, self.paths = self.paths, []
        return paths

    def _accept(self):
        while True:
            try:
                client = self.server.accept()[0]
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(ENGINE)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src, dst, count):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if count:
                    found = [m.group(1).decode() for m in REQUEST_LINE.finditer(data)]
                    with self.lock:
                        self.paths.extend(found)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.server.close()


def containers(prefix):
    out = []
    for i in range(COUNT):
        addr = "198.51.100.%d" % (84 + i + (0 if prefix == "o" else COUNT))
        out.append({"name": "wcst-mod-bench-%s%d" % (prefix, i + 1), "cpuset": str(i % os.cpu_count()),
                    "ipv4_address": addr, "local_ip": addr, "external_ip": addr})
    return out


def write_playbooks(work, conf, docker_host):
    common = {"image": IMAGE, "conf": conf, "net": NET, "dh": docker_host}
    ours = [{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "WCS set (one task)",
        "mediaops.wcs.wcs_containers": {
            "docker_host": "{{ dh }}", "image": "{{ image }}", "network": "{{ net }}", "conf_dir": "{{ conf }}",
            "password": "bench-secret", "memory": "256m", "allow_shared_cpus": True, "pull": "never",
            "restart_policy": "unless-stopped", "ulimits": [{"name": "nofile", "soft": 20000, "hard": 20000}],
            "containers": containers("o")}}]}]
    theirs = [{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "WCS containers (docker_container in a loop)",
        "community.docker.docker_container": {
            "docker_host": "{{ dh }}", "name": "{{ item.name }}", "image": "{{ image }}",
            "cpuset_cpus": "{{ item.cpuset }}", "network_mode": "{{ net }}",
            "networks": [{"name": "{{ net }}", "ipv4_address": "{{ item.ipv4_address }}"}],
            "env": {"LOCAL_IP": "{{ item.local_ip }}", "EXTERNAL_IP": "{{ item.external_ip }}",
                    "PASSWORD": "bench-secret"},
            "volumes": ["{{ conf }}:/conf:ro"], "memory": "256m", "restart_policy": "unless-stopped",
            "ulimits": ["nofile:20000:20000"], "state": "started"},
        "no_log": True,
        "loop": containers("t")}]}]
    (work / "vars.json").write_text(json.dumps(common))
    (work / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\ninterpreter_python = auto_silent\n")
    (work / "inventory.ini").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % (VENV / "bin/python"))
    for name, play in (("ours", ours), ("theirs", theirs)):
        (work / ("%s.yml" % name)).write_text(json.dumps(play, indent=1))


def run_playbook(work, name):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONFIG=str(work / "ansible.cfg"), ANSIBLE_RETRY_FILES_ENABLED="0")
    start = time.perf_counter()
    proc = subprocess.run([str(VENV / "bin/ansible-playbook"), "-i", str(work / "inventory.ini"),
                           "-e", "@%s" % (work / "vars.json"), str(work / ("%s.yml" % name))],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    recap = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    if proc.returncode != 0 or not recap:
        raise SystemExit("noop_converge: %s failed:\n%s\n%s" % (name, proc.stdout[-3000:], proc.stderr[-2000:]))
    return elapsed, int(recap.group(2))


def setup(work):
    labkit.veth_up(VETH)
    sh("docker", "-H", BENCH_ENGINE.host, "network", "create", "-d", "macvlan", "-o", "parent=" + VETH, "--subnet", SUBNET,
       "--gateway", GW, NET)
    conf = work / "conf"
    conf.mkdir()
    (conf / "flashphoner.properties").write_text("media_port_from=31001\nmedia_port_to=31100\n")
    (conf / "wcs-core.properties").write_text("-Xms256m -Xmx256m\n")
    return str(conf)


def cleanup():
    names = [c["name"] for p in ("o", "t") for c in containers(p)]
    sh("docker", "-H", BENCH_ENGINE.host, "rm", "-f", *names, check=False)
    sh("docker", "-H", BENCH_ENGINE.host, "network", "rm", NET, check=False)
    labkit.veth_down(VETH)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--reps", type=int, default=5, help="timed no-op runs of each (median reported)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("noop_converge: run as root (veth and macvlan set-up)")
    ensure_bench_venv()
    BENCH_ENGINE.up()  # builds the emulator images on the default engine first when missing
    with tempfile.TemporaryDirectory(prefix="wcst-mod-bench-") as tmp:
        work = Path(tmp)
        proxy = CountingProxy(str(work / "engine.sock"))
        try:
            conf = setup(work)
            write_playbooks(work, conf, "unix://%s" % proxy.path)
            for name in ("ours", "theirs"):
                say("%s: first converge (creates 4 containers)" % name)
                run_playbook(work, name)
                changed = run_playbook(work, name)[1]
                if changed:
                    raise SystemExit("noop_converge: %s is not idempotent (changed=%d on the second run)"
                                     % (name, changed))
            proxy.take()
            times = {"ours": [], "theirs": []}
            calls = {}
            for rep in range(args.reps):
                for name in ("ours", "theirs") if rep % 2 == 0 else ("theirs", "ours"):  # interleaved
                    elapsed, changed = run_playbook(work, name)
                    assert changed == 0, "%s changed something in a no-op run" % name
                    times[name].append(elapsed)
                    calls[name] = proxy.take()
                say("rep %d/%d: ours %.2fs, theirs %.2fs"
                    % (rep + 1, args.reps, times["ours"][-1], times["theirs"][-1]))
        finally:
            proxy.close()
            cleanup()
            BENCH_ENGINE.down()
    med = {k: statistics.median(v) for k, v in times.items()}
    print()
    print("no-op converge of %d pinned WCS containers, %d interleaved runs each, median wall time of "
          "ansible-playbook" % (COUNT, args.reps))
    print("  %-46s %7.2fs  %3d engine API calls" % ("mediaops.wcs.wcs_containers (1 task)", med["ours"],
                                                    len(calls["ours"])))
    print("  %-46s %7.2fs  %3d engine API calls" % ("community.docker.docker_container (loop of %d)" % COUNT,
                                                    med["theirs"], len(calls["theirs"])))
    ratio = med["ours"] / med["theirs"]
    print("  ratio ours/theirs: %.2f (target <= 0.5: %s)" % (ratio, "met" if ratio <= 0.5 else "NOT met"))
    for name in ("ours", "theirs"):
        kinds = {}
        for path in calls[name]:
            key = re.sub(r"^/v[\d.]+", "", path.split("?")[0])
            key = re.sub(r"/containers/[^/]+/json", "/containers/{id}/json", key)
            key = re.sub(r"/(images|networks)/.+/json", r"/\1/{id}/json", key)
            kinds[key] = kinds.get(key, 0) + 1
        print("  %s calls: %s" % (name, ", ".join("%s x%d" % kv for kv in sorted(kinds.items()))))


if __name__ == "__main__":
    main()

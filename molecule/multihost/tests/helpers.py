"""Shared helpers of the multihost verify tests: the hosts, their engines, running playbooks like an operator."""
from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import testinfra

ROOT = Path(__file__).resolve().parents[3]
ENGINES = ROOT / "scripts" / "multihost-engines.sh"
HOSTS = ["wcs-mh-1", "wcs-mh-2", "wcs-mh-3"]
TEST_IMAGE = "mediaops/wcs-emulator:test"
NEXT_IMAGE = "mediaops/wcs-emulator:next"
BROKEN_IMAGE = "mediaops/wcs-emulator:broken"
STREAMS_FILE = "/var/lib/wcs-emulator/streams"


def inventory():
    """Molecule's generated inventory (a file; its directory also holds the group/host vars)."""
    return os.environ["MOLECULE_INVENTORY_FILE"]


def host(name):
    return testinfra.get_host("ansible://%s" % name, ansible_inventory=inventory())


def hostvars(h):
    return h.ansible.get_variables()


def container_name(name):
    return "%s-1" % name  # wcs_name_prefix "<host>-", one container per host


def docker(h, *args):
    """The docker CLI against this host's own engine (run through testinfra on that host)."""
    dh = hostvars(h)["wcs_docker_host"]
    return h.run("docker -H %s %s" % (dh, " ".join(args)))


def inspect(h, cname):
    out = docker(h, "inspect", cname)
    assert out.rc == 0, out.stderr
    return json.loads(out.stdout)[0]


def stats(h, cname):
    """wcs_stats from inside the container's namespace, run as a module on that host."""
    dh = hostvars(h)["wcs_docker_host"]
    return h.ansible("mediaops.wcs.wcs_stats", "container=%s docker_host=%s streams=true" % (cname, dh),
                     check=False)


def set_streams(h, cname, count):
    """Clients on the container: the emulator's stream counters."""
    assert docker(h, "exec", cname, "sh", "-c", "'printf \"streams_webrtc_in=%d\\n\" > %s'" % (count, STREAMS_FILE)).rc == 0


def _env():
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_STDOUT_CALLBACK"] = "default"
    return env


def playbook_cmd(name, *args, extra_inventory=None):
    cmd = ["ansible-playbook", "-i", inventory()]
    if extra_inventory:
        cmd += ["-i", str(extra_inventory)]
    return cmd + ["mediaops.wcs.%s" % name, "-e", "wcs_plan_show=false"] + list(args)


def run_playbook(name, *args, extra_inventory=None):
    proc = subprocess.run(playbook_cmd(name, *args, extra_inventory=extra_inventory), env=_env(),
                          capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def run_playbook_watching(name, *args, extra_inventory=None, on_line=None, timeout=600):
    """Runs a playbook and calls on_line[markers]() once, when a line containing all markers is printed: to act
    at a precise point of a run (clients leave while a drain waits, an engine stops mid-run)."""
    proc = subprocess.Popen(playbook_cmd(name, *args, extra_inventory=extra_inventory), env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)], daemon=True).start()
    pending, fired, out = dict(on_line or {}), {}, []
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(1, deadline - time.monotonic()))
        if line is None:
            break
        out.append(line)
        for marker in [m for m in pending if all(part in line for part in m)]:
            fired[marker] = pending.pop(marker)()
    proc.wait(timeout=60)
    return proc.returncode, "".join(out), fired


def recap(output):
    """PLAY RECAP as {host: {ok: n, changed: n, failed: n, ...}} (the last recap line of each host)."""
    found = {}
    for m in re.finditer(r"^(wcs-mh-\d)\s+:\s+(.*)$", output, re.M):
        found[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return found


def engines(*args):
    return subprocess.run([str(ENGINES)] + [str(a) for a in args], capture_output=True, text=True, timeout=300,
                          check=False, env=dict(os.environ, MULTIHOST_PYTHON=sys.executable))

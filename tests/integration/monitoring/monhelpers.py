"""Helpers of the monitoring tests (imported by conftest.py and the tests; conftest puts this directory on
sys.path): free loopback ports, the emulator's control file, pids, a real Prometheus' HTTP API, the dashboard's
queries."""
from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "roles/monitoring/files/grafana/wcs-dashboard.json"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def online_cpus():
    return sorted(os.sched_getaffinity(0))


def set_streams(container, **counts):
    """Writes the emulator's control file (key=value lines) in the container."""
    text = "".join("%s=%s\n" % kv for kv in counts.items())
    rc, out = container.exec_run(["sh", "-c", 'printf "%s" "$1" > /var/lib/wcs-emulator/streams', "sh", text])
    assert rc == 0, out


def stop_pid(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _attempt in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie of ours counts as gone
    try:
        return Path("/proc/%d/stat" % pid).read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


class Prom:
    """The HTTP API of one Prometheus on loopback."""

    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port

    def get(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.loads(resp.read())

    def query(self, expr):
        answer = self.get("/api/v1/query", query=expr)
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def targets(self):
        return self.get("/api/v1/targets", state="active")["data"]["activeTargets"]

    def wait(self, what, check, timeout=60, show=None):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = check()
                if last:
                    return last
            except OSError as exc:  # not listening yet
                last = exc
            time.sleep(0.5)
        raise AssertionError("waited %ss for %s; last: %r" % (timeout, what, show() if show else last))


def dashboard_exprs(rate_interval="15s"):
    """(panel title, expr) for every query of the dashboard, with Grafana's variables set to 'everything'."""
    dash = json.loads(DASHBOARD.read_text())
    out = []
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            expr = (target["expr"].replace("$__rate_interval", rate_interval)
                    .replace("$host", ".*").replace("$container", ".*"))
            out.append((panel["title"], expr))
    return out

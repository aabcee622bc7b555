"""Rollout hooks around a real HAProxy (Debian's package) and a local HTTP recorder, on an engine of its own.

The lab: private dockerd `wcshk-eng` (bridge wcshkbr0 192.0.2.228/30), two emulator containers `wcshk-1`, `wcshk-2`
on macvlan over veth `wcshk0` (host side 192.0.2.2, block 192.0.2.0/28), whose peer is the router in netns
`wcshk0-ns` (192.0.2.1). HAProxy runs in that netns (it reaches the containers), frontend on 192.0.2.1:18081 (the
host reaches it over the veth), admin socket in a temp dir of the test. Each emulator answers its own address
(`config_ip_local`), so a sample through the frontend says which container HAProxy chose. The HTTP hooks call a
recorder on 127.0.0.1 that answers 200 (500 on /fail). Run as an operator runs it: ansible-playbook
mediaops.wcs.rolling_update, hooks from the inventory (group vars).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import labkit
import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.haproxy import run as haproxy_run
from ansible_collections.mediaops.wcs.plugins.module_utils.haproxy import server_state

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "wcshk-"
NAMES = [PREFIX + "1", PREFIX + "2"]
NETNS = "wcshk0-ns"
FRONTEND = "http://192.0.2.1:18081/?action=stat"
STREAMS_FILE = "/var/lib/wcs-emulator/streams"
TOKEN = "hk-vault-token-5f3a"


class Recorder(ThreadingHTTPServer):
    """The webhook's far end: records (time, method, path, body, Authorization) of every call."""

    def __init__(self):
        self.calls, self.on_call = [], None

        class Handler(BaseHTTPRequestHandler):
            def do_POST(inner):  # noqa: N805  pylint: disable=no-self-argument
                body = inner.rfile.read(int(inner.headers.get("Content-Length") or 0)).decode()
                call = {"t": time.monotonic(), "method": inner.command, "path": inner.path,
                        "body": json.loads(body) if body else None, "auth": inner.headers.get("Authorization")}
                self.calls.append(call)
                if self.on_call:
                    self.on_call(call)
                status = 500 if inner.path.startswith("/fail") else 200
                inner.send_response(status)
                inner.send_header("Content-Type", "text/plain")
                inner.end_headers()
                inner.wfile.write(b"recorder says no" if status == 500 else b"ok")

            do_PUT = do_POST

            def log_message(inner, *args):  # noqa: N805  pylint: disable=no-self-argument
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def seen(self):
        return [(c["body"]["phase"], c["body"]["container"]) for c in self.calls]


@pytest.fixture(scope="module")
def engine():
    yield from labkit.engine_session("wcshk-eng", "wcshkbr0", "192.0.2.228/30")


@pytest.fixture(scope="module")
def parent():
    yield from labkit.veth_session("wcshk0", host_cidr="192.0.2.2/28", router_cidr="192.0.2.1/28")


@pytest.fixture(scope="module")
def recorder():
    server = Recorder()
    yield server
    server.shutdown()
    server.server_close()


def hooks(sock, url):
    """wcs_rollout_hooks as an operator writes it: the HAProxy example task file and the webhook in each phase."""
    lb = {"tasks": str(ROOT / "examples/hooks/haproxy.yml"), "vars": {"socket": sock, "backend": "wcs"}}
    web = {"url": url + "/${phase}/${name}", "method": "POST", "headers": {"Authorization": "Bearer {{ vault_hook_token }}"},
           "body": {"phase": "${phase}", "container": "${name}", "address": "${address}"}, "status_code": [200],
           "timeout": 5}
    # after_ready: the webhook first, so that the test's window (before_drain call -> after_ready call) lies
    # inside HAProxy's drain; hooks of a phase run in the order given.
    return {"before_drain": [lb, web], "after_ready": [web, lb], "on_rollback": [lb, web]}


@pytest.fixture(scope="module")
def lab(engine, parent, recorder):
    """Deploys the two containers with site, puts HAProxy in front; yields run(extra_vars) -> (rc, output)."""
    assert shutil.which("haproxy"), "haproxy is missing: run scripts/ensure-packages.sh (Debian package haproxy)"
    host, _client = engine
    tmp = Path(tempfile.mkdtemp(prefix="wcshk-"))  # short: the admin socket path must fit sun_path
    sock = str(tmp / "admin.sock")
    inventory = labkit.local_inventory(
        tmp / "hosts.yml", wcs_container_count=2, wcs_name_prefix=PREFIX, wcs_image="mediaops/wcs-emulator:test",
        wcs_pull="never", wcs_docker_host=host, wcs_network_name=PREFIX + "net", wcs_network_driver="macvlan",
        wcs_network_parent=parent, wcs_network_block="192.0.2.0/28", wcs_reserved_cpus=[], wcs_heap="512m",
        wcs_memory_limit="1500m", wcs_conf_root=str(tmp / "conf"), wcs_password="hk-password",
        wcs_firewall_enabled=False, wcs_drain_interval=1, wcs_drain_timeout=30, wcs_wait_timeout=30,
        wcs_health_timeout=20, wcs_health_interval=1, vault_hook_token=TOKEN,
        wcs_rollout_hooks=hooks(sock, "http://127.0.0.1:%d" % recorder.server_port))

    def run(playbook, extra=None):
        return labkit.run_playbook(playbook, inventory, extra=extra)

    rc, out = run("site")
    assert rc == 0, out[-3000:]
    addresses = {n: inspect(engine, n)["NetworkSettings"]["Networks"][PREFIX + "net"]["IPAddress"] for n in NAMES}
    (tmp / "haproxy.cfg").write_text("\n".join([
        "global", "  stats socket %s mode 600 level admin" % sock, "  pidfile %s/haproxy.pid" % tmp,
        "defaults", "  mode http", "  timeout connect 1s", "  timeout client 5s", "  timeout server 5s",
        "  option httpchk GET /?action=stat", "  retries 1", "  option redispatch",
        "frontend fe", "  bind 192.0.2.1:18081", "  default_backend wcs",
        "backend wcs", "  balance roundrobin"]
        + ["  server %s %s:8081 check inter 300ms fall 2 rise 1" % (n, addresses[n]) for n in NAMES]) + "\n")
    subprocess.run(["ip", "netns", "exec", NETNS, "haproxy", "-D", "-f", str(tmp / "haproxy.cfg")], check=True)
    try:
        deadline = time.monotonic() + 15
        while {state(sock, n)[1] for n in NAMES} != {2}:  # both servers up by HAProxy's own checks
            assert time.monotonic() < deadline, haproxy_run(sock, "show servers state wcs")
            time.sleep(0.2)
        yield {"run": run, "sock": sock, "addresses": addresses, "recorder": recorder, "tmp": tmp}
    finally:
        pid = int((tmp / "haproxy.pid").read_text().split()[0])
        os.kill(pid, signal.SIGTERM)  # the HAProxy started here, by its pidfile
        shutil.rmtree(tmp, ignore_errors=True)


def inspect(engine, name):
    host, _client = engine
    out = subprocess.run(["docker", "-H", host, "inspect", name], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def state(sock, server):
    return server_state(haproxy_run(sock, "show servers state wcs"), server)


def set_streams(engine, name, count):
    host, _client = engine
    subprocess.run(["docker", "-H", host, "exec", name, "sh", "-c",
                    "printf 'streams_webrtc_in=%d\\n' > %s" % (count, STREAMS_FILE)], check=True)


class Sampler:
    """New connections through HAProxy's frontend, every 50 ms: (time, container that answered or None)."""

    def __init__(self, addresses):
        self.by_ip = {ip: name for name, ip in addresses.items()}
        self.samples, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(FRONTEND, timeout=2) as resp:
                    page = resp.read().decode()
                ip = next(line.split("=", 1)[1] for line in page.splitlines() if line.startswith("config_ip_local="))
                self.samples.append((time.monotonic(), self.by_ip.get(ip.strip(), ip)))
            except (OSError, StopIteration):
                self.samples.append((time.monotonic(), None))
            time.sleep(0.05)

    def between(self, start, end):
        return [who for t, who in self.samples if start <= t <= end]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


def test_haproxy_drains_and_readies_each_container_around_the_rolling_update(lab, engine):
    """The HAProxy example really stops new connections to the container during its drain and update, and sends
    to it again after the ready hook; the webhook is called before_drain -> after_ready per container, in order,
    with the vault header, which never shows in the output."""
    recorder, sock = lab["recorder"], lab["sock"]
    recorder.calls.clear()
    for name in NAMES:
        set_streams(engine, name, 1)  # a live stream holds the drain open for a while

    timers = []

    def on_call(call):  # during the drain, HAProxy must already have stopped sending to it
        if call["body"]["phase"] == "before_drain":
            name = call["body"]["container"]
            call["haproxy"] = state(sock, name)
            timer = threading.Timer(2.5, set_streams, (engine, name, 0))
            timers.append(timer)
            timer.start()

    recorder.on_call = on_call
    with Sampler(lab["addresses"]) as sampler:
        time.sleep(0.5)
        rc, out = lab["run"]("rolling_update", {"wcs_rollout_image": "mediaops/wcs-emulator:next"})
        time.sleep(1.0)
    recorder.on_call = None
    for timer in timers:
        timer.join()
    assert rc == 0, out[-4000:]
    assert recorder.seen() == [("before_drain", NAMES[0]), ("after_ready", NAMES[0]),
                               ("before_drain", NAMES[1]), ("after_ready", NAMES[1])], recorder.calls
    assert all(c["auth"] == "Bearer " + TOKEN for c in recorder.calls)
    assert TOKEN not in out
    assert [c["path"] for c in recorder.calls][:2] == ["/before_drain/wcshk-1", "/after_ready/wcshk-1"]
    assert recorder.calls[0]["body"]["address"] == lab["addresses"][NAMES[0]]

    calls = recorder.calls
    for i, name in enumerate(NAMES):
        other = NAMES[1 - i]
        drained, ready = calls[2 * i]["t"], calls[2 * i + 1]["t"]
        # drained by the hook while HAProxy still saw it up (its streams were still open: not updated yet)
        assert calls[2 * i]["haproxy"][:2] == ("drain", 2), calls[2 * i]
        window = sampler.between(drained, ready)
        assert len(window) >= 20, (name, window)
        assert name not in window, (name, window)
        assert set(window) == {other}, (name, window)  # no errors either: all went to the other one
    # before: both served; after its ready hook the first container is served again (while the second drains)
    before = sampler.between(0, calls[0]["t"])
    assert set(before) == set(NAMES), before
    back = sampler.between(calls[1]["t"], calls[2]["t"])
    assert NAMES[0] in back, back
    after = sampler.between(calls[3]["t"] + 0.5, time.monotonic())
    assert set(after) == set(NAMES), after
    assert [state(sock, n)[0] for n in NAMES] == ["ready", "ready"]
    assert "admin=drain" not in out


def test_failed_update_runs_on_rollback_hooks(lab, engine):
    """:broken never answers: the gate fails, the container is rolled back, on_rollback puts it back (HAProxy
    ready, webhook called); no after_ready. The failure says so."""
    recorder = lab["recorder"]
    recorder.calls.clear()
    rc, out = lab["run"]("rolling_update", {"wcs_rollout_image": "mediaops/wcs-emulator:broken",
                                            "wcs_health_timeout": 4, "wcs_wait_timeout": 4})
    assert rc != 0
    assert recorder.seen() == [("before_drain", NAMES[0]), ("on_rollback", NAMES[0])], recorder.calls
    assert "on_rollback hooks ran for wcshk-1" in out, out[-3000:]
    assert [state(lab["sock"], n)[0] for n in NAMES] == ["ready", "ready"]
    assert "rolled back (wcshk-1 -> mediaops/wcs-emulator:next" in out, out[-3000:]
    next_id = subprocess.run(["docker", "-H", engine[0], "image", "inspect", "-f", "{{.Id}}",
                              "mediaops/wcs-emulator:next"], capture_output=True, text=True, check=True).stdout.strip()
    assert inspect(engine, NAMES[0])["Image"] == next_id


def test_failing_before_drain_hook_fails_clearly_and_puts_back(lab, engine):
    """A before_drain webhook answering 500 after the HAProxy hook drained the container: the host fails naming
    hook, phase, container and the answer; nothing is updated; on_rollback puts the server back to ready."""
    recorder, sock = lab["recorder"], lab["sock"]
    recorder.calls.clear()
    started = inspect(engine, NAMES[0])["State"]["StartedAt"]
    bad = hooks(sock, "http://127.0.0.1:%d" % recorder.server_port)
    bad["before_drain"][1] = dict(bad["before_drain"][1], url=bad["before_drain"][1]["url"].replace("/${phase}", "/fail/${phase}"))
    rc, out = lab["run"]("rolling_update", {"wcs_rollout_image": "mediaops/wcs-emulator:test",
                                            "wcs_rollout_hooks": bad, "vault_hook_token": TOKEN})
    assert rc != 0
    assert "hook before_drain[1] POST http://127.0.0.1:%d/fail/${phase}/${name} failed for wcshk-1" \
        % recorder.server_port in out, out[-3000:]
    assert "500 recorder says no (expected 200)" in out
    assert "on_rollback hooks ran for wcshk-1" in out
    assert recorder.seen() == [("before_drain", NAMES[0]), ("on_rollback", NAMES[0])]
    assert inspect(engine, NAMES[0])["State"]["StartedAt"] == started
    assert state(sock, NAMES[0])[0] == "ready"
    assert TOKEN not in out


def test_bad_hook_spec_refused_before_anything_changes(lab, engine):
    recorder = lab["recorder"]
    recorder.calls.clear()
    started = {n: inspect(engine, n)["State"]["StartedAt"] for n in NAMES}
    rc, out = lab["run"]("rolling_update", {"wcs_rollout_image": "mediaops/wcs-emulator:test", "wcs_rollout_hooks": {
        "before_drain": [{"url": "ftp://lb.example.net/${name}", "headers": {"Authorization": TOKEN}}]}})
    assert rc != 0
    assert ("wcs_rollout_hooks.before_drain[0].url: 'ftp://lb.example.net/${name}' is wrong. Fix: give an http:// or "
            "https:// URL") in out, out[-3000:]
    assert "Plan and validate every host" in out and "Rolling update of WCS containers" not in out
    assert recorder.calls == []
    assert {n: inspect(engine, n)["State"]["StartedAt"] for n in NAMES} == started


def test_haproxy_server_module_check_diff_idempotent(lab, module):
    sock = lab["sock"]
    args = {"socket": sock, "backend": "wcs", "server": NAMES[1], "state": "drain"}
    res = module("haproxy_server", args, check=True, diff=True)
    assert res["changed"] and res["previous"] == "ready" and res["command"] == "set server wcs/wcshk-2 state drain"
    assert res["diff"]["after"].endswith(": drain\n")
    assert state(sock, NAMES[1])[0] == "ready"  # check mode changed nothing
    assert module("haproxy_server", args)["changed"]
    assert state(sock, NAMES[1])[0] == "drain"
    again = module("haproxy_server", args)
    assert not again["changed"] and again["command"] == ""
    assert haproxy_run(sock, "set server wcs/%s state ready" % NAMES[1]).strip() == ""


def test_site_rolling_play_runs_the_hooks(lab, engine):
    """site's last play (running containers that a change restarts) goes through the same role, hooks included."""
    recorder = lab["recorder"]
    recorder.calls.clear()
    rc, out = lab["run"]("site")  # both run :next (earlier tests), the inventory says :test: both restart, rolling
    assert rc == 0, out[-3000:]
    assert "Roll running containers that must restart" in out
    assert recorder.seen() == [("before_drain", NAMES[0]), ("after_ready", NAMES[0]),
                               ("before_drain", NAMES[1]), ("after_ready", NAMES[1])], recorder.calls
    assert [state(lab["sock"], n)[0] for n in NAMES] == ["ready", "ready"]
    assert TOKEN not in out

"""`site` on a host whose two containers carry live streams (issue: safe converge), on an engine of its own.

The lab's shape (one host, two pinned emulator containers on macvlan, one core each), names `wcst-cv-*`, veth
`wcstcv0` (router netns `wcstcv0-ns`), block 198.51.100.224/28, private dockerd `wcstcv` with bridge `wcstcvbr0`
192.0.2.244/30. Run as an operator runs it: ansible-playbook mediaops.wcs.site.
"""
from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path

import labkit
import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.netns_http import NetnsHTTPError, request

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "wcst-cv-"
NAMES = [PREFIX + "1", PREFIX + "2"]
STREAMS_FILE = "/var/lib/wcs-emulator/streams"


@pytest.fixture(scope="module")
def engine():
    yield from labkit.engine_session("wcstcv", "wcstcvbr0", "192.0.2.245/30")


@pytest.fixture(scope="module")
def parent():
    yield from labkit.veth_session("wcstcv0", host_cidr="198.51.100.226/28", router_cidr="198.51.100.225/28")


@pytest.fixture(scope="module")
def site(engine, parent, tmp_path_factory):
    """site(*args, watch=None) -> (rc, output, fired): ansible-playbook mediaops.wcs.site on this host."""
    host, _client = engine
    tmp = tmp_path_factory.mktemp("converge")
    inventory = labkit.local_inventory(
        tmp / "hosts.yml", wcs_container_count=2, wcs_name_prefix=PREFIX, wcs_image="mediaops/wcs-emulator:test",
        wcs_pull="never", wcs_docker_host=host, wcs_network_name=PREFIX + "net", wcs_network_driver="macvlan",
        wcs_network_parent=parent, wcs_network_block="198.51.100.224/28", wcs_reserved_cpus=[], wcs_heap="512m",
        wcs_memory_limit="1500m", wcs_conf_root=str(tmp / "conf"), wcs_password="cv-password",
        wcs_drain_interval=1, wcs_drain_timeout=60, wcs_wait_timeout=30, wcs_health_timeout=30,
        wcs_health_interval=1)

    def run(*args, watch=None):
        proc = subprocess.Popen(["ansible-playbook", "mediaops.wcs.site", "-i", str(inventory)] + list(args),
                                env=labkit.playbook_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)], daemon=True).start()
        pending, fired, out = dict(watch or {}), {}, []
        while True:
            line = lines.get(timeout=600)
            if line is None:
                break
            out.append(line)
            for marker in [m for m in pending if all(part in line for part in m)]:
                fired[marker] = pending.pop(marker)()
        proc.wait(timeout=60)
        return proc.returncode, "".join(out), fired

    rc, out, _fired = run()
    assert rc == 0, out[-3000:]
    return run  # what it made goes with the engine's session (containers, network) and tmp_path (conf)


def inspect(engine, name):
    host, _client = engine
    out = subprocess.run(["docker", "-H", host, "inspect", name], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def started(engine, name):
    return inspect(engine, name)["State"]["StartedAt"]


def stats(engine, name):
    """The statistics page of the container, asked inside its network namespace; None when it does not answer."""
    state = inspect(engine, name)["State"]
    if not state.get("Running"):
        return None
    try:
        resp = request("GET", "/?action=stat", 8081, pid=state["Pid"], timeout=2)
    except NetnsHTTPError:
        return None
    if resp["status"] != 200:
        return None
    return dict(line.split("=", 1) for line in resp["body"].splitlines() if "=" in line and not line.startswith("-"))


def set_streams(engine, name, count):
    host, _client = engine
    subprocess.run(["docker", "-H", host, "exec", name, "sh", "-c",
                    "printf 'streams_webrtc_in=%d\\n' > %s" % (count, STREAMS_FILE)], check=True)


class Watch:
    """Samples both containers every 0.2 s: which ones answer their statistics page."""

    def __init__(self, engine):
        self.engine, self.samples, self.stop = engine, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _answers(self, name):
        try:
            return stats(self.engine, name) is not None
        except subprocess.CalledProcessError:  # renamed aside while its replacement starts: not serving
            return False

    def _run(self):
        while not self.stop.is_set():
            self.samples.append({name: self._answers(name) for name in NAMES})
            time.sleep(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


def drain_waits(name):
    return ("RETRYING: [localhost]", "Drain, wait until its streams end - %s" % name)


def test_property_change_drains_and_restarts_one_container_at_a_time(engine, site):
    for name in NAMES:
        set_streams(engine, name, 3)
    before = {name: started(engine, name) for name in NAMES}

    def while_draining(name, other):
        seen = {"other_started": started(engine, other), "other_answers": stats(engine, other) is not None}
        set_streams(engine, name, 0)  # its clients leave: the drain ends
        return seen

    with Watch(engine) as watch:
        rc, out, fired = site("-e", "wcs_heap=768m", watch={
            drain_waits(NAMES[0]): lambda: while_draining(NAMES[0], NAMES[1]),
            drain_waits(NAMES[1]): lambda: while_draining(NAMES[1], NAMES[0])})
    assert rc == 0, out[-4000:]
    flat = " ".join(out.split())
    for name in NAMES:
        assert "%s recreate yes 3 rolling property files" % name in flat, flat[-3000:]
    first, second = fired[drain_waits(NAMES[0])], fired[drain_waits(NAMES[1])]
    # while the first drained, the second was untouched and served; while the second drained, the first was back
    assert first["other_started"] == before[NAMES[1]] and first["other_answers"]
    assert second["other_started"] != before[NAMES[0]] and second["other_answers"]
    assert watch.samples and not [s for s in watch.samples if not any(s.values())], "both were down at once"
    for name in NAMES:
        assert started(engine, name) != before[name]
        assert stats(engine, name)["config_heap_max"] == "768m"

    rc, out, _fired = site("-e", "wcs_heap=768m")
    assert rc == 0 and "changed=0" in out, out[-3000:]


def test_fast_way_refuses_live_streams_and_goes_when_forced(engine, site):
    set_streams(engine, NAMES[0], 2)
    before = {name: started(engine, name) for name in NAMES}
    rc, out, _fired = site("-e", "wcs_heap=640m", "-e", "wcs_disruptive_converge=true", "-e", "wcs_drain_timeout=0")
    assert rc != 0
    flat = " ".join(out.split())
    assert "%s carries 2 live stream(s)" % NAMES[0] in flat and "wcs_force=true" in flat, flat[-3000:]
    assert {name: started(engine, name) for name in NAMES} == before

    rc, out, _fired = site("-e", "wcs_heap=640m", "-e", "wcs_disruptive_converge=true", "-e", "wcs_force=true")
    assert rc == 0, out[-3000:]
    assert "%s recreate yes 2 now (forced) property files" % NAMES[0] in " ".join(out.split())
    assert "PLAY [Roll running containers" in out and "skipping: no hosts matched" in out.split(
        "PLAY [Roll running containers", 1)[1]
    for name in NAMES:
        assert started(engine, name) != before[name] and stats(engine, name) is not None


def test_memory_change_is_applied_live_without_a_restart(engine, site):
    set_streams(engine, NAMES[0], 4)
    before = {name: started(engine, name) for name in NAMES}
    rc, out, _fired = site("-e", "wcs_heap=640m", "-e", "wcs_memory_limit=1200m")
    assert rc == 0, out[-3000:]
    flat = " ".join(out.split())
    assert "%s update live no 4 now memory" % NAMES[0] in flat, flat[-3000:]
    for name in NAMES:
        c = inspect(engine, name)
        assert c["State"]["StartedAt"] == before[name] and c["HostConfig"]["Memory"] == 1200 * 1024 * 1024
    set_streams(engine, NAMES[0], 0)


CORE_RUNS = ["host_facts.py", "ipvlan_network.py", "wcs_config.py", "wcs_containers.py", "wcs_containers.py"]


@pytest.mark.parametrize("firewall,expected", [("false", CORE_RUNS), ("true", CORE_RUNS + ["wcs_firewall.py"])])
def test_no_op_site_makes_one_remote_module_run_per_concern(site, firewall, expected):
    """5 for the deployment (facts, engine check, network, files, containers with their health gate) whatever the
    number of containers, plus one for the firewall when it is on (the default)."""
    args = ("-e", "wcs_heap=640m", "-e", "wcs_memory_limit=1200m", "-e", "wcs_firewall_enabled=%s" % firewall)
    rc, out, _fired = site(*args)
    assert rc == 0, out[-3000:]
    rc, out, _fired = site(*(args + ("-vvv",)))
    assert rc == 0 and "changed=0" in out, out[-3000:]
    runs = [line.rsplit("/", 1)[-1].strip() for line in out.splitlines() if "Using module file" in line]
    assert sorted(runs) == sorted(expected), runs

"""An origin/edge CDN lab (issue 13, item 4): two inventory hosts, one WCS emulator container each, groups in the
inventory. `site` renders the CDN properties (and the firewall lets cdn_port in from the other node only), the
emulators see each other ACTIVE in the CDN (show_nodes), then `rolling_update` updates the edge first, then the
origin, each waiting until its peer reports it ACTIVE again.

Two "hosts" of labkit's multihost kind, names of their own: netns `wcscdn-1` / `wcscdn-2` with a dockerd each
(`/run/wcscdn-N`), veths `wcscdnN-p` (macvlan parent in the host's netns) <-> `wcscdnN-r` in the router netns
`wcscdn-rt` (forwarding on there only), blocks 203.0.113.48/28 and 203.0.113.64/28, containers `wcscdn-o-1`
(origin, 203.0.113.52) and `wcscdn-e-1` (edge, 203.0.113.68), network `wcscdn-net`. The emulator is built into
both engines from this checkout. Everything goes at the end: followers by their pidfiles, engines, links, netns.
The origin host is first in the inventory, so inventory order alone would roll it first.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import labkit
import pytest
import yaml

from ansible_collections.mediaops.wcs.plugins.module_utils.netns_http import NetnsHTTPError, request
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import parse_properties

ROOT = Path(__file__).resolve().parents[3]
WHERE = {"prefix": "wcscdn", "first_block": "203.0.113.48", "router_netns": "wcscdn-rt"}
ORIGIN = {"host": "wcscdn-1", "index": 1, "name": "wcscdn-o-1", "ip": "203.0.113.52", "block": "203.0.113.48/28"}
EDGE = {"host": "wcscdn-2", "index": 2, "name": "wcscdn-e-1", "ip": "203.0.113.68", "block": "203.0.113.64/28"}


def engine_host(node):
    return "unix:///run/wcscdn-%d/docker.sock" % node["index"]


def stop_follower(index):
    pidfile = Path("/run/wcscdn-%d/firewall-follow/run/wcs-firewall-follow.pid" % index)
    if pidfile.exists():
        subprocess.run([sys.executable, str(ROOT / "plugins/module_utils/pidfile_service.py"), "stop", str(pidfile),
                        "/run/wcscdn-%d/firewall-follow/bin/wcs_firewall_follow.py" % index], check=False,
                       capture_output=True)


@pytest.fixture(scope="module")
def hosts():
    old = os.environ.get("MULTIHOST_PYTHON")
    os.environ["MULTIHOST_PYTHON"] = sys.executable  # the hosts' ansible_python_interpreter wraps this Python
    try:
        for i in (1, 2):
            labkit.mh_links(i, **WHERE)
            labkit.mh_engine(i, **WHERE).start()
        for i in (1, 2):
            eng = labkit.mh_engine(i, **WHERE).wait()
            subprocess.run([str(ROOT / "tests/emulator/build.sh")], check=True, capture_output=True,
                           env=dict(os.environ, DOCKER_HOST=eng.host))
        yield
    finally:
        for i in (1, 2):
            stop_follower(i)
        labkit.multihost("down", 2, **WHERE)
        if old is None:
            os.environ.pop("MULTIHOST_PYTHON", None)
        else:
            os.environ["MULTIHOST_PYTHON"] = old


def host_vars(node, prefix):
    i = node["index"]
    return {"ansible_connection": "local", "ansible_python_interpreter": "/run/wcscdn-%d/python" % i,
            "wcs_docker_host": engine_host(node), "wcs_network_parent": "wcscdn%d-p" % i,
            "wcs_network_block": node["block"], "wcs_name_prefix": prefix, "wcs_conf_root": "/run/wcscdn-%d/wcs" % i,
            "wcs_firewall_rules_dir": "/run/wcscdn-%d/firewall" % i,
            "wcs_firewall_base_dir": "/run/wcscdn-%d/firewall-follow" % i}


@pytest.fixture(scope="module")
def playbook(hosts, tmp_path_factory):
    inventory = tmp_path_factory.mktemp("cdn") / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "wcs_hosts": {
            "hosts": {ORIGIN["host"]: host_vars(ORIGIN, "wcscdn-o-"), EDGE["host"]: host_vars(EDGE, "wcscdn-e-")},
            "vars": {"wcs_image": "mediaops/wcs-emulator:test", "wcs_container_count": 1,
                     "wcs_network_driver": "macvlan", "wcs_network_name": "wcscdn-net", "wcs_heap": "512m",
                     "wcs_memory_limit": "1500m", "wcs_pull": "never", "wcs_wait_timeout": 30,
                     "wcs_health_timeout": 30, "wcs_health_interval": 1, "wcs_drain_interval": 1,
                     "wcs_drain_timeout": 10, "wcs_cdn_wait_timeout": 30, "wcs_cdn_wait_interval": 1}},
        "wcs_cdn_origin": {"hosts": {ORIGIN["host"]: {}}},
        "wcs_cdn_edge": {"hosts": {EDGE["host"]: {}}},
    }}}))

    def run(name, *args):
        return labkit.run_playbook(name, inventory, *args)

    return run


def state(node):
    out = subprocess.run(["docker", "-H", engine_host(node), "inspect", node["name"]], capture_output=True,
                         text=True, check=True)
    info = json.loads(out.stdout)[0]
    return info["State"], info["Config"]["Image"]


def show_nodes(node):
    """The node's show_nodes answer by id, asked inside its network namespace; None when it does not answer."""
    st, _image = state(node)
    try:
        resp = request("POST", "/rest-api/cdn/show_nodes", 8081, pid=st["Pid"], body={}, timeout=3)
    except NetnsHTTPError:
        return None
    return {n["id"]: n for n in json.loads(resp["body"])} if resp["status"] == 200 else None


def sees_active(node, other, timeout=15.0):
    end = time.monotonic() + timeout
    seen = None
    while time.monotonic() < end:
        seen = show_nodes(node)
        if seen and seen.get(other["ip"], {}).get("globalState") == "ACTIVE":
            return seen
        time.sleep(0.5)
    raise AssertionError("%s does not see %s ACTIVE: %r" % (node["name"], other["name"], seen))


def properties(node):
    path = Path("/run/wcscdn-%d/wcs/%s/conf/flashphoner.properties" % (node["index"], node["name"]))
    return dict(parse_properties(path.read_text()))


@pytest.fixture(scope="module")
def site(playbook):
    rc, out = playbook("site")
    assert rc == 0, out[-4000:]
    return out


def test_site_renders_the_cdn_properties_and_the_nodes_see_each_other(site):
    origin, edge = properties(ORIGIN), properties(EDGE)
    assert {k: v for k, v in origin.items() if k.startswith("cdn_")} == {
        "cdn_enabled": "true", "cdn_role": "origin", "cdn_ip": ORIGIN["ip"], "cdn_port": "8084",
        "cdn_nodes_resolve_ip": "false"}  # the first origin has no point of entry
    assert {k: v for k, v in edge.items() if k.startswith("cdn_")} == {
        "cdn_enabled": "true", "cdn_role": "edge", "cdn_ip": EDGE["ip"], "cdn_point_of_entry": ORIGIN["ip"],
        "cdn_port": "8084", "cdn_nodes_resolve_ip": "false"}
    # the edge's announcements on cdn_port pass the origin's firewall (policy drop; cdn rule for the edge only)
    seen = sees_active(ORIGIN, EDGE)
    assert seen[EDGE["ip"]]["role"] == "EDGE" and ORIGIN["ip"] not in seen
    assert list(sees_active(EDGE, ORIGIN)) == [ORIGIN["ip"]]
    rules = Path("/run/wcscdn-1/firewall/%s.nft" % ORIGIN["name"]).read_text()
    assert "ip saddr %s tcp dport 8084" % EDGE["ip"] in " ".join(rules.split()), rules


def test_rolling_update_goes_edge_first_then_origin_waiting_for_active(site, playbook):
    rc, out = playbook("rolling_update", "-e", "wcs_rollout_image=mediaops/wcs-emulator:next")
    assert rc == 0, out[-4000:]
    (edge_state, edge_image), (origin_state, origin_image) = state(EDGE), state(ORIGIN)
    assert edge_image == origin_image == "mediaops/wcs-emulator:next"
    assert edge_state["StartedAt"] < origin_state["StartedAt"], (edge_state["StartedAt"], origin_state["StartedAt"])
    edges_play = out.index("PLAY [Rolling update of WCS containers - CDN edges (first)]")
    origins_play = out.index("PLAY [Rolling update of WCS containers - CDN origins (after edges and transcoders)]")
    assert edges_play < origins_play
    flat = " ".join(out.split())
    # each node waited until its peer (asked on the peer's host) listed it ACTIVE again
    assert "TASK [mediaops.wcs.rollout : CDN, its peer lists it active - %s in the eyes of %s/%s]" % (
        EDGE["name"], ORIGIN["host"], ORIGIN["name"]) in flat
    assert "TASK [mediaops.wcs.rollout : CDN, its peer lists it active - %s in the eyes of %s/%s]" % (
        ORIGIN["name"], EDGE["host"], EDGE["name"]) in flat
    assert "ok: [%s -> %s]" % (EDGE["host"], ORIGIN["host"]) in out[edges_play:origins_play]
    assert "ok: [%s -> %s]" % (ORIGIN["host"], EDGE["host"]) in out[origins_play:]
    sees_active(ORIGIN, EDGE)
    sees_active(EDGE, ORIGIN)


def test_a_node_the_cdn_never_reports_active_rolls_back_and_stops_before_the_origins(site, playbook):
    """The CDN wait's timeout is a failed gate: the edge goes back to its image, the origin tier never starts."""
    origin_before, _image = state(ORIGIN)
    _edge_before, edge_image_before = state(EDGE)
    rc, out = playbook("rolling_update", "-e", "wcs_rollout_image=mediaops/wcs-emulator:test",
                       "-e", '{"wcs_cdn_expected_state": {"globalState": "ACTIVE", "role": "RELAY"}}',
                       "-e", "wcs_cdn_wait_timeout=3")
    assert rc != 0, out[-3000:]
    flat = " ".join(out.split())
    assert "CDN node %s (%s) is not ACTIVE/RELAY in the CDN after 3 s: %s/%s answered {" % (
        EDGE["ip"], EDGE["name"], ORIGIN["host"], ORIGIN["name"]) in flat, out[-3000:]
    assert "rolled back (%s -> %s" % (EDGE["name"], edge_image_before) in flat
    # nothing ran for the origin after the edges' play: the failed edge stopped the rollout
    assert "[%s]" % ORIGIN["host"] not in out.split("PLAY [Rolling update of WCS containers - CDN edges (first)]")[1]
    assert state(ORIGIN)[0]["StartedAt"] == origin_before["StartedAt"]
    edge_after, _image = state(EDGE)
    assert edge_after["Running"]
    sees_active(ORIGIN, EDGE)

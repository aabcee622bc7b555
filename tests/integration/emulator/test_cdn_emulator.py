"""The emulator's CDN double (tests/emulator): show_nodes, show_routes, announcements on cdn_port, ACTIVE/PASSIVE.

An origin and an edge (and a node outside the CDN) on a private dockerd `wcscdn-emu` (bridge `wcscdnbr0`
192.0.2.241/30), on a macvlan network `wcscdn-emu-net` 192.0.2.48/28 whose parent is the veth `wcscdne0` (router
side in netns `wcscdne0-ns`): containers on one macvlan parent reach each other directly (a bridge network would
pass the machine's netfilter). Names `wcscdn-emu-*`. The test asks each node from inside its network namespace,
as the collection does. The emulator is built into that engine from this checkout (tests/emulator/build.sh with
DOCKER_HOST), so the test runs what it tests.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import labkit
import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.netns_http import NetnsHTTPError, request

ROOT = Path(__file__).resolve().parents[3]
NET = "wcscdn-emu-net"
ORIGIN, EDGE, PLAIN = "192.0.2.52", "192.0.2.53", "192.0.2.54"
CORE = "### SERVER OPTIONS ###\n### JVM OPTIONS ###\n-Xmx512m\n"


@pytest.fixture(scope="module")
def engine():
    links = labkit.Links()
    eng = labkit.Engine("wcscdn-emu", bridge=("wcscdnbr0", "192.0.2.241/30")).start()
    try:
        parent = links.veth("wcscdne0", host_cidr="192.0.2.50/28", router_cidr="192.0.2.49/28")
        eng.wait()
        subprocess.run([str(ROOT / "tests/emulator/build.sh")], check=True, capture_output=True,
                       env=dict(os.environ, DOCKER_HOST=eng.host))
        subprocess.run(["docker", "-H", eng.host, "network", "create", "-d", "macvlan", "-o", "parent=" + parent,
                        "--subnet", "192.0.2.48/28", "--gateway", "192.0.2.49", NET], check=True, capture_output=True)
        yield eng
    finally:
        eng.clean()
        eng.down()
        links.remove()


def docker(engine, *args, check=True):
    return subprocess.run(["docker", "-H", engine.host] + list(args), capture_output=True, text=True, check=check)


def run_node(engine, tmp_path, name, address, properties):
    conf = tmp_path / name
    conf.mkdir()
    (conf / "flashphoner.properties").write_text("ip=\nip_local=\n" + properties)
    (conf / "wcs-core.properties").write_text(CORE)
    NAMES[address], ENGINE["engine"] = name, engine
    docker(engine, "run", "-d", "--name", name, "--network", NET, "--ip", address, "-e", "LOCAL_IP=" + address,
           "-v", "%s:/conf:ro" % conf, "mediaops/wcs-emulator:test")


NAMES = {}  # address -> container name
ENGINE = {}


def pid_of(address):
    state = json.loads(docker(ENGINE["engine"], "inspect", NAMES[address]).stdout)[0]["State"]
    return state["Pid"] if state["Running"] else None


def call(address, method, path, port=8081, body=None):
    """(status, body) of a request made inside the node's own network namespace; None when it is not running."""
    pid = pid_of(address)
    if not pid:
        return None
    resp = request(method, path, port, pid=pid, body=body, timeout=3)
    return resp["status"], resp["body"]


def nodes(address):
    try:
        answer = call(address, "POST", "/rest-api/cdn/show_nodes", body={})
    except NetnsHTTPError:
        return None
    if answer is None:
        return None
    assert answer[0] == 200, answer
    return {n["id"]: n for n in json.loads(answer[1])}


def wait_for(what, check, timeout=15.0):
    end, last = time.monotonic() + timeout, None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError("%s: not within %s s (last %r)" % (what, timeout, last))


def state_of(address, node):
    return (nodes(address) or {}).get(node, {}).get("globalState")


@pytest.fixture(scope="module")
def cdn(engine, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cdn-emu")
    run_node(engine, tmp, "wcscdn-emu-origin", ORIGIN,
             "cdn_enabled=true\ncdn_role=origin\ncdn_ip=%s\ncdn_port=8084\ncdn_nodes_timeout=6\n" % ORIGIN)
    run_node(engine, tmp, "wcscdn-emu-edge", EDGE,
             "cdn_enabled=true\ncdn_role=edge\ncdn_ip=%s\ncdn_point_of_entry=%s\n" % (EDGE, ORIGIN))
    run_node(engine, tmp, "wcscdn-emu-plain", PLAIN, "")
    return engine


def test_origin_and_edge_see_each_other_active_but_not_themselves(cdn):
    seen = wait_for("origin lists the edge", lambda: state_of(ORIGIN, EDGE) == "ACTIVE" and nodes(ORIGIN))
    assert seen == {EDGE: {"id": EDGE, "role": "EDGE", "globalState": "ACTIVE",
                           "processingState": "NEW_STREAMS_ALLOWED"}}
    seen = wait_for("edge lists the origin", lambda: state_of(EDGE, ORIGIN) == "ACTIVE" and nodes(EDGE))
    assert list(seen) == [ORIGIN] and seen[ORIGIN]["role"] == "ORIGIN"
    assert call(ORIGIN, "POST", "/rest-api/cdn/show_routes", body={}) == (200, "{}\n")
    # outside the CDN: no nodes, and the private route is closed
    wait_for("the plain node answers", lambda: nodes(PLAIN) is not None)
    assert nodes(PLAIN) == {}
    assert call(PLAIN, "GET", "/cdn/announce?id=192.0.2.99&role=EDGE&state=X")[0] == 404
    stat = subprocess.run(["docker", "-H", cdn.host, "exec", "wcscdn-emu-origin", "cat",
                           "/var/lib/wcs-emulator/applied"], capture_output=True, text=True, check=True).stdout
    assert "config_cdn_enabled=true" in stat and "config_cdn_role=origin" in stat and "config_cdn_port=8084" in stat


def test_the_processing_state_comes_from_the_announcing_node(cdn):
    docker(cdn, "exec", "wcscdn-emu-edge", "sh", "-c",
           "echo cdn_processing_state=GROUP_CONNECTION_ALLOWED > /var/lib/wcs-emulator/streams")
    wait_for("edge reports GROUP_CONNECTION_ALLOWED",
             lambda: (nodes(ORIGIN) or {}).get(EDGE, {}).get("processingState") == "GROUP_CONNECTION_ALLOWED")
    docker(cdn, "exec", "wcscdn-emu-edge", "rm", "-f", "/var/lib/wcs-emulator/streams")
    wait_for("edge back to NEW_STREAMS_ALLOWED",
             lambda: (nodes(ORIGIN) or {}).get(EDGE, {}).get("processingState") == "NEW_STREAMS_ALLOWED")


def test_a_stopped_node_turns_passive_then_active_again(cdn):
    wait_for("edge active", lambda: state_of(ORIGIN, EDGE) == "ACTIVE")
    docker(cdn, "stop", "-t", "1", "wcscdn-emu-edge")
    wait_for("origin sees the stopped edge PASSIVE", lambda: state_of(ORIGIN, EDGE) == "PASSIVE", timeout=10)
    docker(cdn, "start", "wcscdn-emu-edge")
    wait_for("edge ACTIVE again", lambda: state_of(ORIGIN, EDGE) == "ACTIVE")
    # the origin goes away: the edge learns it from its failing announcements
    docker(cdn, "stop", "-t", "1", "wcscdn-emu-origin")
    wait_for("edge sees the stopped origin PASSIVE", lambda: state_of(EDGE, ORIGIN) == "PASSIVE", timeout=10)
    docker(cdn, "start", "wcscdn-emu-origin")
    wait_for("origin ACTIVE again", lambda: state_of(EDGE, ORIGIN) == "ACTIVE")
    wait_for("the restarted origin hears the edge again", lambda: state_of(ORIGIN, EDGE) == "ACTIVE")


def test_a_node_gone_longer_than_cdn_nodes_timeout_leaves_the_list(cdn):
    wait_for("edge active", lambda: state_of(ORIGIN, EDGE) == "ACTIVE")
    docker(cdn, "stop", "-t", "1", "wcscdn-emu-edge")
    wait_for("edge gone from the origin's list after cdn_nodes_timeout=6", lambda: nodes(ORIGIN) == {}, timeout=15)
    docker(cdn, "start", "wcscdn-emu-edge")
    wait_for("edge back", lambda: state_of(ORIGIN, EDGE) == "ACTIVE")


def test_bad_announcements_are_refused(cdn):
    for query in ("id=1.2.3.4;rm&role=EDGE&state=X", "id=1.2.3.4&role=&state=X", "role=EDGE&state=X"):
        assert call(ORIGIN, "GET", "/cdn/announce?" + query, port=8084)[0] == 400, query
    assert "1.2.3.4" not in json.dumps(nodes(ORIGIN))

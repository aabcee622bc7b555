"""The per-container firewall for real: nft in the containers' network namespaces of a private dockerd, probed from
an "internet" namespace (router 198.51.100.161) and an admin machine (198.51.100.166) on the macvlan parent's peer,
kept across `docker restart` and a dockerd restart by the follower. Runs without the shared lock (own engine, own
names, own range)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from fwhelpers import ADDRESSES, ADMIN, ENGINE_SOCK, GATEWAY, PARENT, PREFIX, ROOT, SUBNET, probe

from ansible_collections.mediaops.wcs.plugins.module_utils import firewall as fw
from ansible_collections.mediaops.wcs.plugins.module_utils import netns_http

IMAGE = "mediaops/wcs-emulator:test"
NET = PREFIX + "net"
FOLLOWER = ROOT / "plugins/module_utils/firewall_follow.py"  # runnable as a program from the checkout
ADMIN_PORTS = (8081, 2001, 8444)
MEDIA_FROM, MEDIA_TO = 31001, 31100


def nft_in(pid, *args):
    return subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % pid, "nft"] + list(args), capture_output=True,
                          text=True, timeout=20, check=False)


def pid_of(client, name):
    c = client.containers.get(name)
    c.reload()
    return int(c.attrs["State"]["Pid"])


def has_table(client, name):
    pid = pid_of(client, name)
    return bool(pid) and nft_in(pid, "list", "table", "inet", "mediaops_wcs").returncode == 0


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return time.monotonic() - (deadline - timeout)
        except (docker.errors.APIError, docker.errors.NotFound, OSError, ValueError, netns_http.NetnsHTTPError):
            pass  # not there yet (a container starting, a server not listening yet)
        time.sleep(0.2)
    raise AssertionError("%s not reached within %ss" % (what, timeout))


def make_set(client, conf_root):
    """The macvlan network and two managed emulator containers (restart policy unless-stopped, like the role)."""
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=SUBNET, gateway=GATEWAY)])
    client.networks.create(NET, driver="macvlan", options={"parent": PARENT}, ipam=ipam)
    items = []
    for name, address in ADDRESSES.items():
        conf = conf_root / name / "conf"
        conf.mkdir(parents=True)
        (conf / "flashphoner.properties").write_text(
            "media_port_from=%d\nmedia_port_to=%d\nws.port=8080\nwss.port=8443\n" % (MEDIA_FROM, MEDIA_TO))
        (conf / "wcs-core.properties").write_text("### JVM OPTIONS ###\n-Xms256m -Xmx256m\n")
        container = client.containers.create(
            IMAGE, name=name, labels={"mediaops.wcs.managed": "true"},
            volumes={str(conf): {"bind": "/conf", "mode": "ro"}},
            restart_policy={"Name": "unless-stopped"}, network=NET)
        client.networks.get(NET).disconnect(container)
        client.networks.get(NET).connect(container, ipv4_address=address)
        container.start()
        items.append({"name": name, "conf_dir": str(conf), "image": IMAGE, "cpuset": ""})
    for name, address in ADDRESSES.items():
        wait_for(lambda n=name: netns_http.request("GET", "/?action=stat", 8081, pid=pid_of(client, n),
                                                   timeout=2)["status"] == 200, what="%s serving" % name)
    return items


@pytest.fixture(scope="module")
def wcs_set(fw_engine, internet, tmp_path_factory):
    _host, _engine, client = fw_engine
    root = tmp_path_factory.mktemp("wcstf")
    items = make_set(client, root)
    yield {"items": items, "rules_dir": str(root / "rules"), "client": client}
    for name in ADDRESSES:
        try:
            client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass
    client.networks.get(NET).remove()


def args(wcs_set, **extra):
    """The rules only: the follower the module would install (default /opt/mediaops-wcs-firewall, shared with
    whatever else runs on this machine) is left alone here; test_follower.py and test_role.py cover it in their
    own directories."""
    out = dict(docker_host=ENGINE_SOCK, containers=wcs_set["items"], admin_cidrs=[ADMIN],
               rules_dir=wcs_set["rules_dir"], media_port_from=40000, media_port_to=40100, follower="ignore",
               follower_dir=str(Path(wcs_set["rules_dir"]).parent / "follow"))
    out.update(extra)
    return out


def client_of(wcs_set):
    """The engine client after a possible dockerd restart (the old connection may be stale)."""
    return docker.DockerClient(base_url=ENGINE_SOCK, timeout=60, version="1.41")


# Ordered: the tests below walk one set of containers through open -> firewalled -> restarted -> removed.
def test_without_firewall_everything_is_reachable(wcs_set):
    """The baseline that makes the next tests mean something: the emulator listens on the admin ports too."""
    ip = ADDRESSES["wcst-fw-1"]
    assert probe("tcp", ip, 8081).startswith("open"), "REST not served"
    assert probe("tcp", ip, 2001).startswith("open wcs-emulator admin CLI")
    assert probe("tcp", ip, 8080).startswith("open") and probe("tcp", ip, 8443).startswith("open")
    assert probe("udp", ip, 9999) == "refused"  # nothing listens, nothing filters: ICMP port unreachable


def test_check_mode_changes_nothing(wcs_set, module):
    res = module("wcs_firewall", args(wcs_set), check=True, diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and sorted(res["changed_containers"]) == sorted(ADDRESSES)
    assert any("tcp dport { 8080, 8443 }" in d["after"] for d in res["diff"])
    assert not Path(wcs_set["rules_dir"]).exists()
    assert not has_table(wcs_set["client"], "wcst-fw-1")


def test_apply_then_idempotent(wcs_set, module):
    res = module("wcs_firewall", args(wcs_set), diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"]
    one = res["containers"]["wcst-fw-1"]
    # The media range comes from the container's rendered flashphoner.properties, not the module's 40000-40100.
    assert one["media_ports"] == "%d-%d" % (MEDIA_FROM, MEDIA_TO)
    assert one["public_ports"] == [8080, 8443] and 8081 in one["admin_ports"] and 50999 in one["admin_ports"]
    for name in ADDRESSES:
        path = Path(wcs_set["rules_dir"]) / ("%s.nft" % name)
        assert path.stat().st_mode & 0o777 == 0o600
        assert has_table(wcs_set["client"], name)
    assert Path(wcs_set["rules_dir"]).stat().st_mode & 0o777 == 0o700
    assert res["follower"]["state"] == "ignored" and not Path(args(wcs_set)["follower_dir"]).exists()
    again = module("wcs_firewall", args(wcs_set), diff=True)
    assert not again.get("failed"), again.get("msg")
    assert not again["changed"], again["changed_containers"]
    assert again["diff"] == []


def test_internet_reaches_ws_and_media_only(wcs_set):
    ip = ADDRESSES["wcst-fw-1"]
    assert probe("tcp", ip, 8080).startswith("open")
    assert probe("tcp", ip, 8443).startswith("open")
    for port in ADMIN_PORTS + (22, 50999, 9091):
        assert probe("tcp", ip, port) == "timeout", port
    assert probe("udp", ip, MEDIA_FROM) == "refused"   # in the range: let in, the kernel answers unreachable
    assert probe("udp", ip, MEDIA_TO) == "refused"
    assert probe("tcp", ip, MEDIA_FROM + 1) == "refused"  # media over TCP: let in (RST, nothing listens)
    assert probe("udp", ip, MEDIA_TO + 1) == "timeout"  # just outside the range: dropped
    assert probe("udp", ip, 9999) == "timeout"


def test_admin_address_reaches_admin_ports(wcs_set):
    ip = ADDRESSES["wcst-fw-2"]
    assert probe("tcp", ip, 8081, src=ADMIN).startswith("open")
    assert probe("tcp", ip, 2001, src=ADMIN).startswith("open wcs-emulator admin CLI")
    assert probe("tcp", ip, 22, src=ADMIN) == "refused"  # let in; the emulator has no SSH


def test_loopback_inside_the_namespace_still_works(wcs_set):
    """Health gate, drain and exporter ask 127.0.0.1:8081 from inside the namespace."""
    pid = pid_of(wcs_set["client"], "wcst-fw-1")
    assert netns_http.request("GET", "/?action=stat", 8081, pid=pid, timeout=3)["status"] == 200


def test_counters_are_reported(wcs_set, module):
    res = module("wcs_firewall", args(wcs_set))
    counters = res["containers"]["wcst-fw-1"]["counters"]
    assert counters["dropped"]["packets"] >= 5, counters
    assert counters["public"]["packets"] >= 2 and counters["media udp"]["packets"] >= 2, counters
    assert not res["changed"]


def test_hand_edit_is_put_back(wcs_set, module):
    pid = pid_of(wcs_set["client"], "wcst-fw-2")
    assert nft_in(pid, "insert", "rule", "inet", "mediaops_wcs", "input", "tcp", "dport", "8081", "accept"
                  ).returncode == 0
    assert probe("tcp", ADDRESSES["wcst-fw-2"], 8081).startswith("open")
    res = module("wcs_firewall", args(wcs_set))
    assert res["changed_containers"] == ["wcst-fw-2"]
    assert probe("tcp", ADDRESSES["wcst-fw-2"], 8081) == "timeout"


@pytest.fixture
def follower(wcs_set):
    log = open(Path(wcs_set["rules_dir"]).parent / "follower.log", "ab")
    proc = subprocess.Popen([sys.executable, str(FOLLOWER), "--rules-dir", wcs_set["rules_dir"],
                             "--docker-host", ENGINE_SOCK, "--log-level", "INFO"], stdout=log, stderr=log,
                            start_new_session=True)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def test_rules_back_after_docker_restart(wcs_set, follower):
    client = wcs_set["client"]
    old = pid_of(client, "wcst-fw-1")
    client.containers.get("wcst-fw-1").restart(timeout=5)
    assert pid_of(client, "wcst-fw-1") != old  # a new process, a new network namespace
    took = wait_for(lambda: has_table(client, "wcst-fw-1"), timeout=10, what="rules in the new namespace")
    print("rules back %.1fs after docker restart" % took)
    assert probe("tcp", ADDRESSES["wcst-fw-1"], 8081) == "timeout"
    assert probe("tcp", ADDRESSES["wcst-fw-1"], 8080).startswith("open")


def test_rules_back_after_dockerd_restart(wcs_set, fw_engine, follower):
    _host, engine, _client = fw_engine
    engine.stop()  # the containers stop with it (no live-restore): their namespaces are gone
    assert follower.poll() is None, "the follower must survive the engine going away"
    new_client = engine.start()
    try:
        wait_for(lambda: all(new_client.containers.get(n).status == "running" for n in ADDRESSES), timeout=30,
                 what="containers restarted by their restart policy")
        wcs_set["client"] = new_client
        took = wait_for(lambda: all(has_table(new_client, n) for n in ADDRESSES), timeout=15,
                        what="rules in every new namespace")
        print("rules back %.1fs after the engine answered again" % took)
        for name, ip in ADDRESSES.items():
            wait_for(lambda i=ip: probe("tcp", i, 8080).startswith("open"), timeout=15, what="%s ws" % name)
            assert probe("tcp", ip, 8081) == "timeout", name
    finally:
        assert follower.poll() is None


def test_follower_once_applies_to_running_containers(wcs_set):
    """The follower's start sweep alone (no event): a namespace emptied by hand gets its rules back."""
    client = wcs_set["client"]
    pid = pid_of(client, "wcst-fw-2")
    assert nft_in(pid, "delete", "table", "inet", "mediaops_wcs").returncode == 0
    out = subprocess.run([sys.executable, str(FOLLOWER), "--once", "--rules-dir", wcs_set["rules_dir"],
                          "--docker-host", ENGINE_SOCK], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert has_table(client, "wcst-fw-2")


def test_bad_input_names_field_value_and_fix(wcs_set, module):
    res = module("wcs_firewall", args(wcs_set, admin_cidrs=["198.51.100.166/24"]))
    assert res.get("failed") and "wcs_admin_cidrs" in res["msg"] and "198.51.100.0/24" in res["msg"], res["msg"]
    res = module("wcs_firewall", args(wcs_set, public=["ws", "nope"]))
    assert res.get("failed") and "wcs_firewall_public" in res["msg"] and "'nope'" in res["msg"], res["msg"]
    res = module("wcs_firewall", args(wcs_set, ports={"cli": 31050}, read_properties=False,
                                      media_port_from=31001, media_port_to=32000))
    assert res.get("failed") and "media" in res["msg"] and "cli port 31050" in res["msg"], res["msg"]


def test_prune_only_files_of_containers_gone_from_the_engine(wcs_set, module):
    """Several deployments may share the rules directory: a file whose container still exists stays; of the files
    of containers gone, only those the collection wrote (its header naming the container) are removed."""
    rules = Path(wcs_set["rules_dir"])
    (rules / "wcst-fw-gone.nft").write_text(fw.render([], "wcst-fw-gone"))
    foreign = "# the operator's own ruleset\ntable inet mine {}\n"
    (rules / "wcst-fw-mine.nft").write_text(foreign)
    (rules / "wcst-fw-other.nft").write_text(fw.render([], "wcst-fw-gone"))  # a header naming another container
    res = module("wcs_firewall", args(wcs_set, containers=wcs_set["items"][:1]))
    assert res["pruned_files"] == ["wcst-fw-gone.nft"], res.get("msg")
    assert (rules / "wcst-fw-2.nft").exists() and not (rules / "wcst-fw-gone.nft").exists()
    assert (rules / "wcst-fw-mine.nft").read_text() == foreign and (rules / "wcst-fw-other.nft").exists()
    assert sorted(Path(k["file"]).name for k in res["kept_files"]) == ["wcst-fw-mine.nft", "wcst-fw-other.nft"]
    (rules / "wcst-fw-mine.nft").unlink()
    (rules / "wcst-fw-other.nft").unlink()


def test_absent_removes_rules_and_files(wcs_set, module):
    res = module("wcs_firewall", args(wcs_set, state="absent"), diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"]
    for name in ADDRESSES:
        assert not has_table(wcs_set["client"], name)
    assert not list(Path(wcs_set["rules_dir"]).glob("*.nft"))
    assert probe("tcp", ADDRESSES["wcst-fw-1"], 8081).startswith("open")
    again = module("wcs_firewall", args(wcs_set, state="absent"))
    assert not again["changed"]
    assert json.dumps(again)  # plain data

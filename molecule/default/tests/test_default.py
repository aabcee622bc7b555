"""Verify of the `default` scenario: what site left on this host matches the plan and the scenario's inputs."""
from __future__ import annotations

import json
import os

import pytest

PLAN_FILE = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "wcs_plan.json")
NAMES = ["wcs-mol-1", "wcs-mol-2"]
ADDRESSES = ["198.51.100.20", "198.51.100.21"]  # block .16/28: .17 gateway, .18 host, .19 ip_range, then WCS
PASSWORD = "mol-secret-password-4711"
LICENSE = "mol-lic-0000-1111-2222"


@pytest.fixture(scope="module")
def plan():
    with open(PLAN_FILE, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def inspect(host):
    out = host.check_output("docker inspect %s %s", *NAMES)
    return {c["Name"].lstrip("/"): c for c in json.loads(out)}


def planned(plan, name):
    return next(c for c in plan["containers"] if c["name"] == name)


def stat_page(host, name):
    out = host.check_output("docker exec %s wget -qO- 'http://127.0.0.1:8081/?action=stat'", name)
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line and not line.startswith("-"))


def cpu_ids(cpuset):
    """'0-2,5' -> {0, 1, 2, 5} (ranges expanded: a comma split would miss '0-1')."""
    ids = set()
    for part in cpuset.split(","):
        low, _dash, high = part.partition("-")
        ids.update(range(int(low), int(high or low) + 1))
    return ids


def test_plan_is_the_expected_one(plan):
    assert [c["name"] for c in plan["containers"]] == NAMES
    assert [c["ipv4_address"] for c in plan["containers"]] == ADDRESSES
    assert plan["network"]["subnet"] == "198.51.100.16/28"
    assert plan["network"]["gateway"] == "198.51.100.17"
    cpus = [cpu_ids(c["cpuset"]) for c in plan["containers"]]
    assert not cpus[0] & cpus[1], "planned cpusets overlap"
    assert PASSWORD not in json.dumps(plan) and LICENSE not in json.dumps(plan)


@pytest.mark.parametrize("name", NAMES)
def test_container_runs_pinned_with_planned_address(plan, inspect, name):
    want = planned(plan, name)
    got = inspect[name]
    assert got["State"]["Running"] is True
    assert got["Config"]["Image"] == "mediaops/wcs-emulator:test"
    assert got["HostConfig"]["CpusetCpus"] == want["cpuset"]
    assert got["HostConfig"]["CpusetMems"] == want["cpuset_mems"]
    net = got["NetworkSettings"]["Networks"]["wcs-mol-net"]
    assert net["IPAddress"] == want["ipv4_address"]
    assert net["IPAMConfig"]["IPv4Address"] == want["ipv4_address"]


def test_network_is_macvlan_on_the_veth(host):
    net = json.loads(host.check_output("docker network inspect wcs-mol-net"))[0]
    assert net["Driver"] == "macvlan"
    assert net["Options"]["parent"] == "wcsmol0"
    ipam = net["IPAM"]["Config"][0]
    assert ipam["Subnet"] == "198.51.100.16/28" and ipam["Gateway"] == "198.51.100.17"


@pytest.mark.parametrize("name", NAMES)
def test_env_and_conf_mount(plan, inspect, name):
    want = planned(plan, name)
    got = inspect[name]
    env = dict(item.split("=", 1) for item in got["Config"]["Env"])
    assert env["LOCAL_IP"] == want["local_ip"]
    assert env["EXTERNAL_IP"] == want["external_ip"]
    assert env["PASSWORD"] == PASSWORD and env["LICENSE"] == LICENSE
    mounts = {m["Destination"]: m["Source"] for m in got["Mounts"]}
    assert mounts["/conf"] == want["conf_dir"] == "/var/lib/mediaops-wcs-mol/%s/conf" % name


@pytest.mark.parametrize("name", NAMES)
def test_property_files_hold_planned_values(host, plan, name):
    want = planned(plan, name)
    props = host.file(want["conf_dir"] + "/flashphoner.properties").content_string
    assert "ip=%s\n" % want["external_ip"] in props
    assert "ip_local=%s\n" % want["local_ip"] in props
    assert "media_port_from=31001\n" in props and "media_port_to=40000\n" in props
    core = host.file(want["conf_dir"] + "/wcs-core.properties").content_string.splitlines()
    assert "-Xms%s" % want["heap"] in core and "-Xmx%s" % want["heap"] in core
    assert "-XX:+UseZGC" in core
    # what the container applied (the emulator echoes it; secrets only as *_set flags)
    stats = stat_page(host, name)
    assert stats["config_ip"] == want["external_ip"]
    assert stats["config_ip_local"] == want["local_ip"]
    assert stats["config_heap_max"] == want["heap"]
    assert stats["config_password_set"] == "true" and stats["config_license_set"] == "true"


@pytest.mark.parametrize("name", NAMES)
def test_conf_not_readable_by_others_and_no_secrets_in_files(host, plan, name):
    conf = planned(plan, name)["conf_dir"]
    assert host.file(conf).mode == 0o750
    for fname in ("flashphoner.properties", "wcs-core.properties"):
        f = host.file("%s/%s" % (conf, fname))
        assert f.mode == 0o640 and f.user == "root"
        assert PASSWORD not in f.content_string and LICENSE not in f.content_string
        denied = host.run("su -s /bin/sh nobody -c 'cat %s/%s'", conf, fname)
        assert denied.rc != 0
    # PASSWORD / LICENSE live only in the container env: the engine socket is not open to other users
    sock = host.file(os.environ["DOCKER_HOST"].replace("unix://", ""))  # the scenario's engine (molecule.yml)
    assert not sock.mode & 0o006
    denied = host.run("su -s /bin/sh nobody -c 'docker inspect %s'", name)
    assert denied.rc != 0 and PASSWORD not in denied.stdout


def test_no_secret_in_world_readable_files_under_conf_root(host):
    found = host.run("grep -rl -e %s -e %s /var/lib/mediaops-wcs-mol", PASSWORD, LICENSE)
    assert found.rc == 1, "secret found in: %s" % found.stdout


def test_router_reaches_ws_of_each_container_but_not_its_rest_api(host):
    """The router is the internet: the firewall (role firewall, on by default) lets ws in (the emulator serves the
    same routes there) and drops the REST API (admins only: the host's plan address)."""
    for addr in ADDRESSES:
        out = host.run("ip netns exec wcsmol-up curl -sf -m 5 'http://%s:8080/?action=stat'", addr)
        assert out.rc == 0 and "config_ip=%s" % addr in out.stdout
        rest = host.run("ip netns exec wcsmol-up curl -sf -m 2 'http://%s:8081/?action=stat'", addr)
        assert rest.rc == 28, "REST API reachable from the internet (curl rc %s)" % rest.rc  # 28: timed out

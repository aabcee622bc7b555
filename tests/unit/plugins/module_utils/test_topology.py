"""topology.read_topology on recorded sysfs/procfs trees (tests/fixtures/topology, made by record.py)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils import topology as topo_mod
from ansible_collections.mediaops.wcs.plugins.module_utils.topology import (
    parse_cmdline_cpulist, parse_isolcpus, read_meminfo_total, read_topology)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "topology"
GIB = 1 << 30
KEYS = {"cpus", "numa_nodes", "isolated", "nohz_full", "memory_bytes", "interfaces", "cgroup"}


def iface(topo, name):
    return next(i for i in topo["interfaces"] if i["name"] == name)


def test_two_cpu_no_smt_no_numa_dir():
    topo = read_topology(str(FIXTURES / "two-cpu"))
    assert set(topo) == KEYS
    assert topo["cpus"] == [{"id": 0, "core": 0, "socket": 0, "node": 0, "siblings": [0]},
                            {"id": 1, "core": 1, "socket": 0, "node": 0, "siblings": [1]}]
    assert topo["numa_nodes"] == []
    assert topo["memory_bytes"] == 4 * GIB
    assert topo["cgroup"] == {"version": 1}
    assert topo["isolated"] == [] and topo["nohz_full"] == []
    assert iface(topo, "ens3") == {"name": "ens3", "state": "up", "mtu": 1500, "mac": "02:00:00:00:00:02",
                                   "addresses": ["198.51.100.2/28"], "kind": "physical", "can_be_parent": True,
                                   "numa_node": None}
    assert iface(topo, "lo")["can_be_parent"] is False and iface(topo, "lo")["kind"] == "loopback"


def test_big_host_two_nodes_ten_cores_two_threads():
    topo = read_topology(str(FIXTURES / "big-2x10x2"))
    assert len(topo["cpus"]) == 40
    assert [c["id"] for c in topo["cpus"]] == list(range(40))
    cpu = {c["id"]: c for c in topo["cpus"]}
    assert cpu[0] == {"id": 0, "core": 0, "socket": 0, "node": 0, "siblings": [0, 20]}
    assert cpu[35] == {"id": 35, "core": 5, "socket": 1, "node": 1, "siblings": [15, 35]}
    assert [n["id"] for n in topo["numa_nodes"]] == [0, 1]
    assert topo["numa_nodes"][0]["cpus"] == list(range(10)) + list(range(20, 30))
    assert topo["numa_nodes"][1]["memory_bytes"] == 128 * GIB
    assert topo["memory_bytes"] == 256 * GIB
    assert topo["cgroup"] == {"version": 2}
    parents = {i["name"]: (i["kind"], i["can_be_parent"]) for i in topo["interfaces"]}
    assert parents == {
        "lo": ("loopback", False),
        "eno1": ("physical", True),
        "eno2": ("physical", False),  # down
        "eno1.100": ("vlan", True),
        "docker0": ("bridge", False),
        "veth1a2b3c4": ("veth", False),  # enslaved to docker0
        "bond0": ("bond", True),
    }
    assert iface(topo, "eno1")["addresses"] == ["203.0.113.2/29"]


def test_isolcpus_host_with_offline_cpu():
    topo = read_topology(str(FIXTURES / "isolcpus"))
    assert [c["id"] for c in topo["cpus"]] == list(range(15))  # CPU 15 offline
    cpu7 = next(c for c in topo["cpus"] if c["id"] == 7)
    assert cpu7["siblings"] == [7]
    assert topo["isolated"] == [2, 3, 10, 11]
    assert topo["nohz_full"] == [2, 3, 10, 11]
    assert topo["numa_nodes"][0]["cpus"] == list(range(15))
    assert iface(topo, "wcsmv0")["kind"] == "macvlan" and not iface(topo, "wcsmv0")["can_be_parent"]
    assert iface(topo, "enp1s0")["mtu"] == 9000


def test_sysfs_only_kinds_without_ip_json(tmp_path):
    """Without ip-link.json the kind comes from sysfs markers alone."""
    tree = tmp_path / "big"
    shutil.copytree(FIXTURES / "big-2x10x2", tree)
    (tree / "ip-link.json").unlink()
    (tree / "ip-addr.json").unlink()
    kinds = {i["name"]: i["kind"] for i in read_topology(str(tree))["interfaces"]}
    assert kinds == {"lo": "loopback", "eno1": "physical", "eno2": "physical", "eno1.100": "virtual-upper",
                     "docker0": "bridge", "veth1a2b3c4": "veth", "bond0": "bond"}
    assert all(i["addresses"] == [] for i in read_topology(str(tree))["interfaces"])


def test_this_machine_recording_and_live_root_agree_on_cpus():
    recorded = read_topology(str(FIXTURES / "this-machine"))
    live = read_topology("/")
    assert set(live) == KEYS
    assert [c["id"] for c in recorded["cpus"]] == [c["id"] for c in live["cpus"]]
    assert live["memory_bytes"] > 0
    assert any(i["name"] == "lo" and i["addresses"] for i in live["interfaces"])


def test_gather_subset():
    topo = read_topology(str(FIXTURES / "big-2x10x2"), gather=("cpu",))
    assert topo["interfaces"] == [] and topo["memory_bytes"] == 0 and len(topo["cpus"]) == 40


def test_record_script_reproduces_the_committed_fixtures(tmp_path):
    subprocess.run([sys.executable, str(FIXTURES / "record.py"), str(tmp_path)], check=True, capture_output=True)
    for name in ("two-cpu", "big-2x10x2", "isolcpus"):
        assert read_topology(str(tmp_path / name)) == read_topology(str(FIXTURES / name))


def test_record_from_live_root(tmp_path):
    subprocess.run([sys.executable, str(FIXTURES / "record.py"), "--from", "/", str(tmp_path / "live")],
                   check=True, capture_output=True)
    recorded = read_topology(str(tmp_path / "live"))
    live = read_topology("/")
    assert recorded["cpus"] == live["cpus"]
    assert recorded["numa_nodes"] == live["numa_nodes"]
    assert json.loads((tmp_path / "live" / "ip-addr.json").read_text())


@pytest.mark.parametrize("cmdline,expected", [
    ("ro isolcpus=2-5", [2, 3, 4, 5]),
    ("isolcpus=managed_irq,domain,2-3,10-11 quiet", [2, 3, 10, 11]),
    ("isolcpus=nohz,domain,managed_irq,1", [1]),
    ("isolcpus=managed_irq,2-5", []),  # flags without domain: the scheduler still balances onto them
    ("quiet", []),
    ("isolcpus=1 isolcpus=4", [4]),
    ("root=/dev/sda -- isolcpus=3", []),
    ("isolcpus=garbage", []),
])
def test_parse_isolcpus(cmdline, expected):
    assert parse_isolcpus(cmdline) == expected


def test_parse_nohz_full():
    assert parse_cmdline_cpulist("nohz_full=1-3,7 rcu_nocbs=1-3", "nohz_full") == [1, 2, 3, 7]
    assert parse_cmdline_cpulist("quiet", "nohz_full") == []


def test_meminfo():
    assert read_meminfo_total("MemTotal:       16384 kB\nMemFree: 1 kB") == 16384 * 1024
    assert read_meminfo_total("Node 1 MemTotal:       2048 kB") == 2048 * 1024
    assert read_meminfo_total("") == 0


def test_ip_runner_failure_leaves_addresses_empty():
    topo = topo_mod.read_interfaces(str(FIXTURES / "two-cpu"), run_ip=lambda args: None)
    assert all(i["addresses"] == [] for i in topo)


def test_interface_numa_node(tmp_path):
    for name, node in (("ens1f0", "1\n"), ("ens2", "-1\n")):
        base = tmp_path / "sys" / "class" / "net" / name
        (base / "device").mkdir(parents=True)
        (base / "device" / "numa_node").write_text(node)
        (base / "operstate").write_text("up\n")
    topo = read_topology(str(tmp_path), gather=("interfaces",))
    assert {i["name"]: i["numa_node"] for i in topo["interfaces"]} == {"ens1f0": 1, "ens2": None}

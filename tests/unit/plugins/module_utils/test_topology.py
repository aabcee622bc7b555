"""topology.read_topology on recorded sysfs/procfs trees (tests/fixtures/topology, made by record.py)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import topology as topo_mod
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
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
    assert topo["cpus"] == [{"id": 0, "core": 0, "socket": 0, "node": 0, "siblings": [0], "l3": 0},
                            {"id": 1, "core": 1, "socket": 0, "node": 0, "siblings": [1], "l3": 0}]
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
    assert cpu[0] == {"id": 0, "core": 0, "socket": 0, "node": 0, "siblings": [0, 20], "l3": 0}
    assert cpu[35] == {"id": 35, "core": 5, "socket": 1, "node": 1, "siblings": [15, 35], "l3": 10}
    assert {c["l3"] for c in topo["cpus"] if c["socket"] == 0} == {0}  # one L3 per socket
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
    assert {i["name"]: i["numa_node"] for i in topo["interfaces"]} == {
        "lo": None, "eno1": 0, "eno2": 1, "eno1.100": None, "docker0": None, "veth1a2b3c4": None, "bond0": None}


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


def run_command(argv):
    """AnsibleModule.run_command's contract (what host_facts passes to ip_runner)."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_ip_runner_failures_read_as_no_output():
    assert topo_mod.ip_runner(lambda argv: (1, "[]", "boom"))(["-j", "addr"]) is None
    assert topo_mod.ip_runner(run_command, "/nonexistent/ip")(["-j", "addr"]) is None


def test_this_machine_recording_and_live_root_agree_on_cpus():
    recorded = read_topology(str(FIXTURES / "this-machine"))
    live = read_topology("/", run_ip=topo_mod.ip_runner(run_command))
    assert set(live) == KEYS
    assert [c["id"] for c in recorded["cpus"]] == [c["id"] for c in live["cpus"]]
    assert live["memory_bytes"] > 0
    assert any(i["name"] == "lo" and i["addresses"] for i in live["interfaces"])


def test_gather_subset():
    topo = read_topology(str(FIXTURES / "big-2x10x2"), gather=("cpu",))
    assert topo["interfaces"] == [] and topo["memory_bytes"] == 0 and len(topo["cpus"]) == 40


def test_example_inventory_tree_is_the_big_fixture():
    example = FIXTURES.parents[2] / "inventories" / "example" / "topology.orig"
    assert read_topology(str(example)) == read_topology(str(FIXTURES / "big-2x10x2"))


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
    assert all(i["numa_node"] is None or i["numa_node"] >= 0 for i in recorded["interfaces"])
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


# --- L3 groups, NIC nodes and hostile trees (small trees made here) ---------------------------------------------

def _put(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def _tiny_tree(root, caches):
    """4 CPUs, no SMT; caches: {cpu: {index: (level, shared_cpu_list)}}."""
    _put(root, "sys/devices/system/cpu/online", "0-3")
    for cpu in range(4):
        _put(root, "sys/devices/system/cpu/cpu%d/topology/core_id" % cpu, str(cpu))
        _put(root, "sys/devices/system/cpu/cpu%d/topology/physical_package_id" % cpu, "0")
        _put(root, "sys/devices/system/cpu/cpu%d/topology/thread_siblings_list" % cpu, str(cpu))
        for index, (level, shared) in caches.get(cpu, {}).items():
            _put(root, "sys/devices/system/cpu/cpu%d/cache/index%d/level" % (cpu, index), str(level))
            _put(root, "sys/devices/system/cpu/cpu%d/cache/index%d/shared_cpu_list" % (cpu, index), shared)
    _put(root, "proc/cmdline", "quiet")
    _put(root, "proc/meminfo", "MemTotal: 1024 kB")
    return str(root)


def test_l3_groups_are_read_by_level_not_by_index(tmp_path):
    caches = {0: {0: (1, "0"), 2: (2, "0"), 3: (3, "0-1")}, 1: {3: (3, "0-1")},
              # CPU 2: the level-3 cache is index4 here, index3 a level-2 cache: the level file decides
              2: {3: (2, "2"), 4: (3, "2-3")}, 3: {4: (3, "2-3")}}
    topo = read_topology(_tiny_tree(tmp_path, caches), gather=("cpu",))
    assert [c["l3"] for c in topo["cpus"]] == [0, 0, 2, 2]


def test_l3_absent_is_none(tmp_path):
    topo = read_topology(_tiny_tree(tmp_path, {0: {0: (1, "0")}}), gather=("cpu",))
    assert [c["l3"] for c in topo["cpus"]] == [None] * 4


def test_nic_numa_node(tmp_path):
    root = _tiny_tree(tmp_path, {})
    for name, node in (("eth0", "1"), ("eth1", "-1"), ("eth2", None)):
        _put(tmp_path, "sys/class/net/%s/operstate" % name, "up")
        if node is not None:
            _put(tmp_path, "sys/class/net/%s/device/numa_node" % name, node)
    nodes = {i["name"]: i["numa_node"] for i in read_topology(root, gather=("interfaces",))["interfaces"]}
    assert nodes == {"eth0": 1, "eth1": None, "eth2": None}


@pytest.mark.parametrize("make,words", [
    (lambda p: p.symlink_to("/proc/meminfo"), "leads out of the recorded tree"),
    (os.mkfifo, "not a regular file"),
    (lambda p: p.mkdir(), "not a regular file"),
    (lambda p: p.write_bytes(b"0" * ((1 << 20) + 1)), "larger than"),
    (lambda p: p.write_text("0-99999999\n"), "out of range"),
    (lambda p: p.write_text("\u0660-3\n"), "ASCII digits"),
])
def test_hostile_tree_is_a_plan_error_naming_the_path(tmp_path, make, words):
    root = _tiny_tree(tmp_path, {})
    online = tmp_path / "sys/devices/system/cpu/online"
    online.unlink()
    make(online)
    with pytest.raises(PlanError) as err:
        read_topology(root, gather=("cpu",))
    assert str(online) in str(err.value) and words in str(err.value)


def test_symlink_inside_the_tree_is_followed(tmp_path):
    root = _tiny_tree(tmp_path, {})
    _put(tmp_path, "elsewhere/online", "0-1")
    online = tmp_path / "sys/devices/system/cpu/online"
    online.unlink()
    online.symlink_to(tmp_path / "elsewhere" / "online")
    assert [c["id"] for c in read_topology(root, gather=("cpu",))["cpus"]] == [0, 1]


_FILES = ["sys/devices/system/cpu/online", "sys/devices/system/cpu/cpu1/topology/thread_siblings_list",
          "sys/devices/system/cpu/cpu1/topology/core_id", "sys/devices/system/cpu/cpu0/cache/index3/shared_cpu_list",
          "sys/devices/system/node/node0/cpulist", "ip-addr.json", "ip-link.json",
          "sys/class/net/eth0/device/numa_node", "proc/cmdline"]


@given(st.sampled_from(_FILES), st.one_of(st.binary(max_size=64), st.text(max_size=64).map(str.encode),
                                          st.just(b"[" * 5000 + b"]" * 5000), st.just(b'[1, {"addr_info": 3}]')))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_garbage_in_a_recorded_file_is_data_or_a_plan_error(tmp_path_factory, rel, content):
    tree = tmp_path_factory.mktemp("garbage")
    _tiny_tree(tree, {0: {3: (3, "0-3")}})
    _put(tree, "sys/class/net/eth0/operstate", "up")
    target = tree / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    try:
        topo = read_topology(str(tree))
    except PlanError as err:
        assert str(tree) in err.field
        return
    assert all(isinstance(c["id"], int) for c in topo["cpus"])


def test_interface_numa_node(tmp_path):
    for name, node in (("ens1f0", "1\n"), ("ens2", "-1\n")):
        base = tmp_path / "sys" / "class" / "net" / name
        (base / "device").mkdir(parents=True)
        (base / "device" / "numa_node").write_text(node)
        (base / "operstate").write_text("up\n")
    topo = read_topology(str(tmp_path), gather=("interfaces",))
    assert {i["name"]: i["numa_node"] for i in topo["interfaces"]} == {"ens1f0": 1, "ens2": None}

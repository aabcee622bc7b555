"""CPU split on named topologies, each case with its expected cpusets written out (kubelet cpu_assignment_test style).

The topologies are built in Python (planning_strategies.make_topology): siblings ``n, n+physical`` unless said
otherwise; the default reserve is the first core of every NUMA node.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from planning_strategies import make_topology  # noqa: E402

from ansible_collections.mediaops.wcs.plugins.module_utils.cpu_plan import (  # noqa: E402
    MAX_FITS, plan_cpus, reserved_cpus)

TOPOLOGIES = {
    # 8 CPUs, cores (0,4) (1,5) (2,6) (3,7)
    "single socket, SMT-2": make_topology(1, 1, 4, 2),
    # socket 0: cores (0,8) (2,10) (4,12) (6,14); socket 1: (1,9) (3,11) (5,13) (7,15); a node per socket
    "dual socket, interleaved ids": make_topology(2, 1, 4, 2, layout="interleaved"),
    # 16 CPUs, 4 threads per core scattered over the id space: (0,4,8,12) (1,5,9,13) ...
    "4-way SMT, scattered siblings": make_topology(1, 1, 4, 4),
    # 80 CPUs: socket 0 = nodes 0 (cores 0-9) and 1 (10-19), socket 1 = nodes 2, 3; siblings n, n+40
    "2 sockets x 2 NUMA nodes": make_topology(2, 2, 10, 2),
    # the same with the sockets taking turns: socket 0 even ids (nodes 0: 0-18, 1: 20-38), socket 1 odd ids
    "2 sockets x 2 NUMA nodes, interleaved ids": make_topology(2, 2, 10, 2, layout="interleaved"),
    # AMD-like: 16 cores in 4 CCX (L3 groups) of 4 cores, siblings n, n+16
    "AMD 1 socket, 4 CCX": make_topology(1, 1, 16, 2, l3_per_node=4),
    # 2 sockets x 4 CCX x 4 cores (NPS1: a node per socket), siblings n, n+32
    "AMD 2 sockets x 4 CCX": make_topology(2, 1, 16, 2, l3_per_node=4),
    # AMD NPS2: 2 nodes of 8 cores, each node 2 CCX of 4 (nodes coarser than L3 groups), siblings n, n+16
    "AMD NPS2, 2 CCX per node": make_topology(1, 2, 8, 2, l3_per_node=2),
    # 6 cores (n, n+6); core 3 offline (CPUs 3, 9), CPU 11 offline: core 5 is CPU 5 alone
    "offline cores": make_topology(1, 1, 6, 2, offline=[3, 9, 11]),
    # 8 cores (n, n+8), isolcpus=2-3,10-11, CPU 15 offline (the isolcpus fixture)
    "isolcpus": make_topology(1, 1, 8, 2, isolated=[2, 3, 10, 11], offline=[15]),
}


def _ids(start, stop, step=2):
    """Every other CPU id: one socket's CPUs in the interleaved layouts."""
    return ",".join(str(c) for c in range(start, stop, step))


CASES = [
    # (topology, count, options, expected cpusets, expected mems)
    ("single socket, SMT-2", 1, {}, ["1-3,5-7"], ["0"]),
    ("single socket, SMT-2", 2, {}, ["1-2,5-6", "3,7"], ["0", "0"]),
    ("single socket, SMT-2", 3, {}, ["1,5", "2,6", "3,7"], ["0", "0", "0"]),
    ("single socket, SMT-2", 4, {"reserved": []}, ["0,4", "1,5", "2,6", "3,7"], ["0"] * 4),
    ("dual socket, interleaved ids", 2, {}, ["2,4,6,10,12,14", "3,5,7,11,13,15"], ["0", "1"]),
    ("dual socket, interleaved ids", 2, {"reserved": []}, ["0,2,4,6,8,10,12,14", "1,3,5,7,9,11,13,15"], ["0", "1"]),
    # 6 cores for 3 containers of 2: one must cross; the other two stay on their socket
    ("dual socket, interleaved ids", 3, {}, ["2,4,10,12", "3,5,11,13", "6-7,14-15"], ["0", "1", "0-1"]),
    ("dual socket, interleaved ids", 4, {}, ["2,4,10,12", "3,5,11,13", "6,14", "7,15"], ["0", "1", "0", "1"]),
    ("4-way SMT, scattered siblings", 2, {}, ["1-2,5-6,9-10,13-14", "3,7,11,15"], ["0", "0"]),
    ("4-way SMT, scattered siblings", 3, {}, ["1,5,9,13", "2,6,10,14", "3,7,11,15"], ["0", "0", "0"]),
    # single CPUs as units still fill core by core
    ("4-way SMT, scattered siblings", 3, {"allow_smt_split": True}, ["1,5,9,13", "2,6,10,14", "3,7,11,15"],
     ["0", "0", "0"]),
    ("2 sockets x 2 NUMA nodes", 2, {}, ["1-9,11-19,41-49,51-59", "21-29,31-39,61-69,71-79"], ["0-1", "2-3"]),
    # the 1.0.0 bug: 39 free cores, the 20-core container straddled the sockets (1-20,41-60)
    ("2 sockets x 2 NUMA nodes", 2, {"reserved": [0, 40]}, ["1-19,41-59", "20-39,60-79"], ["0-1", "2-3"]),
    ("2 sockets x 2 NUMA nodes", 4, {}, ["1-9,41-49", "11-19,51-59", "21-29,61-69", "31-39,71-79"],
     ["0", "1", "2", "3"]),
    # 3 x 12 cores over 2 x 18: one container crosses the sockets, the others stay on theirs
    ("2 sockets x 2 NUMA nodes", 3, {}, ["1-9,11-13,41-49,51-53", "14-19,34-39,54-59,74-79",
                                         "21-29,31-33,61-69,71-73"], ["0-1", "1,3", "2-3"]),
    # 1.0.0 put nodes 0+1 (ids 2-19) in one container: both sockets
    ("2 sockets x 2 NUMA nodes, interleaved ids", 2, {},
     [",".join([_ids(2, 19), _ids(22, 39), _ids(42, 59), _ids(62, 79)]),
      ",".join([_ids(3, 20), _ids(23, 40), _ids(43, 60), _ids(63, 80)])], ["0-1", "2-3"]),
    ("2 sockets x 2 NUMA nodes, interleaved ids", 2, {"reserved": [0, 40]},
     [_ids(1, 80), ",".join([_ids(2, 39), _ids(42, 79)])], ["2-3", "0-1"]),
    ("2 sockets x 2 NUMA nodes, interleaved ids", 4, {},
     [",".join([_ids(2, 19), _ids(42, 59)]), ",".join([_ids(3, 20), _ids(43, 60)]),
      ",".join([_ids(22, 39), _ids(62, 79)]), ",".join([_ids(23, 40), _ids(63, 80)])], ["0", "2", "1", "3"]),
    # 15 free cores: 7 = CCX0 (3) + CCX1, 8 = CCX2 + CCX3 (1-8 + 9-15 would put 3 L3 groups in the first)
    ("AMD 1 socket, 4 CCX", 2, {}, ["1-7,17-23", "8-15,24-31"], ["0", "0"]),
    ("AMD 1 socket, 4 CCX", 4, {}, ["1-3,17-19", "4-7,20-23", "8-11,24-27", "12-15,28-31"], ["0"] * 4),
    ("AMD 1 socket, 4 CCX", 4, {"reserved": []}, ["0-3,16-19", "4-7,20-23", "8-11,24-27", "12-15,28-31"], ["0"] * 4),
    ("AMD 2 sockets x 4 CCX", 2, {}, ["1-15,33-47", "17-31,49-63"], ["0", "1"]),
    ("AMD 2 sockets x 4 CCX", 3, {}, ["1-10,33-42", "11-15,27-31,43-47,59-63", "17-26,49-58"], ["0", "0-1", "1"]),
    ("AMD 2 sockets x 4 CCX", 4, {}, ["1-7,33-39", "8-15,40-47", "17-23,49-55", "24-31,56-63"],
     ["0", "0", "1", "1"]),
    ("AMD 2 sockets x 4 CCX", 8, {"reserved": []},
     ["0-3,32-35", "4-7,36-39", "8-11,40-43", "12-15,44-47", "16-19,48-51", "20-23,52-55", "24-27,56-59",
      "28-31,60-63"], ["0"] * 4 + ["1"] * 4),
    ("AMD NPS2, 2 CCX per node", 2, {"reserved": []}, ["0-7,16-23", "8-15,24-31"], ["0", "1"]),
    ("AMD NPS2, 2 CCX per node", 4, {"reserved": []}, ["0-3,16-19", "4-7,20-23", "8-11,24-27", "12-15,28-31"],
     ["0", "0", "1", "1"]),
    # 6 + 5 + 5 cannot pack into two nodes of 8: one container crosses, the others stay node-local
    ("AMD NPS2, 2 CCX per node", 3, {"reserved": []}, ["0-4,16-20", "5-7,13-15,21-23,29-31", "8-12,24-28"],
     ["0", "0-1", "1"]),
    ("offline cores", 2, {}, ["1-2,7-8", "4-5,10"], ["0", "0"]),
    ("offline cores", 2, {"reserved": []}, ["0-2,6-8", "4-5,10"], ["0", "0"]),
    ("isolcpus", 2, {}, ["1,4-5,9,12-13", "6-7,14"], ["0", "0"]),
    ("isolcpus", 2, {"isolated": "only"}, ["2,10", "3,11"], ["0", "0"]),
    ("isolcpus", 1, {"isolated": "include"}, ["1-7,9-14"], ["0"]),
]


@pytest.mark.parametrize("name,count,options,cpusets,mems", CASES,
                         ids=["%s/%d%s" % (c[0], c[1], "/" + ",".join("%s=%s" % kv for kv in c[2].items())
                                           if c[2] else "") for c in CASES])
def test_split(name, count, options, cpusets, mems):
    plans = plan_cpus(TOPOLOGIES[name], count, **options)
    assert [p["cpuset"] for p in plans] == cpusets
    assert [p["mems"] for p in plans] == mems


@pytest.mark.parametrize("name,reserve", [
    ("single socket, SMT-2", [0, 4]),
    ("dual socket, interleaved ids", [0, 1, 8, 9]),
    ("2 sockets x 2 NUMA nodes", [0, 10, 20, 30, 40, 50, 60, 70]),
    ("2 sockets x 2 NUMA nodes, interleaved ids", [0, 1, 20, 21, 40, 41, 60, 61]),
    ("AMD NPS2, 2 CCX per node", [0, 8, 16, 24]),
    ("offline cores", [0, 6]),
    ("isolcpus", [0, 8]),
])
def test_default_reserve(name, reserve):
    assert reserved_cpus(TOPOLOGIES[name]) == reserve


@pytest.mark.parametrize("name,count,options,sockets,l3_groups", [
    ("2 sockets x 2 NUMA nodes", 2, {"reserved": [0, 40]}, [[0], [1]], [1, 1]),
    ("2 sockets x 2 NUMA nodes", 3, {}, [[0], [0, 1], [1]], [1, 2, 1]),
    ("AMD 1 socket, 4 CCX", 2, {}, [[0], [0]], [2, 2]),
    ("AMD 2 sockets x 4 CCX", 3, {}, [[0], [0, 1], [1]], [3, 4, 3]),
    ("AMD NPS2, 2 CCX per node", 4, {"reserved": []}, [[0]] * 4, [1] * 4),
])
def test_plan_says_what_each_container_spans(name, count, options, sockets, l3_groups):
    plans = plan_cpus(TOPOLOGIES[name], count, **options)
    assert [p["sockets"] for p in plans] == sockets
    assert [p["l3_groups"] for p in plans] == l3_groups


def test_many_containers_fall_back_to_domain_order():
    """Beyond the exact search (about 34 containers) runs in domain order keep each container in its CCX."""
    topo = make_topology(2, 1, 32, 2, l3_per_node=8)  # 64 cores, CCX of 4
    plans = plan_cpus(topo, 64, reserved=[])  # 64 fits of 1 core: still the exact search
    assert all(p["cores"] == 1 and p["l3_groups"] == 1 for p in plans)
    assert (64 % 40 + 1) * (40 - 64 % 40 + 1) > MAX_FITS  # 24 of 2 cores + 16 of 1: the fallback
    plans = plan_cpus(topo, 40, reserved=[])
    assert sorted(p["cores"] for p in plans) == [1] * 16 + [2] * 24
    assert all(p["l3_groups"] == 1 and len(p["sockets"]) == 1 for p in plans)
    assert [p["cpuset"] for p in plans[:3]] == ["0-1,64-65", "2-3,66-67", "4-5,68-69"]

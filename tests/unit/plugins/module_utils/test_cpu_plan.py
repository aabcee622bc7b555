"""CPU split: fixed cases on the recorded topologies and hypothesis invariants on random ones."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from planning_strategies import make_topology, reserved_sets, topologies  # noqa: E402

from ansible_collections.mediaops.wcs.plugins.module_utils.cpu_plan import (  # noqa: E402
    format_cpuset, parse_cpuset, plan_cpus, reserved_cpus)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError  # noqa: E402
from ansible_collections.mediaops.wcs.plugins.module_utils.topology import read_topology  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "topology"


def fixture(name):
    return read_topology(str(FIXTURES / name))


# --- recorded topologies -----------------------------------------------------------------------------------------

def test_article_two_containers_on_40_cpus_never_share_a_core():
    """The article pinned 0-15 and 15-31 on a 40-CPU host: core 15 given to both. The plan cannot do that."""
    topo = fixture("big-2x10x2")
    plans = plan_cpus(topo, 2)
    assert [p["cpuset"] for p in plans] == ["1-9,21-29", "11-19,31-39"]
    assert [p["mems"] for p in plans] == ["0", "1"]
    assert [p["nodes"] for p in plans] == [[0], [1]]
    core_of = {c["id"]: tuple(c["siblings"]) for c in topo["cpus"]}
    cores = [{core_of[c] for c in p["cpus"]} for p in plans]
    assert not cores[0] & cores[1]
    assert not set(plans[0]["cpus"]) & set(plans[1]["cpus"])


def test_default_reserve_is_first_core_of_each_node():
    assert reserved_cpus(fixture("big-2x10x2")) == [0, 10, 20, 30]
    assert reserved_cpus(fixture("two-cpu")) == [0]


def test_no_numa_directory_two_cpus():
    topo = fixture("two-cpu")
    assert topo["numa_nodes"] == []
    assert plan_cpus(topo, 1) == [{"cpuset": "1", "cpus": [1], "mems": "0", "nodes": [0], "cores": 1, "sockets": [0],
                                   "l3_groups": 1}]
    assert [p["cpuset"] for p in plan_cpus(topo, 2, reserved=[])] == ["0", "1"]


def test_more_containers_than_free_cores_is_a_clear_error():
    with pytest.raises(PlanError) as err:
        plan_cpus(fixture("two-cpu"), 2)
    msg = str(err.value)
    assert msg.startswith("count: 2 is wrong: only 1 free cores")
    assert "reserved=[]" in msg and "at most 1 container" in msg


def test_this_machine_recording():
    topo = fixture("this-machine")
    assert len(topo["cpus"]) >= 1
    plans = plan_cpus(topo, 1, reserved=[])
    assert plans[0]["cpus"] == [c["id"] for c in topo["cpus"]]


def test_isolcpus_host_excludes_isolated_and_keeps_siblings():
    topo = fixture("isolcpus")
    assert topo["isolated"] == [2, 3, 10, 11]
    plans = plan_cpus(topo, 2)
    used = {c for p in plans for c in p["cpus"]}
    assert not used & {2, 3, 10, 11}
    assert not used & {0, 8}  # reserved first core
    assert [p["cpuset"] for p in plans] == ["1,4-5,9,12-13", "6-7,14"]  # CPU 15 offline: core 7 is CPU 7 alone
    only = plan_cpus(topo, 2, isolated="only")
    assert [p["cpuset"] for p in only] == ["2,10", "3,11"]
    include = plan_cpus(topo, 1, isolated="include")
    assert {2, 3, 10, 11} <= set(include[0]["cpus"])


def test_reserved_given_as_string_is_widened_to_whole_cores():
    topo = fixture("big-2x10x2")
    plans = plan_cpus(topo, 2, reserved="0-1")
    used = {c for p in plans for c in p["cpus"]}
    assert not used & {0, 1, 20, 21}
    assert 2 in used and 22 in used


def test_reserved_offline_cpu_is_rejected():
    with pytest.raises(PlanError) as err:
        plan_cpus(fixture("big-2x10x2"), 2, reserved=[0, 99])
    assert str(err.value).startswith("reserved:") and "99" in str(err.value)


@pytest.mark.parametrize("count", [0, -1, "x", None, 1.5, True])
def test_bad_count(count):
    with pytest.raises(PlanError) as err:
        plan_cpus(fixture("big-2x10x2"), count)
    assert str(err.value).startswith("count:")


def test_bad_topology():
    with pytest.raises(PlanError) as err:
        plan_cpus({"cpus": []}, 1)
    assert "host_facts" in str(err.value)


def test_three_containers_on_two_nodes_keep_two_node_local():
    plans = plan_cpus(fixture("big-2x10x2"), 3)
    assert sorted(len(p["nodes"]) for p in plans) == [1, 1, 2]
    assert {p["cores"] for p in plans} == {6}


def test_allow_smt_split_splits_threads():
    topo = make_topology(1, 1, 2, 2)  # 4 CPUs: cores (0,2), (1,3)
    with pytest.raises(PlanError):
        plan_cpus(topo, 3, reserved=[])
    plans = plan_cpus(topo, 3, reserved=[], allow_smt_split=True)
    assert sorted(len(p["cpus"]) for p in plans) == [1, 1, 2]


# --- invariants on random topologies -----------------------------------------------------------------------------

def _cores(topo):
    return {c["id"]: tuple(c["siblings"]) for c in topo["cpus"]}


def _exact_packing_exists(sizes, capacities):
    sizes = sorted(sizes, reverse=True)
    caps = list(capacities)

    def place(i):
        if i == len(sizes):
            return True
        tried = set()
        for n, cap in enumerate(caps):
            if cap >= sizes[i] and cap not in tried:
                tried.add(cap)
                caps[n] -= sizes[i]
                if place(i + 1):
                    return True
                caps[n] += sizes[i]
        return False
    return place(0)


@st.composite
def planning_cases(draw):
    topo = draw(topologies())
    reserved = draw(reserved_sets(topo))
    count = draw(st.integers(1, 8))
    isolated = draw(st.sampled_from(["exclude", "exclude", "only", "include"]))
    return topo, reserved, count, isolated


@given(planning_cases())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_invariants(case):
    topo, reserved, count, isolated = case
    core_of = _cores(topo)
    iso = set(topo["isolated"])
    reserve = set(reserved_cpus(topo, isolated=isolated)) if reserved is None else set(reserved)
    node_of = {c["id"]: c["node"] for c in topo["cpus"]}
    free = []
    for core in sorted(set(core_of.values())):
        if reserve & set(core):
            continue
        if isolated == "exclude" and iso & set(core):
            continue
        if isolated == "only" and not set(core) <= iso:
            continue
        free.append(core)

    if count > len(free):
        with pytest.raises(PlanError) as err:
            plan_cpus(topo, count, reserved=reserved, isolated=isolated)
        assert err.value.field == "count"
        return
    plans = plan_cpus(topo, count, reserved=reserved, isolated=isolated)
    assert len(plans) == count
    seen = set()
    sizes = []
    for plan in plans:
        cpus = set(plan["cpus"])
        assert not cpus & seen, "sets are disjoint"
        seen |= cpus
        assert plan["cpuset"] == format_cpuset(cpus) and parse_cpuset(plan["cpuset"]) == plan["cpus"]
        for cpu in cpus:
            assert set(core_of[cpu]) <= cpus, "SMT siblings stay together"
        assert not cpus & reserve, "reserved CPUs stay with the host"
        if isolated == "exclude":
            assert not cpus & iso
        if isolated == "only":
            assert cpus <= iso
        assert plan["nodes"] == sorted({node_of[c] for c in cpus})
        assert plan["mems"] == format_cpuset(plan["nodes"])
        sizes.append(len({core_of[c] for c in cpus}))
    assert max(sizes) - min(sizes) <= 1, "sizes differ by at most one core"
    assert sum(sizes) == len(free), "every free core is used"
    assert [p["cpus"][0] for p in plans] == sorted(p["cpus"][0] for p in plans)
    socket_of = {c["id"]: c["socket"] for c in topo["cpus"]}
    l3_of = {c["id"]: ("l3", c["l3"]) if c.get("l3") is not None else ("socket", c["socket"]) for c in topo["cpus"]}
    for plan in plans:
        assert plan["sockets"] == sorted({socket_of[c] for c in plan["cpus"]})
        assert plan["l3_groups"] == len({l3_of[c] for c in plan["cpus"]})
    for domain_of, spans, what in ((socket_of, lambda p: len(p["sockets"]), "socket"),
                                   (node_of, lambda p: len(p["nodes"]), "NUMA node"),
                                   (l3_of, lambda p: p["l3_groups"], "L3 group")):
        capacities = {}
        for core in free:
            capacities[domain_of[core[0]]] = capacities.get(domain_of[core[0]], 0) + 1
        if _exact_packing_exists(sizes, capacities.values()):
            assert all(spans(p) == 1 for p in plans), "inside one %s whenever the sizes allow" % what


@given(topologies(), st.integers(1, 6))
@settings(max_examples=150, deadline=None)
def test_invariants_smt_split(topo, count):
    online = {c["id"] for c in topo["cpus"]}
    reserve = set(reserved_cpus(topo))
    free = online - reserve - set(topo["isolated"])
    if count > len(free):
        with pytest.raises(PlanError):
            plan_cpus(topo, count, allow_smt_split=True)
        return
    plans = plan_cpus(topo, count, allow_smt_split=True)
    sizes = [len(p["cpus"]) for p in plans]
    assert max(sizes) - min(sizes) <= 1
    assert set().union(*[set(p["cpus"]) for p in plans]) == free
    assert sum(sizes) == len(free)


@pytest.mark.parametrize("cpu", [
    {"id": True, "node": 0, "socket": 0, "siblings": [0]},
    {"id": 0, "node": "0", "socket": 0, "siblings": [0]},
    {"id": 0, "node": 0, "socket": -1, "siblings": [0]},
    {"id": 0, "node": 0, "socket": 0, "siblings": [0], "l3": 1.5},
    {"id": 99999, "node": 0, "socket": 0, "siblings": [0]},
    {"node": 0},
    "cpu0",
])
def test_bad_topology_cpu_entry_is_a_plan_error(cpu):
    with pytest.raises(PlanError) as err:
        plan_cpus({"cpus": [cpu]}, 1, reserved=[])
    assert err.value.field == "topology.cpus" and "host_facts" in str(err.value)

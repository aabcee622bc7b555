"""Capacity plan (plugins/module_utils/capacity.py): the predicates, their invariants (hypothesis), the limits of
named recorded topologies through plan_host, and the refusal of wcs_expected_streams with the numbers."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import capacity as cap
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.host_plan import INPUTS, plan_host, plan_table
from ansible_collections.mediaops.wcs.plugins.module_utils.topology import read_topology
from ansible_collections.mediaops.wcs.plugins.module_utils.units import GIB, MIB

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "fixtures" / "topology"
flags = st.sampled_from([None, False, True])
ports = st.integers(min_value=1, max_value=cap.MAX_PORT)


def inputs(**changes):
    borrowed = ("wcs_media", "wcs_rtp", "wcs_compact", "wcs_nofile", "wcs_capacity")
    raw = {k: v for k, v in INPUTS.items() if k.startswith(borrowed)}
    raw.update(changes)
    return cap.read_capacity_inputs(raw)


# -- predicates ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("low, high, bundle, compact, usable, streams", [
    (31001, 40000, None, None, 4500, 2250),    # the seed's range, rtp_bundle unset: two even ports per stream
    (31001, 40000, True, None, 4500, 4500),    # one even port per stream with RTP bundle
    (31001, 40000, False, True, 9000, 4500),   # compact_media_port_usage: odd ports too
    (31001, 40000, True, True, 9000, 9000),
    (31001, 32000, True, False, 500, 500),     # WCS's own default range
    (31001, 31001, True, False, 0, 0),         # one odd port: nothing
    (31000, 31000, True, False, 1, 1),
    (31000, 31001, None, None, 1, 0),          # one even port, two needed
])
def test_media_port_rule(low, high, bundle, compact, usable, streams):
    assert cap.usable_ports(low, high, compact) == usable
    assert cap.streams_by_ports(low, high, bundle, compact) == streams


@given(ports, ports)
def test_even_ports_counts_the_even_numbers_of_the_range(a, b):
    low, high = min(a, b), max(a, b)
    if high - low > 5000:
        high = low + 5000
    assert cap.even_ports(low, high) == sum(1 for p in range(low, high + 1) if p % 2 == 0)
    assert cap.usable_ports(low, high, True) == high - low + 1


@given(st.integers(min_value=1, max_value=60000), st.integers(min_value=1, max_value=20000), flags, flags)
def test_port_to_for_is_the_smallest_range_that_holds_the_streams(low, streams, bundle, compact):
    high = cap.port_to_for(low, streams, bundle, compact)
    assert cap.streams_by_ports(low, high, bundle, compact) >= streams
    step = 1 if compact else 2
    assert cap.streams_by_ports(low, high - step, bundle, compact) < streams


@given(st.integers(min_value=0, max_value=512), st.integers(min_value=1, max_value=1 << 40),
       st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=64 * MIB),
       st.integers(min_value=0, max_value=64), ports, ports, flags, flags)
def test_streams_are_the_least_limit_and_binding_names_it(cores, heap, per_core, per_heap, per_fd, a, b, bundle,
                                                          compact):
    figures = inputs(wcs_media_port_from=min(a, b), wcs_media_port_to=max(a, b), wcs_rtp_bundle=bundle,
                     wcs_compact_media_port_usage=compact, wcs_capacity_streams_per_core=per_core,
                     wcs_capacity_heap_per_stream=per_heap or "", wcs_capacity_fds_per_stream=per_fd)
    result = cap.container_capacity(cores, heap, figures)
    limits = result["limits"]
    assert result["streams"] == min(limits.values()) == limits[result["binding"]]
    assert ("cpu" in limits) == bool(per_core) and ("heap" in limits) == bool(per_heap)
    assert ("nofile" in limits) == bool(per_fd)
    # the binding limit is the first of the least ones, in LIMITS order
    assert [n for n in cap.LIMITS if limits.get(n) == result["streams"]][0] == result["binding"]
    # an expectation up to the capacity passes, one above it is refused naming the binding limit
    entry = {"name": "wcs-1", "cores": cores, "heap": "%d" % heap, "capacity": result}
    cap.check_expected([entry], {"wcs-1": result["streams"]}, figures)
    with pytest.raises(PlanError) as err:
        cap.check_expected([entry], {"wcs-1": result["streams"] + 1}, figures)
    assert "binding limit: %s" % result["binding"] in str(err.value)
    assert "at most %d" % result["streams"] in str(err.value)


# -- named topologies through plan_host ----------------------------------------------------------------------------
def plan(name, count, **changes):
    raw = {"wcs_network_parent": "eno1", "wcs_network_block": "203.0.113.0/29", "wcs_plan_check_parent": False,
           "wcs_container_count": count}
    if name in ("two-cpu", "this-machine"):
        raw["wcs_reserved_cpus"] = []
    raw.update(changes)
    return plan_host(read_topology(str(FIXTURES / name)), raw, host=name)


# (fixture, containers, changed inputs) -> per container (cores, capacity by limit, sessions, binding limit)
TABLE = [
    ("big-2x10x2", 2, {}, [(9, {"media_ports": 2250, "cpu": 900, "heap": 8192, "nofile": 4488}, 900, "cpu")] * 2),
    ("big-2x10x2", 1, {"wcs_capacity_streams_per_core": 200},
     [(18, {"media_ports": 2250, "cpu": 3600, "heap": 16384, "nofile": 4488}, 2250, "media_ports")]),
    ("big-2x10x2", 1, {"wcs_capacity_streams_per_core": 200, "wcs_rtp_bundle": True},
     [(18, {"media_ports": 4500, "cpu": 3600, "heap": 16384, "nofile": 4488}, 3600, "cpu")]),
    ("big-2x10x2", 1, {"wcs_capacity_streams_per_core": 0, "wcs_rtp_bundle": "true",
                       "wcs_compact_media_port_usage": "true"},
     [(18, {"media_ports": 9000, "heap": 16384, "nofile": 4488}, 4488, "nofile")]),
    ("isolcpus", 2, {}, [(3, {"media_ports": 2250, "cpu": 300, "heap": 1024, "nofile": 4488}, 300, "cpu"),
                         (2, {"media_ports": 2250, "cpu": 200, "heap": 1024, "nofile": 4488}, 200, "cpu")]),
    ("two-cpu", 2, {"wcs_capacity_heap_per_stream": "16m"},
     [(1, {"media_ports": 2250, "cpu": 100, "heap": 64, "nofile": 4488}, 64, "heap")] * 2),
    ("two-cpu", 1, {"wcs_media_port_from": 40000, "wcs_media_port_to": 40199, "wcs_capacity_fds_per_stream": 0},
     [(2, {"media_ports": 50, "cpu": 200, "heap": 256}, 50, "media_ports")]),
    ("this-machine", 1, {"wcs_nofile_limit": 2448},
     [(2, {"media_ports": 2250, "cpu": 200, "heap": 1408, "nofile": 100}, 100, "nofile")]),
]


@pytest.mark.parametrize("name, count, changes, expected", TABLE,
                         ids=["%s-%d-%s" % (t[0], t[1], ",".join(sorted(t[2])) or "defaults") for t in TABLE])
def test_capacity_of_named_topologies(name, count, changes, expected):
    result = plan(name, count, **changes)
    got = [(c["cores"], c["capacity"]["limits"], c["capacity"]["streams"], c["capacity"]["binding"])
           for c in result["containers"]]
    assert got == expected
    rows = plan_table(result)[1:1 + count]
    assert [row.split()[-2:] for row in rows] == [[str(e[2]), "(%s)" % e[3]] for e in expected]


def test_expected_streams_as_a_number_or_per_container():
    assert plan("isolcpus", 2, wcs_expected_streams=200)["containers"][1]["capacity"]["streams"] == 200
    plan("isolcpus", 2, wcs_expected_streams={"wcs-1": 300})
    plan("isolcpus", 2, wcs_expected_streams="")
    plan("isolcpus", 2, wcs_expected_streams="0")
    with pytest.raises(PlanError) as err:
        plan("isolcpus", 2, wcs_expected_streams=201)
    assert "wcs-2 holds at most 200 sessions (binding limit: cpu), fewer than the 201 expected" in str(err.value)
    with pytest.raises(PlanError) as err:
        plan("isolcpus", 2, wcs_expected_streams={"wcs-1": 301, "wcs-2": 10})
    assert "wcs-1 holds at most 300 sessions" in str(err.value)


def test_refusal_names_every_limit_below_the_expectation_and_its_fix():
    with pytest.raises(PlanError) as err:
        plan("two-cpu", 2, wcs_expected_streams=2300, wcs_capacity_heap_per_stream="1m")
    text = str(err.value)
    assert err.value.field == "wcs_expected_streams" and err.value.value == 2300
    assert "wcs-1 holds at most 100 sessions (binding limit: cpu), fewer than the 2300 expected" in text
    assert ("media_ports 2250 (4500 even ports in 31001-40000, 2 per session without rtp_bundle), "
            "cpu 100 (1 core(s) x wcs_capacity_streams_per_core 100), heap 1024 (1g / wcs_capacity_heap_per_stream 1m), "
            "nofile 4488 ((wcs_nofile_limit 20000 - wcs_capacity_fd_reserve 2048) / wcs_capacity_fds_per_stream 4)"
            ) in text
    fix = text.split("Fix: ")[1]
    assert fix == ("widen the media port range to 31001-40201 (wcs_media_port_to); or give it 23 cores (wcs_cpusets, "
                   "or fewer containers per host; now 1); or raise wcs_heap to 2300m; or lower wcs_expected_streams "
                   "for wcs-1 to at most 100")


def test_range_that_cannot_reach_the_streams_says_so():
    with pytest.raises(PlanError) as err:
        plan("two-cpu", 1, wcs_expected_streams=20000, wcs_capacity_streams_per_core=0,
             wcs_capacity_fds_per_stream=0, wcs_capacity_heap_per_stream="")
    assert "no port range from 31001 holds it (2 port(s) per session would end at 111001, past 65535)" in str(
        err.value)


def test_heap_figures_use_units():
    assert inputs(wcs_capacity_heap_per_stream="1.5m")["heap_per_stream"] == 3 * MIB // 2
    assert inputs(wcs_capacity_heap_per_stream="0")["heap_per_stream"] == 0
    assert cap.streams_by_heap(GIB, 8 * MIB) == 128


def test_defaults_of_borrowed_variables_match_their_roles():
    """The plan reads the config and containers roles' variables; its fallbacks are those roles' defaults."""
    config = yaml.safe_load((ROOT / "roles" / "config" / "defaults" / "main.yml").read_text())
    containers = yaml.safe_load((ROOT / "roles" / "containers" / "defaults" / "main.yml").read_text())
    for name in ("wcs_media_port_from", "wcs_media_port_to", "wcs_rtp_bundle", "wcs_compact_media_port_usage"):
        assert INPUTS[name] == config[name], name
    assert INPUTS["wcs_nofile_limit"] == containers["wcs_nofile_limit"]

"""Heap and memory-limit sizing: defaults, explicit heaps, errors, invariants."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.heap_plan import (
    GIB, MIB, format_size, parse_size, plan_heap)


@pytest.mark.parametrize("text,size", [("6g", 6 * GIB), ("512m", 512 * MIB), ("1.5G", 1536 * MIB),
                                       ("2GiB", 2 * GIB), (1024, 1024), ("64k", 65536), ("100", 100)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["", "six", "-1g", 0, -5, True, None, [1]])
def test_parse_size_rejects(bad):
    with pytest.raises(PlanError) as err:
        parse_size(bad, "heap")
    assert str(err.value).startswith("heap:")


def test_format_size():
    assert format_size(6 * GIB) == "6g"
    assert format_size(7680 * MIB) == "7680m"
    assert format_size(1536) == "1536"
    assert format_size(3 * 1024) == "3k"


def test_half_of_ram_split_between_two_containers_on_256g():
    plans = plan_heap(256 * GIB, 2)
    assert [(p["heap"], p["memory"]) for p in plans] == [("64g", "80g")] * 2
    assert plans[0]["heap_bytes"] == 64 * GIB and plans[0]["memory_bytes"] == 80 * GIB


def test_this_machines_size_and_small_hosts():
    assert [(p["heap"], p["memory"]) for p in plan_heap(24 * GIB, 2)] == [("6g", "7680m")] * 2
    assert [(p["heap"], p["memory"]) for p in plan_heap(4 * GIB, 2)] == [("1g", "1536m")] * 2
    assert plan_heap(6 * GIB, 2)[0]["heap"] == "1536m"  # 256 MiB steps below 4 GiB


def test_explicit_heaps():
    assert [p["memory"] for p in plan_heap(64 * GIB, 2, heap="16g")] == ["20g", "20g"]
    assert [p["heap"] for p in plan_heap(64 * GIB, 2, heap=["8g", "4g"])] == ["8g", "4g"]


@pytest.mark.parametrize("kwargs,field,words", [
    (dict(memory_bytes=24 * GIB, count=2, share=0.9), "share", "add up to 25.0 GiB"),
    (dict(memory_bytes=24 * GIB, count=2, heap="20g"), "heap", "more than host RAM 24.0 GiB"),
    (dict(memory_bytes=24 * GIB, count=2, heap="100m"), "heap", "at least 512m"),
    (dict(memory_bytes=2 * GIB, count=4), "share", "heap of 256m"),
    (dict(memory_bytes=24 * GIB, count=2, heap=["4g"]), "heap", "one heap per container"),
    (dict(memory_bytes=24 * GIB, count=0), "count", ">= 1"),
    (dict(memory_bytes=24 * GIB, count=2, share=0), "share", "fraction"),
    (dict(memory_bytes=24 * GIB, count=2, share=1.5), "share", "fraction"),
    (dict(memory_bytes="lots", count=2), "memory_bytes", "size"),
])
def test_errors_name_field_and_fix(kwargs, field, words):
    with pytest.raises(PlanError) as err:
        plan_heap(**kwargs)
    assert err.value.field == field and words in str(err.value) and "Fix:" in str(err.value)


@given(st.integers(1, 2048), st.integers(1, 16), st.sampled_from([0.25, 0.4, 0.5, 0.6]))
@settings(max_examples=300, deadline=None)
def test_invariants(memory_gib, count, share):
    memory = memory_gib * GIB
    try:
        plans = plan_heap(memory, count, share=share)
    except PlanError as err:
        assert err.field == "share"
        return
    assert len(plans) == count
    heap = plans[0]["heap_bytes"]
    assert all(p["heap_bytes"] == heap for p in plans), "containers are sized alike"
    assert heap >= 512 * MIB
    assert heap * count <= memory * share, "never more than the share"
    assert heap % (GIB if heap >= 4 * GIB else 256 * MIB) == 0
    for p in plans:
        assert p["memory_bytes"] >= p["heap_bytes"] + min(GIB, p["heap_bytes"] // 2)
        assert p["memory_bytes"] >= p["heap_bytes"] * 1.25
        assert parse_size(p["heap"]) == p["heap_bytes"] and parse_size(p["memory"]) == p["memory_bytes"]
    assert sum(p["memory_bytes"] for p in plans) <= memory - max(min(GIB, memory // 4), memory // 20)

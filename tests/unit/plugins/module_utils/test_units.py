"""units.py: the one size parser (heap, memory limits, RAM) and the one count parser."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import address_plan, container_spec, cpu_plan, heap_plan
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.units import (
    GIB, KIB, MAX_SIZE, MIB, format_size, parse_count, parse_size)


@pytest.mark.parametrize("text,size", [
    ("6g", 6 * GIB), ("6G", 6 * GIB), ("6gb", 6 * GIB), ("6GiB", 6 * GIB), ("6gi", 6 * GIB), ("2GiB", 2 * GIB),
    ("512m", 512 * MIB), ("512 MiB", 512 * MIB), ("1.5g", 1536 * MIB), ("1.5G", 1536 * MIB), ("64k", 64 * KIB),
    ("1t", 1 << 40), ("100", 100), ("100b", 100), (" 7g\n", 7 * GIB), (1073741824, GIB), (2.0 * GIB, 2 * GIB),
    ("1024t", 1 << 50),
])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", [
    "0", 0, -1, "-1g", "0.5", "1.1b", "1.0000001k", "lots", "", "g", "6i", "6 g b x", "6gg", "1e9", "nan", "inf",
    float("nan"), float("inf"), 1.5, True, None, [1], "\u0666g", "6\x00g", "1025t", MAX_SIZE + 1, "9" * 30,
])
def test_parse_size_rejects(bad):
    with pytest.raises(PlanError) as err:
        parse_size(bad, "heap")
    assert err.value.field == "heap" and "Fix:" in str(err.value)


def test_format_size():
    assert format_size(6 * GIB) == "6g"
    assert format_size(1 << 40) == "1024g"
    assert format_size(7680 * MIB) == "7680m"
    assert format_size(3 * KIB) == "3k"
    assert format_size(1536) == "1536"


@given(st.integers(1, MAX_SIZE))
@settings(max_examples=300, deadline=None)
def test_format_parse_roundtrip(size):
    assert parse_size(format_size(size)) == size


@given(st.one_of(st.text(max_size=20), st.floats(allow_nan=True, allow_infinity=True), st.integers(),
                 st.booleans(), st.none()))
@settings(max_examples=500, deadline=None)
def test_parse_size_never_tracebacks(value):
    try:
        size = parse_size(value)
    except PlanError:
        return
    assert isinstance(size, int) and 0 < size <= MAX_SIZE
    if isinstance(value, str):
        assert value.strip(" \t\r\n").isascii()
    if isinstance(value, float):
        assert math.isfinite(value) and value.is_integer()


def test_heap_and_container_memory_share_one_parser():
    # heap_plan accepted "2GiB" and container_spec refused it; both are units.parse_size now
    assert heap_plan.parse_size("2GiB") == container_spec.parse_memory("2GiB") == 2 * GIB
    assert heap_plan.parse_size is parse_size and heap_plan.format_size is format_size
    with pytest.raises(PlanError) as err:
        container_spec.parse_memory("1m", "containers[0].memory")
    assert err.value.field == "containers[0].memory" and "6m" in str(err.value)
    assert container_spec.parse_memory(None) is None and container_spec.parse_memory("") is None


@pytest.mark.parametrize("value,count", [(1, 1), (2, 2), ("2", 2), (" 3 ", 3), (4.0, 4), ("8192", 8192)])
def test_parse_count(value, count):
    assert parse_count(value) == count


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, False, "1.5", "0", "", "x", None, "\u0662", "2\x1c", [2],
                                 8193, "+2", "2.0"])
def test_parse_count_rejects(bad):
    with pytest.raises(PlanError) as err:
        parse_count(bad, "count")
    assert err.value.field == "count" and ">= 1" in str(err.value)


TOPOLOGY = {"cpus": [{"id": i, "node": 0, "socket": 0, "siblings": [i]} for i in range(8)]}
NETWORK = {"subnet": "203.0.113.0/27"}


@pytest.mark.parametrize("bad", [0, 1.5, True, "1.5", "x"])
def test_every_count_check_agrees(bad):
    """cpu_plan, heap_plan and address_plan refuse the same counts with the same message."""
    messages = set()
    for call in (lambda: cpu_plan.plan_cpus(TOPOLOGY, bad, reserved=[]),
                 lambda: heap_plan.plan_heap(64 * GIB, bad),
                 lambda: address_plan.plan_addresses(NETWORK, bad)):
        with pytest.raises(PlanError) as err:
            call()
        messages.add(str(err.value))
    assert len(messages) == 1, messages


@pytest.mark.parametrize("good", [2, "2", 2.0])
def test_every_count_check_accepts(good):
    assert len(cpu_plan.plan_cpus(TOPOLOGY, good, reserved=[])) == 2
    assert len(heap_plan.plan_heap(64 * GIB, good)) == 2
    assert len(address_plan.plan_addresses(NETWORK, good)["containers"]) == 2


@given(st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True), st.integers(),
                 st.booleans(), st.none(), st.lists(st.integers(), max_size=2)))
@settings(max_examples=500, deadline=None)
def test_parse_count_never_tracebacks(value):
    try:
        count = parse_count(value)
    except PlanError as err:
        assert err.field == "count"
        return
    assert isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= 8192
    if isinstance(value, str):
        assert value.strip(" \t\r\n").isdigit() and value.strip(" \t\r\n").isascii()
    if isinstance(value, float):
        assert value.is_integer()


def test_parse_count_with_a_minimum_and_a_fix():
    """The capacity plan's counts start at 0 (0 leaves a limit out) and say what they count."""
    assert parse_count("0", "wcs_capacity_fds_per_stream", minimum=0) == 0
    assert parse_count(" 250 ", "wcs_expected_streams", maximum=10 ** 7, minimum=0) == 250
    with pytest.raises(PlanError) as err:
        parse_count("-1", "wcs_capacity_fds_per_stream", minimum=0, fix="give descriptors per session")
    assert err.value.field == "wcs_capacity_fds_per_stream" and err.value.fix == "give descriptors per session"
    with pytest.raises(PlanError):
        parse_count(0, "count")

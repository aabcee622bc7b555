"""cpusets.py: the one cpuset parser/formatter (kernel cpulist syntax), strict on what a user types."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import (
    MAX_CPU_ID, canonical_cpuset, format_cpuset, parse_cpuset)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError


@pytest.mark.parametrize("text,ids", [
    ("0-3,8", [0, 1, 2, 3, 8]),
    ("0", [0]),
    ("", []),
    (None, []),
    ("10-11,2,0-1", [0, 1, 2, 10, 11]),
    ("0-9,20-29\n", list(range(10)) + list(range(20, 30))),
    ("1, 3 ,\t5", [1, 3, 5]),  # blanks around commas
    ("0-3,", [0, 1, 2, 3]),
    ("8191", [8191]),
    (7, [7]),
    ([3, "0-1", 1], [0, 1, 3]),
    ((2, 1), [1, 2]),
    ({4}, [4]),
])
def test_parse_cpuset(text, ids):
    assert parse_cpuset(text) == ids


@pytest.mark.parametrize("bad", [
    "a", "3-1", "1-", "-1", "1,,x", "1 0", "1 -3", "1- 3", "0x1", "+1", "1.0",
    "\u0661",          # ARABIC-INDIC DIGIT ONE: int() reads it, the kernel does not
    "\uff11",          # FULLWIDTH DIGIT ONE
    "1\u00a0,2",       # no-break space is not an ASCII blank
    "1\x00", "1\x1c,2", "1\u2028",
    "0-7:2/4",         # kernel stride syntax
    "0-99999999", "8192", "0-8192", "123456",
    1.5, True, False, -1, 8192, {"a": 1}, [[1]], [True], ["1 0"], b"1",
])
def test_parse_cpuset_rejects(bad):
    with pytest.raises(PlanError) as err:
        parse_cpuset(bad, "reserved")
    assert err.value.field == "reserved" and "Fix:" in str(err.value)


def test_range_is_capped_before_it_is_expanded():
    with pytest.raises(PlanError) as err:
        parse_cpuset("0-%d" % (10 ** 5 - 1))
    assert "0 to %d" % MAX_CPU_ID in str(err.value)


def test_format_cpuset_prints_what_the_kernel_prints():
    # cpuset.cpus and /sys/devices/system/cpu/online print a run of two as a range: "0-1"
    assert format_cpuset([0, 1, 2, 3, 8, 9, 40, 41, 42]) == "0-3,8-9,40-42"
    assert format_cpuset([0, 1]) == "0-1"
    assert format_cpuset([5]) == "5"
    assert format_cpuset([]) == ""
    assert format_cpuset(c for c in (3, 1, 2)) == "1-3"
    assert canonical_cpuset("1,0, 2,7") == "0-2,7"


@pytest.mark.parametrize("bad", [[True], [-1], [8192], ["1"], [1.0]])
def test_format_cpuset_refuses_non_ids(bad):
    with pytest.raises(PlanError):
        format_cpuset(bad)


@given(st.sets(st.integers(0, MAX_CPU_ID), max_size=80))
@settings(max_examples=300, deadline=None)
def test_format_parse_roundtrip(ids):
    text = format_cpuset(ids)
    assert parse_cpuset(text) == sorted(ids)
    assert canonical_cpuset(text) == text
    assert len(text.split(",")) <= max(1, len(ids))


@given(st.text(max_size=40))
@settings(max_examples=500, deadline=None)
def test_any_text_parses_or_is_a_plan_error(text):
    try:
        ids = parse_cpuset(text, "cpuset")
    except PlanError as err:
        assert err.field == "cpuset"
        return
    # accepted: only ASCII digits, '-', ',' and ASCII blanks, ids within range
    assert set(text) <= set("0123456789-, \t\r\n")
    assert all(0 <= cpu <= MAX_CPU_ID for cpu in ids)


@given(st.lists(st.sampled_from(list("0123456789-, ") + ["\u0661", "\u06f1", "\u0966", "\x1c", "\x85", "\u3000",
                                                         "\u2028", "\x00", "\t"]), max_size=20))
@settings(max_examples=500, deadline=None)
def test_no_control_character_or_unicode_digit_is_accepted(chars):
    text = "".join(chars)
    try:
        parse_cpuset(text)
    except PlanError:
        return
    assert not set(text) - set("0123456789-, \t")


def test_containers_of_1_0_0_do_not_look_changed():
    """1.0.0 wrote a pair as "2,3" (CpusetCpus and the spec label); now "2-3". wcs_containers compares the
    canonical form of both sides, so such a container is not recreated."""
    import json

    from ansible_collections.mediaops.wcs.plugins.module_utils import container_spec

    item = dict(name="wcs-1", image="flashphoner/webcallserver:latest", network="wcs-net", password=None,
                license=None, conf_dir=None, env={}, memory=None, restart_policy="unless-stopped", ulimits=None,
                labels={}, state="started", pull="missing", wait=False, cpuset=[2, 3], cpuset_mems=[0, 1],
                ipv4_address="203.0.113.4", local_ip="203.0.113.4")
    desired = container_spec.desired_container(container_spec.merged_items({}, [item])[0])
    assert desired["spec"]["cpuset"] == "2-3" and desired["spec"]["cpuset_mems"] == "0-1"
    labels = container_spec.labels_for(desired)
    old_spec = dict(json.loads(labels[container_spec.SPEC_LABEL]), cpuset="2,3", cpuset_mems="0,1")
    labels[container_spec.SPEC_LABEL] = json.dumps(old_spec)
    labels[container_spec.CPUSET_LABEL] = "2,3"
    env = ["%s=%s" % kv for kv in container_spec.environment_for(desired).items()]
    inspect = {
        "Config": {"Image": "flashphoner/webcallserver", "Env": env, "Labels": labels},
        "HostConfig": {"CpusetCpus": "2,3", "CpusetMems": "0,1", "Memory": 0,
                       "RestartPolicy": {"Name": "unless-stopped"}, "NetworkMode": "wcs-net"},
        "NetworkSettings": {"Networks": {"wcs-net": {"IPAMConfig": {"IPv4Address": "203.0.113.4"}}}},
        "Mounts": [],
    }
    assert container_spec.differences(desired, inspect) == []
    inspect["HostConfig"]["CpusetCpus"] = "2-4"
    assert container_spec.differences(desired, inspect) == ["cpuset"]

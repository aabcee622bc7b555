"""Address plan: the article's layout, every validation, the fleet check; hypothesis invariants."""
from __future__ import annotations

import netaddr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.address_plan import fleet_conflicts, plan_addresses
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError


def test_article_layout_of_an_eight_address_block():
    plan = plan_addresses("203.0.113.0/29", 2)
    assert plan == {
        "subnet": "203.0.113.0/29", "gateway": "203.0.113.1", "host_address": "203.0.113.2",
        "host_cidr": "203.0.113.2/29", "ip_range": "203.0.113.3/32",
        "containers": ["203.0.113.4", "203.0.113.5"], "spares": ["203.0.113.6"],
        "prefixlen": 29, "netmask": "255.255.255.248", "broadcast": "203.0.113.7",
    }


def test_explicit_addresses_fill_missing_parts_from_the_layout():
    plan = plan_addresses({"subnet": "198.51.100.16/28", "gateway": "198.51.100.30",
                           "addresses": ["198.51.100.20", "198.51.100.21"]})
    assert plan["gateway"] == "198.51.100.30"
    assert plan["host_address"] == "198.51.100.18"
    assert plan["ip_range"] == "198.51.100.19/32"
    assert plan["containers"] == ["198.51.100.20", "198.51.100.21"]
    assert "198.51.100.17" in plan["spares"] and "198.51.100.30" not in plan["spares"]


def test_ip_range_moves_when_the_fourth_address_is_taken():
    plan = plan_addresses({"subnet": "203.0.113.0/28", "gateway": "203.0.113.3"}, 1)
    assert plan["ip_range"] == "203.0.113.1/32"
    assert plan["containers"] == ["203.0.113.4"]


BASE = {"subnet": "203.0.113.0/29"}


@pytest.mark.parametrize("spec,count,field,words", [
    ("203.0.113.0/29", 4, "subnet", "at least 9 addresses (/28)"),
    ("203.0.113.1/29", 2, "subnet", "'203.0.113.0/29'"),
    ("2001:db8::/64", 1, "subnet", "IPv4"),
    ("203.0.113.0/31", 1, "subnet", "/16 and /30"),
    ("10.0.0.0/8", 1, "subnet", "/16 and /30"),
    ("203.0.113.0", 1, "subnet", "CIDR"),
    ("not-an-ip/24", 1, "subnet", "CIDR"),
    ({"subnet": "203.0.113.0/29", "bogus": 1}, 1, "address spec", "only the keys"),
    ({"gateway": "203.0.113.1"}, 1, "address spec", "subnet"),
    (dict(BASE, addresses=["203.0.113.9"]), None, "addresses[0]", "outside the subnet"),
    (dict(BASE, addresses=["203.0.113.0"]), None, "addresses[0]", "network address"),
    (dict(BASE, addresses=["203.0.113.7"]), None, "addresses[0]", "broadcast address"),
    (dict(BASE, addresses=["203.0.113.1"]), None, "addresses[0]", "not the gateway"),
    (dict(BASE, addresses=["203.0.113.2"]), None, "addresses[0]", "not the host address"),
    (dict(BASE, addresses=["203.0.113.3"]), None, "addresses[0]", "outside ip_range"),
    (dict(BASE, addresses=["203.0.113.4", "203.0.113.4"]), None, "addresses[1]", "repeats addresses[0]"),
    (dict(BASE, addresses=["203.0.113.4"]), 2, "addresses", "one address per container"),
    (dict(BASE, addresses="203.0.113.4"), None, "addresses", "list"),
    (dict(BASE, addresses=["2001:db8::1"]), None, "addresses[0]", "IPv4"),
    (dict(BASE, gateway="203.0.113.9"), 1, "gateway", "outside the subnet"),
    (dict(BASE, gateway="203.0.113.7"), 1, "gateway", "broadcast"),
    (dict(BASE, host_address="203.0.112.2"), 1, "host_address", "outside the subnet"),
    (dict(BASE, host_address="203.0.113.1"), 1, "host_address", "not the gateway's"),
    (dict(BASE, ip_range="203.0.112.3/32"), 1, "ip_range", "not inside the subnet"),
    (dict(BASE, ip_range="203.0.113.0/28"), 1, "ip_range", "not inside the subnet"),
    (dict(BASE, ip_range="203.0.113.0/30"), 1, "ip_range", "gateway"),
    (dict(BASE, ip_range="203.0.113.5/30"), 1, "ip_range", "host bits"),
    (BASE, None, "count", "number of containers"),
    (BASE, 0, "count", ">= 1"),
])
def test_validation_names_field_value_and_fix(spec, count, field, words):
    with pytest.raises(PlanError) as err:
        plan_addresses(spec, count)
    msg = str(err.value)
    assert err.value.field == field
    assert msg.startswith(field + ":") and "Fix:" in msg
    assert words in msg, msg


def test_fleet_clean_and_shared_gateway():
    a = plan_addresses({"subnet": "203.0.113.0/28", "addresses": ["203.0.113.4", "203.0.113.5"],
                        "ip_range": "203.0.113.3/32"})
    b = plan_addresses({"subnet": "203.0.113.0/28", "host_address": "203.0.113.10", "ip_range": "203.0.113.11/32",
                        "addresses": ["203.0.113.12", "203.0.113.13"]})
    assert a["gateway"] == b["gateway"]
    assert fleet_conflicts({"a": a, "b": b}) == []


def test_fleet_conflicts_find_addresses_planned_twice():
    a = plan_addresses("203.0.113.0/29", 2)
    b = plan_addresses("203.0.113.0/29", 2)
    msgs = fleet_conflicts({"host-a": a, "host-b": b})
    assert len(msgs) == 4  # host address, ip_range, two containers; the shared gateway is fine
    assert msgs[0].startswith("203.0.113.2 is planned 2 times: host-a as host_address")
    assert any("203.0.113.4" in m and "host-a as container 1" in m and "host-b as container 1" in m for m in msgs)


def test_fleet_gateway_shared_across_different_subnets_is_a_conflict():
    a = plan_addresses("203.0.113.0/29", 1)
    b = plan_addresses({"subnet": "203.0.113.0/28", "host_address": "203.0.113.10", "ip_range": "203.0.113.11/32",
                        "addresses": ["203.0.113.12"]})
    msgs = fleet_conflicts({"a": a, "b": b})
    assert len(msgs) == 1 and msgs[0].startswith("203.0.113.1 is planned 2 times")


def test_fleet_reads_wcs_plan_facts_and_skips_missing_hosts():
    plan_a = {"network": {"subnet": "203.0.113.0/28", "gateway": "203.0.113.1", "host_address": "203.0.113.2",
                          "ip_range": "203.0.113.3/32"},
              "containers": [{"name": "wcs-1", "ipv4_address": "203.0.113.4"}]}
    plan_b = {"network": {"subnet": "203.0.113.0/28", "gateway": "203.0.113.1", "host_address": "203.0.113.4",
                          "ip_range": "203.0.113.5/32"},
              "containers": [{"name": "wcs-1", "ipv4_address": "203.0.113.6"}]}
    msgs = fleet_conflicts({"a": plan_a, "b": plan_b, "c": None})
    assert msgs == [msgs[0]] and "a as container wcs-1" in msgs[0] and "b as host_address" in msgs[0]


def test_fleet_conflicts_bad_input():
    with pytest.raises(PlanError):
        fleet_conflicts(["not", "a", "dict"])


@st.composite
def blocks(draw):
    prefix = draw(st.integers(24, 30))
    size = 1 << (32 - prefix)
    base = draw(st.sampled_from(["198.51.100.0", "203.0.113.0"]))
    offset = draw(st.integers(0, 256 // size - 1)) * size
    net = netaddr.IPNetwork("%s/%d" % (netaddr.IPAddress(base) + offset, prefix))
    count = draw(st.integers(1, 10))
    return str(net.cidr), count


@given(blocks())
@settings(max_examples=300, deadline=None)
def test_block_layout_invariants(case):
    cidr, count = case
    net = netaddr.IPNetwork(cidr)
    if len(net) < count + 5:
        with pytest.raises(PlanError) as err:
            plan_addresses(cidr, count)
        assert err.value.field == "subnet"
        return
    plan = plan_addresses(cidr, count)
    hosts = set(str(a) for a in net.iter_hosts())
    roles = [plan["gateway"], plan["host_address"], plan["ip_range"].partition("/")[0]] + plan["containers"]
    assert len(set(roles)) == len(roles), "no address is planned twice"
    assert set(roles) <= hosts, "never the network or broadcast address"
    assert set(roles) | set(plan["spares"]) == hosts and not set(roles) & set(plan["spares"])
    assert len(plan["containers"]) == count
    assert plan["gateway"] == str(net.network + 1) and plan["host_address"] == str(net.network + 2)
    assert plan["containers"][0] == str(net.network + 4)
    # An explicit spec built from the plan is accepted and yields the same plan.
    again = plan_addresses({k: plan[k] for k in ("subnet", "gateway", "host_address", "ip_range")}
                           | {"addresses": plan["containers"]})
    assert again == plan


@given(st.lists(st.integers(0, 15), min_size=2, max_size=6), st.integers(0, 5))
@settings(max_examples=200, deadline=None)
def test_fleet_finds_every_duplicate(blocks_of_hosts, dup_from):
    """Hosts on distinct /28 blocks are clean; copying one container address to another host is found."""
    plans = {}
    for index, block in enumerate(dict.fromkeys(blocks_of_hosts)):
        plans["h%d" % index] = plan_addresses("203.0.113.%d/28" % (block * 16), 3)
    assert fleet_conflicts(plans) == []
    if len(plans) < 2:
        return
    names = sorted(plans)
    src = plans[names[dup_from % len(names)]]
    dst_name = names[(dup_from + 1) % len(names)]
    dst = dict(plans[dst_name])
    dst["containers"] = [src["containers"][0]] + dst["containers"][1:]
    plans[dst_name] = dst
    msgs = fleet_conflicts(plans)
    assert len(msgs) == 1 and msgs[0].startswith(src["containers"][0] + " is planned 2 times")

"""network_spec: validation before any change, inspect normalisation, differences, overlap and reconnect rules."""
from __future__ import annotations

import ipaddress
import unicodedata

import pytest
from hypothesis import given, strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.network_spec import (
    address_in, create_options, current_network, desired_network, network_differences, overlapping_networks,
    reconnect_address)
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import reserved_block

BASE = dict(name="n", driver="ipvlan", parent="p0", mode=None, subnet="198.51.100.64/28",
            gateway="198.51.100.65", ip_range="198.51.100.68/30", aux_addresses=None)


def inspect_of(desired, mode_option=True):
    options, ipam = create_options(desired)
    if not mode_option:
        options = {"parent": desired["parent"]}
    return {"Name": desired["name"], "Driver": desired["driver"], "Options": options, "IPAM": ipam}


def test_defaults_mode_per_driver():
    assert desired_network(BASE)["mode"] == "l2"
    assert desired_network(dict(BASE, driver="macvlan"))["mode"] == "bridge"


@pytest.mark.parametrize("change,field", [
    (dict(driver="macvlan", mode="l2"), "mode"),
    (dict(subnet="198.51.100.65/28"), "subnet"),
    (dict(subnet="bogus"), "subnet"),
    (dict(gateway="198.51.100.80"), "gateway"),
    (dict(gateway="198.51.100.64"), "gateway"),
    (dict(ip_range="198.51.100.0/24"), "ip_range"),
    (dict(aux_addresses={"r": "203.0.113.1"}), "aux_addresses.r"),
    (dict(parent=""), "parent"),
])
def test_bad_input_names_the_field_and_fix(change, field):
    with pytest.raises(PlanError) as err:
        desired_network(dict(BASE, **change))
    assert err.value.field == field
    assert "Fix:" in str(err.value)


def test_roundtrip_no_differences():
    want = desired_network(BASE)
    assert network_differences(want, current_network(inspect_of(want))) == []


def test_missing_mode_option_is_driver_default():
    want = desired_network(BASE)
    assert network_differences(want, current_network(inspect_of(want, mode_option=False))) == []


def test_unset_gateway_and_aux_not_compared_but_ip_range_is():
    have = current_network(inspect_of(desired_network(dict(BASE, aux_addresses={"r": "198.51.100.66"}))))
    want = desired_network(dict(BASE, gateway=None))
    assert network_differences(want, have) == []
    assert network_differences(desired_network(dict(BASE, ip_range=None)), have) == ["ip_range"]


@pytest.mark.parametrize("change,fields", [
    (dict(parent="p1"), ["parent"]),
    (dict(driver="macvlan"), ["driver", "mode"]),
    (dict(mode="l3"), ["mode"]),
    (dict(subnet="198.51.100.80/28", gateway="198.51.100.81", ip_range=None), ["subnet", "gateway", "ip_range"]),
])
def test_differences_name_fields(change, fields):
    have = current_network(inspect_of(desired_network(BASE)))
    assert network_differences(desired_network(dict(BASE, **change)), have) == fields


def test_overlap_excludes_own_name():
    nets = [{"Name": "n", "IPAM": {"Config": [{"Subnet": "198.51.100.64/28"}]}},
            {"Name": "other", "IPAM": {"Config": [{"Subnet": "198.51.100.0/25"}]}},
            {"Name": "v6", "IPAM": {"Config": [{"Subnet": "2001:db8::/64"}]}},
            {"Name": "bridge", "IPAM": {"Config": [{"Subnet": "172.17.0.0/16"}]}}]
    assert overlapping_networks("198.51.100.64/28", nets, exclude_name="n") == [("other", "198.51.100.0/25")]


def test_reconnect_prefers_static_address():
    c = {"NetworkSettings": {"Networks": {"n": {"IPAMConfig": {"IPv4Address": "198.51.100.70"},
                                                "IPAddress": "198.51.100.71"}}}}
    assert reconnect_address(c, "n") == "198.51.100.70"
    c["NetworkSettings"]["Networks"]["n"]["IPAMConfig"] = None
    assert reconnect_address(c, "n") == "198.51.100.71"
    assert reconnect_address(c, "other") is None


@given(st.integers(min_value=16, max_value=30), st.integers(min_value=0, max_value=2 ** 32 - 1))
def test_any_valid_subnet_roundtrips(prefix, raw):
    net = ipaddress.IPv4Network((raw, prefix), strict=False)
    if reserved_block(net):  # multicast, loopback, ...: refused (test_reserved_subnets_refused)
        with pytest.raises(PlanError, match="overlaps the"):
            desired_network(dict(BASE, subnet=str(net)))
        return
    hosts = list(net.hosts()) if net.num_addresses <= 1024 else [net.network_address + 1]
    want = desired_network(dict(BASE, subnet=str(net), gateway=str(hosts[0]), ip_range=str(net)))
    assert network_differences(want, current_network(inspect_of(want))) == []
    assert address_in(str(hosts[-1]), want)


@pytest.mark.parametrize("params, field", [
    (dict(subnet="224.0.1.0/28"), "subnet"), (dict(subnet="127.0.0.0/28"), "subnet"),
    (dict(subnet="169.254.1.0/28"), "subnet"), (dict(name="net\n"), "name"), (dict(name="a b"), "name"),
    (dict(parent="eth0\n"), "parent"), (dict(parent="a" * 16), "parent"), (dict(parent="eth0:1"), "parent"),
])
def test_names_and_reserved_subnets_refused(params, field):
    with pytest.raises(PlanError) as err:
        desired_network(dict(BASE, **params))
    assert err.value.field == field


@given(st.text(max_size=20), st.text(max_size=20))
def test_network_names_and_parents_never_traceback_or_hold_controls(name, parent):
    try:
        want = desired_network(dict(BASE, name=name, parent=parent))
    except PlanError:
        return
    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in want["name"] + want["parent"])

"""module_utils/firewall.py: the operator's options checked, rules as data, nft text, nft -j read back.

The round trip through the kernel (render -> nft -f -> nft -j list -> canonical == wanted) runs with the real nft
in a throwaway network namespace (`unshare -n`), skipped only where nft or unshare is missing."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import firewall as fw
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

BASE = {"admin_cidrs": ["198.51.100.2"], "media_port_from": 31001, "media_port_to": 40000}


def spec(**over):
    return fw.firewall_spec(dict(BASE, **over))


def test_defaults_public_ws_wss_everything_else_admin():
    s = spec()
    rules = {r["comment"]: r for r in fw.desired_rules(s)}
    assert dict(rules["public"]["matches"]) == {"tcp dport": frozenset([8080, 8443])}
    admin = dict(rules["admin"]["matches"])
    assert admin["ip saddr"] == frozenset(["198.51.100.2/32"])
    assert admin["tcp dport"] == frozenset([22, 2001, 8081, 8082, 8444, 8445, 8888, 9091, 50999])
    assert dict(rules["media udp"]["matches"]) == {"udp dport": frozenset([("range", 31001, 40000)])}
    assert "media tcp" in rules and rules["dropped"]["verdict"] == "drop" and not rules["dropped"]["matches"]


def test_loopback_first_and_drop_last():
    rules = fw.desired_rules(spec())
    assert rules[0]["matches"] == (("iif", frozenset(["lo"])),) and rules[0]["verdict"] == "accept"
    assert rules[-1]["comment"] == "dropped"


@pytest.mark.parametrize("over, missing", [
    ({"media_tcp": False}, "media tcp"),
    ({"icmp": False}, "icmp"),
    ({"admin_cidrs": []}, "admin"),
    ({"admin_cidrs": ["2001:db8::/32"]}, "admin"),
])
def test_optional_rules(over, missing):
    assert missing not in {r["comment"] for r in fw.desired_rules(spec(**over))}


def test_public_hls_and_v6_admins():
    s = spec(public=["ws", "wss", "hls", "hls_tls"], admin_cidrs=["2001:db8::/32", "192.0.2.0/24"])
    rules = {r["comment"]: r for r in fw.desired_rules(s)}
    assert dict(rules["public"]["matches"])["tcp dport"] == frozenset([8080, 8082, 8443, 8445])
    assert 8082 not in dict(rules["admin"]["matches"])["tcp dport"]
    assert dict(rules["admin v6"]["matches"])["ip6 saddr"] == frozenset(["2001:db8::/32"])


def test_properties_of_the_container_win():
    s = fw.container_ports(spec(), {"media_port_from": "20000", "media_port_to": "20999", "ws.port": "9080"})
    assert (s["media_port_from"], s["media_port_to"], s["ports"]["ws"]) == (20000, 20999, 9080)


def test_cdn_port_open_to_the_other_nodes_only_when_the_file_enables_the_cdn():
    base = spec(cdn_peers=["203.0.113.20", "2001:db8::20"])
    s = fw.container_ports(base, {"cdn_enabled": "true", "cdn_port": "9084"})
    rules = {r["comment"]: r for r in fw.desired_rules(s)}
    assert dict(rules["cdn"]["matches"]) == {"ip saddr": frozenset(["203.0.113.20/32"]),
                                             "tcp dport": frozenset([9084])}
    assert dict(rules["cdn v6"]["matches"])["ip6 saddr"] == frozenset(["2001:db8::20/128"])
    assert fw.desired_rules(s)[-1]["comment"] == "dropped"
    assert fw.container_ports(base, {"cdn_enabled": "true"})["cdn_port"] == 8084  # Flashphoner's default
    for props in ({}, {"cdn_enabled": "false", "cdn_port": "9084"}):
        assert "cdn" not in {r["comment"] for r in fw.desired_rules(fw.container_ports(base, props))}
    # enabled but no peers (a lone origin): nobody outside gets in
    assert "cdn" not in {r["comment"] for r in fw.desired_rules(fw.container_ports(spec(), {"cdn_enabled": "true"}))}


@pytest.mark.parametrize("props, words", [
    ({"cdn_enabled": "true", "cdn_port": "8081"}, "rest uses it"),
    ({"cdn_enabled": "true", "cdn_port": "31500"}, "media range"),
    ({"cdn_enabled": "true", "cdn_port": "x"}, "1 to 65535"),
])
def test_bad_cdn_port_is_refused(props, words):
    with pytest.raises(PlanError) as err:
        fw.container_ports(spec(), props)
    assert err.value.field == "wcs_cdn_port" and words in str(err.value)


@pytest.mark.parametrize("over, field, words", [
    ({"admin_cidrs": ["198.51.100.7/24"]}, "wcs_admin_cidrs", "198.51.100.0/24"),
    ({"admin_cidrs": ["example.net"]}, "wcs_admin_cidrs", "IPv4/IPv6"),
    ({"admin_cidrs": ["224.0.0.1"]}, "wcs_admin_cidrs", "multicast"),
    ({"admin_cidrs": ["198.51.100.0/24", "0.0.0.0/0"]}, "wcs_admin_cidrs", "whole internet"),
    ({"admin_cidrs": "::/0"}, "wcs_admin_cidrs", "wcs_firewall_enabled: false"),
    ({"admin_cidrs": ["10.0.0.1\n"]}, "wcs_admin_cidrs", "IPv4/IPv6"),
    ({"public": ["ws", "web"]}, "wcs_firewall_public", "wcs_firewall_ports"),
    ({"ports": {"cli": 70000}}, "wcs_firewall_ports.cli", "1 to 65535"),
    ({"ports": {"cli": True}}, "wcs_firewall_ports.cli", "1 to 65535"),
    ({"ports": {"Bad Name": 1}}, "wcs_firewall_ports", "lower-case"),
    ({"ports": {"cli": 8080}}, "wcs_firewall_ports", "its own port"),
    ({"media_port_from": 5000, "media_port_to": 4000}, "wcs_media_port_from", "<="),
    ({"media_port_from": 8000, "media_port_to": 9000}, "wcs_media_port_from", "clear of the named ports"),
])
def test_bad_input_names_field_value_and_fix(over, field, words):
    with pytest.raises(PlanError) as err:
        spec(**over)
    assert err.value.field.startswith(field) and words in str(err.value)


def test_render_is_one_atomic_replace():
    text = fw.render(fw.desired_rules(spec()), "wcs-1")
    assert text.index("table inet mediaops_wcs\n") < text.index("delete table inet mediaops_wcs\n")
    assert "policy drop;" in text and 'iif "lo" accept' in text
    assert "ip saddr 198.51.100.2 tcp dport { 22, 2001, 8081" in text
    assert 'counter drop comment "dropped"' in text


def test_canonical_absent_and_unknown():
    assert fw.canonical({}) is None
    assert fw.canonical({"nftables": [{"metainfo": {}}]}) is None
    odd = {"nftables": [{"table": {"name": fw.TABLE_NAME}}, {"rule": {"chain": "input", "expr": [{"log": {}}]}}]}
    got = fw.canonical(odd)
    assert got != fw.wanted(fw.desired_rules(spec())) and "unknown" in got["rules"][0][1]


def test_counters():
    dropped = {"comment": "dropped", "expr": [{"counter": {"packets": 3, "bytes": 180}}, {"drop": None}]}
    data = {"nftables": [{"rule": dropped}, {"rule": {"expr": [{"accept": None}]}}]}
    assert fw.counters(data) == {"dropped": {"packets": 3, "bytes": 180}}


def test_nsenter_argv():
    assert fw.nsenter_argv(42, ["-f", "-"]) == ["nsenter", "--net=/proc/42/ns/net", "nft", "-f", "-"]


TEXT = st.text(st.characters(), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, st.lists(TEXT, max_size=4), st.integers(), st.none()))
def test_cidr_parser_never_tracebacks_nor_accepts_control_characters(value):
    try:
        out = fw.check_cidrs(value)
    except PlanError:
        return
    for item in out:
        assert item.isprintable() and "\n" not in item


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), TEXT, st.booleans()), max_size=3),
       st.one_of(st.integers(-5, 70000), TEXT), st.one_of(st.integers(-5, 70000), TEXT))
def test_spec_never_tracebacks(ports, low, high):
    try:
        s = fw.firewall_spec({"ports": ports, "media_port_from": low, "media_port_to": high})
    except PlanError:
        return
    assert fw.render(fw.desired_rules(s)).isascii()


NFT = shutil.which("nft")


@pytest.mark.skipif(not NFT or not shutil.which("unshare"), reason="needs nft and unshare (nftables, util-linux)")
@pytest.mark.parametrize("over", [{}, {"admin_cidrs": ["2001:db8::/32", "192.0.2.0/24", "198.51.100.2"],
                                       "public": ["ws", "wss", "hls"]},
                                  {"media_port_from": 31001, "media_port_to": 31001, "icmp": False},
                                  {"cdn_peers": ["203.0.113.20", "2001:db8::20"], "cdn_port": 8084}])
def test_round_trip_through_the_kernel(over):
    """render -> nft -f (in a namespace of its own) -> nft -j list -> canonical == wanted; applied twice."""
    rules = fw.desired_rules(spec(**over))
    text = fw.render(rules)
    script = "nft -f - && nft -f /dev/stdin <<'EOF'\n%sEOF\nnft -j list table inet mediaops_wcs" % text
    out = subprocess.run(["unshare", "-n", "sh", "-c", script], input=text, capture_output=True, text=True,
                         timeout=30, check=False)
    assert out.returncode == 0, out.stderr
    assert fw.canonical(json.loads(out.stdout)) == fw.wanted(rules)

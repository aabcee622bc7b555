"""Hostile inputs of the plan, the planning filters and the CDN plan (issue 20, classes 2, 4, 5 (image references),
7 and 8), through the public entry points: the filters of plugins/filter/planning.py as Jinja calls them and
host_plan.plan_host (what the wcs_plan action runs) on a recorded topology. The only outcomes allowed are a result or
the project's own error naming the field, the value and the fix, within a deadline."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings, strategies as st

from ansible_collections.mediaops.wcs.plugins.filter.planning import FilterModule
from ansible_collections.mediaops.wcs.plugins.module_utils.host_plan import INPUTS, plan_host
from ansible_collections.mediaops.wcs.plugins.module_utils.inputs import MODEL
from ansible_collections.mediaops.wcs.plugins.module_utils.topology import read_topology

from .harness import clean_call, deadline

FILTERS = FilterModule().filters()
TOPOLOGY = read_topology(str(Path(__file__).resolve().parents[2] / "fixtures" / "topology" / "big-2x10x2"))


def plan(**changes):
    inputs = {"wcs_network_parent": "eno1", "wcs_network_block": "203.0.113.0/29", "wcs_plan_check_parent": False}
    inputs.update(changes)
    return clean_call(plan_host, TOPOLOGY, inputs, host="h")


def refused_plan(field, **changes):
    outcome, err = plan(**changes)
    assert outcome == "refused", "accepted: %r" % (changes,)
    assert err.field.startswith(field), str(err)
    assert str(err).startswith(err.field + ": ") and "Fix: " in str(err), str(err)
    return err


def call_filter(name, *args, seconds=10.0, **kw):
    """("ok", result) or ("refused", message) of filter ``name``; anything but AnsibleFilterError fails the test."""
    with deadline(seconds):
        try:
            return "ok", FILTERS[name](*args, **kw)
        except AnsibleFilterError as err:
            text = str(err)
            assert text.startswith("mediaops.wcs.%s: " % name) and "Fix: " in text, text
            return "refused", text


def refused_filter(name, field, *args, **kw):
    outcome, text = call_filter(name, *args, **kw)
    assert outcome == "refused", "accepted: %r" % (args,)
    assert text.startswith("mediaops.wcs.%s: %s" % (name, field)), text
    return text


# -- class 2: paths --------------------------------------------------------------------------------------------------
PATHS = ["/opt/wcs/../../etc/cron.d", "/etc/systemd/system", "/proc/sys/kernel", "/dev/shm", "/opt/wcs:/etc",
         "/usr/share/conf", "/var/lib/docker/conf", "//etc", "/./etc/", "/opt/..", "/var/run/docker"]


@pytest.mark.parametrize("path", PATHS)
def test_conf_root_paths_refused_by_the_plan(path):
    refused_plan("wcs_conf_root", wcs_conf_root=path)


@pytest.mark.parametrize("name", ["wcs_conf_root", "wcs_monitoring_base_dir", "wcs_isolation_report_copy"])
@pytest.mark.parametrize("path", PATHS)
def test_paths_refused_by_the_plan_inputs_filter(name, path):
    refused_filter("plan_inputs", name, {name: path})


def test_valid_roots_still_plan():
    for root in ("/opt/wcs", "/var/lib/mediaops-wcs-lab", "/run/wcscdn-1/wcs", "/tmp/x/wcs"):
        outcome, result = plan(wcs_conf_root=root)
        assert outcome == "ok" and result["containers"][0]["conf_dir"] == root + "/wcs-1/conf"


# -- class 4: network meaning ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cidrs", [["0.0.0.0/1", "128.0.0.0/1"], "0.0.0.0/1, 128.0.0.0/1", ["::/1", "8000::/1"],
                                   ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"], ["0.0.0.0/0"]])
def test_admin_networks_covering_everything_refused(cidrs):
    text = refused_filter("plan_inputs", "wcs_admin_cidrs", {"wcs_admin_cidrs": cidrs})
    assert "whole internet" in text


@pytest.mark.parametrize("value", ["::ffff:0.0.0.0", "[::ffff:0.0.0.0]", "0.0.0.0", "::"])
def test_wildcard_listen_address_refused_in_every_spelling(value):
    refused_filter("plan_inputs", "wcs_monitoring_listen_address", {"wcs_monitoring_listen_address": value})


@pytest.mark.parametrize("name", ["host", "bridge", "none", "default"])
def test_dockers_own_networks_refused_as_the_wcs_network(name):
    refused_plan("wcs_network_name", wcs_network_name=name)
    refused_filter("plan_inputs", "wcs_network_name", {"wcs_network_name": name})


NOT_REACHABLE = ["127.0.0.1", "224.0.0.1", "255.255.255.255", "0.0.0.0", "169.254.0.5", "::ffff:127.0.0.1",
                 "240.1.1.1"]


@pytest.mark.parametrize("addr", NOT_REACHABLE)
def test_unreachable_external_addresses_refused(addr):
    refused_plan("wcs_external_addresses", wcs_external_addresses=[addr, "198.51.100.9"])


@pytest.mark.parametrize("addr", NOT_REACHABLE + ["not-an-ip", "203.0.113.4\n"])
def test_unreachable_cdn_addresses_refused(addr):
    plans = {"o1": {"containers": [{"name": "wcs-1", "local_ip": "203.0.113.4", "external_ip": addr}]},
             "e1": {"containers": [{"name": "wcs-1", "local_ip": "203.0.113.12", "external_ip": "198.51.100.7"}]}}
    groups = {"wcs_cdn_origin": ["o1"], "wcs_cdn_edge": ["e1"]}
    refused_filter("cdn_plan", "wcs_external_addresses[0]", plans, groups, options={"address": "external"}, key=None)


@pytest.mark.parametrize("ip_range", ["10.0.0.0/8", "0.0.0.0/0", "::/0"])
def test_fleet_check_of_huge_ranges_finishes_fast(ip_range):
    plans = {h: {"wcs_plan": {"network": {"subnet": "10.0.0.0/8", "gateway": "10.0.0.1", "ip_range": ip_range},
                              "containers": [{"name": "wcs-1", "ipv4_address": "10.0.0.%d" % (i + 5)}]}}
             for i, h in enumerate(("a", "b", "c"))}
    start = time.monotonic()
    outcome, messages = call_filter("fleet_conflicts", plans, "wcs_plan", ["a", "b", "c"], seconds=2.0)
    assert outcome == "ok" and messages and time.monotonic() - start < 1.0
    assert any("planned 3 times" in m for m in messages)


@pytest.mark.parametrize("block", ["10.0.0.0/8", "0.0.0.0/0", "203.0.113.0/15"])
def test_absurdly_large_blocks_refused_before_enumeration(block):
    refused_plan("wcs_network_block", wcs_network_block=block)
    refused_filter("address_plan", "subnet", block)


# -- class 5: image references ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("ref", ["foo bar", "Flashphoner", "wcs:la test", "wcs:", "a//b", "wcs@sha256:abc",
                                 "wcs:" + "t" * 129, "-wcs", "wcs\u2028x", "wcs\x1e", 5, ["wcs"]])
def test_image_references_outside_dockers_grammar_refused(ref):
    refused_plan("wcs_image", wcs_image=ref)
    refused_filter("plan_inputs", "wcs_image", {"wcs_image": ref})


# -- class 7: tracebacks -------------------------------------------------------------------------------------------
NOT_NUMBERS = ["2\x1c", "\x1d2", "2\x1e", "2\x1f", "\u00b2", "\u0662", "\uff12", "2" * 5000, "nan", [2], {"n": 2}]


@pytest.mark.parametrize("value", NOT_NUMBERS)
@pytest.mark.parametrize("name", ["wcs_container_count", "wcs_media_port_to", "wcs_nofile_limit",
                                  "wcs_capacity_streams_per_core", "wcs_expected_streams", "wcs_heap_share"])
def test_numbers_with_separators_or_unicode_digits_refused(name, value):
    refused_plan(name, **{name: value})


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_counts_of_the_planner_filters_refused(value):
    refused_filter("address_plan", "count", "203.0.113.0/29", value)
    refused_filter("heap_plan", "count", 64 << 30, value)


CDN_PLANS = {"o1": {"wcs_plan": {"containers": [{"name": "wcs-1", "local_ip": "203.0.113.4"}]}},
             "e1": {"wcs_plan": {"containers": [{"name": "wcs-1", "local_ip": "203.0.113.12"}]}}}
CDN_GROUPS = {"wcs_cdn_origin": ["o1"], "wcs_cdn_edge": ["e1"]}


@pytest.mark.parametrize("options,field", [
    ({"port": [8084]}, "wcs_cdn_port"), ({"port": "8084\x1c"}, "wcs_cdn_port"), ({"port": "\u00b2"}, "wcs_cdn_port"),
    ({"nodes_timeout": {"s": 1}}, "wcs_cdn_nodes_timeout"), ({"nodes_timeout": "6\x1f0"}, "wcs_cdn_nodes_timeout"),
    ({"address": []}, "wcs_cdn_address"), ({"address": {"x": 1}}, "wcs_cdn_address"),
    ({"role_names": "edge"}, "wcs_cdn_role_names"), ({"role_names": {"edge": ["x"]}}, "wcs_cdn_role_names"),
    ({"nodes_resolve_ip": "maybe"}, "wcs_cdn_nodes_resolve_ip"), ({"origin_group": ["a"]}, "wcs_cdn_origin_group"),
    ({"prot": 8084}, "cdn_plan options"), (["port"], "cdn_plan options"), ("port=1", "cdn_plan options")])
def test_cdn_options_of_the_wrong_type_refused(options, field):
    refused_filter("cdn_plan", field, CDN_PLANS, CDN_GROUPS, options=options)


@pytest.mark.parametrize("groups,hosts,field", [
    (["wcs_cdn_origin"], None, "cdn_plan groups"), ("x", None, "cdn_plan groups"),
    ({"wcs_cdn_origin": [["o1"]]}, None, "wcs_cdn_origin_group"), (CDN_GROUPS, 5, "cdn_plan hosts"),
    (CDN_GROUPS, "o1", "cdn_plan hosts"), (CDN_GROUPS, [["o1"]], "cdn_plan hosts")])
def test_cdn_groups_and_hosts_of_the_wrong_type_refused(groups, hosts, field):
    refused_filter("cdn_plan", field, CDN_PLANS, groups, hosts=hosts)


def test_cdn_malformed_plan_refused():
    bad = {"o1": {"wcs_plan": {"containers": "wcs-1"}}}
    refused_filter("cdn_plan", "wcs_plan.containers", bad, CDN_GROUPS)
    bad = {"o1": {"wcs_plan": {"containers": [{"local_ip": "203.0.113.4"}]}}}
    refused_filter("cdn_plan", "wcs_plan.containers", bad, CDN_GROUPS)


def test_false_reads_as_false_everywhere():
    outcome, result = call_filter("cdn_plan", CDN_PLANS, CDN_GROUPS, options={"nodes_resolve_ip": "false"})
    assert outcome == "ok"
    assert result["hosts"]["o1"]["properties"]["wcs-1"]["cdn_nodes_resolve_ip"] is False
    outcome, result = plan(wcs_plan_check_parent="false", wcs_allow_smt_split="False", wcs_rtp_bundle="false",
                           wcs_network_parent="no-such-if0")
    assert outcome == "ok"
    assert result["containers"][0]["capacity"]["limits"]["media_ports"] == 2250  # two ports per stream


def test_fleet_conflicts_hosts_of_the_wrong_type_refused():
    refused_filter("fleet_conflicts", "fleet_conflicts hosts", {"a": {}}, "wcs_plan", 5)
    refused_filter("fleet_conflicts", "fleet_conflicts key", {"a": {}}, ["wcs_plan"])


# -- class 8: one registry -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,value", [("wcs_image", "foo bar"), ("wcs_network_name", "host"),
                                        ("wcs_name_prefix", "-x"), ("wcs_conf_root", "/etc/wcs"),
                                        ("wcs_container_count", "2\x1c"), ("wcs_network_parent", "eth0:1"),
                                        ("wcs_heap", "6q"), ("wcs_cpusets", "0-3;x")])
def test_the_plan_and_the_filter_refuse_the_same_values(name, value):
    refused_plan(name, **{name: value})
    refused_filter("plan_inputs", name, {name: value})


# -- everything else: a result or the project's error ----------------------------------------------------------------
ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 20), st.floats(), st.text(max_size=40),
                     st.just(10 ** 5000),  # repr() of it raises ValueError: error messages must not
                     st.sampled_from(["2\x1c", "\u00b2", "0.0.0.0/1", "::ffff:0.0.0.0", "host", "/etc/x", "..",
                                      "10.0.0.0/8", "203.0.113.4", "false", "1e400"]),
                     st.lists(st.one_of(st.text(max_size=8), st.integers()), max_size=3),
                     st.dictionaries(st.text(max_size=6), st.integers(), max_size=2))


@given(name=st.sampled_from(sorted(INPUTS)), value=ANYTHING)
@settings(max_examples=200, deadline=None)
def test_plan_host_gives_a_plan_or_its_own_error(name, value):
    plan(**{name: value})


@given(options=st.dictionaries(st.sampled_from(["origin_group", "edge_group", "transcoder_group", "address", "port",
                                                "nodes_resolve_ip", "nodes_timeout", "role_names"]), ANYTHING,
                               max_size=3))
@settings(max_examples=150, deadline=None)
def test_cdn_plan_gives_a_plan_or_its_own_error(options):
    call_filter("cdn_plan", CDN_PLANS, CDN_GROUPS, options=options)


@given(values=st.dictionaries(st.sampled_from(sorted(MODEL)), ANYTHING, max_size=3))
@settings(max_examples=200, deadline=None)
def test_plan_inputs_gives_values_or_its_own_error(values):
    call_filter("plan_inputs", values)


@given(network=st.dictionaries(st.sampled_from(["subnet", "gateway", "host_address", "ip_range"]), ANYTHING,
                               max_size=4),
       containers=st.one_of(ANYTHING, st.lists(st.dictionaries(st.sampled_from(["name", "ipv4_address"]), ANYTHING),
                                               max_size=3)))
@settings(max_examples=150, deadline=None)
def test_fleet_conflicts_gives_messages_or_its_own_error(network, containers):
    plans = {"a": {"wcs_plan": {"network": network, "containers": containers}},
             "b": {"wcs_plan": {"network": dict(network), "containers": containers}}}
    call_filter("fleet_conflicts", plans, "wcs_plan", seconds=5.0)


ADDRESS_SPECS = st.one_of(ANYTHING, st.dictionaries(
    st.sampled_from(["subnet", "gateway", "host_address", "ip_range", "addresses"]), ANYTHING, max_size=4))


@given(spec=ADDRESS_SPECS, count=ANYTHING)
@settings(max_examples=200, deadline=None)
def test_address_plan_gives_a_plan_or_its_own_error(spec, count):
    call_filter("address_plan", spec, count)


@given(host=st.one_of(ANYTHING, st.fixed_dictionaries({"memory_bytes": ANYTHING})), count=ANYTHING,
       share=ANYTHING, heap=ANYTHING)
@settings(max_examples=200, deadline=None)
def test_heap_plan_gives_a_plan_or_its_own_error(host, count, share, heap):
    call_filter("heap_plan", host, count, share=share, heap=heap)


@given(values=st.dictionaries(st.sampled_from(sorted(INPUTS)), ANYTHING, max_size=4))
@settings(max_examples=150, deadline=None)
def test_plan_host_with_several_hostile_inputs(values):
    plan(**values)


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_a_number_of_5000_digits_is_refused_or_read_never_traced(name):
    plan(**{name: 10 ** 5000})
    call_filter("plan_inputs", {name: 10 ** 5000})


def test_input_nested_200000_deep_is_refused():
    deep = []
    for _level in range(200000):
        deep = [deep]
    for name, args in (("plan_inputs", ({"wcs_x": deep},)), ("fleet_conflicts", ({"a": deep},)),
                       ("address_plan", ({"subnet": deep},)), ("cdn_plan", ({"a": {"wcs_plan": {"containers": deep}}}, {}))):
        outcome, _answer = call_filter(name, *args)
        assert outcome == "refused", name

"""The CDN plan from inventory groups (plugins/module_utils/cdn.py): tiers, addresses, points of entry, properties,
peers to ask, rollout order, and the refusals (field, value, fix)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.cdn import (
    NO_TIER, TIERS, check_options, node_state, plan_cdn)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError


def plan(host_index, count=1, external=None):
    containers = []
    for i in range(count):
        addr = "203.0.113.%d" % (16 * host_index + 4 + i)
        containers.append({"name": "wcs-%d" % (i + 1), "local_ip": addr, "ipv4_address": addr,
                           "external_ip": (external[i] if external else addr)})
    return {"docker_host": "unix:///run/h%d.sock" % host_index, "containers": containers}


def fleet(*names, count=1):
    return {name: plan(i, count) for i, name in enumerate(names)}


GROUPS = {"wcs_cdn_origin": ["o1", "o2"], "wcs_cdn_edge": ["e1", "e2", "e3"], "wcs_cdn_transcoder": ["t1"]}


def test_roles_addresses_entries_and_properties():
    out = plan_cdn(fleet("o1", "o2", "e1", "e2", "e3", "t1", "plain"), GROUPS)
    hosts = out["hosts"]
    o1, o2 = hosts["o1"]["nodes"]["wcs-1"], hosts["o2"]["nodes"]["wcs-1"]
    assert o1["entry"] is None and o2["entry"] == o1["id"] == "203.0.113.4"  # origins point at the first
    # edges and transcoders point at the origins in turn
    assert [hosts[h]["nodes"]["wcs-1"]["entry"] for h in ("e1", "e2", "e3", "t1")] == [
        o1["id"], o2["id"], o1["id"], o2["id"]]
    props = hosts["e1"]["properties"]["wcs-1"]
    assert props == {"cdn_enabled": True, "cdn_role": "edge", "cdn_ip": hosts["e1"]["nodes"]["wcs-1"]["id"],
                     "cdn_point_of_entry": o1["id"], "cdn_port": 8084, "cdn_nodes_resolve_ip": False,
                     "cdn_nodes_timeout": None}
    assert hosts["o1"]["properties"]["wcs-1"]["cdn_point_of_entry"] is None
    assert hosts["t1"]["properties"]["wcs-1"]["cdn_role"] == "transcoder"
    assert hosts["plain"] == {"tier": NO_TIER, "port": 8084, "peers": [], "properties": {}, "nodes": {}, "table": []}
    assert hosts["e1"]["table"] == ["wcs-1 edge 203.0.113.36 entry=203.0.113.4 asks=o1/wcs-1"]
    assert out["order"] == {"edge": ["e1", "e2", "e3"], "transcoder": ["t1"], "origin": ["o1", "o2"],
                            "none": ["plain"]}


def test_every_container_is_a_node_and_peers_are_the_other_nodes():
    out = plan_cdn(fleet("o1", "e1", count=2), {"wcs_cdn_origin": ["o1"], "wcs_cdn_edge": ["e1"]})
    assert [n["container"] for n in out["nodes"]] == ["wcs-1", "wcs-2", "wcs-1", "wcs-2"]
    o1 = out["hosts"]["o1"]
    assert sorted(o1["properties"]) == ["wcs-1", "wcs-2"]
    assert o1["peers"] == ["203.0.113.20", "203.0.113.21"]  # e1's two containers, not its own
    # the second container of the first origin host is an origin too: it points at the first origin node
    assert o1["nodes"]["wcs-2"]["entry"] == o1["nodes"]["wcs-1"]["id"]


def test_who_is_asked_whether_a_node_is_active():
    out = plan_cdn(fleet("o1", "o2", "e1", "t1"), {"wcs_cdn_origin": ["o1", "o2"], "wcs_cdn_edge": ["e1"],
                                                   "wcs_cdn_transcoder": ["t1"]})

    def node(host):
        return out["hosts"][host]["nodes"]["wcs-1"]

    assert node("e1")["ask"]["host"] == "o1"        # its point of entry
    assert node("t1")["ask"]["host"] == "o2"
    assert node("o1")["ask"]["host"] == "e1"        # an edge that points at it
    assert node("o2")["ask"]["host"] == "t1"        # the transcoder points at it
    assert node("o1")["ask"]["docker_host"] == "unix:///run/h2.sock"
    lone = plan_cdn(fleet("o1"), {"wcs_cdn_origin": ["o1"]})
    assert lone["hosts"]["o1"]["nodes"]["wcs-1"]["ask"] is None


def test_external_address_and_custom_names():
    plans = {"o1": plan(0, external=["192.0.2.10"]), "e1": plan(1, external=["192.0.2.11"])}
    out = plan_cdn(plans, {"orig": ["o1"], "edg": ["e1"]},
                   options={"origin_group": "orig", "edge_group": "edg", "address": "external", "port": 9084,
                            "nodes_resolve_ip": "true", "nodes_timeout": "30"})
    props = out["hosts"]["e1"]["properties"]["wcs-1"]
    assert props["cdn_ip"] == "192.0.2.11" and props["cdn_point_of_entry"] == "192.0.2.10"
    assert props["cdn_port"] == 9084 and props["cdn_nodes_resolve_ip"] is True and props["cdn_nodes_timeout"] == 30


def test_no_groups_no_cdn():
    out = plan_cdn(fleet("a", "b"), {"all": ["a", "b"]})
    assert not out["enabled"] and all(h["properties"] == {} for h in out["hosts"].values())


def test_hosts_outside_the_run_are_left_out():
    out = plan_cdn(fleet("o1", "e1"), {"wcs_cdn_origin": ["o1", "elsewhere"], "wcs_cdn_edge": ["e1"]},
                   hosts=["o1", "e1"])
    assert [n["host"] for n in out["nodes"]] == ["e1", "o1"]


def refused(*args, **kwargs):
    with pytest.raises(PlanError) as err:
        plan_cdn(*args, **kwargs)
    return err.value


def test_a_host_in_two_tier_groups_is_refused():
    err = refused(fleet("o1", "e1"), {"wcs_cdn_origin": ["o1", "e1"], "wcs_cdn_edge": ["e1"]})
    assert err.field == "wcs_cdn_origin_group" and err.value == "e1"
    assert "one CDN group only" in err.fix and "wcs_cdn_edge" in err.fix


def test_an_edge_without_an_origin_is_refused():
    err = refused(fleet("e1"), {"wcs_cdn_edge": ["e1"]})
    assert err.field == "wcs_cdn_origin_group" and "at least one" in err.fix and "e1" in str(err)
    # the origin exists but is not planned in this run (--limit)
    err = refused(fleet("o1", "e1"), {"wcs_cdn_origin": ["o1"], "wcs_cdn_edge": ["e1"]}, hosts=["e1"])
    assert "o1 left out" in err.fix


def test_two_nodes_with_one_address_are_refused():
    plans = {"o1": plan(0, external=["192.0.2.10"]), "e1": plan(1, external=["192.0.2.10"])}
    err = refused(plans, {"wcs_cdn_origin": ["o1"], "wcs_cdn_edge": ["e1"]}, options={"address": "external"})
    assert err.field == "wcs_cdn_address" and "192.0.2.10" in err.fix


@pytest.mark.parametrize("options, field", [
    ({"port": 0}, "wcs_cdn_port"),
    ({"port": "http"}, "wcs_cdn_port"),
    ({"port": True}, "wcs_cdn_port"),
    ({"address": "public"}, "wcs_cdn_address"),
    ({"nodes_resolve_ip": "maybe"}, "wcs_cdn_nodes_resolve_ip"),
    ({"nodes_timeout": -1}, "wcs_cdn_nodes_timeout"),
    ({"edge_group": "wcs_cdn_origin"}, "wcs_cdn_origin_group"),
    ({"edge_group": "two words"}, "wcs_cdn_edge_group"),
    ({"role_names": {"relay": "relay"}}, "wcs_cdn_role_names"),
    ({"role_names": {"transcoder": "trans coder\n"}}, "wcs_cdn_role_names.transcoder"),
])
def test_bad_options_name_the_variable(options, field):
    with pytest.raises(PlanError) as err:
        check_options(options)
    assert err.value.field == field and err.value.fix


def test_node_state_reads_show_nodes():
    nodes = [{"id": "203.0.113.4", "role": "ORIGIN", "globalState": "ACTIVE",
              "processingState": "NEW_STREAMS_ALLOWED"},
             {"id": "203.0.113.20", "role": "EDGE", "globalState": "PASSIVE",
              "processingState": "NEW_STREAMS_ALLOWED"}]
    assert node_state(nodes, "203.0.113.4")[0] is True
    assert node_state(nodes, "203.0.113.20") == (False, nodes[1])
    assert node_state(nodes, "203.0.113.99") == (False, {})
    assert node_state(nodes, "203.0.113.20", {"globalState": "PASSIVE"})[0] is True
    assert node_state(None, "x") == (False, {})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(TIERS + (NO_TIER,)), min_size=1, max_size=8), st.integers(1, 3))
def test_any_layout_with_an_origin_plans_every_node_once(tiers, count):
    names = ["h%d" % i for i in range(len(tiers))]
    groups = {"wcs_cdn_%s" % t: [n for n, tt in zip(names, tiers) if tt == t] for t in TIERS}
    if any(t in ("edge", "transcoder") for t in tiers) and "origin" not in tiers:
        with pytest.raises(PlanError):
            plan_cdn(fleet(*names, count=count), groups)
        return
    out = plan_cdn(fleet(*names, count=count), groups)
    ids = [n["id"] for n in out["nodes"]]
    assert len(ids) == len(set(ids)) == count * sum(t != NO_TIER for t in tiers)
    origin_ids = {n["id"] for n in out["nodes"] if n["tier"] == "origin"}
    for node in out["nodes"]:
        assert node["entry"] is None or node["entry"] in origin_ids
        assert node["entry"] != node["id"]
    assert sum(len(v) for v in out["order"].values()) == len(names)


@pytest.mark.parametrize("answer", [None, 5, "ACTIVE", {"id": "203.0.113.4"}, [5, "x", None], [{"id": ["x"]}]])
def test_node_state_of_a_malformed_answer_lists_no_node(answer):
    assert node_state(answer, "203.0.113.4") == (False, {})

"""The whole per-host plan from inputs (plugins/module_utils/host_plan.py): the shape, and one test per error.

Every error names the role variable the user typed, the bad value and the fix.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.cpu_plan import parse_cpuset, reserved_cpus
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.host_plan import (
    container_items, plan_host, plan_table)
from ansible_collections.mediaops.wcs.plugins.module_utils.topology import read_topology

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "topology"
EXAMPLE = Path(__file__).resolve().parents[4] / "inventories" / "example" / "topology.orig"
ALL_FIXTURES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def topology(name):
    return read_topology(str(EXAMPLE if name == "example" else FIXTURES / name))


def base(**changes):
    inputs = {"wcs_network_parent": "eno1", "wcs_network_block": "203.0.113.0/29", "wcs_plan_check_parent": False}
    inputs.update(changes)
    return inputs


def error(topo, **changes):
    with pytest.raises(PlanError) as err:
        plan_host(topo, base(**changes), host="h")
    return err.value


def test_article_host_plan():
    inputs = base(wcs_plan_check_parent=True, wcs_name_prefix="wcs-docker-test-", wcs_network_name="new-testnet")
    plan = plan_host(topology("example"), inputs, host="wcs-example-1")
    assert plan["host"] == "wcs-example-1"
    assert plan["reserved_cpus"] == "0,10,20,30"
    assert plan["idle_cpus"] == ""
    assert plan["network"] == {"name": "new-testnet", "driver": "ipvlan", "mode": "l2", "parent": "eno1",
                               "subnet": "203.0.113.0/29", "gateway": "203.0.113.1", "ip_range": "203.0.113.3/32",
                               "host_address": "203.0.113.2", "spares": ["203.0.113.6"]}
    first, second = plan["containers"]
    assert first == {"name": "wcs-docker-test-1", "image": "flashphoner/webcallserver:latest",
                     "cpuset": "1-9,21-29", "cpuset_mems": "0", "cores": 9, "numa_nodes": [0], "sockets": [0],
                     "l3_groups": 1,
                     "ipv4_address": "203.0.113.4", "local_ip": "203.0.113.4", "external_ip": "203.0.113.4",
                     "heap": "64g", "memory": "80g", "conf_dir": "/opt/wcs/wcs-docker-test-1/conf",
                     "capacity": {"limits": {"media_ports": 2250, "cpu": 900, "heap": 8192, "nofile": 4488},
                                  "streams": 900, "binding": "cpu"}}
    assert (second["cpuset"], second["cpuset_mems"], second["ipv4_address"]) == ("11-19,31-39", "1", "203.0.113.5")


def test_survey_strings_are_read_like_typed_values():
    topo = topology("big-2x10x2")
    typed = plan_host(topo, base(wcs_container_count=2, wcs_cpusets=["1-9", "11-19"], wcs_reserved_cpus=[0, 10],
                                 wcs_external_addresses=["192.0.2.10", "192.0.2.11"]))
    survey = plan_host(topo, base(wcs_container_count="2", wcs_cpusets="1-9; 11-19", wcs_reserved_cpus="0,10",
                                  wcs_external_addresses="192.0.2.10, 192.0.2.11", wcs_allow_smt_split="false"))
    assert typed == survey
    assert [c["external_ip"] for c in typed["containers"]] == ["192.0.2.10", "192.0.2.11"]


@pytest.mark.parametrize("name", ALL_FIXTURES + ["example"])
def test_reserved_idle_and_planned_cpus_partition_the_online_cpus(name):
    """The host keeps exactly the reserve the planner used: never a planned CPU, never an isolated one."""
    topo = topology(name)
    count = 1
    plan = plan_host(topo, base(wcs_container_count=count))
    online = {c["id"] for c in topo["cpus"]}
    planned = [set(parse_cpuset(c["cpuset"])) for c in plan["containers"]]
    kept = set(parse_cpuset(plan["reserved_cpus"]))
    idle = set(parse_cpuset(plan["idle_cpus"]))
    assert kept == set(reserved_cpus(topo))
    assert not kept & set().union(*planned) and not idle & kept
    assert kept | idle | set().union(*planned) == online
    assert idle <= set(topo["isolated"]) | {s for c in topo["cpus"] if c["id"] in topo["isolated"]
                                            for s in c["siblings"]}
    assert any(plan["reserved_cpus"] in line for line in plan_table(plan))


def test_isolcpus_host_keeps_its_reserve_not_the_isolated_cpus():
    """1.0.0 reported online minus planned (0,2,3,8,10,11) while the reserve is 0,8."""
    plan = plan_host(topology("isolcpus"), base(wcs_container_count=1))
    assert plan["reserved_cpus"] == "0,8"
    assert plan["idle_cpus"] == "2-3,10-11"
    assert "CPUs 2-3,10-11 left idle (isolated)" in plan_table(plan)[-1]


def test_table_rows_and_memory_nodes_when_fewer_containers_than_nodes():
    plan = plan_host(topology("big-2x10x2"), base(wcs_container_count=1))
    table = plan_table(plan)
    assert table[0].split() == ["name", "cpuset", "cores", "mems", "sockets", "l3", "address", "heap", "memory",
                                "capacity", "(binding", "limit)"]
    assert table[1].endswith("%d (%s)" % (plan["containers"][0]["capacity"]["streams"],
                                          plan["containers"][0]["capacity"]["binding"]))
    assert table[1].split()[0] == "wcs-1"
    assert table[-1] == "2 NUMA nodes for 1 container(s): wcs-1 memory on node(s) %s" % (
        plan["containers"][0]["cpuset_mems"])


def test_container_items_are_what_wcs_containers_takes():
    plan = plan_host(topology("big-2x10x2"), base())
    items = container_items(plan, restart=["wcs-2"])
    assert [i["restart"] for i in items] == [False, True]
    assert set(items[0]) == {"name", "image", "cpuset", "cpuset_mems", "ipv4_address", "local_ip", "external_ip",
                             "conf_dir", "memory", "restart"}


def test_block_with_explicit_gateway_keeps_the_gateway():
    plan = plan_host(topology("big-2x10x2"), base(wcs_network_gateway="203.0.113.6"))
    assert plan["network"]["gateway"] == "203.0.113.6"


def test_explicit_memory_limit_is_used():
    plan = plan_host(topology("big-2x10x2"), base(wcs_heap="8g", wcs_memory_limit="12g"))
    assert [c["memory"] for c in plan["containers"]] == ["12g", "12g"]


# One test per error: (inputs, field named, words of the message).
ERRORS = {
    "count not whole": ({"wcs_container_count": "1.5"}, "wcs_container_count", "whole number"),
    "count a boolean": ({"wcs_container_count": True}, "wcs_container_count", "whole number"),
    "count zero": ({"wcs_container_count": 0}, "wcs_container_count", "whole number"),
    "count huge": ({"wcs_container_count": 10 ** 30}, "wcs_container_count", "whole number"),
    "more containers than cores": ({"wcs_container_count": 40}, "wcs_container_count", "free cores"),
    "name prefix with newline": ({"wcs_name_prefix": "wcs-\n"}, "wcs_name_prefix", "Docker container name"),
    "name prefix not a docker name": ({"wcs_name_prefix": "-wcs"}, "wcs_name_prefix", "Docker container name"),
    "network name": ({"wcs_network_name": "net work"}, "wcs_network_name", "Docker network name"),
    "driver": ({"wcs_network_driver": "bridge"}, "wcs_network_driver", "ipvlan or macvlan"),
    "mode for the driver": ({"wcs_network_mode": "bridge"}, "wcs_network_mode", "l2, l3, l3s"),
    "parent empty": ({"wcs_network_parent": ""}, "wcs_network_parent", "ip link"),
    "parent with separator": ({"wcs_network_parent": "eth0\u2028"}, "wcs_network_parent", "as `ip link` shows it"),
    "no block": ({"wcs_network_block": ""}, "wcs_network_block", "set wcs_network_block"),
    "block and subnet disagree": ({"wcs_network_subnet": "203.0.113.8/29"}, "wcs_network_subnet", "not both"),
    "block with host bits": ({"wcs_network_block": "203.0.113.1/29"}, "wcs_network_block", "network address"),
    "address outside": ({"wcs_container_addresses": "203.0.113.4,203.0.113.99"}, "wcs_container_addresses[1]",
                        "outside the subnet"),
    "addresses count": ({"wcs_container_addresses": ["203.0.113.4"]}, "wcs_container_addresses",
                        "exactly one per container"),
    "external not an address": ({"wcs_external_addresses": "x,y"}, "wcs_external_addresses[0]", "IPv4 address"),
    "gateway outside": ({"wcs_network_gateway": "192.0.2.1"}, "wcs_network_gateway", "outside the subnet"),
    "overlapping cpusets": ({"wcs_cpusets": "1-9;9-12"}, "wcs_cpusets", "share CPU(s) 9"),
    "offline cpuset": ({"wcs_cpusets": "1-9;50-52"}, "wcs_cpusets", "not online"),
    "cpuset on the host's reserve": ({"wcs_cpusets": "0-3;11-12"}, "wcs_cpusets", "kept for the host"),
    "cpusets count": ({"wcs_cpusets": "1-9"}, "wcs_cpusets", "exactly one per container"),
    "cpuset syntax": ({"wcs_cpusets": "1-x;11-12"}, "wcs_cpusets[0]", "ranges separated by commas"),
    "reserved offline": ({"wcs_reserved_cpus": "0,99"}, "wcs_reserved_cpus", "not online"),
    "heap syntax": ({"wcs_heap": "lots"}, "wcs_heap", "size such as"),
    "heap larger than RAM": ({"wcs_heap": "200g"}, "wcs_heap", "more than host RAM"),
    "heap share": ({"wcs_heap_share": 2}, "wcs_heap_share", "fraction"),
    "memory limit below heap": ({"wcs_heap": "8g", "wcs_memory_limit": "4g"}, "wcs_memory_limit", "below the heap"),
    "conf root relative": ({"wcs_conf_root": "opt/wcs"}, "wcs_conf_root", "absolute path"),
    "conf root is /": ({"wcs_conf_root": "/"}, "wcs_conf_root", "system directory"),
    "image empty": ({"wcs_image": ""}, "wcs_image", "give a value"),
    "image with newline": ({"wcs_image": "wcs:1\n"}, "wcs_image", "U+000A"),
    "smt flag": ({"wcs_allow_smt_split": "maybe"}, "wcs_allow_smt_split", "true or false"),
    "unknown variable": ({"wcs_cpu_count": 3}, "plan inputs", "documented variables"),
    # capacity plan (module_utils/capacity.py)
    "media port not a port": ({"wcs_media_port_to": 70000}, "wcs_media_port_to", "UDP port number"),
    "media range reversed": ({"wcs_media_port_from": 40000, "wcs_media_port_to": 31000}, "wcs_media_port_from",
                             "<= wcs_media_port_to"),
    "rtp_bundle not a flag": ({"wcs_rtp_bundle": "sometimes"}, "wcs_rtp_bundle", "true, false"),
    "compact not a flag": ({"wcs_compact_media_port_usage": "2"}, "wcs_compact_media_port_usage", "true, false"),
    "nofile zero": ({"wcs_nofile_limit": 0}, "wcs_nofile_limit", "nofile ulimit"),
    "streams per core negative": ({"wcs_capacity_streams_per_core": -1}, "wcs_capacity_streams_per_core",
                                  "0 leaves this limit out"),
    "heap per stream syntax": ({"wcs_capacity_heap_per_stream": "a lot"}, "wcs_capacity_heap_per_stream",
                               "size such as"),
    "fds per stream fraction": ({"wcs_capacity_fds_per_stream": 1.5}, "wcs_capacity_fds_per_stream", ">= 0"),
    "expected streams negative": ({"wcs_expected_streams": -5}, "wcs_expected_streams", "whole number >= 0"),
    "expected streams a list": ({"wcs_expected_streams": [1, 2]}, "wcs_expected_streams", "mapping of container"),
    "expected streams unknown container": ({"wcs_expected_streams": {"wcs-9": 10}}, "wcs_expected_streams",
                                           "planned on this host: wcs-1, wcs-2"),
    "expected streams bad value in the map": ({"wcs_expected_streams": {"wcs-1": "many"}},
                                              "wcs_expected_streams.wcs-1", "whole number >= 0"),
    "expected streams above a limit": ({"wcs_expected_streams": 100000}, "wcs_expected_streams",
                                       "binding limit"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_each_bad_input_names_variable_value_and_fix(case):
    changes, field, words = ERRORS[case]
    err = error(topology("big-2x10x2"), **changes)
    assert err.field == field, str(err)
    assert str(err).startswith(field + ": ") and "Fix: " in str(err) and words in str(err), str(err)


def test_parent_is_checked_against_the_host_interfaces():
    topo = topology("big-2x10x2")
    err = error(topo, wcs_network_parent="ens9", wcs_plan_check_parent=True)
    assert err.field == "wcs_network_parent" and "no such interface" in str(err) and "Fix: use one of" in str(err)
    bridge = [i["name"] for i in topo["interfaces"] if i["kind"] == "bridge"]
    if bridge:
        err = error(topo, wcs_network_parent=bridge[0], wcs_plan_check_parent=True)
        assert "cannot carry an ipvlan network" in str(err)


def test_no_topology_is_an_error_not_a_traceback():
    with pytest.raises(PlanError) as err:
        plan_host({}, base())
    assert err.value.field == "topology"

"""Planning filters: registered names, results equal to module_utils, PlanError -> AnsibleFilterError."""
from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mediaops.wcs.plugins.filter.converge import FilterModule as ConvergeFilters
from ansible_collections.mediaops.wcs.plugins.filter.hooks import FilterModule as HooksFilters
from ansible_collections.mediaops.wcs.plugins.filter.planning import FilterModule
from ansible_collections.mediaops.wcs.plugins.module_utils.topology import read_topology

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "topology"
FILTERS = FilterModule().filters()
DOCUMENTED = sorted(p.stem for p in (Path(__file__).resolve().parents[4] / "plugins" / "filter").glob("*.yml"))


def test_every_filter_is_documented():
    assert sorted(list(FILTERS) + list(ConvergeFilters().filters()) + list(HooksFilters().filters())) == DOCUMENTED


def test_rollout_hooks_filter():
    hooks = HooksFilters().filters()["rollout_hooks"]
    spec = {"before_drain": [{"url": "http://lb/${name}"}]}
    assert hooks(spec)["before_drain"][0]["method"] == "POST"
    assert hooks(spec, "before_drain", {"name": "wcs-1"})[0]["url"] == "http://lb/wcs-1"
    with pytest.raises(AnsibleFilterError, match=r"mediaops.wcs.rollout_hooks: wcs_rollout_hooks.before_drain\[0\]"
                       r".url: 'ftp://x' is wrong. Fix: give an http"):
        hooks({"before_drain": [{"url": "ftp://x"}]})


def test_cpu_filters_on_the_big_host():
    topo = read_topology(str(FIXTURES / "big-2x10x2"))
    assert FILTERS["cpu_split"](topo, 2) == ["1-9,21-29", "11-19,31-39"]
    assert FILTERS["cpu_plan"](topo, 2)[1]["mems"] == "1"
    assert FILTERS["cpu_reserved"](topo) == "0,10,20,30"
    # An explicit reserve replaces the default one.
    assert FILTERS["cpu_split"](topo, 1, reserved="0-9,20-29") == ["10-19,30-39"]


def test_cpuset_filters():
    assert FILTERS["cpuset_format"]([3, 0, 1, 2, 8]) == "0-3,8"
    assert FILTERS["cpuset_parse"]("0-3,8") == [0, 1, 2, 3, 8]


def test_address_and_fleet_filters_with_hostvars_key():
    plan = FILTERS["address_plan"]("203.0.113.0/29", 2)
    hostvars = {"a": {"wcs_addresses": plan}, "b": {"wcs_addresses": plan}, "c": {}}
    assert len(FILTERS["fleet_conflicts"](hostvars, key="wcs_addresses")) == 4
    assert FILTERS["fleet_conflicts"](hostvars, key="wcs_addresses", hosts=["a", "c"]) == []


def test_heap_filter_takes_topology_or_bytes():
    topo = read_topology(str(FIXTURES / "big-2x10x2"))
    assert FILTERS["heap_plan"](topo, 2)[0]["heap"] == "64g"
    assert FILTERS["heap_plan"](24 << 30, 2, heap="4g")[0]["memory"] == "5g"


@pytest.mark.parametrize("name,args,words", [
    ("cpu_split", ({"cpus": []}, 1), "mediaops.wcs.cpu_split: topology"),
    ("cpu_split", ("two-cpu", 2), "mediaops.wcs.cpu_split: count: 2 is wrong"),
    ("address_plan", ("203.0.113.0/29", 4), "mediaops.wcs.address_plan: subnet"),
    ("heap_plan", ({"cpus": []}, 2), "mediaops.wcs.heap_plan: topology.memory_bytes"),
    ("cpuset_parse", ("1-x",), "mediaops.wcs.cpuset_parse"),
])
def test_errors_become_filter_errors(name, args, words):
    if args[0] == "two-cpu":
        args = (read_topology(str(FIXTURES / "two-cpu")),) + args[1:]
    with pytest.raises(AnsibleFilterError) as err:
        FILTERS[name](*args)
    assert words in str(err.value) and "Fix:" in str(err.value)


def test_container_items_only_empty_text_means_all_and_empty_list_none():
    """ansible-core < 2.19 renders a Jinja `none` as '': the converge role's "all containers" must still be all."""
    plan = {"containers": [{"name": n, "image": "i", "cpuset": "0", "cpuset_mems": "0", "ipv4_address": "a",
                            "local_ip": "a", "external_ip": "a", "conf_dir": "/c", "memory": "1g"}
                           for n in ("wcs-1", "wcs-2")]}
    items = FILTERS["container_items"]
    assert [i["name"] for i in items(plan, only="")] == ["wcs-1", "wcs-2"]
    assert [i["name"] for i in items(plan, only=None)] == ["wcs-1", "wcs-2"]
    assert [i["name"] for i in items(plan, only=["wcs-2"])] == ["wcs-2"]
    assert items(plan, only=[]) == []

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-host plan (``wcs_plan``): one pure function from the host's topology and the plan role's inputs.

Pure Python (no Ansible, no Docker). It is the only place that turns the role's variables into a plan: the CPU
split (``cpu_plan``), the addresses (``address_plan``) and the heap (``heap_plan``) are called from here, every
input is checked here, and every error is a ``PlanError`` whose field is the role variable the user typed
(``wcs_container_count``, ``wcs_cpusets``, ...). The action plugin ``mediaops.wcs.wcs_plan`` calls
``plan_host`` once per host; roles only pass variables. Shape of the result: docs/design.md ("Plan fact").

Inputs are survey-friendly: numbers and booleans may come as strings, lists as comma-separated strings
(``wcs_cpusets``: ``;``-separated, since a cpuset holds commas).
"""
from __future__ import annotations

import contextlib

from ansible_collections.mediaops.wcs.plugins.module_utils import address_plan as _address
from ansible_collections.mediaops.wcs.plugins.module_utils import capacity as _capacity
from ansible_collections.mediaops.wcs.plugins.module_utils import cpu_plan as _cpu
from ansible_collections.mediaops.wcs.plugins.module_utils import heap_plan as _heap
from ansible_collections.mediaops.wcs.plugins.module_utils import inputs as _model
from ansible_collections.mediaops.wcs.plugins.module_utils import validate
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

NETWORK_MODES = _model.NETWORK_MODES
DEFAULT_MODE = _model.DEFAULT_MODE
MAX_CONTAINERS = _model.MAX_CONTAINERS

# The role variables the plan reads, with their defaults (roles/plan/defaults/main.yml, or the config / containers
# role's for the capacity inputs they own): the plan inputs of the one model (module_utils/inputs.py). The action
# plugin's options are these names without the wcs_ prefix.
INPUTS = _model.defaults("plan")

# Fields of the planners' own errors -> the role variable behind them.
_CPU_FIELDS = {"count": "wcs_container_count", "reserved": "wcs_reserved_cpus"}
_HEAP_FIELDS = {"count": "wcs_container_count", "heap": "wcs_heap", "share": "wcs_heap_share",
                "memory_bytes": "host memory (topology memory_bytes)"}
_ADDRESS_FIELDS = {"count": "wcs_container_count", "gateway": "wcs_network_gateway",
                   "host_address": "wcs_host_address", "ip_range": "wcs_network_ip_range",
                   "addresses": "wcs_container_addresses"}


@contextlib.contextmanager
def _fields(mapping):
    """Re-raise a planner's PlanError under the role variable the user typed (``heap[1]`` -> ``wcs_heap[1]``)."""
    try:
        yield
    except PlanError as err:
        base, bracket, rest = str(err.field).partition("[")
        if base in mapping:
            raise PlanError(mapping[base] + bracket + rest, err.value, err.fix, why=err.why) from None
        raise


def _one_per_container(items, field, count):
    if items and len(items) != count:
        raise PlanError(field, items, "give none, or exactly one per container (wcs_container_count=%d)" % count,
                        why="%d item(s) for %d container(s)" % (len(items), count))
    return items


def read_inputs(raw):
    """The role's variables, each through its declared kind (inputs.MODEL), then what they mean for each other;
    unknown keys are refused (a typo is an error, not a default)."""
    if not isinstance(raw, dict):
        raise PlanError("plan inputs", type(raw).__name__, "give a mapping of role variable to value")
    unknown = sorted(set(map(str, raw)) - set(INPUTS))
    if unknown:
        raise PlanError("plan inputs", unknown, "use only the documented variables: %s" % ", ".join(sorted(INPUTS)),
                        why="unknown name(s)")
    nullable = ("wcs_reserved_cpus", "wcs_rtp_bundle", "wcs_compact_media_port_usage", "wcs_expected_streams")
    given = dict(INPUTS, **{k: v for k, v in raw.items() if v is not None or k in nullable})
    value = {name: _model.check(name, given[name]) for name in sorted(INPUTS)}
    count = value["wcs_container_count"]
    prefix = value["wcs_name_prefix"]
    validate.check_docker_name(prefix + str(count), "wcs_name_prefix")
    driver = value["wcs_network_driver"]
    mode = value["wcs_network_mode"] or DEFAULT_MODE[driver]
    if mode not in NETWORK_MODES[driver]:
        raise PlanError("wcs_network_mode", mode, "use one of %s for %s (or leave it empty for %s)"
                        % (", ".join(NETWORK_MODES[driver]), driver, DEFAULT_MODE[driver]))
    block, subnet = value["wcs_network_block"], value["wcs_network_subnet"]
    if not block and not subnet:
        raise PlanError("wcs_network_block", block, "set wcs_network_block (e.g. 203.0.113.0/29) or "
                        "wcs_network_subnet with the explicit layout")
    if block and subnet and block != subnet:
        raise PlanError("wcs_network_subnet", subnet, "set wcs_network_block or wcs_network_subnet, not both",
                        why="wcs_network_block is %s" % block)
    # the parent is optional for the plan_inputs filter, required to plan a network
    parent = validate.check_interface_name(value["wcs_network_parent"], "wcs_network_parent")
    inputs = {
        "count": count,
        "prefix": prefix,
        "image": value["wcs_image"],
        "docker_host": value["wcs_docker_host"],
        "network_name": value["wcs_network_name"],
        "driver": driver,
        "mode": mode,
        "parent": parent,
        "subnet": subnet or block,
        "subnet_field": "wcs_network_subnet" if subnet else "wcs_network_block",
        "gateway": value["wcs_network_gateway"],
        "ip_range": value["wcs_network_ip_range"],
        "host_address": value["wcs_host_address"],
        "addresses": _one_per_container(value["wcs_container_addresses"], "wcs_container_addresses", count),
        "external": _one_per_container(value["wcs_external_addresses"], "wcs_external_addresses", count),
        "reserved": value["wcs_reserved_cpus"],
        "cpusets": _one_per_container(value["wcs_cpusets"], "wcs_cpusets", count),
        "allow_smt_split": value["wcs_allow_smt_split"],
        "heap": value["wcs_heap"] or None,
        "heap_share": value["wcs_heap_share"],
        "memory_limit": value["wcs_memory_limit"] or None,
        "conf_root": value["wcs_conf_root"],
        "check_parent": value["wcs_plan_check_parent"],
        "capacity": _capacity.read_capacity_inputs(value),
        "expected_streams": value["wcs_expected_streams"],
    }
    return inputs


def _parent_problem(topology, parent, driver):
    """Why ``parent`` cannot carry the network on this host, or None."""
    interfaces = topology.get("interfaces") or []
    found = [i for i in interfaces if i.get("name") == parent]
    if not found:
        return "no such interface", interfaces
    if not found[0].get("can_be_parent"):
        return ("a %s interface in state %s cannot carry an %s network"
                % (found[0].get("kind"), found[0].get("state"), driver)), interfaces
    return None, interfaces


def check_parent(topology, inputs):
    problem, interfaces = _parent_problem(topology, inputs["parent"], inputs["driver"])
    if problem:
        usable = [i["name"] for i in interfaces if i.get("can_be_parent")]
        raise PlanError("wcs_network_parent", inputs["parent"],
                        "use one of %s" % (", ".join(usable) or "(none found: check the host's interfaces)"),
                        why=problem)


def _names(inputs):
    return ["%s%d" % (inputs["prefix"], i + 1) for i in range(inputs["count"])]


def _core_cpus(topology):
    """CPU id -> the CPU ids of its core (online siblings, itself included)."""
    online = {int(c["id"]) for c in topology["cpus"]}
    cores = {}
    for cpu in topology["cpus"]:
        siblings = set(_cpu.parse_cpuset(cpu.get("siblings") or [cpu["id"]], "topology.cpus.siblings")) & online
        cores[int(cpu["id"])] = sorted(siblings | {int(cpu["id"])})
    return cores


def kept_for_host(topology, reserved, allow_smt_split):
    """The CPUs the host keeps: the default reserve, or the given one widened to whole cores (a half-kept core
    would be shared between the host and a container) unless SMT siblings may be split."""
    with _fields(_CPU_FIELDS):
        if reserved is None:
            return set(_cpu.reserved_cpus(topology))
        ids = set(_cpu.parse_cpuset(reserved, "reserved"))
    if allow_smt_split:
        return ids
    cores = _core_cpus(topology)
    return {c for cpu in ids if cpu in cores for c in cores[cpu]} | ids


def explicit_cpu_plan(topology, inputs, names):
    """The operator's wcs_cpusets, refused when they overlap, are offline, empty or kept for the host."""
    online = {int(c["id"]) for c in topology["cpus"]}
    node_of = {int(c["id"]): int(c.get("node") or 0) for c in topology["cpus"]}
    socket_of = {int(c["id"]): int(c.get("socket") or 0) for c in topology["cpus"]}
    l3_of = _l3_groups(topology)
    kept = kept_for_host(topology, inputs["reserved"], inputs["allow_smt_split"])
    sets = [_cpu.parse_cpuset(text, "wcs_cpusets[%d]" % i) for i, text in enumerate(inputs["cpusets"])]
    shown = [_cpu.format_cpuset(ids) for ids in sets]
    problems = []
    for i, ids in enumerate(sets):
        for j in range(i + 1, len(sets)):
            common = sorted(set(ids) & set(sets[j]))
            if common:
                problems.append("%s (%s) and %s (%s) share CPU(s) %s"
                                % (names[i], shown[i], names[j], shown[j], _cpu.format_cpuset(common)))
    if problems:
        raise PlanError("wcs_cpusets", inputs["cpusets"], "give every container its own cores (disjoint cpusets), "
                        "or leave wcs_cpusets empty for the computed split", why="; ".join(problems))
    everything = set().union(*sets) if sets else set()
    if any(not ids for ids in sets):
        raise PlanError("wcs_cpusets", inputs["cpusets"], "give at least one CPU per container",
                        why="an entry is empty")
    offline = sorted(everything - online)
    if offline:
        raise PlanError("wcs_cpusets", inputs["cpusets"], "use online CPUs only (online: %s)"
                        % _cpu.format_cpuset(online), why="CPU(s) %s are not online" % _cpu.format_cpuset(offline))
    clash = sorted(everything & kept)
    if clash:
        raise PlanError("wcs_cpusets", inputs["cpusets"], "pick other CPUs or change wcs_reserved_cpus (now %s)"
                        % (_cpu.format_cpuset(kept) or "nothing"),
                        why="CPU(s) %s are kept for the host" % _cpu.format_cpuset(clash))
    cores = _core_cpus(topology)
    plans = []
    for ids in sets:
        nodes = sorted({node_of[c] for c in ids})
        plans.append({"cpuset": _cpu.format_cpuset(ids), "cpus": ids, "mems": _cpu.format_cpuset(nodes),
                      "nodes": nodes, "sockets": sorted({socket_of[c] for c in ids}),
                      "l3_groups": len({l3_of[c] for c in ids}), "cores": len({tuple(cores[c]) for c in ids})})
    return plans


def computed_cpu_plan(topology, inputs):
    with _fields(_CPU_FIELDS):
        plans = _cpu.plan_cpus(topology, inputs["count"], reserved=inputs["reserved"],
                               allow_smt_split=inputs["allow_smt_split"])
    socket_of = {int(c["id"]): int(c.get("socket") or 0) for c in topology["cpus"]}
    l3_of = _l3_groups(topology)
    for plan in plans:
        plan.setdefault("sockets", sorted({socket_of[c] for c in plan["cpus"]}))
        plan.setdefault("l3_groups", len({l3_of[c] for c in plan["cpus"]}))
    return plans


def _l3_groups(topology):
    """CPU id -> its L3 group (the topology's ``l3``; without one, the socket: one L3 per socket)."""
    return {int(c["id"]): ("l3", c["l3"]) if c.get("l3") is not None else ("socket", int(c.get("socket") or 0))
            for c in topology["cpus"]}


def address_spec(inputs):
    """What address_plan lays out: the block alone (article layout) or the explicit parts given."""
    explicit = {key: inputs[key] for key in ("gateway", "ip_range", "host_address") if inputs[key]}
    if inputs["addresses"]:
        explicit["addresses"] = inputs["addresses"]
    if not explicit:
        return inputs["subnet"]
    return dict(explicit, subnet=inputs["subnet"])


def addresses(inputs):
    fields = dict(_ADDRESS_FIELDS, subnet=inputs["subnet_field"])
    with _fields(fields):
        return _address.plan_addresses(address_spec(inputs), inputs["count"])


def heaps(topology, inputs):
    with _fields(_HEAP_FIELDS):
        plans = _heap.plan_heap(topology.get("memory_bytes") or 0, inputs["count"], share=inputs["heap_share"],
                                heap=inputs["heap"])
    if inputs["memory_limit"]:
        with _fields({"memory_limit": "wcs_memory_limit"}):
            limit = _heap.parse_size(inputs["memory_limit"], "memory_limit")
        small = [p for p in plans if limit < p["heap_bytes"]]
        if small:
            raise PlanError("wcs_memory_limit", inputs["memory_limit"],
                            "give at least the heap plus room for the JVM outside it (planned: %s), or leave it "
                            "empty for the computed limit" % plans[0]["memory"],
                            why="it is below the heap of %s" % small[0]["heap"])
        for plan in plans:
            plan["memory"], plan["memory_bytes"] = inputs["memory_limit"], limit
    return plans


def plan_host(topology, raw_inputs, host=None):
    """The whole ``wcs_plan`` of one host. Raises PlanError (field = the role variable) on any bad input."""
    if not isinstance(topology, dict) or not topology.get("cpus"):
        raise PlanError("topology", None, "gather it with mediaops.wcs.host_facts (or point wcs_host_facts_root "
                        "at a recorded tree)", why="it has no CPUs")
    inputs = read_inputs(raw_inputs)
    if inputs["check_parent"]:
        check_parent(topology, inputs)
    names = _names(inputs)
    cpus = explicit_cpu_plan(topology, inputs, names) if inputs["cpusets"] else computed_cpu_plan(topology, inputs)
    layout = addresses(inputs)
    sizes = heaps(topology, inputs)
    online = sorted(int(c["id"]) for c in topology["cpus"])
    planned = {c for plan in cpus for c in plan["cpus"]}
    kept = kept_for_host(topology, inputs["reserved"], inputs["allow_smt_split"]) - planned
    idle = set(online) - planned - kept
    containers = []
    for index, name in enumerate(names):
        address = layout["containers"][index]
        containers.append({
            "name": name,
            "image": inputs["image"],
            "cpuset": cpus[index]["cpuset"],
            "cpuset_mems": cpus[index]["mems"],
            "cores": cpus[index]["cores"],
            "numa_nodes": cpus[index]["nodes"],
            "sockets": cpus[index]["sockets"],
            "l3_groups": cpus[index]["l3_groups"],
            "ipv4_address": address,
            "local_ip": address,
            "external_ip": inputs["external"][index] if inputs["external"] else address,
            "heap": sizes[index]["heap"],
            "memory": sizes[index]["memory"],
            "conf_dir": "%s/%s/conf" % (inputs["conf_root"].rstrip("/"), name),
            "capacity": _capacity.container_capacity(cpus[index]["cores"], sizes[index]["heap_bytes"],
                                                     inputs["capacity"]),
        })
    _capacity.check_expected(containers, _capacity.read_expected(inputs["expected_streams"], names),
                             inputs["capacity"])
    return {
        "host": host,
        "docker_host": inputs["docker_host"],
        "reserved_cpus": _cpu.format_cpuset(sorted(kept)),
        "idle_cpus": _cpu.format_cpuset(sorted(idle)),
        "memory_bytes": topology.get("memory_bytes") or 0,
        "numa_node_count": len(topology.get("numa_nodes") or []) or 1,
        "network": {
            "name": inputs["network_name"],
            "driver": inputs["driver"],
            "mode": inputs["mode"],
            "parent": inputs["parent"],
            "subnet": layout["subnet"],
            "gateway": layout["gateway"],
            "ip_range": layout["ip_range"],
            "host_address": layout["host_address"],
            "spares": layout["spares"],
        },
        "containers": containers,
    }


def plan_table(plan):
    """The plan as lines of text for the play output: one row per container, then what the host keeps."""
    containers = plan["containers"]
    width = max([4] + [len(c["name"]) for c in containers])
    row = "%-" + str(width) + "s  %-20s %5s  %-5s %-7s %3s  %-16s %-6s %-6s  %s"
    lines = [row % ("name", "cpuset", "cores", "mems", "sockets", "l3", "address", "heap", "memory",
                    "capacity (binding limit)")]
    for c in containers:
        lines.append(row % (c["name"], c["cpuset"], c["cores"], c["cpuset_mems"], _cpu.format_cpuset(c["sockets"]),
                            c["l3_groups"], c["ipv4_address"], c["heap"], c["memory"],
                            _capacity.capacity_cell(c["capacity"])))
    net = plan["network"]
    lines.append("host keeps CPUs %s%s; network %s (%s %s on %s) %s gw %s"
                 % (plan["reserved_cpus"] or "none",
                    "; CPUs %s left idle (isolated)" % plan["idle_cpus"] if plan["idle_cpus"] else "",
                    net["name"], net["driver"], net["mode"], net["parent"], net["subnet"], net["gateway"]))
    if len(containers) < plan["numa_node_count"]:
        spans = ", ".join("%s memory on node(s) %s" % (c["name"], c["cpuset_mems"]) for c in containers)
        lines.append("%d NUMA nodes for %d container(s): %s" % (plan["numa_node_count"], len(containers), spans))
    return lines


def container_items(plan, restart=(), only=None):
    """wcs_containers' ``containers`` items for the plan (``restart``: names to restart even when unchanged;
    ``only``: just these names, None for all)."""
    keys = ("name", "image", "cpuset", "cpuset_mems", "ipv4_address", "local_ip", "external_ip", "conf_dir",
            "memory")
    wanted = set(restart or ())
    return [dict({k: c[k] for k in keys}, restart=c["name"] in wanted) for c in plan["containers"]
            if only is None or c["name"] in only]

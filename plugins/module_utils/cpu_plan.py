"""CPU split: disjoint, topology-aware cpusets for N WCS containers on one host.

Pure Python (no Ansible, no Docker). Input is the topology dict of ``topology.read_topology`` (docs/design.md).

The unit of allocation is the physical core (a CPU with its online SMT siblings), like the "whole cores" step of
Kubernetes' CPU manager: two containers never share a core, so one container's busy thread never steals the
execution units of another container's thread. The rules:

* Reserved CPUs stay with the host. Default: the first core of every NUMA node with its SMT siblings (the first
  core without isolated CPUs, so the host keeps a CPU the scheduler balances onto). A given list or cpuset string
  is widened to whole cores (a half-reserved core would be shared between host and a container).
* Isolated CPUs (``isolcpus=``) are excluded from containers by default: the kernel does not load-balance onto
  them, so a multi-threaded JVM pinned to several isolated CPUs piles its threads onto whichever CPU each thread
  started on. ``isolated="only"`` plans only on isolated cores (for operators who isolate CPUs for WCS on purpose),
  ``isolated="include"`` treats them like any other CPU.
* All remaining cores are split between the containers; sizes differ by at most one core.
* A container's set stays inside one NUMA node whenever an exact packing of the sizes into the nodes exists;
  otherwise as many containers as possible stay node-local and the rest take the leftovers (in node order, so they
  span as few nodes as the leftovers allow).
* Container 1 gets the lowest CPU ids, container 2 the next, and so on.

``allow_smt_split=True`` makes single CPUs the unit (siblings may then end up in different containers).
"""
from __future__ import annotations

from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import (  # noqa: F401 pylint: disable=unused-import
    format_cpuset, parse_cpuset)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.units import parse_count

ISOLATED_MODES = ("exclude", "only", "include")


class _Host:
    """Index of a topology dict: CPU -> node, CPU -> core (tuple of online sibling ids)."""

    def __init__(self, topology):
        if not isinstance(topology, dict) or not isinstance(topology.get("cpus"), list) or not topology["cpus"]:
            raise PlanError("topology", _short(topology),
                            "pass the wcs_host fact gathered by mediaops.wcs.host_facts (it needs a 'cpus' list)")
        self.node_of = {}
        self.core_of = {}
        online = set()
        for cpu in topology["cpus"]:
            try:
                online.add(int(cpu["id"]))
            except (KeyError, TypeError, ValueError):
                raise PlanError("topology.cpus", _short(cpu), "each CPU needs an integer 'id' (use host_facts)")
        for cpu in topology["cpus"]:
            cid = int(cpu["id"])
            self.node_of[cid] = int(cpu.get("node") or 0)
            siblings = [s for s in parse_cpuset(cpu.get("siblings") or [cid], "topology.cpus.siblings")
                        if s in online]
            self.core_of[cid] = tuple(sorted(set(siblings) | {cid}))
        self.online = sorted(online)
        self.isolated = set(parse_cpuset(topology.get("isolated") or [], "topology.isolated")) & online

    def cores(self):
        """Distinct cores, ordered by their lowest CPU id."""
        return sorted(set(self.core_of.values()))

    def node(self, core):
        # A core's threads share one node; the lowest CPU decides if sysfs ever disagrees.
        return self.node_of[core[0]]


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def reserved_cpus(topology, isolated="exclude"):
    """Default host reserve: the first core of every NUMA node (with its SMT siblings), sorted CPU ids.

    With ``isolated`` other than ``include`` the first core without isolated CPUs is taken, so the host keeps CPUs
    the scheduler balances onto.
    """
    host = _Host(topology)
    chosen = {}
    fallback = {}
    for core in host.cores():
        node = host.node(core)
        fallback.setdefault(node, core)
        if isolated != "include" and any(c in host.isolated for c in core):
            continue
        chosen.setdefault(node, core)
    for node, core in fallback.items():
        chosen.setdefault(node, core)
    return sorted(c for core in chosen.values() for c in core)


def plan_cpus(topology, count, reserved=None, allow_smt_split=False, isolated="exclude"):
    """Splits the host's free CPUs between ``count`` containers.

    Returns one dict per container, ordered by CPU id:
    ``{cpuset: "2-9,22-29", cpus: [...], mems: "0", nodes: [0], cores: 8}``.
    ``reserved``: None (default reserve, see ``reserved_cpus``), a list of CPU ids or a cpuset string ("" or []
    reserves nothing).
    """
    host = _Host(topology)
    count = parse_count(count)
    if isolated not in ISOLATED_MODES:
        raise PlanError("isolated", isolated, "use one of %s" % ", ".join(ISOLATED_MODES))

    if reserved is None:
        reserve = set(reserved_cpus(topology, isolated=isolated))
    else:
        reserve = set(parse_cpuset(reserved, "reserved"))
        offline = sorted(reserve - set(host.online))
        if offline:
            raise PlanError("reserved", reserved, "reserve only online CPUs (%s)" % format_cpuset(host.online),
                            why="CPU(s) %s are not online on this host" % format_cpuset(offline))

    units = []  # each unit: tuple of CPU ids that must stay together
    for core in host.cores():
        if allow_smt_split:
            candidates = [(c,) for c in core if c not in reserve]
        elif reserve.intersection(core):
            continue  # whole core stays with the host
        else:
            candidates = [core]
        for unit in candidates:
            iso = [c for c in unit if c in host.isolated]
            if isolated == "exclude" and iso:
                continue
            if isolated == "only" and len(iso) != len(unit):
                continue
            units.append(unit)

    unit_name = "CPUs" if allow_smt_split else "cores"
    if count > len(units):
        fixes = ["plan at most %d container(s)" % len(units)] if units else []
        if reserved is None or reserve:
            fixes.append("reserve fewer CPUs (reserved=%r keeps %s for the host; reserved=[] keeps none)"
                         % (format_cpuset(reserve), format_cpuset(reserve) or "nothing"))
        if host.isolated and isolated == "exclude":
            fixes.append("use isolated CPUs %s (isolated='include')" % format_cpuset(host.isolated))
        if not allow_smt_split and any(len(c) > 1 for c in host.cores()):
            fixes.append("let SMT siblings go to different containers (allow_smt_split=true)")
        raise PlanError("count", count, "; or ".join(fixes) or "run fewer containers",
                        why="only %d free %s on this host (online %s, reserved %s, isolated %s)"
                        % (len(units), unit_name, format_cpuset(host.online), format_cpuset(reserve) or "none",
                           format_cpuset(host.isolated) or "none"))

    by_node = {}
    for unit in units:
        by_node.setdefault(host.node(unit), []).append(unit)
    groups = _split(by_node, count)
    plans = []
    for group in groups:
        cpus = sorted(c for unit in group for c in unit)
        nodes = sorted({host.node(unit) for unit in group})
        plans.append({
            "cpuset": format_cpuset(cpus),
            "cpus": cpus,
            "mems": format_cpuset(nodes),
            "nodes": nodes,
            "cores": len(group) if not allow_smt_split else len({host.core_of[c] for c in cpus}),
        })
    plans.sort(key=lambda p: p["cpus"][0])
    return plans


def _split(by_node, count):
    """Groups of units, sizes q or q+1, node-local for as many groups as possible."""
    nodes = sorted(by_node)
    capacity = [len(by_node[n]) for n in nodes]
    total = sum(capacity)
    small, big_count = divmod(total, count)
    small_count = count - big_count
    big = small + 1

    # Choose how many big groups each node holds (dynamic programming over nodes); the small groups then fill
    # what is left. Maximise the number of groups that fit whole inside one node.
    # best[b] = (max small groups that fit, choice list) using b big groups so far.
    best = {0: (0, [])}
    for cap in capacity:
        nxt = {}
        for used, (smalls, choice) in best.items():
            for b in range(0, min(big_count - used, cap // big) + 1):
                fit = (cap - b * big) // small
                key = used + b
                cand = (smalls + fit, choice + [b])
                if key not in nxt or cand[0] > nxt[key][0]:
                    nxt[key] = cand
        best = nxt
    bigs_per_node = None
    placed_best = -1
    for used, (smalls, choice) in sorted(best.items()):
        placed = used + min(smalls, small_count)
        if placed > placed_best:
            placed_best, bigs_per_node = placed, choice

    groups = []
    leftovers = []
    smalls_left = small_count
    bigs_left = big_count
    for node, cap, b in zip(nodes, capacity, bigs_per_node):
        units = list(by_node[node])
        for _big in range(b):
            groups.append(units[:big])
            units = units[big:]
        bigs_left -= b
        while smalls_left and len(units) >= small:
            groups.append(units[:small])
            units = units[small:]
            smalls_left -= 1
        leftovers.extend(units)
    # Groups that could not stay node-local take the leftovers in node order.
    for size in [big] * bigs_left + [small] * smalls_left:
        groups.append(leftovers[:size])
        leftovers = leftovers[size:]
    if leftovers or len(groups) != count:
        raise RuntimeError("cpu_plan: internal split error (%d groups, %d leftover units)"
                           % (len(groups), len(leftovers)))
    return groups

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
* Topology boundaries, coarse to fine, like kubelet's ``takeByTopologyNUMAPacked`` (whole sockets or NUMA nodes,
  whichever is larger, first; then whole L3 "uncore" caches with ``prefer-align-cpus-by-uncorecache``): the split
  keeps as few containers as possible across **sockets**, then across the coarser of **L3 groups** and **NUMA
  nodes**, then across the finer one. On most hosts that is socket, L3 group (an AMD CCX/CCD; socket-wide on
  Intel), NUMA node (sub-NUMA clusters); where a NUMA node holds several L3 groups (AMD NPS2/NPS4) the node comes
  before the L3 group, because a set inside one L3 group is inside one node anyway. Each level is an exact
  optimum over the levels above it (a small dynamic programme over the domain tree, see ``_Domain.table``), so a
  container stays inside one socket whenever a socket-aligned packing of the sizes exists, and inside one NUMA
  node whenever a node-aligned packing exists (the NUMA guarantee of 1.0.0).
* Containers that must cross a boundary take the leftovers of the domains they cross, in domain order.
* Container 1 gets the lowest CPU ids, container 2 the next, and so on.

``allow_smt_split=True`` makes single CPUs the unit (siblings may then end up in different containers).
"""
from __future__ import annotations

import bisect
import itertools

from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import MAX_CPU_ID, format_cpuset, parse_cpuset
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.units import parse_count

ISOLATED_MODES = ("exclude", "only", "include")
# Exact search up to this many (big, small) fits, about 34 containers; beyond, runs in domain order (see split_units).
MAX_FITS = 324


class _Host:
    """Index of a topology dict: CPU -> node / socket / L3 group, CPU -> core (tuple of online sibling ids)."""

    def __init__(self, topology):
        if not isinstance(topology, dict) or not isinstance(topology.get("cpus"), list) or not topology["cpus"]:
            raise PlanError("topology", _short(topology),
                            "pass the wcs_host fact gathered by mediaops.wcs.host_facts (it needs a 'cpus' list)")
        self.node_of = {}
        self.socket_of = {}
        self.l3_of = {}
        self.core_of = {}
        online = set()
        for cpu in topology["cpus"]:
            online.add(_topology_int(cpu, "id", None))
        for cpu in topology["cpus"]:
            cid = _topology_int(cpu, "id", None)
            self.node_of[cid] = _topology_int(cpu, "node", 0)
            self.socket_of[cid] = _topology_int(cpu, "socket", 0)
            l3 = cpu.get("l3")
            # No L3 in sysfs: one L3 per socket (the socket key keeps it apart from real L3 ids).
            self.l3_of[cid] = ("l3", _topology_int(cpu, "l3", 0)) if l3 is not None else ("socket", self.socket_of[cid])
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

    def levels(self):
        """Key functions of the domain levels below the host, coarse to fine: socket, then the coarser of NUMA
        node and L3 group (more CPUs per domain; the node on a tie), then the finer."""
        count_nodes = len(set(self.node_of.values()))
        count_l3 = len(set(self.l3_of.values()))
        node_key = self.node_of.__getitem__
        l3_key = self.l3_of.__getitem__
        inner = [node_key, l3_key] if count_nodes <= count_l3 else [l3_key, node_key]
        return [self.socket_of.__getitem__] + inner


def _topology_int(cpu, key, default):
    value = cpu.get(key, default) if isinstance(cpu, dict) else None
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CPU_ID:
        raise PlanError("topology.cpus", _short(cpu), "each CPU needs whole numbers 'id', 'node', 'socket' and "
                        "'l3' (or null) from 0 to %d: pass the wcs_host fact of mediaops.wcs.host_facts" % MAX_CPU_ID,
                        why="%r is %r" % (key, value))
    return value


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
    ``{cpuset: "2-9,22-29", cpus: [...], mems: "0", nodes: [0], cores: 8, sockets: [0], l3_groups: 1}``
    (``l3_groups``: how many L3 caches the set spans).
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

    units = _free_units(host, reserve, allow_smt_split, isolated)
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

    plans = []
    for group in split_units(units, count, host.levels()):
        cpus = sorted(c for unit in group for c in unit)
        nodes = sorted({host.node_of[c] for c in cpus})
        plans.append({
            "cpuset": format_cpuset(cpus),
            "cpus": cpus,
            "mems": format_cpuset(nodes),
            "nodes": nodes,
            "cores": len({host.core_of[c] for c in cpus}),
            "sockets": sorted({host.socket_of[c] for c in cpus}),
            "l3_groups": len({host.l3_of[c] for c in cpus}),
        })
    plans.sort(key=lambda p: p["cpus"][0])
    return plans


def _free_units(host, reserve, allow_smt_split, isolated):
    """The units to split: whole cores (or single CPUs with ``allow_smt_split``) the host and isolation leave."""
    units = []
    for core in host.cores():
        if allow_smt_split:
            candidates = [(c,) for c in core if c not in reserve]
        elif reserve.intersection(core):
            continue  # whole core stays with the host
        else:
            candidates = [core]
        for unit in candidates:
            isolated_cpus = [c for c in unit if c in host.isolated]
            if isolated == "exclude" and isolated_cpus:
                continue
            if isolated == "only" and len(isolated_cpus) != len(unit):
                continue
            units.append(unit)
    return units


# --- the split ---------------------------------------------------------------------------------------------------
# Sizes: ``big_count`` groups of ``big`` units and ``small_count`` of ``small`` (= big - 1). A "fit" (b, s) is how
# many big and small groups lie wholly inside a domain; a group that crosses a domain's children "spans" there.

def _fits(units, big, small, fit):
    return fit[0] * big + fit[1] * small <= units


def _add(score, other):
    return tuple(a + b for a, b in zip(score, other))


def _spanning(depth, levels, groups):
    """Score of ``groups`` groups crossing the children of a domain at ``depth``: they cross every finer level."""
    return tuple(groups if level >= depth else 0 for level in range(levels))


def _better(candidate, best):
    return best is None or candidate < best


class _Domain:
    """A node of the domain tree (host -> sockets -> coarse -> fine -> units); children ordered by lowest CPU."""

    def __init__(self, units, levels, depth=0):
        self.units = units
        self.depth = depth
        self.children = []
        if depth < len(levels):
            by_key = {}
            for unit in units:
                by_key.setdefault(levels[depth](unit[0]), []).append(unit)
            self.children = [_Domain(members, levels, depth + 1)
                             for members in sorted(by_key.values(), key=lambda m: m[0][0])]

    def table(self, big, small, most, levels, tables):
        """{(b, s): (score, per-child fits)} for every fit of at most ``most`` = (big_count, small_count) groups.

        score: groups crossing each level (socket, coarse, fine); minimised lexicographically. Children are
        combined like a knapsack over fits, then the groups this domain holds beyond its children's cross them.
        """
        if not self.children:
            return {fit: ((0,) * levels, ()) for fit in _all_fits(len(self.units), big, small, most)}
        combined = {(0, 0): ((0,) * levels, ())}
        for child in self.children:
            child_table = tables[id(child)]
            merged = {}
            for fit, (score, fits) in combined.items():
                for child_fit, (child_score, _unused) in child_table.items():
                    total = (fit[0] + child_fit[0], fit[1] + child_fit[1])
                    if total[0] > most[0] or total[1] > most[1]:
                        continue
                    candidate = _add(score, child_score)
                    if _better(candidate, merged.get(total, (None,))[0]):
                        merged[total] = (candidate, fits + (child_fit,))
            combined = merged
        own = {}
        for fit in _all_fits(len(self.units), big, small, most):
            for inner, (score, fits) in combined.items():
                if inner[0] > fit[0] or inner[1] > fit[1]:
                    continue
                crossing = (fit[0] - inner[0]) + (fit[1] - inner[1])
                candidate = _add(score, _spanning(self.depth, levels, crossing))
                if _better(candidate, own.get(fit, (None,))[0]):
                    own[fit] = (candidate, (inner, fits))
        return own

    def build(self, fit, big, small, most, levels, tables):
        """The groups of ``fit`` made from this domain's units; returns (groups, leftover units in domain order)."""
        if not self.children:
            rest = list(self.units)
            groups = []
            for size in [big] * fit[0] + [small] * fit[1]:
                groups.append(rest[:size])
                rest = rest[size:]
            return groups, rest
        inner, fits = tables[id(self)][fit][1]
        groups, leftovers, runs = [], [], []
        for child, child_fit in zip(self.children, fits):
            child_groups, child_rest = child.build(child_fit, big, small, most, levels, tables)
            groups.extend(child_groups)
            leftovers.extend(child_rest)
            runs.append(len(child_rest))
        # Groups crossing this domain's children take the leftovers in child order, sizes ordered so that they
        # cross as few children as the leftovers allow.
        for size in _crossing_order(runs, fit[0] - inner[0], fit[1] - inner[1], big, small):
            groups.append(leftovers[:size])
            leftovers = leftovers[size:]
        return groups, leftovers


def _runs_touched(ends, start, size):
    """How many children's leftover runs (ending at ``ends``) the slice [start, start + size) touches."""
    return bisect.bisect_left(ends, start + size) - bisect.bisect_right(ends, start) + 1


def _crossing_order(runs, bigs, smalls, big, small):
    """The order of ``bigs`` big and ``smalls`` small sizes, cut from consecutive leftover ``runs``, that touches the
    fewest runs in total; bigs first on a tie. (A small programme over how many of each are already cut.)"""
    ends = list(itertools.accumulate(run for run in runs if run))  # empty runs would count twice
    best = {(0, 0): (0, None)}
    for done in range(1, bigs + smalls + 1):
        for b in range(max(0, done - smalls), min(bigs, done) + 1):
            sm = done - b
            options = []
            if b:
                cost, _prev = best[(b - 1, sm)]
                options.append((cost + _runs_touched(ends, (b - 1) * big + sm * small, big), 0, big))
            if sm:
                cost, _prev = best[(b, sm - 1)]
                options.append((cost + _runs_touched(ends, b * big + (sm - 1) * small, small), 1, small))
            cost, _tie, size = min(options)
            best[(b, sm)] = (cost, size)
    order = []
    b, sm = bigs, smalls
    while b or sm:
        size = best[(b, sm)][1]
        order.append(size)
        if size == big and b:
            b -= 1
        else:
            sm -= 1
    return order[::-1]


def _all_fits(units, big, small, most):
    return [(b, s) for b in range(most[0] + 1) for s in range(most[1] + 1) if _fits(units, big, small, (b, s))]


def _in_domain_order(root, sizes):
    """Many small containers: consecutive runs of units in domain-tree order (each crosses at most the domains its
    run crosses), instead of the exact search whose tables grow with the square of the container count."""
    ordered = []

    def walk(domain):
        if not domain.children:
            ordered.extend(domain.units)
        for child in domain.children:
            walk(child)

    walk(root)
    groups = []
    for size in sizes:
        groups.append(ordered[:size])
        ordered = ordered[size:]
    return groups


def split_units(units, count, levels):
    """``count`` disjoint groups of ``units`` (tuples of CPU ids), sizes q or q+1, crossing as few domains as the
    sizes allow, coarse levels first (see the module docstring). ``levels``: key functions CPU id -> domain.

    Exact for up to ``MAX_FITS`` (big, small) combinations (about 34 containers); with more containers each one
    is a few cores and consecutive runs in domain order keep almost all of them inside their domains."""
    small, big_count = divmod(len(units), count)
    small_count = count - big_count
    big = small + 1
    most = (big_count, small_count)
    root = _Domain(list(units), levels)
    if (big_count + 1) * (small_count + 1) > MAX_FITS:
        return _in_domain_order(root, [big] * big_count + [small] * small_count)
    tables = {}

    def solve(domain):
        for child in domain.children:
            solve(child)
        tables[id(domain)] = domain.table(big, small, most, len(levels), tables)

    solve(root)
    groups, rest = root.build(most, big, small, most, len(levels), tables)
    if rest or len(groups) != count or any(not g for g in groups):
        raise PlanError("count", count, "report this as a bug of mediaops.wcs cpu_plan",
                        why="internal split error (%d groups, %d units left)" % (len(groups), len(rest)))
    return groups

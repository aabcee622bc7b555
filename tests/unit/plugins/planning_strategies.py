"""Hypothesis strategies for the host-planning tests: random topology dicts (docs/design.md layout)."""
from __future__ import annotations

from hypothesis import strategies as st


def make_topology(sockets, nodes_per_socket, cores_per_node, threads, layout="split", offline=(), isolated=(),
                  memory_bytes=64 << 30, l3_per_node=None):
    """A topology dict.

    layout 'split': siblings n, n+physical (Intel style); 'adjacent': 2k, 2k+1; 'interleaved': the sockets take
    turns (socket 0 even ids, socket 1 odd ids with 2 sockets), siblings n, n+physical.
    l3_per_node: None (no L3 in sysfs: one per socket) or L3 groups per node (contiguous runs of its cores).
    """
    physical = sockets * nodes_per_socket * cores_per_node
    per_socket = nodes_per_socket * cores_per_node
    cpus = []
    members = {}
    for core_index in range(physical):
        node = core_index // cores_per_node
        socket = node // nodes_per_socket
        if layout == "split":
            ids = [core_index + t * physical for t in range(threads)]
        elif layout == "interleaved":
            local = core_index % per_socket
            ids = [local * sockets + socket + t * physical for t in range(threads)]
        else:
            ids = [core_index * threads + t for t in range(threads)]
        group = None
        if l3_per_node:
            group = (node, (core_index % cores_per_node) * l3_per_node // cores_per_node)
            members.setdefault(group, []).extend(ids)
        for cpu in ids:
            cpus.append({"id": cpu, "core": core_index % cores_per_node, "socket": socket, "node": node,
                         "siblings": ids, "l3": group})
    offline = set(offline)
    online = [c for c in cpus if c["id"] not in offline] or cpus[:1]
    online_ids = {c["id"] for c in online}
    for cpu in online:
        cpu["siblings"] = sorted(s for s in cpu["siblings"] if s in online_ids)
        if cpu["l3"] is not None:  # the lowest CPU id of the group, as topology.read_l3 reports it
            cpu["l3"] = min(members[cpu["l3"]])
    online.sort(key=lambda c: c["id"])
    nodes = sorted({c["node"] for c in online})
    numa = [{"id": n, "cpus": [c["id"] for c in online if c["node"] == n], "memory_bytes": memory_bytes // len(nodes)}
            for n in nodes]
    return {"cpus": online, "numa_nodes": numa if len(nodes) > 1 or sockets > 1 else [],
            "isolated": sorted(set(isolated) & online_ids), "nohz_full": [], "memory_bytes": memory_bytes,
            "interfaces": [], "cgroup": {"version": 2}}


@st.composite
def topologies(draw, max_cores_per_node=8):
    sockets = draw(st.integers(1, 2))
    nodes_per_socket = draw(st.integers(1, 2))
    cores = draw(st.integers(1, max_cores_per_node))
    threads = draw(st.sampled_from([1, 2, 2, 4]))
    layout = draw(st.sampled_from(["split", "adjacent", "interleaved"]))
    l3_per_node = draw(st.sampled_from([None, None, 1, 2]))
    total = sockets * nodes_per_socket * cores * threads
    ids = list(range(total))
    offline = draw(st.lists(st.sampled_from(ids), max_size=max(total // 4, 0), unique=True)) if total > 1 else []
    isolated = draw(st.lists(st.sampled_from(ids), max_size=max(total // 4, 0), unique=True))
    return make_topology(sockets, nodes_per_socket, cores, threads, layout, offline, isolated,
                         l3_per_node=l3_per_node)


@st.composite
def reserved_sets(draw, topology):
    ids = [c["id"] for c in topology["cpus"]]
    return draw(st.one_of(st.none(), st.just([]), st.lists(st.sampled_from(ids), max_size=3, unique=True)))

"""Hypothesis strategies for the host-planning tests: random topology dicts (docs/design.md layout)."""
from __future__ import annotations

from hypothesis import strategies as st


def make_topology(sockets, nodes_per_socket, cores_per_node, threads, layout="split", offline=(), isolated=(),
                  memory_bytes=64 << 30):
    """A topology dict. layout 'split': siblings n, n+physical (Intel style); 'adjacent': 2k, 2k+1."""
    physical = sockets * nodes_per_socket * cores_per_node
    cpus = []
    for core_index in range(physical):
        node = core_index // cores_per_node
        socket = node // nodes_per_socket
        if layout == "split":
            ids = [core_index + t * physical for t in range(threads)]
        else:
            ids = [core_index * threads + t for t in range(threads)]
        for cpu in ids:
            cpus.append({"id": cpu, "core": core_index % cores_per_node, "socket": socket, "node": node,
                         "siblings": ids})
    offline = set(offline)
    online = [c for c in cpus if c["id"] not in offline] or cpus[:1]
    online_ids = {c["id"] for c in online}
    for cpu in online:
        cpu["siblings"] = sorted(s for s in cpu["siblings"] if s in online_ids)
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
    layout = draw(st.sampled_from(["split", "adjacent"]))
    total = sockets * nodes_per_socket * cores * threads
    ids = list(range(total))
    offline = draw(st.lists(st.sampled_from(ids), max_size=max(total // 4, 0), unique=True)) if total > 1 else []
    isolated = draw(st.lists(st.sampled_from(ids), max_size=max(total // 4, 0), unique=True))
    return make_topology(sockets, nodes_per_socket, cores, threads, layout, offline, isolated)


@st.composite
def reserved_sets(draw, topology):
    ids = [c["id"] for c in topology["cpus"]]
    return draw(st.one_of(st.none(), st.just([]), st.lists(st.sampled_from(ids), max_size=3, unique=True)))

"""Reads a host's CPU / NUMA / memory / network topology from sysfs and procfs into the topology dict.

Pure Python (stdlib only; no Ansible, no Docker). Every path is read below ``root`` so recorded trees
(tests/fixtures/topology/) work like the live ``/``. The dict is the one fixed in docs/design.md:

    cpus:        [{id, core, socket, node, siblings}]   online CPUs, sorted; siblings include the CPU itself
    numa_nodes:  [{id, cpus, memory_bytes}]             [] when /sys/devices/system/node is absent (one node 0)
    isolated:    [..]  isolcpus= (flags such as managed_irq, domain stripped)
    nohz_full:   [..]
    memory_bytes: MemTotal
    interfaces:  [{name, state, mtu, mac, addresses, kind, can_be_parent, numa_node}]  numa_node: None when unknown
    cgroup:      {version: 1|2}

Interface ``kind``: the kernel's link kind when known (``ip -d -j link``, or ``<root>/ip-link.json`` in a recorded
tree), else derived from sysfs: ``loopback`` (type 772), ``bridge`` (``bridge/``), ``bond`` (``bonding/``),
``tun`` (``tun_flags``), ``vlan``/``macvlan``/``ipvlan`` shown as ``virtual-upper`` (a ``lower_*`` link),
``veth`` (no ``device`` link and ``iflink`` != ``ifindex``), ``physical`` (a ``device`` link), else ``virtual``.

``can_be_parent`` (may carry an ipvlan/macvlan network): true unless the interface is loopback, a bridge
(docker0 and friends: their ports are containers), enslaved to a bridge or bond (``master`` link: the master is the
parent to use), itself an ipvlan/macvlan (nesting them is refused or fragile), a tun/ifb device, or
administratively/operationally ``down`` (no traffic would flow). ``unknown`` state (common for veth and virtual
NICs without carrier reporting) is accepted.
"""
from __future__ import annotations

import glob
import json
import os
import re
import subprocess

from ansible_collections.mediaops.wcs.plugins.module_utils.cpu_plan import parse_cpuset

_ISOLCPUS_FLAGS = {"domain", "managed_irq", "nohz"}
_NOT_PARENT_KINDS = {"loopback", "bridge", "macvlan", "macvtap", "ipvlan", "ipvtap", "tun", "tap", "ifb",
                     "virtual-upper", "wireguard", "sit", "gre", "ipip", "vxlan-gpe"}


def _path(root, *parts):
    return os.path.join(root, *[p.lstrip("/") for p in parts])


def _read(root, *parts, default=None):
    try:
        with open(_path(root, *parts), encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return default


def _int(text, default=None):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


GATHER_PARTS = ("cpu", "memory", "interfaces")


def read_topology(root="/", run_ip=None, gather=GATHER_PARTS):
    """The topology dict of the host whose filesystem is at ``root``.

    ``gather``: parts to read (``cpu``: cpus, numa_nodes, isolated, nohz_full; ``memory``: memory_bytes;
    ``interfaces``); parts left out come back empty (``[]`` / ``0``), ``cgroup`` is always read.
    ``run_ip``: callable(args list) -> stdout text, used for ``ip -j ...`` when ``root`` is ``/``; default runs
    the ``ip`` binary (missing binary -> interfaces without addresses).
    """
    if run_ip is None and os.path.abspath(root) == "/":
        run_ip = _run_ip
    topology = {"cpus": [], "numa_nodes": [], "isolated": [], "nohz_full": [], "memory_bytes": 0, "interfaces": [],
                "cgroup": {"version": 2 if os.path.exists(_path(root, "/sys/fs/cgroup/cgroup.controllers")) else 1}}
    if "cpu" in gather:
        cmdline = _read(root, "/proc/cmdline", default="")
        topology["cpus"] = read_cpus(root)
        topology["numa_nodes"] = read_numa_nodes(root, [c["id"] for c in topology["cpus"]])
        topology["isolated"] = parse_isolcpus(cmdline)
        topology["nohz_full"] = parse_cmdline_cpulist(cmdline, "nohz_full")
    if "memory" in gather:
        topology["memory_bytes"] = read_meminfo_total(_read(root, "/proc/meminfo", default=""))
    if "interfaces" in gather:
        topology["interfaces"] = read_interfaces(root, run_ip)
    return topology


def read_cpus(root="/"):
    base = _path(root, "/sys/devices/system/cpu")
    online_text = _read(root, "/sys/devices/system/cpu/online")
    if online_text is not None:
        online = parse_cpuset(online_text, "/sys/devices/system/cpu/online")
    else:
        online = sorted(int(m.group(1)) for m in (re.match(r"cpu(\d+)$", n) for n in _listdir(base)) if m)
    node_of = {}
    for node_dir in glob.glob(_path(root, "/sys/devices/system/node/node[0-9]*")):
        node = int(os.path.basename(node_dir)[4:])
        for cpu in parse_cpuset(_read(node_dir, "cpulist", default=""), "node cpulist"):
            node_of[cpu] = node
    online_set = set(online)
    cpus = []
    for cpu in online:
        topo = "/sys/devices/system/cpu/cpu%d/topology" % cpu
        siblings_text = _read(root, topo, "thread_siblings_list") or _read(root, topo, "core_cpus_list")
        siblings = parse_cpuset(siblings_text, "thread_siblings_list") if siblings_text else [cpu]
        siblings = sorted((set(siblings) & online_set) | {cpu})
        cpus.append({
            "id": cpu,
            "core": _int(_read(root, topo, "core_id"), cpu),
            "socket": max(_int(_read(root, topo, "physical_package_id"), 0), 0),
            "node": node_of.get(cpu, 0),
            "siblings": siblings,
        })
    return cpus


def read_numa_nodes(root="/", online=None):
    nodes = []
    online_set = set(online) if online is not None else None
    for node_dir in sorted(glob.glob(_path(root, "/sys/devices/system/node/node[0-9]*")),
                           key=lambda p: int(os.path.basename(p)[4:])):
        node = int(os.path.basename(node_dir)[4:])
        cpus = parse_cpuset(_read(node_dir, "cpulist", default=""), "node cpulist")
        if online_set is not None:
            cpus = [c for c in cpus if c in online_set]
        nodes.append({"id": node, "cpus": cpus,
                      "memory_bytes": read_meminfo_total(_read(node_dir, "meminfo", default=""))})
    return nodes


def read_meminfo_total(text):
    """MemTotal in bytes from /proc/meminfo or a node's meminfo (``Node 0 MemTotal:  123 kB``)."""
    match = re.search(r"MemTotal:\s+(\d+)\s*kB", text or "")
    return int(match.group(1)) * 1024 if match else 0


def parse_cmdline_cpulist(cmdline, key):
    """The CPU list of the last ``key=...`` on the kernel command line ([] when absent)."""
    value = None
    for token in (cmdline or "").split():
        if token == "--":
            break  # the rest belongs to init
        if token.startswith(key + "="):
            value = token[len(key) + 1:]
    if not value:
        return []
    try:
        return parse_cpuset(value, key)
    except ValueError:
        return []


def parse_isolcpus(cmdline):
    """``isolcpus=managed_irq,domain,2-5`` -> [2, 3, 4, 5]: leading flags are dropped.

    Only CPUs taken out of the scheduler's domains count (no flags, or the ``domain`` flag): with flags but without
    ``domain`` (``isolcpus=managed_irq,2-5``, what host tuning writes) the kernel still balances tasks onto them.
    """
    value = None
    for token in (cmdline or "").split():
        if token == "--":
            break
        if token.startswith("isolcpus="):
            value = token[len("isolcpus="):]
    if not value:
        return []
    parts = [p for p in value.split(",") if p and p not in _ISOLCPUS_FLAGS]
    flags = [p for p in value.split(",") if p in _ISOLCPUS_FLAGS]
    if flags and "domain" not in flags:
        return []
    try:
        return parse_cpuset(",".join(parts), "isolcpus")
    except ValueError:
        return []


def _hex(text):
    try:
        return int(text, 16)
    except (TypeError, ValueError):
        return None


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _run_ip(args):
    try:
        proc = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _ip_json(root, run_ip, args, recorded):
    text = run_ip(args) if run_ip else _read(root, recorded)
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return []
    return data if isinstance(data, list) else []


def read_interfaces(root="/", run_ip=None):
    base = _path(root, "/sys/class/net")
    addr_json = _ip_json(root, run_ip, ["-j", "addr", "show"], "/ip-addr.json")
    link_json = _ip_json(root, run_ip, ["-d", "-j", "link", "show"], "/ip-link.json")
    addresses = {}
    for entry in addr_json:
        name = entry.get("ifname")
        for info in entry.get("addr_info") or []:
            if info.get("local") is not None and info.get("prefixlen") is not None:
                addresses.setdefault(name, []).append("%s/%s" % (info["local"], info["prefixlen"]))
    kinds = {}
    for entry in link_json:
        kind = (entry.get("linkinfo") or {}).get("info_kind")
        if kind:
            kinds[entry.get("ifname")] = kind
    interfaces = []
    for name in _listdir(base):
        entry = os.path.join(base, name)
        if not os.path.isdir(entry):
            continue
        state = (_read(entry, "operstate", default="unknown") or "unknown").lower()
        flags = _hex(_read(entry, "flags"))
        if flags is not None and not flags & 0x1 and state == "unknown":
            state = "down"  # IFF_UP unset: administratively down
        kind = kinds.get(name) or _sysfs_kind(entry)
        enslaved = os.path.lexists(os.path.join(entry, "master")) or os.path.isdir(os.path.join(entry, "brport"))
        can_be_parent = kind not in _NOT_PARENT_KINDS and not enslaved and state != "down"
        numa = _int(_read(entry, "device/numa_node"))
        interfaces.append({
            "name": name,
            "state": state,
            "mtu": _int(_read(entry, "mtu"), 0),
            "mac": _read(entry, "address", default="") or "",
            "addresses": addresses.get(name, []),
            "kind": kind,
            "can_be_parent": bool(can_be_parent),
            "numa_node": numa if numa is not None and numa >= 0 else None,
        })
    return interfaces


def _sysfs_kind(entry):
    if _read(entry, "type") == "772":
        return "loopback"
    if os.path.isdir(os.path.join(entry, "bridge")):
        return "bridge"
    if os.path.isdir(os.path.join(entry, "bonding")):
        return "bond"
    if os.path.exists(os.path.join(entry, "tun_flags")):
        return "tun"
    if glob.glob(os.path.join(entry, "lower_*")):
        return "virtual-upper"
    if os.path.lexists(os.path.join(entry, "device")):
        return "physical"
    iflink, ifindex = _read(entry, "iflink"), _read(entry, "ifindex")
    if iflink is not None and ifindex is not None and iflink != ifindex:
        return "veth"
    return "virtual"

"""Reads a host's CPU / NUMA / memory / network topology from sysfs and procfs into the topology dict.

Pure Python (stdlib only; no Ansible, no Docker). Every path is read below ``root`` so recorded trees
(tests/fixtures/topology/) work like the live ``/``. The dict is the one fixed in docs/design.md:

    cpus:        [{id, core, socket, node, siblings, l3}]  online CPUs, sorted; siblings include the CPU itself;
                 l3 = lowest CPU id sharing this CPU's L3 cache (its group), None when sysfs has no level-3 cache
    numa_nodes:  [{id, cpus, memory_bytes}]             [] when /sys/devices/system/node is absent (one node 0)
    isolated:    [..]  isolcpus= (flags such as managed_irq, domain stripped)
    nohz_full:   [..]
    memory_bytes: MemTotal
    interfaces:  [{name, state, mtu, mac, addresses, kind, can_be_parent, numa_node}]  numa_node: the NIC's
                 node from ``device/numa_node``, None when absent or -1
    cgroup:      {version: 1|2}

Interface ``kind``: the kernel's link kind when known (``ip -d -j link``, or ``<root>/ip-link.json`` in a recorded
tree), else derived from sysfs: ``loopback`` (type 772), ``bridge`` (``bridge/``), ``bond`` (``bonding/``),
``tun`` (``tun_flags``), ``vlan``/``macvlan``/``ipvlan`` shown as ``virtual-upper`` (a ``lower_*`` link),
``veth`` (no ``device`` link and ``iflink`` != ``ifindex``), ``physical`` (a ``device`` link), else ``virtual``.

Recorded trees (any ``root`` other than ``/``) are read as regular files only: a symlink that leads out of the
tree, a device, a FIFO, a directory where a file is expected or a file over 1 MiB is a PlanError naming the path
(never a hang or a traceback). The live ``/`` follows sysfs' own symlinks but still reads regular files only.

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
import stat

from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import parse_cpuset
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

MAX_READ = 1 << 20  # no sysfs/procfs file read here comes near 1 MiB

_ISOLCPUS_FLAGS = {"domain", "managed_irq", "nohz"}
_NOT_PARENT_KINDS = {"loopback", "bridge", "macvlan", "macvtap", "ipvlan", "ipvtap", "tun", "tap", "ifb",
                     "virtual-upper", "wireguard", "sit", "gre", "ipip", "vxlan-gpe"}


def _path(root, *parts):
    return os.path.join(root, *[p.lstrip("/") for p in parts])


def _read(root, *parts, default=None):
    """The stripped text of a regular file below ``root``; ``default`` when it does not exist or cannot be read."""
    path = _path(root, *parts)
    recorded = os.path.abspath(root) != "/"
    try:
        info = os.stat(path)
    except OSError:
        return default
    if recorded:
        real_root = os.path.realpath(root)
        real = os.path.realpath(path)
        if os.path.commonpath([real_root, real]) != real_root:
            raise PlanError(path, real, "record the tree again with tests/fixtures/topology/record.py (it writes "
                            "regular files only)", why="the path leads out of the recorded tree")
    if not stat.S_ISREG(info.st_mode):
        raise PlanError(path, stat.filemode(info.st_mode), "point root at / or at a tree recorded by "
                        "tests/fixtures/topology/record.py", why="not a regular file")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return default
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped after the stat above
            raise PlanError(path, "not a regular file", "point root at / or at a recorded tree")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_READ + 1)
    except OSError:
        return default
    finally:
        os.close(fd)
    if len(data) > MAX_READ:
        raise PlanError(path, "%d+ bytes" % MAX_READ, "point root at / or at a recorded tree",
                        why="larger than any sysfs or procfs file read here")
    return data.decode("utf-8", errors="replace").strip()


def _rel(root, path):
    return os.path.relpath(path, root)


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
    ``run_ip``: callable(args list) -> stdout text or None, used for ``ip -j ...`` (the live host, ``root`` ``/``):
    M(host_facts) passes ``ip_runner(module.run_command, ip)``; without it the addresses come from the recorded
    ``ip-addr.json`` / ``ip-link.json`` under ``root`` (none: interfaces without addresses).
    """
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
        online = parse_cpuset(online_text, _path(root, "/sys/devices/system/cpu/online"))
    else:
        online = sorted(int(m.group(1)) for m in (re.match(r"cpu([0-9]{1,5})$", n) for n in _listdir(base)) if m)
    node_of = {}
    for node_dir in _node_dirs(root):
        node = int(os.path.basename(node_dir)[4:])
        for cpu in parse_cpuset(_read(root, _rel(root, node_dir), "cpulist", default=""),
                                os.path.join(node_dir, "cpulist")):
            node_of[cpu] = node
    online_set = set(online)
    cpus = []
    for cpu in online:
        topo = "/sys/devices/system/cpu/cpu%d/topology" % cpu
        name = "thread_siblings_list"
        siblings_text = _read(root, topo, name)
        if not siblings_text:
            name = "core_cpus_list"
            siblings_text = _read(root, topo, name)
        siblings = parse_cpuset(siblings_text, _path(root, topo, name)) if siblings_text else [cpu]
        siblings = sorted((set(siblings) & online_set) | {cpu})
        cpus.append({
            "id": cpu,
            "core": _int(_read(root, topo, "core_id"), cpu),
            "socket": max(_int(_read(root, topo, "physical_package_id"), 0), 0),
            "node": node_of.get(cpu, 0),
            "siblings": siblings,
            "l3": read_l3(root, cpu),
        })
    return cpus


def read_l3(root, cpu):
    """The lowest CPU id sharing ``cpu``'s level-3 cache (names its L3 group), None when sysfs shows none.

    The cache whose ``level`` file says 3 is taken, whatever its ``indexN`` (index3 on x86 today, not promised).
    """
    cache = "/sys/devices/system/cpu/cpu%d/cache" % cpu
    for index in _listdir(_path(root, cache)):
        if not re.match(r"index[0-9]{1,3}$", index) or _read(root, cache, index, "level") != "3":
            continue
        text = _read(root, cache, index, "shared_cpu_list")
        if not text:
            return cpu
        return min(parse_cpuset(text, _path(root, cache, index, "shared_cpu_list")) + [cpu])
    return None


def _node_dirs(root):
    found = []
    for node_dir in glob.glob(_path(root, "/sys/devices/system/node/node[0-9]*")):
        if re.match(r"node[0-9]{1,5}$", os.path.basename(node_dir)):
            found.append(node_dir)
    return sorted(found, key=lambda p: int(os.path.basename(p)[4:]))


def read_numa_nodes(root="/", online=None):
    nodes = []
    online_set = set(online) if online is not None else None
    for node_dir in _node_dirs(root):
        node = int(os.path.basename(node_dir)[4:])
        cpus = parse_cpuset(_read(root, _rel(root, node_dir), "cpulist", default=""),
                            os.path.join(node_dir, "cpulist"))
        if online_set is not None:
            cpus = [c for c in cpus if c in online_set]
        nodes.append({"id": node, "cpus": cpus,
                      "memory_bytes": read_meminfo_total(_read(root, _rel(root, node_dir), "meminfo", default=""))})
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


def ip_runner(run_command, ip="ip"):
    """``run_ip`` for read_topology from AnsibleModule.run_command (argv -> (rc, stdout, stderr)): stdout of
    ``ip ARGS``, None when it fails."""
    def run_ip(args):
        try:
            rc, out, _err = run_command([ip] + list(args))
        except OSError:
            return None
        return out if rc == 0 else None
    return run_ip


def _ip_json(root, run_ip, args, recorded):
    text = run_ip(args) if run_ip else _read(root, recorded)
    if not text:
        return []
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    # Only the shape `ip -j` prints: a list of objects (a recorded file may hold anything).
    return [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []


def _dicts(value):
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def read_interfaces(root="/", run_ip=None):
    base = _path(root, "/sys/class/net")
    addr_json = _ip_json(root, run_ip, ["-j", "addr", "show"], "/ip-addr.json")
    link_json = _ip_json(root, run_ip, ["-d", "-j", "link", "show"], "/ip-link.json")
    addresses = {}
    for entry in addr_json:
        name = entry.get("ifname")
        for info in _dicts(entry.get("addr_info")):
            if info.get("local") is not None and info.get("prefixlen") is not None:
                addresses.setdefault(name, []).append("%s/%s" % (info["local"], info["prefixlen"]))
    kinds = {}
    for entry in link_json:
        linkinfo = entry.get("linkinfo")
        kind = linkinfo.get("info_kind") if isinstance(linkinfo, dict) else None
        if isinstance(kind, str) and kind:
            kinds[entry.get("ifname")] = kind
    interfaces = []
    for name in _listdir(base):
        entry = os.path.join(base, name)
        if not os.path.isdir(entry):
            continue
        where = "/sys/class/net/" + name
        state = (_read(root, where, "operstate", default="unknown") or "unknown").lower()
        flags = _hex(_read(root, where, "flags"))
        if flags is not None and not flags & 0x1 and state == "unknown":
            state = "down"  # IFF_UP unset: administratively down
        kind = kinds.get(name) or _sysfs_kind(root, where)
        enslaved = os.path.lexists(os.path.join(entry, "master")) or os.path.isdir(os.path.join(entry, "brport"))
        can_be_parent = kind not in _NOT_PARENT_KINDS and not enslaved and state != "down"
        interfaces.append({
            "name": name,
            "state": state,
            "mtu": _int(_read(root, where, "mtu"), 0),
            "mac": _read(root, where, "address", default="") or "",
            "addresses": addresses.get(name, []),
            "kind": kind,
            "can_be_parent": bool(can_be_parent),
            "numa_node": _numa_node(root, where),
        })
    return interfaces


def _numa_node(root, where):
    """The NIC's NUMA node (``device/numa_node``); None without a device, on one-node hosts (-1) or when unreadable."""
    node = _int(_read(root, where, "device", "numa_node"))
    return node if node is not None and node >= 0 else None


def _sysfs_kind(root, where):
    entry = _path(root, where)
    if _read(root, where, "type") == "772":
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
    iflink, ifindex = _read(root, where, "iflink"), _read(root, where, "ifindex")
    if iflink is not None and ifindex is not None and iflink != ifindex:
        return "veth"
    return "virtual"

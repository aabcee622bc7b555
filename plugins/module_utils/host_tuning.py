# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host tuning for pinned WCS containers: keep interrupts and host daemons off the WCS CPUs, and undo it exactly.

Standard library only (no Ansible, no Docker). Every path is read below ``root`` so recorded trees and temporary
roots work like the live ``/`` (as in topology.py). Three steps, each a plain function:

* ``audit(root, wcs, housekeeping, ...)`` reads what the host does today: IRQs and their affinity, the default IRQ
  affinity, the workqueue cpumask, irqbalance and its banned CPUs, systemd's ``CPUAffinity=`` (system-wide and for
  docker/containerd), tasks outside the WCS containers allowed on WCS CPUs, the parent NIC's queues (IRQs,
  RPS/XPS masks, NUMA node), the cpufreq governor, kernel command line flags and the UDP/network sysctls.
* ``plan_changes(state, options)`` turns an audit into steps (what to write where, with the value found there),
  and the steps it skips with the reason (the host lacks the mechanism, the kernel refused before, ...).
* ``apply_steps`` carries the steps out and merges what was there into the record (only the first value found is
  kept, so a second run never overwrites the original); ``revert`` restores the record exactly.

Paths: the live root is told from a test root by what it is (``is_live_root``: ``//``, ``/.`` or a link to ``/``
are the live root), not by its spelling. The NIC name goes through ``validate.check_interface_name`` before any
path is built from it; every path below a test root is resolved and refused when it leaves the root (a symlink
of a recorded tree pointing at the live host); the record path is absolute, without ``..``, below the root
(``check_record_path``); a record names only the values and files tuning writes (``load_record``).

The mechanisms are those of tuned's ``cpu-partitioning`` profile and ``tuna --isolate``, driven by the plan of
Docker containers instead of a hand-written CPU list. WCS CPUs are the union of the containers' cpusets, the
housekeeping CPUs the plan's ``reserved_cpus``.
"""
from __future__ import annotations

import errno
import json
import os
import re
import time

from ansible_collections.mediaops.wcs.plugins.module_utils import cgroups
from ansible_collections.mediaops.wcs.plugins.module_utils.cpu_plan import format_cpuset, parse_cpuset
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import bad_character, check_interface_name

RECORD_PATH = "/var/lib/mediaops-wcs/tuning-record.json"
DROPIN_NAME = "90-mediaops-wcs.conf"
SYSTEM_CONF_DROPIN = "/etc/systemd/system.conf.d/" + DROPIN_NAME
SERVICE_DROPIN = "/etc/systemd/system/%s.service.d/" + DROPIN_NAME
SYSCTL_DROPIN = "/etc/sysctl.d/" + DROPIN_NAME
GRUB_DROPIN = "/etc/default/grub.d/90-mediaops-wcs.cfg"
IRQBALANCE_CONFIGS = ("/etc/default/irqbalance", "/etc/sysconfig/irqbalance")
WORKQUEUE_CPUMASK = "/sys/devices/virtual/workqueue/cpumask"
SERVICES = ("docker", "containerd")
UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
# UDP media: bursts of RTP for many streams land in socket buffers; the defaults (208 KiB) drop under load.
DEFAULT_SYSCTLS = {
    "net.core.rmem_max": 16777216,
    "net.core.wmem_max": 16777216,
    "net.core.rmem_default": 1048576,
    "net.core.wmem_default": 1048576,
    "net.core.netdev_max_backlog": 5000,
}
SYSCTL_KEY = re.compile(r"\A(net\.(core|ipv4|ipv6)|vm|kernel)(\.[a-z0-9_]+)+\Z")
# Flags of /proc/<pid>/stat (include/linux/sched.h): kernel threads, and tasks the kernel forbids to move.
PF_KTHREAD = 0x00200000
PF_NO_SETAFFINITY = 0x04000000
CONTAINER_ID = re.compile(r"[0-9a-f]{64}")
IRQ_PATH = re.compile(r"\A/proc/irq/(\d+)/smp_affinity_list\Z")
PROCESS_NAMES_SHOWN = 12


# ---------------------------------------------------------------------------------------------------- paths
def is_live_root(root):
    """Whether ``root`` is this host's own ``/`` (however spelled: ``//``, ``/.``, ``/tmp/..``, a link to ``/``):
    the tuning then acts on the live kernel. Compared by file identity, never by text."""
    if root in ("", "/", None):
        return True
    try:
        return os.path.realpath(root) == "/" or os.path.samefile(root, "/")
    except (OSError, TypeError, ValueError):
        return False


def check_root(root, field="root"):
    """A root to tune or audit: ``/`` (the live host) or an existing directory (a relative path is made absolute)."""
    if root in ("", None):
        return "/"
    if not isinstance(root, str) or bad_character(root) is not None:
        raise PlanError(field, root, "give / (this host) or the path of a recorded or test tree")
    if not os.path.isdir(root):
        raise PlanError(field, root, "give / (this host) or an existing directory holding a recorded tree",
                        why="it is not a directory")
    return root if root.startswith("/") else os.path.abspath(root)


def _has_dot_segment(path):
    return any(part in (".", "..") for part in path.split("/"))


def _path(root, path):
    """``path`` of the host below ``root``. PlanError when ``path`` has a ``.``/``..`` segment or, below a test
    root, resolves outside it."""
    if not isinstance(path, str) or not path.startswith("/") or _has_dot_segment(path) or "\0" in path:
        raise PlanError("path", path, "report this: tuning builds only absolute paths without '.' or '..'",
                        why="it could leave %s" % (root or "/"))
    if is_live_root(root):
        return path
    full = os.path.join(root, path.lstrip("/"))
    base = os.path.realpath(root)
    resolved = os.path.realpath(full)
    if resolved != base and not resolved.startswith(base.rstrip("/") + "/"):
        raise PlanError("root", root, "record the tree without links that leave it (or tune / itself)",
                        why="%s resolves to %s, outside the root" % (path, resolved))
    return full


def check_record_path(path, root="/", field="record_path"):
    """The record's path as seen inside ``root``: absolute, no ``.``/``..`` segment, not a directory, and below the
    root once resolved; returns it."""
    if not isinstance(path, str) or bad_character(path) is not None or not path.startswith("/") or \
            path.endswith("/") or _has_dot_segment(path.replace("//", "/")) or len(path) > 4096:
        raise PlanError(field, path, "give an absolute file path without '.' or '..' segments, e.g. %s"
                        % RECORD_PATH)
    full = _path(root, path)
    if os.path.isdir(full):
        raise PlanError(field, path, "name a file, e.g. %s" % RECORD_PATH, why="it is a directory")
    return path


def nic_name(parent, field="wcs_plan.network.parent"):
    """The network parent of a plan, checked as an interface name (it becomes a /sys path); None when unset."""
    if parent in (None, ""):
        return None
    return check_interface_name(parent, field)


# ---------------------------------------------------------------------------------------------------- reading


def _read(root, path, default=None):
    try:
        with open(_path(root, path), encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return default


def _strip(text):
    return text.strip() if isinstance(text, str) else text


def _listdir(root, path):
    try:
        return sorted(os.listdir(_path(root, path)))
    except OSError:
        return []


def mask_to_cpus(text):
    """Kernel hex mask (``3``, ``00000000,0000ff00``) -> sorted CPU ids."""
    value = int((text or "0").strip().replace(",", "") or "0", 16)
    return [bit for bit in range(value.bit_length()) if value >> bit & 1]


def cpus_to_mask(cpus, like=None):
    """Sorted CPU ids -> kernel hex mask, in 32-bit groups like ``like`` (the value found in the file)."""
    value = 0
    for cpu in cpus:
        value |= 1 << cpu
    digits = "%x" % value
    if like is None:
        return digits
    digits = digits.rjust(len(like.strip().replace(",", "")), "0")
    if "," not in like:
        return digits
    groups = []
    while digits:
        groups.insert(0, digits[-8:])
        digits = digits[:-8]
    return ",".join(groups)


def wcs_split(plan, online=None):
    """``(wcs_cpus, housekeeping_cpus, parent)`` from a ``wcs_plan`` dict.

    WCS CPUs: the union of the containers' cpusets. Housekeeping: the plan's ``reserved_cpus``, less any WCS CPU
    (1.0.0 computed it as online minus planned, which is the same on a host that keeps CPUs back). Raises
    PlanError when the plan keeps no CPU for the host, or when nothing is pinned.
    """
    if not isinstance(plan, dict):
        raise PlanError("wcs_plan", plan, "run role mediaops.wcs.plan first (it sets the wcs_plan fact)")
    wcs = set()
    containers = plan.get("containers") or []
    if not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
        raise PlanError("wcs_plan.containers", containers if not isinstance(containers, list) else "(a list)",
                        "run role mediaops.wcs.plan first (wcs_plan.containers is a list of container entries)")
    for index, container in enumerate(containers):
        wcs.update(parse_cpuset(container.get("cpuset") or "", "wcs_plan.containers[%d].cpuset" % index))
    if not wcs:
        raise PlanError("wcs_plan.containers[].cpuset", "", "pin the containers (the plan role does by default)",
                        why="no container has a cpuset, so no CPU belongs to WCS alone")
    reserved = set(parse_cpuset(plan.get("reserved_cpus") or "", "wcs_plan.reserved_cpus")) - wcs
    if online is not None:
        reserved &= set(online)
    if not reserved:
        raise PlanError("wcs_plan.reserved_cpus", plan.get("reserved_cpus", ""),
                        "keep CPUs for the host: set wcs_reserved_cpus (e.g. \"0\", or leave it null for the first "
                        "core of each NUMA node) and plan again",
                        why="tuning moves interrupts and host processes onto the host's reserved CPUs, and this plan "
                            "keeps none (WCS CPUs %s)" % format_cpuset(wcs))
    network = plan.get("network") or {}
    if not isinstance(network, dict):
        raise PlanError("wcs_plan.network", network, "run role mediaops.wcs.plan first (wcs_plan.network is a "
                        "mapping with the parent interface)")
    parent = nic_name(network.get("parent"))
    return sorted(wcs), sorted(reserved), parent


def online_cpus(root="/"):
    text = _strip(_read(root, "/sys/devices/system/cpu/online"))
    return parse_cpuset(text, "/sys/devices/system/cpu/online") if text else []


def read_interrupt_names(root="/"):
    """``{irq: "virtio3-rx"}`` from /proc/interrupts (the action names after the chip and hwirq columns)."""
    names = {}
    lines = (_read(root, "/proc/interrupts", default="") or "").splitlines()
    if not lines:
        return names
    ncpus = len(lines[0].split())
    for line in lines[1:]:
        head, _sep, rest = line.partition(":")
        if not head.strip().isdigit():
            continue
        fields = rest.split()
        tail = fields[ncpus:]
        # chip name, hwirq and trigger come first; the actions are the last field(s), comma separated
        names[int(head)] = " ".join(tail[2:]) if len(tail) > 2 else " ".join(tail)
    return names


def read_irqs(root="/", refused=None):
    """Every IRQ with a /proc/irq/<n> directory: ``{irq, name, affinity, effective, movable, why}``.

    ``movable`` is false when the kernel refused a write before (``refused``: {irq: why}, kept in the record),
    when debugfs marks it managed, or when its affinity file is read-only; otherwise true (the kernel has the last
    word when it is written).
    """
    refused = refused or {}
    names = read_interrupt_names(root)
    irqs = []
    for entry in _listdir(root, "/proc/irq"):
        if not entry.isdigit():
            continue
        irq = int(entry)
        base = "/proc/irq/%d" % irq
        affinity_text = _strip(_read(root, base + "/smp_affinity_list"))
        if affinity_text is None:
            continue
        effective_text = _strip(_read(root, base + "/effective_affinity_list"))
        movable, why = True, ""
        debug = _read(root, "/sys/kernel/debug/irq/irqs/%d" % irq, default="") or ""
        if str(irq) in refused:
            movable, why = False, refused[str(irq)]
        elif re.search(r"\bMANAGED\b", debug):
            movable, why = False, "managed by its driver (debugfs flags MANAGED)"
        elif not os.access(_path(root, base + "/smp_affinity_list"), os.W_OK):
            movable, why = False, "smp_affinity_list is read-only"
        irqs.append({
            "irq": irq,
            "name": names.get(irq, _strip(_read(root, "/sys/kernel/irq/%d/actions" % irq, default="")) or ""),
            "affinity": parse_cpuset(affinity_text, base + "/smp_affinity_list") if affinity_text else [],
            "raw": affinity_text,
            "effective": parse_cpuset(effective_text, "effective_affinity_list") if effective_text else None,
            "movable": movable,
            "why": why,
        })
    return irqs


def parse_env_file(text):
    """``KEY=value`` lines of a shell-style env file (/etc/default/irqbalance) -> dict; quotes stripped."""
    values = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _sep, value = line.partition("=")
        key = key.replace("export ", "").strip()
        values[key] = value.strip().strip("\"'")
    return values


def read_irqbalance(root="/"):
    """``{installed, running, config, banned}``: banned from IRQBALANCE_BANNED_CPULIST (or the older hex
    IRQBALANCE_BANNED_CPUS) of /etc/default/irqbalance or /etc/sysconfig/irqbalance."""
    config = next((p for p in IRQBALANCE_CONFIGS if os.path.isfile(_path(root, p))), None)
    binary = any(os.path.exists(_path(root, d + "/irqbalance")) for d in ("/usr/sbin", "/usr/bin", "/sbin"))
    running = [pid for pid, comm in _comms(root) if comm == "irqbalance"]
    banned = []
    if config:
        values = parse_env_file(_read(root, config, default=""))
        if values.get("IRQBALANCE_BANNED_CPULIST"):
            banned = parse_cpuset(values["IRQBALANCE_BANNED_CPULIST"], config + " IRQBALANCE_BANNED_CPULIST")
        elif values.get("IRQBALANCE_BANNED_CPUS"):
            banned = mask_to_cpus(values["IRQBALANCE_BANNED_CPUS"])
    return {"installed": bool(binary or config or running), "running": bool(running), "config": config,
            "banned": banned}


def _comms(root):
    for entry in _listdir(root, "/proc"):
        if entry.isdigit():
            comm = _strip(_read(root, "/proc/%s/comm" % entry))
            if comm is not None:
                yield int(entry), comm


def systemd_is_pid1(root="/"):
    return _strip(_read(root, "/proc/1/comm")) == "systemd"


def pid1_name(root="/"):
    return _strip(_read(root, "/proc/1/comm")) or "unknown"


def parse_unit_setting(text, section, key):
    """The last ``key=`` of ``[section]`` in a systemd unit or conf file (systemd's own rule: later wins)."""
    value, current = None, None
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif current == section and "=" in line:
            name, _sep, rest = line.partition("=")
            if name.strip() == key:
                value = rest.strip()
    return value


def _conf_d(root, directory):
    return [directory + "/" + n for n in _listdir(root, directory) if n.endswith(".conf")]


def read_systemd_affinity(root="/"):
    """``{pid1, manager, docker, containerd, units}``: CPUAffinity= as systemd would read it (main file, then the
    drop-ins in name order; a later value wins). ``units``: which services have a unit file."""
    manager = None
    for path in ["/etc/systemd/system.conf"] + _conf_d(root, "/etc/systemd/system.conf.d"):
        found = parse_unit_setting(_read(root, path, default=""), "Manager", "CPUAffinity")
        manager = found if found is not None else manager
    out = {"pid1": systemd_is_pid1(root), "pid1_name": pid1_name(root), "manager": manager or "", "units": []}
    for service in SERVICES:
        unit = next((d + "/%s.service" % service for d in UNIT_DIRS
                     if os.path.isfile(_path(root, d + "/%s.service" % service))), None)
        value = parse_unit_setting(_read(root, unit, default=""), "Service", "CPUAffinity") if unit else None
        for path in _conf_d(root, "/etc/systemd/system/%s.service.d" % service):
            found = parse_unit_setting(_read(root, path, default=""), "Service", "CPUAffinity")
            value = found if found is not None else value
        out[service] = value or ""
        if unit:
            out["units"].append(service)
    return out


def parse_stat(text):
    """``(comm, flags, starttime)`` from /proc/<pid>/stat (comm may hold spaces and parentheses)."""
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return comm, int(fields[6]), int(fields[19])


def container_id_of(cgroup_text):
    """The 64-hex container id in a task's /proc/<pid>/cgroup (``/docker/<id>``, ``docker-<id>.scope``), or ''."""
    match = CONTAINER_ID.search(cgroup_text or "")
    return match.group(0) if match else ""


def read_tasks(root="/", pids=None):
    """Every task (thread) of every process: ``{pid, tid, comm, allowed, kthread, fixed, container, starttime}``.

    ``pids`` limits the scan to those processes. Tasks that vanish while being read are left out.
    """
    tasks = []
    for entry in _listdir(root, "/proc"):
        if not entry.isdigit() or (pids is not None and int(entry) not in pids):
            continue
        pid = int(entry)
        cgroup = _read(root, "/proc/%d/cgroup" % pid, default="")
        container = container_id_of(cgroup)
        tids = _listdir(root, "/proc/%d/task" % pid) or [entry]
        for tid_text in tids:
            if not tid_text.isdigit():
                continue
            tid = int(tid_text)
            base = "/proc/%d/task/%d" % (pid, tid) if os.path.isdir(_path(root, "/proc/%d/task" % pid)) \
                else "/proc/%d" % pid
            status = _read(root, base + "/status")
            stat = _read(root, base + "/stat")
            if status is None or stat is None:
                continue
            allowed = None
            for line in status.splitlines():
                if line.startswith("Cpus_allowed_list:"):
                    allowed = parse_cpuset(line.split(":", 1)[1].strip(), "Cpus_allowed_list")
            try:
                comm, flags, starttime = parse_stat(stat)
            except (ValueError, IndexError):
                continue
            if allowed is None:
                continue
            tasks.append({"pid": pid, "tid": tid, "comm": comm, "allowed": allowed,
                          "kthread": bool(flags & PF_KTHREAD), "fixed": bool(flags & PF_NO_SETAFFINITY),
                          "container": container, "starttime": starttime})
    return tasks


def _parent_device(root, device):
    """The host path of the parent of the device ``device`` links to (a virtio NIC's PCI device: what the kernel
    reads as ``device/..``), resolved here so no path holds ``..``; None when it is not below ``root``."""
    resolved = os.path.dirname(os.path.realpath(_path(root, device)))
    if is_live_root(root):
        return resolved if resolved != "/" else None
    base = os.path.realpath(root)
    if not resolved.startswith(base.rstrip("/") + "/"):
        return None
    return "/" + os.path.relpath(resolved, base)


def _find_unit_net(root, parent):
    base = "/sys/class/net/%s" % parent
    return base if os.path.isdir(_path(root, base)) else None


def read_nic(root="/", parent=None, interrupt_names=None):
    """The parent NIC: ``{name, exists, numa_node, queue_irqs, rps, xps}``.

    Queue IRQs: the MSI vectors of its PCI device (``device/msi_irqs``, or the parent device's for virtio), else
    IRQs whose /proc/interrupts name holds the interface name. RPS/XPS: ``{queue: [cpus]}`` per rx/tx queue.
    """
    parent = nic_name(parent, "parent")
    if not parent:
        return {"name": "", "exists": False, "numa_node": None, "queue_irqs": [], "rps": {}, "xps": {}}
    base = _find_unit_net(root, parent)
    if base is None:
        return {"name": parent, "exists": False, "numa_node": None, "queue_irqs": [], "rps": {}, "xps": {}}
    numa = None
    devices = [base + "/device"] + [d for d in [_parent_device(root, base + "/device")] if d]
    for device in devices:
        text = _strip(_read(root, device + "/numa_node"))
        if text is not None and re.match(r"\A-?\d+\Z", text):
            numa = int(text)
            break
    irqs = []
    for device in devices:
        found = [int(n) for n in _listdir(root, device + "/msi_irqs") if n.isdigit()]
        if found:
            irqs = found
            break
    if not irqs and interrupt_names:
        pattern = re.compile(r"(^|[^a-z0-9])%s([^a-z0-9.]|$)" % re.escape(parent))
        irqs = sorted(i for i, n in interrupt_names.items() if pattern.search(n))
    rps, xps = {}, {}
    for queue in _listdir(root, base + "/queues"):
        if queue.startswith("rx-"):
            text = _strip(_read(root, "%s/queues/%s/rps_cpus" % (base, queue)))
            if text is not None:
                rps[queue] = {"cpus": mask_to_cpus(text), "raw": text}
        elif queue.startswith("tx-"):
            text = _strip(_read(root, "%s/queues/%s/xps_cpus" % (base, queue)))
            if text is not None:
                xps[queue] = {"cpus": mask_to_cpus(text), "raw": text}
    return {"name": parent, "exists": True, "numa_node": numa if numa is None or numa >= 0 else None,
            "queue_irqs": sorted(irqs), "rps": rps, "xps": xps}


def read_governors(root="/", cpus=()):
    """``{cpu: {"governor": .., "available": [..]}}`` for CPUs with cpufreq; {} without cpufreq."""
    out = {}
    for cpu in cpus:
        base = "/sys/devices/system/cpu/cpu%d/cpufreq" % cpu
        governor = _strip(_read(root, base + "/scaling_governor"))
        if governor is not None:
            available = (_read(root, base + "/scaling_available_governors", default="") or "").split()
            out[cpu] = {"governor": governor, "available": available}
    return out


def read_cmdline_flags(root="/"):
    """isolcpus / nohz_full / rcu_nocbs / irqaffinity as found on /proc/cmdline (raw values, '' when absent)."""
    cmdline = _read(root, "/proc/cmdline", default="") or ""
    flags = {"isolcpus": "", "nohz_full": "", "rcu_nocbs": "", "irqaffinity": ""}
    for token in cmdline.split():
        if token == "--":
            break
        key, _sep, value = token.partition("=")
        if key in flags:
            flags[key] = value
    return flags


def sysctl_path(key):
    return "/proc/sys/" + key.replace(".", "/")


def _sysctl_value(root, key):
    text = _strip(_read(root, sysctl_path(key)))
    return int(text) if text is not None and re.match(r"\A-?\d+\Z", text) else text


def read_sysctls(root="/", keys=()):
    return {key: _sysctl_value(root, key) for key in keys}


# ---------------------------------------------------------------------------------------------------- audit
def audit(root="/", wcs=(), housekeeping=(), parent=None, container_ids=(), record=None, sysctl_keys=None,
          pids=None):
    """The state of the host as it bears on WCS CPUs (see the module docstring). Reads only.

    ``container_ids``: ids of the WCS containers (their tasks are theirs to run on WCS CPUs). ``record``: the
    tuning record, for IRQs the kernel refused to move before.
    """
    wcs_set = set(wcs)
    record = record or {}
    names = read_interrupt_names(root)
    irqs = read_irqs(root, record.get("refused_irqs"))
    for irq in irqs:
        irq["on_wcs"] = bool(set(irq["affinity"]) & wcs_set)
    default_text = _strip(_read(root, "/proc/irq/default_smp_affinity"))
    workqueue_text = _strip(_read(root, WORKQUEUE_CPUMASK))
    tasks = read_tasks(root, pids)
    ids = set(container_ids)
    host_on_wcs = [t for t in tasks if not t["kthread"] and t["container"] not in ids and set(t["allowed"]) & wcs_set]
    only_wcs = [t for t in host_on_wcs if not set(t["allowed"]) - wcs_set]
    kthreads_on_wcs = [t for t in tasks if t["kthread"] and set(t["allowed"]) & wcs_set and len(t["allowed"]) > 1]
    wcs_tasks = [t for t in tasks if t["container"] in ids and t["container"]]
    proc_names = sorted({t["comm"] for t in host_on_wcs})
    keys = sorted(DEFAULT_SYSCTLS) if sysctl_keys is None else sorted(sysctl_keys)
    state = {
        "root": root,
        "wcs_cpus": format_cpuset(wcs),
        "housekeeping_cpus": format_cpuset(housekeeping),
        "online_cpus": format_cpuset(online_cpus(root)),
        "irqs": irqs,
        "default_smp_affinity": {"raw": default_text, "cpus": mask_to_cpus(default_text)} if default_text else None,
        "workqueue_cpumask": {"raw": workqueue_text, "cpus": mask_to_cpus(workqueue_text)} if workqueue_text else None,
        "irqbalance": read_irqbalance(root),
        "systemd": read_systemd_affinity(root),
        "processes": {
            "host_tasks_on_wcs": len(host_on_wcs),
            "host_processes_on_wcs": len({t["pid"] for t in host_on_wcs}),
            "names": proc_names[:PROCESS_NAMES_SHOWN] + (["..."] if len(proc_names) > PROCESS_NAMES_SHOWN else []),
            "only_on_wcs": len(only_wcs),
            "kernel_threads_on_wcs": len(kthreads_on_wcs),
            "wcs_container_tasks": len(wcs_tasks),
        },
        "nic": read_nic(root, parent, names),
        "governors": read_governors(root, sorted(wcs_set)),
        "cmdline": read_cmdline_flags(root),
        "grub_dropin": os.path.isfile(_path(root, GRUB_DROPIN)),
        "sysctls": read_sysctls(root, keys),
        "record": bool(record),
    }
    state["_tasks"] = tasks  # for plan_changes; dropped from module output
    state["_container_ids"] = sorted(ids)
    state["issues"] = issues(state, wcs_set)
    return state


def issues(state, wcs_set):
    """What still lets the host run work on WCS CPUs, one sentence each (empty: nothing found)."""
    out = []
    movable = [i["irq"] for i in state["irqs"] if i["on_wcs"] and i["movable"]]
    if movable:
        out.append("%d movable IRQ(s) may fire on WCS CPUs: %s" % (len(movable), format_cpuset(movable)))
    dsa = state["default_smp_affinity"]
    if dsa and set(dsa["cpus"]) & wcs_set:
        out.append("default_smp_affinity (%s) includes WCS CPUs: new IRQs land there" % dsa["raw"])
    ib = state["irqbalance"]
    if ib["running"] and not wcs_set <= set(ib["banned"]):
        out.append("irqbalance runs without banning the WCS CPUs: it will move IRQs back onto them")
    procs = state["processes"]
    movable_tasks = procs["host_tasks_on_wcs"] - procs["only_on_wcs"]
    if movable_tasks:
        out.append("%d host task(s) of %d process(es) may run on WCS CPUs (%s)" % (
            movable_tasks, procs["host_processes_on_wcs"], ", ".join(procs["names"])))
    for queue, mask in sorted(state["nic"]["rps"].items()):
        if set(mask["cpus"]) & wcs_set:
            out.append("RPS of %s %s steers packets to WCS CPUs (%s)" % (state["nic"]["name"], queue, mask["raw"]))
    return out


def _fmt(cpus):
    return format_cpuset(cpus) if cpus else "-"


def table(state):
    """The audit as aligned text lines (``item | value | note``) for preflight."""
    wcs_set = set(parse_cpuset(state["wcs_cpus"]))
    rows = [("WCS CPUs / housekeeping", "%s / %s" % (state["wcs_cpus"] or "-", state["housekeeping_cpus"] or "-"),
             "online %s" % (state["online_cpus"] or "?"))]
    on_wcs = [i for i in state["irqs"] if i["on_wcs"]]
    fixed = [i for i in on_wcs if not i["movable"]]
    rows.append(("IRQs on WCS CPUs", "%d of %d" % (len(on_wcs), len(state["irqs"])),
                 ("%d the kernel will not move" % len(fixed)) if fixed else
                 ("no /proc/irq in this tree" if not state["irqs"] else "")))
    dsa = state["default_smp_affinity"]
    rows.append(("default_smp_affinity", dsa["raw"] if dsa else "-",
                 "includes WCS CPUs" if dsa and set(dsa["cpus"]) & wcs_set else ""))
    wq = state["workqueue_cpumask"]
    rows.append(("workqueue cpumask", wq["raw"] if wq else "-",
                 "includes WCS CPUs" if wq and set(wq["cpus"]) & wcs_set else ""))
    ib = state["irqbalance"]
    rows.append(("irqbalance", ("running" if ib["running"] else "installed, stopped") if ib["installed"]
                 else "not installed", "banned %s (%s)" % (_fmt(ib["banned"]), ib["config"]) if ib["config"] else ""))
    sd = state["systemd"]
    rows.append(("systemd CPUAffinity", "system %s, docker %s, containerd %s" % (
        sd["manager"] or "-", sd["docker"] or "-", sd["containerd"] or "-"),
        "" if sd["pid1"] else "systemd is not PID 1 (%s)" % sd["pid1_name"]))
    procs = state["processes"]
    counts = "%d tasks, %d processes" % (procs["host_tasks_on_wcs"], procs["host_processes_on_wcs"])
    rows.append(("host tasks on WCS CPUs", counts,
                 ", ".join(procs["names"])))
    rows.append(("WCS container tasks", str(procs["wcs_container_tasks"]),
                 "%d kernel threads may also run there" % procs["kernel_threads_on_wcs"]))
    nic = state["nic"]
    if nic["name"]:
        rows.append(("NIC %s" % nic["name"], "numa node %s, %d queue IRQs" % (
            "-" if nic["numa_node"] is None else nic["numa_node"], len(nic["queue_irqs"])),
            "" if nic["exists"] else "not found"))
        rows.append(("  RPS / XPS", "%s / %s" % (
            ",".join("%s=%s" % (q, m["raw"]) for q, m in sorted(nic["rps"].items())) or "-",
            ",".join("%s=%s" % (q, m["raw"]) for q, m in sorted(nic["xps"].items())) or "-"), ""))
    gov = sorted({g["governor"] for g in state["governors"].values()})
    rows.append(("governor (WCS CPUs)", ",".join(gov) or "-", "" if gov else "no cpufreq"))
    cmd = state["cmdline"]
    rows.append(("kernel cmdline", " ".join("%s=%s" % (k, v) for k, v in sorted(cmd.items()) if v) or "-",
                 "drop-in %s present" % GRUB_DROPIN if state["grub_dropin"] else ""))
    rows.append(("sysctls", " ".join("%s=%s" % (k.replace("net.core.", ""), "-" if v is None else v)
                                     for k, v in sorted(state["sysctls"].items())), ""))
    if not is_live_root(state["root"]) and not state["irqs"] and not procs["host_tasks_on_wcs"]:
        verdict = ("not recorded", "this tree has no /proc/irq and no tasks: record them to audit (%s)"
                   % state["root"])
    else:
        verdict = ("clean" if not state["issues"] else "%d issue(s)" % len(state["issues"]),
                   "; ".join(state["issues"]))
    rows.append(("verdict",) + verdict)
    width = max(len(r[0]) for r in rows)
    return ["%-*s | %s%s" % (width, r[0], r[1], (" | " + r[2]) if r[2] else "") for r in rows]


def public(state):
    """The audit without internal keys (what modules return)."""
    return {k: v for k, v in state.items() if not k.startswith("_")}


# ---------------------------------------------------------------------------------------------------- planning
DEFAULT_OPTIONS = {
    "irqs": True,
    "default_irq_affinity": True,
    "workqueue": True,
    "irqbalance": True,
    "systemd": True,
    "processes": True,
    "rps": True,
    "governor": True,
    "sysctls": dict(DEFAULT_SYSCTLS),
    "kernel_cmdline": False,
}


def check_sysctls(values, field="sysctls"):
    """Validated ``{key: int}``; keys net.core/net.ipv4/net.ipv6/vm/kernel, whole numbers >= 0."""
    if not isinstance(values, dict):
        raise PlanError(field, values, "give a mapping of sysctl names to whole numbers")
    out = {}
    for key, value in values.items():
        if not isinstance(key, str) or not SYSCTL_KEY.match(key):
            raise PlanError(field, key, "name a sysctl such as net.core.rmem_max (letters, digits, '_' and '.')")
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and
                                                                      re.match(r"\A[0-9]{1,19}\Z", value))):
            raise PlanError("%s.%s" % (field, key), value if not isinstance(value, str) else value[:40],
                            "give a whole number >= 0")
        if not 0 <= int(value) < 2 ** 63:
            raise PlanError("%s.%s" % (field, key), value, "give a whole number from 0 to %d" % (2 ** 63 - 1))
        out[key] = int(value)
    return out


def kernel_args(wcs):
    """Boot arguments for the WCS CPUs. ``isolcpus=managed_irq,...`` keeps managed IRQs off them without
    removing them from the scheduler's domains (a multi-threaded JVM still balances across its cpuset)."""
    cpus = format_cpuset(wcs)
    return ["isolcpus=managed_irq,%s" % cpus, "nohz_full=%s" % cpus, "rcu_nocbs=%s" % cpus]


def set_env_line(text, key, value):
    """``text`` of an env file with ``key=value`` set once (replacing a set or commented line, else appended)."""
    lines = (text or "").splitlines()
    out, done = [], False
    pattern = re.compile(r"\A\s*#?\s*(export\s+)?%s=" % re.escape(key))
    for line in lines:
        if pattern.match(line):
            if not done:
                out.append('%s="%s"' % (key, value))
                done = True
            continue
        out.append(line)
    if not done:
        out.append('%s="%s"' % (key, value))
    return "\n".join(out) + "\n"


def _write(steps, what, path, before, after):
    steps.append({"kind": "write", "what": what, "path": path, "before": before, "after": after})


def _file(steps, root, what, path, content, mode=0o644):
    before = _read(root, path)
    if before != content:
        steps.append({"kind": "file", "what": what, "path": path, "before": before, "after": content, "mode": mode})
        return True
    return False


def plan_changes(state, wcs, housekeeping, options=None, root="/", move_tasks=None):
    """``{"steps": [...], "skipped": [{"step", "why"}], "commands": [...]}`` for an audit ``state``.

    Steps hold the value found (``before``) and the one to write (``after``); ``commands`` run after the steps
    (reload systemd, restart irqbalance, rebuild the boot config) and only on the live root. ``move_tasks``:
    plan task moves (default: only on the live root, where the tasks are real).
    """
    opts = dict(DEFAULT_OPTIONS)
    opts.update({k: v for k, v in (options or {}).items() if v is not None})
    sysctls = check_sysctls(opts["sysctls"])
    wcs_set, house = set(wcs), sorted(housekeeping)
    house_text = format_cpuset(house)
    live = is_live_root(root)
    move_tasks = live if move_tasks is None else move_tasks
    steps, skipped, commands = [], [], []

    # irqbalance first: a running irqbalance that does not ban the WCS CPUs would move IRQs back.
    ib = state["irqbalance"]
    if not opts["irqbalance"]:
        skipped.append({"step": "irqbalance", "why": "turned off (irqbalance: false)"})
    elif not ib["installed"]:
        skipped.append({"step": "irqbalance", "why": "irqbalance is not installed"})
    else:
        path = ib["config"] or IRQBALANCE_CONFIGS[0]
        text = _read(root, path, default="")
        content = set_env_line(text, "IRQBALANCE_BANNED_CPULIST", format_cpuset(wcs))
        if _file(steps, root, "irqbalance banned CPUs", path, content):
            if ib["running"] and state["systemd"]["pid1"]:
                commands.append({"argv": ["systemctl", "try-restart", "irqbalance.service"],
                                 "why": "irqbalance reads its banned CPUs at start"})
            elif ib["running"]:
                skipped.append({"step": "irqbalance restart", "why": "systemd is not PID 1: restart irqbalance "
                                "yourself; until then it may move IRQs back onto WCS CPUs"})

    if not opts["irqs"]:
        skipped.append({"step": "irqs", "why": "turned off (irqs: false)"})
    elif not state["irqs"]:
        skipped.append({"step": "irqs", "why": "no /proc/irq/<n>/smp_affinity_list to write"})
    else:
        nic = state["nic"]
        node_house = house
        if nic["numa_node"] is not None:
            cpus_of_node = _node_cpus(root, nic["numa_node"])
            node_house = [c for c in house if c in cpus_of_node] or house
        queue_index = {irq: n for n, irq in enumerate(nic["queue_irqs"])}
        for irq in state["irqs"]:
            if not irq["on_wcs"]:
                continue
            if not irq["movable"]:
                skipped.append({"step": "irq %d (%s)" % (irq["irq"], irq["name"]), "why": irq["why"]})
                continue
            if irq["irq"] in queue_index:  # NIC queues: one housekeeping CPU of the NIC's node each
                target = [node_house[queue_index[irq["irq"]] % len(node_house)]]
            else:
                target = house
            _write(steps, "IRQ %d (%s) affinity" % (irq["irq"], irq["name"]),
                   "/proc/irq/%d/smp_affinity_list" % irq["irq"], irq["raw"],
                   format_cpuset(target))

    for key, what, value in (("default_irq_affinity", "default IRQ affinity", state["default_smp_affinity"]),
                             ("workqueue", "workqueue cpumask", state["workqueue_cpumask"])):
        path = "/proc/irq/default_smp_affinity" if key == "default_irq_affinity" else WORKQUEUE_CPUMASK
        if not opts[key]:
            skipped.append({"step": what, "why": "turned off (%s: false)" % key})
        elif value is None:
            skipped.append({"step": what, "why": "%s does not exist here" % path})
        elif set(value["cpus"]) & wcs_set:
            _write(steps, what, path, value["raw"], cpus_to_mask(house, like=value["raw"]))

    sd = state["systemd"]
    if not opts["systemd"]:
        skipped.append({"step": "systemd CPUAffinity", "why": "turned off (systemd: false)"})
    elif not sd["pid1"]:
        skipped.append({"step": "systemd CPUAffinity", "why": "systemd is not PID 1 (%s): drop-ins would not apply; "
                        "host processes are moved directly instead" % sd["pid1_name"]})
    else:
        reexec = _file(steps, root, "systemd system-wide CPUAffinity", SYSTEM_CONF_DROPIN,
                       "# mediaops.wcs tuning: host services run on the housekeeping CPUs\n"
                       "[Manager]\nCPUAffinity=%s\n" % house_text)
        reload_units = False
        for service in SERVICES:
            if service not in sd["units"]:
                skipped.append({"step": "%s CPUAffinity" % service, "why": "no %s.service unit" % service})
                continue
            reload_units |= _file(steps, root, "%s CPUAffinity" % service, SERVICE_DROPIN % service,
                                  "# mediaops.wcs tuning: takes effect when %s restarts; containers keep their "
                                  "cpusets\n[Service]\nCPUAffinity=%s\n" % (service, house_text))
        if reexec:
            commands.append({"argv": ["systemctl", "daemon-reexec"],
                             "why": "the manager reads CPUAffinity= of system.conf when it (re)starts"})
        elif reload_units:
            commands.append({"argv": ["systemctl", "daemon-reload"], "why": "new service drop-ins"})

    if not opts["processes"]:
        skipped.append({"step": "processes", "why": "turned off (processes: false)"})
    elif not move_tasks:
        skipped.append({"step": "processes", "why": "root is not /: tasks of a recorded tree cannot be moved"})
    else:
        ids = set(state.get("_container_ids") or ())
        for task in state["_tasks"]:
            allowed = set(task["allowed"])
            if task["kthread"] or (task["container"] and task["container"] in ids) or not allowed & wcs_set:
                continue
            target = allowed - wcs_set
            if not target or task["fixed"]:
                continue  # pinned to WCS CPUs only on purpose, or the kernel forbids moving it
            what = "task %d (%s) of pid %d" % (task["tid"], task["comm"], task["pid"])
            steps.append({"kind": "affinity", "what": what,
                          "pid": task["pid"], "tid": task["tid"], "comm": task["comm"],
                          "starttime": task["starttime"], "before": format_cpuset(task["allowed"]),
                          "after": format_cpuset(target)})

    nic = state["nic"]
    if not opts["rps"]:
        skipped.append({"step": "rps", "why": "turned off (rps: false)"})
    elif not nic["name"]:
        skipped.append({"step": "rps", "why": "the plan names no network parent"})
    elif not nic["exists"]:
        skipped.append({"step": "rps", "why": "interface %s not found" % nic["name"]})
    else:
        for queue, mask in sorted(nic["rps"].items()):
            if set(mask["cpus"]) & wcs_set:  # 0 (RPS off) stays off: packets stay on the CPU of the queue's IRQ
                _write(steps, "RPS of %s %s" % (nic["name"], queue),
                       "/sys/class/net/%s/queues/%s/rps_cpus" % (nic["name"], queue), mask["raw"],
                       cpus_to_mask(house, like=mask["raw"]))
        if not nic["rps"]:
            skipped.append({"step": "rps", "why": "%s has no rx queue with rps_cpus" % nic["name"]})

    if not opts["governor"]:
        skipped.append({"step": "governor", "why": "turned off (governor: false)"})
    elif not state["governors"]:
        skipped.append({"step": "governor", "why": "no cpufreq on the WCS CPUs (a VM, or the firmware owns it)"})
    else:
        for cpu, gov in sorted(state["governors"].items()):
            if gov["governor"] == "performance":
                continue
            if "performance" not in gov["available"]:
                skipped.append({"step": "governor cpu%d" % cpu, "why": "performance is not among %s"
                                % " ".join(gov["available"])})
                continue
            _write(steps, "cpu%d governor" % cpu, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor" % cpu,
                   gov["governor"], "performance")

    # Runtime values are raised, never lowered; the drop-in keeps the higher of target and current at boot.
    sysctl_lines, raise_any = [], False
    for key, value in sorted(sysctls.items()):
        current = state["sysctls"].get(key) if key in state["sysctls"] else _sysctl_value(root, key)
        if not isinstance(current, int):
            skipped.append({"step": "sysctl %s" % key, "why": "%s does not exist here" % sysctl_path(key)})
            continue
        sysctl_lines.append("%s = %d" % (key, max(value, current)))
        if current < value:
            raise_any = True
            _write(steps, "sysctl %s" % key, sysctl_path(key), str(current), str(value))
    if sysctl_lines and (raise_any or os.path.exists(_path(root, SYSCTL_DROPIN))):
        _file(steps, root, "sysctl drop-in", SYSCTL_DROPIN,
              "# mediaops.wcs tuning: socket buffers and backlog for UDP media\n" + "\n".join(sysctl_lines) + "\n")
    elif sysctls and sysctl_lines:
        skipped.append({"step": "sysctls", "why": "every value is already at or above the target"})
    elif not sysctls:
        skipped.append({"step": "sysctls", "why": "turned off (sysctls: {})"})

    if not opts["kernel_cmdline"]:
        skipped.append({"step": "kernel cmdline", "why": "opt-in (kernel_cmdline: false)"})
    elif not os.path.isdir(_path(root, "/etc/default")) or not (
            os.path.isfile(_path(root, "/etc/default/grub")) or os.path.isdir(_path(root, "/etc/default/grub.d"))):
        skipped.append({"step": "kernel cmdline", "why": "no GRUB configuration in /etc/default (grub, grub.d): "
                        "add %s to the boot loader yourself" % " ".join(kernel_args(wcs))})
    else:
        args = " ".join(kernel_args(wcs))
        if _file(steps, root, "kernel cmdline drop-in", GRUB_DROPIN,
                 "# mediaops.wcs tuning: keep managed IRQs, timer ticks and RCU callbacks off the WCS CPUs\n"
                 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT %s"\n' % args):
            commands.append(_grub_command(root))
    return {"steps": steps, "skipped": skipped, "commands": [c for c in commands if c]}


def _grub_command(root):
    for binary in ("/usr/sbin/update-grub", "/sbin/update-grub"):
        if os.path.exists(_path(root, binary)):
            return {"argv": [binary], "why": "rebuild grub.cfg with the drop-in"}
    for binary, cfg in (("/usr/sbin/grub2-mkconfig", "/boot/grub2/grub.cfg"),
                        ("/usr/sbin/grub-mkconfig", "/boot/grub/grub.cfg")):
        if os.path.exists(_path(root, binary)) and os.path.exists(_path(root, cfg)):
            return {"argv": [binary, "-o", cfg], "why": "rebuild grub.cfg with the drop-in"}
    return {"argv": None, "why": "no update-grub / grub-mkconfig found: rebuild the boot configuration yourself"}


def _node_cpus(root, node):
    text = _strip(_read(root, "/sys/devices/system/node/node%d/cpulist" % node))
    return set(parse_cpuset(text, "node cpulist")) if text else set()


def reboot_required(root, wcs, present=True):
    """Whether the running kernel differs from what the boot loader will give it: with ``present``, the drop-in
    exists and the kernel runs without its arguments; else (after a revert) the kernel still runs with them."""
    running = set((_read(root, "/proc/cmdline", default="") or "").split())
    if present:
        return os.path.isfile(_path(root, GRUB_DROPIN)) and not set(kernel_args(wcs)) <= running
    return bool(wcs) and bool(set(kernel_args(wcs)) & running)


def host_path(root, path):
    """``path`` of the host below ``root``."""
    return _path(root, path)


def remember(root, record, steps):
    """Puts the values and files the steps will overwrite into ``record`` (first value found wins), so the record
    can be saved before the first change."""
    for step in steps:
        if step["kind"] == "write":
            record["values"].setdefault(step["path"], step["before"])
        elif step["kind"] == "file" and step["path"] not in record["files"]:
            full = _path(root, step["path"])
            record["files"][step["path"]] = None if step["before"] is None else {
                "content": step["before"], "mode": os.stat(full).st_mode & 0o7777}


# ---------------------------------------------------------------------------------------------------- applying
_RECORD_VALUE = re.compile(r"\A(/proc/irq/[0-9]{1,9}/smp_affinity_list|/proc/irq/default_smp_affinity|%s"
                           r"|/sys/class/net/[A-Za-z0-9_.@-]{1,15}/queues/rx-[0-9]{1,9}/rps_cpus"
                           r"|/sys/devices/system/cpu/cpu[0-9]{1,9}/cpufreq/scaling_governor"
                           r"|/proc/sys/(net/(core|ipv4|ipv6)|vm|kernel)/[a-z0-9_/]+)\Z" % re.escape(WORKQUEUE_CPUMASK))
RECORD_FILES = frozenset((SYSTEM_CONF_DROPIN, SYSCTL_DROPIN, GRUB_DROPIN) + IRQBALANCE_CONFIGS
                         + tuple(SERVICE_DROPIN % service for service in SERVICES))
_RECORD_FIX = "move the damaged file away (then revert by hand from it, or start over)"


def _check_record(record, where):
    """A record names only what tuning writes: its values (IRQ, RPS, governor, sysctl paths), its files (the
    drop-ins and irqbalance's config), tasks by tid:starttime. Anything else is refused before revert acts on it."""
    def bad(why):
        raise PlanError("record", where, _RECORD_FIX, why=why)
    for key in ("values", "files", "tasks", "refused_irqs"):
        if not isinstance(record.get(key, {}), dict):
            bad("its %s is not a mapping" % key)
    for path, before in record.get("values", {}).items():
        if not _RECORD_VALUE.match(path) or _has_dot_segment(path):
            bad("it names the value %r, which tuning never writes" % (path,))
        if before is not None and not isinstance(before, str):
            bad("the value of %s is not text" % path)
    for path, prior in record.get("files", {}).items():
        if path not in RECORD_FILES:
            bad("it names the file %r, which tuning never writes" % (path,))
        if prior is not None and not (isinstance(prior, dict) and isinstance(prior.get("content"), str)
                                      and isinstance(prior.get("mode", 0o644), int)
                                      and not isinstance(prior.get("mode", 0o644), bool)
                                      and 0 <= prior.get("mode", 0o644) <= 0o7777):
            bad("the entry of %s is not {content, mode}" % path)
    for key, task in record.get("tasks", {}).items():
        if not re.match(r"\A[0-9]{1,9}:[0-9]{1,20}\Z", str(key)) or not isinstance(task, dict) or \
                not isinstance(task.get("pid"), int) or isinstance(task.get("pid"), bool) or \
                not isinstance(task.get("cpus"), str):
            bad("its task entry %r is not tid:starttime -> {pid, comm, cpus}" % (key,))
        try:
            parse_cpuset(task["cpus"], "record.tasks")
        except PlanError:
            bad("its task entry %r holds the CPU list %r" % (key, task["cpus"]))
    for field in ("wcs_cpus", "housekeeping_cpus"):
        try:
            if not isinstance(record.get(field, ""), str):
                raise PlanError(field, record.get(field), "a CPU list")
            parse_cpuset(record.get(field, ""), field)
        except PlanError:
            bad("its %s is not a CPU list" % field)
    return record


def load_record(root="/", path=RECORD_PATH):
    check_record_path(path, root)
    text = _read(root, path)
    if not text:
        return {}
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        raise PlanError("record", _path(root, path), _RECORD_FIX, why="it is not JSON")
    return _check_record(record, _path(root, path)) if isinstance(record, dict) else {}


def save_record(root, path, record):
    """Writes the record atomically with mode 0600 (it holds only paths, CPU lists and file contents we wrote
    over; 0600 because the files restored from it are root's)."""
    check_record_path(path, root)
    full = _path(root, path)
    os.makedirs(os.path.dirname(full), mode=0o700, exist_ok=True)
    tmp = full + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, full)


def new_record(wcs, housekeeping):
    return {"version": 1, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "wcs_cpus": format_cpuset(wcs), "housekeeping_cpus": format_cpuset(housekeeping),
            "values": {}, "files": {}, "tasks": {}, "refused_irqs": {}}


def _write_text(full, text):
    with open(full, "w") as handle:
        handle.write(text)


def _write_file(full, content, mode):
    os.makedirs(os.path.dirname(full), exist_ok=True)
    tmp = full + ".mediaops-wcs.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, full)


def task_starttime(pid, tid, root="/"):
    """Start time (clock ticks since boot) of thread ``tid`` of process ``pid``; None when it is gone."""
    stat = _read(root, "/proc/%d/task/%d/stat" % (pid, tid))
    try:
        return parse_stat(stat)[2] if stat else None
    except (ValueError, IndexError):
        return None


def apply_steps(root, plan, record, setaffinity=os.sched_setaffinity):
    """Carries out ``plan["steps"]``, merging what was there into ``record`` (first value found wins).

    Returns ``{"changed": [what...], "refused": [{what, why}], "tasks_moved": n}``. A write the kernel refuses
    (an IRQ it manages, a task that vanished) is reported, not raised; refused IRQs go into the record so the next
    run skips them.
    """
    changed, refused, moved = [], [], 0
    for step in plan["steps"]:
        full = _path(root, step["path"]) if "path" in step else None
        try:
            if step["kind"] == "write":
                _write_text(full, step["after"] + "\n")
                record["values"].setdefault(step["path"], step["before"])
            elif step["kind"] == "file":
                if step["path"] not in record["files"]:
                    prior = None
                    if step["before"] is not None:
                        prior = {"content": step["before"], "mode": os.stat(full).st_mode & 0o7777}
                    record["files"][step["path"]] = prior
                mode = os.stat(full).st_mode & 0o7777 if os.path.exists(full) else step.get("mode", 0o644)
                _write_file(full, step["after"], mode)  # an edited file keeps its mode
            elif step["kind"] == "affinity":
                if task_starttime(step["pid"], step["tid"], root) != step["starttime"]:
                    continue  # gone, or the tid was reused
                setaffinity(step["tid"], parse_cpuset(step["after"]))
                record["tasks"].setdefault("%d:%d" % (step["tid"], step["starttime"]), {
                    "pid": step["pid"], "comm": step["comm"], "cpus": step["before"]})
                moved += 1
                continue
            changed.append(step["what"])
        except OSError as exc:
            why = "the kernel refused: %s" % (exc.strerror or exc)
            irq = IRQ_PATH.match(step.get("path", ""))
            if step["kind"] == "write" and irq:
                record["refused_irqs"][irq.group(1)] = why
            if step["kind"] == "affinity" and exc.errno in (errno.ESRCH,):
                continue
            refused.append({"what": step["what"], "why": why})
    return {"changed": changed, "refused": refused, "tasks_moved": moved}


def run_commands(plan, live, run_command):
    """Runs the plan's commands on the live root; returns ``[{argv, rc, why}]`` and skips with the reason."""
    out = []
    for command in plan["commands"]:
        if not command["argv"]:
            out.append({"argv": None, "rc": None, "why": command["why"]})
        elif not live:
            out.append({"argv": command["argv"], "rc": None, "why": "root is not /: not run (%s)" % command["why"]})
        else:
            rc, _out, err = run_command(command["argv"])
            out.append({"argv": command["argv"], "rc": rc, "why": command["why"], "stderr": (err or "").strip()})
    return out


def revert(root, record, setaffinity=os.sched_setaffinity, online=None):
    """Restores every value, file and task affinity of ``record`` exactly; returns what it did and could not do.

    Tasks are restored only while the same task runs (pid and start time match); their previous CPUs are cut to
    the online ones. Files that did not exist are removed; others get their content and mode back.
    """
    restored, failed, commands = [], [], []
    online = set(online if online is not None else online_cpus(root))
    for path, before in sorted(record.get("values", {}).items()):
        full = _path(root, path)
        try:
            current = _strip(_read(root, path))
            if current != before and before is not None:
                _write_text(full, before + "\n")
                restored.append(path)
        except OSError as exc:
            failed.append({"what": path, "why": exc.strerror or str(exc)})
    for path, prior in sorted(record.get("files", {}).items()):
        full = _path(root, path)
        try:
            if prior is None:
                if os.path.exists(full):
                    os.remove(full)
                    restored.append(path)
            elif _read(root, path) != prior["content"]:
                _write_file(full, prior["content"], prior.get("mode", 0o644))
                restored.append(path)
            if "systemd" in path:
                commands.append({"argv": ["systemctl", "daemon-reexec" if "system.conf.d" in path
                                          else "daemon-reload"], "why": "restored %s" % path})
            elif "irqbalance" in path:
                commands.append({"argv": ["systemctl", "try-restart", "irqbalance.service"],
                                 "why": "restored %s" % path})
            elif path == GRUB_DROPIN:
                commands.append(_grub_command(root))
        except OSError as exc:
            failed.append({"what": path, "why": exc.strerror or str(exc)})
    moved = 0
    for key, task in sorted(record.get("tasks", {}).items()):
        tid, starttime = (int(x) for x in key.split(":"))
        if task_starttime(task["pid"], tid, root) != starttime:
            continue  # the task ended: nothing to restore
        cpus = set(parse_cpuset(task["cpus"])) & online if online else set(parse_cpuset(task["cpus"]))
        try:
            setaffinity(tid, cpus)
            moved += 1
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                failed.append({"what": "task %d (%s)" % (tid, task.get("comm")), "why": exc.strerror or str(exc)})
    unique = []
    for command in commands:
        if command["argv"] not in [c["argv"] for c in unique]:
            unique.append(command)
    return {"restored": restored, "tasks_restored": moved, "failed": failed, "commands": unique}


def verify_containers(root, containers, online=None):
    """Whether each WCS container's tasks may still use its whole cpuset.

    ``containers``: ``{id: {"name", "cpuset"}}``. The cpuset each task should have is the container's effective
    cpuset as the kernel holds it in its cgroup; where that cannot be read (a recorded tree), the given cpuset,
    '' meaning every online CPU, None unknown (the row's ``expected`` is then None and nothing is compared).
    Returns one row per container: ``{name, expected, tasks, narrowed: [{tid, comm, allowed}]}``. Moving
    dockerd's or containerd's affinity can narrow what new children inherit, so this reads Cpus_allowed_list
    instead of assuming.
    """
    online = online if online is not None else online_cpus(root)
    ids = set(containers)
    by_id = {}
    for task in read_tasks(root):
        if task["container"] in ids:
            by_id.setdefault(task["container"], []).append(task)
    rows = []
    for cid, info in sorted(containers.items(), key=lambda kv: kv[1]["name"]):
        tasks = by_id.get(cid, [])
        expected = _cgroup_cpuset(root, tasks[0]["pid"]) if tasks else None
        if expected is None and info.get("cpuset") is not None:
            expected = parse_cpuset(info["cpuset"]) or list(online)
        if expected is None:  # neither the cgroup nor the engine says: nothing to compare with
            rows.append({"name": info["name"], "expected": None, "tasks": len(tasks), "narrowed": []})
            continue
        narrowed = [{"tid": t["tid"], "comm": t["comm"], "allowed": format_cpuset(t["allowed"])}
                    for t in tasks if set(expected) - set(t["allowed"])]
        rows.append({"name": info["name"], "expected": format_cpuset(expected), "tasks": len(tasks),
                     "narrowed": narrowed})
    return rows


def _cgroup_cpuset(root, pid):
    """The effective cpuset of ``pid``'s cgroup (v1 cpuset hierarchy or v2 unified), None when unreadable."""
    try:
        found = cgroups.container_cgroups(pid, root=root)
        text = cgroups.limits(found)["cpuset"]
    except (cgroups.CgroupError, OSError, ValueError):
        return None
    return parse_cpuset(text, "cpuset.effective_cpus") if text else None


def managed_containers(client):
    """``{id: {"name", "cpuset"}}`` of the running containers labelled ``mediaops.wcs.managed=true`` (one list
    call on a ``docker.APIClient``); the cpuset is the module's canonical label, else '' (unpinned)."""
    found = {}
    for entry in client.containers(filters={"label": "mediaops.wcs.managed=true", "status": "running"}):
        labels = entry.get("Labels") or {}
        name = (entry.get("Names") or ["/" + entry["Id"][:12]])[0].lstrip("/")
        found[entry["Id"]] = {"name": name, "cpuset": labels.get("mediaops.wcs.cpuset", "")}
    return found


def audit_result(plan, root="/", record_path=RECORD_PATH, container_ids=(), pids=()):
    """What host_tuning_facts returns: {table, issues, refusal, ansible_facts} of the host (or tree) at ``root``.

    A plan that tuning would refuse (e.g. no reserved CPUs) is still audited against its WCS CPUs; the refusal is
    the last line of the table. PlanError for an unreadable tree.
    """
    root = check_root(root)
    check_record_path(record_path, root)
    online = online_cpus(root) or None
    refusal = ""
    try:
        wcs, house, parent = wcs_split(plan, online)
    except PlanError as err:
        refusal = str(err)
        plan = plan if isinstance(plan, dict) else {}
        containers = plan.get("containers") if isinstance(plan.get("containers"), list) else []
        wcs = sorted({cpu for c in containers if isinstance(c, dict) and isinstance(c.get("cpuset"), str)
                      for cpu in parse_cpuset(c["cpuset"])})
        house = []
        network = plan.get("network") if isinstance(plan.get("network"), dict) else {}
        parent = nic_name(network.get("parent"))
    state = audit(root, wcs, house, parent, container_ids=list(container_ids), record=load_record(root, record_path),
                  pids=set(pids) or None)
    lines = table(state)
    if refusal:
        lines.append("tuning would refuse: " + refusal)
    return {"table": lines, "issues": state["issues"], "refusal": refusal,
            "ansible_facts": {"wcs_tuning_audit_result": public(state)}}

"""Find a container's CPU cgroups on the host: cgroup v1 (cgroupfs driver) and cgroup v2 (systemd driver).

Standard library only. Paths come from the kernel, not from guesses about the driver: the container's
``/proc/<pid>/cgroup`` says which cgroup each hierarchy puts it in, the mount table says where each hierarchy is
mounted. Every reader takes a ``root`` so that recorded trees (tests/fixtures/cgroup/) work like a live host.

Only the hierarchies that carry CPU constraints matter here: ``cpu``, ``cpuacct`` and ``cpuset`` on cgroup v1,
the unified hierarchy on cgroup v2 (where ``cpu`` and ``cpuset`` are controllers of one tree). On a hybrid host
(v1 controllers plus an empty ``cgroup2`` at /sys/fs/cgroup/unified) the v1 hierarchies hold the constraints.
"""
from __future__ import annotations

import os

CPU_CONTROLLERS = ("cpu", "cpuacct", "cpuset")


class CgroupError(Exception):
    """The container's cgroup cannot be found or read; the message says where it looked."""


def parse_proc_cgroup(text):
    """``/proc/<pid>/cgroup`` -> list of ``(hierarchy_id, controllers, path)``; v2 lines have no controllers."""
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        hier, controllers, path = line.split(":", 2)
        names = tuple(c for c in controllers.split(",") if c)
        entries.append((int(hier), names, path))
    return entries


def parse_mountinfo(text):
    """``/proc/self/mountinfo`` -> cgroup mounts ``{fstype, root, mount_point, controllers}``.

    For v1 the controllers are the super options naming a controller (``cpu``, ``cpuacct``, ``name=systemd``...);
    for ``cgroup2`` they are read later from ``cgroup.controllers`` since the mount options do not list them.
    """
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        fstype = fields[sep + 1]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        super_opts = fields[sep + 3].split(",") if len(fields) > sep + 3 else []
        controllers = ()
        if fstype == "cgroup":
            # Extra flags (rw, xattr, clone_children...) are harmless: lookups only test controller membership.
            controllers = tuple(o for o in super_opts if "=" not in o or o.startswith("name="))
        mounts.append({
            "fstype": fstype,
            "root": _unescape(fields[3]),
            "mount_point": _unescape(fields[4]),
            "controllers": controllers,
        })
    return mounts


def _unescape(field):
    # mountinfo escapes space, tab, newline and backslash as octal (\040 ...).
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit() and len(field[i + 1:i + 4]) == 3:
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _host_path(root, path):
    """A host absolute path under ``root`` (``/`` on a live host, a fixture directory in tests)."""
    return os.path.join(root, path.lstrip("/")) if root not in ("", "/") else path


def _relative_to_mount(cg_path, mount_root):
    """The cgroup path below a mount whose root is ``mount_root``; None when the cgroup is outside that mount."""
    if cg_path.startswith("/.."):
        return None  # outside this process's cgroup namespace: not reachable from here
    if mount_root in ("", "/"):
        return cg_path
    if cg_path == mount_root or cg_path.startswith(mount_root.rstrip("/") + "/"):
        return cg_path[len(mount_root.rstrip("/")):] or "/"
    return None


def resolve(proc_cgroup_text, mountinfo_text, root="/"):
    """Where the CPU constraints of the process described by ``proc_cgroup_text`` live.

    Returns ``{"version": 1|2, "dirs": {hierarchy_label: directory}}``: one directory per v1 hierarchy carrying
    cpu/cpuacct/cpuset (``"cpu"``, ``"cpuset"``, or ``"cpu,cpuacct"`` where they are mounted together), or
    ``{"unified": dir}`` on v2. Raises CgroupError naming what is missing.
    """
    entries = parse_proc_cgroup(proc_cgroup_text)
    mounts = parse_mountinfo(mountinfo_text)
    dirs = {}
    for _hier, controllers, path in entries:
        if not controllers or not set(controllers) & set(CPU_CONTROLLERS):
            continue
        mount = next((m for m in mounts if m["fstype"] == "cgroup" and set(controllers) <= set(m["controllers"])),
                     None)
        if mount is None:
            raise CgroupError("cgroup v1 hierarchy %s is not mounted (looked in the mount table)" % ",".join(controllers))
        rel = _relative_to_mount(path, mount["root"])
        if rel is None:
            raise CgroupError("cgroup %s:%s is outside the mount of %s (root %s)"
                              % (",".join(controllers), path, mount["mount_point"], mount["root"]))
        label = ",".join(c for c in controllers if c in CPU_CONTROLLERS)
        dirs[label] = _host_path(root, os.path.join(mount["mount_point"], rel.lstrip("/")).rstrip("/"))
    if dirs:
        return {"version": 1, "dirs": dirs}

    unified = next((path for _hier, controllers, path in entries if _hier == 0 and not controllers), None)
    if unified is None:
        raise CgroupError("no cpu, cpuacct or cpuset hierarchy and no cgroup v2 line in /proc/<pid>/cgroup")
    for mount in (m for m in mounts if m["fstype"] == "cgroup2"):
        rel = _relative_to_mount(unified, mount["root"])
        if rel is None:
            continue
        mount_dir = _host_path(root, mount["mount_point"])
        controllers = _read(os.path.join(mount_dir, "cgroup.controllers"), default="").split()
        if "cpu" not in controllers and "cpuset" not in controllers:
            continue  # hybrid host: this cgroup2 mount carries no CPU controller
        return {"version": 2, "dirs": {"unified": os.path.join(mount_dir, rel.lstrip("/")).rstrip("/")}}
    raise CgroupError("cgroup v2 path %s is not below a cgroup2 mount with the cpu or cpuset controller" % unified)


def container_cgroups(pid, root="/"):
    """``resolve()`` for a live process: reads ``/proc/<pid>/cgroup`` and ``/proc/self/mountinfo`` under root."""
    proc_cgroup = _read(_host_path(root, "/proc/%d/cgroup" % int(pid)))
    if proc_cgroup is None:
        raise CgroupError("/proc/%d/cgroup cannot be read: is the container running?" % int(pid))
    mountinfo = _read(_host_path(root, "/proc/self/mountinfo"))
    if mountinfo is None:
        raise CgroupError("/proc/self/mountinfo cannot be read")
    found = resolve(proc_cgroup, mountinfo, root=root)
    for label, path in found["dirs"].items():
        if not os.path.isfile(os.path.join(path, "cgroup.procs")):
            raise CgroupError("cgroup directory %s (%s) has no cgroup.procs" % (path, label))
    return found


def candidate_dirs_for_id(container_id, mountinfo_text, root="/"):
    """Without a pid: the directories the common layouts would use for a container id, existing ones only.

    v1 cgroupfs ``<mount>/docker/<id>``, v1 systemd ``<mount>/system.slice/docker-<id>.scope``, v2 systemd
    ``<mount>/system.slice/docker-<id>.scope``, v2 cgroupfs ``<mount>/docker/<id>``. Returns a ``resolve()``-shaped
    dict or raises CgroupError listing where it looked.
    """
    mounts = parse_mountinfo(mountinfo_text)
    tails = ("docker/%s" % container_id, "system.slice/docker-%s.scope" % container_id)
    looked = []
    dirs = {}
    for mount in (m for m in mounts if m["fstype"] == "cgroup" and set(m["controllers"]) & set(CPU_CONTROLLERS)):
        label = ",".join(c for c in mount["controllers"] if c in CPU_CONTROLLERS)
        for tail in tails:
            path = os.path.join(_host_path(root, mount["mount_point"]), tail)
            looked.append(path)
            if os.path.isfile(os.path.join(path, "cgroup.procs")):
                dirs[label] = path
                break
    if dirs:
        return {"version": 1, "dirs": dirs}
    for mount in (m for m in mounts if m["fstype"] == "cgroup2"):
        mount_dir = _host_path(root, mount["mount_point"])
        controllers = _read(os.path.join(mount_dir, "cgroup.controllers"), default="").split()
        if "cpu" not in controllers and "cpuset" not in controllers:
            continue
        for tail in tails:
            path = os.path.join(mount_dir, tail)
            looked.append(path)
            if os.path.isfile(os.path.join(path, "cgroup.procs")):
                return {"version": 2, "dirs": {"unified": path}}
    raise CgroupError("no cgroup found for container %s; looked in: %s" % (container_id, ", ".join(looked) or "nothing"))


def limits(found):
    """The CPU constraints in the found cgroups: ``{"cpuset": "1-3"|None, "quota_cpus": 1.5|None}``.

    ``cpuset`` is the effective set (what the kernel enforces); ``quota_cpus`` is quota/period, None when unlimited.
    """
    cpuset = None
    quota_cpus = None
    if found["version"] == 2:
        d = found["dirs"]["unified"]
        cpuset = _read(os.path.join(d, "cpuset.cpus.effective")) or _read(os.path.join(d, "cpuset.cpus"))
        cpu_max = _read(os.path.join(d, "cpu.max"))
        if cpu_max:
            quota, _sep, period = cpu_max.strip().partition(" ")
            if quota != "max" and period:
                quota_cpus = int(quota) / int(period)
    else:
        for label, d in found["dirs"].items():
            if "cpuset" in label.split(","):
                cpuset = _read(os.path.join(d, "cpuset.effective_cpus")) or _read(os.path.join(d, "cpuset.cpus"))
            if "cpu" in label.split(","):
                quota = _read(os.path.join(d, "cpu.cfs_quota_us"))
                period = _read(os.path.join(d, "cpu.cfs_period_us"))
                if quota and period and int(quota) > 0:
                    quota_cpus = int(quota) / int(period)
    return {"cpuset": cpuset.strip() if cpuset else None, "quota_cpus": quota_cpus}


def procs(found):
    """Pids in each found cgroup: ``{label: [pid, ...]}`` (to check nothing was left behind)."""
    out = {}
    for label, d in found["dirs"].items():
        text = _read(os.path.join(d, "cgroup.procs"), default="")
        out[label] = sorted(int(p) for p in text.split())
    return out


def join(found, pid=None):
    """Moves ``pid`` (default: this process) into every found cgroup. Only ever called in the probe's child."""
    pid = os.getpid() if pid is None else pid
    for label, d in sorted(found["dirs"].items()):
        path = os.path.join(d, "cgroup.procs")
        try:
            with open(path, "w") as f:
                f.write("%d\n" % pid)
        except OSError as exc:
            raise CgroupError("cannot join %s (%s): %s" % (d, label, exc.strerror or exc))


def cpus_allowed(pid, root="/"):
    """The CPUs a process may run on, from ``/proc/<pid>/status`` (Cpus_allowed_list); None if unreadable."""
    text = _read(_host_path(root, "/proc/%d/status" % int(pid)))
    for line in (text or "").splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    return None


def _read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default

"""cgroups.py: resolving a container's CPU cgroups from /proc/<pid>/cgroup + the mount table (v1, v2, hybrid)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils import cgroups

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cgroup"
V1 = FIXTURES / "v1-cgroupfs"
V2 = FIXTURES / "v2-systemd"


def _containers(root):
    rows = [line.split() for line in (root / "CONTAINERS").read_text().splitlines() if line.strip()]
    return [(None if pid == "-" else int(pid), cid) for pid, cid in rows]


def test_v1_recorded_tree_resolves_the_three_cpu_hierarchies():
    pid, cid = _containers(V1)[0]
    found = cgroups.container_cgroups(pid, root=str(V1))
    assert found["version"] == 1
    assert found["dirs"] == {
        c: os.path.join(str(V1), "sys/fs/cgroup/%s/docker/%s" % (c, cid)) for c in ("cpu", "cpuacct", "cpuset")
    }
    # hybrid host: the empty cgroup2 at /sys/fs/cgroup/unified is not one of them
    assert not any("unified" in d for d in found["dirs"].values())
    assert cgroups.limits(found) == {"cpuset": "1", "quota_cpus": 1.0}
    assert cgroups.procs(found)["cpuset"] == [pid]


def test_v1_by_id_finds_the_same_directories():
    pid, cid = _containers(V1)[0]
    mountinfo = (V1 / "proc/self/mountinfo").read_text()
    assert cgroups.candidate_dirs_for_id(cid, mountinfo, root=str(V1)) == cgroups.container_cgroups(pid, root=str(V1))


def test_v2_systemd_tree_resolves_the_scope():
    pid, cid = _containers(V2)[0]
    found = cgroups.container_cgroups(pid, root=str(V2))
    scope = os.path.join(str(V2), "sys/fs/cgroup/system.slice/docker-%s.scope" % cid)
    assert found == {"version": 2, "dirs": {"unified": scope}}
    assert cgroups.limits(found) == {"cpuset": "1-9,21-29", "quota_cpus": None}
    assert pid in cgroups.procs(found)["unified"]
    assert cgroups.cpus_allowed(pid, root=str(V2)) == "1-9,21-29"


def test_v2_by_id_reads_the_quota():
    _pid, cid = _containers(V2)[1]
    mountinfo = (V2 / "proc/self/mountinfo").read_text()
    found = cgroups.candidate_dirs_for_id(cid, mountinfo, root=str(V2))
    assert found["version"] == 2
    assert found["dirs"]["unified"].endswith("system.slice/docker-%s.scope" % cid)
    assert cgroups.limits(found) == {"cpuset": "0-39", "quota_cpus": 1.5}


def test_unknown_id_says_where_it_looked():
    mountinfo = (V2 / "proc/self/mountinfo").read_text()
    with pytest.raises(cgroups.CgroupError, match="docker-feed.scope"):
        cgroups.candidate_dirs_for_id("feed", mountinfo, root=str(V2))


def test_missing_process_is_a_clear_error(tmp_path):
    with pytest.raises(cgroups.CgroupError, match="is the container running"):
        cgroups.container_cgroups(424242, root=str(tmp_path))


MOUNTS_COMBINED = (
    "25 20 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct\n"
    "31 25 0:28 / /sys/fs/cgroup/cpuset rw,nosuid shared:13 - cgroup cgroup rw,cpuset,clone_children\n"
    "32 25 0:29 / /sys/fs/cgroup/systemd rw shared:9 - cgroup cgroup rw,xattr,name=systemd\n"
)


def test_v1_combined_cpu_cpuacct_mount_and_systemd_driver():
    proc = ("12:cpuset:/system.slice/docker-abc.scope\n"
            "4:cpu,cpuacct:/system.slice/docker-abc.scope\n"
            "1:name=systemd:/system.slice/docker-abc.scope\n")
    found = cgroups.resolve(proc, MOUNTS_COMBINED)
    assert found == {"version": 1, "dirs": {
        "cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/system.slice/docker-abc.scope",
        "cpuset": "/sys/fs/cgroup/cpuset/system.slice/docker-abc.scope",
    }}


def test_mount_root_below_the_hierarchy_root_is_stripped():
    # inside a container whose cgroup namespace is the hierarchy's /docker: mount root is /docker
    mounts = "40 31 0:31 /docker /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
    found = cgroups.resolve("3:cpuset:/docker/abc\n", mounts)
    assert found["dirs"] == {"cpuset": "/sys/fs/cgroup/cpuset/abc"}


def test_cgroup_outside_the_namespace_is_refused():
    mounts = "35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
    with pytest.raises(cgroups.CgroupError, match="not below a cgroup2 mount"):
        cgroups.resolve("0::/../system.slice/docker-abc.scope\n", mounts)


def test_v1_hierarchy_not_mounted():
    with pytest.raises(cgroups.CgroupError, match="cpuset is not mounted"):
        cgroups.resolve("3:cpuset:/docker/abc\n", "")


def test_mountinfo_octal_escapes():
    mounts = cgroups.parse_mountinfo("41 31 0:38 / /sys/fs/cgroup/my\\040cg rw - cgroup cgroup rw,cpu\n")
    assert mounts[0]["mount_point"] == "/sys/fs/cgroup/my cg"

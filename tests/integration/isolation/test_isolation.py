"""The probe, the module and verify_isolation against real containers on the real engine (cgroup of this host).

Containers are busybox (benchmarks/isolation_image.sh), named wcst-iso-<test>-<random>, without network, removed
afterwards. Probes are 1-3 s.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils import cgroups, cpusets, timer_probe

ROOT = Path(__file__).resolve().parents[3]
IMAGE = "mediaops/wcs-busybox:test"
PROBE_SCRIPT = ROOT / "plugins" / "module_utils" / "timer_probe.py"


def _probed_cpu():
    return sorted(cpusets.parse_cpuset(Path("/sys/devices/system/cpu/online").read_text()))[-1]


@pytest.fixture(scope="module")
def image():
    subprocess.run([str(ROOT / "benchmarks" / "isolation_image.sh")], check=True)
    return IMAGE


@pytest.fixture
def container(docker_client, image):
    """Factory: container(cpuset=None, nano_cpus=None, command=...) -> (Container reloaded, its pid)."""
    made = []

    def make(cpuset=None, nano_cpus=None, command=("sleep", "600")):
        opts = {}
        if cpuset is not None:
            opts["cpuset_cpus"] = cpuset
        if nano_cpus:
            opts["nano_cpus"] = nano_cpus
        c = docker_client.containers.run(image, list(command), name="wcst-iso-%s" % uuid.uuid4().hex[:8],
                                         detach=True, network_mode="none", **opts)
        made.append(c)
        c.reload()
        return c, c.attrs["State"]["Pid"]

    yield make
    for c in made:
        c.remove(force=True)


def _cpu_cgroup_procs(pid):
    return cgroups.procs(cgroups.container_cgroups(pid))


def test_probe_joins_the_container_cgroup_and_stays_in_its_cpuset(container):
    cpu = _probed_cpu()
    c, pid = container(cpuset=str(cpu))
    before = _cpu_cgroup_procs(pid)
    # as users run it: the script, as a separate process, on a container pid
    proc = subprocess.run([sys.executable, str(PROBE_SCRIPT), "--duration", "2", "--cgroup-join", str(pid),
                           "--method", "cgroup"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    r = json.loads(proc.stdout)
    pl = r["placement"]
    assert pl["method"] == "cgroup" and pl["isolation"] == "pinned" and pl["cpuset"] == str(cpu)
    assert r["ticks"] == 100 and r["lateness_ms"]["p50"] <= r["lateness_ms"]["max"]
    for seen in (pl["observed_start"], pl["observed_end"]):
        # the kernel's view from inside the probe: affinity and Cpus_allowed_list are the container's cpuset
        assert seen["affinity"] == str(cpu) and seen["cpus_allowed_list"] == str(cpu)
        # and it sat in the container's cgroups (cpu, cpuacct, cpuset here; the scope on cgroup v2)
        for line in seen["proc_cgroup"]:
            if line.startswith("0::") and len(seen["proc_cgroup"]) > 1:
                continue  # hybrid host: the empty unified hierarchy is not joined
            assert c.id in line, line
    # nothing left behind: the same processes in the container's cgroups as before, the container untouched
    assert _cpu_cgroup_procs(pid) == before
    c.reload()
    assert c.attrs["State"]["Running"] and c.attrs["HostConfig"]["CpusetCpus"] == str(cpu)


def test_probe_by_container_id_and_the_quota_is_reported(container):
    c, pid = container(nano_cpus=5 * 10 ** 8)
    r = timer_probe.run_probes([{"name": "q", "container_id": c.id, "method": "cgroup"}], 20, 1, 1)["q"]
    assert r["placement"]["quota_cpus"] == 0.5 and r["placement"]["isolation"] == "quota"
    assert c.id in "".join(r["placement"]["observed_end"]["proc_cgroup"])
    assert _cpu_cgroup_procs(pid)["cpu"] == [pid]


def test_affinity_method_takes_the_cpuset_without_joining(container):
    cpu = _probed_cpu()
    c, pid = container(cpuset=str(cpu))
    r = timer_probe.run_probes([{"name": "a", "pid": pid, "method": "affinity"}], 20, 1, 1)["a"]
    pl = r["placement"]
    assert pl["method"] == "affinity" and pl["quota_applied"] is False
    assert pl["observed_end"]["affinity"] == str(cpu)
    assert not any(c.id in line for line in pl["observed_end"]["proc_cgroup"])


def test_module_probes_two_containers_at_once(module, container):
    cpu = _probed_cpu()
    pinned, _p = container(cpuset=str(cpu))
    shared, _s = container()
    r = module("timer_probe", {"containers": [pinned.name, shared.id], "duration": 2})
    assert r.get("failed") is not True, r.get("msg")
    assert r["changed"] is False
    assert set(r["probes"]) == {pinned.name, shared.name}
    rows = {row["name"]: row for row in r["summary"]}
    assert rows[pinned.name]["isolation"] == "pinned" and rows[pinned.name]["cpuset"] == str(cpu)
    assert rows[shared.name]["isolation"] == "shared"
    assert r["probes"][pinned.name]["id"] == pinned.id
    # the shared container reserves nothing, the pinned one its CPU
    assert cpusets.parse_cpuset(r["outside_cpus"]) == [x for x in cpusets.parse_cpuset(r["host_cpus"]) if x != cpu]


def _module_in_check_mode(playbook, tmp_path, args):
    """The module's check-mode result through a registered task: the ad hoc callback prints skipped results as a
    bare SKIPPED, a registered variable keeps every key."""
    out = tmp_path / "result.json"
    play = tmp_path / "check.yml"
    play.write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False, "connection": "local",
        "vars": {"ansible_python_interpreter": sys.executable},
        "tasks": [
            {"mediaops.wcs.timer_probe": args, "check_mode": True, "register": "r"},
            {"ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": str(out), "mode": "0600"},
             "check_mode": False},
        ]}]))
    proc = playbook(play, inventory="localhost,")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return json.loads(out.read_text())


def test_module_check_mode_probes_nothing(playbook, container, tmp_path):
    c, pid = container(cpuset=str(_probed_cpu()))
    r = _module_in_check_mode(playbook, tmp_path, {"containers": [c.name], "duration": 30})
    assert r["changed"] is False and r["skipped"] is True
    assert "nothing was probed" in r["msg"] and c.name in r["msg"]
    assert "probes" not in r
    assert [x["name"] for x in r["containers"]] == [c.name]


def test_module_discovers_managed_containers_in_check_mode(playbook, docker_client, tmp_path):
    r = _module_in_check_mode(playbook, tmp_path, {})
    assert r["changed"] is False and r["skipped"] is True
    for listed in r["containers"]:
        labels = docker_client.api.inspect_container(listed["id"])["Config"]["Labels"] or {}
        assert labels.get("mediaops.wcs.managed") == "true"


def test_module_bad_input_names_the_field(module, container):
    c, _pid = container()
    r = module("timer_probe", {"containers": [c.name], "work_ms": 25})
    assert r["failed"] and r["msg"].startswith("work_ms: ") and "Fix:" in r["msg"]
    r = module("timer_probe", {"containers": ["wcst-iso-no-such-container"], "duration": 1})
    assert r["failed"] and "wcst-iso-no-such-container" in r["msg"] and "Fix:" in r["msg"]


def _decode_png(path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    pixels = mpimg.imread(str(path))
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    return pixels


@pytest.fixture
def inventory(tmp_path):
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        "all:\n  children:\n    wcs_hosts:\n      hosts:\n        localhost:\n"
        "          ansible_connection: local\n"
        "          ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n")
    return inv


def test_verify_isolation_writes_report_and_plot_with_noise(playbook, container, inventory, tmp_path):
    cpu = _probed_cpu()
    pinned, _p = container(cpuset=str(cpu))
    shared, _s = container()
    report_dir = tmp_path / "report"
    proc = playbook("mediaops.wcs.verify_isolation", inventory=inventory, extra_vars={
        "wcs_isolation_containers": [pinned.name, shared.name], "wcs_isolation_duration": 2,
        "wcs_isolation_noise": True, "wcs_isolation_report_dir": str(report_dir),
        "wcs_isolation_p99_max_ms": 10000}, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "noise: busy loops on CPUs" in proc.stdout and "Stop the noise" in proc.stdout
    report = json.loads((report_dir / "report.json").read_text())
    probes = report["hosts"]["localhost"]
    assert set(probes) == {pinned.name, shared.name}
    for name, r in probes.items():
        assert r["ticks"] == 100 and "p99" in r["lateness_ms"] and r["cdf"], name
    assert probes[pinned.name]["placement"]["isolation"] == "pinned"
    _decode_png(report_dir / "lateness.png")
    # the table names both containers
    assert pinned.name in proc.stdout and shared.name in proc.stdout
    # the noise is gone (only timeout processes this test could have started are looked at)
    left = subprocess.run(["pgrep", "-f", "timeout -s KILL 17 taskset"], capture_output=True, text=True, check=False).stdout
    assert left.strip() == ""


def test_verify_isolation_fails_over_the_threshold(playbook, container, inventory, tmp_path):
    c, _pid = container()
    report_dir = tmp_path / "report"
    proc = playbook("mediaops.wcs.verify_isolation", inventory=inventory, extra_vars={
        "wcs_isolation_containers": [c.name], "wcs_isolation_duration": 1,
        "wcs_isolation_report_dir": str(report_dir), "wcs_isolation_p99_max_ms": 0.000001,
        "wcs_isolation_report_copy": str(tmp_path / "on-host/isolation.json")}, timeout=300)
    assert proc.returncode != 0
    assert "p99 timer lateness above" in proc.stdout and c.name in proc.stdout
    # the report is written (and copied to the host for the WCS exporter) before the threshold check
    assert c.name in json.loads((report_dir / "report.json").read_text())["hosts"]["localhost"]
    copied = json.loads((tmp_path / "on-host/isolation.json").read_text())
    assert [r["name"] for r in copied["summary"]["localhost"]] == [c.name] and copied["summary"]["localhost"][0]["p99_ms"] > 0


def test_verify_isolation_check_mode_probes_nothing(playbook, container, inventory, tmp_path):
    c, _pid = container()
    report_dir = tmp_path / "report"
    proc = playbook("mediaops.wcs.verify_isolation", inventory=inventory, check=True, extra_vars={
        "wcs_isolation_containers": [c.name], "wcs_isolation_report_dir": str(report_dir)}, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert not report_dir.exists()


@pytest.mark.parametrize("session_cpus", [None, "0"])
def test_verify_isolation_host_daemon_noise_runs_where_the_host_lets_daemons_run(playbook, container, inventory,
                                                                                 tmp_path, session_cpus):
    """Host-daemon noise is not pinned by the play: it inherits the affinity of the session that starts it. With the
    whole machine it may run on the pinned container's CPU; from a session kept on CPU 0 (what host tuning gives
    host services) it may not. The noise is gone afterwards."""
    cpu = _probed_cpu()
    pinned, _p = container(cpuset=str(cpu))
    report_dir = tmp_path / "report"
    mine = os.sched_getaffinity(0)
    try:
        if session_cpus:  # the playbook (and what it starts) inherits this, as a tuned host's sessions do
            os.sched_setaffinity(0, cpusets.parse_cpuset(session_cpus))
        proc = playbook("mediaops.wcs.verify_isolation", inventory=inventory, extra_vars={
            "wcs_isolation_containers": [pinned.name], "wcs_isolation_duration": 2, "wcs_isolation_host_noise": True,
            "wcs_isolation_host_noise_loops": 2, "wcs_isolation_report_dir": str(report_dir),
            "wcs_isolation_p99_max_ms": 10000}, timeout=300)
    finally:
        os.sched_setaffinity(0, mine)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    line = next(x for x in proc.stdout.splitlines() if "host-daemon noise processes by allowed CPUs" in x)
    online = cpusets.format_cpuset(cpusets.parse_cpuset(Path("/sys/devices/system/cpu/online").read_text()))
    assert ("Cpus_allowed_list:\t%s" % (session_cpus or online)) in line.replace("\\t", "\t"), line
    report = json.loads((report_dir / "report.json").read_text())
    assert report["settings"]["host_noise"] in (True, "True") and "host-daemon noise" in report["title"]
    left = subprocess.run(["pgrep", "-f", "timeout -s KILL 17 sh -c n="], capture_output=True, text=True,
                          check=False).stdout
    assert left.strip() == ""

"""host_tuning for real on this machine: IRQ affinities (writable here), the default IRQ affinity, the workqueue
cpumask, sysctls, RPS of our own veth, and the task fallback (systemd is not PID 1 here) on sleepers we start.

Test plan: housekeeping CPU 0, WCS CPU 1. Task moves are limited to our own processes (``process_pids``); the
record lives in a temporary directory. Whatever happens, every value is put back from the test's own snapshot and
the sleepers are stopped by pid. Audit, apply, audit again (no movable IRQ, no host task of ours on CPU 1), apply
again (nothing to do), revert (the exact previous values).

The container test (WCS containers' tasks are never moved, their cpusets verified) uses the default engine, under
the shared lock: ``flock /tmp/wcs-engine.lock python -m pytest tests/integration/tuning``.
"""
from __future__ import annotations

import glob
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils import host_tuning as ht

ROOT = Path(__file__).resolve().parents[3]
IMAGE = "mediaops/wcs-busybox:test"
PREFIX = "wcst-tun-"
VETH = "wcstt0"
SYSCTLS = sorted(ht.DEFAULT_SYSCTLS)

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (IRQ affinities, sysctls)"),
    pytest.mark.skipif(len(ht.online_cpus("/")) < 2, reason="needs 2 online CPUs (housekeeping 0, WCS 1)"),
]


def read(path):
    with open(path) as handle:
        return handle.read().strip()


def host_values():
    """Everything the test may change, as the kernel prints it."""
    paths = sorted(glob.glob("/proc/irq/[0-9]*/smp_affinity_list"))
    paths += ["/proc/irq/default_smp_affinity", ht.WORKQUEUE_CPUMASK]
    paths += [ht.sysctl_path(k) for k in SYSCTLS]
    paths += sorted(glob.glob("/sys/class/net/%s/queues/rx-*/rps_cpus" % VETH))
    return {p: read(p) for p in paths if os.path.exists(p)}


def put_back(values):
    for path, value in values.items():
        try:
            if os.path.exists(path) and read(path) != value:
                with open(path, "w") as handle:
                    handle.write(value + "\n")
        except OSError:
            pass  # a managed IRQ: never changed, nothing to put back


def allowed(pid):
    """Cpus_allowed_list of every thread of ``pid``."""
    out = {}
    for status in glob.glob("/proc/%d/task/*/status" % pid):
        for line in Path(status).read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                out[int(status.split("/")[4])] = line.split(":", 1)[1].strip()
    return out


@pytest.fixture
def sleepers():
    """Three unpinned processes of ours, one with extra threads (tasks are moved per thread)."""
    threads = "import threading, time\n" \
              "[threading.Thread(target=time.sleep, args=(120,), daemon=True).start() for _ in range(3)]\n" \
              "time.sleep(120)\n"
    procs = [subprocess.Popen(["sleep", "120"]), subprocess.Popen(["sleep", "120"]),
             subprocess.Popen([sys.executable, "-c", threads])]
    deadline = time.monotonic() + 5
    while len(allowed(procs[2].pid)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    yield [p.pid for p in procs]
    for proc in procs:
        proc.kill()
        proc.wait()


@pytest.fixture
def veth():
    """Our own veth (the plan's network parent) with RPS on every CPU of its rx queue."""
    subprocess.run(["ip", "link", "del", VETH], capture_output=True, check=False)
    subprocess.run(["ip", "link", "add", VETH, "type", "veth", "peer", "name", VETH + "p"], check=True)
    for link in (VETH, VETH + "p"):
        subprocess.run(["ip", "link", "set", link, "up"], check=True)
    online = ht.online_cpus("/")
    for path in glob.glob("/sys/class/net/%s/queues/rx-*/rps_cpus" % VETH):
        with open(path, "w") as handle:
            handle.write(ht.cpus_to_mask(online) + "\n")
    yield VETH
    subprocess.run(["ip", "link", "del", VETH], capture_output=True, check=False)


@pytest.fixture
def saved_host():
    """The host's values before the test, put back afterwards whatever happened."""
    before = host_values()
    yield before
    put_back(before)


def plan(parent=None):
    return {"reserved_cpus": "0", "containers": [{"name": PREFIX + "plan", "cpuset": "1"}],
            "network": {"parent": parent} if parent else {}}


def test_audit_apply_audit_revert_for_real(module, tmp_path, sleepers, veth, saved_host):
    record = str(tmp_path / "tuning-record.json")
    args = {"plan": plan(veth), "process_pids": sleepers, "record_path": record, "container_ids": ["0" * 64]}
    facts_args = {"plan": plan(veth), "process_pids": sleepers, "record_path": record, "container_ids": ["0" * 64]}
    before_threads = {pid: allowed(pid) for pid in sleepers}
    assert all(set(a.values()) == {"0-1"} for a in before_threads.values()), before_threads

    audit = module("host_tuning_facts", facts_args)
    assert not audit.get("failed"), audit.get("msg")
    issues = audit["issues"]
    assert any("host task(s)" in i for i in issues) and any("RPS of %s" % veth in i for i in issues)

    check = module("host_tuning", args, check=True, diff=True)
    assert check["changed"] and check["tasks_moved"] == 6  # 2 sleeps + python's 4 threads
    assert host_values() == saved_host and not os.path.exists(record)  # check mode changed nothing

    applied = module("host_tuning", args)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["changed"] and applied["tasks_moved"] == 6
    assert os.stat(record).st_mode & 0o777 == 0o600
    assert {s["step"] for s in applied["skipped_steps"]} >= {"systemd CPUAffinity", "governor", "irqbalance"}
    for pid in sleepers:
        assert set(allowed(pid).values()) == {"0"}, allowed(pid)
    assert read("/proc/irq/default_smp_affinity").lstrip("0") == "1"
    assert int(read("/proc/sys/net/core/rmem_max")) >= ht.DEFAULT_SYSCTLS["net.core.rmem_max"]
    for path in glob.glob("/sys/class/net/%s/queues/rx-*/rps_cpus" % veth):
        assert ht.mask_to_cpus(read(path)) == [0]
    refused = {r["what"] for r in applied["refused"]}
    for path in glob.glob("/proc/irq/[0-9]*/smp_affinity_list"):
        irq = path.split("/")[3]
        assert 1 not in ht.parse_cpuset(read(path)) or any(w.startswith("IRQ %s " % irq) for w in refused), path

    again = module("host_tuning_facts", facts_args)
    assert again["issues"] == [], again["table"]

    idempotent = module("host_tuning", args)
    assert not idempotent.get("failed"), idempotent.get("msg")
    assert not idempotent["changed"] and idempotent["tasks_moved"] == 0

    reverted = module("host_tuning", {"state": "absent", "record_path": record})
    assert not reverted.get("failed"), reverted.get("msg")
    assert reverted["changed"] and reverted["tasks_moved"] == 6
    assert host_values() == saved_host  # the exact previous affinities, masks and sysctls
    assert {pid: allowed(pid) for pid in sleepers} == before_threads
    assert not os.path.exists(record)
    assert not module("host_tuning", {"state": "absent", "record_path": record})["changed"]


def test_refuses_a_plan_that_keeps_no_cpu_for_the_host(module, tmp_path):
    no_reserve = {"reserved_cpus": "", "containers": [{"cpuset": "0"}, {"cpuset": "1"}]}
    result = module("host_tuning", {"plan": no_reserve, "record_path": str(tmp_path / "r.json"),
                                    "container_ids": ["0" * 64]})
    assert result.get("failed") and "wcs_plan.reserved_cpus" in result["msg"] and "Fix:" in result["msg"]
    assert not os.path.exists(tmp_path / "r.json")


@pytest.fixture
def busybox_image():
    subprocess.run([str(ROOT / "benchmarks" / "isolation_image.sh")], check=True)
    return IMAGE


def test_wcs_container_tasks_are_never_moved_and_keep_their_cpusets(module, tmp_path, sleepers, saved_host,
                                                                    docker_client, busybox_image):
    """One pinned (CPU 1) and one unpinned WCS container; their pids are offered to the move with our sleeper."""
    tag = uuid.uuid4().hex[:6]
    made = []
    try:
        for name, cpuset in (("pinned", "1"), ("unpinned", "")):
            opts = {"cpuset_cpus": cpuset} if cpuset else {}
            made.append(docker_client.containers.run(
                busybox_image, ["sh", "-c", "sleep 300 & sleep 300 & wait"], name="%s%s-%s" % (PREFIX, name, tag),
                detach=True, network_mode="none",
                labels={"mediaops.wcs.managed": "true", "mediaops.wcs.cpuset": cpuset,
                        "mediaops.wcs.test": "tuning"}, **opts))
        for c in made:
            c.reload()
        pids = [c.attrs["State"]["Pid"] for c in made]
        children = [int(p) for pid in pids for p in Path("/proc/%d/task/%d/children" % (pid, pid)).read_text().split()]
        offered = sleepers + pids + children
        record = str(tmp_path / "tuning-record.json")
        args = {"plan": plan(), "process_pids": offered, "record_path": record, "irqs": False,
                "default_irq_affinity": False, "workqueue": False, "sysctls": {}}
        container_before = {pid: allowed(pid) for pid in pids + children}

        applied = module("host_tuning", args)
        assert not applied.get("failed"), applied.get("msg")
        assert applied["tasks_moved"] == 6  # only our sleepers' tasks
        assert {pid: allowed(pid) for pid in pids + children} == container_before
        rows = {r["name"]: r for r in applied["verify"]}
        for c in made:
            assert rows[c.name]["narrowed"] == [] and rows[c.name]["tasks"] >= 3
        assert rows["%spinned-%s" % (PREFIX, tag)]["expected"] == "1"
        audit = module("host_tuning_facts", {"plan": plan(), "process_pids": offered, "record_path": record})
        assert audit["ansible_facts"]["wcs_tuning_audit_result"]["processes"]["wcs_container_tasks"] >= 6
        assert not any("host task" in i for i in audit["issues"]), audit["table"]  # IRQs were left out here

        reverted = module("host_tuning", {"state": "absent", "record_path": record})
        assert not reverted.get("failed"), reverted.get("msg")
        assert all(set(allowed(pid).values()) == {"0-1"} for pid in sleepers)
    finally:
        for c in made:
            c.remove(force=True)


def test_tune_playbook_plans_tunes_and_restores(playbook, tmp_path, sleepers, veth, saved_host):
    """ansible-playbook mediaops.wcs.tune on localhost: plan (1 container on CPU 1, CPU 0 kept), audit, tune,
    audit; then -e wcs_tuning_state=absent restores. Planned only: nothing is deployed (198.51.100.240/28)."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  children:\n    wcs_hosts:\n      hosts:\n        localhost:\n"
        "          ansible_connection: local\n"
        "          ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "          wcs_container_count: 1\n          wcs_name_prefix: %splay-\n"
        "          wcs_image: mediaops/wcs-emulator:test\n          wcs_network_driver: macvlan\n"
        "          wcs_network_parent: %s\n          wcs_network_block: 198.51.100.240/28\n"
        "          wcs_reserved_cpus: '0'\n          wcs_heap: 512m\n          wcs_conf_root: %s\n"
        "          wcs_plan_check_engine: false\n" % (PREFIX, veth, tmp_path / "conf"))
    record = str(tmp_path / "tuning-record.json")
    common = {"wcs_tuning_process_pids": sleepers, "wcs_tuning_record_path": record}
    tuned = playbook("mediaops.wcs.tune", inventory, dict(common))
    assert tuned.returncode == 0, tuned.stdout[-4000:] + tuned.stderr[-2000:]
    assert "verdict" in tuned.stdout and "changed: " in tuned.stdout and "skipped governor" in tuned.stdout
    assert os.path.exists(record)
    assert all(set(allowed(pid).values()) == {"0"} for pid in sleepers)
    assert "| clean" in tuned.stdout.split("Audit after the change")[-1]
    restored = playbook("mediaops.wcs.tune", inventory, dict(common, wcs_tuning_state="absent"))
    assert restored.returncode == 0, restored.stdout[-4000:] + restored.stderr[-2000:]
    assert host_values() == saved_host and not os.path.exists(record)
    assert all(set(allowed(pid).values()) == {"0-1"} for pid in sleepers)


def test_modules_on_a_temporary_root_with_systemd_irqbalance_cpufreq_grub(module, tmp_path):
    """The modules through Ansible on a temporary root holding the mechanisms this machine lacks: check mode and
    diff, apply, idempotence, audit after, exact revert. Nothing outside tmp_path is touched (tasks are not moved
    and no command runs when root is not /)."""
    sys.path.insert(0, str(ROOT / "tests" / "unit" / "plugins" / "module_utils"))
    import tuning_tree as tree  # pylint: disable=import-outside-toplevel

    host = tmp_path / "host"
    the_plan = tree.big_host(host)
    before = tree.snapshot(host)
    args = {"plan": the_plan, "root": str(host), "kernel_cmdline": True, "container_ids": [tree.WCS_ID]}

    check = module("host_tuning", args, check=True, diff=True)
    assert check["changed"] and tree.snapshot(host) == before
    assert "IRQBALANCE_BANNED_CPULIST" in check["_stdout"] and "CPUAffinity=0-3" in check["_stdout"]

    applied = module("host_tuning", args)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["reboot_required"] and "REBOOT REQUIRED" in applied["summary"][-1]
    assert [c["argv"] for c in applied["commands"]][:2] == [["systemctl", "try-restart", "irqbalance.service"],
                                                            ["systemctl", "daemon-reexec"]]
    assert all(c["rc"] is None for c in applied["commands"])
    assert any(s["step"] == "processes" for s in applied["skipped_steps"])
    record = host / ht.RECORD_PATH.lstrip("/")
    assert os.stat(record).st_mode & 0o777 == 0o600

    assert not module("host_tuning", args)["changed"]
    audit = module("host_tuning_facts", {"plan": the_plan, "root": str(host), "container_ids": [tree.WCS_ID]})
    issues = audit["issues"]
    assert len(issues) == 1 and "host task" in issues[0], issues  # tasks of a recorded tree cannot be moved

    reverted = module("host_tuning", {"state": "absent", "root": str(host)})
    assert not reverted.get("failed"), reverted.get("msg")
    assert tree.snapshot(host) == before

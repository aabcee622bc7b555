"""host_tuning on temporary roots: the mechanisms this machine lacks (systemd as PID 1, irqbalance, cpufreq, GRUB,
a NIC on NUMA node 1, managed IRQs) audited, planned, applied, applied again (nothing to do) and reverted to the
exact tree that was there."""
from __future__ import annotations

import os
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import host_tuning as ht
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

sys.path.insert(0, os.path.dirname(__file__))
import tuning_tree as tree  # noqa: E402  (a sibling helper; pytest runs with --import-mode=importlib)

WCS = [4, 5, 6, 7]
HOUSE = [0, 1, 2, 3]


def audit_of(root, plan, ids=(tree.WCS_ID,), record=None):
    wcs, house, parent = ht.wcs_split(plan, ht.online_cpus(str(root)))
    return ht.audit(str(root), wcs, house, parent, container_ids=list(ids), record=record), wcs, house


class FakeAffinity:
    """Stands in for os.sched_setaffinity on a temporary root: rewrites the task's Cpus_allowed_list."""

    def __init__(self, root):
        self.root = str(root)
        self.calls = []

    def __call__(self, tid, cpus):
        self.calls.append((tid, sorted(cpus)))
        for dirpath, _dirs, files in os.walk(os.path.join(self.root, "proc")):
            if "status" in files and (dirpath.endswith("/task/%d" % tid) or dirpath.endswith("/proc/%d" % tid)):
                path = os.path.join(dirpath, "status")
                with open(path) as handle:
                    lines = handle.read().splitlines()
                lines = [("Cpus_allowed_list:\t%s" % ht.format_cpuset(cpus)) if line.startswith("Cpus_allowed_list")
                         else line for line in lines]
                with open(path, "w") as handle:
                    handle.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------------- plan input
@pytest.mark.parametrize("plan, field", [
    ({"reserved_cpus": "", "containers": [{"cpuset": "0"}, {"cpuset": "1"}]}, "wcs_plan.reserved_cpus"),
    ({"reserved_cpus": "1", "containers": [{"cpuset": "0-1"}]}, "wcs_plan.reserved_cpus"),
    ({"reserved_cpus": "0", "containers": [{"cpuset": ""}]}, "wcs_plan.containers[].cpuset"),
    ({"reserved_cpus": "0", "containers": [{"cpuset": "1-x"}]}, "wcs_plan.containers[0].cpuset"),
    (None, "wcs_plan"),
])
def test_wcs_split_refuses_plans_without_a_reserve(plan, field):
    with pytest.raises(PlanError) as err:
        ht.wcs_split(plan, [0, 1])
    assert err.value.field == field
    assert "Fix:" in str(err.value)


def test_wcs_split_unions_cpusets_and_takes_reserved_as_housekeeping():
    plan = {"reserved_cpus": "0,8", "network": {"parent": "eno1"},
            "containers": [{"cpuset": "1-3"}, {"cpuset": "9-11"}]}
    assert ht.wcs_split(plan, list(range(12))) == ([1, 2, 3, 9, 10, 11], [0, 8], "eno1")


# ---------------------------------------------------------------------------------------------------- parsers
@given(st.sets(st.integers(min_value=0, max_value=255)))
def test_masks_round_trip(cpus):
    assert ht.mask_to_cpus(ht.cpus_to_mask(sorted(cpus))) == sorted(cpus)
    like = "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000001"
    grouped = ht.cpus_to_mask(sorted(cpus), like=like)
    assert ht.mask_to_cpus(grouped) == sorted(cpus)
    assert len(grouped) == len(like) or not cpus or max(cpus) >= 256


@pytest.mark.parametrize("mask, cpus", [("3", [0, 1]), ("00000000,00000100", [8]), ("0", []), ("ff", list(range(8)))])
def test_mask_to_cpus(mask, cpus):
    assert ht.mask_to_cpus(mask) == cpus


def test_parse_stat_with_spaces_and_parentheses_in_comm():
    assert ht.parse_stat("42 (a (b) c) S 1 42 42 0 -1 2097152 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0") == \
        ("a (b) c", ht.PF_KTHREAD, 777)


@pytest.mark.parametrize("cgroup, cid", [
    ("12:cpuset:/docker/%s\n" % ("c" * 64), "c" * 64),
    ("0::/system.slice/docker-%s.scope\n" % ("d" * 64), "d" * 64),
    ("0::/user.slice/session-1.scope\n", ""),
])
def test_container_id_of(cgroup, cid):
    assert ht.container_id_of(cgroup) == cid


def test_set_env_line_replaces_a_commented_line_once():
    text = "# x\n#IRQBALANCE_BANNED_CPULIST=\nIRQBALANCE_BANNED_CPULIST=1\nOTHER=2\n"
    assert ht.set_env_line(text, "IRQBALANCE_BANNED_CPULIST", "4-7") == \
        '# x\nIRQBALANCE_BANNED_CPULIST="4-7"\nOTHER=2\n'
    assert ht.set_env_line("", "K", "v") == 'K="v"\n'


def test_unit_setting_later_wins_and_sections_count():
    text = "[Unit]\nCPUAffinity=9\n[Service]\nCPUAffinity=1\n# CPUAffinity=2\nCPUAffinity=0-3\n"
    assert ht.parse_unit_setting(text, "Service", "CPUAffinity") == "0-3"
    assert ht.parse_unit_setting(text, "Manager", "CPUAffinity") is None


@pytest.mark.parametrize("values", [{"net.core.rmem_max": "x"}, {"net.core.rmem_max": True}, {"../etc": 1},
                                    {"net.core.rmem_max\n": 1}, ["net.core.rmem_max"]])
def test_bad_sysctls_are_refused(values):
    with pytest.raises(PlanError):
        ht.check_sysctls(values)


# ---------------------------------------------------------------------------------------------------- audit
def test_audit_of_a_systemd_host(tmp_path):
    plan = tree.big_host(tmp_path)
    state, _wcs, _house = audit_of(tmp_path, plan)
    on_wcs = {i["irq"]: i for i in state["irqs"] if i["on_wcs"]}
    assert sorted(on_wcs) == [30, 60, 61, 62, 63, 70]  # 24 is already on CPU 0
    assert not on_wcs[70]["movable"] and "MANAGED" in on_wcs[70]["why"]
    assert on_wcs[60]["name"] == "ens1f0-TxRx-0"
    assert state["irqbalance"] == {"installed": True, "running": True, "config": "/etc/default/irqbalance",
                                   "banned": []}
    assert state["systemd"]["pid1"] and state["systemd"]["units"] == ["docker", "containerd"]
    procs = state["processes"]
    # sshd, dockerd x3, irqbalance, systemd, prometheus (another container is a host workload), pinned-tool;
    # not java (WCS), not kernel threads
    assert procs["host_tasks_on_wcs"] == 8 and procs["only_on_wcs"] == 1
    assert procs["wcs_container_tasks"] == 2 and procs["kernel_threads_on_wcs"] == 1
    assert "java" not in procs["names"] and "dockerd" in procs["names"]
    assert state["nic"]["numa_node"] == 1 and state["nic"]["queue_irqs"] == [60, 61, 62, 63]
    assert state["nic"]["rps"]["rx-0"]["cpus"] == list(range(8)) and state["nic"]["xps"]["tx-0"]["raw"] == "0f"
    assert {g["governor"] for g in state["governors"].values()} == {"powersave"}
    assert state["sysctls"]["net.core.rmem_max"] == 212992
    text = "\n".join(ht.table(state))
    assert "irqbalance runs without banning the WCS CPUs" in text and "RPS of ens1f0 rx-0" in text


def test_audit_of_a_recorded_tree_without_the_mechanisms(tmp_path):
    tree.write(tmp_path, "/sys/devices/system/cpu/online", "0-1\n")
    state = ht.audit(str(tmp_path), [1], [0], "eth9")
    assert state["irqs"] == [] and state["default_smp_affinity"] is None and state["issues"] == []
    assert not state["irqbalance"]["installed"] and not state["systemd"]["pid1"]
    assert not state["nic"]["exists"] and state["governors"] == {}
    lines = ht.table(state)
    assert any("no /proc/irq in this tree" in line for line in lines)
    assert lines[-1].startswith("verdict") and "not recorded" in lines[-1]


# ---------------------------------------------------------------------------------------------------- apply / revert
def test_apply_then_again_then_revert_restores_the_tree_exactly(tmp_path):
    plan = tree.big_host(tmp_path)
    os.chmod(os.path.join(str(tmp_path), "etc/default/irqbalance"), 0o600)
    before = tree.snapshot(tmp_path)
    state, wcs, house = audit_of(tmp_path, plan)
    changes = ht.plan_changes(state, wcs, house, {"kernel_cmdline": True}, root=str(tmp_path), move_tasks=True)
    record = ht.new_record(wcs, house)
    ht.remember(str(tmp_path), record, changes["steps"])
    affinity = FakeAffinity(tmp_path)
    done = ht.apply_steps(str(tmp_path), changes, record, setaffinity=affinity)
    assert done["refused"] == []

    def read(path):
        with open(os.path.join(str(tmp_path), path.lstrip("/"))) as handle:
            return handle.read()

    # NIC queues spread one per housekeeping CPU of node 1; but node 1 has none, so over all housekeeping CPUs
    assert [read("/proc/irq/%d/smp_affinity_list" % i).strip() for i in (60, 61, 62, 63)] == ["0", "1", "2", "3"]
    assert read("/proc/irq/30/smp_affinity_list").strip() == "0-3"
    assert read("/proc/irq/70/smp_affinity_list").strip() == "0-7"  # managed: skipped with its reason
    assert any(s["step"].startswith("irq 70") for s in changes["skipped"])
    assert read("/proc/irq/default_smp_affinity").strip() == "0f"
    assert read("/sys/devices/virtual/workqueue/cpumask").strip() == "0f"
    assert 'IRQBALANCE_BANNED_CPULIST="4-7"' in read("/etc/default/irqbalance")
    assert os.stat(os.path.join(str(tmp_path), "etc/default/irqbalance")).st_mode & 0o777 == 0o600
    assert "CPUAffinity=0-3" in read(ht.SYSTEM_CONF_DROPIN)
    assert "CPUAffinity=0-3" in read(ht.SERVICE_DROPIN % "docker")
    assert read("/sys/class/net/ens1f0/queues/rx-0/rps_cpus").strip() == "0f"
    assert read("/sys/class/net/ens1f0/queues/rx-1/rps_cpus").strip() == "0"  # RPS off stays off
    assert read("/sys/devices/system/cpu/cpu5/cpufreq/scaling_governor").strip() == "performance"
    assert read("/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor").strip() == "powersave"
    assert read("/proc/sys/net/core/rmem_max").strip() == "16777216"
    assert read("/proc/sys/net/core/netdev_max_backlog").strip() == "20000"  # never lowered
    assert "netdev_max_backlog = 20000" in read(ht.SYSCTL_DROPIN)
    assert "isolcpus=managed_irq,4-7 nohz_full=4-7 rcu_nocbs=4-7" in read(ht.GRUB_DROPIN)
    assert ht.reboot_required(str(tmp_path), wcs)
    assert [c["argv"] for c in changes["commands"]] == [
        ["systemctl", "try-restart", "irqbalance.service"], ["systemctl", "daemon-reexec"], ["/usr/sbin/update-grub"]]
    ran = ht.run_commands(changes, live=False, run_command=None)
    assert all(r["rc"] is None and "not run" in r["why"] for r in ran)
    moved = {tid for tid, _cpus in affinity.calls}
    assert moved == {1, 300, 400, 500, 501, 502, 800}  # not java (WCS), kernel threads, pinned-tool
    assert all(cpus == HOUSE for _tid, cpus in affinity.calls)

    again, _w, _h = audit_of(tmp_path, plan, record=record)
    assert again["issues"] == []
    assert [i["irq"] for i in again["irqs"] if i["on_wcs"]] == [70]
    second = ht.plan_changes(again, wcs, house, {"kernel_cmdline": True}, root=str(tmp_path), move_tasks=True)
    assert second["steps"] == [] and second["commands"] == []

    reverted = ht.revert(str(tmp_path), record, setaffinity=affinity)
    assert reverted["failed"] == []
    assert reverted["tasks_restored"] == 7
    assert tree.snapshot(tmp_path) == before
    assert [c["argv"] for c in reverted["commands"]] == [
        ["/usr/sbin/update-grub"], ["systemctl", "try-restart", "irqbalance.service"],
        ["systemctl", "daemon-reexec"], ["systemctl", "daemon-reload"]]


def test_a_second_apply_keeps_the_first_values_in_the_record(tmp_path):
    plan = tree.big_host(tmp_path, systemd=False)
    before = tree.snapshot(tmp_path)
    state, wcs, house = audit_of(tmp_path, plan)
    record = ht.new_record(wcs, house)
    ht.apply_steps(str(tmp_path), ht.plan_changes(state, wcs, house, root=str(tmp_path)), record)
    tree.write(tmp_path, "/proc/irq/30/smp_affinity_list", "4\n")  # something moved it back
    state, wcs, house = audit_of(tmp_path, plan, record=record)
    ht.apply_steps(str(tmp_path), ht.plan_changes(state, wcs, house, root=str(tmp_path)), record)
    assert record["values"]["/proc/irq/30/smp_affinity_list"] == "0-7"
    ht.revert(str(tmp_path), record)
    assert tree.snapshot(tmp_path) == before


def test_without_systemd_irqbalance_cpufreq_grub_each_step_says_why(tmp_path):
    plan = tree.big_host(tmp_path, systemd=False, irqbalance=False, cpufreq=False, grub=False)
    state, wcs, house = audit_of(tmp_path, plan)
    changes = ht.plan_changes(state, wcs, house, {"kernel_cmdline": True}, root=str(tmp_path))
    why = {s["step"]: s["why"] for s in changes["skipped"]}
    assert why["irqbalance"] == "irqbalance is not installed"
    assert why["systemd CPUAffinity"].startswith("systemd is not PID 1 (tini)")
    assert why["governor"].startswith("no cpufreq")
    assert why["kernel cmdline"].startswith("no GRUB configuration") and "nohz_full=4-7" in why["kernel cmdline"]
    assert why["processes"].startswith("root is not /")
    assert not any(s["path"].startswith("/etc/") for s in changes["steps"] if s["kind"] == "file"
                   and s["path"] != ht.SYSCTL_DROPIN)


def test_el_irqbalance_config_and_the_old_hex_mask(tmp_path):
    plan = tree.big_host(tmp_path, sysconfig=True)
    tree.write(tmp_path, "/etc/sysconfig/irqbalance", "IRQBALANCE_BANNED_CPUS=f0\n")
    state, wcs, house = audit_of(tmp_path, plan)
    assert state["irqbalance"]["banned"] == WCS and state["irqbalance"]["config"] == "/etc/sysconfig/irqbalance"
    assert not any(i.startswith("irqbalance") for i in state["issues"])


def test_a_write_the_kernel_refuses_is_recorded_and_skipped_next_time(tmp_path, monkeypatch):
    plan = tree.big_host(tmp_path, systemd=False, irqbalance=False)
    state, wcs, house = audit_of(tmp_path, plan)
    changes = ht.plan_changes(state, wcs, house, root=str(tmp_path))
    real = ht._write_text

    def refuse_irq_30(full, text):
        if full.endswith("/proc/irq/30/smp_affinity_list"):
            raise OSError(5, "Input/output error")
        real(full, text)

    monkeypatch.setattr(ht, "_write_text", refuse_irq_30)
    record = ht.new_record(wcs, house)
    ht.remember(str(tmp_path), record, changes["steps"])
    done = ht.apply_steps(str(tmp_path), changes, record)
    assert done["refused"] == [{"what": "IRQ 30 (ahci) affinity", "why": "the kernel refused: Input/output error"}]
    assert "30" in record["refused_irqs"]
    monkeypatch.setattr(ht, "_write_text", real)
    again, _w, _h = audit_of(tmp_path, plan, record=record)
    assert not any("movable IRQ" in i for i in again["issues"])
    assert ht.plan_changes(again, wcs, house, root=str(tmp_path))["steps"] == []
    assert ht.revert(str(tmp_path), record)["failed"] == []  # IRQ 30 was never changed: nothing to write back


def test_a_reused_tid_is_neither_moved_nor_restored(tmp_path):
    plan = tree.big_host(tmp_path, systemd=False, irqbalance=False)
    state, wcs, house = audit_of(tmp_path, plan)
    changes = ht.plan_changes(state, wcs, house, {"irqs": False}, root=str(tmp_path), move_tasks=True)
    record = ht.new_record(wcs, house)
    affinity = FakeAffinity(tmp_path)
    ht.apply_steps(str(tmp_path), changes, record, setaffinity=affinity)
    tree.task(tmp_path, 400, "sshd", "0-3", starttime=999)  # sshd restarted under the same pid
    affinity.calls.clear()
    ht.revert(str(tmp_path), record, setaffinity=affinity)
    assert 400 not in {tid for tid, _cpus in affinity.calls} and 500 in {tid for tid, _cpus in affinity.calls}


def test_sysctl_drop_in_is_stable_and_keeps_higher_values(tmp_path):
    plan = tree.big_host(tmp_path, systemd=False, irqbalance=False)
    tree.write(tmp_path, "/proc/sys/net/core/rmem_max", "33554432\n")
    state, wcs, house = audit_of(tmp_path, plan)
    record = ht.new_record(wcs, house)
    changes = ht.plan_changes(state, wcs, house, {"irqs": False}, root=str(tmp_path))
    assert "sysctl net.core.rmem_max" not in [s["what"] for s in changes["steps"]]
    ht.apply_steps(str(tmp_path), changes, record)
    text = open(os.path.join(str(tmp_path), ht.SYSCTL_DROPIN.lstrip("/"))).read()
    assert "net.core.rmem_max = 33554432" in text and "net.core.wmem_max = 16777216" in text
    state, wcs, house = audit_of(tmp_path, plan)
    assert ht.plan_changes(state, wcs, house, {"irqs": False}, root=str(tmp_path))["steps"] == []


def test_record_is_written_0600(tmp_path):
    ht.save_record(str(tmp_path), ht.RECORD_PATH, ht.new_record([1], [0]))
    full = os.path.join(str(tmp_path), ht.RECORD_PATH.lstrip("/"))
    assert os.stat(full).st_mode & 0o777 == 0o600
    assert ht.load_record(str(tmp_path))["wcs_cpus"] == "1"
    tree.write(tmp_path, ht.RECORD_PATH, "{not json")
    with pytest.raises(PlanError):
        ht.load_record(str(tmp_path))


def test_verify_finds_a_narrowed_container_task(tmp_path):
    tree.big_host(tmp_path)
    containers = {tree.WCS_ID: {"name": "wcs-1", "cpuset": "4-7"}}
    assert ht.verify_containers(str(tmp_path), containers) == [
        {"name": "wcs-1", "expected": "4-7", "tasks": 2, "narrowed": []}]
    tree.task(tmp_path, 700, "java", "4-7", cgroup="0::/system.slice/docker-%s.scope\n" % tree.WCS_ID,
              tids=[700, 701])
    tree.write(tmp_path, "/proc/700/task/701/status", "Name:\tjava\nCpus_allowed_list:\t0-3\n")
    rows = ht.verify_containers(str(tmp_path), containers)
    assert rows[0]["narrowed"] == [{"tid": 701, "comm": "java", "allowed": "0-3"}]


def test_kernel_args_keep_scheduler_domains():
    assert ht.kernel_args([2, 3, 4]) == ["isolcpus=managed_irq,2-4", "nohz_full=2-4", "rcu_nocbs=2-4"]


# ---------------------------------------------------------------------------------------------------- issue 20
@pytest.mark.parametrize("parent", ["../../etc", "a/b", "..", "x" * 16, "e\n"])
def test_a_parent_that_is_not_an_interface_name_is_refused(parent):
    plan = {"reserved_cpus": "0", "network": {"parent": parent}, "containers": [{"cpuset": "1"}]}
    with pytest.raises(PlanError) as err:
        ht.wcs_split(plan, [0, 1])
    assert err.value.field == "wcs_plan.network.parent"


def test_paths_stay_below_the_root(tmp_path):
    assert ht.is_live_root("//") and ht.is_live_root("/.") and not ht.is_live_root(str(tmp_path))
    assert ht.host_path(str(tmp_path), "/proc/x") == str(tmp_path / "proc/x")
    for path in ("/proc/../etc", "proc/x", "/./x"):
        with pytest.raises(PlanError):
            ht.host_path(str(tmp_path), path)
    (tmp_path / "out").mkdir()
    os.symlink("/", str(tmp_path / "out" / "slash"))
    with pytest.raises(PlanError, match="outside the root"):
        ht.host_path(str(tmp_path / "out"), "/slash/etc/passwd")
    for path in ("x.json", "/a/../b.json", "/a/", "/a\n"):
        with pytest.raises(PlanError):
            ht.check_record_path(path, str(tmp_path))
    assert ht.check_record_path(ht.RECORD_PATH, str(tmp_path)) == ht.RECORD_PATH


def test_a_record_naming_other_files_is_refused(tmp_path):
    tree.write(str(tmp_path), ht.RECORD_PATH, '{"files": {"/etc/passwd": null}}')
    with pytest.raises(PlanError, match="never writes"):
        ht.load_record(str(tmp_path))
    record = ht.new_record([1], [0])
    record["values"]["/proc/irq/5/smp_affinity_list"] = "0-1"
    record["values"]["/proc/sys/net/core/rmem_max"] = "212992"
    record["files"][ht.SYSCTL_DROPIN] = None
    ht.save_record(str(tmp_path), ht.RECORD_PATH, record)
    assert ht.load_record(str(tmp_path)) == record


def test_a_virtio_nic_reads_its_pci_parent_through_the_resolved_link(tmp_path):
    """virtio: /sys/class/net/X/device is the virtio device; NUMA node and MSI vectors are its PCI parent's (the
    kernel's device/..). Read through the resolved link, without a '..' in any path, and inside the root."""
    pci = "/sys/devices/pci0000:00/0000:00:03.0"
    tree.write(str(tmp_path), pci + "/numa_node", "1\n")
    tree.write(str(tmp_path), pci + "/msi_irqs/41", "msix\n")
    tree.write(str(tmp_path), pci + "/virtio0/vendor", "0x1af4\n")
    tree.write(str(tmp_path), "/sys/class/net/ens3/queues/rx-0/rps_cpus", "0\n")
    os.symlink("../../../devices/pci0000:00/0000:00:03.0/virtio0", str(tmp_path / "sys/class/net/ens3/device"))
    nic = ht.read_nic(str(tmp_path), "ens3")
    assert (nic["exists"], nic["numa_node"], nic["queue_irqs"]) == (True, 1, [41])
    os.remove(str(tmp_path / "sys/class/net/ens3/device"))
    os.symlink("/sys/devices/pci0000:00/0000:00:03.0/virtio0", str(tmp_path / "sys/class/net/ens3/device"))
    with pytest.raises(PlanError, match="outside the root"):  # an absolute link would read the live host
        ht.read_nic(str(tmp_path), "ens3")

"""Builds temporary host roots for host_tuning tests: the mechanisms this machine lacks (systemd as PID 1,
irqbalance, cpufreq, GRUB, NUMA-placed NICs) as files under a directory, named like the kernel's."""
from __future__ import annotations

import os

WCS_ID = "a" * 64
OTHER_ID = "b" * 64
PF_KTHREAD = 0x00200000
PF_NO_SETAFFINITY = 0x04000000


def write(root, path, text, mode=0o644):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)
    os.chmod(full, mode)
    return full


def task(root, pid, comm, allowed, flags=0, cgroup="0::/system.slice/cron.service\n", tids=None, starttime=100):
    """A process with its threads (``tids``, default just the pid) as /proc/<pid>/task/<tid>/{stat,status}."""
    write(root, "/proc/%d/comm" % pid, comm + "\n")
    write(root, "/proc/%d/cgroup" % pid, cgroup)
    for tid in tids or [pid]:
        stat = "%d (%s) S 1 %d %d 0 -1 %d 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n" % (tid, comm, pid, pid, flags, starttime)
        status = "Name:\t%s\nPid:\t%d\nCpus_allowed_list:\t%s\n" % (comm, tid, allowed)
        for base in ("/proc/%d/task/%d" % (pid, tid),) + (("/proc/%d" % pid,) if tid == pid else ()):
            write(root, base + "/stat", stat)
            write(root, base + "/status", status)


def big_host(root, systemd=True, irqbalance=True, cpufreq=True, grub=True, sysconfig=False):
    """An 8-CPU, 2-node host: node 0 CPUs 0-3, node 1 CPUs 4-7; NIC ens1f0 on node 1 with queue IRQs 60-63."""
    write(root, "/sys/devices/system/cpu/online", "0-7\n")
    write(root, "/sys/devices/system/node/node0/cpulist", "0-3\n")
    write(root, "/sys/devices/system/node/node1/cpulist", "4-7\n")
    lines = ["           " + " ".join("CPU%d" % c for c in range(8))]
    irqs = {24: "ttyS0", 30: "ahci", 60: "ens1f0-TxRx-0", 61: "ens1f0-TxRx-1", 62: "ens1f0-TxRx-2",
            63: "ens1f0-TxRx-3", 70: "nvme0q1"}
    for irq, name in irqs.items():
        write(root, "/proc/irq/%d/smp_affinity_list" % irq, "0-7\n")
        write(root, "/proc/irq/%d/effective_affinity_list" % irq, "%d\n" % (irq % 8))
        lines.append("%4d: %s  PCI-MSI 1-edge      %s" % (irq, " ".join(["0"] * 8), name))
    write(root, "/proc/irq/24/smp_affinity_list", "0\n")  # already on housekeeping
    write(root, "/sys/kernel/debug/irq/irqs/70", "handler: handle_edge_irq\nflags: 0x4 AFFINITY_MANAGED MANAGED\n")
    write(root, "/proc/interrupts", "\n".join(lines) + "\n")
    write(root, "/proc/irq/default_smp_affinity", "ff\n")
    write(root, "/sys/devices/virtual/workqueue/cpumask", "ff\n")
    write(root, "/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n")
    for key, value in (("rmem_max", 212992), ("wmem_max", 212992), ("rmem_default", 212992),
                       ("wmem_default", 212992), ("netdev_max_backlog", 20000)):
        write(root, "/proc/sys/net/core/" + key, "%d\n" % value)
    nic = "/sys/class/net/ens1f0"
    write(root, nic + "/device/numa_node", "1\n")
    for irq in (60, 61, 62, 63):
        write(root, nic + "/device/msi_irqs/%d" % irq, "msix\n")
    write(root, nic + "/queues/rx-0/rps_cpus", "ff\n")
    write(root, nic + "/queues/rx-1/rps_cpus", "0\n")
    write(root, nic + "/queues/tx-0/xps_cpus", "0f\n")
    task(root, 1, "systemd" if systemd else "tini", "0-7")
    task(root, 2, "kthreadd", "0-7", flags=PF_KTHREAD)
    task(root, 15, "ksoftirqd/5", "5", flags=PF_KTHREAD | PF_NO_SETAFFINITY)
    task(root, 400, "sshd", "0-7", tids=[400])
    task(root, 500, "dockerd", "0-7", tids=[500, 501, 502])
    task(root, 600, "pinned-tool", "6")  # pinned by its owner to a WCS CPU only
    task(root, 700, "java", "4-7", cgroup="0::/system.slice/docker-%s.scope\n" % WCS_ID, tids=[700, 701])
    task(root, 800, "prometheus", "0-7", cgroup="12:cpuset:/docker/%s\n" % OTHER_ID)
    if irqbalance:
        write(root, "/usr/sbin/irqbalance", "#!/bin/sh\n", 0o755)
        config = "/etc/sysconfig/irqbalance" if sysconfig else "/etc/default/irqbalance"
        write(root, config, "# irqbalance\nENABLED=1\n#IRQBALANCE_BANNED_CPULIST=\nIRQBALANCE_ONESHOT=0\n")
        task(root, 300, "irqbalance", "0-7")
    if systemd:
        write(root, "/etc/systemd/system.conf", "[Manager]\n#CPUAffinity=\n")
        write(root, "/lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/bin/dockerd\n")
        write(root, "/lib/systemd/system/containerd.service", "[Service]\nExecStart=/usr/bin/containerd\n")
    if cpufreq:
        for cpu in range(8):
            base = "/sys/devices/system/cpu/cpu%d/cpufreq/" % cpu
            write(root, base + "scaling_governor", "powersave\n")
            write(root, base + "scaling_available_governors", "performance powersave\n")
    if grub:
        write(root, "/etc/default/grub", 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n')
        write(root, "/usr/sbin/update-grub", "#!/bin/sh\n", 0o755)
    return {"reserved_cpus": "0-3", "network": {"parent": "ens1f0"},
            "containers": [{"name": "wcs-1", "cpuset": "4-5"}, {"name": "wcs-2", "cpuset": "6-7"}]}


def snapshot(root):
    """Every file below ``root`` with its content and mode (to prove a revert restores the tree exactly)."""
    out = {}
    for dirpath, _dirs, files in os.walk(str(root)):
        for name in files:
            full = os.path.join(dirpath, name)
            with open(full) as handle:
                out[os.path.relpath(full, str(root))] = (handle.read(), os.stat(full).st_mode & 0o7777)
    return out

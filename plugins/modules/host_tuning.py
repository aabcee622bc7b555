#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: host_tuning
short_description: Keep a WCS host's interrupts and daemons off the WCS CPUs, and restore the host exactly
version_added: "1.1.0"
author: mediaops engineering (@mediaops)
description:
  - From the plan of the host (O(plan), the C(wcs_plan) fact), the WCS CPUs are the union of the containers'
    cpusets and the housekeeping CPUs the plan's C(reserved_cpus). One run changes, where the host has the
    mechanism (each step skips with its reason otherwise)
  - C(irqbalance) banned CPUs (C(IRQBALANCE_BANNED_CPULIST) in C(/etc/default/irqbalance) or
    C(/etc/sysconfig/irqbalance)) and its restart when it runs under systemd; every movable IRQ whose affinity
    includes a WCS CPU to the housekeeping CPUs, the parent NIC's queue IRQs spread one per housekeeping CPU of
    the NIC's NUMA node; C(/proc/irq/default_smp_affinity) and the workqueue cpumask; systemd drop-ins giving the
    manager, C(docker.service) and C(containerd.service) the housekeeping CPUs (C(CPUAffinity=), when systemd is
    PID 1); running host tasks moved off the WCS CPUs with C(sched_setaffinity) as C(tuna --isolate) does (never
    kernel threads, never the tasks of WCS containers, found by the container ids in their cgroup); RPS masks of
    the parent NIC's queues that steer packets to WCS CPUs; the C(performance) governor where cpufreq exists;
    UDP socket buffer and backlog sysctls (raised, never lowered; persisted in C(/etc/sysctl.d)); and, opt-in,
    C(isolcpus=managed_irq,...) C(nohz_full=) C(rcu_nocbs=) in a GRUB drop-in (reports RV(reboot_required),
    never reboots).
  - Every value found before a change is kept in a record on the host (O(record_path), mode 0600); a second
    run keeps the first values. O(state=absent) restores them exactly and removes the record.
  - After the change, reads C(Cpus_allowed_list) of every task of each running WCS container and fails when one
    lost part of its cpuset (moving dockerd's or containerd's affinity can narrow what new children inherit).
  - Host tasks started later are not covered where systemd is not PID 1, so run the module again (it is idempotent
    and moves only what is new).
options:
  state:
    description:
      - V(present) tunes the host from O(plan); V(absent) restores what the record holds and removes it.
    type: str
    choices: [present, absent]
    default: present
  plan:
    description:
      - The host's C(wcs_plan) (C(containers[].cpuset), C(reserved_cpus), C(network.parent)). Required with
        O(state=present). A plan that keeps no CPU for the host is refused.
    type: dict
  root:
    description:
      - Root of the filesystem to work on. Anything but V(/) is for tests and image builds; tasks are then not
        moved and no command (systemctl, update-grub) runs. V(//), V(/.) or a link to V(/) are the live host
        (compared by file identity, not by spelling). Below another root, a path that resolves outside it (a
        link of a recorded tree) is refused, and so is a C(network.parent) of the plan that is not an interface
        name.
    type: path
    default: /
  record_path:
    description:
      - Where the record of previous values lives, below O(root), as an absolute file path without C(.) or C(..)
        segments that stays below O(root) once links are resolved. A record naming anything but the values and
        files tuning writes is refused as damaged.
    type: path
    default: /var/lib/mediaops-wcs/tuning-record.json
  irqs:
    description: Move IRQs off the WCS CPUs.
    type: bool
    default: true
  default_irq_affinity:
    description: Set C(/proc/irq/default_smp_affinity) to the housekeeping CPUs (IRQs registered later).
    type: bool
    default: true
  workqueue:
    description: Set the unbound workqueue cpumask to the housekeeping CPUs.
    type: bool
    default: true
  irqbalance:
    description: Ban the WCS CPUs in irqbalance's configuration (and restart it) when it is installed.
    type: bool
    default: true
  systemd:
    description: Write the C(CPUAffinity=) drop-ins when systemd is PID 1.
    type: bool
    default: true
  processes:
    description: Move running host tasks off the WCS CPUs.
    type: bool
    default: true
  process_pids:
    description:
      - Only move the tasks of these processes (a trial on a few processes). Empty means every host process.
    type: list
    elements: int
    default: []
  rps:
    description: Take the WCS CPUs out of the parent NIC's RPS masks (a mask of 0, RPS off, stays off).
    type: bool
    default: true
  governor:
    description: Set the C(performance) governor on the WCS CPUs where cpufreq exists.
    type: bool
    default: true
  sysctls:
    description:
      - Kernel settings raised to at least these values (never lowered), at run time and in
        C(/etc/sysctl.d/90-mediaops-wcs.conf). V({}) leaves sysctls alone.
    type: dict
    default:
      net.core.rmem_max: 16777216
      net.core.wmem_max: 16777216
      net.core.rmem_default: 1048576
      net.core.wmem_default: 1048576
      net.core.netdev_max_backlog: 5000
  kernel_cmdline:
    description:
      - Write C(/etc/default/grub.d/90-mediaops-wcs.cfg) adding C(isolcpus=managed_irq,<WCS CPUs>),
        C(nohz_full=) and C(rcu_nocbs=) for the WCS CPUs, and rebuild the GRUB configuration. Takes effect at the
        next boot (RV(reboot_required)); this module never reboots.
    type: bool
    default: false
  container_ids:
    description:
      - Ids of the WCS containers whose tasks are never moved. Empty means every running container of the
        engine labelled C(mediaops.wcs.managed=true) (asked when O(root=/)).
    type: list
    elements: str
    default: []
  verify:
    description: After the change, check that every WCS container's tasks still may use its whole cpuset.
    type: bool
    default: true
extends_documentation_fragment:
  - mediaops.wcs.docker
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - Needs root. Containers keep their cpusets; nothing is restarted but irqbalance (and systemd re-reads its
    configuration); the drop-ins for docker and containerd take effect when those services restart.
seealso:
  - module: mediaops.wcs.host_tuning_facts
  - name: tuned cpu-partitioning profile
    description: The profile whose mechanisms this module drives from the plan.
    link: https://github.com/redhat-performance/tuned/tree/master/profiles/cpu-partitioning
"""

EXAMPLES = r"""
- name: Keep interrupts and host daemons off the WCS CPUs
  mediaops.wcs.host_tuning:
    plan: "{{ wcs_plan }}"

- name: Also the kernel command line (takes effect after a reboot)
  mediaops.wcs.host_tuning:
    plan: "{{ wcs_plan }}"
    kernel_cmdline: true
  register: tuned

- name: Put everything back as it was
  mediaops.wcs.host_tuning:
    state: absent
"""

RETURN = r"""
changed_steps:
  description: What was changed (or would be, in check mode), one line each; task moves are counted instead.
  returned: always
  type: list
  elements: str
  sample: ["IRQ 41 (virtio3-rx) affinity", "default IRQ affinity", "sysctl net.core.rmem_max"]
tasks_moved:
  description: Host tasks moved off the WCS CPUs (would be, in check mode); restored ones with O(state=absent).
  returned: always
  type: int
skipped_steps:
  description: Steps not taken, with the reason (no such mechanism on this host, turned off, kernel refused).
  returned: always
  type: list
  elements: dict
  sample: [{step: governor, why: no cpufreq on the WCS CPUs (a VM, or the firmware owns it)}]
refused:
  description: Writes the kernel refused (such as a managed IRQ); kept in the record so later runs skip them.
  returned: always
  type: list
  elements: dict
commands:
  description: Commands run after the changes (systemctl, update-grub), with their exit codes.
  returned: always
  type: list
  elements: dict
verify:
  description: Per running WCS container, the cpuset it should have and the tasks that lost part of it.
  returned: when O(verify) and O(state=present)
  type: list
  elements: dict
  sample: [{name: wcs-1, expected: "1", tasks: 40, narrowed: []}]
reboot_required:
  description: The boot arguments of the GRUB drop-in differ from the running kernel's.
  returned: always
  type: bool
summary:
  description: The result as lines for a report (changed, skipped and refused steps with the reason, reboot).
  returned: always
  type: list
  elements: str
  sample: ["changed: 21 setting(s), 13 task(s) moved", "skipped governor: no cpufreq on the WCS CPUs"]
record:
  description: Path of the record of previous values (absent after O(state=absent)).
  returned: always
  type: str
wcs_cpus:
  description: The WCS CPUs (union of the containers' cpusets).
  returned: with O(state=present)
  type: str
housekeeping_cpus:
  description: The CPUs interrupts and host tasks were moved to.
  returned: with O(state=present)
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils import docker_client
from ansible_collections.mediaops.wcs.plugins.module_utils import host_tuning as ht
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

TUNING_OPTIONS = ("irqs", "default_irq_affinity", "workqueue", "irqbalance", "systemd", "processes", "rps",
                  "governor", "sysctls", "kernel_cmdline")


def wcs_containers(module, live):
    """``{id: {name, cpuset}}`` of the WCS containers: given ids, else the engine's managed containers."""
    if module.params["container_ids"]:
        # cpuset unknown: verify reads it from the container's cgroup
        return {cid: {"name": cid[:12], "cpuset": None} for cid in module.params["container_ids"]}
    if not live:
        return {}
    client = docker_client.get_client(module)
    try:
        return ht.managed_containers(client)
    except docker_client.DockerException as exc:
        docker_client.engine_error(module, exc, "list the managed WCS containers")
    return {}


def diff_of(steps, moved):
    before = ["%s: %s" % (s["path"], s["before"]) for s in steps if s["kind"] == "write"]
    after = ["%s: %s" % (s["path"], s["after"]) for s in steps if s["kind"] == "write"]
    diffs = [{"before_header": "values", "after_header": "values",
              "before": "\n".join(before) + "\n", "after": "\n".join(after) + "\n"}] if before else []
    for s in steps:
        if s["kind"] == "file":
            diffs.append({"before_header": s["path"], "after_header": s["path"],
                          "before": s["before"] or "", "after": s["after"]})
    if moved:
        diffs.append({"before_header": "host tasks", "after_header": "host tasks",
                      "before": "%d task(s) allowed on WCS CPUs\n" % moved, "after": "0\n"})
    return diffs


def summary_of(result, verb="moved"):
    """Lines for a report: what changed, what was skipped or refused and why, whether to reboot."""
    lines = ["changed: %d setting(s), %d task(s) %s" % (len(result.get("changed_steps", [])),
                                                        result.get("tasks_moved", 0), verb)]
    lines += ["skipped %s: %s" % (s["step"], s["why"]) for s in result.get("skipped_steps", [])]
    lines += ["refused %s: %s" % (r["what"], r["why"]) for r in result.get("refused", [])]
    lines += ["ran %s: rc=%s" % (" ".join(c["argv"]), c["rc"]) for c in result.get("commands", []) if c.get("argv")]
    if result.get("reboot_required"):
        lines.append("REBOOT REQUIRED: the kernel command line differs from what the boot loader will give it")
    return lines


def finish(module, changed, **result):
    result["summary"] = summary_of(result, "restored" if module.params["state"] == "absent" else "moved")
    module.exit_json(changed=changed, **result)


def absent(module, root, record_path, live):
    record = ht.load_record(root, record_path)
    if not record:
        finish(module, False, changed_steps=[], tasks_moved=0, skipped_steps=[], refused=[], commands=[],
               reboot_required=False, record=record_path, msg="no tuning record: nothing to restore")
    paths = sorted(list(record.get("values", {})) + list(record.get("files", {})))
    if module.check_mode:
        finish(module, True, changed_steps=paths, tasks_moved=len(record.get("tasks", {})), skipped_steps=[],
               refused=[], commands=[], reboot_required=False, record=record_path)
    done = ht.revert(root, record)
    commands = ht.run_commands({"commands": done["commands"]}, live, module.run_command)
    if done["failed"]:
        module.fail_json(msg="could not restore: %s. The record %s is kept; fix these and run again."
                             % ("; ".join("%s (%s)" % (f["what"], f["why"]) for f in done["failed"]), record_path),
                         changed_steps=done["restored"], tasks_moved=done["tasks_restored"], commands=commands)
    os.remove(ht.host_path(root, record_path))
    wcs = ht.parse_cpuset(record.get("wcs_cpus", ""))
    finish(module, True, changed_steps=done["restored"], tasks_moved=done["tasks_restored"], skipped_steps=[],
           refused=[], commands=commands, reboot_required=ht.reboot_required(root, wcs, present=False),
           record=record_path)


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=docker_client.docker_argument_spec(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            plan=dict(type="dict"),
            root=dict(type="path", default="/"),
            record_path=dict(type="path", default=ht.RECORD_PATH),
            irqs=dict(type="bool", default=True),
            default_irq_affinity=dict(type="bool", default=True),
            workqueue=dict(type="bool", default=True),
            irqbalance=dict(type="bool", default=True),
            systemd=dict(type="bool", default=True),
            processes=dict(type="bool", default=True),
            process_pids=dict(type="list", elements="int", default=[]),
            rps=dict(type="bool", default=True),
            governor=dict(type="bool", default=True),
            sysctls=dict(type="dict", default=dict(ht.DEFAULT_SYSCTLS)),
            kernel_cmdline=dict(type="bool", default=False),
            container_ids=dict(type="list", elements="str", default=[]),
            verify=dict(type="bool", default=True),
        ),
        required_if=[("state", "present", ("plan",))],
        supports_check_mode=True,
    )
    p = module.params
    try:
        root = ht.check_root(p["root"])
        record_path = ht.check_record_path(p["record_path"], root)
    except PlanError as err:
        module.fail_json(msg=str(err))
    live = ht.is_live_root(root)
    if os.geteuid() != 0 and live:
        module.fail_json(msg="host_tuning needs root (IRQ affinities, sysctls, other users' tasks). Fix: become: true")
    try:
        if p["state"] == "absent":
            absent(module, root, record_path, live)
        wcs, house, parent = ht.wcs_split(p["plan"], ht.online_cpus(root) or None)
        options = {k: p[k] for k in TUNING_OPTIONS}
        ht.check_sysctls(options["sysctls"])
        containers = wcs_containers(module, live)
        record = ht.load_record(root, record_path) or ht.new_record(wcs, house)
        pids = set(p["process_pids"]) if p["process_pids"] else None
        state = ht.audit(root, wcs, house, parent, container_ids=list(containers), record=record,
                         sysctl_keys=list(options["sysctls"]), pids=pids)
        plan = ht.plan_changes(state, wcs, house, options, root=root)
    except PlanError as err:
        module.fail_json(msg=str(err))

    steps = plan["steps"]
    moves = [s for s in steps if s["kind"] == "affinity"]
    named = [s["what"] for s in steps if s["kind"] != "affinity"]
    result = dict(wcs_cpus=ht.format_cpuset(wcs), housekeeping_cpus=ht.format_cpuset(house), record=record_path,
                  skipped_steps=plan["skipped"], refused=[], commands=[], changed_steps=named, tasks_moved=len(moves))
    if module._diff:
        result["diff"] = diff_of(steps, len(moves))
    if module.check_mode:
        result["reboot_required"] = ht.reboot_required(root, wcs) or any(
            s["path"] == ht.GRUB_DROPIN for s in steps if s["kind"] == "file")
        finish(module, bool(steps), **result)

    # The record goes to disk before the first change: a run that dies half-way can still be reverted.
    if steps:
        ht.remember(root, record, steps)
        ht.save_record(root, record_path, record)
    done = ht.apply_steps(root, plan, record)
    if steps:
        ht.save_record(root, record_path, record)
    commands = ht.run_commands(plan, live, module.run_command)
    failed_commands = [c for c in commands if c["rc"] not in (0, None)]
    result.update(changed_steps=done["changed"], tasks_moved=done["tasks_moved"], refused=done["refused"],
                  commands=commands, reboot_required=ht.reboot_required(root, wcs))
    changed = bool(done["changed"] or done["tasks_moved"])
    if p["verify"]:
        result["verify"] = ht.verify_containers(root, containers)
        narrowed = [r for r in result["verify"] if r["narrowed"]]
        if narrowed:
            module.fail_json(changed=changed, msg="WCS container(s) lost CPUs of their cpuset after tuning: %s. "
                             "Fix: restart them (docker restart) so they start from their cpuset, and report it; "
                             "'state: absent' restores the host." % "; ".join(
                                 "%s expects %s, %d task(s) narrowed (e.g. %s on %s)" % (
                                     r["name"], r["expected"], len(r["narrowed"]), r["narrowed"][0]["comm"],
                                     r["narrowed"][0]["allowed"]) for r in narrowed), **result)
    if failed_commands:
        module.fail_json(changed=changed, msg="tuning applied, but %s" % "; ".join(
            "%s exited %s: %s" % (" ".join(c["argv"]), c["rc"], c.get("stderr", "")) for c in failed_commands),
            **result)
    finish(module, changed, **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: host_tuning_facts
short_description: Audit what may still run on a WCS host's pinned CPUs (IRQs, daemons, RPS, governor, sysctls)
version_added: "1.1.0"
author: mediaops engineering (@mediaops)
description:
  - For the WCS CPUs of the host's plan (the union of the containers' cpusets) reads every IRQ whose affinity
    includes one of them (and whether the kernel will move it), C(/proc/irq/default_smp_affinity), the
    workqueue cpumask, irqbalance (installed, running, banned CPUs), systemd's C(CPUAffinity=) (system-wide and
    for docker and containerd), host tasks outside the WCS containers allowed on WCS CPUs (count and names), the
    parent NIC's queue IRQs, RPS/XPS masks and NUMA node, the cpufreq governor, the kernel command line flags
    (C(isolcpus), C(nohz_full), C(rcu_nocbs), C(irqaffinity)) and the UDP/network sysctls.
  - Sets C(ansible_facts.wcs_tuning_audit_result) and returns RV(table), the audit as text lines for a report.
    (Formerly C(wcs_tuning_audit), the name of the audit's on/off switch, which the fact hid.)
  - Reads only. Works on recorded trees (O(root)) as M(mediaops.wcs.host_facts) does.
options:
  plan:
    description:
      - The host's C(wcs_plan). Without it, or when it keeps no CPU for the host, the audit still runs (on the
        containers' CPUs, if any) and RV(refusal) says why tuning would refuse.
    type: dict
  root:
    description: Root of the filesystem to read (a recorded sysfs/procfs tree); V(/) is the live host (so are
      V(//), V(/.) and a link to V(/), compared by file identity). Paths that resolve outside a tree are refused.
    type: path
    default: /
  record_path:
    description: The tuning record of M(mediaops.wcs.host_tuning), below O(root) (IRQs the kernel refused); an
      absolute file path without C(.) or C(..) segments.
    type: path
    default: /var/lib/mediaops-wcs/tuning-record.json
  container_ids:
    description:
      - Ids of the WCS containers, whose tasks belong on WCS CPUs. Empty means every running container of the
        engine labelled C(mediaops.wcs.managed=true) when O(root=/) and the engine answers, else none.
    type: list
    elements: str
    default: []
  process_pids:
    description: Only look at these processes. Empty means all.
    type: list
    elements: int
    default: []
extends_documentation_fragment:
  - mediaops.wcs.docker
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
    details: Reads only.
  facts:
    support: full
  platform:
    platforms: posix
notes:
  - Root sees every task; without it tasks of other users are still listed from C(/proc) on most hosts.
seealso:
  - module: mediaops.wcs.host_tuning
"""

EXAMPLES = r"""
- name: Audit the host against its plan
  mediaops.wcs.host_tuning_facts:
    plan: "{{ wcs_plan }}"
  register: audit

- name: Print it
  ansible.builtin.debug:
    msg: "{{ audit.table }}"
"""

RETURN = r"""
table:
  description: The audit as aligned text lines (item, value, note), ending with the verdict.
  returned: always
  type: list
  elements: str
issues:
  description: What still lets the host run work on WCS CPUs, one sentence each; empty when clean.
  returned: always
  type: list
  elements: str
refusal:
  description: Why M(mediaops.wcs.host_tuning) would refuse this plan (empty when it would not).
  returned: always
  type: str
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    wcs_tuning_audit_result:
      description:
        - C(wcs_cpus), C(housekeeping_cpus), C(online_cpus), C(irqs) (C(irq), C(name), C(affinity),
          C(effective), C(movable), C(why), C(on_wcs)), C(default_smp_affinity), C(workqueue_cpumask),
          C(irqbalance), C(systemd), C(processes), C(nic), C(governors), C(cmdline), C(grub_dropin), C(sysctls),
          C(record), C(issues).
      type: dict
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils import docker_client
from ansible_collections.mediaops.wcs.plugins.module_utils import host_tuning as ht
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError


def container_ids(module, live):
    if module.params["container_ids"] or not live:
        return list(module.params["container_ids"])
    if not docker_client.HAS_DOCKER:
        module.warn("Docker SDK missing: tasks of WCS containers are counted as host tasks")
        return []
    try:
        client = docker_client.docker.APIClient(base_url=module.params["docker_host"],
                                                timeout=module.params["timeout"])
        return list(ht.managed_containers(client))
    except docker_client.DockerException as exc:
        module.warn("engine at %s did not answer (%s): tasks of WCS containers are counted as host tasks"
                    % (module.params["docker_host"], exc))
        return []


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=docker_client.docker_argument_spec(
            plan=dict(type="dict"),
            root=dict(type="path", default="/"),
            record_path=dict(type="path", default=ht.RECORD_PATH),
            container_ids=dict(type="list", elements="str", default=[]),
            process_pids=dict(type="list", elements="int", default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        live = ht.is_live_root(ht.check_root(p["root"]))
        result = ht.audit_result(p["plan"], p["root"], p["record_path"], container_ids(module, live),
                                 p["process_pids"])
    except PlanError as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

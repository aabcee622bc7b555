#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: host_facts
short_description: CPU, NUMA, memory and network topology of a WCS host as the C(wcs_host) fact
version_added: "1.0.0"
author: mediaops engineering (@mediaops)
description:
  - Reads online CPUs with their core id, SMT siblings, socket and NUMA node from C(/sys/devices/system/cpu) and
    C(/sys/devices/system/node) (no node directory means one node 0), C(isolcpus=) and C(nohz_full=) from the
    kernel command line (flags such as C(managed_irq,domain) are stripped), total memory, the cgroup version, and
    the network interfaces with their state, MTU, MAC, addresses, kind and whether they can be an ipvlan/macvlan
    parent.
  - Sets C(ansible_facts.wcs_host), the input of the planning filters P(mediaops.wcs.cpu_split#filter),
    P(mediaops.wcs.cpu_plan#filter), P(mediaops.wcs.heap_plan#filter). The dict's layout is fixed in the
    collection's C(docs/design.md).
  - Reads only; never changes the host. Runs the same in check mode.
  - An interface can be a parent unless it is loopback, a bridge (such as C(docker0)), enslaved to a bridge or
    bond, itself an ipvlan/macvlan, a tun/ifb device, or down.
options:
  root:
    description:
      - Root of the filesystem to read, for recorded sysfs/procfs trees. With a root other than C(/) addresses and
        link kinds come from C(<root>/ip-addr.json) and C(<root>/ip-link.json) (C(ip -j addr show) and
        C(ip -d -j link show) output) when present.
    type: path
    default: /
  gather:
    description:
      - Parts to gather; parts left out come back empty (V([]) or V(0)). C(cgroup) is always read.
      - V(cpu) is C(cpus), C(numa_nodes), C(isolated) and C(nohz_full); V(memory) is C(memory_bytes);
        V(interfaces) is C(interfaces).
    type: list
    elements: str
    choices: [cpu, memory, interfaces]
    default: [cpu, memory, interfaces]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
    details: Reads only; there is nothing to diff.
  facts:
    support: full
  platform:
    platforms: posix
notes:
  - Needs no privileges; C(ip) from iproute2 is used for addresses when present.
seealso:
  - plugin: mediaops.wcs.cpu_split
    plugin_type: filter
  - plugin: mediaops.wcs.heap_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Gather the host's topology
  mediaops.wcs.host_facts:

- name: Two disjoint cpusets from it
  ansible.builtin.debug:
    msg: "{{ ansible_facts.wcs_host | mediaops.wcs.cpu_split(2) }}"

- name: Read a recorded tree (tests)
  mediaops.wcs.host_facts:
    root: /srv/fixtures/big-2x10x2
    gather: [cpu, memory]
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    wcs_host:
      description: The host's topology.
      returned: always
      type: dict
      contains:
        cpus:
          description:
            - Online CPUs sorted by id; C(siblings) includes the CPU itself.
            - C(l3) is the lowest CPU id sharing the CPU's level-3 cache, which names its L3 group (a socket on most
              Intel hosts, a CCX/CCD on AMD); null when sysfs shows no level-3 cache (treated as one L3 per socket).
          type: list
          elements: dict
          sample: [{id: 0, core: 0, socket: 0, node: 0, siblings: [0, 20], l3: 0}]
        numa_nodes:
          description: NUMA nodes with their online CPUs and memory; empty when the host has no node directory.
          type: list
          elements: dict
          sample: [{id: 0, cpus: [0, 1, 20, 21], memory_bytes: 137438953472}]
        isolated:
          description: CPUs of C(isolcpus=).
          type: list
          elements: int
        nohz_full:
          description: CPUs of C(nohz_full=).
          type: list
          elements: int
        memory_bytes:
          description: MemTotal in bytes.
          type: int
        interfaces:
          description:
            - Network interfaces (empty when O(gather) leaves out V(interfaces)).
            - C(numa_node) is the NIC's NUMA node from C(device/numa_node); null without a device or when the
              kernel says -1 (one-node hosts, most VMs).
          type: list
          elements: dict
          sample:
            - {name: eno1, state: up, mtu: 1500, mac: "02:00:00:00:00:02", addresses: ["203.0.113.2/29"],
               kind: physical, can_be_parent: true, numa_node: 0}
        cgroup:
          description: Cgroup version of the host.
          type: dict
          sample: {version: 2}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.topology import GATHER_PARTS, ip_runner, read_topology


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=dict(
            root=dict(type="path", default="/"),
            gather=dict(type="list", elements="str", choices=list(GATHER_PARTS), default=list(GATHER_PARTS)),
        ),
        supports_check_mode=True,
    )
    root = module.params["root"]
    if not os.path.isdir(os.path.join(root, "sys/devices/system/cpu")):
        module.fail_json(msg="root: %r has no sys/devices/system/cpu. Fix: point root at / or at a recorded "
                             "sysfs/procfs tree (tests/fixtures/topology/record.py makes one)" % root)
    try:
        run_ip = None
        if os.path.abspath(root) == "/":  # the live host: addresses from `ip -j` (missing ip: none)
            ip = module.get_bin_path("ip")
            run_ip = ip_runner(module.run_command, ip) if ip else (lambda args: None)
        facts = read_topology(root, run_ip=run_ip, gather=module.params["gather"])
    except PlanError as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=False, ansible_facts={"wcs_host": facts})


if __name__ == "__main__":
    main()

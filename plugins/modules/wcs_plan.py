#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/wcs_plan.py) on the controller.
from __future__ import annotations

DOCUMENTATION = r"""
module: wcs_plan
short_description: Plan and validate one host's WCS containers (CPU sets, addresses, heap) in one step
description:
  - Reads the host's topology (one run of M(mediaops.wcs.host_facts) on the host; a recorded tree given in
    O(host_facts_root) is read on the controller when the connection is local), then computes the whole plan on
    the controller, in Python - the CPU split (whole cores, socket/L3/NUMA aware, host cores kept back, isolated CPUs
    left out), the address layout of the block, heap and memory limits, per-container names and conf directories.
  - Computes each container's capacity - the sessions it can hold by each limit (media ports, cores, heap, file
    descriptors) and the binding one (module_utils/capacity.py) - and refuses O(expected_streams) above it.
  - Checks every input before anything changes - each through its one declaration in the collection's input model
    (module_utils/inputs.py, shared with the P(mediaops.wcs.plan_inputs#filter) filter) - counts (ASCII digits),
    names, the image reference, the parent interface, explicit cpusets (overlap, offline, kept for the host, empty),
    addresses (unicast), paths, sizes, expected sessions - and fails with a message naming the role variable, the bad
    value and the fix.
  - Sets the facts C(wcs_plan) (shape in the collection's docs/design.md) and C(wcs_host) (the topology), and
    returns the plan table as RV(table).
  - Options are the variables of the role M(mediaops.wcs.plan) without their C(wcs_) prefix and take the same
    survey-friendly forms (numbers and booleans as strings, lists as comma-separated strings). Errors name the role
    variable (for example C(wcs_container_count)).
  - Changes nothing on any host.
version_added: 1.1.0
author:
  - mediaops engineering (@mediaops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  become:
    support: full
    details: Becomes on the host only for the one M(mediaops.wcs.host_facts) run; the plan is computed on the controller.
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Only reads; runs the same in check mode.
  connection:
    support: full
    details: A recorded tree with a local connection is read on the controller; otherwise one module run on the host.
  delegation:
    support: none
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  container_count:
    description: Number of WCS containers on this host (1 to 1024).
    type: raw
    default: 2
  name_prefix:
    description: Container names are this prefix followed by 1, 2, ... (Docker's name rules, matched whole, at least 2
      characters).
    type: str
    default: wcs-
  image:
    description: Image of every container, in Docker's reference grammar ([registry[:port]/]path[:tag][@sha256:...]).
    type: str
    default: flashphoner/webcallserver:latest
  docker_host:
    description: Docker engine of this host.
    type: str
    default: unix:///var/run/docker.sock
  network_name:
    description: Name of the Docker network; not Docker's own V(bridge), V(host), V(none) or V(default).
    type: str
    default: wcs-net
  network_driver:
    description: V(ipvlan) or V(macvlan).
    type: str
    default: ipvlan
  network_mode:
    description: ipvlan mode (l2, l3, l3s) or macvlan mode (bridge, private, vepa, passthru); empty means l2 / bridge.
    type: str
    default: ""
  network_parent:
    description: Host interface carrying the block; must exist and be able to carry the network.
    type: str
    required: true
  network_block:
    description: The public block in CIDR form, laid out as the article does; set this or O(network_subnet).
    type: str
    default: ""
  network_subnet:
    description: Explicit subnet instead of a block (with the explicit parts below).
    type: str
    default: ""
  network_gateway:
    description: Explicit gateway (default the 2nd address).
    type: str
    default: ""
  network_ip_range:
    description: Explicit Docker ip_range (default the 4th address as a /32).
    type: str
    default: ""
  host_address:
    description: Explicit host address (default the 3rd address).
    type: str
    default: ""
  container_addresses:
    description: Explicit container addresses, a list or a comma-separated string, one per container.
    type: raw
    default: []
  external_addresses:
    description: EXTERNAL_IP (property C(ip)) per container when NAT sits in front, unicast (not loopback, multicast,
      broadcast or unspecified); default each container's own address.
    type: raw
    default: []
  reserved_cpus:
    description:
      - CPUs kept for the host, widened to whole cores. Null - the first core of each NUMA node with its SMT
        siblings; an empty string or list keeps none.
    type: raw
  cpusets:
    description: Explicit cpuset per container (a list, or a string with C(;) between containers).
    type: raw
    default: []
  allow_smt_split:
    description: Let SMT siblings of one core go to different containers.
    type: raw
    default: false
  heap:
    description: Heap per container, e.g. V(16g); empty - O(heap_share) of RAM split between the containers.
    type: str
    default: ""
  heap_share:
    description: Share of host RAM given to all heaps together.
    type: raw
    default: 0.5
  memory_limit:
    description: Container memory limit, e.g. V(24g); empty - heap plus room for the JVM outside it.
    type: str
    default: ""
  conf_root:
    description: Each container's property files go to C(<conf_root>/<name>/conf); absolute, without C(..) or C(:), and
      neither a system directory nor under one (the deny table is in the collection's docs/design.md, "Input model").
    type: str
    default: /opt/wcs
  plan_check_parent:
    description: Check that O(network_parent) exists on the host and can carry the network.
    type: raw
    default: true
  media_port_from:
    description:
      - First UDP media port (the config role's C(wcs_media_port_from)), for the
        C(media_ports) capacity limit - even ports only (odd ones too with O(compact_media_port_usage)), one per
        WebRTC stream with O(rtp_bundle), two without.
    type: raw
    default: 31001
  media_port_to:
    description: Last UDP media port (the config role's C(wcs_media_port_to)).
    type: raw
    default: 40000
  rtp_bundle:
    description: C(rtp_bundle) of the properties; unset (null) counts two ports per stream.
    type: raw
  compact_media_port_usage:
    description: C(compact_media_port_usage) of the properties; true counts the odd ports too.
    type: raw
  nofile_limit:
    description: The containers' C(nofile) ulimit (the containers role's C(wcs_nofile_limit)), for the C(nofile) limit.
    type: raw
    default: 20000
  expected_streams:
    description:
      - Sessions each container must hold - a whole number for every container, or a mapping of container name to
        number (names not planned are refused); null, empty or 0 expects nothing.
      - The plan fails when any capacity limit of a container is below it, naming the numbers, the binding limit and
        the fix.
    type: raw
  capacity_streams_per_core:
    description: Sessions one physical core holds (C(cpu) limit = cores x this). An unconfirmed assumption; 0 leaves
      the limit out.
    type: raw
    default: 100
  capacity_heap_per_stream:
    description: Heap one session takes (C(heap) limit = heap / this). An unconfirmed assumption; empty or 0 leaves
      the limit out.
    type: raw
    default: 8m
  capacity_fds_per_stream:
    description: File descriptors one session takes (C(nofile) limit = (O(nofile_limit) - O(capacity_fd_reserve)) /
      this). An unconfirmed assumption; 0 leaves the limit out.
    type: raw
    default: 4
  capacity_fd_reserve:
    description: File descriptors WCS holds besides its sessions. An unconfirmed assumption.
    type: raw
    default: 2048
  host_facts_root:
    description: Read the topology from this recorded sysfs/procfs tree instead of the host's C(/).
    type: str
    default: ""
  deploy_variables:
    description:
      - Further typed variables the deploy writes into files, labels or the engine (property maps, JVM options,
        secrets, monitoring addresses), by their role variable name, checked first with the same rules (filter
        P(mediaops.wcs.plan_inputs#filter)); secrets are never shown in an error.
    type: dict
    default: {}
seealso:
  - module: mediaops.wcs.host_facts
  - module: mediaops.wcs.wcs_containers
"""

EXAMPLES = r"""
- name: Plan this host
  mediaops.wcs.wcs_plan:
    container_count: 2
    network_parent: ens1f0
    network_block: 203.0.113.0/29
  register: plan

- name: Show the plan table
  ansible.builtin.debug:
    msg: "{{ plan.table }}"

- name: Preflight of a recorded host (topology read on the controller)
  mediaops.wcs.wcs_plan:
    network_parent: eno1
    network_block: 203.0.113.0/29
    host_facts_root: /srv/topologies/media1
"""

RETURN = r"""
table:
  description: The plan as lines of text - one row per container (cpuset, cores, memory nodes, sockets, address,
    heap, memory limit, capacity with its binding limit), then the CPUs the host keeps and the network.
  returned: success
  type: list
  elements: str
ansible_facts:
  description: Facts set.
  returned: success
  type: dict
  contains:
    wcs_plan:
      description: The plan of this host (docs/design.md, "Plan fact").
      type: dict
      sample:
        host: media1
        docker_host: unix:///var/run/docker.sock
        reserved_cpus: "0,10,20,30"
        idle_cpus: ""
        memory_bytes: 274877906944
        numa_node_count: 2
        network: {name: wcs-net, driver: ipvlan, mode: l2, parent: ens1f0, subnet: 203.0.113.0/29,
                  gateway: 203.0.113.1, ip_range: 203.0.113.3/32, host_address: 203.0.113.2,
                  spares: [203.0.113.6]}
        containers:
          - {name: wcs-1, image: "flashphoner/webcallserver:latest", cpuset: "1-9,21-29", cpuset_mems: "0",
             cores: 9, numa_nodes: [0], sockets: [0], l3_groups: 1, ipv4_address: 203.0.113.4, local_ip: 203.0.113.4,
             external_ip: 203.0.113.4, heap: 64g, memory: 80g, conf_dir: /opt/wcs/wcs-1/conf,
             capacity: {limits: {media_ports: 2250, cpu: 900, heap: 8192, nofile: 4488}, streams: 900,
                        binding: cpu}}
    wcs_host:
      description: The host's topology (see M(mediaops.wcs.host_facts)).
      type: dict
"""

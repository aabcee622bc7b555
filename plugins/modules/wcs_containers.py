#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: wcs_containers
short_description: The whole set of CPU-pinned WCS containers of one Docker engine, reconciled in one call
description:
  - Runs Flashphoner WCS containers the way the article's C(docker run --cpuset-cpus ... flashphoner/webcallserver)
    does, for every container of one engine in one task. All input is validated together (names, addresses,
    cpusets online and not overlapping) before anything changes; one client serves every container.
  - Top-level options are defaults for every item of O(containers); an item's own value wins, O(env) and
    O(labels) are merged key by key.
  - Idempotent on everything it sets. Each managed container carries the label C(mediaops.wcs.managed=true) and
    labels recording what the module set (the spec, a salted hash per secret), so a second run compares against
    intent (the static address in IPAMConfig, not the live one; removed env entries; one spelling of image names
    and network modes). A change of any recorded field (image or what its tag points to, cpuset, cpuset_mems,
    network, address, env, secrets, mounts, memory, restart policy, ulimits, labels) recreates that container
    only - except when only cpuset, cpuset_mems, memory or restart policy change on a running container; those
    are applied live with the engine's update call (action V(updated)), no restart, streams kept. The JVM in the
    container sized its thread pools from the CPUs it saw at start; a live cpuset change does not resize them (a
    restart does, see the rollout role).
  - A recreate never leaves the name without a container. The running one is renamed aside
    (C(<name>.mediaops-old)) and stopped, which frees its static address; the new one is created and started under
    the real name, and waited for when O(wait) is set; only then is the old one removed. On any failure (the
    engine refuses the new one, it does not start, exits or does not answer within O(wait_timeout)) the new one
    is removed and the old one renamed back and started again, and the error says so. A container left aside by
    an interrupted run is removed once its successor exists.
  - Removal only of what the collection made, and never before the containers that follow are there. Only
    containers with the label C(mediaops.wcs.managed=true) are ever removed (O(purge), V(absent)). Every item is
    checked first (a Docker name of at least 2 characters, not ending in C(.mediaops-old), names unique across the
    list, the image, a C(conf_dir) without C(:) or C(..)). Containers to remove are only stopped until the new and
    recreated containers of the run are created and started; then they are removed. When a create or start fails,
    the containers this run created are removed again and those it stopped started again, and the error says so.
  - O(image) may be a local image ID (V(sha256:...)); it is compared with the ID the container runs.
  - With a local engine, each container records a hash of its conf dir's files in the label
    C(mediaops.wcs.conf_hash). Files that differ from the ones it was created with are a change (V(conf_files)) and
    recreate it, also on a later run when the run that rendered them failed or was refused before the restart.
  - Refuses a cpuset that overlaps another container of the set or another managed WCS container on the engine
    unless O(allow_shared_cpus=true).
  - A no-op run costs one container list (filtered by label), one image list and one inspect per container.
  - O(password) and O(license) never appear in results, diffs or logs; diff mode shows them as
    C((changed)) or C((unchanged)).
version_added: 1.0.0
author:
  - mediaops engineering (@mediaops)
extends_documentation_fragment:
  - mediaops.wcs.docker
attributes:
  check_mode:
    description: Predicts every action (created, recreated, removed, ...) without changing anything.
    support: full
  diff_mode:
    description: Shows each changed container before and after; secrets only as (changed) or (unchanged).
    support: full
options:
  containers:
    description:
      - The WCS containers of this engine. Each item overrides the top-level defaults.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Container name.
        type: str
        required: true
      image:
        description: Image, e.g. V(flashphoner/webcallserver:latest). Default is the top-level O(image).
        type: str
      cpuset:
        description:
          - CPUs the container may run on, in Docker syntax (V(2-9,22-29)) or as a list of CPU ids.
          - Must be online (read from C(/sys/devices/system/cpu/online) for a local engine, else the engine's
            CPU count).
        type: raw
      cpuset_mems:
        description: NUMA memory nodes (V(0)), so a NUMA-local cpuset gets local memory too.
        type: raw
      network:
        description: Docker network to attach (usually the ipvlan network). Default is the top-level O(network).
        type: str
      ipv4_address:
        description: Static IPv4 address on O(containers[].network).
        type: str
      local_ip:
        description: Becomes C(LOCAL_IP) (WCS C(ip_local)).
        type: str
      external_ip:
        description: Becomes C(EXTERNAL_IP) (WCS C(ip)).
        type: str
      password:
        description:
          - Becomes C(PASSWORD) (SSH into the container). Never shown.
          - Text (a whole number is taken as its digits); a list, mapping, boolean or float is refused.
        type: raw
      license:
        description:
          - Becomes C(LICENSE) (WCS licence key). Never shown.
          - Text (a whole number is taken as its digits); a list, mapping, boolean or float is refused.
        type: raw
      conf_dir:
        description: Host directory with the property files, bind-mounted read-only at C(/conf).
        type: path
      env:
        description: More environment variables, merged over the top-level O(env).
        type: dict
      memory:
        description: Memory limit, e.g. V(24g).
        type: str
      restart_policy:
        description: Docker restart policy.
        type: str
        choices: ["no", always, unless-stopped, on-failure]
      ulimits:
        description: 'Ulimits, e.g. C([{name: nofile, soft: 20000, hard: 20000}]).'
        type: list
        elements: dict
      labels:
        description: Extra labels, merged over the top-level O(labels). C(mediaops.wcs.*) is reserved.
        type: dict
      state:
        description: V(started), V(stopped) or V(absent).
        type: str
        choices: [started, stopped, absent]
      pull:
        description: When to pull the image.
        type: str
        choices: [missing, always, never]
      wait:
        description: Wait for this container's statistics page. Default is the top-level O(wait).
        type: bool
      restart:
        description:
          - Restart this container even when its spec is unchanged (e.g. its property files changed).
          - Ignored when the container is created or recreated anyway.
        type: bool
        default: false
  image:
    description: Default image.
    type: str
  network:
    description: Default network.
    type: str
  cpuset_mems:
    description: Default NUMA memory nodes.
    type: raw
  password:
    description:
      - Default C(PASSWORD). Never shown.
      - Text (a whole number is taken as its digits); a list, mapping, boolean or float is refused.
    type: raw
  license:
    description:
      - Default C(LICENSE). Never shown.
      - Text (a whole number is taken as its digits); a list, mapping, boolean or float is refused.
    type: raw
  conf_dir:
    description: Default host directory mounted at C(/conf).
    type: path
  env:
    description: Environment variables for every container.
    type: dict
    default: {}
  memory:
    description: Default memory limit, e.g. V(24g).
    type: str
  restart_policy:
    description: Default Docker restart policy.
    type: str
    choices: ["no", always, unless-stopped, on-failure]
    default: unless-stopped
  ulimits:
    description:
      - Default ulimits. WCS wants a high C(nofile); a hard limit above the Docker daemon's own makes the start
        fail (C(error setting rlimits)), reported with the fix.
    type: list
    elements: dict
  labels:
    description: Labels for every container.
    type: dict
    default: {}
  state:
    description: Default state.
    type: str
    choices: [started, stopped, absent]
    default: started
  pull:
    description:
      - V(missing) pulls images not on the engine (one image list per run), V(always) pulls every run, V(never)
        fails before any change when an image is missing.
    type: str
    choices: [missing, always, never]
    default: missing
  purge:
    description:
      - Remove managed WCS containers of this engine (label C(mediaops.wcs.managed=true)) that are not in
        O(containers), once the listed ones are created and started (they are stopped meanwhile, and started again
        when the run fails).
    type: bool
    default: false
  allow_shared_cpus:
    description: Allow cpusets that overlap each other or other managed WCS containers.
    type: bool
    default: false
  wait:
    description:
      - Wait until the statistics page (C(/?action=stat) on 8081) of every started container answers, asked from
        inside the container's network namespace (needs root and a local engine). A container that exits
        meanwhile fails the task with the tail of its log.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait per container.
    type: int
    default: 120
  report_streams:
    description:
      - Also report each existing running container's live stream count (RV(containers[].streams)), read from its
        statistics page inside its network namespace (local engine). Used in check mode to say which containers
        a change would interrupt, and how many streams they carry.
    type: bool
    default: false
notes:
  - Needs the Docker SDK for Python on the Docker host.
  - The host cannot reach its own ipvlan/macvlan containers through the parent; O(wait) therefore asks from inside
    each container's network namespace.
  - Secrets are passed to the engine as environment variables (as the WCS image expects), so anyone allowed to
    inspect containers on that engine can read them; the module itself never returns or logs them.
seealso:
  - module: mediaops.wcs.ipvlan_network
  - module: mediaops.wcs.wcs_stats
"""

EXAMPLES = r"""
- name: Two pinned WCS containers on the ipvlan network (the article's set-up)
  mediaops.wcs.wcs_containers:
    image: flashphoner/webcallserver:latest
    network: wcs-net
    password: "{{ vault_wcs_password }}"
    license: "{{ vault_wcs_license }}"
    ulimits: [{name: nofile, soft: 20000, hard: 20000}]
    wait: true
    containers:
      - name: wcs-1
        cpuset: 1-9,21-29
        cpuset_mems: "0"
        ipv4_address: 203.0.113.4
        local_ip: 203.0.113.4
        external_ip: 203.0.113.4
        conf_dir: /opt/wcs/wcs-1/conf
        memory: 24g
      - name: wcs-2
        cpuset: [11, 12, 13, 14, 15, 16, 17, 18, 19]
        cpuset_mems: "1"
        ipv4_address: 203.0.113.5
        local_ip: 203.0.113.5
        external_ip: 203.0.113.5
        conf_dir: /opt/wcs/wcs-2/conf
        memory: 24g
        restart: "{{ wcs2_properties.changed }}"

- name: Remove every managed WCS container of the engine
  mediaops.wcs.wcs_containers:
    containers: []
    purge: true
"""

RETURN = r"""
containers:
  description: One entry per container of O(containers), then the purged ones. Never holds secrets.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Container name.
      type: str
      returned: always
    id:
      description: Container id (null in check mode for one not created yet, and when removed).
      type: str
      returned: always
    image:
      description: Image, normalised (V(busybox) reads V(busybox:latest)).
      type: str
      returned: always
    cpuset:
      description: CPUs, in canonical Docker syntax.
      type: str
      returned: always
    cpuset_mems:
      description: NUMA memory nodes.
      type: str
      returned: always
    ipv4_address:
      description: Static address asked for.
      type: str
      returned: always
    state:
      description: V(running), V(stopped) or V(absent) after the run.
      type: str
      returned: always
    action:
      description:
        - What was done (or, in check mode, would be) - V(created), V(recreated), V(updated) (live, no restart),
          V(started), V(restarted), V(stopped), V(removed), V(unchanged).
      type: str
      returned: always
      sample: unchanged
    running:
      description: Whether the container was running before this call.
      type: bool
      returned: always
      sample: true
    streams:
      description: Its live stream count before this call (with O(report_streams); null when not asked or not answering).
      type: int
      returned: always
      sample: 12
    changes:
      description: Fields that differed (V(container) for a new one; secrets by option name only).
      type: list
      elements: str
      returned: always
      sample: [cpuset, env]
  sample:
    - {name: wcs-1, id: 4f2c..., image: "flashphoner/webcallserver:latest", cpuset: "1-9,21-29", cpuset_mems: "0",
       ipv4_address: 203.0.113.4, state: running, action: recreated, changes: [cpuset]}
pulled:
  description: Images pulled (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils.container_set import (
    EngineFailure, add_conf_hashes, conf_dir_problems, diff_of, ensure_images, execute, leftovers_of, live_streams,
    managed_containers, others_cpusets, plan, result_of, wait_for)
from ansible_collections.mediaops.wcs.plugins.module_utils.container_spec import (
    check_unique_names, desired_container, merged_items, validate_set)
from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import parse_cpuset
from ansible_collections.mediaops.wcs.plugins.module_utils.docker_client import (
    APIError, docker_argument_spec, engine_error, engine_is_local, get_client)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

POLICIES = ["no", "always", "unless-stopped", "on-failure"]
STATES = ["started", "stopped", "absent"]
PULLS = ["missing", "always", "never"]


def argument_spec():
    item = dict(
        name=dict(type="str", required=True),
        image=dict(type="str"),
        cpuset=dict(type="raw"),
        cpuset_mems=dict(type="raw"),
        network=dict(type="str"),
        ipv4_address=dict(type="str"),
        local_ip=dict(type="str"),
        external_ip=dict(type="str"),
        password=dict(type="raw", no_log=True),
        license=dict(type="raw", no_log=True),
        conf_dir=dict(type="path"),
        env=dict(type="dict"),
        memory=dict(type="str"),
        restart_policy=dict(type="str", choices=POLICIES),
        ulimits=dict(type="list", elements="dict"),
        labels=dict(type="dict"),
        state=dict(type="str", choices=STATES),
        pull=dict(type="str", choices=PULLS),
        wait=dict(type="bool"),
        restart=dict(type="bool", default=False),
    )
    return docker_argument_spec(
        containers=dict(type="list", elements="dict", required=True, options=item),
        image=dict(type="str"),
        network=dict(type="str"),
        cpuset_mems=dict(type="raw"),
        password=dict(type="raw", no_log=True),
        license=dict(type="raw", no_log=True),
        conf_dir=dict(type="path"),
        env=dict(type="dict", default={}),
        memory=dict(type="str"),
        restart_policy=dict(type="str", choices=POLICIES, default="unless-stopped"),
        ulimits=dict(type="list", elements="dict"),
        labels=dict(type="dict", default={}),
        state=dict(type="str", choices=STATES, default="started"),
        pull=dict(type="str", choices=PULLS, default="missing"),
        purge=dict(type="bool", default=False),
        allow_shared_cpus=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=120),
        report_streams=dict(type="bool", default=False),
    )


def online_cpus(module, client):
    """Online CPU ids of the engine's host: sysfs when local, else the engine's CPU count."""
    if engine_is_local(module.params):
        with open("/sys/devices/system/cpu/online") as handle:
            return parse_cpuset(handle.read().strip())
    try:
        return list(range(client.info()["NCPU"]))
    except APIError as exc:
        engine_error(module, exc, "report its CPUs")


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        # every container checked (names, image, conf_dir, ...) before the first change
        desired = [desired_container(item, i) for i, item in enumerate(merged_items(p, p["containers"]))]
        check_unique_names(desired)
    except PlanError as err:
        module.fail_json(msg=str(err))
    if engine_is_local(p):
        # In check mode the property files are not rendered either, so a missing conf_dir is expected there.
        problem = None if module.check_mode else conf_dir_problems(desired)
        add_conf_hashes(desired)
        if problem:
            module.fail_json(msg=problem)
    elif p["wait"] or any(d["wait"] for d in desired):
        module.fail_json(msg="wait: asking a container from inside its network namespace needs the engine on this "
                             "host (docker_host=%s). Fix: run the task on the Docker host." % p["docker_host"])

    client = get_client(module)
    try:
        managed = managed_containers(client)
        leftovers = leftovers_of(managed)
        wanted = {d["name"] for d in desired if d["state"] != "absent"}
        listed = {d["name"] for d in desired}
        others = {} if p["purge"] else others_cpusets(client, managed, listed)
        validate_set([d for d in desired if d["name"] in wanted], online_cpus(module, client), others,
                     p["allow_shared_cpus"])
        images, pulled = ensure_images(client, desired, module.check_mode)
        steps = plan(client, desired, managed, images, p["purge"], leftovers)
        if p["report_streams"]:
            for step in steps:
                if step["inspect"]:
                    step["streams"] = live_streams(step["inspect"])
        if not module.check_mode:
            execute(client, steps, p["wait_timeout"])
            wait_for(client, steps, p["wait_timeout"])
    except PlanError as err:
        module.fail_json(msg=str(err))
    except EngineFailure as err:
        module.fail_json(msg=str(err))
    except APIError as exc:
        engine_error(module, exc, "answer")

    results = [result_of(s, module.check_mode) for s in steps]
    changed_steps = [s for s in steps if s["action"] != "unchanged"]
    before, after = {}, {}
    for step in changed_steps:
        before[step["name"]], after[step["name"]] = diff_of(step)
    result = dict(
        changed=bool(changed_steps) or bool(pulled),
        containers=results,
        pulled=pulled,
        diff=dict(before=before, after=after),
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()

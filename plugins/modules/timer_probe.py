#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: timer_probe
short_description: Measure timer lateness under WCS containers' own CPU constraints
description:
  - Runs a pacing loop (a tick every O(period_ms), about O(work_ms) of CPU work per tick, for O(duration) seconds)
    as a short-lived child process placed under each container's CPU constraints, and returns how late the ticks
    woke up (p50, p99, p99.9, max, missed deadlines per minute and in total).
  - The child joins the container's cgroup (cgroup v1 C(cpu), C(cpuacct), C(cpuset) hierarchies, or the cgroup v2
    C(docker-<id>.scope)) so the container's cpuset and CPU quota both apply to it; where that is not possible it
    takes the container's cpuset as its CPU affinity (no quota then) and says so in each probe's C(placement).
  - Never changes a container. The child exits when done, which removes it from the cgroup; nothing is created.
    Joining the cgroup of a container close to its memory limit charges the probe's few new pages to it.
  - Needs root on the container's host and a local engine (V(unix://) O(docker_host)), since it reads /proc and
    /sys/fs/cgroup of that host.
version_added: 1.0.0
author:
  - mediaops engineering (@mediaops)
options:
  containers:
    description:
      - Names or ids of the containers to probe. Empty means every running container of the engine labelled
        C(mediaops.wcs.managed=true).
    type: list
    elements: str
    default: []
  period_ms:
    description:
      - Tick period in milliseconds. 20 is RTP's usual packetisation interval.
    type: float
    default: 20
  work_ms:
    description:
      - CPU time burnt per tick (the packetiser's work), in milliseconds. Below O(period_ms).
    type: float
    default: 1
  duration:
    description:
      - Seconds each probe runs.
    type: float
    default: 10
  concurrent:
    description:
      - Probe all containers at once (true), as they would run under load together, or one after the other.
    type: bool
    default: true
  method:
    description:
      - V(cgroup) joins the container's cgroup and fails if it cannot; V(affinity) only takes the container's
        cpuset as affinity; V(auto) tries the cgroup and falls back to affinity with the reason.
    type: str
    choices: [auto, cgroup, affinity]
    default: auto
extends_documentation_fragment:
  - mediaops.wcs.docker
attributes:
  check_mode:
    description: Check mode resolves the containers and probes nothing.
    support: full
  diff_mode:
    description: Nothing changes, so there is nothing to show.
    support: none
notes:
  - The module is read-only towards the engine and always returns C(changed=false).
"""

EXAMPLES = r"""
- name: Probe every managed WCS container of the host for 30 s at once
  mediaops.wcs.timer_probe:
    duration: 30
  become: true
  register: probe

- name: Probe two containers one after the other, cgroup placement required
  mediaops.wcs.timer_probe:
    containers: [wcs-1, wcs-2]
    concurrent: false
    method: cgroup
  become: true
"""

RETURN = r"""
probes:
  description: Figures per container name (milliseconds), as the probe reports them.
  returned: success, not in check mode
  type: dict
  sample:
    wcs-1:
      id: 0f3c...
      cpuset: "1-9,21-29"
      ticks: 500
      missed: 0
      missed_percent: 0.0
      lateness_ms: {p50: 0.08, p99: 0.21, p99_9: 0.6, max: 0.9, mean: 0.1}
      per_minute: [{minute: 0, ticks: 500, missed: 0, p50_ms: 0.08, p99_ms: 0.21, p99_9_ms: 0.6, max_ms: 0.9}]
      cdf: [[0.05, 0.002], [0.9, 1.0]]
      placement: {method: cgroup, isolation: pinned, cgroup_version: 1, cpuset: "1", quota_cpus: null}
summary:
  description: One row per container for tables and thresholds.
  returned: success, not in check mode
  type: list
  elements: dict
  sample: [{name: wcs-1, isolation: pinned, method: cgroup, cpuset: "1", p50_ms: 0.08, p99_ms: 0.21,
            p99_9_ms: 0.6, max_ms: 0.9, missed: 0, ticks: 500}]
containers:
  description: The containers probed (or that would be probed in check mode) with their configured cpuset.
  returned: always
  type: list
  elements: dict
  sample: [{name: wcs-1, id: 0f3c..., cpuset: "1-9,21-29", nano_cpus: 0}]
host_cpus:
  description: The host's online CPUs.
  returned: always
  type: str
  sample: "0-39"
outside_cpus:
  description:
    - Online CPUs outside every probed container's configured cpuset (where neighbour noise may run without
      touching a pinned container; containers without a cpuset share every CPU and reserve none). Empty when
      the containers' sets cover the host.
  returned: always
  type: str
  sample: "0,20"
skipped:
  description: True in check mode, where nothing is probed.
  returned: check mode
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils.constants import MANAGED_FILTER
from ansible_collections.mediaops.wcs.plugins.module_utils import docker_client
from ansible_collections.mediaops.wcs.plugins.module_utils import timer_probe
from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import format_cpuset, parse_cpuset


def targets_of(module, client):
    """Inspects the containers to probe: ``[{name, id, pid, cpuset, nano_cpus}]``; fails on one not running."""
    refs = module.params["containers"]
    if not refs:
        try:
            refs = [c["Id"] for c in client.containers(filters={"label": MANAGED_FILTER, "status": "running"})]
        except docker_client.DockerException as exc:
            docker_client.engine_error(module, exc, "list the managed containers")
    found = []
    for ref in refs:
        try:
            info = client.inspect_container(ref)
        except docker_client.NotFound:
            module.fail_json(msg="containers: %r is not a container of the engine at %s. Fix: give names or ids "
                                 "of running containers, or leave containers empty to probe every managed one."
                                 % (ref, module.params["docker_host"]))
        except docker_client.DockerException as exc:
            docker_client.engine_error(module, exc, "inspect container %s" % ref)
        state = info.get("State") or {}
        name = info["Name"].lstrip("/")
        if not state.get("Running") or state.get("Paused"):
            module.fail_json(msg="containers: %s is %s; a probe needs it running (not paused). Fix: start it, or "
                                 "leave it out of containers." % (name, state.get("Status", "not running")))
        host_config = info.get("HostConfig") or {}
        found.append({"name": name, "id": info["Id"], "pid": state["Pid"],
                      "cpuset": host_config.get("CpusetCpus") or "", "nano_cpus": host_config.get("NanoCpus") or 0})
    return found


def outside_cpus(host_cpus, cpusets):
    """Host CPUs in none of the given cpusets. A container without a cpuset reserves nothing: it shares them all."""
    free = set(parse_cpuset(host_cpus))
    for cpuset in cpusets:
        free -= set(parse_cpuset(cpuset))
    return format_cpuset(free)


def summary_row(name, result):
    lat = result["lateness_ms"]
    placement = result["placement"]
    return {"name": name, "isolation": placement.get("isolation"), "method": placement.get("method"),
            "cpuset": placement.get("cpuset"), "quota_cpus": placement.get("quota_cpus"),
            "p50_ms": lat["p50"], "p99_ms": lat["p99"], "p99_9_ms": lat["p99_9"], "max_ms": lat["max"],
            "missed": result["missed"], "ticks": result["ticks"]}


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=docker_client.docker_argument_spec(
            containers=dict(type="list", elements="str", default=[]),
            period_ms=dict(type="float", default=20.0),
            work_ms=dict(type="float", default=1.0),
            duration=dict(type="float", default=10.0),
            concurrent=dict(type="bool", default=True),
            method=dict(type="str", default="auto", choices=list(timer_probe.METHODS)),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        timer_probe.validate(p["period_ms"], p["work_ms"], p["duration"])
    except timer_probe.ProbeError as exc:
        module.fail_json(msg=str(exc))
    if not docker_client.engine_is_local(p):
        module.fail_json(msg="docker_host: %s is not a local unix:// socket; the probe must run on the container's "
                             "own host (it joins cgroups there). Fix: run the task on that host with the local socket."
                             % p["docker_host"])
    client = docker_client.get_client(module)
    targets = targets_of(module, client)
    listed = [{k: t[k] for k in ("name", "id", "cpuset", "nano_cpus")} for t in targets]
    host_cpus = timer_probe.online_cpus()
    outside = outside_cpus(host_cpus, [t["cpuset"] for t in targets])
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, containers=listed, host_cpus=host_cpus, outside_cpus=outside,
                         msg="check mode: would probe %d container(s) (%s) for %g s each; nothing was probed."
                             % (len(targets), ", ".join(t["name"] for t in targets) or "none", p["duration"]))
    if not targets:
        module.exit_json(changed=False, containers=[], probes={}, summary=[], host_cpus=host_cpus, outside_cpus=outside,
                         msg="no running container labelled %s on this engine; nothing to probe." % MANAGED_FILTER)

    results = timer_probe.run_probes(
        [{"name": t["name"], "pid": t["pid"], "container_id": t["id"], "method": p["method"]} for t in targets],
        p["period_ms"], p["work_ms"], p["duration"], concurrent=p["concurrent"])
    for t in targets:
        results[t["name"]].update(id=t["id"], cpuset=t["cpuset"])
    failed = sorted(name for name, r in results.items() if "error" in r)
    if failed:
        module.fail_json(msg="probe failed for %s: %s" % (", ".join(failed), "; ".join(
            "%s: %s" % (n, results[n]["error"]) for n in failed)), probes=results, containers=listed)
    module.exit_json(changed=False, containers=listed, probes=results, host_cpus=host_cpus, outside_cpus=outside,
                     summary=[summary_row(t["name"], results[t["name"]]) for t in targets])


if __name__ == "__main__":
    main()

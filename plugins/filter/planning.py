"""Host planning filters: CPU split, address plan, fleet conflicts, CDN plan, heap sizing, cpuset syntax, plan -> items.

Thin wrappers over plugins/module_utils (pure, unit-tested); a PlanError becomes an AnsibleFilterError with the
same message (field, bad value, fix). Each filter is documented in the ``<name>.yml`` file next to this one.
"""
from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.mediaops.wcs.plugins.module_utils import address_plan as _address
from ansible_collections.mediaops.wcs.plugins.module_utils import cdn as _cdn
from ansible_collections.mediaops.wcs.plugins.module_utils import cpu_plan as _cpu
from ansible_collections.mediaops.wcs.plugins.module_utils import cpusets as _cpusets
from ansible_collections.mediaops.wcs.plugins.module_utils import heap_plan as _heap
from ansible_collections.mediaops.wcs.plugins.module_utils import host_plan as _host
from ansible_collections.mediaops.wcs.plugins.module_utils import plan_inputs as _inputs
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.plugin_utils.plain import plain as _plain_data


def _plain(value):
    """Ansible's data as plain Python; what cannot be (nested past Python's recursion limit, a key whose str()
    raises) is the project's error, not a traceback."""
    try:
        return _plain_data(value)
    except RecursionError:
        raise PlanError("filter input", "(nested too deep)", "give a flatter value") from None
    except ValueError:
        raise PlanError("filter input", "(a key that cannot be shown)", "name keys with text") from None


def _guard(func):
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except PlanError as err:
            raise AnsibleFilterError("mediaops.wcs.%s: %s" % (func.__name__, err))
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@_guard
def cpu_plan(topology, count, reserved=None, allow_smt_split=False, isolated="exclude"):
    return _cpu.plan_cpus(_plain(topology), count, reserved=_plain(reserved), allow_smt_split=allow_smt_split,
                          isolated=isolated)


@_guard
def cpu_split(topology, count, reserved=None, allow_smt_split=False, isolated="exclude"):
    plans = _cpu.plan_cpus(_plain(topology), count, reserved=_plain(reserved), allow_smt_split=allow_smt_split,
                           isolated=isolated)
    return [plan["cpuset"] for plan in plans]


@_guard
def cpu_reserved(topology, isolated="exclude"):
    return _cpusets.format_cpuset(_cpu.reserved_cpus(_plain(topology), isolated=isolated))


@_guard
def cpuset_format(ids):
    return _cpusets.format_cpuset(_cpusets.parse_cpuset(_plain(ids), "cpuset_format input"))


@_guard
def cpuset_parse(text):
    return _cpusets.parse_cpuset(_plain(text), "cpuset_parse input")


@_guard
def plan_inputs(values):
    return _inputs.check_plan_inputs(_plain(values))


@_guard
def address_plan(spec, count=None):
    return _address.plan_addresses(_plain(spec), count)


def _host_names(hosts, plans, field):
    """The host names to read: ``hosts`` (a list of names, e.g. ansible_play_hosts) or every key of ``plans``."""
    if hosts is None:
        return list(plans)
    if isinstance(hosts, str) or not isinstance(hosts, (list, tuple, set, frozenset)):
        raise PlanError(field, type(hosts).__name__, "give a list of inventory host names, e.g. ansible_play_hosts")
    names = list(hosts)
    if not all(isinstance(h, str) for h in names):
        raise PlanError(field, [h for h in names if not isinstance(h, str)][:3], "give inventory host names")
    return names


@_guard
def fleet_conflicts(plans, key=None, hosts=None):
    if key is not None:
        if not isinstance(plans, Mapping):
            raise PlanError("fleet_conflicts input", type(plans).__name__, "pipe hostvars (a mapping) when key is set")
        if not isinstance(key, str):
            raise PlanError("fleet_conflicts key", type(key).__name__, "name the fact, e.g. 'wcs_plan'")
        names = _host_names(hosts, plans, "fleet_conflicts hosts")
        plans = {h: plans[h].get(key) for h in names if h in plans and isinstance(plans[h], Mapping)}
    return _address.fleet_conflicts(_plain(plans))


@_guard
def cdn_plan(plans, groups, hosts=None, options=None, key="wcs_plan"):
    if not isinstance(plans, Mapping):
        raise PlanError("cdn_plan input", type(plans).__name__, "pipe hostvars (or a mapping of host to wcs_plan)")
    if not isinstance(groups, Mapping):
        raise PlanError("cdn_plan groups", type(groups).__name__, "pass Ansible's groups variable")
    if key not in (None, "") and not isinstance(key, str):
        raise PlanError("cdn_plan key", type(key).__name__, "name the fact, e.g. 'wcs_plan'")
    names = _host_names(hosts, plans, "cdn_plan hosts")
    by_host = {}
    for host in names:
        if host in plans and isinstance(plans[host], Mapping):
            value = plans[host].get(key) if key else plans[host]
            if isinstance(value, Mapping):
                by_host[host] = value
    return _cdn.plan_cdn(_plain(by_host), _plain(dict(groups)), hosts=[h for h in names if h in by_host],
                         options=_plain(options) if options not in (None, "") else {})


@_guard
def heap_plan(host, count, share=0.5, heap=None, overhead=0.25, min_overhead="1g", host_reserve=None,
              min_heap="512m"):
    memory = host.get("memory_bytes") if isinstance(host, Mapping) else host
    if isinstance(host, Mapping) and not memory:
        raise PlanError("topology.memory_bytes", memory, "pass the wcs_host fact of mediaops.wcs.host_facts "
                        "or the host's RAM in bytes")
    return _heap.plan_heap(memory, count, share=share, heap=_plain(heap), overhead=overhead,
                           min_overhead=min_overhead, host_reserve=host_reserve, min_heap=min_heap)


@_guard
def container_items(plan, restart=None, only=None):
    if not isinstance(plan, Mapping) or not isinstance(plan.get("containers"), list):
        raise PlanError("container_items input", type(plan).__name__, "pipe the wcs_plan fact of mediaops.wcs.wcs_plan")
    # ansible-core before 2.19 renders a Jinja `none` as "": no names given means every container ([] means none)
    only = None if only in (None, "") else _plain(only)
    return _host.container_items(_plain(plan), restart=_plain(restart) or (), only=only)


class FilterModule:
    def filters(self):
        return {
            "cpu_split": cpu_split,
            "cpu_plan": cpu_plan,
            "cpu_reserved": cpu_reserved,
            "cpuset_format": cpuset_format,
            "cpuset_parse": cpuset_parse,
            "address_plan": address_plan,
            "fleet_conflicts": fleet_conflicts,
            "cdn_plan": cdn_plan,
            "heap_plan": heap_plan,
            "container_items": container_items,
            "plan_inputs": plan_inputs,
        }

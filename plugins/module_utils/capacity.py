# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity plan: how many sessions (streams) one planned container can hold, by each limit, and which one binds.

Pure Python (no Ansible, no Docker). One-line predicates first (like Kubernetes' cpu_assignment.go), then the
checks of the operator's inputs and ``container_capacity`` / ``check_expected`` that host_plan calls.

Limits (sessions a container can hold), and where each figure comes from:

* ``media_ports``: the UDP ports of ``media_port_from``..``media_port_to`` WCS hands out (even ports only; with
  ``compact_media_port_usage=true`` the odd ones too) divided by the ports one WebRTC stream takes (one with
  ``rtp_bundle=true``, two without). Flashphoner documents this rule; unset ``rtp_bundle`` is counted as two ports
  (the conservative reading: WCS's own default is unconfirmed).
* ``cpu``: the container's physical cores (SMT siblings count once) x ``streams_per_core``.
* ``heap``: the container's heap / ``heap_per_stream``.
* ``nofile``: (the container's ``nofile`` ulimit - ``fd_reserve``) / ``fds_per_stream``.

``streams_per_core``, ``heap_per_stream``, ``fds_per_stream`` and ``fd_reserve`` are NOT Flashphoner figures:
they are unconfirmed assumptions (role variables ``wcs_capacity_*``) for the operator to measure with their own
codecs, bitrates and transcoding; 0 (or an empty heap figure) leaves that limit out.
"""
from __future__ import annotations

from ansible_collections.mediaops.wcs.plugins.module_utils import inputs as _model
from ansible_collections.mediaops.wcs.plugins.module_utils import units
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

# Order of the limits: the first of equal limits is named as binding.
LIMITS = ("media_ports", "cpu", "heap", "nofile")
MAX_PORT = _model.MAX_PORT
MAX_STREAMS = _model.MAX_STREAMS
MAX_NOFILE = _model.MAX_NOFILE
CAPACITY_INPUTS = ("wcs_media_port_from", "wcs_media_port_to", "wcs_rtp_bundle", "wcs_compact_media_port_usage",
                   "wcs_nofile_limit", "wcs_capacity_streams_per_core", "wcs_capacity_heap_per_stream",
                   "wcs_capacity_fds_per_stream", "wcs_capacity_fd_reserve")


# -- predicates ----------------------------------------------------------------------------------------------------
def first_even(low):
    return low + low % 2


def even_ports(low, high):
    return max(0, (high - high % 2 - first_even(low)) // 2 + 1)


def usable_ports(low, high, compact):
    return max(0, high - low + 1) if compact else even_ports(low, high)


def ports_per_stream(rtp_bundle):
    return 1 if rtp_bundle else 2


def streams_by_ports(low, high, rtp_bundle, compact):
    return usable_ports(low, high, compact) // ports_per_stream(rtp_bundle)


def streams_by_cpu(cores, per_core):
    return cores * per_core


def streams_by_heap(heap_bytes, per_stream_bytes):
    return heap_bytes // per_stream_bytes


def streams_by_nofile(nofile, reserve, per_stream):
    return max(0, nofile - reserve) // per_stream


def binding_limit(limits):
    return min((name for name in LIMITS if name in limits), key=lambda name: (limits[name], LIMITS.index(name)))


def ceil_div(a, b):
    return -(-a // b)


def port_to_for(low, streams, rtp_bundle, compact):
    """The ``media_port_to`` a range from ``low`` needs for ``streams`` (the odd RTCP neighbour included)."""
    needed = streams * ports_per_stream(rtp_bundle)
    return low + needed - 1 if compact else first_even(low) + 2 * needed - 1


# -- inputs --------------------------------------------------------------------------------------------------------
def read_capacity_inputs(raw):
    """The capacity inputs of host_plan (role variable -> value), each through its declared kind (inputs.MODEL:
    already-checked values pass unchanged), then the port range's order."""
    value = {name: _model.check(name, raw[name]) for name in CAPACITY_INPUTS}
    low, high = value["wcs_media_port_from"], value["wcs_media_port_to"]
    if low > high:
        raise PlanError("wcs_media_port_from", low, "make wcs_media_port_from <= wcs_media_port_to (%d)" % high)
    return {
        "media_port_from": low,
        "media_port_to": high,
        "rtp_bundle": value["wcs_rtp_bundle"],
        "compact": value["wcs_compact_media_port_usage"],
        "streams_per_core": value["wcs_capacity_streams_per_core"],
        "heap_per_stream": value["wcs_capacity_heap_per_stream"],
        "fds_per_stream": value["wcs_capacity_fds_per_stream"],
        "fd_reserve": value["wcs_capacity_fd_reserve"],
        "nofile": value["wcs_nofile_limit"],
    }


def read_expected(value, names):
    """``wcs_expected_streams`` -> {container name: sessions}; an int applies to every container; null, "" or 0
    expect nothing. A dict names containers of this host (others refused); absent ones expect nothing. The value
    goes through its declared kind (inputs.expected_streams) first."""
    field = "wcs_expected_streams"
    value = _model.check(field, value)
    if value is None:
        return {}
    if isinstance(value, dict):
        unknown = sorted(str(k) for k in value if k not in names)
        if unknown:
            raise PlanError(field, value, "name only containers planned on this host: %s" % ", ".join(names),
                            why="%s not planned here" % ", ".join(unknown))
        return {name: n for name, n in value.items() if n is not None}
    return {name: value for name in names}


# -- the plan ------------------------------------------------------------------------------------------------------
def container_capacity(cores, heap_bytes, inputs):
    """``{limits: {name: sessions}, streams: the least, binding: its name}`` of one container."""
    limits = {"media_ports": streams_by_ports(inputs["media_port_from"], inputs["media_port_to"],
                                              inputs["rtp_bundle"], inputs["compact"])}
    if inputs["streams_per_core"]:
        limits["cpu"] = streams_by_cpu(cores, inputs["streams_per_core"])
    if inputs["heap_per_stream"]:
        limits["heap"] = streams_by_heap(heap_bytes, inputs["heap_per_stream"])
    if inputs["fds_per_stream"]:
        limits["nofile"] = streams_by_nofile(inputs["nofile"], inputs["fd_reserve"], inputs["fds_per_stream"])
    binding = binding_limit(limits)
    return {"limits": limits, "streams": limits[binding], "binding": binding}


def _remedy(limit, expected, cores, inputs):
    """How to lift one limit to ``expected`` sessions: the variable and the value to give it."""
    if limit == "media_ports":
        high = port_to_for(inputs["media_port_from"], expected, inputs["rtp_bundle"], inputs["compact"])
        if high <= MAX_PORT:
            return "widen the media port range to %d-%d (wcs_media_port_to)" % (inputs["media_port_from"], high)
        return ("no port range from %d holds it (%d port(s) per session would end at %d, past 65535): set "
                "wcs_rtp_bundle / wcs_compact_media_port_usage to true or lower wcs_media_port_from"
                % (inputs["media_port_from"], ports_per_stream(inputs["rtp_bundle"]), high))
    if limit == "cpu":
        return "give it %d cores (wcs_cpusets, or fewer containers per host; now %d)" % (
            ceil_div(expected, inputs["streams_per_core"]), cores)
    if limit == "heap":
        return "raise wcs_heap to %s" % units.format_size(ceil_div(expected * inputs["heap_per_stream"], units.MIB)
                                                          * units.MIB)
    return "raise wcs_nofile_limit to %d" % (inputs["fd_reserve"] + expected * inputs["fds_per_stream"])


def _explain(limit, capacity, cores, heap, inputs):
    n = capacity["limits"][limit]
    if limit == "media_ports":
        return "media_ports %d (%d %s ports in %d-%d, %d per session%s)" % (
            n, usable_ports(inputs["media_port_from"], inputs["media_port_to"], inputs["compact"]),
            "usable" if inputs["compact"] else "even", inputs["media_port_from"], inputs["media_port_to"],
            ports_per_stream(inputs["rtp_bundle"]), "" if inputs["rtp_bundle"] else " without rtp_bundle")
    if limit == "cpu":
        return "cpu %d (%d core(s) x wcs_capacity_streams_per_core %d)" % (n, cores, inputs["streams_per_core"])
    if limit == "heap":
        return "heap %d (%s / wcs_capacity_heap_per_stream %s)" % (n, heap, units.format_size(
            inputs["heap_per_stream"]))
    return "nofile %d ((wcs_nofile_limit %d - wcs_capacity_fd_reserve %d) / wcs_capacity_fds_per_stream %d)" % (
        n, inputs["nofile"], inputs["fd_reserve"], inputs["fds_per_stream"])


def check_expected(containers, expected, inputs):
    """PlanError when a container's expected sessions exceed any of its limits: the numbers, the binding limit
    and a fix per limit below the expectation. ``containers``: plan entries with ``capacity``, ``cores``, ``heap``."""
    for entry in containers:
        want = expected.get(entry["name"])
        capacity = entry["capacity"]
        if not want or capacity["streams"] >= want:
            continue
        short = [name for name in LIMITS if name in capacity["limits"] and capacity["limits"][name] < want]
        raise PlanError(
            "wcs_expected_streams", want,
            "; or ".join([_remedy(name, want, entry["cores"], inputs) for name in short]
                         + ["lower wcs_expected_streams for %s to at most %d" % (entry["name"], capacity["streams"])]),
            why="%s holds at most %d sessions (binding limit: %s), fewer than the %d expected; by each limit: %s" % (
                entry["name"], capacity["streams"], capacity["binding"], want,
                ", ".join(_explain(name, capacity, entry["cores"], entry["heap"], inputs)
                          for name in LIMITS if name in capacity["limits"])))


def capacity_cell(capacity):
    """The plan table's cell: ``2250 (media_ports)``."""
    return "%d (%s)" % (capacity["streams"], capacity["binding"])

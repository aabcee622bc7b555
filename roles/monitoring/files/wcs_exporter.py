# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WCS exporter: the statistics page and the stream list of every WCS container on this host as Prometheus metrics.

Endpoints (plain HTTP on --listen):
  /probe?container=NAME  one container's metrics (what the generated Prometheus config scrapes, one target per
                         container, so a slow container never delays the others)
  /probe                 every container of the host in one answer (for people and ad-hoc checks)
  /metrics               the exporter itself: process figures, discovery, CPU groups (wcs_cpu_assignment)

Containers come from the targets file the monitoring role writes from the plan fact ``wcs_plan`` and/or from the
Docker engine (running containers labelled ``mediaops.wcs.managed=true``). Every metric has the labels ``host``,
``container`` and ``cpuset``. A container that does not answer is ``wcs_up 0``, never an exporter error.

Stream quality: each probe also reads the container's REST stream list (``find`` with ``display: [metrics]``,
``find_all`` on older builds; ``wcs_client``) and exports aggregates of bounded cardinality (``stream_quality``):
streams by status / media type / provider, per-stream bitrate and frame-rate percentiles (a ``quantile`` label),
and lost packets, NACKs and PLIs as counters the exporter keeps across stream churn (per-stream values by
mediaSessionId in memory; ``rate()`` in Prometheus gives per second). One series per stream only when asked
(``--per-stream-series N``, hard cap 1000). ``/metrics`` also has ``wcs_isolation_p99_seconds`` from the isolation
role's report when ``--isolation-report`` names one.

Reaching a container: with ipvlan/macvlan the host cannot reach its own containers through the parent, so the
default ``--reach netns`` asks from inside the container's network namespace (``netns_http``: a socket made in
``/proc/<pid>/ns/net`` by a short-lived thread's setns - no fork -, connected to 127.0.0.1:8081 there). It needs
root and nothing on the host's network.
``--reach address`` connects to the container's address instead: for hosts that have a shim interface (a
macvlan/ipvlan sub-interface of the parent holding a spare address of the plan) or for bridge networks.

Bounds (it runs as root and reads what public-facing containers answer): ``--timeout`` (3 s) is one total
deadline per container for everything it answers - the page and the stream list with its fallbacks - however
slowly it sends; the page is read up to 1 MiB, the JSON answers up to 4 MiB, nested at most 64 deep, with integers
of at most 30 digits (``bounded``). An answer past a bound is ``wcs_up 0`` (or ``wcs_stream_list_up 0``) and a
logged scrape error. The engine's answers are read the same way (5 s total per call, 16 MiB).

The statistics-page client (``wcs_client``: the page and the stream list, through ``netns_http`` and
``stat_page``), the bounded reader (``bounded``), the stream aggregates (``stream_quality``) and the shared names
(``constants``) are the collection's own module_utils files, imported as
``ansible_collections.mediaops.wcs.plugins.module_utils``: the role copies them into that package tree next to this
file (the program's directory comes first on ``sys.path``); from a checkout they come from ``.collections/``.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily

from ansible_collections.mediaops.wcs.plugins.module_utils import (
    bounded, constants, cpusets, stat_page, stream_quality, validate, wcs_client)

LOG = logging.getLogger("wcs_exporter")
LABELS = ("host", "container", "cpuset")


# --------------------------------------------------------------------------------------------------------------
# The one table: statistics-page key -> metric. Each entry: (metric name, extra labels, scale, help).
# "confirmed" keys are in Flashphoner's "Load and resource usage information" page or read by its admin console;
# "unconfirmed" keys have no readable source (see /work/shared/flashphoner-reference.md and the role README): they
# follow the names the emulator serves, and when a real server spells one differently only this table changes.
# Keys that are absent from a page simply produce no sample.
# --------------------------------------------------------------------------------------------------------------
def _streams():
    table = {}
    for kind in ("webrtc", "rtsp", "rtmp", "rtmfp"):
        for direction in ("in", "out"):
            table["streams_%s_%s" % (kind, direction)] = (
                "wcs_streams", {"type": kind, "direction": direction}, 1, "Active streams by type and direction.")
    table["streams_websocket_out"] = (
        "wcs_streams", {"type": "websocket", "direction": "out"}, 1, "Active streams by type and direction.")
    return table


STAT_METRICS = {
    # confirmed
    "connections": ("wcs_connections", {}, 1, "Connections to the server."),
    "connections_rtmfp": ("wcs_connections_by_transport", {"transport": "rtmfp"}, 1, "Connections by transport."),
    "connections_websocket": ("wcs_connections_by_transport", {"transport": "websocket"}, 1,
                              "Connections by transport."),
    **_streams(),
    "streams_viewers": ("wcs_stream_viewers", {}, 1, "Clients playing published streams."),
    "streams_synchronization": ("wcs_streams_synchronization", {}, 1, "Streams published with synchronization."),
    "ports_media_free": ("wcs_media_ports", {"state": "free"}, 1, "Media ports by state."),
    "ports_media_busy": ("wcs_media_ports", {"state": "busy"}, 1, "Media ports by state."),
    "ports_media_quarantine": ("wcs_media_ports", {"state": "quarantine"}, 1, "Media ports by state."),
    "ports_wcs_agents_free": ("wcs_agent_ports", {"state": "free"}, 1, "CDN agent ports by state."),
    "ports_wcs_agents_busy": ("wcs_agent_ports", {"state": "busy"}, 1, "CDN agent ports by state."),
    "ports_wcs_agents_quarantine": ("wcs_agent_ports", {"state": "quarantine"}, 1, "CDN agent ports by state."),
    "core_threads": ("wcs_threads", {}, 1, "Threads of the server process."),
    "core_java_threads": ("wcs_java_threads", {}, 1, "Live Java threads."),
    "core_java_threads_blocked": ("wcs_java_threads_blocked", {}, 1, "Blocked Java threads."),
    "core_java_committedMemory": ("wcs_java_committed_memory_bytes", {}, 1, "Committed virtual memory."),
    "core_java_freePhysicalMemorySize": ("wcs_java_free_physical_memory_bytes", {}, 1,
                                         "Free physical memory as the JVM sees it."),
    "system_java_cpu_usage": ("wcs_java_cpu_usage", {}, 1, "CPU usage of the server process as the page reports "
                                                           "it (the admin console's figure)."),
    "system_memory_total": ("wcs_system_memory_total_bytes", {}, 1, "Memory total as the page reports it."),
    "system_memory_free": ("wcs_system_memory_free_bytes", {}, 1, "Memory free as the page reports it."),
    # unconfirmed: degraded streams (Flashphoner's monitoring article names the figure degraded_streams_percent)
    "degraded_streams": ("wcs_degraded_streams", {}, 1, "Streams whose queue the server could not keep up with."),
    "degraded_streams_percent": ("wcs_degraded_streams_percent", {}, 1, "Degraded streams, percent of all."),
    # unconfirmed: heap, GC pauses (ZGC or not: the page's figures are the same keys), network adapter speed
    # (shown when enabled in flashphoner.properties; the seed's key lines were stripped from the text)
    "core_java_heap_used": ("wcs_heap_used_bytes", {}, 1, "Java heap in use."),
    "core_java_heap_max": ("wcs_heap_max_bytes", {}, 1, "Java heap maximum (-Xmx)."),
    "core_gc_pause_ms_last": ("wcs_gc_pause_last_seconds", {}, 0.001, "Last GC pause."),
    "core_gc_pause_ms_max": ("wcs_gc_pause_max_seconds", {}, 0.001, "Longest GC pause."),
    "network_speed_mbit": ("wcs_network_speed_bits_per_second", {}, 1e6,
                           "Network adapter speed as the page reports it."),
}


# --------------------------------------------------------------------------------------------------------------
# The one table of the stream list's per-stream metric keys: figure (stream_quality.FIGURES) -> (key in a stream's
# "metrics" object, scale to the metric's unit). The key names are in Flashphoner's reference (find with
# "display": ["metrics"], build 5.2.923+); their units are unconfirmed: rates are taken as bits per second and the
# counters as packets / requests since the stream began. When a server spells or scales one differently, only this
# table changes.
# --------------------------------------------------------------------------------------------------------------
STREAM_METRIC_KEYS = {
    "video_rate": ("VIDEO_RATE", 1),
    "audio_rate": ("AUDIO_RATE", 1),
    "video_fps": ("VIDEO_FPS", 1),
    "video_nack": ("VIDEO_NACK", 1),
    "video_pli": ("VIDEO_PLI", 1),
    "video_lost": ("VIDEO_LOST", 1),
    "audio_lost": ("AUDIO_LOST", 1),
}

# Families of the stream list: metric -> (gauge | counter, help, extra label names). Counters are named without
# "_total" (prometheus_client adds it).
STREAM_FAMILIES = {
    "wcs_stream_list_up": ("gauge", "1 when the container's REST stream list was read, else 0.", ()),
    "wcs_streams_with_metrics": ("gauge", "Streams of the list that carry a metrics object (0: the server does not "
                                          "give per-stream metrics, build before 5.2.923).", ()),
    "wcs_streams_by_status": ("gauge", "Streams of the REST list by status, media type (publish/play) and provider.",
                              ("media_type", "provider", "status")),
    "wcs_stream_bitrate_bits_per_second": ("gauge", "Per-stream bitrate (video + audio) percentiles over the "
                                                    "container's streams.", ("media_type", "quantile")),
    "wcs_stream_video_fps": ("gauge", "Per-stream video frame rate percentiles over the container's streams.",
                             ("media_type", "quantile")),
    "wcs_stream_packets_lost": ("counter", "Packets lost by the container's streams (video, audio), counted by the "
                                           "exporter across stream churn.", ("media",)),
    "wcs_stream_nacks": ("counter", "Video NACKs of the container's streams, counted across stream churn.", ()),
    "wcs_stream_plis": ("counter", "Video PLIs of the container's streams, counted across stream churn.", ()),
    # opt-in (--per-stream-series N): one series per stream, at most N (hard cap stream_quality.PER_STREAM_HARD_CAP)
    "wcs_stream_series_left_out": ("gauge", "Streams with metrics left out of the per-stream series by the cap.", ()),
    "wcs_stream_bitrate_by_stream_bits_per_second": ("gauge", "One stream's bitrate (video + audio).",
                                                     ("media_type", "session", "stream")),
    "wcs_stream_packets_lost_by_stream": ("gauge", "One stream's lost packets (video + audio) since it began.",
                                          ("media_type", "session", "stream")),
    "wcs_stream_nacks_by_stream": ("gauge", "One stream's video NACKs since it began.",
                                   ("media_type", "session", "stream")),
    "wcs_stream_plis_by_stream": ("gauge", "One stream's video PLIs since it began.", ("media_type", "session", "stream")),
}


def stream_samples(container, streams, counters, per_stream=0):
    """[(metric, extra labels, value)] of one container's stream list (``counters``: the exporter's
    stream_quality.CounterAccumulator)."""
    agg = stream_quality.aggregate(streams, STREAM_METRIC_KEYS)
    samples = [("wcs_stream_list_up", {}, 1.0), ("wcs_streams_with_metrics", {}, float(agg["with_metrics"]))]
    for (status, kind, provider), count in sorted(agg["streams"].items()):
        samples.append(("wcs_streams_by_status", {"status": status, "media_type": kind, "provider": provider},
                        float(count)))
    for metric, groups in (("wcs_stream_bitrate_bits_per_second", agg["bitrate"]),
                           ("wcs_stream_video_fps", agg["fps"])):
        for kind, quantiles in sorted(groups.items()):
            for quantile, value in quantiles.items():
                samples.append((metric, {"media_type": kind, "quantile": quantile}, value))
    totals = counters.update(container, streams)
    samples += [("wcs_stream_packets_lost", {"media": "video"}, totals.get("video_lost", 0.0)),
                ("wcs_stream_packets_lost", {"media": "audio"}, totals.get("audio_lost", 0.0)),
                ("wcs_stream_nacks", {}, totals.get("video_nack", 0.0)),
                ("wcs_stream_plis", {}, totals.get("video_pli", 0.0))]
    if per_stream > 0:
        rows, left_out = stream_quality.per_stream(streams, STREAM_METRIC_KEYS, per_stream)
        samples.append(("wcs_stream_series_left_out", {}, float(left_out)))
        for row in rows:
            labels, fig = {k: row[k] for k in ("stream", "media_type", "session")}, row["figures"]
            if "video_rate" in fig or "audio_rate" in fig:
                samples.append(("wcs_stream_bitrate_by_stream_bits_per_second", labels,
                                fig.get("video_rate", 0.0) + fig.get("audio_rate", 0.0)))
            if "video_lost" in fig or "audio_lost" in fig:
                samples.append(("wcs_stream_packets_lost_by_stream", labels,
                                fig.get("video_lost", 0.0) + fig.get("audio_lost", 0.0)))
            for figure, metric in (("video_nack", "wcs_stream_nacks_by_stream"), ("video_pli", "wcs_stream_plis_by_stream")):
                if figure in fig:
                    samples.append((metric, labels, fig[figure]))
    return samples


def stat_samples(stats):
    """[(metric, extra labels, value)] for the numeric keys of a parsed page that the table knows."""
    samples = []
    for key, (metric, extra, scale, _help) in STAT_METRICS.items():
        value = stats.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        samples.append((metric, extra, float(value) * scale))
    return samples


def metric_help():
    """{metric name: (help, sorted extra label names, gauge | counter)} of both tables; one metric keeps one label
    set."""
    out = {}
    for metric, extra, _scale, text in STAT_METRICS.values():
        names = tuple(sorted(extra))
        if metric in out and out[metric][1] != names:
            raise ValueError("metric %s is used with two label sets: %s and %s" % (metric, out[metric][1], names))
        out.setdefault(metric, (text, names, "gauge"))
    for metric, (kind, text, names) in STREAM_FAMILIES.items():
        if metric in out:
            raise ValueError("metric %s is in both tables" % metric)
        out[metric] = (text, tuple(sorted(names)), kind)
    return out


# --------------------------------------------------------------------------------------------------------------
# CPU sets
# --------------------------------------------------------------------------------------------------------------
def cpuset_ids(text):
    """'1-3,8' -> [1, 2, 3, 8]; '' -> [] (cpusets.py, the collection's one cpuset parser)."""
    return cpusets.parse_cpuset(str(text or ""), "cpuset")


def cpu_groups(cpusets, reserved):
    """{cpu: [group names]} from {container: cpuset} and the reserved cpuset; CPUs in no group are left out."""
    groups = {}
    for name in sorted(cpusets):
        for cpu in cpuset_ids(cpusets[name]):
            groups.setdefault(cpu, []).append(name)
    for cpu in cpuset_ids(reserved or ""):
        groups.setdefault(cpu, []).append("host-reserved")
    return groups


# --------------------------------------------------------------------------------------------------------------
# Discovery: the targets file (from wcs_plan) and the Docker engine (label constants.MANAGED_FILTER)
# --------------------------------------------------------------------------------------------------------------
class DockerEngine:
    """The two read-only calls the exporter needs (list by label, inspect), over the engine's unix socket, each
    read within ``timeout`` seconds in total and MAX_ENGINE_BYTES (``bounded``)."""

    MAX_ENGINE_BYTES = 16 * 1024 * 1024

    def __init__(self, url="unix:///var/run/docker.sock", timeout=5.0):
        if not url.startswith("unix://"):
            raise ValueError("only unix:// Docker hosts are supported by the exporter, got %r" % url)
        self.path = url[len("unix://"):]
        self.timeout = timeout

    def _get(self, path):
        what = "docker engine GET %s" % path
        resp = bounded.http_request("GET", path, host="localhost", timeout=self.timeout,
                                    max_bytes=self.MAX_ENGINE_BYTES, connect=bounded.unix_connector(self.path, what),
                                    what=what)
        if resp["status"] == 404:
            return None
        if resp["status"] != 200:
            raise OSError("docker engine answered %s for %s" % (resp["status"], path))
        return bounded.loads_json(resp["body"], what, max_bytes=self.MAX_ENGINE_BYTES)

    def managed_names(self):
        """Running managed containers, without one a replacement has put aside for a moment (``<name>.mediaops-old``:
        it is stopped, and its name would be a series of its own)."""
        filters = urllib.parse.quote(json.dumps({"label": [constants.MANAGED_FILTER]}))
        listed = self._get("/containers/json?filters=" + filters) or []
        names = []
        for item in listed if isinstance(listed, list) else []:
            found = item.get("Names") if isinstance(item, dict) else None
            if isinstance(found, list) and found and isinstance(found[0], str):
                names.append(found[0].lstrip("/"))
        return sorted(n for n in names if not n.endswith(constants.ASIDE_SUFFIX))

    def inspect(self, name):
        # A Docker name only (matched whole), and quoted as one path segment: never '../' into another endpoint.
        if not isinstance(name, str) or not validate.DOCKER_NAME.match(name):
            raise ValueError("not a container name: %r" % (name,))
        return self._get("/containers/%s/json" % urllib.parse.quote(name, safe=""))


def is_managed(info):
    """True when an inspected container carries the collection's managed label (it is a WCS container we run)."""
    labels = ((info or {}).get("Config") or {}).get("Labels") or {}
    return labels.get(constants.MANAGED_LABEL) == "true"


def load_targets(path):
    """The role's targets file: {host, reserved_cpus, port, containers: [{name, cpuset, ipv4_address}]}."""
    data = bounded.loads_json(bounded.read_path(path), path)
    if not isinstance(data, dict) or not isinstance(data.get("containers") or [], list):
        raise ValueError("%s: not a targets file (an object with a list of containers)" % path)
    containers = data.get("containers") or []
    for index, item in enumerate(containers):
        if not isinstance(item, dict) or not item.get("name"):
            raise ValueError("%s: containers[%d] needs a name" % (path, index))
    return data


def container_address(info):
    networks = ((info or {}).get("NetworkSettings") or {}).get("Networks") or {}
    for net in networks.values():
        if net.get("IPAddress"):
            return net["IPAddress"]
    return None


# --------------------------------------------------------------------------------------------------------------
# Scraping one container
# --------------------------------------------------------------------------------------------------------------
def fetch_page(port, timeout, pid=None, address="127.0.0.1"):
    """Statistics page text. With ``pid``: asked from inside that process's network namespace (its loopback);
    without: from here to ``address``."""
    return wcs_client.WCSEndpoint(port=port, host=address, pid=pid, timeout=timeout).stat_text()


def fetch_streams(port, timeout, pid=None, address="127.0.0.1"):
    """(streams, with metrics) of the REST stream list, reached as fetch_page reaches the page."""
    return wcs_client.WCSEndpoint(port=port, host=address, pid=pid, timeout=timeout).streams_with_metrics()


class Exporter:
    def __init__(self, host, targets_file=None, engine=None, discover_docker=True, reach="netns",
                 port=constants.WCS_HTTP_PORT, timeout=3.0, reserved_cpus=None, stream_list=True, per_stream=0,
                 isolation_report=None):
        self.host = host
        self.stream_list = stream_list
        self.per_stream = min(int(per_stream), stream_quality.PER_STREAM_HARD_CAP)
        self.isolation_report = isolation_report
        self.counters = stream_quality.CounterAccumulator(STREAM_METRIC_KEYS)
        self.targets_file = targets_file
        self.engine = engine
        self.discover_docker = discover_docker and engine is not None
        self.reach = reach
        self.port = port
        self.timeout = timeout
        self.reserved_cpus = reserved_cpus
        self.engine_up = 1

    # which containers, with what cpuset and where
    def targets(self):
        planned = {}
        reserved = self.reserved_cpus
        port = self.port
        if self.targets_file:
            data = load_targets(self.targets_file)
            reserved = data.get("reserved_cpus", reserved)
            port = bounded.parse_int(data.get("port") or port, "%s: port" % self.targets_file, lo=1, hi=65535)
            for item in data["containers"]:
                planned[item["name"]] = {"name": item["name"], "cpuset": str(item.get("cpuset") or ""),
                                         "address": item.get("ipv4_address"), "port": port}
        found = []
        if self.discover_docker:
            try:
                found = self.engine.managed_names()
                self.engine_up = 1
            except (OSError, ValueError) as exc:
                LOG.warning("docker engine: %s", exc)
                self.engine_up = 0
        for name in found:
            planned.setdefault(name, {"name": name, "cpuset": None, "address": None, "port": port})
        return reserved, [planned[n] for n in sorted(planned)]

    def known(self, name):
        """True when ``name`` is one of this host's targets (planned, or running with the managed label)."""
        return any(t["name"] == name for t in self.targets()[1])

    def inspect(self, target):
        if self.engine is None:
            return None
        try:
            return self.engine.inspect(target["name"])
        except (OSError, ValueError) as exc:
            LOG.warning("inspect %s: %s", target["name"], exc)
            return None

    def scrape(self, target):
        """(labels dict, up 0/1, [(metric, extra, value)], seconds, error text). What the container answers (the
        page, then the stream list) shares one total deadline of ``timeout`` seconds."""
        start = time.monotonic()
        info = self.inspect(target)
        deadline = bounded.Deadline(self.timeout, "container %s" % target["name"])
        cpuset = target["cpuset"]
        if cpuset is None:
            cpuset = ((info or {}).get("HostConfig") or {}).get("CpusetCpus") or ""
        labels = {"host": self.host, "container": target["name"], "cpuset": cpuset}
        try:
            if info is not None and not is_managed(info):
                # Never enter (or connect to) a container that is not ours, whatever the targets file or the
                # query string names.
                raise OSError("not a managed WCS container (no %s label)" % constants.MANAGED_FILTER)
            if self.reach == "netns":
                state = (info or {}).get("State") or {}
                if not state.get("Running") or not state.get("Pid"):
                    raise OSError("container is not running" if info else "container not found")
                where = {"pid": state["Pid"]}
            else:
                address = target["address"] or container_address(info)
                if not address:
                    raise OSError("no address known for the container")
                where = {"address": address}
            text = fetch_page(target["port"], deadline, **where)
            stats, _sections = stat_page.parse_stat_page(text)
            samples = stat_samples(stats)
            if not samples:
                raise OSError("the answer has none of the known statistics keys")
        except (OSError, ValueError, wcs_client.WCSUnavailable) as exc:
            LOG.info("%s: %s", target["name"], exc)
            return labels, 0, [], time.monotonic() - start, str(exc)
        if self.stream_list:
            # The stream list is a second call: when it fails, the page's figures stand and wcs_stream_list_up is 0.
            try:
                streams, _with_metrics = fetch_streams(target["port"], deadline, **where)
                samples += stream_samples(target["name"], streams, self.counters, self.per_stream)
            except (OSError, ValueError, wcs_client.WCSUnavailable) as exc:
                LOG.info("%s: stream list: %s", target["name"], exc)
                samples.append(("wcs_stream_list_up", {}, 0.0))
        return labels, 1, samples, time.monotonic() - start, None


class ContainerCollector:
    """Scrapes the chosen containers when Prometheus asks (no background polling, no stale values)."""

    def __init__(self, exporter, only=None, workers=8):
        self.exporter = exporter
        self.only = only
        self.workers = workers

    def collect(self):
        _reserved, targets = self.exporter.targets()
        if self.only is not None:  # known() vetted the name: planned, or a managed container of the engine
            targets = [t for t in targets if t["name"] == self.only]
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(targets)))) as pool:
            results = list(pool.map(self.exporter.scrape, targets))
        up = GaugeMetricFamily("wcs_up", "1 when the container's statistics page answered, else 0.", labels=LABELS)
        took = GaugeMetricFamily("wcs_scrape_duration_seconds", "Time to read the container's statistics page.",
                                 labels=LABELS)
        families = {}
        for metric, (text, extra, kind) in metric_help().items():
            family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            families[metric] = family(metric, text, labels=LABELS + extra)
        for labels, ok, samples, seconds, _err in results:
            base = [labels[k] for k in LABELS]
            up.add_metric(base, ok)
            took.add_metric(base, seconds)
            for metric, extra, value in samples:
                families[metric].add_metric(base + [extra[k] for k in sorted(extra)], value)
        yield up
        yield took
        for family in families.values():
            if family.samples:
                yield family


class HostCollector:
    """Exporter-level figures: discovery, engine reachability, and which CPU belongs to which group."""

    def __init__(self, exporter):
        self.exporter = exporter

    def collect(self):
        reserved, targets = self.exporter.targets()
        cpusets = {}
        for target in targets:
            cpuset = target["cpuset"]
            if cpuset is None:
                info = self.exporter.inspect(target)
                cpuset = ((info or {}).get("HostConfig") or {}).get("CpusetCpus") or ""
            cpusets[target["name"]] = cpuset
        group = GaugeMetricFamily(
            "wcs_cpu_group", "1 for every CPU of a pinned group: a WCS container's cpuset, or the host's reserved "
            "CPUs (group=\"host-reserved\"). One series per CPU (shared CPUs name every group, joined by '+'), "
            "so it joins with node_cpu_seconds_total on (host, cpu).", labels=("host", "cpu", "group"))
        for cpu, names in sorted(cpu_groups(cpusets, reserved).items()):
            group.add_metric([self.exporter.host, str(cpu), "+".join(names)], 1)
        yield group
        count = GaugeMetricFamily("wcs_exporter_containers", "Containers the exporter knows.", labels=("host",))
        count.add_metric([self.exporter.host], len(targets))
        yield count
        yield from isolation_families(self.exporter.host, self.exporter.isolation_report)
        if self.exporter.discover_docker:
            engine = GaugeMetricFamily("wcs_exporter_engine_up", "1 when the Docker engine answered.",
                                       labels=("host",))
            engine.add_metric([self.exporter.host], self.exporter.engine_up)
            yield engine


def load_isolation_report(path, host):
    """(created time in seconds or None, [summary rows of ``host``]) of the isolation role's report.json
    (``{"created": "...Z", "summary": {host: [{name, cpuset, p99_ms, ...}]}}``); (None, []) when the file is absent.
    ValueError when it is not such a report."""
    try:
        data = bounded.loads_json(bounded.read_path(path), path)
    except FileNotFoundError:
        return None, []
    if not isinstance(data, dict) or not isinstance(data.get("summary"), dict):
        raise ValueError("%s: not an isolation report (no summary by host)" % path)
    rows = [r for r in data["summary"].get(host) or [] if isinstance(r, dict) and r.get("name")]
    created = None
    try:
        created = time.mktime(time.strptime(str(data.get("created")), "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    except ValueError:
        pass
    return created, rows


def isolation_families(host, path):
    """wcs_isolation_p99_seconds per container of the last isolation report (what the isolation role measured with
    timer_probe), and the report's time; nothing without a report file."""
    if not path:
        return
    try:
        created, rows = load_isolation_report(path, host)
    except (OSError, ValueError) as exc:
        LOG.warning("isolation report: %s", exc)
        return
    p99 = GaugeMetricFamily("wcs_isolation_p99_seconds", "p99 timer lateness of the container in the last isolation "
                            "probe (mediaops.wcs.verify_isolation's report).", labels=LABELS)
    for row in rows:
        value = stream_quality.number(row.get("p99_ms"))
        if value is not None:
            p99.add_metric([host, str(row["name"]), str(row.get("cpuset") or "")], value / 1000.0)
    yield p99
    if created is not None:
        stamp = GaugeMetricFamily("wcs_isolation_report_timestamp_seconds", "When the isolation report was made.",
                                  labels=("host",))
        stamp.add_metric([host], created)
        yield stamp


# --------------------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------------------
def make_handler(exporter, self_registry):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/metrics":
                registry = self_registry
            elif url.path == "/probe":
                names = query.get("container")
                if names and not exporter.known(names[0]):
                    return self._send(404, b"no managed WCS container of that name on this host\n", "text/plain")
                registry = CollectorRegistry(auto_describe=False)
                start = time.monotonic()
                registry.register(ContainerCollector(exporter, only=names[0] if names else None))
                body = generate_latest(registry)
                total = "# HELP wcs_probe_duration_seconds Time to answer this probe.\n" \
                        "# TYPE wcs_probe_duration_seconds gauge\nwcs_probe_duration_seconds %f\n" % (
                            time.monotonic() - start)
                return self._send(200, body + total.encode(), CONTENT_TYPE_LATEST)
            elif url.path == "/":
                return self._send(200, b"wcs exporter: /probe?container=NAME, /probe, /metrics\n", "text/plain")
            else:
                return self._send(404, b"not found\n", "text/plain")
            return self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)

        def _send(self, code, body, ctype):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            LOG.debug("%s " + fmt, self.address_string(), *args)

    return Handler


def _seconds(text):
    try:
        return bounded.check_timeout(text, "--timeout")
    except bounded.BoundedReadError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", default="127.0.0.1:9597", help="address:port to serve on")
    parser.add_argument("--host-label", default=socket.gethostname(), help="value of the host label")
    parser.add_argument("--targets-file", help="JSON written by the monitoring role from wcs_plan")
    parser.add_argument("--docker-host", default="unix:///var/run/docker.sock")
    parser.add_argument("--no-docker-discovery", action="store_true",
                        help="only the containers of --targets-file (the engine is still asked for PIDs)")
    parser.add_argument("--reach", choices=("netns", "address"), default="netns",
                        help="netns: ask from inside the container's network namespace (root); "
                             "address: connect to the container's IP (shim interface or bridge)")
    parser.add_argument("--port", type=int, default=constants.WCS_HTTP_PORT, help="the containers' statistics page port")
    parser.add_argument("--timeout", type=_seconds, default=3.0,
                        help="seconds per container, in total for what it answers (page and stream list)")
    parser.add_argument("--reserved-cpus", default="", help="the host's reserved CPUs (else from the targets file)")
    parser.add_argument("--no-stream-list", action="store_true",
                        help="read only the statistics page, not the REST stream list")
    parser.add_argument("--per-stream-series", type=int, default=0,
                        help="opt-in: one series per stream for at most N streams per container (0: none; hard cap "
                             "%d)" % stream_quality.PER_STREAM_HARD_CAP)
    parser.add_argument("--isolation-report", help="the isolation role's report.json copied to this host")
    parser.add_argument("--pidfile", help="write the process id here (removed on exit)")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not 0 <= args.per_stream_series <= stream_quality.PER_STREAM_HARD_CAP:
        sys.exit("wcs_exporter: --per-stream-series=%d: give 0 (off) to %d. Fix: wcs_monitoring_exporter_per_stream_series"
                 % (args.per_stream_series, stream_quality.PER_STREAM_HARD_CAP))
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.targets_file and args.no_docker_discovery:
        sys.exit("wcs_exporter: nothing to scrape: give --targets-file or allow Docker discovery")
    engine = DockerEngine(args.docker_host)
    exporter = Exporter(args.host_label, targets_file=args.targets_file, engine=engine,
                        discover_docker=not args.no_docker_discovery, reach=args.reach, port=args.port,
                        timeout=args.timeout, reserved_cpus=args.reserved_cpus,
                        stream_list=not args.no_stream_list, per_stream=args.per_stream_series,
                        isolation_report=args.isolation_report)
    if args.targets_file:
        load_targets(args.targets_file)  # a bad file is an error at start, not a silent empty scrape
    REGISTRY.register(HostCollector(exporter))
    address, _sep, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((address.strip("[]") or "0.0.0.0", int(port)), make_handler(exporter, REGISTRY))
    server.daemon_threads = True
    if args.pidfile:
        with open(args.pidfile, "w", encoding="utf-8") as handle:
            handle.write("%d\n" % os.getpid())

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    LOG.warning("serving on %s (reach=%s, targets=%s, docker discovery=%s)", args.listen, args.reach,
                args.targets_file, exporter.discover_docker)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except FileNotFoundError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

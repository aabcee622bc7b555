# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-container aggregates of a WCS stream list (``wcs_client.WCSEndpoint.streams_with_metrics``), of bounded
cardinality: streams by status / media type / provider, per-stream bitrate percentiles, and the per-stream packet
counters (lost, NACK, PLI) folded into per-container counters that never go down although the streams they come
from end.

Pure and stdlib only: the WCS exporter (roles/monitoring/files/wcs_exporter.py, which ships this file) turns the
results into metrics. Which key of a stream's ``metrics`` object feeds which figure is the exporter's table
(``keys``: {figure: (key, scale)}); the figures are:

  rates (a current value per stream):  video_rate, audio_rate (bits per second), video_fps
  counters (growing per stream):       video_nack, video_pli, video_lost, audio_lost

Counter semantics: a stream's counters vanish when it ends, so a sum over the open streams goes down and up with
churn. ``CounterAccumulator`` keeps each stream's previous values (by ``mediaSessionId``) and adds only what grew
since the previous read: a stream seen for the first time adds its whole value (it began after the previous read,
counters start at 0), except on the first read of a container (exporter start: nothing is added, the values are
the baseline); a value below the previous one is a restarted counter and adds its whole value. What a stream
counted between the last read and its end is lost (bounded by one scrape interval). The totals only grow: in
Prometheus, ``rate()`` gives the per-second figure, whichever scrapers read in between.
"""
from __future__ import annotations

import re
import threading
import time

from ansible_collections.mediaops.wcs.plugins.module_utils import bounded as bounded_read

RATE_FIGURES = ("video_rate", "audio_rate", "video_fps")
COUNTER_FIGURES = ("video_nack", "video_pli", "video_lost", "audio_lost")
FIGURES = RATE_FIGURES + COUNTER_FIGURES

# (label value of the quantile label, percentile)
QUANTILES = (("0.5", 50.0), ("0.9", 90.0), ("0.99", 99.0))

# Label values are taken from the server only when they look like its enums, and at most this many distinct ones per
# label in one answer (the most frequent; the rest are "other"): a series set that stays small whatever it sends.
LABEL_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
MAX_LABEL_VALUES = 12
MEDIA_TYPES = ("publish", "play")
OTHER = "other"

# The opt-in per-stream series: never more than this many streams per container, whatever the setting asks.
PER_STREAM_HARD_CAP = 1000
STREAM_LABEL_MAX = 64


def number(value):
    """A finite float of a JSON number (or a numeric string of ASCII digits), else None (bools, null, garbage, NaN,
    inf, '²', an integer of more than bounded.MAX_INT_DIGITS digits): ``bounded.number_or_none``."""
    return bounded_read.number_or_none(value)


def figures(stream, keys):
    """{figure: value} of one stream's ``metrics`` object through ``keys`` ({figure: (key, scale)}); figures whose
    key is absent or not a number are left out; {} without a metrics object."""
    metrics = stream.get("metrics") if isinstance(stream, dict) else None
    if not isinstance(metrics, dict):
        return {}
    out = {}
    for figure, (key, scale) in keys.items():
        value = number(metrics.get(key))
        if value is not None:
            out[figure] = value * scale
    return out


def percentile(values, pct):
    """Nearest-rank percentile of a non-empty sequence (a value that occurred; p100 = max, p0 = min)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of nothing")
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil(n * pct / 100), at least 1
    return ordered[int(rank) - 1]


def _raw_label(value):
    text = value if isinstance(value, str) else ""
    return text if LABEL_VALUE.match(text) else OTHER


def bounded(values, cap=MAX_LABEL_VALUES):
    """{raw value: label value}: values that look like enums keep their spelling, the ``cap`` most frequent of them
    (ties by name); every other value is "other"."""
    counts = {}
    for value in values:
        label = _raw_label(value)
        counts[label] = counts.get(label, 0) + 1
    kept = [v for v, _n in sorted(counts.items(), key=lambda vn: (-vn[1], vn[0])) if v != OTHER][:cap]
    keep = set(kept)
    return lambda value: _raw_label(value) if _raw_label(value) in keep else OTHER


def media_type(stream):
    value = stream.get("mediaType")
    if value in MEDIA_TYPES:
        return value
    if value is None and isinstance(stream.get("published"), bool):
        return "publish" if stream["published"] else "play"
    return OTHER


def stream_key(stream):
    """What identifies a stream between two reads: its mediaSessionId, else name + sessionId + media type."""
    msid = stream.get("mediaSessionId")
    if isinstance(msid, str) and msid:
        return msid
    return "%s|%s|%s" % (stream.get("name"), stream.get("sessionId"), stream.get("mediaType"))


def aggregate(streams, keys):
    """Aggregates of one container's stream list:
    ``{"streams": {(status, media_type, provider): count}, "with_metrics": n,
       "bitrate": {media_type: {quantile: bits/s}}, "fps": {media_type: {quantile: fps}},
       "current": {figure: sum over the open streams}}``.
    Bitrate per stream = video_rate + audio_rate (whichever the stream has); streams without metrics count in
    ``streams`` only."""
    streams = [s for s in streams if isinstance(s, dict)]
    status_label = bounded(s.get("status") for s in streams)
    provider_label = bounded(s.get("mediaProvider") for s in streams)
    counts, rates, fps, current = {}, {}, {}, {}
    with_metrics = 0
    for stream in streams:
        kind = media_type(stream)
        key = (status_label(stream.get("status")), kind, provider_label(stream.get("mediaProvider")))
        counts[key] = counts.get(key, 0) + 1
        values = figures(stream, keys)
        if not isinstance(stream.get("metrics"), dict):
            continue
        with_metrics += 1
        for figure, value in values.items():
            current[figure] = current.get(figure, 0.0) + value
        if "video_rate" in values or "audio_rate" in values:
            rates.setdefault(kind, []).append(values.get("video_rate", 0.0) + values.get("audio_rate", 0.0))
        if "video_fps" in values:
            fps.setdefault(kind, []).append(values["video_fps"])

    def quantiles(groups):
        return {kind: {q: percentile(vals, pct) for q, pct in QUANTILES} for kind, vals in groups.items()}

    return {"streams": counts, "with_metrics": with_metrics, "bitrate": quantiles(rates), "fps": quantiles(fps),
            "current": current}


class CounterAccumulator:
    """Per-container totals of the per-stream counters that only grow (see the module's docstring). Thread-safe;
    a container not read for ``forget_after`` seconds is forgotten (its totals start again from 0, a counter
    reset Prometheus' rate() handles)."""

    def __init__(self, keys, forget_after=3600.0, clock=time.monotonic):
        self.keys = {f: k for f, k in keys.items() if f in COUNTER_FIGURES}
        self.forget_after = forget_after
        self.clock = clock
        self._lock = threading.Lock()
        self._state = {}  # container -> {"seen": {stream key: {figure: value}}, "totals": {figure: float}, "at": t}

    def update(self, container, streams):
        """Adds what grew since the previous read of ``container`` and returns its totals {figure: float} (every
        counter figure of the table, 0.0 when nothing was counted yet)."""
        now = self.clock()
        current = {}
        for stream in streams:
            if isinstance(stream, dict) and isinstance(stream.get("metrics"), dict):
                current[stream_key(stream)] = figures(stream, self.keys)
        with self._lock:
            for name in [n for n, st in self._state.items() if now - st["at"] > self.forget_after]:
                del self._state[name]
            state = self._state.get(container)
            if state is None:
                state = self._state[container] = {"seen": {}, "totals": {f: 0.0 for f in self.keys}, "at": now}
                first = True
            else:
                first = False
            totals = state["totals"]
            if not first:
                for key, values in current.items():
                    before = state["seen"].get(key, {})
                    for figure, value in values.items():
                        prev = before.get(figure)
                        grew = value if prev is None or value < prev else value - prev
                        totals[figure] = totals.get(figure, 0.0) + grew
            state["seen"] = current
            state["at"] = now
            return dict(totals)

    def containers(self):
        with self._lock:
            return sorted(self._state)


def per_stream(streams, keys, limit):
    """The opt-in per-stream rows: at most ``min(limit, PER_STREAM_HARD_CAP)`` streams with metrics, in a stable
    order (name, stream key). Returns ([{"stream", "media_type", "session", "figures"}], how many were left out)."""
    cap = max(0, min(int(limit), PER_STREAM_HARD_CAP))
    rows = [s for s in streams if isinstance(s, dict) and isinstance(s.get("metrics"), dict)]
    rows.sort(key=lambda s: (str(s.get("name")), stream_key(s)))
    out = [{"stream": str(s.get("name") or "")[:STREAM_LABEL_MAX], "media_type": media_type(s),
            "session": stream_key(s)[:STREAM_LABEL_MAX], "figures": figures(s, keys)} for s in rows[:cap]]
    return out, len(rows) - len(out)

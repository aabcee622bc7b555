# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client of a WCS server's HTTP port: the statistics page, the stream list, ending streams.

Stdlib only (on top of netns_http and stat_page), so the same file serves the modules (wcs_containers' wait,
wcs_stats), the rollout's drain and the WCS exporter, which the monitoring role ships it to. A server is reached
either from inside a container's network namespace (``WCSEndpoint(pid=...)``: the host cannot reach its own
ipvlan/macvlan containers through the parent) or directly (``endpoint_from_url``).

Calls, as the collection uses them:
  * statistics page: ``GET /?action=stat``, HTTP 200 or it is not up;
  * stream list: ``POST /rest-api/stream/find_all`` with ``{}``, ``GET`` when POST is not allowed (405);
    a 404 or an empty answer means no streams;
  * stream list with per-stream metrics: ``POST /rest-api/stream/find`` with ``{"display": ["metrics"]}`` (WCS
    build 5.2.923+); anything else than a non-empty JSON array whose streams carry a ``metrics`` object (a 404,
    another error status, an empty answer, streams without metrics: an older build) falls back to ``find_all``;
  * end streams: ``POST /rest-api/stream/terminate`` with ``{}``;
  * CDN nodes: ``POST /rest-api/cdn/show_nodes`` with ``{}``: the nodes this one sees (itself excluded).

Bounds (``bounded``): ``timeout`` is a total deadline per call as the caller sees it (the page; the stream list
with its fallbacks; terminate; the CDN call), or one ``bounded.Deadline`` shared by every call of the endpoint
(the exporter's scrape); the statistics page is capped at MAX_PAGE_BYTES, the JSON answers at MAX_JSON_BYTES and
read with the depth and digits caps. An answer that breaks a bound is WCSUnavailable, like no answer.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from ansible_collections.mediaops.wcs.plugins.module_utils import bounded, constants
from ansible_collections.mediaops.wcs.plugins.module_utils.netns_http import NetnsHTTPError, request
from ansible_collections.mediaops.wcs.plugins.module_utils.stat_page import parse_stat_page, stream_count_from_stats


# The body of the stream list with per-stream metrics (build 5.2.923+).
STREAM_METRICS_QUERY = {"display": ["metrics"]}
# A real page is a few KiB; a stream list of thousands of streams with metrics stays under a few MiB.
MAX_PAGE_BYTES = 1024 * 1024
MAX_JSON_BYTES = bounded.DEFAULT_MAX_BYTES


class WCSUnavailable(Exception):
    """The server gave no usable answer (no connection, timeout, namespace gone, an HTTP error status, a garbled
    body). The message says which call and why."""


def endpoint_from_url(url, timeout=5.0):
    """A WCSEndpoint for ``http://host[:port]`` (the path is ignored; no scheme means http). ValueError when the
    URL is not plain http with a host."""
    text = str(url)
    parts = urlsplit(text if "://" in text else "http://" + text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "http" or not parts.hostname or port == -1:
        raise ValueError("url: %r is not an http:// URL with a host. Fix: e.g. http://203.0.113.4:%d"
                         % (url, constants.WCS_HTTP_PORT))
    return WCSEndpoint(host=parts.hostname, port=port or 80, timeout=timeout)


class WCSEndpoint:
    """One WCS HTTP port: ``host:port`` seen from here, or from inside process ``pid``'s network namespace.
    ``timeout``: seconds per call (a total deadline each), or a ``bounded.Deadline`` that every call shares."""

    def __init__(self, port=constants.WCS_HTTP_PORT, host="127.0.0.1", pid=None, timeout=5.0):
        self.port = bounded.parse_int(port, "port", lo=1, hi=65535)
        self.host = host
        self.pid = pid
        self.timeout = timeout if isinstance(timeout, bounded.Deadline) else bounded.check_timeout(timeout)

    def __repr__(self):
        where = " in pid %d's namespace" % self.pid if self.pid else ""
        return "%s:%d%s" % (self.host, self.port, where)

    def deadline(self):
        """The deadline of one call: the shared one, or a new one of ``timeout`` seconds."""
        return bounded.Deadline.of(self.timeout, repr(self))

    def call(self, method, path, body=None, deadline=None, max_bytes=MAX_JSON_BYTES):
        """{status, reason, headers, body} of one request within ``deadline`` (default: a new one of the
        endpoint's); WCSUnavailable when no usable HTTP answer came (none, too slow in total, too long)."""
        try:
            return request(method, path, self.port, host=self.host, pid=self.pid, body=body,
                           timeout=deadline or self.deadline(), max_bytes=max_bytes)
        except NetnsHTTPError as exc:
            raise WCSUnavailable(str(exc))

    @staticmethod
    def _json(method, path, text):
        try:
            return bounded.loads_json(text, "%s %s" % (method, path), max_bytes=MAX_JSON_BYTES)
        except bounded.BoundedReadError as exc:
            raise WCSUnavailable(str(exc)) from None

    def stat_text(self):
        """The statistics page's text (HTTP 200), else WCSUnavailable."""
        resp = self.call("GET", constants.STAT_PATH, max_bytes=MAX_PAGE_BYTES)
        if resp["status"] != 200:
            raise WCSUnavailable("statistics page answered HTTP %s %s" % (resp["status"], resp["reason"]))
        return resp["body"]

    def stats(self):
        """(flat stats, sections) of the statistics page; WCSUnavailable when it does not answer 200."""
        return parse_stat_page(self.stat_text())

    def streams(self):
        """The REST stream list (a list of dicts); [] on a 404 or an empty answer."""
        return self._streams(self.deadline())

    def _streams(self, deadline):
        path = constants.STREAM_FIND_ALL_PATH
        for method, body in (("POST", {}), ("GET", None)):
            resp = self.call(method, path, body, deadline)
            if resp["status"] == 404:
                return []
            if resp["status"] == 405 and method == "POST":
                continue
            if resp["status"] != 200:
                raise WCSUnavailable("%s %s answered HTTP %s" % (method, path, resp["status"]))
            text = resp["body"].strip()
            if not text:
                return []
            data = self._json(method, path, text)
            return [s for s in data if isinstance(s, dict)] if isinstance(data, list) else []
        return []

    def streams_with_metrics(self):
        """(streams, True) from ``find`` with ``display: [metrics]`` when the server gives per-stream metrics, else
        (the ``find_all`` list, False). WCSUnavailable only when the fallback fails too."""
        path = constants.STREAM_FIND_PATH
        deadline = self.deadline()
        try:
            resp = self.call("POST", path, STREAM_METRICS_QUERY, deadline)
        except WCSUnavailable:
            resp = None
        if resp is not None and resp["status"] == 200:
            try:
                data = self._json("POST", path, resp["body"].strip() or "[]")
            except WCSUnavailable:
                data = None
            if isinstance(data, list):
                streams = [s for s in data if isinstance(s, dict)]
                if any(isinstance(s.get("metrics"), dict) for s in streams):
                    return streams, True
        return self._streams(deadline), False

    def terminate_streams(self):
        """Ends every stream (``POST terminate {}``). WCSUnavailable unless the server answers 200."""
        path = constants.STREAM_TERMINATE_PATH
        resp = self.call("POST", path, {})
        if resp["status"] != 200:
            raise WCSUnavailable("POST %s answered HTTP %s %s" % (path, resp["status"], resp["reason"]))

    def cdn_nodes(self, path=constants.CDN_SHOW_NODES_PATH):
        """The CDN nodes this server sees (``POST show_nodes {}``): a list of dicts (``id``, ``role``,
        ``globalState``, ``processingState``). WCSUnavailable unless it answers 200 with a JSON array."""
        resp = self.call("POST", path, {})
        if resp["status"] != 200:
            raise WCSUnavailable("POST %s answered HTTP %s %s" % (path, resp["status"], resp["reason"]))
        data = self._json("POST", path, resp["body"].strip() or "[]")
        if not isinstance(data, list):
            raise WCSUnavailable("POST %s answered %s, not a JSON array of nodes" % (path, type(data).__name__))
        return [n for n in data if isinstance(n, dict)]


def stream_count(stats, streams=None):
    """Streams open: the length of the REST list when one was read, else the page's per-type counters."""
    return len(streams) if streams is not None else stream_count_from_stats(stats)


def degraded_streams(stats):
    """The page's ``degraded_streams`` figure as a whole number (0 when absent or not a number)."""
    value = stats.get("degraded_streams", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0

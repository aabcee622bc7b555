"""wcs_client against a tiny WCS stand-in on 127.0.0.1 (stdlib http.server in a thread): the statistics page, the
stream list (POST, GET fallback, 404 and empty = none), ending streams, and the same calls from inside a network
namespace (our own, entered through /proc/<pid>/ns/net as for a container), and the total deadline."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils import constants
from ansible_collections.mediaops.wcs.plugins.module_utils.wcs_client import (
    WCSEndpoint, WCSUnavailable, degraded_streams, endpoint_from_url, stream_count)

PAGE = "-----Connection Stats-----\nconnections=2\n-----Stream Stats-----\nstreams_webrtc_in=1\nstreams_rtmp_out=2\n" \
       "degraded_streams=1\n"


class FakeWCS:
    """What the stand-in answers, and every request it got (method, path, body)."""

    def __init__(self):
        self.stat = (200, PAGE)
        self.find_all = {"POST": (200, json.dumps([{"name": "a"}, {"name": "b"}])), "GET": (200, "[]")}
        self.terminate = (200, "")
        self.find = (404, "not found")  # a build before 5.2.923 without find, until a test sets it
        self.cdn = (200, json.dumps([{"id": "203.0.113.4", "role": "ORIGIN", "globalState": "ACTIVE",
                                      "processingState": "NEW_STREAMS_ALLOWED"}, "junk"]))
        self.calls = []


@pytest.fixture
def wcs():
    fake = FakeWCS()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else None
            fake.calls.append((method, self.path, body, self.headers.get("Content-Type")))
            if self.path == constants.STAT_PATH and method == "GET":
                code, text = fake.stat
            elif self.path == constants.STREAM_FIND_ALL_PATH:
                code, text = fake.find_all[method]
            elif self.path == constants.STREAM_FIND_PATH and method == "POST":
                code, text = fake.find
            elif self.path == constants.STREAM_TERMINATE_PATH and method == "POST":
                code, text = fake.terminate
            elif self.path in (constants.CDN_SHOW_NODES_PATH, "/other/show_nodes") and method == "POST":
                code, text = fake.cdn
            else:
                code, text = 404, "not found"
            data = text.encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            self._answer("GET")

        def do_POST(self):  # noqa: N802
            self._answer("POST")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.port = server.server_address[1]
    yield fake
    server.shutdown()
    server.server_close()


def endpoint(wcs, **kw):
    return WCSEndpoint(port=wcs.port, timeout=3, **kw)


def test_stat_page_is_read_and_parsed(wcs):
    stats, sections = endpoint(wcs).stats()
    assert stats["connections"] == 2 and sections["stream"]["streams_rtmp_out"] == 2
    assert stream_count(stats) == 3 and degraded_streams(stats) == 1
    assert wcs.calls == [("GET", "/?action=stat", None, None)]


def test_stat_page_other_than_200_is_unavailable(wcs):
    wcs.stat = (503, "starting")
    with pytest.raises(WCSUnavailable, match="HTTP 503"):
        endpoint(wcs).stat_text()


def test_nothing_listening_is_unavailable(wcs):
    with pytest.raises(WCSUnavailable, match="refused"):
        WCSEndpoint(port=1, timeout=1).stats()


def test_stream_list_posts_an_empty_object(wcs):
    assert [s["name"] for s in endpoint(wcs).streams()] == ["a", "b"]
    assert wcs.calls == [("POST", constants.STREAM_FIND_ALL_PATH, "{}", "application/json")]


def test_stream_list_falls_back_to_get_when_post_is_not_allowed(wcs):
    wcs.find_all = {"POST": (405, ""), "GET": (200, json.dumps([{"name": "g"}]))}
    assert endpoint(wcs).streams() == [{"name": "g"}]
    assert [c[0] for c in wcs.calls] == ["POST", "GET"]


@pytest.mark.parametrize("answer", [(404, "no such path"), (200, ""), (200, "  \n"), (200, "{}")])
def test_no_stream_list_means_no_streams(wcs, answer):
    wcs.find_all = {"POST": answer, "GET": answer}
    assert endpoint(wcs).streams() == []


@pytest.mark.parametrize("answer, match", [((500, "boom"), "HTTP 500"), ((200, "<html>"), "not JSON")])
def test_a_broken_stream_list_is_unavailable(wcs, answer, match):
    wcs.find_all = {"POST": answer, "GET": answer}
    with pytest.raises(WCSUnavailable, match=match):
        endpoint(wcs).streams()


WITH_METRICS = [{"name": "a", "mediaSessionId": "m1", "metrics": {"VIDEO_RATE": 1000, "VIDEO_NACK": 2}},
                {"name": "b", "mediaSessionId": "m2", "metrics": {"VIDEO_RATE": 3000}}]


def test_stream_list_with_metrics_asks_find_for_the_metrics_display(wcs):
    wcs.find = (200, json.dumps(WITH_METRICS))
    assert endpoint(wcs).streams_with_metrics() == (WITH_METRICS, True)
    assert wcs.calls == [("POST", constants.STREAM_FIND_PATH, '{"display": ["metrics"]}', "application/json")]


@pytest.mark.parametrize("find", [
    (404, "not found"),                                   # no find (or no streams)
    (400, "unknown field display"),                       # a build that refuses the field
    (200, ""), (200, "[]"),                               # empty
    (200, json.dumps([{"name": "x", "mediaSessionId": "m"}])),  # an older build ignores display: no metrics
    (200, "<html>"), (200, '{"metrics": {}}'),             # not a list
])
def test_stream_list_without_metrics_falls_back_to_find_all(wcs, find):
    wcs.find = find
    streams, with_metrics = endpoint(wcs).streams_with_metrics()
    assert [s["name"] for s in streams] == ["a", "b"] and with_metrics is False
    assert [c[1] for c in wcs.calls] == [constants.STREAM_FIND_PATH, constants.STREAM_FIND_ALL_PATH]


def test_stream_list_with_metrics_is_unavailable_when_the_fallback_fails_too(wcs):
    wcs.find_all = {"POST": (500, "boom"), "GET": (500, "boom")}
    with pytest.raises(WCSUnavailable, match="find_all answered HTTP 500"):
        endpoint(wcs).streams_with_metrics()


def test_terminate_posts_an_empty_object(wcs):
    endpoint(wcs).terminate_streams()
    assert wcs.calls == [("POST", constants.STREAM_TERMINATE_PATH, "{}", "application/json")]


def test_terminate_refused_is_unavailable(wcs):
    wcs.terminate = (400, "bad")
    with pytest.raises(WCSUnavailable, match="terminate answered HTTP 400"):
        endpoint(wcs).terminate_streams()


def test_cdn_nodes_posts_an_empty_object_and_keeps_the_node_objects(wcs):
    assert endpoint(wcs).cdn_nodes() == [{"id": "203.0.113.4", "role": "ORIGIN", "globalState": "ACTIVE",
                                          "processingState": "NEW_STREAMS_ALLOWED"}]
    assert wcs.calls == [("POST", constants.CDN_SHOW_NODES_PATH, "{}", "application/json")]
    assert len(endpoint(wcs).cdn_nodes("/other/show_nodes")) == 1


@pytest.mark.parametrize("answer, match", [((500, "boom"), "HTTP 500"), ((200, "<html>"), "not JSON"),
                                           ((200, "{}"), "not a JSON array")])
def test_a_broken_cdn_answer_is_unavailable(wcs, answer, match):
    wcs.cdn = answer
    with pytest.raises(WCSUnavailable, match=match):
        endpoint(wcs).cdn_nodes()


@pytest.mark.skipif(os.geteuid() != 0, reason="setns needs root")
def test_the_same_calls_from_inside_a_namespace(wcs):
    """pid mode makes the socket inside /proc/<pid>/ns/net (a thread enters it, no fork): our own namespace here, a
    container's in real use."""
    inside = endpoint(wcs, pid=os.getpid())
    assert inside.stats()[0]["connections"] == 2
    assert len(inside.streams()) == 2
    inside.terminate_streams()
    assert [c[0] for c in wcs.calls] == ["GET", "POST", "POST"]


def test_a_namespace_that_is_gone_is_unavailable():
    with pytest.raises(WCSUnavailable, match="gone"):
        WCSEndpoint(pid=2 ** 22 + 17, timeout=1).stats()


@pytest.mark.parametrize("url, where", [
    ("http://203.0.113.4:8081", ("203.0.113.4", 8081)),
    ("http://203.0.113.4:8081/some/path?x=1", ("203.0.113.4", 8081)),
    ("203.0.113.4:9000", ("203.0.113.4", 9000)),
    ("http://wcs.example", ("wcs.example", 80)),
])
def test_urls(url, where):
    e = endpoint_from_url(url)
    assert (e.host, e.port, e.pid) == (where[0], where[1], None)


@pytest.mark.parametrize("url", ["https://203.0.113.4", "http://", "ftp://x", "http://h:99999", "http://h:x"])
def test_bad_urls_are_refused(url):
    with pytest.raises(ValueError, match="Fix: e.g. http://"):
        endpoint_from_url(url)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"),
                    reason="a network namespace of its own needs root, unshare and ip")
def test_pid_mode_asks_inside_another_namespace_only():
    """A page served on 127.0.0.1 of a namespace of its own (like a container's): asked with pid it answers, from
    here the same address and port have nothing (the socket really is made in the other namespace)."""
    server = ("import http.server as h\n"
              "class H(h.BaseHTTPRequestHandler):\n"
              "    def do_GET(self):\n"
              "        self.send_response(200); self.send_header('Content-Length', '14'); self.end_headers()\n"
              "        self.wfile.write(b'connections=7\\n')\n"
              "    def log_message(self, *a): pass\n"
              "h.HTTPServer(('127.0.0.1', 18089), H).serve_forever()\n")
    proc = subprocess.Popen(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" -c "$1"',
                             sys.executable, server])
    try:
        inside = WCSEndpoint(port=18089, pid=proc.pid, timeout=2)
        deadline = time.monotonic() + 10
        while True:
            try:
                assert inside.stats()[0]["connections"] == 7
                break
            except WCSUnavailable:
                assert time.monotonic() < deadline, "the namespaced server did not come up"
                time.sleep(0.1)
        with pytest.raises(WCSUnavailable, match="refused"):
            WCSEndpoint(port=18089, timeout=2).stats()
    finally:
        proc.kill()
        proc.wait(5)

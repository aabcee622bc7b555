"""Hostile answers (issue 20, classes 6 and 7): what a HAProxy admin socket, a WCS statistics page or a stream list
can answer - trickled, endless, garbled, nested 200,000 deep, with a number of 5,000 digits, without the expected
columns - through the public entry points: the haproxy_server and wcs_stats modules run from an args file, the
WCS client (from here and from inside a network namespace), the exporter's scrape. The only outcomes are a result
or the project's error, within the deadline plus a small slack and the harness's memory cap. The peers run on
loopback only (127.0.0.1 or a UNIX socket in a private directory), end every connection by themselves and are
stopped by each test."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import bounded, haproxy, stat_page, stream_quality
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.wcs_client import WCSEndpoint, WCSUnavailable

from .harness import assert_clean, clean_call, deadline, run_module
from .peers import Peer, http_answer

ROOT = Path(__file__).resolve().parents[3]
# A module run costs an interpreter start and Ansible's imports (~1-2 s on the shared CPUs) on top of its deadline.
MODULE_SLACK = 8.0
SLACK = 1.0
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SHOW = ("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
        "srv_time_since_last_change\n2 wcs 1 wcs-1 127.0.0.1 2 0 1 1 0\n2 wcs 2 wcs-2 127.0.0.1 0 8 1 1 1\n\n")
PAGE = "-----Connection Stats-----\nconnections=2\n-----Stream Stats-----\nstreams_webrtc_in=1\n"
DEEP = "[" * 200000 + "]" * 200000
HUGE = "1" * 5000


@pytest.fixture
def sock_dir():
    path = tempfile.mkdtemp(prefix="wcs-h-", dir="/tmp")  # a UNIX socket path must stay short
    yield path
    shutil.rmtree(path, ignore_errors=True)


def timed_module(name, args, **kw):
    start = time.monotonic()
    answer = run_module(name, args, **kw)
    return answer, time.monotonic() - start


# -- haproxy_server against a hostile admin socket -------------------------------------------------------------------
HAPROXY_ARGS = {"backend": "wcs", "server": "wcs-1", "state": "drain", "timeout": 2}


@pytest.mark.parametrize("mode, data, match", [
    ("trickle", b"", "within 2 s"),                              # one byte every 0.3 s, forever
    ("trickle", SHOW.encode()[:40], "within 2 s"),                # a start, then a trickle
    ("silent", b"", "within 2 s"),                               # reads the command, says nothing
    ("flood", b"", "longer than"),                               # endless data (MemoryError at 2 GiB before)
    ("answer", b"\x00\xff garbage \xc2\xb2\n", "unexpected answer"),
    ("answer", b"1\n# be_id be_name srv_id\n2 wcs 1\n", "no srv_name, srv_op_state, srv_admin_state column"),
    ("answer", b"1\n# srv_name srv_op_state srv_admin_state\nwcs-1 2\n", "no server wcs-1"),  # short row
    ("answer", b"1\n# srv_name srv_op_state srv_admin_state\nwcs-1 2 \xc2\xb2\n", "not a whole number"),
    ("answer", ("1\n# srv_name srv_op_state srv_admin_state\nwcs-1 %s 0\n" % HUGE).encode(), "more than 10 digits"),
    ("answer", b"", "unexpected answer"),                         # closes at once
])
def test_haproxy_server_refuses_hostile_answers_within_its_deadline(sock_dir, mode, data, match):
    path = os.path.join(sock_dir, "admin.sock")
    with Peer(mode, data, unix_path=path):
        answer, took = timed_module("haproxy_server", dict(HAPROXY_ARGS, socket=path))
    assert assert_clean(answer) == "refused"
    assert match in answer["msg"], answer["msg"]
    assert took < 2 + MODULE_SLACK, took


def test_haproxy_server_reads_a_good_answer(sock_dir):
    path = os.path.join(sock_dir, "admin.sock")
    with Peer(data=SHOW.encode(), unix_path=path):
        answer = run_module("haproxy_server", dict(HAPROXY_ARGS, socket=path), check_mode=True)
    assert assert_clean(answer) == "ok"
    assert (answer["previous"], answer["state"], answer["changed"], answer["operational_state"]) == \
        ("ready", "drain", True, 2)


@pytest.mark.parametrize("timeout", ["²", "٣x", 0, -5, 10 ** 30, HUGE])
def test_haproxy_server_timeouts_given_by_users(sock_dir, timeout):
    answer = run_module("haproxy_server", dict(HAPROXY_ARGS, socket=os.path.join(sock_dir, "none"), timeout=timeout))
    assert assert_clean(answer) == "refused"
    assert "timeout" in answer["msg"], answer["msg"]


# -- wcs_stats and the WCS client against a hostile HTTP server ------------------------------------------------------
STATUS_LINE = b"HTTP/1.1 200 OK\r\n"


@pytest.mark.parametrize("mode, data", [
    ("trickle", b""),                                            # the status line, one byte every 0.3 s
    ("trickle", STATUS_LINE),                                    # the headers
    ("trickle", STATUS_LINE + b"Content-Length: 1000000\r\n\r\nconnections=1\n"),  # the body
    ("flood", STATUS_LINE + b"\r\n"),                            # a body without end
    ("flood", STATUS_LINE + b"X-Endless: "),                     # a header without end
    ("silent", b""),
    ("answer", b"HTTP/1.1 \xc2\xb200 OK\r\n\r\n"),                # a status of '²00'
    ("answer", b"SSH-2.0-OpenSSH\r\n"),                          # not HTTP
])
def test_wcs_stats_is_down_not_stuck_on_a_hostile_page(mode, data):
    with Peer(mode, data) as peer:
        answer, took = timed_module("wcs_stats", {"url": peer.url, "timeout": 2})
    assert assert_clean(answer) == "ok" and answer["up"] is False, answer
    assert "did not answer" in answer["msg"]
    assert took < 2 + MODULE_SLACK, took


def test_wcs_stats_page_with_a_5000_digit_number_and_deep_json_streams():
    page = PAGE + "core_threads=%s\nsystem_java_cpu_usage=1e999\nbad=\xb2\n" % HUGE
    routes = {"/?action=stat": ("answer", http_answer(page)),
              "/rest-api/stream/find_all": ("answer", http_answer(DEEP))}
    with Peer(routes=routes) as peer:
        answer = run_module("wcs_stats", {"url": peer.url, "timeout": 3})
        assert assert_clean(answer) == "ok" and answer["up"] is True
        assert answer["stats"]["connections"] == 2 and answer["stats"]["core_threads"] == HUGE
        assert answer["stats"]["system_java_cpu_usage"] == "1e999"
        answer = run_module("wcs_stats", {"url": peer.url, "timeout": 3, "streams": True})
    assert assert_clean(answer) == "refused"
    assert "deeper than 64" in answer["msg"], answer["msg"]


@pytest.mark.parametrize("body, match", [(HUGE, "more than 30 digits"), ('[{"n": %s}]' % HUGE, "more than 30 digits"),
                                         ('[{"a": 1e999}, "' + "x" * 100 + '"', "not JSON")])
def test_wcs_stats_stream_lists_with_huge_numbers(body, match):
    routes = {"/?action=stat": ("answer", http_answer(PAGE)),
              "/rest-api/stream/find_all": ("answer", http_answer(body))}
    with Peer(routes=routes) as peer:
        answer = run_module("wcs_stats", {"url": peer.url, "timeout": 3, "streams": True})
    assert assert_clean(answer) == "refused" and match in answer["msg"], answer["msg"]


@pytest.mark.parametrize("timeout", ["²", 0, 10 ** 30])
def test_wcs_stats_timeouts_given_by_users(timeout):
    answer = run_module("wcs_stats", {"url": "http://127.0.0.1:9", "timeout": timeout})
    assert assert_clean(answer) == "refused" and "timeout" in answer["msg"], answer["msg"]


def test_the_stream_list_and_its_fallback_share_one_deadline():
    """find (metrics) trickles: the fallback to find_all gets what is left, not a deadline of its own."""
    routes = {"/rest-api/stream/find_all": ("trickle", b""), "/rest-api/stream/find": ("trickle", b"")}
    with Peer(routes=routes, interval=0.2) as peer:
        start = time.monotonic()
        with pytest.raises(WCSUnavailable, match="within 1.5 s"):
            WCSEndpoint(port=peer.port, timeout=1.5).streams_with_metrics()
    assert time.monotonic() - start < 1.5 + SLACK


@pytest.mark.skipif(os.geteuid() != 0, reason="setns needs root")
@pytest.mark.parametrize("mode, data, match", [("trickle", b"", "within 1.5 s"),
                                               ("flood", STATUS_LINE + b"\r\n", "longer than")])
def test_from_inside_a_namespace_the_same_bounds_hold(mode, data, match):
    """pid mode: the socket is made in the namespace (our own here, a container's in real use), read the same way."""
    with Peer(mode, data) as peer:
        start = time.monotonic()
        with pytest.raises(WCSUnavailable, match=match):
            WCSEndpoint(port=peer.port, pid=os.getpid(), timeout=1.5).stat_text()
    assert time.monotonic() - start < 1.5 + SLACK


# -- the exporter's scrape -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def exporter_module():
    spec = importlib.util.spec_from_file_location("wcs_exporter_hostile",
                                                  ROOT / "roles/monitoring/files/wcs_exporter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scrape(exporter_module, peer, timeout=3.0):
    exporter = exporter_module.Exporter("h1", engine=None, reach="address", timeout=timeout)
    start = time.monotonic()
    result = exporter.scrape({"name": "wcs-1", "cpuset": "1", "address": "127.0.0.1", "port": peer.port})
    return result, time.monotonic() - start


@pytest.mark.parametrize("mode, data", [("trickle", b""), ("trickle", STATUS_LINE), ("flood", STATUS_LINE + b"\r\n"),
                                        ("answer", b"HTTP/1.1 \xc2\xb200 OK\r\n\r\n"), ("silent", b"")])
def test_exporter_scrape_of_a_hostile_container_is_down_within_3_s(exporter_module, mode, data):
    with Peer(mode, data) as peer:
        (_labels, up, samples, _took, err), took = scrape(exporter_module, peer)
    assert up == 0 and samples == [] and err
    assert took < 3 + SLACK, took


def test_exporter_page_and_stream_list_share_the_3_s(exporter_module):
    """The page answers at once, the stream list trickles: the page's figures stand, the list is down, and the
    whole scrape still ends at 3 s."""
    routes = {"/?action=stat": ("answer", http_answer(PAGE)), "/rest-api": ("trickle", b"")}
    with Peer(routes=routes) as peer:
        (_labels, up, samples, _took, _err), took = scrape(exporter_module, peer)
    assert up == 1 and ("wcs_stream_list_up", {}, 0.0) in samples
    assert ("wcs_connections", {}, 2.0) in samples
    assert took < 3 + SLACK, took


@pytest.mark.parametrize("streams", [DEEP, '[{"metrics": {"VIDEO_RATE": %s}}]' % HUGE,
                                     json.dumps([{"metrics": {"VIDEO_RATE": "²", "VIDEO_NACK": "1e999"},
                                                  "status": ["x"], "mediaSessionId": {"a": 1}}])])
def test_exporter_stream_lists_hostile_bodies(exporter_module, streams):
    routes = {"/?action=stat": ("answer", http_answer(PAGE)), "/rest-api": ("answer", http_answer(streams))}
    with Peer(routes=routes) as peer:
        (_labels, up, samples, _took, _err), took = scrape(exporter_module, peer)
    assert up == 1 and took < 3 + SLACK
    list_up = [v for m, _e, v in samples if m == "wcs_stream_list_up"]
    assert list_up in ([0.0], [1.0])


# -- parsers over any answer bytes -----------------------------------------------------------------------------------
def project_call(func, *args):
    """A result, or the project's error (PlanError, HAProxyError, WCSUnavailable); anything else fails."""
    with deadline(10):
        try:
            return "ok", func(*args)
        except (PlanError, haproxy.HAProxyError, WCSUnavailable) as err:
            assert str(err)
            return "refused", err


PAGE_CHARS = st.sampled_from(list("-=abcz_AZ019 .+eE\n\r\t²٣\x1c\x1e\u2028\x85") + ["Stats", "true", "1" * 40, HUGE])


@SETTINGS
@given(st.lists(PAGE_CHARS, max_size=300).map("".join)
       | st.binary(max_size=500).map(lambda b: b.decode("utf-8", "replace")))
def test_stat_page_parses_any_text(text):
    outcome, (stats, sections) = clean_call(stat_page.parse_stat_page, text)
    assert outcome == "ok"
    for value in stats.values():
        assert isinstance(value, (bool, int, float, str))
        if isinstance(value, int) and not isinstance(value, bool):
            assert len(str(abs(value))) <= bounded.MAX_INT_DIGITS
    stat_page.stream_count_from_stats(stats)


COLUMNS = st.sampled_from(["be_id", "be_name", "srv_id", "srv_name", "srv_addr", "srv_op_state", "srv_admin_state",
                           "srv_uweight", "srv_port"])
TOKENS = st.sampled_from(["wcs-1", "wcs-2", "0", "2", "8", "9", "-1", "²", "٣", HUGE, "0x8", "-", "1e3", "\x1c"])


@SETTINGS
@given(st.lists(COLUMNS, max_size=9, unique=True), st.lists(st.lists(TOKENS, max_size=10), max_size=5),
       st.text(max_size=50), st.booleans())
def test_show_servers_state_answers_give_a_state_or_the_projects_error(columns, rows, junk, version):
    text = ("1\n" if version else "") + ("# " + " ".join(columns) + "\n" if columns else "") + \
        "\n".join(" ".join(row) for row in rows) + "\n" + junk
    outcome, result = project_call(haproxy.server_state, text, "wcs-1")
    if outcome == "ok":
        state, op_state, bits = result
        assert state in haproxy.STATES and 0 <= op_state < 10 ** 10 and 0 <= bits < 10 ** 10


@SETTINGS
@given(st.binary(max_size=400))
def test_show_servers_state_of_any_bytes(data):
    project_call(haproxy.server_state, data.decode("utf-8", "replace"), "wcs-1")


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                      st.text(max_size=20), st.sampled_from(["²", "1e999", HUGE, "publish", "PLAYING", "NaN"]))
METRIC_KEYS = st.sampled_from(["VIDEO_RATE", "AUDIO_RATE", "VIDEO_FPS", "VIDEO_NACK", "VIDEO_PLI", "VIDEO_LOST",
                               "AUDIO_LOST", "x"])
STREAM = st.fixed_dictionaries({}, optional={
    "name": JSON_LEAF, "status": JSON_LEAF, "mediaType": st.sampled_from(["publish", "play", "x"]) | JSON_LEAF,
    "mediaProvider": JSON_LEAF, "mediaSessionId": JSON_LEAF, "published": JSON_LEAF, "sessionId": JSON_LEAF,
    "metrics": st.dictionaries(METRIC_KEYS, JSON_LEAF, max_size=8) | JSON_LEAF})
STREAM_LISTS = st.lists(STREAM | JSON_LEAF, max_size=12) | st.recursive(JSON_LEAF, lambda inner: st.lists(
    inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=20)


def exporter_keys():
    return {"video_rate": ("VIDEO_RATE", 1), "audio_rate": ("AUDIO_RATE", 1), "video_fps": ("VIDEO_FPS", 1),
            "video_nack": ("VIDEO_NACK", 1), "video_pli": ("VIDEO_PLI", 1), "video_lost": ("VIDEO_LOST", 1),
            "audio_lost": ("AUDIO_LOST", 1)}


def read_stream_list(text):
    """What WCSEndpoint does with a stream list's body, then what the exporter does with the streams."""
    data = bounded.loads_json(text, "find_all")
    streams = [s for s in data if isinstance(s, dict)] if isinstance(data, list) else []
    keys = exporter_keys()
    agg = stream_quality.aggregate(streams, keys)
    counters = stream_quality.CounterAccumulator(keys)
    counters.update("wcs-1", streams)
    totals = counters.update("wcs-1", streams)
    rows, _left = stream_quality.per_stream(streams, keys, 5)
    return agg, totals, rows


@SETTINGS
@given(STREAM_LISTS)
def test_stream_lists_give_aggregates_or_the_projects_error(value):
    text = json.dumps(value)
    outcome, result = project_call(read_stream_list, text)
    if outcome == "ok":
        agg, totals, _rows = result
        for groups in (agg["bitrate"], agg["fps"]):
            for quantiles in groups.values():
                assert all(isinstance(v, float) for v in quantiles.values())
        assert all(isinstance(v, float) for v in totals.values())


@SETTINGS
@given(st.binary(max_size=600) | st.text(alphabet='[]{}",:0123456789.eE+-²٣ \\nul', max_size=600))
def test_stream_list_bodies_of_any_bytes(data):
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    project_call(read_stream_list, text)


def test_haproxy_server_a_long_refusal_is_cut_in_the_message(sock_dir):
    """The set command gets a 1 MiB answer (HAProxy answers nothing on success): the message keeps 300 characters."""
    path = os.path.join(sock_dir, "admin.sock")
    calls = []

    class Twice(Peer):
        def _choose(self, request):
            calls.append(request)
            return ("answer", SHOW.encode()) if len(calls) == 1 else ("answer", b"E" * (1 << 20))

    with Twice(unix_path=path):
        answer = run_module("haproxy_server", dict(HAPROXY_ARGS, socket=path))
    assert assert_clean(answer) == "refused" and answer["msg"].startswith("HAProxy refused 'set server wcs/wcs-1")
    assert len(answer["msg"]) < 400

"""bounded: the one reader of answers from outside. Peers on a socketpair or on 127.0.0.1 trickle, flood, send deep
JSON and huge numbers; every read ends within its deadline plus a small slack with BoundedReadError (a PlanError),
and never holds more than its cap."""
from __future__ import annotations

import importlib.util
import json
import resource
import socket
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import bounded
from ansible_collections.mediaops.wcs.plugins.module_utils.bounded import BoundedReadError, Deadline
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

_spec = importlib.util.spec_from_file_location("peers", Path(__file__).resolve().parents[2] / "hostile/peers.py")
peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peers)

SLACK = 1.0
SETTINGS = settings(max_examples=150, deadline=None)


@pytest.fixture
def pair():
    """(ours, theirs) connected sockets; a writer thread plays the peer on ``theirs``."""
    ours, theirs = socket.socketpair()
    stop = threading.Event()
    yield ours, theirs, stop
    stop.set()
    ours.close()
    theirs.close()


def writer(sock, stop, chunks, interval=0.0):
    def run():
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                sock.sendall(chunk)
                if interval:
                    stop.wait(interval)
        except OSError:
            pass
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def endless(chunk, limit=40.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        yield chunk


# -- the deadline is total, not per receive --------------------------------------------------------------------------
def test_a_trickling_peer_ends_at_the_deadline(pair):
    ours, theirs, stop = pair
    writer(theirs, stop, endless(b"x"), interval=0.3)  # each receive gets a byte well within any per-recv timeout
    start = time.monotonic()
    with pytest.raises(BoundedReadError, match="within 1.5 s") as err:
        bounded.read_socket(ours, 1.5, what="trickle")
    took = time.monotonic() - start
    assert 1.5 <= took < 1.5 + SLACK, took
    assert isinstance(err.value, PlanError) and err.value.what == "trickle" and err.value.limit == 1.5


def test_a_silent_peer_ends_at_the_deadline(pair):
    ours, _theirs, _stop = pair
    start = time.monotonic()
    with pytest.raises(BoundedReadError, match="total deadline"):
        bounded.read_socket(ours, 0.5)
    assert time.monotonic() - start < 0.5 + SLACK


def test_a_flood_stops_at_the_cap_without_keeping_more(pair):
    ours, theirs, stop = pair
    writer(theirs, stop, endless(b"y" * 65536))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(BoundedReadError, match="longer than 1048576 bytes"):
        bounded.read_socket(ours, 10, max_bytes=1 << 20)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 64 * 1024, grown_kib


def test_a_complete_answer_within_the_bounds_is_read_whole(pair):
    ours, theirs, stop = pair
    writer(theirs, stop, [b"a" * 1000, b"b" * 24]).join()
    theirs.shutdown(socket.SHUT_WR)
    assert bounded.read_socket(ours, 2, max_bytes=1024) == b"a" * 1000 + b"b" * 24


def test_exactly_the_cap_is_allowed_one_byte_more_is_not(pair):
    ours, theirs, stop = pair
    writer(theirs, stop, [b"z" * 1025]).join()
    theirs.shutdown(socket.SHUT_WR)
    with pytest.raises(BoundedReadError):
        bounded.read_socket(ours, 2, max_bytes=1024)


def test_a_shared_deadline_is_spent_once():
    deadline = Deadline(0.3)
    time.sleep(0.35)
    with pytest.raises(BoundedReadError):
        deadline.left()
    assert Deadline.of(deadline) is deadline and Deadline.of(2).seconds == 2.0


@pytest.mark.parametrize("value", [0, -1, "²", "1e9", float("nan"), float("inf"), 10 ** 40, True, None, "3 s"])
def test_timeouts_outside_the_range_are_refused(value):
    with pytest.raises(BoundedReadError) as err:
        bounded.check_timeout(value)
    assert err.value.field == "timeout" and "Fix: give seconds" in str(err.value)


def test_read_file_caps(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"q" * 2000)
    assert len(bounded.read_path(path, 2000)) == 2000
    with pytest.raises(BoundedReadError, match="longer than 1999"):
        bounded.read_path(path, 1999)


# -- JSON ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["[" * 200000 + "]" * 200000, '{"a":' * 100 + "1" + "}" * 100, "[" * 200000])
def test_deep_json_is_refused_before_the_parser_recurses(text):
    start = time.monotonic()
    with pytest.raises(BoundedReadError, match="deeper than 64"):
        bounded.loads_json(text)
    assert time.monotonic() - start < 2


def test_depth_is_counted_outside_strings_only():
    text = json.dumps({"s": "[" * 5000 + "{" * 100 + '\\"[', "l": [[[1]]]})
    assert bounded.json_depth(text) == 4
    assert bounded.loads_json(text)["l"] == [[[1]]]
    assert bounded.loads_json("[" * 64 + "]" * 64) is not None
    with pytest.raises(BoundedReadError):
        bounded.loads_json("[" * 65 + "]" * 65)


def test_the_depth_scan_is_linear_on_escaped_quotes():
    text = '"\\"' * 500000  # every quote opens a string that an escape keeps open: no rescans
    start = time.monotonic()
    with pytest.raises(BoundedReadError, match="not JSON"):
        bounded.loads_json(text)
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("text", ["1" * 5000, "[%s]" % ("9" * 31), '{"n": -%s}' % ("1" * 4301)])
def test_huge_integers_are_refused_before_int(text):
    with pytest.raises(BoundedReadError, match="more than 30 digits"):
        bounded.loads_json(text)


def test_long_float_literals_are_refused():
    with pytest.raises(BoundedReadError, match="longer than 64"):
        bounded.loads_json("1." + "5" * 5000)
    assert bounded.loads_json("[1.5, 2e3, %s]" % ("9" * 30)) == [1.5, 2000.0, int("9" * 30)]


@pytest.mark.parametrize("text", ["", "<html>", "{", '{"a": }', b"\xff\xfe[1]", "[1] x"])
def test_what_is_not_json_is_the_projects_error(text):
    with pytest.raises(BoundedReadError, match="not JSON"):
        bounded.loads_json(text)


@SETTINGS
@given(st.binary(max_size=2000) | st.text(alphabet="[]{}\",:0123456789.eE+- \\tnul", max_size=2000))
def test_json_of_any_bytes_is_a_value_or_the_projects_error(data):
    try:
        bounded.loads_json(data)
    except BoundedReadError:
        pass


# -- numbers -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [("12", 12), (" -3 ", -3), ("+7", 7), (b"42", 42), (5, 5)])
def test_parse_int(text, value):
    assert bounded.parse_int(text, "x") == value


@pytest.mark.parametrize("text", ["²", "٣", "1²", "1_000", "0x10", "", " ", "1.0", "1" * 31, True, 1.0, None,
                                  "1\x1c", "\u20281"])
def test_parse_int_reads_ascii_digits_only(text):
    with pytest.raises(BoundedReadError) as err:
        bounded.parse_int(text, "status_code")
    assert err.value.field == "status_code"


def test_parse_int_bounds():
    assert bounded.parse_int("599", "s", 100, 599) == 599
    with pytest.raises(BoundedReadError, match="outside 100..599"):
        bounded.parse_int("600", "s", 100, 599)
    with pytest.raises(BoundedReadError, match="more than 30 digits"):
        bounded.parse_int(int("9" * 40), "s")


@pytest.mark.parametrize("text, value", [("1.5", 1.5), ("2e3", 2000.0), (".5", 0.5), ("7", 7.0), (3, 3.0)])
def test_parse_float(text, value):
    assert bounded.parse_float(text, "x") == value


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1e999", "١.٥", "²", "1" * 65, "0x1p3", float("nan")])
def test_parse_float_refuses_non_ascii_and_non_finite(text):
    with pytest.raises(BoundedReadError):
        bounded.parse_float(text, "x")
    assert bounded.number_or_none(text) is None


@SETTINGS
@given(st.one_of(st.text(max_size=80), st.integers(), st.floats(), st.none(), st.booleans(), st.binary(max_size=40)))
def test_number_parsers_give_a_value_or_the_projects_error(value):
    for parse in (bounded.parse_int, bounded.parse_float):
        try:
            parse(value, "x")
        except BoundedReadError:
            pass


# -- HTTP ----------------------------------------------------------------------------------------------------------
def get(peer, timeout=1.5, **kw):
    return bounded.http_request("GET", "/?action=stat", port=peer.port, timeout=timeout, **kw)


def test_http_answer_is_read():
    with peers.Peer(data=peers.http_answer("connections=1\n")) as peer:
        resp = get(peer)
    assert (resp["status"], resp["body"]) == (200, "connections=1\n")
    assert b"Connection: close" in peer.requests[0]


@pytest.mark.parametrize("prefix", [b"", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n",
                                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n"])
def test_http_trickle_ends_at_the_total_deadline(prefix):
    with peers.Peer("trickle", prefix, interval=0.2) as peer:
        start = time.monotonic()
        with pytest.raises(BoundedReadError, match="within 1.5 s"):
            get(peer)
        assert time.monotonic() - start < 1.5 + SLACK


@pytest.mark.parametrize("prefix", [b"HTTP/1.1 200 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nX-A: ",
                                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\n"])
def test_http_flood_is_refused_at_the_cap(prefix):
    with peers.Peer("flood", prefix) as peer:
        with pytest.raises((BoundedReadError, OSError)) as err:
            get(peer, timeout=10, max_bytes=1 << 20)
    assert "longer than 1048576" in str(err.value) or "no valid HTTP answer" in str(err.value)


@pytest.mark.parametrize("answer", [b"garbage\r\n\r\n", b"HTTP/1.1 \xc2\xb200 OK\r\n\r\n", b"HTTP/1.1 99999 X\r\n\r\n",
                                    b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\nabc",
                                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"\xc2\xb2" + b"\r\n",
                                    b""])
def test_bad_http_answers_are_oserror_not_a_traceback(answer):
    with peers.Peer(data=answer) as peer:
        try:
            resp = get(peer)
        except OSError as exc:
            assert "no valid HTTP answer" in str(exc) or "Connection" in str(exc), exc
        else:
            assert resp["status"] == 200 and resp["body"] == "abc"  # an unreadable length reads until close


def test_http_over_a_unix_socket(tmp_path):
    path = str(tmp_path / "engine.sock")
    with peers.Peer(data=peers.http_answer('[{"Names": ["/wcs-1"]}]'), unix_path=path):
        resp = bounded.http_request("GET", "/containers/json", host="localhost", timeout=2,
                                    connect=bounded.unix_connector(path))
    assert bounded.loads_json(resp["body"]) == [{"Names": ["/wcs-1"]}]


def test_nothing_listening_is_oserror():
    with peers.Peer() as peer:
        port = peer.port
    with pytest.raises(OSError):
        bounded.http_request("GET", "/", port=port, timeout=1)


@pytest.mark.parametrize("host, path", [("127.0.0.1", "/a b"), ("127.0.0.1", "/\u00e9"), ("127.0.0.1", "/x\r\nX: y"),
                                        ("bad\nhost", "/")])
def test_requests_that_cannot_be_sent_are_oserror(host, path):
    with pytest.raises(OSError, match="cannot"):
        bounded.http_request("GET", path, host=host, port=9, timeout=1)

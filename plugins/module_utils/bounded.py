# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stdlib: the one bounded reader of every answer from outside (HAProxy's admin socket, WCS's HTTP port, the
Docker engine's socket for the exporter) and the checked conversions of what such an answer holds.

Every read has a **total deadline** (``Deadline``: an absolute monotonic end; each receive waits at most what is
left of it, so a peer that trickles one byte at a time still ends at the deadline) and a **size cap** (the read
stops and fails at the first byte past it, nothing past it is kept). JSON is loaded only after a scan of its
bracket depth (``MAX_JSON_DEPTH``) and with integer literals capped in digits before ``int()`` (``MAX_INT_DIGITS``;
Python's own 4300-digit ``ValueError`` is never reached). ``parse_int`` / ``parse_float`` read numbers of ASCII
digits only (``'²'.isdigit()`` is true, ``int('²')`` fails, ``int('٣')`` is 3: none of them is a number here).

Every failure is ``BoundedReadError`` (a ``PlanError``: field = what was read, value = the limit), which callers
turn into a clean module failure, ``wcs_up 0`` or a logged scrape error. Nothing else escapes the functions here
(an ``OSError`` of the connection itself is the caller's ``unavailable``, see ``http_request``).
"""
from __future__ import annotations

import http.client
import io
import itertools
import ipaddress
import json
import math
import re
import socket
import threading
import time

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

DEFAULT_MAX_BYTES = 4 * 1024 * 1024   # an HTTP answer or an admin-socket answer
MAX_JSON_DEPTH = 64                     # nesting of arrays/objects in a JSON answer
MAX_INT_DIGITS = 30                     # digits of an integer (a Java long has 19)
MAX_NUMBER_CHARS = 64                   # characters of a non-integer number literal
MAX_TIMEOUT = 86400.0                   # seconds: a timeout given by a user (finite, fits the C timeval)
MIN_TIMEOUT = 0.001

_ASCII_INT = re.compile(r"\A[+-]?[0-9]+\Z")
_ASCII_FLOAT = re.compile(r"\A[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
# What the depth scan keeps of a JSON text: only brackets outside strings. A string runs to its closing quote or,
# unterminated, to the end of the text (so each quote is looked at once: no quadratic rescans).
_JSON_NOT_BRACKET = re.compile(r'"[^"\\]*(?:\\[\s\S][^"\\]*)*(?:"|\\?\Z)|[^\[\]{}"]+')
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BoundedReadError(PlanError):
    """An answer from outside broke a bound: the deadline, the size cap, the JSON depth, the digits of a number, or
    it is not what it must be. ``what`` names the answer, ``limit`` the bound (or the offending value)."""

    def __init__(self, what, limit, why, fix="check what answers there; the bound protects the caller"):
        self.what = what
        self.limit = limit
        self.field, self.value, self.fix, self.why = what, limit, fix, why
        super(PlanError, self).__init__("%s: %s. Fix: %s" % (what, why, fix))  # its own message, not PlanError's


# ---------------------------------------------------------------------------------------------------------------
# Numbers and timeouts
# ---------------------------------------------------------------------------------------------------------------
def _short(value, size=60):
    text = repr(value)
    return text if len(text) <= size else text[:size] + "...(%d characters)" % len(text)


def parse_int(value, what, lo=None, hi=None, max_digits=MAX_INT_DIGITS):
    """An int of ``value``: an int (not a bool), or text of ASCII digits with an optional sign and blanks around,
    at most ``max_digits`` digits, within [lo, hi]. BoundedReadError otherwise."""
    if isinstance(value, bool):
        raise BoundedReadError(what, value, "%s is not a whole number" % _short(value))
    if isinstance(value, int):
        number = value
        if abs(number).bit_length() > max_digits * 4 or len(str(abs(number))) > max_digits:
            raise BoundedReadError(what, max_digits, "a whole number of more than %d digits" % max_digits)
    elif isinstance(value, (str, bytes)):
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
        text = text.strip(" \t\r\n")
        if not _ASCII_INT.match(text):
            raise BoundedReadError(what, value, "%s is not a whole number of ASCII digits" % _short(value))
        if len(text.lstrip("+-")) > max_digits:
            raise BoundedReadError(what, max_digits, "%s has more than %d digits" % (_short(value), max_digits))
        number = int(text)
    else:
        raise BoundedReadError(what, type(value).__name__, "%s is not a whole number" % _short(value))
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise BoundedReadError(what, value, "%s is outside %s..%s" % (number, lo, hi))
    return number


def parse_float(value, what, lo=None, hi=None, max_chars=MAX_NUMBER_CHARS):
    """A finite float of ``value``: an int or float (not a bool), or text of ASCII digits (sign, decimals,
    exponent), at most ``max_chars`` characters, within [lo, hi]. NaN and infinities are refused."""
    if isinstance(value, bool):
        raise BoundedReadError(what, value, "%s is not a number" % _short(value))
    if isinstance(value, int):
        parse_int(value, what)  # digits capped
        number = float(value)
    elif isinstance(value, float):
        number = value
    elif isinstance(value, (str, bytes)):
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
        text = text.strip(" \t\r\n")
        if len(text) > max_chars:
            raise BoundedReadError(what, max_chars, "%s is longer than %d characters" % (_short(value), max_chars))
        if not _ASCII_FLOAT.match(text):
            raise BoundedReadError(what, value, "%s is not a number of ASCII digits" % _short(value))
        number = float(text)
    else:
        raise BoundedReadError(what, type(value).__name__, "%s is not a number" % _short(value))
    if not math.isfinite(number):
        raise BoundedReadError(what, value, "%s is not a finite number" % _short(value))
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise BoundedReadError(what, value, "%s is outside %s..%s" % (number, lo, hi))
    return number


def check_timeout(value, what="timeout", lo=MIN_TIMEOUT, hi=MAX_TIMEOUT):
    """Seconds of a timeout given by a user: a finite number in [lo, hi] (ASCII digits when text)."""
    try:
        return parse_float(value, what, lo, hi)
    except BoundedReadError as err:
        raise BoundedReadError(what, value, err.why, fix="give seconds between %g and %g" % (lo, hi)) from None


def number_or_none(value):
    """A finite float of a number or numeric ASCII text, else None (never an exception): for figures read from an
    answer where a garbled value is simply left out."""
    try:
        return parse_float(value, "number")
    except BoundedReadError:
        return None


# ---------------------------------------------------------------------------------------------------------------
# The deadline
# ---------------------------------------------------------------------------------------------------------------
class Deadline:
    """A total deadline: ``seconds`` from now (monotonic). One Deadline may be shared by several reads (a scrape's
    page and stream list), each read then gets what is left."""

    def __init__(self, seconds, what="answer"):
        self.seconds = check_timeout(seconds)
        self.what = what
        self.end = time.monotonic() + self.seconds

    @classmethod
    def of(cls, timeout, what="answer"):
        """``timeout`` itself when it is a Deadline, else a new Deadline of that many seconds."""
        return timeout if isinstance(timeout, Deadline) else cls(timeout, what)

    def remaining(self):
        return self.end - time.monotonic()

    def left(self, what=None):
        """Seconds left (> 0); BoundedReadError when the deadline has passed."""
        left = self.remaining()
        if left <= 0:
            raise self.expired(what)
        return left

    def expired(self, what=None):
        return BoundedReadError(what or self.what, self.seconds,
                                "no complete answer within %g s (the total deadline)" % self.seconds,
                                fix="check the peer (it answers too slowly or never ends its answer), or raise the "
                                    "timeout")

    def __repr__(self):
        return "Deadline(%g s, %.3f s left)" % (self.seconds, self.remaining())


def too_big(what, max_bytes):
    return BoundedReadError(what, max_bytes, "the answer is longer than %d bytes" % max_bytes,
                            fix="check the peer (it sends more than any answer of this kind holds)")


# ---------------------------------------------------------------------------------------------------------------
# Reading a socket / a file object
# ---------------------------------------------------------------------------------------------------------------
class BoundedRaw(io.RawIOBase):
    """A raw, read-only stream over a socket: each receive waits at most what is left of ``deadline`` and the
    total never passes ``max_bytes`` (BoundedReadError at the first byte past it)."""

    def __init__(self, sock, deadline, max_bytes, what):
        super().__init__()
        self.sock = sock
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.what = what
        self.count = 0

    def readable(self):
        return True

    def readinto(self, buf):
        want = min(len(buf), self.max_bytes - self.count + 1)
        if want <= 0:
            raise too_big(self.what, self.max_bytes)
        self.sock.settimeout(self.deadline.left(self.what))
        try:
            got = self.sock.recv_into(buf, want)
        except socket.timeout:
            raise self.deadline.expired(self.what) from None
        self.count += got
        if self.count > self.max_bytes:
            raise too_big(self.what, self.max_bytes)
        return got


def read_socket(sock, deadline, max_bytes=DEFAULT_MAX_BYTES, what="answer"):
    """Bytes from ``sock`` until the peer closes, within ``deadline`` (a Deadline or seconds) and ``max_bytes``.
    OSError of the socket itself propagates; a broken bound is BoundedReadError."""
    deadline = Deadline.of(deadline, what)
    raw = BoundedRaw(sock, deadline, max_bytes, what)
    chunks = []
    buf = bytearray(65536)
    while True:
        got = raw.readinto(buf)
        if not got:
            return b"".join(chunks)
        chunks.append(bytes(buf[:got]))


def read_file(handle, max_bytes=DEFAULT_MAX_BYTES, what="file"):
    """The content of an open file object (text or binary), at most ``max_bytes`` (BoundedReadError past it)."""
    data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_big(what, max_bytes)
    return data


def read_path(path, max_bytes=DEFAULT_MAX_BYTES, what=None):
    """The text of the file at ``path`` (UTF-8), at most ``max_bytes``. OSError when it cannot be opened."""
    with open(path, "rb") as handle:
        data = read_file(handle, max_bytes, what or str(path))
    return data.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------------------------
def json_depth(text):
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count). For text
    that is not valid JSON it is at least the depth that the JSON parser would reach before its error."""
    brackets = _JSON_NOT_BRACKET.sub("", text)
    if not brackets:
        return 0
    return max(itertools.chain((0,), itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets))))


def loads_json(text, what="answer", max_depth=MAX_JSON_DEPTH, max_digits=MAX_INT_DIGITS,
               max_bytes=DEFAULT_MAX_BYTES):
    """``json.loads`` of an answer, within bounds: at most ``max_bytes``, nesting at most ``max_depth``, integers
    of at most ``max_digits`` digits, other numbers of at most MAX_NUMBER_CHARS characters. BoundedReadError for
    a broken bound and for text that is not JSON."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        raise BoundedReadError(what, type(text).__name__, "the answer is not text")
    if len(text) > max_bytes:
        raise too_big(what, max_bytes)
    depth = json_depth(text)
    if depth > max_depth:
        raise BoundedReadError(what, max_depth, "the JSON nests deeper than %d levels" % max_depth)

    def integer(literal):
        if len(literal.lstrip("-")) > max_digits:
            raise BoundedReadError(what, max_digits, "a number in the JSON has more than %d digits (%s)"
                                   % (max_digits, _short(literal)))
        return int(literal)

    def number(literal):
        if len(literal) > MAX_NUMBER_CHARS:
            raise BoundedReadError(what, MAX_NUMBER_CHARS, "a number in the JSON is longer than %d characters (%s)"
                                   % (MAX_NUMBER_CHARS, _short(literal)))
        return float(literal)

    try:
        return json.loads(text, parse_int=integer, parse_float=number)
    except RecursionError:  # pragma: no cover - the depth scan comes first
        raise BoundedReadError(what, max_depth, "the JSON nests too deep") from None
    except ValueError as exc:
        if isinstance(exc, BoundedReadError):
            raise
        raise BoundedReadError(what, _short(text[:80]), "the answer is not JSON (%s)" % exc,
                               fix="check what answers there (a JSON document is expected)") from None


# ---------------------------------------------------------------------------------------------------------------
# HTTP over a bounded socket (stdlib http.client parses; every byte it reads passes BoundedRaw)
# ---------------------------------------------------------------------------------------------------------------
class _BoundedSocket:
    """What http.client needs of a socket (sendall, makefile, close, setsockopt), with every read bounded."""

    def __init__(self, sock, deadline, max_bytes, what):
        self._sock = sock
        self._raw = BoundedRaw(sock, deadline, max_bytes, what)
        self._deadline = deadline
        self._what = what

    def sendall(self, data):
        self._sock.settimeout(self._deadline.left(self._what))
        try:
            self._sock.sendall(data)
        except socket.timeout:
            raise self._deadline.expired(self._what) from None

    def makefile(self, mode="rb", *args, **kw):
        if "r" not in mode:
            raise ValueError("a bounded socket only reads")
        return io.BufferedReader(self._raw, 8192)

    def setsockopt(self, *args):
        return self._sock.setsockopt(*args)

    def close(self):
        """Nothing: http.client closes the connection while the response still reads from it; http_request
        closes the socket when it is done."""


class _BoundedConnection(http.client.HTTPConnection):
    def __init__(self, host, port, deadline, max_bytes, what, connect):
        super().__init__(host, port, timeout=deadline.left(what))
        self._deadline = deadline
        self._max_bytes = max_bytes
        self._what = what
        self._connect = connect
        self.opened = []

    def connect(self):
        sock = self._connect(self._deadline)
        self.opened.append(sock)
        self.sock = _BoundedSocket(sock, self._deadline, self._max_bytes, self._what)


def resolve(host, port, deadline, what="address"):
    """getaddrinfo within the deadline (a name lookup that hangs ends at it): [(family, sockaddr)]."""
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    if literal:
        return [(socket.AF_INET6 if ":" in host else socket.AF_INET, (host, port))]
    out = {}

    def lookup():
        try:
            out["ok"] = [(fam, addr) for fam, _t, _p, _c, addr in
                         socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except OSError as exc:
            out["error"] = exc

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(deadline.left(what))
    if thread.is_alive():
        raise deadline.expired("%s (name lookup of %s)" % (what, host))
    if "error" in out:
        raise out["error"]
    return out["ok"]


def connect_within(sock, address, deadline, what="answer"):
    """``sock`` connected to ``address`` within ``deadline`` (the project's error when it runs out); the socket is
    closed on any failure. Every connector (TCP, unix, a container's namespace) connects through here."""
    try:
        sock.settimeout(deadline.left(what))
        sock.connect(address)
    except socket.timeout:
        sock.close()
        raise deadline.expired(what) from None
    except BaseException:
        sock.close()
        raise
    return sock


def tcp_connector(host, port, what="answer"):
    """A connect(deadline) -> socket for ``host:port`` from here (name lookup and connect within the deadline)."""
    def connect(deadline):
        error = None
        for family, addr in resolve(host, port, deadline, what):
            try:
                return connect_within(socket.socket(family, socket.SOCK_STREAM), addr, deadline, what)
            except OSError as exc:  # the next address; a timeout is not an OSError here, it ends the call
                error = exc
        raise error or OSError("no address for %s" % host)
    return connect


def unix_connector(path, what="answer"):
    """A connect(deadline) -> socket for the unix socket ``path``."""
    def connect(deadline):
        return connect_within(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), path, deadline, what)
    return connect


def http_request(method, path, host="127.0.0.1", port=80, body=None, headers=None, timeout=5.0,
                 max_bytes=DEFAULT_MAX_BYTES, connect=None, what=None):
    """One HTTP/1.1 request (``Connection: close``); {status, reason, headers, body (text)}.

    ``timeout`` (seconds or a Deadline) bounds the whole exchange - name lookup, connect, sending, the status
    line, the headers, the body - and ``max_bytes`` everything received. ``connect(deadline)`` returns the
    connected socket (default: TCP to host:port; ``unix_connector`` for a unix socket, netns_http for a
    container's namespace). BoundedReadError when a bound breaks; OSError when no connection / no HTTP answer
    came (http.client's own errors included, as OSError)."""
    what = what or "%s http://%s:%s%s" % (method, host, port, path)
    deadline = Deadline.of(timeout, what)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers = dict(headers or {}, **{"Content-Type": "application/json"})
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        conn = _BoundedConnection(host, port, deadline, max_bytes, what, connect or tcp_connector(host, port, what))
    except (http.client.HTTPException, ValueError) as exc:
        raise OSError("cannot ask %s (%s)" % (_short(host), exc)) from None
    try:
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}, Connection="close"))
        except (http.client.InvalidURL, UnicodeError) as exc:
            raise OSError("cannot send this request (%s: %s)" % (type(exc).__name__, _short(str(exc), 200))) from None
        resp = conn.getresponse()
        data = resp.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise too_big(what, max_bytes)
        reason = str(resp.reason or "")[:200]
        head = {}
        for key, value in resp.getheaders()[:100]:
            head[str(key)[:200]] = str(value)[:2000]
        return {"status": resp.status, "reason": reason, "headers": head, "body": data.decode("utf-8", "replace")}
    except BoundedReadError:
        raise
    except http.client.HTTPException as exc:
        raise OSError("no valid HTTP answer (%s: %s)" % (type(exc).__name__, _short(str(exc), 200))) from None
    except (ValueError, OverflowError) as exc:
        # http.client's own conversions of what the peer sent; never past the caps above
        raise OSError("no valid HTTP answer (%s: %s)" % (type(exc).__name__, _short(str(exc), 200))) from None
    finally:
        conn.close()
        for sock in conn.opened:
            sock.close()

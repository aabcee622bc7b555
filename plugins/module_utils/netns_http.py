# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stdlib: one HTTP request made from inside a container's network namespace, read through the bounded reader.

The host cannot reach its own ipvlan/macvlan containers through the parent interface, so health checks ask from
inside. A network namespace belongs to a thread, and a socket to the namespace it was created in: a short-lived
thread of our own enters ``/proc/<pid>/ns/net`` (``setns``), creates the socket, goes back and ends; the caller
then connects that socket to ``127.0.0.1:<port>`` of the container and reads the answer with ``bounded``
(a total deadline, a size cap). No fork: nothing to bound in a child, and nothing of the fork-in-a-threaded-process
hazards (Python 3.12+ warns; the exporter is threaded). The process's own threads never change namespace. Needs
root (CAP_SYS_ADMIN) on the host that runs the container; nothing on the host's network changes.
"""
from __future__ import annotations

import ctypes
import ipaddress
import os
import socket
import threading

from ansible_collections.mediaops.wcs.plugins.module_utils import bounded

CLONE_NEWNET = 0x40000000
MAX_BODY = bounded.DEFAULT_MAX_BYTES


class NetnsHTTPError(Exception):
    """The request could not be made or got no usable answer (the reason is the message). ``bound`` is the
    ``bounded.BoundedReadError`` when the answer broke a bound (too slow in total, too long), else None."""

    def __init__(self, message, bound=None):
        super().__init__(message)
        self.bound = bound


_LIBC = []


def _setns(fd):
    setns = getattr(os, "setns", None)  # Python 3.12+
    if setns is not None:
        setns(fd, CLONE_NEWNET)
        return
    if not _LIBC:
        libc = ctypes.CDLL(None, use_errno=True)  # the symbols of the running process, libc's among them
        if not hasattr(libc, "setns"):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
        _LIBC.append(libc)
    if _LIBC[0].setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: %s" % os.strerror(err))


def _own_netns_path():
    if os.path.exists("/proc/thread-self/ns/net"):
        return "/proc/thread-self/ns/net"
    return "/proc/self/task/%d/ns/net" % threading.get_native_id()


def netns_socket(pid, family=socket.AF_INET, deadline=None):
    """A TCP socket created inside process ``pid``'s network namespace (by a thread that enters it and ends)."""
    out = {}

    def make():
        try:
            target = os.open("/proc/%d/ns/net" % pid, os.O_RDONLY | os.O_CLOEXEC)
            try:
                own = os.open(_own_netns_path(), os.O_RDONLY | os.O_CLOEXEC)
                try:
                    _setns(target)
                    try:
                        out["sock"] = socket.socket(family, socket.SOCK_STREAM)
                    finally:
                        _setns(own)  # should it fail, this thread ends here anyway: no other thread moved
                finally:
                    os.close(own)
            finally:
                os.close(target)
        except OSError as exc:
            out["error"] = exc
            sock = out.pop("sock", None)
            if sock is not None:
                sock.close()

    thread = threading.Thread(target=make, name="netns-%d" % pid, daemon=True)
    thread.start()
    thread.join(deadline.left() if deadline is not None else 10.0)
    if thread.is_alive():  # pragma: no cover - opening a /proc file and socket() do not block
        raise OSError("entering the network namespace of pid %d did not finish" % pid)
    if "error" in out:
        raise OSError("setns into the network namespace of pid %d: %s" % (pid, out["error"]))
    return out["sock"]


def netns_connector(pid, host, port, what):
    """A connect(deadline) for bounded.http_request: a socket made in ``pid``'s namespace, connected to
    ``host:port`` there (an address literal: no name lookup happens inside a container's namespace)."""
    address = ipaddress.ip_address(host)

    def connect(deadline):
        sock = netns_socket(pid, socket.AF_INET6 if address.version == 6 else socket.AF_INET, deadline)
        return bounded.connect_within(sock, (str(address), port), deadline, what)
    return connect


def request(method, path, port, host="127.0.0.1", pid=None, body=None, headers=None, timeout=5.0,
            max_bytes=MAX_BODY):
    """Makes one HTTP request and returns {status, reason, headers, body}.

    With ``pid`` the request is made from inside that process's network namespace (``host`` is then an address
    there, usually 127.0.0.1, the container's own loopback); without it, directly from here. ``timeout`` (seconds
    or a ``bounded.Deadline``) is the total time for the whole exchange and ``max_bytes`` caps the answer.
    Raises NetnsHTTPError when no usable HTTP answer came (refused, namespace gone, too slow in total, too long;
    ``.bound`` holds the BoundedReadError of a broken bound)."""
    if pid is None:
        where = "%s %s:%s%s" % (method, host, port, path)
        connect = None
    else:
        try:
            pid = bounded.parse_int(pid, "pid", lo=1, max_digits=10)
        except bounded.BoundedReadError as exc:
            raise NetnsHTTPError(str(exc), exc)
        where = "%s %s:%s%s inside pid %d's namespace" % (method, host, port, path, pid)
        if not os.path.exists("/proc/%d/ns/net" % pid):
            raise NetnsHTTPError("process %d is gone (container not running?)" % pid)
        try:
            connect = netns_connector(pid, host, port, where)
        except ValueError:
            raise NetnsHTTPError("%s: inside a namespace the host must be an address, not %r" % (where, host))
    try:
        return bounded.http_request(method, path, host=host, port=port, body=body, headers=headers,
                                    timeout=timeout, max_bytes=max_bytes, connect=connect, what=where)
    except bounded.BoundedReadError as exc:
        raise NetnsHTTPError(str(exc), exc)
    except OSError as exc:
        raise NetnsHTTPError("%s: %s" % (where, exc))

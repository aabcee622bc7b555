# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stdlib: one HTTP request made from inside a container's network namespace.

The host cannot reach its own ipvlan/macvlan containers through the parent interface, so health checks ask from
inside: fork, ``setns(/proc/<pid>/ns/net)`` in the child (a process-wide change the parent must not see), connect
to ``127.0.0.1:<port>`` there, and hand the response back over a pipe. Needs root (CAP_SYS_ADMIN) on the host
that runs the container; nothing on the host's network changes.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import http.client
import json
import os
import select
import time

CLONE_NEWNET = 0x40000000
MAX_BODY = 4 * 1024 * 1024


class NetnsHTTPError(Exception):
    """The request could not be made or got no answer (the reason is the message)."""


def _setns(pid):
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fd = os.open("/proc/%d/ns/net" % pid, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns into the network namespace of pid %d: %s" % (pid, os.strerror(err)))
    finally:
        os.close(fd)


def _request(host, port, method, path, body, headers, timeout):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read(MAX_BODY)
        return {"status": resp.status, "reason": resp.reason,
                "headers": dict(resp.getheaders()), "body": data.decode("utf-8", "replace")}
    finally:
        conn.close()


def request(method, path, port, host="127.0.0.1", pid=None, body=None, headers=None, timeout=5.0):
    """Makes one HTTP request and returns {status, reason, headers, body}.

    With ``pid`` the request is made from inside that process's network namespace (``host`` is then usually
    127.0.0.1, the container's own loopback); without it, directly from here. Raises NetnsHTTPError when no
    HTTP answer came (refused, timed out, namespace gone).
    """
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers = dict(headers or {}, **{"Content-Type": "application/json"})
    if pid is None:
        try:
            return _request(host, port, method, path, body, headers, timeout)
        except (OSError, http.client.HTTPException) as exc:
            raise NetnsHTTPError("%s %s:%s%s: %s" % (method, host, port, path, exc))

    if not os.path.exists("/proc/%d/ns/net" % pid):
        raise NetnsHTTPError("process %d is gone (container not running?)" % pid)
    read_fd, write_fd = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child; its result travels through the pipe
        os.close(read_fd)
        try:
            _setns(pid)
            out = {"ok": _request(host, port, method, path, body, headers, timeout)}
        except Exception as exc:  # noqa: BLE001 - any failure is reported to the parent as text
            out = {"error": "%s: %s" % (type(exc).__name__, exc)}
        data = json.dumps(out).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
        os._exit(0)

    os.close(write_fd)
    chunks = []
    deadline = time.monotonic() + timeout + 5
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(child, 9)
                raise NetnsHTTPError("no answer within %ss from pid %d's namespace" % (timeout, pid))
            readable = select.select([read_fd], [], [], left)[0]
            if not readable:
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(child, 0)
    try:
        out = json.loads(b"".join(chunks).decode() or "{}")
    except ValueError:
        raise NetnsHTTPError("garbled answer from the helper process")
    if "ok" not in out:
        raise NetnsHTTPError("%s 127.0.0.1:%s%s inside pid %d's namespace: %s"
                             % (method, port, path, pid, out.get("error", "no answer")))
    return out["ok"]

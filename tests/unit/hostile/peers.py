"""Hostile peers for the bounded-read tests (issue 20): a server on loopback (TCP 127.0.0.1 or a UNIX socket) that
answers every connection the way a hostile HAProxy or WCS would - trickling, flooding, sending garbage - in a
thread of the test process, bounded in time itself (every connection ends after ``max_seconds``) and stopped by
the test (``with Peer(...) as peer``)."""
from __future__ import annotations

import socket
import threading
import time


def http_answer(body, status=b"200 OK", headers=b""):
    """An HTTP/1.1 answer with a Content-Length."""
    body = body.encode() if isinstance(body, str) else body
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\n" + headers
            + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


class Peer:
    """``mode``: "answer" (send ``data`` and close), "trickle" (``data``, then one byte every ``interval`` s until
    the client goes), "flood" (``data``, then endless bytes until the client goes), "silent" (accept, read, say
    nothing), "hold" (``data``, then keep the connection open without a byte more)."""

    def __init__(self, mode="answer", data=b"", interval=0.3, unix_path=None, max_seconds=20.0, fill=b"x",
                 routes=None):
        """``routes``: {path prefix: (mode, data)} chosen by the HTTP request line (else ``mode``, ``data``)."""
        self.mode, self.data, self.interval, self.fill = mode, data, interval, fill
        self.routes = routes or {}
        self.max_seconds = max_seconds
        self.unix_path = unix_path
        self.requests = []
        self.sent = 0
        self._stop = threading.Event()
        self._threads = []
        if unix_path:
            self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.server.bind(unix_path)
        else:
            self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.server.bind(("127.0.0.1", 0))
            self.port = self.server.getsockname()[1]
        self.server.listen(16)
        self.server.settimeout(0.1)
        self._accept = threading.Thread(target=self._loop, daemon=True)
        self._accept.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        self._accept.join(5)
        for thread in self._threads:
            thread.join(5)
        self.server.close()

    def _loop(self):
        while not self._stop.is_set():
            try:
                conn = self.server.accept()[0]
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read_request(self, conn):
        conn.settimeout(0.2)
        got = b""
        while b"\r\n\r\n" not in got and b"\n" not in got[-1:] and len(got) < 65536:
            try:
                chunk = conn.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
        head, _sep, rest = got.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                want = int(line.split(b":")[1]) - len(rest)
                while want > 0:
                    try:
                        chunk = conn.recv(want)
                    except socket.timeout:
                        break
                    if not chunk:
                        break
                    want -= len(chunk)
        self.requests.append(got)
        return got

    def _choose(self, request):
        words = request.split(b" ", 2)
        path = words[1].decode("latin-1") if len(words) > 1 else ""
        for prefix, choice in self.routes.items():
            if path.startswith(prefix):
                return choice
        return self.mode, self.data

    def _serve(self, conn):
        end = time.monotonic() + self.max_seconds
        try:
            mode, data = self._choose(self._read_request(conn))
            conn.settimeout(1.0)
            if data:
                conn.sendall(data)
                self.sent += len(data)
            if mode == "trickle":
                while not self._stop.is_set() and time.monotonic() < end:
                    conn.sendall(self.fill[:1])
                    self.sent += 1
                    self._stop.wait(self.interval)
            elif mode == "flood":
                block = (self.fill * (65536 // len(self.fill) + 1))[:65536]
                while not self._stop.is_set() and time.monotonic() < end:
                    conn.sendall(block)
                    self.sent += len(block)
            elif mode in ("silent", "hold"):
                self._stop.wait(max(0.0, end - time.monotonic()))
        except OSError:
            pass  # the client went away: what a bounded reader does
        finally:
            conn.close()

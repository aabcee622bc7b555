# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy runtime API (the admin socket): a server's administrative state, read and set.

Pure Python (stdlib only). ``show servers state <backend>`` is parsed by the header line it prints (format 1), the
admin state is read from ``srv_admin_state`` bits (HAProxy's SRV_ADMF_*: 0x01 forced maintenance, 0x08 forced
drain; 0x02/0x04/0x10/0x20/0x40 are inherited or resolver states that ``set server`` does not clear), and the one
command that changes it is ``set server <backend>/<server> state ready|drain|maint``. Names are checked before
they are written to the socket, so nothing typed can add a second command.

The answer is read with ``bounded`` (a total deadline - a socket that trickles ends at it - and a size cap,
MAX_ANSWER_BYTES), and parsed defensively: an answer without the columns the state needs, or with values that are
not numbers of ASCII digits, is a HAProxyError that says so, never a traceback.
"""
from __future__ import annotations

import re
import socket

from ansible_collections.mediaops.wcs.plugins.module_utils import bounded
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

STATES = ("ready", "drain", "maint")
ADMF_FMAINT, ADMF_FDRAIN = 0x01, 0x08
# HAProxy's proxy and server names: letters, digits, '-', '_', '.', ':' (cfgparse's invalid_char()).
_NAME = re.compile(r"\A[A-Za-z0-9_.:-]{1,128}\Z")
# The columns server_state needs in the '#' header line of `show servers state`.
NEEDED = ("srv_name", "srv_op_state", "srv_admin_state")
# `show servers state <backend>` is one line of ~150 bytes per server: 4 MiB is tens of thousands of servers.
MAX_ANSWER_BYTES = bounded.DEFAULT_MAX_BYTES


class HAProxyError(RuntimeError):
    pass


def check_name(value, field):
    if not isinstance(value, str) or not _NAME.match(value):
        raise PlanError(field, value, "give the name as haproxy.cfg has it (letters, digits, '-', '_', '.', ':')")
    return value


def admin_state(bits):
    """'maint', 'drain' or 'ready' for the forced bits of ``srv_admin_state``."""
    if bits & ADMF_FMAINT:
        return "maint"
    if bits & ADMF_FDRAIN:
        return "drain"
    return "ready"


def parse_servers_state(text):
    """``show servers state`` output -> {server name: {field: value}} (fields named by the '#' header line)."""
    lines = [line for line in text.split("\n") if line.strip()]
    header = next((line[1:].split() for line in lines if line.startswith("#")), None)
    if header is None:
        raise HAProxyError("unexpected answer to 'show servers state': %r" % text.strip()[:300])
    missing = [name for name in NEEDED if name not in header]
    if missing:
        raise HAProxyError("the answer to 'show servers state' has no %s column (header: %r)"
                           % (", ".join(missing), " ".join(header)[:300]))
    servers = {}
    for line in lines:
        if line.startswith("#") or len(line.split()) < len(header):
            continue  # the format version line, or a short line
        row = dict(zip(header, line.split()))
        servers[row["srv_name"]] = row
    return servers


def server_state(text, server):
    """(admin state, operational state number, raw admin bits) of ``server`` in ``show servers state`` output."""
    servers = parse_servers_state(text)
    if server not in servers:
        names = sorted(servers)
        known = ", ".join(names[:20]) + (" and %d more" % (len(names) - 20) if len(names) > 20 else "") or "none"
        raise HAProxyError("no server %s in that backend (servers: %s)" % (server, known))
    row = servers[server]
    try:
        bits = bounded.parse_int(row["srv_admin_state"], "srv_admin_state", lo=0, max_digits=10)
        op_state = bounded.parse_int(row["srv_op_state"], "srv_op_state", lo=0, max_digits=10)
    except bounded.BoundedReadError as err:
        raise HAProxyError("server %s in 'show servers state': %s" % (server, err.why))
    return admin_state(bits), op_state, bits


def set_command(backend, server, state):
    if state not in STATES:
        raise PlanError("state", state, "use one of %s" % ", ".join(STATES))
    return "set server %s/%s state %s" % (check_name(backend, "backend"), check_name(server, "server"), state)


def run(socket_path, command, timeout=10, max_bytes=MAX_ANSWER_BYTES):
    """One command over the admin socket (non-interactive: HAProxy answers and closes); returns the answer.
    ``timeout`` (seconds or a bounded.Deadline) is the total time for connect, send and the whole answer; an
    answer longer than ``max_bytes`` is refused. Every failure is a HAProxyError."""
    if "\n" in command or "\r" in command or ";" in command:
        raise HAProxyError("refusing a command with a line break or ';': %r" % command)
    what = "admin socket %s, answer to '%s'" % (socket_path, command[:80])
    try:
        deadline = bounded.Deadline.of(timeout, what)
        sock = bounded.unix_connector(socket_path, what)(deadline)
    except bounded.BoundedReadError as err:
        raise HAProxyError(str(err))
    except (OSError, ValueError) as err:
        raise HAProxyError("admin socket %s: %s" % (socket_path, err))
    try:
        sock.settimeout(deadline.left(what))
        sock.sendall(command.encode() + b"\n")
        data = bounded.read_socket(sock, deadline, max_bytes, what)
    except bounded.BoundedReadError as err:
        raise HAProxyError(str(err))
    except socket.timeout:
        raise HAProxyError(str(deadline.expired(what)))
    except OSError as err:
        raise HAProxyError("admin socket %s: %s" % (socket_path, err))
    finally:
        sock.close()
    return data.decode("utf-8", "replace")

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy runtime API (the admin socket): a server's administrative state, read and set.

Pure Python (stdlib only). ``show servers state <backend>`` is parsed by the header line it prints (format 1), the
admin state is read from ``srv_admin_state`` bits (HAProxy's SRV_ADMF_*: 0x01 forced maintenance, 0x08 forced
drain; 0x02/0x04/0x10/0x20/0x40 are inherited or resolver states that ``set server`` does not clear), and the one
command that changes it is ``set server <backend>/<server> state ready|drain|maint``. Names are checked before
they are written to the socket, so nothing typed can add a second command.
"""
from __future__ import annotations

import re
import socket

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

STATES = ("ready", "drain", "maint")
ADMF_FMAINT, ADMF_FDRAIN = 0x01, 0x08
# HAProxy's proxy and server names: letters, digits, '-', '_', '.', ':' (cfgparse's invalid_char()).
_NAME = re.compile(r"\A[A-Za-z0-9_.:-]{1,128}\Z")


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
    lines = [line for line in text.splitlines() if line.strip()]
    header = next((line[1:].split() for line in lines if line.startswith("#")), None)
    if header is None:
        raise HAProxyError("unexpected answer to 'show servers state': %s" % text.strip()[:300])
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
        known = ", ".join(sorted(servers)) or "none"
        raise HAProxyError("no server %s in that backend (servers: %s)" % (server, known))
    row = servers[server]
    bits = int(row["srv_admin_state"])
    return admin_state(bits), int(row["srv_op_state"]), bits


def set_command(backend, server, state):
    if state not in STATES:
        raise PlanError("state", state, "use one of %s" % ", ".join(STATES))
    return "set server %s/%s state %s" % (check_name(backend, "backend"), check_name(server, "server"), state)


def run(socket_path, command, timeout=10):
    """One command over the admin socket (non-interactive: HAProxy answers and closes); returns the answer."""
    if "\n" in command or "\r" in command or ";" in command:
        raise HAProxyError("refusing a command with a line break or ';': %r" % command)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(socket_path)
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    except OSError as err:
        raise HAProxyError("admin socket %s: %s" % (socket_path, err))
    finally:
        sock.close()
    return b"".join(chunks).decode("utf-8", "replace")

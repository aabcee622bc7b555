"""HAProxy runtime API helpers: parsing what HAProxy 2.6 (Debian 12) answers, and the one command we send."""
from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.haproxy import (
    HAProxyError, admin_state, parse_servers_state, run, server_state, set_command)

# `show servers state wcs` of haproxy 2.6.12 (Debian 12): wcs-1 after `set server wcs/wcs-1 state drain`, wcs-2 down
SHOW = """1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight \
srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state \
bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr \
srv_agent_port
2 wcs 1 wcs-1 127.0.0.1 2 8 1 1 0 1 0 2 0 0 0 0 - 1 - 0 0 - - 0
2 wcs 2 wcs-2 127.0.0.1 0 0 1 1 1 8 2 0 6 0 0 0 - 2 - 0 0 - - 0

"""


def test_parse_and_state():
    servers = parse_servers_state(SHOW)
    assert sorted(servers) == ["wcs-1", "wcs-2"]
    assert servers["wcs-1"]["srv_addr"] == "127.0.0.1"
    assert server_state(SHOW, "wcs-1") == ("drain", 2, 8)
    assert server_state(SHOW, "wcs-2") == ("ready", 0, 0)


@pytest.mark.parametrize("bits,state", [(0, "ready"), (0x08, "drain"), (0x01, "maint"), (0x09, "maint"),
                                        (0x10, "ready"), (0x02, "ready"), (0x20, "ready")])
def test_admin_state_reads_the_forced_bits(bits, state):
    assert admin_state(bits) == state


def test_unknown_server_and_backend():
    with pytest.raises(HAProxyError, match="no server wcs-9 in that backend .servers: wcs-1, wcs-2"):
        server_state(SHOW, "wcs-9")
    with pytest.raises(HAProxyError, match="Can't find backend"):
        parse_servers_state("Can't find backend.\n\n")


def test_set_command_checks_names():
    assert set_command("wcs", "wcs-1", "drain") == "set server wcs/wcs-1 state drain"
    for backend, server, state, field in (("wcs", "a;b", "ready", "server"), ("w cs", "a", "ready", "backend"),
                                          ("wcs", "a\nshutdown sessions", "ready", "server"),
                                          ("wcs", "a", "up", "state")):
        with pytest.raises(PlanError) as err:
            set_command(backend, server, state)
        assert err.value.field == field


def test_run_over_a_unix_socket(tmp_path):
    path = str(tmp_path / "s")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    got = []

    def serve():
        conn = srv.accept()[0]
        got.append(conn.recv(100))
        conn.sendall(b"No such server.\n\n")
        conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    assert run(path, "set server a/b state ready") == "No such server.\n\n"
    thread.join()
    srv.close()
    assert got == [b"set server a/b state ready\n"]
    with pytest.raises(HAProxyError, match="admin socket"):
        run(str(tmp_path / "missing"), "show info")
    with pytest.raises(HAProxyError, match="line break"):
        run(path, "show info\nshutdown frontend fe")


@pytest.mark.parametrize("text, match", [
    ("1\n# be_id be_name srv_id\n2 wcs 1\n", "no srv_name, srv_op_state, srv_admin_state column"),
    ("1\n# srv_name srv_op_state\nwcs-1 2\n", "no srv_admin_state column"),
    ("1\n# srv_name srv_op_state srv_admin_state\nwcs-1 2 \u00b2\n", "not a whole number"),
    ("1\n# srv_name srv_op_state srv_admin_state\nwcs-1 %s 0\n" % ("1" * 5000), "more than 10 digits"),
])
def test_answers_without_the_columns_or_numbers_are_haproxy_errors(text, match):
    with pytest.raises(HAProxyError, match=match):
        server_state(text, "wcs-1")


def test_run_ends_at_its_total_deadline_and_cap(tmp_path):
    import time
    path = str(tmp_path / "t")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(2)
    stop = threading.Event()

    def serve(flood):
        conn = srv.accept()[0]
        conn.recv(100)
        try:
            while not stop.is_set():
                conn.sendall(b"x" * 65536 if flood else b"x")
                if not flood:
                    stop.wait(0.3)
        except OSError:
            pass
        conn.close()

    for flood, match in ((False, "within 1 s"), (True, "longer than 100000 bytes")):
        thread = threading.Thread(target=serve, args=(flood,))
        thread.start()
        start = time.monotonic()
        with pytest.raises(HAProxyError, match=match):
            run(path, "show servers state wcs", timeout=1, max_bytes=100000)
        assert time.monotonic() - start < 2
        stop.set()
        thread.join()
        stop.clear()
    srv.close()

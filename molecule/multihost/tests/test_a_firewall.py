"""(a) After site: the firewall is in every container's network namespace, and the "internet" (the machine's side
of each host's uplink, which holds the block's gateway address) reaches ws but not the REST API."""
from __future__ import annotations

import socket
import subprocess

import pytest

from helpers import HOSTS, container_name, host, hostvars, inspect


def nft_list(pid):
    return subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % pid, "nft", "list", "table", "inet", "mediaops_wcs"],
                          capture_output=True, text=True, timeout=20, check=False)


def connect(address, port):
    try:
        socket.create_connection((address, port), timeout=1.5).close()
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "timeout"


@pytest.mark.parametrize("name", HOSTS)
def test_rules_in_the_container_namespace(name):
    h = host(name)
    c = inspect(h, container_name(name))
    out = nft_list(c["State"]["Pid"])
    assert out.returncode == 0, out.stderr
    host_address = hostvars(h)["wcs_network_block"].split("/")[0].rsplit(".", 1)
    admin = "%s.%d" % (host_address[0], int(host_address[1]) + 2)  # the plan's host address: the default admin
    assert "policy drop" in out.stdout and "tcp dport { 8080, 8443 } counter" in out.stdout
    assert "ip saddr %s tcp dport { 22, 2001, 8081," % admin in out.stdout, out.stdout


@pytest.mark.parametrize("name", HOSTS)
def test_internet_reaches_ws_not_rest(name):
    c = inspect(host(name), container_name(name))
    address = c["NetworkSettings"]["Networks"]["wcs-mh-net"]["IPAddress"]
    assert connect(address, 8080) == "open"
    assert connect(address, 8081) == "timeout"
    assert connect(address, 2001) == "timeout"

"""Fixtures of the firewall/ area: names `wcst-fw-*`, veth `wcstf0` (host side, the macvlan parent) whose peer lives
in netns `wcstf-up` (the "internet": router 198.51.100.161 and an admin machine 198.51.100.166), subnet
198.51.100.160/29 for the containers, bridge `wcstfbr0` 198.51.100.168/29 of a private dockerd of our own (so the
tests can restart the engine), all inside 198.51.100.160/28.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fwhelpers import ADMIN, ENGINE_SOCK, INTERNET, NETNS, PARENT, PREFIX, ROOT, Engine, sh  # noqa: E402


@pytest.fixture(scope="session")
def fw_engine():
    """(docker_host, Engine, client): the private engine with the emulator built into it (from this checkout)."""
    engine = Engine()
    client = engine.start()
    try:
        for leftover in client.containers.list(all=True):
            leftover.remove(force=True)
        for net in client.networks.list():
            if net.name.startswith(PREFIX):
                net.remove()
        subprocess.run([str(ROOT / "tests/emulator/build.sh")], check=True, capture_output=True,
                       env=dict(os.environ, DOCKER_HOST=ENGINE_SOCK))
        yield ENGINE_SOCK, engine, client
    finally:
        try:
            c = docker.DockerClient(base_url=ENGINE_SOCK, timeout=30, version="1.41")
            for leftover in c.containers.list(all=True):
                leftover.remove(force=True)
            for net in c.networks.list():
                if net.name.startswith(PREFIX):
                    net.remove()
            c.close()
        except Exception:  # noqa: BLE001 - engine already down
            pass
        engine.down()  # the daemon, its bridge, its directories and data: nothing left on the machine


@pytest.fixture(scope="session")
def internet():
    """veth wcstf0 (host side, macvlan parent, no address) <-> wcstf0-up in netns wcstf-up holding the router's and
    the admin machine's addresses."""
    sh("ip", "netns", "del", NETNS, check=False)
    sh("ip", "link", "del", PARENT, check=False)
    sh("ip", "netns", "add", NETNS)
    try:
        sh("ip", "link", "add", PARENT, "type", "veth", "peer", "name", PARENT + "-up")
        sh("ip", "link", "set", PARENT + "-up", "netns", NETNS)
        sh("ip", "link", "set", PARENT, "up")
        for cidr in (INTERNET + "/29", ADMIN + "/29"):
            sh("ip", "-n", NETNS, "addr", "add", cidr, "dev", PARENT + "-up")
        sh("ip", "-n", NETNS, "link", "set", PARENT + "-up", "up")
        sh("ip", "-n", NETNS, "link", "set", "lo", "up")
        yield NETNS
    finally:
        sh("ip", "link", "del", PARENT, check=False)
        sh("ip", "netns", "del", NETNS, check=False)

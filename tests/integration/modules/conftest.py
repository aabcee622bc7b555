"""Fixtures of the modules/ area: names `wcst-mod-*`, veths `wcstm*`, subnets from 198.51.100.64/26 in /28s
(.64 and .80 for containers, .96 and .112 for networks)."""
from __future__ import annotations

import docker
import pytest

PREFIX = "wcst-mod-"
MANAGED = "mediaops.wcs.managed"


@pytest.fixture
def cleanup(docker_client):
    """Removes the `wcst-mod-*` containers and networks a test made (containers first)."""
    names = {"networks": [], "containers": []}

    def register(kind, name):
        assert name.startswith(PREFIX), name
        names[kind].append(name)
        return name

    yield register
    for name in names["containers"]:
        try:
            docker_client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass
    for name in names["networks"]:
        try:
            docker_client.networks.get(name).remove()
        except docker.errors.NotFound:
            pass


@pytest.fixture
def macvlan_net(module, veth_parent, cleanup):
    """Factory: a macvlan network on its own veth parent, via the module under test."""

    def make(name, veth, subnet, gateway):
        parent = veth_parent(veth)
        cleanup("networks", name)
        res = module("ipvlan_network", dict(name=name, driver="macvlan", parent=parent, subnet=subnet,
                                            gateway=gateway))
        assert not res.get("failed"), res.get("msg")
        return name

    return make

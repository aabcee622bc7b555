"""Fixtures of the modules/ area: names `wcst-mod-*`, veths `wcstm*`, subnets from 198.51.100.64/26 in /28s
(.64 and .80 for containers, .96 and .112 for networks)."""
from __future__ import annotations

import docker
import labkit
import pytest
from ansible_collections.mediaops.wcs.plugins.module_utils.constants import MANAGED_LABEL

PREFIX = "wcst-mod-"
MANAGED = MANAGED_LABEL


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


# A private engine for the container tests (tests/labkit.py): wcs_containers works on *every* managed WCS
# container of an engine (cpuset overlap refusal, purge), so on the shared engine it would see, and purge would
# remove, other areas' containers and a running lab. Its default bridge wcstmbr0 holds 198.51.100.124/30.
@pytest.fixture(scope="session")
def private_engine(emulator_image):
    """(docker_host, client) of a dockerd of our own, holding the emulator images."""
    yield from labkit.engine_session("wcstm-eng", "wcstmbr0", "198.51.100.124/30")


@pytest.fixture
def engine(private_engine):
    """Per test: the private engine's (docker_host, client); removes every container and wcst-mod network
    the test left on it."""
    host, client = private_engine
    yield host, client
    for c in client.containers.list(all=True):
        c.remove(force=True)
    for net in client.networks.list():
        if net.name.startswith(PREFIX):
            net.remove()


@pytest.fixture
def conf_dir(tmp_path):
    """Factory: a directory with property files the emulator accepts."""

    def make(name="conf", heap="256m"):
        d = tmp_path / name
        d.mkdir()
        (d / "flashphoner.properties").write_text("media_port_from = 31001\nmedia_port_to = 31100\n")
        (d / "wcs-core.properties").write_text("### JVM OPTIONS ###\n-Xms%s -Xmx%s\n" % (heap, heap))
        d.chmod(0o755)
        return str(d)

    return make

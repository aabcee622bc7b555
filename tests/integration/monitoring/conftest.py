"""Monitoring fixtures: emulator containers on a macvlan network (198.51.100.128/28, parent veth wcstp0, names
wcst-mon-*)."""
from __future__ import annotations

import sys
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from monhelpers import online_cpus  # noqa: E402

SUBNET = "198.51.100.128/28"
GATEWAY = "198.51.100.129"
NETWORK = "wcst-mon-net"
PARENT = "wcstp0"
CONTAINERS = {"wcst-mon-1": "198.51.100.133", "wcst-mon-2": "198.51.100.134"}


@pytest.fixture
def macvlan_containers(docker_client, emulator_image, veth_parent, tmp_path):
    """Two emulator containers on a macvlan network, pinned to the last online CPU, labelled as managed."""
    veth_parent(PARENT)
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "flashphoner.properties").write_text("ip=\nip_local=\nmedia_port_from=31001\nmedia_port_to=32000\n")
    (conf / "wcs-core.properties").write_text("-Xms256m\n-Xmx256m\n")
    for name in CONTAINERS:  # leftovers of an interrupted run of this directory
        try:
            docker_client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass
    try:
        docker_client.networks.get(NETWORK).remove()
    except docker.errors.NotFound:
        pass
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=SUBNET, gateway=GATEWAY)])
    net = docker_client.networks.create(NETWORK, driver="macvlan", options={"parent": PARENT}, ipam=ipam)
    cpuset = str(online_cpus()[-1])
    made = {}
    try:
        for name, address in CONTAINERS.items():
            container = docker_client.containers.create(
                emulator_image, name=name, labels={"mediaops.wcs.managed": "true", "mediaops.wcs.test": "monitoring"},
                cpuset_cpus=cpuset, volumes={str(conf): {"bind": "/conf", "mode": "ro"}}, network=NETWORK)
            made[name] = container
            net.disconnect(container)
            net.connect(container, ipv4_address=address)
            container.start()
        yield {"containers": made, "cpuset": cpuset, "addresses": dict(CONTAINERS)}
    finally:
        for container in made.values():
            container.remove(force=True)
        net.remove()

"""Fixtures of the modules/ area: names `wcst-mod-*`, veths `wcstm*`, subnets from 198.51.100.64/26 in /28s
(.64 and .80 for containers, .96 and .112 for networks)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import docker
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


# A private engine for the container tests: wcs_containers works on *every* managed WCS container of an engine
# (cpuset overlap refusal, purge), so on the shared engine it would see, and purge would remove, other areas'
# containers. This dockerd runs in the host's network namespace (macvlan parents are the fixture's veths, and the
# modules' sysfs parent check sees them) with its own socket, data-root and exec-root, no iptables, and its own
# default bridge `wcstmbr0`. Never `--bridge none` here: a dockerd started that way deletes the `docker0` of its
# network namespace, i.e. the shared engine's bridge. Stopped by its pid afterwards.
ENGINE_DIR = Path("/run/wcstm-eng")
ENGINE_SOCK = "unix://%s/docker.sock" % ENGINE_DIR
ENGINE_DATA = Path("/var/lib/wcstm-eng")
ENGINE_BRIDGE, ENGINE_BRIDGE_CIDR = "wcstmbr0", "198.51.100.124/30"
IMAGES = ("mediaops/wcs-emulator:test", "mediaops/wcs-emulator:next", "mediaops/wcs-emulator:broken")


def _stop_leftover_engine():
    """A private dockerd left by a killed session (its pidfile names it and its command line is ours)."""
    pidfile = ENGINE_DIR / "docker.pid"
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path("/proc/%d/cmdline" % pid).read_bytes()
    except (OSError, ValueError):
        pidfile.unlink(missing_ok=True)
        return
    if b"dockerd" in cmdline and str(ENGINE_DIR).encode() in cmdline:
        os.kill(pid, signal.SIGTERM)
        for _attempt in range(100):
            if not Path("/proc/%d" % pid).exists():
                break
            time.sleep(0.2)
    pidfile.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def private_engine(docker_client, emulator_image):
    """(docker_host, client) of a dockerd of our own, holding the emulator images."""
    ENGINE_DIR.mkdir(parents=True, exist_ok=True)
    ENGINE_DATA.mkdir(parents=True, exist_ok=True)
    (ENGINE_DIR / "daemon.json").write_text("{}")
    _stop_leftover_engine()
    subprocess.run(["ip", "link", "del", ENGINE_BRIDGE], capture_output=True, check=False)
    subprocess.run(["ip", "link", "add", ENGINE_BRIDGE, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", ENGINE_BRIDGE_CIDR, "dev", ENGINE_BRIDGE], check=True)
    log = open("/tmp/wcstm-eng-dockerd.log", "ab")
    proc = subprocess.Popen(
        ["dockerd", "--host", ENGINE_SOCK, "--data-root", str(ENGINE_DATA), "--exec-root", str(ENGINE_DIR / "exec"),
         "--pidfile", str(ENGINE_DIR / "docker.pid"), "--config-file", str(ENGINE_DIR / "daemon.json"),
         "--bridge", ENGINE_BRIDGE, "--iptables=false", "--ip6tables=false", "--ip-masq=false",
         "--ip-forward=false", "--userland-proxy=false", "--exec-opt", "native.cgroupdriver=cgroupfs"],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    client = None
    try:
        client = docker.DockerClient(base_url=ENGINE_SOCK, timeout=60, version="1.41")  # no call until ping
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("private dockerd did not start; see /tmp/wcstm-eng-dockerd.log")
                time.sleep(0.3)
        for leftover in client.containers.list(all=True):  # a previous run that was killed
            leftover.remove(force=True)
        for net in client.networks.list():
            if net.name.startswith(PREFIX):
                net.remove()
        save = subprocess.Popen(["docker", "save"] + list(IMAGES), stdout=subprocess.PIPE)
        subprocess.run(["docker", "-H", ENGINE_SOCK, "load", "-q"], stdin=save.stdout, check=True,
                       capture_output=True)
        save.wait()
        yield ENGINE_SOCK, client
    finally:
        if client is not None:
            client.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        subprocess.run(["ip", "link", "del", ENGINE_BRIDGE], capture_output=True, check=False)


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

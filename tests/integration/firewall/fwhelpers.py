"""Helpers of the firewall/ area (constants, the private engine, probes from the "internet" namespace)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import docker
import labkit

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "wcst-fw-"
NETNS = "wcstf-up"
PARENT = "wcstf0"
SUBNET, GATEWAY = "198.51.100.160/29", "198.51.100.161"
INTERNET, ADMIN = "198.51.100.161", "198.51.100.166"
ADDRESSES = {"wcst-fw-1": "198.51.100.164", "wcst-fw-2": "198.51.100.165"}
ENGINE_NAME = "wcstf-eng"
ENGINE_SOCK = "unix:///run/%s/docker.sock" % ENGINE_NAME  # labkit.Engine's socket
ENGINE_BRIDGE, ENGINE_BRIDGE_CIDR = "wcstfbr0", "198.51.100.169/29"


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


class Engine:
    """The area's private dockerd (labkit's, in the machine's namespace on bridge wcstfbr0), stopped and started at
    will by the dockerd-restart test; `down` at the end of the session removes it with its data and bridge."""

    def __init__(self):
        self.engine = labkit.Engine(ENGINE_NAME, bridge=(ENGINE_BRIDGE, ENGINE_BRIDGE_CIDR))

    def start(self):
        self.engine.start().wait()
        return docker.DockerClient(base_url=ENGINE_SOCK, timeout=60, version="1.41")

    def stop(self):
        self.engine.stop()

    def down(self):
        self.engine.down()


PROBE = r"""
import socket, sys
proto, src, dst, port, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.settimeout(timeout)
s.bind((src, 0))
try:
    s.connect((dst, port))
    if proto == "tcp":
        s.settimeout(1.5)
        try:
            data = s.recv(64)
        except socket.timeout:
            data = b""
        print("open " + data.decode("ascii", "replace").splitlines()[0] if data else "open")
    else:
        s.send(b"wcstf-probe")
        s.recv(64)  # nothing listens on the media ports: an ICMP port-unreachable means the packet got in
        print("open answered")
except ConnectionRefusedError:
    print("refused")  # TCP RST or ICMP port unreachable: the packet reached the container's stack
except (socket.timeout, TimeoutError):
    print("timeout")  # dropped on the way in
"""


def probe(proto, dst, port, src=INTERNET, timeout=1.5):
    """What a client in the "internet" namespace sees: 'open[ banner]', 'refused' (reached the container, nothing
    listens) or 'timeout' (dropped)."""
    out = subprocess.run(["ip", "netns", "exec", NETNS, sys.executable, "-c", PROBE, proto, src, dst, str(port),
                          str(timeout)], capture_output=True, text=True, timeout=timeout + 10, check=True)
    return out.stdout.strip()

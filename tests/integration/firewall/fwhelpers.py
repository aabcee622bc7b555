"""Helpers of the firewall/ area (constants, the private engine, probes from the "internet" namespace)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "wcst-fw-"
NETNS = "wcstf-up"
PARENT = "wcstf0"
SUBNET, GATEWAY = "198.51.100.160/29", "198.51.100.161"
INTERNET, ADMIN = "198.51.100.161", "198.51.100.166"
ADDRESSES = {"wcst-fw-1": "198.51.100.164", "wcst-fw-2": "198.51.100.165"}
ENGINE_DIR = Path("/run/wcstf-eng")
ENGINE_SOCK = "unix://%s/docker.sock" % ENGINE_DIR
ENGINE_DATA = Path("/var/lib/wcstf-eng")
ENGINE_BRIDGE, ENGINE_BRIDGE_CIDR = "wcstfbr0", "198.51.100.169/29"
LOG = Path("/tmp/wcstf-eng-dockerd.log")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


class Engine:
    """A dockerd of our own in the host's network namespace (stop/start at will: the dockerd-restart test)."""

    def __init__(self):
        self.proc = None

    def _leftover(self):
        pidfile = ENGINE_DIR / "docker.pid"
        try:
            pid = int(pidfile.read_text().strip())
            cmdline = Path("/proc/%d/cmdline" % pid).read_bytes()
        except (OSError, ValueError):
            pidfile.unlink(missing_ok=True)
            return
        if b"dockerd" in cmdline and str(ENGINE_DIR).encode() in cmdline:
            os.kill(pid, signal.SIGTERM)
            for _attempt in range(150):
                if not Path("/proc/%d" % pid).exists():
                    break
                time.sleep(0.2)
        pidfile.unlink(missing_ok=True)

    def start(self):
        ENGINE_DIR.mkdir(parents=True, exist_ok=True)
        ENGINE_DATA.mkdir(parents=True, exist_ok=True)
        (ENGINE_DIR / "daemon.json").write_text("{}")
        self._leftover()
        with open(LOG, "ab") as log:
            self.proc = subprocess.Popen(
                ["dockerd", "--host", ENGINE_SOCK, "--data-root", str(ENGINE_DATA),
                 "--exec-root", str(ENGINE_DIR / "exec"), "--pidfile", str(ENGINE_DIR / "docker.pid"),
                 "--config-file", str(ENGINE_DIR / "daemon.json"), "--bridge", ENGINE_BRIDGE,
                 "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
                 "--userland-proxy=false", "--exec-opt", "native.cgroupdriver=cgroupfs"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        client = docker.DockerClient(base_url=ENGINE_SOCK, timeout=60, version="1.41")
        deadline = time.monotonic() + 40
        while True:
            try:
                client.ping()
                return client
            except Exception:  # noqa: BLE001 - not up yet
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("private dockerd did not start; see %s" % LOG)
                time.sleep(0.3)

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


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

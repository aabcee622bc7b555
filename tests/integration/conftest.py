"""Shared fixtures for tests against the real Docker engine.

Every test names what it creates with its area's prefix (docs/design.md) and removes it afterwards.
Modules are run the way users run them: through `ansible` / `ansible-playbook` with this checkout on the
collections path, results read back as JSON.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_IMAGE = "mediaops/wcs-emulator:test"
for _path in (ROOT / ".collections", ROOT / "tests"):  # the collection, and tests/labkit.py (the lab set-up)
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import labkit  # noqa: E402  pylint: disable=wrong-import-position


def _env():
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".collections")
    env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_DEPRECATION_WARNINGS"] = "0"
    return env


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


@pytest.fixture(scope="session")
def docker_client():
    client = docker.from_env(timeout=60)
    client.ping()
    yield client
    client.close()


@pytest.fixture(scope="session")
def emulator_image(docker_client):
    """Builds the emulator images (healthy, next, broken) if they are missing."""
    try:
        docker_client.images.get(EMULATOR_IMAGE)
    except docker.errors.ImageNotFound:
        subprocess.run([str(ROOT / "tests/emulator/build.sh")], check=True)
    return EMULATOR_IMAGE


@pytest.fixture
def veth_parent():
    """Factory: veth_parent("wcstm1", host_cidr=None, router_cidr=None) -> parent interface name.

    The host side is the parent (optionally holding the host address); with router_cidr the peer is moved into
    its own network namespace (NAME-ns) with that address, playing the upstream router. Removed afterwards.
    """
    links = labkit.Links()
    yield links.veth
    links.remove()


def ipvlan_attach_support(client, image):
    """(supported, reason): tries to attach a container to an ipvlan network on a throwaway veth."""
    name = "wcstchk%s" % uuid.uuid4().hex[:4]
    sh("ip", "link", "add", name, "type", "veth", "peer", "name", name + "p")
    net = None
    try:
        sh("ip", "link", "set", name, "up")
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="192.0.2.0/28")])
        net = client.networks.create("wcst-ipvlan-check-" + name, driver="ipvlan", options={"parent": name}, ipam=ipam)
        c = client.containers.create(image, command=["sleep", "1"], network=net.name)
        try:
            c.start()
            return True, "ipvlan attach works on this kernel"
        except docker.errors.APIError as exc:
            return False, "this kernel cannot attach ipvlan endpoints: %s" % exc.explanation
        finally:
            c.remove(force=True)
    finally:
        if net is not None:
            net.remove()
        sh("ip", "link", "del", name, check=False)


@pytest.fixture(scope="session")
def ipvlan_support(docker_client, emulator_image):
    return ipvlan_attach_support(docker_client, emulator_image)


def run_module(module, args, check=False, diff=False, host="localhost", extra_env=None):
    """Runs one module ad hoc through `ansible`, returns its result dict.

    ansible-core has no `json` stdout callback of its own (that one lives in ansible.posix), so this runs the
    default callback with JSON results at -vvv (the verbosity at which it keeps `diff` and `invocation`) and
    decodes the host's `HOST | STATUS => {...}` block. `_stdout` is the whole -vvv text (for secret greps).
    """
    if "." not in module:
        module = "mediaops.wcs." + module
    cmd = ["ansible", host, "-i", "%s," % host, "-c", "local", "-m", module, "-a", json.dumps(args), "-vvv"]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    env = _env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
    env.update(extra_env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), check=False)
    marker = re.compile(r"^%s \| ([A-Z]+)(!?) => " % re.escape(host), re.M)
    found = list(marker.finditer(proc.stdout))
    try:
        result = json.JSONDecoder().raw_decode(proc.stdout, found[-1].end())[0]
    except (IndexError, ValueError):
        raise AssertionError("ansible printed no JSON result (rc=%s):\n%s\n%s" % (proc.returncode, proc.stdout,
                                                                                  proc.stderr))
    if found[-1].group(2):  # FAILED! / UNREACHABLE!: the callback drops the `failed` key it showed as text
        result.setdefault("failed", True)
    result["_stdout"] = proc.stdout
    result["_stderr"] = proc.stderr
    return result


def run_playbook(playbook, inventory=None, extra_vars=None, check=False, diff=False, limit=None, extra_env=None,
                 timeout=900, prefix=None):
    """Runs ansible-playbook (after the argv ``prefix``, e.g. an unshare wrapper); returns the CompletedProcess
    (stdout has the default callback's text)."""
    cmd = list(prefix or []) + ["ansible-playbook", str(playbook)]
    if inventory:
        cmd += ["-i", str(inventory)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if limit:
        cmd += ["--limit", limit]
    env = _env()
    env.update(extra_env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=timeout, check=False)


@pytest.fixture
def module():
    return run_module


@pytest.fixture
def playbook():
    return run_playbook

"""The AWX project's wrapper playbooks (examples/awx-project/) parse and run against the lab inventory.

Throwaway resources of this area (docs/design.md): block 198.51.100.144/28, prefix wcst-rol-, veth wcstr*, the
area's private engine (conftest.py). The lab inventory is used as shipped; extra vars move it onto those resources
(wcs_docker_host included), as an AWX job template would.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import parse_cpuset

ROOT = Path(__file__).resolve().parents[3]
AWX = ROOT / "examples" / "awx-project"
LAB = ROOT / "inventories" / "lab"
WRAPPERS = ["site", "preflight", "teardown", "rolling_update"]


def recap(stdout):
    match = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", stdout)
    assert match, stdout[-2000:]
    return dict(zip(["ok", "changed", "unreachable", "failed"], map(int, match.groups())))


@pytest.mark.parametrize("name", WRAPPERS)
def test_wrapper_imports_the_collection_playbook(name):
    text = (AWX / ("%s.yml" % name)).read_text()
    assert "ansible.builtin.import_playbook: mediaops.wcs.%s" % name in text


@pytest.mark.parametrize("name", WRAPPERS)
def test_wrapper_parses_against_the_lab_inventory(name):
    if not (ROOT / "playbooks" / ("%s.yml" % name)).exists():
        pytest.skip("playbooks/%s.yml is not in this checkout yet (another part of the collection)" % name)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    cmd = ["ansible-playbook", "--syntax-check", str(AWX / ("%s.yml" % name)), "-i", str(LAB)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_requirements_name_the_collection():
    text = (AWX / "collections" / "requirements.yml").read_text()
    assert "name: mediaops.wcs" in text


@pytest.fixture
def rol_engine(roles_engine):
    """The area's engine, emptied after each test (a failed test's containers and networks)."""
    host, client = roles_engine
    yield host, client
    for container in client.containers.list(all=True, filters={"name": "wcst-rol-"}):
        container.remove(force=True)
    for net in client.networks.list(names=["wcst-rol-net"]):
        net.remove()


@pytest.fixture
def rol_vars(tmp_path, veth_parent, emulator_image, playbook, rol_engine):
    parent = veth_parent("wcstr1", host_cidr="198.51.100.146/28", router_cidr="198.51.100.145/28")
    conf_root = tmp_path / "conf"
    extra = {
        "wcs_name_prefix": "wcst-rol-",
        "wcs_network_name": "wcst-rol-net",
        "wcs_network_parent": parent,
        "wcs_network_block": "198.51.100.144/28",
        "wcs_conf_root": str(conf_root),
        "wcs_image": emulator_image,
        "wcs_docker_host": rol_engine[0],
    }
    yield extra
    # whatever a failed test left behind
    playbook(AWX / "teardown.yml", inventory=LAB, extra_vars=dict(extra, wcs_teardown_conf=True))


def test_wrappers_run_site_idempotent_then_teardown(rol_engine, rol_vars, playbook):
    docker_client = rol_engine[1]
    pre = playbook(AWX / "preflight.yml", inventory=LAB, extra_vars=rol_vars)
    assert pre.returncode == 0, pre.stdout[-3000:]
    assert recap(pre.stdout)["changed"] == 0
    assert not docker_client.containers.list(all=True, filters={"name": "wcst-rol-"})

    first = playbook(AWX / "site.yml", inventory=LAB, extra_vars=rol_vars)
    assert first.returncode == 0, first.stdout[-4000:]
    assert recap(first.stdout)["changed"] > 0
    cpusets = []
    for index, addr in enumerate(["198.51.100.148", "198.51.100.149"], start=1):
        c = docker_client.containers.get("wcst-rol-%d" % index)
        assert c.status == "running"
        assert c.attrs["NetworkSettings"]["Networks"]["wcst-rol-net"]["IPAddress"] == addr
        cpusets.append(set(parse_cpuset(c.attrs["HostConfig"]["CpusetCpus"])))
        conf = Path(rol_vars["wcs_conf_root"]) / ("wcst-rol-%d" % index) / "conf"
        assert "ip=%s\n" % addr in (conf / "flashphoner.properties").read_text()
    assert not cpusets[0] & cpusets[1]

    second = playbook(AWX / "site.yml", inventory=LAB, extra_vars=rol_vars)
    assert second.returncode == 0, second.stdout[-3000:]
    assert recap(second.stdout)["changed"] == 0, second.stdout[-3000:]

    down = playbook(AWX / "teardown.yml", inventory=LAB, extra_vars=rol_vars)
    assert down.returncode == 0, down.stdout[-3000:]
    assert not docker_client.containers.list(all=True, filters={"name": "wcst-rol-"})
    assert not docker_client.networks.list(names=["wcst-rol-net"])
    # conf kept unless asked
    assert (Path(rol_vars["wcs_conf_root"]) / "wcst-rol-1" / "conf" / "flashphoner.properties").exists()
    gone = playbook(AWX / "teardown.yml", inventory=LAB, extra_vars=dict(rol_vars, wcs_teardown_conf=True))
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert not (Path(rol_vars["wcs_conf_root"]) / "wcst-rol-1").exists()


def test_site_refuses_bad_input_before_changing_anything(rol_engine, rol_vars, playbook):
    docker_client = rol_engine[1]
    bad = playbook(AWX / "site.yml", inventory=LAB, extra_vars=dict(rol_vars, wcs_container_count=5))
    assert bad.returncode != 0
    assert "only 2 free cores" in " ".join(bad.stdout.split())
    assert not docker_client.containers.list(all=True, filters={"name": "wcst-rol-"})
    assert not docker_client.networks.list(names=["wcst-rol-net"])
    assert not Path(rol_vars["wcs_conf_root"]).exists()

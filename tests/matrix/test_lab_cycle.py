"""The lab cycle on the ansible-core of this venv (tox.ini: one venv per minor): `mediaops.wcs.site` converges,
a second run changes nothing, `mediaops.wcs.rolling_update` moves the container to the next image, `teardown`
removes it; no run may print a [DEPRECATION WARNING] that names this collection (facts are not injected as
variables here, as from ansible-core 2.24). Driven only through the collection's playbooks and the lab inventory as shipped, extra vars moving it
onto this suite's resources: prefix wcst-mx-, block 198.51.100.176/29, veth wcstx1 (router in netns wcstx1-ns), a
private engine wcstx-eng (bridge wcstxbr0, 198.51.100.184/30) holding the emulator images (tests/labkit.py)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import labkit  # noqa: E402  pylint: disable=wrong-import-position

PREFIX = "wcst-mx-"
BIN = Path(sys.executable).parent
TEST_IMAGE, NEXT_IMAGE = "mediaops/wcs-emulator:test", "mediaops/wcs-emulator:next"


@pytest.fixture(scope="module")
def engine():
    """The suite's engine: the one scripts/test.sh's matrix stage started for every version (WCS_MATRIX_DOCKER_HOST),
    else one of our own for this run."""
    shared = os.environ.get("WCS_MATRIX_DOCKER_HOST")
    if not shared:
        yield from labkit.engine_session("wcstx-eng", "wcstxbr0", "198.51.100.184/30")
        return
    import docker  # pylint: disable=import-outside-toplevel

    client = docker.DockerClient(base_url=shared, timeout=60)
    yield shared, client
    client.close()


@pytest.fixture
def extra(engine, tmp_path):
    links = labkit.Links()
    parent = links.veth("wcstx1", host_cidr="198.51.100.178/29", router_cidr="198.51.100.177/29")
    values = {"wcs_container_count": 1, "wcs_name_prefix": PREFIX, "wcs_network_name": PREFIX + "net",
              "wcs_network_parent": parent, "wcs_network_block": "198.51.100.176/29", "wcs_image": TEST_IMAGE,
              "wcs_docker_host": engine[0], "wcs_conf_root": str(tmp_path / "conf"), "wcs_plan_show": False,
              "wcs_health_interval": 1, "wcs_drain_interval": 1}
    yield values
    playbook("teardown", dict(values, wcs_teardown_conf=True))
    engine[1].containers.prune()
    links.remove()


def playbook(name, extra_vars):
    cmd = [str(BIN / "ansible-playbook"), "mediaops.wcs.%s" % name, "-i", str(ROOT / "inventories/lab"),
           "-e", json.dumps(extra_vars)]
    # deprecation warnings shown, facts not injected as variables (the default from ansible-core 2.24): a warning
    # that names this collection fails the cycle
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="1",
               ANSIBLE_INJECT_FACT_VARS="False", PATH=str(BIN) + os.pathsep + os.environ["PATH"])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=600, check=False)
    found = labkit.collection_deprecations(proc.stdout + proc.stderr)
    assert not found, "mediaops.wcs.%s on this ansible-core: deprecated use in this collection:\n%s" % (
        name, "\n".join(found))
    return proc


def changed(proc):
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    recap = re.search(r"^localhost\s*:\s*ok=\d+\s+changed=(\d+)", proc.stdout, re.M)
    assert recap, proc.stdout[-3000:]
    return int(recap.group(1))


def test_site_idempotence_rolling_update_teardown(engine, extra):
    version = subprocess.run([str(BIN / "ansible"), "--version"], capture_output=True, text=True, check=True)
    print(version.stdout.splitlines()[0])
    client = engine[1]

    assert changed(playbook("site", extra)) > 0
    (container,) = client.containers.list(filters={"name": PREFIX})
    assert container.name == PREFIX + "1" and container.attrs["Config"]["Image"] == TEST_IMAGE
    assert container.attrs["NetworkSettings"]["Networks"][PREFIX + "net"]["IPAddress"].startswith("198.51.100.1")

    assert changed(playbook("site", extra)) == 0

    assert changed(playbook("rolling_update", dict(extra, wcs_rollout_image=NEXT_IMAGE))) > 0
    (updated,) = client.containers.list(filters={"name": PREFIX})
    assert updated.attrs["Config"]["Image"] == NEXT_IMAGE and updated.status == "running"

    assert changed(playbook("teardown", extra)) > 0
    assert not client.containers.list(all=True, filters={"name": PREFIX})

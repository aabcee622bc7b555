"""The AWX project run the way an AWX job runs it: ansible-runner (AWX's engine) with a private data dir, the
project being a copy of examples/awx-project/, the collection installed from the built tarball
(`ansible-galaxy collection build`) into the project's `collections/` dir, and only that on the collections path
(this checkout is not: no ANSIBLE_CONFIG, no .collections). The inventory is the lab's as shipped; the job's extra
vars move it onto this test's resources: prefix wcst-awx-, block 198.51.100.192/29, veth wcsta1, the area's private
engine (conftest.py). Runs site (changes), site again (no change), teardown."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import ansible_runner
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
AWX = ROOT / "examples" / "awx-project"
LAB = ROOT / "inventories" / "lab"
PREFIX = "wcst-awx-"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    proc = subprocess.run([str(galaxy), "collection", "build", "--output-path", str(out), str(ROOT)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (found,) = out.glob("mediaops-wcs-*.tar.gz")
    return found


@pytest.fixture
def job(tmp_path, tarball, veth_parent, emulator_image, roles_engine, monkeypatch):
    """The private data dir of an AWX job: project/ (wrappers + collections/), inventory/, env/extravars."""
    docker_host, client = roles_engine
    data = tmp_path / "runner"
    project = data / "project"
    shutil.copytree(AWX, project)
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    # not this checkout's collection (ANSIBLE_*, and PYTHONPATH holding .collections/)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "PYTHONPATH"}
    clean["ANSIBLE_HOME"] = str(data / "ansible-home")
    proc = subprocess.run([str(galaxy), "collection", "install", "--offline", "-p", str(project / "collections"),
                           str(tarball)], capture_output=True, text=True, env=clean, cwd=str(data), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.copytree(LAB, data / "inventory")
    parent = veth_parent("wcsta1", host_cidr="198.51.100.194/29", router_cidr="198.51.100.193/29")
    extravars = {"wcs_name_prefix": PREFIX, "wcs_network_name": PREFIX + "net", "wcs_network_parent": parent,
                 "wcs_network_block": "198.51.100.192/29", "wcs_conf_root": str(tmp_path / "conf"),
                 "wcs_image": emulator_image, "wcs_docker_host": docker_host, "wcs_plan_show": False,
                 "wcs_teardown_conf": True}
    (data / "env").mkdir()
    (data / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    # as in an AWX job: only the project's collections, the job's own temp dirs; nothing of the checkout's config
    for var in ("ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "PYTHONPATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    envvars = {"ANSIBLE_COLLECTIONS_PATH": str(project / "collections"), "ANSIBLE_NOCOLOR": "1",
               "ANSIBLE_LOCAL_TEMP": str(data / "tmp"), "ANSIBLE_REMOTE_TEMP": str(data / "tmp"),
               "ANSIBLE_HOME": str(data / "ansible-home")}
    yield {"data": data, "project": project, "envvars": envvars, "client": client}
    for container in client.containers.list(all=True, filters={"name": PREFIX}):
        container.remove(force=True)
    for net in client.networks.list(names=[PREFIX + "net"]):
        net.remove()


def run(job, playbook):
    """One job: its artifacts (status, rc, stdout, events) under artifacts/<ident> of the private data dir."""
    job["runs"] = job.get("runs", 0) + 1
    result = ansible_runner.run(private_data_dir=str(job["data"]), playbook=playbook, envvars=job["envvars"],
                                quiet=True, ident="%d-%s" % (job["runs"], Path(playbook).stem))
    stdout = result.stdout.read()
    assert result.status == "successful" and result.rc == 0, stdout[-5000:]
    return result, stdout


def test_awx_job_runs_the_wrappers_from_the_installed_tarball(job):
    installed = job["project"] / "collections" / "ansible_collections" / "mediaops" / "wcs"
    assert (installed / "MANIFEST.json").exists() and not (installed / "tests").exists()

    first, _stdout = run(job, "site.yml")
    assert first.stats["changed"].get("localhost", 0) > 0
    # every role task came from the installed copy, none from this checkout
    paths = {e["event_data"]["task_path"].rsplit(":", 1)[0] for e in first.events
             if e.get("event") == "playbook_on_task_start" and e.get("event_data", {}).get("task_path")}
    role_paths = [p for p in paths if "/roles/" in p]
    assert role_paths and all(p.startswith(str(installed)) for p in role_paths), sorted(paths)
    running = job["client"].containers.list(filters={"name": PREFIX})
    assert sorted(c.name for c in running) == [PREFIX + "1", PREFIX + "2"]
    for c in running:
        assert c.attrs["NetworkSettings"]["Networks"][PREFIX + "net"]["IPAddress"].startswith("198.51.100.19")

    second, out = run(job, "site.yml")
    assert second.stats["changed"].get("localhost", 0) == 0, out[-4000:]

    run(job, "teardown.yml")
    assert not job["client"].containers.list(all=True, filters={"name": PREFIX})
    assert not job["client"].networks.list(names=[PREFIX + "net"])

"""The execution environment as the README builds it (no registry here, so the build context, not the image):
`make build` then `ansible-builder create -f examples/ee/execution-environment.yml`; and the collection's
meta/execution-environment.yml as ansible-builder reads it from an installed copy (`ansible-builder introspect`).
No engine, no network; writes only build/ of the checkout and temp dirs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bindep.depends import Depends

ROOT = Path(__file__).resolve().parents[3]
EE = ROOT / "examples" / "ee" / "execution-environment.yml"
BIN = Path(sys.executable).parent
VERSION = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
TARBALL = "mediaops-wcs-%s.tar.gz" % VERSION


def run(*cmd, cwd=ROOT, env=None):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=str(cwd), env=env, timeout=300,
                          check=False)
    assert proc.returncode == 0, " ".join(map(str, cmd)) + "\n" + proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def built():
    """`make build`'s step: the tarball in build/ of the checkout."""
    run(BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", "build/")
    return ROOT / "build" / TARBALL


def test_the_definition_names_this_version(built):
    ee = yaml.safe_load(EE.read_text())
    assert ee["version"] == 3
    (collection,) = ee["dependencies"]["galaxy"]["collections"]
    assert collection == {"name": "collections/" + TARBALL, "type": "file"}, \
        "examples/ee/execution-environment.yml must name %s (galaxy.yml's version)" % TARBALL
    (extra,) = ee["additional_build_files"]
    assert (EE.parent / extra["src"]).resolve() == built


def test_create_writes_a_build_context_with_the_tarball(built, tmp_path):
    context = tmp_path / "context"
    out = run(BIN / "ansible-builder", "create", "-f", EE, "--context", context)
    assert "Complete" in out
    assert (context / "_build" / "collections" / TARBALL).read_bytes() == built.read_bytes()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements == {"collections": [{"name": "collections/" + TARBALL, "type": "file"}]}
    (instructions,) = [p for p in (context / "Containerfile", context / "Dockerfile") if p.exists()]
    text = instructions.read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/ansible/awx-ee:latest"' in text
    assert "ansible-galaxy collection install" in text and "introspect" in text


def test_introspect_reads_the_installed_collections_dependencies(built, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "PYTHONPATH"}
    env["ANSIBLE_HOME"] = str(tmp_path / "ansible-home")
    run(BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", tmp_path / "collections", built,
        cwd=tmp_path, env=env)
    installed = tmp_path / "collections" / "ansible_collections" / "mediaops" / "wcs"
    assert yaml.safe_load((installed / "meta" / "execution-environment.yml").read_text())["dependencies"] == {
        "python": "requirements.txt", "system": "bindep.txt"}
    found = yaml.safe_load(run(BIN / "ansible-builder", "introspect", "--sanitize", tmp_path / "collections"))
    python = [line.split("#")[0].strip() for line in found["python"]]
    system = [line.split("#")[0].strip() for line in found["system"]]
    assert python == [line for line in (ROOT / "requirements.txt").read_text().splitlines()
                      if line and not line.startswith("#")]
    assert "iproute2 [platform:dpkg]" in system and "iproute [platform:rpm]" in system


@pytest.mark.parametrize("platform, packages", [
    ("dpkg", ["iproute2", "nftables", "util-linux"]),   # Debian, Ubuntu
    ("rpm", ["iproute", "nftables", "util-linux"]),     # RHEL, Fedora, Rocky
])
def test_bindep_names_the_packages_of_each_platform(platform, packages):
    depends = Depends((ROOT / "bindep.txt").read_text())
    rules = depends.active_rules(["platform:" + platform])
    assert sorted(rule[0] for rule in rules) == sorted(packages)

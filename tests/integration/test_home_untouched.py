"""Nothing of the suite lands in the user's home: the environment scripts/test.sh runs in (scripts/test-env.sh,
scripts/venv.sh) points Ansible's and the other tools' state into the checkout, and no Molecule scenario installs
the collection into ~/.ansible/collections (prerun, Galaxy dependency step). The commands run here with an empty
HOME of their own, so the check does not depend on what else runs on this machine."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_never_installs_into_the_home(scenario):
    config = yaml.safe_load((ROOT / "molecule" / scenario / "molecule.yml").read_text())
    assert config.get("prerun") is False, "%s: prerun installs the collection into ~/.ansible/collections" % scenario
    assert config["dependency"]["enabled"] is False, "%s: the Galaxy dependency step" % scenario
    paths = config["provisioner"]["env"]["ANSIBLE_COLLECTIONS_PATH"]
    assert paths == "${MOLECULE_PROJECT_DIRECTORY}/.collections", scenario


def test_ansible_galaxy_and_molecule_leave_an_empty_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    script = """
set -euo pipefail
source scripts/test-env.sh
source scripts/venv.sh
ansible localhost -c local -m ansible.builtin.setup -a 'gather_subset=!all' >/dev/null
ansible-playbook --syntax-check mediaops.wcs.site >/dev/null
ansible-galaxy collection build --force --output-path "$WORK/build" >/dev/null
ansible-galaxy collection install --offline --force -p "$WORK/collections" "$WORK"/build/mediaops-wcs-*.tar.gz >/dev/null
MOLECULE_GLOB='molecule/*/molecule.yml' molecule syntax -s default >/dev/null 2>&1
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "XDG_"))}
    env.update(HOME=str(home), WORK=str(tmp_path))
    proc = subprocess.run(["bash", "-c", script], cwd=str(ROOT), env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (tmp_path / "collections/ansible_collections/mediaops/wcs/MANIFEST.json").exists()
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert not left, "written into the home directory: %s" % left[:20]

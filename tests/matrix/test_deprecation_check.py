"""The suite's deprecation check can fail: on this ansible-core, a playbook of this checkout that reads a fact as an
injected top-level variable prints a [DEPRECATION WARNING] that tests/labkit.collection_deprecations finds (ansible-core
2.20 deprecated INJECT_FACTS_AS_VARS; older versions print nothing, so there the check has nothing to see)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import labkit  # noqa: E402  pylint: disable=wrong-import-position

from ansible.release import __version__ as CORE  # noqa: E402

BIN = Path(sys.executable).parent


def run(inject):
    """inject None: INJECT_FACTS_AS_VARS at its default (the only case ansible-core warns about)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="1",
               PATH=str(BIN) + os.pathsep + os.environ["PATH"])
    env.pop("ANSIBLE_INJECT_FACT_VARS", None)
    if inject is not None:
        env["ANSIBLE_INJECT_FACT_VARS"] = inject
    cmd = [str(BIN / "ansible-playbook"), str(ROOT / "tests/matrix/injected_fact.yml"), "-i", "localhost,",
           "-c", "local", "-e", "fixture_root=%s" % (ROOT / "tests/fixtures/topology/two-cpu"),
           "-e", "ansible_python_interpreter=%s" % sys.executable]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300, check=False)


@pytest.mark.skipif(tuple(int(x) for x in CORE.split(".")[:2]) < (2, 20),
                    reason="ansible-core %s does not deprecate INJECT_FACTS_AS_VARS" % CORE)
def test_an_injected_fact_read_is_caught():
    proc = run(None)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    found = labkit.collection_deprecations(proc.stdout + proc.stderr)
    assert found and "INJECT_FACTS_AS_VARS" in found[0], proc.stdout[-3000:] + proc.stderr[-2000:]


def test_without_injection_the_read_fails():
    """What the suite runs with (ANSIBLE_INJECT_FACT_VARS=False): the deprecated read is an error, not a value."""
    proc = run("False")
    assert proc.returncode != 0 and "wcs_host" in proc.stdout + proc.stderr

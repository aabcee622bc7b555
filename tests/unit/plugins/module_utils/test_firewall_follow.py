"""module_utils/firewall_follow.py as the module installs it: its command line, its systemd unit (quoting), and
that it runs as a program from a directory holding only itself, firewall.py and errors.py (how it is deployed)."""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import firewall_follow as follow

UTILS = Path(follow.__file__).resolve().parent


def exec_start(unit):
    return next(line for line in unit.splitlines() if line.startswith("ExecStart="))[len("ExecStart="):]


def test_argv_names_the_installed_program():
    argv = follow.follower_argv("/usr/bin/python3", "/opt/fw", "/etc/r", "unix:///run/d.sock", "DEBUG")
    assert argv == ["/usr/bin/python3", "/opt/fw/bin/wcs_firewall_follow.py", "--rules-dir=/etc/r",
                    "--docker-host=unix:///run/d.sock", "--log-level=DEBUG"]


@pytest.mark.parametrize("cpus, line", [("", None), ("0", "CPUAffinity=0"), ("0,20", "CPUAffinity=0 20"),
                                        ("0-1,8", "CPUAffinity=0-1 8")])
def test_unit_pins_to_the_reserved_cpus(cpus, line):
    unit = follow.unit_text(["/usr/bin/python3", "/opt/fw/bin/wcs_firewall_follow.py"], cpus)
    affinity = [text for text in unit.splitlines() if text.startswith("CPUAffinity=")]
    assert affinity == ([line] if line else [])
    assert "Restart=always" in unit and unit.endswith("WantedBy=multi-user.target\n")


@given(st.lists(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1), min_size=1,
                max_size=5))
def test_exec_start_words_read_back(words):
    """systemd splits ExecStart like a shell for double quotes and backslashes; '%' and '$' are doubled."""
    line_words = shlex.split(exec_start(follow.unit_text(words)))
    assert [w.replace("%%", "%").replace("$$", "$") for w in line_words] == words


def test_runs_as_a_program_from_its_installed_directory(tmp_path):
    """The module installs it under another name next to firewall.py and errors.py; nothing else is needed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy(UTILS / "firewall_follow.py", bin_dir / follow.PROGRAM)
    for name in follow.SUPPORT:
        shutil.copy(UTILS / (name + ".py"), bin_dir / (name + ".py"))
    out = subprocess.run([sys.executable, "-I", str(bin_dir / follow.PROGRAM), "--once", "--rules-dir",
                          str(tmp_path), "--docker-host", "unix://%s/no.sock" % tmp_path],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 1 and "cannot reach unix://%s/no.sock" % tmp_path in out.stderr, out.stderr

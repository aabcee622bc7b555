"""wcs_firewall keeps the follower in place from its own AnsiballZ payload: the installed program and module_utils
are byte for byte the checkout's, and the systemd way calls systemctl only for what changed. systemd is not PID 1
here, so a recording `systemctl` first on PATH stands in for it (it keeps enabled/active state in files); the
pidfile way runs for real in test_role.py. Private engine, own temporary directories: no lock needed."""
from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from fwhelpers import ENGINE_SOCK, ROOT

UTILS = ROOT / "plugins/module_utils"
FAKE_SYSTEMCTL = """#!/bin/sh
echo "$*" >>{log}
case "$1" in
  is-enabled) [ -f {state}/enabled ] ;;
  is-active) [ -f {state}/active ] ;;
  enable) touch {state}/enabled ;;
  disable) rm -f {state}/enabled {state}/active ;;
  start|restart) touch {state}/active ;;
  show) echo 4242 ;;
esac
"""


@pytest.fixture
def systemd_env(fw_engine, tmp_path):
    bin_dir, state = tmp_path / "fakebin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    log = tmp_path / "systemctl.log"
    log.write_text("")
    fake = bin_dir / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL.format(log=log, state=state))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    args = dict(docker_host=ENGINE_SOCK, containers=[], rules_dir=str(tmp_path / "rules"),
                follower_dir=str(tmp_path / "follow"), service_manager="systemd",
                systemd_dir=str(tmp_path / "units"), follower_cpus="0", follower_python="/usr/bin/python3")
    env = {"PATH": "%s:%s:/usr/local/bin:/usr/bin:/bin" % (bin_dir, Path(sys.executable).parent)}
    return {"args": args, "env": env, "log": log, "tmp": tmp_path}


def calls(env):
    """systemctl calls since the last look, without the read-only ones."""
    lines = env["log"].read_text().splitlines()
    env["log"].write_text("")
    return [line for line in lines if not line.startswith(("is-enabled", "is-active", "show"))]


def test_systemd_install_noop_restart_check_absent(systemd_env, module):
    env = systemd_env
    unit = env["tmp"] / "units" / "wcs-firewall-follow.service"
    first = module("wcs_firewall", env["args"], extra_env=env["env"])
    assert first.get("changed") and not first.get("failed"), first
    assert first["follower"]["state"] == "running" and first["follower"]["pid"] == 4242
    assert calls(env) == ["daemon-reload", "enable wcs-firewall-follow.service", "start wcs-firewall-follow.service"]
    # From the AnsiballZ payload, byte for byte what the checkout holds.
    installed = env["tmp"] / "follow" / "bin"
    assert (installed / "wcs_firewall_follow.py").read_bytes() == (UTILS / "firewall_follow.py").read_bytes()
    for name in ("firewall.py", "errors.py"):
        assert (installed / name).read_bytes() == (UTILS / name).read_bytes(), name
    text = unit.read_text()
    assert "ExecStart=/usr/bin/python3 %s/wcs_firewall_follow.py" % installed in text and "CPUAffinity=0\n" in text

    again = module("wcs_firewall", env["args"], extra_env=env["env"])
    assert again.get("changed") is False and again["follower"]["actions"] == [], again
    assert calls(env) == []

    checked = module("wcs_firewall", dict(env["args"], follower_log_level="DEBUG"), check=True, diff=True,
                     extra_env=env["env"])
    assert checked.get("changed") and checked["follower"]["actions"] == [
        "write %s" % unit, "systemctl daemon-reload", "systemctl restart"], checked["follower"]
    assert any("--log-level=DEBUG" in d.get("after", "") for d in checked["diff"]), checked["diff"]
    assert calls(env) == [] and "--log-level=INFO" in unit.read_text()

    (installed / "errors.py").write_text("# edited by hand\n")
    fixed = module("wcs_firewall", env["args"], extra_env=env["env"])
    assert fixed["follower"]["files_changed"] == [str(installed / "errors.py")], fixed["follower"]
    assert calls(env) == ["restart wcs-firewall-follow.service"]

    gone = module("wcs_firewall", dict(env["args"], state="absent"), extra_env=env["env"])
    assert gone.get("changed") and gone["follower"]["state"] == "absent", gone
    assert calls(env) == ["disable --now wcs-firewall-follow.service", "daemon-reload"]
    assert not unit.exists() and not (env["tmp"] / "follow").exists()


def test_bad_follower_options_name_field_value_and_fix(systemd_env, module):
    env = systemd_env
    out = module("wcs_firewall", dict(env["args"], follower_cpus="3-1"), extra_env=env["env"])
    assert out.get("failed") and "follower_cpus" in out["msg"] and "Fix:" in out["msg"], out
    out = module("wcs_firewall", dict(env["args"], follower_dir="/opt"), extra_env=env["env"])
    assert out.get("failed") and "follower_dir" in out["msg"] and "Fix:" in out["msg"], out
    assert not (env["tmp"] / "follow").exists() and calls(env) == []

"""The firewall role as site runs it (service manager none: the follower as a pidfile process), on the private
engine: apply, a no-op second run that is ONE remote module run (wcs_firewall, which keeps the follower in place
itself), the follower putting the rules back after `docker restart`, and state absent stopping the follower and
removing its files."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import docker
import pytest

from fwhelpers import ENGINE_SOCK, PREFIX

from ansible_collections.mediaops.wcs.plugins.module_utils import pidfile_service

IMAGE = "mediaops/wcs-emulator:test"
NAME = PREFIX + "role-1"


@pytest.fixture
def role_env(fw_engine, tmp_path):
    client = docker.DockerClient(base_url=ENGINE_SOCK, timeout=60, version="1.41")
    conf = tmp_path / "wcs" / NAME / "conf"
    conf.mkdir(parents=True)
    (conf / "flashphoner.properties").write_text("media_port_from=31001\nmedia_port_to=31100\n")
    (conf / "wcs-core.properties").write_text("### JVM OPTIONS ###\n-Xms256m -Xmx256m\n")
    client.containers.run(IMAGE, name=NAME, detach=True, labels={"mediaops.wcs.managed": "true"},
                          volumes={str(conf): {"bind": "/conf", "mode": "ro"}})
    plan = {"docker_host": ENGINE_SOCK, "reserved_cpus": "", "network": {"host_address": "198.51.100.162"},
            "containers": [{"name": NAME, "conf_dir": str(conf)}]}
    extra = {"wcs_plan": plan, "wcs_firewall_base_dir": str(tmp_path / "follow"),
             "wcs_firewall_rules_dir": str(tmp_path / "rules"), "wcs_firewall_service_manager": "none",
             "wcs_firewall_install_packages": False}
    book = tmp_path / "firewall.yml"
    book.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n    - mediaops.wcs.firewall\n")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    yield {"client": client, "extra": extra, "book": book, "inventory": inventory, "tmp": tmp_path}
    # After a failure: stop what the role started, by its pidfile (only if the pid is still the follower).
    pidfile_service.stop(str(tmp_path / "follow" / "run" / "wcs-firewall-follow.pid"),
                         str(tmp_path / "follow" / "bin" / "wcs_firewall_follow.py"))
    try:
        client.containers.get(NAME).remove(force=True)
    except docker.errors.NotFound:
        pass
    client.close()


def has_table(client, name):
    pid = client.api.inspect_container(name)["State"]["Pid"]
    return pid and subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % pid, "nft", "list", "table", "inet",
                                   "mediaops_wcs"], capture_output=True, check=False).returncode == 0


def test_role_present_idempotent_restart_absent(role_env, playbook):
    env = role_env
    first = playbook(env["book"], inventory=env["inventory"], extra_vars=env["extra"])
    assert first.returncode == 0, first.stdout[-3000:]
    assert has_table(env["client"], NAME)
    pidfile = env["tmp"] / "follow" / "run" / "wcs-firewall-follow.pid"
    pid = int(pidfile.read_text())
    assert Path("/proc/%d" % pid).exists()

    # The no-op run: the firewall concern is exactly one remote module run, wcs_firewall (issue 16).
    second = playbook(env["book"], inventory=env["inventory"], extra_vars=env["extra"],
                      extra_env={"ANSIBLE_VERBOSITY": "3"})
    assert second.returncode == 0 and "changed=0" in second.stdout, second.stdout[-3000:]
    modules = [line.rsplit("/", 1)[-1] for line in second.stdout.splitlines() if "Using module file" in line]
    assert modules == ["wcs_firewall.py"], modules
    assert int(pidfile.read_text()) == pid and Path("/proc/%d" % pid).exists()

    env["client"].containers.get(NAME).restart(timeout=5)
    deadline = time.monotonic() + 10
    while not has_table(env["client"], NAME):
        assert time.monotonic() < deadline, "the follower did not put the rules back"
        time.sleep(0.2)

    gone = playbook(env["book"], inventory=env["inventory"], extra_vars=dict(env["extra"], wcs_firewall_state="absent"))
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert not has_table(env["client"], NAME)
    assert not Path("/proc/%d" % pid).exists() or b"wcs_firewall_follow" not in Path("/proc/%d/cmdline" % pid).read_bytes()
    assert not (env["tmp"] / "follow").exists() and not (env["tmp"] / "rules").exists()


def test_role_systemd_unit_rendered(role_env, playbook):
    """Service manager systemd (not PID 1 here): the unit is written, nothing started (manage_services false)."""
    env = role_env
    units = env["tmp"] / "units"
    units.mkdir()
    extra = dict(env["extra"], wcs_firewall_service_manager="systemd", wcs_firewall_manage_services=False,
                 wcs_firewall_systemd_dir=str(units))
    extra["wcs_plan"] = dict(extra["wcs_plan"], reserved_cpus="0")
    run = playbook(env["book"], inventory=env["inventory"], extra_vars=extra)
    assert run.returncode == 0, run.stdout[-3000:]
    unit = (units / "wcs-firewall-follow.service").read_text()
    assert "ExecStart=" in unit and "wcs_firewall_follow.py --rules-dir=%s" % (env["tmp"] / "rules") in unit
    assert "--docker-host=%s" % ENGINE_SOCK in unit and "CPUAffinity=0\n" in unit and "Restart=always" in unit
    assert (env["tmp"] / "follow" / "bin" / "wcs_firewall_follow.py").is_file()
    assert not (env["tmp"] / "follow" / "run" / "wcs-firewall-follow.pid").exists()
    gone = playbook(env["book"], inventory=env["inventory"], extra_vars=dict(extra, wcs_firewall_state="absent"))
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert not (units / "wcs-firewall-follow.service").exists()
    assert not (env["tmp"] / "follow").exists()


def test_role_without_nft_fails_before_anything_changes(role_env, playbook):
    """nft hidden (a private mount namespace binds /dev/null over it): the module fails with nft_missing and
    changes nothing; the role's rescue would install nftables, here it is off, so the run stops with the module's
    own message. The no-op path (test above) never runs the package module."""
    env = role_env
    nft = subprocess.run(["which", "nft"], capture_output=True, text=True, check=True).stdout.strip()
    hide = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind /dev/null "$0" && exec "$@"', nft]
    run = playbook(env["book"], inventory=env["inventory"], extra_vars=env["extra"], prefix=hide,
                   extra_env={"ANSIBLE_VERBOSITY": "3"})
    assert run.returncode != 0, run.stdout[-3000:]
    assert "nft not found on the Docker host" in run.stdout and "nft_missing: true" in run.stdout, run.stdout[-3000:]
    assert "TASK [mediaops.wcs.firewall : Stop here unless nft was only missing]" in run.stdout
    assert "Install nftables" not in run.stdout
    assert not (env["tmp"] / "rules").exists() and not (env["tmp"] / "follow").exists()

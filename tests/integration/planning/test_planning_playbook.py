"""host_facts and the planning filters from a real ansible-playbook run (no engine needed)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import labkit
import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import parse_cpuset
from ansible_collections.mediaops.wcs.plugins.module_utils.topology import read_topology

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "fixtures" / "topology"
CLEAN = {"wcst-plan-a": "203.0.113.0/29", "wcst-plan-b": "203.0.113.8/29"}


def results(stdout):
    """[(host, status, result)] from the minimal callback with JSON result format ("host | STATUS => {...}")."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"^(\S+) \| ([A-Z]+)!? => ", stdout, re.MULTILINE):
        result = decoder.raw_decode(stdout, match.end())[0]
        found.append((match.group(1), match.group(2), result))
    return found


def plans(stdout):
    """The 'Report' task's dicts, by host order."""
    return [json.loads(entry[2]["msg"][len("PLAN "):]) for entry in sorted(results(stdout), key=lambda x: x[0])
            if str(entry[2].get("msg", "")).startswith("PLAN ")]


@pytest.fixture
def run(playbook):
    """run(blocks, check=False, **extra_vars) -> CompletedProcess of planning.yml (conftest's run_playbook)."""
    def go(blocks, check=False, **extra):
        return playbook(HERE / "planning.yml", inventory=HERE / "inventory.yml", check=check,
                        extra_vars=dict({"fixtures": str(FIXTURES), "wcs_blocks": blocks}, **extra),
                        extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
                                   "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    return go


def test_filters_work_from_a_playbook(run):
    proc = run(CLEAN)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = plans(proc.stdout)
    assert len(found) == 2
    live = read_topology("/")
    cores = {tuple(c["siblings"]) for c in live["cpus"]}
    for plan in found:
        assert plan["fleet"] == []
        assert len(plan["live_split"]) == len(cores)  # one container per core of this machine
        assert sorted(c for s in plan["live_split"] for c in parse_cpuset(s)) == [c["id"] for c in live["cpus"]]
        assert re.match(r"^\d+[gm]$", plan["live_heap"])
    assert sorted(p["containers"][0] for p in found) == ["203.0.113.12", "203.0.113.4"]
    assert not [r for host, status, r in results(proc.stdout) if status != "SUCCESS" or r.get("changed")]


def test_host_facts_in_check_mode(run):
    proc = run(CLEAN, check=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(plans(proc.stdout)) == 2


def test_fleet_conflict_is_reported(run):
    proc = run({"wcst-plan-a": "203.0.113.0/29", "wcst-plan-b": "203.0.113.0/29"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fleet = plans(proc.stdout)[0]["fleet"]
    assert len(fleet) == 4
    assert any(m.startswith("203.0.113.4 is planned 2 times") for m in fleet)


def test_plan_error_reaches_the_operator(run):
    proc = run(CLEAN, trigger_error=True)
    assert proc.returncode != 0
    failed = [r for host, status, r in results(proc.stdout) if status == "FAILED"]
    assert len(failed) == 2
    for result in failed:
        assert "mediaops.wcs.cpu_split: count: 2 is wrong: only 1 free cores" in result["msg"]
        assert "reserved=[]" in result["msg"]


# Capacity plan at preflight (issue 13): the preflight playbook on two recorded hosts, no engine.
CAPACITY_HOSTS = {"wcscp-big": ("big-2x10x2", "192.0.2.32/29"), "wcscp-iso": ("isolcpus", "192.0.2.40/29")}


def preflight(playbook, tmp_path, host_vars, audit=False):
    """The preflight playbook on the two recorded hosts; audit None leaves wcs_tuning_audit at its default."""
    hosts = {name: dict({"wcs_host_facts_root": str(FIXTURES / fixture), "wcs_network_block": block,
                         "wcs_network_name": name + "-net"}, **host_vars.get(name, {}))
             for name, (fixture, block) in CAPACITY_HOSTS.items()}
    group_vars = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                  "wcs_name_prefix": "wcscp-", "wcs_network_parent": "eno1", "wcs_plan_check_parent": False}
    if audit is not None:
        group_vars["wcs_tuning_audit"] = audit
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"children": {"wcs_hosts": {"hosts": hosts, "vars": group_vars}}}}))
    return playbook("mediaops.wcs.preflight", inventory=inventory,
                    extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
                               "ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_DEPRECATION_WARNINGS": "1"})


def test_preflight_with_the_defaults_prints_the_audit_table(playbook, tmp_path):
    """wcs_tuning_audit left at its default (on): each host prints the tuning audit of its recorded tree. The
    audit's fact once had the switch's name and turned it off (a dict read as a bool) before the table printed."""
    proc = preflight(playbook, tmp_path, {}, audit=None)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    audits = {host: r["msg"] for host, status, r in results(proc.stdout)
              if isinstance(r.get("msg"), list) and str(r["msg"][0]).startswith("WCS CPUs / housekeeping")}
    assert sorted(audits) == ["wcscp-big", "wcscp-iso"], proc.stdout[-4000:]
    assert any(row.startswith("IRQs on WCS CPUs") for row in audits["wcscp-big"])
    assert not labkit.collection_deprecations(proc.stdout + proc.stderr)
    assert "coerced" not in proc.stderr


def test_preflight_audit_switch_off_prints_no_audit(playbook, tmp_path):
    proc = preflight(playbook, tmp_path, {}, audit=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert not [r for _h, _s, r in results(proc.stdout)
                if isinstance(r.get("msg"), list) and str(r["msg"][0]).startswith("WCS CPUs / housekeeping")]


def test_preflight_shows_capacity_and_accepts_what_fits(playbook, tmp_path):
    proc = preflight(playbook, tmp_path, {"wcscp-big": {"wcs_expected_streams": 900},
                                          "wcscp-iso": {"wcs_expected_streams": {"wcscp-1": 300, "wcscp-2": 200}}})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    tables = {host: r["msg"] for host, status, r in results(proc.stdout)
              if isinstance(r.get("msg"), list) and str(r["msg"][0]).startswith("name ")}
    assert sorted(tables) == ["wcscp-big", "wcscp-iso"]
    for table in tables.values():
        assert table[0].endswith("capacity (binding limit)")
    assert [row.split()[-2:] for row in tables["wcscp-big"][1:3]] == [["900", "(cpu)"]] * 2
    assert [row.split()[-2:] for row in tables["wcscp-iso"][1:3]] == [["300", "(cpu)"], ["200", "(cpu)"]]


def test_preflight_refuses_an_impossible_expectation_naming_the_binding_limit(playbook, tmp_path):
    proc = preflight(playbook, tmp_path, {"wcscp-big": {"wcs_expected_streams": 3000,
                                                        "wcs_capacity_streams_per_core": 1000}})
    assert proc.returncode != 0
    failed = {host: r for host, status, r in results(proc.stdout) if status == "FAILED"}
    assert sorted(failed) == ["wcscp-big"], proc.stdout[-4000:]
    msg = failed["wcscp-big"]["msg"]
    assert failed["wcscp-big"]["field"] == "wcs_expected_streams"
    assert msg.startswith("wcs_expected_streams: 3000 is wrong: wcscp-1 holds at most 2250 sessions "
                          "(binding limit: media_ports), fewer than the 3000 expected"), msg
    assert "media_ports 2250 (4500 even ports in 31001-40000, 2 per session without rtp_bundle)" in msg
    assert "cpu 9000 (9 core(s) x wcs_capacity_streams_per_core 1000)" in msg
    assert ("Fix: widen the media port range to 31001-43001 (wcs_media_port_to); or lower wcs_expected_streams "
            "for wcscp-1 to at most 2250") in msg

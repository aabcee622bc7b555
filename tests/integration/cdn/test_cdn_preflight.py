"""`preflight` plans the CDN over the whole fleet and refuses a bad layout before anything changes, on the recorded
40-CPU topology of inventories/example (three planned hosts, nothing deployed, no engine)."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]

HOSTS = {"wcscdn-pre-%d" % i: {"wcs_network_parent": "eno1", "wcs_network_block": "203.0.113.%d/29" % (48 + 8 * i)}
         for i in range(3)}


def inventory(tmp_path, origin, edge):
    base = yaml.safe_load((ROOT / "inventories/example/group_vars/wcs_hosts.yml").read_text())
    base["wcs_host_facts_root"] = str(ROOT / "inventories/example/topology.orig")
    base.pop("wcs_expected_streams", None)
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {
        "wcs_hosts": {"hosts": HOSTS, "vars": base},
        "wcs_cdn_origin": {"hosts": {h: {} for h in origin}},
        "wcs_cdn_edge": {"hosts": {h: {} for h in edge}}}}}))
    return path


def test_preflight_shows_the_cdn_nodes(playbook, tmp_path):
    proc = playbook("playbooks/preflight.yml", inventory(tmp_path, ["wcscdn-pre-0"], ["wcscdn-pre-1"]),
                    extra_vars={"wcs_tuning_audit": False})
    assert proc.returncode == 0, proc.stdout[-3000:]
    flat = " ".join(proc.stdout.split())
    # two containers per host, each a node; the origin's second container points at its first
    assert "wcs-docker-test-1 origin 203.0.113.52 entry=- asks=wcscdn-pre-1/wcs-docker-test-1" in flat
    assert "wcs-docker-test-2 origin 203.0.113.53 entry=203.0.113.52" in flat
    assert "wcs-docker-test-1 edge 203.0.113.60 entry=203.0.113.52 asks=wcscdn-pre-0/wcs-docker-test-1" in flat


def test_preflight_refuses_a_host_in_two_cdn_groups(playbook, tmp_path):
    proc = playbook("playbooks/preflight.yml",
                    inventory(tmp_path, ["wcscdn-pre-0", "wcscdn-pre-1"], ["wcscdn-pre-1", "wcscdn-pre-2"]),
                    extra_vars={"wcs_tuning_audit": False})
    assert proc.returncode != 0
    flat = " ".join(proc.stdout.split())
    assert ("wcs_cdn_origin_group: 'wcscdn-pre-1' is wrong: a host has one CDN role. Fix: put wcscdn-pre-1 in one "
            "CDN group only (it is in wcs_cdn_edge and in wcs_cdn_origin)") in flat, proc.stdout[-3000:]

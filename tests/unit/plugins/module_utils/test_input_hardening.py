"""Typed input that reaches a file, a label, a name or the engine (issue 11 part 4), one class per test group:
container/network/parent names matched whole, env keys and values, labels, secrets, conf paths, property values
(the U+2028 injection), reserved address blocks, oversized numbers. Hypothesis on each parser: a PlanError or a
clean value, never a traceback, never a control character accepted."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.address_plan import plan_addresses
from ansible_collections.mediaops.wcs.plugins.module_utils.container_spec import desired_container
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.plan_inputs import check_plan_inputs
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import (
    merge_properties, parse_properties, validate_properties)

RELAXED = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=200)
BREAKS = ["\n", "\r", "\x00", "\t", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\u202e"]
BASE = dict(name="wcs-1", image="flashphoner/webcallserver:1.0", network="wcs-net", ipv4_address="203.0.113.4")


def item(**kw):
    return desired_container(dict(BASE, **kw), 0)


def refused(func, *args, **kw):
    with pytest.raises(PlanError) as err:
        func(*args, **kw)
    return err.value


def no_control(text):
    return all(unicodedata.category(c) not in ("Cc", "Zl", "Zp", "Cs") for c in text)


# ------------------------------------------------------------------------------------------------ names
@pytest.mark.parametrize("name", ["wcs-1\n", "wcs-1\r", "\nwcs-1", "wcs\u20281", "wcs 1", "-wcs", "wcs/1", "x" * 129])
def test_container_name_is_matched_whole(name):
    err = refused(item, name=name)
    assert err.field == "containers[0].name" and "Docker container name" in str(err)


def test_container_name_with_a_newline_is_refused_even_when_absent():
    assert refused(desired_container, {"name": "wcs-1\n", "state": "absent"}, 0).field == "containers[0].name"


@pytest.mark.parametrize("network", ["wcs-net\n", "wcs net", "-net", "a/b"])
def test_network_name_is_matched_whole(network):
    err = refused(item, network=network)
    assert err.field == "containers[0].network" and "Docker network name" in str(err)


@pytest.mark.parametrize("image", ["busybox\n", "busy box", "busybox:1\u2028", "\x00"])
def test_image_without_spaces_or_controls(image):
    assert refused(item, image=image).field == "containers[0].image"


# ------------------------------------------------------------------------------------------------ env, labels, secrets
@pytest.mark.parametrize("key", ["A=B", "A\nB", "", "1X", "A B", "A\u2028"])
def test_env_keys_refused(key):
    assert refused(item, env={key: "v"}).field == "containers[0].env"


@pytest.mark.parametrize("char", BREAKS)
def test_env_values_refused_with_controls(char):
    assert refused(item, env={"X": "a%sb" % char}).field == "containers[0].env.X"


def test_env_values_are_spelled_as_the_environment_means_them():
    """Issue 20: never Python's spelling. Booleans are true/false (a container whose env held a YAML boolean,
    recorded as True before, is recreated once), numbers digits or plain decimals, None the empty value."""
    env = item(env={"X": 1, "Y": True, "N": False, "Z": None, "F": 0.5, "E": 1e16, "S": "['a']"})["spec"]["env"]
    assert env == {"X": "1", "Y": "true", "N": "false", "Z": "", "F": "0.5", "E": "10000000000000000", "S": "['a']"}


@pytest.mark.parametrize("value", [["a"], {"a": 1}, float("nan"), float("inf"), b"x", ("a",), {"a"}])
@pytest.mark.parametrize("where", ["env", "labels"])
def test_env_and_label_values_without_a_text_spelling_are_refused(value, where):
    err = refused(item, **{where: {"K": value}})
    assert err.field == "containers[0].%s.K" % where and "Fix:" in str(err)


@pytest.mark.parametrize("where", ["env", "labels"])
@pytest.mark.parametrize("value", ["A=1", ["A=1"], 5])
def test_env_and_labels_that_are_not_mappings_are_refused(value, where):
    err = refused(item, **{where: value})
    assert err.field == "containers[0].%s" % where


def test_label_values_none_is_empty_and_booleans_are_true_false():
    assert item(labels={"a": None, "b": True, "c": 7})["spec"]["labels"] == {"a": "", "b": "true", "c": "7"}


@pytest.mark.parametrize("key", [True, None, 1.5])
def test_label_keys_that_are_not_text_are_refused(key):
    assert refused(item, labels={key: "v"}).field == "containers[0].labels"


@pytest.mark.parametrize("value", [["a"], {"a": 1}, True, 1.5, float("nan"), b"pw"])
@pytest.mark.parametrize("field", ["password", "license"])
def test_secrets_that_are_not_text_are_refused_without_showing_them(value, field):
    err = refused(item, **{field: value})
    assert err.field == "containers[0].%s" % field and "(hidden)" in str(err) and repr(value) not in str(err)


@pytest.mark.parametrize("field", ["password", "license"])
def test_numeric_secrets_are_their_digits(field):
    assert item(**{field: 12345})["secrets"][field] == "12345"


@pytest.mark.parametrize("labels, field", [({"a\nb": "v"}, "containers[0].labels"),
                                           ({"k": "v\u2028w"}, "containers[0].labels.k")])
def test_labels_refused_with_controls(labels, field):
    assert refused(item, labels=labels).field == field


@pytest.mark.parametrize("field", ["password", "license"])
def test_secret_with_a_line_break_is_refused_without_showing_it(field):
    err = refused(item, **{field: "s3cr3t\nINJECT=1"})
    assert err.field == "containers[0].%s" % field and "s3cr3t" not in str(err) and "(hidden)" in str(err)


# ------------------------------------------------------------------------------------------------ paths
@pytest.mark.parametrize("conf_dir", ["/", "//", "/etc", "/etc/", "/usr/../etc", "/var/lib", "/opt", "relative",
                                      "/opt/wcs\n"])
def test_conf_dir_refused(conf_dir):
    assert refused(item, conf_dir=conf_dir).field == "containers[0].conf_dir"


def test_conf_dir_normalised():
    assert item(conf_dir="/opt/wcs/./c1//conf/")["spec"]["conf_dir"] == "/opt/wcs/c1/conf"


# ------------------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize("memory", ["9" * 400 + "g", "2000000t", 2 ** 70])
def test_oversized_memory_is_a_plan_error(memory):
    assert refused(item, memory=memory).field == "containers[0].memory"


@pytest.mark.parametrize("limit", [10 ** 30, "9" * 50, 1.5, True, "x"])
def test_oversized_or_odd_ulimits_are_plan_errors(limit):
    err = refused(item, ulimits=[{"name": "nofile", "soft": limit, "hard": limit}])
    assert err.field.startswith("containers[0].ulimits[0]")


# ------------------------------------------------------------------------------------------------ property files
@pytest.mark.parametrize("char", BREAKS)
def test_property_value_with_a_line_break_is_refused(char):
    err = refused(validate_properties, {"rtp_bundle": "true%sinjected=1" % char}, "wcs_extra_properties")
    assert err.field == "wcs_extra_properties.rtp_bundle" and "U+%04X" % ord(char) in str(err)


@pytest.mark.parametrize("key", ["key\n", "a=b", "a b", "k\u2028"])
def test_property_key_matched_whole(key):
    refused(validate_properties, {key: "v"})


def test_u2028_is_no_line_break_for_java_and_is_refused_in_a_managed_value():
    """Java's Properties.load ends lines at LF, CR and CR LF only: a U+2028 inside a line is part of the value
    (Python's splitlines would have split it into a second property). The writer still refuses it: no WCS setting
    means one, and it hides what is written."""
    text = "rtp_bundle=true\u2028injected=1\n"
    assert parse_properties(text) == [("rtp_bundle", "true\u2028injected=1")]
    refused(merge_properties, None, {"rtp_bundle": "true\u2028injected=1"})


@RELAXED
@given(st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=20), st.integers(), st.booleans()),
                       max_size=4))
def test_what_is_written_is_read_back_the_same(managed):
    try:
        text, _report = merge_properties(None, managed)
    except PlanError:
        return
    written = {str(k): v for k, v in validate_properties(managed).items()}
    assert dict(parse_properties(text)) == written
    assert no_control(text.replace("\n", ""))


# ------------------------------------------------------------------------------------------------ address blocks
@pytest.mark.parametrize("block, what", [
    ("224.0.1.0/28", "multicast"), ("239.255.0.0/24", "multicast"), ("127.0.0.0/29", "loopback"),
    ("169.254.10.0/29", "link-local"), ("0.0.0.0/29", "this network"), ("240.0.0.0/29", "reserved"),
    ("255.255.255.0/29", "reserved"), ("192.0.0.0/29", "IETF"), ("192.0.0.0/16", "IETF"),
])
def test_reserved_blocks_refused(block, what):
    err = refused(plan_addresses, block, 2)
    assert err.field == "subnet" and what in str(err) and "Fix:" in str(err)


@pytest.mark.parametrize("block", ["192.0.2.0/29", "198.51.100.32/28", "203.0.113.0/29", "10.1.0.0/24",
                                   "100.64.0.0/29", "198.18.0.0/29"])
def test_documentation_and_private_blocks_accepted(block):
    assert len(plan_addresses(block, 2)["containers"]) == 2


@pytest.mark.parametrize("spec", [{"subnet": "203.0.113.0/29", "gateway": "203.0.113.1\n"},
                                  {"subnet": "203.0.113.0/29\n"}, {"subnet": "203.0.113.0/29", "gateway": 5},
                                  {"subnet": "203.0.113.0/29", "addresses": ["203.0.113.4", "1" * 60]}])
def test_addresses_with_controls_or_odd_types_are_plan_errors(spec):
    refused(plan_addresses, spec, 2)


@RELAXED
@given(st.one_of(st.text(max_size=30), st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}\Z")),
       st.one_of(st.integers(-5, 10 ** 20), st.text(max_size=5)))
def test_address_plan_never_tracebacks(subnet, count):
    try:
        plan = plan_addresses(subnet, count)
    except PlanError:
        return
    assert no_control(plan["subnet"]) and not plan["subnet"].startswith(("224.", "127.", "0.", "169.254."))


# ------------------------------------------------------------------------------------------------ the plan's variables
@pytest.mark.parametrize("values, field", [
    ({"wcs_name_prefix": "wcs-\n"}, "wcs_name_prefix"),
    ({"wcs_network_name": "net\n"}, "wcs_network_name"),
    ({"wcs_network_parent": "eth0\n"}, "wcs_network_parent"),
    ({"wcs_network_parent": "a" * 16}, "wcs_network_parent"),
    ({"wcs_conf_root": "/"}, "wcs_conf_root"),
    ({"wcs_conf_root": ""}, "wcs_conf_root"),
    ({"wcs_conf_root": "/var/../etc"}, "wcs_conf_root"),
    ({"wcs_image": "a b"}, "wcs_image"),
    ({"wcs_extra_properties": {"k": "v\u2028x=1"}}, "wcs_extra_properties.k"),
    ({"wcs_core_jvm_options": ["-Da=\x00"]}, "wcs_core_jvm_options"),
    ({"wcs_docker_host": "unix:///x\n"}, "wcs_docker_host"),
    ({"wcs_anything": {"deep": ["ok", "no\u2029"]}}, "wcs_anything.deep[1]"),
    ({"wcs_monitoring_alert_degraded_percent": 0}, "wcs_monitoring_alert_degraded_percent"),
    ({"wcs_monitoring_alert_heap_percent": 101}, "wcs_monitoring_alert_heap_percent"),
    ({"wcs_monitoring_alert_media_ports_free_percent": "ten"}, "wcs_monitoring_alert_media_ports_free_percent"),
    ({"wcs_monitoring_alert_gc_pause_seconds": -1}, "wcs_monitoring_alert_gc_pause_seconds"),
    ({"wcs_monitoring_alert_probe_p99_ms": True}, "wcs_monitoring_alert_probe_p99_ms"),
    ({"wcs_monitoring_alert_down_for": "1 minute"}, "wcs_monitoring_alert_down_for"),
    ({"wcs_monitoring_alert_gc_window": "5m\n"}, "wcs_monitoring_alert_gc_window"),
    ({"wcs_monitoring_exporter_per_stream_series": 1001}, "wcs_monitoring_exporter_per_stream_series"),
    ({"wcs_monitoring_exporter_per_stream_series": -1}, "wcs_monitoring_exporter_per_stream_series"),
    ({"wcs_monitoring_exporter_isolation_report": "isolation.json"}, "wcs_monitoring_exporter_isolation_report"),
    ({"wcs_isolation_report_copy": "/etc"}, "wcs_isolation_report_copy"),
])
def test_plan_inputs_name_the_variable(values, field):
    assert refused(check_plan_inputs, values).field == field


def test_alert_thresholds_and_the_per_stream_cap_accepted():
    out = check_plan_inputs({"wcs_monitoring_alert_degraded_percent": "5", "wcs_monitoring_alert_heap_percent": 100,
                             "wcs_monitoring_alert_gc_pause_seconds": 0.2, "wcs_monitoring_alert_down_for": "1h30m",
                             "wcs_monitoring_exporter_per_stream_series": "1000"})
    assert out["wcs_monitoring_alert_degraded_percent"] == 5.0 and out["wcs_monitoring_exporter_per_stream_series"] == 1000


def test_plan_inputs_hide_secrets():
    err = refused(check_plan_inputs, {"wcs_password": "hunter2\nX"})
    assert "hunter2" not in str(err) and err.field == "wcs_password"


def test_plan_inputs_accept_the_defaults_and_normalise_paths():
    out = check_plan_inputs({"wcs_name_prefix": "wcs-", "wcs_network_name": "wcs-net", "wcs_network_parent": "",
                             "wcs_conf_root": "/opt/wcs/", "wcs_image": "flashphoner/webcallserver:latest",
                             "wcs_password": "", "wcs_extra_properties": {"a": 1}, "wcs_core_jvm_options": []})
    assert out["wcs_conf_root"] == "/opt/wcs"


@RELAXED
@given(st.text(max_size=20))
def test_names_checked_by_plan_inputs_hold_no_control_character(text):
    for name in ("wcs_name_prefix", "wcs_network_name", "wcs_network_parent", "wcs_conf_root", "wcs_image",
                 "wcs_docker_host"):
        try:
            out = check_plan_inputs({name: text})[name]
        except PlanError:
            continue
        assert no_control(out)


@RELAXED
@given(st.text(max_size=20), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3))
def test_container_items_never_traceback_and_hold_no_control_character(name, env):
    try:
        d = desired_container(dict(BASE, name=name, env=env), 0)
    except PlanError:
        return
    assert no_control(d["name"]) and all(no_control(k + v) for k, v in d["spec"]["env"].items())


# ------------------------------------------------------------------------------------------------ monitoring
@pytest.mark.parametrize("value", ["0.0.0.0", "::", "[::]", "224.0.0.1", "ff02::1", "", "eth0", "10.0.0.1\n",
                                   "240.0.0.1"])
def test_listen_addresses_refused(value):
    assert refused(check_plan_inputs, {"wcs_monitoring_listen_address": value}).field == \
        "wcs_monitoring_listen_address"


@pytest.mark.parametrize("value", ["127.0.0.1", "10.20.0.5", "192.0.2.10", "::1", "fd00::5"])
def test_listen_addresses_accepted(value):
    assert check_plan_inputs({"wcs_monitoring_listen_address": value})["wcs_monitoring_listen_address"] == \
        value.strip("[]")


@pytest.mark.parametrize("value", ["/", "", "//", "/usr", "/var/lib/", "/opt/../etc", "relative/dir", None])
def test_monitoring_base_dir_refused_for_teardown(value):
    assert refused(check_plan_inputs, {"wcs_monitoring_base_dir": value}).field == "wcs_monitoring_base_dir"


def test_numeric_secrets_are_text():
    assert check_plan_inputs({"wcs_password": 12345})["wcs_password"] == "12345"


@pytest.mark.parametrize("web, user, field", [
    ({"basic_auth_users": {"u": "plain"}}, "u", "wcs_monitoring_web_config.basic_auth_users.u"),
    ({"tls_server_config": {"cert_file": "c.pem"}}, "", "wcs_monitoring_web_config.tls_server_config"),
    ({"tls_server_config": {"cert_file": "rel.pem", "key_file": "/k"}}, "",
     "wcs_monitoring_web_config.tls_server_config.cert_file"),
    ({"nonsense": 1}, "", "wcs_monitoring_web_config"),
    ({"basic_auth_users": {"u": "$2b$10$" + "a" * 53}}, "other", "wcs_monitoring_scrape_username"),
])
def test_web_config_checked(web, user, field):
    err = refused(check_plan_inputs, {"wcs_monitoring_web_config": web, "wcs_monitoring_scrape_username": user,
                                      "wcs_monitoring_scrape_password": "pw"})
    assert err.field == field


def test_web_config_accepted():
    web = {"basic_auth_users": {"u": "$2b$10$" + "a" * 53},
           "tls_server_config": {"cert_file": "/etc/wcs/tls.crt", "key_file": "/etc/wcs/tls.key"}}
    check_plan_inputs({"wcs_monitoring_web_config": web, "wcs_monitoring_scrape_username": "u",
                       "wcs_monitoring_scrape_password": "pw"})


@pytest.mark.parametrize("cidrs, words", [
    (["0.0.0.0/0"], "whole internet"),
    ("198.51.100.0/24, ::/0", "whole internet"),
    (["198.51.100.7/24"], "198.51.100.0/24"),
])
def test_admin_networks_are_checked_with_the_plan(cidrs, words):
    # checked before anything changes, not first at the firewall step after the containers were converged
    with pytest.raises(PlanError) as err:
        check_plan_inputs({"wcs_admin_cidrs": cidrs})
    assert err.value.field == "wcs_admin_cidrs" and words in str(err.value)


def test_admin_networks_unset_or_named_pass():
    assert check_plan_inputs({"wcs_admin_cidrs": []})["wcs_admin_cidrs"] == []
    assert check_plan_inputs({"wcs_admin_cidrs": "192.0.2.0/24"})["wcs_admin_cidrs"] == ["192.0.2.0/24"]

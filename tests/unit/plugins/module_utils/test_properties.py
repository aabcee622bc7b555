"""Merge rules of the WCS property files (plugins/module_utils/properties.py)."""
from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import (
    JVM_HEADER,
    MANAGED_MARK,
    SERVER_HEADER,
    core_options,
    merge_core,
    merge_properties,
    option_key,
    parse_core,
    parse_properties,
)

SEED_FLASHPHONER = """#server ip
ip                     =
ip_local               =

#webrtc ports range
media_port_from        =31001
media_port_to          =40000

codecs                   =opus,alaw,ulaw,g729,speex16,g722,mpeg4-generic,telephone-event,h264,vp8,flv,mpv
codecs_exclude_sip       =mpeg4-generic,flv,mpv

#websocket ports
ws.port                 =8080
wss.port                =8443
"""

SEED_CORE = """# Set this property to false to disable session debug
-Dcom.sun.management.jmxremote=true
# Can be a better GC setting to avoid long pauses
-XX:+UseConcMarkSweepGC
-Xmx1024M
-XX:+UnlockExperimentalVMOptions -XX:+UseZGC
"""


def as_dict(text):
    return dict(parse_properties(text))


# ------------------------------------------------------------------------------------------ flashphoner.properties

def test_new_file_has_managed_keys_in_order_and_header():
    text, report = merge_properties(None, {"ip": "203.0.113.4", "ip_local": "203.0.113.4", "ws.port": 8080})
    lines = text.splitlines()
    assert lines[0] == MANAGED_MARK + " ip,ip_local,ws.port"
    assert lines[1:] == ["ip=203.0.113.4", "ip_local=203.0.113.4", "ws.port=8080"]
    assert report["added"] == ["ip", "ip_local", "ws.port"]
    assert report["kept"] == [] and report["removed"] == []


def test_managed_keys_win_in_place_and_comments_stay():
    text, report = merge_properties(SEED_FLASHPHONER, {"ip": "203.0.113.4", "media_port_to": 32000})
    values = as_dict(text)
    assert values["ip"] == "203.0.113.4"
    assert values["media_port_to"] == "32000"
    assert values["media_port_from"] == "31001"  # not managed: kept as the operator wrote it
    assert "#webrtc ports range" in text
    lines = text.splitlines()
    assert lines.index("ip=203.0.113.4") < lines.index("#webrtc ports range")  # replaced in place
    assert set(report["updated"]) == {"ip", "media_port_to"}
    assert "codecs" in report["kept"] and "ws.port" in report["kept"]


def test_hand_added_key_is_kept_and_reported_across_runs():
    first, _report = merge_properties(None, {"ip": "198.51.100.4", "media_port_from": 31001})
    edited = first + "my_hand_setting=42\n"
    second, report = merge_properties(edited, {"ip": "198.51.100.4", "media_port_from": 31001})
    assert as_dict(second)["my_hand_setting"] == "42"
    assert report["kept"] == ["my_hand_setting"]
    assert second == edited  # nothing else to change


def test_key_no_longer_managed_is_removed_but_hand_keys_are_not():
    first, _report = merge_properties(None, {"ip": "198.51.100.4", "test_duration": 600})
    edited = first + "hand=1\n"
    second, report = merge_properties(edited, {"ip": "198.51.100.4"})
    assert "test_duration" not in as_dict(second)
    assert as_dict(second)["hand"] == "1"
    assert report["removed"] == ["test_duration"]


def test_duplicates_of_managed_key_collapse():
    text, _report = merge_properties("ip=1.1.1.1\nx=1\nip=2.2.2.2\n", {"ip": "203.0.113.4"})
    assert [pair[0] for pair in parse_properties(text)] == ["ip", "x"]


def test_value_rendering_and_none_means_unmanaged():
    text, _report = merge_properties("codecs=a\n", {"rtp_bundle": True, "codecs": None, "list": ["opus", "h264"]})
    values = as_dict(text)
    assert values == {"codecs": "a", "rtp_bundle": "true", "list": "opus,h264"}


@pytest.mark.parametrize("key,value", [("bad key", 1), ("ip", "a\nb")])
def test_bad_keys_and_values_name_the_field(key, value):
    with pytest.raises(PlanError) as err:
        merge_properties(None, {key: value})
    assert "properties." in str(err.value) and "Fix:" in str(err.value)


keys = st.text(alphabet=string.ascii_lowercase + "._", min_size=1, max_size=12).filter(lambda k: k[0] != ".")
values = st.text(alphabet=string.ascii_letters + string.digits + ",.-:/ ", max_size=20).map(str.strip)
prop_dicts = st.dictionaries(keys, values, max_size=8)


@settings(max_examples=200, deadline=None)
@given(hand=prop_dicts, managed=prop_dicts)
def test_round_trip_managed_win_hand_kept_idempotent(hand, managed):
    existing = "".join("%s = %s\n" % kv for kv in hand.items())
    text, report = merge_properties(existing, managed)
    values = as_dict(text)
    for key, value in managed.items():
        assert values[key] == value
    for key, value in hand.items():
        if key not in managed:
            assert values[key] == value
            assert key in report["kept"]
    again, report2 = merge_properties(text, managed)
    assert again == text
    assert report2["updated"] == [] and report2["added"] == [] and report2["removed"] == []


@settings(max_examples=100, deadline=None)
@given(hand=prop_dicts, first=prop_dicts, second=prop_dicts)
def test_dropping_managed_keys_never_drops_hand_keys(hand, first, second):
    rendered, _report = merge_properties(None, first)
    hand_only = {k: v for k, v in hand.items() if k not in first and k not in second}
    edited = rendered + "".join("%s=%s\n" % kv for kv in hand_only.items())
    text, report = merge_properties(edited, second)
    values = as_dict(text)
    assert set(values) == set(second) | set(hand_only)
    assert set(report["removed"]) == set(first) - set(second)


# ------------------------------------------------------------------------------------------ wcs-core.properties

@pytest.mark.parametrize("option,key", [
    ("-Xmx16g", "-Xmx"), ("-Xms1024M", "-Xms"), ("-XX:+UseZGC", "-XX:UseZGC"), ("-XX:-UseZGC", "-XX:UseZGC"),
    ("-XX:MaxGCPauseMillis=10", "-XX:MaxGCPauseMillis"), ("-Dfoo.bar=1", "-Dfoo.bar"), ("-server", "-server"),
])
def test_option_key(option, key):
    assert option_key(option) == key


def test_core_new_file_sections_heap_and_zgc():
    text, report = merge_core(None, core_options(heap="16g", zgc=True, server_options=["-Dwcs.mode=prod"]))
    lines = text.splitlines()
    assert lines[0].startswith(MANAGED_MARK)
    assert lines[1:] == [SERVER_HEADER, "-Dwcs.mode=prod", JVM_HEADER, "-Xms16g", "-Xmx16g",
                         "-XX:+UnlockExperimentalVMOptions", "-XX:+UseZGC"]
    assert parse_core(text) == {"server": ["-Dwcs.mode=prod"],
                                "jvm": ["-Xms16g", "-Xmx16g", "-XX:+UnlockExperimentalVMOptions", "-XX:+UseZGC"]}
    assert report["added"] == ["-Dwcs.mode", "-Xms", "-Xmx", "-XX:UnlockExperimentalVMOptions", "-XX:UseZGC"]


def test_core_seed_merge_replaces_heap_drops_other_gc_keeps_hand_options():
    text, report = merge_core(SEED_CORE, core_options(heap="8g", zgc=True))
    parsed = parse_core(text)
    assert "-Xmx8g" in parsed["jvm"] and "-Xms8g" in parsed["jvm"] and "-Xmx1024M" not in parsed["jvm"]
    assert "-XX:+UseConcMarkSweepGC" not in parsed["jvm"]
    assert "-XX:UseConcMarkSweepGC" in report["removed"]
    assert "-Dcom.sun.management.jmxremote=true" in parsed["jvm"]
    assert report["kept"] == ["-Dcom.sun.management.jmxremote"]
    assert parsed["jvm"].count("-XX:+UseZGC") == 1
    assert "# Can be a better GC setting to avoid long pauses" in text
    assert merge_core(text, core_options(heap="8g", zgc=True))[0] == text


def test_core_zgc_off_removes_lines_it_managed():
    first, _report = merge_core(None, core_options(heap="4g", zgc=True))
    second, report = merge_core(first, core_options(heap="4g", zgc=False))
    assert "-XX:+UseZGC" not in parse_core(second)["jvm"]
    assert set(report["removed"]) == {"-XX:UnlockExperimentalVMOptions", "-XX:UseZGC"}


def test_core_option_moves_to_its_section():
    existing = "%s\n%s\n-Dwcs.mode=old\n" % (SERVER_HEADER, JVM_HEADER)
    text, _report = merge_core(existing, core_options(server_options=["-Dwcs.mode=new"]))
    assert parse_core(text) == {"server": ["-Dwcs.mode=new"], "jvm": []}


def test_jvm_options_override_heap():
    managed = core_options(heap="4g", jvm_options=["-Xmx6g"])
    assert managed["jvm"] == ["-Xms4g", "-Xmx6g"]


@pytest.mark.parametrize("kwargs,field", [
    ({"heap": "lots"}, "heap"), ({"heap": "0g"}, "heap"),
    ({"jvm_options": ["-Xmx1g -Xms1g"]}, "jvm_options"), ({"server_options": ["nodash"]}, "server_options"),
])
def test_core_bad_input_names_the_field(kwargs, field):
    with pytest.raises(PlanError) as err:
        core_options(**kwargs)
    assert str(err.value).startswith(field + ":") and "Fix:" in str(err.value)


options = st.builds(lambda name, val: "-D%s=%s" % (name, val),
                    st.text(alphabet=string.ascii_lowercase + ".", min_size=1, max_size=8),
                    st.text(alphabet=string.ascii_letters + string.digits, max_size=6))


@settings(max_examples=150, deadline=None)
@given(hand=st.lists(options, max_size=6), server=st.lists(options, max_size=4),
       heap=st.sampled_from([None, "512m", "4g", "16g"]), zgc=st.booleans())
def test_core_round_trip(hand, server, heap, zgc):
    managed = core_options(heap=heap, zgc=zgc, server_options=list(dict.fromkeys(server)))
    existing = "".join(o + "\n" for o in hand)
    text, report = merge_core(existing, managed)
    parsed = parse_core(text)
    managed_keys = {option_key(o) for o in managed["server"] + managed["jvm"]}
    for opt in managed["server"]:
        assert opt in parsed["server"]
    for opt in managed["jvm"]:
        assert opt in parsed["jvm"]
    for opt in hand:
        if option_key(opt) not in managed_keys:
            assert option_key(opt) in [option_key(o) for o in parsed["jvm"]]
    again, report2 = merge_core(text, managed)
    assert again == text
    assert report2["updated"] == [] and report2["added"] == [] and report2["removed"] == []

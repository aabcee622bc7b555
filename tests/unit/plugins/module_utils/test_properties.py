"""Merge rules of the WCS property files (plugins/module_utils/properties.py)."""
from __future__ import annotations

import shutil
import string
import subprocess

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
    render_flashphoner,
    store_line,
    validate_properties,
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


# ------------------------------------------------------------------------------------------ value types (issue 20)

@pytest.mark.parametrize("value,why", [
    ({"a": 1}, "dict"), (["a", ["b"]], "list"), (["a", None], "NoneType"), (float("nan"), "NaN"),
    (float("inf"), "NaN and infinities"), (float("-inf"), "NaN and infinities"), (b"opus", "bytes"),
    (bytearray(b"x"), "bytearray"), ({"a"}, "set"), (["a", float("nan")], "NaN"), (["a", b"b"], "bytes"),
    pytest.param(2 ** 20000, "too long", id="int-of-6021-digits"),
])
def test_values_without_a_property_spelling_are_refused(value, why):
    with pytest.raises(PlanError) as err:
        validate_properties({"codecs": value}, "wcs_extra_properties")
    assert err.value.field.startswith("wcs_extra_properties.codecs") and why in str(err.value)
    assert "Fix:" in str(err.value)


@pytest.mark.parametrize("value,text", [
    (True, "true"), (False, "false"), (31001, "31001"), (-1, "-1"), (0.5, "0.5"), (8084.0, "8084.0"),
    (1e16, "10000000000000000"), (1e-05, "0.00001"), (["opus", "alaw", 1, True], "opus,alaw,1,true"), ([], ""),
    (("h264", "vp8"), "h264,vp8"), ("opus\\", "opus\\"),
])
def test_values_are_spelled_as_java_means_them(value, text):
    assert validate_properties({"k": value}) == {"k": text}


@pytest.mark.parametrize("key", [True, False, None, 1.5, ("a",), b"k"])
def test_keys_that_are_not_text_are_refused(key):
    with pytest.raises(PlanError) as err:
        validate_properties({key: "v"}, "wcs_extra_properties")
    assert err.value.field.startswith("wcs_extra_properties") and "Fix:" in str(err.value)


def test_an_int_key_is_its_digits():
    assert validate_properties({1: "v"}) == {"1": "v"}


@pytest.mark.parametrize("managed", ["ip=1", ["ip"], 5])
def test_a_map_that_is_not_a_mapping_is_refused(managed):
    with pytest.raises(PlanError) as err:
        merge_properties(None, managed)
    assert err.value.field == "properties"


# ------------------------------------------------------------------------------------------ escaping (issue 20)

def test_a_trailing_backslash_is_escaped_and_the_next_key_survives():
    text, _report = merge_properties(None, {"codecs": "opus\\", "ip": "203.0.113.4"})
    assert text.splitlines()[1:] == ["codecs=opus\\\\", "ip=203.0.113.4"]
    assert as_dict(text) == {"codecs": "opus\\", "ip": "203.0.113.4"}


@pytest.mark.parametrize("key,value,line", [
    ("a b", "c", "a\\ b=c"), ("k=", "v", "k\\==v"), ("k:", "v", "k\\:=v"), ("#k", "v", "\\#k=v"), ("!k", "v", "\\!k=v"),
    ("k\\", "v", "k\\\\=v"), ("k", " v", "k=\\ v"), ("k", "v ", "k=v "), ("k", "a\nb", "k=a\\nb"),
    ("k", "\t\r\f", "k=\\t\\r\\f"), ("k", "\u2028\x1e\x85", "k=\\u2028\\u001E\\u0085"), ("k", "\u00e9", "k=\\u00E9"),
    ("k", "\U0001F600", "k=\\uD83D\\uDE00"), ("k", "=:#!", "k==:#!"), ("", "", "="),
])
def test_store_line(key, value, line):
    assert store_line(key, value) == line
    assert parse_properties(line) == [(key, value)]


@pytest.mark.parametrize("text,pairs", [
    ("a=b\\\n   c\n", [("a", "bc")]),                       # continuation, leading blanks of the next line skipped
    ("a=b\\\\\nc=d\n", [("a", "b\\"), ("c", "d")]),          # an even number of backslashes does not continue
    ("# a\\\nb=c\n", [("b", "c")]),                         # comments never continue
    ("a b\n", [("a", "b")]), ("a:b\n", [("a", "b")]), ("a\n", [("a", "")]), ("a = = b\n", [("a", "= b")]),
    ("a=b\rc=d\r\ne=f", [("a", "b"), ("c", "d"), ("e", "f")]),
    ("a=b\u2028c=d\x85e\x1c\x1d\x1e\x1f\x0b\x0c\n", [("a", "b\u2028c=d\x85e\x1c\x1d\x1e\x1f\x0b\x0c")]),
    ("a=\\u0041\\t\\q\n", [("a", "A\tq")]), ("a=\\uD83D\\uDE00\n", [("a", "\U0001F600")]),
    ("a=b\\", [("a", "b")]), ("a=b\\\n\nc=d", [("a", "b"), ("c", "d")]), ("  ! x\n\t# y\n", []),
])
def test_parse_follows_properties_load(text, pairs):
    assert parse_properties(text) == pairs


def test_hand_lines_are_kept_byte_for_byte():
    existing = "# note  \nhand = a\\\n    b  \nx=\\u00e9\u2028y\n"
    text, report = merge_properties(existing, {"ip": "203.0.113.4"})
    assert text == MANAGED_MARK + " ip\n" + existing + "ip=203.0.113.4\n"
    assert report["kept"] == ["hand", "x"]


def test_a_last_line_ending_in_a_backslash_stays_last():
    """Java drops a continuation backslash at the end of the input; written before the appended keys it would
    swallow the first of them."""
    existing = "hand=a\\"
    text, report = merge_properties(existing, {"ip": "203.0.113.4"})
    assert text.splitlines() == [MANAGED_MARK + " ip", "ip=203.0.113.4", "hand=a\\"]
    assert as_dict(text) == {"ip": "203.0.113.4", "hand": "a"}
    assert merge_properties(text, {"ip": "203.0.113.4"})[0] == text


def test_a_managed_key_continued_over_lines_is_replaced_whole():
    existing = "codecs=opus,\\\n  alaw\nip=1.1.1.1\n"
    text, report = merge_properties(existing, {"codecs": "opus,pcma"})
    assert text.splitlines()[1:] == ["codecs=opus,pcma", "ip=1.1.1.1"]
    assert report["updated"] == ["codecs"]


# ------------------------------------------------------------------------------------------ JVM options (issue 20)

@pytest.mark.parametrize("option", [
    "-Dx=$(id)", "-Dx=`id`", "-Dx=${HOME}", "-Da=1;reboot", "-Da=b&", "-Da|b", "-Da<b", "-Da>b", "-Dx='a",
    "-Dx=\"a\"", "-Dx='a'", "-Dx=a\\b", "-Dx=(a)", "-Dx=a\nb", "-Dx=a\u2028b", "-Dx=a b", "-Dx=\x1e",
])
@pytest.mark.parametrize("field", ["server_options", "jvm_options"])
def test_shell_syntax_in_options_is_refused(option, field):
    with pytest.raises(PlanError) as err:
        core_options(**{field: [option]})
    assert err.value.field == field and err.value.value == option and "Fix:" in str(err.value)


@pytest.mark.parametrize("options", [[["-Xmx1g"]], [{"a": 1}], [1], [None], "-Xmx1g", {"-Xmx1g": 1}])
def test_options_that_are_not_a_list_of_text_are_refused(options):
    with pytest.raises(PlanError) as err:
        core_options(jvm_options=options)
    assert err.value.field == "jvm_options"


@pytest.mark.parametrize("heap", [["16g"], 16.0, float("nan"), True, "16 g", "$(id)"])
def test_heap_of_the_wrong_type_is_refused(heap):
    with pytest.raises(PlanError) as err:
        core_options(heap=heap)
    assert err.value.field == "heap"


def test_everyday_options_pass():
    opts = ["-Xlog:gc*:file=logs/gc-core-.log:time", "-XX:+HeapDumpOnOutOfMemoryError",
            "-Dcom.sun.management.jmxremote.port=50999", "-XX:HeapDumpPath=/usr/local/x/logs", "-Dwcs.mode=a,b:c",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "-Dnon.ascii=\u00e9"]
    assert core_options(jvm_options=opts)["jvm"] == opts


def test_core_lines_end_at_lf_and_options_split_at_blanks_only():
    """setenv.sh reads lines with `read` (LF) and splits options on blanks: a U+2028 or U+001E inside a hand
    option stays inside it (Python's splitlines/split would have cut it in two)."""
    existing = "-Dhand=a\u2028b -Dother=c\x1ed\n"
    assert parse_core(existing)["jvm"] == ["-Dhand=a\u2028b", "-Dother=c\x1ed"]
    text, report = merge_core(existing, core_options(heap="1g"))
    assert "-Dhand=a\u2028b" in text.split("\n") and report["kept"] == ["-Dhand", "-Dother"]


SETENV_LIKE = r"""
# How WCS's bin/setenv.sh consumes wcs-core.properties (the same steps, written here for the test): `read -r` for
# the JVM lines, `read` (no -r) in the server section, options appended to a string, then expanded unquoted.
while read -r line || [[ -n "$line" ]]; do
  if [[ "$line" == "### SERVER OPTIONS ###" ]]; then
    while read prop; do
      if [[ $prop == -* ]]; then SERVER+="$prop "
      elif [[ "$prop" == "### JVM OPTIONS ###" ]]; then break
      fi
    done
  elif [[ $line == -* ]]; then JVM+="$line "
  fi
done < "$1"
printf 'jvm:%s\n' $JVM
printf 'server:%s\n' $SERVER
"""

OPTION_TEXT = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e), min_size=1, max_size=12)


@pytest.mark.skipif(not shutil.which("bash"), reason="bash is not installed")
@settings(max_examples=60, deadline=None)
@given(jvm=st.lists(OPTION_TEXT, max_size=8), server=st.lists(OPTION_TEXT, max_size=8))
def test_options_reach_java_as_written_or_are_refused(tmp_path_factory, jvm, server):
    """What the start script hands to java (after setenv.sh's read and the unquoted expansion) is exactly each
    managed option, or the option was refused. Run in an empty directory, as globs are expanded against it."""
    jvm = list(dict.fromkeys("-D%d.%s" % (i, o) for i, o in enumerate(jvm)))
    server = list(dict.fromkeys("-S%d.%s" % (i, o) for i, o in enumerate(server)))
    accepted = {"jvm_options": [], "server_options": []}
    for field, options in (("jvm_options", jvm), ("server_options", server)):
        for opt in options:
            try:
                core_options(**{field: [opt]})
            except PlanError as err:
                assert err.field == field
                assert set(opt) & set("$`;&|<>()'\"\\")
                continue
            accepted[field].append(opt)
    managed = core_options(**accepted)
    text, _report = merge_core(None, managed)
    work = tmp_path_factory.mktemp("setenv")
    (work / "wcs-core.properties").write_text(text)
    out = subprocess.run(["bash", "-c", SETENV_LIKE, "setenv", "wcs-core.properties"], cwd=work, capture_output=True,
                         text=True, check=True, timeout=30).stdout.splitlines()
    assert [o[4:] for o in out if o.startswith("jvm:") and o != "jvm:"] == managed["jvm"]
    assert [o[7:] for o in out if o.startswith("server:") and o != "server:"] == managed["server"]


@pytest.mark.parametrize("kw,field", [({"properties": "ip=1"}, "properties"),
                                      ({"extra_properties": ["ip"]}, "extra_properties")])
def test_render_refuses_maps_that_are_not_mappings(kw, field):
    with pytest.raises(PlanError) as err:
        render_flashphoner(None, **kw)
    assert err.value.field == field


def test_render_names_a_key_set_twice_even_with_mixed_key_types():
    with pytest.raises(PlanError) as err:
        render_flashphoner(None, {"ip": "a", 1: "b"}, {"ip": "c", 1: "d"})
    assert err.value.field.startswith("extra_properties.")

"""stat_page: the Web SDK's parsing rule (dash headers, key=value), typed values, round trip."""
from __future__ import annotations

import string

from hypothesis import given, strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.stat_page import (
    convert_value, parse_sections, parse_stat_page, render_stat_page, stream_count_from_stats)

PAGE = """\
-----Connection Stats-----
connections=12
connections_websocket=10
----Port Stats----
ports_media_free=4990
-----Stream Stats
streams_webrtc_in=3
streams_webrtc_out=2
streams_rtmp_in=1
streams_viewers=9
degraded_streams=1
degraded_streams_percent=33.3
----------------- core -----
---System Stats---
system_java_cpu_usage=0.25
config_zgc=true
config_license_set=False
emulator_version=1.2.3
junk line without equals
=novalue
"""


def test_sections_by_rule_not_spelling():
    sections = parse_sections(PAGE)
    assert list(sections) == ["connection", "port", "stream", "system"]
    assert sections["connection"] == {"connections": 12, "connections_websocket": 10}
    assert sections["stream"]["degraded_streams_percent"] == 33.3


def test_types():
    stats = parse_stat_page(PAGE)[0]
    assert stats["config_zgc"] is True and stats["config_license_set"] is False
    assert stats["emulator_version"] == "1.2.3"
    assert stats["system_java_cpu_usage"] == 0.25
    assert isinstance(stats["ports_media_free"], int)


def test_keys_before_header_and_empty_page():
    assert parse_sections("a=1\n-----X-----\nb=2\n") == {"general": {"a": 1}, "x": {"b": 2}}
    assert parse_stat_page("") == ({}, {})


def test_stream_count_sums_in_out_counters_only():
    stats = parse_stat_page(PAGE)[0]
    assert stream_count_from_stats(stats) == 6


def test_convert_value():
    assert convert_value(" 7 ") == 7
    assert convert_value("-1e3") == -1000.0
    assert convert_value("TRUE") is True
    assert convert_value("7a") == "7a"


names = st.text(alphabet=string.ascii_letters, min_size=1, max_size=8).map(str.lower)
keys = st.text(alphabet=string.ascii_letters + string.digits + "_.", min_size=1, max_size=12)
values = st.one_of(
    st.integers(min_value=-10 ** 12, max_value=10 ** 12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.text(alphabet=string.ascii_letters + string.digits + " _:/.-", min_size=1, max_size=20)
    .map(str.strip).filter(lambda s: s and convert_value(s) == s),
)


@given(st.dictionaries(names.filter(lambda n: n != "general"),
                       st.dictionaries(keys, values, max_size=6), max_size=5))
def test_render_parse_roundtrip(sections):
    assert parse_sections(render_stat_page(sections)) == sections


def test_numbers_are_ascii_digits_within_the_caps():
    huge = "1" * 5000
    for text in ("\u00b2", "\u0663", "\u0661.\u0665", huge, "1e999", "-1e999", "1." + "5" * 100):
        assert convert_value(text) == text
    assert convert_value("9" * 30) == int("9" * 30)
    stats = parse_stat_page("connections=%s\nstreams_webrtc_in=2\n" % huge)[0]
    assert stats["connections"] == huge and stream_count_from_stats(stats) == 2

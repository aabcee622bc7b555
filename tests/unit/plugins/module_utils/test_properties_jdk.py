"""properties.py against the JDK's own parser: what Java's ``Properties.load`` reads from what the collection
writes is exactly what was asked (or the writer refused it), and the collection reads a file as Java does.

One JVM runs ``tests/java/PropsRoundTrip.java`` for the whole module (see tests/java/jdk.py); every hypothesis
example writes its files and asks that JVM, so hundreds of files cost a second or two. The module is skipped,
with the reason, only where there is no JDK (scripts/ensure-packages.sh installs openjdk-17-jdk-headless).
"""
from __future__ import annotations

import decimal
import math
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import (
    MANAGED_MARK, escape_value, merge_properties, parse_properties, store_line, validate_properties)

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "java"))
from jdk import Jdk, JdkMissing  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def jdk():
    try:
        oracle = Jdk.start()
    except JdkMissing as err:
        pytest.skip("Java's Properties.load is the oracle here and there is no JDK: %s" % err)
    yield oracle
    oracle.stop()


# Characters that split, continue or hide a line somewhere: Java's terminators, Python's extra ones
# (str.splitlines), the escape character and what it escapes, separators, comment marks, blanks, BOM, astral.
NASTY = ["\\", "=", ":", "#", "!", " ", "\t", "\f", "\n", "\r", "\r\n", "\u2028", "\u2029", "\x1c", "\x1d", "\x1e",
         "\x1f", "\x85", "\x0b", "\x00", "\x7f", "u", "\\u", "\\u00", "\\uD83D\\uDE00", "\u00e9", "\U0001F600",
         "\ufeff", "\u202e"]
TEXT = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=4)), max_size=12).map("".join)


def java_reads(jdk, text):
    answer = jdk.read([text])[0]
    assert "error" not in answer, "Java refused what the collection wrote: %r\n%s" % (answer, text)
    reader = dict((k, v) for k, v in answer["reader"])
    stream = dict((k, v) for k, v in answer["stream"])
    # Written as ASCII: read the same as UTF-8 text (a Reader) and as ISO-8859-1 bytes (an InputStream).
    assert reader == stream
    return reader


# ------------------------------------------------------------------------------------------------ the writer

def test_the_issue_example_a_trailing_backslash_does_not_swallow_the_next_line(jdk):
    text, _report = merge_properties(None, {"codecs": "opus\\", "ip": "203.0.113.4"})
    assert java_reads(jdk, text) == {"codecs": "opus\\", "ip": "203.0.113.4"}
    # and what an unescaped writer produced (the bug): Java reads no ip
    assert jdk.maps(["codecs=opus\\\nip=203.0.113.4\n"])[0] == {"codecs": "opusip=203.0.113.4"}


def test_normal_values_stay_readable(jdk):
    managed = {"codecs": "opus,alaw,pcma", "ip": "203.0.113.4", "ip_local": "2001:db8::1", "media_port_from": 31001,
               "rtp_bundle": True, "list": ["h264", "vp8"], "note": "a #b !c =d :e"}
    text, _report = merge_properties(None, managed)
    assert text.splitlines()[1:] == ["codecs=opus,alaw,pcma", "ip=203.0.113.4", "ip_local=2001:db8::1",
                                     "media_port_from=31001", "rtp_bundle=true", "list=h264,vp8",
                                     "note=a #b !c =d :e"]
    assert java_reads(jdk, text) == dict(validate_properties(managed))


@SETTINGS
@given(pairs=st.dictionaries(TEXT, TEXT, max_size=40))
def test_store_line_round_trips_any_key_and_value(jdk, pairs):
    """The writer itself is total: any key and value, including every line-breaking character, is read back."""
    text = "".join(store_line(k, v) + "\n" for k, v in pairs.items())
    assert all(" " <= c <= "~" for c in text.replace("\n", ""))  # plain printable ASCII, one line per entry
    assert len(text.splitlines()) == len(pairs)
    assert java_reads(jdk, text) == pairs
    assert dict(parse_properties(text)) == pairs


SCALARS = st.one_of(TEXT, st.integers(), st.floats(), st.booleans(), st.none(), st.binary(max_size=3))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=2)), max_leaves=5)
KEYS = st.one_of(st.from_regex(r"\A[A-Za-z0-9_.-]{1,12}\Z"), TEXT)


def _refusable(value, top=True):
    """Why a value must be refused (None: it may be written)."""
    if value is None:
        return None if top else "None inside a list"
    if isinstance(value, (dict, bytes)):
        return type(value).__name__
    if isinstance(value, float) and not math.isfinite(value):
        return "not finite"
    if isinstance(value, list):
        if not top:
            return "nested list"
        return next((why for why in (_refusable(v, False) for v in value) if why), None)
    return None


def _spell(value):
    """How a value must read in the file: true/false, digits, plain decimals, text as it is, lists joined."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return format(decimal.Decimal(text), "f") if "e" in text else text
    if isinstance(value, list):
        return ",".join(_spell(v) for v in value)
    return value


def _means(text, value):
    """``text`` (what Java read) means ``value``, in our spelling, never in Python's."""
    if isinstance(value, float):
        assert "e" not in text and "n" not in text and float(text) == value
    return text == _spell(value)


@SETTINGS
@given(managed=st.dictionaries(KEYS, VALUES, max_size=12))
def test_managed_values_are_read_back_by_java_or_refused(jdk, managed):
    """Through the public writer (merge_properties): each value is refused with a PlanError naming it, or Java
    reads exactly what was asked, spelled as Java and WCS mean it (true/false, digits, plain decimals)."""
    accepted = {}
    for key, value in managed.items():
        try:
            validate_properties({key: value}, "wcs_extra_properties")
        except PlanError as err:
            assert err.field.startswith("wcs_extra_properties") and "Fix:" in str(err)
            continue
        assert _refusable(value) is None, "accepted %r for %r" % (value, key)
        accepted[key] = value
    text, _report = merge_properties(None, accepted)
    read = java_reads(jdk, text)
    assert set(read) == {k for k, v in accepted.items() if v is not None}
    for key, text_read in read.items():
        assert _means(text_read, accepted[key]), (key, accepted[key], text_read)


# ------------------------------------------------------------------------------------------------ the reader

LINES = st.lists(st.one_of(st.sampled_from(NASTY + ["\\\n", "\\\r\n", "\\\\\n", "  ", "#", "!", "k", "v", "\\uZZ",
                                                    "\\u0041", "\n\n", "\\\n#c\n"]),
                           st.text(max_size=3)), max_size=24).map("".join)


@SETTINGS
@given(texts=st.lists(LINES, min_size=1, max_size=20))
def test_parse_properties_reads_what_java_reads(jdk, texts):
    """Continuations, comments, blank lines, separators, escapes, CR/LF/CRLF, U+2028, U+001E, U+0085...: the
    collection's parser and Java's agree on every file (a file Java refuses has a malformed \\uXXXX)."""
    for text, java in zip(texts, jdk.maps(texts)):
        if java is None:
            assert "\\u" in text
            continue
        assert dict(parse_properties(text)) == java, text


@SETTINGS
@given(existing=st.lists(LINES, min_size=1, max_size=8),
       managed=st.dictionaries(st.sampled_from(["ip", "k", "v", "codecs", "a.b", "u"]),
                               st.one_of(st.text(alphabet="abc,.:=#!\\ /", max_size=8), st.integers(),
                                         st.booleans()),
                               max_size=4))
def test_a_rewrite_keeps_what_java_read_from_hand_lines(jdk, existing, managed):
    """Merging into any existing file: Java reads the managed values, and every other entry exactly as it read
    it before the rewrite (lines with U+2028 or U+001E are not split, a continued line stays one entry, a last
    line ending in a backslash does not swallow the appended keys)."""
    existing = [t for t in existing if MANAGED_MARK not in t]
    before = jdk.maps(existing)
    merged = [merge_properties(text, managed)[0] for text in existing]
    after = jdk.maps(merged)
    want = validate_properties(managed)
    for text, result, java_before, java_after in zip(existing, merged, before, after):
        if java_before is None:
            continue  # a malformed \uXXXX in a hand line: Java refuses the file before and after alike
        expected = {k: v for k, v in java_before.items() if k not in want}
        expected.update(want)
        assert java_after == expected, (text, result)
        assert dict(parse_properties(result)) == expected
        assert merge_properties(result, managed)[0] == result  # a second run changes nothing


def test_lines_with_u2028_or_u001e_survive_a_rewrite(jdk):
    existing = "note=a\u2028b=c\nother=x\x1ey\n# comment\u2028not=a key\nip=198.51.100.9\n"
    assert jdk.maps([existing])[0] == {"note": "a\u2028b=c", "other": "x\x1ey", "ip": "198.51.100.9"}
    text, report = merge_properties(existing, {"ip": "203.0.113.4"})
    assert report["kept"] == ["note", "other"] and report["updated"] == ["ip"]
    # (the hand lines are UTF-8: read as text, as Java reads them with a Reader)
    assert jdk.maps([text])[0] == {"note": "a\u2028b=c", "other": "x\x1ey", "ip": "203.0.113.4"}
    assert text.split("\n")[1:4] == existing.split("\n")[0:3]  # kept byte for byte


def test_escape_value_keeps_inner_blanks_and_escapes_the_leading_one(jdk):
    value = "  two leading, one trailing "
    assert escape_value(value) == "\\  two leading, one trailing "
    assert java_reads(jdk, "k=%s\n" % escape_value(value)) == {"k": value}

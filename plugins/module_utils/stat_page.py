# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: parse (and render) the WCS statistics page, ``GET /?action=stat`` on port 8081.

The rule is the one Flashphoner's Web SDK applies, not any particular spelling of the headers: a line that starts
with dashes is a section header whose name is the first word matched by ``-+([A-z]+)``, lower-cased
(``-----Connection Stats-----`` -> ``connection``); every other non-empty line is ``key=value``. Values become
numbers or booleans when they read as such, else stay strings. Numbers are ASCII digits only, integers of at most
``bounded.MAX_INT_DIGITS`` digits, finite floats of at most ``bounded.MAX_NUMBER_CHARS`` characters: anything else
(``'²'``, ``'٣'``, a number of 5,000 digits, ``1e999``) stays a string. Any text parses; the size of the page is
the reader's bound (``wcs_client.MAX_PAGE_BYTES``).
"""
from __future__ import annotations

import re

from ansible_collections.mediaops.wcs.plugins.module_utils import bounded

HEADER = re.compile(r"^-+([A-z]+)")
# Keys seen before any header land in this section.
TOP_SECTION = "general"
_INT = re.compile(r"\A[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"\A[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?\Z")


def convert_value(text):
    """'12' -> 12, '1.5' -> 1.5, 'true' -> True, anything else stays the (stripped) string."""
    value = text.strip()
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        if _INT.match(value):
            return bounded.parse_int(value, "value")
        if _FLOAT.match(value):
            return bounded.parse_float(value, "value")
    except bounded.BoundedReadError:
        pass  # too many digits, or not finite: not a number this page can mean
    return value


def parse_sections(text):
    """{section: {key: value}} in page order. A key repeated within a section keeps its last value."""
    sections = {}
    current = TOP_SECTION
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("-"):
            match = HEADER.match(line)
            if match:
                current = match.group(1).lower()
                sections.setdefault(current, {})
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            continue
        sections.setdefault(current, {})[key.strip()] = convert_value(value)
    return sections


def flatten(sections):
    """One {key: value} dict across sections (a key in a later section wins, as on the page)."""
    flat = {}
    for values in sections.values():
        flat.update(values)
    return flat


def parse_stat_page(text):
    """(stats, sections): the flat key/value dict and the per-section dict."""
    sections = parse_sections(text)
    return flatten(sections), sections


def _render_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_stat_page(sections):
    """The page text for {section: {key: value}} (inverse of parse_sections for section names made of
    letters and keys/values without newlines or a leading/trailing blank)."""
    lines = []
    for name, values in sections.items():
        if name != TOP_SECTION or lines:
            lines.append("-----%s Stats-----" % name.capitalize())
        for key, value in values.items():
            lines.append("%s=%s" % (key, _render_value(value)))
    return "\n".join(lines) + "\n"


STREAM_COUNTER = re.compile(r"^streams_[a-z]+_(in|out)$")


def stream_count_from_stats(stats):
    """Sum of the per-type stream counters (``streams_webrtc_in``, ``streams_rtmp_out``, ...)."""
    return sum(v for k, v in stats.items()
               if STREAM_COUNTER.match(k) and isinstance(v, int) and not isinstance(v, bool))

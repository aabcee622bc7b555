# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one home of sizes (heap, memory limits, RAM) and counts (how many containers).

Pure Python (no Ansible, no Docker). Sizes use the binary suffixes the JVM (``-Xmx6g``) and Docker (``-m 24g``)
share: ``k``, ``m``, ``g``, ``t`` (case-insensitive, optionally followed by ``i`` and/or ``b``: ``6g``, ``6G``,
``6GB``, ``6GiB`` are all 6 x 2^30 bytes), a bare number or ``b`` suffix is bytes. Decimal fractions are accepted
when they come to whole bytes (``1.5g``). Refused with a PlanError (never a traceback): negative, zero, NaN and
infinity, fractions of a byte, non-ASCII digits, sizes above ``MAX_SIZE`` (1 PiB).
"""
from __future__ import annotations

import math
import re

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import check_int, short

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30
TIB = 1 << 40
MAX_SIZE = 1 << 50  # 1 PiB: far above any host's RAM, far below anything that would overflow the engine
MAX_COUNT = 8192  # containers per host: never more than CPU ids (cpusets.MAX_CPU_ID + 1)
_SIZE = re.compile(r"\A([0-9]{1,20})(?:\.([0-9]{1,20}))?[ \t]*(?:([kmgtKMGT])[iI]?)?[bB]?\Z")
_UNITS = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": TIB}
_SIZE_FIX = "give a size such as '6g', '512m', '2GiB' or a whole number of bytes"


def parse_size(value, field="size", maximum=MAX_SIZE):
    """``"6g"``, ``"512m"``, ``"1.5G"``, ``"2GiB"``, an int of bytes (or a whole float) -> bytes."""
    if isinstance(value, bool) or value is None:
        raise PlanError(field, short(value), _SIZE_FIX)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise PlanError(field, short(value), _SIZE_FIX, why="not a whole number of bytes")
        value = int(value)
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        match = _SIZE.match(value.strip(" \t\r\n")) if len(value) <= 64 else None
        if not match:
            raise PlanError(field, short(value), _SIZE_FIX)
        whole, fraction, unit = match.group(1), match.group(2) or "", (match.group(3) or "").lower()
        scaled = int(whole + fraction) * _UNITS[unit]
        size, rest = divmod(scaled, 10 ** len(fraction))
        if rest:
            raise PlanError(field, short(value), _SIZE_FIX, why="it is not a whole number of bytes")
    else:
        raise PlanError(field, short(value), _SIZE_FIX)
    if size <= 0:
        raise PlanError(field, short(value), "give a positive size such as '6g'")
    if size > maximum:
        raise PlanError(field, short(value), "give a size of at most %s" % format_size(maximum), why="too large")
    return size


def format_size(size):
    """Bytes -> JVM / Docker syntax: ``6g`` when whole GiB, else ``512m`` (whole MiB), else ``k``/bytes."""
    for unit, factor in (("g", GIB), ("m", MIB), ("k", KIB)):
        if size % factor == 0:
            return "%d%s" % (size // factor, unit)
    return str(size)


def parse_count(value, field="count", maximum=MAX_COUNT, minimum=1, fix=None):
    """How many of something (containers, sessions, file descriptors): a whole number from ``minimum`` (ints,
    ``"2"``, ``2.0``; never ``True``, 1.5, ``"1.5"``, a negative number, Unicode digits or control characters):
    the shared integer kind, validate.check_int."""
    fix = fix or "give the number of WCS containers as a whole number >= %d (at most %d)" % (minimum, maximum)
    if isinstance(value, str) and value.strip(" \t")[:1] in ("+", "-"):
        raise PlanError(field, value, fix, why="a count is written without a sign")
    return check_int(value, field, low=minimum, high=maximum, fix=fix)

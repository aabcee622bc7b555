# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one home of cpuset syntax: the kernel's cpulist (``0-3,8,10-11``), as cpuset files, ``/sys/.../online``,
``Cpus_allowed_list``, ``isolcpus=`` and Docker's ``--cpuset-cpus`` write it.

Standard library only (plus errors.py next to it), so the timer probe still runs as a plain script from this
directory on a host without the collection.

Parsing is strict, because a cpuset a user types ends up pinning processes:

* ASCII digits only (Python's ``int()`` also reads Arabic-Indic and other Unicode digits: refused);
* ASCII blanks around commas are allowed, blanks inside a number or a range are not (``"1 0"`` is not CPU 10);
* CPU ids run from 0 to ``MAX_CPU_ID`` (the kernel's largest NR_CPUS), checked before a range is expanded, so
  ``"0-99999999"`` is an error, not a list of 100 million ids;
* ranges run upwards (``"3-1"`` is refused); kernel stride syntax (``0-7:2/4``) is refused;
* ints and lists/tuples/sets of ints or strings are accepted; booleans, floats and other types are refused.

Formatting prints what the kernel prints in cpuset files: runs of two or more as ranges (``[0, 1]`` -> ``"0-1"``).
"""
from __future__ import annotations

import re

try:
    from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
except ImportError:  # run as a plain script next to errors.py (timer probe on a host without the collection)
    from errors import PlanError  # type: ignore[no-redef]

MAX_CPU_ID = 8191
_PART = re.compile(r"\A([0-9]+)(?:-([0-9]+))?\Z")
_BLANKS = " \t\r\n"
_FIX = "write CPU ids and ranges separated by commas, e.g. '0-3,8' (or give a list of CPU ids)"


def parse_cpuset(value, field="cpuset"):
    """``"0-3,8,10-11"`` -> ``[0, 1, 2, 3, 8, 10, 11]`` (sorted, unique). Also takes ints and lists; None -> []."""
    if value is None:
        return []
    if isinstance(value, bool):
        raise PlanError(field, value, _FIX, why="a boolean is not a CPU id")
    if isinstance(value, int):
        return [_cpu_id(value, field, value)]
    if isinstance(value, (list, tuple, set, frozenset)):
        ids = set()
        for item in value:
            if isinstance(item, (list, tuple, set, frozenset, dict)):
                raise PlanError(field, _short(value), _FIX, why="%s is nested in the list" % _short(item))
            ids.update(parse_cpuset(item, field))
        return sorted(ids)
    if not isinstance(value, str):
        raise PlanError(field, _short(value), _FIX, why="a %s is not a cpuset" % type(value).__name__)
    ids = set()
    for raw in value.split(","):
        part = raw.strip(_BLANKS)
        if not part:
            continue  # "" and a trailing comma, as the kernel's own lists allow
        match = _PART.match(part)
        if not match:
            raise PlanError(field, _short(value), _FIX,
                            why="%r is not a CPU id or a low-high range of ASCII digits" % _short(part, 20))
        low = _number(match.group(1), field, value)
        high = _number(match.group(2), field, value) if match.group(2) is not None else low
        if high < low:
            raise PlanError(field, _short(value), "write ranges low-high, e.g. '%d-%d'" % (high, low),
                            why="range %r runs backwards" % part)
        ids.update(range(low, high + 1))
    return sorted(ids)


def format_cpuset(ids):
    """``[0, 1, 2, 3, 8, 9]`` -> ``"0-3,8-9"`` (kernel cpulist / Docker ``--cpuset-cpus`` syntax); [] -> ``""``."""
    ordered = sorted({_cpu_id(cpu, "cpuset", ids) for cpu in ids})
    parts = []
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        parts.append(str(ordered[index]) if end == index else "%d-%d" % (ordered[index], ordered[end]))
        index = end + 1
    return ",".join(parts)


def canonical_cpuset(value, field="cpuset"):
    """Any accepted spelling -> the one ``format_cpuset`` prints (``"1,0, 2"`` -> ``"0-2"``)."""
    return format_cpuset(parse_cpuset(value, field))


def _number(digits, field, value):
    # Checked on the digits, so int() never sees a huge string and no range is expanded past MAX_CPU_ID.
    if len(digits) > len(str(MAX_CPU_ID)) or int(digits) > MAX_CPU_ID:
        raise PlanError(field, _short(value), "use CPU ids from 0 to %d" % MAX_CPU_ID,
                        why="CPU id %s is out of range" % _short(digits, 20))
    return int(digits)


def _cpu_id(cpu, field, value):
    if isinstance(cpu, bool) or not isinstance(cpu, int):
        raise PlanError(field, _short(value), _FIX, why="%s is not a whole number" % _short(cpu, 20))
    if not 0 <= cpu <= MAX_CPU_ID:
        raise PlanError(field, _short(value), "use CPU ids from 0 to %d" % MAX_CPU_ID,
                        why="CPU id %s is out of range" % _short(cpu, 20))
    return cpu


def _short(value, limit=80):
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit - 3] + "..."
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return "(a number too long to show)"  # repr() itself raises past 4300 digits
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return type(value).__name__
    return value if len(text) <= limit else text[:limit - 3] + "..."

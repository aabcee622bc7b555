# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole numbers of a module's arguments, checked before ``AnsibleModule`` parses them.

Ansible converts an ``int`` option with ``Decimal`` and ``int``: a 5,000-digit string becomes a number that
``AnsibleModule`` then cannot even log (Python refuses to print an int of more than 4,300 digits: a traceback before
the module's first line), ``'٣'`` reads as 3, and a negative or huge timeout reaches ``socket.settimeout`` or
``time.sleep``. ``new_module(AnsibleModule, argument_spec, ...)`` reads the arguments as Ansible handed them
(``_load_params``; AnsibleModule reads them again from the same buffer), checks every ``int`` option, at the top
level and inside ``list``/``dict`` suboptions, for ASCII digits (at most 18) and the option's declared range, and
answers with the module's ordinary failure (``fail_json``: ``msg`` naming the option, the value and the fix) before
any of the module's code runs. Options without a declared range get ``DEFAULT_BOUNDS``. The module passes its
``AnsibleModule`` class in, so it still imports it as every Ansible module does.
"""
from __future__ import annotations

import json
import math
import re

from ansible.module_utils import basic

DIGITS = re.compile(r"\A *([+-]?[0-9]{1,18}) *\Z", re.ASCII)
# a whole number any option of this collection may hold at all: ports, timeouts, counts, days
DEFAULT_BOUNDS = (0, 10 ** 9)
# The range of every whole-number option, by name, declared once for all modules (a suboption by its own name).
# Timeouts agree with bounded.check_timeout; ports are TCP/UDP ports.
BOUNDS = {
    "timeout": (1, 86400),
    "wait_timeout": (1, 86400),
    "port": (1, 65535),
    "stat_port": (1, 65535),
    "media_port_from": (1, 65535),
    "media_port_to": (1, 65535),
    "min_days": (0, 3650),
}
SHOWN = 40


def _shown(value):
    text = repr(value)
    return text if len(text) <= SHOWN else "%s... (%d characters)" % (text[:SHOWN], len(text))


def int_problem(value, field, low, high):
    """Why ``value`` is not a whole number of ``low``..``high`` for ``field`` (a sentence with the fix), else None."""
    fix = "give a whole number from %d to %d in ASCII digits" % (low, high)
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e18:
            number = int(value)
    elif isinstance(value, str):
        match = DIGITS.match(value)
        if match:
            number = int(match.group(1))
    if number is None or not low <= number <= high:
        return "%s: %s is wrong: not a whole number from %d to %d. Fix: %s." % (field, _shown(value), low, high, fix)
    return None


def _problems(spec, params, bounds, prefix, path=()):
    """(path in the arguments, low, problem) of every unsound whole number below ``params``."""
    for name, option in spec.items():
        if not isinstance(params, dict) or params.get(name) is None:
            continue
        value = params[name]
        field = prefix + name
        kind = option.get("type", "str")
        if kind == "int":
            low, high = bounds.get(field.replace("[]", ""), bounds.get(name, BOUNDS.get(name, DEFAULT_BOUNDS)))
            problem = int_problem(value, field, low, high)
            if problem:
                yield path + (name,), low, problem
        options = option.get("options")
        if options and kind == "dict" and isinstance(value, dict):
            yield from _problems(options, value, bounds, field + ".", path + (name,))
        elif options and kind == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                yield from _problems(options, item, bounds, field + "[].", path + (name, index))


def int_problems(argument_spec, params, bounds=None):
    """Every problem of the ``int`` options in ``params`` (raw module arguments) against ``argument_spec``."""
    return [problem for _path, _low, problem in _problems(argument_spec, params, bounds or {}, "")]


def _set(args, path, value):
    for step in path[:-1]:
        args = args[step]
    args[path[-1]] = value


def new_module(module_class, argument_spec, bounds=None, **kwargs):
    """``module_class(argument_spec=argument_spec, **kwargs)`` (``AnsibleModule``) once the whole numbers are known
    to be sound. An unsound one is replaced, in the arguments AnsibleModule is about to read, by the low end of its
    range (so that AnsibleModule can be built and log the call), and the module fails at once with every problem:
    the module's ordinary ``fail_json`` answer, before any of its code runs.

    ``bounds``: ``{option: (low, high)}`` where an option's range differs from ``BOUNDS``; a suboption is named
    ``parent.option`` (``containers.wait_timeout``)."""
    found = list(_problems(argument_spec, basic._load_params(), bounds or {}, ""))
    if found:
        # the raw buffer, not the decoded values: anything else in it reaches AnsibleModule exactly as sent
        raw = json.loads(basic._ANSIBLE_ARGS)
        for path, low, _problem in found:
            _set(raw["ANSIBLE_MODULE_ARGS"], path, low)
        basic._ANSIBLE_ARGS = json.dumps(raw).encode("utf-8")
    module = module_class(argument_spec=argument_spec, **kwargs)
    if found:
        module.fail_json(msg=" ".join(problem for _path, _low, problem in found))
    return module

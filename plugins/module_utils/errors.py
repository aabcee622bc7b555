"""The one error type of the planning code: it names the field, the bad value and the fix.

Pure Python (no Ansible, no Docker): modules turn it into ``fail_json(msg=str(err))``, filters into
``AnsibleFilterError(str(err))``.
"""
from __future__ import annotations


class PlanError(ValueError):
    """Bad planning input. ``str(err)`` reads ``<field>: <value> is wrong: <why>. Fix: <fix>``."""

    def __init__(self, field, value, fix, why=None):
        self.field = field
        self.value = value
        self.fix = fix
        self.why = why
        msg = "%s: %s" % (field, _shown(value))
        msg += " is wrong: %s." % why if why else " is wrong."
        msg += " Fix: %s" % fix
        super().__init__(msg)


def _shown(value):
    """repr() of the bad value; a value whose repr() itself fails (an int of more than 4300 digits raises
    ValueError) is shown by its type, so building the error never raises another one."""
    try:
        return repr(value)
    except (ValueError, RecursionError, TypeError):
        return "<%s that cannot be shown>" % type(value).__name__

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The typed variables of a deploy, checked once before anything is planned or changed.

Pure Python. ``check_plan_inputs({variable: value})`` applies the declared kind of each variable of the one input
model (``inputs.MODEL``: the same declaration the plan, the capacity and the CDN inputs are read with) and raises
``PlanError`` naming the variable, its value and the fix; any other variable given is checked as text (every string
inside it). Secrets are never echoed: their value shows as ``(hidden)``. Returns the values, normalised where a kind
normalises (paths, numbers, booleans).
"""
from __future__ import annotations

from ansible_collections.mediaops.wcs.plugins.module_utils import inputs as _model
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

SECRET_VARIABLES = _model.SECRETS
# variable -> its kind, from the one model (kept under this name for callers of the former table)
CHECKS = {name: inp.check for name, inp in _model.MODEL.items()}
MAX_VARIABLES = 1024


def check_plan_inputs(values):
    """Checks ``{variable: value}``; returns a copy with normalised values. PlanError on the first bad one."""
    if not isinstance(values, dict):
        raise PlanError("plan inputs", type(values).__name__, "give a mapping of variable name to value")
    if len(values) > MAX_VARIABLES:
        raise PlanError("plan inputs", "%d variables" % len(values), "give at most %d variables" % MAX_VARIABLES)
    out = {}
    for name in sorted(values, key=str):
        if not isinstance(name, str):
            raise PlanError("plan inputs", repr(name)[:80], "name the variables with strings")
        check = CHECKS.get(name, _model.any_text)
        out[name] = check(values[name], name)
    users = (out.get("wcs_monitoring_web_config") or {}).get("basic_auth_users") or {}
    if users and "wcs_monitoring_scrape_username" in out:
        user = out["wcs_monitoring_scrape_username"]
        if user not in users or not out.get("wcs_monitoring_scrape_password"):
            raise PlanError("wcs_monitoring_scrape_username", user, "name one of the basic_auth_users (%s) and set "
                            "wcs_monitoring_scrape_password, so Prometheus can scrape what it protects"
                            % ", ".join(sorted(users)), why="Prometheus would be refused")
    return out

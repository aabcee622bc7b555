"""converge: what site does to each container of a host, and which changes go the rolling way.

A thin wrapper over plugins/module_utils/converge.py (pure, unit-tested); documented in converge.yml.
"""
from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.mediaops.wcs.plugins.module_utils import converge as _converge
from ansible_collections.mediaops.wcs.plugins.plugin_utils.plain import plain as _plain


def converge(check, config_changed=None, disruptive=False, force=False, drain_timeout=0, host=""):
    if not isinstance(check, Mapping):
        raise AnsibleFilterError("mediaops.wcs.converge: pipe the check-mode result of mediaops.wcs.wcs_containers "
                                 "(got %s)" % type(check).__name__)
    decision = _converge.decide(_plain(check), _plain(config_changed) or (), disruptive=bool(disruptive),
                                force=bool(force), drain_timeout=int(drain_timeout or 0))
    decision["table"] = _converge.table(host, decision)
    return decision


class FilterModule:
    def filters(self):
        return {"converge": converge}

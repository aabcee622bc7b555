"""Rollout hook filter: checks wcs_rollout_hooks and gives one phase's hooks for one container.

A thin wrapper over plugins/module_utils/hooks.py (pure, unit-tested); a PlanError becomes an AnsibleFilterError with
the same message (variable, bad value with header values hidden, fix). Documented in rollout_hooks.yml.
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mediaops.wcs.plugins.module_utils import hooks as _hooks
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.plugin_utils.plain import plain as _plain


def rollout_hooks(value, phase=None, container=None, host="", image=""):
    try:
        if phase is None:
            return _hooks.check_hooks(_plain(value))
        return _hooks.hooks_for(_plain(value), phase, _plain(container), host=host, image=image)
    except PlanError as err:
        raise AnsibleFilterError("mediaops.wcs.rollout_hooks: %s" % err)


class FilterModule:
    def filters(self):
        return {"rollout_hooks": rollout_hooks}

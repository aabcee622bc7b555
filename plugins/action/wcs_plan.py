# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of mediaops.wcs.wcs_plan (documentation: plugins/modules/wcs_plan.py).

Reads the host's topology (one run of mediaops.wcs.host_facts on the host; a recorded tree on the controller's own
filesystem is read in this process when the connection is local), then computes the whole plan on the controller
with module_utils/host_plan.plan_host. Nothing on the host changes.
"""
from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.host_plan import plan_host, plan_table
from ansible_collections.mediaops.wcs.plugins.module_utils.inputs import MODEL, OPTIONS as MODEL_OPTIONS
from ansible_collections.mediaops.wcs.plugins.module_utils.plan_inputs import check_plan_inputs
from ansible_collections.mediaops.wcs.plugins.module_utils.topology import read_topology
from ansible_collections.mediaops.wcs.plugins.plugin_utils.plain import plain as _plain

# option -> role variable, from the one input model (module_utils/inputs.py); the plan's inputs go to plan_host
OPTIONS = {option: name for option, name in MODEL_OPTIONS.items() if MODEL[name].scope == "plan"}
EXTRA_OPTIONS = ("host_facts_root", "deploy_variables")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(list(OPTIONS) + list(EXTRA_OPTIONS))

    def _topology(self, root, task_vars):
        """(topology, None) or (None, failed result)."""
        if root and os.path.abspath(root) != "/" and self._connection.transport == "local":
            try:
                return read_topology(root, gather=("cpu", "memory", "interfaces")), None
            except (PlanError, OSError) as err:
                return None, {"failed": True, "msg": "wcs_host_facts_root: %r could not be read: %s" % (root, err)}
        result = self._execute_module(module_name="mediaops.wcs.host_facts", module_args={"root": root or "/"},
                                      task_vars=task_vars)
        if result.get("failed"):
            return None, result
        return result["ansible_facts"]["wcs_host"], None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = _plain(dict(self._task.args))
        try:  # what the deploy writes besides the plan (property maps, JVM options, secrets): refused before anything
            root = MODEL["wcs_host_facts_root"].check(args.pop("host_facts_root", ""), "wcs_host_facts_root")
            check_plan_inputs(args.pop("deploy_variables", None) or {})
        except PlanError as err:
            result.update(failed=True, msg=str(err), field=err.field)
            return result
        topology, failure = self._topology(root, task_vars)
        if failure:
            result.update(failure)
            return result
        try:
            plan = plan_host(topology, {OPTIONS[k]: v for k, v in args.items()},
                             host=task_vars.get("inventory_hostname"))
        except PlanError as err:
            result.update(failed=True, msg=str(err), field=err.field)
            return result
        result.update(changed=False, table=plan_table(plan),
                      ansible_facts={"wcs_host": topology, "wcs_plan": plan})
        return result

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of mediaops.wcs.host_tuning_facts (documentation and the host-side code: the module).

The audit of a live host runs the module there. A recorded tree (``root`` other than ``/``) on the controller's own
filesystem, with a local connection, is audited in this process: the same function (module_utils/host_tuning
audit_result), without a module run per host, so that `preflight` over many recorded hosts stays cheap.
"""
from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.mediaops.wcs.plugins.module_utils import host_tuning
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.plugin_utils.plain import plain as _plain


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = _plain(dict(self._task.args))
        root = args.get("root") or "/"
        if self._connection.transport != "local" or host_tuning.is_live_root(root):
            result.update(self._execute_module(module_name="mediaops.wcs.host_tuning_facts",
                                               module_args=self._task.args, task_vars=task_vars))
            return result
        try:
            result.update(host_tuning.audit_result(args.get("plan"), root,
                                                   args.get("record_path") or host_tuning.RECORD_PATH,
                                                   container_ids=(), pids=args.get("process_pids") or ()))
        except (PlanError, OSError) as err:
            result.update(failed=True, msg=str(err))
            return result
        result["changed"] = False
        return result

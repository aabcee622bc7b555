#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: haproxy_server
short_description: Set a HAProxy server to drain, ready or maint over the runtime API (admin socket)
description:
  - Reads the server's administrative state with C(show servers state <backend>) and, when it differs, sends
    C(set server <backend>/<server> state <state>) over HAProxy's admin socket (C(stats socket ... level admin)).
  - V(drain) stops new connections to the server (HAProxy keeps the established ones and keeps health-checking
    it); V(ready) takes it back; V(maint) stops all traffic. This is what the HAProxy example hook of the
    rollout uses (C(examples/hooks/haproxy.yml)).
  - community.general.haproxy is not used because it is not part of ansible-core; this module needs nothing but
    the socket.
  - Idempotent. Check mode reads and reports, changes nothing.
version_added: 1.2.0
author:
  - mediaops engineering (@mediaops)
attributes:
  check_mode:
    description: Reads the state and reports what would change.
    support: full
  diff_mode:
    description: Shows the server's administrative state before and after.
    support: full
options:
  socket:
    description: Path of HAProxy's admin socket on the host the module runs on (C(stats socket <path> level admin)).
    type: path
    required: true
  backend:
    description: The backend (or listen section) name.
    type: str
    required: true
  server:
    description: The server name inside O(backend).
    type: str
    required: true
  state:
    description: The administrative state to set.
    type: str
    choices: [ready, drain, maint]
    required: true
  timeout:
    description:
      - Seconds for each exchange with the socket, in total (connect, command, the whole answer); a socket that
        answers slowly or never ends its answer fails the task at this deadline. From 1 to 86400.
      - An answer longer than 4 MiB, or without the columns of C(show servers state) the state needs, fails the
        task with a message.
    type: int
    default: 10
seealso:
  - name: HAProxy management guide, runtime API
    description: C(set server <backend>/<server> state [ ready | drain | maint ]) and C(show servers state).
    link: https://docs.haproxy.org/2.6/management.html#9.3
"""

EXAMPLES = r"""
- name: Stop new connections to wcs-1 before its drain
  mediaops.wcs.haproxy_server:
    socket: /run/haproxy/admin.sock
    backend: wcs
    server: wcs-1
    state: drain
  delegate_to: lb1.example.net
"""

RETURN = r"""
previous:
  description: The administrative state before (V(ready), V(drain) or V(maint)).
  returned: success
  type: str
  sample: ready
state:
  description: The administrative state now (in check mode, the one it would be).
  returned: success
  type: str
  sample: drain
operational_state:
  description: HAProxy's C(srv_op_state) (0 stopped, 1 starting, 2 running, 3 stopping).
  returned: success
  type: int
  sample: 2
command:
  description: The runtime API command sent (or that would be sent); empty when nothing changed.
  returned: success
  type: str
  sample: set server wcs/wcs-1 state drain
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils.bounded import MAX_TIMEOUT, check_timeout
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.haproxy import (
    HAProxyError, check_name, run, server_state, set_command)


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=dict(
            socket=dict(type="path", required=True),
            backend=dict(type="str", required=True),
            server=dict(type="str", required=True),
            state=dict(type="str", choices=["ready", "drain", "maint"], required=True),
            timeout=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        check_timeout(p["timeout"], "timeout", lo=1, hi=MAX_TIMEOUT)
        backend, server = check_name(p["backend"], "backend"), check_name(p["server"], "server")
        command = set_command(backend, server, p["state"])
        where = "%s/%s on %s" % (backend, server, p["socket"])
        previous, op_state, _bits = server_state(run(p["socket"], "show servers state %s" % backend, p["timeout"]),
                                                 server)
        result = dict(changed=previous != p["state"], previous=previous, state=p["state"],
                      operational_state=op_state, command=command if previous != p["state"] else "")
        if module._diff:
            result["diff"] = dict(before="%s: %s\n" % (where, previous), after="%s: %s\n" % (where, p["state"]))
        if result["changed"] and not module.check_mode:
            answer = run(p["socket"], command, p["timeout"]).strip()
            if answer:  # HAProxy answers nothing on success
                module.fail_json(msg="HAProxy refused '%s': %s" % (command, answer[:300]), **result)
            now, op_state, _bits = server_state(run(p["socket"], "show servers state %s" % backend, p["timeout"]),
                                                server)
            if now != p["state"]:
                module.fail_json(msg="%s is %s after '%s' (an inherited state - track or resolver - may hold it)"
                                 % (where, now, command), **result)
            result["operational_state"] = op_state
    except PlanError as err:
        module.fail_json(msg=str(err))
    except HAProxyError as err:
        module.fail_json(msg="%s/%s: %s" % (p["backend"], p["server"], err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

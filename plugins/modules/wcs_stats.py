#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: wcs_stats
short_description: Read a WCS statistics page and stream list, optionally end the streams
description:
  - Reads the Web Call Server statistics page (C(GET /?action=stat) on port 8081) and returns it parsed, numbers
    as numbers and booleans as booleans, plus optionally the stream list of the REST API
    (C(POST /rest-api/stream/find_all) with C({}), falling back to GET).
  - With O(container) the request is made from inside that container's network namespace (the host cannot reach
    its own ipvlan/macvlan containers through the parent); this needs root on the Docker host and a local engine.
    With O(url) it is made directly, e.g. through a host-side shim interface or from another host.
  - A page that does not answer is not an error; RV(up) is V(false) and RV(msg) says why. A container that does
    not exist is an error.
  - Changes nothing unless O(terminate=true), which ends every open stream through the REST API
    (C(POST /rest-api/stream/terminate) with C({})), e.g. at the end of a drain before an update.
version_added: 1.0.0
author:
  - mediaops engineering (@mediaops)
extends_documentation_fragment:
  - mediaops.wcs.docker
attributes:
  check_mode:
    description: Reads as usual; with O(terminate=true) it reports the streams it would end and ends none.
    support: full
  diff_mode:
    description: Ending streams has no before/after to show; RV(terminated) says how many.
    support: none
options:
  container:
    description:
      - Name or id of the WCS container to ask from inside its network namespace.
      - Exactly one of O(container) and O(url) is required.
    type: str
  url:
    description:
      - Base URL of the WCS HTTP port, e.g. V(http://203.0.113.4:8081). The path is ignored and O(port) is not used.
    type: str
  port:
    description:
      - WCS HTTP port inside the container (with O(container)).
    type: int
    default: 8081
  timeout:
    description:
      - Seconds for the page, in total (connect, request, the whole answer); separately as much for the stream
        list (with its fallback), for the CDN call and for ending the streams. A server that answers slowly or
        never ends its answer is RV(up=false) at this deadline. Also the engine call timeout. From 1 to 86400.
      - The page is read up to 1 MiB, the JSON answers up to 4 MiB, nested at most 64 deep, with integers of at
        most 30 digits; an answer past a bound counts as no answer.
    type: int
    default: 5
  streams:
    description:
      - Also fetch the stream list. A 404 or an empty answer means no streams.
    type: bool
    default: false
  terminate:
    description:
      - End every open stream (C(POST /rest-api/stream/terminate) with C({})) when the stream list or the page's
        counters show any. Reports changed when it ended streams; a server that does not answer is left alone
        (RV(up=false)).
    type: bool
    default: false
    version_added: 1.1.0
  cdn_nodes:
    description:
      - Also ask the CDN nodes this server sees (C(POST /rest-api/cdn/show_nodes) with C({}), Flashphoner CDN
        documentation - every visible node's state, the asked node itself excluded), returned in RV(cdn_nodes).
      - A server that answers the page but not this call is not an error - RV(cdn_msg) says why and
        RV(cdn_node_ready) is V(false), so a wait retries.
    type: bool
    default: false
    version_added: 1.2.0
  cdn_path:
    description: The CDN status call's path.
    type: str
    default: /rest-api/cdn/show_nodes
    version_added: 1.2.0
  cdn_node:
    description:
      - The id (CDN address, C(cdn_ip)) of a node to look for in the answer; RV(cdn_node_ready) says whether its
        entry has every key of O(cdn_expected). Implies O(cdn_nodes).
    type: str
    version_added: 1.2.0
  cdn_expected:
    description: The entry a ready node has, key by key (values compared as text).
    type: dict
    default: {globalState: ACTIVE, processingState: NEW_STREAMS_ALLOWED}
    version_added: 1.2.0
notes:
  - The connection options other than O(timeout) only matter with O(container).
seealso:
  - module: mediaops.wcs.wcs_containers
"""

EXAMPLES = r"""
- name: Health gate from inside the container's namespace
  mediaops.wcs.wcs_stats:
    container: wcs-1
  register: wcs1
  until: wcs1.up
  retries: 30
  delay: 2

- name: Drain check
  mediaops.wcs.wcs_stats:
    container: wcs-1
    streams: true
  register: wcs1
  until: wcs1.stream_count == 0
  retries: 60
  delay: 5

- name: End the streams still open after the drain (changed when there were any)
  mediaops.wcs.wcs_stats:
    container: wcs-1
    terminate: true

- name: Wait until the origin wcs-1 sees this edge (203.0.113.20) active in the CDN
  mediaops.wcs.wcs_stats:
    container: wcs-1
    cdn_node: 203.0.113.20
  register: origin_view
  until: origin_view.cdn_node_ready
  retries: 60
  delay: 2

- name: Through a shim interface or from the monitoring host
  mediaops.wcs.wcs_stats:
    url: http://203.0.113.4:8081
"""

RETURN = r"""
up:
  description: Whether the statistics page answered with HTTP 200.
  returned: always
  type: bool
  sample: true
msg:
  description: Why the page is not up.
  returned: when up is false
  type: str
stats:
  description: Every C(key=value) of the page in one flat dict (a key in a later section wins).
  returned: always
  type: dict
  sample: {connections: 12, streams_webrtc_in: 3, degraded_streams: 0, config_zgc: true}
sections:
  description: The page by section, the header word lower-cased (C(connection), C(stream), C(system), ...).
  returned: always
  type: dict
  sample: {connection: {connections: 12}, stream: {streams_webrtc_in: 3}}
streams:
  description: The REST API's stream list (C(find_all)); empty unless O(streams) or O(terminate), on a 404 or on no streams.
  returned: always
  type: list
  elements: dict
stream_count:
  description:
    - Number of streams. With O(streams=true) and a REST answer, the length of RV(streams); otherwise the sum of
      the page's C(streams_<type>_in) and C(streams_<type>_out) counters.
  returned: always
  type: int
  sample: 5
terminated:
  description: Streams that were open when O(terminate=true) ended them (would end them, in check mode); 0 otherwise.
  returned: always
  type: int
  sample: 2
degraded_streams:
  description: The page's C(degraded_streams) figure (0 when the page has none).
  returned: always
  type: int
  sample: 0
cdn_nodes:
  description: The CDN nodes the server sees (O(cdn_nodes) or O(cdn_node)); empty otherwise or when the call failed.
  returned: always
  type: list
  elements: dict
  sample: [{id: 203.0.113.4, role: ORIGIN, globalState: ACTIVE, processingState: NEW_STREAMS_ALLOWED}]
cdn_node_ready:
  description: Whether O(cdn_node) is listed with every key of O(cdn_expected); V(false) without O(cdn_node).
  returned: always
  type: bool
  sample: true
cdn_node_entry:
  description: The entry of O(cdn_node) in RV(cdn_nodes); empty when it is not listed.
  returned: always
  type: dict
  sample: {id: 203.0.113.20, role: EDGE, globalState: PASSIVE, processingState: NEW_STREAMS_ALLOWED}
cdn_msg:
  description: Why the CDN call gave no usable answer.
  returned: when the CDN call failed
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils import constants
from ansible_collections.mediaops.wcs.plugins.module_utils.bounded import MAX_TIMEOUT, check_timeout
from ansible_collections.mediaops.wcs.plugins.module_utils.cdn import EXPECTED_STATE, node_state
from ansible_collections.mediaops.wcs.plugins.module_utils.docker_client import (
    APIError, NotFound, docker_argument_spec, engine_error, engine_is_local, get_client)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.wcs_client import (
    WCSEndpoint, WCSUnavailable, degraded_streams, endpoint_from_url, stream_count)


def argument_spec():
    spec = docker_argument_spec(
        container=dict(type="str"),
        url=dict(type="str"),
        port=dict(type="int", default=constants.WCS_HTTP_PORT),
        streams=dict(type="bool", default=False),
        terminate=dict(type="bool", default=False),
        cdn_nodes=dict(type="bool", default=False),
        cdn_path=dict(type="str", default=constants.CDN_SHOW_NODES_PATH),
        cdn_node=dict(type="str"),
        cdn_expected=dict(type="dict", default=dict(EXPECTED_STATE)),
    )
    spec["timeout"] = dict(type="int", default=5)
    return spec


def _endpoint(module):
    """The WCSEndpoint to ask, or (None, why) when the container is not running."""
    p = module.params
    try:
        check_timeout(p["timeout"], "timeout", lo=1, hi=MAX_TIMEOUT)
        if not 1 <= p["port"] <= 65535:
            raise PlanError("port", p["port"], "give a TCP port from 1 to 65535")
    except PlanError as exc:  # BoundedReadError is one
        module.fail_json(msg=str(exc))
    if p["url"]:
        try:
            return endpoint_from_url(p["url"], timeout=p["timeout"]), None
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    if not engine_is_local(p):
        module.fail_json(msg="container: asking from inside a container's namespace needs the engine on this host "
                             "(docker_host=%s is remote). Fix: run the task on the Docker host, or use url."
                             % p["docker_host"])
    client = get_client(module)
    try:
        info = client.inspect_container(p["container"])
    except NotFound:
        module.fail_json(msg="container: %r does not exist on the engine at %s. Fix: name a running WCS container."
                             % (p["container"], p["docker_host"]))
    except APIError as exc:
        engine_error(module, exc, "inspect container %s" % p["container"])
    finally:
        client.close()
    state = info.get("State") or {}
    if not state.get("Running") or not state.get("Pid"):
        return None, "container %s is not running (status %s)" % (p["container"], state.get("Status"))
    return WCSEndpoint(port=p["port"], pid=state["Pid"], timeout=p["timeout"]), None


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=argument_spec(),
        required_one_of=[("container", "url")],
        mutually_exclusive=[("container", "url")],
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, up=False, stats={}, sections={}, streams=[], stream_count=0, degraded_streams=0,
                  terminated=0, cdn_nodes=[], cdn_node_ready=False, cdn_node_entry={})
    endpoint, why = _endpoint(module)
    if endpoint is None:
        module.exit_json(msg=why, **result)
    try:
        stats, sections = endpoint.stats()
    except WCSUnavailable as exc:
        module.exit_json(msg="statistics page did not answer: %s" % exc, **result)
    result.update(up=True, stats=stats, sections=sections, stream_count=stream_count(stats),
                  degraded_streams=degraded_streams(stats))
    if p["streams"] or p["terminate"]:
        try:
            streams = endpoint.streams()
        except WCSUnavailable as exc:
            module.fail_json(msg="stream list (%s) failed: %s" % (constants.STREAM_FIND_ALL_PATH, exc), **result)
        result["streams"] = streams
        if p["streams"]:
            result["stream_count"] = len(streams)
    if p["cdn_nodes"] or p["cdn_node"]:
        if not str(p["cdn_path"]).startswith("/") or any(c.isspace() for c in str(p["cdn_path"])):
            module.fail_json(msg="cdn_path: %r is not a path. Fix: e.g. %s" % (p["cdn_path"],
                                                                               constants.CDN_SHOW_NODES_PATH))
        try:
            result["cdn_nodes"] = endpoint.cdn_nodes(p["cdn_path"])
        except WCSUnavailable as exc:
            result["cdn_msg"] = "CDN nodes (%s) did not answer: %s" % (p["cdn_path"], exc)
        if p["cdn_node"]:
            result["cdn_node_ready"], result["cdn_node_entry"] = node_state(result["cdn_nodes"], p["cdn_node"],
                                                                            p["cdn_expected"])
    if p["terminate"]:
        # The REST list is the source; the page's counters too, so a server without find_all is still emptied.
        open_streams = max(len(result["streams"]), stream_count(stats))
        if open_streams:
            result.update(changed=True, terminated=open_streams)
            if module.check_mode:
                result["msg"] = "check mode: would end %d stream(s)" % open_streams
            else:
                try:
                    endpoint.terminate_streams()
                except WCSUnavailable as exc:
                    module.fail_json(msg="ending the streams (%s) failed: %s"
                                         % (constants.STREAM_TERMINATE_PATH, exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

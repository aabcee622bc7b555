# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CDN layout of a fleet from its inventory groups: which WCS container is an origin, an edge or a transcoder,
its CDN address, its point of entry, the properties it gets, who can tell whether it is active, and the order of a
rolling update. Pure (no Ansible, no Docker); every error is a PlanError naming the variable, the value and the fix.

Flashphoner's CDN documentation names the ``flashphoner.properties`` keys (``cdn_enabled``, ``cdn_role``,
``cdn_ip``, ``cdn_point_of_entry``, ``cdn_port`` default 8084, ``cdn_nodes_resolve_ip``, ``cdn_nodes_timeout``) and
the status call ``POST /rest-api/cdn/show_nodes``: a JSON array of ``{id, role, globalState, processingState}`` for
every node the asked node sees, itself excluded. Each WCS container is one CDN node; all containers of a host have
the host's tier. Origins after the first point at the first origin; edges and transcoders point at the origins in
turn.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ansible_collections.mediaops.wcs.plugins.module_utils import inputs as _model
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import check_unicast_address

TIERS = ("edge", "transcoder", "origin")   # the rolling update's order; hosts in no tier group come last
NO_TIER = "none"
GROUP_FIELDS = {"origin": "wcs_cdn_origin_group", "edge": "wcs_cdn_edge_group",
                "transcoder": "wcs_cdn_transcoder_group"}
ADDRESS_KINDS = {"container": "local_ip", "external": "external_ip"}
DEFAULTS = {
    "origin_group": "wcs_cdn_origin", "edge_group": "wcs_cdn_edge", "transcoder_group": "wcs_cdn_transcoder",
    "address": "container", "port": 8084, "nodes_resolve_ip": False, "nodes_timeout": None,
    # cdn_role values: origin / edge are documented; the transcoder's value is not confirmed (a variable).
    "role_names": {"origin": "origin", "edge": "edge", "transcoder": "transcoder"},
}


def check_options(options):
    """The operator's CDN variables (keys without ``wcs_cdn_``), each through its declared kind (inputs.MODEL);
    missing ones take DEFAULTS, unknown keys are refused."""
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise PlanError("cdn_plan options", type(options).__name__, "give a mapping of CDN option (without "
                        "wcs_cdn_) to value, e.g. {port: 8084}")
    unknown = sorted(str(k) for k in options if k not in _model.CDN_OPTIONS)
    if unknown:
        raise PlanError("cdn_plan options", unknown, "use only %s" % ", ".join(sorted(_model.CDN_OPTIONS)),
                        why="unknown option(s)")
    opts = dict(DEFAULTS)
    opts.update({k: v for k, v in options.items() if v is not None or k == "nodes_timeout"})
    opts = {key: _model.CDN_OPTIONS[key].check(opts[key], _model.CDN_OPTIONS[key].name) for key in opts}
    names = [opts["%s_group" % t] for t in TIERS]
    if len(set(names)) != len(names):
        raise PlanError("wcs_cdn_origin_group", names, "give the origin, edge and transcoder groups different names")
    return opts


def _tiers_of(hosts, groups, opts):
    """{host: tier} for the planned hosts; a host in two tier groups is refused."""
    tiers = {}
    for tier in TIERS:
        members = groups.get(opts["%s_group" % tier]) or []
        if not isinstance(members, (list, tuple)):
            raise PlanError(GROUP_FIELDS[tier], opts["%s_group" % tier], "make it an inventory group of hosts")
        for host in members:
            if not isinstance(host, str):
                raise PlanError(GROUP_FIELDS[tier], opts["%s_group" % tier], "list inventory host names in the group",
                                why="it holds a %s" % type(host).__name__)
            if host not in hosts:
                continue
            if host in tiers and tiers[host] != tier:
                raise PlanError(GROUP_FIELDS[tier], host,
                                "put %s in one CDN group only (it is in %s and in %s)"
                                % (host, opts["%s_group" % tiers[host]], opts["%s_group" % tier]),
                                why="a host has one CDN role")
            tiers[host] = tier
    return tiers


def _node_id(container, host, opts, index):
    key = ADDRESS_KINDS[opts["address"]]
    value = container.get(key) if isinstance(container, Mapping) else None
    variable = "wcs_external_addresses" if opts["address"] == "external" else "wcs_container_addresses"
    field = "%s[%d]" % (variable, index)
    fix = ("plan a unicast address for container %s of %s (wcs_cdn_address=%s reads %s)"
           % (container.get("name") if isinstance(container, Mapping) else index, host, opts["address"], key))
    if not isinstance(value, str):
        raise PlanError(field, value if value is None else type(value).__name__, fix)
    # what the other nodes connect to: never loopback, unspecified, multicast, broadcast or link-local
    return check_unicast_address(value, field, fix=fix)


def _containers(plan, host):
    """The containers of one host's plan, each a mapping with a name (a malformed plan is refused, not traced)."""
    containers = plan.get("containers") or []
    if not isinstance(containers, (list, tuple)):
        raise PlanError("wcs_plan.containers", type(containers).__name__, "run mediaops.wcs.plan on %s first (its "
                        "wcs_plan fact lists the containers)" % host)
    for container in containers:
        if not isinstance(container, Mapping) or not isinstance(container.get("name"), str):
            raise PlanError("wcs_plan.containers", str(container)[:80], "run mediaops.wcs.plan on %s first (every "
                            "container has a name)" % host)
    return containers


def plan_cdn(plans, groups, hosts=None, options=None):
    """The CDN plan of the fleet.

    ``plans``: ``{host: wcs_plan}``; ``groups``: ``{group: [host, ...]}`` (Ansible's ``groups``, in inventory
    order); ``hosts``: the hosts planned in this run (default every host of ``plans``); ``options``: the CDN
    variables without the ``wcs_cdn_`` prefix (see DEFAULTS).

    Returns ``{"enabled", "port", "nodes": [...], "hosts": {host: {...}}, "order": {tier: [host, ...]}}``; each
    host entry has ``tier`` (edge, transcoder, origin or none), ``port``, ``peers`` (the other CDN nodes'
    addresses: the firewall opens ``cdn_port`` to them), ``properties`` (``{container: {key: value}}``, empty for
    a host in no CDN group) and ``nodes`` (``{container: node}``; a node is ``{host, container, id, role, entry,
    ask}`` where ``ask`` is ``{host, container}`` of the peer whose ``show_nodes`` tells whether it is active,
    or None when it has no peer).
    """
    opts = check_options(options)
    if not isinstance(plans, Mapping):
        raise PlanError("plans", type(plans).__name__, "give {host: wcs_plan}, e.g. from hostvars")
    if not isinstance(groups, Mapping):
        raise PlanError("groups", type(groups).__name__, "pass Ansible's groups variable")
    names = list(hosts) if hosts is not None else list(plans)
    if not all(isinstance(h, str) for h in names):
        raise PlanError("hosts", [h for h in names if not isinstance(h, str)][:3], "give inventory host names")
    planned = [h for h in names if isinstance(plans.get(h), Mapping)]
    tiers = _tiers_of(set(planned), groups, opts)
    # inventory order inside each tier: the first origin is the first host of the origin group
    ordered = {t: [h for h in (groups.get(opts["%s_group" % t]) or []) if tiers.get(h) == t] for t in TIERS}
    nodes, by_id = {t: [] for t in TIERS}, {}
    for tier in TIERS:
        for host in ordered[tier]:
            for index, container in enumerate(_containers(plans[host], host)):
                node_id = _node_id(container, host, opts, index)
                if node_id in by_id:
                    other = by_id[node_id]
                    both = (other["host"], other["container"], host, container["name"], node_id)
                    raise PlanError("wcs_cdn_address", opts["address"],
                                    "give every CDN node its own address (%s/%s and %s/%s both have %s)" % both)
                node = {"host": host, "container": container["name"], "id": node_id, "tier": tier,
                        "role": opts["role_names"][tier], "entry": None, "ask": None,
                        "docker_host": plans[host].get("docker_host")}
                by_id[node_id] = node
                nodes[tier].append(node)
    origins = nodes["origin"]
    followers = nodes["edge"] + nodes["transcoder"]
    if followers and not origins:
        missing = [h for h in (groups.get(opts["origin_group"]) or []) if h not in planned]
        first = followers[0]
        left_out = (" and plan it in this run (%s left out: --limit or wcs_target_hosts)" % ", ".join(missing)
                    if missing else "")
        raise PlanError("wcs_cdn_origin_group", opts["origin_group"],
                        "put at least one WCS host in group %s%s" % (opts["origin_group"], left_out),
                        why="%s %s/%s needs an origin as its point of entry" % (
                            first["tier"], first["host"], first["container"]))
    for node in origins[1:]:
        node["entry"] = origins[0]["id"]
    for index, node in enumerate(followers):
        node["entry"] = origins[index % len(origins)]["id"]
    _choose_peers(origins, followers, by_id)
    result_hosts = {}
    every_id = sorted(by_id, key=ipaddress.ip_address)
    for host in planned:
        tier = tiers.get(host, NO_TIER)
        own = [n for n in nodes.get(tier, []) if n["host"] == host]
        own_ids = {n["id"] for n in own}
        result_hosts[host] = {
            "tier": tier,
            "port": opts["port"],
            "peers": [a for a in every_id if a not in own_ids] if own else [],
            "properties": {n["container"]: node_properties(n, opts) for n in own},
            "nodes": {n["container"]: n for n in own},
            "table": node_lines(own),
        }
    return {
        "enabled": bool(by_id),
        "port": opts["port"],
        "nodes": [n for t in TIERS for n in nodes[t]],
        "hosts": result_hosts,
        "order": {t: [h for h in planned if tiers.get(h, NO_TIER) == t] for t in TIERS + (NO_TIER,)},
    }


def _choose_peers(origins, followers, by_id):
    """Who to ask whether a node is active: an edge/transcoder asks its point of entry; an origin asks a node
    that points at it (an edge first), else any edge/transcoder, else another origin; a lone origin asks no one."""
    for node in followers:
        node["ask"] = _ask(by_id[node["entry"]])
    for node in origins:
        pointing = [n for n in followers if n["entry"] == node["id"]]
        others = [n for n in origins if n is not node]
        candidates = pointing or followers or others
        node["ask"] = _ask(candidates[0]) if candidates else None


def _ask(node):
    return {"host": node["host"], "container": node["container"], "id": node["id"],
            "docker_host": node["docker_host"]}


def node_lines(nodes):
    """One line per node: container, role, id, point of entry, the node asked for its state."""
    return ["%s %s %s entry=%s asks=%s" % (n["container"], n["role"], n["id"], n["entry"] or "-",
                                           "%s/%s" % (n["ask"]["host"], n["ask"]["container"]) if n["ask"] else "-")
            for n in nodes]


def node_properties(node, opts):
    """flashphoner.properties keys of one CDN node (None: not managed, so an earlier value is removed)."""
    return {
        "cdn_enabled": True,
        "cdn_role": node["role"],
        "cdn_ip": node["id"],
        "cdn_point_of_entry": node["entry"],
        "cdn_port": opts["port"],
        "cdn_nodes_resolve_ip": opts["nodes_resolve_ip"],
        "cdn_nodes_timeout": opts["nodes_timeout"],
    }


def node_state(nodes, node_id, expected=None):
    """(ready, entry) of ``node_id`` in a ``show_nodes`` answer: ready when its entry has every expected
    ``key: value`` (default globalState ACTIVE, processingState NEW_STREAMS_ALLOWED); entry is {} when the node
    is not listed."""
    expected = dict(EXPECTED_STATE if expected is None else expected)
    entry = {}
    # the answer of a peer: anything but a list of mappings lists no node
    for item in nodes if isinstance(nodes, (list, tuple)) else []:
        if isinstance(item, Mapping) and str(item.get("id")) == str(node_id):
            entry = dict(item)
            break
    ready = bool(entry) and all(str(entry.get(k)) == str(v) for k, v in expected.items())
    return ready, entry


EXPECTED_STATE = {"globalState": "ACTIVE", "processingState": "NEW_STREAMS_ALLOWED"}

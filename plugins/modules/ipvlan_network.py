#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: ipvlan_network
short_description: An ipvlan or macvlan Docker network whose containers are full members of the parent's LAN
description:
  - Creates, checks or removes one Docker network of driver C(ipvlan) (default) or C(macvlan) hanging off a host
    interface, as in C(docker network create -d ipvlan --subnet ... -o parent=...).
  - A second identical run reports no change. A difference in driver, parent, mode or IPAM (subnet, gateway,
    ip_range, aux_addresses) is shown in diff mode and fixed by recreating the network, but only when no container
    is attached or O(force=true); with O(force=true) the attached containers are disconnected and, after the
    network is recreated, reconnected with the same IPv4 addresses (their static IPAMConfig address, else the
    address they had).
  - All input is validated before anything changes (gateway and ip_range inside the subnet, the parent interface
    exists on the host when the engine is local, the subnet does not overlap another network of the engine,
    which Docker's IPAM would refuse, no attached container's address is the new gateway or an auxiliary
    address; names are Docker network names, the parent a Linux interface name, matched whole; multicast,
    loopback, link-local and other reserved blocks are refused).
  - A recreate never leaves the containers without their network. When the engine refuses the new definition
    (e.g. a parent another network already uses) or a container cannot be reconnected, the new network is
    removed, the previous definition rebuilt exactly as the engine held it, its containers reconnected with their
    addresses, and the task fails saying so.
  - Networks it creates carry the label C(mediaops.wcs.managed=true). It removes or recreates only a network with
    that label, or an C(ipvlan)/C(macvlan) one (made before the label existed); any other network of the given name
    (a bridge, an overlay, ...) is refused before anything changes.
  - The host cannot reach its own ipvlan/macvlan containers through the parent; see the collection's design notes.
version_added: 1.0.0
author:
  - mediaops engineering (@mediaops)
extends_documentation_fragment:
  - mediaops.wcs.docker
attributes:
  check_mode:
    description: Predicts create, recreate or removal without changing anything.
    support: full
  diff_mode:
    description: Shows the network before and after (driver, parent, mode, IPAM).
    support: full
options:
  name:
    description:
      - Name of the Docker network.
    type: str
    required: true
  driver:
    description:
      - Network driver.
    type: str
    choices: [ipvlan, macvlan]
    default: ipvlan
  parent:
    description:
      - Host interface the network hangs off (C(-o parent=)). Required with O(state=present).
      - Checked in C(/sys/class/net) when the engine is local.
    type: str
  mode:
    description:
      - Driver mode. For C(ipvlan) one of V(l2) (default), V(l3), V(l3s); for C(macvlan) one of V(bridge)
        (default), V(private), V(vepa), V(passthru).
    type: str
    choices: [l2, l3, l3s, bridge, private, vepa, passthru]
  subnet:
    description:
      - IPv4 subnet in CIDR form without host bits, e.g. V(203.0.113.0/28). Required with O(state=present).
    type: str
  gateway:
    description:
      - Gateway address inside O(subnet). When left out the engine picks one and it is not compared.
    type: str
  ip_range:
    description:
      - Block inside O(subnet) the engine hands out addresses from (containers with a static address may use
        any address of the subnet).
    type: str
  aux_addresses:
    description:
      - Addresses the engine must not hand out, as a mapping of host name to address (C(--aux-address)).
      - When left out they are not compared.
    type: dict
  state:
    description:
      - V(present) creates or fixes the network, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Allow recreating (or removing) a network that has containers attached. They are disconnected first and,
        when the network is recreated, reconnected with their IPv4 addresses.
    type: bool
    default: false
notes:
  - Needs the Docker SDK for Python on the host the module runs on.
  - Docker's IPAM refuses two networks with overlapping subnets on one engine; the module says which network
    holds the overlapping subnet.
seealso:
  - module: mediaops.wcs.wcs_containers
"""

EXAMPLES = r"""
- name: The article's network, on the host's uplink
  mediaops.wcs.ipvlan_network:
    name: wcs-net
    parent: ens1f0
    subnet: 203.0.113.0/28
    gateway: 203.0.113.1
    ip_range: 203.0.113.3/32

- name: Move it to another parent, keeping running containers and their addresses
  mediaops.wcs.ipvlan_network:
    name: wcs-net
    parent: ens1f1
    subnet: 203.0.113.0/28
    gateway: 203.0.113.1
    force: true

- name: A macvlan network instead (kernels without ipvlan)
  mediaops.wcs.ipvlan_network:
    name: wcs-net
    driver: macvlan
    mode: bridge
    parent: ens1f0
    subnet: 203.0.113.0/28

- name: Remove it
  mediaops.wcs.ipvlan_network:
    name: wcs-net
    state: absent
"""

RETURN = r"""
network:
  description:
    - The network as the engine reports it (C(docker network inspect)); empty after removal. In check mode, the
      network as it would be (C(Id) is empty for one not created yet).
  returned: always
  type: dict
  sample:
    Name: wcs-net
    Driver: ipvlan
    Options: {parent: ens1f0, ipvlan_mode: l2}
    IPAM: {Driver: default, Config: [{Subnet: 203.0.113.0/28, Gateway: 203.0.113.1, IPRange: 203.0.113.3/32}]}
    Containers: {}
actions:
  description: What was done, in order (V(created), V(removed), V(recreated), V(reconnected <container> <address>)).
  returned: always
  type: list
  elements: str
  sample: [recreated, reconnected wcs-1 203.0.113.4]
changes:
  description: Fields that differed from the existing network.
  returned: always
  type: list
  elements: str
  sample: [parent]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils.constants import MANAGED_LABEL
from ansible_collections.mediaops.wcs.plugins.module_utils.docker_client import (
    APIError, NotFound, docker_argument_spec, engine_error, engine_is_local, get_client)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.network_spec import (
    address_in, create_options, current_network, desired_network, network_differences, overlapping_networks,
    reconnect_address)


def argument_spec():
    return docker_argument_spec(
        name=dict(type="str", required=True),
        driver=dict(type="str", choices=["ipvlan", "macvlan"], default="ipvlan"),
        parent=dict(type="str"),
        mode=dict(type="str", choices=["l2", "l3", "l3s", "bridge", "private", "vepa", "passthru"]),
        subnet=dict(type="str"),
        gateway=dict(type="str"),
        ip_range=dict(type="str"),
        aux_addresses=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        force=dict(type="bool", default=False),
    )


def _inspect(client, name):
    try:
        return client.inspect_network(name)
    except NotFound:
        return None


def _predicted(desired, current_inspect):
    """What inspect would show after create, for check mode."""
    options, ipam = create_options(desired)
    return {"Name": desired["name"], "Id": "", "Driver": desired["driver"], "Options": options, "IPAM": ipam,
            "Containers": (current_inspect or {}).get("Containers") or {}}


def _attached(current_inspect):
    return sorted((current_inspect.get("Containers") or {}).items(), key=lambda kv: kv[1].get("Name", ""))


def _validate_present(module, client, desired):
    if engine_is_local(module.params) and not os.path.exists(os.path.join("/sys/class/net", desired["parent"])):
        module.fail_json(msg="parent: %r is not an interface of this host (no /sys/class/net/%s). Fix: name an "
                             "existing interface (see 'ip link'), e.g. the uplink that carries subnet %s."
                             % (desired["parent"], desired["parent"], desired["subnet"]))
    try:
        networks = client.networks()
    except APIError as exc:
        engine_error(module, exc, "list networks")
    clash = overlapping_networks(desired["subnet"], networks, exclude_name=desired["name"])
    if clash:
        module.fail_json(msg="subnet: %s overlaps network(s) %s on this engine, and Docker's IPAM refuses "
                             "overlapping subnets on one engine. Fix: pick another subnet, or remove or "
                             "renumber the other network."
                             % (desired["subnet"], ", ".join("%s (%s)" % c for c in clash)))


def _reconnect_plan(module, client, desired, current_inspect):
    """[(container id, name, address)] to restore after recreation; fails before any change when an address
    does not fit the new subnet."""
    plan = []
    for cid, info in _attached(current_inspect):
        try:
            c = client.inspect_container(cid)
        except APIError as exc:
            engine_error(module, exc, "inspect attached container %s" % info.get("Name"))
        addr = reconnect_address(c, desired["name"])
        if addr and not address_in(addr, desired):
            module.fail_json(msg="subnet: %s does not hold %s, the address of attached container %s. Fix: keep a "
                                 "subnet that contains it, or move the container first."
                                 % (desired["subnet"], addr, info.get("Name")))
        reserved = dict((desired.get("aux_addresses") or {}), gateway=desired.get("gateway"))
        taken = sorted(k for k, v in reserved.items() if v and v == addr)
        if addr and taken:
            module.fail_json(msg="%s: %s is the address of attached container %s, and Docker reserves it for the "
                                 "network. Fix: pick another %s, or move the container first."
                                 % (taken[0] if taken[0] == "gateway" else "aux_addresses." + taken[0], addr,
                                    info.get("Name"), taken[0]))
        plan.append((cid, info.get("Name") or cid, addr))
    return plan


# The drivers this module makes networks of: a network of one of them without the label was made before the label
# existed (release 1.2 and earlier), and may be removed or recreated like a labelled one.
OWN_DRIVERS = ("ipvlan", "macvlan")


def removal_refused(inspect):
    """Why the network ``inspect`` shows is not the collection's to remove or recreate, else None: it carries the
    collection's label, or (made before the label existed) it is of a driver this module makes."""
    labels = inspect.get("Labels") or {}
    if labels.get(MANAGED_LABEL) == "true" or inspect.get("Driver") in OWN_DRIVERS:
        return None
    return ("it is a %s network without the %s=true label: mediaops.wcs did not make it"
            % (inspect.get("Driver") or "(unknown driver)", MANAGED_LABEL))


def _create(module, client, desired):
    options, ipam = create_options(desired)
    try:
        client.create_network(desired["name"], driver=desired["driver"], options=options, ipam=ipam,
                              check_duplicate=True, labels={MANAGED_LABEL: "true"})
    except APIError as exc:
        engine_error(module, exc, "create network %s" % desired["name"])


def _remove(module, client, name, inspect):
    """Disconnects every attached container, then removes the network."""
    _disconnect_all(module, client, name, inspect)
    try:
        client.remove_network(inspect["Id"])
    except APIError as exc:
        engine_error(module, exc, "remove network %s" % name)


def _disconnect_all(module, client, name, current_inspect):
    for cid, info in _attached(current_inspect):
        try:
            client.disconnect_container_from_network(cid, name, force=True)
        except APIError as exc:
            engine_error(module, exc, "disconnect %s from %s" % (info.get("Name"), name))


def _definition(inspect):
    """(driver, options, ipam) that create the network ``inspect`` shows again, exactly as the engine holds it."""
    ipam = inspect.get("IPAM") or {}
    return (inspect.get("Driver"), dict(inspect.get("Options") or {}),
            {"Driver": ipam.get("Driver") or "default", "Config": list(ipam.get("Config") or []),
             "Options": dict(ipam.get("Options") or {})}, dict(inspect.get("Labels") or {}))


def _build(client, name, definition, plan):
    """Creates the network and connects the containers of ``plan`` with their addresses (APIError on failure)."""
    driver, options, ipam, labels = definition
    client.create_network(name, driver=driver, options=options, ipam=ipam, check_duplicate=True, labels=labels)
    for cid, _cname, addr in plan:
        client.connect_container_to_network(cid, name, ipv4_address=addr)


def _recreate(module, client, desired, current_inspect, plan):
    """Removes the network and creates it as wanted, reconnecting its containers with their addresses. The
    engine is the only judge of some definitions (a parent another network already uses, a reserved address):
    when it refuses, the new network is removed and the old definition rebuilt with its containers and their
    addresses, and the task fails saying so."""
    name = desired["name"]
    old = _definition(current_inspect)
    old_plan = [(cid, cname, reconnect_address(client.inspect_container(cid), name)) for cid, cname, _a in plan]
    _remove(module, client, name, current_inspect)
    options, ipam = create_options(desired)
    try:
        _build(client, name, (desired["driver"], options, ipam, {MANAGED_LABEL: "true"}), plan)
        return
    except APIError as exc:
        why = _explain(exc)
    try:
        leftover = _inspect(client, name)
        if leftover:
            for cid in leftover.get("Containers") or {}:
                client.disconnect_container_from_network(cid, name, force=True)
            client.remove_network(leftover["Id"])
        _build(client, name, old, old_plan)
    except APIError as exc:
        module.fail_json(msg="network %s: the engine refused the new definition (%s), and rebuilding the previous "
                             "one FAILED too (%s). Fix: recreate it by hand and reconnect %s."
                             % (name, why, _explain(exc), ", ".join("%s with %s" % (n, a) for _c, n, a in old_plan)))
    module.fail_json(msg="network %s: the engine refused the new definition: %s. The previous network was rebuilt "
                         "and its containers (%s) reconnected with their addresses. Fix: correct the definition "
                         "(e.g. a parent no other network uses, addresses Docker does not reserve)."
                         % (name, why, ", ".join("%s %s" % (n, a or "(dynamic)") for _c, n, a in old_plan) or "none"))


def _explain(exc):
    return str(getattr(exc, "explanation", None) or exc)


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=argument_spec(),
        required_if=[("state", "present", ("parent", "subnet"))],
        supports_check_mode=True,
    )
    p = module.params
    desired = None
    if p["state"] == "present":
        try:
            desired = desired_network(p)
        except PlanError as err:
            module.fail_json(msg=str(err))

    client = get_client(module)
    try:
        current_inspect = _inspect(client, p["name"])
    except APIError as exc:
        engine_error(module, exc, "inspect network %s" % p["name"])
    result = dict(changed=False, network={}, actions=[], changes=[])
    before = current_network(current_inspect) if current_inspect else {}

    refused = removal_refused(current_inspect) if current_inspect else None
    if p["state"] == "absent":
        if refused:
            module.fail_json(msg="name: network %s is not removed: %s. Fix: name the WCS network, or remove this one "
                                 "by hand (docker network rm) if it is truly not needed." % (p["name"], refused))
        if current_inspect:
            attached = _attached(current_inspect)
            if attached and not p["force"]:
                module.fail_json(msg="network %s has containers attached (%s). Fix: remove them first, or set "
                                     "force=true to disconnect them." % (p["name"], ", ".join(
                                         i.get("Name", c) for c, i in attached)))
            result.update(changed=True, actions=["removed"])
            if not module.check_mode:
                _remove(module, client, p["name"], current_inspect)
        result["diff"] = dict(before=before, after={})
        module.exit_json(**result)

    if current_inspect is None:
        _validate_present(module, client, desired)
        result.update(changed=True, actions=["created"], changes=["network"])
        if not module.check_mode:
            _create(module, client, desired)
    else:
        changes = network_differences(desired, current_network(current_inspect))
        result["changes"] = changes
        if changes and refused:
            module.fail_json(msg="name: network %s differs in %s and is not recreated: %s. Fix: pick another name for "
                                 "the WCS network, or remove this one by hand."
                                 % (p["name"], ", ".join(changes), refused), changes=changes)
        if changes:
            attached = _attached(current_inspect)
            if attached and not p["force"]:
                module.fail_json(
                    msg="network %s differs in %s but has containers attached (%s), and recreating it would cut "
                        "them off. Fix: set force=true (they are reconnected with their addresses), or remove "
                        "them first." % (p["name"], ", ".join(changes),
                                         ", ".join(i.get("Name", c) for c, i in attached)),
                    changes=changes, diff=dict(before=before, after=desired))
            _validate_present(module, client, desired)
            plan = _reconnect_plan(module, client, desired, current_inspect)
            reconnects = ["reconnected %s %s" % (name, addr or "(dynamic)") for cid, name, addr in plan]
            result.update(changed=True, actions=["recreated"] + reconnects)
            if not module.check_mode:
                _recreate(module, client, desired, current_inspect, plan)

    if module.check_mode or not result["changed"]:
        result["network"] = current_inspect if not result["changed"] else _predicted(desired, current_inspect)
    else:
        try:
            result["network"] = client.inspect_network(p["name"])
        except APIError as exc:
            engine_error(module, exc, "inspect network %s" % p["name"])
    after = dict(desired)
    if after["gateway"] is None and before:
        after["gateway"] = before.get("gateway")
    if after["aux_addresses"] is None:
        after["aux_addresses"] = before.get("aux_addresses", {}) if before else {}
    result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

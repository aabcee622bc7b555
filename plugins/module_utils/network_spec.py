# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of an ipvlan/macvlan network: validate the wanted network, read the engine's inspect into the
same shape, and say which fields differ. No Ansible and no Docker imports (stdlib ``ipaddress`` only).
"""
from __future__ import annotations

import ipaddress

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import (
    check_docker_name, check_interface_name, check_subnet_not_reserved)

DRIVER_MODES = {
    "ipvlan": ("l2", "l3", "l3s"),
    "macvlan": ("bridge", "private", "vepa", "passthru"),
}
DEFAULT_MODE = {"ipvlan": "l2", "macvlan": "bridge"}
MODE_OPTION = {"ipvlan": "ipvlan_mode", "macvlan": "macvlan_mode"}
# Fields whose difference means the network has to be recreated (Docker cannot change them in place).
COMPARED_FIELDS = ("driver", "parent", "mode", "subnet", "gateway", "ip_range", "aux_addresses")


def _network(field, value, fix):
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise PlanError(field, value, fix, why=str(exc))


def _address(field, value):
    try:
        return ipaddress.IPv4Address(value)
    except ValueError as exc:
        raise PlanError(field, value, "give a plain IPv4 address such as 198.51.100.1", why=str(exc))


def desired_network(params):
    """Validates module parameters and returns the normalised wanted network (dict of COMPARED_FIELDS + name)."""
    driver = params.get("driver") or "ipvlan"
    if driver not in DRIVER_MODES:
        raise PlanError("driver", driver, "use one of %s" % ", ".join(sorted(DRIVER_MODES)))
    mode = params.get("mode") or DEFAULT_MODE[driver]
    if mode not in DRIVER_MODES[driver]:
        raise PlanError("mode", mode, "with driver %s use one of %s" % (driver, ", ".join(DRIVER_MODES[driver])),
                        why="not a %s mode" % driver)
    check_docker_name(params.get("name"), "name", what="network")
    if not params.get("parent"):
        raise PlanError("parent", params.get("parent"), "name the host interface the network hangs off")
    check_interface_name(params["parent"], "parent")
    subnet_text = params.get("subnet")
    if not subnet_text:
        raise PlanError("subnet", subnet_text, "give the network's IPv4 subnet in CIDR form, e.g. 198.51.100.0/28")
    try:
        subnet = ipaddress.IPv4Network(subnet_text, strict=False)
    except ValueError as exc:
        raise PlanError("subnet", subnet_text, "give an IPv4 subnet in CIDR form, e.g. 198.51.100.0/28", why=str(exc))
    if str(subnet) != subnet_text.strip():
        raise PlanError("subnet", subnet_text, "write it as %s" % subnet, why="host bits are set")
    check_subnet_not_reserved(subnet, "subnet", subnet_text)
    gateway = None
    if params.get("gateway"):
        gw = _address("gateway", params["gateway"])
        if gw not in subnet or gw in (subnet.network_address, subnet.broadcast_address):
            raise PlanError("gateway", params["gateway"], "pick a host address inside subnet %s" % subnet,
                            why="not a usable address of subnet %s" % subnet)
        gateway = str(gw)
    ip_range = None
    if params.get("ip_range"):
        rng = _network("ip_range", params["ip_range"], "give a CIDR block inside the subnet, e.g. %s" % subnet)
        if not rng.subnet_of(subnet):
            raise PlanError("ip_range", params["ip_range"], "give a block inside subnet %s" % subnet,
                            why="outside subnet %s" % subnet)
        ip_range = str(rng)
    aux = None
    if params.get("aux_addresses") is not None:
        aux = {}
        for host, addr in sorted(params["aux_addresses"].items()):
            ip = _address("aux_addresses.%s" % host, addr)
            if ip not in subnet:
                raise PlanError("aux_addresses.%s" % host, addr, "use an address inside subnet %s" % subnet,
                                why="outside subnet %s" % subnet)
            aux[host] = str(ip)
    return {
        "name": params["name"], "driver": driver, "parent": params["parent"], "mode": mode,
        "subnet": str(subnet), "gateway": gateway, "ip_range": ip_range, "aux_addresses": aux,
    }


def current_network(inspect):
    """The engine's network inspect in the shape of desired_network (missing mode = driver default)."""
    driver = inspect.get("Driver")
    options = inspect.get("Options") or {}
    configs = (inspect.get("IPAM") or {}).get("Config") or []
    first = configs[0] if configs else {}
    mode = options.get(MODE_OPTION.get(driver, ""), "") or DEFAULT_MODE.get(driver)
    return {
        "name": inspect.get("Name"), "driver": driver, "parent": options.get("parent"), "mode": mode,
        "subnet": first.get("Subnet"), "gateway": first.get("Gateway") or None,
        "ip_range": first.get("IPRange") or None,
        "aux_addresses": dict(first.get("AuxiliaryAddresses") or {}),
    }


def network_differences(desired, current):
    """Names of the fields that differ. Unset optional fields (gateway, ip_range, aux_addresses) are not
    compared when the user left them out: the engine chose them."""
    diffs = []
    for field in COMPARED_FIELDS:
        want = desired.get(field)
        if want is None and field in ("gateway", "aux_addresses"):
            continue
        if field == "aux_addresses":
            if dict(want) != dict(current.get(field) or {}):
                diffs.append(field)
        elif want != current.get(field):
            diffs.append(field)
    return diffs


def create_options(desired):
    """driver options and IPAM config (plain dicts, the engine's JSON) for a create call."""
    pool = {"Subnet": desired["subnet"]}
    if desired.get("gateway"):
        pool["Gateway"] = desired["gateway"]
    if desired.get("ip_range"):
        pool["IPRange"] = desired["ip_range"]
    if desired.get("aux_addresses"):
        pool["AuxiliaryAddresses"] = dict(desired["aux_addresses"])
    options = {"parent": desired["parent"], MODE_OPTION[desired["driver"]]: desired["mode"]}
    ipam = {"Driver": "default", "Config": [pool], "Options": {}}
    return options, ipam


def overlapping_networks(subnet, networks, exclude_name=None):
    """[(name, subnet)] of other networks (engine list entries) whose IPAM subnets overlap ``subnet``."""
    mine = ipaddress.ip_network(subnet, strict=False)
    found = []
    for net in networks:
        if net.get("Name") == exclude_name:
            continue
        for cfg in (net.get("IPAM") or {}).get("Config") or []:
            try:
                theirs = ipaddress.ip_network(cfg.get("Subnet") or "", strict=False)
            except ValueError:
                continue
            if theirs.version == mine.version and theirs.overlaps(mine):
                found.append((net.get("Name"), str(theirs)))
    return found


def reconnect_address(container_inspect, network_name):
    """The IPv4 address to give a container when it is reconnected to a recreated network: the static
    address it asked for (IPAMConfig), else the address it had. None when it had none."""
    networks = (container_inspect.get("NetworkSettings") or {}).get("Networks") or {}
    endpoint = networks.get(network_name) or {}
    static = (endpoint.get("IPAMConfig") or {}).get("IPv4Address")
    return static or endpoint.get("IPAddress") or None


def address_in(address, desired):
    """True when ``address`` can be kept on the wanted network (inside its subnet)."""
    return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(desired["subnet"])

"""Address plan of a public block for ipvlan/macvlan WCS containers, its validation, and the fleet check.

Pure Python with netaddr (no Ansible, no Docker). The article's layout of a block (e.g. ``203.0.113.0/29``):

    1st  network address            4th  Docker ``ip_range`` (a /32: what Docker may hand out on its own)
    2nd  default gateway            5th.. one address per container
    3rd  host address               rest  spares (the broadcast address is never planned)

IPv4 only (ipvlan L2 deployments of WCS announce one public IPv4 per container); prefixes /16 to /30.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping

try:
    import netaddr
except ImportError:  # reported by _require_netaddr() when a plan is asked for
    netaddr = None

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.units import parse_count
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import bad_character, check_subnet_not_reserved

MIN_PREFIX = 16
MAX_PREFIX = 30
SPEC_KEYS = ("subnet", "gateway", "host_address", "ip_range", "addresses")


def _require_netaddr():
    if netaddr is None:
        raise PlanError("netaddr", None, "install the netaddr Python package where the plan is computed (the "
                        "Ansible controller for filters): pip install netaddr", why="it is not installed")


def _network(value, field):
    if not isinstance(value, str) or "/" not in value or len(value) > 43 or bad_character(value) is not None:
        raise PlanError(field, value, "give an IPv4 block in CIDR form, e.g. '203.0.113.0/29'")
    try:
        net = netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise PlanError(field, value, "give an IPv4 block in CIDR form, e.g. '203.0.113.0/29'")
    if net.version != 4:
        raise PlanError(field, value, "use an IPv4 block; IPv6 is not planned by this collection",
                        why="it is IPv6")
    return net


def _subnet(value, field="subnet"):
    net = _network(value, field)
    if net.ip != net.network:
        raise PlanError(field, value, "write the block by its network address: '%s'" % net.cidr,
                        why="host bits are set")
    if not MIN_PREFIX <= net.prefixlen <= MAX_PREFIX:
        raise PlanError(field, value, "use a prefix between /%d and /%d" % (MIN_PREFIX, MAX_PREFIX),
                        why="/%d leaves %s" % (net.prefixlen, "no room for network, gateway, host and containers"
                                               if net.prefixlen > MAX_PREFIX else "an implausibly large block"))
    check_subnet_not_reserved(str(net.cidr), field, value)
    return net


def _address(value, field):
    if not isinstance(value, str) or len(value) > 43 or bad_character(value) is not None:
        raise PlanError(field, value, "give one IPv4 address as text, e.g. '203.0.113.4'")
    if "/" in value:
        value = value.split("/", 1)[0]  # accept '203.0.113.2/29' for a host address
    try:
        addr = netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise PlanError(field, value, "give one IPv4 address, e.g. '203.0.113.4'")
    if addr.version != 4:
        raise PlanError(field, value, "use an IPv4 address", why="it is IPv6")
    return addr


def plan_addresses(spec, count=None):
    """Plans (or checks) the addresses of one host's WCS network.

    ``spec``: a CIDR (``"203.0.113.0/29"``) laid out as the article does, or a dict with ``subnet`` and optional
    ``gateway``, ``host_address``, ``ip_range``, ``addresses`` (container addresses, in container order). Missing
    parts follow the article's layout; given parts are validated. ``count`` defaults to ``len(addresses)``.

    Returns ``{subnet, gateway, host_address, host_cidr, ip_range, containers: [ip...], spares: [ip...],
    prefixlen, netmask, broadcast}`` (strings).
    """
    _require_netaddr()
    if isinstance(spec, str):
        spec = {"subnet": spec}
    if not isinstance(spec, dict) or "subnet" not in spec:
        raise PlanError("address spec", spec, "give a block like '203.0.113.0/29' or a dict with at least 'subnet'")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise PlanError("address spec", unknown, "use only the keys %s" % ", ".join(SPEC_KEYS),
                        why="unknown key(s)")
    net = _subnet(spec["subnet"])
    given = spec.get("addresses")
    if given is not None and not isinstance(given, (list, tuple)):
        raise PlanError("addresses", given, "give a list of container addresses, e.g. ['203.0.113.4', '203.0.113.5']")
    first, last = net.network, net.broadcast

    def in_subnet(addr, field, raw):
        if addr not in net:
            raise PlanError(field, raw, "pick an address inside %s (%s-%s)" % (net.cidr, first + 1, last - 1),
                            why="it is outside the subnet")
        if addr == first or addr == last:
            raise PlanError(field, raw, "pick an address between %s and %s" % (first + 1, last - 1),
                            why="it is the %s address of %s" % ("network" if addr == first else "broadcast", net.cidr))

    gateway = _address(spec["gateway"], "gateway") if spec.get("gateway") else first + 1
    if spec.get("gateway"):
        in_subnet(gateway, "gateway", spec["gateway"])
    host = _address(spec["host_address"], "host_address") if spec.get("host_address") else first + 2
    if spec.get("host_address"):
        in_subnet(host, "host_address", spec["host_address"])
    if host == gateway:
        raise PlanError("host_address", str(host), "give the host its own address, not the gateway's")

    if spec.get("ip_range"):
        raw = spec["ip_range"]
        ip_range = _network(raw if not isinstance(raw, str) or "/" in raw else "%s/32" % raw,
                            "ip_range")
        if ip_range.ip != ip_range.network:
            raise PlanError("ip_range", spec["ip_range"], "write the range by its network address: '%s'"
                            % ip_range.cidr, why="host bits are set")
        if ip_range not in net:
            raise PlanError("ip_range", spec["ip_range"],
                            "pick a range inside %s, e.g. '%s/32'" % (net.cidr, first + 3),
                            why="it is not inside the subnet")
        for name, addr in (("gateway", gateway), ("host_address", host)):
            if addr in ip_range:
                raise PlanError("ip_range", spec["ip_range"], "keep the %s (%s) out of the range" % (name, addr),
                                why="Docker could hand the %s to a container" % name)
    else:
        ip_range = netaddr.IPNetwork("%s/32" % (first + 3))
        if first + 3 in (gateway, host):
            free = [a for a in net.iter_hosts() if a not in (gateway, host)]
            ip_range = netaddr.IPNetwork("%s/32" % free[0])

    if count is None:
        if given is None:
            raise PlanError("count", count, "give the number of containers (or the 'addresses' list)")
        count = len(given)
    count = parse_count(count)
    if given is not None and len(given) != count:
        raise PlanError("addresses", list(given), "give exactly one address per container (%d)" % count,
                        why="%d address(es) for %d container(s)" % (len(given), count))

    if given is None and len(net) < count + 5:
        raise PlanError("subnet", str(net.cidr),
                        "use a block of at least %d addresses (/%d) or fewer containers (at most %d)"
                        % (count + 5, 32 - (count + 4).bit_length(), max(len(net) - 5, 0)),
                        why="%d containers need network, gateway, host, ip_range, %d container address(es) and "
                            "broadcast: %d addresses, the block has %d" % (count, count, count + 5, len(net)))

    taken = {gateway, host} | set(ip_range)
    if given is not None:
        containers = []
        seen = {}
        for index, raw in enumerate(given):
            field = "addresses[%d]" % index
            addr = _address(raw, field)
            in_subnet(addr, field, raw)
            if addr == gateway:
                raise PlanError(field, raw, "pick an address that is not the gateway (%s)" % gateway)
            if addr == host:
                raise PlanError(field, raw, "pick an address that is not the host address (%s)" % host)
            if addr in ip_range:
                raise PlanError(field, raw, "pick an address outside ip_range %s (Docker hands those out itself)"
                                % ip_range.cidr)
            if addr in seen:
                raise PlanError(field, raw, "give every container its own address",
                                why="it repeats addresses[%d]" % seen[addr])
            seen[addr] = index
            containers.append(addr)
    else:
        free = [a for a in net.iter_hosts() if a not in taken]
        if len(free) < count:
            raise PlanError("count", count, "use a larger block or fewer containers (at most %d)" % len(free),
                            why="only %d free address(es) in %s" % (len(free), net.cidr))
        containers = free[:count]
    used = taken | set(containers)
    spares = [a for a in net.iter_hosts() if a not in used]
    return {
        "subnet": str(net.cidr),
        "gateway": str(gateway),
        "host_address": str(host),
        "host_cidr": "%s/%d" % (host, net.prefixlen),
        "ip_range": str(ip_range.cidr),
        "containers": [str(a) for a in containers],
        "spares": [str(a) for a in spares],
        "prefixlen": net.prefixlen,
        "netmask": str(net.netmask),
        "broadcast": str(last),
    }


def _interval(text):
    """(first, last) integer addresses of an address or a network in text (IPv4 or IPv6), else None. Never
    enumerates: a /8 or a /0 is two integers."""
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            return net.version, int(net.network_address), int(net.broadcast_address)
        addr = ipaddress.ip_address(text)
        return addr.version, int(addr), int(addr)
    except ValueError:
        return None


def _as_text(value):
    """At most 64 characters of a fact's value as text (an int whose str() raises reads as its type)."""
    try:
        return (value if isinstance(value, str) else str(value))[:64]
    except ValueError:
        return type(value).__name__


def _plan_entries(plan):
    """(role, address text, subnet) tuples of one host's plan: an address plan or a wcs_plan fact."""
    if not isinstance(plan, Mapping):
        return []
    net = plan.get("network") if isinstance(plan.get("network"), Mapping) else plan
    subnet = net.get("subnet")
    subnet = None if subnet in (None, "") else _as_text(subnet)
    entries = []
    for role in ("gateway", "host_address"):
        if net.get(role):
            entries.append((role, _as_text(net[role]).partition("/")[0], subnet))
    if net.get("ip_range"):
        entries.append(("ip_range", _as_text(net["ip_range"]), subnet))
    containers = plan.get("containers") or []
    for index, item in enumerate(containers if isinstance(containers, (list, tuple)) else []):
        if isinstance(item, Mapping):
            addr = item.get("ipv4_address") or item.get("address")
            label = "container %s" % _as_text(item.get("name", index + 1))
        else:
            addr, label = item, "container %d" % (index + 1)
        if addr:
            entries.append((label, _as_text(addr).partition("/")[0], subnet))
    return entries


def _spans(entries):
    """Every stretch of addresses owned by two entries or more, from intervals (a sweep over their ends):
    [((version, first, last), [(host, role, subnet), ...]), ...] in address order."""
    events = []
    for key, (version, first, last) in entries:
        events.append(((version, first), 1, key))
        events.append(((version, last + 1), 0, key))
    events.sort(key=lambda e: (e[0], e[1]))
    active, spans, index = {}, [], 0
    while index < len(events):
        point = events[index][0]
        while index < len(events) and events[index][0] == point:
            starts, key = events[index][1:]
            if starts:
                active[key] = active.get(key, 0) + 1
            elif active.get(key, 0) > 1:
                active[key] -= 1
            else:
                active.pop(key, None)
            index += 1
        if len(active) >= 2 and index < len(events):
            following = events[index][0]
            if following[0] == point[0]:
                spans.append(((point[0], point[1], following[1] - 1), sorted(active)))
    return spans


def fleet_conflicts(plans_by_host):
    """Messages for every address planned more than once across the hosts of an inventory ([] when clean).

    ``plans_by_host``: ``{host: plan}`` where plan is an address plan (``plan_addresses``) or a ``wcs_plan`` fact
    (``network`` + ``containers[].ipv4_address``). Hosts whose plan is missing or empty are skipped.

    Container, host and ``ip_range`` addresses must be unique across the fleet (and within a host). A gateway may
    be shared by hosts on the same subnet (they sit on one segment behind one router); a gateway shared by hosts
    with different subnets, or a gateway that is another host's container/host address, is a conflict. Ranges are
    compared as intervals (never enumerated), so an ``ip_range`` of /8 or /0 is checked as fast as a /32.
    """
    if not isinstance(plans_by_host, Mapping):
        raise PlanError("plans_by_host", _short(plans_by_host),
                        "give a dict of inventory host -> plan, e.g. from hostvars")
    ranged, unparsed = [], {}
    for host in sorted(plans_by_host, key=str):
        for role, addr, subnet in _plan_entries(plans_by_host[host]):
            owner = (str(host), role, subnet or "")
            span = _interval(addr)
            if span is None:
                unparsed.setdefault(addr, []).append(owner)
            else:
                ranged.append(((owner, len(ranged)), span))
    found = [(span, [key[0] for key in keys]) for span, keys in _spans(ranged)]
    found += [((9, 0, 0, text), users) for text, users in sorted(unparsed.items()) if len(users) > 1]
    messages = []
    for span, users in found:
        gateways = [u for u in users if u[1] == "gateway"]
        if len(gateways) == len(users) and len({u[2] for u in gateways}) == 1:
            continue  # one router shared by hosts of one subnet
        where = "; ".join("%s as %s%s" % (h, r, " of %s" % s if s else "") for h, r, s in users)
        messages.append("%s %s planned %d times: %s. Fix: give each host its own addresses (container, host and "
                        "ip_range addresses are unique across the inventory; a shared gateway needs the same subnet)"
                        % (_span_text(span), "is" if len(span) == 4 or span[1] == span[2] else "are", len(users),
                           where))
    return messages


def _span_text(span):
    if len(span) == 4:
        return span[3]
    version, first, last = span
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return str(make(first)) if first == last else "%s-%s" % (make(first), make(last))


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-container firewall: what a WCS container's network namespace accepts, as an nftables ruleset.

With ipvlan/macvlan a container's traffic never passes the host's netfilter chains, so the rules live inside each
container's own network namespace (table ``inet mediaops_wcs``, chain ``input``). Pure Python (stdlib only):

- ``firewall_spec(options)`` checks what the operator typed (``PlanError`` naming field, value and fix);
- ``desired_rules(spec, ports_of_container)`` -> the rules as data; ``render(rules)`` -> ``nft -f`` text;
- ``canonical(nft_json)`` reads ``nft -j list table`` back into the same data, so a converge compares what the
  kernel holds with what the plan wants (idempotence, drift after a container restart);
- ``counters(nft_json)`` -> packets/bytes per rule comment; ``nsenter_argv(pid, ...)`` runs nft in a namespace.

The host-side follower (roles/firewall/files/wcs_firewall_follow.py) imports this file copied next to it.
"""
from __future__ import annotations

import ipaddress
import os
import re
import stat

try:
    from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
except ImportError:  # copied next to the host-side follower, with errors.py
    from errors import PlanError  # type: ignore[no-redef]

TABLE_FAMILY = "inet"
TABLE_NAME = "mediaops_wcs"
CHAIN = ("filter", "input", 0, "drop")  # type, hook, priority, policy

# Flashphoner's default ports (the Web SDK's table, docs.flashphoner.com). "public" ones are open to everyone by
# default; every other named port is reachable only from the admin addresses.
DEFAULT_PORTS = {
    "ws": 8080, "wss": 8443,          # WebSocket signalling: browsers
    "rest": 8081, "rest_tls": 8444,   # REST API, statistics page, web UI (http / https): can stop every stream
    "hls": 8082, "hls_tls": 8445,     # HLS (http / https), when the operator serves it
    "cli": 2001,                      # admin CLI
    "ssh": 22,                        # SSH into the container (when PASSWORD is set)
    "jmx": 50999,                     # JMX monitoring: Flashphoner's docs say keep it closed
    "legacy_rest": 9091, "legacy_web": 8888,
}
DEFAULT_PUBLIC = ("ws", "wss")
CDN_DEFAULT_PORT = 8084  # Flashphoner CDN documentation: cdn_port default
PORT_NAME = re.compile(r"\A[a-z][a-z0-9_]{0,31}\Z")
MAX_CIDRS = 256


def _port(value, field):
    if isinstance(value, bool):
        raise PlanError(field, value, "give a TCP/UDP port number from 1 to 65535")
    try:
        port = int(str(value).strip(), 10)
    except (TypeError, ValueError):
        raise PlanError(field, value, "give a TCP/UDP port number from 1 to 65535")
    if not 1 <= port <= 65535:
        raise PlanError(field, value, "give a TCP/UDP port number from 1 to 65535")
    return port


def _as_list(value, field):
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise PlanError(field, value, "give a list (or a comma-separated string)")


def check_cidrs(value, field="wcs_admin_cidrs"):
    """Addresses and networks (IPv4/IPv6) -> sorted canonical strings; host bits set are refused, and so is a set
    whose union covers a whole address space (validate.check_cidr_set)."""
    # imported here: the follower program runs firewall.py with errors.py only, and never checks admin networks
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.mediaops.wcs.plugins.module_utils.validate import check_cidr_set
    items = _as_list(value, field)
    if len(items) > MAX_CIDRS:
        raise PlanError(field, "%d entries" % len(items), "give at most %d networks (aggregate them)" % MAX_CIDRS)
    nets = []
    for item in items:
        if not isinstance(item, str) or not re.match(r"\A[0-9A-Fa-f.:/]{2,49}\Z", item):
            raise PlanError(field, item, "give an IPv4/IPv6 address or network such as 198.51.100.3 or "
                            "198.51.100.0/24")
        try:
            net = ipaddress.ip_network(item, strict=True)
        except ValueError as exc:
            if "host bits set" in str(exc):
                fixed = ipaddress.ip_network(item, strict=False)
                raise PlanError(field, item, "write the network as %s (or the single address as %s)"
                                % (fixed, item.split("/")[0]), why="it has host bits set")
            raise PlanError(field, item, "give an IPv4/IPv6 address or network such as 198.51.100.0/24",
                            why=str(exc))
        if net.is_multicast:
            raise PlanError(field, item, "give the admin machines' unicast addresses", why="it is multicast")
        nets.append(net)
    # the very mistake the firewall is there for: admin ports open to everyone, by one /0 or by a set whose union
    # covers every address (0.0.0.0/1 + 128.0.0.0/1)
    check_cidr_set(nets, field, value=value if len(nets) > 1 else nets[0] if nets else value,
                   fix="give the admin machines' networks (e.g. 192.0.2.0/24); to run without the collection's "
                   "firewall set wcs_firewall_enabled: false",
                   why="it lets the whole internet reach the admin ports (REST API, statistics page, CLI, JMX)")
    return sorted({str(n) for n in nets}, key=lambda s: (ipaddress.ip_network(s).version,
                                                         ipaddress.ip_network(s)))


def firewall_spec(options):
    """Checks the operator's firewall options; returns the clean spec.

    options: ``admin_cidrs`` (list/comma string), ``ports`` (name -> port, merged over DEFAULT_PORTS), ``public``
    (names open to everyone), ``media_port_from`` / ``media_port_to``, ``media_tcp`` (bool), ``icmp`` (bool).
    """
    ports = dict(DEFAULT_PORTS)
    given = options.get("ports") or {}
    if not isinstance(given, dict):
        raise PlanError("wcs_firewall_ports", given, "give a mapping of port name to number, e.g. {ws: 8080}")
    for name, port in given.items():
        if not isinstance(name, str) or not PORT_NAME.match(name):
            raise PlanError("wcs_firewall_ports", name, "name ports with lower-case letters, digits and '_' "
                            "(starting with a letter), e.g. sip")
        ports[name] = _port(port, "wcs_firewall_ports.%s" % name)
    public = _as_list(options.get("public", list(DEFAULT_PUBLIC)), "wcs_firewall_public")
    for name in public:
        if name not in ports:
            raise PlanError("wcs_firewall_public", name, "name one of %s (or add it to wcs_firewall_ports)"
                            % ", ".join(sorted(ports)))
    by_number = {}
    for name, port in sorted(ports.items()):
        if port in by_number:
            raise PlanError("wcs_firewall_ports.%s" % name, port, "give each service its own port",
                            why="%s uses it too" % by_number[port])
        by_number[port] = name
    low = _port(options.get("media_port_from", 31001), "wcs_media_port_from")
    high = _port(options.get("media_port_to", 32000), "wcs_media_port_to")
    if low > high:
        raise PlanError("wcs_media_port_from", low, "make wcs_media_port_from <= wcs_media_port_to (%d)" % high)
    for name, port in sorted(ports.items()):
        if low <= port <= high:
            raise PlanError("wcs_media_port_from", "%d-%d" % (low, high),
                            "keep the media range clear of the named ports",
                            why="it holds %s port %d, which the range would open to everyone" % (name, port))
    cdn_port = options.get("cdn_port")
    if cdn_port not in (None, ""):
        cdn_port = _port(cdn_port, "wcs_cdn_port")
        for name, port in sorted(ports.items()):
            if port == cdn_port:
                raise PlanError("wcs_cdn_port", cdn_port, "give the CDN its own port (Flashphoner's default 8084)",
                                why="%s uses it too" % name)
        if low <= cdn_port <= high:
            raise PlanError("wcs_cdn_port", cdn_port, "keep it out of the media range %d-%d" % (low, high))
    else:
        cdn_port = None
    return {
        "admin_cidrs": check_cidrs(options.get("admin_cidrs")),
        # CDN: the other nodes' addresses reach cdn_port (TCP between nodes); never the internet
        "cdn_peers": check_cidrs(options.get("cdn_peers"), "wcs_cdn peers"),
        "cdn_port": cdn_port,
        "ports": ports,
        "public": sorted(set(public)),
        "media_port_from": low,
        "media_port_to": high,
        "media_tcp": bool(options.get("media_tcp", True)),
        "icmp": bool(options.get("icmp", True)),
    }


def container_ports(spec, properties=None):
    """The spec with the container's own rendered flashphoner.properties applied (what the server really reads):
    ``media_port_from``, ``media_port_to``, ``ws.port``, ``wss.port`` win over the role's values.

    Raises PlanError when the file's values are not ports or clash with a named port.
    """
    properties = properties or {}
    options = dict(spec, ports=dict(spec["ports"]))
    for key, target in (("media_port_from", "media_port_from"), ("media_port_to", "media_port_to")):
        if properties.get(key, "") != "":
            options[target] = properties[key]
    for key, name in (("ws.port", "ws"), ("wss.port", "wss")):
        if properties.get(key, "") != "":
            options["ports"][name] = properties[key]
    # A CDN node (cdn_enabled=true in its file) listens on cdn_port, 8084 when the file does not say.
    enabled = str(properties.get("cdn_enabled", "")).strip().lower() == "true"
    options["cdn_port"] = (properties.get("cdn_port") or CDN_DEFAULT_PORT) if enabled else None
    return firewall_spec(options)


# Rules as data: {"matches": ((key, frozenset(values)), ...), "counter": bool, "verdict": str, "comment": str}.
# Keys are nft's own words ("iif", "ct state", "meta l4proto", "tcp dport", "ip saddr"...); values are ints,
# strings, ("range", low, high) or canonical network strings.
def _rule(matches, verdict, comment=None, counter=True):
    return {"matches": tuple((key, frozenset(values)) for key, values in matches), "counter": counter,
            "verdict": verdict, "comment": comment}


def _port_values(ports):
    return sorted(set(ports))


def desired_rules(spec):
    """The input chain's rules, in order, for one container's spec."""
    ports = spec["ports"]
    public = [ports[n] for n in spec["public"]]
    admin = [ports[n] for n in sorted(ports) if n not in spec["public"]]
    media = ("range", spec["media_port_from"], spec["media_port_to"])
    if spec["media_port_from"] == spec["media_port_to"]:
        media = spec["media_port_from"]
    rules = [
        _rule([("iif", ["lo"])], "accept", counter=False),  # health gate, drain, exporter: 127.0.0.1 inside
        _rule([("ct state", ["established", "related"])], "accept", counter=False),
        _rule([("ct state", ["invalid"])], "drop", "invalid"),
    ]
    if spec["icmp"]:
        rules.append(_rule([("meta l4proto", ["icmp"])], "accept", "icmp"))
        rules.append(_rule([("meta l4proto", ["ipv6-icmp"])], "accept", "icmpv6"))
    if public:
        rules.append(_rule([("tcp dport", _port_values(public))], "accept", "public"))
    rules.append(_rule([("udp dport", [media])], "accept", "media udp"))
    if spec["media_tcp"]:
        rules.append(_rule([("tcp dport", [media])], "accept", "media tcp"))
    v4 = [c for c in spec["admin_cidrs"] if ":" not in c]
    v6 = [c for c in spec["admin_cidrs"] if ":" in c]
    if admin and v4:
        rules.append(_rule([("ip saddr", v4), ("tcp dport", _port_values(admin))], "accept", "admin"))
    if admin and v6:
        rules.append(_rule([("ip6 saddr", v6), ("tcp dport", _port_values(admin))], "accept", "admin v6"))
    cdn_v4 = [c for c in spec.get("cdn_peers", []) if ":" not in c]
    cdn_v6 = [c for c in spec.get("cdn_peers", []) if ":" in c]
    if spec.get("cdn_port") and cdn_v4:
        rules.append(_rule([("ip saddr", cdn_v4), ("tcp dport", [spec["cdn_port"]])], "accept", "cdn"))
    if spec.get("cdn_port") and cdn_v6:
        rules.append(_rule([("ip6 saddr", cdn_v6), ("tcp dport", [spec["cdn_port"]])], "accept", "cdn v6"))
    rules.append(_rule([], "drop", "dropped"))
    return rules


def _value_text(key, value):
    if isinstance(value, tuple):
        return "%d-%d" % (value[1], value[2])
    if key == "iif":
        return '"%s"' % value
    if key.endswith("saddr"):
        net = ipaddress.ip_network(value)
        return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
    return str(value)


def _sort_value(value):
    if isinstance(value, tuple):
        return (value[1], value[2])
    if isinstance(value, int):
        return (value, value)
    try:
        net = ipaddress.ip_network(value)
        return (net.version, int(net.network_address), net.prefixlen)
    except ValueError:
        return (0, value)


def _match_text(key, values):
    texts = [_value_text(key, v) for v in sorted(values, key=_sort_value)]
    if key == "ct state":
        return "ct state " + ",".join(sorted(values))
    if len(texts) == 1:
        return "%s %s" % (key, texts[0])
    return "%s { %s }" % (key, ", ".join(texts))


def render_rule(rule):
    words = [_match_text(key, values) for key, values in rule["matches"]]
    if rule["counter"]:
        words.append("counter")
    words.append(rule["verdict"])
    if rule["comment"]:
        words.append('comment "%s"' % rule["comment"])
    return " ".join(words)


# The first line of every ruleset file the collection writes (every release wrote it): the mark that lets prune and
# state=absent remove a file, and nothing without it.
FILE_MARK = "# Managed by mediaops.wcs (wcs_firewall)"
FILE_MARK_MAX = 512


def render(rules, container=None):
    """``nft -f`` text that replaces the table atomically (add, delete, define: one transaction)."""
    head = "%s%s. Applied inside the container's network namespace.\n" % (
        FILE_MARK, ": " + container if container else "")
    body = "".join("\t\t%s\n" % render_rule(rule) for rule in rules)
    return (head
            + "table %s %s\ndelete table %s %s\n" % (TABLE_FAMILY, TABLE_NAME, TABLE_FAMILY, TABLE_NAME)
            + "table %s %s {\n\tchain input {\n" % (TABLE_FAMILY, TABLE_NAME)
            + "\t\ttype %s hook %s priority %s; policy %s;\n" % (CHAIN[0], CHAIN[1], "filter", CHAIN[3])
            + body + "\t}\n}\n")


def delete_text():
    """``nft -f`` text that removes the table whether or not it exists."""
    return "table %s %s\ndelete table %s %s\n" % (TABLE_FAMILY, TABLE_NAME, TABLE_FAMILY, TABLE_NAME)


class UnknownExpression(Exception):
    """The table holds something this module never writes (edited by hand): it is replaced."""


def _json_key(left):
    if not isinstance(left, dict) or len(left) != 1:
        raise UnknownExpression(left)
    kind, body = next(iter(left.items()))
    if kind == "meta" and body.get("key") == "iif":
        return "iif"
    if kind in ("meta", "ct"):
        return "%s %s" % (kind, body.get("key"))
    if kind == "payload":
        return "%s %s" % (body.get("protocol"), body.get("field"))
    raise UnknownExpression(left)


def _json_value(key, value):
    if isinstance(value, bool):
        raise UnknownExpression(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if key.endswith("saddr"):
            return str(ipaddress.ip_network(value))
        return value
    if isinstance(value, dict) and "range" in value:
        low, high = value["range"]
        return ("range", int(low), int(high))
    if isinstance(value, dict) and "prefix" in value:
        return str(ipaddress.ip_network("%s/%s" % (value["prefix"]["addr"], value["prefix"]["len"])))
    raise UnknownExpression(value)


def _json_values(key, right):
    if isinstance(right, dict) and "set" in right:
        right = right["set"]
    if not isinstance(right, list):
        right = [right]
    return frozenset(_json_value(key, v) for v in right)


def _json_rule(rule):
    matches, counter, verdict = [], False, None
    for expr in rule.get("expr", []):
        if "match" in expr:
            match = expr["match"]
            if match.get("op") not in ("==", "in"):
                raise UnknownExpression(match)
            key = _json_key(match.get("left"))
            matches.append((key, _json_values(key, match.get("right"))))
        elif "counter" in expr:
            counter = True
        elif "accept" in expr or "drop" in expr:
            verdict = "accept" if "accept" in expr else "drop"
        else:
            raise UnknownExpression(expr)
    return {"matches": tuple(matches), "counter": counter, "verdict": verdict, "comment": rule.get("comment")}


def canonical(nft_json):
    """``nft -j list table inet mediaops_wcs`` output -> {"chains": {...}, "rules": [...]} comparable with
    ``wanted(rules)``; None when the table is absent (empty output)."""
    if not nft_json:
        return None
    items = nft_json.get("nftables", []) if isinstance(nft_json, dict) else []
    chains, rules = {}, []
    found = False
    for item in items:
        if "table" in item:
            found = True
        elif "chain" in item:
            c = item["chain"]
            chains[c.get("name")] = (c.get("type"), c.get("hook"), c.get("prio"), c.get("policy"))
        elif "rule" in item:
            try:
                rules.append((item["rule"].get("chain"), _json_rule(item["rule"])))
            except (UnknownExpression, ValueError, TypeError, KeyError) as exc:
                rules.append((item["rule"].get("chain"), {"unknown": repr(exc)[:200]}))
        elif "metainfo" not in item:
            rules.append((None, {"unknown": repr(item)[:200]}))
    if not found:
        return None
    return {"chains": chains, "rules": rules}


def wanted(rules):
    """What ``canonical`` returns for a table that holds exactly ``rules``."""
    return {"chains": {"input": CHAIN}, "rules": [("input", rule) for rule in rules]}


def counters(nft_json):
    """Packets and bytes per commented rule: {"dropped": {"packets": n, "bytes": n}, ...}."""
    out = {}
    for item in (nft_json or {}).get("nftables", []):
        rule = item.get("rule")
        if not rule or not rule.get("comment"):
            continue
        for expr in rule.get("expr", []):
            if "counter" in expr and isinstance(expr["counter"], dict):
                out[rule["comment"]] = {"packets": int(expr["counter"].get("packets", 0)),
                                        "bytes": int(expr["counter"].get("bytes", 0))}
    return out


def nsenter_argv(pid, nft_args, nsenter="nsenter", nft="nft"):
    """argv running ``nft <nft_args>`` inside the network namespace of process ``pid`` (mount namespace: the
    host's, so the host's nft binary and libraries are used; the container's image needs no nft)."""
    return [nsenter, "--net=/proc/%d/ns/net" % int(pid), nft] + list(nft_args)


def file_mark_problem(path, container):
    """Why the ruleset file at ``path`` is not one the collection wrote for ``container``, else None: its first line
    must be FILE_MARK naming that container (a regular file, never a symlink followed; at most FILE_MARK_MAX bytes
    read)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return "it is not a regular file"
        with open(path, "rb") as handle:
            first = handle.read(FILE_MARK_MAX).split(b"\n", 1)[0]
    except OSError as exc:
        return "it cannot be read (%s)" % (exc.strerror or exc)
    expected = ("%s: %s." % (FILE_MARK, container)).encode("utf-8")
    if not first.startswith(expected):
        return "its first line is not the collection's header %r" % expected.decode("utf-8")
    return None


def prune_candidates(rules_dir, keep):
    """The ``.nft`` files of ``rules_dir`` a prune may remove, decided before any removal: every file whose name is
    not in ``keep`` (the listed containers' file names) and that the collection wrote for the container it is named
    after (file_mark_problem). Returns ([(file name, container)], kept [{file, reason}]) - kept: the other files."""
    candidates, kept = [], []
    try:
        names = sorted(os.listdir(rules_dir))
    except FileNotFoundError:
        return candidates, kept
    for fname in names:
        if not fname.endswith(".nft") or fname in keep:
            continue
        path = os.path.join(rules_dir, fname)
        why = file_mark_problem(path, fname[:-len(".nft")])
        if why:
            kept.append({"file": path, "reason": why})
        else:
            candidates.append((fname, fname[:-len(".nft")]))
    return candidates, kept


def rules_file_name(container):
    """The host-side ruleset file of a container (name checked by the caller as a Docker name)."""
    return "%s.nft" % container

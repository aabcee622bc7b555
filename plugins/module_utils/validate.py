# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of what a user types, before it reaches a file, a label, a name or the engine.

Pure Python (stdlib only). Each check returns the cleaned value or raises ``PlanError(field, value, fix, why)``.
The one rule behind them: a value that could be split into two lines, or read differently by the next tool
(property parser, Docker, the kernel), is refused rather than written. Python's ``$`` matches before a trailing
newline, so every pattern here is anchored with ``\\A`` and ``\\Z``.
"""
from __future__ import annotations

import ipaddress
import math
import re
import unicodedata

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

# Docker's container name rule (daemon/names.go: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``, so at least 2 characters: the
# engine refuses a one-character container name). Networks keep one character allowed (the engine's network names are
# not bound by this rule; 1-character names worked before). 128 keeps names readable in `docker ps`.
DOCKER_NAME = re.compile(r"\A[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")
DOCKER_NAME_MAX = 128
DOCKER_NAME_MIN = {"container": 2, "network": 1, "ulimit": 2, "prefix": 1}
_NAME_WHAT = {"prefix": "container name (its start: the number follows)"}
# Names Docker keeps for its own networks (runconfig.IsPreDefinedNetwork: bridge, host, none, default); a WCS network
# of that name would be Docker's own network, not an ipvlan/macvlan one.
RESERVED_NETWORK_NAMES = ("bridge", "host", "none", "default")
# Linux interface names: 1-15 bytes (IFNAMSIZ - 1), no '/', no ':' (alias syntax), no white space.
IFNAME = re.compile(r"\A[A-Za-z0-9_.@-]{1,15}\Z")
# Bidirectional overrides and isolates: they make a value display differently from what the parser reads.
_BIDI = {chr(c) for c in list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))}
# The one length policy of text inputs: longer values are refused before any other check looks at them.
TEXT_MAX = 4096
# Whole numbers: ASCII digits only, at most this many (checked before int() sees them).
INT_DIGITS_MAX = 18
_INT_TEXT = re.compile(r"\A[ \t]*([+-]?)([0-9]{1,%d})[ \t]*\Z" % INT_DIGITS_MAX)

# -- paths ---------------------------------------------------------------------------------------------------------
# Where a directory the collection writes into (and may later remove) must never be. Each rule: (directory, scope,
# reason); scope "self" refuses the directory only (its children are fine: /opt/wcs), "children" the directory and its
# direct children (/home/alice is someone's home; /home/alice/wcs is fine), "tree" the directory and everything
# under it. /var/run is /run (a symlink on every current distribution) and is checked as such.
PATH_RULES = (
    ("/", "self", "the root of the file system"),
    ("/bin", "tree", "the system's programs"),
    ("/boot", "tree", "the kernel and the boot loader"),
    ("/dev", "tree", "device nodes and shared memory (/dev/shm)"),
    ("/etc", "tree", "the host's configuration (systemd units, cron.d, sudoers, ...): a file there changes how the "
                     "host runs"),
    ("/home", "children", "the users' home directories"),
    ("/lib", "tree", "the system's libraries"),
    ("/lib32", "tree", "the system's libraries"),
    ("/lib64", "tree", "the system's libraries"),
    ("/libx32", "tree", "the system's libraries"),
    ("/media", "self", "the mount point of removable media"),
    ("/mnt", "self", "the mount point of file systems"),
    ("/opt", "self", "the parent of every add-on package"),
    ("/proc", "tree", "the kernel's process and sysctl interface"),
    ("/root", "tree", "root's home (ssh keys, shell start-up files)"),
    ("/run", "self", "the runtime state of the host's services"),
    ("/run/containerd", "tree", "containerd's runtime state"),
    ("/run/dbus", "tree", "the system bus"),
    ("/run/docker", "tree", "the Docker engine's runtime state"),
    ("/run/docker.sock", "tree", "the Docker engine's socket"),
    ("/run/lock", "tree", "the host's lock files"),
    ("/run/netns", "tree", "the network namespaces"),
    ("/run/systemd", "tree", "systemd's runtime state and transient units"),
    ("/run/udev", "tree", "udev's device database"),
    ("/run/user", "tree", "the users' runtime directories"),
    ("/sbin", "tree", "the system's programs"),
    ("/srv", "self", "the parent of the services' data"),
    ("/sys", "tree", "the kernel's device and cgroup interface"),
    ("/tmp", "self", "the shared temporary directory"),
    ("/usr", "tree", "the distribution's programs and libraries (only /usr/local/<a directory of its own> is "
                     "allowed)"),
    ("/usr/local", "self", "the parent of locally installed software"),
    ("/var", "self", "the parent of the host's variable data"),
    ("/var/cache", "self", "the parent of the host's caches"),
    ("/var/lib", "self", "the parent of every service's state"),
    ("/var/lib/apt", "tree", "apt's package state"),
    ("/var/lib/containerd", "tree", "containerd's storage"),
    ("/var/lib/docker", "tree", "the Docker engine's own storage (images, containers, volumes)"),
    ("/var/lib/dpkg", "tree", "dpkg's package database"),
    ("/var/lib/kubelet", "tree", "the kubelet's state"),
    ("/var/lib/systemd", "tree", "systemd's state"),
    ("/var/log", "self", "the parent of the host's logs"),
    ("/var/spool", "tree", "cron tables and mail queues"),
    ("/var/tmp", "self", "the shared temporary directory"),
)
_PATH_RULES = {path: (scope, reason) for path, scope, reason in PATH_RULES}
# Inside a "tree" rule, what the collection may still use: its own directory under /etc (wcs_firewall_rules_dir
# defaults to /etc/mediaops-wcs/firewall), and a directory of its own under /usr/local (not bin, lib, share, ...).
OWN_TREES = ("/etc/mediaops-wcs",)
USR_LOCAL_SYSTEM = frozenset(["bin", "etc", "games", "include", "lib", "lib32", "lib64", "libexec", "man", "sbin",
                              "share", "src"])
# Kept for callers that compare against the old exact list (every entry is refused by the rules above).
SYSTEM_DIRS = frozenset(["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
                         "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr",
                         "/usr/bin", "/usr/lib", "/usr/local", "/usr/local/bin", "/usr/sbin", "/var", "/var/lib",
                         "/var/log", "/var/run", "/var/tmp"])


def bad_character(text):
    """The first character of ``text`` that must not reach a file or the engine, else None.

    Refused: control characters (tab, CR, LF, NUL, ...: category Cc), Unicode line and paragraph separators
    (U+2028, U+2029: category Zl/Zp; ``str.splitlines`` splits on them), surrogates and bidi overrides.
    """
    for char in text:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs") or char in _BIDI:
            return char
    return None


def check_text(value, field, fix="remove control characters and line breaks", allow_empty=True, max_len=TEXT_MAX):
    """A single-line string without control characters, at most ``max_len`` characters; numbers and booleans are
    taken as their text."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, int) and value.bit_length() > 4 * (max_len or TEXT_MAX):
        raise PlanError(field, "(a number too long to show)", "give a shorter value")
    elif isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        raise PlanError(field, _short(value), "give a string")
    if max_len is not None and len(value) > max_len:
        raise PlanError(field, _short(value), "give at most %d characters" % max_len,
                        why="it is %d characters long" % len(value))
    char = bad_character(value)
    if char is not None:
        raise PlanError(field, value, fix, why="it holds the character U+%04X (%s), which would split or hide "
                        "what is written" % (ord(char), unicodedata.name(char, "control character")))
    if not allow_empty and not value.strip():
        raise PlanError(field, value, "give a value", why="it is empty")
    return value


def short(value, limit=80):
    """A value short enough for an error message: long texts are cut, other values longer than ``limit`` when
    printed (containers, ints of thousands of digits, whose repr() itself raises) are shown by their cut repr or
    their type."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit - 3] + "..."
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return "(a number too long to show)"
    try:
        text = repr(value)
    except Exception:  # pylint: disable=broad-except
        return type(value).__name__
    return value if len(text) <= limit else text[:limit - 3] + "..."


_short = short


def check_docker_name(value, field, what="container"):
    """A Docker name, matched whole: a letter or digit, then letters, digits, ``_ . -``; at least 2 characters for a
    container (Docker's rule), 1 for a network or a name prefix."""
    low = DOCKER_NAME_MIN.get(what, 2)
    if (not isinstance(value, str) or len(value) > DOCKER_NAME_MAX or len(value) < low
            or not DOCKER_NAME.match(value)):
        raise PlanError(field, _short(value), "use letters, digits, '_', '.' and '-' (starting with a letter or "
                        "digit, %d to %d characters): a Docker %s"
                        % (low, DOCKER_NAME_MAX, _NAME_WHAT.get(what, what + " name")))
    return value


def check_network_name(value, field):
    """The WCS network's name: a Docker name that is not one of Docker's own networks (bridge, host, none)."""
    name = check_docker_name(value, field, what="network")
    if name in RESERVED_NETWORK_NAMES:
        raise PlanError(field, value, "name the WCS network something of its own, e.g. wcs-net",
                        why="%s is Docker's own network (%s are reserved)" % (name, ", ".join(RESERVED_NETWORK_NAMES)))
    return name


def check_interface_name(value, field):
    """A Linux network interface name: 1-15 characters, letters, digits, ``_ . @ -``, not ``.`` or ``..``."""
    if not isinstance(value, str) or not IFNAME.match(value) or value in (".", ".."):
        raise PlanError(field, _short(value), "name the host interface as `ip link` shows it (1-15 characters: "
                        "letters, digits, '_', '.', '@', '-'), e.g. ens1f0 or bond0.100")
    return value


def system_path_reason(path):
    """Why the normalised absolute ``path`` must not hold what the collection writes (and later removes), else
    None: the deny table PATH_RULES, with the collection's own trees (OWN_TREES, /usr/local/<own>) allowed."""
    if path == "/var/run" or path.startswith("/var/run/"):
        path = "/run" + path[len("/var/run"):]
    if any(path == own or path.startswith(own + "/") for own in OWN_TREES):
        return None
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["usr", "local"] and len(parts) >= 3 and parts[2] not in USR_LOCAL_SYSTEM:
        return None
    for depth in range(len(parts), -1, -1):
        ancestor = "/" + "/".join(parts[:depth])
        rule = _PATH_RULES.get(ancestor)
        if rule is None:
            continue
        scope, reason = rule
        below = len(parts) - depth
        if below == 0 or scope == "tree" or (scope == "children" and below == 1):
            if below == 0:
                return "%s is a system directory (%s)" % (path, reason)
            return "%s is under the system directory %s (%s)" % (path, ancestor, reason)
    return None


def check_abs_path(value, field, refuse_system=True):
    """An absolute path, normalised only for ``.`` components and repeated slashes.

    Refused: relative paths, ``..`` components (never resolved: ``/opt/wcs/../../etc`` is an error, not /etc), a
    ``:`` (it would split a Docker bind specification ``host:container:mode``), and when ``refuse_system`` a system
    directory or anything the deny table PATH_RULES keeps (``/etc/...``, ``/proc/...``, ``/var/lib/docker/...``).
    """
    text = check_text(value, field, fix="give an absolute path without control characters", allow_empty=False)
    if not text.startswith("/"):
        raise PlanError(field, value, "give an absolute path, e.g. /opt/wcs")
    if ":" in text:
        raise PlanError(field, value, "give a path without ':'", why="a ':' splits a Docker bind specification "
                        "(host:container:mode)")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise PlanError(field, value, "give the directory itself, without '..' components",
                        why="'..' climbs out of the directory it names (it is refused, never resolved)")
    path = "/" + "/".join(parts)
    if refuse_system:
        reason = system_path_reason(path)
        if reason:
            raise PlanError(field, value, "give a directory of its own, e.g. /opt/wcs or /var/lib/mediaops-wcs",
                            why=reason)
    return path


def check_int(value, field, low=None, high=None, fix=None):
    """A whole number (ints, ASCII digit strings with optional sign and blanks, integral floats; never booleans,
    fractions, Unicode digits or control characters) within ``low``..``high``. A string is matched (at most
    INT_DIGITS_MAX digits) before ``int()`` sees it."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and len(value) <= 64:
        match = _INT_TEXT.match(value)
        if match:
            number = int(match.group(1) + match.group(2))
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        number = int(value)
    span = "%s..%s" % ("" if low is None else low, "" if high is None else high)
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        raise PlanError(field, _short(value), fix or "give a whole number in %s" % span)
    return number


_NUMBER_TEXT = re.compile(r"\A[ \t]*[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})"
                          r"(?:[eE][+-]?[0-9]{1,3})?[ \t]*\Z")


def check_number(value, field, low=None, high=None, low_open=False, fix=None):
    """A finite real number (ints, floats, ASCII decimal text) within ``low``..``high`` (``low`` excluded when
    ``low_open``); never booleans, NaN, infinity, Unicode digits or control characters."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1000:
        raise PlanError(field, _short(value), fix or "give a smaller number")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and len(value) <= 64 and _NUMBER_TEXT.match(value):
        number = float(value)
    fix = fix or "give a number in %s%s..%s" % (
        "(" if low_open else "", "" if low is None else low, "" if high is None else high)
    if number is None or not math.isfinite(number):
        raise PlanError(field, _short(value), fix)
    if (low is not None and (number < low or (low_open and number == low))) or (high is not None and number > high):
        raise PlanError(field, _short(value), fix)
    return number


# -- image references (github.com/distribution/reference, regexp.go) -----------------------------------------------
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(r"\A(?:%s(?:\.%s)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?\Z" % (_DOMAIN_COMPONENT, _DOMAIN_COMPONENT))
_PATH_COMPONENT = re.compile(r"\A[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST = re.compile(r"\Asha256:[0-9a-f]{64}\Z")
IMAGE_NAME_MAX = 255
_IMAGE_FIX = ("give a Docker image reference: [registry[:port]/]path[:tag][@sha256:<64 hex digits>], lowercase "
              "path, e.g. flashphoner/webcallserver:latest")


def check_image_ref(value, field):
    """A Docker image reference in the engine's grammar (distribution/reference): an optional registry host (with a
    '.', a ':' port or ``localhost``), lowercase path components joined by ``.``, ``_``, ``__`` or dashes, an
    optional tag of at most 128 characters and an optional ``@sha256:`` digest."""
    if not isinstance(value, str):
        raise PlanError(field, _short(value), _IMAGE_FIX, why="it is not text")
    text = check_text(value, field, fix=_IMAGE_FIX, allow_empty=False, max_len=512)
    rest, at, digest = text.partition("@")
    if at and not _DIGEST.match(digest):
        raise PlanError(field, value, _IMAGE_FIX, why="the digest is not sha256: and 64 lowercase hex digits")
    name, tag = rest, ""
    last = rest.rfind(":")
    if last > rest.rfind("/"):
        name, tag = rest[:last], rest[last + 1:]
        if not _TAG.match(tag):
            raise PlanError(field, value, _IMAGE_FIX, why="the tag %r is outside Docker's grammar" % tag)
    components = name.split("/")
    first = components[0]
    if len(components) > 1 and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        if not _DOMAIN.match(first):
            raise PlanError(field, value, _IMAGE_FIX, why="the registry %r is not a host[:port]" % first)
        components = components[1:]
    bad = [c for c in components if not _PATH_COMPONENT.match(c)]
    if bad or not name:
        raise PlanError(field, value, _IMAGE_FIX, why="the name component %r is outside Docker's grammar (lowercase "
                        "letters and digits, joined by '.', '_', '__' or '-')" % (bad[0] if bad else name))
    if len(name) > IMAGE_NAME_MAX:
        raise PlanError(field, _short(value), _IMAGE_FIX, why="the name is longer than %d characters"
                        % IMAGE_NAME_MAX)
    return text


TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
UNSET_WORDS = ("", "none", "null")
_REFUSE_UNSET = object()


def check_bool(value, field, unset=_REFUSE_UNSET, fix="give true or false"):
    """A yes/no input: a bool, or (survey) text true/yes/on/1 or false/no/off/0 in any case. Unset (None, '', none,
    null) gives ``unset`` when the caller gives one, else it is refused like any other value."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value not in (0, 1):
        raise PlanError(field, _short(value), fix)
    text = "none" if value is None else str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    if unset is not _REFUSE_UNSET and text in UNSET_WORDS:
        return unset
    raise PlanError(field, value, fix)


def is_safe_env_key(key):
    """An environment variable name Docker and a shell both read as one key (no '=', no control characters)."""
    return isinstance(key, str) and bool(re.match(r"\A[A-Za-z_][A-Za-z0-9_.-]*\Z", key))


# Blocks that can never carry a container's address (RFC 6890): a subnet overlapping one is refused. The
# documentation blocks (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) and private ones stay accepted.
RESERVED_BLOCKS = (
    ("0.0.0.0/8", "'this network' (0.0.0.0/8)"),
    ("127.0.0.0/8", "loopback (127.0.0.0/8)"),
    ("169.254.0.0/16", "link-local (169.254.0.0/16)"),
    ("192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"),
    ("224.0.0.0/4", "multicast (224.0.0.0/4)"),
    ("240.0.0.0/4", "reserved for future use and broadcast (240.0.0.0/4)"),
)


def reserved_block(subnet):
    """The description of the reserved block an IPv4 network (text or ipaddress object) overlaps, else None."""
    net = ipaddress.IPv4Network(subnet, strict=False) if isinstance(subnet, str) else subnet
    for block, what in RESERVED_BLOCKS:
        if net.overlaps(ipaddress.IPv4Network(block)):
            return what
    return None


def check_subnet_not_reserved(subnet, field, value=None):
    """PlanError when ``subnet`` overlaps a reserved block (multicast, loopback, link-local, ...)."""
    what = reserved_block(subnet)
    if what:
        raise PlanError(field, subnet if value is None else value, "use the public (or private, with NAT) block the "
                        "containers' addresses come from, e.g. '203.0.113.0/29'", why="it overlaps the %s block" % what)


def parse_address(value, field, fix):
    """An IP literal (text, brackets allowed around IPv6) -> ipaddress object; IPv4-mapped IPv6 (``::ffff:a.b.c.d``)
    is unwrapped to the IPv4 address it carries, so every check sees the address the kernel uses."""
    text = check_text(value, field, fix=fix, allow_empty=False, max_len=64).strip(" \t")
    try:
        addr = ipaddress.ip_address(text[1:-1] if text.startswith("[") and text.endswith("]") else text)
    except ValueError:
        raise PlanError(field, value, fix) from None
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr


def unicast_problem(addr, subnet=None):
    """Why ``addr`` (an ipaddress object) cannot be reached as one host, else None."""
    if addr.is_unspecified or (addr.version == 4 and addr in ipaddress.IPv4Network("0.0.0.0/8")):
        return "it is the unspecified ('this network') address"
    if addr.is_loopback:
        return "it is a loopback address: only the host itself reaches it"
    if addr.is_multicast:
        return "it is a multicast address"
    if addr.version == 4 and addr == ipaddress.IPv4Address("255.255.255.255"):
        return "it is the broadcast address"
    if addr.is_link_local:
        return "it is a link-local address: it is not routed"
    if addr.version == 4 and addr.is_reserved:
        return "it is in the reserved block 240.0.0.0/4"
    if subnet is not None:
        net = ipaddress.ip_network(subnet, strict=False) if isinstance(subnet, str) else subnet
        if net.version == addr.version and net.prefixlen < net.max_prefixlen - 1 and addr in net:
            if addr == net.network_address:
                return "it is the network address of %s" % net
            if addr == net.broadcast_address and net.version == 4:
                return "it is the broadcast address of %s" % net
    return None


def check_unicast_address(value, field, subnet=None, version=None, fix=None):
    """An address that must be reachable (external, CDN, gateway, host address): one unicast host address, never
    loopback, unspecified, multicast, broadcast (255.255.255.255, or ``subnet``'s), link-local or reserved.
    IPv4-mapped IPv6 is unwrapped first. ``version`` 4 or 6 restricts the family. Returns the address as text."""
    fix = fix or ("give the unicast address of one host, e.g. 203.0.113.4" if version != 6
                  else "give the unicast IPv6 address of one host")
    addr = parse_address(value, field, fix)
    if version is not None and addr.version != version:
        raise PlanError(field, value, fix, why="it is IPv%d" % addr.version)
    problem = unicast_problem(addr, subnet)
    if problem:
        raise PlanError(field, value, fix, why=problem)
    return str(addr)


def check_cidr_set(nets, field, value=None, fix=None, why=None):
    """A set of networks (ipaddress objects) whose union does not cover a whole address space: ``0.0.0.0/1`` plus
    ``128.0.0.0/1`` is refused like ``0.0.0.0/0``. Returns ``nets``."""
    for version, everything in ((4, "0.0.0.0/0"), (6, "::/0")):
        same = [n for n in nets if n.version == version]
        if same and any(n.prefixlen == 0 for n in ipaddress.collapse_addresses(same)):
            raise PlanError(field, value if value is not None else [str(n) for n in nets],
                            fix or "give the networks that need access, not every address",
                            why=why or "together they cover every IPv%d address (%s)" % (version, everything))
    return nets


def check_listen_address(value, field):
    """An address a service listens on: an IP literal of this host, never the wildcard (0.0.0.0, ::, also as
    ``::ffff:0.0.0.0``), a multicast or a reserved address. Loopback (the default) keeps a service off every network;
    an admin address names the one network it may be reached from."""
    addr = parse_address(value, field, "give an IP address: 127.0.0.1 (this host only) or the host's admin address")
    if addr.is_unspecified:
        raise PlanError(field, value, "name the admin address the service may be reached on (or keep 127.0.0.1)",
                        why="it listens on every address of the host, the internet-facing ones included")
    if addr.is_multicast or (addr.version == 4 and reserved_block("%s/32" % addr) and not addr.is_loopback):
        raise PlanError(field, value, "give 127.0.0.1 or the host's admin address", why="not a unicast host address")
    return str(addr)


def check_secret(value, field):
    """A secret (password, licence, scrape password) as one line of text: a string, or the digits of a whole number
    typed unquoted in YAML. Anything else (a list, a mapping, a boolean, a float such as NaN, bytes) is refused, and
    the value itself never goes into the message."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 12000:
        value = str(value)
    name = str(field).rsplit(".", 1)[-1]
    if not isinstance(value, str):
        raise PlanError(field, "(hidden)", "give the %s as one line of text (quote it in YAML)" % name,
                        why="it is a %s, not text" % type(value).__name__)
    if bad_character(value) is not None or len(value) > TEXT_MAX:
        raise PlanError(field, "(hidden)", "give the %s as one line of text (no control characters or line breaks, "
                        "at most %d characters)" % (name, TEXT_MAX), why="it is not one line of text")
    return value

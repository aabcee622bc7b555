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
import posixpath
import re
import unicodedata

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

# Docker's container and network name rule (daemon/names: [a-zA-Z0-9][a-zA-Z0-9_.-]+), one character allowed here
# for networks; 128 keeps names readable in `docker ps` and well inside the engine's limits.
DOCKER_NAME = re.compile(r"\A[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")
DOCKER_NAME_MAX = 128
# Linux interface names: 1-15 bytes (IFNAMSIZ - 1), no '/', no ':' (alias syntax), no white space.
IFNAME = re.compile(r"\A[A-Za-z0-9_.@-]{1,15}\Z")
# Bidirectional overrides and isolates: they make a value display differently from what the parser reads.
_BIDI = {chr(c) for c in list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))}
# Directories a conf tree or a base directory must never be (or be the parent of everything in).
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


def check_text(value, field, fix="remove control characters and line breaks", allow_empty=True):
    """A single-line string without control characters; numbers and booleans are taken as their text."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        raise PlanError(field, value, "give a string")
    char = bad_character(value)
    if char is not None:
        raise PlanError(field, value, fix, why="it holds the character U+%04X (%s), which would split or hide "
                        "what is written" % (ord(char), unicodedata.name(char, "control character")))
    if not allow_empty and not value.strip():
        raise PlanError(field, value, "give a value", why="it is empty")
    return value


def check_docker_name(value, field, what="container"):
    """A Docker container/network name, matched whole: letters, digits, then ``_ . -``."""
    if not isinstance(value, str) or not DOCKER_NAME.match(value) or len(value) > DOCKER_NAME_MAX:
        raise PlanError(field, value, "use letters, digits, '_', '.' and '-' (starting with a letter or digit, at "
                        "most %d characters): a Docker %s name" % (DOCKER_NAME_MAX, what))
    return value


def check_interface_name(value, field):
    """A Linux network interface name: 1-15 characters, letters, digits, ``_ . @ -``, not ``.`` or ``..``."""
    if not isinstance(value, str) or not IFNAME.match(value) or value in (".", ".."):
        raise PlanError(field, value, "name the host interface as `ip link` shows it (1-15 characters: letters, "
                        "digits, '_', '.', '@', '-'), e.g. ens1f0 or bond0.100")
    return value


def check_abs_path(value, field, refuse_system=True):
    """An absolute, normalised path; never ``/`` or a system directory when ``refuse_system``."""
    text = check_text(value, field, fix="give an absolute path without control characters", allow_empty=False)
    if not text.startswith("/"):
        raise PlanError(field, value, "give an absolute path, e.g. /opt/wcs")
    path = posixpath.normpath(text)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if refuse_system and path in SYSTEM_DIRS:
        raise PlanError(field, value, "give a directory of its own, e.g. %s/wcs" % (path.rstrip("/") or "/opt"),
                        why="%s is a system directory" % path)
    return path


def check_int(value, field, low=None, high=None, fix=None):
    """A whole number (ints or digit strings; never booleans or fractions) within ``low``..``high``."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.match(r"\A\s*[+-]?[0-9]{1,18}\s*\Z", value):
        number = int(value)
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        number = int(value)
    span = "%s..%s" % ("" if low is None else low, "" if high is None else high)
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        raise PlanError(field, value, fix or "give a whole number in %s" % span)
    return number


TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
UNSET_WORDS = ("", "none", "null")
_REFUSE_UNSET = object()


def check_bool(value, field, unset=_REFUSE_UNSET, fix="give true or false"):
    """A yes/no input: a bool, or (survey) text true/yes/on/1 or false/no/off/0 in any case. Unset (None, '', none,
    null) gives ``unset`` when the caller gives one, else it is refused like any other value."""
    if isinstance(value, bool):
        return value
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


def check_listen_address(value, field):
    """An address a service listens on: an IP literal of this host, never the wildcard (0.0.0.0, ::), a multicast
    or a reserved address. Loopback (the default) keeps a service off every network; an admin address names the
    one network it may be reached from."""
    text = check_text(value, field, fix="give 127.0.0.1 or the host's admin address", allow_empty=False).strip()
    try:
        addr = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        raise PlanError(field, value, "give an IP address: 127.0.0.1 (this host only) or the host's admin address")
    if addr.is_unspecified:
        raise PlanError(field, value, "name the admin address the service may be reached on (or keep 127.0.0.1)",
                        why="it listens on every address of the host, the internet-facing ones included")
    if addr.is_multicast or (addr.version == 4 and reserved_block("%s/32" % addr) and not addr.is_loopback):
        raise PlanError(field, value, "give 127.0.0.1 or the host's admin address", why="not a unicast host address")
    return str(addr)

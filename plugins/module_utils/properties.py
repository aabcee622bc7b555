"""Parse, merge and render WCS property files (pure Python: no Ansible, no Docker).

Two formats:

* ``flashphoner.properties``: ``key=value`` lines (spaces around ``=`` allowed, as in the seed article), ``#``
  comments, blank lines.
* ``wcs-core.properties``: one JVM/server option per line starting with ``-``; ``#`` comments and blank lines are
  ignored by WCS; options after ``### SERVER OPTIONS ###`` up to ``### JVM OPTIONS ###`` go to the server, the rest
  to the JVM (``bin/setenv.sh``).

Merge rules (the same for both files; documented for operators in the ``wcs_properties`` module and the ``config``
role):

1. Managed entries (from variables) win: an existing line with the same key gets the managed value in place; a
   managed key that is not in the file yet is appended (flashphoner) or added to its section (core).
2. Every other key the file holds (added by hand) is kept where it is, and reported as ``kept``.
3. The file carries one header comment listing the keys it manages (``# mediaops.wcs managed: ...``). A key that
   was managed last time and is no longer managed (its variable was unset) is removed, and reported as
   ``removed``; a hand-added key is never removed, because it is not in that list.
4. Comments and blank lines are kept. Duplicate lines of a managed key collapse into the first one.
5. core only: when ZGC is managed on, other ``-XX:+Use...GC`` collector lines are removed (the JVM refuses two
   collectors), and reported as ``removed``. A line holding several options is split into one option per line.
"""
from __future__ import annotations

import re

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import bad_character, check_text

MANAGED_MARK = "# mediaops.wcs managed:"
SERVER_HEADER = "### SERVER OPTIONS ###"
JVM_HEADER = "### JVM OPTIONS ###"
ZGC_OPTIONS = ("-XX:+UnlockExperimentalVMOptions", "-XX:+UseZGC")

# Whole-string patterns (\A...\Z): Python's $ also matches before a trailing newline.
_KEY_RE = re.compile(r"\A[A-Za-z0-9_.\-]+\Z")
_GC_RE = re.compile(r"\A-XX:[+]Use[A-Za-z0-9]*GC\Z")
_HEAP_RE = re.compile(r"\A[1-9][0-9]{0,15}[kKmMgGtT]?\Z")


# ---------------------------------------------------------------------------------------------- flashphoner.properties

def _prop_line(line):
    """(key, value) for a ``key=value`` line, None for comments, blanks and lines without '='."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or stripped.startswith("!"):
        return None
    if "=" not in stripped:
        return None
    key, value = stripped.split("=", 1)
    return key.strip(), value.strip()


def _managed_from_header(lines):
    for line in lines:
        if line.startswith(MANAGED_MARK):
            names = line[len(MANAGED_MARK):].strip()
            return [n for n in names.split(",") if n] if names else []
    return []


def parse_properties(text):
    """Ordered dict-like list of (key, value) pairs of a flashphoner.properties text (later duplicates kept)."""
    pairs = []
    for line in (text or "").splitlines():
        kv = _prop_line(line)
        if kv is not None:
            pairs.append(kv)
    return pairs


def _format_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def validate_properties(managed, field="properties"):
    """Checks keys and values of a managed dict; returns it as {key: rendered string} without None values."""
    out = {}
    for key, value in (managed or {}).items():
        if value is None:
            continue
        key = str(key)
        if not _KEY_RE.match(key):
            raise PlanError("%s.%s" % (field, key), key, "use a property name made of letters, digits, '_', '.', '-'",
                            why="not a property name")
        # Any control character or Unicode line break (U+2028...) would be read back as a second line next run:
        # an injected property, and a change (a restart) on every converge.
        out[key] = check_text(_format_value(value), "%s.%s" % (field, key),
                              fix="put the value on one line, without control characters or line separators")
    return out


def merge_properties(existing_text, managed):
    """Merges managed ``{key: value}`` into an existing flashphoner.properties text.

    Returns ``(text, report)`` with report ``{kept: [...], removed: [...], added: [...], updated: [...]}``.
    ``existing_text`` None means the file does not exist yet.
    """
    managed = validate_properties(managed)
    lines = (existing_text or "").splitlines()
    previously = set(_managed_from_header(lines))
    report = {"kept": [], "removed": [], "added": [], "updated": []}
    seen = set()
    out = [MANAGED_MARK + " " + ",".join(managed)]
    for line in lines:
        if line.startswith(MANAGED_MARK):
            continue
        kv = _prop_line(line)
        if kv is None:
            out.append(line.rstrip())
            continue
        key, value = kv
        if key in managed:
            if key in seen:
                continue  # duplicate of a managed key: the first occurrence carries the value
            seen.add(key)
            if value != managed[key]:
                report["updated"].append(key)
            out.append("%s=%s" % (key, managed[key]))
        elif key in previously:
            report["removed"].append(key)
        else:
            if key not in report["kept"]:
                report["kept"].append(key)
            out.append(line.rstrip())
    for key, value in managed.items():
        if key not in seen:
            report["added"].append(key)
            out.append("%s=%s" % (key, value))
    return "\n".join(out) + "\n", report


# ---------------------------------------------------------------------------------------------- wcs-core.properties

def option_key(option):
    """The identity of a JVM/server option: what a new value of 'the same setting' replaces.

    ``-Xmx16g`` -> ``-Xmx``; ``-Dname=v`` -> ``-Dname``; ``-XX:+Flag`` / ``-XX:-Flag`` -> ``-XX:Flag``;
    ``-XX:Name=v`` -> ``-XX:Name``; anything else -> the option itself.
    """
    for prefix in ("-Xms", "-Xmx", "-Xss", "-Xmn"):
        if option.startswith(prefix):
            return prefix
    if option.startswith("-XX:"):
        body = option[4:]
        if body[:1] in "+-":
            return "-XX:" + body[1:]
        return "-XX:" + body.split("=", 1)[0]
    if option.startswith("-D") or option.startswith("--"):
        return option.split("=", 1)[0]
    return option


def _options_of(line):
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return []
    return [tok for tok in stripped.split() if tok]


def parse_core(text):
    """``{server: [options], jvm: [options]}`` of a wcs-core.properties text, in file order."""
    section = "jvm"
    parsed = {"server": [], "jvm": []}
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped == SERVER_HEADER:
            section = "server"
            continue
        if stripped == JVM_HEADER:
            section = "jvm"
            continue
        parsed[section].extend(opt for opt in _options_of(line) if opt.startswith("-"))
    return parsed


def heap_options(heap):
    """``-Xms`` / ``-Xmx`` for a heap size like ``16g`` (both equal: the heap never resizes under load)."""
    heap = str(heap).strip()
    if not _HEAP_RE.match(heap):
        raise PlanError("heap", heap, "write the size as a number with an optional k/m/g/t suffix, e.g. 16g",
                        why="not a JVM size")
    return ["-Xms" + heap, "-Xmx" + heap]


def core_options(heap=None, zgc=False, server_options=None, jvm_options=None):
    """The managed options: ``{server: [...], jvm: [...]}`` from the role's variables."""
    jvm = []
    if heap:
        jvm.extend(heap_options(heap))
    if zgc:
        jvm.extend(ZGC_OPTIONS)
    for field, options in (("server_options", server_options), ("jvm_options", jvm_options)):
        for opt in options or []:
            if not isinstance(opt, str) or not opt.startswith("-") or any(c.isspace() for c in opt) \
                    or bad_character(opt) is not None:
                raise PlanError(field, opt, "give one option per list item, starting with '-', without spaces or "
                                "control characters", why="not a single option")
    jvm.extend(jvm_options or [])
    # A later option for the same setting wins (jvm_options may override the heap lines, a repeated server
    # option replaces the earlier one).
    managed = {"server": [], "jvm": []}
    for section, opts in (("server", server_options or []), ("jvm", jvm)):
        for opt in opts:
            key = option_key(opt)
            for sec in managed:
                managed[sec] = [o for o in managed[sec] if option_key(o) != key]
            managed[section].append(opt)
    return managed


def merge_core(existing_text, managed):
    """Merges managed ``{server: [...], jvm: [...]}`` options into an existing wcs-core.properties text.

    Returns ``(text, report)`` like :func:`merge_properties`; report keys are option keys (see :func:`option_key`).
    """
    section_of = {}
    value_of = {}
    for section in ("server", "jvm"):
        for opt in managed.get(section, []):
            section_of[option_key(opt)] = section
            value_of[option_key(opt)] = opt
    zgc_on = value_of.get("-XX:UseZGC") == "-XX:+UseZGC"
    lines = (existing_text or "").splitlines()
    previously = set(_managed_from_header(lines))
    report = {"kept": [], "removed": [], "added": [], "updated": []}

    # Walk the file keeping comments and hand-added options in their sections; managed options are placed in
    # their own section (a managed option found in the wrong section moves).
    body = {"head": [], "server": [], "jvm": []}
    section = "head"
    has_headers = False
    seen = set()
    for line in lines:
        stripped = line.strip()
        if line.startswith(MANAGED_MARK):
            continue
        if stripped == SERVER_HEADER:
            section, has_headers = "server", True
            continue
        if stripped == JVM_HEADER:
            section, has_headers = "jvm", True
            continue
        target = body[section]
        options = _options_of(line)
        if not options:
            target.append(line.rstrip())
            continue
        for opt in options:
            key = option_key(opt)
            if key in value_of:
                if key in seen:
                    continue
                seen.add(key)
                want_section = section_of[key]
                here = "jvm" if section == "head" else section
                if opt != value_of[key] or here != want_section:
                    report["updated"].append(key)
                body[want_section if here != want_section else section].append(value_of[key])
            elif key in previously:
                report["removed"].append(key)
            elif zgc_on and _GC_RE.match(opt):
                report["removed"].append(key)
            else:
                if key not in report["kept"]:
                    report["kept"].append(key)
                target.append(opt)
    for section in ("server", "jvm"):
        for opt in managed.get(section, []):
            key = option_key(opt)
            if key not in seen:
                seen.add(key)
                report["added"].append(key)
                body[section].append(opt)

    out = [MANAGED_MARK + " " + ",".join(value_of)]
    # Options before any header belong to the JVM in setenv.sh; write them under the JVM header when the file
    # had no headers, so the rendered file always has both sections in the documented order.
    if not has_headers:
        body["jvm"] = body["head"] + body["jvm"]
        body["head"] = []
    out.extend(body["head"])
    out.append(SERVER_HEADER)
    out.extend(body["server"])
    out.append(JVM_HEADER)
    out.extend(body["jvm"])
    return "\n".join(out) + "\n", report


# ---------------------------------------------------------------------------------------------- one file, rendered

FLASHPHONER_FILE = "flashphoner.properties"
CORE_FILE = "wcs-core.properties"


def kind_of(path, kind=None):
    """``core`` for wcs-core.properties, else ``flashphoner`` (unless ``kind`` says)."""
    return kind or ("core" if path.rsplit("/", 1)[-1] == CORE_FILE else "flashphoner")


def render_flashphoner(existing, properties=None, extra_properties=None):
    """(text, managed keys, report) of a flashphoner.properties; a key may not come from both dicts."""
    properties, extra_properties = properties or {}, extra_properties or {}
    clash = sorted(set(properties) & set(extra_properties))
    if clash:
        raise PlanError("extra_properties.%s" % clash[0], extra_properties[clash[0]],
                        "set it in one place only (remove it from wcs_extra_properties or unset its own variable)",
                        why="the key is also set by a variable")
    managed = dict(properties)
    managed.update(extra_properties)
    text, report = merge_properties(existing, managed)
    return text, [k for k, v in managed.items() if v is not None], report


def render_core(existing, heap=None, zgc=False, server_options=None, jvm_options=None):
    """(text, managed option keys, report) of a wcs-core.properties."""
    managed = core_options(heap, zgc, server_options, jvm_options)
    text, report = merge_core(existing, managed)
    return text, [option_key(o) for o in managed["server"] + managed["jvm"]], report

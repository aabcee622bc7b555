"""Parse, merge and render WCS property files (pure Python: no Ansible, no Docker).

Two formats:

* ``flashphoner.properties``: read by WCS with ``java.util.Properties.load``. This module reads it by the same
  rules (:func:`parse_properties`): lines end only at LF, CR or CR LF (not at U+2028, U+0085 or U+001C..U+001E,
  where Python's ``str.splitlines`` would split); a line ending in an odd number of backslashes continues on the
  next one; ``#`` and ``!`` start comments; the key ends at the first unescaped ``=``, ``:`` or blank; ``\\uXXXX``,
  ``\\t``, ``\\n``, ``\\r``, ``\\f`` and ``\\x`` escapes are decoded. It writes by the rules of
  ``Properties.store`` (:func:`store_line`): in keys, blanks, ``=``, ``:``, ``#``, ``!`` and ``\\`` are escaped;
  in values, ``\\``, a leading blank and the line terminators; tab, CR, LF and form feed as ``\\t``, ``\\r``,
  ``\\n``, ``\\f``; every other character outside printable ASCII as ``\\uXXXX`` (UTF-16 units). So the file
  is plain ASCII, read the same whether WCS loads it as ISO-8859-1 (an ``InputStream``) or as UTF-8 (a
  ``Reader``), and a value ending in ``\\`` (``codecs=opus\\``) can never continue onto the next line.
  Normal values stay readable: ``codecs=opus,alaw,pcma``, ``ip=203.0.113.4``, ``ip=2001:db8::1`` are written as
  they are.

  What a managed value may hold (:func:`property_text`, :func:`validate_properties`): text, a whole number, a
  finite float, ``true``/``false`` (a boolean) or a list of those (joined with commas). Refused, naming the field,
  the value and the fix: mappings, nested lists, bytes, NaN and infinities, ``None`` inside a list, and text
  with control characters (tab, CR, LF, U+001C..U+001F, U+0085, ...), Unicode line or paragraph separators
  (U+2028, U+2029), surrogates or bidi overrides. Those would be written safely escaped, but no WCS setting
  means them and they hide what is written, so they are refused like everywhere else in the collection
  (``validate.check_text``). Managed keys are property names (letters, digits, ``_ . -``).
* ``wcs-core.properties``: one JVM/server option per line starting with ``-``; ``#`` comments and blank lines are
  ignored by WCS; options after ``### SERVER OPTIONS ###`` up to ``### JVM OPTIONS ###`` go to the server, the rest
  to the JVM. WCS's ``bin/setenv.sh`` reads it with the shell's ``read`` (the server section without ``-r``, so
  backslashes are eaten) and the start script passes the options on unquoted (``$WCS_JAVA_OPTS``: split on
  blanks, quotes kept literally, globs expanded). No quoting survives that path, so managed options that hold
  shell syntax are **refused**, not quoted (:func:`check_option`): blanks, ``$``, backquote, ``;``, ``&``,
  ``|``, ``<``, ``>``, ``(``, ``)``, quotes, ``\\`` and control characters or line separators. Lines end at LF
  only (the shell's ``read``).

Merge rules (the same for both files; documented for operators in the ``wcs_properties`` module and the ``config``
role):

1. Managed entries (from variables) win: an existing line with the same key gets the managed value in place; a
   managed key that is not in the file yet is appended (flashphoner) or added to its section (core).
2. Every other key the file holds (added by hand) is kept where it is, byte for byte, and reported as ``kept``.
3. The file carries one header comment listing the keys it manages (``# mediaops.wcs managed: ...``). A key that
   was managed last time and is no longer managed (its variable was unset) is removed, and reported as
   ``removed``; a hand-added key is never removed, because it is not in that list.
4. Comments and blank lines are kept. Duplicate lines of a managed key collapse into the first one.
5. core only: when ZGC is managed on, other ``-XX:+Use...GC`` collector lines are removed (the JVM refuses two
   collectors), and reported as ``removed``. A line holding several options is split into one option per line.
"""
from __future__ import annotations

import decimal
import math
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
# Python refuses str() of an int above 4300 digits (ValueError); 12000 bits is about 3600 digits, far beyond any
# setting: refused before.
_MAX_INT_BITS = 12000

# ---------------------------------------------------------------------------------------------- flashphoner.properties

# java.util.Properties: the only line terminators are LF, CR and CR LF; blanks are space, tab and form feed.
_NATURAL_LINE = re.compile(r"\r\n|\r|\n")
_BLANKS = " \t\f"
_LOAD_ESCAPES = {"t": "\t", "r": "\r", "n": "\n", "f": "\f"}
_STORE_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f", "\\": "\\\\"}
_HEX = "0123456789abcdefABCDEF"


def natural_lines(text):
    """The lines of ``text`` as ``Properties.load`` sees them: split at LF, CR and CR LF only (U+2028, U+0085,
    U+001C..U+001E and the other characters Python's ``str.splitlines`` splits on stay inside a line)."""
    if not text:
        return []
    lines = _NATURAL_LINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # the terminator of the last line
    return lines


def _load_convert(chars):
    """``Properties.loadConvert``: decode ``\\uXXXX``, ``\\t``, ``\\n``, ``\\r``, ``\\f`` and ``\\x`` (-> x).

    A malformed ``\\uXXXX`` (Java refuses the whole file with IllegalArgumentException) is read as the letter
    ``u``: the parser never fails on a hand-edited file; WCS would refuse it anyway."""
    if "\\" not in chars:
        return chars
    out = []
    i, end = 0, len(chars)
    while i < end:
        char = chars[i]
        i += 1
        if char != "\\" or i >= end:
            out.append(char)
            continue
        char = chars[i]
        i += 1
        if char == "u" and i + 4 <= end and all(c in _HEX for c in chars[i:i + 4]):
            out.append(chr(int(chars[i:i + 4], 16)))
            i += 4
        else:
            out.append(_LOAD_ESCAPES.get(char, char))
    text = "".join(out)
    # Java strings are UTF-16: a pair of \\uD8xx\\uDCxx escapes is one character (lone surrogates stay).
    if any("\ud800" <= c <= "\udfff" for c in text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return text


def _split_entry(logical):
    """``Properties.load0``: (raw key, raw value) of one logical line, escapes not yet decoded."""
    key_len, value_start, has_sep, backslash = 0, len(logical), False, False
    while key_len < len(logical):
        char = logical[key_len]
        if char in "=:" and not backslash:
            value_start, has_sep = key_len + 1, True
            break
        if char in _BLANKS and not backslash:
            value_start = key_len + 1
            break
        backslash = (not backslash) if char == "\\" else False
        key_len += 1
    while value_start < len(logical):
        char = logical[value_start]
        if char not in _BLANKS:
            if not has_sep and char in "=:":
                has_sep = True
            else:
                break
        value_start += 1
    return logical[:key_len], logical[value_start:]


def _odd_backslashes(text):
    count = len(text) - len(text.rstrip("\\"))
    return count % 2 == 1


def property_entries(lines, ends_crlf=False):
    """``Properties.LineReader`` over natural lines: ``(first, last, entry, dangling)`` per group of lines.

    ``entry`` is ``(key, value)`` for a property (its logical line may continue over several natural lines) and
    None for comments and blank lines; ``dangling`` is True when the group's last line ends in a continuation
    backslash at the end of the input (Java drops it there, but a line written after it would be swallowed).
    ``ends_crlf``: the input ends with CR LF (it matters to Java only for a lone backslash on the last line)."""
    groups = []
    i, count = 0, len(lines)
    while i < count:
        first = i
        rest = lines[i].lstrip(_BLANKS)
        if not rest or rest[0] in "#!":
            groups.append((i, i, None, False))
            i += 1
            continue
        parts, dangling = [], False
        while True:
            if _odd_backslashes(rest):
                parts.append(rest[:-1])  # the backslash at the end of the line is not part of it
                if i + 1 >= count:
                    dangling = True  # at the end of the input the backslash is dropped
                    break
                i += 1
                rest = lines[i].lstrip(_BLANKS)
                if not rest:
                    break  # a blank continuation line ends the logical line
                if rest[0] in "#!" and not any(parts):
                    break  # nothing gathered yet: Java reads this line as a comment
                continue
            parts.append(rest)
            break
        logical = "".join(parts)
        # Java's reader returns an empty line (not "no line") for a lone backslash at the end of the input, i.e.
        # the entry ("", ""), unless a CR LF follows it (the LF is read as the continued line, then the input ends).
        empty_entry = dangling and not ends_crlf
        groups.append((first, i, _decode_entry(logical) if logical or empty_entry else None, dangling))
        i += 1
    return groups


def _decode_entry(logical):
    key, value = _split_entry(logical)
    return _load_convert(key), _load_convert(value)


def _managed_from_header(lines):
    for line in lines:
        if line.startswith(MANAGED_MARK):
            names = line[len(MANAGED_MARK):].strip()
            return [n for n in names.split(",") if n] if names else []
    return []


def _comment_lines(lines, groups):
    """The natural lines that are comments or blank (not part of a property continued over several lines)."""
    return [line for first, last, entry, _dangling in groups if entry is None for line in lines[first:last + 1]]


def parse_properties(text):
    """(key, value) pairs of a flashphoner.properties text, in file order (later duplicates kept: as in Java, the
    last one wins in a dict), read by the rules of ``java.util.Properties.load``."""
    groups = property_entries(natural_lines(text), (text or "").endswith("\r\n"))
    return [entry for _first, _last, entry, _dangling in groups if entry is not None]


def _escape_char(char, out):
    code = ord(char)
    if code > 0xFFFF:  # outside the BMP: two UTF-16 units, as Java holds it
        code -= 0x10000
        out.append("\\u%04X\\u%04X" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
    else:
        out.append("\\u%04X" % code)


def _save_convert(text, is_key):
    """``Properties.saveConvert`` with unicode escaping on (``store(OutputStream)``), except that ``=``, ``:``,
    ``#`` and ``!`` are escaped in keys only: in a value they mean nothing to ``load``, and ``ip=2001:db8::1``
    stays readable."""
    out = []
    for index, char in enumerate(text):
        if char == " ":
            out.append("\\ " if is_key or index == 0 else " ")
        elif char in _STORE_ESCAPES:
            out.append(_STORE_ESCAPES[char])
        elif is_key and char in "=:#!":
            out.append("\\" + char)
        elif " " < char <= "~":
            out.append(char)
        else:
            _escape_char(char, out)
    return "".join(out)


def escape_key(key):
    """A property key as ``Properties.store`` writes it: blanks, ``=``, ``:``, ``#``, ``!``, ``\\`` escaped,
    everything outside printable ASCII as ``\\uXXXX``."""
    return _save_convert(key, True)


def escape_value(value):
    """A property value as ``Properties.store`` writes it: ``\\`` doubled (so a trailing one never continues the
    line), a leading blank escaped, tab/CR/LF/form feed as ``\\t``/``\\r``/``\\n``/``\\f``, everything else
    outside printable ASCII as ``\\uXXXX``."""
    return _save_convert(value, False)


def store_line(key, value):
    """One ``key=value`` line that ``Properties.load`` reads back as exactly ``(key, value)``, for any strings
    (the policy on what a managed value may hold is :func:`validate_properties`)."""
    return "%s=%s" % (escape_key(key), escape_value(value))


def _number_text(value, field):
    """Digits for an int, plain decimal notation for a finite float; None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value.bit_length() > _MAX_INT_BITS:
            raise PlanError(field, "(an integer of about %d bits)" % value.bit_length(),
                            "give a whole number a property can hold, or quote it as text",
                            why="the number is too long")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PlanError(field, value, "give a finite number (or quote the text you mean)",
                            why="NaN and infinities have no spelling Java reads back as written")
        text = repr(value)
        if "e" in text or "E" in text:  # 1e+16 -> 10000000000000000, 1e-05 -> 0.00001
            text = format(decimal.Decimal(text), "f")
        return text
    return None


def property_text(value, field, allow_list=True, what="property"):
    """The text a managed value is written as: ``true``/``false`` for booleans, digits for whole numbers, plain
    decimals for finite floats, text as it is, a list's items joined with commas (``allow_list``).

    Refused with the field, the value and the fix: None (a list item; a value None is "unmanaged" and skipped by
    the callers), mappings, nested lists, sets, bytes, NaN, infinities and any other type: Python would write
    them in its own spelling (``{'a': 1}``, ``['a']``, ``nan``, ``b'x'``), which no reader of the file means.
    ``what`` names the format in the error (property, environment, label); container_spec uses it for
    environment and label values (``allow_list=False``).
    """
    if isinstance(value, str):
        return value
    text = _number_text(value, field)
    if text is not None:
        return text
    if isinstance(value, (list, tuple)) and allow_list:
        return ",".join(property_text(item, "%s[%d]" % (field, i), False, what) for i, item in enumerate(value))
    if isinstance(value, (list, tuple)):
        fix = ("give each list item as text, a number or true/false (no nested lists)" if allow_list or
               what == "property" else "give one value: text, a number or true/false (join a list yourself)")
    elif isinstance(value, dict):
        fix = "give one value (text, a number, true/false)%s" % (" or a list of them" if allow_list else "")
    elif isinstance(value, (bytes, bytearray)):
        fix = "give the value as text"
    elif value is None:
        fix = "remove the empty item or give its value"
    else:
        fix = "give text, a number, true/false or a list of them (quote dates and other values in YAML)"
    raise PlanError(field, value, fix, why="a %s has no %s spelling" % (type(value).__name__, what))


def _property_key(key, field):
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise PlanError(field, key, "quote the property name in YAML (a name such as on/yes/no is read as a "
                        "boolean)", why="the property name is a %s, not text" % type(key).__name__)
    key = str(key)
    if not _KEY_RE.match(key):
        raise PlanError("%s.%s" % (field, key), key, "use a property name made of letters, digits, '_', '.', '-'",
                        why="not a property name")
    return key


def validate_properties(managed, field="properties"):
    """Checks keys and values of a managed dict; returns it as {key: rendered string} without None values."""
    if managed in (None, ""):
        return {}
    if not isinstance(managed, dict):
        raise PlanError(field, managed, "give a mapping of property name to value")
    out = {}
    for key, value in managed.items():
        if value is None:
            continue
        key = _property_key(key, field)
        where = "%s.%s" % (field, key)
        # Any control character or Unicode line break (U+2028...) could be escaped, but no WCS setting means
        # one and it would hide what is written: refused, like every text of the collection.
        out[key] = check_text(property_text(value, where), where,
                              fix="put the value on one line, without control characters or line separators")
    return out


def merge_properties(existing_text, managed):
    """Merges managed ``{key: value}`` into an existing flashphoner.properties text.

    Returns ``(text, report)`` with report ``{kept: [...], removed: [...], added: [...], updated: [...]}``.
    ``existing_text`` None means the file does not exist yet. Lines are read as ``Properties.load`` reads them
    (a property continued over several lines is one entry); lines that are not managed are kept byte for byte.
    """
    managed = validate_properties(managed)
    lines = natural_lines(existing_text)
    groups = property_entries(lines, (existing_text or "").endswith("\r\n"))
    previously = set(_managed_from_header(_comment_lines(lines, groups)))
    report = {"kept": [], "removed": [], "added": [], "updated": []}
    seen, kept = set(), set()
    out = [MANAGED_MARK + " " + ",".join(managed)]
    trailer = []
    for first, last, entry, dangling in groups:
        group = lines[first:last + 1]
        # A group that ends in a continuation backslash at the end of the file stays the last one: Java drops that
        # backslash there, but it would join any line written after it (a managed key) to the group.
        keep = trailer if dangling else out
        if entry is None:
            # (a dangling group without an entry is a lone backslash Java reads nothing from: dropped, since
            # written last with LF it would read as the entry ("", ""))
            if not dangling and not (first == last and group[0].startswith(MANAGED_MARK)):
                keep.extend(group)
            continue
        key, value = entry
        if key in managed:
            if key in seen:
                continue  # duplicate of a managed key: the first occurrence carries the value
            seen.add(key)
            if value != managed[key]:
                report["updated"].append(key)
            out.append(store_line(key, managed[key]))
        elif key in previously:
            report["removed"].append(key)
        else:
            if key not in kept:
                kept.add(key)
                report["kept"].append(key)
            keep.extend(group)
    for key, value in managed.items():
        if key not in seen:
            report["added"].append(key)
            out.append(store_line(key, value))
    return "\n".join(out + trailer) + "\n", report


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


# setenv.sh reads the file with the shell's `read` (lines end at LF only) and the start script splits the options on
# blanks (space, tab): U+2028, U+0085 or U+001C..U+001F stay inside an option, unlike Python's splitlines / split.
_CORE_BLANKS = " \t\r"
_CORE_WORDS = re.compile(r"[ \t]+")
# Shell syntax: no quoting survives setenv.sh (read, then an unquoted $WCS_JAVA_OPTS), so these are refused.
SHELL_CHARACTERS = "$`;&|<>()'\"\\"


def _core_lines(text):
    lines = (text or "").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _options_of(line):
    stripped = line.strip(_CORE_BLANKS)
    if not stripped or stripped.startswith("#"):
        return []
    return [tok for tok in _CORE_WORDS.split(stripped) if tok]


def parse_core(text):
    """``{server: [options], jvm: [options]}`` of a wcs-core.properties text, in file order."""
    section = "jvm"
    parsed = {"server": [], "jvm": []}
    for line in _core_lines(text):
        stripped = line.strip(_CORE_BLANKS)
        if stripped == SERVER_HEADER:
            section = "server"
            continue
        if stripped == JVM_HEADER:
            section = "jvm"
            continue
        parsed[section].extend(opt for opt in _options_of(line) if opt.startswith("-"))
    return parsed


def check_option(option, field):
    """One managed JVM/server option: text starting with ``-``, without blanks, control characters, line
    separators or shell syntax (``$ ` ; & | < > ( ) ' " \\``).

    ``setenv.sh`` reads ``wcs-core.properties`` with ``read`` and the start script passes ``$WCS_JAVA_OPTS``
    unquoted: it is split on blanks, quotes reach the JVM literally and ``read`` eats backslashes in the server
    section. No quoting would survive that, so such options are refused, never quoted. ``*``, ``?`` and ``[``
    stay allowed (``-Xlog:gc*:file=...`` is an everyday option)."""
    if not isinstance(option, str):
        raise PlanError(field, option, "give each option as text, one option per list item, e.g. -XX:+AlwaysPreTouch",
                        why="an option is a %s, not text" % type(option).__name__)
    if not option.startswith("-") or any(c.isspace() for c in option) or bad_character(option) is not None:
        raise PlanError(field, option, "give one option per list item, starting with '-', without spaces or "
                        "control characters", why="not a single option")
    shell = sorted(set(option) & set(SHELL_CHARACTERS))
    if shell:
        raise PlanError(field, option, "leave shell syntax out of the option (%s): WCS's setenv.sh passes options "
                        "to java unquoted, so quotes would reach the JVM as they are and nothing can be quoted; "
                        "put a value that needs them in a file and point the option at it"
                        % " ".join(shell), why="it holds shell syntax")
    return option


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
        if options is not None and not isinstance(options, (list, tuple)):
            raise PlanError(field, options, "give a list of options, one per item, e.g. ['-XX:+AlwaysPreTouch']")
        for opt in options or []:
            check_option(opt, field)
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
    lines = _core_lines(existing_text)
    previously = set(_managed_from_header(lines))
    report = {"kept": [], "removed": [], "added": [], "updated": []}

    # Walk the file keeping comments and hand-added options in their sections; managed options are placed in
    # their own section (a managed option found in the wrong section moves).
    body = {"head": [], "server": [], "jvm": []}
    section = "head"
    has_headers = False
    seen, kept = set(), set()
    for line in lines:
        stripped = line.strip(_CORE_BLANKS)
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
            target.append(line.rstrip(_CORE_BLANKS))
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
                if key not in kept:
                    kept.add(key)
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
    for field, given in (("properties", properties), ("extra_properties", extra_properties)):
        if not isinstance(given, dict):
            raise PlanError(field, given, "give a mapping of property name to value")
    clash = sorted(set(properties) & set(extra_properties), key=str)
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

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollout hooks: what runs before a container's drain, after its health gate and after a rollback.

Pure Python (stdlib only). ``check_hooks(value)`` checks the whole ``wcs_rollout_hooks`` mapping and returns it
normalised (defaults filled), raising ``PlanError`` naming the variable path, the value (header values hidden: they
come from a vault) and the fix. ``hooks_for(value, phase, container, host, image)`` returns one phase's hooks for
one container, with the ``${...}`` placeholders of url, headers, body and vars replaced by the container's values.

URLs are filled per component: a value in the path is percent-encoded as one segment (``/`` and everything but
``:`` encoded; a value with a ``.`` or ``..`` segment refused), in the query or fragment as one value (everything
encoded), in the host only when it is a host name or address (letters, digits, ``. - _``); placeholders in the
scheme, user-info or port are refused. The filled URL is parsed again and refused when its scheme, host, port, user-info or shape (path
segments, query parameters) differ from the template's. Header values are checked after filling (no control
characters, latin-1 as HTTP/1.1 sends them). A hook's default label shows its URL with user-info and query values
replaced by ``***``. The URL and header checks (``check_url``, ``check_header``, ``redact_url``) are reusable.

A hook is either a task file of the operator's (``{tasks: /abs/file.yml, vars: {...}}``, included with the
container's plan entry as ``wcs_hook_container`` and the phase as ``wcs_hook_phase``) or an HTTP call
(``{url, method, headers, body, status_code, timeout, validate_certs, delegate_to}``). Placeholders use
``${name}`` rather than Jinja: inventory Jinja is evaluated when the variable is read, before any container is
known, so it is kept for what is known then (vault variables); ``$$`` is a literal ``$``.
"""
from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import quote, urlsplit

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import bad_character, check_int, check_text

VARIABLE = "wcs_rollout_hooks"
PHASES = ("before_drain", "after_ready", "on_rollback")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
PLACEHOLDERS = ("name", "address", "external_address", "host", "phase", "image")
HTTP_KEYS = ("name", "url", "method", "headers", "body", "status_code", "timeout", "validate_certs", "delegate_to")
TASKS_KEYS = ("name", "tasks", "vars")
DEFAULT_STATUS = (200, 201, 202, 204)
DEFAULT_TIMEOUT = 30
MAX_TIMEOUT = 3600
HIDDEN = "(hidden)"
_PLACEHOLDER = re.compile(r"\$(?:(\$)|\{([^}]*)\}|(.?))", re.S)
_HEADER_NAME = re.compile(r"\A[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")  # RFC 9110 token
_VAR_NAME = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
_HOST = re.compile(r"\A[A-Za-z0-9_.:@\[\]-]+\Z")
URL_SCHEMES = ("http", "https")
MAX_URL = 8192
REDACTED = "***"
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(r"\A(?=[^\n]{1,253}\Z)%s(?:\.%s)*\.?\Z" % (_LABEL, _LABEL))
_HOST_VALUE = re.compile(r"\A[A-Za-z0-9_.-]+\Z")  # what a placeholder may put into a host name
_ONLY_PLACEHOLDER = re.compile(r"\A\$\{[A-Za-z_]+\}\Z")
URL_FIX = ("give an http:// or https:// URL with a host, as one line without spaces, e.g. "
           "https://lb.example.net/api/servers/${name}/drain")
EMPTY_URL_FIX = "give the URL to call, e.g. https://lb.example.net/api/servers/${name}/drain"


# ---------------------------------------------------------------------------------------------------- URLs, headers
def _split_url(text):
    """(scheme, netloc, path, query or None, fragment or None) by RFC 3986's rules (text is one line)."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return None
    end = len(rest)
    for char in "/?#":
        pos = rest.find(char)
        if pos != -1:
            end = min(end, pos)
    netloc, rest = rest[:end], rest[end:]
    rest, hash_sign, fragment = rest.partition("#")
    path, question, query = rest.partition("?")
    return scheme, netloc, path, (query if question else None), (fragment if hash_sign else None)


def _split_netloc(netloc):
    """(userinfo or None, host, port text or None)."""
    userinfo, at_sign, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        host, bracket, after = hostport.partition("]")
        host += bracket
        port = after[1:] if after.startswith(":") else (None if not after else after)
    else:
        host, colon, port = hostport.partition(":")
        port = port if colon else None
    return (userinfo if at_sign else None), host, port


def redact_url(url):
    """The URL as labels and errors show it: user-info as ``***@``, every query value (and a fragment) as ``***``
    unless it is only a placeholder. Never fails (any text in, text out)."""
    if not isinstance(url, str):
        return "(not text)"
    parts = _split_url(url)
    if parts is None:
        return url if "@" not in url and "?" not in url else REDACTED
    scheme, netloc, path, query, fragment = parts
    userinfo, _at, hostport = netloc.rpartition("@")
    out = "%s://%s%s%s" % (scheme, (REDACTED + "@") if _at else "", hostport, path)
    if query is not None:
        items = []
        for item in query.split("&"):
            key, equals, value = item.partition("=")
            if equals:
                items.append("%s=%s" % (key, value if not value or _ONLY_PLACEHOLDER.match(value) else REDACTED))
            else:
                items.append(item if not item or _ONLY_PLACEHOLDER.match(item) else REDACTED)
        out += "?" + "&".join(items)
    if fragment is not None:
        out += "#" + (fragment if not fragment or _ONLY_PLACEHOLDER.match(fragment) else REDACTED)
    return out


def _ascii_host(text):
    """An internationalised host name in its ASCII (IDNA) form, as the HTTP client sends it; '' when it has none."""
    if text.isascii():
        return text
    try:
        return text.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return ""


def check_host(value, field, shown=None):
    """A host name (letters, digits, ``- _`` in dot-separated labels), an IPv4 address or a bracketed IPv6 one."""
    text = value if isinstance(value, str) else ""
    if text.startswith("[") and text.endswith("]"):
        try:
            ipaddress.IPv6Address(text[1:-1])
            return text
        except ValueError:
            pass
    elif _HOSTNAME.match(_ascii_host(text)):
        return text
    raise PlanError(field, value if shown is None else shown, "give a host name (letters, digits, '-' and '_' in "
                    "dot-separated labels), an IPv4 address or an [IPv6] address",
                    why="%r is not a host" % (text,))


def check_url(value, field, shown=None):
    """An http:// or https:// URL with a host (and a port 1-65535 if any), one line without spaces or control
    characters, parsed the same by urllib and RFC 3986; returns it. Errors show ``shown``, by default the URL with
    user-info and query values hidden (``redact_url``)."""
    shown = redact_url(value) if shown is None else shown
    if not isinstance(value, str) or not value.strip():
        raise PlanError(field, shown, EMPTY_URL_FIX)
    if bad_character(value) is not None or any(c.isspace() for c in value) or "\\" in value:
        raise PlanError(field, shown, URL_FIX, why="it holds a space, a backslash or a control character")
    if len(value) > MAX_URL:
        raise PlanError(field, "%d characters" % len(value), "give a URL of at most %d characters" % MAX_URL)
    parts = _split_url(value)
    if parts is None or parts[0].lower() not in URL_SCHEMES:
        raise PlanError(field, shown, URL_FIX)
    userinfo, host, port = _split_netloc(parts[1])
    check_host(host, field, shown=shown)
    if port and (not re.match(r"\A[0-9]{1,5}\Z", port) or not 0 < int(port) < 65536):
        raise PlanError(field, shown, URL_FIX, why="its port %r is not a number 1-65535" % (port,))
    try:
        split = urlsplit(value)
        same = (split.scheme.lower(), split.hostname or "", split.port, split.path, split.query) == \
            (parts[0].lower(), host.strip("[]").lower(), int(port) if port else None, parts[2], parts[3] or "")
    except ValueError as exc:
        raise PlanError(field, shown, URL_FIX, why=str(exc))
    if not same or (userinfo is not None and urlsplit(value).username is None):
        raise PlanError(field, shown, URL_FIX, why="it reads differently to different URL parsers")
    return value


def check_header(name, value, field, shown=HIDDEN):
    """One HTTP header: the name an RFC 7230 token, the value text (numbers as their text) without control
    characters or line breaks, in latin-1 (what HTTP/1.1 sends); returns (name, value text). The value is shown as
    ``shown`` (hidden by default: headers carry secrets)."""
    if not isinstance(name, str) or not _HEADER_NAME.match(name):
        raise PlanError(field, name, "name headers with letters, digits and '-' (an HTTP token), e.g. Authorization")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PlanError("%s.%s" % (field, name), shown, "give one line of text (the value is not shown)")
    text = str(value)
    if bad_character(text) is not None or any(ord(c) > 0xFF for c in text):
        raise PlanError("%s.%s" % (field, name), shown, "give one line of text without control characters or line "
                        "breaks, in latin-1 (percent-encode anything else; the value is not shown)",
                        why="it would split the header or cannot be sent")
    return name, text


def _placeholders(text, field, value=None):
    """Checks the ``${...}`` placeholders of ``text``; returns the names used."""
    names = []
    for match in _PLACEHOLDER.finditer(text):
        dollar, name, other = match.groups()
        if dollar:
            continue
        if name is None:
            raise PlanError(field, text if value is None else value,
                            "write ${name} for a placeholder and $$ for a literal '$' (placeholders: %s)"
                            % ", ".join(PLACEHOLDERS),
                            why="'$%s' is neither" % (other or ""))
        if name not in PLACEHOLDERS:
            raise PlanError(field, text if value is None else value,
                            "use one of ${%s} (or $$ for a literal '$')" % "}, ${".join(PLACEHOLDERS),
                            why="${%s} is not a placeholder" % name)
        names.append(name)
    return names


def _fill(text, values, encode=str):
    return _PLACEHOLDER.sub(lambda m: "$" if m.group(1) else encode(str(values[m.group(2)])), text)


def _check_url_template(url, field):
    """The URL of an HTTP hook: placeholders only where a value can be filled safely, and a valid URL whatever
    (valid) values fill it."""
    shown = redact_url(url)
    if not isinstance(url, str) or not url.strip():
        raise PlanError(field, shown, EMPTY_URL_FIX)
    if bad_character(url) is not None:
        raise PlanError(field, shown, URL_FIX, why="it holds a line break or a control character")
    _placeholders(url, field, value=shown)
    parts = _split_url(url)
    if parts is not None:
        userinfo, host, port = _split_netloc(parts[1])
        for what, text in (("scheme", parts[0]), ("user-info", userinfo), ("port", port)):
            if text is not None and _placeholders(text, field, value=shown):
                raise PlanError(field, shown, "write the %s literally (placeholders may fill the host, path, query "
                                "and fragment)" % what, why="a placeholder in the %s" % what)
    check_url(_fill(url, {name: "x" for name in PLACEHOLDERS}), field, shown=shown)
    return url


def fill_url(template, values, field):
    """``template`` (checked by the hook check) with its placeholders filled per component; PlanError when a
    value does not fit where it goes or the result's scheme, host, port, user-info or shape differ."""
    scheme, netloc, path, query, fragment = _split_url(template)
    userinfo, host, port = _split_netloc(netloc)

    def host_value(text):
        if not _HOST_VALUE.match(text):
            raise PlanError(field, text, "give a host name or address for the placeholder in the host of %s, or "
                            "move the placeholder into the path or query" % redact_url(template),
                            why="it would change the URL's host")
        return text

    def encoded(text, safe=""):
        try:
            return quote(text, safe=safe)
        except UnicodeError:
            raise PlanError(field, text, "give placeholder values that are text (no lone surrogates) for %s"
                            % redact_url(template), why="it cannot be encoded as UTF-8")

    def path_value(text):
        if any(piece in (".", "..") for piece in re.split(r"[/\\]", text)):
            raise PlanError(field, text, "give a value without '.' or '..' segments for the placeholder in the path "
                            "of %s" % redact_url(template), why="a server that decodes %2F would climb the path")
        return encoded(text, safe=":")

    filled_host = _fill(host, values, host_value)
    filled = "%s://%s%s%s%s%s" % (
        scheme, "" if userinfo is None else _fill(userinfo, values) + "@", filled_host,
        "" if port is None else ":" + port, _fill(path, values, path_value),
        "" if query is None else "?" + _fill(query, values, encoded))
    if fragment is not None:
        filled += "#" + _fill(fragment, values, encoded)
    check_url(filled, field)
    before, after = urlsplit(_fill(template, {n: "x" for n in PLACEHOLDERS})), urlsplit(filled)
    same_host = after.hostname == before.hostname if "$" not in host else \
        after.hostname == filled_host.strip("[]").lower()
    if (after.scheme, after.port, after.username, after.password) != \
            (before.scheme, before.port, before.username, before.password) or not same_host or \
            after.path.count("/") != before.path.count("/") or \
            (after.query.count("&"), after.query.count("=")) != (before.query.count("&"), before.query.count("=")):
        raise PlanError(field, redact_url(filled), "give placeholder values that fit the URL %s"
                        % redact_url(template), why="the filled URL's scheme, host, port or shape differ")
    return filled


def _walk_strings(value, field, func):
    """Applies func(text, field) to every string inside value (mappings, lists); returns the new structure."""
    if isinstance(value, str):
        return func(value, field)
    if isinstance(value, dict):
        return {k: _walk_strings(v, "%s.%s" % (field, k), func) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk_strings(v, "%s[%d]" % (field, i), func) for i, v in enumerate(value)]
    return value


def _check_keys(hook, field, allowed, kind):
    unknown = sorted(str(k) for k in hook if k not in allowed)
    if unknown:
        raise PlanError(field, {k: (HIDDEN if k == "headers" else v) for k, v in hook.items()},
                        "remove %s; a %s hook takes %s" % (", ".join(unknown), kind, ", ".join(allowed)),
                        why="unknown key(s) %s" % ", ".join(unknown))


def _check_name(hook, field, default):
    name = hook.get("name", default)
    check_text(name, field + ".name", fix="give a one-line label without control characters", allow_empty=False)
    return str(name)


def _check_tasks(hook, field, index):
    _check_keys(hook, field, TASKS_KEYS, "task-file")
    path = hook["tasks"]
    if not isinstance(path, str) or not path.strip():
        raise PlanError(field + ".tasks", path, "give the absolute path of a task file on the controller, "
                        "e.g. /etc/ansible/hooks/lb-drain.yml")
    check_text(path, field + ".tasks", fix="give a path without control characters")
    if not os.path.isabs(path):
        raise PlanError(field + ".tasks", path, "give an absolute path (e.g. \"{{ playbook_dir }}/hooks/lb.yml\" or "
                        "\"{{ inventory_dir }}/hooks/lb.yml\"): a relative one would be looked up from the role",
                        why="it is relative")
    if not path.endswith((".yml", ".yaml")):
        raise PlanError(field + ".tasks", path, "name a YAML task file (.yml or .yaml)")
    if not os.path.isfile(path):
        raise PlanError(field + ".tasks", path, "create it or correct the path (it is read on the controller)",
                        why="no such file")
    hook_vars = hook.get("vars", {})
    if hook_vars is None:
        hook_vars = {}
    if not isinstance(hook_vars, dict):
        raise PlanError(field + ".vars", hook_vars, "give a mapping of variable name to value")
    for key in hook_vars:
        if not isinstance(key, str) or not _VAR_NAME.match(key) or key.startswith("wcs_hook_"):
            raise PlanError(field + ".vars", key, "name variables with letters, digits and '_' (not starting with a "
                            "digit); wcs_hook_container and wcs_hook_phase are set by the role")
    _walk_strings(hook_vars, field + ".vars", lambda text, f: (_placeholders(text, f), text)[1])
    return {"kind": "tasks", "name": _check_name(hook, field, "tasks %s" % os.path.basename(path)),
            "tasks": path, "vars": hook_vars, "index": index}


def _whole(value, field, low, high, fix):
    """validate.check_int, with text limited to ASCII digits and spaces first (its ``\\s`` also takes U+001C-U+001F,
    which int() then refuses with a ValueError)."""
    if isinstance(value, str) and not re.match(r"\A *[+-]?[0-9]+ *\Z", value):
        raise PlanError(field, value, fix)
    return check_int(value, field, low, high, fix=fix)


def _check_status(value, field):
    if value is None:
        return list(DEFAULT_STATUS)
    codes = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, (int, str)):
            raise PlanError(field, value, "give HTTP status codes as whole numbers, e.g. [200, 204]")
        _whole(code, field, None, None, "give HTTP status codes as whole numbers, e.g. [200, 204]")
        out.append(_whole(code, field, 100, 599, "give HTTP status codes between 100 and 599, e.g. [200, 204]"))
    if not out:
        raise PlanError(field, value, "list at least one expected status, e.g. [200, 204]", why="it is empty")
    return out


def _check_http(hook, field, index):
    _check_keys(hook, field, HTTP_KEYS, "HTTP")
    url = _check_url_template(hook["url"], field + ".url")
    method = hook.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise PlanError(field + ".method", method, "use one of %s" % ", ".join(METHODS))
    headers = hook.get("headers") or {}
    if not isinstance(headers, dict):
        raise PlanError(field + ".headers", HIDDEN, "give a mapping of header name to value (values from a vault "
                        "are fine: they are never logged)")
    for key, val in headers.items():
        if not isinstance(key, str) or not _HEADER_NAME.match(key):
            raise PlanError(field + ".headers", key, "name headers with letters, digits and '-' (an HTTP token), "
                            "e.g. Authorization")
        if isinstance(val, bool) or not isinstance(val, (str, int, float)) or bad_character(str(val)) is not None:
            raise PlanError("%s.headers.%s" % (field, key), HIDDEN, "give one line of text (no control characters "
                            "or line breaks; the value is not shown)")
        _placeholders(str(val), "%s.headers.%s" % (field, key), value=HIDDEN)
    body = hook.get("body")
    if body is not None and not isinstance(body, (str, dict, list)):
        raise PlanError(field + ".body", body, "give a string (sent as is) or a mapping/list (sent as JSON)")
    if body is not None:
        _walk_strings(body, field + ".body", lambda text, f: (_placeholders(text, f), text)[1])
    timeout = _whole(hook.get("timeout", DEFAULT_TIMEOUT), field + ".timeout", 1, MAX_TIMEOUT,
                     "give whole seconds between 1 and %d" % MAX_TIMEOUT)
    certs = hook.get("validate_certs", True)
    if not isinstance(certs, bool):
        raise PlanError(field + ".validate_certs", certs, "give true or false")
    delegate = hook.get("delegate_to", "localhost")
    if not isinstance(delegate, str) or not _HOST.match(delegate):
        raise PlanError(field + ".delegate_to", delegate, "name an inventory host (or localhost, the default) "
                        "from which the call is made")
    return {"kind": "http", "name": _check_name(hook, field, "%s %s" % (method.upper(), redact_url(url))), "url": url,
            "method": method.upper(), "headers": {k: str(v) for k, v in headers.items()}, "body": body,
            "body_format": "json" if isinstance(body, (dict, list)) else "raw",
            "status_code": _check_status(hook.get("status_code"), field + ".status_code"),
            "timeout": int(timeout), "validate_certs": certs, "delegate_to": delegate, "index": index}


def check_hooks(value, variable=VARIABLE):
    """The whole hooks mapping, checked and normalised: ``{phase: [hook, ...]}`` for every phase."""
    if value in (None, "", {}):
        return {phase: [] for phase in PHASES}
    if not isinstance(value, dict):
        raise PlanError(variable, value, "give a mapping of phase (%s) to a list of hooks" % ", ".join(PHASES))
    unknown = sorted(str(k) for k in value if k not in PHASES)
    if unknown:
        raise PlanError(variable, sorted(value), "use the phases %s" % ", ".join(PHASES),
                        why="%s is not a phase" % ", ".join(unknown))
    out = {}
    for phase in PHASES:
        hooks = value.get(phase) or []
        field = "%s.%s" % (variable, phase)
        if isinstance(hooks, dict):
            hooks = [hooks]
        if not isinstance(hooks, list):
            raise PlanError(field, hooks, "give a list of hooks, each {tasks: /path/file.yml} or {url: ...}")
        out[phase] = []
        for index, hook in enumerate(hooks):
            item = "%s[%d]" % (field, index)
            if not isinstance(hook, dict):
                raise PlanError(item, hook, "give a mapping: {tasks: /path/file.yml} or {url: https://..., ...}")
            if ("tasks" in hook) == ("url" in hook):
                raise PlanError(item, {k: (HIDDEN if k == "headers" else v) for k, v in hook.items()},
                                "give either tasks (a task file) or url (an HTTP call), not %s"
                                % ("both" if "tasks" in hook else "neither"))
            out[phase].append(_check_tasks(hook, item, index) if "tasks" in hook else _check_http(hook, item, index))
    return out


def hooks_for(value, phase, container, host="", image="", variable=VARIABLE):
    """One phase's hooks for one container (its wcs_plan entry), placeholders filled, in the order given."""
    if phase not in PHASES:
        raise PlanError("phase", phase, "use one of %s" % ", ".join(PHASES))
    if not isinstance(container, dict) or not container.get("name"):
        raise PlanError("container", container, "pass the container's entry of wcs_plan.containers")
    values = {"name": container["name"], "address": container.get("ipv4_address") or "",
              "external_address": container.get("external_ip") or container.get("ipv4_address") or "",
              "host": host, "phase": phase, "image": image or container.get("image", "")}
    out = []
    for hook in check_hooks(value, variable)[phase]:
        hook = dict(hook, phase=phase, container=container["name"])
        hook["label"] = "%s[%d] %s" % (phase, hook["index"], hook["name"])
        if hook["kind"] == "tasks":
            hook["vars"] = _walk_strings(hook["vars"], "vars", lambda text, _f: _fill(text, values))
        else:
            field = "%s.%s[%d]" % (variable, phase, hook["index"])
            hook["url"] = fill_url(hook["url"], values, field + ".url")
            hook["headers"] = dict(check_header(k, _fill(v, values), field + ".headers")
                                   for k, v in hook["headers"].items())
            hook["body"] = _walk_strings(hook["body"], "body", lambda text, _f: _fill(text, values))
        out.append(hook)
    return out

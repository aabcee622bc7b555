# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollout hooks: what runs before a container's drain, after its health gate and after a rollback.

Pure Python (stdlib only). ``check_hooks(value)`` checks the whole ``wcs_rollout_hooks`` mapping and returns it
normalised (defaults filled), raising ``PlanError`` naming the variable path, the value (header values hidden: they
come from a vault) and the fix. ``hooks_for(value, phase, container, host, image)`` returns one phase's hooks for
one container, with the ``${...}`` placeholders of url, headers, body and vars replaced by the container's values.

A hook is either a task file of the operator's (``{tasks: /abs/file.yml, vars: {...}}``, included with the
container's plan entry as ``wcs_hook_container`` and the phase as ``wcs_hook_phase``) or an HTTP call
(``{url, method, headers, body, status_code, timeout, validate_certs, delegate_to}``). Placeholders use
``${name}`` rather than Jinja: inventory Jinja is evaluated when the variable is read, before any container is
known, so it is kept for what is known then (vault variables); ``$$`` is a literal ``$``.
"""
from __future__ import annotations

import os
import re

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import bad_character, check_text

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


def _fill(text, values):
    return _PLACEHOLDER.sub(lambda m: "$" if m.group(1) else str(values[m.group(2)]), text)


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


def _check_status(value, field):
    if value is None:
        return list(DEFAULT_STATUS)
    codes = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for code in codes:
        if isinstance(code, bool) or not (isinstance(code, int) or (isinstance(code, str) and code.isdigit())):
            raise PlanError(field, value, "give HTTP status codes as whole numbers, e.g. [200, 204]")
        if not 100 <= int(code) <= 599:
            raise PlanError(field, value, "give HTTP status codes between 100 and 599, e.g. [200, 204]")
        out.append(int(code))
    if not out:
        raise PlanError(field, value, "list at least one expected status, e.g. [200, 204]", why="it is empty")
    return out


def _check_http(hook, field, index):
    _check_keys(hook, field, HTTP_KEYS, "HTTP")
    url = hook["url"]
    if not isinstance(url, str) or not url.strip():
        raise PlanError(field + ".url", url, "give the URL to call, e.g. https://lb.example.net/api/servers/${name}/drain")
    check_text(url, field + ".url", fix="give one line, e.g. https://lb.example.net/api/servers/${name}/drain")
    if not re.match(r"\Ahttps?://[^/\s]+", url) or any(c.isspace() for c in url):
        raise PlanError(field + ".url", url, "give an http:// or https:// URL without spaces, e.g. "
                        "https://lb.example.net/api/servers/${name}/drain")
    _placeholders(url, field + ".url")
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
    timeout = hook.get("timeout", DEFAULT_TIMEOUT)
    whole = isinstance(timeout, int) or (isinstance(timeout, str) and timeout.isdigit())
    if isinstance(timeout, bool) or not whole or not 1 <= int(timeout) <= MAX_TIMEOUT:
        raise PlanError(field + ".timeout", timeout, "give whole seconds between 1 and %d" % MAX_TIMEOUT)
    certs = hook.get("validate_certs", True)
    if not isinstance(certs, bool):
        raise PlanError(field + ".validate_certs", certs, "give true or false")
    delegate = hook.get("delegate_to", "localhost")
    if not isinstance(delegate, str) or not _HOST.match(delegate):
        raise PlanError(field + ".delegate_to", delegate, "name an inventory host (or localhost, the default) "
                        "from which the call is made")
    return {"kind": "http", "name": _check_name(hook, field, "%s %s" % (method.upper(), url)), "url": url,
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
            hook["url"] = _fill(hook["url"], values)
            hook["headers"] = {k: _fill(v, values) for k, v in hook["headers"].items()}
            hook["body"] = _walk_strings(hook["body"], "body", lambda text, _f: _fill(text, values))
        out.append(hook)
    return out

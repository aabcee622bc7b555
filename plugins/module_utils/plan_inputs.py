# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The typed variables of a deploy, checked once before anything is planned or changed.

Pure Python. ``check_plan_inputs({variable: value})`` applies the check of each known variable (names matched
whole with Docker's and Linux's rules, an absolute non-system conf root, texts without control characters or
Unicode line breaks, property maps the property files can hold) and raises ``PlanError`` naming the variable, its
value and the fix; any other variable given is checked as text (every string inside it). Secrets are never
echoed: their value shows as ``(hidden)``. Returns the values, normalised where a check normalises (paths).
"""
from __future__ import annotations

import math
import re

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.firewall import check_cidrs
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import core_options, validate_properties
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import (
    bad_character, check_abs_path, check_docker_name, check_int, check_interface_name, check_listen_address, check_text)

SECRET_VARIABLES = ("wcs_password", "wcs_license")
PROPERTY_MAPS = ("wcs_extra_properties", "wcs_stat_page_properties", "wcs_load_test_port_properties",
                 "wcs_load_test_duration_properties")
OPTION_LISTS = ("wcs_core_server_options", "wcs_core_jvm_options")


def _prefix(value, field):
    # The prefix is followed by a number, so a prefix may end in '-' or '_' but must itself start a Docker name.
    return check_docker_name(value, field) if value not in (None, "") else value


def _parent(value, field):
    return check_interface_name(value, field) if value not in (None, "") else value


def _image(value, field):
    text = check_text(value, field, fix="give an image reference without control characters, e.g. "
                      "flashphoner/webcallserver:latest", allow_empty=False)
    if any(c.isspace() for c in text):
        raise PlanError(field, value, "give an image reference without spaces, e.g. flashphoner/webcallserver:latest")
    return text


def _secret(value, field):
    if value in (None, ""):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # a numeric password typed in YAML is still a password
    if not isinstance(value, str) or bad_character(value) is not None:
        raise PlanError(field, "(hidden)", "remove control characters and line breaks (give it as one line of text)",
                        why="it holds a control character or a line break")
    return value


def _properties(value, field):
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise PlanError(field, value, "give a mapping of property name to value")
    validate_properties(value, field)
    return value


def _options(value, field):
    if value in (None, ""):
        return []
    if not isinstance(value, (list, tuple)):
        raise PlanError(field, value, "give a list of options, e.g. ['-XX:+AlwaysPreTouch']")
    try:
        core_options(jvm_options=list(value))
    except PlanError as err:
        raise PlanError(field, err.value, err.fix, why=err.why)
    return value


def _any_text(value, field):
    """Every string inside ``value`` (keys too) as single-line text."""
    if isinstance(value, str):
        return check_text(value, field)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                check_text(key, field)
            _any_text(item, "%s.%s" % (field, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _any_text(item, "%s[%d]" % (field, index))
    return value


WEB_CONFIG_KEYS = ("tls_server_config", "basic_auth_users", "http_server_config")
_BCRYPT = re.compile(r"\A\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}\Z")


def _web_config(value, field):
    """Prometheus' web.config.file (node exporter, Prometheus): known keys, bcrypt hashes, absolute cert paths."""
    if value in (None, "", {}):
        return {}
    if not isinstance(value, dict):
        raise PlanError(field, value, "give a mapping in Prometheus' web.config.file format")
    unknown = sorted(set(value) - set(WEB_CONFIG_KEYS))
    if unknown:
        raise PlanError(field, unknown, "use only %s" % ", ".join(WEB_CONFIG_KEYS), why="unknown key(s)")
    _any_text(value, field)
    for user, digest in (value.get("basic_auth_users") or {}).items():
        if not isinstance(digest, str) or not _BCRYPT.match(digest):
            raise PlanError("%s.basic_auth_users.%s" % (field, user), "(hidden)", "give a bcrypt hash, e.g. from "
                            "`htpasswd -nBC 10 USER` (the part after ':')", why="not a bcrypt hash")
    tls = value.get("tls_server_config")
    if tls is not None:
        if not isinstance(tls, dict) or not tls.get("cert_file") or not tls.get("key_file"):
            raise PlanError(field + ".tls_server_config", tls, "give cert_file and key_file (paths on the hosts)")
        for key in ("cert_file", "key_file"):
            check_abs_path(tls[key], "%s.tls_server_config.%s" % (field, key), refuse_system=False)
    return value


_PROM_DURATION = re.compile(r"\A(?:[0-9]+(?:ms|s|m|h|d|w|y))+\Z")


def _number(value, field, low=0.0, high=None, fix="give a number above 0"):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PlanError(field, value, fix)
    try:
        number = float(value)
    except ValueError:
        raise PlanError(field, value, fix)
    if not math.isfinite(number) or number <= low or (high is not None and number > high):
        raise PlanError(field, value, fix)
    return number


def _percent(value, field):
    return _number(value, field, high=100.0, fix="give a percent above 0 and at most 100, e.g. 10")


def _positive(value, field):
    return _number(value, field, fix="give a number above 0, e.g. 0.5")


def _prom_duration(value, field):
    if not isinstance(value, str) or not _PROM_DURATION.match(value):
        raise PlanError(field, value, "give a Prometheus duration such as 30s, 5m or 1h30m")
    return value


def _per_stream_series(value, field):
    return check_int(value, field, 0, 1000, fix="give a whole number from 0 (off) to 1000 (the exporter's hard cap)")


def _optional_file(value, field):
    return check_abs_path(value, field) if value not in (None, "") else ""


ALERT_CHECKS = {
    "wcs_monitoring_alert_down_for": _prom_duration,
    "wcs_monitoring_alert_degraded_percent": _percent,
    "wcs_monitoring_alert_degraded_for": _prom_duration,
    "wcs_monitoring_alert_heap_percent": _percent,
    "wcs_monitoring_alert_heap_for": _prom_duration,
    "wcs_monitoring_alert_gc_pause_seconds": _positive,
    "wcs_monitoring_alert_gc_window": _prom_duration,
    "wcs_monitoring_alert_media_ports_free_percent": _percent,
    "wcs_monitoring_alert_media_ports_for": _prom_duration,
    "wcs_monitoring_alert_probe_p99_ms": _positive,
}

CHECKS = {
    "wcs_name_prefix": _prefix,
    "wcs_network_name": lambda v, f: check_docker_name(v, f, what="network"),
    "wcs_network_parent": _parent,
    "wcs_conf_root": check_abs_path,
    "wcs_image": _image,
    "wcs_monitoring_base_dir": check_abs_path,
    "wcs_monitoring_listen_address": check_listen_address,
    "wcs_monitoring_web_config": _web_config,
    "wcs_monitoring_scrape_password": _secret,
}
CHECKS.update(ALERT_CHECKS)
# the firewall's admin networks, checked with the plan: the firewall step comes after the containers changed
CHECKS["wcs_admin_cidrs"] = check_cidrs
CHECKS["wcs_monitoring_exporter_per_stream_series"] = _per_stream_series
CHECKS["wcs_monitoring_exporter_isolation_report"] = _optional_file
CHECKS["wcs_isolation_report_copy"] = _optional_file
CHECKS.update({name: _secret for name in SECRET_VARIABLES})
CHECKS.update({name: _properties for name in PROPERTY_MAPS})
CHECKS.update({name: _options for name in OPTION_LISTS})


def check_plan_inputs(values):
    """Checks ``{variable: value}``; returns a copy with normalised values. PlanError on the first bad one."""
    out = {}
    for name in sorted(values):
        check = CHECKS.get(name, _any_text)
        out[name] = check(values[name], name)
    users = (out.get("wcs_monitoring_web_config") or {}).get("basic_auth_users") or {}
    if users and "wcs_monitoring_scrape_username" in out:
        user = out["wcs_monitoring_scrape_username"]
        if user not in users or not out.get("wcs_monitoring_scrape_password"):
            raise PlanError("wcs_monitoring_scrape_username", user, "name one of the basic_auth_users (%s) and set "
                            "wcs_monitoring_scrape_password, so Prometheus can scrape what it protects"
                            % ", ".join(sorted(users)), why="Prometheus would be refused")
    return out

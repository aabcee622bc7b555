# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one declared model of the typed inputs: each variable is declared once, here, with its kind (the check that
normalises it or raises ``PlanError(field, value, fix)``), its default and its argument-spec types.

Pure Python. Every reader goes through ``MODEL``: the plan (``host_plan.read_inputs``, the ``wcs_plan`` action's
options), the ``plan_inputs`` filter and ``deploy_variables`` (``plan_inputs.check_plan_inputs``), the capacity
inputs (``capacity.read_capacity_inputs``) and the CDN options (``cdn.check_options``). What one variable means
for another (the mode for the driver, the prefix plus the count as a container name, the port range's order) is
checked by the reader after every variable passed its own kind.

Kinds are idempotent: a value they returned passes them again unchanged, so a planner that is handed a checked
value and checks it again (a filter called directly, a test) reads the same thing. The argument specs are checked
against this model by tests/unit/plugins/module_utils/test_inputs.py (names, types, defaults), so a variable
documented in roles/plan/meta/argument_specs.yml, roles/plan/defaults/main.yml or the ``wcs_plan`` module is the one
declared here.
"""
from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping

from ansible_collections.mediaops.wcs.plugins.module_utils import cpusets, units, validate
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.firewall import check_cidrs
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import core_options, validate_properties

MAX_CONTAINERS = 1024
MAX_PORT = 65535
MAX_STREAMS = 10 ** 7
MAX_NOFILE = 1 << 30  # far above the kernel's nr_open (1048576 by default)
MAX_LIST = 4096       # items of a list input (addresses, cpusets): far above MAX_CONTAINERS
DOCKER_SCHEMES = ("unix", "tcp", "ssh", "npipe", "http", "https")
NETWORK_MODES = {"ipvlan": ("l2", "l3", "l3s"), "macvlan": ("bridge", "private", "vepa", "passthru")}
DEFAULT_MODE = {"ipvlan": "l2", "macvlan": "bridge"}


class Input:
    """One declared input.

    ``name``: the role variable; ``check(value, field)``: its kind; ``default``: its default (the plan role's, or
    ``default_from``'s role); ``spec``: its type in the role's argument spec; ``option``: its ``wcs_plan`` option
    name (None: not an option) and ``option_type`` the type documented there; ``scope``: ``plan`` (read by the
    plan), ``deploy`` (checked by the plan's ``deploy_variables`` and the ``plan_inputs`` filter), ``cdn``
    (``cdn_plan`` options, ``cdn_option`` is the key) or ``role`` (read by a role's tasks only).
    """

    __slots__ = ("name", "check", "default", "spec", "option", "option_type", "scope", "default_from", "secret",
                 "cdn_option", "required")

    def __init__(self, name, check, default=None, spec="str", option=None, option_type=None, scope="plan",
                 default_from="plan", secret=False, cdn_option=None, required=False):
        self.name = name
        self.check = check
        self.default = default
        self.spec = spec
        self.option = option
        self.option_type = option_type
        self.scope = scope
        self.default_from = default_from
        self.secret = secret
        self.cdn_option = cdn_option
        self.required = required


# -- kinds ---------------------------------------------------------------------------------------------------------
def text(value, field):
    """One line of text, stripped of blanks (None reads as empty)."""
    return validate.check_text("" if value is None else value, field).strip()


def required_text(value, field):
    return validate.check_text("" if value is None else value, field, allow_empty=False).strip()


def items(value, field, sep=","):
    """A list from a list or a ``sep``-separated string (survey fields); empty items dropped."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        validate.check_text(value, field, max_len=64 * MAX_LIST)
        value = [part.strip() for part in value.split(sep) if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise PlanError(field, validate._short(value), "give a list or a string with '%s' between the items" % sep)
    if len(value) > MAX_LIST:
        raise PlanError(field, "%d items" % len(value), "give at most %d items" % MAX_LIST)
    return list(value)


def count(value, field):
    return validate.check_int(value, field, low=1, high=MAX_CONTAINERS,
                              fix="give the number of WCS containers as a whole number from 1 to %d" % MAX_CONTAINERS)


def name_prefix(value, field):
    # the prefix is followed by a number, so it may end in '-' or '_' but must itself start a Docker name
    return validate.check_docker_name(value, field, what="prefix")


def optional_prefix(value, field):
    return value if value in (None, "") else name_prefix(value, field)


def image(value, field):
    return validate.check_image_ref(value, field)


def docker_host(value, field):
    """The engine's address as the Docker SDK reads it: a known scheme (unix, tcp, ssh, npipe, http, https) or a bare
    host:port (read as tcp), without white space."""
    host = required_text(value, field)
    scheme, sep, rest = host.partition("://")
    if any(c.isspace() for c in host) or (sep and (scheme not in DOCKER_SCHEMES or not rest)):
        raise PlanError(field, value, "give the engine's address, e.g. unix:///var/run/docker.sock or "
                        "tcp://10.0.0.5:2376")
    return host


def network_name(value, field):
    return validate.check_network_name(value, field)


def driver(value, field):
    name = text(value, field)
    if name not in NETWORK_MODES:
        raise PlanError(field, value, "use ipvlan or macvlan")
    return name


def network_mode(value, field):
    mode = text(value, field)
    every = sorted({m for modes in NETWORK_MODES.values() for m in modes})
    if mode and mode not in every:
        raise PlanError(field, value, "use one of %s (or leave it empty for the driver's default)" % ", ".join(every))
    return mode


def interface(value, field):
    """A host interface name, or empty (not set)."""
    return "" if value in (None, "") else validate.check_interface_name(value, field)


def _ipv4_network(value, field, fix, cidr_form):
    """The text of an IPv4 network (``cidr_form``: with its '/prefix'), or empty; PlanError with ``fix``."""
    network = text(value, field)
    if network:
        try:
            ipaddress.IPv4Network(network, strict=False)
        except ValueError:
            raise PlanError(field, value, fix) from None
        if cidr_form and "/" not in network:
            raise PlanError(field, value, fix)
    return network


def ipv4_block(value, field):
    """An IPv4 network in CIDR form, or empty; its layout (prefix length, reserved blocks, host bits) is checked by
    the address plan."""
    return _ipv4_network(value, field, "give an IPv4 block in CIDR form, e.g. '203.0.113.0/29'", cidr_form=True)


def host_ipv4(value, field):
    """One reachable IPv4 address (a '/prefix' suffix allowed), or empty. Returns the text as given."""
    addr = text(value, field)
    if addr:
        validate.check_unicast_address(addr.partition("/")[0], field, version=4,
                                       fix="give one unicast IPv4 address, e.g. 203.0.113.4")
    return addr


def ip_range(value, field):
    """Docker's ip_range: an IPv4 address or network, or empty (checked against the subnet by the address plan)."""
    return _ipv4_network(value, field, "give an IPv4 network inside the subnet, e.g. '203.0.113.3/32'",
                         cidr_form=False)


def host_ipv4_list(value, field):
    return [host_ipv4(addr, "%s[%d]" % (field, i)) if isinstance(addr, str) else _not_text(addr, field, i)
            for i, addr in enumerate(items(value, field))]


def external_ipv4_list(value, field):
    return [validate.check_unicast_address(addr, "%s[%d]" % (field, i), version=4,
                                           fix="give one unicast IPv4 address, e.g. 203.0.113.4")
            for i, addr in enumerate(items(value, field))]


def _not_text(addr, field, index):
    raise PlanError("%s[%d]" % (field, index), validate._short(addr), "give one IPv4 address as text, e.g. "
                    "'203.0.113.4'")


def reserved_cpus(value, field):
    """None: the default reserve; "" or []: nothing kept; else a cpuset string (kept as typed) or a list of ids."""
    if value is None:
        return None
    if isinstance(value, str):
        value = validate.check_text(value, field).strip()
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, str):
                validate.check_text(item, field)
    cpusets.parse_cpuset(value, field)
    return value


def cpuset_list(value, field):
    sets = items(value, field, sep=";")
    for index, item in enumerate(sets):
        if isinstance(item, str):
            validate.check_text(item, "%s[%d]" % (field, index))
        cpusets.parse_cpuset(item, "%s[%d]" % (field, index))
    return sets


def flag(value, field):
    """true/false; unset reads as false."""
    return validate.check_bool(value, field, unset=False)


def flag_true(value, field):
    """true/false; unset reads as true (the checks a role runs unless told not to)."""
    return validate.check_bool(value, field, unset=True)


def tristate(value, field):
    """True / False / None (unset: WCS's default)."""
    return validate.check_bool(value, field, unset=None, fix="give true, false or leave it unset (null) for WCS's "
                               "default")


def size_or_empty(value, field):
    """A size such as '16g', or empty (computed). Returns the text."""
    size = text(value, field)
    if size:
        units.parse_size(size, field)
    return size


def heap_share(value, field):
    return validate.check_number(value, field, low=0, high=1, low_open=True,
                                 fix="give a fraction above 0 and at most 1, e.g. 0.5")


def conf_root(value, field):
    return validate.check_abs_path(value, field)


def recorded_root(value, field):
    """A directory read (never written): absolute, no '..', no ':'; empty means this host's '/'."""
    return "" if value in (None, "") else validate.check_abs_path(value, field, refuse_system=False)


def port(value, field):
    return validate.check_int(value, field, low=1, high=MAX_PORT, fix="give a UDP port number from 1 to 65535")


def nofile(value, field):
    return validate.check_int(value, field, low=1, high=MAX_NOFILE,
                              fix="give the containers' nofile ulimit as a whole number, e.g. 20000")


def figure(what):
    """A whole number >= 0 of an assumption (0 or empty leaves the limit out)."""
    def check(value, field):
        return validate.check_int(0 if value in (None, "") else value, field, low=0, high=MAX_STREAMS,
                                  fix="give %s as a whole number >= 0 (0 leaves this limit out)" % what)
    return check


def heap_per_stream(value, field):
    """Bytes of heap one session takes: a size, or 0 / empty (the limit left out)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value if value == 0 else units.parse_size(value, field)
    size = text(value, field)
    return 0 if size in ("", "0") else units.parse_size(size, field)


def expected_streams(value, field):
    """None, a whole number for every container, or {container name: number}; the names are checked against the
    plan by capacity.read_expected."""
    fix = ("give a whole number >= 0 for every container of the host, or a mapping of container name to number "
           "(e.g. {wcs-1: 500})")
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        out = {}
        for name, number in value.items():
            if not isinstance(name, str):
                raise PlanError(field, validate._short(value), fix, why="%r is not a container name" % (name,))
            validate.check_text(name, field)
            out[name] = None if number in (None, "") else validate.check_int(
                number, "%s.%s" % (field, name), low=0, high=MAX_STREAMS, fix=fix)
        return out
    if isinstance(value, (list, tuple, set)):
        raise PlanError(field, validate._short(value), fix)
    return validate.check_int(value, field, low=0, high=MAX_STREAMS, fix=fix)


def secret(value, field):
    return value if value in (None, "") else validate.check_secret(value, field)


def properties(value, field):
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise PlanError(field, validate._short(value), "give a mapping of property name to value")
    validate_properties(value, field)
    return value


def options(value, field):
    if value in (None, ""):
        return []
    if not isinstance(value, (list, tuple)):
        raise PlanError(field, validate._short(value), "give a list of options, e.g. ['-XX:+AlwaysPreTouch']")
    try:
        core_options(jvm_options=list(value))
    except PlanError as err:
        raise PlanError(field, err.value, err.fix, why=err.why) from None
    return value


def any_text(value, field, depth=0):
    """Every string inside ``value`` (keys too) as single-line text; nesting at most 32 deep."""
    if depth > 32:
        raise PlanError(field, "(nested more than 32 deep)", "give a flatter value")
    if isinstance(value, str):
        return validate.check_text(value, field)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                validate.check_text(key, field)
            any_text(item, "%s.%s" % (field, key), depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            any_text(item, "%s[%d]" % (field, index), depth + 1)
    return value


WEB_CONFIG_KEYS = ("tls_server_config", "basic_auth_users", "http_server_config")
_BCRYPT = re.compile(r"\A\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}\Z")


def web_config(value, field):
    """Prometheus' web.config.file (node exporter, Prometheus): known keys, bcrypt hashes, absolute cert paths."""
    if value in (None, "", {}):
        return {}
    if not isinstance(value, dict):
        raise PlanError(field, validate._short(value), "give a mapping in Prometheus' web.config.file format")
    unknown = sorted(str(k) for k in set(value) - set(WEB_CONFIG_KEYS))
    if unknown:
        raise PlanError(field, unknown, "use only %s" % ", ".join(WEB_CONFIG_KEYS), why="unknown key(s)")
    any_text(value, field)
    users = value.get("basic_auth_users") or {}
    if not isinstance(users, dict):
        raise PlanError(field + ".basic_auth_users", validate._short(users), "give a mapping of user to bcrypt hash")
    for user, digest in users.items():
        if not isinstance(digest, str) or not _BCRYPT.match(digest):
            raise PlanError("%s.basic_auth_users.%s" % (field, user), "(hidden)", "give a bcrypt hash, e.g. from "
                            "`htpasswd -nBC 10 USER` (the part after ':')", why="not a bcrypt hash")
    tls = value.get("tls_server_config")
    if tls is not None:
        if not isinstance(tls, dict) or not tls.get("cert_file") or not tls.get("key_file"):
            raise PlanError(field + ".tls_server_config", validate._short(tls),
                            "give cert_file and key_file (paths on the hosts)")
        for key in ("cert_file", "key_file"):
            validate.check_abs_path(tls[key], "%s.tls_server_config.%s" % (field, key), refuse_system=False)
    return value


_PROM_DURATION = re.compile(r"\A(?:[0-9]{1,9}(?:ms|s|m|h|d|w|y)){1,8}\Z")


def prom_duration(value, field):
    if not isinstance(value, str) or not _PROM_DURATION.match(value):
        raise PlanError(field, validate._short(value), "give a Prometheus duration such as 30s, 5m or 1h30m")
    return value


def percent(value, field):
    return validate.check_number(value, field, low=0, high=100, low_open=True,
                                 fix="give a percent above 0 and at most 100, e.g. 10")


def positive(value, field):
    number = validate.check_number(value, field, low=0, low_open=True, fix="give a number above 0, e.g. 0.5")
    if not math.isfinite(number):
        raise PlanError(field, value, "give a number above 0, e.g. 0.5")
    return number


def per_stream_series(value, field):
    return validate.check_int(value, field, 0, 1000,
                              fix="give a whole number from 0 (off) to 1000 (the exporter's hard cap)")


def optional_file(value, field):
    return validate.check_abs_path(value, field) if value not in (None, "") else ""


def base_dir(value, field):
    return validate.check_abs_path(value, field)


def admin_cidrs(value, field):
    return check_cidrs(value, field)


def listen_address(value, field):
    return validate.check_listen_address(value, field)


# CDN options (roles/cdn; the cdn_plan filter's options, the key without wcs_cdn_)
def group_name(value, field):
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value) \
            or validate.bad_character(value) is not None or len(value) > 255:
        raise PlanError(field, validate._short(value), "name an inventory group (no spaces), e.g. wcs_cdn_origin")
    return value


CDN_ADDRESS_KINDS = ("container", "external")


def cdn_address(value, field):
    if not isinstance(value, str) or value not in CDN_ADDRESS_KINDS:
        raise PlanError(field, validate._short(value), "give container (the container's own address, what the "
                        "nodes reach on their network) or external (the address given in wcs_external_addresses)")
    return value


def cdn_timeout(value, field):
    if value in (None, ""):
        return None
    return validate.check_int(value, field, low=1, high=86400, fix="give a whole number from 1 to 86400")


def cdn_port(value, field):
    return validate.check_int(value, field, low=1, high=MAX_PORT, fix="give a whole number from 1 to 65535")


CDN_TIERS = ("origin", "edge", "transcoder")
_ROLE_NAME = re.compile(r"\A[A-Za-z0-9_-]{1,32}\Z")


def cdn_role_names(value, field):
    roles = {tier: tier for tier in CDN_TIERS}
    if value in (None, ""):
        return roles
    if not isinstance(value, Mapping):
        raise PlanError(field, validate._short(value), "give a mapping such as {transcoder: transcoder}")
    for tier, name in value.items():
        if tier not in roles:
            raise PlanError(field, validate._short(tier), "use the keys origin, edge and transcoder")
        if not isinstance(name, str) or not _ROLE_NAME.match(name):
            raise PlanError("%s.%s" % (field, tier), validate._short(name), "give the cdn_role value as one word "
                            "(letters, digits, _ or -), e.g. %s" % tier)
        roles[tier] = name
    return roles


# -- the model -----------------------------------------------------------------------------------------------------
def _plan(name, check, default, spec, option_type, **kw):
    return Input(name, check, default, spec=spec, option=name[len("wcs_"):], option_type=option_type, **kw)


_DECLARED = [
    # the plan (wcs_plan options; roles/plan)
    _plan("wcs_container_count", count, 2, "int", "raw"),
    _plan("wcs_name_prefix", name_prefix, "wcs-", "str", "str"),
    _plan("wcs_image", image, "flashphoner/webcallserver:latest", "str", "str"),
    _plan("wcs_docker_host", docker_host, "unix:///var/run/docker.sock", "str", "str"),
    _plan("wcs_network_name", network_name, "wcs-net", "str", "str"),
    _plan("wcs_network_driver", driver, "ipvlan", "str", "str"),
    _plan("wcs_network_mode", network_mode, "", "str", "str"),
    _plan("wcs_network_parent", interface, "", "str", "str", required=True),
    _plan("wcs_network_block", ipv4_block, "", "str", "str"),
    _plan("wcs_network_subnet", ipv4_block, "", "str", "str"),
    _plan("wcs_network_gateway", host_ipv4, "", "str", "str"),
    _plan("wcs_network_ip_range", ip_range, "", "str", "str"),
    _plan("wcs_host_address", host_ipv4, "", "str", "str"),
    _plan("wcs_container_addresses", host_ipv4_list, [], "raw", "raw"),
    _plan("wcs_external_addresses", external_ipv4_list, [], "raw", "raw"),
    _plan("wcs_reserved_cpus", reserved_cpus, None, "raw", "raw"),
    _plan("wcs_cpusets", cpuset_list, [], "raw", "raw"),
    _plan("wcs_allow_smt_split", flag, False, "bool", "raw"),
    _plan("wcs_heap", size_or_empty, "", "str", "str"),
    _plan("wcs_heap_share", heap_share, 0.5, "float", "raw"),
    _plan("wcs_memory_limit", size_or_empty, "", "str", "str"),
    _plan("wcs_conf_root", conf_root, "/opt/wcs", "str", "str"),
    _plan("wcs_plan_check_parent", flag, True, "bool", "raw"),
    # capacity plan: the port range, rtp_bundle and compact usage are the config role's variables, nofile the
    # containers role's (their defaults are those roles'; a unit test keeps them equal)
    _plan("wcs_media_port_from", port, 31001, "int", "raw", default_from="config"),
    _plan("wcs_media_port_to", port, 40000, "int", "raw", default_from="config"),
    _plan("wcs_rtp_bundle", tristate, None, "bool", "raw", default_from="config"),
    _plan("wcs_compact_media_port_usage", tristate, None, "bool", "raw", default_from="config"),
    _plan("wcs_nofile_limit", nofile, 20000, "int", "raw", default_from="containers"),
    _plan("wcs_expected_streams", expected_streams, None, "raw", "raw"),
    _plan("wcs_capacity_streams_per_core", figure("the sessions one core holds"), 100, "int", "raw"),
    _plan("wcs_capacity_heap_per_stream", heap_per_stream, "8m", "str", "raw"),
    _plan("wcs_capacity_fds_per_stream", figure("the file descriptors one session takes"), 4, "int", "raw"),
    _plan("wcs_capacity_fd_reserve", figure("the file descriptors WCS holds besides its sessions"), 2048, "int",
          "raw"),
    # read by the wcs_plan action itself (not a plan input)
    Input("wcs_host_facts_root", recorded_root, "", option="host_facts_root", option_type="str", scope="action"),
    # the plan role's own switches
    Input("wcs_plan_check_engine", flag_true, True, spec="bool", scope="role"),
    Input("wcs_fleet_check", flag_true, True, spec="bool", scope="role"),
    Input("wcs_plan_show", flag_true, True, spec="bool", scope="role"),
    Input("wcs_plan_show_changes", flag_true, True, spec="bool", scope="role"),
    # written by the deploy (deploy_variables of wcs_plan, the plan_inputs filter)
    Input("wcs_password", secret, "", scope="deploy", secret=True),
    Input("wcs_license", secret, "", scope="deploy", secret=True),
    Input("wcs_extra_properties", properties, {}, spec="dict", scope="deploy", default_from="config"),
    Input("wcs_stat_page_properties", properties, {}, spec="dict", scope="deploy", default_from="config"),
    Input("wcs_load_test_port_properties", properties, {}, spec="dict", scope="deploy", default_from="config"),
    Input("wcs_load_test_duration_properties", properties, {}, spec="dict", scope="deploy", default_from="config"),
    Input("wcs_core_server_options", options, [], spec="list", scope="deploy", default_from="config"),
    Input("wcs_core_jvm_options", options, [], spec="list", scope="deploy", default_from="config"),
    # its default is a template in roles/firewall (the host address of the plan): not declared here
    Input("wcs_admin_cidrs", admin_cidrs, None, spec="raw", scope="deploy", default_from="firewall"),
    # monitoring (roles/monitoring checks them through the plan_inputs filter)
    Input("wcs_monitoring_base_dir", base_dir, "/opt/wcs-monitoring", scope="deploy", default_from="monitoring"),
    Input("wcs_monitoring_listen_address", listen_address, "127.0.0.1", scope="deploy", default_from="monitoring"),
    Input("wcs_monitoring_web_config", web_config, {}, spec="dict", scope="deploy", default_from="monitoring"),
    Input("wcs_monitoring_scrape_password", secret, "", scope="deploy", secret=True, default_from="monitoring"),
    Input("wcs_monitoring_exporter_per_stream_series", per_stream_series, None, spec="int", scope="deploy",
          default_from="monitoring"),
    Input("wcs_monitoring_exporter_isolation_report", optional_file, "", scope="deploy", default_from="monitoring"),
    Input("wcs_isolation_report_copy", optional_file, "", scope="deploy", default_from="isolation"),
    Input("wcs_monitoring_alert_down_for", prom_duration, None, scope="deploy", default_from="monitoring"),
    Input("wcs_monitoring_alert_degraded_percent", percent, None, spec="float", scope="deploy",
          default_from="monitoring"),
    Input("wcs_monitoring_alert_degraded_for", prom_duration, None, scope="deploy", default_from="monitoring"),
    Input("wcs_monitoring_alert_heap_percent", percent, None, spec="float", scope="deploy", default_from="monitoring"),
    Input("wcs_monitoring_alert_heap_for", prom_duration, None, scope="deploy", default_from="monitoring"),
    Input("wcs_monitoring_alert_gc_pause_seconds", positive, None, spec="float", scope="deploy",
          default_from="monitoring"),
    Input("wcs_monitoring_alert_gc_window", prom_duration, None, scope="deploy", default_from="monitoring"),
    Input("wcs_monitoring_alert_media_ports_free_percent", percent, None, spec="float", scope="deploy",
          default_from="monitoring"),
    Input("wcs_monitoring_alert_media_ports_for", prom_duration, None, scope="deploy", default_from="monitoring"),
    Input("wcs_monitoring_alert_probe_p99_ms", positive, None, spec="float", scope="deploy",
          default_from="monitoring"),
    # the CDN (roles/cdn; the cdn_plan filter's options)
    Input("wcs_cdn_origin_group", group_name, "wcs_cdn_origin", scope="cdn", cdn_option="origin_group",
          default_from="cdn"),
    Input("wcs_cdn_edge_group", group_name, "wcs_cdn_edge", scope="cdn", cdn_option="edge_group", default_from="cdn"),
    Input("wcs_cdn_transcoder_group", group_name, "wcs_cdn_transcoder", scope="cdn", cdn_option="transcoder_group",
          default_from="cdn"),
    Input("wcs_cdn_address", cdn_address, "container", scope="cdn", cdn_option="address", default_from="cdn"),
    Input("wcs_cdn_port", cdn_port, 8084, spec="int", scope="cdn", cdn_option="port", default_from="cdn"),
    Input("wcs_cdn_nodes_resolve_ip", flag, False, spec="bool", scope="cdn", cdn_option="nodes_resolve_ip",
          default_from="cdn"),
    Input("wcs_cdn_nodes_timeout", cdn_timeout, None, spec="int", scope="cdn", cdn_option="nodes_timeout",
          default_from="cdn"),
    Input("wcs_cdn_role_names", cdn_role_names, {t: t for t in CDN_TIERS}, spec="dict", scope="cdn",
          cdn_option="role_names", default_from="cdn"),
    Input("wcs_cdn_show", flag_true, True, spec="bool", scope="cdn", default_from="cdn"),
]

MODEL = {inp.name: inp for inp in _DECLARED}
PLAN_INPUTS = {inp.name: inp for inp in _DECLARED if inp.scope == "plan"}
OPTIONS = {inp.option: inp.name for inp in _DECLARED if inp.option}
CDN_OPTIONS = {inp.cdn_option: inp for inp in _DECLARED if inp.cdn_option}
SECRETS = tuple(inp.name for inp in _DECLARED if inp.secret)


def check(name, value, field=None):
    """``value`` of the declared variable ``name`` through its kind (``field`` names it in errors)."""
    return MODEL[name].check(value, field or name)


def defaults(scope="plan"):
    """{name: default} of the inputs of ``scope``."""
    return {inp.name: inp.default for inp in _DECLARED if inp.scope == scope}

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the WCS container set: turn module input into one normalised spec per container, validate the
whole set together, read an engine inspect back into the same shape, and say which fields differ.

Idempotence compares against *intent*: every managed container carries labels recording what the module set
(the spec as JSON, a salted hash per secret). Live values are read where the engine keeps the intent itself
(IPAMConfig, not the live address; HostConfig.NetworkMode; CpusetCpus; Mounts), and the recorded env keys let a
removed env entry be noticed. No Ansible and no Docker imports.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import re

from ansible_collections.mediaops.wcs.plugins.module_utils.constants import (  # noqa: F401 - re-exported
    ASIDE_SUFFIX, CONF_HASH_LABEL, CONF_MOUNT, CPUSET_LABEL, LABEL_PREFIX, MANAGED_LABEL, SECRET_LABEL, SPEC_LABEL)
from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import format_cpuset, parse_cpuset
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import property_text
from ansible_collections.mediaops.wcs.plugins.module_utils.units import MIB, parse_size
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import (
    check_abs_path, check_docker_name, check_image_ref, check_int, check_secret, check_text,
    is_safe_env_key)

SECRETS = {"password": "PASSWORD", "license": "LICENSE"}
IP_ENV = {"local_ip": "LOCAL_IP", "external_ip": "EXTERNAL_IP"}
# Top-level options that are defaults for every item of `containers` (an item's own value wins; env and labels
# are merged key by key).
DEFAULTABLE = ("image", "network", "password", "license", "conf_dir", "env", "memory", "restart_policy", "ulimits",
               "labels", "state", "pull", "wait", "cpuset_mems")
MERGED = ("env", "labels")
# The recorded fields; a difference in any of them recreates the container.
SPEC_FIELDS = ("image", "cpuset", "cpuset_mems", "network", "ipv4_address", "env", "conf_dir", "memory",
               "restart_policy", "ulimits", "labels")
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
# Image references: no white space or control characters anywhere (what the engine accepts is checked by it).
_IMAGE_ID = re.compile(r"\Asha256:[0-9a-f]{64}\Z")


def normalise_image(image):
    """One spelling per image: ``busybox`` == ``docker.io/library/busybox:latest``; digests kept as they are."""
    ref = image.strip()
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    if "@" in ref:
        return ref
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        ref += ":latest"
    return ref


def is_image_id(image):
    """True for a full local image ID (``sha256:`` and 64 hex digits), which the engine resolves without a pull."""
    return bool(_IMAGE_ID.match(image or ""))


def check_container_name(value, field):
    """A container name the engine accepts, checked here before anything changes: Docker's grammar of at least 2
    characters (validate.check_docker_name: the engine refuses one character) and not ending in the aside suffix
    the module uses while it replaces a container."""
    name = check_docker_name(value, field)
    if name.endswith(ASIDE_SUFFIX):
        raise PlanError(field, value, "pick a name that does not end in %s" % ASIDE_SUFFIX,
                        why="that suffix marks a container put aside while its replacement starts")
    return name


def check_conf_dir(value, field):
    """A container's conf directory, the source of its bind ``<conf_dir>:/conf:ro``: validate.check_abs_path, and
    here on its own account (whatever that check allows) never a ``:`` (it would split the bind specification into
    other fields) or a ``..`` component (never resolved, refused), and never the root."""
    if isinstance(value, str):
        if ":" in value:
            raise PlanError(field, value, "give a path without ':'", why="a ':' splits the bind specification "
                            "host:container:mode of the container's conf mount")
        if ".." in value.split("/"):
            raise PlanError(field, value, "give the directory itself, without '..' components",
                            why="'..' climbs out of the directory it names (refused, never resolved)")
    path = check_abs_path(value, field)
    if ":" in path or ".." in path.split("/") or path == "/":
        raise PlanError(field, value, "give a directory of its own, e.g. /opt/wcs/wcs-1/conf")
    return path


def parse_memory(value, field="memory"):
    """'24g' / '512m' / '2GiB' / 1073741824 -> bytes (units.parse_size, like docker run -m); None stays None."""
    if value is None or value == "":
        return None
    size = parse_size(value, field)
    if size < 6 * MIB:
        raise PlanError(field, value, "give at least 6m (Docker's minimum)", why="too small")
    return size


def secret_hash(name, field, value):
    """Salted digest stored in a label to notice a changed secret without storing it."""
    text = "mediaops.wcs\0%s\0%s\0%s" % (name, field, value)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ulimits(value, field):
    if not value:
        return []
    out = {}
    for i, item in enumerate(value):
        where = "%s[%d]" % (field, i)
        if not isinstance(item, dict) or not item.get("name"):
            raise PlanError(where, item, "write {name: nofile, soft: 20000, hard: 20000}")
        check_docker_name(str(item["name"]), where + ".name", what="ulimit")
        soft, hard = item.get("soft"), item.get("hard")
        if soft is None and hard is None:
            raise PlanError(where, item, "give soft and/or hard")
        soft = hard if soft is None else soft
        hard = soft if hard is None else hard
        fix = "soft and hard are whole numbers from -1 (unlimited) to 2^62"
        soft = check_int(soft, where + ".soft", low=-1, high=2 ** 62, fix=fix)
        hard = check_int(hard, where + ".hard", low=-1, high=2 ** 62, fix=fix)
        if soft > hard:
            raise PlanError(where, item, "keep soft <= hard", why="soft %d is above hard %d" % (soft, hard))
        out[str(item["name"])] = {"name": str(item["name"]), "soft": soft, "hard": hard}
    return [out[k] for k in sorted(out)]


def _cpuset(value, field):
    if value is None or value == "" or value == []:
        return None
    return format_cpuset(parse_cpuset(value, field))


def _mapping(value, field):
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise PlanError(field, value, "give a mapping of name to value, e.g. {TZ: UTC}")
    return value


def value_text(value, field, what="environment"):
    """An env or label value as the engine keeps it (a string): text as it is, ``true``/``false`` for booleans,
    digits for whole numbers, plain decimals for finite floats, None as ''. Mappings, lists, bytes, NaN and
    infinities are refused (field, value, fix): Python would spell them ``{'a': 1}``, ``['a']``, ``nan``."""
    if value is None:
        return ""
    return check_text(property_text(value, field, allow_list=False, what=what), field)


def merged_items(top, items):
    """The `containers` list with top-level defaults applied (item values win; env/labels merged)."""
    merged = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PlanError("containers[%d]" % index, item, "give each container as a mapping with at least a name")
        spec = dict(item)
        for key in DEFAULTABLE:
            if key in MERGED:
                combined = dict(_mapping(top.get(key), key))
                combined.update(_mapping(item.get(key), "containers[%d].%s" % (index, key)))
                spec[key] = combined
            elif spec.get(key) is None:
                spec[key] = top.get(key)
        merged.append(spec)
    return merged


def desired_container(item, index=0):
    """Validates one merged item; returns {name, spec: {SPEC_FIELDS}, secrets: {field: value}, state, pull,
    restart, wait}. Errors name the field as containers[<i>].<field>."""
    def f(name):
        return "containers[%d].%s" % (index, name)

    name = check_container_name(item.get("name"), f("name"))
    state = item.get("state") or "started"
    if state == "absent":
        return {"name": name, "state": state, "spec": None, "secrets": {}, "pull": "never",
                "restart": False, "wait": False}
    if not item.get("image"):
        raise PlanError(f("image"), item.get("image"), "set image on the item or at the top level")
    check_image_ref(item["image"], f("image"))  # Docker's reference grammar; a local image ID passes too
    env = {}
    for key, value in _mapping(item.get("env"), f("env")).items():
        if key in SECRETS.values():
            raise PlanError(f("env.%s" % key), "(hidden)", "pass it with the %s option (kept out of output)"
                            % key.lower())
        if key in IP_ENV.values():
            raise PlanError(f("env.%s" % key), value, "use the %s option" % key.lower())
        if not is_safe_env_key(key):
            raise PlanError(f("env"), key, "name each variable with letters, digits, '_', '.', '-' (starting with a "
                            "letter or '_'), without '=' or control characters", why="not an environment key")
        env[key] = value_text(value, f("env.%s" % key))
    for opt, var in IP_ENV.items():
        if item.get(opt):
            try:
                ipaddress.ip_address(item[opt])
            except ValueError:
                raise PlanError(f(opt), item[opt], "give an IP address")
            env[var] = str(item[opt])
    network = item.get("network") or None
    if network is not None:
        network = check_docker_name(network, f("network"), what="network")
    if network in ("bridge", "default"):  # the engine's default network, as inspect reports it
        network = None
    ipv4 = item.get("ipv4_address") or None
    if ipv4:
        if not network:
            raise PlanError(f("ipv4_address"), ipv4, "set network too: a static address needs a user network")
        try:
            ipv4 = str(ipaddress.IPv4Address(ipv4))
        except ValueError:
            raise PlanError(f("ipv4_address"), ipv4, "give a plain IPv4 address such as 203.0.113.4")
    conf_dir = item.get("conf_dir") or None
    if conf_dir:
        conf_dir = check_conf_dir(conf_dir, f("conf_dir"))
    policy = item.get("restart_policy") or "unless-stopped"
    if policy not in RESTART_POLICIES:
        raise PlanError(f("restart_policy"), policy, "use one of %s" % ", ".join(RESTART_POLICIES))
    labels = {}
    for key, value in _mapping(item.get("labels"), f("labels")).items():
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise PlanError(f("labels"), key, "quote the label key in YAML (on/yes/no are read as booleans)",
                            why="the key is a %s, not text" % type(key).__name__)
        key = check_text(str(key), f("labels"), fix="give label keys without control characters", allow_empty=False)
        if key.startswith(LABEL_PREFIX):
            raise PlanError(f("labels.%s" % key), value, "the %s* labels are the module's own" % LABEL_PREFIX)
        labels[key] = value_text(value, f("labels.%s" % key), what="label")
    spec = {
        "image": normalise_image(item["image"]),
        "cpuset": _cpuset(item.get("cpuset"), f("cpuset")),
        "cpuset_mems": _cpuset(item.get("cpuset_mems"), f("cpuset_mems")),
        "network": network,
        "ipv4_address": ipv4,
        "env": env,
        "conf_dir": conf_dir,
        "memory": parse_memory(item.get("memory"), f("memory")),
        "restart_policy": policy,
        "ulimits": _ulimits(item.get("ulimits"), f("ulimits")),
        "labels": labels,
    }
    secrets = {k: check_secret(item[k], f(k)) for k in SECRETS if item.get(k) not in (None, "")}
    return {"name": name, "state": state, "spec": spec, "secrets": secrets, "pull": item.get("pull") or "missing",
            "restart": bool(item.get("restart")), "wait": bool(item.get("wait"))}


def check_unique_names(desired):
    """Every item of the set names its own container, whatever its state (a name listed as absent and as started
    would be removed after its creation)."""
    seen = {}
    for i, d in enumerate(desired):
        if d["name"] in seen:
            raise PlanError("containers[%d].name" % i, d["name"], "give each container its own name",
                            why="also containers[%d]" % seen[d["name"]])
        seen[d["name"]] = i


def cpus_of(cpuset):
    return set(parse_cpuset(cpuset)) if cpuset else set()


def validate_set(desired, online_cpus, others, allow_shared_cpus=False):
    """Checks the whole set before anything changes: unique names, unique addresses per network, cpusets
    online and not overlapping each other or ``others`` ({name: cpuset} of managed containers outside the set)."""
    names, addresses, owners = {}, {}, {}
    online = set(online_cpus)
    for i, d in enumerate(desired):
        if d["name"] in names:
            raise PlanError("containers[%d].name" % i, d["name"], "give each container its own name",
                            why="also containers[%d]" % names[d["name"]])
        names[d["name"]] = i
        spec = d["spec"]
        if spec is None:
            continue
        if spec["ipv4_address"]:
            key = (spec["network"], spec["ipv4_address"])
            if key in addresses:
                raise PlanError("containers[%d].ipv4_address" % i, spec["ipv4_address"],
                                "give each container its own address", why="also %s's" % addresses[key])
            addresses[key] = d["name"]
        cpus = cpus_of(spec["cpuset"])
        offline = sorted(cpus - online)
        if offline:
            raise PlanError("containers[%d].cpuset" % i, spec["cpuset"],
                            "use online CPUs only (%s on this host)" % format_cpuset(sorted(online)),
                            why="CPU(s) %s are not online" % format_cpuset(offline))
        if allow_shared_cpus:
            continue
        for cpu in sorted(cpus):
            if cpu in owners:
                raise PlanError("containers[%d].cpuset" % i, spec["cpuset"],
                                "give each container its own CPUs, or set allow_shared_cpus=true",
                                why="CPU %d is also in %s's cpuset" % (cpu, owners[cpu]))
        for cpu in cpus:
            owners[cpu] = d["name"]
    if allow_shared_cpus:
        return
    for other, cpuset in sorted(others.items()):
        shared = cpus_of(cpuset) & set(owners)
        if shared:
            cpu = min(shared)
            raise PlanError("containers[%d].cpuset" % names[owners[cpu]], cpu,
                            "pick CPUs that managed WCS container %s (cpuset %s) does not use, remove it "
                            "(purge=true), or set allow_shared_cpus=true" % (other, cpuset),
                            why="CPU(s) %s are also pinned to %s" % (format_cpuset(sorted(shared)), other))


def labels_for(desired):
    """The labels the module sets: user labels, the managed mark, the recorded spec, secret hashes."""
    spec = desired["spec"]
    labels = dict(spec["labels"])
    labels[MANAGED_LABEL] = "true"
    labels[SPEC_LABEL] = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    labels[CPUSET_LABEL] = spec["cpuset"] or ""
    for field, value in desired["secrets"].items():
        labels[SECRET_LABEL % field] = secret_hash(desired["name"], field, value)
    if desired.get("conf_hash"):
        labels[CONF_HASH_LABEL] = desired["conf_hash"]
    return labels


def environment_for(desired):
    env = dict(desired["spec"]["env"])
    for field, value in desired["secrets"].items():
        env[SECRETS[field]] = value
    return env


def _env_dict(entries):
    out = {}
    for entry in entries or []:
        key, sep, value = entry.partition("=")
        out[key] = value if sep else ""
    return out


def recorded_spec(inspect):
    labels = (inspect.get("Config") or {}).get("Labels") or {}
    try:
        return json.loads(labels.get(SPEC_LABEL) or "{}")
    except ValueError:
        return {}


def actual_container(inspect, desired_spec):
    """The container's spec as it is, in the shape of desired_spec: the recorded intent overlaid with what the
    engine keeps as intent. Env and labels are read for the keys recorded or wanted only (the image adds its
    own)."""
    recorded = recorded_spec(inspect)
    config = inspect.get("Config") or {}
    host = inspect.get("HostConfig") or {}
    actual = {field: recorded.get(field) for field in SPEC_FIELDS}
    actual["image"] = normalise_image(config.get("Image") or recorded.get("image") or "")
    actual["cpuset"] = _cpuset(host.get("CpusetCpus") or None, "CpusetCpus")
    actual["cpuset_mems"] = _cpuset(host.get("CpusetMems") or None, "CpusetMems")
    actual["memory"] = host.get("Memory") or None
    policy = (host.get("RestartPolicy") or {}).get("Name") or "no"
    actual["restart_policy"] = policy
    actual["ulimits"] = sorted(({"name": u.get("Name"), "soft": u.get("Soft"), "hard": u.get("Hard")}
                                for u in host.get("Ulimits") or []), key=lambda u: u["name"])
    mode = host.get("NetworkMode") or "default"
    actual["network"] = None if mode in ("default", "bridge") else mode
    networks = (inspect.get("NetworkSettings") or {}).get("Networks") or {}
    endpoint = networks.get(actual["network"] or "bridge") or {}
    actual["ipv4_address"] = (endpoint.get("IPAMConfig") or {}).get("IPv4Address") or None
    if actual["network"] and actual["network"] not in networks:
        actual["network"] = "(detached from %s)" % actual["network"]
    conf = [m for m in inspect.get("Mounts") or [] if m.get("Destination") == CONF_MOUNT]
    actual["conf_dir"] = conf[0].get("Source") if conf else None
    live_env = _env_dict(config.get("Env"))
    keys = set(recorded.get("env") or {}) | set(desired_spec.get("env") or {})
    actual["env"] = {k: live_env[k] for k in sorted(keys) if k in live_env}
    live_labels = config.get("Labels") or {}
    keys = set(recorded.get("labels") or {}) | set(desired_spec.get("labels") or {})
    actual["labels"] = {k: live_labels[k] for k in sorted(keys) if k in live_labels}
    return actual


def differences(desired, inspect, image_id=None):
    """Field names that differ between the wanted container and the existing one. ``image_id``, when known,
    is what the wanted image name points to locally: a retagged image counts as an image change."""
    spec = desired["spec"]
    actual = actual_container(inspect, spec)
    changes = [field for field in SPEC_FIELDS if spec[field] != actual[field]]
    if "image" not in changes and image_id and inspect.get("Image") and inspect["Image"] != image_id:
        changes.insert(0, "image")
    elif "image" in changes and (is_image_id(spec["image"]) or is_image_id(actual["image"])) \
            and image_id and inspect.get("Image") == image_id:
        changes.remove("image")  # a name and an ID of the very image the container runs
    labels = (inspect.get("Config") or {}).get("Labels") or {}
    for field in SECRETS:
        want = desired["secrets"].get(field)
        have = labels.get(SECRET_LABEL % field)
        if (want is None) != (have is None) or (want is not None and secret_hash(desired["name"], field, want) != have):
            changes.append(field)
    # property files differ from the ones it was created with; unknown on either side (a remote engine, a container
    # created before the label existed) is no change
    ran = labels.get(CONF_HASH_LABEL)
    if desired.get("conf_hash") and ran and desired["conf_hash"] != ran:
        changes.append("conf_files")
    return changes


def public_view(spec, secrets_changed=None, secrets_set=()):
    """The spec as shown in diffs: secrets only as '(changed)' / '(unchanged)'."""
    view = dict(spec or {})
    for field in SECRETS:
        if secrets_changed is not None and field in secrets_changed:
            view[field] = "(changed)"
        elif field in secrets_set:
            view[field] = "(unchanged)"
    return view

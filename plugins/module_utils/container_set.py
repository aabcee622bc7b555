# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine side of wcs_containers: reconcile the whole set of managed WCS containers of one engine.

Round trips are counted on purpose: a no-op converge is one container list (filtered by the managed label),
one image list, and one inspect per container. Creates, removals, pulls and waits only happen when needed.
The pure decisions (spec, validation, differences) live in container_spec.
"""
from __future__ import annotations

import hashlib
import os
import time

from ansible_collections.mediaops.wcs.plugins.module_utils.constants import (
    ASIDE_SUFFIX, CONF_MOUNT, DIR_MARKER, MANAGED_FILTER, MANAGED_LABEL, WCS_HTTP_PORT)
from ansible_collections.mediaops.wcs.plugins.module_utils.container_spec import (
    SECRETS, actual_container, differences, environment_for, is_image_id, labels_for, normalise_image,
    public_view)
from ansible_collections.mediaops.wcs.plugins.module_utils.docker_client import APIError, NotFound, docker
from ansible_collections.mediaops.wcs.plugins.module_utils.wcs_client import WCSEndpoint, WCSUnavailable, stream_count

LOG_TAIL = 20
# Changes the engine applies to a running container without a restart (docker update): its streams go on. The JVM
# keeps the thread pools it sized from the CPUs it saw at start, so a live cpuset change does not resize them.
LIVE_FIELDS = ("cpuset", "cpuset_mems", "memory", "restart_policy")


class EngineFailure(Exception):
    """A failure the module reports as its message (already says what and how to fix)."""


def _name(entry):
    return (entry.get("Names") or ["/"])[0].lstrip("/")


def managed_containers(client):
    """{name: list entry} of every managed WCS container on the engine (one list call)."""
    entries = client.containers(all=True, filters={"label": MANAGED_FILTER})
    return {_name(e): e for e in entries}


def local_images(client):
    """{normalised tag: image id} of the engine's images (one list call)."""
    found = {}
    for image in client.images():
        found[image["Id"]] = image["Id"]  # an image given by its ID (sha256:...)
        for tag in image.get("RepoTags") or []:
            if tag != "<none>:<none>":
                found[normalise_image(tag)] = image["Id"]
        for digest in image.get("RepoDigests") or []:
            found[normalise_image(digest)] = image["Id"]
    return found


def ensure_images(client, desired, check_mode):
    """Resolves every wanted image to a local id, pulling per the `pull` option. Returns ({name: id}, pulled)."""
    wanted = {}
    for d in desired:
        if d["spec"] is not None:
            wanted.setdefault(d["spec"]["image"], set()).add(d["pull"])
    if not wanted:
        return {}, []
    have = local_images(client)
    pulled = []
    for image, modes in sorted(wanted.items()):
        if is_image_id(image):  # an ID is never pulled: it names what is on this engine
            if image not in have:
                raise EngineFailure("image: %s is not an image ID on this engine. Fix: give the full ID of a local "
                                    "image (docker image ls --no-trunc) or a name:tag." % image)
            continue
        if "always" in modes or ("missing" in modes and image not in have):
            if check_mode:
                pulled.append(image)
                continue
            if "@" in image:
                repo, tag = image, None
            else:
                repo, tag = image.rsplit(":", 1)
            try:
                client.pull(repo, tag=tag or None)
                have[image] = client.inspect_image(image)["Id"]
            except APIError as exc:
                raise EngineFailure("image: pulling %s failed: %s. Fix: check the name and the registry, or "
                                    "load the image on the engine and use pull=never."
                                    % (image, getattr(exc, "explanation", exc)))
            pulled.append(image)
        elif image not in have:
            users = sorted(d["name"] for d in desired if d["spec"] and d["spec"]["image"] == image)
            raise EngineFailure("image: %s is not on the engine and pull=never (containers %s). Fix: load the "
                                "image (docker load / docker import) or set pull=missing."
                                % (image, ", ".join(users)))
    return have, pulled


def _host_config(client, d):
    spec = d["spec"]
    kwargs = dict(
        restart_policy={"Name": spec["restart_policy"]} if spec["restart_policy"] != "no" else None,
        network_mode=spec["network"] or None,
    )
    if spec["cpuset"]:
        kwargs["cpuset_cpus"] = spec["cpuset"]
    if spec["cpuset_mems"]:
        kwargs["cpuset_mems"] = spec["cpuset_mems"]
    if spec["memory"]:
        kwargs["mem_limit"] = spec["memory"]
    if spec["ulimits"]:
        kwargs["ulimits"] = [docker.types.Ulimit(name=u["name"], soft=u["soft"], hard=u["hard"])
                             for u in spec["ulimits"]]
    if spec["conf_dir"]:
        # checked by container_spec.check_conf_dir already; here again where it becomes "<source>:/conf:ro", so that
        # nothing else ever reaches the bind specification
        if ":" in spec["conf_dir"] or not spec["conf_dir"].startswith("/") or ".." in spec["conf_dir"].split("/"):
            raise EngineFailure("%s: conf_dir %r cannot be a bind source (':' or '..' or not absolute). Fix: give an "
                                "absolute directory without ':' and '..'" % (d["name"], spec["conf_dir"]))
        kwargs["binds"] = {spec["conf_dir"]: {"bind": CONF_MOUNT, "mode": "ro"}}
    return client.create_host_config(**{k: v for k, v in kwargs.items() if v is not None})


def create(client, d):
    spec = d["spec"]
    networking = None
    if spec["network"]:
        endpoint = client.create_endpoint_config(ipv4_address=spec["ipv4_address"]) if spec["ipv4_address"] \
            else client.create_endpoint_config()
        networking = client.create_networking_config({spec["network"]: endpoint})
    try:
        created = client.create_container(
            spec["image"], name=d["name"], environment=environment_for(d), labels=labels_for(d),
            host_config=_host_config(client, d), networking_config=networking, detach=True)
    except APIError as exc:
        raise EngineFailure("%s: the engine refused to create it: %s" % (d["name"], _explain(exc)))
    return created["Id"]


def _explain(exc):
    return str(getattr(exc, "explanation", None) or exc)


def start(client, d, cid):
    try:
        client.start(cid)
    except APIError as exc:
        text = _explain(exc)
        if "rlimit" in text:
            raise EngineFailure(
                "%s: ulimits %s could not be applied (%s). Fix: keep each hard limit at or below the Docker "
                "daemon's own (see 'Max open files' in /proc/$(pidof dockerd)/limits; 20000 on some hosts)."
                % (d["name"], d["spec"]["ulimits"], text))
        raise EngineFailure("%s: the engine could not start it: %s" % (d["name"], text))


def remove(client, name, cid):
    try:
        client.remove_container(cid, force=True)
    except NotFound:
        pass
    except APIError as exc:
        raise EngineFailure("%s: the engine could not remove it: %s" % (name, _explain(exc)))


def logs_tail(client, cid, lines=LOG_TAIL):
    try:
        return client.logs(cid, stdout=True, stderr=True, tail=lines).decode("utf-8", "replace").rstrip()
    except APIError as exc:
        return "(no logs: %s)" % _explain(exc)


def wait_until_up(client, name, cid, timeout, port=WCS_HTTP_PORT):
    """Polls the statistics page from inside the container's namespace until it answers 200.
    Fails with the log tail when the container exits (or restarts) meanwhile or time runs out."""
    deadline = time.monotonic() + timeout
    last = "not asked yet"
    restarts = None
    while True:
        info = client.inspect_container(cid)
        state = info.get("State") or {}
        if restarts is None:
            restarts = info.get("RestartCount", 0)
        if not state.get("Running") or state.get("Restarting") or info.get("RestartCount", 0) != restarts:
            raise EngineFailure("%s exited while waiting for its statistics page (status %s, exit code %s). "
                                "Last log lines:\n%s"
                                % (name, state.get("Status"), state.get("ExitCode"), logs_tail(client, cid)))
        try:
            WCSEndpoint(port=port, pid=state.get("Pid"), timeout=2).stat_text()
            return
        except WCSUnavailable as exc:
            last = str(exc)
        if time.monotonic() >= deadline:
            raise EngineFailure("%s: the statistics page on %d did not answer within wait_timeout=%ss (last: %s). "
                                "Fix: check the container's configuration, or raise wait_timeout. Last log "
                                "lines:\n%s" % (name, port, timeout, last, logs_tail(client, cid)))
        time.sleep(0.5)


def conf_files_hash(conf_dir):
    """sha256 over the names and bytes of the regular files directly in ``conf_dir`` (what the container reads at
    start); None when it is not a directory here. The collection's directory marker is not read by the container
    and is left out (marking a directory never restarts its container)."""
    if not os.path.isdir(conf_dir):
        return None
    digest = hashlib.sha256()
    for name in sorted(os.listdir(conf_dir)):
        if name == DIR_MARKER:
            continue
        path = os.path.join(conf_dir, name)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as handle:
                digest.update(name.encode("utf-8", "surrogateescape") + b"\0" + handle.read() + b"\0")
    return digest.hexdigest()


def add_conf_hashes(desired):
    """Local engine: each container's conf dir hash (see conf_files_hash), for the label and the comparison."""
    for d in desired:
        if d["spec"] and d["spec"]["conf_dir"]:
            d["conf_hash"] = conf_files_hash(d["spec"]["conf_dir"])


def conf_dir_problems(desired):
    """Local engine: a conf_dir that is not a directory here would be created empty by Docker."""
    for i, d in enumerate(desired):
        spec = d["spec"]
        if spec and spec["conf_dir"] and not os.path.isdir(spec["conf_dir"]):
            return ("containers[%d].conf_dir: %r is not a directory on the Docker host (Docker would mount an "
                    "empty one). Fix: render the property files there first (mediaops.wcs.wcs_properties)."
                    % (i, spec["conf_dir"]))
    return None


def plan(client, desired, managed, images, purge, leftovers=None):
    """Decides every action (no change yet). Returns a list of step dicts in the input order, then purges.

    ``leftovers`` ({base name: entry}, from leftovers_of) are containers an interrupted replacement left aside:
    removed when their successor exists, else the run stops and says how to put them back."""
    steps = []
    for base, entry in sorted((leftovers or {}).items()):
        if base not in managed:
            raise EngineFailure("containers: %s is a container an interrupted replacement put aside, and %s does not "
                                "exist. Fix: put it back (docker rename %s %s; docker start %s) or remove it, then "
                                "run again." % (aside_name(base), base, aside_name(base), base, base))
        steps.append({"desired": None, "name": aside_name(base), "id": entry["Id"], "inspect": None, "changes": [],
                      "action": "removed", "running": entry.get("State") == "running"})
    for d in desired:
        entry = managed.get(d["name"])
        step = {"desired": d, "name": d["name"], "id": entry["Id"] if entry else None, "inspect": None,
                "changes": [], "action": "unchanged"}
        if entry:
            step["inspect"] = client.inspect_container(entry["Id"])
        elif d["state"] != "absent":
            try:
                other = client.inspect_container(d["name"])
            except NotFound:
                other = None
            if other is not None:
                raise EngineFailure("containers: %s exists but is not managed by mediaops.wcs (no %s label). "
                                    "Fix: remove or rename it, or pick another name." % (d["name"], MANAGED_LABEL))
        inspect = step["inspect"]
        if d["state"] == "absent":
            step["action"] = "removed" if inspect else "unchanged"
            step["running"] = bool(((inspect or {}).get("State") or {}).get("Running"))
        elif inspect is None:
            step["action"] = "created"
            step["changes"] = ["container"]
        else:
            step["changes"] = differences(d, inspect, images.get(d["spec"]["image"]))
            running = (inspect.get("State") or {}).get("Running", False)
            if step["changes"] and running and d["state"] == "started" and live_only(step["changes"], d["spec"]):
                step["live"] = list(step["changes"])
                step["action"] = "restarted" if d["restart"] else "updated"
            elif step["changes"]:
                step["action"] = "recreated"
            elif d["state"] == "started" and not running:
                step["action"] = "started"
            elif d["state"] == "started" and d["restart"]:
                step["action"] = "restarted"
            elif d["state"] == "stopped" and running:
                step["action"] = "stopped"
        steps.append(step)
    if purge:
        wanted = {d["name"] for d in desired}
        for name, entry in sorted(managed.items()):
            if name not in wanted:
                steps.append({"desired": None, "name": name, "id": entry["Id"], "inspect": None, "changes": [],
                              "action": "removed", "running": entry.get("State") == "running"})
    return steps


def live_only(changes, spec):
    """Whether every change is one the engine applies live (and to a value it can set: not back to unlimited)."""
    return all(field in LIVE_FIELDS and spec.get(field) for field in changes)


def update_live(client, step):
    """Applies cpuset, cpuset_mems, memory and restart policy changes to the running container (no restart)."""
    spec = step["desired"]["spec"]
    kwargs = {}
    if "cpuset" in step["live"]:
        kwargs["cpuset_cpus"] = spec["cpuset"]
    if "cpuset_mems" in step["live"]:
        kwargs["cpuset_mems"] = spec["cpuset_mems"]
    if "memory" in step["live"]:
        # swap as the engine sets it at create (twice the limit), in the same call: a limit above the old swap
        # limit is refused otherwise
        kwargs["mem_limit"], kwargs["memswap_limit"] = spec["memory"], 2 * spec["memory"]
    if "restart_policy" in step["live"]:
        kwargs["restart_policy"] = {"Name": spec["restart_policy"]}
    try:
        client.update_container(step["id"], **kwargs)
    except APIError as exc:
        fields = ", ".join(step["live"])
        raise EngineFailure("%s: the engine refused to update %s live: %s. Fix: set the old value back, or remove "
                            "the container so that it is created anew" % (step["name"], fields, _explain(exc)))


def live_streams(inspect, port=WCS_HTTP_PORT):
    """The running container's stream count from its statistics page (asked inside its namespace); None when it
    does not answer."""
    state = inspect.get("State") or {}
    if not state.get("Running") or not state.get("Pid"):
        return None
    try:
        return stream_count(WCSEndpoint(port=port, pid=state["Pid"], timeout=3).stats()[0])
    except WCSUnavailable:
        return None


def others_cpusets(client, managed, listed):
    """{name: cpuset} of the engine's managed containers outside the set, as the engine has them now (a live
    update changes the cpuset but cannot change the label recorded at create)."""
    found = {}
    for name, entry in managed.items():
        if name in listed:
            continue
        try:
            found[name] = (client.inspect_container(entry["Id"]).get("HostConfig") or {}).get("CpusetCpus") or ""
        except NotFound:
            continue
    return found


def aside_name(name):
    """Where the running container waits while its replacement starts."""
    return name + ASIDE_SUFFIX


def leftovers_of(managed):
    """Pops the containers an interrupted replacement left aside out of ``managed``: {base name: entry}."""
    aside = {n[:-len(ASIDE_SUFFIX)]: managed.pop(n) for n in list(managed) if n.endswith(ASIDE_SUFFIX)}
    return aside


def _rename(client, cid, name):
    try:
        client.rename(cid, name)
    except APIError as exc:
        raise EngineFailure("could not rename container %s to %s: %s" % (cid[:12], name, _explain(exc)))


def replace(client, step, wait_timeout):
    """Recreates one container without ever being left with none: the running one is renamed aside and stopped
    (its static address is freed), the new one is created, started and (when asked) waited for under the real
    name, then the old one is removed. On any failure the new one is removed and the old one renamed back and
    started again; the error says so."""
    d, name, old = step["desired"], step["name"], step["id"]
    was_running = ((step["inspect"] or {}).get("State") or {}).get("Running", False)
    _rename(client, old, aside_name(name))
    new = None
    try:
        if was_running:
            client.stop(old, timeout=10)
        new = step["id"] = create(client, d)
        if d["state"] == "started":
            start(client, d, new)
            if d["wait"]:
                wait_until_up(client, name, new, wait_timeout)
    except (EngineFailure, APIError) as exc:
        why = str(exc) if isinstance(exc, EngineFailure) else _explain(exc)
        raise EngineFailure("%s. %s" % (why.rstrip("."), _put_back(client, name, old, new, was_running)))
    remove(client, aside_name(name), old)


def _put_back(client, name, old, new, was_running):
    """Undoes a failed replacement; returns the sentence saying how that went."""
    try:
        if new is not None:
            client.remove_container(new, force=True)
        client.rename(old, name)
        if was_running:
            client.start(old)
    except APIError as exc:
        return ("Putting the previous container back FAILED (%s): it is %s, stopped. Fix: docker rename %s %s; "
                "docker start %s" % (_explain(exc), aside_name(name), aside_name(name), name, name))
    return ("The previous container %s was put back%s; nothing else changed for it."
            % (name, " and runs again" if was_running else ""))


def execute(client, steps, wait_timeout=120):
    """Applies the plan so that no container is lost to a step that fails.

    1. Containers to remove (purge, state=absent, leftovers put aside) are only stopped: their names stay and their
       static addresses are freed for the containers that may take them.
    2. Creates and replacements (see replace: the running container is put aside until its successor runs) in
       order, then state changes.
    3. Only then are the containers of 1 removed.

    When 2 fails and 1 stopped anything, the containers this run created are removed again and those of 1 started
    again; the error says so. Waits of new, started and restarted containers happen in wait_for()."""
    removals = [step for step in steps if step["action"] == "removed"]
    stopped, created = [], []
    try:
        for step in removals:
            if step.get("running"):
                _stop(client, step)
                stopped.append(step)
        for step in steps:
            d = step["desired"]
            if step["action"] == "recreated":
                replace(client, step, wait_timeout)
                step["waited"] = True
            elif step["action"] == "created":
                step["id"] = create(client, d)
                created.append(step)
                if d["state"] == "started":
                    start(client, d, step["id"])
            elif step["action"] == "started":
                start(client, d, step["id"])
            if step.get("live"):
                update_live(client, step)
            if step["action"] == "restarted":
                try:
                    client.restart(step["id"], timeout=10)
                except APIError as exc:
                    raise EngineFailure("%s: restart failed: %s" % (step["name"], _explain(exc)))
            elif step["action"] == "stopped":
                _stop(client, step)
    except (EngineFailure, APIError) as exc:
        why = str(exc) if isinstance(exc, EngineFailure) else _explain(exc)
        if not removals:
            raise
        raise EngineFailure("%s. %s" % (why.rstrip("."), _restore_removals(client, removals, stopped, created)))
    for step in removals:
        remove(client, step["name"], step["id"])


def _stop(client, step):
    try:
        client.stop(step["id"], timeout=10)
    except APIError as exc:
        raise EngineFailure("%s: stop failed: %s" % (step["name"], _explain(exc)))


def _restore_removals(client, removals, stopped, created):
    """After a failed run that was to remove containers: removes the containers it created, starts again those it
    stopped; returns the sentence saying how that went."""
    problems = []
    for step in created:
        try:
            client.remove_container(step["id"], force=True)
        except NotFound:
            pass
        except APIError as exc:
            problems.append("removing new container %s failed (%s)" % (step["name"], _explain(exc)))
    for step in stopped:
        try:
            client.start(step["id"])
        except APIError as exc:
            problems.append("starting %s again failed (%s; Fix: docker start %s)"
                            % (step["name"], _explain(exc), step["name"]))
    names = ", ".join(step["name"] for step in removals)
    if problems:
        return "Nothing was removed (kept: %s), but putting things back FAILED: %s" % (names, "; ".join(problems))
    return "Nothing was removed; kept: %s%s%s." % (
        names, " (the running ones run again)" if stopped else "",
        "; the containers this run created (%s) were removed again" % ", ".join(s["name"] for s in created)
        if created else "")


def wait_for(client, steps, wait_timeout):
    """Waits for every started container that asked for it and was not already waited for (replacements)."""
    for step in steps:
        d = step["desired"]
        if d and d["state"] == "started" and d["wait"] and not step.get("waited"):
            wait_until_up(client, d["name"], step["id"], wait_timeout)


def result_of(step, check_mode):
    """The per-container entry of the module's `containers` return value (no secrets)."""
    d = step["desired"]
    spec = d["spec"] if d and d["spec"] else None
    inspect = step["inspect"] or {}
    if spec is None:
        state = "absent"
    elif d["state"] == "stopped":
        state = "stopped"
    else:
        state = "running"
    return {
        "name": step["name"],
        "id": step["id"] if step["action"] not in ("removed",) or check_mode else None,
        "image": spec["image"] if spec else (inspect.get("Config") or {}).get("Image"),
        "cpuset": spec["cpuset"] if spec else None,
        "cpuset_mems": spec["cpuset_mems"] if spec else None,
        "ipv4_address": spec["ipv4_address"] if spec else None,
        "state": state,
        "action": step["action"],
        "changes": step["changes"],
        "running": bool((inspect.get("State") or {}).get("Running")),
        "streams": step.get("streams"),
    }


def diff_of(step):
    """before/after of one container for diff mode; secrets only as (changed)/(unchanged)."""
    d = step["desired"]
    inspect = step["inspect"]
    secret_changes = [c for c in step["changes"] if c in SECRETS]
    if step["action"] == "created":  # from nothing to set
        secret_changes = list(d["secrets"])
    before = {}
    if inspect:
        before = actual_container(inspect, d["spec"] if d and d["spec"] else {})
        before = public_view(before, secret_changes, [f for f in SECRETS if d and f in d["secrets"]])
        before["state"] = (inspect.get("State") or {}).get("Status")
    after = {}
    if d and d["spec"]:
        after = public_view(d["spec"], secret_changes, list(d["secrets"]))
        after["state"] = "running" if d["state"] == "started" else "exited"
    return before, after

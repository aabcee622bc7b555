# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe converge: what ``site`` does to each container of a host, and which changes go the rolling way.

Pure Python (no Ansible, no Docker). Input is the check-mode result of ``wcs_containers`` (the plan role's engine
check, with ``report_streams``: per container the action it would take, the changed fields, whether it runs now
and its live stream count; the diff's before/after) and the names whose property files changed (``wcs_config``).

A change that restarts a running container (recreate, or restart for new property files) drops its streams. So by
default those containers are left out of the host's one ``wcs_containers`` call and updated afterwards one at a
time by the rollout (drain, update, health gate), hosts in ``serial`` batches. Creating, starting, live updates
(cpuset, memory, restart policy: no restart) and unchanged containers go at once. The fast way
(``disruptive=True``, maintenance windows and first installs) updates everything at once, but a container that
carries live streams is still refused unless a drain may wait for them (``drain_timeout`` > 0: they are drained
first and refused if streams remain) or ``force`` is given.
"""
from __future__ import annotations

from ansible_collections.mediaops.wcs.plugins.module_utils.container_spec import SECRETS

DISRUPTIVE_ACTIONS = ("recreated", "restarted")
WORDS = {"created": "create", "recreated": "recreate", "restarted": "restart", "started": "start",
         "stopped": "stop", "removed": "remove", "updated": "update live", "unchanged": "nothing"}


def _restarts(entry, config_changed):
    """Whether site would restart this running container: a recreate/restart, or new property files."""
    if not entry.get("running"):
        return False
    return entry.get("action") in DISRUPTIVE_ACTIONS or (
        entry.get("name") in config_changed and entry.get("action") in ("unchanged", "updated"))


def _value(value):
    text = "-" if value in (None, "", [], {}) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def field_changes(entry, diff, config_changed):
    """``["cpuset 1-3 -> 2-3", "password (changed)", "property files"]`` for one container."""
    name = entry.get("name")
    before = (diff.get("before") or {}).get(name) or {}
    after = (diff.get("after") or {}).get(name) or {}
    out = []
    for field in entry.get("changes") or []:
        if field == "container":
            continue
        if field == "conf_files":  # files on disk newer than what the container started with
            if name not in config_changed:
                out.append("property files")
            continue
        if field in SECRETS:
            out.append("%s (changed)" % field)
        else:
            out.append("%s %s -> %s" % (field, _value(before.get(field)), _value(after.get(field))))
    if name in config_changed:
        out.append("property files")
    return out


def decide(check, config_changed=(), disruptive=False, force=False, drain_timeout=0):
    """The way of every container of one host.

    Returns ``{fast: [names], rolling: [names], drain: [names], refused: [text], rows: [dict], changes: bool}``:
    ``fast`` go in the host's one ``wcs_containers`` call, ``rolling`` afterwards through the rollout,
    ``drain`` (fast way only) are drained before that call, ``refused`` say why the fast way may not go.
    """
    config_changed = set(config_changed or ())
    diff = check.get("diff") or {}
    out = {"fast": [], "rolling": [], "drain": [], "refused": [], "rows": [], "changes": False}
    for entry in check.get("containers") or []:
        name = entry["name"]
        restarts = _restarts(entry, config_changed)
        streams = entry.get("streams")
        action = entry.get("action", "unchanged")
        if name in config_changed and action in ("unchanged", "updated"):
            # new property files or keystore: the container is created anew with them (wcs_containers sees their hash
            # change), or a stopped one just starts
            action = "recreated" if entry.get("running") else ("started" if action == "unchanged" else action)
        if not restarts:
            way = "now"
            out["fast"].append(name)
        elif not disruptive:
            way = "rolling"
            out["rolling"].append(name)
        elif not streams or force:
            way = "now (forced)" if streams else "now"
            out["fast"].append(name)
        elif int(drain_timeout or 0) > 0:
            way = "now, after draining"
            out["drain"].append(name)
            out["fast"].append(name)
        else:
            way = "refused"
            out["refused"].append("%s carries %s live stream(s)" % (name, streams))
        out["changes"] = out["changes"] or action != "unchanged"
        out["rows"].append({"name": name, "action": WORDS.get(action, action), "restart": restarts,
                            "streams": streams, "way": way,
                            "fields": field_changes(entry, diff, config_changed)})
    return out


def table(host, decision):
    """The decision as lines of text, one per container, printed before anything changes."""
    rows = decision["rows"]
    width = max([9] + [len(r["name"]) for r in rows])
    fmt = "%-" + str(width) + "s  %-11s %-7s %-7s %-20s %s"
    lines = ["%s: what site does to each container" % host,
             fmt % ("container", "action", "restart", "streams", "way", "fields")]
    for row in rows:
        lines.append(fmt % (row["name"], row["action"], "yes" if row["restart"] else "no",
                            "-" if row["streams"] is None else row["streams"], row["way"],
                            "; ".join(row["fields"]) or "-"))
    return lines

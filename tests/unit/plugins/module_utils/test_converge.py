"""Safe converge decisions (plugins/module_utils/converge.py): what site does to each container, and which way."""
from __future__ import annotations

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.converge import decide, table


def entry(name, action, running=True, streams=0, changes=()):
    return {"name": name, "action": action, "running": running, "streams": streams, "changes": list(changes)}


def check(*entries, before=None, after=None):
    return {"containers": list(entries), "diff": {"before": before or {}, "after": after or {}}}


def test_no_op_goes_at_once_and_says_nothing_changes():
    out = decide(check(entry("wcs-1", "unchanged"), entry("wcs-2", "unchanged")))
    assert out["fast"] == ["wcs-1", "wcs-2"] and out["rolling"] == [] and not out["changes"]


@pytest.mark.parametrize("action", ["recreated", "restarted"])
def test_a_running_container_that_would_restart_goes_rolling(action):
    out = decide(check(entry("wcs-1", action, streams=12), entry("wcs-2", "unchanged")))
    assert out["rolling"] == ["wcs-1"] and out["fast"] == ["wcs-2"]
    assert out["rows"][0]["way"] == "rolling" and out["rows"][0]["restart"] is True


def test_new_property_files_restart_a_running_container_the_rolling_way():
    out = decide(check(entry("wcs-1", "unchanged", streams=3)), config_changed=["wcs-1"])
    assert out["rolling"] == ["wcs-1"]
    assert out["rows"][0]["action"] == "recreate" and out["rows"][0]["fields"] == ["property files"]


@pytest.mark.parametrize("action", ["created", "started", "updated", "stopped"])
def test_what_does_not_interrupt_a_running_container_goes_now(action):
    running = action not in ("created", "started")
    out = decide(check(entry("wcs-1", action, running=running, streams=5 if running else None)))
    assert out["fast"] == ["wcs-1"] and out["rolling"] == [] and out["changes"]


def test_stopped_container_with_new_files_is_just_started():
    out = decide(check(entry("wcs-1", "started", running=False, streams=None)), config_changed=["wcs-1"])
    assert out["fast"] == ["wcs-1"] and out["rows"][0]["restart"] is False


def test_fast_way_refuses_live_streams_without_drain_or_force():
    out = decide(check(entry("wcs-1", "recreated", streams=7), entry("wcs-2", "recreated", streams=0)),
                 disruptive=True, drain_timeout=0)
    assert out["refused"] == ["wcs-1 carries 7 live stream(s)"]
    assert out["fast"] == ["wcs-2"]


def test_fast_way_drains_when_allowed_and_goes_when_forced():
    live = check(entry("wcs-1", "recreated", streams=7))
    drained = decide(live, disruptive=True, drain_timeout=30)
    assert drained["drain"] == ["wcs-1"] and drained["fast"] == ["wcs-1"] and not drained["refused"]
    forced = decide(live, disruptive=True, force=True)
    assert forced["fast"] == ["wcs-1"] and not forced["drain"] and forced["rows"][0]["way"] == "now (forced)"


def test_fields_show_before_and_after_and_secrets_only_as_changed():
    out = decide(check(entry("wcs-1", "recreated", changes=["image", "password", "memory"]),
                       before={"wcs-1": {"image": "wcs:1", "memory": 1024}},
                       after={"wcs-1": {"image": "wcs:2", "memory": 2048, "password": "(changed)"}}))
    assert out["rows"][0]["fields"] == ["image wcs:1 -> wcs:2", "password (changed)", "memory 1024 -> 2048"]
    text = "\n".join(table("media1", out))
    assert "media1: what site does" in text and "(changed)" in text and "secret" not in text.lower()


def test_table_has_a_row_per_container():
    out = decide(check(entry("wcs-1", "recreated", streams=4), entry("wcs-2", "unchanged")))
    lines = table("h", out)
    assert lines[1].split()[:5] == ["container", "action", "restart", "streams", "way"]
    assert lines[2].split()[:5] == ["wcs-1", "recreate", "yes", "4", "rolling"]
    assert lines[3].split()[:5] == ["wcs-2", "nothing", "no", "0", "now"]


def test_live_update_with_new_property_files_is_a_recreate_the_rolling_way():
    out = decide(check(entry("wcs-1", "updated", streams=2, changes=["memory"]),
                       before={"wcs-1": {"memory": 1}}, after={"wcs-1": {"memory": 2}}), config_changed=["wcs-1"])
    assert out["rolling"] == ["wcs-1"]
    assert out["rows"][0]["action"] == "recreate" and out["rows"][0]["fields"] == ["memory 1 -> 2", "property files"]

"""(b) and (c): rolling updates across the three hosts, run as an operator runs them (ansible-playbook).

Runs in file order after test_a_site.py: (b) leaves wcs-mh-2 on the old image, (c) builds on that.
"""
from __future__ import annotations

import time

import pytest

from helpers import (BROKEN_IMAGE, HOSTS, NEXT_IMAGE, TEST_IMAGE, container_name, docker, engines, host, inspect,
                     recap, run_playbook, run_playbook_watching, set_streams, stats)

DRAIN_WAITS = ("RETRYING: [%s]", "Drain, wait until its streams end - %s-1")  # while that drain waits

VERSIONS = {TEST_IMAGE: "1.0.0", NEXT_IMAGE: "1.1.0"}


def assert_runs(name, image):
    """The host's container runs the image and its stat page says so (asked inside its namespace)."""
    h = host(name)
    c = inspect(h, container_name(name))
    assert c["State"]["Running"], "%s: %s" % (name, c["State"])
    assert c["Config"]["Image"] == image, name
    s = stats(h, container_name(name))
    assert s["up"], s
    assert s["stats"]["emulator_version"] == VERSIONS[image], s["stats"]


def test_b_gate_fails_on_one_host_which_rolls_back_others_updated(tmp_path):
    # Clients: wcs-mh-1 has 2 streams that end while its drain waits; wcs-mh-3 has one that never ends (drain
    # timeout 3 s, then terminate through the REST API). wcs-mh-2's new image never serves 8081.
    set_streams(host("wcs-mh-1"), container_name("wcs-mh-1"), 2)
    set_streams(host("wcs-mh-3"), container_name("wcs-mh-3"), 1)
    override = tmp_path / "override.yml"
    override.write_text(
        "wcs_hosts:\n"
        "  vars:\n"
        "    wcs_rollout_image: %s\n"
        "  hosts:\n"
        "    wcs-mh-2:\n"
        "      wcs_rollout_image: %s\n"
        "      wcs_health_timeout: 8\n"
        "    wcs-mh-3:\n"
        "      wcs_drain_timeout: 3\n"
        "      wcs_drain_terminate: true\n" % (NEXT_IMAGE, BROKEN_IMAGE))
    started = time.monotonic()
    rc, out, fired = run_playbook_watching(
        "rolling_update", "-e", "wcs_rollout_serial=3", "-e", "wcs_rollout_max_fail_percentage=50",
        extra_inventory=override,
        on_line={(DRAIN_WAITS[0] % "wcs-mh-1", DRAIN_WAITS[1] % "wcs-mh-1"):
                 lambda: set_streams(host("wcs-mh-1"), container_name("wcs-mh-1"), 0) or time.monotonic()})
    print("rolling_update (b) took %.0fs" % (time.monotonic() - started))
    r = recap(out)
    assert rc == 2, out[-3000:]
    assert r["wcs-mh-2"]["failed"] == 1 and r["wcs-mh-2"]["rescued"] >= 1, r
    for name in ("wcs-mh-1", "wcs-mh-3"):
        assert r[name]["failed"] == 0 and r[name]["changed"] >= 1, r
    test_id = inspect(host("wcs-mh-2"), container_name("wcs-mh-2"))["Image"]  # rolled back by ID, to what ran
    assert "rolled back (wcs-mh-2-1 -> %s (%s)), answering again" % (TEST_IMAGE, test_id) in " ".join(out.split())
    assert fired, "the drain of wcs-mh-1 did not wait for its streams"
    assert "changed: [wcs-mh-3]" in out.split("Drain, end the remaining streams")[1].split("TASK")[0]
    assert_runs("wcs-mh-1", NEXT_IMAGE)
    assert_runs("wcs-mh-2", TEST_IMAGE)
    assert_runs("wcs-mh-3", NEXT_IMAGE)


def test_c_engine_stopped_mid_run_stops_at_max_fail_then_rerun_changes_only_there():
    # wcs-mh-2 is still on the old image (b). Its clients keep the drain waiting; while it waits, its engine stops.
    set_streams(host("wcs-mh-2"), container_name("wcs-mh-2"), 2)
    args = ("-e", "wcs_rollout_image=%s" % NEXT_IMAGE, "-e", "wcs_rollout_serial=1",
            "-e", "wcs_rollout_max_fail_percentage=0", "-e", "wcs_drain_timeout=120")
    rc, out, fired = run_playbook_watching(
        "rolling_update", *args, on_line={(DRAIN_WAITS[0] % "wcs-mh-2", DRAIN_WAITS[1] % "wcs-mh-2"): lambda: engines("stop", 2)})
    stopped = fired.get((DRAIN_WAITS[0] % "wcs-mh-2", DRAIN_WAITS[1] % "wcs-mh-2"))
    assert stopped is not None and stopped.returncode == 0, out[-3000:]
    r = recap(out)
    assert rc != 0, out[-3000:]
    assert r["wcs-mh-1"]["changed"] == 0 and r["wcs-mh-1"]["failed"] == 0, r
    assert r["wcs-mh-2"]["failed"] == 1, r
    # wcs-mh-3 is planned with the fleet (the first play) but its batch never starts: no task of the rollout play
    # ran for it.
    assert r["wcs-mh-3"]["changed"] == 0 and r["wcs-mh-3"]["failed"] == 0, r
    rollout_part = out.split("PLAY [Rolling update of WCS containers]", 1)[1]
    assert "[wcs-mh-3]" not in rollout_part, "the play went on after the failed batch: %s" % r
    assert_runs("wcs-mh-1", NEXT_IMAGE)
    assert_runs("wcs-mh-3", NEXT_IMAGE)

    # The engine comes back; its container restarts (unless-stopped) on the old image; the clients have left.
    started = engines("start", 2)
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not stats(host("wcs-mh-2"), container_name("wcs-mh-2"))["up"]:
        time.sleep(1)
    assert_runs("wcs-mh-2", TEST_IMAGE)
    set_streams(host("wcs-mh-2"), container_name("wcs-mh-2"), 0)

    rc, out = run_playbook("rolling_update", *args)
    r = recap(out)
    assert rc == 0, out[-3000:]
    assert {n: r[n]["changed"] > 0 for n in HOSTS} == {"wcs-mh-1": False, "wcs-mh-2": True, "wcs-mh-3": False}, r
    for name in HOSTS:
        assert_runs(name, NEXT_IMAGE)


def test_d_tag_moved_to_a_broken_build_rolls_back_to_the_build_that_ran():
    """A tag (think :latest) re-pointed to a broken build: the rollout fails its gate and rolls back by image ID to
    the build that ran, not to the tag (which now names the broken build)."""
    h, cname = host("wcs-mh-1"), container_name("wcs-mh-1")
    moving = "mediaops/wcs-emulator:moving"
    assert docker(h, "tag", NEXT_IMAGE, moving).rc == 0
    args = ("--limit", "wcs-mh-1", "-e", "wcs_drain_timeout=0", "-e", "wcs_health_timeout=8")
    try:
        rc, out = run_playbook("rolling_update", "-e", "wcs_rollout_image=%s" % moving, *args)
        assert rc == 0, out[-3000:]
        ran = inspect(h, cname)
        assert ran["Config"]["Image"] == moving and stats(h, cname)["stats"]["emulator_version"] == "1.1.0"

        assert docker(h, "tag", BROKEN_IMAGE, moving).rc == 0  # the tag moves to a broken build
        rc, out = run_playbook("rolling_update", "-e", "wcs_rollout_image=%s" % moving, *args)
        assert rc == 2, out[-3000:]
        flat = " ".join(out.split())
        assert "rolled back (%s -> %s (%s)), answering again" % (cname, moving, ran["Image"]) in flat, out[-3000:]
        now = inspect(h, cname)
        assert now["State"]["Running"] and now["Image"] == ran["Image"]
        s = stats(h, cname)
        assert s["up"] and s["stats"]["emulator_version"] == "1.1.0", s
        assert docker(h, "images", "-q", "mediaops-wcs/rollback").stdout.strip() == "", "a rollback tag was left"
    finally:
        rc, out = run_playbook("rolling_update", "-e", "wcs_rollout_image=%s" % NEXT_IMAGE, *args)
        docker(h, "rmi", moving)
    assert rc == 0, out[-3000:]
    assert_runs("wcs-mh-1", NEXT_IMAGE)


@pytest.mark.parametrize("name", HOSTS)
def test_nothing_lost_every_container_running(name):
    h = host(name)
    assert inspect(h, container_name(name))["State"]["Running"]

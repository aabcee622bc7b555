"""(d) A fleet-wide change through `site` goes the rolling way; the fast way refuses live streams unless forced.

Runs after test_b_rollout.py, which leaves every host on the :next image while the inventory plans :test: so a
plain `site` is a fleet-wide image change on running containers that carry streams.
"""
from __future__ import annotations

from helpers import (HOSTS, NEXT_IMAGE, TEST_IMAGE, container_name, host, inspect, recap, run_playbook,
                     run_playbook_watching, set_streams, stats)


def drain_waits(name):
    """Markers of the line printed while the rollout's drain of this host's container waits for its streams."""
    return ("RETRYING: [%s]" % name, "Drain, wait until its streams end - %s" % container_name(name))


def snapshot(name):
    c = inspect(host(name), container_name(name))
    return {"id": c["Id"], "image": c["Config"]["Image"], "running": c["State"]["Running"],
            "started": c["State"]["StartedAt"]}


def answers(name):
    return stats(host(name), container_name(name))["up"]


def test_d_site_rolls_a_fleet_wide_change_one_host_at_a_time():
    before = {name: snapshot(name) for name in HOSTS}
    assert {s["image"] for s in before.values()} == {NEXT_IMAGE}
    for name in HOSTS:
        set_streams(host(name), container_name(name), 1)

    def while_draining(name):
        """While this host's drain waits: the hosts before it are done and answer, the ones after it are untouched
        and serve; then its clients leave."""
        seen = {other: snapshot(other) for other in HOSTS}
        serving = {other: answers(other) for other in HOSTS}
        set_streams(host(name), container_name(name), 0)
        return seen, serving

    rc, out, fired = run_playbook_watching(
        "site", "-e", "wcs_rollout_serial=1", "-e", "wcs_drain_timeout=90", "-e", "wcs_drain_interval=1",
        on_line={drain_waits(name): (lambda name=name: while_draining(name)) for name in HOSTS})
    assert rc == 0, out[-4000:]
    flat = " ".join(out.split())
    for name in HOSTS:
        assert "%s recreate yes 1 rolling image %s -> %s" % (container_name(name), NEXT_IMAGE, TEST_IMAGE) in flat
    assert out.count("PLAY [Roll running containers that must restart, one at a time]") == 3, "not one batch per host"
    assert len(fired) == 3, "a drain did not wait for its streams: %s" % list(fired)
    for index, name in enumerate(HOSTS):
        seen, serving = fired[drain_waits(name)]
        assert all(serving.values()), (name, serving)
        for done in HOSTS[:index]:
            assert seen[done]["image"] == TEST_IMAGE and seen[done]["running"], (name, done, seen)
        for waiting in HOSTS[index:]:
            assert seen[waiting] == before[waiting], "%s changed before its turn (during %s's drain)" % (waiting, name)
    for name in HOSTS:
        after = snapshot(name)
        assert after["image"] == TEST_IMAGE and after["running"] and answers(name)

    rc, out = run_playbook("site")
    assert rc == 0, out[-3000:]
    assert {n: r["changed"] for n, r in recap(out).items()} == {n: 0 for n in HOSTS}, out[-3000:]
    assert "skipping: no hosts matched" in out.split("PLAY [Roll running containers", 1)[1]


def test_d_fast_way_refuses_live_streams_then_goes_when_forced():
    name = HOSTS[0]
    set_streams(host(name), container_name(name), 2)
    before = snapshot(name)
    rc, out = run_playbook("site", "--limit", name, "-e", "wcs_image=%s" % NEXT_IMAGE,
                           "-e", "wcs_disruptive_converge=true", "-e", "wcs_drain_timeout=0")
    assert rc != 0
    flat = " ".join(out.split())
    assert "%s carries 2 live stream(s)" % container_name(name) in flat and "wcs_force=true" in flat, out[-3000:]
    assert snapshot(name) == before

    rc, out = run_playbook("site", "--limit", name, "-e", "wcs_image=%s" % NEXT_IMAGE,
                           "-e", "wcs_disruptive_converge=true", "-e", "wcs_force=true")
    assert rc == 0, out[-3000:]
    assert "%s recreate yes 2 now (forced)" % container_name(name) in " ".join(out.split())
    forced = snapshot(name)
    assert forced["image"] == NEXT_IMAGE and forced["id"] != before["id"] and answers(name)

    # back to the planned image for the tests after this one (no streams: the rolling way goes straight through)
    rc, out = run_playbook("site", "--limit", name)
    assert rc == 0, out[-3000:]
    assert snapshot(name)["image"] == TEST_IMAGE

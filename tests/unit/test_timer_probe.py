"""timer_probe.py: percentiles, per-minute figures, the pacing loop on a fake clock, option checks."""
from __future__ import annotations

import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import timer_probe as tp

MS = tp.NS_PER_MS


def test_percentile_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert tp.percentile(values, 50) == 50
    assert tp.percentile(values, 99) == 99
    assert tp.percentile(values, 99.9) == 100
    assert tp.percentile(values, 0) == 1
    assert tp.percentile([7], 99.9) == 7


def test_percentile_rejects_empty_and_out_of_range():
    with pytest.raises(ValueError):
        tp.percentile([], 50)
    with pytest.raises(ValueError):
        tp.percentile([1], 101)


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=300))
def test_percentiles_are_ordered_members(values):
    s = sorted(values)
    p50, p99, p999 = (tp.percentile(s, p) for p in (50, 99, 99.9))
    assert s[0] <= p50 <= p99 <= p999 <= s[-1]
    assert p50 in values and p99 in values and p999 in values
    # at least pct % of the values are at or below the percentile
    assert sum(1 for v in s if v <= p99) >= 0.99 * len(s)


@given(st.lists(st.integers(min_value=0, max_value=200 * MS), min_size=1, max_size=400))
def test_summary_invariants(lateness):
    period = 20 * MS
    r = tp.summarize(lateness, period, work_ns=MS)
    lat = r["lateness_ms"]
    assert lat["p50"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]
    assert r["ticks"] == len(lateness)
    assert r["missed"] == sum(1 for v in lateness if v > period)
    assert sum(m["ticks"] for m in r["per_minute"]) == len(lateness)
    assert sum(m["missed"] for m in r["per_minute"]) == r["missed"]
    fractions = [f for _v, f in r["cdf"]]
    values = [v for v, _f in r["cdf"]]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert values == sorted(values) and values[-1] == lat["max"]


def test_per_minute_split_and_missed():
    period = 20 * MS
    ticks_per_minute = 3000
    lateness = [0] * ticks_per_minute + [25 * MS] * 10 + [MS] * 90  # minute 1 has 10 misses
    r = tp.summarize(lateness, period)
    assert [m["ticks"] for m in r["per_minute"]] == [3000, 100]
    assert [m["missed"] for m in r["per_minute"]] == [0, 10]
    assert r["per_minute"][1]["max_ms"] == 25.0
    assert r["missed"] == 10 and r["missed_percent"] == round(100 * 10 / 3100.0, 3)


def test_exactly_one_period_late_is_not_missed():
    r = tp.summarize([20 * MS, 20 * MS + 1], 20 * MS)
    assert r["missed"] == 1


def test_cdf_is_compact_for_long_runs():
    points = tp.cdf_points(list(range(100000)))
    assert len(points) <= 300
    assert points[0] == (0, 1e-05) and points[-1] == (99999, 1.0)


class FakeClock:
    """monotonic_ns + sleep where the test decides how late each wake-up is."""

    def __init__(self, delays):
        self.now = 1000 * MS
        self.delays = list(delays)
        self.sleeps = 0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        self.now += int(round(seconds * 1e9)) + (self.delays.pop(0) if self.delays else 0)

    def work(self, ns):
        self.now += ns


def test_pacing_loop_uses_absolute_deadlines():
    c = FakeClock([0, 3 * MS, 0, 0])
    out = tp.pacing_loop(20 * MS, MS, 4, clock=c.clock, sleep=c.sleep, work=c.work)
    # lateness does not carry over: tick 2 is on time again because deadlines are absolute
    assert list(out) == [0, 3 * MS, 0, 0]


def test_pacing_loop_counts_every_tick_of_a_stall():
    c = FakeClock([50 * MS])  # one wake-up 50 ms late covers the next two deadlines too
    out = tp.pacing_loop(20 * MS, MS, 5, clock=c.clock, sleep=c.sleep, work=c.work)
    assert list(out)[:3] == [50 * MS, 31 * MS, 12 * MS]  # no sleep while behind, no skipped ticks
    assert tp.summarize(out, 20 * MS)["missed"] == 2
    assert c.sleeps == 3


def test_pacing_loop_fills_a_preallocated_array():
    c = FakeClock([])
    buf = array.array("q", bytes(8 * 3))
    assert tp.pacing_loop(20 * MS, 0, 3, out=buf, clock=c.clock, sleep=c.sleep, work=c.work) is buf


def test_busy_work_burns_cpu_time():
    import time
    before = time.thread_time_ns()
    tp.busy_work(3 * MS)
    assert time.thread_time_ns() - before >= 3 * MS


@pytest.mark.parametrize("args, field", [((0, 1, 10), "period_ms"), ((20, 20, 10), "work_ms"),
                                         ((20, -1, 10), "work_ms"), ((20, 1, 0), "duration"),
                                         ((20, 1, 7200), "duration"), ((20, 1, 0.01), "duration")])
def test_validate_names_the_field_and_fix(args, field):
    with pytest.raises(tp.ProbeError, match="^%s: .*Fix: " % field):
        tp.validate(*args)


def test_unplaced_probe_runs_in_a_child_and_reports():
    # no container: the child runs where it is, reports method none; the parent process is untouched
    import os
    before = os.sched_getaffinity(0)
    r = tp.run_probes([{"name": "self"}], period_ms=5, work_ms=0.5, duration=0.2)["self"]
    assert r["placement"]["method"] == "none" and r["ticks"] == 40
    assert os.sched_getaffinity(0) == before


def test_affinity_method_pins_the_child_only():
    import os
    cpu = sorted(os.sched_getaffinity(0))[-1]
    before = os.sched_getaffinity(0)
    r = tp.run_probes([{"name": "a", "cpuset": str(cpu), "method": "affinity"}], 5, 0.5, 0.2)["a"]
    assert r["placement"]["method"] == "affinity" and r["placement"]["quota_applied"] is False
    assert r["placement"]["observed_end"]["affinity"] == str(cpu)
    assert os.sched_getaffinity(0) == before


def test_cgroup_method_without_a_cgroup_reports_the_error():
    r = tp.run_probes([{"name": "x", "pid": 2 ** 22 + 7, "method": "cgroup"}], 5, 0.5, 0.1)["x"]
    assert "cannot join the container's cgroup" in r["error"] and "is the container running" in r["error"]


@pytest.mark.parametrize("cpuset, quota, online, kind", [
    ("1", None, "0-1", "pinned"), ("0-1", None, "0-1", "shared"), ("0-1", 1.0, "0-1", "quota"),
    ("2-9", 4.0, "0-39", "pinned+quota"), (None, None, "0-3", "shared")])
def test_isolation_kind(cpuset, quota, online, kind):
    assert tp.isolation_kind(cpuset, quota, online) == kind


def test_probe_runs_as_a_plain_script_with_its_three_neighbours(tmp_path):
    """On a host without the collection the probe runs from a directory holding timer_probe.py, cgroups.py,
    cpusets.py and errors.py (-I -S: no site-packages, so no ansible_collections to fall back on)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    utils = Path(__file__).resolve().parents[2] / "plugins" / "module_utils"
    for name in ("timer_probe.py", "cgroups.py", "cpusets.py", "errors.py"):
        shutil.copy(utils / name, tmp_path / name)
    proc = subprocess.run([sys.executable, "-I", "-S", str(tmp_path / "timer_probe.py"), "--duration", "0.2",
                           "--method", "affinity", "--cpuset", "0", "--no-cdf"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '"cpuset": "0"' in proc.stdout
    bad = subprocess.run([sys.executable, "-I", "-S", str(tmp_path / "timer_probe.py"), "--duration", "0.2",
                          "--method", "affinity", "--cpuset", "\u0660"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "ASCII digits" in bad.stdout


def test_module_outside_cpus_uses_the_one_cpuset_syntax():
    from ansible_collections.mediaops.wcs.plugins.modules.timer_probe import outside_cpus

    assert outside_cpus("0-7", ["1-2", "", "5"]) == "0,3-4,6-7"
    assert outside_cpus("0-1", ["0-1"]) == ""

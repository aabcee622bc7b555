"""Timer probe: a pacing loop that measures how late a periodic task wakes up under a container's CPU constraints.

A WCS media thread sends an RTP packet every 20 ms (the packetisation interval) and does a little work per packet.
The probe does the same: absolute deadlines ``start + k * period`` on ``time.monotonic_ns``, sleeps until the next
one, notes how late it woke (lateness), then burns about ``work_ms`` of its own CPU time. When the loop falls behind
it does not skip ticks: every tick whose wake-up is later than one period counts as a missed deadline, as a packet
sent that late is one the receiver's jitter buffer has probably dropped.

It runs in a forked child that places itself under the container's constraints, measures, reports JSON on a pipe
and exits (so nothing remains: a process leaves its cgroups when it exits). Placement, by ``method``:

- ``cgroup``: the child writes its own pid into the container's cgroup.procs (v1: the cpu, cpuacct and cpuset
  hierarchies; v2: the unified cgroup, e.g. ``system.slice/docker-<id>.scope``), so the kernel applies the
  container's cpuset *and* CPU quota to it. Nothing is created or modified besides moving that one child.
- ``affinity``: ``sched_setaffinity`` to the container's cpuset (no quota applies; the report says so).
- ``auto``: cgroup, falling back to affinity with the reason when the cgroup cannot be joined.

Standard library only, so it runs with any host's Python: ``python3 timer_probe.py --period-ms 20 --work-ms 1
--duration 10 --cgroup-join <container-pid>``. Importable: ``run_probes([...])`` probes several targets at once.
"""
from __future__ import annotations

import argparse
import array
import gc
import json
import math
import os
import select
import signal
import sys
import time

try:
    from ansible_collections.mediaops.wcs.plugins.module_utils import cgroups, cpusets
except ImportError:  # run as a plain script next to cgroups.py, cpusets.py, errors.py (no collection on the path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import cgroups  # type: ignore[no-redef]
    import cpusets  # type: ignore[no-redef]

NS_PER_MS = 1000000
METHODS = ("auto", "cgroup", "affinity")
# The figures reported for each run and per minute.
PERCENTILES = (("p50", 50.0), ("p99", 99.0), ("p99_9", 99.9))
# How long past the probe's duration a child may take before the parent kills it.
WAIT_MARGIN_S = 10.0


class ProbeError(ValueError):
    """Bad probe input; the message names the option and the fix."""


def validate(period_ms, work_ms, duration):
    """Checks the loop's options; raises ProbeError naming the option and the fix."""
    if not period_ms or period_ms <= 0:
        raise ProbeError("period_ms: %r is wrong: must be > 0. Fix: use 20 for RTP's 20 ms packetisation interval."
                         % (period_ms,))
    if work_ms is None or work_ms < 0 or work_ms >= period_ms:
        raise ProbeError("work_ms: %r is wrong: must be >= 0 and below period_ms (%r). Fix: use about 1."
                         % (work_ms, period_ms))
    if not duration or duration <= 0 or duration > 3600:
        raise ProbeError("duration: %r is wrong: must be between 0 and 3600 seconds. Fix: use 10 to 60." % (duration,))
    if duration * 1000.0 < period_ms:
        raise ProbeError("duration: %r s is shorter than one period (%r ms). Fix: probe for at least a few periods."
                         % (duration, period_ms))


# ---- statistics (pure) -------------------------------------------------------------------------------------------

def percentile(sorted_values, pct):
    """Nearest-rank percentile of an ascending sequence: the smallest value with at least pct % at or below it."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 <= pct <= 100:
        raise ValueError("percentile %r outside 0..100" % pct)
    rank = max(1, int(math.ceil(pct / 100.0 * len(sorted_values) - 1e-9)))
    return sorted_values[rank - 1]


def cdf_points(sorted_values, max_points=300):
    """A compact CDF for plotting: ``[(value, fraction at or below)]``, denser in the tail where jitter shows.

    Ranks are taken at fixed fractions (1 % steps to 90 %, 0.1 % steps to 99 %, 0.01 % steps above), always
    including the smallest and largest value; at most ``max_points`` points.
    """
    n = len(sorted_values)
    if n == 0:
        return []
    fractions = [i / 100.0 for i in range(0, 90)]
    fractions += [0.9 + i / 1000.0 for i in range(0, 90)]
    fractions += [0.99 + i / 10000.0 for i in range(0, 101)]
    ranks = sorted({min(n, max(1, int(math.ceil(f * n - 1e-9)))) for f in fractions} | {1, n})
    if len(ranks) > max_points:
        step = len(ranks) / float(max_points)
        ranks = sorted({ranks[int(i * step)] for i in range(max_points)} | {n})
    return [(sorted_values[r - 1], r / float(n)) for r in ranks]


def summarize(lateness_ns, period_ns, work_ns=0, with_cdf=True):
    """Figures of one run from the lateness of each tick (ns, in tick order).

    ``missed`` counts ticks later than one period. ``per_minute`` splits the ticks by the minute their deadline
    falls in. Times in the result are milliseconds, rounded to the microsecond.
    """
    n = len(lateness_ns)
    if n == 0:
        raise ValueError("no ticks to summarize")
    ms = [v / float(NS_PER_MS) for v in lateness_ns]
    period_ms = period_ns / float(NS_PER_MS)
    result = {
        "ticks": n,
        "period_ms": period_ms,
        "work_ms": work_ns / float(NS_PER_MS),
        "lateness_ms": _figures(sorted(ms)),
        "missed": sum(1 for v in ms if v > period_ms),
    }
    result["missed_percent"] = round(100.0 * result["missed"] / n, 3)
    ticks_per_minute = max(1, int(60 * 1000 * NS_PER_MS // period_ns))
    per_minute = []
    for start in range(0, n, ticks_per_minute):
        chunk = ms[start:start + ticks_per_minute]
        row = {"minute": start // ticks_per_minute, "ticks": len(chunk),
               "missed": sum(1 for v in chunk if v > period_ms)}
        row.update({k + "_ms": v for k, v in _figures(sorted(chunk)).items()})
        per_minute.append(row)
    result["per_minute"] = per_minute
    if with_cdf:
        result["cdf"] = [[round(v, 4), round(f, 6)] for v, f in cdf_points(sorted(ms))]
    return result


def _figures(sorted_ms):
    out = {name: round(percentile(sorted_ms, pct), 4) for name, pct in PERCENTILES}
    out["max"] = round(sorted_ms[-1], 4)
    out["mean"] = round(sum(sorted_ms) / len(sorted_ms), 4)
    return out


# ---- the loop ----------------------------------------------------------------------------------------------------

def busy_work(work_ns, cpu_clock=time.thread_time_ns, clock=time.monotonic_ns):
    """Burns ``work_ns`` of this thread's CPU time (not wall time: being preempted must not shorten the work).

    Bounded in wall time too (50 x work, at least 1 s) so a frozen clock cannot keep it spinning.
    """
    if work_ns <= 0:
        return
    cpu_end = cpu_clock() + work_ns
    wall_end = clock() + max(50 * work_ns, 1000 * NS_PER_MS)
    while cpu_clock() < cpu_end and clock() < wall_end:
        pass


def pacing_loop(period_ns, work_ns, ticks, out=None, clock=time.monotonic_ns, sleep=time.sleep, work=busy_work):
    """Runs ``ticks`` ticks on absolute deadlines; returns the lateness of each (ns) in ``out`` (an array).

    ``out`` may be preallocated by the caller (the probe does so before joining a cgroup, so the loop allocates
    next to nothing inside the container's memory cgroup).
    """
    if out is None:
        out = array.array("q", bytes(8 * ticks))
    start = clock() + period_ns  # first deadline one period ahead: a clean start after placement
    for k in range(ticks):
        deadline = start + k * period_ns
        now = clock()
        if now < deadline:
            sleep((deadline - now) / 1e9)
            now = clock()
        out[k] = now - deadline
        work(work_ns)
    return out


# ---- placement (runs in the child) -------------------------------------------------------------------------------

def find_target(pid=None, container_id=None, root="/"):
    """The container's cgroups (resolve() dict) or the CgroupError explaining why not; read-only."""
    try:
        if pid:
            return cgroups.container_cgroups(pid, root=root), None
        if container_id:
            with open(os.path.join(root, "proc/self/mountinfo")) as f:
                return cgroups.candidate_dirs_for_id(container_id, f.read(), root=root), None
    except (cgroups.CgroupError, OSError) as exc:
        return None, str(exc)
    return None, "no container pid or id given"


def place(method, found, find_error, pid=None, cpuset=None):
    """Puts the calling process under the constraints; returns the ``placement`` report. Call only in the child."""
    placement = {"method": None, "requested": method}
    if found is not None:
        placement["cgroup_version"] = found["version"]
        placement.update(cgroups.limits(found))
    if method in ("auto", "cgroup"):
        if found is not None:
            try:
                cgroups.join(found)
                placement["method"] = "cgroup"
                placement["cgroups"] = found["dirs"]
                placement["quota_applied"] = True
                return placement
            except cgroups.CgroupError as exc:
                find_error = str(exc)
        if method == "cgroup":
            raise ProbeError("method cgroup: cannot join the container's cgroup: %s. Fix: run as root on the "
                             "container's host, or use method affinity." % find_error)
        if find_error:
            placement["fallback_reason"] = find_error
    cpu_list = cpuset or placement.get("cpuset") or (cgroups.cpus_allowed(pid) if pid else None)
    if not cpu_list:
        if method == "affinity" or pid or found is not None:
            raise ProbeError("method affinity: the container's cpuset is unknown. Fix: pass --cpuset (the "
                             "container's --cpuset-cpus) or the container's pid.")
        placement["method"] = "none"
        return placement
    os.sched_setaffinity(0, cpusets.parse_cpuset(cpu_list))
    placement["method"] = "affinity"
    placement["cpuset"] = cpu_list.strip()
    placement["quota_applied"] = False
    return placement


def isolation_kind(cpuset, quota_cpus, online):
    """``pinned`` (own CPUs, fewer than the host's), ``quota`` (CFS quota), ``pinned+quota``, or ``shared``."""
    pinned = bool(cpuset) and set(cpusets.parse_cpuset(cpuset)) < set(cpusets.parse_cpuset(online or ""))
    if pinned and quota_cpus:
        return "pinned+quota"
    return "pinned" if pinned else ("quota" if quota_cpus else "shared")


def online_cpus():
    try:
        with open("/sys/devices/system/cpu/online") as f:
            return f.read().strip()
    except OSError:
        return cpusets.format_cpuset(range(os.cpu_count() or 1))


def _observed():
    """Where the child actually ran: its affinity and cgroups, seen from inside (for checks and honesty)."""
    seen = {"affinity": cpusets.format_cpuset(os.sched_getaffinity(0))}
    try:
        with open("/proc/self/cgroup") as f:
            seen["proc_cgroup"] = [line for line in f.read().splitlines()
                                   if set(line.split(":")[1].split(",")) & set(cgroups.CPU_CONTROLLERS)
                                   or line.startswith("0::")]
        seen["cpus_allowed_list"] = cgroups.cpus_allowed(os.getpid())
    except OSError:
        pass
    return seen


def _child(write_fd, target, period_ms, work_ms, duration, with_cdf):
    """Body of the forked child: place, measure, report, exit. Never returns."""
    status = 0
    try:
        period_ns = int(period_ms * NS_PER_MS)
        work_ns = int(work_ms * NS_PER_MS)
        ticks = max(1, int(duration * 1000 * NS_PER_MS // period_ns))
        lateness = array.array("q", bytes(8 * ticks))  # allocated before joining (see pacing_loop)
        gc.disable()  # a GC pause would be the probe's jitter, not the scheduler's
        placement = place(target.get("method", "auto"), target.get("found"), target.get("find_error"),
                          pid=target.get("pid"), cpuset=target.get("cpuset"))
        placement["host_cpus"] = online_cpus()
        # judged from where the child really is now (its affinity), not from what was asked
        placement["isolation"] = isolation_kind(
            cpusets.format_cpuset(os.sched_getaffinity(0)),
            placement.get("quota_cpus") if placement.get("quota_applied") else None, placement["host_cpus"])
        placement["observed_start"] = _observed()
        pacing_loop(period_ns, work_ns, ticks, out=lateness)
        placement["observed_end"] = _observed()
        result = summarize(lateness, period_ns, work_ns, with_cdf=with_cdf)
        result["duration_s"] = duration
        result["placement"] = placement
    except Exception as exc:  # report any failure to the parent as JSON
        result = {"error": "%s: %s" % (type(exc).__name__, exc)}
        status = 1
    try:
        data = json.dumps(result).encode()
        while data:
            data = data[os.write(write_fd, data):]
    finally:
        os._exit(status)


def start_probe(target, period_ms=20, work_ms=1, duration=10, with_cdf=True):
    """Forks one probe child for ``target`` (dict: name, pid, container_id, cpuset, method); returns a handle.

    The container's cgroups are looked up here (read-only); the child joins them. The caller must ``wait_probes``.
    """
    validate(period_ms, work_ms, duration)
    target = dict(target)
    method = target.setdefault("method", "auto")
    if method not in METHODS:
        raise ProbeError("method: %r is wrong. Fix: use one of %s." % (method, ", ".join(METHODS)))
    if target.get("pid") or target.get("container_id"):
        target["found"], target["find_error"] = find_target(target.get("pid"), target.get("container_id"))
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(write_fd, target, period_ms, work_ms, duration, with_cdf)
    os.close(write_fd)
    return {"name": target.get("name") or target.get("container_id") or str(target.get("pid") or "self"),
            "pid": pid, "fd": read_fd, "buf": [], "deadline": time.monotonic() + duration + WAIT_MARGIN_S}


def wait_probes(handles):
    """Reads every child's JSON and reaps it; a child that overruns its deadline is killed (by its pid).

    Returns ``{name: result}``; a failed probe's result is ``{"error": ...}``.
    """
    open_fds = {h["fd"]: h for h in handles}
    while open_fds:
        timeout = max(0.0, min(h["deadline"] for h in open_fds.values()) - time.monotonic())
        ready, _w, _x = select.select(list(open_fds), [], [], timeout)
        if not ready:
            for fd, h in list(open_fds.items()):
                if time.monotonic() >= h["deadline"]:
                    os.kill(h["pid"], signal.SIGKILL)
                    h["timed_out"] = True
                    os.close(fd)
                    del open_fds[fd]
            continue
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                open_fds[fd]["buf"].append(chunk)
            else:
                os.close(fd)
                del open_fds[fd]
    results = {}
    for h in handles:
        _pid, status = os.waitpid(h["pid"], 0)
        if h.get("timed_out"):
            results[h["name"]] = {"error": "probe did not finish within duration + %ds; killed" % WAIT_MARGIN_S}
            continue
        try:
            results[h["name"]] = json.loads(b"".join(h["buf"]).decode() or "null")
        except ValueError:
            results[h["name"]] = None
        if not isinstance(results[h["name"]], dict):
            results[h["name"]] = {"error": "probe exited with status %s and no report" % status}
    return results


def run_probes(targets, period_ms=20, work_ms=1, duration=10, concurrent=True, with_cdf=True):
    """Probes every target (all at once when ``concurrent``, else one after the other); ``{name: result}``."""
    if concurrent:
        return wait_probes([start_probe(t, period_ms, work_ms, duration, with_cdf) for t in targets])
    results = {}
    for t in targets:
        results.update(wait_probes([start_probe(t, period_ms, work_ms, duration, with_cdf)]))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--period-ms", type=float, default=20.0, help="tick period (default 20, RTP pacing)")
    parser.add_argument("--work-ms", type=float, default=1.0, help="CPU work per tick (default 1)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to run (default 10)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--cgroup-join", type=int, metavar="PID", help="run in the cgroups of this (container) pid")
    where.add_argument("--container-id", metavar="ID", help="run in this container's cgroups (full id)")
    parser.add_argument("--cpuset", help="CPU list for the affinity method / fallback (e.g. 1-3)")
    parser.add_argument("--method", choices=METHODS, default="auto")
    parser.add_argument("--no-cdf", action="store_true", help="leave the CDF points out of the report")
    args = parser.parse_args(argv)
    target = {"pid": args.cgroup_join, "container_id": args.container_id, "cpuset": args.cpuset,
              "method": args.method, "name": "probe"}
    try:
        result = run_probes([target], args.period_ms, args.work_ms, args.duration, with_cdf=not args.no_cdf)["probe"]
    except ProbeError as exc:
        parser.error(str(exc))
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 1 if "error" in result else 0


if __name__ == "__main__":
    raise SystemExit(main())

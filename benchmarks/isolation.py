"""What CPU pinning buys a media server, measured here with real containers on the real engine.

Three configurations, one after the other in one run. In each, the probed container runs busy loops of its own
(a WCS under load) and a hog container runs busy loops beside it; the timer probe (20 ms period, 1 ms of CPU work
per tick, like RTP pacing) joins the probed container's cgroup, so it is bound by exactly its cpuset and quota:

  pinned  probed --cpuset-cpus=<last CPU>, hog --cpuset-cpus=<the other CPUs>   (disjoint sets)
  shared  no limits on either
  quota   probed --cpus=<size of its pinned set> (1 here) instead of the cpuset, its own load above that;
          hog on its own CPUs as in the pinned row (only the probed container's constraint changes)

Prints p50/p99/max lateness and missed deadlines (later than one period) per configuration and the ratios
shared/pinned and quota/pinned of p99; writes report.json and the CDF plot. Containers are named
``wcst-iso-bench-*`` and removed at the end (and at the start, if an earlier run was killed).

    source scripts/venv.sh && python benchmarks/isolation.py [--duration 20] [--plot docs/img/isolation.png]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".collections"))
sys.path.insert(0, str(ROOT / "roles" / "isolation" / "files"))

from ansible_collections.mediaops.wcs.plugins.module_utils import cpusets, timer_probe  # noqa: E402
import isolation_plot  # noqa: E402

IMAGE = "mediaops/wcs-busybox:test"
PREFIX = "wcst-iso-bench-"
BUSY = "while :; do :; done"


def busy_command(loops, cpus=None):
    """sh that runs ``loops`` busy loops and waits; PID 1 keeps the container up.

    With ``cpus``, loop i is placed on cpus[i % len(cpus)]: a loaded JVM's worker threads spread over every CPU the
    container may use. That is what a quota allows and a cpuset forbids (the load balancer alone would leave
    low-weight loops on one CPU beside a hog, and the container would never use more than its quota).
    """
    placed = ["taskset -c %d sh -c '%s'" % (cpus[i % len(cpus)], BUSY) if cpus else "sh -c '%s'" % BUSY
              for i in range(loops)]
    return ["sh", "-c", " & ".join(placed + ["sleep 3600"])]


def busy_loops_of(pid1, want, timeout=5.0):
    """The container's busy-loop processes (children of its PID 1 running ``sh -c 'while ...'``), waiting until
    all ``want`` of them run: a benchmark whose load never started would measure an idle container."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == pid1 and b"while" in cmdline:
                found.append(int(stat.parent.name))
        if len(found) >= want or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if len(found) != want:
        raise SystemExit("isolation.py: expected %d busy loops in the container, found %d" % (want, len(found)))
    return found


def configurations(online):
    probed_cpu = online[-1]
    others = cpusets.format_cpuset(c for c in online if c != probed_cpu)
    # (name, probed container's options, hog's options, CPUs the probed container's own threads spread over)
    return [
        ("pinned", {"cpuset_cpus": str(probed_cpu)}, {"cpuset_cpus": others}, [probed_cpu]),
        ("shared", {}, {}, online),
        # Only the probed container changes from the pinned row: a quota the size of its pinned set instead of the
        # cpuset. The hog keeps its own CPUs, so the probed container's threads can run on more CPUs than its quota
        # pays for (its own load is above the quota), as on a big host with spare cores: CFS throttles it.
        ("quota", {"nano_cpus": 10 ** 9}, {"cpuset_cpus": others}, online),
    ]


def remove_ours(client):
    for c in client.containers.list(all=True, filters={"name": PREFIX}):
        if c.name.startswith(PREFIX):
            c.remove(force=True)


def run_one(client, name, probed_opts, hog_opts, own_cpus, args):
    made = []
    try:
        labels = {"mediaops.wcs.test": "isolation-benchmark"}
        hog = client.containers.run(IMAGE, busy_command(args.hog_loops), name=PREFIX + name + "-hog",
                                    detach=True, network_mode="none", labels=labels, **hog_opts)
        made.append(hog)
        probed = client.containers.run(IMAGE, busy_command(args.own_loops, own_cpus), name=PREFIX + name + "-probed",
                                       detach=True, network_mode="none", labels=labels, **probed_opts)
        made.append(probed)
        hog.reload()
        probed.reload()
        busy_loops_of(hog.attrs["State"]["Pid"], args.hog_loops)
        # busybox has no nice applet: the container's own loops get their priority from here
        for pid in busy_loops_of(probed.attrs["State"]["Pid"], args.own_loops):
            if args.own_sched == "idle":
                os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
            else:
                os.setpriority(os.PRIO_PROCESS, pid, args.own_nice)
        time.sleep(1.0)  # let the loops settle on their CPUs
        target = {"name": name, "pid": probed.attrs["State"]["Pid"], "method": "cgroup"}
        return timer_probe.run_probes([target], args.period_ms, args.work_ms, args.duration)[name]
    finally:
        for c in made:
            c.remove(force=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of probing per configuration")
    parser.add_argument("--period-ms", type=float, default=20.0)
    parser.add_argument("--work-ms", type=float, default=1.0)
    parser.add_argument("--own-loops", type=int, default=2, help="busy loops inside the probed container")
    parser.add_argument("--own-sched", choices=["normal", "idle"], default="normal",
                        help="scheduling policy of the probed container's own loops (see docs/isolation.md)")
    parser.add_argument("--own-nice", type=int, default=0, help="nice level of the own loops with --own-sched normal")
    parser.add_argument("--hog-loops", type=int, default=4, help="busy loops in the hog container")
    parser.add_argument("--out-dir", default=None, help="default reports/isolation-benchmark-<timestamp>/")
    parser.add_argument("--plot", default=None, help="also write the plot here (e.g. docs/img/isolation.png)")
    args = parser.parse_args()

    online = cpusets.parse_cpuset(Path("/sys/devices/system/cpu/online").read_text())
    if len(online) < 2:
        sys.exit("isolation.py: needs at least 2 online CPUs to pin two containers apart (found %d)" % len(online))
    subprocess.run([str(ROOT / "benchmarks" / "isolation_image.sh")], check=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out_dir or ROOT / "reports" / ("isolation-benchmark-" + stamp))
    out_dir.mkdir(parents=True, exist_ok=True)

    client = docker.from_env(timeout=60)
    remove_ours(client)
    results = {}
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    try:
        for name, probed_opts, hog_opts, own_cpus in configurations(online):
            print("isolation: %-6s probing %g s (probed %s, hog %s) ..." % (
                name, args.duration, probed_opts or "no limits", hog_opts or "no limits"), flush=True)
            results[name] = run_one(client, name, probed_opts, hog_opts, own_cpus, args)
            if "error" in results[name]:
                sys.exit("isolation.py: %s failed: %s" % (name, results[name]["error"]))
    finally:
        remove_ours(client)

    print()
    print("%-7s %-9s %9s %9s %9s %9s %8s" % ("config", "placed", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "missed"))
    for name, r in results.items():
        lat = r["lateness_ms"]
        print("%-7s %-9s %9.3f %9.3f %9.3f %9.3f %8s" % (
            name, r["placement"]["isolation"], lat["p50"], lat["p99"], lat["p99_9"], lat["max"],
            "%d/%d" % (r["missed"], r["ticks"])))
    pinned = max(results["pinned"]["lateness_ms"]["p99"], 0.001)
    ratios = {
        "shared/pinned": results["shared"]["lateness_ms"]["p99"] / pinned,
        "quota/pinned": results["quota"]["lateness_ms"]["p99"] / pinned,
    }
    print()
    for k, v in ratios.items():
        print("p99 %-14s %8.1fx" % (k, v))

    report = {
        "title": "Timer lateness: pinned vs shared vs quota (%g ms period, %g ms work, %g s each)"
                 % (args.period_ms, args.work_ms, args.duration),
        "created": stamp,
        "settings": {"period_ms": args.period_ms, "work_ms": args.work_ms, "duration": args.duration,
                     "own_loops": args.own_loops, "hog_loops": args.hog_loops, "online_cpus": online,
                     "kernel": os.uname().release, "loadavg_before": load_before,
                     "loadavg_after": Path("/proc/loadavg").read_text().split()[:3]},
        "ratios_p99": ratios,
        "hosts": {os.uname().nodename: results},
    }
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True))
    isolation_plot.plot(report, str(out_dir / "lateness.png"))
    if args.plot:
        isolation_plot.plot(report, args.plot)
    extra_plot = "\n        " + args.plot if args.plot else ""
    print("\nreport: %s\nplot:   %s%s" % (out_dir / "report.json", out_dir / "lateness.png", extra_plot))
    load_after = " ".join(report["settings"]["loadavg_after"])
    print("load average before/after: %s / %s" % (" ".join(load_before), load_after))


if __name__ == "__main__":
    main()

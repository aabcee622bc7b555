"""What CPU pinning and host tuning buy a media server, measured here with real containers on the real engine.

A sweep: the probed container's own demand at 0, 50, 90 and 200% of its CPUs (duty-cycled loops running in its
cgroup, like a WCS's own threads), under five configurations, one run each:

  pinned             probed --cpuset-cpus=<last CPU>, a hog container on the other CPUs (--cpuset-cpus)
  shared             no limits on either
  quota              probed --cpus=<size of its pinned set> instead of the cpuset, hog on its own CPUs
  pinned+host        probed pinned, no hog container: host-daemon noise instead (busy processes started on the
                     host unpinned, as a daemon's worker would be)
  pinned+host+tuned  the same after mediaops.wcs host tuning (module_utils/host_tuning: IRQs, default IRQ affinity,
                     workqueues, and the host tasks moved off the WCS CPU), reverted right after the probe

The timer probe (20 ms period, 1 ms of CPU work per tick, like RTP pacing) joins the probed container's cgroup, so
its cpuset and quota apply. Prints p99 lateness per configuration and demand, the ratios shared/pinned (and
quota/pinned, host/tuned) at each demand, and the demand each run really achieved; writes report.json and a plot
of p99 lateness against own demand (one line per configuration). Containers are ``wcst-iso-bench-*``, removed at
the end (and at the start, if an earlier run was killed); noise processes are ours, killed by pid.

    source scripts/venv.sh && python benchmarks/isolation.py [--duration 20] [--plot docs/img/isolation-sweep.png]
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.mediaops.wcs.plugins.module_utils import cgroups, cpusets, host_tuning, timer_probe  # noqa: E402

IMAGE = "mediaops/wcs-busybox:test"
PREFIX = "wcst-iso-bench-"
BUSY = "while :; do :; done"
CONFIGS = ("pinned", "shared", "quota", "pinned+host", "pinned+host+tuned")
STYLES = {"pinned": ("-", "o"), "shared": ("--", "s"), "quota": (":", "^"), "pinned+host": ("-.", "v"),
          "pinned+host+tuned": ("-", "D")}


def hog_command(loops):
    return ["sh", "-c", " & ".join(["sh -c '%s'" % BUSY] * loops + ["sleep 3600"])]


def duty_loop(duty, period_s, deadline):
    """Busy for ``duty`` of every ``period_s``, sleeping the rest (a thread with bursts of work)."""
    busy = duty * period_s
    start = time.monotonic()
    while start < deadline:
        while time.monotonic() < start + busy:
            pass
        start += period_s
        pause = start - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            start = time.monotonic()  # overran (descheduled): start the next burst now, do not pile up


def start_own_load(pid1, demand_pct, ncpus, burst_ms, deadline, spread_cpus=None):
    """Forks the container's own load into its cgroup: ``demand_pct`` of ``ncpus`` CPUs as duty-cycled loops.

    200% of 1 CPU is 2 loops at 100%, 90% is one loop busy 90% of each burst period. ``spread_cpus``: loop i is
    given CPU spread_cpus[i % n] as affinity (a loaded JVM's threads spread over every CPU the container may use:
    what a quota allows and a cpuset forbids).
    """
    total = demand_pct / 100.0 * ncpus
    loops = int(math.ceil(total - 1e-9)) if total > 0 else 0
    found = cgroups.container_cgroups(pid1)
    pids = []
    for i in range(loops):
        duty = min(1.0, total / loops)
        pid = os.fork()
        if pid == 0:  # child: join the container's cgroups, then load
            try:
                cgroups.join(found)
                if spread_cpus:
                    os.sched_setaffinity(0, {spread_cpus[i % len(spread_cpus)]})
                duty_loop(duty, burst_ms / 1000.0, deadline)
            finally:
                os._exit(0)
        pids.append(pid)
    return pids


def cpu_seconds(pid):
    try:
        fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def remove_ours(client):
    for c in client.containers.list(all=True, filters={"name": PREFIX}):
        if c.name.startswith(PREFIX):
            c.remove(force=True)


class Tuned:
    """host_tuning applied for the run (WCS = the probed CPU, housekeeping = the others), reverted on exit."""

    def __init__(self, wcs, house, probed_id, noise_pids):
        self.wcs, self.house, self.probed_id, self.noise_pids = wcs, house, probed_id, noise_pids
        self.record = None

    def __enter__(self):
        state = host_tuning.audit("/", self.wcs, self.house, container_ids=[self.probed_id],
                                  pids=set(self.noise_pids), sysctl_keys=[])
        changes = host_tuning.plan_changes(state, self.wcs, self.house, {"sysctls": {}})
        self.record = host_tuning.new_record(self.wcs, self.house)
        host_tuning.remember("/", self.record, changes["steps"])
        self.done = host_tuning.apply_steps("/", changes, self.record)
        after = host_tuning.audit("/", self.wcs, self.house, container_ids=[self.probed_id],
                                  pids=set(self.noise_pids), record=self.record, sysctl_keys=[])
        self.issues = after["issues"]
        return self

    def __exit__(self, *exc):
        failed = host_tuning.revert("/", self.record)["failed"]
        if failed:
            print("isolation.py: WARNING, could not restore %s" % failed, file=sys.stderr)


def run_one(client, config, demand, online, args):
    probed_cpu = online[-1]
    others = [c for c in online if c != probed_cpu]
    labels = {"mediaops.wcs.test": "isolation-benchmark"}
    probed_opts, spread = {"cpuset_cpus": str(probed_cpu)}, None
    hog_opts = {"cpuset_cpus": cpusets.format_cpuset(others)}
    if config == "shared":
        probed_opts, hog_opts, spread = {}, {}, online
    elif config == "quota":
        probed_opts, spread = {"nano_cpus": 10 ** 9}, online
    made, own, noise = [], [], []
    tuned = None
    try:
        if not config.startswith("pinned+host"):
            hog = client.containers.run(IMAGE, hog_command(args.noise_loops), name=PREFIX + "hog", detach=True,
                                        network_mode="none", labels=labels, **hog_opts)
            made.append(hog)
        probed = client.containers.run(IMAGE, ["sleep", "3600"], name=PREFIX + "probed", detach=True,
                                       network_mode="none", labels=labels, **probed_opts)
        made.append(probed)
        probed.reload()
        pid1 = probed.attrs["State"]["Pid"]
        if config.startswith("pinned+host"):
            # a host daemon's busy workers: started on the host without any affinity of ours
            noise = [subprocess.Popen(["sh", "-c", BUSY], start_new_session=True).pid
                     for _loop in range(args.noise_loops)]
        if config == "pinned+host+tuned":
            tuned = Tuned([probed_cpu], others, probed.id, noise).__enter__()
        deadline = time.monotonic() + args.duration + 15
        own = start_own_load(pid1, demand, 1, args.burst_ms, deadline, spread)
        time.sleep(1.0)  # let the loops settle on their CPUs
        cpu_before = sum(cpu_seconds(p) for p in own)
        started = time.monotonic()
        result = timer_probe.run_probes([{"name": config, "pid": pid1, "method": "cgroup"}],
                                        args.period_ms, args.work_ms, args.duration, with_cdf=False)[config]
        elapsed = time.monotonic() - started
        result["own_demand_achieved_pct"] = round(100.0 * (sum(cpu_seconds(p) for p in own) - cpu_before)
                                                  / elapsed, 1)
        result["noise_allowed"] = sorted({cgroups.cpus_allowed(p) or "" for p in noise})
        if tuned:
            result["tuning_issues_after"] = tuned.issues
        return result
    finally:
        stop(own)
        if tuned:
            tuned.__exit__(None, None, None)
        for pid in noise:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        for c in made:
            c.remove(force=True)


def plot(report, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401  (the formatter below)

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    demands = report["settings"]["demands"]
    for config in sorted(report["p99_ms"], key=lambda c: CONFIGS.index(c) if c in CONFIGS else len(CONFIGS)):
        by_demand = report["p99_ms"][config]
        style, marker = STYLES.get(config, ("-", "o"))
        ys = [max(by_demand[str(d)], 0.01) for d in demands]
        ax.plot(demands, ys, linestyle=style, marker=marker, linewidth=1.8, label=config)
    ax.axhline(report["settings"]["period_ms"], color="grey", linestyle=(0, (4, 4)), linewidth=1)
    ax.text(demands[0], report["settings"]["period_ms"] * 1.1, "one period: later is a missed deadline",
            color="grey", fontsize=8)
    ax.set_yscale("log")
    plain = matplotlib.ticker.FuncFormatter(lambda v, _pos: "%g" % v)
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_xticks(demands)
    ax.set_xlabel("probed container's own demand (%% of its CPUs, %g ms bursts)" % report["settings"]["burst_ms"])
    ax.set_ylabel("p99 timer lateness (ms, log scale)")
    ax.set_title(report["title"], fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of probing per run")
    parser.add_argument("--demands", default="0,50,90,200", help="own demand of the probed container, %% of its CPUs")
    parser.add_argument("--burst-ms", type=float, default=10.0, help="period of the own loops' duty cycle")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="subset of %s" % ",".join(CONFIGS))
    parser.add_argument("--period-ms", type=float, default=20.0)
    parser.add_argument("--work-ms", type=float, default=1.0)
    parser.add_argument("--noise-loops", type=int, default=4, help="busy loops of the hog / the host-daemon noise")
    parser.add_argument("--out-dir", default=None, help="default reports/isolation-benchmark-<timestamp>/")
    parser.add_argument("--plot", default=None, help="also write the plot here (e.g. docs/img/isolation-sweep.png)")
    args = parser.parse_args()
    demands = [int(d) for d in args.demands.split(",")]
    configs = [c for c in args.configs.split(",") if c]
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        sys.exit("isolation.py: unknown configuration(s) %s; choose from %s" % (sorted(unknown), ", ".join(CONFIGS)))
    if os.geteuid() != 0:
        sys.exit("isolation.py: needs root (joining cgroups, IRQ affinities for the tuned runs)")

    online = cpusets.parse_cpuset(Path("/sys/devices/system/cpu/online").read_text())
    if len(online) < 2:
        sys.exit("isolation.py: needs at least 2 online CPUs to pin two containers apart (found %d)" % len(online))
    subprocess.run([str(ROOT / "benchmarks" / "isolation_image.sh")], check=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out_dir or ROOT / "reports" / ("isolation-benchmark-" + stamp))
    out_dir.mkdir(parents=True, exist_ok=True)

    client = docker.from_env(timeout=60)
    remove_ours(client)
    results = {c: {} for c in configs}
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    try:
        for demand in demands:
            for config in configs:
                print("isolation: %-18s own demand %3d%% probing %g s ..." % (config, demand, args.duration),
                      flush=True)
                results[config][str(demand)] = run_one(client, config, demand, online, args)
                error = results[config][str(demand)].get("error")
                if error:
                    sys.exit("isolation.py: %s at %d%% failed: %s" % (config, demand, error))
    finally:
        remove_ours(client)

    p99 = {c: {d: r["lateness_ms"]["p99"] for d, r in by.items()} for c, by in results.items()}
    print()
    print("p99 lateness, ms (missed deadlines of ticks; own demand achieved)")
    print("%-18s" % "config" + "".join("%24s" % ("own %d%%" % d) for d in demands))
    for config in configs:
        cells = []
        for d in demands:
            r = results[config][str(d)]
            cell = "%.2f (%d/%d; %.0f%%)" % (r["lateness_ms"]["p99"], r["missed"], r["ticks"],
                                             r["own_demand_achieved_pct"])
            cells.append("%24s" % cell)
        print("%-18s" % config + "".join(cells))
    ratios = {}
    for top, base in (("shared", "pinned"), ("quota", "pinned"), ("pinned+host", "pinned+host+tuned")):
        if top in p99 and base in p99:
            ratios["%s/%s" % (top, base)] = {str(d): p99[top][str(d)] / max(p99[base][str(d)], 0.001)
                                             for d in demands}
    print()
    for name, by in ratios.items():
        print("p99 %-28s" % name + "".join("%10s" % ("%.1fx" % by[str(d)]) for d in demands))

    report = {
        "title": "p99 timer lateness vs the container's own demand (%g ms period, %g ms work, %g s per run)"
                 % (args.period_ms, args.work_ms, args.duration),
        "created": stamp,
        "settings": {"period_ms": args.period_ms, "work_ms": args.work_ms, "duration": args.duration,
                     "demands": demands, "burst_ms": args.burst_ms, "noise_loops": args.noise_loops,
                     "online_cpus": online, "kernel": os.uname().release, "loadavg_before": load_before,
                     "loadavg_after": Path("/proc/loadavg").read_text().split()[:3]},
        "p99_ms": p99,
        "ratios_p99": ratios,
        "runs": results,
    }
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True))
    plot(report, str(out_dir / "p99-vs-demand.png"))
    if args.plot:
        plot(report, args.plot)
    extra = ("\n        " + args.plot) if args.plot else ""
    print("\nreport: %s\nplot:   %s%s" % (out_dir / "report.json", out_dir / "p99-vs-demand.png", extra))
    print("load average before/after: %s / %s" % (" ".join(load_before), " ".join(report["settings"]["loadavg_after"])))


if __name__ == "__main__":
    main()

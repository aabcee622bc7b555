"""Plots an isolation report: the CDF of timer lateness per container on a log axis.

Runs on the controller (needs matplotlib there): ``isolation_plot.py report.json lateness.png``. One line per
container; the line style says how it is isolated (solid pinned, dashed shared, dotted quota), so pinned and
shared containers stand apart even in grey. A dashed vertical line marks one period (a missed deadline).

The report is what ``verify_isolation`` and ``benchmarks/isolation.py`` write:
``{"hosts": {host: {container: probe_result}}, "settings": {...}}`` where each probe result carries ``cdf``
(``[[lateness_ms, fraction], ...]``), ``lateness_ms`` and ``placement.isolation``.
"""
from __future__ import annotations

import json
import sys

STYLES = {"pinned": "-", "pinned+quota": "-.", "shared": "--", "quota": ":"}
FLOOR_MS = 0.001  # a log axis cannot show 0: lateness below 1 us is drawn at 1 us


def series(report):
    """``[(label, kind, xs_ms, ys)]`` from a report, skipping failed probes."""
    out = []
    hosts = report.get("hosts", {})
    for host in sorted(hosts):
        for name in sorted(hosts[host]):
            result = hosts[host][name]
            if not isinstance(result, dict) or "cdf" not in result:
                continue
            kind = result.get("placement", {}).get("isolation", "shared")
            label = name if len(hosts) == 1 else "%s/%s" % (host, name)
            label += " (%s, p99 %.2f ms)" % (kind, result["lateness_ms"]["p99"])
            xs = [max(FLOOR_MS, v) for v, _f in result["cdf"]]
            ys = [f for _v, f in result["cdf"]]
            out.append((label, kind, xs, ys))
    return out


def plot(report, path, title=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    for label, kind, xs, ys in series(report):
        ax.step(xs, ys, where="post", linestyle=STYLES.get(kind, "-"), linewidth=1.8, label=label)
    period = report.get("settings", {}).get("period_ms")
    if period:
        ax.axvline(period, color="grey", linestyle=(0, (4, 4)), linewidth=1)
        ax.text(period, 0.5, " one period (%g ms):\n later is a missed deadline" % period, color="grey", fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.005)
    ax.set_xlabel("timer lateness (ms, log scale)")
    ax.set_ylabel("fraction of ticks at or below")
    ax.set_title(title or report.get("title") or "Timer lateness per container (CDF)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: isolation_plot.py REPORT.json OUT.png\n")
        return 2
    with open(argv[1]) as f:
        report = json.load(f)
    if not series(report):
        sys.stderr.write("isolation_plot.py: %s has no probe results to plot\n" % argv[1])
        return 1
    plot(report, argv[2])
    print(argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

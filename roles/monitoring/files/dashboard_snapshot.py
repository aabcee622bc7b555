# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PNG snapshot of the Grafana dashboard, drawn from Prometheus without Grafana.

Every query of every panel of the dashboard JSON runs as a range query (``/api/v1/query_range``) over the last
``--minutes``; each panel becomes one subplot, placed where the dashboard's ``gridPos`` puts it, with one line per
series and a legend built from the target's ``legendFormat``. Grafana's variables are filled in the way Grafana
would: ``$__rate_interval`` is ``max(step + scrape interval, 4 * scrape interval)`` (the scrape interval is read from
Prometheus' configuration), ``$__interval`` is the step, ``$__range`` the window, template variables take their
"All" value (``allValue`` or ``.*``) or their current value.

    python dashboard_snapshot.py --prometheus http://127.0.0.1:9090 \\
        --dashboard wcs-dashboard.json --minutes 2 --step 1s --output snapshot.png --require-data

Exit status: 0 written; 1 written, but --require-data and some panel had no data (or a query failed: named on
stderr); 2 Prometheus could not be asked at all. Needs only the standard library and matplotlib.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")  # files only, no display

# pylint: disable=wrong-import-position
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.gridspec import GridSpec  # noqa: E402
from matplotlib.ticker import EngFormatter, FuncFormatter, PercentFormatter  # noqa: E402

GRID_COLUMNS = 24  # Grafana's grid is 24 columns wide
INCHES_PER_COLUMN = 0.95
INCHES_PER_ROW = 0.36  # a Grafana grid row is ~30 px against a ~80 px column
HEADER_INCHES = 0.8  # the figure's title line
# Inside a panel's area, in grid units: its title above, time ticks below, value ticks left, legend right.
TITLE_ROWS = 0.9
TICK_ROWS = 0.8
VALUE_TICK_COLUMNS = 0.9
LEGEND_COLUMNS = 3.4
DPI = 100
DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


class PrometheusUnreachable(Exception):
    """Prometheus did not answer at all (as opposed to answering a query with an error)."""


# ---------------------------------------------------------------------------------------------------- arguments
def parse_args(argv):
    parser = argparse.ArgumentParser(description="Render the Grafana dashboard's queries from Prometheus to a PNG.")
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090", help="Prometheus base URL")
    parser.add_argument("--dashboard", required=True, help="the Grafana dashboard JSON file")
    parser.add_argument("--output", required=True, help="the PNG to write")
    parser.add_argument("--minutes", type=float, default=15, help="window ending now (default 15)")
    parser.add_argument("--step", default="", help="query resolution, e.g. 1s (default: about 300 points)")
    parser.add_argument("--scrape-interval", default="",
                        help="for $__rate_interval (default: Prometheus' global scrape_interval)")
    parser.add_argument("--title", default="", help="figure title (default: the dashboard's title)")
    parser.add_argument("--require-data", action="store_true", help="exit 1 when any panel has no data")
    args = parser.parse_args(argv)
    if args.minutes <= 0:
        parser.error("--minutes must be positive")
    for option in ("step", "scrape_interval"):
        value = getattr(args, option)
        if value and parse_duration(value) is None:
            parser.error("--%s: %r is not a duration like 1s, 30s, 1m" % (option.replace("_", "-"), value))
    return args


def parse_duration(text):
    """Seconds of a Prometheus duration ("15s", "1m30s", "500ms"), None when it is not one."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(number) * DURATION_UNITS[unit] for number, unit in parts)


def format_duration(seconds):
    """A duration Prometheus accepts: whole seconds, at least 1s."""
    return "%ds" % max(1, int(round(seconds)))


# --------------------------------------------------------------------------------------------------- prometheus
def prometheus_get(base, path, **params):
    """The ``data`` of one API answer; ValueError with Prometheus' own message when it refuses the request."""
    url = base.rstrip("/") + path + "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            answer = json.loads(resp.read())
    except urllib.error.HTTPError as exc:  # 400/422: a bad query; the body says why
        try:
            answer = json.loads(exc.read())
        except ValueError:
            raise ValueError("HTTP %d from %s" % (exc.code, path)) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise PrometheusUnreachable("cannot reach Prometheus at %s: %s" % (base, exc)) from exc
    if answer.get("status") != "success":
        raise ValueError("%s: %s" % (answer.get("errorType", "error"), answer.get("error", answer)))
    return answer["data"]


def scrape_interval_of(base):
    """Seconds of Prometheus' global scrape_interval (its default, 60s, when the configuration does not say)."""
    config = prometheus_get(base, "/api/v1/status/config")["yaml"]
    match = re.search(r"^global:\n(?:[ \t]+.*\n)*?[ \t]+scrape_interval:[ \t]*(\S+)", config, re.MULTILINE)
    return parse_duration(match.group(1)) if match else 60.0


def query_range(base, expr, start, end, step):
    """[(labels, [(unix time, value)])] of one range query."""
    data = prometheus_get(base, "/api/v1/query_range", query=expr, start="%.3f" % start, end="%.3f" % end,
                          step=format_duration(step))
    return [(series["metric"], [(float(t), float(v)) for t, v in series["values"]]) for series in data["result"]]


# ---------------------------------------------------------------------------------------------------- dashboard
def load_dashboard(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def template_values(dashboard):
    """Template variable -> the value a query gets: the "All" value, else the current one; data sources skipped."""
    values = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "datasource":
            continue
        current = variable.get("current", {}).get("value", "")
        if isinstance(current, list):
            current = current[0] if len(current) == 1 else "$__all"
        if current in ("$__all", "") and (variable.get("includeAll") or not current):
            current = variable.get("allValue") or ".*"
        values[variable["name"]] = str(current)
    return values


def grafana_variables(step, window, scrape_interval):
    """Grafana's built-in interval variables, as Grafana computes them for a Prometheus data source."""
    return {
        "__rate_interval": format_duration(max(step + scrape_interval, 4 * scrape_interval)),
        "__interval": format_duration(step),
        "__range": format_duration(window),
        "__range_s": str(int(window)),
    }


def substitute(expr, variables):
    """$name, ${name}, ${name:format} and [[name]] replaced; unknown names left for Prometheus to refuse."""
    pattern = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")

    def value(match):
        name = match.group(1) or match.group(2) or match.group(3)
        return variables.get(name, match.group(0))

    return pattern.sub(value, expr)


def drawn_panels(dashboard):
    """The panels to draw, in dashboard order: every panel with queries, and the rows (as section headings);
    panels nested in collapsed rows are taken out of them."""
    panels = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []) if panel.get("collapsed") else [])
    return [p for p in panels if p.get("type") == "row" or p.get("targets")]


def series_name(labels, legend_format):
    """The legend entry: legendFormat with {{label}} filled in, else Prometheus' own notation."""
    if legend_format and legend_format != "__auto":
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), legend_format).strip()
    name = labels.get("__name__", "")
    rest = ", ".join('%s="%s"' % kv for kv in sorted(labels.items()) if kv[0] != "__name__")
    return name + ("{%s}" % rest if rest or not name else "")


def panel_series(base, panel, variables, window):
    """[(legend name, [(time, value)])] of every target of one panel, sorted by name as the dashboard's legends
    are; and the errors of the queries Prometheus refused."""
    series, errors = [], []
    start, end, step = window
    for target in panel.get("targets", []):
        if target.get("hide") or not target.get("expr"):
            continue
        expr = substitute(target["expr"], variables)
        try:
            result = query_range(base, expr, start, end, step)
        except ValueError as exc:
            errors.append("%s %s: %s" % (panel.get("title", ""), target.get("refId", ""), exc))
            continue
        series.extend((series_name(labels, target.get("legendFormat", "")), points) for labels, points in result)
    return sorted(series, key=lambda s: s[0]), errors


# -------------------------------------------------------------------------------------------------------- drawing
def axis_formatter(unit):
    """A y-axis formatter for Grafana's unit of a panel."""
    if unit == "percent":
        return PercentFormatter(xmax=100, decimals=None)
    if unit == "percentunit":
        return PercentFormatter(xmax=1, decimals=None)
    if unit in ("bytes", "decbytes"):
        return EngFormatter(unit="B", places=0)
    if unit in ("bps", "binbps"):
        return EngFormatter(unit="bit/s", places=0)
    if unit == "s":
        return EngFormatter(unit="s")
    return FuncFormatter(lambda value, _pos: "%g" % value)


def value_mapping_ticks(panel):
    """{value: text} of a panel's value mappings (a state timeline's up/down)."""
    ticks = {}
    for mapping in panel.get("fieldConfig", {}).get("defaults", {}).get("mappings", []):
        if mapping.get("type") == "value":
            for value, shown in mapping.get("options", {}).items():
                ticks[float(value)] = shown.get("text", value)
    return ticks


def panel_areas(area, pos):
    """The plot and legend cells of a panel's grid area, with room for the title above, the time ticks below and
    the value ticks on the left kept inside the area (so neighbours never overlap): sizes in grid units."""
    legend = min(LEGEND_COLUMNS, 0.35 * pos["w"])
    cells = area.subgridspec(3, 3, height_ratios=(TITLE_ROWS, max(pos["h"] - TITLE_ROWS - TICK_ROWS, 1), TICK_ROWS),
                             width_ratios=(VALUE_TICK_COLUMNS, pos["w"] - VALUE_TICK_COLUMNS - legend, legend),
                             hspace=0, wspace=0)
    return cells[1, 1], cells[1, 2]


def draw_row(fig, area, panel):
    ax = fig.add_subplot(area)
    ax.axis("off")
    ax.text(0, 0, panel.get("title", ""), fontsize=15, fontweight="bold", va="bottom", ha="left",
            transform=ax.transAxes)


def set_value_axis(ax, panel, series):
    """Unit-aware value ticks; a value-mapped panel (wcs_up) shows its texts; non-negative data starts at 0, so a
    flat line reads as its value rather than as noise around it."""
    ax.yaxis.set_major_formatter(axis_formatter(panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")))
    ticks = value_mapping_ticks(panel)
    if ticks:
        ax.set_yticks(sorted(ticks), [ticks[v] for v in sorted(ticks)])
        ax.set_ylim(min(ticks) - 0.2, max(ticks) + 0.2)
        return
    values = [value for _name, points in series for _time, value in points if not math.isnan(value)]
    if values and min(values) >= 0:
        top = max(values)
        ax.set_ylim(0, top * 1.1 if top > 0 else 1)


def draw_panel(fig, area, panel, series, note):
    """One subplot: the lines on the left, the legend in its own column on the right (like the dashboard's table
    legend), or a centred note when there is nothing to draw."""
    plot_area, legend_area = panel_areas(area, panel["gridPos"])
    ax = fig.add_subplot(plot_area)
    ax.set_title(panel.get("title", ""), fontsize=12, loc="left")
    ax.grid(True, alpha=0.3)
    ax.tick_params(labelsize=9)
    if not series:
        ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=13, color="grey", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    stepped = panel.get("type") == "state-timeline"
    if len(series) > 10:  # the default cycle repeats after 10: use 20 distinct colours
        ax.set_prop_cycle(color=plt.get_cmap("tab20").colors)
    for name, points in series:
        times = [datetime.datetime.fromtimestamp(when, tz=datetime.timezone.utc) for when, _value in points]
        ax.plot(times, [value for _time, value in points], label=name, linewidth=1.4,
                drawstyle="steps-post" if stepped else "default")
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S", tz=datetime.timezone.utc))
    set_value_axis(ax, panel, series)
    legend_ax = fig.add_subplot(legend_area)
    legend_ax.axis("off")
    handles, labels = ax.get_legend_handles_labels()
    fontsize, columns = legend_fit(len(labels), plot_height_inches(panel["gridPos"]))
    legend_ax.legend(handles, labels, loc="upper left", fontsize=fontsize, ncol=columns, frameon=False,
                     borderaxespad=0, handlelength=1.5, columnspacing=0.8, bbox_to_anchor=(0.04, 1))


def plot_height_inches(pos):
    return max(pos["h"] - TITLE_ROWS - TICK_ROWS, 1) * INCHES_PER_ROW


def legend_fit(entries, height):
    """(font size, columns) so a legend's entries fit in the panel's height: 9 pt when they do, smaller down to
    7 pt, then two columns."""
    line = 1.6 / 72  # inches per legend line per point of font size
    fontsize = max(7.0, min(9.0, height / (entries * line))) if entries else 9.0
    return fontsize, 1 if entries * fontsize * line <= height else 2


def draw_dashboard(dashboard, panels, results, title, subtitle):
    """The figure: one subplot per panel at its gridPos (24 columns, rows as tall as the dashboard's)."""
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    height = rows * INCHES_PER_ROW + HEADER_INCHES
    fig = plt.figure(figsize=(GRID_COLUMNS * INCHES_PER_COLUMN + 0.4, height), dpi=DPI)
    grid = GridSpec(rows, GRID_COLUMNS, figure=fig, left=0.01, right=0.99, bottom=0.005,
                    top=1 - HEADER_INCHES / height, hspace=0, wspace=0)
    fig.suptitle(title or dashboard.get("title", ""), fontsize=18, fontweight="bold", x=0.01, y=1 - 0.2 / height,
                 ha="left", va="top")
    fig.text(0.99, 1 - 0.3 / height, subtitle, fontsize=10, ha="right", va="top", color="dimgrey")
    for panel in panels:
        pos = panel["gridPos"]
        area = grid[pos["y"]:pos["y"] + pos["h"], pos["x"]:pos["x"] + pos["w"]]
        if panel.get("type") == "row":
            draw_row(fig, area, panel)
        else:
            series, note = results[panel["id"]]
            draw_panel(fig, area, panel, series, note)
    return fig


# ----------------------------------------------------------------------------------------------------------- main
def snapshot(args):
    """Queries every panel, writes the PNG; returns the titles of the panels without data and the query errors."""
    dashboard = load_dashboard(args.dashboard)
    window = args.minutes * 60
    step = parse_duration(args.step) if args.step else max(1.0, window / 300)
    scrape = parse_duration(args.scrape_interval) if args.scrape_interval else scrape_interval_of(args.prometheus)
    variables = dict(template_values(dashboard), **grafana_variables(step, window, scrape))
    end = time.time()
    panels = drawn_panels(dashboard)
    results, empty, errors = {}, [], []
    for panel in panels:
        if panel.get("type") == "row":
            continue
        series, failed = panel_series(args.prometheus, panel, variables, (end - window, end, step))
        errors.extend(failed)
        if not series:
            empty.append(panel.get("title", str(panel.get("id"))))
        results[panel["id"]] = (series, "query error" if failed and not series else "no data")
    stamp = datetime.datetime.fromtimestamp(end, tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    subtitle = "last %g min to %s, step %s, $__rate_interval %s, from %s" % (
        args.minutes, stamp, format_duration(step), variables["__rate_interval"], args.prometheus)
    fig = draw_dashboard(dashboard, panels, results, args.title, subtitle)
    fig.savefig(args.output, dpi=DPI)
    plt.close(fig)
    return empty, errors


def main(argv=None):
    args = parse_args(argv)
    try:
        empty, errors = snapshot(args)
    except PrometheusUnreachable as exc:
        print("dashboard_snapshot: %s" % exc, file=sys.stderr)
        return 2
    for error in errors:
        print("dashboard_snapshot: query refused: %s" % error, file=sys.stderr)
    for title in empty:
        print("dashboard_snapshot: no data: %s" % title, file=sys.stderr)
    print("dashboard_snapshot: wrote %s (%d panels without data)" % (args.output, len(empty)))
    return 1 if args.require_data and (empty or errors) else 0


if __name__ == "__main__":
    sys.exit(main())

"""The Grafana dashboard's structure, and that every WCS metric it asks for is one the exporter serves.

That each expression returns data from a real Prometheus is tests/integration/monitoring.
"""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "roles/monitoring/files/grafana/wcs-dashboard.json"
spec = importlib.util.spec_from_file_location("wcs_exporter", ROOT / "roles/monitoring/files/wcs_exporter.py")
wcs_exporter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wcs_exporter)

EXPORTER_OWN = {"wcs_up", "wcs_scrape_duration_seconds", "wcs_probe_duration_seconds", "wcs_cpu_group",
                "wcs_exporter_containers", "wcs_exporter_engine_up"}
PROMQL_WORDS = {"sum", "avg", "max", "min", "by", "on", "rate", "group_left", "clamp_min", "label_replace",
                "unless", "or", "and", "count", "without", "ignoring"}


def load():
    return json.loads(DASHBOARD.read_text())


def panels(dash):
    return [p for p in dash["panels"] if p["type"] != "row"]


def test_dashboard_has_identity_variables_and_unique_panel_ids():
    dash = load()
    assert dash["uid"] == "mediaops-wcs" and dash["title"] and dash["schemaVersion"] >= 30
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    names = {v["name"] for v in dash["templating"]["list"]}
    assert names == {"datasource", "host", "container"}
    for panel in dash["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24 and grid["h"] > 0


def test_every_panel_queries_prometheus_through_the_datasource_variable():
    for panel in panels(load()):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            for var in re.findall(r"\$(\w+)", target["expr"]):
                assert var in {"host", "container", "__rate_interval"}, (panel["title"], var)


def test_the_issue_s_panels_are_there():
    exprs = " ".join(t["expr"] for p in panels(load()) for t in p["targets"])
    for needle in ("node_cpu_seconds_total", "wcs_cpu_group", "wcs_streams", "wcs_degraded_streams",
                   "wcs_heap_used_bytes", "wcs_gc_pause", "node_network_receive_bytes_total"):
        assert needle in exprs, needle
    assert "sum(wcs_degraded_streams" in exprs and "/ clamp_min(sum(wcs_streams" in exprs


def test_every_wcs_metric_in_the_dashboard_is_served_by_the_exporter():
    helps = wcs_exporter.metric_help()
    served = set(helps) | EXPORTER_OWN | {name + "_total" for name, (_t, _l, kind) in helps.items() if kind == "counter"}
    for panel in panels(load()):
        for target in panel["targets"]:
            for name in re.findall(r"\b(wcs_[a-z_]+)\b", target["expr"]):
                assert name in served, (panel["title"], name)


def test_cpu_panel_groups_pinned_sets_with_overrides():
    cpu = next(p for p in panels(load()) if p["title"].startswith("CPU busy per core"))
    assert "group_left (group)" in cpu["targets"][0]["expr"]
    matchers = [o["matcher"]["options"] for o in cpu["fieldConfig"]["overrides"]]
    assert any("host-reserved" in m for m in matchers)

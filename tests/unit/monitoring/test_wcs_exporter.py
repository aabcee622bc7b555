"""WCS exporter logic without an engine: the key table, label mapping, CPU groups, the exposition text."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

# The 2 CPUs are shared with other helpers' runs: generation can be slow, that is not what these tests check.
RELAXED = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("wcs_exporter", ROOT / "roles/monitoring/files/wcs_exporter.py")
wcs_exporter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wcs_exporter)

PAGE = """\
-----Connection Stats-----
connections=5
connections_rtmfp=0
connections_websocket=5
-----Stream Stats-----
streams_webrtc_in=3
streams_webrtc_out=2
streams_rtmp_out=1
degraded_streams=1
degraded_streams_percent=16.67
-----Core Stats-----
core_java_heap_used=77594624
core_gc_pause_ms_last=8
core_gc_pause_ms_max=35
-----System Stats-----
network_speed_mbit=10000
-----Config Stats-----
config_zgc=false
emulator_version=1.0.0
"""


@pytest.fixture(autouse=True)
def no_stream_list(monkeypatch):
    """No test here reaches a real server: the stream list is empty unless a test sets its own."""
    monkeypatch.setattr(wcs_exporter, "fetch_streams", lambda *a, **kw: ([], False))


def test_every_metric_keeps_one_label_set_and_a_wcs_prefix():
    helps = wcs_exporter.metric_help()
    assert all(name.startswith("wcs_") for name in helps)
    for key, (metric, extra, scale, text) in wcs_exporter.STAT_METRICS.items():
        assert not set(extra) & set(wcs_exporter.LABELS), key
        assert scale > 0 and text


def test_metric_help_refuses_a_metric_with_two_label_sets(monkeypatch):
    table = dict(wcs_exporter.STAT_METRICS)
    table["x_1"] = ("wcs_connections", {"transport": "x"}, 1, "clash")
    monkeypatch.setattr(wcs_exporter, "STAT_METRICS", table)
    with pytest.raises(ValueError, match="wcs_connections"):
        wcs_exporter.metric_help()


def test_samples_from_a_page_use_the_table_and_scale_units():
    stats = wcs_exporter.stat_page.parse_stat_page(PAGE)[0]
    samples = {(m, tuple(sorted(e.items()))): v for m, e, v in wcs_exporter.stat_samples(stats)}
    assert samples[("wcs_streams", (("direction", "in"), ("type", "webrtc")))] == 3
    assert samples[("wcs_streams", (("direction", "out"), ("type", "rtmp")))] == 1
    assert samples[("wcs_connections_by_transport", (("transport", "websocket"),))] == 5
    assert samples[("wcs_degraded_streams_percent", ())] == pytest.approx(16.67)
    assert samples[("wcs_gc_pause_max_seconds", ())] == pytest.approx(0.035)
    assert samples[("wcs_network_speed_bits_per_second", ())] == pytest.approx(1e10)
    # strings, booleans and unknown keys make no sample
    assert not any(m.startswith("wcs_config") for m, _e in samples)
    assert ("wcs_heap_max_bytes", ()) not in samples


@RELAXED
@given(st.dictionaries(st.sampled_from(sorted(wcs_exporter.STAT_METRICS)),
                       st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                                 st.booleans(), st.text(max_size=5))))
def test_only_numbers_become_samples(stats):
    samples = wcs_exporter.stat_samples(stats)
    numeric = [k for k, v in stats.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    assert len(samples) == len(numeric)


@RELAXED
@given(st.sets(st.integers(0, 255), max_size=40))
def test_cpuset_ids_round_trip_through_ranges(ids):
    ordered = sorted(ids)
    parts, run = [], []
    for cpu in ordered:
        if run and cpu != run[-1] + 1:
            parts.append(run)
            run = []
        run.append(cpu)
    if run:
        parts.append(run)
    text = ",".join(str(r[0]) if len(r) == 1 else "%d-%d" % (r[0], r[-1]) for r in parts)
    assert wcs_exporter.cpuset_ids(text) == ordered


def test_cpuset_ids_rejects_garbage():
    with pytest.raises(ValueError):
        wcs_exporter.cpuset_ids("1-x")


def test_cpu_groups_name_every_owner_once_per_cpu():
    groups = wcs_exporter.cpu_groups({"wcs-1": "1-3", "wcs-2": "3-4"}, "0")
    assert groups == {0: ["host-reserved"], 1: ["wcs-1"], 2: ["wcs-1"], 3: ["wcs-1", "wcs-2"], 4: ["wcs-2"]}


class FakeEngine:
    """Stands in for the engine's two read calls (the real engine is used in tests/integration/monitoring)."""

    def __init__(self, running, unmanaged=()):
        self.running = running
        self.unmanaged = set(unmanaged)

    def managed_names(self):
        return sorted(n for n in self.running if n not in self.unmanaged)

    def inspect(self, name):
        if name not in self.running:
            return None
        labels = {} if name in self.unmanaged else {"mediaops.wcs.managed": "true"}
        return {"State": {"Running": True, "Pid": 4242}, "HostConfig": {"CpusetCpus": self.running[name]},
                "Config": {"Labels": labels}}


def test_collector_labels_and_down_containers(tmp_path, monkeypatch):
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({"host": "h1", "reserved_cpus": "0", "port": 8081, "containers": [
        {"name": "wcs-1", "cpuset": "1", "ipv4_address": "198.51.100.5"},
        {"name": "wcs-2", "cpuset": "2", "ipv4_address": "198.51.100.6"}]}))
    pages = {4242: PAGE}

    def fake_fetch(port, timeout, pid=None, address="127.0.0.1"):
        assert port == 8081
        return pages[pid]

    monkeypatch.setattr(wcs_exporter, "fetch_page", fake_fetch)
    # wcs-1 runs; wcs-2 is planned but not running; wcs-3 runs with the label but is not in the plan
    exporter = wcs_exporter.Exporter("h1", targets_file=str(targets), engine=FakeEngine({"wcs-1": "1", "wcs-3": "3"}))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(wcs_exporter.ContainerCollector(exporter))
    registry.register(wcs_exporter.HostCollector(exporter))
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    up = {s.labels["container"]: (s.labels["cpuset"], s.labels["host"], s.value) for s in families["wcs_up"].samples}
    assert up == {"wcs-1": ("1", "h1", 1), "wcs-2": ("2", "h1", 0), "wcs-3": ("3", "h1", 1)}
    streams = [s for s in families["wcs_streams"].samples if s.labels["container"] == "wcs-1"]
    assert {(s.labels["type"], s.labels["direction"], s.value) for s in streams} >= {("webrtc", "in", 3)}
    groups = {(s.labels["cpu"], s.labels["group"]) for s in families["wcs_cpu_group"].samples}
    assert groups == {("0", "host-reserved"), ("1", "wcs-1"), ("2", "wcs-2"), ("3", "wcs-3")}


def test_only_managed_containers_are_probed(tmp_path, monkeypatch):
    """A planned name now held by a container without the managed label is never entered; a query-string name
    that is neither planned nor managed gets a 404 without any probe."""
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({"host": "h1", "containers": [{"name": "wcs-1", "cpuset": "1"}]}))
    probed = []
    monkeypatch.setattr(wcs_exporter, "fetch_page", lambda *a, **kw: probed.append(kw) or PAGE)
    exporter = wcs_exporter.Exporter("h1", targets_file=str(targets),
                                     engine=FakeEngine({"wcs-1": "1", "other": "2"}, unmanaged=["wcs-1", "other"]))
    labels, up, _samples, _took, err = exporter.scrape({"name": "wcs-1", "cpuset": "1", "address": None,
                                                        "port": 8081})
    assert up == 0 and "not a managed WCS container" in err and probed == []
    assert exporter.known("wcs-1") and not exporter.known("other") and not exporter.known("../../info")


@pytest.mark.parametrize("name", ["../../info", "a/b", "x\n", "", None])
def test_engine_inspect_refuses_what_is_not_a_container_name(name):
    with pytest.raises(ValueError, match="not a container name"):
        wcs_exporter.DockerEngine("unix:///nonexistent.sock").inspect(name)


def test_probe_of_an_unknown_container_is_a_404_without_a_probe(tmp_path, monkeypatch):
    import threading
    import urllib.error
    import urllib.request
    from http.server import ThreadingHTTPServer

    probed = []
    monkeypatch.setattr(wcs_exporter, "fetch_page", lambda *a, **kw: probed.append(kw) or PAGE)
    exporter = wcs_exporter.Exporter("h1", engine=FakeEngine({"wcs-1": "1"}))
    server = ThreadingHTTPServer(("127.0.0.1", 0), wcs_exporter.make_handler(exporter, CollectorRegistry()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d/probe?container=" % server.server_address[1]
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "some-other-container", timeout=5)
        assert err.value.code == 404 and probed == []
        with urllib.request.urlopen(base + "wcs-1", timeout=5) as answer:
            assert b'wcs_up{container="wcs-1"' in answer.read() and len(probed) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_a_bad_targets_file_names_the_entry(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text(json.dumps({"containers": [{"cpuset": "1"}]}))
    with pytest.raises(ValueError, match=r"containers\[0\] needs a name"):
        wcs_exporter.load_targets(str(bad))


def stream(msid, media="publish", status="PUBLISHING", **metrics):
    return {"name": "live-" + msid, "mediaSessionId": msid, "mediaType": media, "status": status,
            "mediaProvider": "WebRTC", "metrics": metrics}


def probe_families(exporter):
    registry = CollectorRegistry(auto_describe=False)
    registry.register(wcs_exporter.ContainerCollector(exporter))
    return {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}


def values(family, **match):
    return {tuple(sorted((k, v) for k, v in s.labels.items() if k not in wcs_exporter.LABELS)): s.value
            for s in family.samples if all(s.labels.get(k) == v for k, v in match.items())}


def test_stream_list_aggregates_and_counters_across_scrapes(monkeypatch):
    lists = [[stream("a", VIDEO_RATE=1000000, AUDIO_RATE=64000, VIDEO_FPS=30, VIDEO_NACK=10, VIDEO_PLI=1,
                     VIDEO_LOST=4, AUDIO_LOST=1),
              stream("b", media="play", status="PLAYING", VIDEO_RATE=500000, VIDEO_NACK=0)],
             # a ended, c began: the counters keep what a counted and add c's
             [stream("b", media="play", status="PLAYING", VIDEO_RATE=400000, VIDEO_NACK=5),
              stream("c", VIDEO_RATE=2000000, VIDEO_NACK=7, VIDEO_LOST=3)]]
    seen = []
    monkeypatch.setattr(wcs_exporter, "fetch_page", lambda *a, **kw: PAGE)
    monkeypatch.setattr(wcs_exporter, "fetch_streams", lambda *a, **kw: seen.append(kw) or (lists[len(seen) - 1], True))
    exporter = wcs_exporter.Exporter("h1", engine=FakeEngine({"wcs-1": "1"}))
    first = probe_families(exporter)
    assert seen == [{"pid": 4242}]
    assert values(first["wcs_stream_list_up"]) == {(): 1} and values(first["wcs_streams_with_metrics"]) == {(): 2}
    assert values(first["wcs_streams_by_status"]) == {
        (("media_type", "publish"), ("provider", "WebRTC"), ("status", "PUBLISHING")): 1,
        (("media_type", "play"), ("provider", "WebRTC"), ("status", "PLAYING")): 1}
    assert values(first["wcs_stream_bitrate_bits_per_second"], media_type="publish") == {
        (("media_type", "publish"), ("quantile", q)): 1064000 for q in ("0.5", "0.9", "0.99")}
    assert first["wcs_stream_nacks"].type == "counter"
    assert values(first["wcs_stream_nacks"]) == {(): 0}  # the first read is the baseline
    second = probe_families(exporter)
    assert values(second["wcs_stream_nacks"]) == {(): 12}  # b +5, c new 7
    assert values(second["wcs_stream_packets_lost"]) == {(("media", "video"),): 3, (("media", "audio"),): 0}
    assert values(second["wcs_stream_bitrate_bits_per_second"], quantile="0.99") == {
        (("media_type", "publish"), ("quantile", "0.99")): 2000000, (("media_type", "play"), ("quantile", "0.99")): 400000}
    # never one series per stream by default
    assert not [f for f in second if f.endswith("_by_stream") or f.endswith("_by_stream_bits_per_second")]
    assert "stream" not in {k for f in second.values() for s in f.samples for k in s.labels}


def test_per_stream_series_are_opt_in_and_capped(monkeypatch):
    streams = [stream("s%02d" % i, VIDEO_RATE=1000 * i, VIDEO_NACK=i) for i in range(5)]
    monkeypatch.setattr(wcs_exporter, "fetch_page", lambda *a, **kw: PAGE)
    monkeypatch.setattr(wcs_exporter, "fetch_streams", lambda *a, **kw: (streams, True))
    exporter = wcs_exporter.Exporter("h1", engine=FakeEngine({"wcs-1": "1"}), per_stream=3)
    fams = probe_families(exporter)
    assert values(fams["wcs_stream_series_left_out"]) == {(): 2}
    by_stream = values(fams["wcs_stream_bitrate_by_stream_bits_per_second"])
    assert sorted(dict(k)["stream"] for k in by_stream) == ["live-s00", "live-s01", "live-s02"]
    assert len(values(fams["wcs_stream_nacks_by_stream"])) == 3
    assert wcs_exporter.Exporter("h1", per_stream=10 ** 6).per_stream == 1000
    with pytest.raises(SystemExit, match="wcs_monitoring_exporter_per_stream_series"):
        wcs_exporter.main(["--per-stream-series=1001", "--targets-file=/nonexistent"])


def test_a_failing_stream_list_keeps_the_page(monkeypatch):
    def broken(*_a, **_kw):
        raise wcs_exporter.wcs_client.WCSUnavailable("find_all answered HTTP 500")

    monkeypatch.setattr(wcs_exporter, "fetch_page", lambda *a, **kw: PAGE)
    monkeypatch.setattr(wcs_exporter, "fetch_streams", broken)
    fams = probe_families(wcs_exporter.Exporter("h1", engine=FakeEngine({"wcs-1": "1"})))
    assert values(fams["wcs_up"]) == {(): 1} and values(fams["wcs_stream_list_up"]) == {(): 0}
    assert "wcs_streams_by_status" not in fams
    off = probe_families(wcs_exporter.Exporter("h1", engine=FakeEngine({"wcs-1": "1"}), stream_list=False))
    assert "wcs_stream_list_up" not in off


def test_isolation_report_p99_on_metrics(tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"created": "2026-11-30T12:00:00Z", "summary": {
        "h1": [{"name": "wcs-1", "cpuset": "1", "p99_ms": 7.5}, {"name": "wcs-2", "cpuset": "2", "p99_ms": 0.2}],
        "h2": [{"name": "wcs-9", "cpuset": "1", "p99_ms": 50}]}}))
    exporter = wcs_exporter.Exporter("h1", isolation_report=str(report))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(wcs_exporter.HostCollector(exporter))
    fams = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    p99 = {s.labels["container"]: s.value for s in fams["wcs_isolation_p99_seconds"].samples}
    assert p99 == {"wcs-1": pytest.approx(0.0075), "wcs-2": pytest.approx(0.0002)}
    assert fams["wcs_isolation_report_timestamp_seconds"].samples[0].value == 1796040000
    assert list(wcs_exporter.isolation_families("h1", str(tmp_path / "absent.json")))[0].samples == []
    report.write_text("[]")
    assert list(wcs_exporter.isolation_families("h1", str(report))) == []

"""`ansible-playbook mediaops.wcs.site -e wcs_monitoring_enabled=true` with the real tools, on this directory's
own block, names and private engine (conftest.py): the whole site (plan, macvlan network on a veth parent, property files, a pinned emulator
container, health gate) followed by the monitoring role. The host cannot reach its macvlan container through the
parent, so the WCS exporter asks from inside the container's network namespace.

Checked: Debian's node exporter, the WCS exporter and Debian's Prometheus run from pidfiles on the host's
reserved CPU; the generated file_sd targets and Grafana provisioning files; every query of the dashboard returns
data from the real Prometheus; a container stopped mid-test is wcs_up 0 while the exporter keeps answering; a
second run of the role changes nothing; the role's teardown stops every process; mediaops.wcs.teardown removes
the container and network. Stream quality: the exporter's probe shows the aggregates of the emulator's stream list
with metrics (percentiles, counts by status, counters that grow), and Prometheus loads the role's alert rules and
evaluates them (a stopped container makes WCSContainerDown pending)."""
from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import matplotlib.image
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from monhelpers import DASHBOARD, ROOT, Prom, dashboard_exprs, free_port, online_cpus, pid_alive, set_streams, stop_pid

HERE = Path(__file__).resolve().parent
ROLE_ONLY = HERE / "playbooks/monitoring.yml"
SNAPSHOT = ROOT / "roles/monitoring/files/dashboard_snapshot.py"
# The emulator's counts for the snapshot, one step after the other so its lines move: (webrtc in, out, degraded).
STREAM_STEPS = ((6, 4, 1), (9, 6, 2), (12, 8, 4))
# Per-stream figures of the emulator's stream list (find with display metrics): a comma list goes round the streams.
STREAM_METRICS = {"metric_VIDEO_RATE": "1500000,700000,300000", "metric_AUDIO_RATE": "64000", "metric_VIDEO_FPS": "30,15",
                  "metric_VIDEO_LOST": "2", "metric_AUDIO_LOST": "1", "metric_VIDEO_PLI": "1"}
ALERTS = {"WCSContainerDown", "WCSExporterDown", "WCSDegradedStreams", "WCSHeapNearLimit", "WCSGCPauses",
          "WCSMediaPortsNearlyExhausted", "WCSProbeLatenessAboveIsolationThreshold"}
PARENT = "wcstp1"
NAME = "wcst-mon-site-1"
pytestmark = pytest.mark.slow


_STAMP_START = []


def stamp(what):
    """Progress with times since the first stamp (pytest -s shows it)."""
    if not _STAMP_START:
        _STAMP_START.append(time.monotonic())
    print("[%6.1fs] %s" % (time.monotonic() - _STAMP_START[0], what), flush=True)


def web_config(tmp):
    """Extra vars for basic auth + TLS: a self-signed certificate for 127.0.0.1 and a bcrypt hash (glibc's crypt)."""
    import crypt  # noqa: PLC0415 - deprecated module, only here, only for the test's hash
    cert, key = tmp / "tls.crt", tmp / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    digest = crypt.crypt("s3cret-scrape", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024))
    return {"wcs_monitoring_web_config": {"tls_server_config": {"cert_file": str(cert), "key_file": str(key)},
                                          "basic_auth_users": {"scraper": digest}},
            "wcs_monitoring_scrape_username": "scraper", "wcs_monitoring_scrape_password": "s3cret-scrape",
            "wcs_monitoring_grafana_secret_group": "root"}


def _https(url, auth):
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(b"scraper:s3cret-scrape").decode())
    try:
        with urllib.request.urlopen(request, timeout=5, context=ssl._create_unverified_context()) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


def https_status(url, auth=False):
    return _https(url, auth)[0]


def https_body(url):
    return _https(url, True)[1]


def recap_changed(stdout):
    line = [l for l in stdout.splitlines() if l.startswith("localhost")][-1]
    return int(line.split("changed=")[1].split()[0])


def cpus_allowed(pid):
    return Path("/proc/%d/status" % pid).read_text().split("Cpus_allowed_list:")[1].split()[0]


@pytest.fixture
def site(tmp_path, veth_parent, emulator_image, mon_engine):
    docker_host, docker_client = mon_engine
    veth_parent(PARENT, host_cidr="198.51.100.130/28")
    ports = {"prom": free_port(), "node": free_port(), "exporter": free_port()}
    cpus = online_cpus()
    extra = {
        # the site's own inputs: one container on the last CPU, the first kept for the host (and monitoring)
        "wcs_container_count": 1, "wcs_name_prefix": "wcst-mon-site-", "wcs_image": emulator_image,
        "wcs_docker_host": docker_host,
        "wcs_pull": "never", "wcs_network_name": "wcst-mon-site-net", "wcs_network_driver": "macvlan",
        "wcs_network_mode": "bridge", "wcs_network_parent": PARENT, "wcs_network_block": "198.51.100.128/28",
        "wcs_reserved_cpus": [cpus[0]], "wcs_cpusets": [str(cpus[-1])], "wcs_allow_shared_cpus": True,
        "wcs_heap": "512m", "wcs_conf_root": str(tmp_path / "wcs"), "wcs_plan_show": False,
        # monitoring on loopback ports; files and pidfiles under the test's directory
        "wcs_monitoring_enabled": True, "wcs_monitoring_service_manager": "auto",  # -> none here (no systemd as PID 1)
        "wcs_monitoring_install_packages": False, "wcs_monitoring_base_dir": str(tmp_path / "mon"),
        "wcs_monitoring_prometheus_config_dir": str(tmp_path / "prometheus"),
        "wcs_monitoring_prometheus_port": ports["prom"], "wcs_monitoring_node_exporter_port": ports["node"],
        "wcs_monitoring_exporter_port": ports["exporter"],
        # only the planned container: the exporter's file_sd path (discovery has its own tests)
        "wcs_monitoring_exporter_docker_discovery": False,
        "wcs_monitoring_scrape_interval": "1s", "wcs_monitoring_scrape_timeout": "1s",
        "wcs_monitoring_node_exporter_extra_args": ["--collector.disable-defaults", "--collector.cpu",
                                                    "--collector.netdev", "--collector.meminfo"],
        "wcs_monitoring_grafana_provisioning_dir": str(tmp_path / "grafana/provisioning"),
        "wcs_monitoring_grafana_dashboards_dir": str(tmp_path / "grafana/dashboards"),
    }
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "wcs_hosts": {"hosts": {"localhost": {
            # as inventories/lab does: the venv's interpreter (it has prometheus-client for the exporter)
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}},
        "grafana": {"hosts": {"localhost": {}}}}}}))
    yield {"extra": extra, "inventory": inventory, "ports": ports, "tmp": tmp_path, "cpus": cpus,
           "docker_host": docker_host, "client": docker_client,
           "run": tmp_path / "mon/run"}
    # the test ends with both teardowns; after a failure, stop what is left by pidfile and remove by name
    for pidfile in (tmp_path / "mon/run").glob("*.pid") if (tmp_path / "mon/run").exists() else []:
        stop_pid(int(pidfile.read_text()))
    for container in docker_client.containers.list(all=True, filters={"name": "wcst-mon-site-"}):
        container.remove(force=True)
    for net in docker_client.networks.list(names=["wcst-mon-site-net"]):
        net.remove()


def test_site_with_monitoring(site, playbook):
    docker_client = site["client"]
    stamp("site with monitoring")
    first = playbook("mediaops.wcs.site", inventory=site["inventory"], extra_vars=site["extra"])
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-2000:]
    stamp("site done")
    container = docker_client.containers.get(NAME)
    set_streams(container, streams_webrtc_in=4, streams_webrtc_out=3, degraded_streams=1, metric_VIDEO_NACK=10,
                **STREAM_METRICS)

    running = {p.stem: int(p.read_text()) for p in site["run"].glob("*.pid")}
    assert set(running) == {"wcs-exporter", "node-exporter", "prometheus"}, running
    for name, pid in running.items():
        assert pid_alive(pid), name
        assert cpus_allowed(pid) == str(site["cpus"][0]), "%s must run on the reserved CPU only" % name

    sd = site["tmp"] / "prometheus/file_sd/mediaops-wcs"
    (target,) = json.loads((sd / "wcs/localhost.json").read_text())
    assert target["labels"] == {"host": "localhost", "container": NAME, "cpuset": str(site["cpus"][-1]),
                                "__param_container": NAME}
    assert target["targets"] == ["127.0.0.1:%d" % site["ports"]["exporter"]]
    assert json.loads((sd / "node/localhost.json").read_text())[0]["labels"] == {"host": "localhost"}
    graf = site["tmp"] / "grafana"
    assert json.loads((graf / "dashboards/wcs-dashboard.json").read_text())["uid"] == "mediaops-wcs"
    source = yaml.safe_load((graf / "provisioning/datasources/mediaops-wcs.yml").read_text())
    assert source["datasources"][0]["url"] == "http://127.0.0.1:%d" % site["ports"]["prom"]
    provider = yaml.safe_load((graf / "provisioning/dashboards/mediaops-wcs.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == str(graf / "dashboards")

    prom = Prom(site["ports"]["prom"])

    def health():
        return sorted((t["labels"]["job"], t["labels"]["instance"], t["health"]) for t in prom.targets())

    def all_four_targets_up():
        targets = health()
        return len(targets) == 4 and all(t[2] == "up" for t in targets)

    # prometheus itself, node, wcs_exporter, and one wcs target per container
    prom.wait("every target up", all_four_targets_up, timeout=30, show=health)
    prom.wait("the container's streams", lambda: prom.query("wcs_streams > 0"), timeout=30)

    # stream quality: the exporter's probe of the container, from the emulator's stream list with metrics
    probe = urllib.request.urlopen("http://127.0.0.1:%d/probe?container=%s" % (site["ports"]["exporter"], NAME),
                                   timeout=10).read().decode()
    samples = {(s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("host", "container", "cpuset")))):
               s.value for f in text_string_to_metric_families(probe) for s in f.samples}
    assert samples[("wcs_stream_list_up", ())] == 1 and samples[("wcs_streams_with_metrics", ())] == 7
    assert samples[("wcs_streams_by_status", (("media_type", "publish"), ("provider", "WebRTC"),
                                              ("status", "PUBLISHING")))] == 4
    assert samples[("wcs_streams_by_status", (("media_type", "play"), ("provider", "WebRTC"), ("status", "PLAYING")))] == 3
    # publishers are streams 1-4: video 1.5M, 0.7M, 0.3M, 1.5M (+ 64k audio each)
    assert samples[("wcs_stream_bitrate_bits_per_second", (("media_type", "publish"), ("quantile", "0.5")))] == 764000
    assert samples[("wcs_stream_bitrate_bits_per_second", (("media_type", "publish"), ("quantile", "0.99")))] == 1564000
    assert ("wcs_stream_video_fps", (("media_type", "play"), ("quantile", "0.9"))) in samples
    assert not [k for k in samples if "by_stream" in k[0]], "per-stream series are opt-in"
    # counters across reads: every stream's NACK count grows by 5, so the container's total grows by 35
    before = samples[("wcs_stream_nacks_total", ())]
    set_streams(container, streams_webrtc_in=4, streams_webrtc_out=3, degraded_streams=1, metric_VIDEO_NACK=15,
                **STREAM_METRICS)
    prom.wait("NACK counter grown by 35", lambda: prom.query('wcs_stream_nacks_total{container="%s"} >= %d'
                                                             % (NAME, before + 35)), timeout=15)
    # Prometheus loaded the role's alert rules
    groups = prom.get("/api/v1/rules", type="alert")["data"]["groups"]
    assert {r["name"] for g in groups for r in g["rules"]} == ALERTS
    assert all(r["health"] == "ok" for g in groups for r in g["rules"]), groups
    stamp("stream quality aggregates and alert rules")
    prom.wait("rates", lambda: prom.query('rate(node_cpu_seconds_total{host="localhost"}[15s])'), timeout=30)
    stamp("targets up")
    empty = [(title, expr) for title, expr in dashboard_exprs() if not prom.query(expr)]
    assert not empty, "dashboard queries without data:\n" + "\n".join("%s: %s" % e for e in empty)
    share = prom.query("sum(wcs_degraded_streams) / clamp_min(sum(wcs_streams), 1)")
    assert float(share[0]["value"][1]) == pytest.approx(1 / 7)
    groups = {(r["metric"]["cpu"], r["metric"]["group"]) for r in prom.query("wcs_cpu_group")}
    assert groups == {(str(site["cpus"][0]), "host-reserved"), (str(site["cpus"][-1]), NAME)}
    stamp("every dashboard query answered")

    # the dashboard as a PNG (roles/monitoring/files/dashboard_snapshot.py): each step scraped before the next
    for webrtc_in, webrtc_out, degraded in STREAM_STEPS:
        set_streams(container, streams_webrtc_in=webrtc_in, streams_webrtc_out=webrtc_out, degraded_streams=degraded,
                    metric_VIDEO_NACK=20 * webrtc_in, **STREAM_METRICS)
        total = webrtc_in + webrtc_out
        prom.wait("%d streams scraped" % total, lambda t=total: prom.query("sum(wcs_streams) == %d" % t), timeout=15)
        time.sleep(1)
    png = site["tmp"] / "dashboard.png"
    snap = subprocess.run([sys.executable, str(SNAPSHOT), "--prometheus", prom.base, "--dashboard", str(DASHBOARD),
                           "--minutes", "1", "--step", "1s", "--output", str(png), "--require-data"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert snap.returncode == 0, snap.stdout + snap.stderr
    height, width = matplotlib.image.imread(str(png)).shape[:2]
    assert 1000 < width < 4000 and 1000 < height < 4000, (width, height)
    stamp("dashboard snapshot %s (%dx%d)" % (png, width, height))

    # the monitoring role again with the same plan (read back from the exporter's targets file): no change
    targets = json.loads((site["tmp"] / "mon/targets.json").read_text())
    plan = {"host": "localhost", "docker_host": site["docker_host"],
            "reserved_cpus": targets["reserved_cpus"], "containers": targets["containers"]}
    second = playbook(ROLE_ONLY, inventory=site["inventory"], extra_vars=dict(site["extra"], wcs_plan=plan))
    assert second.returncode == 0, second.stdout[-3000:]
    assert recap_changed(second.stdout) == 0, second.stdout[-3000:]
    assert {p.stem: int(p.read_text()) for p in site["run"].glob("*.pid")} == running
    stamp("second run changed nothing")

    container.stop(timeout=1)
    prom.wait("wcs_up == 0 for the stopped container", lambda: prom.query('wcs_up{container="%s"} == 0' % NAME),
              timeout=30)
    assert prom.query('up{job="wcs", container="%s"} == 1' % NAME), "the exporter itself must keep answering"
    prom.wait("WCSContainerDown pending or firing", lambda: [
        a for a in prom.get("/api/v1/alerts")["data"]["alerts"]
        if a["labels"]["alertname"] == "WCSContainerDown" and a["labels"]["container"] == NAME], timeout=15)
    stamp("stopped container is wcs_up 0")

    # basic auth and TLS (Prometheus' web.config.file) on the node exporter and Prometheus
    secure = web_config(site["tmp"])
    third = playbook(ROLE_ONLY, inventory=site["inventory"], extra_vars=dict(site["extra"], wcs_plan=plan, **secure))
    assert third.returncode == 0, third.stdout[-3000:]  # its readiness checks passed with TLS and the password
    assert "s3cret-scrape" not in third.stdout + third.stderr
    node = "https://127.0.0.1:%d/metrics" % site["ports"]["node"]
    assert https_status(node) == 401 and https_status(node, auth=True) == 200
    targets_url = "https://127.0.0.1:%d/api/v1/targets" % site["ports"]["prom"]
    assert https_status(targets_url) == 401

    def node_up_with_auth():
        active = json.loads(https_body(targets_url))["data"]["activeTargets"]
        return [t for t in active if t["labels"]["job"] in ("node", "prometheus") and t["health"] == "up"]

    deadline = time.monotonic() + 30
    while len(node_up_with_auth()) < 2 and time.monotonic() < deadline:
        time.sleep(1)
    assert len(node_up_with_auth()) == 2, https_body(targets_url)[:2000]
    prom_config = (site["tmp"] / "prometheus/prometheus.yml").read_text()
    assert "s3cret-scrape" not in prom_config and "password_file" in prom_config
    for secret in ("web-config.yml", "scrape-password"):
        assert (site["tmp"] / "mon" / secret).stat().st_mode & 0o777 == 0o640, secret
    stamp("basic auth and TLS on node exporter and Prometheus")
    running = {p.stem: int(p.read_text()) for p in site["run"].glob("*.pid")}

    down = playbook(ROLE_ONLY, inventory=site["inventory"], extra_vars=dict(site["extra"], wcs_monitoring_state="absent"))
    assert down.returncode == 0, down.stdout[-3000:]
    assert not any(pid_alive(pid) for pid in running.values())
    assert not list(site["run"].glob("*.pid"))
    assert not (site["tmp"] / "mon/web-config.yml").exists() and not (site["tmp"] / "mon/scrape-password").exists()
    gone = playbook("mediaops.wcs.teardown", inventory=site["inventory"], extra_vars=site["extra"])
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert not docker_client.containers.list(all=True, filters={"name": "wcst-mon-site-"})
    stamp("torn down")

"""The monitoring role end to end with the real tools: emulator containers on macvlan (the host cannot reach them
through the parent), the WCS exporter reaching them from inside their network namespaces, Debian's node exporter,
a real Prometheus with the role's promtool-checked configuration, every dashboard query, a container stopped
mid-test, the second run changing nothing, and the teardown stopping every process by its pidfile."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from monhelpers import Prom, dashboard_exprs, free_port, online_cpus, pid_alive, set_streams, stop_pid

HERE = Path(__file__).resolve().parent
PLAYBOOK = HERE / "playbooks/monitoring.yml"
pytestmark = pytest.mark.slow


def recap_changed(stdout):
    line = [l for l in stdout.splitlines() if l.startswith("localhost")][-1]
    return int(line.split("changed=")[1].split()[0])


@pytest.fixture
def stack(macvlan_containers, tmp_path, playbook):
    ports = {"prom": free_port(), "node": free_port(), "exporter": free_port()}
    base = tmp_path / "mon"
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "wcs_hosts": {"hosts": {"localhost": {
            # as inventories/lab does: the venv's interpreter (it has prometheus-client for the exporter)
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}},
        "grafana": {"hosts": {"localhost": {}}}}}}))
    reserved = str(online_cpus()[0])
    plan = {"host": "localhost", "docker_host": "unix:///var/run/docker.sock", "reserved_cpus": reserved,
            "containers": [{"name": n, "cpuset": macvlan_containers["cpuset"], "ipv4_address": a}
                           for n, a in macvlan_containers["addresses"].items()]}
    extra = {
        "wcs_plan": plan,
        "wcs_monitoring_service_manager": "none",
        "wcs_monitoring_install_packages": False,
        "wcs_monitoring_base_dir": str(base),
        "wcs_monitoring_prometheus_config_dir": str(tmp_path / "prometheus"),
        "wcs_monitoring_prometheus_port": ports["prom"],
        "wcs_monitoring_node_exporter_port": ports["node"],
        "wcs_monitoring_exporter_port": ports["exporter"],
        # only the planned containers: other helpers' labelled containers may run on this engine
        "wcs_monitoring_exporter_docker_discovery": False,
        "wcs_monitoring_scrape_interval": "1s",
        "wcs_monitoring_scrape_timeout": "1s",
        "wcs_monitoring_node_exporter_extra_args": ["--collector.disable-defaults", "--collector.cpu",
                                                    "--collector.netdev", "--collector.meminfo"],
        "wcs_monitoring_grafana_provisioning_dir": str(tmp_path / "grafana/provisioning"),
        "wcs_monitoring_grafana_dashboards_dir": str(tmp_path / "grafana/dashboards"),
    }
    state = {"inventory": inventory, "extra": extra, "ports": ports, "base": base, "reserved": reserved,
             "tmp": tmp_path}
    yield state
    # the test ends with the role's teardown; when it failed before that, stop what is left, by pidfile
    for pidfile in (base / "run").glob("*.pid") if (base / "run").exists() else []:
        stop_pid(int(pidfile.read_text()))


def stamp(what, start=[]):  # noqa: B006 - progress with times, shown with -s
    import time
    start.append(start[0] if start else time.monotonic())
    print("[%6.1fs] %s" % (time.monotonic() - start[0], what), flush=True)


def pids(base):
    return {p.stem: int(p.read_text()) for p in (base / "run").glob("*.pid")}


def test_role_deploys_a_prometheus_that_answers_every_dashboard_query(stack, macvlan_containers, playbook):
    for name, container in macvlan_containers["containers"].items():
        set_streams(container, streams_webrtc_in=4, streams_webrtc_out=3, degraded_streams=1 if name.endswith("1") else 0)

    stamp("role run 1")
    first = playbook(PLAYBOOK, inventory=stack["inventory"], extra_vars=stack["extra"])
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    running = pids(stack["base"])
    assert set(running) == {"wcs-exporter", "node-exporter", "prometheus"}, running
    for name, pid in running.items():
        assert pid_alive(pid), name
        # pinned to the host's reserved CPUs, never the containers'
        affinity = Path("/proc/%d/status" % pid).read_text().split("Cpus_allowed_list:")[1].split()[0]
        assert affinity == stack["reserved"], (name, affinity)

    # the generated configuration: per-host node/exporter files, one target per container
    sd = stack["tmp"] / "prometheus/file_sd/mediaops-wcs"
    wcs_targets = json.loads((sd / "wcs/localhost.json").read_text())
    assert sorted(t["labels"]["__param_container"] for t in wcs_targets) == sorted(macvlan_containers["addresses"])
    assert json.loads((sd / "node/localhost.json").read_text())[0]["labels"] == {"host": "localhost"}

    # Grafana provisioning files (a grafana group host exists in this inventory)
    graf = stack["tmp"] / "grafana"
    assert json.loads((graf / "dashboards/wcs-dashboard.json").read_text())["uid"] == "mediaops-wcs"
    source = yaml.safe_load((graf / "provisioning/datasources/mediaops-wcs.yml").read_text())
    assert source["datasources"][0]["url"] == "http://127.0.0.1:%d" % stack["ports"]["prom"]
    assert yaml.safe_load((graf / "provisioning/dashboards/mediaops-wcs.yml").read_text())[
        "providers"][0]["options"]["path"] == str(graf / "dashboards")

    stamp("checks done")
    prom = Prom(stack["ports"]["prom"])
    def health():
        return sorted((t["labels"]["job"], t["labels"]["instance"], t["health"]) for t in prom.targets())

    # prometheus itself, node, wcs_exporter, and one wcs target per container
    prom.wait("every target up", lambda: (lambda h: len(h) == 5 and all(x[2] == "up" for x in h))(health()),
              timeout=30, show=health)
    prom.wait("both containers up", lambda: len(prom.query("wcs_up == 1")) == 2, timeout=30)
    # enough samples for the rate() panels
    prom.wait("rates", lambda: prom.query('rate(node_cpu_seconds_total{host="localhost"}[15s])'), timeout=30)

    stamp("targets up")
    empty = []
    for title, expr in dashboard_exprs():
        result = prom.query(expr)
        if not result:
            empty.append((title, expr))
    assert not empty, "dashboard queries without data:\n" + "\n".join("%s: %s" % e for e in empty)

    share = prom.query('sum(wcs_degraded_streams) / clamp_min(sum(wcs_streams), 1)')
    assert float(share[0]["value"][1]) == pytest.approx(1 / 14)
    groups = {r["metric"]["group"] for r in prom.query("wcs_cpu_group")}
    assert {"host-reserved"} < groups or groups == {"host-reserved+wcst-mon-1+wcst-mon-2"}

    stamp("queries done")
    # second run: nothing to change, no process replaced
    second = playbook(PLAYBOOK, inventory=stack["inventory"], extra_vars=stack["extra"])
    assert second.returncode == 0, second.stdout[-3000:]
    assert recap_changed(second.stdout) == 0, second.stdout[-3000:]
    assert pids(stack["base"]) == running

    stamp("rerun done")
    # a container stopped mid-test is a metric, not an exporter failure
    macvlan_containers["containers"]["wcst-mon-2"].stop(timeout=1)
    prom.wait("wcs_up == 0 for the stopped container",
              lambda: prom.query('wcs_up{container="wcst-mon-2"} == 0'), timeout=30)
    assert prom.query('wcs_up{container="wcst-mon-1"} == 1')
    assert prom.query('up{job="wcs", container="wcst-mon-2"} == 1'), "the exporter itself must keep answering"

    stamp("stopped container seen")
    # teardown stops every process the role started
    down = playbook(PLAYBOOK, inventory=stack["inventory"], extra_vars=dict(stack["extra"], wcs_monitoring_state="absent"))
    assert down.returncode == 0, down.stdout[-3000:]
    for name, pid in running.items():
        assert not pid_alive(pid), name

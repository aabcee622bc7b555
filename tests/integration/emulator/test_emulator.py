"""The WCS emulator image (tests/emulator) against the real engine.

Containers run on the default bridge (the host reaches bridge addresses), are named `wcst-emu-*` and are removed
afterwards. Addresses are documentation ranges; they are only echoed by the emulator, never routed.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[3]
INSTALL_CONF = "/usr/local/FlashphonerWebCallServer/conf"
CONTROL = "/var/lib/wcs-emulator/streams"

# The seed article's flashphoner.properties (ip / ip_local empty: the env fills them), media ports widened.
SEED_FLASHPHONER = """#server ip
ip                     =
ip_local               =

#webrtc ports range
media_port_from        =31001
media_port_to          =40000

codecs                   =opus,alaw,ulaw,g729,speex16,g722,mpeg4-generic,telephone-event,h264,vp8,flv,mpv
codecs_exclude_sip       =mpeg4-generic,flv,mpv
codecs_exclude_streaming =flv,telephone-event
codecs_exclude_sip_rtmp  =opus,g729,g722,mpeg4-generic,vp8,mpv

#websocket ports
ws.port                 =8080
wss.port                =8443
"""

SEED_CORE = """# Set this property to false to disable session debug
### SERVER OPTIONS ###
-Dcom.sun.management.jmxremote.port=50999
### JVM OPTIONS ###
-Xms6g
-Xmx6g
-XX:+UnlockExperimentalVMOptions -XX:+UseZGC
"""


def parse_stat(text):
    """The stat page by its rule: dash lines are section headers, every other line is key=value."""
    sections, values = [], {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("-"):
            sections.append(line.strip("-").strip())
            continue
        key, sep, value = line.partition("=")
        assert sep, "stat line is neither a header nor key=value: %r" % line
        values[key] = value
    return sections, values


def request(ip, method, path, body=None, timeout=3):
    conn = http.client.HTTPConnection(ip, 8081, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), data.decode()
    finally:
        conn.close()


def write_conf(directory, flashphoner=SEED_FLASHPHONER, core=SEED_CORE):
    directory.mkdir(parents=True, exist_ok=True)
    if flashphoner is not None:
        (directory / "flashphoner.properties").write_text(flashphoner)
    if core is not None:
        (directory / "wcs-core.properties").write_text(core)
    return directory


@pytest.fixture
def run_emulator(docker_client, emulator_image):
    """Factory: run_emulator(tag="test", conf_dir=None, env=None, volumes=None) -> started container."""
    made = []

    def run(tag="test", conf_dir=None, env=None, volumes=None):
        volumes = dict(volumes or {})
        if conf_dir is not None:
            volumes[str(conf_dir)] = {"bind": "/conf", "mode": "ro"}
        container = docker_client.containers.run(
            "mediaops/wcs-emulator:%s" % tag, detach=True, name="wcst-emu-%s" % uuid.uuid4().hex[:8],
            environment=env or {}, volumes=volumes)
        made.append(container)
        return container

    yield run
    for container in made:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass


def bridge_ip(container):
    container.reload()
    ip = container.attrs["NetworkSettings"]["IPAddress"]
    assert ip, "container %s has no bridge address (state %s)" % (container.name, container.status)
    return ip


def wait_stat(container, deadline_s=10.0, query="/?action=stat"):
    """Polls the stat page until it answers 200 (bounded); returns its body."""
    ip = bridge_ip(container)
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        try:
            status, _headers, body = request(ip, "GET", query, timeout=2)
            if status == 200:
                return body
            last = "HTTP %s" % status
        except OSError as exc:
            last = exc
        container.reload()
        if container.status == "exited":
            break
        time.sleep(0.1)
    raise AssertionError("stat page of %s did not answer (%s); logs:\n%s"
                         % (container.name, last, container.logs().decode()))


def stats(container):
    return parse_stat(wait_stat(container))[1]


def exited(container, timeout=10):
    """Waits (bounded) for the container to exit; returns (exit code, logs)."""
    result = container.wait(timeout=timeout)
    return result["StatusCode"], container.logs(stdout=True, stderr=True).decode()


def exec_ok(container, cmd):
    rc, out = container.exec_run(cmd)
    assert rc == 0, "%s failed (%s): %s" % (cmd, rc, out.decode())
    return out.decode()


def test_conf_dir_is_applied_and_ip_filled_from_env(tmp_path, run_emulator):
    conf = write_conf(tmp_path / "conf")
    c = run_emulator(conf_dir=conf, env={"EXTERNAL_IP": "203.0.113.5", "LOCAL_IP": "198.51.100.5"})
    sections, s = parse_stat(wait_stat(c))
    assert {"Connection", "Stream", "System", "Core"} <= {h.split()[0] for h in sections}
    assert s["config_ip"] == "203.0.113.5"
    assert s["config_ip_local"] == "198.51.100.5"
    assert (s["config_media_port_from"], s["config_media_port_to"]) == ("31001", "40000")
    assert s["config_heap_max"] == "6g"
    assert int(s["core_java_heap_max"]) == 6 * 2 ** 30
    assert s["config_zgc"] == "true"
    assert s["emulator_version"] == "1.0.0"
    # Even media ports only, one per WebRTC stream: 31002..40000 -> 4500 free with no streams.
    assert s["ports_media_free"] == "4500" and s["ports_media_busy"] == "0"
    assert 0.0 <= float(s["system_java_cpu_usage"]) <= 100.0
    assert int(s["system_memory_total"]) >= int(s["system_memory_free"]) > 0
    # The copy in the install dir got ip / ip_local filled, keeping the seed's alignment.
    fp = exec_ok(c, ["cat", INSTALL_CONF + "/flashphoner.properties"])
    assert "ip                     =203.0.113.5\n" in fp
    assert "ip_local               =198.51.100.5\n" in fp
    assert exec_ok(c, ["cat", INSTALL_CONF + "/wcs-core.properties"]) == SEED_CORE
    logs = c.logs().decode()
    assert "ip=203.0.113.5 ip_local=198.51.100.5 media_ports=31001-40000" in logs


def test_stat_json_has_the_same_keys_and_values(tmp_path, run_emulator):
    c = run_emulator(conf_dir=write_conf(tmp_path / "conf"), env={"LOCAL_IP": "198.51.100.6"})
    text = stats(c)
    data = json.loads(wait_stat(c, query="/?action=stat&format=json"))
    assert set(data) == set(text)
    assert data["config_ip_local"] == "198.51.100.6"
    assert data["config_zgc"] is True and data["config_media_port_to"] == 40000
    volatile = {"system_java_cpu_usage", "system_memory_free", "core_java_freePhysicalMemorySize"}
    for key in set(text) - volatile:
        assert str(data[key]).lower() == text[key].lower(), key


def test_bind_mounted_single_files(tmp_path, run_emulator):
    fp = tmp_path / "flashphoner.properties"
    fp.write_text("ip=203.0.113.9\nip_local = 198.51.100.1\nmedia_port_from = 31002\nmedia_port_to=31100\n")
    core = tmp_path / "wcs-core.properties"
    core.write_text("-Xmx512m\n")
    before = fp.read_bytes()
    c = run_emulator(env={"LOCAL_IP": "198.51.100.9"}, volumes={
        str(fp): {"bind": INSTALL_CONF + "/flashphoner.properties", "mode": "ro"},
        str(core): {"bind": INSTALL_CONF + "/wcs-core.properties", "mode": "ro"},
    })
    s = stats(c)
    assert s["config_ip"] == "203.0.113.9"  # from the file: EXTERNAL_IP is not set
    assert s["config_ip_local"] == "198.51.100.9"  # the env wins over the file
    assert (s["config_media_port_from"], s["config_media_port_to"]) == ("31002", "31100")
    assert s["ports_media_free"] == "50"
    assert s["config_heap_max"] == "512m" and int(s["core_java_heap_max"]) == 512 * 2 ** 20
    assert s["config_zgc"] == "false"
    assert fp.read_bytes() == before, "the emulator must not rewrite a bind-mounted file"


@pytest.mark.parametrize("flashphoner, core, expected", [
    ("ip=203.0.113.5\n# fine\nthis is not a property\n", SEED_CORE, "/conf/flashphoner.properties:3: "),
    (SEED_FLASHPHONER, None, "/conf/wcs-core.properties:0: missing"),
    (SEED_FLASHPHONER, "-Xms1g\n-Xmx16q\n", "/conf/wcs-core.properties:2: -Xmx needs a size"),
    (SEED_FLASHPHONER, "### JVM OPTIONS ###\nXmx16g\n", "/conf/wcs-core.properties:2: options must start with '-'"),
    ("media_port_from=abc\n", SEED_CORE, "/conf/flashphoner.properties:1: media_port_from must be a port"),
], ids=["malformed-line", "missing-core", "bad-xmx", "option-without-dash", "bad-port"])
def test_bad_property_files_refuse_to_start(tmp_path, run_emulator, flashphoner, core, expected):
    c = run_emulator(conf_dir=write_conf(tmp_path / "conf", flashphoner, core))
    code, logs = exited(c)
    assert code != 0
    assert "wcs-emulator: " + expected in logs, logs
    assert "serving http" not in logs


def test_control_file_drives_stats_find_all_and_terminate(tmp_path, run_emulator):
    c = run_emulator(conf_dir=write_conf(tmp_path / "conf"), env={"LOCAL_IP": "198.51.100.5"})
    ip = bridge_ip(c)
    assert stats(c)["connections"] == "0"
    assert request(ip, "GET", "/rest-api/stream/find_all")[2].strip() == "[]"

    exec_ok(c, ["sh", "-c", "printf 'streams_webrtc_in=3\\nstreams_webrtc_out=2\\ndegraded_streams=1\\n' > " + CONTROL])
    s = stats(c)
    assert (s["streams_webrtc_in"], s["streams_webrtc_out"], s["degraded_streams"]) == ("3", "2", "1")
    assert s["connections"] == "5" and s["streams_viewers"] == "2"
    assert float(s["degraded_streams_percent"]) == 20.0
    assert s["ports_media_busy"] == "5" and s["ports_media_free"] == "4495"

    for method, body in (("GET", None), ("POST", "{}"), ("POST", "")):
        status, headers, text = request(ip, method, "/rest-api/stream/find_all", body=body)
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert int(headers["Content-Length"]) == len(text.encode())
        streams = json.loads(text)
        assert len(streams) == 5
        pubs = [x for x in streams if x["published"]]
        plays = [x for x in streams if not x["published"]]
        assert len(pubs) == 3 and len(plays) == 2
        assert {x["status"] for x in pubs} == {"PUBLISHING"} and {x["mediaType"] for x in pubs} == {"publish"}
        assert {x["status"] for x in plays} == {"PLAYING"} and {x["mediaType"] for x in plays} == {"play"}
        assert {x["name"] for x in plays} <= {x["name"] for x in pubs}
        for x in streams:
            assert x["mediaProvider"] == "WebRTC" and x["hasAudio"] is True and x["hasVideo"] is True
            assert isinstance(x["createDate"], int) and x["sessionId"] and x["mediaSessionId"]
        assert len({x["mediaSessionId"] for x in streams}) == 5

    # Any stat key can be set; an explicit value wins over the derived one.
    exec_ok(c, ["sh", "-c", "echo connections=42 >> " + CONTROL])
    assert stats(c)["connections"] == "42"

    assert request(ip, "POST", "/rest-api/stream/terminate", body="{}")[0] == 200
    s = stats(c)
    assert all(s[k] == "0" for k in ("streams_webrtc_in", "streams_webrtc_out", "degraded_streams", "connections"))
    assert request(ip, "POST", "/rest-api/stream/find_all", body="{}")[2].strip() == "[]"
    assert request(ip, "POST", "/rest-api/stream/terminate", body='{"name": "x"}')[0] == 400
    assert request(ip, "GET", "/rest-api/no/such")[0] == 404


def test_find_with_metrics_from_the_control_file(tmp_path, run_emulator):
    """find with "display": ["metrics"] (WCS 5.2.923+): the same streams as find_all, each with a metrics object
    whose figures the control file sets (a comma list goes round the streams); stream_metrics=false is an older
    build (no metrics objects). The page and find_all are as before."""
    c = run_emulator(conf_dir=write_conf(tmp_path / "conf"), env={"LOCAL_IP": "198.51.100.5"})
    ip = bridge_ip(c)
    stats(c)
    metrics_body = json.dumps({"display": ["metrics"]})
    assert request(ip, "POST", "/rest-api/stream/find", body=metrics_body)[2].strip() == "[]"
    exec_ok(c, ["sh", "-c", "printf 'streams_webrtc_in=2\\nstreams_webrtc_out=1\\nmetric_VIDEO_RATE=1000000,500000\\n"
                            "metric_VIDEO_NACK=7\\nmetric_AUDIO_LOST=bad\\nmetric_JITTER=4\\n' > " + CONTROL])
    status, headers, text = request(ip, "POST", "/rest-api/stream/find", body=metrics_body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    streams = json.loads(text)
    plain = json.loads(request(ip, "POST", "/rest-api/stream/find_all", body="{}")[2])
    assert [{k: v for k, v in x.items() if k != "metrics"} for x in streams] == plain
    assert all("metrics" not in x for x in plain)
    assert [list(x["metrics"]) for x in streams] == [["VIDEO_RATE", "AUDIO_RATE", "VIDEO_FPS", "VIDEO_NACK", "VIDEO_PLI",
                                                      "VIDEO_LOST", "AUDIO_LOST", "JITTER"]] * 3
    assert [x["metrics"]["VIDEO_RATE"] for x in streams] == [1000000, 500000, 1000000]
    assert {x["metrics"]["VIDEO_NACK"] for x in streams} == {7}
    assert {x["metrics"]["AUDIO_LOST"] for x in streams} == {0} and {x["metrics"]["JITTER"] for x in streams} == {4}
    # find without the metrics display, and an older build: no metrics objects
    assert json.loads(request(ip, "POST", "/rest-api/stream/find", body="{}")[2]) == plain
    exec_ok(c, ["sh", "-c", "echo stream_metrics=false >> " + CONTROL])
    assert json.loads(request(ip, "POST", "/rest-api/stream/find", body=metrics_body)[2]) == plain
    # the metric controls are the stream list's, never statistics-page keys
    page = wait_stat(c)
    assert "metric_" not in page and "stream_metrics" not in page
    assert "metric_" not in wait_stat(c, query="/?action=stat&format=json")
    # terminate keeps the figures for the next streams, ends the streams
    assert request(ip, "POST", "/rest-api/stream/terminate", body="{}")[0] == 200
    assert request(ip, "POST", "/rest-api/stream/find", body=metrics_body)[2].strip() == "[]"
    assert "metric_VIDEO_RATE=1000000,500000" in exec_ok(c, ["cat", CONTROL])


def test_secrets_never_appear(tmp_path, run_emulator):
    password, licence = "pw-%s" % uuid.uuid4().hex, "lic-%s" % uuid.uuid4().hex
    c = run_emulator(conf_dir=write_conf(tmp_path / "conf"),
                     env={"PASSWORD": password, "LICENSE": licence, "EXTERNAL_IP": "203.0.113.7"})
    text = wait_stat(c)
    s = parse_stat(text)[1]
    assert s["config_password_set"] == "true" and s["config_license_set"] == "true"
    pages = text + wait_stat(c, query="/?action=stat&format=json")
    pages += request(bridge_ip(c), "GET", "/rest-api/stream/find_all")[2]
    logs = c.logs(stdout=True, stderr=True).decode()
    where = "%s /var/lib/wcs-emulator /conf" % INSTALL_CONF
    for secret in (password, licence):
        assert secret not in pages and secret not in logs
        rc, out = c.exec_run(["sh", "-c", "grep -rlF %s %s" % (secret, where)])
        assert rc == 1, "secret found in %s" % out.decode()
    # The same grep does find a value that is written (so the check above can fail).
    assert c.exec_run(["sh", "-c", "grep -rlF 203.0.113.7 %s" % where])[0] == 0


def test_unset_secrets_are_reported_unset(tmp_path, run_emulator):
    s = stats(run_emulator(conf_dir=write_conf(tmp_path / "conf")))
    assert s["config_password_set"] == "false" and s["config_license_set"] == "false"
    assert s["config_ip"] == "" and s["config_ip_local"] == ""


def test_listens_on_the_ports_a_real_wcs_opens(tmp_path, run_emulator):
    """ws / wss (from ws.port / wss.port), https 8444 answer HTTP; the admin CLI on 2001 prints a banner: firewall
    tests need something behind each port they close or open."""
    c = run_emulator(conf_dir=write_conf(tmp_path / "conf", SEED_FLASHPHONER + "ws.port=9080\n"))
    ip = bridge_ip(c)
    wait_stat(c)
    for port in (9080, 8443, 8444):
        conn = http.client.HTTPConnection(ip, port, timeout=3)
        conn.request("GET", "/?action=stat")
        assert conn.getresponse().status == 200, port
        conn.close()
    with socket.create_connection((ip, 2001), timeout=3) as sock:
        sock.settimeout(3)
        assert sock.recv(64).startswith(b"wcs-emulator admin CLI")
    with pytest.raises(OSError):
        socket.create_connection((ip, 8080), timeout=1).close()  # ws moved to 9080


def test_broken_runs_but_never_serves(tmp_path, run_emulator):
    c = run_emulator(tag="broken", conf_dir=write_conf(tmp_path / "conf"), env={"LOCAL_IP": "198.51.100.5"})
    ip = bridge_ip(c)
    end = time.monotonic() + 3
    while time.monotonic() < end:
        with pytest.raises(OSError):
            socket.create_connection((ip, 8081), timeout=0.5).close()
        time.sleep(0.2)
    c.reload()
    assert c.status == "running"
    logs = c.logs().decode()
    assert "ip_local=198.51.100.5" in logs and "broken variant" in logs


def test_next_is_healthy_with_another_version(tmp_path, run_emulator):
    conf = write_conf(tmp_path / "conf")
    versions = {stats(run_emulator(tag=t, conf_dir=conf))["emulator_version"] for t in ("test", "next")}
    assert versions == {"1.0.0", "1.1.0"}


def test_docker_stop_is_prompt(tmp_path, run_emulator):
    c = run_emulator(conf_dir=write_conf(tmp_path / "conf"))
    wait_stat(c)
    start = time.monotonic()
    c.stop(timeout=10)
    took = time.monotonic() - start
    c.reload()
    assert took < 3, "docker stop took %.1fs: SIGTERM is not handled" % took
    assert c.attrs["State"]["ExitCode"] == 0


def test_command_override_runs_the_command(docker_client, emulator_image):
    out = docker_client.containers.run(emulator_image, ["sh", "-c", "echo hello"], remove=True,
                                       name="wcst-emu-cmd-%s" % uuid.uuid4().hex[:6])
    assert out.decode().strip() == "hello"


def test_build_is_idempotent_and_honours_docker_host(emulator_image):
    env = dict(os.environ, DOCKER_HOST="unix:///var/run/docker.sock")
    for attempt in (1, 2):  # the first run rebuilds only if the sources changed since the last build
        proc = subprocess.run([str(ROOT / "tests/emulator/build.sh")], capture_output=True, text=True, env=env,
                              timeout=120, check=False)
        assert proc.returncode == 0, "build %d failed: %s" % (attempt, proc.stderr)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 3 and all(" is current " in x for x in lines), proc.stdout
    assert all("unix:///var/run/docker.sock" in x for x in lines)

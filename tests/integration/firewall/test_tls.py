"""wcs_tls for real on the private engine: keystores written 0600 into the conf directories, check/diff modes, no
key in any output, idempotence, and a changed certificate restarting only its own container (which answers again
before the module returns). Certificates are made here (cryptography), never committed."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import docker
import pytest

from fwhelpers import ENGINE_SOCK, PREFIX, ROOT

sys.path.insert(0, str(ROOT / "tests/unit/plugins/module_utils"))
from certs import PKI  # noqa: E402

IMAGE = "mediaops/wcs-emulator:test"
NAMES = (PREFIX + "tls-1", PREFIX + "tls-2")


@pytest.fixture(scope="module")
def tls_set(fw_engine, tmp_path_factory):
    _host, _engine, client = fw_engine
    client = docker.DockerClient(base_url=ENGINE_SOCK, timeout=60, version="1.41")
    root = tmp_path_factory.mktemp("wcstf-tls")
    items = []
    for name in NAMES:
        conf = root / name / "conf"
        conf.mkdir(parents=True)
        (conf / "flashphoner.properties").write_text("media_port_from=31001\nmedia_port_to=31100\n")
        (conf / "wcs-core.properties").write_text("### JVM OPTIONS ###\n-Xms256m -Xmx256m\n")
        c = client.containers.run(IMAGE, name=name, detach=True, labels={"mediaops.wcs.managed": "true"},
                                  volumes={str(conf): {"bind": "/conf", "mode": "ro"}})
        c.reload()
        items.append({"name": name, "conf_dir": str(conf), "ipv4_address": c.attrs["NetworkSettings"]["IPAddress"],
                      "external_ip": "203.0.113.4", "cpuset": "0"})
    yield {"items": items, "client": client}
    for name in NAMES:
        try:
            client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass
    client.close()


def started_at(client, name):
    return client.api.inspect_container(name)["State"]["StartedAt"]


def test_keystores_rolled_out_only_where_changed(tls_set, module):
    pki = PKI()
    cert, chain, key = pki.bundle_pem()
    args = dict(docker_host=ENGINE_SOCK, containers=tls_set["items"], certificate=cert, chain=chain, private_key=key,
                keystore_password="Wcs-Keystore-Pw", restart=True, wait_timeout=30)
    client = tls_set["client"]

    check = module("wcs_tls", args, check=True, diff=True)
    assert not check.get("failed"), check.get("msg")
    assert sorted(check["changed_containers"]) == sorted(NAMES)
    assert not any((Path(i["conf_dir"]) / "wss.jks").exists() for i in tls_set["items"])

    before = {n: started_at(client, n) for n in NAMES}
    first = module("wcs_tls", args, diff=True)
    assert not first.get("failed"), first.get("msg")
    assert all(first["containers"][n]["restarted"] for n in NAMES)
    for item in tls_set["items"]:
        path = Path(item["conf_dir"]) / "wss.jks"
        assert path.stat().st_mode & 0o777 == 0o600
    for out in (check, first):
        text = out["_stdout"] + out["_stderr"]
        assert key.splitlines()[1] not in text and "Wcs-Keystore-Pw" not in text
        assert "PRIVATE KEY" not in text
    assert "media1.example.net" in str(first["diff"])

    again = module("wcs_tls", args)
    assert not again["changed"] and again["changed_containers"] == []

    # A new certificate for the second container only: only it restarts.
    mid = {n: started_at(client, n) for n in NAMES}
    assert all(mid[n] != before[n] for n in NAMES)
    cert2, chain2, key2 = pki.bundle_pem()
    per = dict(args, per_container={NAMES[1]: {"certificate": cert2, "chain": chain2, "private_key": key2}})
    third = module("wcs_tls", per)
    assert third["changed_containers"] == [NAMES[1]], third
    assert started_at(client, NAMES[0]) == mid[NAMES[0]]
    assert started_at(client, NAMES[1]) != mid[NAMES[1]]
    assert key2.splitlines()[1] not in third["_stdout"] + third["_stderr"]


def test_bad_certificate_changes_nothing(tls_set, module):
    pki = PKI()
    cert, chain, _key = pki.bundle_pem()
    _c2, _ch2, other_key = pki.bundle_pem()
    paths = [Path(i["conf_dir"]) / "wss.jks" for i in tls_set["items"]]
    stamps = [p.stat().st_mtime_ns if p.exists() else None for p in paths]
    res = module("wcs_tls", dict(docker_host=ENGINE_SOCK, containers=tls_set["items"], certificate=cert, chain=chain,
                                 private_key=other_key, restart=True))
    assert res.get("failed") and "wcs_tls_private_key" in res["msg"] and "does not match" in res["msg"]
    assert other_key.splitlines()[1] not in res["_stdout"] + res["_stderr"]
    assert [p.stat().st_mtime_ns if p.exists() else None for p in paths] == stamps
    time.sleep(0)

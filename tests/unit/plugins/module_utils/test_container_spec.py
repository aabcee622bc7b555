"""container_spec: normalisation, set validation, intent-based differences (the anchor tracker's traps)."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils.container_spec import (
    SECRET_LABEL, SPEC_LABEL, desired_container, differences, environment_for, labels_for, merged_items,
    normalise_image, parse_memory, public_view, secret_hash, validate_set)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

TOP = dict(image="flashphoner/webcallserver", network="wcs-net", password="pw", license=None, conf_dir=None,
           env={"TZ": "UTC"}, memory=None, restart_policy="unless-stopped", ulimits=None, labels={}, state="started",
           pull="missing", wait=False, cpuset_mems=None)


def one(**item):
    base = dict(name="wcs-1", cpuset="2-3", ipv4_address="203.0.113.4", local_ip="203.0.113.4")
    base.update(item)
    return desired_container(merged_items(TOP, [base])[0])


def inspect_of(d, image_id="sha256:aaa"):
    """What the engine reports for a container created from d (the parts the module reads)."""
    spec = d["spec"]
    env = ["PATH=/usr/bin"] + ["%s=%s" % kv for kv in environment_for(d).items()]
    ipam = {"IPv4Address": spec["ipv4_address"]} if spec["ipv4_address"] else None
    networks = {spec["network"] or "bridge": {"IPAMConfig": ipam, "IPAddress": spec["ipv4_address"] or "172.17.0.2"}}
    return {
        "Image": image_id,
        "Config": {"Image": d["spec"]["image"].replace(":latest", ""), "Env": env,
                   "Labels": dict(labels_for(d), **{"org.image.label": "x"})},
        "HostConfig": {"CpusetCpus": spec["cpuset"] or "", "CpusetMems": spec["cpuset_mems"] or "",
                       "Memory": spec["memory"] or 0, "RestartPolicy": {"Name": spec["restart_policy"]},
                       "NetworkMode": spec["network"] or "default",
                       "Ulimits": [{"Name": u["name"], "Soft": u["soft"], "Hard": u["hard"]}
                                   for u in spec["ulimits"]] or None},
        "NetworkSettings": {"Networks": networks},
        "Mounts": [{"Destination": "/conf", "Source": spec["conf_dir"]}] if spec["conf_dir"] else [],
    }


@pytest.mark.parametrize("given_,want", [
    ("busybox", "busybox:latest"), ("docker.io/library/busybox:1.36", "busybox:1.36"),
    ("docker.io/flashphoner/webcallserver", "flashphoner/webcallserver:latest"),
    ("registry:5000/wcs", "registry:5000/wcs:latest"), ("wcs@sha256:abc", "wcs@sha256:abc"),
])
def test_image_forms(given_, want):
    assert normalise_image(given_) == want


def test_memory():
    assert parse_memory("24g") == 24 * 1024 ** 3
    assert parse_memory("512M") == 512 * 1024 ** 2
    assert parse_memory(None) is None
    with pytest.raises(PlanError):
        parse_memory("lots")


def test_merge_defaults_and_env():
    d = one(env={"X": 1}, cpuset=[3, 2])
    assert d["spec"]["env"] == {"TZ": "UTC", "X": "1", "LOCAL_IP": "203.0.113.4"}
    assert d["spec"]["cpuset"] == "2-3"
    assert d["secrets"] == {"password": "pw"}


def test_secrets_never_in_labels_or_spec():
    d = one(password="hunter2-secret", license="LIC-123456")
    text = json.dumps([labels_for(d), d["spec"], public_view(d["spec"], ["password"], ["license"])])
    assert "hunter2-secret" not in text and "LIC-123456" not in text
    assert labels_for(d)[SECRET_LABEL % "password"] == secret_hash("wcs-1", "password", "hunter2-secret")
    assert environment_for(d)["PASSWORD"] == "hunter2-secret"


@pytest.mark.parametrize("item,field", [
    (dict(env={"PASSWORD": "x"}), "containers[0].env.PASSWORD"),
    (dict(network="", ipv4_address="203.0.113.4"), "containers[0].ipv4_address"),
    (dict(cpuset="3-1"), "containers[0].cpuset"),
    (dict(conf_dir="relative/conf"), "containers[0].conf_dir"),
    (dict(labels={"mediaops.wcs.managed": "no"}), "containers[0].labels.mediaops.wcs.managed"),
    (dict(ulimits=[{"name": "nofile", "soft": 5, "hard": 1}]), "containers[0].ulimits[0]"),
])
def test_bad_items(item, field):
    with pytest.raises(PlanError) as err:
        one(**item)
    assert err.value.field == field


def test_no_differences_for_own_inspect_with_image_noise():
    d = one(ulimits=[{"name": "nofile", "soft": 20000, "hard": 20000}], memory="1g", conf_dir="/opt/c/")
    assert differences(d, inspect_of(d), "sha256:aaa") == []


def test_network_mode_forms():
    d = one(network="bridge", ipv4_address=None)
    assert d["spec"]["network"] is None
    assert differences(d, inspect_of(d)) == []


def test_static_ip_compared_against_ipam_config_not_live_address():
    d = one()
    ins = inspect_of(d)
    ins["NetworkSettings"]["Networks"]["wcs-net"]["IPAddress"] = "203.0.113.9"
    assert differences(d, ins) == []
    ins["NetworkSettings"]["Networks"]["wcs-net"]["IPAMConfig"] = None
    assert differences(d, ins) == ["ipv4_address"]


def test_removed_env_entry_is_noticed():
    before = one(env={"X": "1"})
    after = one()
    assert differences(after, inspect_of(before)) == ["env"]


@pytest.mark.parametrize("change,field", [
    (dict(cpuset="4-5"), "cpuset"), (dict(image="flashphoner/webcallserver:2"), "image"),
    (dict(ipv4_address="203.0.113.5"), "ipv4_address"), (dict(conf_dir="/other"), "conf_dir"),
    (dict(password="new"), "password"), (dict(license="L"), "license"), (dict(cpuset_mems="0"), "cpuset_mems"),
])
def test_each_change_is_named(change, field):
    assert differences(one(**change), inspect_of(one())) == [field]


def test_retagged_image_is_an_image_change():
    d = one()
    assert differences(d, inspect_of(d, image_id="sha256:old"), "sha256:new") == ["image"]


def test_spec_label_is_json_of_spec():
    d = one()
    assert json.loads(labels_for(d)[SPEC_LABEL]) == d["spec"]


def _set(*cpusets, names=None):
    return [one(name=(names or ["c%d" % i for i in range(len(cpusets))])[i], cpuset=c,
                ipv4_address="203.0.113.%d" % (10 + i)) for i, c in enumerate(cpusets)]


def test_overlap_in_set_refused_unless_allowed():
    with pytest.raises(PlanError) as err:
        validate_set(_set("0-3", "3-5"), range(8), {})
    assert "CPU 3 is also in c0's cpuset" in str(err.value) and "allow_shared_cpus" in str(err.value)
    validate_set(_set("0-3", "3-5"), range(8), {}, allow_shared_cpus=True)


def test_overlap_with_other_managed_container():
    with pytest.raises(PlanError) as err:
        validate_set(_set("0-3"), range(8), {"old-wcs": "2,7"})
    assert "old-wcs" in str(err.value) and "purge" in str(err.value)


def test_offline_cpu_and_duplicates():
    with pytest.raises(PlanError, match="not online"):
        validate_set(_set("0-9"), range(8), {})
    dup = _set("0", "1")
    dup[1]["spec"]["ipv4_address"] = dup[0]["spec"]["ipv4_address"]
    with pytest.raises(PlanError, match="its own address"):
        validate_set(dup, range(8), {})
    with pytest.raises(PlanError, match="its own name"):
        validate_set(_set("0", "1", names=["wcs-a", "wcs-a"]), range(8), {})


@given(st.lists(st.frozensets(st.integers(0, 15), min_size=1, max_size=4), min_size=1, max_size=4))
def test_validate_accepts_exactly_disjoint_sets(sets):
    desired = _set(*[sorted(s) for s in sets])
    disjoint = sum(len(s) for s in sets) == len(frozenset().union(*sets))
    try:
        validate_set(desired, range(16), {})
        accepted = True
    except PlanError:
        accepted = False
    assert accepted == disjoint


@given(st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,6}", fullmatch=True).filter(
    lambda k: k not in ("PASSWORD", "LICENSE", "LOCAL_IP", "EXTERNAL_IP")),
    st.text(alphabet="abc=123 ", max_size=5), max_size=4))
def test_env_roundtrip_is_idempotent(env):
    d = one(env=env)
    assert differences(d, inspect_of(d)) == []


def test_conf_files_newer_than_the_container_are_a_change():
    from ansible_collections.mediaops.wcs.plugins.module_utils.container_spec import (  # pylint: disable=C0415
        desired_container, differences, labels_for)
    item = {"name": "wcs-1", "image": "wcs:1", "conf_dir": "/opt/wcs/wcs-1/conf"}
    ran = desired_container(item)
    ran["conf_hash"] = "a" * 64
    inspect = {"Config": {"Image": "wcs:1", "Labels": labels_for(ran), "Env": []},
               "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}, "NetworkMode": "default"},
               "Mounts": [{"Destination": "/conf", "Source": "/opt/wcs/wcs-1/conf"}]}
    same, newer, unknown = (dict(desired_container(item), conf_hash=h) for h in ("a" * 64, "b" * 64, None))
    assert differences(same, inspect) == []
    assert differences(newer, inspect) == ["conf_files"]
    assert differences(unknown, inspect) == []  # a remote engine cannot hash the files: no change
    del inspect["Config"]["Labels"]["mediaops.wcs.conf_hash"]
    assert differences(newer, inspect) == []  # created before the label existed: no change

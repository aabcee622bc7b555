"""wcs_containers (and wcs_stats) on a real engine: our private dockerd (see conftest), macvlan networks on veths.

Each test builds its own network from 198.51.100.64/28 (containers) and removes everything afterwards.
"""
from __future__ import annotations

import json

import pytest

TEST = "mediaops/wcs-emulator:test"
NEXT = "mediaops/wcs-emulator:next"
BROKEN = "mediaops/wcs-emulator:broken"
SUBNET, GW = "198.51.100.64/28", "198.51.100.65"
PASSWORD, LICENSE = "pw-Zq8-never-shown", "LIC-7f3a-never-shown"


@pytest.fixture
def net(module, veth_parent, engine):
    """A macvlan network on the private engine, made by ipvlan_network; returns (name, docker_host)."""
    host = engine[0]

    def make(name="wcst-mod-c", veth="wcstm3", driver="macvlan"):
        parent = veth_parent(veth)
        res = module("ipvlan_network", dict(name=name, driver=driver, parent=parent, subnet=SUBNET, gateway=GW,
                                            docker_host=host))
        assert not res.get("failed"), res.get("msg")
        return name

    return make


def run(module, host, containers, check=False, diff=False, **top):
    args = dict(top, containers=containers, docker_host=host)
    res = module("wcs_containers", args, check=check, diff=diff)
    for secret in (PASSWORD, LICENSE):
        assert secret not in res["_stdout"] and secret not in res["_stderr"], "a secret leaked into -vvv output"
    return res


def only_this_one_running(client, old):
    """The engine holds exactly ``old`` (same id, still running) and nothing else; its current state."""
    names = sorted(c.name for c in client.containers.list(all=True))
    assert names == [old.name], names
    now = client.containers.get(old.name)
    assert now.id == old.id and now.status == "running"
    return now


def by_name(res):
    assert not res.get("failed"), res.get("msg")
    return {c["name"]: c for c in res["containers"]}


def test_lifecycle_idempotence_check_diff_and_recreate_only_the_changed(module, engine, net, conf_dir):
    host, client = engine
    network = net()
    conf_a, conf_b = conf_dir("a"), conf_dir("b")
    top = dict(image=TEST, network=network, conf_dir=conf_a, password=PASSWORD, license=LICENSE, wait=True,
               wait_timeout=30, ulimits=[{"name": "nofile", "soft": 20000, "hard": 20000}])
    c1 = dict(name="wcst-mod-c1", cpuset="0", ipv4_address="198.51.100.70", local_ip="198.51.100.70",
              external_ip="198.51.100.70", env={"A": "1", "B": "2"}, memory="256m")
    c2 = dict(name="wcst-mod-c2", cpuset=[1], ipv4_address="198.51.100.71", cpuset_mems="0")

    res = run(module, host, [c1, c2], check=True, diff=True, **top)
    assert res["changed"] and [c["action"] for c in res["containers"]] == ["created", "created"]
    assert client.containers.list(all=True) == []
    assert res["diff"]["after"]["wcst-mod-c1"]["password"] == "(changed)"

    res = run(module, host, [c1, c2], diff=True, **top)
    got = by_name(res)
    assert got["wcst-mod-c1"]["action"] == "created" and got["wcst-mod-c1"]["state"] == "running"
    assert got["wcst-mod-c2"]["cpuset"] == "1"
    ids = {n: c["id"] for n, c in got.items()}
    live = client.api.inspect_container("wcst-mod-c1")
    assert live["HostConfig"]["CpusetCpus"] == "0" and live["HostConfig"]["Memory"] == 256 * 1024 ** 2
    assert live["NetworkSettings"]["Networks"][network]["IPAddress"] == "198.51.100.70"
    assert {"PASSWORD=" + PASSWORD, "LICENSE=" + LICENSE, "LOCAL_IP=198.51.100.70", "A=1"} <= set(
        live["Config"]["Env"])
    assert [m["Source"] for m in live["Mounts"] if m["Destination"] == "/conf"] == [conf_a]
    assert live["HostConfig"]["Ulimits"] == [{"Name": "nofile", "Hard": 20000, "Soft": 20000}]
    assert PASSWORD not in json.dumps(live["Config"]["Labels"])

    c3 = dict(name="wcst-mod-c3", ipv4_address="198.51.100.73")  # never changes: its id must stay
    res = run(module, host, [c1, dict(c2, cpuset="1"), c3], allow_shared_cpus=True, **top)
    ids["wcst-mod-c3"] = by_name(res)["wcst-mod-c3"]["id"]
    res = run(module, host, [c1, dict(c2, cpuset="1"), c3], **dict(top, allow_shared_cpus=True))
    assert res["changed"] is False, res["containers"]  # list and string cpuset forms are one
    assert {c["action"] for c in res["containers"]} == {"unchanged"}
    top["allow_shared_cpus"] = True  # c3 has no cpuset (all CPUs); this host has only two

    def change(new_c1, new_c2, field1, field2, action1="recreated"):
        started = {n: client.api.inspect_container(n)["State"]["StartedAt"] for n in ("wcst-mod-c1", "wcst-mod-c2")}
        res = run(module, host, [new_c1, new_c2, c3], diff=True, **top)
        got = by_name(res)
        for name, field, action in (("wcst-mod-c1", field1, action1), ("wcst-mod-c2", field2, "recreated")):
            assert got[name]["action"] == action and got[name]["changes"] == [field], got[name]
            assert field in res["diff"]["before"][name] and field in res["diff"]["after"][name]
            if action == "updated":  # live: the same container, never restarted
                assert got[name]["id"] == ids[name]
                assert client.api.inspect_container(name)["State"]["StartedAt"] == started[name]
            ids[name] = got[name]["id"]
        assert got["wcst-mod-c3"]["action"] == "unchanged" and got["wcst-mod-c3"]["id"] == ids["wcst-mod-c3"]
        return res

    c1, c2 = dict(c1, env={"A": "1"}), dict(c2, image=NEXT)  # an env entry removed is noticed
    res = change(c1, c2, "env", "image")
    assert res["diff"]["before"]["wcst-mod-c1"]["env"].get("B") == "2"
    assert "B=2" not in client.api.inspect_container("wcst-mod-c1")["Config"]["Env"]
    c1, c2 = dict(c1, ipv4_address="198.51.100.72"), dict(c2, conf_dir=conf_b)
    change(c1, c2, "ipv4_address", "conf_dir")
    c1, c2 = dict(c1, cpuset="0-1"), dict(c2, password="another-" + PASSWORD)
    res = change(c1, c2, "cpuset", "password", action1="updated")
    assert client.api.inspect_container("wcst-mod-c1")["HostConfig"]["CpusetCpus"] == "0-1"
    assert res["diff"]["after"]["wcst-mod-c2"]["password"] == "(changed)"
    assert res["diff"]["before"]["wcst-mod-c2"]["password"] == "(changed)"
    assert res["diff"]["after"]["wcst-mod-c2"]["license"] == "(unchanged)"

    got = by_name(run(module, host, [c1, dict(c2, restart=True), c3], **top))
    assert got["wcst-mod-c2"]["action"] == "restarted" and got["wcst-mod-c2"]["id"] == ids["wcst-mod-c2"]
    got = by_name(run(module, host, [c1, dict(c2, state="stopped"), c3], **top))
    assert got["wcst-mod-c2"]["action"] == "stopped"
    assert client.api.inspect_container("wcst-mod-c2")["State"]["Running"] is False
    got = by_name(run(module, host, [c1, c2, dict(c3, state="absent")], **top))
    assert got["wcst-mod-c2"]["action"] == "started" and got["wcst-mod-c2"]["id"] == ids["wcst-mod-c2"]
    assert got["wcst-mod-c3"]["action"] == "removed"
    assert sorted(c.name for c in client.containers.list(all=True)) == ["wcst-mod-c1", "wcst-mod-c2"]


def test_overlap_refused_within_set_and_against_other_managed_then_purge(module, engine, net, conf_dir):
    host, client = engine
    network = net()
    top = dict(image=TEST, network=network, conf_dir=conf_dir())
    other = dict(name="wcst-mod-o1", cpuset="0", ipv4_address="198.51.100.69")
    assert by_name(run(module, host, [other], **top))["wcst-mod-o1"]["action"] == "created"

    p1 = dict(name="wcst-mod-p1", cpuset="1", ipv4_address="198.51.100.73")
    p2 = dict(name="wcst-mod-p2", cpuset="0-1", ipv4_address="198.51.100.74")
    res = run(module, host, [p1, p2], **top)
    assert res.get("failed") and "CPU 1 is also in wcst-mod-p1's cpuset" in res["msg"], res.get("msg")
    res = run(module, host, [dict(p1, cpuset="0")], **top)
    assert res.get("failed") and "wcst-mod-o1 (cpuset 0)" in res["msg"] and "allow_shared_cpus" in res["msg"]
    res = run(module, host, [dict(p2, ipv4_address=p1["ipv4_address"]), p1], **top)
    assert res.get("failed") and "its own address" in res["msg"]
    assert sorted(c.name for c in client.containers.list(all=True)) == ["wcst-mod-o1"], "changed before failing"

    got = by_name(run(module, host, [p1, p2], allow_shared_cpus=True, **top))
    assert {c["action"] for c in got.values()} == {"created"}

    res = run(module, host, [p1, p2], purge=True, allow_shared_cpus=True, check=True, **top)
    assert by_name(res)["wcst-mod-o1"]["action"] == "removed"
    assert client.containers.get("wcst-mod-o1")
    got = by_name(run(module, host, [p1, p2], purge=True, allow_shared_cpus=True, **top))
    assert got["wcst-mod-o1"]["action"] == "removed"
    assert got["wcst-mod-p1"]["action"] == "unchanged"
    assert sorted(c.name for c in client.containers.list(all=True)) == ["wcst-mod-p1", "wcst-mod-p2"]


def test_network_recreated_with_force_keeps_static_addresses(module, engine, net, veth_parent, conf_dir):
    host, client = engine
    network = net()
    top = dict(image=TEST, network=network, conf_dir=conf_dir(), allow_shared_cpus=True)
    cs = [dict(name="wcst-mod-n1", ipv4_address="198.51.100.75"),
          dict(name="wcst-mod-n2", ipv4_address="198.51.100.76")]
    ids = {c["name"]: c["id"] for c in by_name(run(module, host, cs, **top)).values()}
    parent2 = veth_parent("wcstm4")
    args = dict(name=network, driver="macvlan", parent=parent2, subnet=SUBNET, gateway=GW, docker_host=host)
    res = module("ipvlan_network", args)
    assert res.get("failed") and "force=true" in res["msg"] and "wcst-mod-n1" in res["msg"]
    res = module("ipvlan_network", dict(args, force=True))
    assert res["changed"] and "reconnected wcst-mod-n1 198.51.100.75" in res["actions"], res.get("msg")
    for c in cs:
        ep = client.api.inspect_container(c["name"])["NetworkSettings"]["Networks"][network]
        assert ep["IPAMConfig"]["IPv4Address"] == c["ipv4_address"] == ep["IPAddress"]
    res = run(module, host, cs, wait=True, wait_timeout=30, **top)
    assert res["changed"] is False, res["containers"]
    assert {c["id"] for c in res["containers"]} == set(ids.values())


def test_wait_fails_on_broken_image_on_exit_and_on_rlimits(module, engine, net, conf_dir):
    host = engine[0]
    network = net()
    base = dict(network=network, conf_dir=conf_dir(), wait=True)
    res = run(module, host, [dict(name="wcst-mod-w1", image=BROKEN)], wait_timeout=3, **base)
    assert res.get("failed") and "did not answer within wait_timeout=3s" in res["msg"], res.get("msg")

    without_conf = {k: v for k, v in base.items() if k != "conf_dir"}  # no property files: the emulator exits
    res = run(module, host, [dict(name="wcst-mod-w2", image=TEST)], wait_timeout=30, **without_conf)
    assert res.get("failed") and "wcst-mod-w2 exited while waiting" in res["msg"], res.get("msg")
    assert "wcs-emulator:" in res["msg"] and "missing" in res["msg"]  # the log tail

    res = run(module, host, [dict(name="wcst-mod-w3", image=TEST, ulimits=[{"name": "nofile", "soft": 20000,
                                                                           "hard": 40000}])], **base)
    assert res.get("failed") and "ulimits" in res["msg"] and "Fix:" in res["msg"], res.get("msg")


def test_wcs_stats_from_the_netns_reports_control_file_streams(module, engine, net, conf_dir):
    host, client = engine
    network = net()
    run(module, host, [dict(name="wcst-mod-s1", ipv4_address="198.51.100.77")], image=TEST, network=network,
        conf_dir=conf_dir(), wait=True, wait_timeout=30)
    res = module("wcs_stats", dict(container="wcst-mod-s1", docker_host=host, streams=True))
    assert res["up"] is True and res["stream_count"] == 0 and res["stats"]["emulator_version"] == "1.0.0"
    assert res["stats"]["config_password_set"] is False
    client.containers.get("wcst-mod-s1").exec_run(
        ["sh", "-c", "printf 'streams_webrtc_in=3\\nstreams_webrtc_out=2\\ndegraded_streams=1\\n' "
                     "> /var/lib/wcs-emulator/streams"])
    res = module("wcs_stats", dict(container="wcst-mod-s1", docker_host=host, streams=True), check=True)
    assert res["up"] and res["stats"]["streams_webrtc_in"] == 3 and res["degraded_streams"] == 1
    assert res["stream_count"] == 5 and len(res["streams"]) == 5
    assert isinstance(res["sections"]["stream"]["streams_webrtc_out"], int)
    # terminate: check mode says what it would end and ends nothing; then it ends them (POST terminate {}), once
    res = module("wcs_stats", dict(container="wcst-mod-s1", docker_host=host, terminate=True), check=True)
    assert res["changed"] is True and res["terminated"] == 5 and "would end 5" in res["msg"]
    res = module("wcs_stats", dict(container="wcst-mod-s1", docker_host=host, terminate=True))
    assert res["changed"] is True and res["terminated"] == 5, res.get("msg")
    res = module("wcs_stats", dict(container="wcst-mod-s1", docker_host=host, streams=True, terminate=True))
    assert res["changed"] is False and res["terminated"] == 0 and res["stream_count"] == 0 and res["streams"] == []
    res = module("wcs_stats", dict(url="http://127.0.0.1:9", timeout=2))
    assert res["up"] is False and "did not answer" in res["msg"]
    res = module("wcs_stats", dict(container="wcst-mod-nothere", docker_host=host))
    assert res.get("failed") and "does not exist" in res["msg"]


def test_ipvlan_attach_where_the_kernel_allows(module, engine, net, conf_dir, ipvlan_support):
    supported, reason = ipvlan_support
    if not supported:
        print("skip: " + reason)
        pytest.skip(reason)
    host = engine[0]
    network = net(driver="ipvlan")
    got = by_name(run(module, host, [dict(name="wcst-mod-i1", ipv4_address="198.51.100.78")], image=TEST,
                      network=network, conf_dir=conf_dir(), wait=True, wait_timeout=30))
    assert got["wcst-mod-i1"]["state"] == "running"


def test_bad_input_and_unreachable_engine(module, engine):
    host = engine[0]
    res = run(module, host, [dict(name="wcst-mod-b1", image=TEST, cpuset="0-63")])
    assert res.get("failed") and "not online" in res["msg"]
    res = run(module, "unix:///run/wcst-mod-nonexistent.sock", [dict(name="wcst-mod-b1", image=TEST)])
    assert res.get("failed") and "Cannot reach the Docker engine at docker_host=unix:///run/wcst-mod-nonexistent" \
        in res["msg"]
    res = run(module, host, [dict(name="wcst-mod-b1", image="wcst-mod/none:here", pull="never")])
    assert res.get("failed") and "pull=never" in res["msg"]


def test_replace_never_loses_the_container(module, engine, net, conf_dir):
    """A recreate whose new container fails (does not answer, refused by the engine) leaves the old one running
    under its name and answering; a name with a trailing newline is refused before anything (purge) is removed;
    a recreate that works removes the old one; an image given by ID is compared by ID."""
    host, client = engine
    network = net()
    top = dict(network=network, conf_dir=conf_dir(), wait=True, wait_timeout=30)
    c1 = dict(name="wcst-mod-r1", ipv4_address="198.51.100.72", cpuset="0")
    by_name(run(module, host, [c1], image=TEST, **top))
    old = client.containers.get("wcst-mod-r1")

    def still_the_old_one():
        now = only_this_one_running(client, old)
        ep = now.attrs["NetworkSettings"]["Networks"][network]
        assert ep["IPAddress"] == "198.51.100.72"
        stats = module("wcs_stats", dict(container="wcst-mod-r1", docker_host=host))
        assert stats["up"] is True, stats.get("msg")

    res = run(module, host, [c1], image=BROKEN, **{**top, "wait_timeout": 3})
    assert res.get("failed") and "did not answer within wait_timeout=3s" in res["msg"], res.get("msg")
    assert "The previous container wcst-mod-r1 was put back and runs again" in res["msg"]
    still_the_old_one()

    res = run(module, host, [dict(c1, ipv4_address="198.51.100.90")], image=TEST, **top)  # outside the subnet
    assert res.get("failed") and "was put back and runs again" in res["msg"], res.get("msg")
    still_the_old_one()

    res = run(module, host, [dict(c1, name="wcst-mod-r1\n")], image=TEST, purge=True, **top)
    assert res.get("failed") and "containers[0].name" in res["msg"] and "Docker container name" in res["msg"]
    still_the_old_one()

    test_id = client.images.get(TEST).id
    res = run(module, host, [c1], image=test_id, **top)  # the same image by ID: nothing to do
    assert res["changed"] is False, res["containers"]

    next_id = client.images.get(NEXT).id
    got = by_name(run(module, host, [c1], image=next_id, **top))
    assert got["wcst-mod-r1"]["action"] == "recreated" and got["wcst-mod-r1"]["changes"] == ["image"]
    names = sorted(c.name for c in client.containers.list(all=True))
    assert names == ["wcst-mod-r1"] and client.containers.get("wcst-mod-r1").image.id == next_id
    assert run(module, host, [c1], image=next_id, **top)["changed"] is False
    res = run(module, host, [c1], image="sha256:" + "0" * 64, **top)
    assert res.get("failed") and "not an image ID on this engine" in res["msg"]


def test_purge_never_loses_a_container(module, engine, net, conf_dir):
    """purge: replacements that are invalid are refused before anything changes; one the engine refuses at create
    time (an address outside the subnet) leaves the container that was to be purged running; a valid replacement
    takes the old one's address (stopped first) and only then is the old one removed."""
    host, client = engine
    network = net()
    conf = conf_dir()
    top = dict(image=TEST, network=network, conf_dir=conf, wait=True, wait_timeout=30)
    old_item = dict(name="wcst-mod-g1", ipv4_address="198.51.100.74", cpuset="0")
    by_name(run(module, host, [old_item], **top))
    old = client.containers.get("wcst-mod-g1")

    def still_the_old_one():
        only_this_one_running(client, old)
        stats = module("wcs_stats", dict(container="wcst-mod-g1", docker_host=host))
        assert stats["up"] is True, stats.get("msg")

    new_item = dict(name="wcst-mod-g2", ipv4_address="198.51.100.74", cpuset="0")
    for item, extra, needle in (
            (dict(new_item, name="g"), {}, "2 to 128 characters"),  # the engine refuses one character
            (dict(new_item, name="wcst-mod-g2.mediaops-old"), {}, "does not end in .mediaops-old"),
            (new_item, dict(conf_dir=conf + ":/etc"), "without ':'"),
            (new_item, dict(conf_dir=conf + "/../../x"), "'..'"),
            (new_item, dict(image="wcst-mod/none:here", pull="never"), "pull=never"),
    ):
        res = run(module, host, [item], purge=True, **dict(top, **extra))
        assert res.get("failed") and needle in res["msg"], (item, extra, res.get("msg"))
        still_the_old_one()
    res = run(module, host, [dict(new_item, ipv4_address="198.51.100.90")], purge=True, **top)  # outside the subnet
    assert res.get("failed") and "Nothing was removed; kept: wcst-mod-g1 (the running ones run again)" in res["msg"]
    still_the_old_one()

    got = by_name(run(module, host, [new_item], purge=True, **top))
    assert got["wcst-mod-g2"]["action"] == "created" and got["wcst-mod-g1"]["action"] == "removed"
    assert [c.name for c in client.containers.list(all=True)] == ["wcst-mod-g2"]
    ep = client.containers.get("wcst-mod-g2").attrs["NetworkSettings"]["Networks"][network]
    assert ep["IPAddress"] == "198.51.100.74"


def test_a_container_left_aside_is_removed_once_its_successor_exists(module, engine, net, conf_dir):
    host, client = engine
    network = net()
    top = dict(image=TEST, network=network, conf_dir=conf_dir())
    by_name(run(module, host, [dict(name="wcst-mod-l1", cpuset="0")], **top))
    client.containers.get("wcst-mod-l1").rename("wcst-mod-l1.mediaops-old")
    res = run(module, host, [dict(name="wcst-mod-l1", cpuset="0")], **top)
    assert res.get("failed") and "docker rename wcst-mod-l1.mediaops-old wcst-mod-l1" in res["msg"], res.get("msg")
    client.containers.get("wcst-mod-l1.mediaops-old").rename("wcst-mod-l1")
    client.containers.get("wcst-mod-l1").start()
    # an interrupted replacement that had finished (old aside, new in place): the leftover goes, even without purge
    by_name(run(module, host, [dict(name="wcst-mod-l2", cpuset="1")], **top))
    client.containers.get("wcst-mod-l2").rename("wcst-mod-l1.mediaops-old")
    got = by_name(run(module, host, [dict(name="wcst-mod-l1", cpuset="0")], **top))
    assert got["wcst-mod-l1.mediaops-old"]["action"] == "removed"
    assert sorted(c.name for c in client.containers.list(all=True)) == ["wcst-mod-l1"]


def test_network_recreate_the_engine_refuses_rebuilds_the_old_one(module, engine, net, veth_parent, conf_dir):
    """ipvlan_network force-recreate onto a parent another macvlan network already uses: the engine refuses the
    new definition after the old network is gone; the old one is rebuilt and the container reconnected with its
    static address, still answering. An attached address that would become the gateway is refused up front."""
    host, client = engine
    network = net()
    run(module, host, [dict(name="wcst-mod-n1", ipv4_address="198.51.100.73")], image=TEST, network=network,
        conf_dir=conf_dir(), wait=True, wait_timeout=30)
    before = client.networks.get(network).attrs
    other = veth_parent("wcstm4")
    res = module("ipvlan_network", dict(name="wcst-mod-n-other", driver="macvlan", parent=other,
                                        subnet="198.51.100.80/28", docker_host=host))
    assert not res.get("failed"), res.get("msg")
    args = dict(name=network, driver="macvlan", parent=before["Options"]["parent"], subnet=SUBNET, gateway=GW,
                docker_host=host, force=True)

    res = module("ipvlan_network", dict(args, gateway="198.51.100.73"))
    assert res.get("failed") and "gateway: 198.51.100.73 is the address of attached container" in res["msg"]
    assert client.networks.get(network).id == before["Id"]

    res = module("ipvlan_network", dict(args, parent=other))
    assert res.get("failed"), res
    assert "the engine refused the new definition" in res["msg"] and "previous network was rebuilt" in res["msg"]
    assert "wcst-mod-n1 198.51.100.73" in res["msg"], res["msg"]
    after = client.networks.get(network).attrs
    assert after["Options"]["parent"] == before["Options"]["parent"] and after["IPAM"]["Config"] == \
        before["IPAM"]["Config"]
    c = client.containers.get("wcst-mod-n1")
    assert c.attrs["NetworkSettings"]["Networks"][network]["IPAMConfig"]["IPv4Address"] == "198.51.100.73"
    assert module("wcs_stats", dict(container="wcst-mod-n1", docker_host=host))["up"] is True
    # and the containers module sees nothing to do
    res = run(module, host, [dict(name="wcst-mod-n1", ipv4_address="198.51.100.73")], image=TEST, network=network,
              conf_dir=c.attrs["Mounts"][0]["Source"])
    assert res["changed"] is False, res["containers"]


def test_rollback_by_image_id_survives_a_moved_tag_and_a_prune(module, engine, net, conf_dir):
    """wcs_image_pin records the ID a container runs and keeps that image (tag mediaops-wcs/rollback:<name>); the
    tag it was deployed from may move away and `docker image prune` run, and wcs_containers still rolls back to
    the ID. Without the pin the same image is pruned (the control)."""
    host, client = engine
    network = net()
    plain = client.containers.create(NEXT)
    built = plain.commit("wcst-mod/built", "1")  # a build of its own: only the tag wcst-mod/built:1 names it
    plain.remove()
    top = dict(network=network, conf_dir=conf_dir(), wait=True, wait_timeout=30)
    c1 = dict(name="wcst-mod-p1", ipv4_address="198.51.100.74")
    by_name(run(module, host, [c1], image="wcst-mod/built:1", **top))

    pin = dict(containers=["wcst-mod-p1", "wcst-mod-not-created"], docker_host=host)
    res = module("wcs_image_pin", pin, check=True, diff=True)
    assert res["changed"] and res["images"] == {"wcst-mod-p1": built.id}
    assert not client.images.list(name="mediaops-wcs/rollback")
    res = module("wcs_image_pin", pin)
    assert res["changed"] and res["tags"] == ["mediaops-wcs/rollback:wcst-mod-p1"]
    assert module("wcs_image_pin", pin)["changed"] is False

    client.images.remove("wcst-mod/built:1")  # the tag moves away (here: goes)
    by_name(run(module, host, [c1], image=NEXT, **top))  # updated; the old container is removed
    client.images.prune(filters={"dangling": True})
    assert client.images.get(built.id).tags == ["mediaops-wcs/rollback:wcst-mod-p1"]

    got = by_name(run(module, host, [c1], image=built.id, **top))  # the rollback, by ID
    assert got["wcst-mod-p1"]["action"] == "recreated"
    assert client.containers.get("wcst-mod-p1").image.id == built.id
    assert module("wcs_stats", dict(container="wcst-mod-p1", docker_host=host))["up"] is True

    by_name(run(module, host, [c1], image=NEXT, **top))
    res = module("wcs_image_pin", dict(pin, state="absent"))
    assert res["changed"] and res["tags"] == ["mediaops-wcs/rollback:wcst-mod-p1"]
    assert module("wcs_image_pin", dict(pin, state="absent"))["changed"] is False
    client.images.prune(filters={"dangling": True})
    with pytest.raises(Exception, match="No such image"):
        client.images.get(built.id)

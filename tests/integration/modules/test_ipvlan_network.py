"""ipvlan_network against the real engine: both drivers, idempotence, check and diff, recreate rules, validation."""
from __future__ import annotations

import pytest

SUBNET = "198.51.100.112/28"
GW = "198.51.100.113"


@pytest.mark.parametrize("driver,mode,other_mode", [("ipvlan", "l2", "l3"), ("macvlan", "bridge", "private")])
def test_create_idempotent_check_diff_recreate(module, veth_parent, cleanup, docker_client, driver, mode, other_mode):
    name = cleanup("networks", "wcst-mod-net-%s" % driver)
    p1, p2 = veth_parent("wcstm1"), veth_parent("wcstm2")
    args = dict(name=name, driver=driver, parent=p1, subnet=SUBNET, gateway=GW, ip_range="198.51.100.116/30",
                aux_addresses={"router": "198.51.100.114"})

    res = module("ipvlan_network", args, check=True)
    assert res["changed"] and res["actions"] == ["created"]
    assert not docker_client.networks.list(names=[name])

    res = module("ipvlan_network", args, diff=True)
    assert res["changed"], res.get("msg")
    net = res["network"]
    assert net["Driver"] == driver and net["Options"]["parent"] == p1
    assert net["IPAM"]["Config"][0]["IPRange"] == "198.51.100.116/30"
    assert net["Labels"] == {"mediaops.wcs.managed": "true"}  # the collection's mark
    assert res["diff"]["after"]["mode"] == mode and res["diff"]["before"] == {}

    res = module("ipvlan_network", args)
    assert res["changed"] is False and res["changes"] == []
    first_id = res["network"]["Id"]

    for change, field in ((dict(parent=p2), "parent"), (dict(mode=other_mode), "mode"),
                          (dict(ip_range=None), "ip_range")):
        res = module("ipvlan_network", dict(args, **change), check=True, diff=True)
        assert res["changed"] and res["changes"] == [field]
        assert res["diff"]["before"][field] != res["diff"]["after"][field]
        assert docker_client.networks.get(name).id == first_id, "check mode changed the network"

    res = module("ipvlan_network", dict(args, parent=p2))
    assert res["changed"] and res["actions"] == ["recreated"]
    assert res["network"]["Options"]["parent"] == p2 and res["network"]["Id"] != first_id
    assert res["network"]["Labels"] == {"mediaops.wcs.managed": "true"}
    assert module("ipvlan_network", dict(args, parent=p2))["changed"] is False

    res = module("ipvlan_network", dict(name=name, state="absent"))
    assert res["changed"]
    assert not docker_client.networks.list(names=[name])
    assert module("ipvlan_network", dict(name=name, state="absent"))["changed"] is False


@pytest.mark.parametrize("args,needle", [
    (dict(parent="wcstm-none"), "parent: 'wcstm-none' is not an interface of this host"),
    (dict(gateway="198.51.100.200"), "gateway: '198.51.100.200' is wrong"),
    (dict(driver="macvlan", mode="l3"), "mode: 'l3' is wrong"),
])
def test_bad_input_fails_before_any_change(module, veth_parent, docker_client, args, needle):
    parent = veth_parent("wcstm1")
    full = dict(dict(name="wcst-mod-net-bad", parent=parent, subnet=SUBNET, gateway=GW), **args)
    res = module("ipvlan_network", full)
    assert res.get("failed") and needle in res["msg"], res.get("msg")
    assert "Fix" in res["msg"]
    assert not docker_client.networks.list(names=["wcst-mod-net-bad"])


def test_overlapping_subnet_is_a_clear_error(module, veth_parent, cleanup):
    parent = veth_parent("wcstm1")
    cleanup("networks", "wcst-mod-net-a")
    assert not module("ipvlan_network", dict(name="wcst-mod-net-a", driver="macvlan", parent=parent,
                                             subnet="198.51.100.96/28")).get("failed")
    res = module("ipvlan_network", dict(name="wcst-mod-net-b", driver="macvlan", parent=parent,
                                        subnet="198.51.100.96/29"))
    assert res.get("failed")
    assert "overlaps network(s) wcst-mod-net-a (198.51.100.96/28)" in res["msg"], res["msg"]


def test_a_network_the_collection_did_not_make_is_never_removed_or_recreated(
        module, veth_parent, cleanup, docker_client):
    """A bridge network without the collection's label under the name given: state=absent and a recreate are refused
    before anything changes; the network stays as it was."""
    import docker  # pylint: disable=import-outside-toplevel

    name = cleanup("networks", "wcst-mod-net-br")
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="198.51.100.96/29")])
    other = docker_client.networks.create(name, driver="bridge", internal=True, ipam=ipam)
    res = module("ipvlan_network", dict(name=name, state="absent", force=True))
    assert res.get("failed") and "mediaops.wcs did not make it" in res["msg"] and "Fix:" in res["msg"], res
    res = module("ipvlan_network", dict(name=name, driver="macvlan", parent=veth_parent("wcstm1"),
                                        subnet="198.51.100.96/29", force=True))
    assert res.get("failed") and "is not recreated" in res["msg"], res.get("msg")
    assert docker_client.networks.get(name).id == other.id


def test_unreachable_engine_is_a_clear_error(module):
    res = module("ipvlan_network", dict(name="wcst-mod-x", parent="lo", subnet=SUBNET,
                                        docker_host="unix:///run/wcst-mod-nonexistent.sock"))
    assert res.get("failed")
    assert "Cannot reach the Docker engine at docker_host=unix:///run/wcst-mod-nonexistent.sock" in res["msg"]
    assert "Fix:" in res["msg"]

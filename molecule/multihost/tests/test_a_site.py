"""(a) After site + idempotence: one pinned emulator container per host, on that host's own engine."""
from __future__ import annotations

import pytest

from helpers import HOSTS, TEST_IMAGE, container_name, host, hostvars, inspect, stats


@pytest.mark.parametrize("name", HOSTS)
def test_container_runs_as_planned_on_its_own_engine(name):
    h = host(name)
    hv = hostvars(h)
    c = inspect(h, container_name(name))
    assert c["State"]["Running"]
    assert c["Config"]["Image"] == TEST_IMAGE
    assert c["HostConfig"]["CpusetCpus"], "container is not pinned"
    net = c["NetworkSettings"]["Networks"]["wcs-mh-net"]
    block = hv["wcs_network_block"]
    base = int(block.split("/")[0].split(".")[3])
    # Article layout: network, gateway, host, ip_range, then the first container.
    assert net["IPAMConfig"]["IPv4Address"] == "203.0.113.%d" % (base + 4)


@pytest.mark.parametrize("name", HOSTS)
def test_stat_page_answers_inside_the_container_netns(name):
    h = host(name)
    s = stats(h, container_name(name))
    assert s["up"], s
    assert s["stats"]["config_ip"] == "203.0.113.%d" % (int(hostvars(h)["wcs_network_block"].split(".")[3].split("/")[0]) + 4)


def test_engines_are_separate():
    """Each host sees only its own container: three daemons, not one shared engine."""
    for name in HOSTS:
        out = __import__("helpers").docker(host(name), "ps", "--format", "'{{.Names}}'")
        assert out.stdout.split() == [container_name(name)]

"""(c) After the rolling updates, the rollback and an engine stopped and started again (test_b_rollout.py): every
container is a new one in a new network namespace, and the follower put the rules back in each."""
from __future__ import annotations

import time

import pytest

from helpers import HOSTS, container_name, host, inspect
from test_a_firewall import connect, nft_list


@pytest.mark.parametrize("name", HOSTS)
def test_rules_back_in_every_new_namespace(name):
    deadline = time.monotonic() + 15
    while True:
        c = inspect(host(name), container_name(name))
        out = nft_list(c["State"]["Pid"]) if c["State"]["Running"] else None
        if out is not None and out.returncode == 0:
            break
        assert time.monotonic() < deadline, "no rules in %s's namespace: %s" % (name, out and out.stderr)
        time.sleep(0.5)
    address = c["NetworkSettings"]["Networks"]["wcs-mh-net"]["IPAddress"]
    assert connect(address, 8081) == "timeout"
    assert connect(address, 8080) == "open"

"""The roles/ area: the AWX project's wrapper playbooks, run with ansible-playbook (wcst-rol-*, 198.51.100.144/28,
veth wcstr*) and through ansible-runner as an AWX job (wcst-awx-*, 198.51.100.192/29, veth wcsta*), both on a
private engine wcstr-eng (bridge wcstrbr0, 198.51.100.200/30): the site pins containers and the plan checks CPUs
against its engine, so a running lab on the default engine would refuse them, and teardown must never meet it."""
from __future__ import annotations

import labkit
import pytest


@pytest.fixture(scope="session")
def roles_engine(emulator_image):
    """(docker_host, client) of this area's own dockerd, holding the emulator images."""
    yield from labkit.engine_session("wcstr-eng", "wcstrbr0", "198.51.100.200/30")

"""Monitoring tests: names wcst-mon-*, block 198.51.100.128/28, veth parents wcstp*, a private engine wcstp-eng
(bridge wcstpbr0, 198.51.100.204/30). Puts this directory on sys.path for monhelpers."""
from __future__ import annotations

import sys
from pathlib import Path

import labkit
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def mon_engine(emulator_image):
    """(docker_host, client): the site pins a container and the plan checks CPUs against the engine, so this area
    runs on a dockerd of its own, never beside a running lab's containers."""
    yield from labkit.engine_session("wcstp-eng", "wcstpbr0", "198.51.100.204/30")

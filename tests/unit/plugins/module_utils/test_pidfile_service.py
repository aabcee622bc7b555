"""module_utils/pidfile_service.py with real processes: start detached and pinned, found again by its pidfile,
left alone when the pidfile names someone else's process, stopped, and a program that dies at once reported."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils import pidfile_service as svc

SLEEPER = "import time\nwhile True:\n    time.sleep(1)\n"


def run_command(argv):
    """AnsibleModule.run_command's contract (what wcs_firewall passes): argv -> (rc, stdout, stderr)."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def program(tmp_path):
    path = tmp_path / "bin" / "sleeper.py"
    path.parent.mkdir()
    path.write_text(SLEEPER)
    paths = {"program": str(path), "pidfile": str(tmp_path / "run" / "p.pid"), "log": str(tmp_path / "log" / "p.log")}
    yield paths
    svc.stop(paths["pidfile"], paths["program"], grace=2)


def test_start_running_stop(program):
    argv = [sys.executable, program["program"], "--flag"]
    pid = svc.start(argv, program["pidfile"], program["log"], cpus=[0], run_command=run_command)
    assert svc.running(program["pidfile"], program["program"]) == (pid, argv)
    assert os.sched_getaffinity(pid) == {0}
    assert os.getsid(pid) == pid  # its own session: it outlives the module run that started it
    assert svc.stop(program["pidfile"], program["program"]) == pid
    assert svc.cmdline(pid) is None and not os.path.exists(program["pidfile"])
    assert svc.running(program["pidfile"], program["program"]) == (None, None)


def test_a_reused_pid_is_never_signalled(program):
    """The pidfile names a live process that is not the program (pid reused after a reboot): not ours."""
    other = subprocess.Popen([sys.executable, "-c", SLEEPER])
    try:
        os.makedirs(os.path.dirname(program["pidfile"]))
        with open(program["pidfile"], "w", encoding="ascii") as handle:
            handle.write("%d\n" % other.pid)
        assert svc.running(program["pidfile"], program["program"]) == (None, None)
        assert svc.stop(program["pidfile"], program["program"]) is None
        time.sleep(0.2)
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_exits_at_once_is_reported_with_the_log(program):
    with pytest.raises(svc.StartError, match="boom"):
        svc.start([sys.executable, "-c", "import sys; sys.exit('boom')"], program["pidfile"], program["log"],
                  run_command=run_command)
    assert not os.path.exists(program["pidfile"])


@pytest.mark.parametrize("text, pid", [("", None), ("abc", None), ("1\n", None), ("4242\n", 4242), (" 77 ", 77)])
def test_read_pid(tmp_path, text, pid):
    path = tmp_path / "p.pid"
    path.write_text(text)
    assert svc.read_pid(str(path)) == pid

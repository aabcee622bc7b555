"""files/wcs_monitoring_ctl.sh with real processes: it signals only a process that is still its own (the command
line recorded at start), so a stale pidfile never gets an unrelated process killed."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

CTL = Path(__file__).resolve().parents[3] / "roles/monitoring/files/wcs_monitoring_ctl.sh"


def ctl(*args):
    return subprocess.run(["sh", str(CTL)] + [str(a) for a in args], capture_output=True, text=True, timeout=30, check=False)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as handle:  # a zombie child is not alive
        return handle.read().split(")")[-1].split()[0] != "Z"


@pytest.fixture
def unrelated():
    """A process the monitoring never started (think: a database that got a recycled pid)."""
    proc = subprocess.Popen(["sleep", "317"])
    yield proc
    proc.kill()
    proc.wait()


def test_start_unchanged_stop(tmp_path):
    pidfile, log = tmp_path / "svc.pid", tmp_path / "svc.log"
    out = ctl("start", pidfile, log, "", "--", "sleep", "313")
    assert out.stdout.startswith("started"), out.stderr
    pid = int(pidfile.read_text())
    assert ctl("start", pidfile, log, "", "--", "sleep", "313").stdout.startswith("unchanged")
    assert ctl("status", pidfile).stdout.startswith("running %d" % pid)
    assert ctl("stop", pidfile).stdout.startswith("stopped %d" % pid)
    time.sleep(0.2)
    assert not alive(pid) and not pidfile.exists() and not Path(str(pidfile) + ".cmd").exists()


@pytest.mark.parametrize("action", ["stop", "reload", "status"])
def test_a_stale_pidfile_never_signals_another_process(tmp_path, unrelated, action):
    pidfile = tmp_path / "svc.pid"
    pidfile.write_text("%d\n" % unrelated.pid)
    Path(str(pidfile) + ".cmd").write_text("/usr/bin/prometheus-node-exporter\n--web.listen-address=127.0.0.1:9100\n")
    out = ctl(action, pidfile)
    assert out.stdout.startswith("absent"), out
    time.sleep(0.2)
    assert alive(unrelated.pid) and not pidfile.exists()


def test_a_pidfile_without_record_counts_only_our_programs(tmp_path, unrelated):
    pidfile = tmp_path / "svc.pid"
    pidfile.write_text("%d\n" % unrelated.pid)  # as 1.0.0 wrote it: no .cmd next to it
    assert ctl("stop", pidfile).stdout.startswith("absent")
    assert alive(unrelated.pid)


def test_restart_over_a_stale_pidfile_starts_without_killing(tmp_path, unrelated):
    pidfile, log = tmp_path / "svc.pid", tmp_path / "svc.log"
    pidfile.write_text("%d\n" % unrelated.pid)
    Path(str(pidfile) + ".cmd").write_text("sleep\n313\n")
    out = ctl("restart", pidfile, log, "", "--", "sleep", "313")
    assert out.stdout.startswith("started"), out
    assert alive(unrelated.pid)
    ctl("stop", pidfile)

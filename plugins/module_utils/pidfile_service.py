# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A background process with a pidfile, for hosts without systemd as PID 1 (labs, CI containers).

Stdlib only. The pid in a pidfile is trusted only when ``/proc/<pid>/cmdline`` still names the program (a pid is
reused after a reboot or a crash): ``ours()`` says so, and nothing else is ever signalled.

- ``running(pidfile, program)`` -> (pid, argv) of our live process, or (None, None);
- ``start(argv, pidfile, logfile, cpus, run_command=module.run_command)`` -> pid: detached (own session, stdin
  /dev/null, output appended to the log), pinned to ``cpus`` (CPU ids) before it runs; fails with the log's tail
  when it exits at once. The module's ``run_command`` runs a short launcher (``LAUNCHER``, a separate Python) that
  starts the process, watches it for ``settle`` seconds and prints its pid (or how it ended), so the only process
  this module starts itself goes through Ansible's ``run_command``;
- ``stop(pidfile, program)`` -> the pid stopped (TERM, then KILL after ``grace`` seconds) or None.
"""
from __future__ import annotations

import os
import signal
import sys
import time


class StartError(RuntimeError):
    """The process exited right after it was started; the message holds the log's last lines."""


def cmdline(pid):
    """argv of a live process, None when it is gone (or a zombie: empty cmdline)."""
    try:
        with open("/proc/%d/cmdline" % int(pid), "rb") as handle:
            raw = handle.read()
    except (OSError, ValueError):
        return None
    if not raw:
        return None
    return raw.rstrip(b"\0").decode("utf-8", "surrogateescape").split("\0")


def read_pid(pidfile):
    try:
        with open(pidfile, encoding="ascii", errors="replace") as handle:
            digits = "".join(c for c in handle.read() if c.isdigit())
    except OSError:
        return None
    return int(digits) if digits and int(digits) > 1 else None


def ours(argv, program):
    """True when a process's argv runs ``program`` (its path is one of the first two words: python + script)."""
    return bool(argv) and program in argv[:2]


def running(pidfile, program):
    pid = read_pid(pidfile)
    argv = cmdline(pid) if pid else None
    return (pid, argv) if ours(argv, program) else (None, None)


# Run as `python -c LAUNCHER SETTLE CPUS LOGFILE ARGV...` by start(): the process gets its own session, stdin
# /dev/null, output appended to LOGFILE, CPUs pinned before exec (it never runs on a WCS container's CPUs). The
# launcher prints "pid N" when the process still runs after SETTLE seconds, else "exited STATUS"; the process
# outlives the launcher.
LAUNCHER = r"""
import os, subprocess, sys, time
settle, cpus, log, argv = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
def pin():
    if cpus:
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
with open(log, "ab") as out, open(os.devnull, "rb") as null:
    proc = subprocess.Popen(argv, stdin=null, stdout=out, stderr=out, close_fds=True, start_new_session=True,
                            preexec_fn=pin)
time.sleep(settle)
status = proc.poll()
sys.stdout.write("pid %d\n" % proc.pid if status is None else "exited %s\n" % status)
"""


def start(argv, pidfile, logfile, cpus=None, settle=0.3, run_command=None, python=None):
    """Starts ``argv`` detached (see LAUNCHER) through ``run_command`` (AnsibleModule.run_command or the same
    contract: argv list -> (rc, stdout, stderr)); writes the pidfile and returns the pid."""
    if run_command is None:
        raise TypeError("start() needs run_command (AnsibleModule.run_command)")
    for path in (pidfile, logfile):
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    launcher = [python or sys.executable, "-c", LAUNCHER, str(settle), ",".join(str(int(c)) for c in cpus or ()),
                logfile] + list(argv)
    rc, out, err = run_command(launcher)
    words = (out or "").split()
    name = argv[1] if len(argv) > 1 else argv[0]
    if rc != 0 or len(words) != 2 or words[0] not in ("pid", "exited"):
        raise StartError("%s could not be started (launcher status %s): %s" % (name, rc, (err or out or "").strip()))
    if words[0] == "exited":
        raise StartError("%s exited at once (status %s); last lines of %s:\n%s"
                         % (name, words[1], logfile, tail(logfile)))
    pid = int(words[1])
    tmp = "%s.%d" % (pidfile, os.getpid())
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write("%d\n" % pid)
    os.replace(tmp, pidfile)
    return pid


def stop(pidfile, program, grace=10.0):
    pid, _argv = running(pidfile, program)
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while ours(cmdline(pid), program) and time.monotonic() < deadline:
                _reap(pid)
                time.sleep(0.1)
            if ours(cmdline(pid), program):
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
            _reap(pid)
        except ProcessLookupError:
            pass
    try:
        os.unlink(pidfile)
    except FileNotFoundError:
        pass
    return pid


def _reap(pid):
    """Collects the exit status when the process is our child (started in this process, e.g. by a test)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def tail(path, lines=20):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            return b"\n".join(handle.read().splitlines()[-lines:]).decode("utf-8", "replace")
    except OSError:
        return "(no log)"


def main(argv=None):
    """``pidfile_service.py stop|status PIDFILE PROGRAM`` (cleanups of test labs: only our process is signalled)."""
    import sys  # pylint: disable=import-outside-toplevel
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3 or args[0] not in ("stop", "status"):
        sys.stderr.write("usage: pidfile_service.py stop|status PIDFILE PROGRAM\n")
        return 2
    action, pidfile, program = args
    pid = stop(pidfile, program) if action == "stop" else running(pidfile, program)[0]
    sys.stdout.write("%s %s\n" % ("stopped" if action == "stop" else "running", pid) if pid else "absent\n")
    return 0 if pid or action == "stop" else 3


if __name__ == "__main__":
    raise SystemExit(main())

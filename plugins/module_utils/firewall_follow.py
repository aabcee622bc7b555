# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Puts each WCS container's firewall back whenever the container starts in a new network namespace.

A container restart (restart policy, crash, host reboot, dockerd restart) creates a new network namespace, and the
rules mediaops.wcs.wcs_firewall put in the old one are gone. This follower, one per host, listens to the engine's
events (``type=container``, ``event=start``, ``label=mediaops.wcs.managed=true``) and applies the ruleset file the
module wrote for that container (``<rules-dir>/<name>.nft``) inside the container's new namespace:
``nsenter --net=/proc/<pid>/ns/net nft -f <file>``. At its own start, and every time it (re)connects to the engine
(the engine restarted), it applies every file to every running managed container first, so nothing started while
it was away stays open.

This file is a module_util of the collection and a program: M(wcs_firewall) installs it from its own AnsiballZ
payload as ``<follower_dir>/bin/wcs_firewall_follow.py``, with the module_utils it imports (``firewall.py``,
``errors.py``) next to it, and runs it (systemd unit or pidfile process). ``follower_argv()`` and ``unit_text()``
say how it runs; the module compares the installed files and the unit with them byte for byte.

  wcs_firewall_follow.py --rules-dir /etc/mediaops-wcs/firewall [--docker-host unix:///var/run/docker.sock]
                         [--once] [--log-level INFO]
"""
from __future__ import annotations

import argparse
import functools
import logging
import os
import shutil
import signal
import subprocess
import sys
import time

try:
    import docker
except ImportError:  # the module reports it (get_client); the program needs it to run
    docker = None

if __package__:  # imported as the collection's module_util (by wcs_firewall, or tests)
    from ansible_collections.mediaops.wcs.plugins.module_utils import firewall
else:  # run as a program: firewall.py and errors.py lie next to it (first on sys.path even with -I or -P)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import firewall  # type: ignore[import-not-found, no-redef]

LOG = logging.getLogger("wcs_firewall_follow")
MANAGED = "mediaops.wcs.managed=true"
RECONNECT_DELAY = 2.0

PROGRAM = "wcs_firewall_follow.py"  # the installed name (bin/ of the follower's directory)
SUPPORT = ("firewall", "errors")    # the module_utils it imports, installed next to it as <name>.py
UNIT = "wcs-firewall-follow.service"
PIDFILE = "run/wcs-firewall-follow.pid"
LOGFILE = "log/wcs-firewall-follow.log"


def follower_argv(python, follower_dir, rules_dir, docker_host, log_level="INFO"):
    """The follower's command line; a running follower with another one is restarted."""
    return [python, os.path.join(follower_dir, "bin", PROGRAM), "--rules-dir=%s" % rules_dir,
            "--docker-host=%s" % docker_host, "--log-level=%s" % log_level]


def _unit_word(word):
    """systemd's quoting of one ExecStart word ("%" is a specifier, "$" a variable)."""
    word = word.replace("%", "%%").replace("$", "$$")
    if word and not any(c in word for c in ' \t"\'\\;'):
        return word
    return '"%s"' % word.replace("\\", "\\\\").replace('"', '\\"')


def unit_text(argv, cpus=""):
    """The wcs-firewall-follow systemd unit running ``argv``, pinned to ``cpus`` (kernel cpulist) when given."""
    lines = [
        "# Managed by mediaops.wcs (wcs_firewall)",
        "[Unit]",
        "Description=WCS firewall follower (re-applies each WCS container's nftables rules when it starts)",
        "Documentation=https://github.com/mediaops/wcs/blob/main/roles/firewall/README.md",
        "After=docker.service",
        "Wants=docker.service",
        "",
        "[Service]",
        "Type=simple",
        "# root: enters each container's network namespace (nsenter needs CAP_SYS_ADMIN) and reads the Docker socket.",
        "User=root",
        "ExecStart=%s" % " ".join(_unit_word(w) for w in argv),
    ]
    if cpus:
        lines += ["# The host's reserved CPUs, never a WCS container's.", "CPUAffinity=%s" % cpus.replace(",", " ")]
    lines += ["Restart=always", "RestartSec=2", "NoNewPrivileges=true", "ProtectHome=true", "PrivateTmp=true", "",
              "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def completed(proc):
    """(rc, stdout, stderr) of a finished subprocess.CompletedProcess: AnsibleModule.run_command's contract."""
    return proc.returncode, proc.stdout, proc.stderr


class Follower:
    """``run``: argv -> (rc, stdout, stderr), AnsibleModule.run_command's contract. The follower is a daemon, not
    module code (no AnsibleModule exists in it): main() hands it a runner built on subprocess.run, the one place
    the program starts a process."""

    def __init__(self, args, run):
        self.args = args
        self.run_command = run
        self.nft = args.nft or shutil.which("nft") or "/usr/sbin/nft"
        self.nsenter = args.nsenter or shutil.which("nsenter") or "/usr/bin/nsenter"
        self.stopping = False

    def apply(self, client, container_id):
        """Applies the container's ruleset file in its namespace; returns what happened (for logs and tests)."""
        try:
            info = client.api.inspect_container(container_id)
        except docker.errors.NotFound:
            return "gone"
        name = info.get("Name", "").lstrip("/")
        labels = (info.get("Config") or {}).get("Labels") or {}
        if labels.get("mediaops.wcs.managed") != "true":
            return "not managed"
        state = info.get("State") or {}
        pid = int(state.get("Pid") or 0)
        if not state.get("Running") or not pid:
            return "not running"
        path = os.path.join(self.args.rules_dir, firewall.rules_file_name(name))
        if not os.path.isfile(path):
            LOG.warning("%s started but has no ruleset file %s (not in the firewall's plan?)", name, path)
            return "no ruleset"
        argv = firewall.nsenter_argv(pid, ["-f", path], nsenter=self.nsenter, nft=self.nft)
        try:
            rc, _out, err = self.run_command(argv)
        except (OSError, subprocess.SubprocessError) as exc:
            rc, err = None, str(exc)
        if rc != 0:
            LOG.error("%s (pid %d): nft refused %s: %s", name, pid, path, (err or "").strip())
            return "failed"
        LOG.info("%s (pid %d): firewall applied from %s", name, pid, path)
        return "applied"

    def apply_all(self, client):
        done = {}
        for c in client.api.containers(filters={"label": MANAGED, "status": "running"}):
            done[c["Id"]] = self.apply(client, c["Id"])
        LOG.info("applied to running managed containers: %s", sorted(done.values()) or "none")
        return done

    def follow(self, client):
        since = int(time.time()) - 1  # events from just before the sweep: nothing falls between the two
        self.apply_all(client)
        if self.args.once:
            return
        events = client.api.events(decode=True, since=since,
                                   filters={"type": "container", "event": "start", "label": MANAGED})
        try:
            for event in events:
                if self.stopping:
                    break
                self.apply(client, event.get("id") or event.get("Actor", {}).get("ID"))
        finally:
            events.close()
        if not self.stopping:
            raise ConnectionError("the engine closed the event stream")

    def run(self):
        while not self.stopping:
            client = None
            try:
                client = docker.DockerClient(base_url=self.args.docker_host, timeout=30)
                client.ping()
                LOG.info("connected to %s", self.args.docker_host)
                self.follow(client)
                if self.args.once:
                    return 0
            except Exception as exc:  # noqa: BLE001 - the engine went away (restart): reconnect
                if self.args.once:
                    LOG.error("cannot reach %s: %s", self.args.docker_host, exc)
                    return 1
                LOG.warning("engine at %s: %s; reconnecting in %.0fs", self.args.docker_host, exc,
                            RECONNECT_DELAY)
                time.sleep(RECONNECT_DELAY)
            finally:
                if client is not None:
                    client.close()
        return 0


def main(argv=None):
    if docker is None:
        sys.stderr.write("wcs_firewall_follow: the Docker SDK for Python is missing (pip install docker)\n")
        return 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--rules-dir", default="/etc/mediaops-wcs/firewall")
    parser.add_argument("--docker-host", default=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    parser.add_argument("--nft", default="")
    parser.add_argument("--nsenter", default="")
    parser.add_argument("--once", action="store_true", help="apply to the running containers and exit")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runner = functools.partial(subprocess.run, capture_output=True, text=True, timeout=30, check=False)
    follower = Follower(args, lambda argv: completed(runner(argv)))

    def stop(_signum, _frame):
        follower.stopping = True
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return follower.run()


if __name__ == "__main__":
    raise SystemExit(main())

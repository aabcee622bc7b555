"""The test lab in one place: veth pairs, network namespaces, private Docker engines, the emulator images in them,
the multihost "hosts", and the checks that a running `make lab` and the user's home were left alone.

Used by the pytest fixtures (tests/integration/conftest.py and the areas' conftests), the Molecule scenarios
(molecule/shared/engine_*.yml, the veths of default and bad_input, scripts/multihost-engines.sh for multihost), the
version matrix (tests/matrix), the CI lab check (.ci/run), scripts/test.sh's home check and benchmarks/noop_converge.py.
From a shell:

    python tests/labkit.py engine up NAME --bridge BR CIDR     a private dockerd in this netns (prints DOCKER_HOST)
    python tests/labkit.py engine down NAME                    stop it (by its recorded pid) and remove its dirs
    python tests/labkit.py veth up|down NAME [--host-cidr C] [--router-cidr C --netns NS]   a veth parent (kept if
                                                               there), the peer as the router in its own netns
    python tests/labkit.py multihost up|down|status N          hosts wcsmh-1..N: netns + veth + dockerd each
        [--prefix P --first-block A --router-netns NS]         (another user's hosts P-1..N, blocks from A)
    python tests/labkit.py multihost stop|start I              host I's dockerd only ("engine down" and back)
    python tests/labkit.py lab snapshot FILE | lab check FILE  the lab's containers: ids, running, answering
    python tests/labkit.py home snapshot FILE | home check FILE  what ~/.ansible, ~/.cache... hold

Why a private engine: wcs_containers works on *every* managed WCS container of its engine (cpuset overlap refusal,
purge) and the plan checks CPUs against it, so a test that pins containers on the default engine is refused while
`make lab` holds the CPUs, and could purge the lab. Each suite gets a dockerd of its own: own socket, data-root and
exec-root under /run/NAME, no iptables, its own default bridge. In the machine's network namespace it needs that
bridge: a dockerd started with `--bridge none` deletes the `docker0` of its namespace (the default engine's).
Hosts of the multihost scenario each get a network namespace, where `--bridge none` is harmless. `ip netns exec`
remounts /sys, which breaks dockerd, so a daemon in a namespace is started with `nsenter --net=` instead.
Processes are stopped only by the pid recorded when they were started here.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMULATOR_IMAGES = ("mediaops/wcs-emulator:test", "mediaops/wcs-emulator:next", "mediaops/wcs-emulator:broken")
DEFAULT_ENGINE = "unix:///var/run/docker.sock"


def sh(*cmd, check=True, **kw):
    return subprocess.run([str(c) for c in cmd], check=check, capture_output=True, text=True, **kw)


def say(msg):
    print("labkit: %s" % msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------- links
def netns_exists(name):
    return name in sh("ip", "netns", "list").stdout.split()


def netns_add(name):
    if not netns_exists(name):
        sh("ip", "netns", "add", name)
    sh("ip", "-n", name, "link", "set", "lo", "up")


def netns_del(name):
    if netns_exists(name):
        say("ip netns del %s" % name)
        sh("ip", "netns", "del", name)


def link_exists(name, netns=None):
    return sh(*(["ip", "-n", netns] if netns else ["ip"]), "link", "show", name, check=False).returncode == 0


def veth_up(name, host_cidr=None, router_cidr=None, router_netns=None):
    """veth NAME (machine side, optionally holding host_cidr) <-> NAME-up; with router_netns the peer moves into
    that namespace with router_cidr (the upstream router). Replaces a leftover of the same name."""
    assert len(name) <= 12, "interface names are at most 15 characters with the '-up' suffix"
    peer = name + "-up"
    sh("ip", "link", "del", name, check=False)
    sh("ip", "link", "add", name, "type", "veth", "peer", "name", peer)
    if host_cidr:
        sh("ip", "addr", "add", host_cidr, "dev", name)
    sh("ip", "link", "set", name, "up")
    if router_netns:
        netns_add(router_netns)
        sh("ip", "link", "set", peer, "netns", router_netns)
        if router_cidr:
            sh("ip", "-n", router_netns, "addr", "add", router_cidr, "dev", peer)
        sh("ip", "-n", router_netns, "link", "set", peer, "up")
    else:
        sh("ip", "link", "set", peer, "up")
    return name


def veth_ensure(name, host_cidr=None, router_cidr=None, router_netns=None):
    """Like veth_up, but keeps an existing pair (networks may be attached to it): only what is missing is made.
    Returns True when the pair was created."""
    created = False
    if router_netns:
        netns_add(router_netns)
    peer_ns = ["ip", "-n", router_netns] if router_netns else ["ip"]
    if not link_exists(name):
        sh("ip", "link", "add", name, "type", "veth", "peer", "name", name + "-up")
        if router_netns:
            sh("ip", "link", "set", name + "-up", "netns", router_netns)
        created = True
    if host_cidr:
        sh("ip", "addr", "replace", host_cidr, "dev", name)
    sh("ip", "link", "set", name, "up")
    if router_cidr:
        sh(*peer_ns, "addr", "replace", router_cidr, "dev", name + "-up")
    sh(*peer_ns, "link", "set", name + "-up", "up")
    return created


def veth_down(name, router_netns=None):
    sh("ip", "link", "del", name, check=False)
    if router_netns:
        netns_del(router_netns)


class Links:
    """Collects what a test made and removes it in reverse order (the pytest fixtures' teardown)."""

    def __init__(self):
        self.made = []

    def veth(self, name, host_cidr=None, router_cidr=None):
        netns = name + "-ns" if router_cidr else None
        veth_up(name, host_cidr, router_cidr, netns)
        self.made.append((name, netns))
        return name

    def remove(self):
        for name, netns in reversed(self.made):
            veth_down(name, netns)
        self.made.clear()


def veth_session(name, host_cidr=None, router_cidr=None):
    """Body of a fixture: a veth parent `name` (the router side in netns `name`-ns when `router_cidr` is given),
    removed at the end."""
    links = Links()
    try:
        yield links.veth(name, host_cidr=host_cidr, router_cidr=router_cidr)
    finally:
        links.remove()


# ---------------------------------------------------------------------------------------------------- engines
def _alive(pid):
    try:
        return b"dockerd" in Path("/proc/%d/cmdline" % pid).read_bytes()
    except OSError:
        return False


def _unmount_under(directory):
    prefix = str(directory)
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    for mnt in sorted((m for m in mounts if m == prefix or m.startswith(prefix + "/")), reverse=True):
        sh("umount", "-l", mnt, check=False)


class Engine:
    """A private dockerd: socket, pidfile, exec-root and data-root under /run/NAME.

    netns=None runs it in the machine's namespace with `bridge` = (name, cidr) as its default bridge (required
    there, see the module docstring); with netns it runs in that namespace with `--bridge none`."""

    def __init__(self, name, bridge=None, netns=None, wait_seconds=60):
        assert name.startswith("wcs"), name
        self.name, self.bridge, self.netns, self.wait_seconds = name, bridge, netns, wait_seconds
        self.dir = Path("/run") / name
        self.sock = self.dir / "docker.sock"
        self.host = "unix://%s" % self.sock
        # in the checkout's reports/ (gitignored), kept for a failure's post-mortem: nothing left in /tmp
        self.log = ROOT / "reports" / "engines" / ("%s-dockerd.log" % name)

    @property
    def started_pid(self):
        try:
            pid = int((self.dir / "started.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def answers(self):
        return sh("docker", "-H", self.host, "version", "--format", "{{.Server.Version}}", check=False,
                  timeout=15).returncode == 0

    def start(self):
        if self.started_pid and self.answers():
            return self
        self.stop()  # a leftover of a killed session, by its recorded pid
        (self.dir / "exec").mkdir(parents=True, exist_ok=True)
        (self.dir / "daemon.json").write_text("{}")
        for stale in ("docker.pid", "docker.sock"):
            (self.dir / stale).unlink(missing_ok=True)
        cmd = ["dockerd", "--host", self.host, "--data-root", str(self.dir / "data"),
               "--exec-root", str(self.dir / "exec"), "--pidfile", str(self.dir / "docker.pid"),
               "--config-file", str(self.dir / "daemon.json"), "--iptables=false", "--ip6tables=false",
               "--ip-masq=false", "--ip-forward=false", "--userland-proxy=false",
               "--exec-opt", "native.cgroupdriver=cgroupfs"]
        if self.netns:
            cmd = ["nsenter", "--net=/var/run/netns/%s" % self.netns] + cmd + ["--bridge", "none"]
        else:
            assert self.bridge, "an engine in the machine's namespace needs its own bridge"
            br, cidr = self.bridge
            (self.dir / "bridge").write_text(br)
            sh("ip", "link", "del", br, check=False)
            sh("ip", "link", "add", br, "type", "bridge")
            sh("ip", "addr", "add", cidr, "dev", br)
            cmd += ["--bridge", br]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            # nsenter execs dockerd: the pid is the daemon's. Own session: it outlives the caller's terminal.
            proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        (self.dir / "started.pid").write_text(str(proc.pid))
        say("dockerd %s started (pid %d, %s, log %s)" % (self.name, proc.pid, self.host, self.log))
        return self

    def wait(self):
        deadline = time.monotonic() + self.wait_seconds
        while not self.answers():
            if not self.started_pid or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                raise RuntimeError("dockerd %s did not answer on %s; %s:\n%s" % (self.name, self.host, self.log,
                                                                                 tail))
            time.sleep(0.3)
        return self

    def load_images(self, images=EMULATOR_IMAGES, source=DEFAULT_ENGINE):
        """docker save | docker load of the images this engine lacks (built on the default engine first)."""
        missing = [i for i in images if sh("docker", "-H", self.host, "image", "inspect", i,
                                           check=False).returncode != 0]
        if not missing:
            return self
        if any(sh("docker", "-H", source, "image", "inspect", i, check=False).returncode for i in missing):
            sh(ROOT / "tests/emulator/build.sh", env=dict(os.environ, DOCKER_HOST=source))
        save = subprocess.Popen(["docker", "-H", source, "save"] + missing, stdout=subprocess.PIPE)
        sh("docker", "-H", self.host, "load", "-q", stdin=save.stdout)
        if save.wait() != 0:
            raise RuntimeError("docker save %s failed" % " ".join(missing))
        say("loaded %s into %s" % (" ".join(missing), self.name))
        return self

    def up(self, images=EMULATOR_IMAGES):
        return self.start().wait().load_images(images)

    def clean(self, prefix=None):
        """Removes every container of this engine and the networks named `prefix*` (or all but the defaults)."""
        ids = sh("docker", "-H", self.host, "ps", "-aq").stdout.split()
        if ids:
            sh("docker", "-H", self.host, "rm", "-f", *ids)
        for net in sh("docker", "-H", self.host, "network", "ls", "--format", "{{.Name}}").stdout.split():
            if net not in ("bridge", "host", "none") and (prefix is None or net.startswith(prefix)):
                sh("docker", "-H", self.host, "network", "rm", net, check=False)

    def stop(self):
        """Stops the daemon started here (SIGTERM, then SIGKILL after the wait); keeps its data."""
        pid = self.started_pid
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + self.wait_seconds + 30  # it stops its containers, 10 s grace each
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
                time.sleep(1)
            say("dockerd %s stopped (pid %d)" % (self.name, pid))
        (self.dir / "started.pid").unlink(missing_ok=True)

    def down(self):
        """Stops the daemon and removes its bridge and directories (data included)."""
        self.stop()
        bridge_file = self.dir / "bridge"
        bridge = self.bridge[0] if self.bridge else (bridge_file.read_text() if bridge_file.exists() else None)
        if bridge:
            sh("ip", "link", "del", bridge, check=False)
        if self.dir.exists():
            _unmount_under(self.dir)
            shutil.rmtree(self.dir, ignore_errors=True)

    def client(self):
        import docker  # pylint: disable=import-outside-toplevel

        return docker.DockerClient(base_url=self.host, timeout=60)


def engine_session(name, bridge, cidr):
    """Body of a session fixture: (docker_host, client) of a private dockerd holding the emulator images, empty at
    the start; stopped and removed at the end. Tests that pin containers or purge use one, so they neither see nor
    touch the default engine's containers (a running `make lab`, the user's own)."""
    engine = Engine(name, bridge=(bridge, cidr)).up()
    engine.clean()
    client = engine.client()
    try:
        yield engine.host, client
    finally:
        client.close()
        engine.down()


# ---------------------------------------------------------------------------------------------------- playbooks
def playbook_env(**extra):
    """The environment of `ansible-playbook mediaops.wcs.<name>` on this checkout, as an operator runs it: this
    Python's tools first, the checkout's ansible.cfg and collection path, no colour, results as YAML."""
    env = dict(os.environ, PATH="%s%s%s" % (Path(sys.executable).parent, os.pathsep, os.environ["PATH"]),
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_CALLBACK_RESULT_FORMAT="yaml",
               ANSIBLE_DEPRECATION_WARNINGS="1")  # shown, so that run_playbook can refuse ours
    env.update(extra)
    return env


def local_inventory(path, **wcs_vars):
    """Write an inventory of one host, localhost over the local connection with this Python, in group wcs_hosts
    with `wcs_vars`; returns the path."""
    Path(path).write_text(json.dumps({"all": {"children": {"wcs_hosts": {
        "hosts": {"localhost": {"ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        "vars": wcs_vars}}}}, indent=1))
    return Path(path)


_WARNING_START = re.compile(r"^(?=\[[A-Z][A-Z ]+\]|TASK \[|PLAY |RUNNING HANDLER |PLAY RECAP)", re.M)


def collection_deprecations(output):
    """The ``[DEPRECATION WARNING]`` blocks of ansible output that name this collection: one of its files (the
    checkout, an installed copy) or a ``mediaops.wcs`` name. The suite fails on any (scripts/test-env.sh also runs it
    with ANSIBLE_INJECT_FACT_VARS=False: the roles read facts from ansible_facts, never as injected variables)."""
    marks = (str(ROOT), "ansible_collections/mediaops/wcs", "mediaops.wcs")
    return [block.strip() for block in _WARNING_START.split(output)
            if block.startswith("[DEPRECATION WARNING]") and any(mark in block for mark in marks)]


def run_playbook(name, inventory, *args, extra=None, timeout=600):
    """ansible-playbook mediaops.wcs.<name> -i inventory [args] [-e extra as JSON] -> (rc, stdout + stderr).
    A deprecation warning about this collection fails the caller (AssertionError)."""
    cmd = ["ansible-playbook", "mediaops.wcs." + name, "-i", str(inventory)] + list(args)
    if extra:
        cmd += ["-e", json.dumps(extra)]
    proc = subprocess.run(cmd, env=playbook_env(), capture_output=True, text=True, timeout=timeout, check=False)
    found = collection_deprecations(proc.stdout + proc.stderr)
    assert not found, "mediaops.wcs.%s: deprecated use in this collection:\n%s" % (name, "\n".join(found))
    return proc.returncode, proc.stdout + proc.stderr


# ---------------------------------------------------------------------------------------------------- multihost
# Host I (1..3) of the Molecule `multihost` scenario: netns wcsmh-I; veth wcsmhI-p (in the netns: the host's
# uplink and macvlan parent, the block's 3rd address) <-> wcsmhI-r (machine side: the router, the 2nd address);
# block 203.0.113.(16*(I-1))/28; dockerd under /run/wcsmh-I; /run/wcsmh-I/python runs the controller's Python
# inside the namespace (the host's ansible_python_interpreter: modules see the host's own interfaces and /sys).
# Other users give their own prefix and first block (the defaults are the scenario's), and may put the router side
# in a network namespace of their own (router_netns, forwarding on there only) so their hosts reach each other
# without touching the machine's forwarding or firewall.
MULTIHOST_MAX = 3
MH_DEFAULTS = {"prefix": "wcsmh", "first_block": "203.0.113.0", "router_netns": None}


def _mh(i, prefix="wcsmh", first_block="203.0.113.0", router_netns=None):
    base = int(ipaddress.ip_address(first_block)) + 16 * (i - 1)
    return {"ns": "%s-%d" % (prefix, i), "parent": "%s%d-p" % (prefix, i), "router": "%s%d-r" % (prefix, i),
            "network": "%s/28" % ipaddress.ip_address(base), "gateway": str(ipaddress.ip_address(base + 1)),
            "address": str(ipaddress.ip_address(base + 2)), "router_netns": router_netns, "prefix": prefix}


def mh_engine(i, **where):
    return Engine(_mh(i, **where)["ns"], netns=_mh(i, **where)["ns"],
                  wait_seconds=int(os.environ.get("WAIT_SECONDS", "60")))


def _router(h, *cmd, check=True):
    """`ip ...` on the router side: the machine, or the router's own namespace."""
    if h["router_netns"]:
        return sh("ip", "-n", h["router_netns"], *cmd, check=check)
    return sh("ip", *cmd, check=check)


def mh_links(i, **where):
    h = _mh(i, **where)
    netns_add(h["ns"])
    if h["router_netns"]:
        netns_add(h["router_netns"])
        # forwarding between the hosts, in the router's namespace only (the machine's setting is left alone)
        sh("ip", "netns", "exec", h["router_netns"], "sysctl", "-qw", "net.ipv4.ip_forward=1")
        sh("ip", "-n", h["router_netns"], "link", "set", "lo", "up")
    if not link_exists(h["parent"], h["ns"]):
        _router(h, "link", "del", h["router"], check=False)  # a stale router side whose peer went with an old netns
        sh("ip", "link", "add", h["router"], "type", "veth", "peer", "name", h["parent"], "netns", h["ns"])
        if h["router_netns"]:
            sh("ip", "link", "set", h["router"], "netns", h["router_netns"])
    sh("ip", "-n", h["ns"], "link", "set", h["parent"], "up")
    _router(h, "link", "set", h["router"], "up")
    sh("ip", "-n", h["ns"], "addr", "replace", h["address"] + "/28", "dev", h["parent"])
    _router(h, "addr", "replace", h["gateway"] + "/28", "dev", h["router"])
    sh("ip", "-n", h["ns"], "route", "replace", "default", "via", h["gateway"], "dev", h["parent"])
    python = os.environ.get("MULTIHOST_PYTHON") or shutil.which("python3")
    wrapper = Path("/run/%s/python" % h["ns"])
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text('#!/bin/sh\n# ansible_python_interpreter of %s: modules run in netns %s\n'
                       'exec ip netns exec %s %s "$@"\n' % (h["ns"], h["ns"], h["ns"], python))
    wrapper.chmod(0o755)


def mh_status(i, **where):
    h, eng = _mh(i, **where), mh_engine(i, **where)
    state = "netns" if netns_exists(h["ns"]) else "no-netns"
    pid = eng.started_pid
    if not pid:
        return "%s %s dockerd=stopped" % (h["ns"], state)
    if not eng.answers():
        return "%s %s dockerd=%d socket=%s not-answering" % (h["ns"], state, pid, eng.host)
    images = sh("docker", "-H", eng.host, "images", "--format", "{{.Repository}}").stdout.count("wcs-emulator")
    running = len(sh("docker", "-H", eng.host, "ps", "-q").stdout.split())
    return "%s %s dockerd=%d socket=%s answers images=%d running=%d" % (
        h["ns"], state, pid, eng.host, images, running)


def multihost(cmd, n, **where):
    """Hosts 1..n (up, down, status) or host n alone (stop, start). ``where``: prefix, first_block, router_netns
    (defaults: the Molecule scenario's wcsmh-*, 203.0.113.0, the machine as router)."""
    hosts = range(1, n + 1)
    if cmd == "up":
        for i in hosts:
            mh_links(i, **where)
            mh_engine(i, **where).start()
        for i in hosts:
            mh_engine(i, **where).wait().load_images()
        for i in hosts:
            print(mh_status(i, **where))
    elif cmd == "down":
        for i in hosts:  # signal all first: they shut down in parallel
            pid = mh_engine(i, **where).started_pid
            if pid:
                say("SIGTERM dockerd %s (pid %d)" % (_mh(i, **where)["ns"], pid))
                os.kill(pid, signal.SIGTERM)
        for i in hosts:
            h = _mh(i, **where)
            mh_engine(i, **where).down()
            _router(h, "link", "del", h["router"], check=False)
            netns_del(h["ns"])
        router_netns = where.get("router_netns")
        if router_netns and netns_exists(router_netns):
            netns_del(router_netns)
    elif cmd == "status":
        for i in hosts:
            print(mh_status(i, **where))
    elif cmd == "stop":
        mh_engine(n, **where).stop()
    elif cmd == "start":
        mh_links(n, **where)
        mh_engine(n, **where).start().wait().load_images()
        print(mh_status(n, **where))
    else:
        raise SystemExit("multihost: unknown command %s" % cmd)


# ---------------------------------------------------------------------------------------------------- checks
LAB_PREFIX = "wcs-lab-"


def lab_state():
    """{name: {id, running, answers}} of the lab's containers on the default engine. `answers`: the stat page
    from inside the container (the host cannot reach its macvlan/ipvlan containers through the parent)."""
    out = sh("docker", "ps", "-a", "--no-trunc", "--filter", "name=^" + LAB_PREFIX,
             "--format", "{{.Names}} {{.ID}} {{.State}}").stdout
    state = {}
    for line in out.splitlines():
        name, cid, status = line.split()
        # busybox wget has no working -T here (it crashes): the timeout comes from docker exec's caller
        stat = sh("docker", "exec", name, "sh", "-c", 'wget -qO- "$0" 2>/dev/null || curl -sf "$0"',
                  "http://127.0.0.1:8081/?action=stat", check=False, timeout=15) if status == "running" else None
        state[name] = {"id": cid, "running": status == "running",
                       "answers": bool(stat and stat.returncode == 0 and "connections=" in stat.stdout)}
    return state


HOME_WATCHED = (".ansible", ".cache", ".local/share", ".config")
HOME_DEPTH = 4
HOME_TRANSIENT = ("ansible-local-", "ansible-tmp-")  # another process's temp dirs, removed when it ends


def home_state(home=None):
    """Every path (HOME_DEPTH levels deep) under ~/.ansible, ~/.cache, ~/.local/share and ~/.config: where
    Ansible, Galaxy, Molecule, pip, tox and matplotlib write by default."""
    home = Path(home or os.path.expanduser("~"))
    found = []
    for top in HOME_WATCHED:
        base = home / top
        if base.exists():
            found.append(top)
            for path in base.rglob("*"):
                rel = path.relative_to(home)
                if len(rel.parts) <= HOME_DEPTH and not any(p.startswith(HOME_TRANSIENT) for p in rel.parts):
                    found.append(str(rel))
    return sorted(found)


def _check(kind, before_file):
    before = json.loads(Path(before_file).read_text())
    if kind == "lab":
        after = lab_state()
        if not before:
            print("lab check: no lab was running before; nothing to compare")
            return 0
        same = ("id", "running")
        bad = [n for n in before if n not in after or any(after[n][k] != before[n][k] for k in same)
               or not after[n]["answers"]]
        for name in sorted(before):
            print("lab check: %s before %s after %s" % (name, before[name], after.get(name)))
        if bad or not all(v["running"] for v in after.values()):
            print("lab check: FAILED: the lab's containers changed: %s" % ", ".join(bad))
            return 1
        print("lab check: %d lab containers unchanged (same ids, running, answering)" % len(after))
        return 0
    gained = sorted(set(home_state()) - set(before))
    # A copy of the collection in ~/.ansible/collections is picked before the checkout by later runs: always fatal.
    # Anything else is fatal with WCS_HOME_CHECK=strict (.ci/run: a machine of its own); on a machine shared with
    # other Ansible/Molecule users their runs land there too, so it is reported.
    fatal = [p for p in gained if p.startswith(".ansible/collections")]
    if os.environ.get("WCS_HOME_CHECK") == "strict":
        fatal = gained
    if gained:
        print("home check: written into the home directory during the suite%s:\n  %s" % (
            "" if fatal else " (not fatal here; WCS_HOME_CHECK=strict makes it so)", "\n  ".join(gained[:50])))
    if fatal:
        print("home check: FAILED: %s" % ", ".join(fatal[:10]))
        return 1
    if not gained:
        print("home check: %s gained nothing" % ", ".join("~/" + top for top in HOME_WATCHED))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="labkit", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="area", required=True)
    eng = sub.add_parser("engine")
    eng.add_argument("cmd", choices=["up", "down", "clean"])
    eng.add_argument("name")
    eng.add_argument("--bridge", nargs=2, metavar=("NAME", "CIDR"))
    veth = sub.add_parser("veth")
    veth.add_argument("cmd", choices=["up", "down"])
    veth.add_argument("name")
    veth.add_argument("--host-cidr")
    veth.add_argument("--router-cidr")
    veth.add_argument("--netns")
    mh = sub.add_parser("multihost")
    mh.add_argument("cmd", choices=["up", "down", "status", "stop", "start"])
    mh.add_argument("n", type=int, choices=range(1, MULTIHOST_MAX + 1))
    mh.add_argument("--prefix", default=MH_DEFAULTS["prefix"], help="netns/engine/veth prefix (default wcsmh)")
    mh.add_argument("--first-block", default=MH_DEFAULTS["first_block"],
                    help="network of host 1's /28; host I gets the I-th /28 from there (default 203.0.113.0)")
    mh.add_argument("--router-netns", default=None, help="put the router side in this netns (default: the machine)")
    for kind in ("lab", "home"):
        p = sub.add_parser(kind)
        p.add_argument("cmd", choices=["snapshot", "check"])
        p.add_argument("file")
    args = parser.parse_args(argv)
    if args.area == "engine":
        engine = Engine(args.name, bridge=tuple(args.bridge) if args.bridge else None)
        if args.cmd == "up":
            engine.up()
            print(engine.host)
        elif args.cmd == "clean":
            engine.clean()
        else:
            engine.down()
        return 0
    if args.area == "veth":
        if args.cmd == "up":
            if veth_ensure(args.name, args.host_cidr, args.router_cidr, args.netns):
                say("created veth %s <-> %s-up%s" % (args.name, args.name, " in " + args.netns if args.netns else ""))
        elif link_exists(args.name) or (args.netns and netns_exists(args.netns)):
            veth_down(args.name, args.netns)
            say("removed veth %s%s" % (args.name, " and netns " + args.netns if args.netns else ""))
        return 0
    if args.area == "multihost":
        multihost(args.cmd, args.n, prefix=args.prefix, first_block=args.first_block,
                  router_netns=args.router_netns)
        return 0
    if args.cmd == "snapshot":
        state = lab_state() if args.area == "lab" else home_state()
        Path(args.file).parent.mkdir(parents=True, exist_ok=True)
        Path(args.file).write_text(json.dumps(state, indent=1) + "\n")
        return 0
    return _check(args.area, args.file)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: wcs_firewall
short_description: The nftables firewall inside every WCS container's network namespace
description:
  - With ipvlan and macvlan each WCS container has its own public address and its traffic never passes the host's
    netfilter chains. This module puts a firewall where the traffic goes, inside each container's network namespace
    (table C(inet mediaops_wcs), chain C(input), policy drop).
  - "Accepted: loopback (health gate, drain and exporter talk to 127.0.0.1 inside the namespace), established and
    related connections, ICMP and ICMPv6, the O(public) ports (WebSocket C(ws)/C(wss) by default) from everyone,
    the media port range (UDP, and TCP with O(media_tcp)) from everyone, and every other named port (REST 8081 and
    8444, CLI 2001, SSH 22, JMX 50999, legacy 9091/8888, HLS 8082/8445 unless public) only from O(admin_cidrs).
    Everything else is dropped and counted."
  - The media range and the ws/wss ports are read from each container's own rendered C(flashphoner.properties)
    (C(media_port_from), C(media_port_to), C(ws.port), C(wss.port)) when an item of O(containers) has a C(conf_dir) holding one, since
    they are what the server really uses. Otherwise the module's options apply.
  - All containers of one engine in one call. Each container's ruleset is also written to
    O(rules_dir)/<name>.nft (mode 0600) on the host, where the host-side follower service
    (role mediaops.wcs.firewall) reads it to apply the rules again whenever the container starts in a new network
    namespace (restart policy, crash, host reboot, engine restart).
  - The rules are entered with C(nsenter --net=/proc/<pid>/ns/net nft ...) from the host (the host's nft; the
    image needs none). Needs root on the Docker host and a local engine.
  - Idempotent, what the kernel holds (C(nft -j list table)) is compared with what is wanted; the table is
    replaced atomically only when they differ, so counters survive a no-op converge.
  - "The same run keeps the follower in place (O(follower)): it installs the follower program and the module_utils
    it imports from its own payload into O(follower_dir)/bin (only files whose bytes differ are written), and runs
    it as the systemd unit C(wcs-firewall-follow) or, without systemd as PID 1, as a detached process with a pidfile
    (O(follower_dir)/run/wcs-firewall-follow.pid, log in O(follower_dir)/log). A changed program, unit or command
    line restarts it. On a host where all is in place this costs no more than reading a few files."
  - When C(nft) is missing the module fails before anything changes with C(nft_missing=true), so a role can
    install nftables only then (role mediaops.wcs.firewall does).
version_added: 1.1.0
author:
  - mediaops engineering (@mediaops)
extends_documentation_fragment:
  - mediaops.wcs.docker
attributes:
  check_mode:
    description: Reports which containers' rules and files would change and what would be done to the follower
      (C(follower.actions)); applies, writes, starts and stops nothing.
    support: full
  diff_mode:
    description: The ruleset before (as the kernel holds it, without counter values) and after, per container; the
      follower's unit file; the sha256 of each follower file that differs.
    support: full
options:
  containers:
    description:
      - The WCS containers of this engine, e.g. V(wcs_plan.containers). Each item needs C(name); C(conf_dir) (the
        directory holding the container's C(flashphoner.properties)) is read when given; other keys are ignored.
      - A container that is not running gets its ruleset file only (the follower applies it when it starts).
    type: list
    elements: dict
    required: true
  state:
    description:
      - V(present) applies the rules and writes the files; V(absent) removes the table from the listed running
        containers and their files.
    type: str
    choices: [present, absent]
    default: present
  admin_cidrs:
    description:
      - Addresses or networks (IPv4/IPv6) from which the admin ports are reachable. Empty = from nowhere (only
        from inside the namespace, i.e. the host's health gate and exporter).
    type: list
    elements: str
    default: []
  cdn_peers:
    description:
      - Addresses of the other CDN nodes (the C(peers) of the C(wcs_cdn) fact of role M(mediaops.wcs.cdn)). For a
        container whose rendered C(flashphoner.properties) has C(cdn_enabled=true), TCP to its C(cdn_port) (8084
        when the file does not set it) is accepted from these addresses only (rule comment C(cdn)), never from
        everyone. Empty = no CDN rule.
    type: list
    elements: str
    default: []
    version_added: 1.2.0
  ports:
    description:
      - Port numbers by name, merged over the defaults C(ws=8080), C(wss=8443), C(rest=8081), C(rest_tls=8444),
        C(hls=8082), C(hls_tls=8445), C(cli=2001), C(ssh=22), C(jmx=50999), C(legacy_rest=9091), C(legacy_web=8888).
      - A new name (e.g. C(sip=5060)) adds a TCP port; it is admin-only unless listed in O(public).
    type: dict
    default: {}
  public:
    description:
      - Names of the ports open to everyone (TCP). Every other named port is admin-only.
      - Add V(hls), V(hls_tls) when the servers serve HLS, V(rest_tls) only when the REST API is published on purpose.
    type: list
    elements: str
    default: [ws, wss]
  media_port_from:
    description: First media port, when the container's C(flashphoner.properties) does not say.
    type: int
    default: 31001
  media_port_to:
    description: Last media port, when the container's C(flashphoner.properties) does not say.
    type: int
    default: 32000
  media_tcp:
    description: Also accept TCP on the media range (media over TCP, e.g. WebRTC over TCP).
    type: bool
    default: true
  icmp:
    description: Accept ICMP and ICMPv6 (path MTU discovery, IPv6 neighbour discovery, ping).
    type: bool
    default: true
  read_properties:
    description: Read the media range and ws/wss ports from each container's C(flashphoner.properties).
    type: bool
    default: true
  prune:
    description:
      - Remove ruleset files in O(rules_dir) of containers that are no longer listed and no longer exist on the
        engine. Files of existing containers stay (the follower keeps protecting them), so several deployments may
        share one O(rules_dir).
      - "Only files the collection wrote are removed (here and by O(state=absent)) - named C(<container>.nft), their
        first line the header C(# Managed by mediaops.wcs (wcs_firewall): <container>.) that every ruleset file it
        writes starts with. Any other file stays and is reported in RV(kept_files)."
    type: bool
    default: true
  rules_dir:
    description: Host directory of the per-container ruleset files (created mode 0700; files 0600).
    type: path
    default: /etc/mediaops-wcs/firewall
  follower:
    description:
      - The host-side follower that applies a container's ruleset file again whenever it starts in a new network
        namespace.
      - V(auto) - V(present) with O(state=present); with O(state=absent) V(absent) once no ruleset file is left in
        O(rules_dir) (the follower serves every file there, other deployments' too), else left alone.
      - V(present) - installed and running (started, or restarted when its program, unit or command line changed).
      - V(absent) - stopped, its unit and O(follower_dir) removed.
      - V(ignore) - not looked at.
    type: str
    choices: [auto, present, absent, ignore]
    default: auto
  follower_dir:
    description: The follower's directory on the host (C(bin/) program and module_utils, C(run/) pidfile, C(log/)).
    type: path
    default: /opt/mediaops-wcs-firewall
  service_manager:
    description:
      - V(systemd) - the unit C(wcs-firewall-follow) (C(Restart=always)) in O(systemd_dir).
      - V(none) - a detached process with a pidfile; its pid is trusted only while C(/proc/<pid>/cmdline) names the
        follower program, and only that process is ever signalled.
      - V(auto) - V(systemd) when systemd runs the host (C(/run/systemd/system) is a directory), else V(none).
    type: str
    choices: [auto, systemd, none]
    default: auto
  manage_service:
    description: V(false) installs the files (and the unit) but starts, stops and reloads nothing (image builds).
    type: bool
    default: true
  systemd_dir:
    description: Directory of the C(wcs-firewall-follow.service) unit.
    type: path
    default: /etc/systemd/system
  follower_python:
    description: Python of the follower (needs the Docker SDK). Empty - the interpreter this module runs with.
    type: str
    default: ""
  follower_cpus:
    description: CPUs the follower runs on (kernel cpulist such as V(0,20) or V(0-1)), the host's reserved ones;
      empty - unpinned. C(CPUAffinity=) of the unit, or the process's affinity.
    type: str
    default: ""
  follower_log_level:
    description: Log level of the follower (V(INFO) logs every rule application).
    type: str
    choices: [DEBUG, INFO, WARNING, ERROR]
    default: INFO
requirements:
  - nftables (C(nft)) and util-linux (C(nsenter)) on the Docker host
  - docker (Docker SDK for Python)
notes:
  - A container restart creates a new network namespace without these rules; the follower service of role
    mediaops.wcs.firewall puts them back within a second of the container's start event.
seealso:
  - module: mediaops.wcs.wcs_containers
"""

EXAMPLES = r"""
- name: Firewall in every WCS container of this host
  mediaops.wcs.wcs_firewall:
    containers: "{{ wcs_plan.containers }}"
    admin_cidrs: ["{{ wcs_plan.network.host_address }}", 192.0.2.0/24]
    public: [ws, wss, hls]
  become: true

- name: Same, follower as a pidfile process pinned to the reserved CPUs (host without systemd as PID 1)
  mediaops.wcs.wcs_firewall:
    containers: "{{ wcs_plan.containers }}"
    admin_cidrs: ["{{ wcs_plan.network.host_address }}"]
    service_manager: none
    follower_cpus: "0,20"
  become: true

- name: Remove it (the follower too once no ruleset file is left)
  mediaops.wcs.wcs_firewall:
    containers: "{{ wcs_plan.containers }}"
    state: absent
"""

RETURN = r"""
containers:
  description: Per container, what the module found and did.
  returned: always
  type: dict
  sample:
    wcs-1:
      running: true
      pid: 4242
      rules_changed: false
      file_changed: false
      file: /etc/mediaops-wcs/firewall/wcs-1.nft
      media_ports: 31001-40000
      public_ports: [8080, 8443]
      admin_ports: [22, 2001, 8081, 8082, 8444, 8445, 8888, 9091, 50999]
      counters: {dropped: {packets: 17, bytes: 1020}, public: {packets: 5, bytes: 300}}
changed_containers:
  description: Names of the containers whose rules (in the kernel) or ruleset file changed.
  returned: always
  type: list
  elements: str
pruned_files:
  description: Ruleset files removed from O(rules_dir) because their container is neither listed nor on the engine.
  returned: always
  type: list
  elements: str
kept_files:
  description:
    - Files of O(rules_dir) that prune or O(state=absent) left because the collection did not write them (no header
      naming their container, not a regular file, not a container's name), each with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{file: /etc/mediaops-wcs/firewall/mine.nft, reason: "its first line is not the collection's header ..."}]
  version_added: 1.3.0
follower:
  description:
    - The follower. C(state) - V(running), V(installed) (O(manage_service=false)), V(absent), V(kept) (state absent
      while other ruleset files remain) or V(ignored). C(actions) - what was (check mode - would be) done, in order.
  returned: always
  type: dict
  sample:
    state: running
    changed: false
    manager: none
    pid: 4243
    unit: null
    files_changed: []
    actions: []
nft_missing:
  description: True when the module failed because C(nft) is not installed on the host (nothing was changed).
  returned: failure
  type: bool
"""

import hashlib
import json
import os
import shutil
import sys
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils import errors as errors_utils
from ansible_collections.mediaops.wcs.plugins.module_utils import firewall as fw
from ansible_collections.mediaops.wcs.plugins.module_utils import firewall_follow as follow
from ansible_collections.mediaops.wcs.plugins.module_utils import pidfile_service
from ansible_collections.mediaops.wcs.plugins.module_utils.cpusets import format_cpuset, parse_cpuset
from ansible_collections.mediaops.wcs.plugins.module_utils.docker_client import (
    docker_argument_spec, engine_is_local, get_client)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import parse_properties
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import check_abs_path, check_docker_name

try:
    from docker.errors import DockerException, NotFound
except ImportError:  # reported by get_client
    class DockerException(Exception):
        """Stand-in when the Docker SDK is missing (get_client fails first)."""

    class NotFound(DockerException):
        """Stand-in when the Docker SDK is missing."""

MANAGED_LABEL = "mediaops.wcs.managed"


class Firewall:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.nft = module.get_bin_path("nft")
        self.nsenter = module.get_bin_path("nsenter")
        if self.p["state"] == "present" or self.nft:
            missing = [name for name, path in (("nft", self.nft), ("nsenter", self.nsenter)) if not path]
            if missing:
                module.fail_json(msg="%s not found on the Docker host. Fix: install nftables and util-linux "
                                 "(apt-get install nftables util-linux)." % " and ".join(missing),
                                 nft_missing=not self.nft)
        self.results, self.diffs, self.kept_files = {}, [], []

    def run_nft(self, pid, args, text=None):
        argv = fw.nsenter_argv(pid, args, nsenter=self.nsenter, nft=self.nft)
        return self.module.run_command(argv, data=text, binary_data=True)

    def current(self, pid):
        """(canonical, stateless text, raw json) of the table in pid's namespace; (None, "", None) if absent."""
        rc, out, err = self.run_nft(pid, ["-j", "list", "table", fw.TABLE_FAMILY, fw.TABLE_NAME])
        if rc != 0:
            if "No such file or directory" in err or "does not exist" in err:
                return None, "", None
            self.module.fail_json(msg="nft list in the namespace of pid %d failed: %s" % (pid, err.strip()))
        raw = json.loads(out or "{}")
        rc, text, _err = self.run_nft(pid, ["-s", "list", "table", fw.TABLE_FAMILY, fw.TABLE_NAME])
        return fw.canonical(raw), text if rc == 0 else "", raw

    def apply(self, name, pid, text):
        rc, _out, err = self.run_nft(pid, ["-f", "-"], text)
        if rc != 0:
            self.module.fail_json(msg="nft refused the ruleset of %s (pid %d): %s" % (name, pid, err.strip()))

    def spec_of(self, base, item):
        props = {}
        conf_dir = item.get("conf_dir")
        if self.p["read_properties"] and conf_dir:
            path = os.path.join(conf_dir, "flashphoner.properties")
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    props = dict(parse_properties(handle.read()))
        try:
            return fw.container_ports(base, props)
        except PlanError as err:
            self.module.fail_json(msg="%s (container %s, read from %s/flashphoner.properties)"
                                  % (err, item["name"], conf_dir))

    def write_file(self, path, text):
        """True when the file changes (written unless check mode): atomic, 0600, directory 0700."""
        try:
            with open(path, encoding="utf-8") as handle:
                if handle.read() == text:
                    if (os.stat(path).st_mode & 0o777) != 0o600 and not self.module.check_mode:
                        os.chmod(path, 0o600)
                    return False
        except FileNotFoundError:
            pass
        if not self.module.check_mode:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".wcs-fw-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.chmod(tmp, 0o600)
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        return True

    def inspect(self, client, name):
        try:
            info = client.inspect_container(name)
        except NotFound:
            return None
        except DockerException as exc:
            self.module.fail_json(msg="Docker engine refused to inspect %s: %s" % (name, exc))
        labels = (info.get("Config") or {}).get("Labels") or {}
        if labels.get(MANAGED_LABEL) != "true":
            self.module.fail_json(msg="containers: %r is not a WCS container managed by mediaops.wcs (no label %s=true)."
                                  " Fix: list only the containers mediaops.wcs.wcs_containers made." % (name, MANAGED_LABEL))
        state = info.get("State") or {}
        return int(state.get("Pid") or 0) if state.get("Running") else 0

    def present(self, client, base, items, rules_dir):
        for item in items:
            name = item["name"]
            spec = self.spec_of(base, item)
            rules = fw.desired_rules(spec)
            text = fw.render(rules, name)
            path = os.path.join(rules_dir, fw.rules_file_name(name))
            file_changed = self.write_file(path, text)
            pid = self.inspect(client, name)
            res = {"running": bool(pid), "pid": pid or None, "file": path, "file_changed": file_changed,
                   "rules_changed": False, "exists": pid is not None,
                   "media_ports": "%d-%d" % (spec["media_port_from"], spec["media_port_to"]),
                   "public_ports": sorted(spec["ports"][n] for n in spec["public"]),
                   "admin_ports": sorted(v for n, v in spec["ports"].items() if n not in spec["public"]),
                   "counters": {}}
            if pid:
                canon, before, raw = self.current(pid)
                if canon != fw.wanted(rules):
                    res["rules_changed"] = True
                    self.diffs.append({"before_header": "%s (kernel)" % name, "before": before,
                                       "after_header": "%s (wanted)" % name, "after": text})
                    if not self.module.check_mode:
                        self.apply(name, pid, text)
                        canon, _text, raw = self.current(pid)
                        if canon != fw.wanted(rules):
                            self.module.fail_json(msg="the rules of %s read back differently from what was applied"
                                                  " (nft version?)" % name)
                res["counters"] = fw.counters(raw)
            self.results[name] = res

    def absent(self, client, items, rules_dir):
        for item in items:
            name = item["name"]
            path = os.path.join(rules_dir, fw.rules_file_name(name))
            res = {"file": path, "file_changed": False, "rules_changed": False}
            if os.path.lexists(path):
                why = fw.file_mark_problem(path, name)  # only a file the collection wrote goes
                if why:
                    self.kept_files.append({"file": path, "reason": why})
                else:
                    res["file_changed"] = True
                    if not self.module.check_mode:
                        os.unlink(path)
            pid = self.inspect(client, name) if self.nft and self.nsenter else 0
            res["running"], res["pid"] = bool(pid), pid or None
            if pid:
                canon, before, _raw = self.current(pid)
                if canon is not None:
                    res["rules_changed"] = True
                    self.diffs.append({"before_header": "%s (kernel)" % name, "before": before,
                                       "after_header": "%s (removed)" % name, "after": ""})
                    if not self.module.check_mode:
                        self.apply(name, pid, fw.delete_text())
            self.results[name] = res

    def prune(self, client, names, rules_dir):
        """Removes the ruleset files of containers neither listed nor on the engine, and only those the collection
        wrote (first line fw.FILE_MARK naming the container the file is named after); any other .nft file stays,
        reported in kept_files. Every file is looked at before the first removal."""
        if not os.path.isdir(rules_dir):
            return []
        candidates, kept = fw.prune_candidates(rules_dir, {fw.rules_file_name(n) for n in names})
        self.kept_files.extend(kept)
        gone = []
        for fname, name in candidates:
            try:
                name = check_docker_name(name, "file name")
            except PlanError:
                self.kept_files.append({"file": os.path.join(rules_dir, fname), "reason": "its name is not a "
                                        "container's name"})
                continue
            try:
                client.inspect_container(name)
            except NotFound:
                gone.append(fname)
            except DockerException as exc:
                self.module.fail_json(msg="Docker engine refused to inspect %s: %s" % (name, exc))
        for fname in gone:
            self.diffs.append({"before_header": os.path.join(rules_dir, fname), "before": "(file)\n",
                               "after_header": os.path.join(rules_dir, fname), "after": ""})
            if not self.module.check_mode:
                os.unlink(os.path.join(rules_dir, fname))
        return gone


def module_source(mod):
    """The bytes of a module_util as this run has it: from the AnsiballZ payload (zipimporter) or the file."""
    loader = getattr(mod, "__loader__", None)
    source = None
    if loader is not None and hasattr(loader, "get_source"):
        source = loader.get_source(mod.__name__)
    if source is None:
        with open(mod.__file__, "rb") as handle:
            return handle.read()
    return source.encode("utf-8")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


class Follower:
    """Keeps the follower installed and running from this module's own payload (one remote run per concern)."""

    def __init__(self, module, rules_dir):
        self.module = module
        p = module.params
        self.dir = p["follower_dir"]
        self.bin = os.path.join(self.dir, "bin")
        self.pidfile = os.path.join(self.dir, follow.PIDFILE)
        self.logfile = os.path.join(self.dir, follow.LOGFILE)
        self.program = os.path.join(self.bin, follow.PROGRAM)
        self.unit_path = os.path.join(p["systemd_dir"], follow.UNIT)
        self.manage = p["manage_service"]
        self.manager = p["service_manager"]
        if self.manager == "auto":
            self.manager = "systemd" if os.path.isdir("/run/systemd/system") else "none"
        self.argv = follow.follower_argv(p["follower_python"] or sys.executable, self.dir, rules_dir,
                                         p["docker_host"], p["follower_log_level"])
        self.result = {"state": None, "changed": False, "manager": self.manager, "pid": None,
                       "unit": follow.UNIT if self.manager == "systemd" else None, "files_changed": [],
                       "actions": []}
        self.diffs = []
        self.systemctl_bin = None

    def act(self, action):
        self.result["actions"].append(action)
        self.result["changed"] = True
        return not self.module.check_mode

    def files(self):
        """(path, bytes, mode): the program under its installed name, then the module_utils it imports."""
        out = [(self.program, module_source(follow), 0o644)]
        for name, mod in (("firewall", fw), ("errors", errors_utils)):
            out.append((os.path.join(self.bin, name + ".py"), module_source(mod), 0o644))
        return out

    def sync_file(self, path, data, mode, text_diff=False):
        before = read_bytes(path)
        if before == data:
            if (os.stat(path).st_mode & 0o777) != mode and not self.module.check_mode:
                os.chmod(path, mode)
            return False
        self.result["files_changed"].append(path)
        if text_diff:
            self.diffs.append({"before_header": path, "after_header": path, "after": data.decode("utf-8"),
                               "before": "" if before is None else before.decode("utf-8", "replace")})
        else:
            self.diffs.append({"before_header": path, "after_header": path,
                               "before": "" if before is None else "sha256 %s\n" % sha256(before),
                               "after": "sha256 %s\n" % sha256(data)})
        if self.act("write %s" % path):
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".wcs-fw-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.chmod(tmp, mode)
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        return True

    def systemctl(self, *args, check=True):
        if self.systemctl_bin is None:
            self.systemctl_bin = self.module.get_bin_path("systemctl", required=True)
        rc, out, err = self.module.run_command([self.systemctl_bin] + list(args))
        if check and rc != 0:
            self.module.fail_json(msg="systemctl %s failed: %s" % (" ".join(args), (err or out).strip()),
                                  follower=self.result)
        return rc, out.strip()

    def present(self, cpus):
        program_changed = False
        for path, data, mode in self.files():
            program_changed = self.sync_file(path, data, mode) or program_changed
        if self.manager == "systemd":
            self.present_systemd(cpus, program_changed)
        else:
            self.present_pidfile(cpus, program_changed)

    def present_systemd(self, cpus, program_changed):
        text = follow.unit_text(self.argv, format_cpuset(cpus))
        unit_changed = self.sync_file(self.unit_path, text.encode("utf-8"), 0o644, text_diff=True)
        if not self.manage:
            self.result["state"] = "installed"
            return
        if unit_changed and self.act("systemctl daemon-reload"):
            self.systemctl("daemon-reload")
        if self.systemctl("is-enabled", follow.UNIT, check=False)[0] != 0 and self.act("systemctl enable"):
            self.systemctl("enable", follow.UNIT)
        active = self.systemctl("is-active", follow.UNIT, check=False)[0] == 0
        if active and (unit_changed or program_changed):
            if self.act("systemctl restart"):
                self.systemctl("restart", follow.UNIT)
        elif not active and self.act("systemctl start"):
            self.systemctl("start", follow.UNIT)
        self.result["state"] = "running"
        if not self.module.check_mode:
            _rc, pid = self.systemctl("show", "--property=MainPID", "--value", follow.UNIT, check=False)
            self.result["pid"] = int(pid) if pid.isdigit() and int(pid) else None

    def present_pidfile(self, cpus, program_changed):
        if not self.manage:
            self.result["state"] = "installed"
            return
        pid, argv = pidfile_service.running(self.pidfile, self.program)
        if pid and argv == self.argv and not program_changed:
            self.result.update(state="running", pid=pid)
            return
        if pid and self.act("stop pid %s (%s)" % (pid, "program changed" if program_changed else "command line")):
            pidfile_service.stop(self.pidfile, self.program)
        if self.act("start"):
            try:
                self.result["pid"] = pidfile_service.start(self.argv, self.pidfile, self.logfile, cpus,
                                                           run_command=self.module.run_command)
            except pidfile_service.StartError as exc:
                self.module.fail_json(msg="the firewall follower did not start: %s" % exc, follower=self.result)
        self.result["state"] = "running"

    def absent(self):
        if self.manager == "systemd":
            if self.manage and os.path.exists(self.unit_path) and self.act("systemctl disable --now"):
                self.systemctl("disable", "--now", follow.UNIT, check=False)
            if os.path.exists(self.unit_path):
                self.diffs.append({"before_header": self.unit_path, "after_header": self.unit_path,
                                   "before": (read_bytes(self.unit_path) or b"").decode("utf-8", "replace"),
                                   "after": ""})
                if self.act("remove %s" % self.unit_path):
                    os.unlink(self.unit_path)
                    if self.manage:
                        self.systemctl("daemon-reload", check=False)
        elif self.manage:
            pid, _argv = pidfile_service.running(self.pidfile, self.program)
            if pid and self.act("stop pid %s" % pid):
                pidfile_service.stop(self.pidfile, self.program)
        if os.path.isdir(self.dir):
            self.diffs.append({"before_header": self.dir, "after_header": self.dir, "before": "(directory)\n",
                               "after": ""})
            if self.act("remove %s" % self.dir):
                shutil.rmtree(self.dir)
        self.result["state"] = "absent"


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=docker_argument_spec(
            containers=dict(type="list", elements="dict", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            admin_cidrs=dict(type="list", elements="str", default=[]),
            cdn_peers=dict(type="list", elements="str", default=[]),
            ports=dict(type="dict", default={}),
            public=dict(type="list", elements="str", default=["ws", "wss"]),
            media_port_from=dict(type="int", default=31001),
            media_port_to=dict(type="int", default=32000),
            media_tcp=dict(type="bool", default=True),
            icmp=dict(type="bool", default=True),
            read_properties=dict(type="bool", default=True),
            prune=dict(type="bool", default=True),
            rules_dir=dict(type="path", default="/etc/mediaops-wcs/firewall"),
            follower=dict(type="str", choices=["auto", "present", "absent", "ignore"], default="auto"),
            follower_dir=dict(type="path", default="/opt/mediaops-wcs-firewall"),
            service_manager=dict(type="str", choices=["auto", "systemd", "none"], default="auto"),
            manage_service=dict(type="bool", default=True),
            systemd_dir=dict(type="path", default="/etc/systemd/system"),
            follower_python=dict(type="str", default=""),
            follower_cpus=dict(type="str", default=""),
            follower_log_level=dict(type="str", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default="INFO"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not engine_is_local(p):
        module.fail_json(msg="docker_host=%s: the firewall is entered through /proc/<pid>/ns/net on the Docker host."
                         " Fix: run this module on the Docker host with its local unix:// socket." % p["docker_host"])
    try:
        rules_dir = check_abs_path(p["rules_dir"], "rules_dir")
        check_abs_path(p["follower_dir"], "follower_dir")
        check_abs_path(p["systemd_dir"], "systemd_dir", refuse_system=False)
        if p["follower_python"]:
            check_abs_path(p["follower_python"], "follower_python", refuse_system=False)
        follower_cpus = parse_cpuset(p["follower_cpus"], "follower_cpus")
        items = []
        for index, item in enumerate(p["containers"]):
            name = check_docker_name(item.get("name"), "containers[%d].name" % index)
            conf_dir = item.get("conf_dir")
            if conf_dir:
                conf_dir = check_abs_path(conf_dir, "containers[%d].conf_dir" % index)
            items.append({"name": name, "conf_dir": conf_dir})
        base = fw.firewall_spec(dict(admin_cidrs=p["admin_cidrs"], cdn_peers=p["cdn_peers"], ports=p["ports"],
                                     public=p["public"],
                                     media_port_from=p["media_port_from"], media_port_to=p["media_port_to"],
                                     media_tcp=p["media_tcp"], icmp=p["icmp"]))
    except PlanError as err:
        module.fail_json(msg=str(err))

    firewall = Firewall(module)
    client = get_client(module)
    try:
        if p["state"] == "present":
            firewall.present(client, base, items, rules_dir)
        else:
            firewall.absent(client, items, rules_dir)
        pruned = firewall.prune(client, [i["name"] for i in items], rules_dir) if p["prune"] else []
    finally:
        client.close()

    follower = Follower(module, rules_dir)
    wanted = p["follower"]
    if wanted == "auto" and p["state"] == "present":
        wanted = "present"
    elif wanted == "auto":  # the follower serves every file of rules_dir: it goes with the last one
        left = [f for f in os.listdir(rules_dir) if f.endswith(".nft")] if os.path.isdir(rules_dir) else []
        if module.check_mode:  # the files this run would have removed are still there
            gone = {os.path.basename(r["file"]) for r in firewall.results.values() if r["file_changed"]}
            gone |= set(pruned)
            left = [f for f in left if f not in gone]
        wanted = "kept" if left else "absent"
        if wanted == "absent" and os.path.isdir(rules_dir) and not os.listdir(rules_dir) \
                and not module.check_mode:
            os.rmdir(rules_dir)
    if wanted == "present":
        follower.present(follower_cpus)
    elif wanted == "absent":
        follower.absent()
    else:
        follower.result["state"] = {"kept": "kept", "ignore": "ignored"}[wanted]

    changed_names = sorted(n for n, r in firewall.results.items() if r["rules_changed"] or r["file_changed"])
    result = dict(changed=bool(changed_names or pruned or follower.result["changed"]), containers=firewall.results,
                  changed_containers=changed_names, pruned_files=pruned, kept_files=firewall.kept_files,
                  follower=follower.result)
    if module._diff:
        result["diff"] = firewall.diffs + follower.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()

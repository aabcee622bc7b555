#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: wcs_tls
short_description: The keystore WCS serves wss and https with, from the operator's certificate, chain and key
description:
  - Checks the operator's certificate, chain and private key (per host, or per container with O(per_container))
    before anything changes, for every container of the host in one call. The key must match the certificate, the
    chain must be in order (each certificate signed by the next), the subjectAltName must cover the container
    (every name in O(names), or with no names one of its addresses), and the certificate must not expire within
    O(min_days).
  - Writes the keystore the server reads into each container's conf directory (O(keystore_name), mode 0600) as
    PKCS#12, which Java's JKS loader also reads (C(keystore.type.compat), JDK 9+ and 8u60+), so the file keeps the
    name C(wss.jks) the server expects.
  - Idempotent, an existing keystore that opens with O(keystore_password) and holds the same key, certificate, chain
    and alias is left alone (PKCS#12 bytes differ on every write).
  - With O(restart), the running containers whose keystore changed are restarted one at a time, each waiting until
    its statistics page answers again (asked inside its network namespace) before the next, so the host never has
    more than one container down. RV(changed_containers) lists them either way (the role sets it as
    C(wcs_tls_changed)).
  - Needs root on the Docker host (conf directories, network namespaces) and C(cryptography) on it.
version_added: 1.1.0
author:
  - mediaops engineering (@mediaops)
extends_documentation_fragment:
  - mediaops.wcs.docker
attributes:
  check_mode:
    description: Checks everything and reports which keystores would change; writes and restarts nothing.
    support: full
  diff_mode:
    description: Per container, the certificate before and after (subject, SAN, fingerprint, expiry), never a key.
    support: full
options:
  containers:
    description:
      - The WCS containers of this host, e.g. V(wcs_plan.containers). Each item needs C(name) and C(conf_dir);
        C(ipv4_address) and C(external_ip) are the addresses the SAN may cover; other keys are ignored.
    type: list
    elements: dict
    required: true
  certificate:
    description: The server certificate (PEM) for every container without its own in O(per_container). A full-chain
      file (certificate then intermediates) is accepted when O(chain) is empty.
    type: str
  chain:
    description: The intermediate certificates (PEM), the certificate's issuer first. Certificates only (a private key
      here is refused, since this option is not hidden).
    type: str
    default: ""
  private_key:
    description: The certificate's private key (PEM; RSA or EC, what browsers and Java's TLS serve with), e.g. from
      Ansible Vault. Never shown.
    type: str
  private_key_passphrase:
    description: Passphrase of an encrypted O(private_key).
    type: str
  names:
    description: DNS names (or addresses) clients use for every container; each must be in the SAN. Empty means one
      of the container's addresses must be.
    type: list
    elements: str
    default: []
  per_container:
    description:
      - Per container name, its own C(certificate), C(chain), C(private_key), C(private_key_passphrase) and C(names)
        (each falls back to the host-wide option). Never shown.
    type: dict
    default: {}
  min_days:
    description: Refuse a certificate that expires within this many days.
    type: int
    default: 30
  keystore_name:
    description: File name of the keystore in each container's conf directory. Flashphoner's server reads
      C(conf/wss.jks) (operators' notes; not confirmed by Flashphoner's documentation).
    type: str
    default: wss.jks
  keystore_password:
    description: The keystore's password. C(password) is what operators' notes give for WCS's C(wss.jks) (not confirmed
      by Flashphoner's documentation); set the one your server is configured with. Never shown.
    type: str
    default: password
  alias:
    description: Alias (friendly name) of the key entry.
    type: str
    default: wcs
  owner:
    description: Owner of the keystore files (the user the server runs as inside the container, by id or name).
    type: str
    default: root
  group:
    description: Group of the keystore files.
    type: str
    default: root
  restart:
    description: Restart the running containers whose keystore changed, one at a time, waiting for each.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for a restarted container's statistics page.
    type: int
    default: 60
  stat_port:
    description: Port of the statistics page inside the container.
    type: int
    default: 8081
requirements:
  - cryptography (Debian python3-cryptography) on the Docker host
  - docker (Docker SDK for Python), only with O(restart)
seealso:
  - module: mediaops.wcs.wcs_firewall
"""

EXAMPLES = r"""
- name: Keystores from the vault, restart the containers whose keystore changed one by one
  mediaops.wcs.wcs_tls:
    containers: "{{ wcs_plan.containers }}"
    certificate: "{{ vault_wcs_tls_certificate }}"
    chain: "{{ vault_wcs_tls_chain }}"
    private_key: "{{ vault_wcs_tls_private_key }}"
    names: [media1.example.net]
    restart: true
  become: true
"""

RETURN = r"""
containers:
  description: Per container, the certificate served (never the key) and what changed.
  returned: always
  type: dict
  sample:
    wcs-1:
      file: /opt/wcs/wcs-1/conf/wss.jks
      changed: true
      restarted: true
      days_left: 89
      certificate: {subject: CN=media1.example.net, san: [media1.example.net], sha256: "ab:cd:...",
                    not_after: "2027-03-01T00:00:00+00:00", issuer: "CN=Example CA", chain: ["CN=Example CA"]}
changed_containers:
  description: Names of the containers whose keystore changed (or would, in check mode).
  returned: always
  type: list
  elements: str
"""

import os
import re
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils import tls
from ansible_collections.mediaops.wcs.plugins.module_utils.docker_client import (
    docker_argument_spec, engine_is_local, get_client)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.netns_http import NetnsHTTPError, request
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import (
    check_abs_path, check_docker_name, check_text)

MAX_KEYSTORE = 1 << 20
PER_CONTAINER_KEYS = ("certificate", "chain", "private_key", "private_key_passphrase", "names")


def plan(module):
    """Checks everything first: [(item, bundle, names, keystore path, check result)] or fail_json."""
    p = module.params
    try:
        if not re.match(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z", p["keystore_name"]):
            raise PlanError("wcs_tls_keystore_name", p["keystore_name"], "give a plain file name such as wss.jks")
        check_text(p["keystore_password"], "wcs_tls_keystore_password", allow_empty=False)
        check_text(p["alias"], "wcs_tls_alias", allow_empty=False)
        for name, own in p["per_container"].items():
            if not isinstance(own, dict) or set(own) - set(PER_CONTAINER_KEYS):
                raise PlanError("wcs_tls_per_container.%s" % name, sorted(own) if isinstance(own, dict) else "(?)",
                                "give a mapping with only %s" % ", ".join(PER_CONTAINER_KEYS))
        out = []
        for index, item in enumerate(p["containers"]):
            name = check_docker_name(item.get("name"), "containers[%d].name" % index)
            conf_dir = check_abs_path(item.get("conf_dir"), "containers[%d].conf_dir" % index)
            own = p["per_container"].get(name) or {}
            field = "wcs_tls_per_container.%s" % name if own.get("certificate") else "wcs_tls"

            def pick(key, own=own):
                return own.get(key) if own.get(key) not in (None, "") else p[key]
            if not pick("certificate") or not pick("private_key"):
                raise PlanError(field + "_certificate", name, "give wcs_tls_certificate and wcs_tls_private_key "
                                "(per host) or both in wcs_tls_per_container.%s" % name)
            bundle = tls.load_bundle(pick("certificate"), pick("chain") or "", pick("private_key"),
                                     pick("private_key_passphrase"), field=field)
            given = pick("names") or []
            if not isinstance(given, list):
                raise PlanError(field + "_names", given, "give a list of DNS names (or addresses) clients use")
            names = [check_text(n, field + "_names", allow_empty=False) for n in given]
            addresses = [a for a in (item.get("external_ip"), item.get("ipv4_address")) if isinstance(a, str)]
            result = tls.check_bundle(bundle, names=names, addresses=addresses, min_days=p["min_days"], field=field)
            out.append((name, bundle, os.path.join(conf_dir, p["keystore_name"]), result))
        return out
    except PlanError as err:
        module.fail_json(msg=str(err))


def write_keystore(module, path, data):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        module.fail_json(msg="conf_dir %s does not exist. Fix: run the config role first (the site playbook does)."
                         % directory)
    if os.path.isdir(path):
        module.fail_json(msg="%s is a directory. Fix: move it away; the keystore is a file of its own." % path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".wcs-tls-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        module.set_owner_if_different(tmp, module.params["owner"], False)
        module.set_group_if_different(tmp, module.params["group"], False)
        os.replace(tmp, path)
    except OSError as exc:
        module.fail_json(msg="could not write the keystore %s: %s. Fix: check the conf directory (space, "
                         "permissions)." % (path, exc.strerror or exc))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def restart_one(module, client, name):
    """Restarts one container and waits for its statistics page (inside its namespace); False if it is not running."""
    info = client.inspect_container(name)
    if not (info.get("State") or {}).get("Running"):
        return False
    client.restart(name, timeout=30)
    deadline = time.monotonic() + module.params["wait_timeout"]
    last = "not asked yet"
    while time.monotonic() < deadline:
        pid = int((client.inspect_container(name).get("State") or {}).get("Pid") or 0)
        if pid:
            try:
                if request("GET", "/?action=stat", module.params["stat_port"], pid=pid, timeout=3)["status"] == 200:
                    return True
                last = "HTTP error"
            except NetnsHTTPError as exc:
                last = str(exc)
        time.sleep(1)
    module.fail_json(msg="%s was restarted for its new keystore but its statistics page did not answer within %ss "
                     "(%s). The other containers were not touched. Fix: check `docker logs %s` (keystore password, "
                     "certificate)." % (name, module.params["wait_timeout"], last, name))


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=docker_argument_spec(
            containers=dict(type="list", elements="dict", required=True),
            certificate=dict(type="str"),
            chain=dict(type="str", default=""),
            private_key=dict(type="str", no_log=True),
            private_key_passphrase=dict(type="str", no_log=True),
            names=dict(type="list", elements="str", default=[]),
            per_container=dict(type="dict", default={}, no_log=True),
            min_days=dict(type="int", default=30),
            keystore_name=dict(type="str", default="wss.jks"),
            keystore_password=dict(type="str", default="password", no_log=True),
            alias=dict(type="str", default="wcs"),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
            restart=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=60),
            stat_port=dict(type="int", default=8081),
        ),
        supports_check_mode=True,
    )
    if not tls.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography (Debian: python3-cryptography)"),
                         exception=str(tls.CRYPTOGRAPHY_IMPORT_ERROR))
    p = module.params
    planned = plan(module)
    results, diffs, changed_names = {}, [], []
    for name, bundle, path, check in planned:
        before = None
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                data = handle.read(MAX_KEYSTORE + 1)  # a keystore is a few KiB: anything larger is not ours
            same = len(data) <= MAX_KEYSTORE and tls.keystore_matches(data, bundle, p["keystore_password"], p["alias"])
            before = "(a keystore holding this certificate)" if same else "(another keystore, or one that does not " \
                "open with keystore_password)"
        else:
            same = False
        mode_ok = same and (os.stat(path).st_mode & 0o777) == 0o600
        summary = tls.summary(bundle)
        results[name] = {"file": path, "changed": not same, "restarted": False, "days_left": check["days_left"],
                         "certificate": summary}
        if not same:
            changed_names.append(name)
            diffs.append({"before_header": path, "before": (before or "(no keystore)") + "\n",
                          "after_header": path,
                          "after": "".join("%s: %s\n" % (k, summary[k]) for k in sorted(summary))})
            if not module.check_mode:
                write_keystore(module, path, tls.keystore_bytes(bundle, p["keystore_password"], p["alias"]))
        elif not mode_ok and not module.check_mode:
            os.chmod(path, 0o600)
    if p["restart"] and changed_names and not module.check_mode:
        if not engine_is_local(p):
            module.fail_json(msg="restart=true asks each container from inside its network namespace. Fix: run on the "
                             "Docker host with its local unix:// socket.")
        client = get_client(module)
        try:
            for name in changed_names:  # one at a time: the next only once this one answers again
                results[name]["restarted"] = restart_one(module, client, name)
        finally:
            client.close()
    result = dict(changed=bool(changed_names), containers=results, changed_containers=changed_names)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()

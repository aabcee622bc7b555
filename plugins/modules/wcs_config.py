#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: wcs_config
short_description: Render the property files of every WCS container of a host in one call
version_added: "1.1.0"
description:
  - For each container of O(containers) (the C(wcs_plan.containers) entries of M(mediaops.wcs.wcs_plan)), creates
    its directory C(<conf_root>/<name>) and conf directory C(<conf_dir>), and renders C(flashphoner.properties)
    (with the container's own C(ip) and C(ip_local)) and C(wcs-core.properties) (with the container's own heap)
    there, with the merge rules of M(mediaops.wcs.wcs_properties) - managed keys win, keys added by hand are kept
    and reported, keys managed before and unset now are removed, comments stay.
  - One module run for the whole host, whatever the number of containers.
  - Returns RV(changed_containers), the names of the containers whose files changed, so exactly those restart.
  - Files are written atomically, private until their mode is applied.
options:
  containers:
    description:
      - The containers, as the entries of C(wcs_plan.containers). Keys read - C(name), C(conf_dir), C(external_ip)
        (written as C(ip)), C(local_ip) (written as C(ip_local)), C(heap); other keys are ignored.
    type: list
    elements: dict
    required: true
  properties:
    description:
      - Managed C(key=value) settings of every container's C(flashphoner.properties) (media ports, codecs, ws
        ports, ...). A null value leaves the key unmanaged. C(ip) and C(ip_local) come from each container.
    type: dict
    default: {}
  extra_properties:
    description: Further managed settings of C(flashphoner.properties); a key may not also be in O(properties).
    type: dict
    default: {}
  container_properties:
    description:
      - Managed settings of one container's C(flashphoner.properties), by container name, over O(properties) (e.g.
        the CDN keys of each node, from the C(wcs_cdn) fact of role M(mediaops.wcs.cdn)). A key may not also be in
        O(extra_properties); a name that is not in O(containers) is refused.
    type: dict
    default: {}
    version_added: 1.2.0
  zgc:
    description: Write C(-XX:+UnlockExperimentalVMOptions) and C(-XX:+UseZGC) into C(wcs-core.properties).
    type: bool
    default: false
  server_options:
    description: "Options for the C(### SERVER OPTIONS ###) section of C(wcs-core.properties), one per item."
    type: list
    elements: str
    default: []
  jvm_options:
    description:
      - "Options for the C(### JVM OPTIONS ###) section, one per item; one for the same setting as the heap
        (e.g. C(-Xmx20g)) wins over it."
    type: list
    elements: str
    default: []
  owner:
    description: Owner of the directories and files.
    type: str
  group:
    description: Group of the directories and files.
    type: str
  mode:
    description: Mode of the files (they sit next to secrets in the conf directory).
    type: raw
    default: "0640"
  dir_mode:
    description: Mode of the directories.
    type: raw
    default: "0750"
  state:
    description:
      - V(present) renders the files; V(absent) removes each container's directory C(<conf_root>/<name>) (the
        parent of its C(conf_dir)) with everything in it, and nothing else.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    description: Reports what would change without writing.
    support: full
  diff_mode:
    description: Shows each changed file before and after.
    support: full
author:
  - mediaops engineering (@mediaops)
seealso:
  - module: mediaops.wcs.wcs_properties
  - module: mediaops.wcs.wcs_plan
"""

EXAMPLES = r"""
- name: Property files of every planned container
  mediaops.wcs.wcs_config:
    containers: "{{ wcs_plan.containers }}"
    properties:
      media_port_from: 31001
      media_port_to: 40000
      ws.port: 8080
      wss.port: 8443
    zgc: true
  register: conf

- name: Restart exactly the containers whose files changed
  mediaops.wcs.wcs_containers:
    containers: "{{ wcs_plan | mediaops.wcs.container_items(restart=conf.changed_containers) }}"
"""

RETURN = r"""
changed_containers:
  description: Names of the containers whose directory or files changed (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [wcs-1]
files:
  description: One entry per file written or checked.
  returned: always
  type: list
  elements: dict
  contains:
    container:
      description: The container the file belongs to.
      type: str
    path:
      description: The file.
      type: str
    changed:
      description: Whether it changed.
      type: bool
    kept_keys:
      description: Keys added by hand and kept.
      type: list
      elements: str
    removed_keys:
      description: Keys removed (managed before, unset now; or competing GC lines).
      type: list
      elements: str
    added_keys:
      description: Managed keys new in the file.
      type: list
      elements: str
    updated_keys:
      description: Managed keys whose value changed.
      type: list
      elements: str
  sample:
    - {container: wcs-1, path: /opt/wcs/wcs-1/conf/flashphoner.properties, changed: false, kept_keys: [],
       removed_keys: [], added_keys: [], updated_keys: []}
kept_keys:
  description: Hand-added keys kept in C(flashphoner.properties), by container (only containers that have some).
  returned: always
  type: dict
  sample: {wcs-1: [my_hand_key]}
"""

import os
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.wcs.plugins.module_utils.conf_files import ensure_directory, read_text, write_text
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import (
    CORE_FILE, FLASHPHONER_FILE, render_core, render_flashphoner)
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import check_abs_path, check_docker_name


def argument_spec():
    return dict(
        containers=dict(type="list", elements="dict", required=True),
        properties=dict(type="dict", default={}),
        extra_properties=dict(type="dict", default={}),
        container_properties=dict(type="dict", default={}),
        zgc=dict(type="bool", default=False),
        server_options=dict(type="list", elements="str", default=[]),
        jvm_options=dict(type="list", elements="str", default=[]),
        owner=dict(type="str"),
        group=dict(type="str"),
        mode=dict(type="raw", default="0640"),
        dir_mode=dict(type="raw", default="0750"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def container_files(params, index, item):
    """(name, conf_dir, [(path, existing text, rendered text, report)]) of one container, checked before anything
    is written."""
    field = "containers[%d]" % index
    name = check_docker_name(item.get("name"), field + ".name")
    conf_dir = check_abs_path(item.get("conf_dir"), field + ".conf_dir")
    own = params["container_properties"].get(name) or {}
    if not isinstance(own, dict):
        raise PlanError("container_properties.%s" % name, own, "give a mapping of key to value")
    properties = dict(params["properties"], **own)
    properties.update(ip=item.get("external_ip"), ip_local=item.get("local_ip"))
    path = os.path.join(conf_dir, FLASHPHONER_FILE)
    existing = read_text(path)
    text, _keys, report = render_flashphoner(existing, properties, params["extra_properties"])
    files = [(path, existing, text, report)]
    path = os.path.join(conf_dir, CORE_FILE)
    existing = read_text(path)
    text, _keys, report = render_core(existing, item.get("heap"), params["zgc"], params["server_options"],
                                      params["jvm_options"])
    files.append((path, existing, text, report))
    return name, conf_dir, files


def remove_all(module, containers):
    """state=absent: each container's own directory (the parent of its conf_dir) goes."""
    removed = []
    for index, item in enumerate(containers):
        try:
            name = check_docker_name(item.get("name"), "containers[%d].name" % index)
            own = os.path.dirname(check_abs_path(item.get("conf_dir"), "containers[%d].conf_dir" % index))
            check_abs_path(own, "containers[%d].conf_dir" % index)  # never a system directory
        except PlanError as err:
            module.fail_json(msg=str(err), field=err.field)
        if os.path.lexists(own):
            removed.append(name)
            if not module.check_mode:
                if os.path.islink(own):
                    os.unlink(own)
                else:
                    shutil.rmtree(own)
    module.exit_json(changed=bool(removed), changed_containers=removed, files=[], kept_keys={})


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    if p["state"] == "absent":
        remove_all(module, p["containers"])
    try:
        planned = [container_files(p, i, item) for i, item in enumerate(p["containers"])]
        unknown = sorted(set(p["container_properties"]) - {name for name, _dir, _files in planned})
        if unknown:
            raise PlanError("container_properties", unknown[0], "name containers of this host (%s)"
                            % ", ".join(name for name, _dir, _files in planned))
    except PlanError as err:
        module.fail_json(msg=str(err), field=err.field)
    owner = dict(owner=p["owner"], group=p["group"])
    dir_args = module.load_file_common_arguments(dict(owner, mode=p["dir_mode"]), path="/")
    file_args = module.load_file_common_arguments(dict(owner, mode=p["mode"]), path="/")
    changed_containers, files, kept, diffs = [], [], {}, []
    for name, conf_dir, rendered in planned:
        changed = ensure_directory(module, os.path.dirname(conf_dir), dir_args)
        changed = ensure_directory(module, conf_dir, dir_args) or changed
        for path, existing, text, report in rendered:
            file_changed = write_text(module, path, text, existing, file_args)
            changed = changed or file_changed
            files.append(dict(container=name, path=path, changed=file_changed, kept_keys=report["kept"],
                              removed_keys=report["removed"], added_keys=report["added"],
                              updated_keys=report["updated"]))
            if text != existing:
                diffs.append(dict(before=existing or "", after=text, before_header=path, after_header=path))
        if rendered[0][3]["kept"]:
            kept[name] = rendered[0][3]["kept"]
        if changed:
            changed_containers.append(name)
    result = dict(changed=bool(changed_containers), changed_containers=changed_containers, files=files,
                  kept_keys=kept)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()

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
  - Every directory it creates (C(<conf_root>/<name>) and the conf directory) gets the collection's marker, a file
    C(.mediaops-wcs) (mode 0644, JSON naming the owner C(mediaops.wcs), the kind of directory and the container).
    An existing directory without it that holds nothing but what the collection manages (the property files and
    O(managed_files) in a conf directory; the conf directories in a container's directory) is marked too. That is
    how directories made by a release before the marker get it, on the first V(present) run after the upgrade. A
    directory holding anything else, a symbolic link, a mount point or a system directory is never marked. The
    marker is not part of what the container reads (no restart for it).
  - A C(containers[].conf_dir) with a C(:) or a C(..) component, or a system directory, is refused before anything
    is written.
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
  managed_files:
    description:
      - Further file names in each conf directory that the collection writes besides the property files (the
        keystore of M(mediaops.wcs.wcs_tls)); removed by V(absent) from a marked conf directory, and counted as
        the collection's when an unmarked directory is marked. Plain names, no C(/).
    type: list
    elements: str
    default: [wss.jks]
    version_added: 1.3.0
  state:
    description:
      - V(present) renders the files.
      - V(absent) removes only what carries the collection's mark, everything decided before the first change - in
        each conf directory with the marker (for that container), the property files, O(managed_files) and the
        marker, then the directory once nothing else is left; then the container's directory (parent of
        C(conf_dir)) the same way, if it carries the marker and nothing else is left. A directory without the
        marker (made by hand, or by a release before the marker and not re-rendered since), a symbolic link, a
        mount point, or a directory holding anything else stays, and is reported in RV(kept_paths) with the
        reason (one holding other files keeps its marker, so a later run removes it once they are gone). Nothing
        is ever removed recursively.
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
marked_dirs:
  description: Directories that got the collection's marker on this run (new, or marked on upgrade).
  returned: always
  type: list
  elements: str
  sample: [/opt/wcs/wcs-1, /opt/wcs/wcs-1/conf]
  version_added: 1.3.0
removed_paths:
  description: With O(state=absent), the files and directories removed (or, in check mode, that would be), in order.
  returned: always
  type: list
  elements: str
  sample: [/opt/wcs/wcs-1/conf/flashphoner.properties, /opt/wcs/wcs-1/conf/wcs-core.properties,
           /opt/wcs/wcs-1/conf/.mediaops-wcs, /opt/wcs/wcs-1/conf, /opt/wcs/wcs-1/.mediaops-wcs, /opt/wcs/wcs-1]
  version_added: 1.3.0
kept_paths:
  description: With O(state=absent), the directories that stay, each with the reason.
  returned: always
  type: list
  elements: dict
  contains:
    container:
      description: The container the directory belongs to.
      type: str
    path:
      description: The directory.
      type: str
    reason:
      description: Why it stays (no marker, other files in it, a symbolic link, a mount point, ...).
      type: str
  sample:
    - {container: wcs-2, path: /opt/wcs/wcs-2/conf, reason: "it holds what the collection did not write: notes.txt
       (its marker stays; run again once they are gone)"}
  version_added: 1.3.0
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils.conf_files import (
    apply_removal, check_file_names, ensure_directory, plan_marks, plan_removal, read_text, write_marker,
    write_text)
from ansible_collections.mediaops.wcs.plugins.module_utils.container_spec import check_conf_dir
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import (
    CORE_FILE, FLASHPHONER_FILE, render_core, render_flashphoner)
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import check_docker_name, check_unicast_address


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
        managed_files=dict(type="list", elements="str", default=["wss.jks"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def checked_dirs(containers):
    """[(name, conf_dir)] of every container, all checked before anything changes (PlanError on the first bad
    one). The conf_dir is checked as the bind source it becomes (no ':', no '..', never a system directory); its
    parent, the container's directory, is only ever touched when it carries the collection's marker."""
    out = []
    for index, item in enumerate(containers):
        field = "containers[%d]" % index
        if not isinstance(item, dict):
            raise PlanError(field, item, "give a mapping with name and conf_dir (an entry of wcs_plan.containers)")
        name = check_docker_name(item.get("name"), field + ".name")
        conf_dir = check_conf_dir(item.get("conf_dir"), field + ".conf_dir")
        out.append((name, conf_dir))
    return out


def container_files(params, index, item, conf_dir):
    """(name, conf_dir, [(path, existing text, rendered text, report)]) of one container, checked before anything
    is written."""
    field = "containers[%d]" % index
    name = check_docker_name(item.get("name"), field + ".name")
    own = params["container_properties"].get(name) or {}
    if not isinstance(own, dict):
        raise PlanError("container_properties.%s" % name, own, "give a mapping of key to value")
    properties = dict(params["properties"], **own)
    # ip and ip_local are what WCS announces to browsers and binds to: one unicast address each, or unset
    properties.update({key: check_unicast_address(item[opt], "%s.%s" % (field, opt)) if item.get(opt) not in
                       (None, "") else None for key, opt in (("ip", "external_ip"), ("ip_local", "local_ip"))})
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


def remove_all(module, dirs, extra_files):
    """state=absent: the managed files of each marked conf directory, then each marked directory once nothing else
    is left in it; everything decided (plan_removal) before the first change. What stays is reported in kept."""
    steps, kept = plan_removal(dirs, extra_files)
    if not module.check_mode:
        kept += apply_removal(steps)
    failed = {k["path"] for k in kept}
    removed = [path for _action, path, _name in steps if path not in failed]
    names = []
    for _action, _path, name in steps:
        if name not in names:
            names.append(name)
    module.exit_json(changed=bool(steps), changed_containers=names, files=[], kept_keys={}, removed_paths=removed,
                     kept_paths=kept, marked_dirs=[])


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        dirs = checked_dirs(p["containers"])
        extra_files = check_file_names(p["managed_files"], "managed_files")
    except PlanError as err:
        module.fail_json(msg=str(err), field=err.field)
    if p["state"] == "absent":
        remove_all(module, dirs, extra_files)
    try:
        planned = [container_files(p, i, item, dirs[i][1]) for i, item in enumerate(p["containers"])]
        unknown = sorted(set(p["container_properties"]) - {name for name, _dir, _files in planned})
        if unknown:
            raise PlanError("container_properties", unknown[0], "name containers of this host (%s)"
                            % ", ".join(name for name, _dir, _files in planned))
    except PlanError as err:
        module.fail_json(msg=str(err), field=err.field)
    marks = plan_marks(dirs, extra_files)  # decided before anything is created: new and adoptable directories
    owner = dict(owner=p["owner"], group=p["group"])
    dir_args = module.load_file_common_arguments(dict(owner, mode=p["dir_mode"]), path="/")
    file_args = module.load_file_common_arguments(dict(owner, mode=p["mode"]), path="/")
    changed_containers, files, kept, diffs, marked = [], [], {}, [], []
    marker_changed = False
    for name, conf_dir, rendered in planned:
        parent = os.path.dirname(conf_dir)
        changed = ensure_directory(module, parent, dir_args)
        changed = ensure_directory(module, conf_dir, dir_args) or changed
        for directory in (parent, conf_dir):
            if directory in marks and directory not in marked:
                kind, owner_name = marks[directory]
                # the marker is not what the container reads: it never counts as a change of the container's files
                marker_changed = write_marker(module, directory, kind, owner_name, file_args) or marker_changed
                marked.append(directory)
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
    result = dict(changed=bool(changed_containers) or marker_changed, changed_containers=changed_containers,
                  files=files, kept_keys=kept, removed_paths=[], kept_paths=[], marked_dirs=marked)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: wcs_image_pin
short_description: Record and keep the images WCS containers run, for a rollback by image ID
description:
  - With O(state=present), reads the image ID every named container runs (one inspect each) and tags that image
    C(mediaops-wcs/rollback:<container>), so that an image prune, or a tag re-pointed to another build, cannot take
    away the build a rollback must return to. Returns the IDs (RV(images)); a rollout rolls back to those IDs, not
    to a tag.
  - With O(state=absent), removes those tags again (the images themselves stay while anything else uses them).
  - Idempotent. A tag that already points to the container's image is left alone; check mode reports what would
    change and changes nothing.
version_added: 1.1.0
author:
  - mediaops engineering (@mediaops)
extends_documentation_fragment:
  - mediaops.wcs.docker
attributes:
  check_mode:
    description: Reads the containers and tags, reports what would change, changes nothing.
    support: full
  diff_mode:
    description: Shows the rollback tags before and after (tag -> image ID).
    support: full
options:
  containers:
    description:
      - Names of the containers whose images to pin (O(state=present)) or release (O(state=absent)).
      - With O(state=present) a name that is not a container on the engine is skipped (it runs nothing to keep).
    type: list
    elements: str
    required: true
  state:
    description: V(present) tags each container's image; V(absent) removes the tags.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: mediaops.wcs.wcs_containers
"""

EXAMPLES = r"""
- name: Record the image IDs before a rolling update and keep those images
  mediaops.wcs.wcs_image_pin:
    containers: [wcs-1, wcs-2]
  register: pinned

- name: Roll wcs-1 back to exactly the build it ran
  mediaops.wcs.wcs_containers:
    containers:
      - name: wcs-1
        image: "{{ pinned.images['wcs-1'] }}"

- name: Release the pins when the rollout is over
  mediaops.wcs.wcs_image_pin:
    containers: [wcs-1, wcs-2]
    state: absent
"""

RETURN = r"""
images:
  description: Container name -> the image ID it runs (O(state=present)); empty with O(state=absent).
  returned: always
  type: dict
  sample: {wcs-1: "sha256:4f2c...", wcs-2: "sha256:4f2c..."}
tags:
  description: The rollback tags set (or, with O(state=absent), removed) by this run.
  returned: always
  type: list
  elements: str
  sample: ["mediaops-wcs/rollback:wcs-1"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils.constants import ROLLBACK_REPOSITORY
from ansible_collections.mediaops.wcs.plugins.module_utils.docker_client import (
    APIError, NotFound, docker_argument_spec, engine_error, get_client)
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import check_docker_name


def rollback_tag(name):
    """The rollback tag of one container (a Docker tag: at most 128 characters, no leading '.' or '-')."""
    return "%s:%s" % (ROLLBACK_REPOSITORY, name[:128])


def _tag_target(client, tag):
    try:
        return client.inspect_image(tag)["Id"]
    except NotFound:
        return None


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=docker_argument_spec(
            containers=dict(type="list", elements="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        names = [check_docker_name(n, "containers[%d]" % i) for i, n in enumerate(p["containers"])]
    except PlanError as err:
        module.fail_json(msg=str(err))
    client = get_client(module)
    images, tags, before, after = {}, [], {}, {}
    try:
        for name in names:
            tag = rollback_tag(name)
            have = _tag_target(client, tag)
            if have:
                before[tag] = have
            if p["state"] == "absent":
                if have:
                    tags.append(tag)
                    if not module.check_mode:
                        client.remove_image(tag, noprune=True)
                continue
            try:
                image_id = client.inspect_container(name)["Image"]
            except NotFound:
                continue  # not created yet: nothing to roll back to
            images[name] = after[tag] = image_id
            if have != image_id:
                tags.append(tag)
                if not module.check_mode:
                    client.tag(image_id, ROLLBACK_REPOSITORY, tag.split(":", 1)[1], force=True)
    except APIError as exc:
        engine_error(module, exc, "%s rollback tags" % ("set" if p["state"] == "present" else "remove"))
    finally:
        client.close()
    module.exit_json(changed=bool(tags), images=images, tags=tags, diff=dict(before=before, after=after))


if __name__ == "__main__":
    main()

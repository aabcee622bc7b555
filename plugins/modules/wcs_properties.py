#!/usr/bin/python
# Copyright: mediaops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: wcs_properties
short_description: Render one WCS property file (flashphoner.properties or wcs-core.properties) with merge rules
version_added: "1.0.0"
description:
  - Writes one Flashphoner Web Call Server property file from variables, keeping what an operator added by hand.
  - "Merge rules: (1) managed keys (from O(properties), O(extra_properties), O(heap), O(zgc), O(server_options),
    O(jvm_options)) win: an existing line with the same key gets the managed value in place, a missing key is
    appended (to its section for wcs-core.properties);
    (2) every other key in an existing file is kept where it is and reported in RV(kept_keys);
    (3) the file carries a header comment C(# mediaops.wcs managed: ...) listing the keys it manages, so a key that
    was managed last time and is no longer managed is removed (reported in RV(removed_keys)) while a key added by
    hand is never removed;
    (4) comments and blank lines are kept, duplicate lines of a managed key collapse into the first one;
    (5) wcs-core.properties only: with O(zgc=true) other C(-XX:+Use...GC) collector lines are removed (the JVM
    refuses two collectors), and a line holding several options is split into one option per line."
  - "C(flashphoner.properties) is read and written by the rules of Java's C(java.util.Properties): lines end only at
    LF, CR or CR LF (a line holding U+2028 or U+001E stays one line), a line ending in a backslash continues on the
    next one, and managed values are escaped as C(Properties.store) does (a backslash is doubled, so a value
    ending in one never swallows the next line; a leading blank is escaped; characters outside printable ASCII
    are written as C(\\uXXXX), so the file reads the same as ISO-8859-1 or UTF-8). Normal values are written as
    they are (C(codecs=opus,alaw,pcma), C(ip=203.0.113.4)). Lines not managed are kept byte for byte."
  - The file is written atomically; its mode defaults to C(0640) (it sits next to secrets in the conf directory).
  - Supports check mode and diff mode; a second run with the same input changes nothing.
options:
  path:
    description: The property file to write. Its directory must exist.
    type: path
    required: true
  kind:
    description:
      - C(flashphoner) for C(key=value) files, C(core) for C(wcs-core.properties) option files.
      - Default from the file name (C(wcs-core.properties) is C(core), anything else C(flashphoner)).
    type: str
    choices: [flashphoner, core]
  properties:
    description:
      - Managed C(key=value) settings (kind C(flashphoner)). A null value leaves the key unmanaged.
      - Booleans are written C(true)/C(false), whole numbers as digits, finite floats in plain decimals, lists of
        those joined with commas.
      - "Refused, naming the key and the fix (never written in Python's spelling such as C({'a': 1}) or C(nan)):
        mappings, nested lists, NaN and infinities, a null list item, and text with control characters (tab, CR,
        LF, U+001C..U+001F, U+0085...), Unicode line or paragraph separators or bidi overrides."
    type: dict
    default: {}
  extra_properties:
    description:
      - Free dict of further managed settings (kind C(flashphoner)), for keys without a variable of their own.
      - A key may not appear both here and in O(properties); the module fails and names the key.
    type: dict
    default: {}
  heap:
    description: Heap size (kind C(core)), written as equal C(-Xms)/C(-Xmx) lines, e.g. C(16g).
    type: str
  zgc:
    description: Write C(-XX:+UnlockExperimentalVMOptions) and C(-XX:+UseZGC) (kind C(core)).
    type: bool
    default: false
  server_options:
    description:
      - "Options for the C(### SERVER OPTIONS ###) section (kind C(core)), one option per item."
      - "WCS's C(setenv.sh) reads the file with the shell's C(read) and passes the options to C(java) unquoted,
        so no quoting survives: an option holding blanks, control characters or shell syntax (C($), backquote,
        C(;), C(&), C(|), C(<), C(>), parentheses, quotes, backslash) is refused, never quoted."
    type: list
    elements: str
    default: []
  jvm_options:
    description:
      - "Options for the C(### JVM OPTIONS ###) section (kind C(core)), one option per item."
      - An option for the same setting as O(heap) or O(zgc) (e.g. C(-Xmx20g)) wins over it.
      - Shell syntax is refused as in O(server_options).
    type: list
    elements: str
    default: []
  mode:
    description: File mode.
    type: raw
    default: "0640"
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    description: Reports what would change without writing.
    support: full
  diff_mode:
    description: Shows the file before and after.
    support: full
author:
  - mediaops engineering (@mediaops)
"""

EXAMPLES = r"""
- name: Per-container flashphoner.properties
  mediaops.wcs.wcs_properties:
    path: /opt/wcs/wcs-1/conf/flashphoner.properties
    properties:
      ip: 203.0.113.4
      ip_local: 203.0.113.4
      media_port_from: 31001
      media_port_to: 40000
      ws.port: 8080
      wss.port: 8443
    extra_properties:
      rtp_bundle: true

- name: Per-container wcs-core.properties with a 16 GiB heap and ZGC
  mediaops.wcs.wcs_properties:
    path: /opt/wcs/wcs-1/conf/wcs-core.properties
    heap: 16g
    zgc: true
    jvm_options:
      - -XX:+HeapDumpOnOutOfMemoryError
"""

RETURN = r"""
path:
  description: The file written.
  returned: always
  type: str
kind:
  description: C(flashphoner) or C(core).
  returned: always
  type: str
managed_keys:
  description: Keys the module manages in this file (option keys such as C(-Xmx) for C(core)).
  returned: always
  type: list
  elements: str
kept_keys:
  description: Keys found in the existing file that are not managed and were kept (added by hand).
  returned: always
  type: list
  elements: str
removed_keys:
  description: Keys removed because they were managed last time and are not now (or competing GC lines).
  returned: always
  type: list
  elements: str
added_keys:
  description: Managed keys that were not in the file before.
  returned: always
  type: list
  elements: str
updated_keys:
  description: Managed keys whose value changed.
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mediaops.wcs.plugins.module_utils.module_args import new_module

from ansible_collections.mediaops.wcs.plugins.module_utils.conf_files import read_text, write_text
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import kind_of, render_core, render_flashphoner


def argument_spec():
    return dict(
        path=dict(type="path", required=True),
        kind=dict(type="str", choices=["flashphoner", "core"]),
        properties=dict(type="dict", default={}),
        extra_properties=dict(type="dict", default={}),
        heap=dict(type="str"),
        zgc=dict(type="bool", default=False),
        server_options=dict(type="list", elements="str", default=[]),
        jvm_options=dict(type="list", elements="str", default=[]),
        mode=dict(type="raw", default="0640"),
    )


def render(params, existing):
    """(kind, text, managed keys, report) for the module's parameters and the current file text (None: absent)."""
    kind = kind_of(params["path"], params["kind"])
    if kind == "core":
        text, keys, report = render_core(existing, params["heap"], params["zgc"], params["server_options"],
                                         params["jvm_options"])
    else:
        text, keys, report = render_flashphoner(existing, params["properties"], params["extra_properties"])
    return kind, text, keys, report


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), add_file_common_args=True, supports_check_mode=True)
    path = module.params["path"]
    if os.path.isdir(path):
        module.fail_json(msg="path: %s is wrong: it is a directory. Fix: give the property file's own path, e.g. "
                             "%s/flashphoner.properties" % (path, path.rstrip("/")), field="path")
    try:
        existing = read_text(path)
    except (OSError, UnicodeError) as err:
        module.fail_json(msg="path: %s is wrong: it cannot be read (%s). Fix: give a readable property file or "
                             "remove it" % (path, err), field="path")
    try:
        kind, text, keys, report = render(module.params, existing)
    except PlanError as err:
        module.fail_json(msg=str(err), field=err.field)
    if not os.path.isdir(os.path.dirname(path) or "."):
        module.fail_json(msg="path: %s is wrong: its directory does not exist. Fix: create the conf directory "
                             "first (the config role does)." % path, field="path")

    result = dict(path=path, kind=kind, managed_keys=keys, kept_keys=report["kept"],
                  removed_keys=report["removed"], added_keys=report["added"], updated_keys=report["updated"])
    if module._diff:
        result["diff"] = dict(before=existing or "", after=text, before_header=path, after_header=path)
    changed = write_text(module, path, text, existing, module.load_file_common_arguments(module.params))
    result["changed"] = changed
    module.exit_json(**result)


if __name__ == "__main__":
    main()

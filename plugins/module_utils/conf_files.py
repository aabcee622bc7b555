# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing the property files on the host: read, atomic private write, owner/group/mode, directories.

Shared by the modules wcs_properties (one file) and wcs_config (every file of a host's containers); what goes
into the files is decided in properties.py.
"""
from __future__ import annotations

import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_text


def read_text(path):
    """The file's text, or None when it does not exist."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return to_text(handle.read(), errors="surrogate_or_strict")


def write_text(module, path, text, existing, attributes):
    """Writes ``text`` when it differs from ``existing`` (atomically, private until the attributes are applied),
    then applies ``attributes`` (owner, group, mode). Returns whether anything changed; check mode writes nothing."""
    changed = text != existing
    if changed and not module.check_mode:
        fd, tmp = tempfile.mkstemp(prefix=".mediaops-wcs.", dir=os.path.dirname(path) or ".")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(to_bytes(text))
            os.chmod(tmp, 0o600)
        except Exception:
            os.unlink(tmp)
            raise
        module.atomic_move(tmp, path)
    if not module.check_mode or os.path.exists(path):
        changed = module.set_fs_attributes_if_different(dict(attributes, path=path), changed)
    return changed


def ensure_directory(module, path, attributes):
    """Creates ``path`` and its missing parents, each with ``attributes`` (owner, group, mode), and applies them to
    ``path`` itself. Returns whether anything changed (check mode creates nothing)."""
    missing = []
    here = path
    while not os.path.isdir(here):
        if os.path.lexists(here):
            module.fail_json(msg="%s exists and is not a directory. Fix: move it away; the conf directory of a WCS "
                                 "container goes under it." % here)
        missing.append(here)
        here = os.path.dirname(here)
    if missing and module.check_mode:
        return True
    for directory in reversed(missing):
        os.mkdir(directory, 0o700)  # private until its attributes are applied
        module.set_fs_attributes_if_different(dict(attributes, path=directory), True)
    return module.set_fs_attributes_if_different(dict(attributes, path=path), bool(missing))

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing the property files on the host: read, atomic private write, owner/group/mode, directories; the
collection's marker on the directories it makes, and the removal of only what carries it.

Shared by the modules wcs_properties (one file) and wcs_config (every file of a host's containers); what goes
into the files is decided in properties.py.
"""
from __future__ import annotations

import json
import os
import stat
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.mediaops.wcs.plugins.module_utils.constants import DIR_MARK_OWNER, DIR_MARKER
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.properties import CORE_FILE, FLASHPHONER_FILE
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import bad_character, check_abs_path


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


# -- the collection's mark on the directories it makes, and removal of only what carries it -------------------------
# Every directory wcs_config creates (a container's directory <conf_root>/<name> and its conf directory) holds this
# file, written by the collection; state=absent removes a directory only when it carries it, and only once nothing
# but what the collection manages is left in it (never rmtree).
MARKER = DIR_MARKER
MARK_OWNER = DIR_MARK_OWNER
MARKER_MODE = "0644"
MARKER_MAX_BYTES = 4096
KIND_CONF = "conf"            # a container's conf directory (mounted at /conf)
KIND_CONTAINER = "container"  # the directory that holds it (<conf_root>/<name>)
# What the collection writes into a conf directory itself (wcs_config); further names (the keystore of wcs_tls)
# come from the caller.
PROPERTY_FILES = (FLASHPHONER_FILE, CORE_FILE)


def marker_text(kind, container):
    """The marker's content: JSON naming the owner, what the directory is and the container it belongs to."""
    return json.dumps({"owner": MARK_OWNER, "kind": kind, "container": container}, sort_keys=True) + "\n"


def read_marker(directory):
    """The collection's marker of ``directory`` as a dict, else None: a regular file (never a symlink followed), at
    most MARKER_MAX_BYTES, a JSON object whose owner is the collection."""
    path = os.path.join(directory, MARKER)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            data = handle.read(MARKER_MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MARKER_MAX_BYTES:
        return None
    try:
        marker = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(marker, dict) or marker.get("owner") != MARK_OWNER:
        return None
    return marker


def check_file_names(names, field):
    """File names (no directory part) that may be removed from a marked conf directory besides PROPERTY_FILES."""
    out = []
    for index, name in enumerate(names or []):
        where = "%s[%d]" % (field, index)
        if not isinstance(name, str) or not name or "/" in name or "\0" in name or name in (".", "..", MARKER) \
                or bad_character(name) is not None:
            raise PlanError(where, name, "give a plain file name of the conf directory (no '/', not '.', '..' or "
                            "%s), e.g. wss.jks" % MARKER)
        out.append(name)
    return out


def _entry_kind(path):
    """'dir', 'file', 'link', 'other' or None (absent), never following a symlink."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def _listing(directory):
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return None


def _names(entries, limit=5):
    shown = ", ".join(entries[:limit])
    return shown + (" and %d more" % (len(entries) - limit) if len(entries) > limit else "")


def untouchable(directory):
    """Why the collection never marks, adopts or removes ``directory`` itself (whatever it holds), else None."""
    kind = _entry_kind(directory)
    if kind == "link":
        return "it is a symbolic link (the collection never makes one)"
    if kind not in (None, "dir"):
        return "it is not a directory"
    if kind == "dir" and os.path.ismount(directory):
        return "it is a mount point"
    try:
        check_abs_path(directory, "directory")
    except PlanError as err:
        return "it is a system directory (%s)" % (err.why or "refused by the path check")
    return None


def adoptable(directory, managed):
    """Whether an existing directory without the marker holds nothing but what the collection manages: ``managed``
    is {entry name: 'file' | 'dir'}; a ``.mediaops-wcs`` that is not the collection's marker counts as foreign. An
    upgrade marks such a directory (one made by a release that wrote no marker). Returns (bool, reason when not)."""
    why = untouchable(directory)
    if why:
        return False, why
    entries = _listing(directory)
    if entries is None:
        return False, "it cannot be listed"
    # a MARKER entry here is not the collection's (read_marker said so): foreign like anything else
    foreign = [e for e in entries if managed.get(e) != _entry_kind(os.path.join(directory, e))]
    if foreign:
        return False, "it holds what the collection did not write: %s" % _names(foreign)
    return True, None


def plan_marks(containers, extra_files=()):
    """Which directories of ``containers`` ([(name, conf_dir)], checked) get the marker on this run (state=present),
    decided before anything is created or written.

    Returns {directory: (kind, container)}: a directory that does not exist yet (it is created by this run), or that
    exists without the marker and holds nothing but what the collection manages (adopted: the upgrade path of
    directories made before the marker existed). Directories that already carry it, hold anything else, or are
    untouchable (symlink, mount point, system directory) are left as they are: never removed later either."""
    conf_files = dict.fromkeys(list(PROPERTY_FILES) + list(extra_files), "file")
    children = {}
    for name, conf_dir in containers:
        children.setdefault(os.path.dirname(conf_dir), {})[os.path.basename(conf_dir)] = "dir"
    marks = {}
    for name, conf_dir in containers:
        parent = os.path.dirname(conf_dir)
        for directory, kind, managed in ((conf_dir, KIND_CONF, conf_files),
                                         (parent, KIND_CONTAINER, children[parent])):
            if directory in marks:
                continue
            if untouchable(directory):
                continue
            if not os.path.lexists(directory):
                marks[directory] = (kind, name)
            elif read_marker(directory) is None and adoptable(directory, managed)[0]:
                marks[directory] = (kind, name)
    return marks


def plan_removal(containers, extra_files=()):
    """state=absent, decided before the first change: what goes and what stays, reading the file system only.

    ``containers``: [(name, conf_dir)], checked. A conf directory goes when it carries the collection's marker for
    its container: first the property files and ``extra_files`` (regular files or symlinks, never a directory), then
    the marker and the directory itself once nothing else is left. Then each container directory (parent of a conf
    directory) the same way, once its conf directories are gone. Anything without the marker, a symlink, a mount
    point or a system directory stays.

    Returns (steps, kept): steps [("unlink" | "rmdir", path, container)] in order; kept [{container, path, reason}].
    """
    steps, kept = [], []
    gone_dirs = set()
    managed = list(PROPERTY_FILES) + [f for f in extra_files if f not in PROPERTY_FILES]
    seen = set()
    parents = []
    for name, conf_dir in containers:
        parent = os.path.dirname(conf_dir)
        if parent not in [p for p, _n in parents]:
            parents.append((parent, name))
        if conf_dir in seen or not os.path.lexists(conf_dir):
            continue
        seen.add(conf_dir)
        why = untouchable(conf_dir)
        marker = None if why else read_marker(conf_dir)
        if not why and marker is None:
            why = ("it carries no %s marker of the collection (made by hand, or by a release before the marker: run "
                   "state=present once to mark what holds only the collection's files)" % MARKER)
        elif not why and (marker.get("kind") != KIND_CONF or marker.get("container") != name):
            why = "its marker says it is the %s directory of %r" % (marker.get("kind"), marker.get("container"))
        if why:
            kept.append({"container": name, "path": conf_dir, "reason": why})
            continue
        entries = _listing(conf_dir) or []
        others = []
        for entry in entries:
            path = os.path.join(conf_dir, entry)
            if entry in managed and _entry_kind(path) in ("file", "link"):
                steps.append(("unlink", path, name))
            elif entry != MARKER:
                others.append(entry)
        if others:
            kept.append({"container": name, "path": conf_dir, "reason": "it holds what the collection did not "
                         "write: %s (its marker stays; run again once they are gone)" % _names(others)})
            continue
        steps.append(("unlink", os.path.join(conf_dir, MARKER), name))
        steps.append(("rmdir", conf_dir, name))
        gone_dirs.add(conf_dir)
    for parent, name in parents:
        if not os.path.lexists(parent):
            continue
        why = untouchable(parent)
        marker = None if why else read_marker(parent)
        if not why and marker is None:
            why = "it carries no %s marker of the collection" % MARKER
        elif not why and marker.get("kind") != KIND_CONTAINER:
            why = "its marker says it is a %s directory" % marker.get("kind")
        if why:
            kept.append({"container": name, "path": parent, "reason": why})
            continue
        left = [e for e in (_listing(parent) or []) if e != MARKER and os.path.join(parent, e) not in gone_dirs]
        if left:
            kept.append({"container": name, "path": parent, "reason": "it still holds %s (its marker stays)"
                         % _names(left)})
            continue
        steps.append(("unlink", os.path.join(parent, MARKER), name))
        steps.append(("rmdir", parent, name))
    return steps, kept


def write_marker(module, directory, kind, container, attributes):
    """Writes the marker into ``directory`` (owner and group of ``attributes``, mode MARKER_MODE). Returns whether
    anything changed; check mode writes nothing."""
    path = os.path.join(directory, MARKER)
    existing = read_text(path) if _entry_kind(path) == "file" else None
    return write_text(module, path, marker_text(kind, container), existing, dict(attributes, mode=MARKER_MODE))


def apply_removal(steps):
    """Carries out plan_removal's steps: unlink files, rmdir directories (rmdir refuses a directory that is not empty
    by then, so nothing that appeared meanwhile is ever taken). Returns the kept entries of directories that could
    not be removed."""
    kept = []
    for action, path, name in steps:
        try:
            if action == "unlink":
                os.unlink(path)
            else:
                os.rmdir(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            kept.append({"container": name, "path": path, "reason": "it could not be removed: %s" % exc.strerror})
    return kept
